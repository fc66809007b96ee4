// SPDX-License-Identifier: MIT
/*
 * Unit tests of symbolizer/perfmap.c (no root): perf map parsing and
 * lookup, and the per-process cache on real files: this process's own
 * /tmp/perf-PID.map (reached through /proc/PID/root like any other), re-read
 * on growth and its rate limit, caps and eviction with child processes, and
 * the symbolizer__user() path for anonymous and memfd mappings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolizer_internal.h"

#define NR_CHILDREN 3

static const char *name_at(const struct sym_perfmap *pm, uint64_t addr)
{
	const struct sym_perfmap_sym *sym = sym_perfmap__find(pm, addr);

	return sym ? pm->strs + sym->name_off : NULL;
}

static void test_parse_lines(void **state)
{
	static const char text[] = "7f0000001000 40 LazyCompile:*hot /app/main.js:12\n"
				   "0x7f0000002000 0x10 with_0x_prefix\n"
				   "7F0000003000 20 UPPER\r\n"
				   "\n"
				   "   \t\n"
				   "garbage line\n"
				   "7f0000004000 0 zero_size\n"
				   "7f0000005000 10\n"
				   "7f0000005000 10 \n"
				   "ffffffffffffff00 200 wraps_around\n"
				   "11111111111111111 10 seventeen_digits\n"
				   "7f0000007000\t8\tLjava/lang/String;::hashCode  \n"
				   "7f0000008000 8 last_without_newline";
	struct sym_perfmap *pm = NULL;

	assert_int_equal(sym_perfmap__parse(text, sizeof(text) - 1, &pm), 0);
	assert_int_equal(pm->nr, 5);
	assert_string_equal(name_at(pm, 0x7f0000001000), "LazyCompile:*hot /app/main.js:12");
	assert_string_equal(name_at(pm, 0x7f000000103f), "LazyCompile:*hot /app/main.js:12");
	assert_null(name_at(pm, 0x7f0000001040));
	assert_null(name_at(pm, 0x7f0000000fff));
	assert_string_equal(name_at(pm, 0x7f000000200f), "with_0x_prefix");
	assert_string_equal(name_at(pm, 0x7f0000003000), "UPPER");
	assert_null(name_at(pm, 0x7f0000004000));
	assert_null(name_at(pm, 0x7f0000005000));
	assert_null(name_at(pm, 0xffffffffffffff80));
	assert_string_equal(name_at(pm, 0x7f0000007007), "Ljava/lang/String;::hashCode");
	assert_string_equal(name_at(pm, 0x7f0000008000), "last_without_newline");
	assert_null(name_at(pm, 0));
	assert_null(name_at(pm, UINT64_MAX));
	sym_perfmap__free(pm);
}

static void test_parse_empty_and_nul(void **state)
{
	static const char text[] = "1000 10 before\0nul\n2000 10 \0only_after_nul\n";
	struct sym_perfmap *pm = NULL;

	assert_int_equal(sym_perfmap__parse("", 0, &pm), 0);
	assert_int_equal(pm->nr, 0);
	assert_null(sym_perfmap__find(pm, 0x1000));
	sym_perfmap__free(pm);

	assert_int_equal(sym_perfmap__parse(text, sizeof(text) - 1, &pm), 0);
	assert_int_equal(pm->nr, 1);
	assert_string_equal(name_at(pm, 0x1000), "before");
	sym_perfmap__free(pm);
}

static void test_parse_long_name(void **state)
{
	char text[4096], *p = text;
	struct sym_perfmap *pm = NULL;
	const char *name;
	size_t i;

	p += sprintf(p, "1000 10 ");
	/* "é" is two bytes: the cap falls inside one, which must not be split. */
	p += sprintf(p, "x");
	for (i = 0; i < SYM_PERFMAP_MAX_NAME; i++)
		p += sprintf(p, "\xc3\xa9");
	*p++ = '\n';
	assert_int_equal(sym_perfmap__parse(text, (size_t)(p - text), &pm), 0);
	name = name_at(pm, 0x1000);
	assert_non_null(name);
	assert_int_equal(strlen(name), SYM_PERFMAP_MAX_NAME - 1);
	assert_int_equal((unsigned char)name[strlen(name) - 1], 0xa9);
	sym_perfmap__free(pm);
}

static void test_overlaps_later_wins(void **state)
{
	static const char text[] = "1000 100 old_big\n"
				   "1000 10 same_start_newer\n"
				   "1080 10 newer_inside\n"
				   "2000 100 newer_big\n"
				   "2010 10 older_inside_dropped\n"
				   "1800 1000 older_over_newer\n";
	struct sym_perfmap *pm = NULL;
	size_t i;

	assert_int_equal(sym_perfmap__parse(text, sizeof(text) - 1, &pm), 0);
	assert_string_equal(name_at(pm, 0x1005), "same_start_newer");
	assert_null(name_at(pm, 0x1010));
	assert_string_equal(name_at(pm, 0x1085), "newer_inside");
	/* The last line starts inside nothing newer: it is cut by newer_big. */
	assert_string_equal(name_at(pm, 0x1900), "older_over_newer");
	assert_string_equal(name_at(pm, 0x2000), "older_over_newer");
	assert_string_equal(name_at(pm, 0x27ff), "older_over_newer");
	for (i = 1; i < pm->nr; i++)
		assert_true(pm->syms[i - 1].end <= pm->syms[i].start);
	sym_perfmap__free(pm);
}

static void write_map(pid_t pid, const char *text, const char *mode)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
	f = fopen(path, mode);
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void remove_map(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
	unlink(path);
}

static void test_lookup_and_growth(void **state)
{
	struct sym_perfmaps_opts opts = {.reread_ns = 1};
	struct symbolizer_stats st = {0};
	struct sym_result res = {0};
	struct sym_perfmaps *c;
	pid_t pid = getpid();

	write_map(pid, "7f0000001000 100 first_fn\n7f0000002000 1", "w");
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	assert_int_equal(sym_perfmaps__lookup(c, pid, 0x7f0000001010, &res), 0);
	assert_int_equal(res.nr_frames, 1);
	assert_true(res.has_functions);
	assert_int_equal(res.elf_addr, 0x7f0000001010);
	assert_string_equal(res.frames[0].name, "first_fn");
	/* The half-written last line is not read until its newline. */
	memset(&res, 0, sizeof(res));
	assert_int_equal(sym_perfmaps__lookup(c, pid, 0x7f0000002000, &res), -ENOENT);
	assert_int_equal(res.nr_frames, 0);

	/* The JIT appends: a miss re-reads the grown file. */
	write_map(pid, "0 second_fn\n", "a");
	assert_int_equal(sym_perfmaps__lookup(c, pid, 0x7f0000002000, &res), 0);
	assert_string_equal(res.frames[0].name, "second_fn");
	assert_int_equal(sym_perfmaps__lookup(c, pid, 0x7f0000001000, &res), 0);
	assert_string_equal(res.frames[0].name, "first_fn");
	/* A miss on an unchanged file looks (fstat) but does not re-read. */
	assert_int_equal(sym_perfmaps__lookup(c, pid, 0x1000, &res), -ENOENT);
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_reads, 2);
	assert_int_equal(st.perfmap_hits, 3);
	assert_int_equal(st.perfmap_misses, 2);
	assert_int_equal(st.perfmaps_cached, 1);
	assert_true(st.perfmap_bytes_cached > 0);
	sym_perfmaps__free(c);
	remove_map(pid);
}

static void test_reread_rate_limited(void **state)
{
	struct sym_perfmaps_opts opts = {.reread_ns = 3600ull * 1000000000ull};
	struct symbolizer_stats st = {0};
	struct sym_result res = {0};
	struct sym_perfmaps *c;
	pid_t pid = getpid();

	remove_map(pid);
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	/* No file yet: remembered, not retried at every lookup. */
	assert_int_equal(sym_perfmaps__preload(c, pid), -ENOENT);
	write_map(pid, "1000 100 too_late\n", "w");
	assert_int_equal(sym_perfmaps__lookup(c, pid, 0x1000, &res), -ENOENT);
	assert_int_equal(res.nr_frames, 0);
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_reads, 0);
	assert_int_equal(st.perfmap_failures, 1);
	assert_int_equal(st.perfmap_misses, 1);
	sym_perfmaps__free(c);
	remove_map(pid);
}

static void test_not_regular_file(void **state)
{
	struct sym_perfmaps *c = sym_perfmaps__new(NULL);
	struct sym_result res = {0};
	pid_t pid = getpid();
	char path[64];

	assert_non_null(c);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
	remove_map(pid);
	/* A FIFO would block a plain open(): it must be refused, not waited on. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(sym_perfmaps__lookup(c, pid, 0x1000, &res), -EINVAL);
	sym_perfmaps__free(c);
	unlink(path);
}

static void test_caps_and_eviction(void **state)
{
	struct sym_perfmaps_opts opts = {.max_procs = 2, .reread_ns = 1};
	struct symbolizer_stats st = {0};
	struct sym_result res = {0};
	pid_t kids[NR_CHILDREN];
	struct sym_perfmaps *c;
	char text[64];
	int i;

	for (i = 0; i < NR_CHILDREN; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (!kids[i]) {
			pause();
			_exit(0);
		}
		snprintf(text, sizeof(text), "1000 100 child_%d\n", i);
		write_map(kids[i], text, "w");
	}
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	for (i = 0; i < NR_CHILDREN; i++) {
		assert_int_equal(sym_perfmaps__lookup(c, kids[i], 0x1000, &res), 0);
		snprintf(text, sizeof(text), "child_%d", i);
		assert_string_equal(res.frames[0].name, text);
	}
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmaps_cached, 2);
	assert_int_equal(st.perfmap_evictions, 1);
	assert_int_equal(st.perfmap_reads, 3);
	/* child 0 was the coldest: read again; child 2 is still cached. */
	assert_int_equal(sym_perfmaps__lookup(c, kids[0], 0x1000, &res), 0);
	assert_int_equal(sym_perfmaps__lookup(c, kids[2], 0x1000, &res), 0);
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_reads, 4);
	assert_int_equal(st.perfmap_evictions, 2);
	sym_perfmaps__free(c);

	/* A byte cap smaller than one map keeps only the map in use. */
	opts = (struct sym_perfmaps_opts){.max_bytes = 1, .reread_ns = 1};
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	for (i = 0; i < NR_CHILDREN; i++)
		assert_int_equal(sym_perfmaps__lookup(c, kids[i], 0x1000, &res), 0);
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmaps_cached, 1);
	assert_int_equal(st.perfmap_evictions, 2);
	sym_perfmaps__free(c);

	for (i = 0; i < NR_CHILDREN; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
		remove_map(kids[i]);
	}
}

static void test_symbolizer_user(void **state)
{
	struct sym_map_entry anon = {
		.start = 0x7f0000000000, .end = 0x7f0000100000, .executable = true, .path = ""};
	struct sym_map_entry memfd = anon, stack = anon;
	struct symbolizer_stats st = {0};
	struct sym_result res = {0};
	struct symbolizer *s;
	pid_t pid = getpid();

	memfd.path = "/memfd:jit-code (deleted)";
	stack.path = "[stack]";
	write_map(pid, "7f0000001000 100 jit_fn\n", "w");
	s = symbolizer__new(NULL);
	assert_non_null(s);
	assert_int_equal(symbolizer__user(s, pid, &anon, 0x7f0000001010, &res), 0);
	assert_int_equal(res.nr_frames, 1);
	assert_string_equal(res.frames[0].name, "jit_fn");
	assert_true(res.has_functions);
	memset(&res, 0, sizeof(res));
	assert_int_equal(symbolizer__user(s, pid, &memfd, 0x7f0000001010, &res), 0);
	assert_int_equal(res.nr_frames, 1);
	assert_string_equal(res.frames[0].name, "jit_fn");
	/* Not JIT memory: the perf map is not asked. */
	memset(&res, 0, sizeof(res));
	assert_int_equal(symbolizer__user(s, pid, &stack, 0x7f0000001010, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	memset(&res, 0, sizeof(res));
	assert_int_equal(symbolizer__user(s, pid, &anon, 0x7f0000002000, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	symbolizer__stats(s, &st);
	assert_int_equal(st.perfmap_hits, 2);
	assert_int_equal(st.perfmap_misses, 1);
	assert_int_equal(st.perfmaps_cached, 1);
	assert_int_equal(st.unresolved, 2);
	symbolizer__free(s);
	remove_map(pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lines),
		cmocka_unit_test(test_parse_empty_and_nul),
		cmocka_unit_test(test_parse_long_name),
		cmocka_unit_test(test_overlaps_later_wins),
		cmocka_unit_test(test_lookup_and_growth),
		cmocka_unit_test(test_reread_rate_limited),
		cmocka_unit_test(test_not_regular_file),
		cmocka_unit_test(test_caps_and_eviction),
		cmocka_unit_test(test_symbolizer_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
