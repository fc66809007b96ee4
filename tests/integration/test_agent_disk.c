// SPDX-License-Identifier: MIT
/*
 * smolder agent on a full disk, as root. The store is a small tmpfs mounted
 * on a fresh directory; once the agent has stored its first window while
 * `shares` runs, a filler file takes every free block. Each window closed
 * while the store is full must then be kept in memory: exactly one error
 * line per window, naming the problem (ENOSPC); no window and no temporary
 * file left in the store; the agent still running. Once the filler is
 * removed, the next window writes the kept ones first: the stored profiles
 * tile the timeline back to back from the first window through the ones
 * that had failed and on, each stored under its own start time and each
 * whole one naming the workload, and SIGTERM exits 0 with nothing lost.
 *
 * And when the last window (SIGTERM) finds the store full, the agent logs
 * that it is lost and exits non-zero.
 *
 * The teardown kills what the test started and unmounts and removes the
 * tmpfs, also when an assertion fails. Nothing here is timed: the test
 * waits for log lines and files, with a generous bound so a hung agent
 * fails instead of hanging.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_LIMIT_S   40 /* a hung agent fails the test after this long */
#define NSEC	       ((int64_t)1000000000)
#define WINDOW_S       2 /* the agent's --window */
#define FAILED_WINDOWS 2 /* windows that must fail before the store gets room again */
#define STORE_ERROR    "failed to write the window of "

/* What the test started and mounted: the teardown undoes it, whatever failed. */
static struct {
	char mnt[64];
	bool mounted;
	bool skipped; /* no tmpfs: main() exits 77, so ctest reports a skip */
	char log[256];
	pid_t agent, workload;
} disk;

/* What the agent's log says so far. */
struct log_summary {
	size_t windows; /* "window N: " lines */
	size_t kept; /* of those, windows not stored ("(not yet stored)") */
	size_t errors; /* STORE_ERROR lines */
	size_t unnamed; /* of those, lines not naming ENOSPC and the retry */
	size_t misplaced; /* windows not preceded by exactly one error if kept, none if stored */
	size_t trailing; /* error lines after the last window line */
	size_t lost; /* lines saying windows were dropped or lost */
	int64_t failed_s[ITEST_MAX_FILES]; /* the window each error line names, in order */
	size_t nr_failed_s;
};

/*
 * Temporary files of the store still there a second later, each printed: a
 * write in progress is renamed or removed by then, a file left behind is not.
 */
static size_t lingering_temps(const char *dir)
{
	struct itest_files before, after;
	size_t i, j, n = 0;

	itest_list_store(dir, &before, true);
	if (before.nr) {
		sleep(1);
		itest_list_store(dir, &after, true);
		for (i = 0; i < before.nr; i++) {
			for (j = 0; j < after.nr; j++) {
				if (!strcmp(before.paths[i], after.paths[j])) {
					print_error("temporary file left in the store: %s\n",
						    before.paths[i]);
					n++;
				}
			}
		}
		itest_free_files(&after);
	}
	itest_free_files(&before);
	return n;
}

static void parse_log(const char *text, struct log_summary *ret)
{
	const char *line, *end, *err;
	size_t since_window = 0;
	char buf[1024];
	long long t;
	bool kept;

	memset(ret, 0, sizeof(*ret));
	for (line = text; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		snprintf(buf, sizeof(buf), "%.*s", (int)(end - line), line);
		if (!strncmp(buf, "smolder: window ", strlen("smolder: window "))) {
			kept = strstr(buf, "(not yet stored)") != NULL;
			ret->windows++;
			ret->kept += kept;
			/* Once per window: the kept one's error, and none when it is stored. */
			if (since_window != (kept ? 1 : 0))
				ret->misplaced++;
			since_window = 0;
		} else if ((err = strstr(buf, STORE_ERROR))) {
			ret->errors++;
			since_window++;
			if (!strstr(buf, strerror(ENOSPC)) ||
			    !strstr(buf, "keeping it in memory and retrying"))
				ret->unnamed++;
			if (ret->nr_failed_s < ITEST_MAX_FILES &&
			    sscanf(err + strlen(STORE_ERROR), "%lld", &t) == 1)
				ret->failed_s[ret->nr_failed_s++] = t;
		}
		if (strstr(buf, "dropping the oldest") || strstr(buf, "are lost"))
			ret->lost++;
	}
	ret->trailing = since_window;
}

/* The log's promises so far; what is broken is printed with the log. */
static bool log_ok(const struct log_summary *sum)
{
	const char *why = NULL;

	if (sum->misplaced)
		why = "a kept window without exactly one store error, or a stored one with one";
	else if (sum->unnamed)
		why = "a store error that does not name ENOSPC and the retry";
	else if (sum->lost)
		why = "windows dropped or lost";
	if (!why)
		return true;
	print_error("agent log: %s:\n%s\n", why, itest_read_log(disk.log));
	return false;
}

/* False (and the agent reaped) when it has exited. */
static bool agent_alive(void)
{
	int status;

	if (waitpid(disk.agent, &status, WNOHANG) != disk.agent)
		return true;
	print_error("the agent exited (status %d):\n%s\n", status, itest_read_log(disk.log));
	disk.agent = 0;
	return false;
}

/* Waits until the log has at least windows window lines, kept of them kept. */
static bool wait_logged(size_t windows, size_t kept, struct log_summary *ret)
{
	int i;

	for (i = 0; i < WAIT_LIMIT_S * 10; i++) {
		parse_log(itest_read_log(disk.log), ret);
		if (ret->windows >= windows && ret->kept >= kept)
			return true;
		if (!agent_alive())
			return false;
		usleep(100 * 1000);
	}
	print_error("no %zu windows (%zu kept) logged after %d s:\n%s\n", windows, kept,
		    WAIT_LIMIT_S, itest_read_log(disk.log));
	return false;
}

/* Waits until the store holds at least n windows. */
static bool wait_stored(size_t n)
{
	int i;

	for (i = 0; i < WAIT_LIMIT_S * 10; i++) {
		if (itest_count_windows(disk.mnt) >= n)
			return true;
		if (!agent_alive())
			return false;
		usleep(100 * 1000);
	}
	print_error("no %zu windows in %s after %d s:\n%s\n", n, disk.mnt, WAIT_LIMIT_S,
		    itest_read_log(disk.log));
	return false;
}

/* Writes path until the file system has no block left; the errno that stopped it. */
static int fill(const char *path)
{
	static char chunk[64 << 10];
	ssize_t n;
	int fd, err;

	memset(chunk, 0x5a, sizeof(chunk));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	do
		n = write(fd, chunk, sizeof(chunk));
	while (n > 0);
	err = n < 0 ? errno : 0;
	close(fd);
	return err;
}

/* True when path is stored under the window start of time_nanos. */
static bool named_by_start(const char *path, int64_t time_nanos)
{
	char stamp[40];
	time_t t = (time_t)(time_nanos / NSEC);
	size_t len = strlen(path), slen;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "-%Y%m%dT%H%M%SZ.pb.gz", &tm);
	slen = strlen(stamp);
	return len > slen && !strcmp(path + len - slen, stamp);
}

/* A fresh 16 MiB tmpfs at disk.mnt for the store, and disk.log named log_name; skips without. */
static void mount_store(const char *log_name)
{
	char mnt[64];

	snprintf(disk.log, sizeof(disk.log), "%s", itest_path(log_name));
	snprintf(mnt, sizeof(mnt), "/tmp/smolder-itest-disk-XXXXXX");
	assert_non_null(mkdtemp(mnt));
	snprintf(disk.mnt, sizeof(disk.mnt), "%s", mnt);
	if (mount("smolder-itest", disk.mnt, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=16m,mode=0750")) {
		print_message("skipped: cannot mount a tmpfs on %s: %s\n", disk.mnt,
			      strerror(errno));
		disk.skipped = true;
		skip();
	}
	disk.mounted = true;
}

static void test_disk_full(void **state)
{
	const char *args[] = {"--window", "2", "-F", "199"}; /* WINDOW_S */
	char *wl_argv[] = {WORKLOAD_SHARES, "120", NULL};
	pprof_profile_t *p = NULL, *prev = NULL;
	struct log_summary sum;
	struct itest_files f;
	struct statvfs sv;
	char filler[128];
	size_t n_full, nr_kept, i, j;
	pid_t wl_pid;
	int status;

	mount_store("disk.log");
	snprintf(filler, sizeof(filler), "%s/filler", disk.mnt);

	disk.workload = wl_pid = itest_spawn(wl_argv);
	/* Ahead of whatever else keeps the CPUs busy, so every window has its samples. */
	setpriority(PRIO_PROCESS, (id_t)disk.workload, -10);
	usleep(200 * 1000);
	disk.agent = itest_start_agent(disk.mnt, disk.log, args, 4);

	/* The first window is stored while there is room; then the store is full. */
	assert_true(wait_logged(1, 0, &sum));
	assert_int_equal(sum.kept, 0);
	assert_int_equal(fill(filler), ENOSPC);
	assert_int_equal(statvfs(disk.mnt, &sv), 0);
	assert_int_equal(sv.f_bavail, 0);

	/*
	 * After each window closed on the full store: no new window, no
	 * temporary file left, the agent running. Every write before the first
	 * failure has finished by then (one worker writes them in turn).
	 */
	assert_true(wait_logged(sum.windows + 1, 1, &sum));
	n_full = itest_count_windows(disk.mnt);
	print_message("%zu windows stored before the store filled up\n", n_full);
	assert_true(n_full >= 1);
	assert_int_equal(n_full, sum.windows - sum.kept);
	for (i = 1; i <= FAILED_WINDOWS; i++) {
		assert_true(wait_logged(n_full + i, i, &sum));
		assert_int_equal(itest_count_windows(disk.mnt), n_full);
		assert_int_equal(lingering_temps(disk.mnt), 0);
		assert_true(agent_alive());
		assert_true(log_ok(&sum));
	}

	/* Room again: the next window writes the kept ones first, then itself. */
	parse_log(itest_read_log(disk.log), &sum);
	nr_kept = sum.kept;
	assert_int_equal(unlink(filler), 0);
	assert_true(wait_stored(n_full + nr_kept + 1));
	assert_true(agent_alive());
	kill(disk.agent, SIGTERM);
	status = itest_wait(disk.agent);
	disk.agent = 0;
	if (status != 0)
		print_error("agent log:\n%s\n", itest_read_log(disk.log));
	assert_int_equal(status, 0);
	kill(disk.workload, SIGKILL);
	itest_wait(disk.workload);
	disk.workload = 0;

	parse_log(itest_read_log(disk.log), &sum);
	print_message("%zu windows logged, %zu kept, %zu store errors\n", sum.windows, sum.kept,
		      sum.errors);
	assert_true(sum.kept >= FAILED_WINDOWS);
	assert_true(log_ok(&sum));
	assert_int_equal(sum.errors, sum.kept);
	assert_int_equal(sum.trailing, 0);
	assert_true(sum.windows > n_full + sum.kept);
	itest_list_store(disk.mnt, &f, true);
	for (i = 0; i < f.nr; i++)
		print_error("temporary file left in the store: %s\n", f.paths[i]);
	assert_int_equal(f.nr, 0);

	/* Every window the agent closed is stored, whole, back to back. */
	itest_list_store(disk.mnt, &f, false);
	assert_int_equal(f.nr, sum.windows);
	for (i = 0; i < f.nr; i++) {
		int64_t mine = 0, named = 0;

		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		for (j = 0; j < p->n_sample; j++) {
			const Perftools__Profiles__Sample *s = p->sample[j];
			const char *comm = itest_label_str(p, s, "comm");

			if (itest_label_num(p, s, "pid") != wl_pid)
				continue;
			mine += s->value[0];
			if (comm && !strcmp(comm, "shares") && itest_has_frame(p, s, "burn_"))
				named += s->value[0];
		}
		print_message("window %zu: time %" PRId64 " duration %" PRId64 " workload %" PRId64
			      " samples, %" PRId64 " named%s\n",
			      i, p->time_nanos, p->duration_nanos, mine, named,
			      i >= n_full && i < n_full + sum.kept ? " (retried)" : "");
		assert_true(named_by_start(f.paths[i], p->time_nanos));
		if (prev) {
			/* Back to back: no gap, no overlap, to the nanosecond. */
			assert_int_equal(prev->time_nanos + prev->duration_nanos, p->time_nanos);
			pprof__profile_free(prev);
		}
		/* Each error named the window that failed with it, in order. */
		if (i >= n_full && i < n_full + sum.kept) {
			assert_true(i - n_full < sum.nr_failed_s);
			assert_int_equal(p->time_nanos / NSEC, sum.failed_s[i - n_full]);
		}
		assert_true(p->duration_nanos > 0 && p->duration_nanos <= WINDOW_S * NSEC);
		if (i + 1 < f.nr)
			assert_int_equal((p->time_nanos + p->duration_nanos) % (WINDOW_S * NSEC),
					 0);
		/* Every whole window (not the first or last: partial) names the workload. */
		if (i > 0 && i + 1 < f.nr) {
			assert_true(mine >= 20);
			assert_true(named * 100 >= mine * 95);
		}
		prev = p;
	}
	pprof__profile_free(prev);
	itest_free_files(&f);
}

/*
 * The last window, closed by SIGTERM, cannot be written (the store filled
 * up right before): the agent says so in its log, naming the window and
 * ENOSPC, and exits non-zero.
 */
static void test_last_window_unwritable(void **state)
{
	const char *args[] = {"--window", "60", "-F", "199"};
	char *wl_argv[] = {WORKLOAD_SHARES, "30", NULL};
	char filler[128];
	const char *text;
	int status, i;

	mount_store("last.log");
	snprintf(filler, sizeof(filler), "%s/filler", disk.mnt);
	disk.workload = itest_spawn(wl_argv);
	disk.agent = itest_start_agent(disk.mnt, disk.log, args, 4);
	for (i = 0; i < WAIT_LIMIT_S * 10 && !strstr(itest_read_log(disk.log), "agent: "); i++)
		usleep(100 * 1000);
	assert_true(agent_alive());
	/* Samples of the workload in the open window, then no room for it. */
	sleep(1);
	assert_int_equal(fill(filler), ENOSPC);
	kill(disk.agent, SIGTERM);
	status = itest_wait(disk.agent);
	disk.agent = 0;
	text = itest_read_log(disk.log);
	if (status == 0 || !strstr(text, "could not be stored before exit and are lost") ||
	    !strstr(text, strerror(ENOSPC)))
		fail_msg("agent exited %d; want non-zero and the lost window logged:\n%s", status,
			 text);
	assert_int_equal(itest_count_windows(disk.mnt), 0);
}

static int teardown(void **state)
{
	if (disk.agent > 0) {
		kill(disk.agent, SIGKILL);
		itest_wait(disk.agent);
		disk.agent = 0;
	}
	if (disk.workload > 0) {
		kill(disk.workload, SIGKILL);
		itest_wait(disk.workload);
		disk.workload = 0;
	}
	if (disk.mounted) {
		if (umount2(disk.mnt, 0) && umount2(disk.mnt, MNT_DETACH))
			print_error("cannot unmount %s: %s\n", disk.mnt, strerror(errno));
		disk.mounted = false;
	}
	if (disk.mnt[0] && rmdir(disk.mnt))
		print_error("cannot remove %s: %s\n", disk.mnt, strerror(errno));
	disk.mnt[0] = '\0';
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_disk_full, teardown),
		cmocka_unit_test_teardown(test_last_window_unwritable, teardown),
	};
	int ret;

	itest_require_root("test_agent_disk");
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	itest_cleanup();
	return ret == 0 && disk.skipped ? 77 : ret;
}
