// SPDX-License-Identifier: MIT
/*
 * smolder agent on the real kernel, as root: the agent runs with short
 * windows while workloads with a known profile (tests/integration/workloads/)
 * run, and the stored profiles are checked: windows back to back, the
 * workload named and labelled in each, SIGTERM writing the open window,
 * kill -9 leaving no partial file (and the next start removing stale
 * temporary files), retention by size, 200 short-lived processes named,
 * SIGHUP with a broken config keeping the old one, and `smolder query`
 * merging windows by time and label.
 *
 * Nothing here is timed: the tests wait for files (with a generous bound so
 * a hung agent fails instead of hanging), then assert on what was stored.
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
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_LIMIT_S 40 /* a hung agent fails the test after this long */
#define NSEC	     ((int64_t)1000000000)

/*
 * Samples a window may lose whatever the agent does: none, but under
 * ThreadSanitizer (make tsan) the sampling thread runs several times slower
 * and a loaded machine fills its ring buffer now and then.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ITEST_LOST_SLACK(samples) ((samples) / 2)
#endif
#endif
#ifndef ITEST_LOST_SLACK
#define ITEST_LOST_SLACK(samples) 0
#endif

/* The store of test_windows, reused by test_query. */
static char windows_store[256];
static pid_t windows_workload;

static char *tmp_path(const char *name)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s", itest_tmpdir(), name) < 0)
		abort();
	return path;
}

/* Waits until dir holds at least n windows; false if the agent died or it took too long. */
static bool wait_windows(const char *dir, size_t n, pid_t agent)
{
	int i, status;

	for (i = 0; i < WAIT_LIMIT_S * 10; i++) {
		if (itest_count_windows(dir) >= n)
			return true;
		if (waitpid(agent, &status, WNOHANG) == agent) {
			print_error("the agent exited (status %d) before writing %zu windows\n",
				    status, n);
			return false;
		}
		usleep(100 * 1000);
	}
	print_error("no %zu windows in %s after %d s\n", n, dir, WAIT_LIMIT_S);
	return false;
}

/* Waits until the log contains s. */
static bool wait_log(const char *log, const char *s)
{
	int i;

	for (i = 0; i < WAIT_LIMIT_S * 10; i++) {
		if (strstr(itest_read_log(log), s))
			return true;
		usleep(100 * 1000);
	}
	print_error("'%s' not in the log after %d s:\n%s\n", s, WAIT_LIMIT_S, itest_read_log(log));
	return false;
}

static int stop_agent(pid_t pid, int sig)
{
	kill(pid, sig);
	return itest_wait(pid);
}

static int64_t total_samples(const pprof_profile_t *p)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < p->n_sample; i++)
		n += p->sample[i]->value[0];
	return n;
}

static int64_t samples_with_label(const pprof_profile_t *p, const char *key, const char *value)
{
	const char *v;
	int64_t n = 0;
	size_t i;

	for (i = 0; i < p->n_sample; i++) {
		v = itest_label_str(p, p->sample[i], key);
		if (v && !strcmp(v, value))
			n += p->sample[i]->value[0];
	}
	return n;
}

static bool has_comment(const pprof_profile_t *p, const char *prefix)
{
	size_t i;

	for (i = 0; i < p->n_comment; i++) {
		if (!strncmp(pprof__str(p, p->comment[i]), prefix, strlen(prefix)))
			return true;
	}
	return false;
}

static bool systemd_is_pid1(void)
{
	char comm[64] = "";
	FILE *f = fopen("/proc/1/comm", "r");

	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	return !strcmp(comm, "systemd\n") && access("/usr/bin/systemd-run", X_OK) == 0;
}

/*
 * 2-second windows while `shares` runs: at least 3 windows after the first,
 * back to back to the nanosecond, the workload named and labelled in each,
 * host and kernel in the comments; SIGTERM writes the open window (shorter
 * than a window) and exits 0.
 */
static void test_windows(void **state)
{
	const char *args[] = {"--window", "2", "-F", "199", "--label", "team=itest"};
	char *log = tmp_path("windows.log"), *store = tmp_path("windows");
	char unit[64], hostname[256] = "", host_comment[300], kernel_comment[300];
	bool scoped = systemd_is_pid1();
	pprof_profile_t *p = NULL, *prev = NULL;
	struct itest_files f;
	struct utsname u;
	pid_t agent, wl;
	size_t i, j;
	int status;

	snprintf(windows_store, sizeof(windows_store), "%s", store);
	gethostname(hostname, sizeof(hostname) - 1);
	uname(&u);
	snprintf(host_comment, sizeof(host_comment), "host: %s", hostname);
	snprintf(kernel_comment, sizeof(kernel_comment), "kernel: %s %s", u.sysname, u.release);
	snprintf(unit, sizeof(unit), "smolder-itest-%d.scope", getpid());
	if (scoped) {
		char *argv[] = {"/usr/bin/systemd-run", "--scope", "--quiet", "--unit", unit,
				WORKLOAD_SHARES,	"60",	   NULL};

		wl = itest_spawn(argv);
	} else {
		char *argv[] = {WORKLOAD_SHARES, "60", NULL};

		print_message("systemd is not PID 1: cgroup and systemd_unit labels not checked\n");
		wl = itest_spawn(argv);
	}
	windows_workload = wl;
	/* Ahead of whatever else keeps the CPUs busy, so every window has its samples. */
	setpriority(PRIO_PROCESS, (id_t)wl, -10);
	usleep(200 * 1000);
	agent = itest_start_agent(store, log, args, 6);
	/* The first window ends at the next multiple of 2 s: 3 whole ones after it. */
	assert_true(wait_windows(store, 4, agent));
	status = stop_agent(agent, SIGTERM);
	if (status != 0)
		print_error("agent log:\n%s\n", itest_read_log(log));
	assert_int_equal(status, 0);
	kill(wl, SIGKILL);
	itest_wait(wl);
	assert_non_null(strstr(itest_read_log(log), "window 0: "));

	itest_list_store(store, &f, false);
	print_message("%zu windows\n", f.nr);
	assert_true(f.nr >= 5);
	for (i = 0; i < f.nr; i++) {
		int64_t mine = 0, named = 0, labelled = 0;

		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		print_message("window %zu: time %" PRId64 " duration %" PRId64 " samples %" PRId64
			      "\n",
			      i, p->time_nanos, p->duration_nanos, total_samples(p));
		if (prev) {
			/* Back to back: no gap, no overlap, to the nanosecond. */
			assert_int_equal(prev->time_nanos + prev->duration_nanos, p->time_nanos);
			pprof__profile_free(prev);
		}
		assert_true(p->duration_nanos > 0 && p->duration_nanos <= 2 * NSEC);
		/* Whole windows end on multiples of 2 s. */
		if (i + 1 < f.nr)
			assert_int_equal((p->time_nanos + p->duration_nanos) % (2 * NSEC), 0);
		assert_true(has_comment(p, host_comment));
		assert_true(has_comment(p, kernel_comment));
		for (j = 0; j < p->n_sample; j++) {
			const Perftools__Profiles__Sample *s = p->sample[j];
			const char *team = itest_label_str(p, s, "team");

			/* The --label is on every sample, the agent's own labels too. */
			assert_non_null(team);
			assert_string_equal(team, "itest");
			assert_true(itest_label_num(p, s, "pid") >= 0);
			assert_true(itest_label_num(p, s, "tid") >= 0);
			assert_non_null(itest_label_str(p, s, "comm"));
			assert_non_null(itest_label_str(p, s, "thread"));
			if (itest_label_num(p, s, "pid") != wl)
				continue;
			mine += s->value[0];
			assert_string_equal(itest_label_str(p, s, "comm"), "shares");
			assert_string_equal(itest_label_str(p, s, "thread"), "shares");
			assert_int_equal(itest_label_num(p, s, "tid"), wl);
			if (itest_has_frame(p, s, "burn_"))
				named += s->value[0];
			if (scoped) {
				const char *cg = itest_label_str(p, s, "cgroup");
				const char *su = itest_label_str(p, s, "systemd_unit");

				if (cg && strstr(cg, unit) && su && !strcmp(su, unit))
					labelled += s->value[0];
			}
		}
		print_message("  workload %" PRId64 " samples, %" PRId64 " named\n", mine, named);
		/* Every whole window (not the first or last: partial) has the workload, named. */
		if (i > 0 && i + 1 < f.nr) {
			assert_true(mine >= 20);
			assert_true(named * 100 >= mine * 95);
			if (scoped)
				assert_int_equal(labelled, mine);
		}
		prev = p;
	}
	/* SIGTERM wrote the open window: shorter than a whole one. */
	assert_true(prev->duration_nanos < 2 * NSEC);
	pprof__profile_free(prev);
	itest_free_files(&f);
	free(log);
	free(store);
}

/*
 * `smolder query` over test_windows' store: the whole range has every
 * sample; a label keeps exactly the samples with it; a time range of two
 * whole windows has exactly their samples.
 */
static void test_query(void **state)
{
	char *out = tmp_path("query.pb.gz"), since[32], until[32], pidlabel[32];
	int64_t all = 0, shares = 0, mid = 0, mine = 0, first_whole = -1;
	pprof_profile_t *p, *q;
	struct itest_files f;
	size_t i;

	if (!windows_store[0])
		skip();
	itest_list_store(windows_store, &f, false);
	assert_true(f.nr >= 4);
	for (i = 0; i < f.nr; i++) {
		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		all += total_samples(p);
		shares += samples_with_label(p, "comm", "shares");
		mine += itest_samples_of(p, windows_workload);
		/* Windows 1 and 2: whole ones, starting on a whole second. */
		if (i == 1) {
			first_whole = p->time_nanos;
			snprintf(since, sizeof(since), "%" PRId64, p->time_nanos / NSEC);
		}
		if (i == 1 || i == 2)
			mid += total_samples(p);
		if (i == 2)
			snprintf(until, sizeof(until), "%" PRId64,
				 (p->time_nanos + p->duration_nanos) / NSEC);
		pprof__profile_free(p);
	}
	assert_true(first_whole % NSEC == 0);
	snprintf(pidlabel, sizeof(pidlabel), "pid=%d", windows_workload);

	{
		char *argv[] = {(char *)itest_smolder(),
				"query",
				"--store",
				windows_store,
				"-o",
				out,
				NULL};

		assert_int_equal(itest_run(argv, NULL), 0);
		assert_int_equal(pprof__read_file(out, &q), 0);
		assert_int_equal(total_samples(q), all);
		pprof__profile_free(q);
	}
	{
		char *argv[] = {
			(char *)itest_smolder(), "query", "--store", windows_store, "--label",
			"comm=shares",		 "-o",	  out,	     NULL};

		assert_int_equal(itest_run(argv, NULL), 0);
		assert_int_equal(pprof__read_file(out, &q), 0);
		assert_true(shares > 0);
		assert_int_equal(total_samples(q), shares);
		assert_int_equal(samples_with_label(q, "comm", "shares"), shares);
		pprof__profile_free(q);
	}
	{
		char *argv[] = {(char *)itest_smolder(),
				"query",
				"--store",
				windows_store,
				"--label",
				pidlabel,
				"--label",
				"team=itest",
				"-o",
				out,
				NULL};

		assert_int_equal(itest_run(argv, NULL), 0);
		assert_int_equal(pprof__read_file(out, &q), 0);
		assert_true(mine > 0);
		assert_int_equal(total_samples(q), mine);
		pprof__profile_free(q);
	}
	{
		char *argv[] = {(char *)itest_smolder(),
				"query",
				"--store",
				windows_store,
				"--since",
				since,
				"--until",
				until,
				"-o",
				out,
				NULL};

		assert_int_equal(itest_run(argv, NULL), 0);
		assert_int_equal(pprof__read_file(out, &q), 0);
		print_message("query [%s, %s): %" PRId64 " samples, windows 1-2 hold %" PRId64 "\n",
			      since, until, total_samples(q), mid);
		assert_int_equal(total_samples(q), mid);
		assert_int_equal(q->time_nanos, first_whole);
		assert_int_equal(q->duration_nanos, 4 * NSEC);
		pprof__profile_free(q);
	}
	itest_free_files(&f);
	free(out);
}

/*
 * kill -9 mid-run leaves only whole windows; the next start's retention
 * removes a temporary file a crash left (older than a minute) and keeps a
 * young one (a write in progress).
 */
static void test_kill9(void **state)
{
	const char *args[] = {"--window", "1"};
	char *log = tmp_path("kill9.log"), *store = tmp_path("kill9");
	char *stale = NULL, *young = NULL, *hour = NULL;
	struct timespec old[2];
	struct itest_files f, t, before;
	pprof_profile_t *p;
	pid_t agent;
	size_t i, j;
	int fd;

	agent = itest_start_agent(store, log, args, 2);
	assert_true(wait_windows(store, 3, agent));
	/* Between two windows or in the middle of a write: either way nothing half. */
	assert_int_equal(stop_agent(agent, SIGKILL), 128 + SIGKILL);
	itest_list_store(store, &f, false);
	assert_true(f.nr >= 3);
	for (i = 0; i < f.nr; i++) {
		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		pprof__profile_free(p);
	}

	/* What a crash leaves: ".NAME.XXXXXX" next to the windows. */
	hour = strdup(f.paths[f.nr - 1]);
	*strrchr(hour, '/') = '\0';
	assert_true(asprintf(&stale, "%s/.smolder-crashed-20200101T000000Z.pb.gz.Ab12Cd", hour) >
		    0);
	assert_true(asprintf(&young, "%s/.smolder-writing-20200101T000000Z.pb.gz.Ef34Gh", hour) >
		    0);
	fd = open(stale, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "partial", 7), 7);
	close(fd);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 600;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
	fd = open(young, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	itest_free_files(&f);
	/* Temporary files now: ours, and maybe one the kill cut short (young too). */
	itest_list_store(store, &before, true);

	agent = itest_start_agent(store, log, args, 2);
	assert_true(wait_log(log, "stale temporary file"));
	assert_int_equal(stop_agent(agent, SIGTERM), 0);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(young, F_OK), 0);
	/* The agent's own temporary files were all renamed: none is new. */
	itest_list_store(store, &t, true);
	for (i = 0; i < t.nr; i++) {
		for (j = 0; j < before.nr && strcmp(t.paths[i], before.paths[j]); j++)
			;
		if (j == before.nr)
			print_error("new temporary file %s\n", t.paths[i]);
		assert_true(j < before.nr);
		assert_string_not_equal(t.paths[i], stale);
	}
	itest_free_files(&t);
	itest_free_files(&before);
	free(stale);
	free(young);
	free(hour);
	free(log);
	free(store);
}

/* Writes a fake window of bytes bytes at time t (unix seconds) into store. */
static void fake_window(const char *store, time_t t, size_t bytes)
{
	char day[16], hh[4], stamp[32], *path = NULL;
	struct tm tm;
	char *buf;
	int fd;

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	strftime(hh, sizeof(hh), "%H", &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	assert_true(asprintf(&path, "%s/%s", store, day) > 0);
	mkdir(path, 0750);
	free(path);
	assert_true(asprintf(&path, "%s/%s/%s", store, day, hh) > 0);
	mkdir(path, 0750);
	free(path);
	assert_true(asprintf(&path, "%s/%s/%s/smolder-fake-%s.pb.gz", store, day, hh, stamp) > 0);
	buf = calloc(1, bytes);
	assert_non_null(buf);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, bytes), (ssize_t)bytes);
	close(fd);
	free(buf);
	free(path);
}

/* Over the size cap, retention removes the oldest windows first, down to the cap. */
static void test_retention_size(void **state)
{
	const char *args[] = {"--window", "1", "--retention-size", "300K"};
	char *log = tmp_path("retention.log"), *store = tmp_path("retention");
	time_t now = time(NULL);
	struct itest_files f;
	uint64_t total = 0;
	struct stat st;
	pid_t agent;
	size_t i;

	assert_int_equal(mkdir(store, 0750), 0);
	/* Ten 100 KiB windows of the last ten minutes: 1000 KiB, over the 300 KiB cap. */
	for (i = 0; i < 10; i++)
		fake_window(store, now - 600 + (time_t)i * 60, 100 << 10);
	agent = itest_start_agent(store, log, args, 4);
	assert_true(wait_log(log, "window 1: "));
	assert_int_equal(stop_agent(agent, SIGTERM), 0);
	assert_non_null(strstr(itest_read_log(log), "(102400 bytes, size)"));

	itest_list_store(store, &f, false);
	for (i = 0; i < f.nr; i++) {
		assert_int_equal(stat(f.paths[i], &st), 0);
		total += (uint64_t)st.st_size;
	}
	print_message("%zu windows kept, %llu bytes\n", f.nr, (unsigned long long)total);
	/* The newest fakes survive, the oldest went: two fakes fit beside the agent's own. */
	assert_true(f.nr >= 3);
	assert_non_null(strstr(f.paths[0], "smolder-fake-"));
	for (i = 0; i < f.nr; i++) {
		if (!strstr(f.paths[i], "smolder-fake-"))
			break;
	}
	assert_true(i >= 1 && i <= 2);
	/* The last retention ran before the final window was written. */
	assert_true(total - (uint64_t)st.st_size <= 300 << 10);
	{
		struct tm tm;
		time_t oldest_kept = now - 600 + (time_t)(10 - i) * 60;
		char stamp[32];

		gmtime_r(&oldest_kept, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		assert_non_null(strstr(f.paths[0], stamp));
	}
	itest_free_files(&f);
	free(log);
	free(store);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The pids listed one a line in path, sorted; returns how many (at most max). */
static size_t read_pids(const char *path, int64_t *pids, size_t max)
{
	FILE *f = fopen(path, "r");
	size_t nr = 0, i, j;
	long pid;

	assert_non_null(f);
	while (nr < max && fscanf(f, "%ld", &pid) == 1)
		pids[nr++] = pid;
	fclose(f);
	for (i = 1; i < nr; i++) {
		for (j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			int64_t t = pids[j];

			pids[j] = pids[j - 1];
			pids[j - 1] = t;
		}
	}
	return nr;
}

static bool pid_listed(const int64_t *pids, size_t nr, int64_t pid)
{
	return bsearch(&pid, pids, nr, sizeof(*pids), cmp_i64) != NULL;
}

static bool mapping_is(const Perftools__Profiles__Mapping *m, const pprof_profile_t *p,
		       const char *base)
{
	const char *file, *slash;

	if (!m || m->filename < 0 || (size_t)m->filename >= p->n_string_table)
		return false;
	file = p->string_table[m->filename];
	slash = strrchr(file, '/');
	return !strcmp(slash ? slash + 1 : file, base);
}

/*
 * 200 processes that each exec, burn ~50 ms of CPU in
 * short_lived_burn_xyzzy() and exit. Only the pids the starter spawned
 * count. Exec, the dynamic loader and exit take a share of their samples
 * that depends on the machine, not on smolder, so the shares asserted are
 * smolder's own: of the samples whose user stack reaches the workload's own
 * mapping, at least 95% have every workload frame named; few samples fall
 * in no known mapping; and most processes show the burn function.
 */
static void test_short_lived(void **state)
{
	const char *args[] = {"--window", "2", "-F", "199"};
	char *log = tmp_path("short.log"), *store = tmp_path("short");
	char *pids_path = tmp_path("short.pids");
	char *wl[] = {WORKLOAD_SHORT_BURN, "50", "200", "2", NULL};
	int64_t total = 0, in_workload = 0, named = 0, unknown = 0, burn = 0;
	int64_t spawned[256], burn_pids[256];
	size_t nr_spawned, nr_pids = 0, i, j, k, shown = 0;
	pprof_profile_t *p;
	struct itest_files f;
	pid_t agent, spawner;

	agent = itest_start_agent(store, log, args, 4);
	assert_true(wait_windows(store, 1, agent));
	assert_int_equal(setenv("SHORT_BURN_PIDS", pids_path, 1), 0);
	spawner = itest_spawn(wl);
	unsetenv("SHORT_BURN_PIDS");
	assert_int_equal(itest_wait(spawner), 0);
	assert_int_equal(stop_agent(agent, SIGTERM), 0);
	nr_spawned = read_pids(pids_path, spawned, 256);
	assert_int_equal(nr_spawned, 200);

	itest_list_store(store, &f, false);
	for (i = 0; i < f.nr; i++) {
		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		for (j = 0; j < p->n_sample; j++) {
			const Perftools__Profiles__Sample *s = p->sample[j];
			int64_t pid = itest_label_num(p, s, "pid");
			bool mine = false, all_named = true, lost = false;
			const char *name;

			if (!pid_listed(spawned, nr_spawned, pid))
				continue;
			total += s->value[0];
			for (k = 0; (name = itest_frame_name(p, s, k)); k++) {
				const Perftools__Profiles__Mapping *m =
					itest_frame_mapping(p, s, k);

				if (mapping_is(m, p, "[unknown]"))
					lost = true;
				if (!mapping_is(m, p, "short_burn"))
					continue;
				mine = true;
				if (!name[0])
					all_named = false;
			}
			if (lost)
				unknown += s->value[0];
			if (!mine)
				continue;
			in_workload += s->value[0];
			if (!all_named) {
				/* What the unnamed ones are, should the share fall short. */
				if (shown++ < 8)
					print_message("  unnamed: pid %" PRId64 " %s <- %s <- %s\n",
						      pid, itest_frame_name(p, s, 0),
						      itest_frame_name(p, s, 1) ?: "",
						      itest_frame_name(p, s, 2) ?: "");
				continue;
			}
			named += s->value[0];
			if (!itest_has_frame(p, s, "short_lived_burn_xyzzy"))
				continue;
			burn += s->value[0];
			for (k = 0; k < nr_pids && burn_pids[k] != pid; k++)
				;
			if (k == nr_pids && nr_pids < 256)
				burn_pids[nr_pids++] = pid;
		}
		pprof__profile_free(p);
	}
	print_message("short-lived: %" PRId64 " samples, %" PRId64 " in the workload, %" PRId64
		      " named, %" PRId64 " burning, %" PRId64 " unknown, %zu processes\n",
		      total, in_workload, named, burn, unknown, nr_pids);
	/* 200 x 50 ms at 199 Hz: about 2,000 samples. */
	assert_true(total >= 1000);
	assert_true(in_workload * 100 >= total * 50);
	assert_true(named * 100 >= in_workload * 95);
	assert_true(unknown * 100 <= total * 5);
	assert_true(nr_pids >= 150);
	itest_free_files(&f);
	free(pids_path);
	free(log);
	free(store);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The label team of the newest window's samples ("" when none). */
static void newest_label(const char *store, char *buf, size_t len)
{
	struct itest_files f;
	pprof_profile_t *p;
	const char *v;

	buf[0] = '\0';
	itest_list_store(store, &f, false);
	if (f.nr && !pprof__read_file(f.paths[f.nr - 1], &p)) {
		if (p->n_sample && (v = itest_label_str(p, p->sample[0], "team")))
			snprintf(buf, len, "%s", v);
		pprof__profile_free(p);
	}
	itest_free_files(&f);
}

/* SIGTERM stops the agent, which exits 0; the workload is killed. */
static void stop_both(pid_t agent, pid_t wl)
{
	int status = stop_agent(agent, SIGTERM);

	kill(wl, SIGKILL);
	itest_wait(wl);
	assert_int_equal(status, 0);
}

/*
 * Starts a busy workload (*ret_wl: every window has samples to carry the
 * label) and an agent on conf (1 s windows, label team=first); returns once
 * its windows carry the label.
 */
static pid_t start_labelled(const char *conf, const char *store, const char *log, pid_t *ret_wl)
{
	const char *args[] = {"--config", conf};
	char *wl_argv[] = {WORKLOAD_SHARES, "60", NULL};
	char team[64];
	pid_t agent;

	*ret_wl = itest_spawn(wl_argv);
	write_file(conf, "window = 1\nlabel = team=first\n");
	agent = itest_start_agent(store, log, args, 2);
	assert_true(wait_windows(store, 2, agent));
	newest_label(store, team, sizeof(team));
	assert_string_equal(team, "first");
	return agent;
}

/*
 * SIGHUP: a good config is applied (the new label on later windows); a
 * broken one (unknown key) is refused with file:line:key in the log, the
 * agent keeps running with the old config and keeps writing windows.
 */
static void test_sighup(void **state)
{
	char *log = tmp_path("hup.log"), *store = tmp_path("hup"), *conf = tmp_path("hup.conf");
	char team[64], want[512];
	size_t n;
	pid_t wl, agent = start_labelled(conf, store, log, &wl);

	write_file(conf, "window = 1\nlabel = team=second\n");
	kill(agent, SIGHUP);
	assert_true(wait_log(log, "reload: configuration reread"));
	n = itest_count_windows(store);
	assert_true(wait_windows(store, n + 2, agent));
	newest_label(store, team, sizeof(team));
	assert_string_equal(team, "second");

	write_file(conf, "window = 1\nlabel = team=third\nwindw = 5\n");
	kill(agent, SIGHUP);
	snprintf(want, sizeof(want), "%s:3: unknown key 'windw'", conf);
	assert_true(wait_log(log, want));
	assert_non_null(strstr(itest_read_log(log), "keeping the running configuration"));
	n = itest_count_windows(store);
	assert_true(wait_windows(store, n + 2, agent));
	newest_label(store, team, sizeof(team));
	assert_string_equal(team, "second");
	stop_both(agent, wl);
	free(log);
	free(store);
	free(conf);
}

/* Lines of the log containing s. */
static size_t count_log(const char *log, const char *s)
{
	const char *at = itest_read_log(log);
	size_t n = 0;

	while ((at = strstr(at, s))) {
		n++;
		at += strlen(s);
	}
	return n;
}

/*
 * SIGHUP with the configuration file replaced by a FIFO nobody writes to:
 * reading it may block (or be refused at once), but never on the sampling
 * thread: windows keep coming back to back at their 1 s cadence with no
 * sample lost, the running configuration (label team=first) stays, and the
 * reload logs one line. A SIGHUP still blocked at SIGTERM does not hold the
 * exit.
 */
static void test_sighup_fifo(void **state)
{
	char *log = tmp_path("hupfifo.log"), *store = tmp_path("hupfifo"),
	     *conf = tmp_path("hupfifo.conf");
	unsigned long long seq, samples, lost;
	pprof_profile_t *p = NULL, *prev = NULL;
	struct itest_files f;
	char team[64];
	size_t n, i, after;
	const char *line;
	pid_t wl, agent = start_labelled(conf, store, log, &wl);
	int fd;

	assert_int_equal(unlink(conf), 0);
	assert_int_equal(mkfifo(conf, 0600), 0);
	n = itest_count_windows(store);
	kill(agent, SIGHUP);
	/* Five windows of 1 s in at most 8 s: the cadence held. */
	for (i = 0; i < 80 && itest_count_windows(store) < n + 5; i++)
		usleep(100 * 1000);
	if (itest_count_windows(store) < n + 5) {
		kill(agent, SIGKILL);
		kill(wl, SIGKILL);
		fail_msg("%zu windows in the 8 s after SIGHUP, want 5; log:\n%s",
			 itest_count_windows(store) - n, itest_read_log(log));
	}

	/* A reader still blocked on the FIFO gets a broken configuration. */
	signal(SIGPIPE, SIG_IGN);
	fd = open(conf, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		/* The agent may refuse the FIFO and close it first: EPIPE then. */
		if (write(fd, "windw = 5\n", 10) != 10)
			print_message("the agent closed the FIFO first: %s\n", strerror(errno));
		close(fd);
	}
	assert_true(wait_log(log, "keeping the running configuration"));
	assert_int_equal(count_log(log, "reload:"), 1);
	after = itest_count_windows(store);
	assert_true(wait_windows(store, after + 1, agent));
	newest_label(store, team, sizeof(team));
	assert_string_equal(team, "first");

	/* Every window after the SIGHUP: back to back, samples in each, none lost. */
	itest_list_store(store, &f, false);
	for (i = n; i < f.nr; i++) {
		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		if (prev)
			assert_int_equal(prev->time_nanos + prev->duration_nanos, p->time_nanos);
		assert_int_equal(p->duration_nanos, NSEC);
		pprof__profile_free(prev);
		prev = p;
	}
	pprof__profile_free(prev);
	itest_free_files(&f);
	for (line = itest_read_log(log); (line = strstr(line, "window ")); line++) {
		if (sscanf(line, "window %llu: %llu samples, %llu lost", &seq, &samples, &lost) !=
		    3)
			continue;
		if (seq + 1 >= n && (!samples || lost > ITEST_LOST_SLACK(samples)))
			fail_msg("window %llu: %llu samples, %llu lost", seq, samples, lost);
	}

	/* A SIGHUP whose read is still blocked at exit does not hold the exit. */
	assert_int_equal(unlink(conf), 0);
	assert_int_equal(mkfifo(conf, 0600), 0);
	kill(agent, SIGHUP);
	usleep(300 * 1000);
	stop_both(agent, wl);
	free(log);
	free(store);
	free(conf);
}

/* The tid of pid's thread named comm, or 0. */
static pid_t find_thread(pid_t pid, const char *comm)
{
	char path[320], name[64];
	struct dirent *d;
	pid_t tid = 0;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!tid && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && !strncmp(name, comm, strlen(comm)) &&
		    name[strlen(comm)] == '\n')
			tid = (pid_t)atoi(d->d_name);
		fclose(f);
	}
	closedir(dir);
	return tid;
}

/* The first line of /proc/PID/task/TID/syscall: what the thread is blocked in. */
static void thread_syscall(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = '\0';
		fclose(f);
	}
}

/*
 * Stops the agent's worker thread alone (ptrace) while it waits for work,
 * holding no lock. False when it could not be caught idle.
 */
static bool stop_worker(pid_t agent, pid_t tid)
{
	char sc[256];
	int i, status;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL)) {
		print_error("PTRACE_SEIZE %d: %s\n", (int)tid, strerror(errno));
		return false;
	}
	for (i = 0; i < 100; i++) {
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) ||
		    waitpid(tid, &status, __WALL) != tid)
			break;
		/* In futex(): waiting for the queue's condition, no lock held. */
		thread_syscall(agent, tid, sc, sizeof(sc));
		if (!strncmp(sc, "202 ", 4))
			return true;
		ptrace(PTRACE_CONT, tid, NULL, NULL);
		usleep(20 * 1000);
	}
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	print_error("could not catch the worker %d idle (last: %s)\n", (int)tid, sc);
	return false;
}

/* The value of key in a status file, or -1. */
static long long status_value(const char *path, const char *key)
{
	char line[512];
	long long v = -1;
	size_t len = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == '=')
			v = atoll(line + len + 1);
	}
	fclose(f);
	return v;
}

/*
 * A window dropped because the worker fell behind is logged and counted:
 * the worker thread alone is stopped (ptrace) while the sampling thread
 * keeps closing 1 s windows, so the queue of closed windows overflows; the
 * sampling thread logs each drop, and once the worker runs again the
 * window line and the status file count them.
 */
static void test_dropped_window(void **state)
{
	char *log = tmp_path("drop.log"), *store = tmp_path("drop");
	const char *args[] = {"--window", "1"};
	char status_path[512], line[64];
	long long dropped = -1;
	bool stopped;
	pid_t agent, worker;
	int i;

	char *wl_argv[] = {WORKLOAD_SHARES, "60", NULL};
	pid_t wl = itest_spawn(wl_argv);

	snprintf(status_path, sizeof(status_path), "%s/status", store);
	agent = itest_start_agent(store, log, args, 2);
	assert_true(wait_windows(store, 2, agent));
	worker = find_thread(agent, "smolder-worker");
	if (status_value(status_path, "windows_dropped") != 0 || worker <= 0) {
		kill(agent, SIGKILL);
		kill(wl, SIGKILL);
		fail_msg("want windows_dropped=0 in %s and a smolder-worker thread (%d)",
			 status_path, (int)worker);
	}
	stopped = stop_worker(agent, worker);
	if (stopped)
		stopped = wait_log(log, "dropped unbuilt");
	ptrace(PTRACE_DETACH, worker, NULL, NULL);
	if (!stopped) {
		kill(agent, SIGKILL);
		kill(wl, SIGKILL);
		fail_msg("no window dropped while the worker was stopped");
	}
	assert_non_null(strstr(itest_read_log(log), "windows are waiting for the worker"));
	/* The worker catches up: its next window line and the status file count the drops. */
	for (i = 0; i < 200 && dropped < 1; i++) {
		usleep(100 * 1000);
		dropped = status_value(status_path, "windows_dropped");
	}
	assert_true(dropped >= 1);
	snprintf(line, sizeof(line), "%lld windows dropped, ", dropped);
	assert_true(wait_log(log, line));
	stop_both(agent, wl);
	free(log);
	free(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),	    cmocka_unit_test(test_query),
		cmocka_unit_test(test_kill9),	    cmocka_unit_test(test_retention_size),
		cmocka_unit_test(test_short_lived), cmocka_unit_test(test_sighup),
		cmocka_unit_test(test_sighup_fifo), cmocka_unit_test(test_dropped_window),
	};
	int ret;

	itest_require_root("test_agent");
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	itest_cleanup();
	return ret;
}
