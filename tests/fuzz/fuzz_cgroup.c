// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes, cgroup__parse() returns 0 or -EBADMSG, never
 * crashes or reads outside the buffer (which is not NUL-terminated here).
 * On success every field is NUL-terminated inside its array; the cgroup
 * starts with '/'; container_id is empty or 64 lower-case hex digits;
 * systemd_unit is empty or a single path component with a unit suffix.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgroup_info info;
	uint8_t *copy;
	size_t i, n;
	int ret;

	/* An exact-size heap copy, so ASan catches any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	ret = cgroup__parse((const char *)copy, size, &info);
	free(copy);
	if (ret == -EBADMSG)
		return 0;
	if (ret)
		abort();
	if (!memchr(info.cgroup, '\0', sizeof(info.cgroup)) || info.cgroup[0] != '/')
		abort();
	if (!memchr(info.container_id, '\0', sizeof(info.container_id)))
		abort();
	n = strlen(info.container_id);
	if (n && n != 64)
		abort();
	for (i = 0; i < n; i++) {
		char ch = info.container_id[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			abort();
	}
	if (!memchr(info.systemd_unit, '\0', sizeof(info.systemd_unit)))
		abort();
	if (info.systemd_unit[0]) {
		if (strchr(info.systemd_unit, '/') || strchr(info.systemd_unit, '\n'))
			abort();
		if (!has_suffix(info.systemd_unit, ".service") &&
		    !has_suffix(info.systemd_unit, ".scope") &&
		    !has_suffix(info.systemd_unit, ".socket") &&
		    !has_suffix(info.systemd_unit, ".mount") &&
		    !has_suffix(info.systemd_unit, ".timer") &&
		    !has_suffix(info.systemd_unit, ".swap") &&
		    !has_suffix(info.systemd_unit, ".slice"))
			abort();
	}
	return 0;
}
