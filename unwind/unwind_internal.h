/* SPDX-License-Identifier: MIT */
/* unwind: the table layout, shared by cfi.c (builder) and unwind.c (walker). */
#ifndef SMOLDER_UNWIND_INTERNAL_H
#define SMOLDER_UNWIND_INTERNAL_H

#include <libelf.h>

#include "unwind.h"

/*
 * One row: the rule from start to the next row's start. 12 bytes. Rows are
 * sorted by start, and no two neighbours carry the same rule. Gaps between
 * FDEs are rows of UNWIND_CFA_NONE; the last row is always one.
 */
struct unwind_row {
	uint32_t start; /* offset from unwind_table.base */
	int32_t cfa_off;
	int16_t rbp_off; /* UNWIND_CFA_PLT rows: the rip & 15 threshold (rbp is unchanged) */
	uint8_t cfa; /* enum unwind_cfa_rule */
	uint8_t rbp; /* enum unwind_rbp_rule */
};

#define UNWIND_MAX_SEGMENTS 16

/* A PT_LOAD segment of the file the table came from. */
struct unwind_segment {
	uint64_t offset; /* p_offset */
	uint64_t filesz; /* p_filesz */
	uint64_t vaddr; /* p_vaddr */
};

/* What a Go runtime function means to the walker (gostack.c). */
enum unwind_go_kind {
	UNWIND_GO_NONE = 0,
	UNWIND_GO_SYSTEMSTACK, /* runtime.systemstack: g.sched.sp holds the return address */
	UNWIND_GO_SWITCH_PC, /* mcall, morestack: g.sched.pc is the caller's pc */
	UNWIND_GO_TOP, /* runtime.goexit, runtime.mstart: the outermost frame */
	UNWIND_GO_BEFORE_SWITCH, /* gosave_systemstack_switch: its callers are not switched yet */
	UNWIND_GO_VDSO, /* nanotime1, walltime, time.now: the vDSO on g0's stack, from a goroutine */
};

#define UNWIND_GO_MAX_FUNCS 12

struct unwind_go_func {
	uint64_t start; /* ELF vaddr */
	uint64_t end;
	enum unwind_go_kind kind;
};

struct unwind_table {
	uint64_t base; /* ELF vaddr of the first row */
	struct unwind_row *rows;
	size_t nr_rows;
	struct unwind_segment segments[UNWIND_MAX_SEGMENTS];
	size_t nr_segments;
	struct unwind_go_func go_funcs[UNWIND_GO_MAX_FUNCS]; /* a Go binary's stack switches */
	size_t nr_go_funcs;
	bool go; /* the file is a Go binary (it has .gopclntab) */
};

/* The row covering elf_addr, or NULL when the address is outside the table. */
const struct unwind_row *unwind_table__row(const struct unwind_table *t, uint64_t elf_addr);

/*
 * Fills t's go_funcs from the .symtab of elf when elf is a Go binary (it has
 * .gopclntab). Returns true when it is one.
 */
bool unwind_go__read_funcs(Elf *elf, struct unwind_table *t);
/* What the Go function at elf_addr is; UNWIND_GO_NONE outside Go binaries. */
enum unwind_go_kind unwind_go__kind(const struct unwind_table *t, uint64_t elf_addr);

#endif /* SMOLDER_UNWIND_INTERNAL_H */
