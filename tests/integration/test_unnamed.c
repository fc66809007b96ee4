// SPDX-License-Identifier: MIT
/*
 * Unnamed frames, as root: two processes of one stripped binary (no symbol
 * at all, .eh_frame kept), recorded together by one `smolder record -p A -p
 * B`. The frames in names_burn() and names_outer() must be named by file
 * and function start in the file's own address space, "names_unnamed+0x...",
 * the same in both processes, with the start read independently by nm from
 * the unstripped copy; the Locations keep the exact runtime addresses, and
 * the folded flame graph shows the call names_outer -> names_burn so named.
 */
#define _GNU_SOURCE
#include <inttypes.h>
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

#define WORKLOAD_SECONDS "8"
#define RECORD_SECONDS	 "3"
#define MIN_SAMPLES	 100 /* per process in names_burn; 499 Hz x 3 s is ~1,500 */
#define MIN_SHARE	 90 /* percent of a process's user leaves named as names_burn's start */

/* "names_unnamed+0x<address of symbol in the unstripped copy>", from nm. */
static void nm_name(const char *symbol, char *buf, size_t size)
{
	char *argv[] = {"/usr/bin/nm", UNNAMED_OUT "/names_unnamed.full", NULL};
	char *out = NULL, *line, *save = NULL, type, name[256];
	unsigned long long addr;

	assert_int_equal(itest_run(argv, &out), 0);
	buf[0] = '\0';
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 && !strcmp(name, symbol))
			snprintf(buf, size, "names_unnamed+0x%llx", addr);
	free(out);
	assert_true(buf[0]);
}

struct per_pid {
	pid_t pid;
	int64_t user_leaves, in_burn, burn_from_outer;
};

static void count(const pprof_profile_t *p, struct per_pid *pp, const char *burn, const char *outer)
{
	const Perftools__Profiles__Mapping *m;
	const Perftools__Profiles__Location *loc;
	const Perftools__Profiles__Sample *s;
	const char *name;
	size_t i, u;

	for (i = 0; i < p->n_sample; i++) {
		s = p->sample[i];
		if (itest_label_num(p, s, "pid") != pp->pid)
			continue;
		for (u = 0; u < s->n_location_id; u++) {
			m = itest_frame_mapping(p, s, u);
			if (!m || strcmp(pprof__str(p, m->filename), "[kernel.kallsyms]"))
				break;
		}
		m = itest_frame_mapping(p, s, u);
		if (!m || !strstr(pprof__str(p, m->filename), "/names_unnamed"))
			continue;
		pp->user_leaves += s->value[0];
		name = itest_frame_name(p, s, u);
		assert_non_null(name);
		assert_true(name[0]); /* no frame without a name */
		if (strcmp(name, burn))
			continue;
		pp->in_burn += s->value[0];
		/* The exact runtime address stays in the Location. */
		loc = p->location[s->location_id[u] - 1];
		assert_true(loc->address >= m->memory_start && loc->address < m->memory_limit);
		name = itest_frame_name(p, s, u + 1);
		if (name && !strcmp(name, outer))
			pp->burn_from_outer += s->value[0];
	}
}

static void test_stripped_two_processes(void **state)
{
	char *argv[] = {UNNAMED_OUT "/names_unnamed", WORKLOAD_SECONDS, NULL};
	char burn[128], outer[128], pa[16], pb[16], *out = NULL;
	struct per_pid pp[2] = {{0}};
	pprof_profile_t *p = NULL;
	char *rec[] = {(char *)itest_smolder(),
		       "record",
		       "-o",
		       itest_path("unnamed.pb.gz"),
		       "-d",
		       RECORD_SECONDS,
		       "-F",
		       "499",
		       "-p",
		       pa,
		       "-p",
		       pb,
		       NULL};
	int status, i;

	(void)state;
	itest_require_root("test_unnamed");
	nm_name("names_burn", burn, sizeof(burn));
	nm_name("names_outer", outer, sizeof(outer));
	pp[0].pid = itest_spawn(argv);
	pp[1].pid = itest_spawn(argv);
	snprintf(pa, sizeof(pa), "%d", (int)pp[0].pid);
	snprintf(pb, sizeof(pb), "%d", (int)pp[1].pid);
	usleep(200 * 1000);
	status = itest_run(rec, &out);
	for (i = 0; i < 2; i++) {
		kill(pp[i].pid, SIGKILL);
		itest_wait(pp[i].pid);
	}
	if (status)
		fprintf(stderr, "smolder record exited %d:\n%s\n", status, out ? out : "");
	free(out);
	assert_int_equal(status, 0);
	assert_int_equal(pprof__read_file(itest_path("unnamed.pb.gz"), &p), 0);
	for (i = 0; i < 2; i++) {
		count(p, &pp[i], burn, outer);
		print_message("pid %d: %lld user leaves, %lld as %s, %lld of them called from %s\n",
			      (int)pp[i].pid, (long long)pp[i].user_leaves,
			      (long long)pp[i].in_burn, burn, (long long)pp[i].burn_from_outer,
			      outer);
		assert_true(pp[i].in_burn >= MIN_SAMPLES);
		assert_true(pp[i].in_burn * 100 >= pp[i].user_leaves * MIN_SHARE);
		assert_true(pp[i].burn_from_outer * 100 >= pp[i].in_burn * MIN_SHARE);
	}
	pprof__profile_free(p);
	/* The folded flame graph shows the call under those names. */
	{
		char *fg[] = {(char *)itest_smolder(), "flamegraph", "--folded",
			      itest_path("unnamed.pb.gz"), NULL};
		char call[300];

		snprintf(call, sizeof(call), "%s;%s ", outer, burn);
		assert_int_equal(itest_run(fg, &out), 0);
		assert_non_null(out);
		assert_non_null(strstr(out, call));
		free(out);
	}
	itest_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stripped_two_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
