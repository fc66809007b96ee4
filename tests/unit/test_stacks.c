// SPDX-License-Identifier: MIT
/*
 * Unit tests of profiler/stacks.c and viewer.c on hand-made profiles with
 * known answers: folded stacks, flat/cum with recursion and inlining, the
 * per-process tree, frame kinds, the two-proportion z-test against numbers
 * computed by hand, and the HTML writer's pruning.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pprof.h"
#include "stacks.h"
#include "viewer.h"

struct fixture {
	struct pprof_builder *b;
	uint64_t map_bin, map_kernel, map_jit;
};

static uint64_t loc(struct fixture *f, uint64_t map, uint64_t addr, const char *name)
{
	struct pprof_line_desc line = {.name = name, .filename = "main.c", .line = (int64_t)addr};
	int64_t id = pprof_builder__location(f->b, map, addr, name ? &line : NULL, name ? 1 : 0);

	assert_true(id > 0);
	return (uint64_t)id;
}

/* A sample of cnt samples of 10ms each; locs leaf first. */
static void sample(struct fixture *f, const uint64_t *locs, size_t nr, int64_t cnt,
		   const char *comm)
{
	int64_t values[2] = {cnt, cnt * 10000000};
	struct pprof_label_desc label = {.key = "comm", .str = comm};

	assert_int_equal(pprof_builder__sample(f->b, locs, nr, values, 2, &label, comm ? 1 : 0), 0);
}

static void fixture_init(struct fixture *f)
{
	struct pprof_value_type samples = {"samples", "count"}, cpu = {"cpu", "nanoseconds"};
	struct pprof_mapping_desc bin = {.memory_start = 0x400000,
					 .memory_limit = 0x500000,
					 .filename = "/usr/bin/app",
					 .has_functions = true};
	struct pprof_mapping_desc kernel = {.memory_start = 0xffffffff81000000ull,
					    .memory_limit = 0xffffffff82000000ull,
					    .filename = "[kernel.kallsyms]"};
	struct pprof_mapping_desc jit = {.memory_start = 0x7f0000000000ull,
					 .memory_limit = 0x7f0000100000ull,
					 .filename = "/tmp/perf-42.map"};

	f->b = pprof_builder__new();
	assert_non_null(f->b);
	assert_int_equal(pprof_builder__add_sample_type(f->b, &samples), 0);
	assert_int_equal(pprof_builder__add_sample_type(f->b, &cpu), 0);
	assert_int_equal(pprof_builder__set_default_sample_type(f->b, "cpu"), 0);
	f->map_bin = (uint64_t)pprof_builder__mapping(f->b, &bin);
	f->map_kernel = (uint64_t)pprof_builder__mapping(f->b, &kernel);
	f->map_jit = (uint64_t)pprof_builder__mapping(f->b, &jit);
}

static pprof_profile_t *fixture_profile(struct fixture *f)
{
	pprof_profile_t *p = NULL;
	uint8_t *buf;
	size_t len;

	assert_int_equal(pprof_builder__pack(f->b, &buf, &len), 0);
	assert_int_equal(pprof__read_mem(buf, len, &p), 0);
	free(buf);
	pprof_builder__free(f->b);
	f->b = NULL;
	return p;
}

/*
 * main -> a -> b (3 samples, comm "app"), main -> a (2, "app"),
 * main -> c -> c -> c (recursion, 5, "app"), kernel stack under main -> b
 * (1, "other"), one unnamed frame in the binary under main (1, no comm).
 */
static pprof_profile_t *simple_profile(void)
{
	struct fixture f;
	uint64_t m, a, b, c, k, u, st[5];

	fixture_init(&f);
	m = loc(&f, f.map_bin, 0x401000, "main");
	a = loc(&f, f.map_bin, 0x402000, "a");
	b = loc(&f, f.map_bin, 0x403000, "b");
	c = loc(&f, f.map_bin, 0x404000, "c");
	k = loc(&f, f.map_kernel, 0xffffffff81001000ull, "do_syscall_64");
	u = loc(&f, f.map_bin, 0x405abc, NULL);
	st[0] = b, st[1] = a, st[2] = m;
	sample(&f, st, 3, 3, "app");
	st[0] = a, st[1] = m;
	sample(&f, st, 2, 2, "app");
	st[0] = c, st[1] = c, st[2] = c, st[3] = m;
	sample(&f, st, 4, 5, "app");
	st[0] = k, st[1] = b, st[2] = m;
	sample(&f, st, 3, 1, "other");
	st[0] = u, st[1] = m;
	sample(&f, st, 2, 1, NULL);
	return fixture_profile(&f);
}

static char *folded(struct stacks *s, enum stacks_tree_id id, enum stacks_slot slot)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(stacks__write_folded(s, id, slot, f), 0);
	fclose(f);
	return buf;
}

static void test_folded(void **state)
{
	pprof_profile_t *p = simple_profile();
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE | STACKS_WANT_BY_COMM);
	char *got;

	assert_non_null(s);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	assert_int_equal(stacks__build(s, 0), 0);
	got = folded(s, STACKS_TREE_MACHINE, STACKS_NEW);
	assert_string_equal(got, "main;0x405abc [app] 1\n"
				 "main;a 2\n"
				 "main;a;b 3\n"
				 "main;b;do_syscall_64_[k] 1\n"
				 "main;c;c;c 5\n");
	free(got);
	got = folded(s, STACKS_TREE_BY_COMM, STACKS_NEW);
	assert_string_equal(got, "[unknown];main;0x405abc [app] 1\n"
				 "app;main;a 2\n"
				 "app;main;a;b 3\n"
				 "app;main;c;c;c 5\n"
				 "other;main;b;do_syscall_64_[k] 1\n");
	free(got);
	assert_int_equal(stacks__totals(s, STACKS_NEW)->cnt, 12);
	assert_int_equal(stacks__totals(s, STACKS_NEW)->val, 120000000);
	assert_string_equal(stacks__totals(s, STACKS_NEW)->unit, "nanoseconds");
	stacks__free(s);
	pprof__profile_free(p);
}

static const struct stacks_func_stat *
find_stat(const struct stacks *s, const struct stacks_func_stat *st, size_t nr, const char *name)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (!strcmp(stacks__func(s, st[i].func)->name, name))
			return &st[i];
	fail_msg("function %s not in the stats", name);
	return NULL;
}

static void test_flat_cum(void **state)
{
	pprof_profile_t *p = simple_profile();
	struct stacks *s = stacks__new(0);
	struct stacks_process *procs;
	struct stacks_func_stat *st;
	const struct stacks_func_stat *x;
	size_t nr, i;

	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	assert_null(stacks__tree(s, STACKS_TREE_MACHINE));
	assert_int_equal(stacks__func_stats(s, STACKS_NONE, &st, &nr), 0);
	assert_int_equal(nr, 6);
	x = find_stat(s, st, nr, "main");
	assert_int_equal(x->flat_cnt[0], 0);
	assert_int_equal(x->cum_cnt[0], 12);
	x = find_stat(s, st, nr, "a");
	assert_int_equal(x->flat_cnt[0], 2);
	assert_int_equal(x->cum_cnt[0], 5);
	x = find_stat(s, st, nr, "b");
	assert_int_equal(x->flat_cnt[0], 3);
	assert_int_equal(x->cum_cnt[0], 4);
	/* Recursion: c is on the stack three times but counts once. */
	x = find_stat(s, st, nr, "c");
	assert_int_equal(x->flat_cnt[0], 5);
	assert_int_equal(x->cum_cnt[0], 5);
	assert_int_equal(x->cum_val[0], 50000000);
	x = find_stat(s, st, nr, "do_syscall_64");
	assert_int_equal(x->flat_cnt[0], 1);
	assert_int_equal(stacks__func(s, x->func)->kind, STACKS_KIND_KERNEL);
	x = find_stat(s, st, nr, "0x405abc [app]");
	assert_int_equal(stacks__func(s, x->func)->kind, STACKS_KIND_UNKNOWN);
	free(st);

	/* Per process. */
	assert_int_equal(stacks__processes(s, &procs, &nr), 0);
	assert_int_equal(nr, 3);
	for (i = 0; i < nr; i++)
		if (!strcmp(stacks__frame(s, procs[i].frame)->name, "app"))
			break;
	assert_true(i < nr);
	assert_int_equal(procs[i].cnt[0], 10);
	assert_int_equal(stacks__frame(s, procs[i].frame)->kind, STACKS_KIND_PROCESS);
	assert_int_equal(stacks__func_stats(s, procs[i].frame, &st, &nr), 0);
	x = find_stat(s, st, nr, "b");
	assert_int_equal(x->flat_cnt[0], 3);
	assert_int_equal(x->cum_cnt[0], 3);
	free(st);
	free(procs);
	stacks__free(s);
	pprof__profile_free(p);
}

/* Pruning: subtrees under the threshold fold into their parent's self. */
static void test_prune(void **state)
{
	pprof_profile_t *p = simple_profile();
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE);
	const struct stacks_tree *t;
	char *got;

	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	/* 12 samples: 0.2 keeps subtrees of at least 2.4 samples. */
	assert_int_equal(stacks__build(s, 0.2), 0);
	got = folded(s, STACKS_TREE_MACHINE, STACKS_NEW);
	assert_string_equal(got, "main 2\n"
				 "main;a 2\n"
				 "main;a;b 3\n"
				 "main;c;c;c 5\n");
	free(got);
	/* Gone (1 sample each): main;0x405abc and main;b;do_syscall_64 (b and its child). */
	assert_int_equal(stacks__pruned(s), 3);
	t = stacks__tree(s, STACKS_TREE_MACHINE);
	assert_int_equal(t->nr_nodes, 7);
	assert_int_equal(t->nodes[0].cnt[0], 12);
	assert_int_equal(stacks__self_cnt(t, 0, STACKS_NEW), 0);
	stacks__free(s);
	pprof__profile_free(p);
}

/* Inlined lines, a JIT mapping, and merging two profiles into BASE and NEW. */
static void test_kinds_and_slots(void **state)
{
	struct pprof_line_desc inl[2] = {
		{.name = "inner", .filename = "x.h", .line = 7},
		{.name = "outer", .filename = "x.c", .line = 70},
	};
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE);
	struct stacks_func_stat *st;
	pprof_profile_t *p1, *p2;
	struct fixture f;
	uint64_t l[2];
	size_t nr, i;
	char *got;

	fixture_init(&f);
	l[0] = (uint64_t)pprof_builder__location(f.b, f.map_bin, 0x401000, inl, 2);
	l[1] = loc(&f, f.map_jit, 0x7f0000000100ull, "Interpreter");
	sample(&f, l, 2, 4, "java");
	p1 = fixture_profile(&f);
	fixture_init(&f);
	l[0] = (uint64_t)pprof_builder__location(f.b, f.map_bin, 0x401000, &inl[1], 1);
	sample(&f, l, 1, 6, "java");
	p2 = fixture_profile(&f);

	assert_int_equal(stacks__add_profile(s, p1, STACKS_NEW), 0);
	assert_int_equal(stacks__add_profile(s, p2, STACKS_BASE), 0);
	assert_int_equal(stacks__build(s, 0), 0);
	got = folded(s, STACKS_TREE_MACHINE, STACKS_NEW);
	assert_string_equal(got, "Interpreter_[j];outer;inner_[i] 4\n");
	free(got);
	got = folded(s, STACKS_TREE_MACHINE, STACKS_BASE);
	assert_string_equal(got, "outer 6\n");
	free(got);
	assert_int_equal(stacks__func_stats(s, STACKS_NONE, &st, &nr), 0);
	for (i = 0; i < nr; i++) {
		const struct stacks_func *fn = stacks__func(s, st[i].func);

		if (!strcmp(fn->name, "outer")) {
			assert_int_equal(st[i].flat_cnt[STACKS_BASE], 6);
			assert_int_equal(st[i].flat_cnt[STACKS_NEW], 0);
			assert_int_equal(st[i].cum_cnt[STACKS_NEW], 4);
			assert_int_equal(fn->line, 70);
		} else if (!strcmp(fn->name, "inner")) {
			assert_int_equal(st[i].flat_cnt[STACKS_NEW], 4);
			assert_string_equal(fn->file, "x.h");
			assert_int_equal(fn->line, 7);
		}
	}
	free(st);
	stacks__free(s);
	pprof__profile_free(p1);
	pprof__profile_free(p2);
}

/* Frames without a name are named by address and mapping, brackets not doubled. */
static void test_unnamed(void **state)
{
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE);
	struct pprof_mapping_desc vdso = {
		.memory_start = 0x7ffd0000, .memory_limit = 0x7ffd2000, .filename = "[vdso]"};
	pprof_profile_t *p;
	struct fixture f;
	uint64_t l[3];
	char *got;

	fixture_init(&f);
	l[0] = loc(&f, f.map_kernel, 0xffffffff81000abcull, NULL);
	l[1] = loc(&f, (uint64_t)pprof_builder__mapping(f.b, &vdso), 0x7ffd0100, NULL);
	l[2] = loc(&f, 0, 0x1234, NULL);
	sample(&f, l, 3, 2, "app");
	p = fixture_profile(&f);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	assert_int_equal(stacks__build(s, 0), 0);
	got = folded(s, STACKS_TREE_MACHINE, STACKS_NEW);
	assert_string_equal(
		got, "0x1234;0x7ffd0100 [vdso];0xffffffff81000abc [kernel.kallsyms]_[k] 2\n");
	free(got);
	stacks__free(s);
	pprof__profile_free(p);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/*
 * The page: the data block replaces the marker, names cannot close the
 * script, and a normalized diff scales BASE by NEW/BASE (12/8 = 1.5).
 */
static void test_viewer(void **state)
{
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE | STACKS_WANT_BY_COMM);
	struct viewer_opts o = {.title = "t", .diff = true, .normalize = true, .prune = 0};
	pprof_profile_t *p1, *p2;
	struct fixture f;
	uint64_t l[2];
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	fixture_init(&f);
	l[0] = loc(&f, f.map_bin, 0x401000, "evil</script><b>");
	l[1] = loc(&f, f.map_bin, 0x402000, "main");
	sample(&f, l, 2, 12, "app");
	p1 = fixture_profile(&f);
	fixture_init(&f);
	l[0] = loc(&f, f.map_bin, 0x403000, "old");
	l[1] = loc(&f, f.map_bin, 0x402000, "main");
	sample(&f, l, 2, 8, "app");
	p2 = fixture_profile(&f);
	assert_int_equal(stacks__add_profile(s, p1, STACKS_NEW), 0);
	assert_int_equal(stacks__add_profile(s, p2, STACKS_BASE), 0);
	assert_int_equal(stacks__build(s, 0), 0);
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(viewer__write(s, &o, out), 0);
	fclose(out);
	assert_null(strstr(buf, "@@SMOLDER_DATA@@"));
	assert_int_equal(count(buf, "</script>"), 2); /* the two script blocks of the page */
	assert_non_null(strstr(buf, "evil\\u003c/script\\u003e\\u003cb\\u003e"));
	assert_non_null(strstr(buf, "\"scale\":1.5,"));
	assert_non_null(strstr(buf, "\"diff\":true"));
	/* Machine tree: root, main (12 new, 8 base), evil (12, 0), old (0, 8): names sorted. */
	assert_non_null(strstr(buf, "\"machine\":[-1,1,120000000,12,80000000,8,0,2,120000000,12,"
				    "80000000,8,1,0,120000000,12,0,0,2,0,0,0,80000000,8]"));
	free(buf);
	stacks__free(s);
	pprof__profile_free(p1);
	pprof__profile_free(p2);
}

/* One sample of the fixture's two types (samples, cpu) with the values given; locs leaf first. */
static void sample_values(struct fixture *f, const uint64_t *locs, size_t nr, int64_t cnt,
			  int64_t val, const char *comm)
{
	int64_t values[2] = {cnt, val};
	struct pprof_label_desc label = {.key = "comm", .str = comm};

	assert_int_equal(pprof_builder__sample(f->b, locs, nr, values, 2, &label, comm ? 1 : 0), 0);
}

/* A profile of two samples main -> a with the values given, lasting duration ns. */
static pprof_profile_t *two_samples(int64_t cnt, int64_t val1, int64_t val2, int64_t duration)
{
	struct fixture f;
	uint64_t st[2];

	fixture_init(&f);
	st[1] = loc(&f, f.map_bin, 0x401000, "main");
	st[0] = loc(&f, f.map_bin, 0x402000, "a");
	assert_int_equal(pprof_builder__set_time(f.b, 1, duration), 0);
	sample_values(&f, st, 2, cnt, val1, "app");
	sample_values(&f, st, 2, cnt, val2, "app");
	return fixture_profile(&f);
}

/*
 * Values: negative ones are refused (-ERANGE) and so are sums past INT64_MAX
 * (-EOVERFLOW), within one profile or over the profiles of a slot, with the
 * sample that broke the rule named; a refused profile leaves the totals as
 * they were. Two samples of INT64_MAX once gave "Total samples = -2".
 */
static void test_values_refused(void **state)
{
	pprof_profile_t *p = two_samples(1, INT64_MAX, INT64_MAX, 0);
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE);
	const struct stacks_totals *tot = stacks__totals(s, STACKS_NEW);
	size_t idx = 99;
	int64_t v = 0;

	assert_int_equal(stacks__check_values(p, &idx, &v), -EOVERFLOW);
	assert_int_equal(idx, 1);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), -EOVERFLOW);
	assert_int_equal(tot->val, 0);
	assert_int_equal(tot->cnt, 0);
	assert_int_equal(tot->nr_profiles, 0);
	pprof__profile_free(p);

	p = two_samples(1, 7, -5, 0);
	assert_int_equal(stacks__check_values(p, &idx, &v), -ERANGE);
	assert_int_equal(idx, 1);
	assert_int_equal(v, -5);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), -ERANGE);
	pprof__profile_free(p);
	p = two_samples(-1, 7, 8, 0);
	assert_int_equal(stacks__check_values(p, &idx, &v), -ERANGE);
	assert_int_equal(idx, 0);
	assert_int_equal(v, -1);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), -ERANGE);
	pprof__profile_free(p);

	/* Each profile fits, the second one's samples would take the slot past INT64_MAX. */
	p = two_samples(1, INT64_MAX / 2, INT64_MAX / 2, INT64_MAX);
	assert_int_equal(stacks__check_values(p, &idx, &v), 0);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	assert_int_equal(tot->val, INT64_MAX - 1);
	assert_int_equal(tot->cnt, 2);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), -EOVERFLOW);
	assert_int_equal(tot->val, INT64_MAX - 1);
	assert_int_equal(tot->cnt, 2);
	assert_int_equal(tot->nr_profiles, 1);
	pprof__profile_free(p);
	/* The other slot has its own total; durations saturate. */
	p = two_samples(1, 1, 1, INT64_MAX);
	assert_int_equal(stacks__add_profile(s, p, STACKS_BASE), 0);
	assert_int_equal(stacks__add_profile(s, p, STACKS_BASE), 0);
	assert_int_equal(stacks__totals(s, STACKS_BASE)->duration_nanos, INT64_MAX);
	assert_int_equal(stacks__totals(s, STACKS_BASE)->val, 4);
	assert_int_equal(stacks__build(s, 0), 0);
	assert_int_equal(stacks__tree(s, STACKS_TREE_MACHINE)->nodes[0].val[STACKS_NEW],
			 INT64_MAX - 1);
	stacks__free(s);
	pprof__profile_free(p);
	/* z of full shares: no overflow in x1 + x2, n1 + n2. */
	assert_float_equal(stacks__ztest(INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX), 0, 0);
}

/*
 * Recursion counts a location once per appearance in the weight of its
 * lines: main -> r -> r -> r with a value of 2^62 + 10 must not overflow
 * that weight (a negative weight lost r its hottest line), and flat/cum
 * stay exact.
 */
static void test_values_recursion(void **state)
{
	struct fixture f;
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE);
	struct stacks_func_stat *st;
	const struct stacks_func_stat *x;
	pprof_profile_t *p;
	uint64_t locs[4];
	size_t nr;

	fixture_init(&f);
	locs[3] = loc(&f, f.map_bin, 0x401000, "main");
	locs[0] = locs[1] = locs[2] = loc(&f, f.map_bin, 0x404000, "r");
	sample_values(&f, locs, 4, 1, ((int64_t)1 << 62) + 10, "app");
	p = fixture_profile(&f);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	assert_int_equal(stacks__func_stats(s, STACKS_NONE, &st, &nr), 0);
	x = find_stat(s, st, nr, "r");
	assert_int_equal(x->flat_val[STACKS_NEW], ((int64_t)1 << 62) + 10);
	assert_int_equal(x->cum_val[STACKS_NEW], ((int64_t)1 << 62) + 10);
	assert_int_equal(stacks__func(s, x->func)->line, 0x404000);
	free(st);
	stacks__free(s);
	pprof__profile_free(p);
}

/*
 * Samples without any location (an empty pool: UBSan's "applying zero
 * offset to null pointer" in the tree build) still count: at the root of
 * the machine tree, and under one process node per comm in the other.
 */
static void test_no_locations(void **state)
{
	struct fixture f;
	struct stacks *s = stacks__new(STACKS_WANT_MACHINE | STACKS_WANT_BY_COMM);
	const struct stacks_tree *t;
	pprof_profile_t *p;
	char *got;

	fixture_init(&f);
	sample_values(&f, NULL, 0, 2, 20, "app");
	sample_values(&f, NULL, 0, 3, 30, "app");
	sample_values(&f, NULL, 0, 1, 10, "other");
	p = fixture_profile(&f);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	assert_int_equal(stacks__build(s, 0), 0);
	t = stacks__tree(s, STACKS_TREE_MACHINE);
	assert_int_equal(t->nr_nodes, 1);
	assert_int_equal(t->nodes[0].cnt[STACKS_NEW], 6);
	t = stacks__tree(s, STACKS_TREE_BY_COMM);
	assert_int_equal(t->nr_nodes, 3);
	got = folded(s, STACKS_TREE_BY_COMM, STACKS_NEW);
	assert_string_equal(got, "app 5\nother 1\n");
	free(got);
	stacks__free(s);
	pprof__profile_free(p);
}

static void test_ztest(void **state)
{
	/*
	 * 30/1000 vs 60/1000: p = 90/2000 = 0.045,
	 * se = sqrt(0.045 * 0.955 * 0.002) = 0.0092709, z = 0.03 / 0.0092709 = 3.2359.
	 */
	assert_float_equal(stacks__ztest(30, 1000, 60, 1000), 3.2359, 1e-4);
	assert_float_equal(stacks__ztest(60, 1000, 30, 1000), -3.2359, 1e-4);
	/*
	 * 10/200 vs 14/200: p = 0.06, se = sqrt(0.06 * 0.94 * 0.01) = 0.023749,
	 * z = 0.02 / 0.023749 = 0.8422: noise.
	 */
	assert_float_equal(stacks__ztest(10, 200, 14, 200), 0.8422, 1e-4);
	/*
	 * Unequal totals: 50/1000 vs 50/500: p = 100/1500 = 0.066667,
	 * se = sqrt(0.066667 * 0.933333 * 0.003) = 0.013663, z = 0.05 / 0.013663 = 3.6596.
	 */
	assert_float_equal(stacks__ztest(50, 1000, 50, 500), 3.6596, 1e-4);
	assert_float_equal(stacks__ztest(0, 0, 5, 10), 0, 0);
	assert_float_equal(stacks__ztest(10, 10, 10, 10), 0, 0);
}

static void test_format(void **state)
{
	char buf[32];

	assert_string_equal(stacks__format_value(buf, sizeof(buf), 1234567890, "nanoseconds"),
			    "1.23s");
	assert_string_equal(stacks__format_value(buf, sizeof(buf), 45600000, "nanoseconds"),
			    "45.60ms");
	assert_string_equal(stacks__format_value(buf, sizeof(buf), 0, "nanoseconds"), "0");
	assert_string_equal(stacks__format_value(buf, sizeof(buf), 42, "count"), "42");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded),	       cmocka_unit_test(test_flat_cum),
		cmocka_unit_test(test_prune),	       cmocka_unit_test(test_kinds_and_slots),
		cmocka_unit_test(test_unnamed),	       cmocka_unit_test(test_viewer),
		cmocka_unit_test(test_ztest),	       cmocka_unit_test(test_format),
		cmocka_unit_test(test_values_refused), cmocka_unit_test(test_values_recursion),
		cmocka_unit_test(test_no_locations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
