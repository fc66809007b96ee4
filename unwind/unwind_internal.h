/* SPDX-License-Identifier: MIT */
/* unwind: the table layout, shared by cfi.c (builder) and unwind.c (walker). */
#ifndef SMOLDER_UNWIND_INTERNAL_H
#define SMOLDER_UNWIND_INTERNAL_H

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

struct unwind_table {
	uint64_t base; /* ELF vaddr of the first row */
	struct unwind_row *rows;
	size_t nr_rows;
	struct unwind_segment segments[UNWIND_MAX_SEGMENTS];
	size_t nr_segments;
};

/* The row covering elf_addr, or NULL when the address is outside the table. */
const struct unwind_row *unwind_table__row(const struct unwind_table *t, uint64_t elf_addr);

#endif /* SMOLDER_UNWIND_INTERNAL_H */
