// SPDX-License-Identifier: MIT
/*
 * CFI to unwind table.
 *
 * The .eh_frame and .debug_frame sections are parsed here, by hand, once per
 * file: every CIE of a section first (each one's initial instructions run
 * once, giving its initial state), then every FDE. FDEs are sorted by start
 * address; .eh_frame wins over .debug_frame, and an FDE overlapping one
 * already kept is dropped. Each kept FDE's instructions then run from its
 * CIE's initial state, and every location advance emits a row: the CFA rule,
 * the rbp rule, and nothing else (the walker only tracks rip, rsp and rbp).
 * Rows that repeat the previous rule are not stored, and gaps between FDEs
 * get an UNWIND_CFA_NONE row, so the table is a sorted array of 12-byte rows
 * searched by start address.
 *
 * Invariants: rows are sorted, strictly increasing in start, relative to a
 * 64-bit base, and all starts fit in 32 bits (FDEs reaching beyond 4 GiB of
 * the first one are dropped). Every read of section data is bounds checked
 * through struct cfi_cursor: corrupt input gives unsupported rows or an
 * error, never a read outside the section. Work is linear in the input: CIE
 * initial instructions run once per CIE, not once per FDE.
 *
 * .eh_frame_hdr is not used: the whole .eh_frame is turned into a table, for
 * which a linear scan is all that is needed.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "unwind_internal.h"

/* Pointer encodings (LSB / DWARF 4 for .eh_frame). */
#define DW_EH_PE_absptr	 0x00
#define DW_EH_PE_uleb128 0x01
#define DW_EH_PE_udata2	 0x02
#define DW_EH_PE_udata4	 0x03
#define DW_EH_PE_udata8	 0x04
#define DW_EH_PE_sleb128 0x09
#define DW_EH_PE_sdata2	 0x0a
#define DW_EH_PE_sdata4	 0x0b
#define DW_EH_PE_sdata8	 0x0c
#define DW_EH_PE_pcrel	 0x10
#define DW_EH_PE_omit	 0xff

/* Call frame instructions (DWARF 5 section 6.4.2, GNU extensions). */
#define DW_CFA_advance_loc	  0x40
#define DW_CFA_offset		  0x80
#define DW_CFA_restore		  0xc0
#define DW_CFA_nop		  0x00
#define DW_CFA_set_loc		  0x01
#define DW_CFA_advance_loc1	  0x02
#define DW_CFA_advance_loc2	  0x03
#define DW_CFA_advance_loc4	  0x04
#define DW_CFA_offset_extended	  0x05
#define DW_CFA_restore_extended	  0x06
#define DW_CFA_undefined	  0x07
#define DW_CFA_same_value	  0x08
#define DW_CFA_register		  0x09
#define DW_CFA_remember_state	  0x0a
#define DW_CFA_restore_state	  0x0b
#define DW_CFA_def_cfa		  0x0c
#define DW_CFA_def_cfa_register	  0x0d
#define DW_CFA_def_cfa_offset	  0x0e
#define DW_CFA_def_cfa_expression 0x0f
#define DW_CFA_expression	  0x10
#define DW_CFA_offset_extended_sf 0x11
#define DW_CFA_def_cfa_sf	  0x12
#define DW_CFA_def_cfa_offset_sf  0x13
#define DW_CFA_val_offset	  0x14
#define DW_CFA_val_offset_sf	  0x15
#define DW_CFA_val_expression	  0x16
#define DW_CFA_GNU_args_size	  0x2e
#define DW_CFA_GNU_neg_offset_ext 0x2f

/* DWARF expression opcodes of the patterns recognised. */
#define DW_OP_deref  0x06
#define DW_OP_and    0x1a
#define DW_OP_plus   0x22
#define DW_OP_shl    0x24
#define DW_OP_ge     0x2a
#define DW_OP_lit0   0x30
#define DW_OP_lit3   0x33
#define DW_OP_lit15  0x3f
#define DW_OP_breg6  0x76
#define DW_OP_breg7  0x77
#define DW_OP_breg16 0x80

/* x86_64 DWARF register numbers (psABI figure 3.36). */
#define CFI_REG_RBP 6
#define CFI_REG_RSP 7
#define CFI_REG_RA  16

#define CFI_STATE_STACK_MAX 16 /* remember_state depth; deeper: rest unsupported */

enum cfi_cfa_kind {
	CFI_CFA_UNDEF = 0,
	CFI_CFA_REG,
	CFI_CFA_PLT,
	CFI_CFA_RBP_DEREF,
	CFI_CFA_BAD
};
enum cfi_ra_kind {
	CFI_RA_OTHER = 0,
	CFI_RA_AT_CFA,
	CFI_RA_UNDEF
};

struct cfi_state {
	uint8_t cfa_kind; /* enum cfi_cfa_kind */
	uint8_t plt_threshold;
	uint8_t rbp; /* enum unwind_rbp_rule */
	uint8_t ra; /* enum cfi_ra_kind */
	uint64_t cfa_reg;
	int64_t cfa_off;
	int64_t rbp_off;
	int64_t ra_off;
};

struct cfi_section {
	enum unwind_section_kind kind;
	uint64_t vaddr;
	const uint8_t *data;
	size_t size;
};

struct cfi_cursor {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
};

struct cfi_cie {
	size_t offset; /* in its section: what FDEs refer to */
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	uint8_t address_size;
	bool has_aug_data; /* 'z' */
	bool signal; /* 'S' */
	bool usable; /* parsed, and the return address column is rip */
	struct cfi_state initial;
};

struct cfi_fde {
	uint64_t start;
	uint64_t end;
	const uint8_t *insns;
	size_t insns_len;
	const struct cfi_cie *cie;
	const struct cfi_section *sec;
};

struct cfi_builder {
	uint64_t base;
	struct unwind_row *rows;
	size_t nr_rows;
	size_t cap_rows;
	int err;
};

struct cfi_run {
	const struct cfi_cie *cie;
	const struct cfi_section *sec;
	struct cfi_builder *b; /* NULL while running CIE initial instructions */
	struct cfi_state st;
	struct cfi_state stack[CFI_STATE_STACK_MAX];
	unsigned int depth;
	uint64_t loc;
	uint64_t end;
};

static uint64_t cur_fixed(struct cfi_cursor *c, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static uint64_t cur_uleb(struct cfi_cursor *c)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t byte;

	do {
		if (c->bad || c->p >= c->end) {
			c->bad = true;
			return 0;
		}
		byte = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(byte & 0x7f) << shift;
		shift += 7;
	} while (byte & 0x80);
	return v;
}

static int64_t cur_sleb(struct cfi_cursor *c)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t byte;

	do {
		if (c->bad || c->p >= c->end) {
			c->bad = true;
			return 0;
		}
		byte = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(byte & 0x7f) << shift;
		shift += 7;
	} while (byte & 0x80);
	if (shift < 64 && (byte & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

static void cur_skip(struct cfi_cursor *c, uint64_t n)
{
	if (c->bad || (uint64_t)(c->end - c->p) < n) {
		c->bad = true;
		return;
	}
	c->p += n;
}

/* Reads a pointer of encoding enc; pc-relative values are relative to the field's vaddr. */
static uint64_t cur_encoded(struct cfi_cursor *c, uint8_t enc, const struct cfi_section *sec)
{
	uint64_t field_vaddr = sec->vaddr + (uint64_t)(c->p - sec->data);
	uint64_t v;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		v = cur_fixed(c, 8);
		break;
	case DW_EH_PE_uleb128:
		v = cur_uleb(c);
		break;
	case DW_EH_PE_udata2:
		v = cur_fixed(c, 2);
		break;
	case DW_EH_PE_udata4:
		v = cur_fixed(c, 4);
		break;
	case DW_EH_PE_sleb128:
		v = (uint64_t)cur_sleb(c);
		break;
	case DW_EH_PE_sdata2:
		v = (uint64_t)(int64_t)(int16_t)cur_fixed(c, 2);
		break;
	case DW_EH_PE_sdata4:
		v = (uint64_t)(int64_t)(int32_t)cur_fixed(c, 4);
		break;
	default:
		c->bad = true;
		return 0;
	}
	/* Bit 0x80 (indirect) only appears on personality pointers, never dereferenced here. */
	switch (enc & 0x70) {
	case 0:
		break;
	case DW_EH_PE_pcrel:
		v += field_vaddr;
		break;
	default:
		/* textrel, datarel, funcrel, aligned: not emitted for FDEs on x86_64. */
		c->bad = true;
		return 0;
	}
	return v;
}

/* One CIE or FDE: its body and, for FDEs, the offset of its CIE. */
struct cfi_entry {
	size_t offset;
	size_t next; /* offset of the following entry */
	bool terminator;
	bool is_cie;
	size_t cie_offset;
	struct cfi_cursor body; /* after the id field */
};

static int cfi_entry_read(const struct cfi_section *sec, size_t offset, struct cfi_entry *ret)
{
	struct cfi_cursor c = {sec->data + offset, sec->data + sec->size, false};
	uint64_t length, id, id_offset;
	bool dwarf64 = false;
	const uint8_t *body;

	memset(ret, 0, sizeof(*ret));
	ret->offset = offset;
	length = cur_fixed(&c, 4);
	if (length == 0xffffffff) {
		length = cur_fixed(&c, 8);
		dwarf64 = true;
	}
	if (c.bad)
		return -EINVAL;
	if (length == 0) {
		ret->terminator = sec->kind == UNWIND_SECTION_EH_FRAME;
		ret->next = (size_t)(c.p - sec->data);
		return 0;
	}
	if (length > (uint64_t)(c.end - c.p))
		return -EINVAL;
	body = c.p;
	ret->next = (size_t)(body - sec->data) + length;
	c.end = body + length;
	id_offset = (uint64_t)(c.p - sec->data);
	id = cur_fixed(&c, dwarf64 ? 8 : 4);
	if (c.bad)
		return -EINVAL;
	if (sec->kind == UNWIND_SECTION_EH_FRAME) {
		ret->is_cie = id == 0;
		/* The CIE pointer counts back from the id field itself. */
		if (!ret->is_cie) {
			if (id > id_offset)
				return -EINVAL;
			ret->cie_offset = (size_t)(id_offset - id);
		}
	} else {
		ret->is_cie = dwarf64 ? id == ~(uint64_t)0 : id == 0xffffffff;
		if (!ret->is_cie) {
			if (id >= sec->size)
				return -EINVAL;
			ret->cie_offset = (size_t)id;
		}
	}
	ret->body = c;
	return 0;
}

static void cfi_set_reg(struct cfi_state *st, uint64_t reg, int kind_rbp, int kind_ra, int64_t off)
{
	if (reg == CFI_REG_RBP) {
		st->rbp = (uint8_t)kind_rbp;
		st->rbp_off = off;
	} else if (reg == CFI_REG_RA) {
		st->ra = (uint8_t)kind_ra;
		st->ra_off = off;
	}
}

static void cfi_restore_reg(struct cfi_run *r, uint64_t reg)
{
	const struct cfi_state *init = &r->cie->initial;

	if (reg == CFI_REG_RBP) {
		r->st.rbp = init->rbp;
		r->st.rbp_off = init->rbp_off;
	} else if (reg == CFI_REG_RA) {
		r->st.ra = init->ra;
		r->st.ra_off = init->ra_off;
	}
}

/* Recognises the two CFA expressions that matter; anything else is CFI_CFA_BAD. */
static void cfi_cfa_expression(struct cfi_state *st, const uint8_t *expr, size_t len)
{
	struct cfi_cursor c = {expr, expr + len, false};
	int64_t off;
	uint8_t op;

	st->cfa_kind = CFI_CFA_BAD;
	op = (uint8_t)cur_fixed(&c, 1);
	off = cur_sleb(&c);
	if (c.bad || off < INT32_MIN || off > INT32_MAX)
		return;
	if (op == DW_OP_breg6) {
		/* gcc's stack-realigned functions: DW_OP_breg6 (rbp) N; DW_OP_deref */
		if (cur_fixed(&c, 1) == DW_OP_deref && !c.bad && c.p == c.end) {
			st->cfa_kind = CFI_CFA_RBP_DEREF;
			st->cfa_off = off;
		}
		return;
	}
	if (op != DW_OP_breg7)
		return;
	/*
	 * PLT entries (binutils): breg7 (rsp) N; breg16 (rip) 0; lit15; and;
	 * litK; ge; lit3; shl; plus: rsp + N, plus 8 once the entry has pushed
	 * its relocation index, i.e. from byte K of the 16-byte entry on.
	 */
	if (cur_fixed(&c, 1) != DW_OP_breg16 || cur_sleb(&c) != 0 ||
	    cur_fixed(&c, 1) != DW_OP_lit15 || cur_fixed(&c, 1) != DW_OP_and)
		return;
	op = (uint8_t)cur_fixed(&c, 1);
	if (op < DW_OP_lit0 || op > DW_OP_lit15)
		return;
	if (cur_fixed(&c, 1) != DW_OP_ge || cur_fixed(&c, 1) != DW_OP_lit3 ||
	    cur_fixed(&c, 1) != DW_OP_shl || cur_fixed(&c, 1) != DW_OP_plus || c.bad ||
	    c.p != c.end)
		return;
	st->cfa_kind = CFI_CFA_PLT;
	st->cfa_off = off;
	st->plt_threshold = (uint8_t)(op - DW_OP_lit0);
}

/* "rbp is saved at rbp + off": DW_OP_breg6 (rbp) off, gcc's stack-realigned functions. */
static bool cfi_rbp_expression(const uint8_t *expr, size_t len, int64_t *ret_off)
{
	struct cfi_cursor c = {expr, expr + len, false};
	int64_t off;

	if (cur_fixed(&c, 1) != DW_OP_breg6)
		return false;
	off = cur_sleb(&c);
	if (c.bad || c.p != c.end)
		return false;
	*ret_off = off;
	return true;
}

static void cfi_state_to_row(const struct cfi_state *st, bool signal, struct unwind_row *row)
{
	memset(row, 0, sizeof(*row));
	if (signal) {
		row->cfa = UNWIND_CFA_SIGNAL;
		return;
	}
	if (st->ra == CFI_RA_UNDEF) {
		row->cfa = UNWIND_CFA_END;
		return;
	}
	/* The walker reads the return address at CFA - 8 and nowhere else. */
	if (st->ra != CFI_RA_AT_CFA || st->ra_off != -8) {
		row->cfa = UNWIND_CFA_UNSUPPORTED;
		return;
	}
	switch (st->cfa_kind) {
	case CFI_CFA_REG:
		if (st->cfa_off < INT32_MIN || st->cfa_off > INT32_MAX)
			row->cfa = UNWIND_CFA_UNSUPPORTED;
		else if (st->cfa_reg == CFI_REG_RSP)
			row->cfa = UNWIND_CFA_RSP;
		else if (st->cfa_reg == CFI_REG_RBP)
			row->cfa = UNWIND_CFA_RBP;
		else
			row->cfa = UNWIND_CFA_UNSUPPORTED;
		row->cfa_off = (int32_t)st->cfa_off;
		break;
	case CFI_CFA_RBP_DEREF:
		row->cfa = UNWIND_CFA_RBP_DEREF;
		row->cfa_off = (int32_t)st->cfa_off;
		break;
	case CFI_CFA_PLT:
		row->cfa = UNWIND_CFA_PLT;
		row->cfa_off = (int32_t)st->cfa_off;
		row->rbp_off = st->plt_threshold;
		return;
	default:
		row->cfa = UNWIND_CFA_UNSUPPORTED;
		break;
	}
	if (row->cfa == UNWIND_CFA_UNSUPPORTED) {
		row->cfa_off = 0;
		return;
	}
	row->rbp = st->rbp;
	if (st->rbp == UNWIND_RBP_AT_CFA || st->rbp == UNWIND_RBP_AT_RBP) {
		if (st->rbp_off < INT16_MIN || st->rbp_off > INT16_MAX)
			row->rbp = UNWIND_RBP_LOST;
		else
			row->rbp_off = (int16_t)st->rbp_off;
	}
}

static bool cfi_row_same_rule(const struct unwind_row *a, const struct unwind_row *b)
{
	return a->cfa == b->cfa && a->cfa_off == b->cfa_off && a->rbp == b->rbp &&
	       a->rbp_off == b->rbp_off;
}

/* Appends a row at addr (never below the last one); merges equal neighbours. */
static void cfi_push(struct cfi_builder *b, uint64_t addr, const struct unwind_row *rule)
{
	uint32_t start = (uint32_t)(addr - b->base);
	struct unwind_row *rows;
	size_t cap;

	if (b->err)
		return;
	/* A later rule at the same address wins (an FDE starting where the last ended). */
	if (b->nr_rows && b->rows[b->nr_rows - 1].start == start)
		b->nr_rows--;
	if (b->nr_rows && cfi_row_same_rule(&b->rows[b->nr_rows - 1], rule))
		return;
	if (b->nr_rows == b->cap_rows) {
		cap = b->cap_rows ? b->cap_rows * 2 : 256;
		if (cap > SIZE_MAX / sizeof(*rows)) {
			b->err = -ENOMEM;
			return;
		}
		rows = realloc(b->rows, cap * sizeof(*rows));
		if (!rows) {
			b->err = -ENOMEM;
			return;
		}
		b->rows = rows;
		b->cap_rows = cap;
	}
	b->rows[b->nr_rows] = *rule;
	b->rows[b->nr_rows].start = start;
	b->nr_rows++;
}

static void cfi_emit(struct cfi_run *r, uint64_t until)
{
	struct unwind_row row;

	if (until <= r->loc)
		return;
	cfi_state_to_row(&r->st, r->cie->signal, &row);
	cfi_push(r->b, r->loc, &row);
	r->loc = until;
}

/*
 * A factored offset times the data alignment, wrapping instead of
 * overflowing: corrupt values give absurd offsets, which the row conversion
 * rejects as out of range, never undefined behaviour.
 */
static int64_t cfi_factor(uint64_t factored, int64_t data_align)
{
	return (int64_t)(factored * (uint64_t)data_align);
}

/*
 * Runs call frame instructions. Returns false when they cannot be followed
 * (unknown opcode, truncated operand, bad location): the caller then marks
 * everything from r->loc on as unsupported.
 */
static bool cfi_run_insns(struct cfi_run *r, const uint8_t *insns, size_t len)
{
	struct cfi_cursor c = {insns, insns + len, false};
	int64_t data_align = r->cie->data_align;
	uint64_t code_align = r->cie->code_align;
	uint64_t reg, delta, new_loc, block_len;
	int64_t off;
	uint8_t op;

	while (c.p < c.end) {
		op = *c.p++;
		delta = 0;
		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			delta = (uint64_t)(op & 0x3f) * code_align;
			goto advance;
		case DW_CFA_offset:
			off = cfi_factor(cur_uleb(&c), data_align);
			cfi_set_reg(&r->st, op & 0x3f, UNWIND_RBP_AT_CFA, CFI_RA_AT_CFA, off);
			continue;
		case DW_CFA_restore:
			cfi_restore_reg(r, op & 0x3f);
			continue;
		default:
			break;
		}
		switch (op) {
		case DW_CFA_nop:
			continue;
		case DW_CFA_set_loc:
			if (r->sec->kind == UNWIND_SECTION_EH_FRAME)
				new_loc = cur_encoded(&c, r->cie->fde_enc, r->sec);
			else
				new_loc = cur_fixed(&c, r->cie->address_size);
			if (c.bad || !r->b || new_loc < r->loc)
				return false;
			delta = new_loc - r->loc;
			goto advance;
		case DW_CFA_advance_loc1:
			delta = cur_fixed(&c, 1) * code_align;
			goto advance;
		case DW_CFA_advance_loc2:
			delta = cur_fixed(&c, 2) * code_align;
			goto advance;
		case DW_CFA_advance_loc4:
			delta = cur_fixed(&c, 4) * code_align;
			goto advance;
		case DW_CFA_offset_extended:
			reg = cur_uleb(&c);
			off = cfi_factor(cur_uleb(&c), data_align);
			cfi_set_reg(&r->st, reg, UNWIND_RBP_AT_CFA, CFI_RA_AT_CFA, off);
			continue;
		case DW_CFA_offset_extended_sf:
			reg = cur_uleb(&c);
			off = cfi_factor((uint64_t)cur_sleb(&c), data_align);
			cfi_set_reg(&r->st, reg, UNWIND_RBP_AT_CFA, CFI_RA_AT_CFA, off);
			continue;
		case DW_CFA_GNU_neg_offset_ext:
			reg = cur_uleb(&c);
			off = cfi_factor(-cur_uleb(&c), data_align);
			cfi_set_reg(&r->st, reg, UNWIND_RBP_AT_CFA, CFI_RA_AT_CFA, off);
			continue;
		case DW_CFA_restore_extended:
			cfi_restore_reg(r, cur_uleb(&c));
			continue;
		case DW_CFA_undefined:
			cfi_set_reg(&r->st, cur_uleb(&c), UNWIND_RBP_LOST, CFI_RA_UNDEF, 0);
			continue;
		case DW_CFA_same_value:
			cfi_set_reg(&r->st, cur_uleb(&c), UNWIND_RBP_SAME, CFI_RA_OTHER, 0);
			continue;
		case DW_CFA_register:
			reg = cur_uleb(&c);
			cur_uleb(&c);
			cfi_set_reg(&r->st, reg, UNWIND_RBP_LOST, CFI_RA_OTHER, 0);
			continue;
		case DW_CFA_val_offset:
		case DW_CFA_val_offset_sf:
			reg = cur_uleb(&c);
			if (op == DW_CFA_val_offset)
				cur_uleb(&c);
			else
				cur_sleb(&c);
			cfi_set_reg(&r->st, reg, UNWIND_RBP_LOST, CFI_RA_OTHER, 0);
			continue;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			reg = cur_uleb(&c);
			block_len = cur_uleb(&c);
			if (c.bad || block_len > (uint64_t)(c.end - c.p))
				return false;
			if (op == DW_CFA_expression && reg == CFI_REG_RBP &&
			    cfi_rbp_expression(c.p, (size_t)block_len, &off))
				cfi_set_reg(&r->st, reg, UNWIND_RBP_AT_RBP, CFI_RA_OTHER, off);
			else
				cfi_set_reg(&r->st, reg, UNWIND_RBP_LOST, CFI_RA_OTHER, 0);
			c.p += block_len;
			continue;
		case DW_CFA_remember_state:
			if (r->depth == CFI_STATE_STACK_MAX)
				return false;
			r->stack[r->depth++] = r->st;
			continue;
		case DW_CFA_restore_state:
			if (!r->depth)
				return false;
			r->st = r->stack[--r->depth];
			continue;
		case DW_CFA_def_cfa:
			r->st.cfa_kind = CFI_CFA_REG;
			r->st.cfa_reg = cur_uleb(&c);
			r->st.cfa_off = (int64_t)cur_uleb(&c);
			continue;
		case DW_CFA_def_cfa_sf:
			r->st.cfa_kind = CFI_CFA_REG;
			r->st.cfa_reg = cur_uleb(&c);
			r->st.cfa_off = cfi_factor((uint64_t)cur_sleb(&c), data_align);
			continue;
		case DW_CFA_def_cfa_register:
			reg = cur_uleb(&c);
			/* Only meaningful on a register rule; keeps the offset. */
			if (r->st.cfa_kind != CFI_CFA_REG)
				r->st.cfa_kind = CFI_CFA_BAD;
			r->st.cfa_reg = reg;
			continue;
		case DW_CFA_def_cfa_offset:
			off = (int64_t)cur_uleb(&c);
			if (r->st.cfa_kind != CFI_CFA_REG)
				r->st.cfa_kind = CFI_CFA_BAD;
			r->st.cfa_off = off;
			continue;
		case DW_CFA_def_cfa_offset_sf:
			off = cfi_factor((uint64_t)cur_sleb(&c), data_align);
			if (r->st.cfa_kind != CFI_CFA_REG)
				r->st.cfa_kind = CFI_CFA_BAD;
			r->st.cfa_off = off;
			continue;
		case DW_CFA_def_cfa_expression:
			block_len = cur_uleb(&c);
			if (c.bad || block_len > (uint64_t)(c.end - c.p))
				return false;
			cfi_cfa_expression(&r->st, c.p, (size_t)block_len);
			c.p += block_len;
			continue;
		case DW_CFA_GNU_args_size:
			cur_uleb(&c);
			continue;
		default:
			return false;
		}
advance:
		/* Location advances are FDE-only; a CIE's initial instructions have none. */
		if (c.bad || !r->b)
			return false;
		new_loc = r->loc + delta;
		if (new_loc < r->loc || new_loc >= r->end) {
			cfi_emit(r, r->end);
			return true;
		}
		cfi_emit(r, new_loc);
	}
	return !c.bad;
}

static int cfi_cie_parse(const struct cfi_section *sec, const struct cfi_entry *e,
			 struct cfi_cie *ret)
{
	struct cfi_cursor c = e->body;
	struct cfi_run run;
	const char *aug, *a;
	uint64_t ra_reg, aug_len = 0;
	bool skip_rest = false;
	uint8_t version;
	const uint8_t *aug_end = NULL;

	memset(ret, 0, sizeof(*ret));
	ret->offset = e->offset;
	ret->fde_enc = DW_EH_PE_absptr;
	ret->address_size = 8;
	version = (uint8_t)cur_fixed(&c, 1);
	if (c.bad || (version != 1 && version != 3 && version != 4))
		return -EINVAL;
	aug = (const char *)c.p;
	while (c.p < c.end && *c.p)
		c.p++;
	if (c.p >= c.end)
		return -EINVAL;
	c.p++;
	if (version == 4) {
		ret->address_size = (uint8_t)cur_fixed(&c, 1);
		cur_fixed(&c, 1); /* segment selector size */
		if (ret->address_size != 4 && ret->address_size != 8)
			return -EINVAL;
	}
	ret->code_align = cur_uleb(&c);
	ret->data_align = cur_sleb(&c);
	ra_reg = version == 1 ? cur_fixed(&c, 1) : cur_uleb(&c);
	if (aug[0] == 'z') {
		ret->has_aug_data = true;
		aug_len = cur_uleb(&c);
		if (c.bad || aug_len > (uint64_t)(c.end - c.p))
			return -EINVAL;
		aug_end = c.p + aug_len;
	}
	for (a = aug; *a && !c.bad && !skip_rest; a++) {
		switch (*a) {
		case 'z':
			if (a != aug)
				return -EINVAL;
			break;
		case 'R':
			ret->fde_enc = (uint8_t)cur_fixed(&c, 1);
			break;
		case 'L':
			cur_fixed(&c, 1); /* LSDA encoding: FDEs skip their data by length */
			break;
		case 'P': {
			uint8_t enc = (uint8_t)cur_fixed(&c, 1);

			/* Personality: parsed to move past it, value unused. */
			cur_encoded(&c, enc & 0x0f, sec);
			break;
		}
		case 'S':
			ret->signal = true;
			break;
		default:
			/* Unknown augmentations can only be skipped with 'z'. */
			if (!aug_end)
				return -EINVAL;
			skip_rest = true;
			break;
		}
	}
	if (c.bad)
		return -EINVAL;
	if (aug_end) {
		if (c.p > aug_end)
			return -EINVAL;
		c.p = aug_end;
	}
	if (ret->code_align == 0)
		return -EINVAL;
	ret->usable = ra_reg == CFI_REG_RA;

	memset(&run, 0, sizeof(run));
	run.cie = ret;
	run.sec = sec;
	run.st.rbp = UNWIND_RBP_SAME;
	if (!cfi_run_insns(&run, c.p, (size_t)(c.end - c.p)))
		ret->usable = false;
	if (run.depth)
		ret->usable = false;
	ret->initial = run.st;
	return 0;
}

struct cfi_cie_list {
	struct cfi_cie *cies;
	size_t nr;
	size_t cap;
};

struct cfi_fde_list {
	struct cfi_fde *fdes;
	size_t nr;
	size_t cap;
};

/* Makes room for one more element of elem_size bytes in *arr. */
static int cfi_grow(void **arr, size_t nr, size_t *cap, size_t elem_size)
{
	size_t new_cap;
	void *p;

	if (nr < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 64;
	if (new_cap < *cap || new_cap > SIZE_MAX / elem_size)
		return -ENOMEM;
	p = realloc(*arr, new_cap * elem_size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = new_cap;
	return 0;
}

/* Every CIE of the section, in offset order. A malformed entry ends the scan. */
static int cfi_collect_cies(const struct cfi_section *sec, struct cfi_cie_list *list)
{
	struct cfi_entry e;
	struct cfi_cie cie;
	size_t offset = 0;
	int err;

	while (offset < sec->size) {
		if (cfi_entry_read(sec, offset, &e) || e.terminator)
			break;
		if (e.is_cie && !cfi_cie_parse(sec, &e, &cie)) {
			err = cfi_grow((void **)&list->cies, list->nr, &list->cap, sizeof(cie));
			if (err)
				return err;
			list->cies[list->nr++] = cie;
		}
		offset = e.next;
	}
	return 0;
}

static const struct cfi_cie *cfi_find_cie(const struct cfi_cie_list *list, size_t offset)
{
	size_t lo = 0, hi = list->nr, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (list->cies[mid].offset == offset)
			return &list->cies[mid];
		if (list->cies[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cfi_collect_fdes(const struct cfi_section *sec, const struct cfi_cie_list *cies,
			    struct cfi_fde_list *list)
{
	const struct cfi_cie *cie;
	struct cfi_entry e;
	struct cfi_fde fde;
	struct cfi_cursor c;
	uint64_t range;
	size_t offset = 0;
	int err;

	while (offset < sec->size) {
		if (cfi_entry_read(sec, offset, &e) || e.terminator)
			break;
		offset = e.next;
		if (e.is_cie || !(cie = cfi_find_cie(cies, e.cie_offset)))
			continue;
		c = e.body;
		if (sec->kind == UNWIND_SECTION_EH_FRAME) {
			fde.start = cur_encoded(&c, cie->fde_enc, sec);
			range = cur_encoded(&c, cie->fde_enc & 0x0f, sec);
		} else {
			fde.start = cur_fixed(&c, cie->address_size);
			range = cur_fixed(&c, cie->address_size);
		}
		if (cie->has_aug_data)
			cur_skip(&c, cur_uleb(&c));
		/*
		 * Start 0: the FDE of a function the linker discarded. The end must
		 * stay below UINT64_MAX: the gap row after it starts there.
		 */
		if (c.bad || !range || !fde.start || range >= UINT64_MAX - fde.start)
			continue;
		fde.end = fde.start + range;
		fde.insns = c.p;
		fde.insns_len = (size_t)(c.end - c.p);
		fde.cie = cie;
		fde.sec = sec;
		err = cfi_grow((void **)&list->fdes, list->nr, &list->cap, sizeof(fde));
		if (err)
			return err;
		list->fdes[list->nr++] = fde;
	}
	return 0;
}

static int cfi_fde_cmp(const void *a, const void *b)
{
	const struct cfi_fde *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->sec->kind != y->sec->kind)
		return x->sec->kind < y->sec->kind ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/*
 * Keeps non-overlapping FDEs, .eh_frame first: an .eh_frame FDE overlapping
 * an earlier one is dropped; a .debug_frame FDE is kept only where no kept
 * .eh_frame FDE and no earlier kept .debug_frame FDE is. Compacts the list,
 * which stays sorted by start.
 */
static int cfi_select_fdes(struct cfi_fde_list *list)
{
	uint64_t *eh_ends = NULL, *eh_starts = NULL;
	uint64_t last_eh_end = 0, last_debug_end = 0;
	size_t i, nr_eh = 0, nr_kept = 0, lo, hi, mid;
	bool *keep = NULL;
	int err = 0;

	if (!list->nr)
		return 0;
	keep = calloc(list->nr, sizeof(*keep));
	eh_ends = calloc(list->nr, sizeof(*eh_ends));
	eh_starts = calloc(list->nr, sizeof(*eh_starts));
	if (!keep || !eh_ends || !eh_starts) {
		err = -ENOMEM;
		goto out_free;
	}
	qsort(list->fdes, list->nr, sizeof(*list->fdes), cfi_fde_cmp);
	for (i = 0; i < list->nr; i++) {
		if (list->fdes[i].sec->kind != UNWIND_SECTION_EH_FRAME ||
		    list->fdes[i].start < last_eh_end)
			continue;
		keep[i] = true;
		last_eh_end = list->fdes[i].end;
		eh_starts[nr_eh] = list->fdes[i].start;
		eh_ends[nr_eh++] = list->fdes[i].end;
	}
	for (i = 0; i < list->nr; i++) {
		if (list->fdes[i].sec->kind != UNWIND_SECTION_DEBUG_FRAME ||
		    list->fdes[i].start < last_debug_end)
			continue;
		/* First kept .eh_frame FDE ending after this start: overlap if it starts before our end. */
		lo = 0;
		hi = nr_eh;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (eh_ends[mid] <= list->fdes[i].start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < nr_eh && eh_starts[lo] < list->fdes[i].end)
			continue;
		keep[i] = true;
		last_debug_end = list->fdes[i].end;
	}
	for (i = 0; i < list->nr; i++)
		if (keep[i])
			list->fdes[nr_kept++] = list->fdes[i];
	list->nr = nr_kept;
out_free:
	free(eh_starts);
	free(eh_ends);
	free(keep);
	return err;
}

static void cfi_interpret_fde(struct cfi_builder *b, const struct cfi_fde *fde)
{
	struct unwind_row none = {0};
	struct cfi_run run;

	memset(&run, 0, sizeof(run));
	run.cie = fde->cie;
	run.sec = fde->sec;
	run.b = b;
	run.st = fde->cie->initial;
	run.loc = fde->start;
	run.end = fde->end;
	if (!fde->cie->usable || !cfi_run_insns(&run, fde->insns, fde->insns_len)) {
		/* Rows already emitted stand; from here on the rule is not known. */
		run.st.cfa_kind = CFI_CFA_BAD;
		run.st.ra = CFI_RA_OTHER;
	}
	cfi_emit(&run, fde->end);
	none.cfa = UNWIND_CFA_NONE;
	cfi_push(b, fde->end, &none);
}

/*
 * The FDEs of secs (at most 4) that the table keeps, sorted by start; cies
 * (4 lists) are filled too, as the FDEs point into them. 0, -ENOENT when
 * there is none, -EINVAL or -ENOMEM. The caller frees both lists.
 */
static int cfi_kept_fdes(const struct cfi_section *secs, size_t nr_secs, struct cfi_cie_list *cies,
			 struct cfi_fde_list *fdes)
{
	size_t i;
	int err;

	if (nr_secs > 4)
		return -EINVAL;
	for (i = 0; i < nr_secs; i++) {
		err = cfi_collect_cies(&secs[i], &cies[i]);
		if (err)
			return err;
		err = cfi_collect_fdes(&secs[i], &cies[i], fdes);
		if (err)
			return err;
	}
	err = cfi_select_fdes(fdes);
	if (err)
		return err;
	return fdes->nr ? 0 : -ENOENT;
}

static int cfi_build(const struct cfi_section *secs, size_t nr_secs, struct unwind_table **ret)
{
	struct cfi_cie_list cies[4] = {{0}};
	struct cfi_fde_list fdes = {0};
	struct cfi_builder b = {0};
	struct unwind_table *t;
	struct unwind_row *rows;
	size_t i;
	int err = 0;

	err = cfi_kept_fdes(secs, nr_secs, cies, &fdes);
	if (err)
		goto out_free;
	b.base = fdes.fdes[0].start;
	for (i = 0; i < fdes.nr && !b.err; i++) {
		/* Row starts are 32-bit offsets from the base. */
		if (fdes.fdes[i].end - b.base > UINT32_MAX)
			continue;
		cfi_interpret_fde(&b, &fdes.fdes[i]);
	}
	err = b.err;
	if (err)
		goto out_free;
	if (!b.nr_rows) {
		err = -ENOENT;
		goto out_free;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto out_free;
	}
	rows = realloc(b.rows, b.nr_rows * sizeof(*rows));
	t->rows = rows ? rows : b.rows;
	t->nr_rows = b.nr_rows;
	t->base = b.base;
	b.rows = NULL;
	*ret = t;
out_free:
	free(b.rows);
	free(fdes.fdes);
	for (i = 0; i < 4; i++)
		free(cies[i].cies);
	return err;
}

/* Adds the CFI sections of elf to secs (at most max); the data lives until elf_end(). */
static int cfi_elf_sections(Elf *elf, bool want_eh_frame, struct cfi_section *secs, size_t *nr,
			    size_t max)
{
	enum unwind_section_kind kind;
	Elf_Scn *scn = NULL;
	const char *name;
	size_t shstrndx;
	GElf_Ehdr ehdr;
	GElf_Shdr sh;
	Elf_Data *d;

	if (elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64 ||
	    !gelf_getehdr(elf, &ehdr) || ehdr.e_machine != EM_X86_64)
		return -EINVAL;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn)) && *nr < max) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (want_eh_frame && !strcmp(name, ".eh_frame"))
			kind = UNWIND_SECTION_EH_FRAME;
		else if (!strcmp(name, ".debug_frame"))
			kind = UNWIND_SECTION_DEBUG_FRAME;
		else
			continue;
		/* Debian's debug files compress their DWARF sections. */
		if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || !d->d_size)
			continue;
		secs[*nr].kind = kind;
		secs[*nr].vaddr = sh.sh_addr;
		secs[*nr].data = d->d_buf;
		secs[*nr].size = d->d_size;
		(*nr)++;
	}
	return 0;
}

/* Keeps the file's PT_LOAD segments, for cfi_file_to_vaddr(). */
static void cfi_segments(Elf *elf, struct unwind_segment *segs, size_t *nr)
{
	size_t nr_phdrs, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &nr_phdrs))
		return;
	for (i = 0; i < nr_phdrs && *nr < UNWIND_MAX_SEGMENTS; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		segs[(*nr)++] = (struct unwind_segment){
			.offset = ph.p_offset,
			.filesz = ph.p_filesz,
			.vaddr = ph.p_vaddr,
		};
	}
}

static struct unwind_table *cfi_from_elf(Elf *elf, int debug_fd)
{
	struct cfi_section secs[4];
	struct unwind_table *t = NULL, go = {0};
	Elf *debug_elf = NULL;
	size_t nr = 0;
	int err;

	if (!elf) {
		err = -EINVAL;
		goto out;
	}
	err = cfi_elf_sections(elf, true, secs, &nr, 2);
	if (err)
		goto out;
	if (debug_fd >= 0) {
		debug_elf = elf_begin(debug_fd, ELF_C_READ_MMAP, NULL);
		/* A bad debug file only costs its .debug_frame. */
		if (debug_elf)
			cfi_elf_sections(debug_elf, false, secs, &nr, 4);
	}
	err = cfi_build(secs, nr, &t);
	/* A Go binary without DWARF (-ldflags=-w) still has frame pointers and stack switches. */
	if (err == -ENOENT && unwind_go__read_funcs(elf, &go)) {
		t = calloc(1, sizeof(*t));
		err = t ? 0 : -ENOMEM;
	}
	if (!err) {
		cfi_segments(elf, t->segments, &t->nr_segments);
		t->go = unwind_go__read_funcs(elf, t);
	}
out:
	elf_end(debug_elf);
	if (err) {
		errno = -err;
		return NULL;
	}
	return t;
}

struct unwind_table *unwind_table__from_fd(int fd, int debug_fd)
{
	struct unwind_table *t;
	Elf *elf;
	int saved;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = EINVAL;
		return NULL;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	t = cfi_from_elf(elf, debug_fd);
	saved = errno;
	elf_end(elf);
	errno = saved;
	return t;
}

struct unwind_table *unwind_table__from_memory(const void *image, size_t image_bytes)
{
	struct unwind_table *t;
	Elf *elf;
	int saved;

	if (!image || !image_bytes || elf_version(EV_CURRENT) == EV_NONE) {
		errno = EINVAL;
		return NULL;
	}
	/* libelf only reads the image; the cast is its API's. */
	elf = elf_memory((char *)image, image_bytes);
	t = cfi_from_elf(elf, -1);
	saved = errno;
	elf_end(elf);
	errno = saved;
	return t;
}

struct unwind_table *unwind_table__from_section(enum unwind_section_kind kind,
						uint64_t section_vaddr, const void *data,
						size_t bytes)
{
	struct cfi_section sec = {kind, section_vaddr, data, bytes};
	struct unwind_table *t = NULL;
	int err;

	if (!data || (kind != UNWIND_SECTION_EH_FRAME && kind != UNWIND_SECTION_DEBUG_FRAME)) {
		errno = EINVAL;
		return NULL;
	}
	err = cfi_build(&sec, 1, &t);
	if (err) {
		errno = -err;
		return NULL;
	}
	return t;
}

static int cfi_file_to_vaddr(const struct unwind_segment *segs, size_t nr, uint64_t file_offset,
			     uint64_t *ret_vaddr)
{
	const struct unwind_segment *seg;
	size_t i;

	for (i = 0; i < nr; i++) {
		seg = &segs[i];
		if (file_offset >= seg->offset && file_offset - seg->offset < seg->filesz) {
			*ret_vaddr = file_offset - seg->offset + seg->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

int unwind_table__file_to_vaddr(const struct unwind_table *t, uint64_t file_offset,
				uint64_t *ret_vaddr)
{
	return cfi_file_to_vaddr(t->segments, t->nr_segments, file_offset, ret_vaddr);
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

const struct unwind_row *unwind_table__row(const struct unwind_table *t, uint64_t elf_addr)
{
	const struct unwind_row *row = t->rows;
	size_t n = t->nr_rows, half;
	uint64_t off;

	if (elf_addr < t->base || !n)
		return NULL;
	off = elf_addr - t->base;
	if (off > UINT32_MAX)
		return NULL;
	/* Last row starting at or before off; branch-free halving (a cmov per step). */
	while (n > 1) {
		half = n / 2;
		row = row[half].start <= off ? row + half : row;
		n -= half;
	}
	return row->start <= off ? row : NULL;
}

void unwind_table__find(const struct unwind_table *t, uint64_t elf_addr, struct unwind_rule *ret)
{
	const struct unwind_row *row = unwind_table__row(t, elf_addr);
	size_t i;

	memset(ret, 0, sizeof(*ret));
	ret->cfa = UNWIND_CFA_NONE;
	ret->end = UINT64_MAX;
	if (!row) {
		if (elf_addr < t->base)
			ret->end = t->base;
		else if (t->nr_rows)
			ret->start = t->base + t->rows[t->nr_rows - 1].start;
		return;
	}
	i = (size_t)(row - t->rows);
	ret->start = t->base + row->start;
	if (i + 1 < t->nr_rows)
		ret->end = t->base + t->rows[i + 1].start;
	ret->cfa = row->cfa;
	ret->cfa_off = row->cfa_off;
	if (row->cfa == UNWIND_CFA_PLT) {
		ret->plt_threshold = (uint8_t)row->rbp_off;
		ret->rbp = UNWIND_RBP_SAME;
	} else {
		ret->rbp = row->rbp;
		ret->rbp_off = row->rbp_off;
	}
}

bool unwind_table__is_go(const struct unwind_table *t)
{
	return t && t->go;
}

size_t unwind_table__nr_rows(const struct unwind_table *t)
{
	return t ? t->nr_rows : 0;
}

size_t unwind_table__bytes(const struct unwind_table *t)
{
	return t ? sizeof(*t) + t->nr_rows * sizeof(*t->rows) : 0;
}

/* ---- Function starts ---- */

struct unwind_funcs {
	uint64_t *starts; /* sorted; the FDEs do not overlap */
	uint64_t *ends;
	size_t nr;
	struct unwind_segment segments[UNWIND_MAX_SEGMENTS];
	size_t nr_segments;
};

void unwind_funcs__free(struct unwind_funcs *f)
{
	if (!f)
		return;
	free(f->starts);
	free(f->ends);
	free(f);
}

struct unwind_funcs *unwind_funcs__from_fd(int fd)
{
	struct cfi_cie_list cies[4] = {{0}};
	struct cfi_fde_list fdes = {0};
	struct unwind_funcs *f = NULL;
	struct cfi_section secs[2];
	Elf *elf = NULL;
	size_t nr = 0, i;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -EINVAL;
		goto out;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	err = elf ? cfi_elf_sections(elf, true, secs, &nr, 2) : -EINVAL;
	if (!err)
		err = cfi_kept_fdes(secs, nr, cies, &fdes);
	if (err)
		goto out;
	f = calloc(1, sizeof(*f));
	if (f) {
		f->starts = malloc(fdes.nr * sizeof(*f->starts));
		f->ends = malloc(fdes.nr * sizeof(*f->ends));
	}
	if (!f || !f->starts || !f->ends) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < fdes.nr; i++) {
		f->starts[i] = fdes.fdes[i].start;
		f->ends[i] = fdes.fdes[i].end;
	}
	f->nr = fdes.nr;
	cfi_segments(elf, f->segments, &f->nr_segments);
out:
	free(fdes.fdes);
	for (i = 0; i < 4; i++)
		free(cies[i].cies);
	elf_end(elf);
	if (err) {
		unwind_funcs__free(f);
		errno = -err;
		return NULL;
	}
	return f;
}

int unwind_funcs__start(const struct unwind_funcs *f, uint64_t elf_addr, uint64_t *ret_start)
{
	size_t lo = 0, hi = f->nr, mid;

	/* The last FDE starting at or before elf_addr. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->starts[mid] <= elf_addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || elf_addr >= f->ends[lo - 1])
		return -ENOENT;
	*ret_start = f->starts[lo - 1];
	return 0;
}

int unwind_funcs__file_to_vaddr(const struct unwind_funcs *f, uint64_t file_offset,
				uint64_t *ret_vaddr)
{
	return cfi_file_to_vaddr(f->segments, f->nr_segments, file_offset, ret_vaddr);
}

size_t unwind_funcs__nr(const struct unwind_funcs *f)
{
	return f->nr;
}
