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
#include <time.h>
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
	/* Each address takes the last line covering it: old_big around the newer lines inside it. */
	assert_string_equal(name_at(pm, 0x1010), "old_big");
	assert_string_equal(name_at(pm, 0x1085), "newer_inside");
	assert_string_equal(name_at(pm, 0x1090), "old_big");
	assert_null(name_at(pm, 0x1100));
	/* The last line covers newer_big and the line inside it. */
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

	/* A byte cap that holds one map, not two, keeps only the map in use. */
	opts = (struct sym_perfmaps_opts){.max_bytes = st.perfmap_bytes_cached * 3 / 4,
					  .reread_ns = 1};
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

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *lookup_name(struct sym_perfmaps *c, pid_t pid, uint64_t addr)
{
	static struct sym_result res;

	memset(&res, 0, sizeof(res));
	if (sym_perfmaps__lookup(c, pid, addr, &res))
		return NULL;
	return res.frames[0].name;
}

/* A JIT reuses an address: its later line names it from then on, though the old one still covers it. */
static void test_reused_address_renamed(void **state)
{
	struct sym_perfmaps_opts opts = {.reread_ns = 1};
	struct sym_perfmaps *c;
	pid_t pid = getpid();

	write_map(pid, "1000 100 jit_first\n", "w");
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	assert_string_equal(lookup_name(c, pid, 0x1010), "jit_first");
	write_map(pid, "1000 100 jit_second\n", "a");
	assert_string_equal(lookup_name(c, pid, 0x1010), "jit_second");
	sym_perfmaps__free(c);
	remove_map(pid);
}

/*
 * Names as of a time T: the newest line read by the first look at the map at
 * or after T; a line first seen by a later look names only what nothing
 * earlier covers.
 */
static void test_names_as_of_time(void **state)
{
	struct sym_perfmaps_opts opts = {.reread_ns = 1};
	struct sym_perfmaps *c;
	pid_t pid = getpid();
	uint64_t t;

	write_map(pid, "1000 100 first\n", "w");
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	assert_string_equal(lookup_name(c, pid, 0x1000), "first");
	t = mono_now();
	write_map(pid, "1000 100 second\n", "a");
	sym_perfmaps__set_time(c, t);
	/* The first look after t sees the second line. */
	assert_string_equal(lookup_name(c, pid, 0x1000), "second");
	t = mono_now();
	sym_perfmaps__set_time(c, t);
	assert_string_equal(lookup_name(c, pid, 0x1000), "second");
	/* Written after the first look after t: not the name at t. */
	write_map(pid, "1000 100 third\n5000 10 later_only\n", "a");
	assert_string_equal(lookup_name(c, pid, 0x1000), "second");
	assert_string_equal(lookup_name(c, pid, 0x5000), "later_only");
	sym_perfmaps__set_time(c, mono_now());
	assert_string_equal(lookup_name(c, pid, 0x1000), "third");
	sym_perfmaps__set_time(c, 0);
	assert_string_equal(lookup_name(c, pid, 0x1000), "third");
	sym_perfmaps__free(c);
	remove_map(pid);
}

/* Growth is read from where the last read stopped: each byte once, a split line joined. */
static void test_appended_bytes_read_once(void **state)
{
	static const char *const parts[] = {"1000 10 a_fn\n2000 10 b_", "fn\n3000 10 c_fn\n",
					    "4000 10 d", "_fn\n"};
	struct sym_perfmaps_opts opts = {.reread_ns = 1};
	struct symbolizer_stats st = {0};
	struct sym_perfmaps *c;
	pid_t pid = getpid();
	size_t i, total = 0;

	remove_map(pid);
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		write_map(pid, parts[i], "a");
		total += strlen(parts[i]);
		assert_string_equal(lookup_name(c, pid, 0x1000), "a_fn");
	}
	assert_string_equal(lookup_name(c, pid, 0x2009), "b_fn");
	assert_string_equal(lookup_name(c, pid, 0x3000), "c_fn");
	assert_string_equal(lookup_name(c, pid, 0x4000), "d_fn");
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_bytes_read, total);
	assert_int_equal(st.perfmap_entries, 4);
	assert_int_equal(st.perfmap_entries_refused, 0);
	assert_int_equal(st.perfmap_bytes_refused, 0);
	sym_perfmaps__free(c);
	remove_map(pid);
}

/* Many reads, folded together and into the base as they pile up: the latest line still wins. */
static void test_reads_folded(void **state)
{
	struct sym_perfmaps_opts opts = {.reread_ns = 1};
	struct symbolizer_stats st = {0};
	char line[96], want[32];
	struct sym_perfmaps *c;
	pid_t pid = getpid();
	int k, j;

	write_map(pid, "1000 100 gen_0\n", "w");
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	for (k = 1; k <= 40; k++) {
		snprintf(line, sizeof(line), "1000 100 gen_%d\n%x 10 only_%d\n1040 8 inner_%d\n", k,
			 0x10000 + k * 0x10, k, k);
		write_map(pid, line, "a");
		sym_perfmaps__set_time(c, mono_now());
		snprintf(want, sizeof(want), "gen_%d", k);
		assert_string_equal(lookup_name(c, pid, 0x1000), want);
		assert_string_equal(lookup_name(c, pid, 0x1060), want);
		snprintf(want, sizeof(want), "inner_%d", k);
		assert_string_equal(lookup_name(c, pid, 0x1044), want);
		for (j = 1; j <= k; j++) {
			snprintf(want, sizeof(want), "only_%d", j);
			assert_string_equal(lookup_name(c, pid, 0x10000 + j * 0x10), want);
		}
	}
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_entries, 1 + 40 * 3);
	assert_int_equal(st.perfmap_reads,
			 40); /* the first read takes gen_0 and the first append */
	sym_perfmaps__free(c);
	remove_map(pid);
}

static size_t write_lines(pid_t pid, unsigned int first, unsigned int nr)
{
	char line[64];
	size_t len = 0;
	unsigned int i;

	for (i = first; i < first + nr; i++) {
		snprintf(line, sizeof(line), "%x 10 fn_%u\n", 0x100000 + i * 0x10, i);
		write_map(pid, line, "a");
		len += strlen(line);
	}
	return len;
}

/* One process's map is capped in memory (entries refused) and in bytes read (bytes refused). */
static void test_caps_refuse_and_count(void **state)
{
	struct sym_perfmaps_opts opts = {.max_proc_bytes = 4096, .reread_ns = 1};
	struct symbolizer_stats st = {0};
	struct sym_perfmaps *c;
	pid_t pid = getpid();
	size_t len;

	remove_map(pid);
	len = write_lines(pid, 0, 200);
	assert_true(len < 4096);
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	assert_string_equal(lookup_name(c, pid, 0x100000), "fn_0");
	sym_perfmaps__stats(c, &st);
	assert_true(st.perfmap_entries_refused > 0);
	assert_int_equal(st.perfmap_entries + st.perfmap_entries_refused, 200);
	assert_true(st.perfmap_bytes_cached <= 4096);
	/* Past 4096 bytes of file, nothing more is read. */
	len += write_lines(pid, 200, 200);
	assert_null(lookup_name(c, pid, 0x100000 + 399 * 0x10));
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_bytes_read, 4096);
	assert_int_equal(st.perfmap_bytes_refused, len - 4096);
	assert_true(st.perfmap_bytes_cached <= 4096);
	/* Counted once: looking again refuses no new bytes. */
	assert_null(lookup_name(c, pid, 0x100000 + 399 * 0x10));
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_bytes_refused, len - 4096);
	sym_perfmaps__free(c);
	remove_map(pid);
}

static unsigned int nr_warnings;

static void count_log(enum sym_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == SYM_LOG_WARN && strstr(msg, "refusing"))
		nr_warnings++;
}

/* A perf map that is a symlink is not followed, even to a file of our own: refused, counted, logged once. */
static void test_symlink_refused(void **state)
{
	struct sym_map_entry anon = {
		.start = 0x7f0000000000, .end = 0x7f0000100000, .executable = true, .path = ""};
	struct symbolizer_stats st = {0};
	struct sym_result res = {0};
	char path[64], target[64];
	struct symbolizer *s;
	pid_t pid = getpid();
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
	snprintf(target, sizeof(target), "/tmp/smolder-test-secret-%d", (int)pid);
	f = fopen(target, "w");
	assert_non_null(f);
	fputs("7f0000001000 100 via_symlink\n", f);
	assert_int_equal(fclose(f), 0);
	remove_map(pid);
	assert_int_equal(symlink(target, path), 0);
	nr_warnings = 0;
	s = symbolizer__new(&(struct symbolizer_opts){.log = count_log});
	assert_non_null(s);
	assert_int_equal(symbolizer__user(s, pid, &anon, 0x7f0000001010, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	assert_int_equal(symbolizer__user(s, pid, &anon, 0x7f0000001010, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	symbolizer__stats(s, &st);
	assert_int_equal(st.perfmap_refused, 1);
	assert_int_equal(nr_warnings, 1);
	symbolizer__free(s);
	unlink(path);
	unlink(target);
}

static pid_t nobody_kid; /* killed by kill_nobody(), also when a test fails */

/* A child that runs as uid 65534 until killed; returns once it does. */
static pid_t spawn_nobody(void)
{
	int fds[2];
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(fds[0]);
		if (setgid(65534) || setuid(65534))
			_exit(1);
		if (write(fds[1], "u", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void chown_map(pid_t pid, uid_t uid, mode_t mode)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
	assert_int_equal(chown(path, uid, uid), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/*
 * Owners (root only: files are chowned): the process's own uid, or root if
 * the process could read the file itself; any other owner is refused.
 */
static void test_owner_checked(void **state)
{
	struct sym_perfmaps_opts opts = {.reread_ns = 1};
	struct symbolizer_stats st = {0};
	struct sym_perfmaps *c;
	pid_t kid;

	if (geteuid() != 0) {
		skip();
		return;
	}
	kid = nobody_kid = spawn_nobody();
	write_map(kid, "1000 100 foreign_owner\n", "w");
	chown_map(kid, 12345, 0644);
	c = sym_perfmaps__new(&opts);
	assert_non_null(c);
	assert_null(lookup_name(c, kid, 0x1000));
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_refused, 1);
	/* Root's, but the process could not read it: refused. */
	chown_map(kid, 0, 0600);
	assert_null(lookup_name(c, kid, 0x1000));
	/* Root's and readable by all, or the process's own: read. */
	chown_map(kid, 0, 0644);
	assert_string_equal(lookup_name(c, kid, 0x1000), "foreign_owner");
	chown_map(kid, 65534, 0600);
	assert_string_equal(lookup_name(c, kid, 0x1000), "foreign_owner");
	/* One refusal counted for the process, however many looks refused it. */
	sym_perfmaps__stats(c, &st);
	assert_int_equal(st.perfmap_refused, 1);
	sym_perfmaps__free(c);
}

static int kill_nobody(void **state)
{
	if (nobody_kid > 0) {
		kill(nobody_kid, SIGKILL);
		waitpid(nobody_kid, NULL, 0);
		remove_map(nobody_kid);
		nobody_kid = 0;
	}
	return 0;
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
		cmocka_unit_test(test_reused_address_renamed),
		cmocka_unit_test(test_names_as_of_time),
		cmocka_unit_test(test_appended_bytes_read_once),
		cmocka_unit_test(test_reads_folded),
		cmocka_unit_test(test_caps_refuse_and_count),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test_teardown(test_owner_checked, kill_nobody),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
