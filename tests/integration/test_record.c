// SPDX-License-Identifier: MIT
/*
 * smolder record on the real kernel, as root: workloads with a known profile
 * (tests/integration/workloads/) are sampled and the decoded pprof is
 * checked: shares of known functions, whole call chains, labels, mappings,
 * kernel frames, a process that exits mid-run, and `go tool pprof -raw`
 * accepting the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char *out_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", itest_tmpdir(), name);
	return path;
}

static pprof_profile_t *record(const char *name, char **extra, size_t nr_extra, char **ret_log)
{
	char *argv[32] = {(char *)itest_smolder(), "record", "-o", out_path(name)};
	pprof_profile_t *p = NULL;
	size_t n = 4, i;
	int status;

	for (i = 0; i < nr_extra && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	status = itest_run(argv, ret_log);
	if (status != 0)
		print_error("smolder record exited %d:\n%s\n", status,
			    ret_log && *ret_log ? *ret_log : "");
	assert_int_equal(status, 0);
	assert_int_equal(pprof__read_file(out_path(name), &p), 0);
	return p;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void test_shares_whole_system(void **state)
{
	char *wl[] = {WORKLOAD_SHARES, "8", NULL};
	/*
	 * 797 Hz for 5 s: ~4,000 samples, so a 3-point tolerance is ~4 standard
	 * deviations. A prime frequency away from the scheduler tick's multiples
	 * keeps the samples from falling in step with time slices.
	 */
	char *extra[] = {"-d", "5", "-F", "797"};
	int64_t count[3] = {}, total = 0, chain_ok = 0, chain_all = 0;
	const char *names[3] = {"burn_a", "burn_b", "burn_c"};
	const Perftools__Profiles__Mapping *m;
	char *log = NULL, *pprof_out = NULL;
	pprof_profile_t *p;
	struct timespec t0, t1;
	int64_t wall_ns;
	pid_t pid;
	size_t i, j, u;

	pid = itest_spawn(wl);
	usleep(300 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p = record("shares.pb.gz", extra, 4, &log);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall_ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	kill(pid, SIGKILL);
	itest_wait(pid);

	/* Profile-level fields. */
	assert_int_equal(p->n_sample_type, 2);
	assert_string_equal(pprof__str(p, p->sample_type[0]->type), "samples");
	assert_string_equal(pprof__str(p, p->sample_type[0]->unit), "count");
	assert_string_equal(pprof__str(p, p->sample_type[1]->type), "cpu");
	assert_string_equal(pprof__str(p, p->sample_type[1]->unit), "nanoseconds");
	assert_non_null(p->period_type);
	assert_string_equal(pprof__str(p, p->period_type->type), "cpu");
	assert_int_equal(p->period, 1000000000 / 797);
	assert_string_equal(pprof__str(p, p->default_sample_type), "cpu");
	assert_true(p->time_nanos > 1600000000LL * 1000000000LL);
	/*
	 * The recording lasts the 5 s asked for, and never longer than the command
	 * ran: how much longer start-up and the final write take depends on the
	 * machine's load, not on smolder.
	 */
	assert_true(p->duration_nanos > 4500000000LL);
	assert_true(p->duration_nanos <= wall_ns);
	assert_non_null(strstr(log, " 0 samples lost"));

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		const char *leaf;

		if (itest_label_num(p, s, "pid") != pid)
			continue;
		assert_int_equal(itest_label_num(p, s, "tid"), pid);
		assert_string_equal(itest_label_str(p, s, "comm"), "shares");
		assert_string_equal(itest_label_str(p, s, "thread"), "shares");
		assert_int_equal(s->value[1], s->value[0] * (1000000000 / 797));
		/*
		 * The user leaf: a sample taken in the kernel while the workload
		 * was current (a tick, a preemption) still counts for the
		 * function it interrupted; preemptions are likelier in the
		 * longer function, so skipping those samples would bias shares.
		 */
		for (u = 0; u < s->n_location_id; u++) {
			m = itest_frame_mapping(p, s, u);
			if (!m || strcmp(pprof__str(p, m->filename), "[kernel.kallsyms]"))
				break;
		}
		leaf = itest_frame_name(p, s, u);
		if (!leaf)
			continue;
		for (j = 0; j < 3; j++) {
			if (strcmp(leaf, names[j]))
				continue;
			count[j] += s->value[0];
			total += s->value[0];
			/* The whole chain, leaf first: burn_x <- run_round <- main. */
			chain_all += s->value[0];
			if (!strcmp(itest_frame_name(p, s, u + 1), "run_round") &&
			    !strcmp(itest_frame_name(p, s, u + 2), "main"))
				chain_ok += s->value[0];
			m = itest_frame_mapping(p, s, u);
			assert_non_null(m);
			assert_true(ends_with(pprof__str(p, m->filename), "/shares"));
			assert_true(strlen(pprof__str(p, m->build_id)) >= 32);
			assert_true(m->has_functions);
		}
	}
	/*
	 * 5 s at 797 Hz of one busy thread: about 4,000 samples on an idle
	 * machine; at least 1,000 keep 3 points above 2 standard deviations.
	 */
	print_message("workload samples %lld: burn_a %lld burn_b %lld burn_c %lld\n",
		      (long long)total, (long long)count[0], (long long)count[1],
		      (long long)count[2]);
	assert_true(total >= 1000);
	assert_true(llabs(count[0] * 100 / total - 60) <= 3);
	assert_true(llabs(count[1] * 100 / total - 30) <= 3);
	assert_true(llabs(count[2] * 100 / total - 10) <= 3);
	assert_true(chain_ok * 100 >= chain_all * 95);

	/* go tool pprof accepts the file and finds the functions. */
	{
		char *go[] = {"go", "tool", "pprof", "-raw", out_path("shares.pb.gz"), NULL};

		assert_int_equal(itest_run(go, &pprof_out), 0);
		assert_non_null(strstr(pprof_out, "burn_a"));
	}
	free(pprof_out);
	free(log);
	pprof__profile_free(p);
}

static void test_syscalls_kernel_frames(void **state)
{
	char *wl[] = {WORKLOAD_SYSCALLS, "6", NULL};
	char pidarg[16];
	char *extra[] = {"-d", "3", "-p", pidarg};
	int64_t total = 0, with_kernel = 0, with_read = 0;
	pprof_profile_t *p;
	pid_t pid;
	size_t i, j;

	pid = itest_spawn(wl);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	usleep(200 * 1000);
	p = record("syscalls.pb.gz", extra, 4, NULL);
	kill(pid, SIGKILL);
	itest_wait(pid);

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		bool kernel = false, read = false;

		/* -p keeps only that process. */
		assert_int_equal(itest_label_num(p, s, "pid"), pid);
		total += s->value[0];
		for (j = 0; j < s->n_location_id; j++) {
			const Perftools__Profiles__Mapping *m = itest_frame_mapping(p, s, j);

			if (!m || strcmp(pprof__str(p, m->filename), "[kernel.kallsyms]"))
				continue;
			kernel = true;
			if (strstr(itest_frame_name(p, s, j), "sys_read"))
				read = true;
		}
		with_kernel += kernel ? s->value[0] : 0;
		with_read += read ? s->value[0] : 0;
	}
	print_message("samples %lld, with kernel frames %lld, through sys_read %lld\n",
		      (long long)total, (long long)with_kernel, (long long)with_read);
	assert_true(total > 50);
	assert_true(with_kernel * 2 > total);
	assert_true(with_read * 2 > total);
	pprof__profile_free(p);
}

/* A process that exits before the end is not an error and is still named. */
static void test_process_exits_mid_run(void **state)
{
	char *wl[] = {WORKLOAD_SHARES, "1.5", NULL};
	char pidarg[16];
	char *extra[] = {"-d", "3", "-p", pidarg};
	int64_t named = 0, total;
	pprof_profile_t *p;
	pid_t pid;
	size_t i;

	pid = itest_spawn(wl);
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	p = record("exits.pb.gz", extra, 4, NULL);
	itest_wait(pid);
	total = itest_samples_of(p, pid);
	for (i = 0; i < p->n_sample; i++) {
		if (!strncmp(itest_frame_name(p, p->sample[i], 0), "burn_", 5))
			named += p->sample[i]->value[0];
	}
	print_message("samples %lld, named burn_* %lld\n", (long long)total, (long long)named);
	assert_true(total > 30);
	assert_true(named * 100 >= total * 90);
	pprof__profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_whole_system),
		cmocka_unit_test(test_syscalls_kernel_frames),
		cmocka_unit_test(test_process_exits_mid_run),
	};
	int ret;

	itest_require_root("test_record");
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	itest_cleanup();
	return ret;
}
