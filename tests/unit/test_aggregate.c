// SPDX-License-Identifier: MIT
/* Unit tests of profiler/aggregate.c and profiler/proctable.c (no root). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aggregate.h"
#include "proctable.h"

static struct agg_key make_key(uint32_t pid, uint32_t tid, uint16_t nk, uint16_t nu)
{
	struct agg_key k;

	memset(&k, 0, sizeof(k));
	k.pid = pid;
	k.tid = tid;
	strcpy(k.comm, "proc");
	strcpy(k.thread, "thr");
	k.nr_kernel = nk;
	k.nr_user = nu;
	return k;
}

static int sum_counts(const struct agg_entry *e, void *ctx)
{
	*(uint64_t *)ctx += e->count;
	return 0;
}

static void test_identical_stacks_merge(void **state)
{
	uint64_t ks[2] = {0xffffffff81000000ULL, 0xffffffff81000100ULL};
	uint64_t us[3] = {0x401000, 0x401100, 0x401200};
	struct aggregate *a = aggregate__new(1 << 20);
	struct agg_key k = make_key(10, 11, 2, 3);
	struct agg_stats st;
	uint64_t total = 0;

	assert_non_null(a);
	assert_int_equal(aggregate__add(a, &k, ks, us, 1), 0);
	assert_int_equal(aggregate__add(a, &k, ks, us, 2), 0);
	aggregate__stats(a, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.samples, 3);

	/* Another thread, another user frame, fewer kernel frames: all distinct. */
	k.tid = 12;
	assert_int_equal(aggregate__add(a, &k, ks, us, 1), 0);
	k = make_key(10, 11, 2, 3);
	us[2] = 0x401300;
	assert_int_equal(aggregate__add(a, &k, ks, us, 1), 0);
	k = make_key(10, 11, 1, 3);
	assert_int_equal(aggregate__add(a, &k, ks, us, 1), 0);
	aggregate__stats(a, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(aggregate__for_each(a, sum_counts, &total), 0);
	assert_int_equal(total, 6);
	aggregate__free(a);
}

static void test_growth_keeps_every_stack(void **state)
{
	struct aggregate *a = aggregate__new(64 << 20);
	struct agg_stats st;
	uint64_t us[1], total = 0;
	struct agg_key k = make_key(1, 1, 0, 1);
	unsigned int i;

	assert_non_null(a);
	for (i = 0; i < 50000; i++) {
		us[0] = 0x400000 + i;
		assert_int_equal(aggregate__add(a, &k, NULL, us, 1), 0);
	}
	for (i = 0; i < 50000; i += 7) {
		us[0] = 0x400000 + i;
		assert_int_equal(aggregate__add(a, &k, NULL, us, 1), 0);
	}
	aggregate__stats(a, &st);
	assert_int_equal(st.entries, 50000);
	assert_int_equal(aggregate__for_each(a, sum_counts, &total), 0);
	assert_int_equal(total, 50000 + (50000 + 6) / 7);
	aggregate__free(a);
}

static void test_cap_counts_dropped(void **state)
{
	struct aggregate *a = aggregate__new(16 * 1024);
	struct agg_key k = make_key(1, 1, 0, 100);
	uint64_t us[100] = {};
	struct agg_stats st;
	unsigned int i, refused = 0;

	assert_non_null(a);
	for (i = 0; i < 100; i++) {
		us[0] = i;
		if (aggregate__add(a, &k, NULL, us, 1) == -ENOSPC)
			refused++;
	}
	aggregate__stats(a, &st);
	assert_true(refused > 0);
	assert_int_equal(st.dropped, refused);
	assert_true(st.bytes <= 16 * 1024);
	/* A stack already present still counts when the table is full. */
	us[0] = 0;
	assert_int_equal(aggregate__add(a, &k, NULL, us, 5), 0);
	aggregate__free(a);
}

static void test_proctable_lru_eviction(void **state)
{
	struct proctable *t = proctable__new(3);
	struct proctable_stats st;
	struct proc_entry *e;
	bool is_new;

	assert_non_null(t);
	e = proctable__get(t, 100, 1, &is_new);
	assert_true(e && is_new && e->pid == 100);
	assert_non_null(proctable__get(t, 200, 1, &is_new));
	assert_non_null(proctable__get(t, 300, 1, &is_new));
	/* Touch 100 so that 200 is the least recently used. */
	e = proctable__get(t, 100, 1, &is_new);
	assert_false(is_new);
	assert_non_null(proctable__get(t, 400, 1, &is_new));
	assert_true(is_new);
	assert_null(proctable__find(t, 200, 1));
	assert_non_null(proctable__find(t, 100, 1));
	assert_non_null(proctable__find(t, 300, 1));
	assert_non_null(proctable__find(t, 400, 1));
	proctable__stats(t, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.added, 4);
	assert_int_equal(st.evicted, 1);
	/* Another generation of the same pid is another process. */
	e = proctable__get(t, 100, 2, &is_new);
	assert_true(e && is_new);
	e->exited = true;
	e->exit_ns = 1000;
	assert_int_equal(proctable__reap(t, 999), 0);
	assert_int_equal(proctable__reap(t, 1001), 1);
	assert_null(proctable__find(t, 100, 2));
	assert_non_null(proctable__find(t, 100, 1));
	proctable__free(t);
	proctable__free(NULL);
	aggregate__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_stacks_merge),
		cmocka_unit_test(test_growth_keeps_every_stack),
		cmocka_unit_test(test_cap_counts_dropped),
		cmocka_unit_test(test_proctable_lru_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
