// SPDX-License-Identifier: MIT
/*
 * DWARF line tables (.debug_line, versions 2 to 5), read without libdw.
 *
 * libdw 0.188's dwarf_getsrclines() allocates every row on its own and
 * keeps ~64 bytes per row; it was half of the time spent loading a unit.
 * Here one pass over the line program appends 24-byte rows to one array;
 * sequences (each ascending by the DWARF rules) are then put in address
 * order, whole, so no row-by-row sort is needed unless sequences overlap.
 *
 * File names are formed as libdw forms them: an absolute name as is, else
 * "DIR/NAME" with DIR the entry's directory (for version < 5, directory 0
 * is the unit's DW_AT_comp_dir), then, when still relative, prefixed with
 * the compilation directory (version 5's directory 0, else DW_AT_comp_dir)
 * when that one is absolute. File numbers are the line program's own:
 * from 1 before version 5 (entry 0 unused), from 0 in version 5; they are
 * also the numbers of DW_AT_call_file.
 *
 * Everything read is bounds-checked against the section; a header or
 * program this parser does not understand (DW_FORM_strx file names,
 * several operations per instruction) returns -ENOTSUP and the caller
 * falls back to libdw. Limits: SYM_DWARF_MAX_LINE_ROWS rows and
 * SYM_DWARF_MAX_LINE_FILES files per unit.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer_internal.h"

struct cursor {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
};

static uint64_t read_n(struct cursor *c, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

/* LEB128 bits; *ret_shift and *ret_last say where it ended, for the sign. */
static uint64_t read_leb(struct cursor *c, unsigned int *ret_shift, uint8_t *ret_last)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t b = 0;

	do {
		if (c->bad || c->p >= c->end) {
			c->bad = true;
			return 0;
		}
		b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	*ret_shift = shift;
	*ret_last = b;
	return v;
}

static uint64_t read_uleb(struct cursor *c)
{
	unsigned int shift;
	uint8_t last;

	return read_leb(c, &shift, &last);
}

static int64_t read_sleb(struct cursor *c)
{
	unsigned int shift = 0;
	uint8_t last = 0;
	uint64_t v = read_leb(c, &shift, &last);

	if (shift < 64 && (last & 0x40))
		v |= ~0ull << shift;
	return (int64_t)v;
}

static const char *read_cstr(struct cursor *c)
{
	const uint8_t *nul;
	const char *s;

	if (c->bad || c->p >= c->end) {
		c->bad = true;
		return NULL;
	}
	nul = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!nul) {
		c->bad = true;
		return NULL;
	}
	s = (const char *)c->p;
	c->p = nul + 1;
	return s;
}

static const char *section_str(const char *sec, size_t len, uint64_t off)
{
	if (!sec || off >= len || !memchr(sec + off, 0, len - off))
		return NULL;
	return sec + off;
}

struct entry {
	const char *path;
	uint64_t dir;
};

/* One directory or file entry of a version 5 header, as its format says. */
static int read_entry(struct cursor *c, const struct sym_line_sections *sec, const uint64_t *fmt,
		      unsigned int nr_fmt, unsigned int offset_size, struct entry *ret)
{
	unsigned int i;
	uint64_t type, form, v;
	const char *s;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < nr_fmt; i++) {
		type = fmt[2 * i];
		form = fmt[2 * i + 1];
		v = 0;
		s = NULL;
		switch (form) {
		case DW_FORM_string:
			s = read_cstr(c);
			break;
		case DW_FORM_line_strp:
			s = section_str(sec->line_str, sec->line_str_len, read_n(c, offset_size));
			if (!s)
				return -EINVAL;
			break;
		case DW_FORM_strp:
			s = section_str(sec->str, sec->str_len, read_n(c, offset_size));
			if (!s)
				return -EINVAL;
			break;
		case DW_FORM_udata:
			v = read_uleb(c);
			break;
		case DW_FORM_data1:
			v = read_n(c, 1);
			break;
		case DW_FORM_data2:
			v = read_n(c, 2);
			break;
		case DW_FORM_data4:
			v = read_n(c, 4);
			break;
		case DW_FORM_data8:
			v = read_n(c, 8);
			break;
		case DW_FORM_data16:
			read_n(c, 8);
			read_n(c, 8);
			break;
		case DW_FORM_block:
			v = read_uleb(c);
			if (v > (uint64_t)(c->end - c->p))
				return -EINVAL;
			c->p += v;
			v = 0;
			break;
		default:
			return -ENOTSUP;
		}
		if (c->bad)
			return -EINVAL;
		if (type == DW_LNCT_path)
			ret->path = s;
		else if (type == DW_LNCT_directory_index)
			ret->dir = v;
	}
	return ret->path ? 0 : -EINVAL;
}

static bool is_absolute(const char *p)
{
	return p && p[0] == '/';
}

/* Appends "a/b/c" to the arena, leaving out NULL parts; 0 on failure. */
static uint32_t add_joined(struct sym_arena *arena, const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	char buf[3 * (SYM_ELF_MAX_NAME + 1)];
	size_t len = 0, one;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (!parts[i])
			continue;
		one = strnlen(parts[i], SYM_ELF_MAX_NAME + 1);
		if (one > SYM_ELF_MAX_NAME)
			return 0;
		if (len)
			buf[len++] = '/';
		memcpy(buf + len, parts[i], one);
		len += one;
	}
	return sym_arena__add(arena, buf, len);
}

/* The name of file entry e (directory table dirs); its arena offset, 0 on failure. */
static uint32_t file_name(struct sym_line_table *t, const struct entry *e, const char *const *dirs,
			  size_t nr_dirs, const char *comp_dir)
{
	const char *dir;

	if (is_absolute(e->path))
		return add_joined(&t->paths, NULL, NULL, e->path);
	dir = e->dir < nr_dirs ? dirs[e->dir] : NULL;
	if (is_absolute(dir))
		return add_joined(&t->paths, NULL, dir, e->path);
	return add_joined(&t->paths, comp_dir, dir, e->path);
}

struct header {
	unsigned int version;
	unsigned int offset_size;
	unsigned int min_inst_len;
	bool default_is_stmt;
	int line_base;
	unsigned int line_range;
	unsigned int opcode_base;
	uint8_t std_lengths[256];
	const uint8_t *program;
	const uint8_t *end;
};

static int read_tables(struct cursor *c, const struct sym_line_sections *sec, struct header *h,
		       const char *cu_comp_dir, struct sym_line_table *t)
{
	const char **dirs = NULL;
	struct entry *files = NULL, e;
	uint64_t fmt[2 * 16], nr_dirs = 0, nr_files = 0, i;
	unsigned int nr_fmt;
	const char *comp_dir, *s;
	uint32_t *offs = NULL;
	size_t cap;
	int err = 0;

	if (h->version >= 5) {
		nr_fmt = (unsigned int)read_n(c, 1);
		if (nr_fmt > 16)
			return -ENOTSUP;
		for (i = 0; i < 2 * nr_fmt; i++)
			fmt[i] = read_uleb(c);
		nr_dirs = read_uleb(c);
		if (c->bad || nr_dirs > SYM_DWARF_MAX_LINE_FILES)
			return -EINVAL;
		dirs = calloc(nr_dirs ? nr_dirs : 1, sizeof(*dirs));
		if (!dirs)
			return -ENOMEM;
		for (i = 0; i < nr_dirs; i++) {
			err = read_entry(c, sec, fmt, nr_fmt, h->offset_size, &e);
			if (err)
				goto out;
			dirs[i] = e.path;
		}
		nr_fmt = (unsigned int)read_n(c, 1);
		if (nr_fmt > 16) {
			err = -ENOTSUP;
			goto out;
		}
		for (i = 0; i < 2 * nr_fmt; i++)
			fmt[i] = read_uleb(c);
		nr_files = read_uleb(c);
		if (c->bad || nr_files > SYM_DWARF_MAX_LINE_FILES) {
			err = -EINVAL;
			goto out;
		}
		files = calloc(nr_files ? nr_files : 1, sizeof(*files));
		if (!files) {
			err = -ENOMEM;
			goto out;
		}
		for (i = 0; i < nr_files; i++) {
			err = read_entry(c, sec, fmt, nr_fmt, h->offset_size, &files[i]);
			if (err)
				goto out;
		}
		comp_dir = nr_dirs && is_absolute(dirs[0]) ? dirs[0] : NULL;
	} else {
		/* Directory 0 is the compilation directory; the table starts at 1. */
		cap = 16;
		dirs = calloc(cap, sizeof(*dirs));
		if (!dirs)
			return -ENOMEM;
		dirs[nr_dirs++] = cu_comp_dir;
		while ((s = read_cstr(c)) && s[0]) {
			if (nr_dirs == cap) {
				if (cap >= SYM_DWARF_MAX_LINE_FILES) {
					err = -EINVAL;
					goto out;
				}
				cap *= 2;
				dirs = reallocarray(dirs, cap, sizeof(*dirs));
				if (!dirs) {
					err = -ENOMEM;
					goto out;
				}
			}
			dirs[nr_dirs++] = s;
		}
		cap = 16;
		files = calloc(cap, sizeof(*files));
		if (!files) {
			err = -ENOMEM;
			goto out;
		}
		/* Entry 0 stays empty: files are numbered from 1. */
		nr_files = 1;
		while ((s = read_cstr(c)) && s[0]) {
			if (nr_files == cap) {
				if (cap >= SYM_DWARF_MAX_LINE_FILES) {
					err = -EINVAL;
					goto out;
				}
				cap *= 2;
				files = reallocarray(files, cap, sizeof(*files));
				if (!files) {
					err = -ENOMEM;
					goto out;
				}
			}
			files[nr_files].path = s;
			files[nr_files].dir = read_uleb(c);
			read_uleb(c);
			read_uleb(c);
			nr_files++;
		}
		comp_dir = is_absolute(cu_comp_dir) ? cu_comp_dir : NULL;
	}
	if (c->bad) {
		err = -EINVAL;
		goto out;
	}
	if (!comp_dir && is_absolute(cu_comp_dir))
		comp_dir = cu_comp_dir;
	t->files = calloc(nr_files ? nr_files : 1, sizeof(*t->files));
	offs = calloc(nr_files ? nr_files : 1, sizeof(*offs));
	if (!t->files || !offs || sym_arena__add(&t->paths, "", 0) || t->paths.len != 1) {
		err = -ENOMEM;
		goto out;
	}
	t->nr_files = nr_files;
	for (i = 0; i < nr_files; i++) {
		if (!files[i].path)
			continue;
		offs[i] = file_name(t, &files[i], dirs, nr_dirs, comp_dir);
		if (!offs[i]) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < nr_files; i++)
		t->files[i] = offs[i] ? t->paths.buf + offs[i] : NULL;
out:
	free(dirs);
	free(files);
	free(offs);
	return err;
}

static int read_header(struct cursor *c, struct header *h)
{
	uint64_t unit_length, header_length;
	const uint8_t *after;
	unsigned int i;

	unit_length = read_n(c, 4);
	h->offset_size = 4;
	if (unit_length == 0xffffffffu) {
		unit_length = read_n(c, 8);
		h->offset_size = 8;
	}
	if (c->bad || unit_length > (uint64_t)(c->end - c->p))
		return -EINVAL;
	h->end = c->p + unit_length;
	c->end = h->end;
	h->version = (unsigned int)read_n(c, 2);
	if (h->version < 2 || h->version > 5)
		return -ENOTSUP;
	if (h->version >= 5) {
		if (read_n(c, 1) != 8 || read_n(c, 1) != 0)
			return -ENOTSUP;
	}
	header_length = read_n(c, h->offset_size);
	if (c->bad || header_length > (uint64_t)(c->end - c->p))
		return -EINVAL;
	after = c->p + header_length;
	h->min_inst_len = (unsigned int)read_n(c, 1);
	if (h->version >= 4 && read_n(c, 1) != 1)
		return -ENOTSUP; /* VLIW: several operations per instruction */
	h->default_is_stmt = read_n(c, 1) != 0;
	h->line_base = (int8_t)read_n(c, 1);
	h->line_range = (unsigned int)read_n(c, 1);
	h->opcode_base = (unsigned int)read_n(c, 1);
	if (c->bad || !h->line_range || !h->opcode_base)
		return -EINVAL;
	memset(h->std_lengths, 0, sizeof(h->std_lengths));
	for (i = 1; i < h->opcode_base; i++)
		h->std_lengths[i] = (uint8_t)read_n(c, 1);
	h->program = after;
	return c->bad ? -EINVAL : 0;
}

struct sequence {
	uint64_t lo;
	uint64_t hi;
	size_t first;
	size_t nr;
};

struct program {
	struct sym_line_table *t;
	size_t cap_rows;
	struct sequence *seqs;
	size_t nr_seqs;
	size_t cap_seqs;
	size_t seq_first;
};

static inline int emit(struct program *pg, uint64_t addr, uint64_t file, int64_t line,
		       uint64_t column, bool end)
{
	struct sym_line_table *t = pg->t;
	struct sym_line_row *r;
	int err;

	if (t->nr_rows >= pg->cap_rows) {
		err = sym_grow((void **)&t->rows, &pg->cap_rows, t->nr_rows, sizeof(*t->rows),
			       SYM_DWARF_MAX_LINE_ROWS);
		if (err)
			return err;
	}
	r = &t->rows[t->nr_rows++];
	r->addr = addr;
	r->file = file > UINT32_MAX ? UINT32_MAX : (uint32_t)file;
	r->line = line < 0 || line > UINT32_MAX ? 0 : (uint32_t)line;
	r->column = column > UINT32_MAX ? 0 : (uint32_t)column;
	r->end = end;
	if (!end)
		return 0;
	err = sym_grow((void **)&pg->seqs, &pg->cap_seqs, pg->nr_seqs, sizeof(*pg->seqs),
		       SYM_DWARF_MAX_LINE_ROWS);
	if (err)
		return err;
	pg->seqs[pg->nr_seqs++] = (struct sequence){
		.lo = t->rows[pg->seq_first].addr,
		.hi = addr,
		.first = pg->seq_first,
		.nr = t->nr_rows - pg->seq_first,
	};
	pg->seq_first = t->nr_rows;
	return 0;
}

static int run_program(struct cursor *c, const struct header *h, struct program *pg)
{
	uint64_t addr = 0, file = 1, column = 0, len, op, adj;
	int64_t line = 1;
	const uint8_t *next;
	unsigned int i;
	int err = 0;

	while (c->p < c->end && !err) {
		op = *c->p++;
		if (op >= h->opcode_base) {
			adj = op - h->opcode_base;
			addr += (adj / h->line_range) * h->min_inst_len;
			line += h->line_base + (int64_t)(adj % h->line_range);
			err = emit(pg, addr, file, line, column, false);
			continue;
		}
		switch (op) {
		case 0:
			len = read_uleb(c);
			if (c->bad || !len || len > (uint64_t)(c->end - c->p))
				return -EINVAL;
			next = c->p + len;
			op = read_n(c, 1);
			if (op == DW_LNE_end_sequence) {
				err = emit(pg, addr, file, line, column, true);
				addr = 0;
				file = 1;
				line = 1;
				column = 0;
			} else if (op == DW_LNE_set_address) {
				if (len - 1 != 8 && len - 1 != 4)
					return -ENOTSUP;
				addr = read_n(c, (unsigned int)(len - 1));
			}
			c->p = next;
			break;
		case DW_LNS_copy:
			err = emit(pg, addr, file, line, column, false);
			break;
		case DW_LNS_advance_pc:
			addr += read_uleb(c) * h->min_inst_len;
			break;
		case DW_LNS_advance_line:
			line += read_sleb(c);
			break;
		case DW_LNS_set_file:
			file = read_uleb(c);
			break;
		case DW_LNS_set_column:
			column = read_uleb(c);
			break;
		case DW_LNS_const_add_pc:
			addr += ((255 - h->opcode_base) / h->line_range) * h->min_inst_len;
			break;
		case DW_LNS_fixed_advance_pc:
			addr += read_n(c, 2);
			break;
		case DW_LNS_negate_stmt:
		case DW_LNS_set_basic_block:
		case DW_LNS_set_prologue_end:
		case DW_LNS_set_epilogue_begin:
			break;
		default:
			/* set_isa and opcodes this version does not know: skip their operands. */
			for (i = 0; i < h->std_lengths[op]; i++)
				read_uleb(c);
			break;
		}
		if (c->bad)
			return -EINVAL;
	}
	return err;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct sequence *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Rows by address, sequence by sequence; rows past the last end_sequence are dropped. */
static int order_rows(struct program *pg)
{
	struct sym_line_table *t = pg->t;
	struct sym_line_row *rows;
	size_t i, n = 0;
	bool sorted = true;

	t->nr_rows = pg->seq_first;
	for (i = 1; i < pg->nr_seqs && sorted; i++)
		sorted = cmp_seq(&pg->seqs[i - 1], &pg->seqs[i]) <= 0 &&
			 pg->seqs[i - 1].hi <= pg->seqs[i].lo;
	if (sorted)
		return 0;
	qsort(pg->seqs, pg->nr_seqs, sizeof(*pg->seqs), cmp_seq);
	rows = malloc((t->nr_rows ? t->nr_rows : 1) * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < pg->nr_seqs; i++) {
		memcpy(&rows[n], &t->rows[pg->seqs[i].first], pg->seqs[i].nr * sizeof(*rows));
		n += pg->seqs[i].nr;
	}
	free(t->rows);
	t->rows = rows;
	t->nr_rows = n;
	pg->cap_rows = n;
	return 0;
}

int sym_lines__parse(const struct sym_line_sections *sec, uint64_t offset, const char *comp_dir,
		     struct sym_line_table *ret)
{
	struct sym_line_table t = {0};
	struct program pg = {.t = &t};
	struct header h;
	struct cursor c;
	int err;

	if (!sec->line || offset >= sec->line_len)
		return -EINVAL;
	c = (struct cursor){.p = sec->line + offset, .end = sec->line + sec->line_len};
	err = read_header(&c, &h);
	if (err)
		goto out;
	err = read_tables(&c, sec, &h, comp_dir, &t);
	if (err)
		goto out;
	c = (struct cursor){.p = h.program, .end = h.end};
	err = run_program(&c, &h, &pg);
	/* Past the row cap the rows read so far are kept. */
	if (err == -E2BIG)
		err = 0;
	if (err)
		goto out;
	err = order_rows(&pg);
	if (err)
		goto out;
	t.bytes = pg.cap_rows * sizeof(*t.rows) + t.nr_files * sizeof(*t.files) + t.paths.cap;
	*ret = t;
	t = (struct sym_line_table){0};
out:
	free(pg.seqs);
	sym_lines__free(&t);
	return err;
}

const struct sym_line_row *sym_lines__find(const struct sym_line_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr_rows, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->rows[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || t->rows[lo - 1].end)
		return NULL;
	return &t->rows[lo - 1];
}

void sym_lines__free(struct sym_line_table *t)
{
	free(t->rows);
	free(t->files);
	free(t->paths.buf);
	memset(t, 0, sizeof(*t));
}
