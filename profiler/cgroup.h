/* SPDX-License-Identifier: MIT */
/*
 * The cgroup of a process and what it tells: the container it runs in and its
 * systemd unit. These become the sample labels cgroup, container_id and
 * systemd_unit of the agent.
 *
 * Parses /proc/PID/cgroup: cgroup v2 ("0::/system.slice/nginx.service") and
 * v1 ("4:cpu,cpuacct:/docker/<id>", "1:name=systemd:/..."). The v2 line is
 * preferred; on a v1 or hybrid machine where it is absent or "/", the
 * name=systemd line, else the cpu controller's line.
 *
 * Container ids (64 lower-case hex digits) are recognized for docker
 * ("/docker/<id>", "docker-<id>.scope"), containerd and kubernetes
 * ("cri-containerd-<id>.scope", "/kubepods/.../<id>"), CRI-O
 * ("crio-<id>.scope") and podman ("libpod-<id>.scope"); the conmon monitor
 * scopes ("libpod-conmon-<id>.scope", "crio-conmon-<id>.scope") are not
 * containers. The deepest match in the path wins.
 *
 * The systemd unit is the deepest path component ending in .service, .scope,
 * .socket, .mount, .timer, .swap or .slice ("/user.slice/user-1000.slice/
 * session-3.scope" gives "session-3.scope"; a container's scope counts).
 */
#ifndef SMOLDER_CGROUP_H
#define SMOLDER_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

/* /proc/PID/cgroup is read up to this size; a larger file gives -EFBIG. */
#define CGROUP_MAX_FILE (64 << 10)

struct cgroup_info {
	/* The path, cut to 255 bytes if longer ("" when unknown). */
	char cgroup[256];
	/* 64 hex digits, or "". */
	char container_id[65];
	/* "nginx.service", or "" (none, or a name of 128 bytes or more). */
	char systemd_unit[128];
};

/*
 * Parses the text of /proc/PID/cgroup (len bytes, need not be
 * NUL-terminated). Lines that do not parse are skipped. Returns 0, or
 * -EBADMSG when no line parses; *ret is filled on success only.
 */
int cgroup__parse(const char *buf, size_t len, struct cgroup_info *ret);

/*
 * Reads and parses /proc/PID/cgroup. Returns 0, -ENOENT or -ESRCH when the
 * process is gone, -EBADMSG, -EFBIG or another -errno.
 */
int cgroup__read(pid_t pid, struct cgroup_info *ret);

#endif /* SMOLDER_CGROUP_H */
