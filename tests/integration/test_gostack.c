// SPDX-License-Identifier: MIT
/*
 * Go stacks across a stack switch, on the real kernel, as root.
 * workloads/gosys runs its hot loop, main.spinG0, on the thread's g0 stack
 * through runtime.systemstack, from two goroutines. `smolder record` samples
 * it, and the decoded pprof must show, for samples through systemstack:
 *   - the goroutine's side: a root of runtime.goexit in >= 90%, and the hot
 *     loop's whole stack main.spinG0 <- main.onSystemStack.func1 <-
 *     runtime.systemstack.abi0 <- runtime.systemstack (its wrapper) <-
 *     main.onSystemStack <- main.worker in >= 90%;
 *   - never an impossible caller: the frame right below runtime.systemstack
 *     is a function whose code calls runtime.systemstack (by symbol name,
 *     from the binary's disassembly, not from a list), never a stale return
 *     address left on the g0 stack, and the stack never ends at it;
 *   - runtime.goexit and runtime.mstart are always the root when present;
 *   - main.clockLoop's samples (time.Now, a vDSO call on g0's stack) reach
 *     runtime.goexit in >= 90%.
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

#define MAX_CALLERS 256

static pprof_profile_t *prof;
static pid_t go_pid = -1;
/* Functions of the binary with a call to runtime.systemstack, by symbol name. */
static char *callers[MAX_CALLERS];
static size_t nr_callers;

/* name without a trailing ".abi0" (Go's assembly-ABI wrapper suffix), in a static buffer. */
static const char *go_name(const char *name)
{
	static char buf[256];
	size_t n = strlen(name);

	if (n >= 5 && !strcmp(name + n - 5, ".abi0"))
		n -= 5;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return buf;
}

/* Reads `objdump -d` of the workload: every function holding a call to runtime.systemstack. */
static int read_callers(void)
{
	char line[1024], func[256] = "", *lt, *gt;
	FILE *f;
	size_t i;

	f = popen(OBJDUMP " -d --no-show-raw-insn " WORKLOAD_GOSYS, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "0000000000401000 <runtime.foo>:" opens a function. */
		lt = strchr(line, '<');
		gt = lt ? strstr(lt, ">:") : NULL;
		if (lt && gt && line[0] != ' ' && (size_t)(gt - lt - 1) < sizeof(func)) {
			memcpy(func, lt + 1, (size_t)(gt - lt - 1));
			func[gt - lt - 1] = '\0';
			continue;
		}
		if (!strstr(line, "call") || !func[0] ||
		    (!strstr(line, "<runtime.systemstack>") &&
		     !strstr(line, "<runtime.systemstack.abi0>")))
			continue;
		for (i = 0; i < nr_callers && strcmp(callers[i], func); i++)
			;
		if (i == nr_callers && nr_callers < MAX_CALLERS)
			callers[nr_callers++] = strdup(func);
	}
	return pclose(f) == 0 && nr_callers ? 0 : -1;
}

static bool calls_systemstack(const char *name)
{
	size_t i;

	for (i = 0; i < nr_callers; i++)
		if (callers[i] && !strcmp(callers[i], name))
			return true;
	return false;
}

static int setup(void **state)
{
	char *go[] = {WORKLOAD_GOSYS, NULL};

	if (read_callers()) {
		fprintf(stderr, "no caller of runtime.systemstack found in %s\n", WORKLOAD_GOSYS);
		return -1;
	}
	go_pid = itest_spawn(go);
	usleep(300 * 1000);
	prof = itest_record_pid("gosys.pb.gz", go_pid, "4", "499");
	kill(go_pid, SIGKILL);
	itest_wait(go_pid);
	return prof ? 0 : -1;
}

static int teardown(void **state)
{
	size_t i;

	pprof__profile_free(prof);
	for (i = 0; i < nr_callers; i++)
		free(callers[i]);
	return 0;
}

static bool is_systemstack(const char *name)
{
	return !strcmp(go_name(name), "runtime.systemstack");
}

static void test_systemstack_reaches_goexit(void **state)
{
	/* main's call goes through the ABIInternal wrapper of the assembly function. */
	static const char *const hot[] = {
		"main.spinG0",	       "main.onSystemStack.func1", "runtime.systemstack.abi0",
		"runtime.systemstack", "main.onSystemStack",	   "main.worker"};
	int64_t through = 0, rooted = 0, spin = 0, spin_whole = 0, bad_caller = 0, early = 0;
	const char *name, *below;
	size_t i, u, k;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];
		int64_t v = s->value[0];
		bool seen = false, whole = true;

		for (u = 0; (name = itest_frame_name(prof, s, u)); u++) {
			if (!is_systemstack(name))
				continue;
			seen = true;
			below = itest_frame_name(prof, s, u + 1);
			/*
			 * BPF copies the goroutine once user space has seen the
			 * process's Go code: samples taken before that stop at the
			 * switch, honestly, never with a stale caller.
			 */
			if (below && !strcmp(below, "[truncated]")) {
				early += v;
				continue;
			}
			if (!below || !calls_systemstack(below)) {
				bad_caller += v;
				fprintf(stderr, "impossible caller of runtime.systemstack: '%s'\n",
					below ? below : "(none)");
			}
		}
		if (!seen)
			continue;
		through += v;
		name = itest_frame_name(prof, s, s->n_location_id - 1);
		if (name && !strcmp(go_name(name), "runtime.goexit"))
			rooted += v;
		for (u = 0; (name = itest_frame_name(prof, s, u)) && strcmp(name, "main.spinG0");
		     u++)
			;
		if (!name)
			continue;
		spin += v;
		for (k = 0; k < sizeof(hot) / sizeof(hot[0]); k++) {
			name = itest_frame_name(prof, s, u + k);
			if (!name || strcmp(name, hot[k]))
				whole = false;
		}
		if (whole)
			spin_whole += v;
	}
	fprintf(stderr,
		"through systemstack: %lld, rooted at runtime.goexit: %lld; main.spinG0: %lld, "
		"whole: %lld; impossible callers: %lld; stopped at the switch: %lld\n",
		(long long)through, (long long)rooted, (long long)spin, (long long)spin_whole,
		(long long)bad_caller, (long long)early);
	assert_true(spin >= 100);
	assert_true(rooted * 100 >= through * 90);
	assert_true(spin_whole * 100 >= spin * 90);
	assert_int_equal(bad_caller, 0);
	assert_true(early * 100 <= through);
}

static void test_goexit_and_mstart_are_roots(void **state)
{
	const char *name;
	int64_t bad = 0;
	size_t i, u;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		for (u = 0; u + 1 < s->n_location_id; u++) {
			name = go_name(itest_frame_name(prof, s, u));
			if (!strcmp(name, "runtime.goexit") || !strcmp(name, "runtime.mstart")) {
				bad += s->value[0];
				fprintf(stderr, "'%s' is not the root: '%s' after it\n", name,
					itest_frame_name(prof, s, u + 1));
				break;
			}
		}
	}
	assert_int_equal(bad, 0);
}

static void test_vdso_call_reaches_goexit(void **state)
{
	int64_t clock = 0, rooted = 0;
	const char *root;
	size_t i;

	for (i = 0; i < prof->n_sample; i++) {
		const Perftools__Profiles__Sample *s = prof->sample[i];

		if (!itest_has_frame(prof, s, "main.clockLoop"))
			continue;
		clock += s->value[0];
		root = itest_frame_name(prof, s, s->n_location_id - 1);
		if (root && !strcmp(go_name(root), "runtime.goexit"))
			rooted += s->value[0];
	}
	fprintf(stderr, "main.clockLoop: %lld, rooted at runtime.goexit: %lld\n", (long long)clock,
		(long long)rooted);
	assert_true(clock >= 50);
	assert_true(rooted * 100 >= clock * 90);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemstack_reaches_goexit),
		cmocka_unit_test(test_goexit_and_mstart_are_roots),
		cmocka_unit_test(test_vdso_call_reaches_goexit),
	};
	int ret;

	itest_require_root("test_gostack_record");
	ret = cmocka_run_group_tests(tests, setup, teardown);
	itest_cleanup();
	return ret;
}
