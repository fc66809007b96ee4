// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes, building an unwind table from them (as a raw
 * .eh_frame or .debug_frame section, or as a whole ELF image) either fails
 * with errno set or gives a table whose rows are sorted and strictly
 * increasing, whose lookups at every row boundary and at arbitrary addresses
 * agree with the rows, and over which walks of random stack bytes never
 * crash, hang or read out of bounds, always end with a defined status, and
 * never report more frames than asked for. An ELF image of a Go binary
 * (.gopclntab) gives a table, with or without CFI, whose Go function ranges
 * are non-empty; walks with a goroutine stack (half of them, the same
 * bytes) keep the same properties.
 *
 * Input: byte 0 selects the mode (0: .eh_frame, 1: .debug_frame, 2: ELF
 * image); bytes 1-8 are the section's vaddr, little-endian; the rest is the
 * section (or image). The walked stack is the whole input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unwind.h"
#include "unwind_internal.h"

#define FUZZ_MAX_FRAMES 64
#define FUZZ_HEADER	9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_find(void *ctx, uint64_t ip, struct unwind_mapping *ret)
{
	const struct unwind_table *t = ctx;

	if (!ip)
		return -ENOENT;
	if (ip == 1)
		return -EIO;
	/* Every other address is "mapped" at bias 0: in the table, or frame pointers. */
	ret->table = t;
	ret->bias = 0;
	return 0;
}

static void fuzz_check_rows(const struct unwind_table *t)
{
	struct unwind_rule rule;
	size_t i;

	if (t->nr_go_funcs > UNWIND_GO_MAX_FUNCS)
		abort();
	for (i = 0; i < t->nr_go_funcs; i++)
		if (t->go_funcs[i].end <= t->go_funcs[i].start ||
		    t->go_funcs[i].kind == UNWIND_GO_NONE)
			abort();
	for (i = 0; i < t->nr_rows; i++) {
		if (i && t->rows[i].start <= t->rows[i - 1].start)
			abort();
		if (t->rows[i].cfa > UNWIND_CFA_UNSUPPORTED || t->rows[i].rbp > UNWIND_RBP_LOST)
			abort();
		unwind_table__find(t, t->base + t->rows[i].start, &rule);
		if (rule.start != t->base + t->rows[i].start || rule.end <= rule.start)
			abort();
	}
	if (t->nr_rows && t->rows[t->nr_rows - 1].cfa != UNWIND_CFA_NONE)
		abort();
}

static void fuzz_walks(const struct unwind_table *t, const uint8_t *data, size_t size)
{
	uint64_t ips[FUZZ_MAX_FRAMES], seed = 0;
	uint8_t flags[FUZZ_MAX_FRAMES];
	struct unwind_go_stack go;
	struct unwind_result res;
	struct unwind_regs regs;
	struct unwind_rule rule;
	size_t i;

	memcpy(&seed, data, size < 8 ? size : 8);
	for (i = 0; i < 8; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		regs.rip = t->base +
			   (seed >> 16) % (t->nr_rows ? t->rows[t->nr_rows - 1].start + 16 : 16);
		regs.rsp = 0x7ffd00000000ULL + 8 * (seed & 0xff);
		regs.rbp = regs.rsp + ((seed >> 8) & 0x3ff) - 64;
		unwind_table__find(t, regs.rip, &rule);
		if (rule.start > regs.rip || (rule.end <= regs.rip && rule.end != UINT64_MAX))
			abort();
		/* The goroutine's copy: the same bytes at another address, or g0's own registers. */
		go = (struct unwind_go_stack){
			.regs = {seed >> 20, 0x7ffe00000000ULL + 8 * ((seed >> 4) & 0xff),
				 0x7ffe00000000ULL + 8 * ((seed >> 12) & 0xff)},
			.stack = (seed & 0x30) == 0x30 ? NULL : data,
			.stack_bytes = (seed & 0x30) == 0x30 ? 0 : size,
			.vdso_call = seed & 0x40,
		};
		if (unwind__walk_go(&regs, data, size, seed & 1 ? &go : NULL, fuzz_find, (void *)t,
				    1 + (unsigned int)(seed % FUZZ_MAX_FRAMES), ips, flags, &res))
			abort();
		if (res.nr_frames > FUZZ_MAX_FRAMES || res.status > UNWIND_ERROR ||
		    res.error >= UNWIND_ERR_MAX ||
		    (res.status == UNWIND_ERROR) != (res.error != UNWIND_ERR_NONE))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_table *t;
	uint64_t vaddr = 0;
	int i;

	if (size < FUZZ_HEADER)
		return 0;
	for (i = 0; i < 8; i++)
		vaddr |= (uint64_t)data[1 + i] << (8 * i);
	errno = 0;
	switch (data[0] % 3) {
	case 0:
		t = unwind_table__from_section(UNWIND_SECTION_EH_FRAME, vaddr, data + FUZZ_HEADER,
					       size - FUZZ_HEADER);
		break;
	case 1:
		t = unwind_table__from_section(UNWIND_SECTION_DEBUG_FRAME, vaddr,
					       data + FUZZ_HEADER, size - FUZZ_HEADER);
		break;
	default:
		t = size > FUZZ_HEADER ?
			    unwind_table__from_memory(data + FUZZ_HEADER, size - FUZZ_HEADER) :
			    NULL;
		break;
	}
	if (!t) {
		if (size > FUZZ_HEADER && !errno)
			abort();
		return 0;
	}
	fuzz_check_rows(t);
	fuzz_walks(t, data, size);
	unwind_table__free(t);
	return 0;
}
