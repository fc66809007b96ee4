// SPDX-License-Identifier: MIT
/*
 * Unit tests of unwind/'s Go stack switches, on hand-made stacks: a table
 * with no CFI rows (frame pointers, as in Go code) and the Go runtime's
 * functions at made-up addresses, a g0 stack copy and a goroutine stack
 * copy. Checks that the walk crosses runtime.systemstack (caller read from
 * g.sched.sp), mcall (g.sched.pc) and a vDSO call of nanotime1 into the
 * goroutine's copy, ends at runtime.goexit / runtime.mstart as complete, and
 * stops at the switch, without a frame above it, when the goroutine's stack
 * is missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unwind_internal.h"

/* Made-up text addresses (identity bias): each function is 0x100 bytes. */
#define FN_LEAF	       0x1000 /* runs on g0 (the systemstack callback) */
#define FN_SYSTEMSTACK 0x2000
#define FN_CALLER      0x3000 /* calls systemstack on the goroutine */
#define FN_OUTER       0x4000
#define FN_GOEXIT      0x5000
#define FN_MCALL       0x6000
#define FN_MSTART      0x7000
#define FN_NANOTIME1   0x8000
#define FN_VDSO	       0x9000 /* outside the Go binary: no table */

#define G0_BASE 0x100000 /* g0 stack copy starts here */
#define G_BASE	0x200000 /* goroutine stack copy starts here */

struct go_fixture {
	struct unwind_table *table;
	uint64_t g0[64];
	uint64_t g[64];
};

static int go_find(void *ctx, uint64_t ip, struct unwind_mapping *ret)
{
	struct go_fixture *f = ctx;

	if (ip < FN_LEAF || ip >= FN_VDSO + 0x100)
		return -ENOENT;
	ret->table = ip >= FN_VDSO ? NULL : f->table;
	ret->bias = 0;
	return 0;
}

static void go_add(struct unwind_table *t, uint64_t start, enum unwind_go_kind kind)
{
	t->go_funcs[t->nr_go_funcs++] = (struct unwind_go_func){start, start + 0x100, kind};
}

static int setup(void **state)
{
	struct go_fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->table = calloc(1, sizeof(*f->table));
	if (!f->table) {
		free(f);
		return -1;
	}
	go_add(f->table, FN_SYSTEMSTACK, UNWIND_GO_SYSTEMSTACK);
	go_add(f->table, FN_GOEXIT, UNWIND_GO_TOP);
	go_add(f->table, FN_MCALL, UNWIND_GO_SWITCH_PC);
	go_add(f->table, FN_MSTART, UNWIND_GO_TOP);
	go_add(f->table, FN_NANOTIME1, UNWIND_GO_VDSO);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct go_fixture *f = *state;

	unwind_table__free(f->table);
	free(f);
	return 0;
}

/* Walks f's g0 copy from regs with go; the walk itself must succeed. */
static void go_walk(struct go_fixture *f, const struct unwind_regs *regs,
		    const struct unwind_go_stack *go, uint64_t *ips, uint8_t *flags,
		    struct unwind_result *res)
{
	assert_int_equal(
		unwind__walk_go(regs, f->g0, sizeof(f->g0), go, go_find, f, 16, ips, flags, res),
		0);
}

/* The walk ended with status and exactly the frames want (leaf first). */
static void go_expect(const struct unwind_result *res, enum unwind_status status,
		      const uint64_t *ips, const uint64_t *want, size_t nr)
{
	size_t i;

	assert_int_equal(res->status, status);
	assert_int_equal(res->nr_frames, nr);
	for (i = 0; i < nr; i++)
		assert_int_equal(ips[i], want[i]);
}

/* Word i of the g0 copy, as an address. */
#define G0(i) (G0_BASE + 8 * (i))
#define G(i)  (G_BASE + 8 * (i))

/*
 * g0: the leaf's frame record at G0(2) -> goroutine rbp G(4), return into
 * systemstack; above it, a stale return address into FN_MSTART as the old
 * walk would have read. Goroutine: g.sched.sp = G(0) holds the return into
 * FN_CALLER; FN_CALLER's record at G(4) -> G(8), return into FN_OUTER; FN_OUTER's
 * record at G(8) -> 0, return to goexit + 1.
 */
static void go_systemstack_stacks(struct go_fixture *f)
{
	memset(f->g0, 0, sizeof(f->g0));
	memset(f->g, 0, sizeof(f->g));
	f->g0[2] = G(4);
	f->g0[3] = FN_SYSTEMSTACK + 0x50;
	f->g0[4] = FN_MSTART + 0x20;
	f->g[0] = FN_CALLER + 0x30;
	f->g[4] = G(8);
	f->g[5] = FN_OUTER + 0x40;
	f->g[8] = 0;
	f->g[9] = FN_GOEXIT + 1;
}

static void test_systemstack_to_goexit(void **state)
{
	struct go_fixture *f = *state;
	struct unwind_regs regs = {FN_LEAF + 0x10, G0_BASE, G0(2)};
	struct unwind_go_stack go = {
		.regs = {0xdead /* the fake systemstack_switch pc */, G(0), G(4)},
		.stack = f->g,
		.stack_bytes = sizeof(f->g),
	};
	const uint64_t want[] = {FN_LEAF + 0x10, FN_SYSTEMSTACK + 0x50, FN_CALLER + 0x30,
				 FN_OUTER + 0x40, FN_GOEXIT + 1};
	struct unwind_result res;
	uint64_t ips[16];
	uint8_t flags[16];
	size_t i;

	go_systemstack_stacks(f);
	go_walk(f, &regs, &go, ips, flags, &res);
	go_expect(&res, UNWIND_COMPLETE, ips, want, 5);
	for (i = 0; i < res.nr_frames; i++)
		assert_int_equal(flags[i], i ? UNWIND_FRAME_RETURN_ADDRESS : 0);
}

static void test_systemstack_without_goroutine_stops(void **state)
{
	struct go_fixture *f = *state;
	struct unwind_regs regs = {FN_LEAF + 0x10, G0_BASE, G0(2)};
	const uint64_t want[] = {FN_LEAF + 0x10, FN_SYSTEMSTACK + 0x50};
	struct unwind_result res;
	uint64_t ips[16];

	go_systemstack_stacks(f);
	/* Nothing read from above the switch: the stack ends at systemstack. */
	go_walk(f, &regs, NULL, ips, NULL, &res);
	go_expect(&res, UNWIND_ERROR, ips, want, 2);
	assert_int_equal(res.error, UNWIND_ERR_GO_SWITCH);
	/* unwind__walk() is the same walk without a goroutine. */
	assert_int_equal(unwind__walk(&regs, f->g0, sizeof(f->g0), go_find, f, 16, ips, NULL, &res),
			 0);
	go_expect(&res, UNWIND_ERROR, ips, want, 2);
	assert_int_equal(res.error, UNWIND_ERR_GO_SWITCH);
}

/*
 * mcall: the scheduler's frame on g0 returns into mcall. With the
 * goroutine's g.sched, its pc (the return into FN_CALLER) is the next frame;
 * with g0's own (no goroutine), the walk goes on in the same copy to
 * mstart.
 */
static void test_mcall(void **state)
{
	struct go_fixture *f = *state;
	struct unwind_regs regs = {FN_LEAF + 0x10, G0_BASE, G0(2)};
	struct unwind_go_stack go = {
		.regs = {FN_CALLER + 0x30, G(2), G(4)},
		.stack = f->g + 2, /* copied from the saved sp up */
		.stack_bytes = sizeof(f->g) - 16,
	};
	struct unwind_go_stack own = {.regs = {FN_MSTART + 0x20, G0(6), 0}};
	const uint64_t want[] = {FN_LEAF + 0x10, FN_MCALL + 0x40, FN_CALLER + 0x30, FN_OUTER + 0x40,
				 FN_GOEXIT + 1};
	const uint64_t want_own[] = {FN_LEAF + 0x10, FN_MCALL + 0x40, FN_MSTART + 0x20};
	const uint64_t want_stop[] = {FN_LEAF + 0x10, FN_SYSTEMSTACK + 0x50};
	struct unwind_result res;
	uint64_t ips[16];

	memset(f->g0, 0, sizeof(f->g0));
	memset(f->g, 0, sizeof(f->g));
	f->g0[2] = 0x4242; /* whatever rbp the scheduler's caller had */
	f->g0[3] = FN_MCALL + 0x40;
	f->g[4] = G(8);
	f->g[5] = FN_OUTER + 0x40;
	f->g[9] = FN_GOEXIT + 1;
	go_walk(f, &regs, &go, ips, NULL, &res);
	go_expect(&res, UNWIND_COMPLETE, ips, want, 5);
	go_walk(f, &regs, &own, ips, NULL, &res);
	go_expect(&res, UNWIND_COMPLETE, ips, want_own, 3);
	/* g0's own registers never continue a systemstack frame: that needs a goroutine. */
	f->g0[3] = FN_SYSTEMSTACK + 0x50;
	go_walk(f, &regs, &own, ips, NULL, &res);
	go_expect(&res, UNWIND_ERROR, ips, want_stop, 2);
	assert_int_equal(res.error, UNWIND_ERR_GO_SWITCH);
}

/*
 * nanotime1 calls the vDSO on g0's stack: the vDSO leaf (no table: its
 * frame record at G0(0)) returns into nanotime1, whose rbp points at the
 * goroutine's stack. With vdso_call, the walk takes m.vdsoPC/vdsoSP; on g0
 * (a g.sched goroutine, not vdso_call) nanotime1 is a plain frame-pointer
 * frame.
 */
static void test_nanotime1_vdso(void **state)
{
	struct go_fixture *f = *state;
	struct unwind_regs regs = {FN_VDSO + 0x10, G0_BASE, G0(0)};
	struct unwind_go_stack go = {
		.regs = {FN_OUTER + 0x40, G(2), G(8)},
		.stack = f->g + 2,
		.stack_bytes = sizeof(f->g) - 16,
		.vdso_call = true,
	};
	const uint64_t want[] = {FN_VDSO + 0x10, FN_NANOTIME1 + 0x60, FN_OUTER + 0x40,
				 FN_GOEXIT + 1};
	const uint64_t want_g0[] = {FN_VDSO + 0x10, FN_NANOTIME1 + 0x60, FN_OUTER + 0x40,
				    FN_MSTART + 0x20};
	struct unwind_result res;
	uint64_t ips[16];

	memset(f->g0, 0, sizeof(f->g0));
	memset(f->g, 0, sizeof(f->g));
	f->g0[0] = G(0);
	f->g0[1] = FN_NANOTIME1 + 0x60;
	f->g[9] = FN_GOEXIT + 1;
	go_walk(f, &regs, &go, ips, NULL, &res);
	go_expect(&res, UNWIND_COMPLETE, ips, want, 4);
	/* On g0: nanotime1's frame record is in the same copy, at G0(4). */
	go.vdso_call = false;
	f->g0[0] = G0(4);
	f->g0[4] = G0(8);
	f->g0[5] = FN_OUTER + 0x40;
	f->g0[9] = FN_MSTART + 0x20;
	go_walk(f, &regs, &go, ips, NULL, &res);
	go_expect(&res, UNWIND_COMPLETE, ips, want_g0, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemstack_to_goexit),
		cmocka_unit_test(test_systemstack_without_goroutine_stops),
		cmocka_unit_test(test_mcall),
		cmocka_unit_test(test_nanotime1_vdso),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
