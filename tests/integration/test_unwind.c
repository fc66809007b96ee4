// SPDX-License-Identifier: MIT
/*
 * Complete user stacks for code built without frame pointers, on the real
 * kernel, as root. workloads/nofp.c (built -O2 -fomit-frame-pointer) runs one
 * process per case; one `smolder record` samples them all, and each case's
 * stacks are checked frame by frame in the decoded pprof:
 *   chain    chain_3 <- chain_2 <- chain_1 <- main ... <- _start
 *   thread   thread_2 <- thread_1 <- thread_main <- start_thread <- clone3
 *   qsort    compare_slow <- libc (msort/qsort) <- sort_loop <- main <- ... _start
 *   signal   in_handler <- on_sigprof <- __restore_rt <- signal_loop/main <- ... _start
 *   recurse  recurse x 1,000 <- main <- ... _start: 16-byte frames fit in the copy
 *   deep     recurse_big x N <- [truncated]: never garbage past the copied window
 *   syscall  kernel frames, then read <- syscall_loop <- main <- ... _start
 *   go       main.leafSpin <- main.middle <- main.main <- runtime.main <- runtime.goexit
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

enum wl {
	WL_CHAIN,
	WL_THREAD,
	WL_QSORT,
	WL_SIGNAL,
	WL_RECURSE,
	WL_DEEP,
	WL_SYSCALL,
	WL_MAX
};

static const char *const modes[WL_MAX] = {"chain",   "thread", "qsort",	 "signal",
					  "recurse", "deep",   "syscall"};
static pid_t pids[WL_MAX];
static pid_t go_pid = -1;
static pprof_profile_t *prof;
static char *record_log;

static int setup(void **state)
{
	char path[256], pidargs[WL_MAX][16];
	char *argv[64] = {(char *)itest_smolder(), "record", "-d", "4", "-F", "499", "-o", path};
	size_t n = 8, i;
	int status;

	snprintf(path, sizeof(path), "%s/nofp.pb.gz", itest_tmpdir());
	for (i = 0; i < WL_MAX; i++) {
		char *wl[] = {WORKLOAD_NOFP, (char *)modes[i], "7", NULL};

		pids[i] = itest_spawn(wl);
		snprintf(pidargs[i], sizeof(pidargs[i]), "%d", pids[i]);
		argv[n++] = "-p";
		argv[n++] = pidargs[i];
	}
#ifdef WORKLOAD_GO
	{
		static char go_arg[16];
		char *go[] = {WORKLOAD_GO, NULL};

		go_pid = itest_spawn(go);
		snprintf(go_arg, sizeof(go_arg), "%d", go_pid);
		argv[n++] = "-p";
		argv[n++] = go_arg;
	}
#endif
	argv[n] = NULL;
	usleep(300 * 1000);
	status = itest_run(argv, &record_log);
	for (i = 0; i < WL_MAX; i++) {
		kill(pids[i], SIGKILL);
		itest_wait(pids[i]);
	}
	if (go_pid > 0) {
		kill(go_pid, SIGKILL);
		itest_wait(go_pid);
	}
	if (status != 0 || pprof__read_file(path, &prof)) {
		fprintf(stderr, "smolder record failed (%d):\n%s\n", status,
			record_log ? record_log : "");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	pprof__profile_free(prof);
	free(record_log);
	return 0;
}

/* Index of the first user frame of s (after the kernel frames). */
static size_t first_user(const Perftools__Profiles__Sample *s)
{
	const Perftools__Profiles__Mapping *m;
	size_t u;

	for (u = 0; u < s->n_location_id; u++) {
		m = itest_frame_mapping(prof, s, u);
		if (!m || strcmp(pprof__str(prof, m->filename), "[kernel.kallsyms]"))
			break;
	}
	return u;
}

static const char *root_of(const Perftools__Profiles__Sample *s)
{
	return s->n_location_id ? itest_frame_name(prof, s, s->n_location_id - 1) : "";
}

/* Does s, from frame u up, hold these names in order (each present, consecutive)? */
static bool chain_at(const Perftools__Profiles__Sample *s, size_t u, const char *const *names,
		     size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		const char *name = itest_frame_name(prof, s, u + i);

		if (!name || strcmp(name, names[i]))
			return false;
	}
	return true;
}

/* Position of the first frame named name at or after u, or SIZE_MAX. */
static size_t find_frame(const Perftools__Profiles__Sample *s, size_t u, const char *name)
{
	const char *n;

	for (; (n = itest_frame_name(prof, s, u)); u++) {
		if (!strcmp(n, name))
			return u;
	}
	return SIZE_MAX;
}

struct tally {
	int64_t total; /* samples of the case's process */
	int64_t hit; /* samples whose leaf is the case's hot function */
	int64_t ok; /* hot samples whose whole stack is as expected */
};

static void report(const char *what, const struct tally *t)
{
	print_message("%-8s samples %lld, in the hot function %lld, whole stack right %lld\n", what,
		      (long long)t->total, (long long)t->hit, (long long)t->ok);
}

/* At least 30 hot samples (a loaded machine gives few), and 95% with the exact expected stack. */
static void check(const char *what, const struct tally *t)
{
	report(what, t);
	assert_true(t->hit >= 30);
	assert_true(t->ok * 100 >= t->hit * 95);
}

static void test_chain_to_start(void **state)
{
	static const char *const want[] = {"chain_3", "chain_2", "chain_1", "main"};
	struct tally t = {};
	size_t i, u;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (itest_label_num(prof, s, "pid") != pids[WL_CHAIN])
			continue;
		t.total += s->value[0];
		u = first_user(s);
		if (strcmp(itest_frame_name(prof, s, u) ?: "", "chain_3"))
			continue;
		t.hit += s->value[0];
		if (chain_at(s, u, want, 4) && !strcmp(root_of(s), "_start"))
			t.ok += s->value[0];
	}
	check("chain", &t);
}

static void test_thread_to_clone(void **state)
{
	static const char *const want[] = {"thread_2", "thread_1", "thread_main", "start_thread"};
	struct tally t = {};
	size_t i, u;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (itest_label_num(prof, s, "pid") != pids[WL_THREAD])
			continue;
		t.total += s->value[0];
		u = first_user(s);
		if (strcmp(itest_frame_name(prof, s, u) ?: "", "thread_2"))
			continue;
		/* The second thread: its own tid. */
		assert_int_not_equal(itest_label_num(prof, s, "tid"), pids[WL_THREAD]);
		t.hit += s->value[0];
		if (chain_at(s, u, want, 4) && strstr(root_of(s), "clone"))
			t.ok += s->value[0];
	}
	check("thread", &t);
}

static void test_qsort_callback(void **state)
{
	struct tally t = {};
	size_t i, u, q;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];
		const Perftools__Profiles__Mapping *m;

		if (itest_label_num(prof, s, "pid") != pids[WL_QSORT])
			continue;
		t.total += s->value[0];
		u = first_user(s);
		if (strcmp(itest_frame_name(prof, s, u) ?: "", "compare_slow"))
			continue;
		t.hit += s->value[0];
		/* libc between the callback and its caller, then the rest to _start. */
		m = itest_frame_mapping(prof, s, u + 1);
		q = find_frame(s, u + 1, "sort_loop");
		if (m && strstr(pprof__str(prof, m->filename), "libc") && q != SIZE_MAX &&
		    !strcmp(itest_frame_name(prof, s, q + 1) ?: "", "main") &&
		    !strcmp(root_of(s), "_start"))
			t.ok += s->value[0];
	}
	check("qsort", &t);
}

static void test_signal_frame(void **state)
{
	struct tally t = {};
	size_t i, u, r;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (itest_label_num(prof, s, "pid") != pids[WL_SIGNAL])
			continue;
		t.total += s->value[0];
		u = first_user(s);
		if (strcmp(itest_frame_name(prof, s, u) ?: "", "in_handler"))
			continue;
		t.hit += s->value[0];
		/* Through the trampoline back into the interrupted code, then main. */
		r = find_frame(s, u + 1, "__restore_rt");
		if (r != SIZE_MAX && find_frame(s, r + 1, "main") != SIZE_MAX &&
		    !strcmp(root_of(s), "_start"))
			t.ok += s->value[0];
	}
	check("signal", &t);
}

/* Frames from u up to the root that are all named name; the root is returned in *ret_root. */
static size_t run_of(const Perftools__Profiles__Sample *s, size_t u, const char *name)
{
	size_t j = u;

	while (j < s->n_location_id && !strcmp(itest_frame_name(prof, s, j), name))
		j++;
	return j - u;
}

static void test_recursion_1000_deep(void **state)
{
	struct tally t = {};
	size_t i, u, n;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (itest_label_num(prof, s, "pid") != pids[WL_RECURSE])
			continue;
		t.total += s->value[0];
		u = first_user(s);
		if (strcmp(itest_frame_name(prof, s, u) ?: "", "recurse"))
			continue;
		t.hit += s->value[0];
		/* 1,001 calls of recurse (depth 1000 down to 0), then main, then _start. */
		n = run_of(s, u, "recurse");
		if (n == 1001 && !strcmp(itest_frame_name(prof, s, u + n) ?: "", "main") &&
		    !strcmp(root_of(s), "_start"))
			t.ok += s->value[0];
	}
	check("recurse", &t);
}

static void test_deep_recursion_truncated(void **state)
{
	struct tally t = {};
	size_t i, u, n;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (itest_label_num(prof, s, "pid") != pids[WL_DEEP])
			continue;
		t.total += s->value[0];
		u = first_user(s);
		if (strcmp(itest_frame_name(prof, s, u) ?: "", "recurse_big"))
			continue;
		t.hit += s->value[0];
		/* recurse_big as far as the copy goes, then the synthetic root: never garbage. */
		n = run_of(s, u, "recurse_big");
		if (n > 50 && u + n == s->n_location_id - 1 && !strcmp(root_of(s), "[truncated]"))
			t.ok += s->value[0];
	}
	check("deep", &t);
}

static void test_syscall_kernel_then_user(void **state)
{
	static const char *const want[] = {"syscall_loop", "main"};
	struct tally t = {};
	size_t i, u, l;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (itest_label_num(prof, s, "pid") != pids[WL_SYSCALL])
			continue;
		t.total += s->value[0];
		u = first_user(s);
		/* Sampled in the kernel, inside the read system call. */
		if (u == 0 || find_frame(s, 0, "ksys_read") == SIZE_MAX)
			continue;
		t.hit += s->value[0];
		/* The user stack of the same moment: libc's read, then the caller. */
		l = find_frame(s, u, "syscall_loop");
		if (l != SIZE_MAX && l <= u + 2 && chain_at(s, l, want, 2) &&
		    !strcmp(root_of(s), "_start"))
			t.ok += s->value[0];
	}
	check("syscall", &t);
}

static void test_go_frame_pointers(void **state)
{
	static const char *const want[] = {"main.leafSpin", "main.middle", "main.main",
					   "runtime.main"};
	struct tally t = {};
	size_t i, u;

	if (go_pid < 0)
		skip();
	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (itest_label_num(prof, s, "pid") != go_pid)
			continue;
		t.total += s->value[0];
		u = first_user(s);
		if (strcmp(itest_frame_name(prof, s, u) ?: "", "main.leafSpin"))
			continue;
		t.hit += s->value[0];
		if (chain_at(s, u, want, 4) && !strncmp(root_of(s), "runtime.goexit", 14))
			t.ok += s->value[0];
	}
	check("go", &t);
}

static void test_complete_share_reported(void **state)
{
	/* record prints the share of complete stacks at the end. */
	assert_non_null(strstr(record_log, "user stacks: "));
	assert_non_null(strstr(record_log, "% complete"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_to_start),
		cmocka_unit_test(test_thread_to_clone),
		cmocka_unit_test(test_qsort_callback),
		cmocka_unit_test(test_signal_frame),
		cmocka_unit_test(test_recursion_1000_deep),
		cmocka_unit_test(test_deep_recursion_truncated),
		cmocka_unit_test(test_syscall_kernel_then_user),
		cmocka_unit_test(test_go_frame_pointers),
		cmocka_unit_test(test_complete_share_reported),
	};
	int ret;

	itest_require_root("test_unwind_record");
	ret = cmocka_run_group_tests(tests, setup, teardown);
	itest_cleanup();
	return ret;
}
