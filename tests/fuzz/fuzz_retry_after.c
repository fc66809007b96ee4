// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes (a Retry-After header value from the server),
 * uploader__parse_retry_after() returns 0 or -EINVAL, reads only the len
 * bytes it is given (no NUL needed), and on success the delay is at most
 * 2^31 seconds; a value that parses twice gives the same delay; pure digits
 * always parse.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uploader_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int64_t now = 1763719200;
	uint64_t a, b;
	char *copy;
	size_t i;
	bool digits = size > 0;
	int ret;

	/* An exact-size copy: ASan catches any read past len. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	ret = uploader__parse_retry_after(copy, size, now, &a);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (!ret) {
		if (a > (1ULL << 31))
			abort();
		if (uploader__parse_retry_after(copy, size, now, &b) || a != b)
			abort();
	}
	for (i = 0; i < size; i++)
		digits &= copy[i] >= '0' && copy[i] <= '9';
	if (digits && ret)
		abort();
	free(copy);
	return 0;
}
