// SPDX-License-Identifier: MIT
/*
 * smolder record -p on processes whose code the host cannot reach by path,
 * as root: a binary on a tmpfs mounted in a private mount namespace, a
 * deleted binary, a binary executed from a memfd, and JIT code named only by
 * /tmp/perf-PID.map, on the host and inside a new PID + mount namespace
 * (where the map is named with the namespace pid and lives on a /tmp that
 * only the namespace sees). Each test checks that most of the workload's
 * samples have the expected leaf function.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define RECORD_SECONDS	 "3"
#define WORKLOAD_SECONDS "8"
#define MIN_SAMPLES	 200
#define MIN_SHARE	 80 /* percent of the workload's samples with the expected leaf */

extern char **environ;

/* Asserts that at least MIN_SHARE% of pid's samples (and enough of them) have leaf `want`. */
static void assert_leaf_share(const pprof_profile_t *p, pid_t pid, const char *want,
			      const char *mapping_suffix)
{
	int64_t total = 0, named = 0;
	const Perftools__Profiles__Mapping *m;
	const char *file;
	size_t i, len;

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		if (itest_label_num(p, s, "pid") != pid)
			continue;
		total += s->value[0];
		if (strcmp(itest_frame_name(p, s, 0), want))
			continue;
		named += s->value[0];
		if (!mapping_suffix)
			continue;
		m = itest_frame_mapping(p, s, 0);
		assert_non_null(m);
		file = pprof__str(p, m->filename);
		len = strlen(mapping_suffix);
		if (strlen(file) < len || strcmp(file + strlen(file) - len, mapping_suffix)) {
			print_error("leaf %s in mapping '%s', expected '...%s'\n", want, file,
				    mapping_suffix);
			fail();
		}
	}
	print_message("pid %d: %lld samples, %lld with leaf %s\n", (int)pid, (long long)total,
		      (long long)named, want);
	assert_true(total >= MIN_SAMPLES);
	assert_true(named * 100 >= total * MIN_SHARE);
}

/* The first child of ppid found in /proc whose comm is want, waiting up to 5 s; -1 if none. */
static pid_t find_child(pid_t ppid, const char *want)
{
	char path[300], line[512], *close_paren;
	struct dirent *de;
	int i, parent;
	pid_t found = -1;
	DIR *dir;
	FILE *f;

	for (i = 0; i < 500 && found < 0; i++) {
		dir = opendir("/proc");
		assert_non_null(dir);
		while ((de = readdir(dir)) && found < 0) {
			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fgets(line, sizeof(line), f)) {
				close_paren = strrchr(line, ')');
				if (close_paren && sscanf(close_paren, ") %*c %d", &parent) == 1 &&
				    parent == ppid && itest_comm_is(atoi(de->d_name), want))
					found = atoi(de->d_name);
			}
			fclose(f);
		}
		closedir(dir);
		if (found < 0)
			usleep(10 * 1000);
	}
	return found;
}

/* Waits up to 5 s for path to exist. */
static bool wait_file(const char *path)
{
	int i;

	for (i = 0; i < 500 && access(path, F_OK); i++)
		usleep(10 * 1000);
	if (access(path, F_OK))
		print_error("'%s' did not appear\n", path);
	return !access(path, F_OK);
}

/* The last NSpid of pid: its pid inside its own PID namespace. */
static pid_t ns_pid(pid_t pid)
{
	char path[64], line[256], *last;
	pid_t ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		line[strcspn(line, "\n")] = '\0';
		last = strrchr(line, '\t');
		ret = atoi(last ? last + 1 : line + 6);
	}
	fclose(f);
	return ret;
}

static void copy_file(const char *from, const char *to)
{
	char *cp[] = {"cp", (char *)from, (char *)to, NULL};

	assert_int_equal(itest_run(cp, NULL), 0);
}

static void stop(pid_t pid, pid_t wait_for)
{
	kill(pid, SIGKILL);
	itest_wait(wait_for);
}

/* A binary on a tmpfs only its private mount namespace sees. */
static void test_private_mount_namespace(void **state)
{
	char script[1024];
	char *dir = itest_path("mnt");
	char *argv[] = {
		"/usr/bin/unshare", "-m", "--propagation", "private", "sh", "-c", script, NULL};
	char *bin = itest_path("mnt/ns_spin_mnt");
	pprof_profile_t *p = NULL;
	bool hidden;
	pid_t pid;

	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(script, sizeof(script),
		 "mount -t tmpfs smolder-itest '%s' && cp '%s' '%s' && exec '%s' %s", dir,
		 WORKLOAD_NS_SPIN, bin, bin, WORKLOAD_SECONDS);
	pid = itest_spawn(argv);
	/* The premise: the host cannot see the binary by its path. */
	hidden = itest_wait_comm(pid, "ns_spin_mnt") && access(bin, F_OK);
	if (hidden)
		p = itest_record_pid("mntns.pb.gz", pid, RECORD_SECONDS, "499");
	stop(pid, pid);
	assert_true(hidden);
	assert_non_null(p);
	assert_leaf_share(p, pid, "ns_spin_hot", "/ns_spin_mnt");
	pprof__profile_free(p);
}

/* A running binary whose file was deleted: only /proc/PID/map_files reaches it. */
static void test_deleted_binary(void **state)
{
	char *bin = itest_path("ns_spin_del");
	char *argv[] = {bin, WORKLOAD_SECONDS, NULL};
	pprof_profile_t *p = NULL;
	bool deleted;
	pid_t pid;

	copy_file(WORKLOAD_NS_SPIN, bin);
	pid = itest_spawn(argv);
	deleted = itest_wait_comm(pid, "ns_spin_del") && !unlink(bin);
	if (deleted)
		p = itest_record_pid("deleted.pb.gz", pid, RECORD_SECONDS, "499");
	stop(pid, pid);
	assert_true(deleted);
	assert_non_null(p);
	assert_leaf_share(p, pid, "ns_spin_hot", "/ns_spin_del (deleted)");
	pprof__profile_free(p);
}

static bool exe_is_memfd(pid_t pid)
{
	char path[64], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strncmp(target, "/memfd:", 7);
}

/* A binary that never was a file: written to a memfd and run with fexecve(). */
static void test_memfd_binary(void **state)
{
	char *argv[] = {"ns_spin_memfd", WORKLOAD_SECONDS, NULL};
	char *image = NULL;
	size_t len = 0, done;
	pprof_profile_t *p = NULL;
	ssize_t n;
	FILE *f;
	pid_t pid;
	int fd, i;

	f = fopen(WORKLOAD_NS_SPIN, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = (size_t)ftell(f);
	rewind(f);
	image = malloc(len);
	assert_non_null(image);
	assert_int_equal(fread(image, 1, len, f), len);
	fclose(f);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = memfd_create("smolder-itest-wl", 0);
		if (fd < 0)
			_exit(126);
		for (done = 0; done < len; done += (size_t)n) {
			n = write(fd, image + done, len - done);
			if (n <= 0)
				_exit(126);
		}
		fexecve(fd, argv, environ);
		_exit(127);
	}
	free(image);
	for (i = 0; i < 500 && !exe_is_memfd(pid); i++)
		usleep(10 * 1000);
	if (exe_is_memfd(pid))
		p = itest_record_pid("memfd.pb.gz", pid, RECORD_SECONDS, "499");
	stop(pid, pid);
	assert_non_null(p);
	assert_leaf_share(p, pid, "ns_spin_hot", "/memfd:smolder-itest-wl (deleted)");
	pprof__profile_free(p);
}

/* JIT code in anonymous memory, named only by /tmp/perf-PID.map. */
static void test_jit_perf_map(void **state)
{
	char *argv[] = {WORKLOAD_FAKE_JIT, WORKLOAD_SECONDS, NULL};
	pprof_profile_t *p = NULL;
	char map[64];
	pid_t pid;

	pid = itest_spawn(argv);
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", (int)pid);
	if (wait_file(map))
		p = itest_record_pid("jit.pb.gz", pid, RECORD_SECONDS, "499");
	stop(pid, pid);
	unlink(map);
	assert_non_null(p);
	assert_leaf_share(p, pid, "jit_hot_loop", "[anon]");
	pprof__profile_free(p);
}

/*
 * The same JIT in a new PID and mount namespace: it writes
 * /tmp/perf-<namespace pid>.map on a /tmp of its own.
 */
static void test_jit_perf_map_pid_namespace(void **state)
{
	char script[1024], map[64], host_map[64], ns_map_on_host[64];
	char *argv[] = {"/usr/bin/unshare",
			"-pfm",
			"--mount-proc",
			"--kill-child",
			"sh",
			"-c",
			script,
			NULL};
	pprof_profile_t *p = NULL;
	pid_t outer, pid, nspid = -1;
	bool premise = false;

	/* The binary is carried over on fd 3: the build tree may be under the /tmp it hides. */
	snprintf(script, sizeof(script),
		 "exec 3<'%s' && mount -t tmpfs smolder-itest /tmp && cat <&3 >/tmp/fake_jit && "
		 "chmod +x /tmp/fake_jit && exec 3<&- && exec /tmp/fake_jit %s",
		 WORKLOAD_FAKE_JIT, WORKLOAD_SECONDS);
	outer = itest_spawn(argv);
	pid = find_child(outer, "fake_jit");
	if (pid > 0) {
		nspid = ns_pid(pid);
		snprintf(map, sizeof(map), "/proc/%d/root/tmp/perf-%d.map", (int)pid, (int)nspid);
		snprintf(host_map, sizeof(host_map), "/tmp/perf-%d.map", (int)pid);
		snprintf(ns_map_on_host, sizeof(ns_map_on_host), "/tmp/perf-%d.map", (int)nspid);
		/* The premise: named by its namespace pid, and nothing on the host's /tmp. */
		premise = nspid > 0 && nspid != pid && wait_file(map) && access(host_map, F_OK) &&
			  access(ns_map_on_host, F_OK);
	}
	if (premise)
		p = itest_record_pid("jit-pidns.pb.gz", pid, RECORD_SECONDS, "499");
	if (pid > 0)
		kill(pid, SIGKILL);
	stop(outer, outer);
	print_message("host pid %d, namespace pid %d\n", (int)pid, (int)nspid);
	assert_true(premise);
	assert_non_null(p);
	assert_leaf_share(p, pid, "jit_hot_loop", "[anon]");
	pprof__profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_mount_namespace),
		cmocka_unit_test(test_deleted_binary),
		cmocka_unit_test(test_memfd_binary),
		cmocka_unit_test(test_jit_perf_map),
		cmocka_unit_test(test_jit_perf_map_pid_namespace),
	};
	int ret;

	itest_require_root("test_namespaces");
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	itest_cleanup();
	return ret;
}
