// SPDX-License-Identifier: MIT
/*
 * /proc/PID/cgroup -> cgroup path, container id, systemd unit.
 *
 * One pass over the lines picks the best one (v2, else name=systemd, else
 * cpu, else a v2 "/"); then one backward pass over its path components finds
 * the deepest container id and the deepest unit. Nothing is allocated: the
 * input is only read, the output is three fixed arrays, and paths are
 * examined in place, so a hostile buffer costs time linear in its length.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "readfile.h"

#define CGROUP_ID_LEN 64

enum line_rank {
	RANK_NONE,
	RANK_V2_ROOT, /* "0::/": on a hybrid machine it says nothing */
	RANK_CPU,
	RANK_SYSTEMD,
	RANK_V2,
};

struct span {
	const char *s;
	size_t len;
};

static bool span_eq(struct span a, const char *lit)
{
	size_t n = strlen(lit);

	return a.len == n && !memcmp(a.s, lit, n);
}

static bool span_has_prefix(struct span a, const char *lit)
{
	size_t n = strlen(lit);

	return a.len >= n && !memcmp(a.s, lit, n);
}

static bool span_has_suffix(struct span a, const char *lit)
{
	size_t n = strlen(lit);

	return a.len >= n && !memcmp(a.s + a.len - n, lit, n);
}

/* True when the comma-separated controller list holds exactly "cpu". */
static bool has_cpu_controller(struct span list)
{
	const char *p = list.s, *end = list.s + list.len, *comma;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		if (comma - p == 3 && !memcmp(p, "cpu", 3))
			return true;
		p = comma + 1;
	}
	return false;
}

/* Ranks one "ID:CONTROLLERS:PATH" line; *path is set when it parses. */
static enum line_rank rank_line(struct span line, struct span *path)
{
	const char *c1, *c2, *p;
	struct span ctrl;

	c1 = memchr(line.s, ':', line.len);
	if (!c1 || c1 == line.s)
		return RANK_NONE;
	for (p = line.s; p < c1; p++) {
		if (*p < '0' || *p > '9')
			return RANK_NONE;
	}
	c2 = memchr(c1 + 1, ':', (size_t)(line.s + line.len - (c1 + 1)));
	if (!c2)
		return RANK_NONE;
	ctrl.s = c1 + 1;
	ctrl.len = (size_t)(c2 - ctrl.s);
	path->s = c2 + 1;
	path->len = (size_t)(line.s + line.len - path->s);
	if (!path->len || path->s[0] != '/')
		return RANK_NONE;
	if (c1 - line.s == 1 && line.s[0] == '0' && !ctrl.len)
		return path->len == 1 ? RANK_V2_ROOT : RANK_V2;
	if (span_eq(ctrl, "name=systemd"))
		return RANK_SYSTEMD;
	if (has_cpu_controller(ctrl))
		return RANK_CPU;
	return RANK_NONE;
}

static bool is_id(const char *s, size_t len)
{
	size_t i;

	if (len != CGROUP_ID_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* The container id in one path component, or NULL. */
static const char *component_id(struct span c)
{
	static const char *const prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-"};
	struct span rest;
	size_t i;

	if (is_id(c.s, c.len))
		return c.s;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!span_has_prefix(c, prefixes[i]))
			continue;
		rest.s = c.s + strlen(prefixes[i]);
		rest.len = c.len - strlen(prefixes[i]);
		/* podman's cgroupfs layout has no ".scope"; systemd's has. */
		if (span_has_suffix(rest, ".scope"))
			rest.len -= strlen(".scope");
		/* "libpod-conmon-<id>" and "crio-conmon-<id>" fail here: not hex. */
		if (is_id(rest.s, rest.len))
			return rest.s;
	}
	return NULL;
}

static bool is_unit(struct span c)
{
	static const char *const suffixes[] = {".service", ".scope", ".socket", ".mount",
					       ".timer",   ".swap",  ".slice"};
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		/* A name that is only the suffix (".scope") is not a unit. */
		if (c.len > strlen(suffixes[i]) && span_has_suffix(c, suffixes[i]))
			return true;
	}
	return false;
}

static void describe_path(struct span path, struct cgroup_info *info)
{
	const char *end = path.s + path.len, *slash, *id;
	bool have_unit = false, have_id = false;
	struct span c;
	size_t n;

	n = path.len < sizeof(info->cgroup) - 1 ? path.len : sizeof(info->cgroup) - 1;
	memcpy(info->cgroup, path.s, n);
	info->cgroup[n] = '\0';

	while (end > path.s && (!have_unit || !have_id)) {
		slash = end - 1;
		while (slash > path.s && *slash != '/')
			slash--;
		c.s = slash + 1;
		c.len = (size_t)(end - c.s);
		end = slash;
		if (!c.len)
			continue;
		if (!have_id) {
			id = component_id(c);
			if (id) {
				memcpy(info->container_id, id, CGROUP_ID_LEN);
				info->container_id[CGROUP_ID_LEN] = '\0';
				have_id = true;
			}
		}
		if (!have_unit && is_unit(c)) {
			/* A unit name too long to keep whole is left out, not cut. */
			if (c.len < sizeof(info->systemd_unit)) {
				memcpy(info->systemd_unit, c.s, c.len);
				info->systemd_unit[c.len] = '\0';
			}
			have_unit = true;
		}
	}
}

int cgroup__parse(const char *buf, size_t len, struct cgroup_info *ret)
{
	const char *p = buf, *end = buf + len, *nl;
	enum line_rank best = RANK_NONE, rank;
	struct span line, path, best_path = {};
	struct cgroup_info info = {};

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line.s = p;
		line.len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		p += line.len + (nl ? 1 : 0);
		rank = rank_line(line, &path);
		/* The first line of the best rank wins. */
		if (rank > best) {
			best = rank;
			best_path = path;
		}
	}
	if (best == RANK_NONE)
		return -EBADMSG;
	describe_path(best_path, &info);
	*ret = info;
	return 0;
}

int cgroup__read(pid_t pid, struct cgroup_info *ret)
{
	char path[64], *buf;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	err = read_file_capped(path, CGROUP_MAX_FILE, &buf, &len);
	if (err)
		return err;
	err = cgroup__parse(buf, len, ret);
	free(buf);
	return err;
}
