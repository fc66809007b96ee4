// SPDX-License-Identifier: MIT
/*
 * DWARF line tables and inline chains through libdw.
 *
 * One struct sym_dwarf per debug file, shared by every mapping of the file
 * (the symbolizer caches it with the parsed ELF file, keyed by build-id).
 * The file is mapped by libelf (ELF_C_READ_MMAP, no fd kept). A file with
 * compressed DWARF (SHF_COMPRESSED zlib or zstd, .zdebug) is read from an
 * image in memory of only the sections we use, inflated (debug_image.c).
 *
 * Opening reads only the unit headers: a table of address ranges -> unit,
 * sorted by start (from each unit DIE's DW_AT_low_pc/high_pc/ranges, else
 * .debug_aranges), found by binary search. A unit is loaded on the first
 * lookup that lands in it:
 * - its line table (libdw's, sorted by address; rows are read in place by
 *   binary search, never copied) and its file names, made absolute with
 *   the compilation directory;
 * - one walk of its DIE tree (fast_walk(): our own reading of .debug_info
 *   and .debug_abbrev; libdw's walk_unit() for what it does not know)
 *   collecting every DW_TAG_subprogram and
 *   DW_TAG_inlined_subroutine that has code, as nodes (parent = nearest
 *   enclosing inlined/subprogram node, -1 for a subprogram) with their
 *   ranges and DIE offset. Names (through DW_AT_abstract_origin and
 *   DW_AT_specification, across units: LTO puts the abstract origins in
 *   other units) and call_file/line/column (the caller's position) are
 *   read from the DIEs of the chain at lookup: a few DIEs per lookup cost
 *   less than reading them for every function of the unit.
 *   All ranges are also sorted by (start, depth).
 * Lookup: the last range starting at or before the address; if it does
 * not contain the address, its node's ancestors are tried (the innermost
 * node containing an address is always an ancestor-or-self of that range's
 * node when ranges nest). The chain is that node up to its subprogram:
 * frame 0 gets the line-table row, each outer frame the call position of
 * the frame inside it.
 *
 * Limits: SYM_DWARF_MAX_UNITS units, SYM_DWARF_MAX_NODES nodes and
 * SYM_DWARF_MAX_RANGES ranges per unit, SYM_DWARF_MAX_DEPTH DIE nesting;
 * past them the rest is ignored (addresses stay named by the symbol table).
 * Memory is approximate in ->bytes: ours, the inflated image (its size is
 * known from the section headers before inflating anything, and a file
 * whose image would exceed the caller's max_inflate is refused with
 * -EFBIG), and an estimate of
 * libdw's per-unit memory (abbreviations, line rows, DIEs walked). The
 * caller may cap the memory of units loaded at once: the least recently
 * used ones are unloaded, and loaded again when looked up. The
 * mapped file's pages are dropped from our resident set after each pass
 * over it (release_pages()): they stay in the page cache.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolizer_internal.h"

#define LIBDW_LINE_BYTES 64 /* estimate of libdw's memory per line row */
#define LIBDW_DIE_BYTES	 8 /* estimate of libdw's memory per DIE walked (abbrevs, ...) */
#define LIBDW_UNIT_BYTES 1200 /* libdw per unit indexed (CU, abbrevs); measured on libc6-dbg */
#define NO_PARENT	 (-1)

/* Names and call positions are read from the DIE at lookup, not at load. */
struct dw_node {
	int32_t parent;
	uint32_t depth;
	uint32_t range_first; /* into unit->node_ranges */
	uint32_t nr_ranges;
	Dwarf_Off die_offset;
};

struct dw_range {
	uint64_t lo;
	uint64_t hi;
	uint32_t node;
	uint32_t depth;
};

struct dw_unit {
	Dwarf_Off die_offset;
	bool loaded;
	int err;
	struct sym_line_table lines; /* file names absolute where the comp dir allows */
	struct dw_node *nodes;
	size_t nr_nodes;
	size_t cap_nodes;
	struct dw_range *node_ranges; /* grouped by node, each group sorted */
	size_t nr_node_ranges;
	size_t cap_node_ranges;
	struct dw_range *sorted; /* every range, by (lo, depth) */
	size_t bytes; /* ours, freed when the unit is unloaded */
	uint64_t used; /* d->tick at its last lookup */
	bool libdw_counted; /* libdw's share, kept until dwarf_end(), is in d->bytes */
};

struct dw_aranges {
	uint64_t lo;
	uint64_t hi;
	uint32_t unit;
};

struct sym_dwarf {
	Elf *elf;
	Dwarf *dw;
	void *image; /* owned copy for sym_dwarf__open_mem */
	struct dw_unit *units;
	size_t nr_units;
	struct dw_aranges *ranges;
	size_t nr_ranges;
	struct sym_line_sections sec; /* for dwarf_lines.c, once libdw has inflated them */
	const uint8_t *info; /* .debug_info and .debug_abbrev as libdw left them, for fast_walk() */
	size_t info_len;
	const uint8_t *abbrev;
	size_t abbrev_len;
	size_t bytes;
	size_t unit_bytes; /* of that, units loaded now */
	size_t max_unit_bytes; /* 0: no cap */
	uint64_t tick;
	uint64_t unit_evictions;
	bool has_lines;
	bool has_inlines;
};

static int cmp_aranges(const void *a, const void *b)
{
	const struct dw_aranges *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct dw_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return 0;
}

static int add_aranges(struct sym_dwarf *d, size_t *cap, uint64_t lo, uint64_t hi, size_t unit)
{
	int err;

	if (lo >= hi || !lo)
		return 0;
	err = sym_grow((void **)&d->ranges, cap, d->nr_ranges, sizeof(*d->ranges),
		       SYM_DWARF_MAX_RANGES);
	if (err)
		return err;
	d->ranges[d->nr_ranges++] = (struct dw_aranges){.lo = lo, .hi = hi, .unit = (uint32_t)unit};
	return 0;
}

/* Units with .debug_aranges but no usable ranges on their DIE still get found. */
static int index_from_aranges(struct sym_dwarf *d, size_t *cap)
{
	Dwarf_Aranges *ar;
	Dwarf_Arange *one;
	Dwarf_Addr start;
	Dwarf_Word len;
	Dwarf_Off die_off;
	size_t n, i, lo, hi, mid;
	int err;

	if (dwarf_getaranges(d->dw, &ar, &n))
		return 0;
	for (i = 0; i < n; i++) {
		one = dwarf_onearange(ar, i);
		if (!one || dwarf_getarangeinfo(one, &start, &len, &die_off))
			continue;
		lo = 0;
		hi = d->nr_units;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (d->units[mid].die_offset < die_off)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == d->nr_units || d->units[lo].die_offset != die_off)
			continue;
		err = add_aranges(d, cap, start, start + len, lo);
		if (err)
			return err;
	}
	return 0;
}

static int build_index(struct sym_dwarf *d)
{
	Dwarf_Off off = 0, next, abbrev;
	size_t cap_units = 0, cap_ranges = 0, header_size, i;
	Dwarf_Addr base, lo, hi;
	Dwarf_Die cu;
	ptrdiff_t r;
	uint8_t addr_size, off_size;
	int err = 0, n;

	while (!dwarf_nextcu(d->dw, off, &next, &header_size, &abbrev, &addr_size, &off_size)) {
		if (next <= off)
			break;
		if (dwarf_offdie(d->dw, off + header_size, &cu)) {
			err = sym_grow((void **)&d->units, &cap_units, d->nr_units,
				       sizeof(*d->units), SYM_DWARF_MAX_UNITS);
			if (err == -E2BIG)
				break;
			if (err)
				return err;
			memset(&d->units[d->nr_units], 0, sizeof(d->units[0]));
			d->units[d->nr_units++].die_offset = off + header_size;
		}
		off = next;
	}
	for (i = 0; i < d->nr_units; i++) {
		if (!dwarf_offdie(d->dw, d->units[i].die_offset, &cu))
			continue;
		if (dwarf_hasattr(&cu, DW_AT_stmt_list))
			d->has_lines = true;
		r = 0;
		for (n = 0; n < SYM_DWARF_MAX_UNIT_RANGES; n++) {
			r = dwarf_ranges(&cu, r, &base, &lo, &hi);
			if (r <= 0)
				break;
			err = add_aranges(d, &cap_ranges, lo, hi, i);
			if (err)
				return err == -E2BIG ? 0 : err;
		}
	}
	if (!d->nr_ranges) {
		err = index_from_aranges(d, &cap_ranges);
		if (err && err != -E2BIG)
			return err;
	}
	if (d->nr_ranges)
		qsort(d->ranges, d->nr_ranges, sizeof(*d->ranges), cmp_aranges);
	/* Units with code are walked for inlined instances on first use. */
	d->has_inlines = d->nr_ranges > 0;
	d->bytes += cap_units * sizeof(*d->units) + cap_ranges * sizeof(*d->ranges) +
		    d->nr_units * LIBDW_UNIT_BYTES;
	return 0;
}

/*
 * What libdw will inflate when it opens d: every SHF_COMPRESSED section and
 * every GNU-style .zdebug_* one ("ZLIB" + 64-bit big-endian size). Read
 * before dwarf_begin_elf(), which inflates them all and clears the flags.
 */
static size_t inflated_bytes(struct sym_dwarf *d)
{
	const unsigned char *raw;
	Elf_Scn *scn = NULL;
	const char *name;
	uint64_t size = 0, one;
	size_t shstrndx, i;
	GElf_Shdr shdr;
	GElf_Chdr chdr;
	Elf_Data *data;

	if (elf_getshdrstrndx(d->elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(d->elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		one = 0;
		name = elf_strptr(d->elf, shstrndx, shdr.sh_name);
		if (shdr.sh_flags & SHF_COMPRESSED) {
			if (gelf_getchdr(scn, &chdr))
				one = chdr.ch_size;
		} else if (name && !strncmp(name, ".zdebug_", 8)) {
			data = elf_rawdata(scn, NULL);
			raw = data ? data->d_buf : NULL;
			if (raw && data->d_size >= 12 && !memcmp(raw, "ZLIB", 4)) {
				for (i = 4; i < 12; i++)
					one = one << 8 | raw[i];
			}
		}
		/* A corrupt header must not wrap the sum: such a file is over any cap. */
		if (one > SYM_ELF_MAX_FILE_BYTES)
			return SIZE_MAX;
		size += one;
	}
	return size > SIZE_MAX ? SIZE_MAX : (size_t)size;
}

void sym_drop_pages(const void *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start, end;

	if (!p || !len || page <= 0)
		return;
	/* Whole pages inside [p, p + len) only: the edges may hold other data. */
	start = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
	end = ((uintptr_t)p + len) & ~((uintptr_t)page - 1);
	/* Advice only: on failure the pages just stay resident. */
	if (end > start)
		madvise((void *)start, end - start, MADV_DONTNEED);
}

/*
 * The file is mapped read-only and private, so its pages are the page
 * cache's: dropping them from this process costs nothing but a minor fault
 * when libdw reads them again. Done after each pass over the file (the
 * index, a unit's load), or a file with large uncompressed DWARF keeps
 * every page it was ever read through resident in the profiler.
 */
static void release_pages(struct sym_dwarf *d)
{
	size_t size = 0;
	char *raw;

	if (d->image || !d->elf)
		return;
	raw = elf_rawfile(d->elf, &size);
	sym_drop_pages(raw, size);
}

/* .debug_line, its string sections, .debug_info and .debug_abbrev as libdw left them. */
static void find_line_sections(struct sym_dwarf *d)
{
	Elf_Scn *scn = NULL;
	const char *name;
	GElf_Shdr shdr;
	Elf_Data *data;
	size_t shstrndx;

	if (elf_getshdrstrndx(d->elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(d->elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS ||
		    (shdr.sh_flags & SHF_COMPRESSED))
			continue;
		name = elf_strptr(d->elf, shstrndx, shdr.sh_name);
		if (!name || strncmp(name, ".debug_", 7) || !(data = elf_getdata(scn, NULL)) ||
		    !data->d_buf)
			continue;
		if (!strcmp(name, ".debug_line")) {
			d->sec.line = data->d_buf;
			d->sec.line_len = data->d_size;
		} else if (!strcmp(name, ".debug_line_str")) {
			d->sec.line_str = data->d_buf;
			d->sec.line_str_len = data->d_size;
		} else if (!strcmp(name, ".debug_str")) {
			d->sec.str = data->d_buf;
			d->sec.str_len = data->d_size;
		} else if (!strcmp(name, ".debug_info")) {
			d->info = data->d_buf;
			d->info_len = data->d_size;
		} else if (!strcmp(name, ".debug_abbrev")) {
			d->abbrev = data->d_buf;
			d->abbrev_len = data->d_size;
		}
	}
}

static int open_elf(struct sym_dwarf *d, size_t max_inflate)
{
	size_t inflate = inflated_bytes(d);
	int err = 0;

	if (max_inflate && inflate > max_inflate) {
		err = -EFBIG;
		goto out;
	}
	d->dw = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dw) {
		err = -ENODATA;
		goto out;
	}
	find_line_sections(d);
	/* Inflated sections live as long as d->dw: part of what d holds. */
	d->bytes = sizeof(*d) + inflate;
	err = build_index(d);
	if (err)
		goto out;
	if (!d->nr_units)
		err = -ENODATA;
out:
	return err;
}

int sym_dwarf__open_fd(int fd, size_t max_inflate, struct sym_dwarf **ret)
{
	struct sym_dwarf *d;
	size_t image_len = 0;
	void *image = NULL;
	struct stat sb;
	int err = 0;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (fstat(fd, &sb)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > SYM_ELF_MAX_FILE_BYTES) {
		err = S_ISREG(sb.st_mode) ? -EFBIG : -EINVAL;
		goto out;
	}
	elf_version(EV_CURRENT);
	d->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	/* Compressed DWARF: only what we read, inflated by us (debug_image.c). */
	err = sym_dwarf__image(d->elf, max_inflate, true, &image, &image_len);
	if (!err) {
		elf_end(d->elf);
		d->image = image;
		d->elf = elf_memory(image, image_len);
		if (!d->elf) {
			err = -ENOEXEC;
			goto out;
		}
		err = open_elf(d, 0);
		d->bytes += image_len;
	} else if (err == -ENOENT) {
		err = open_elf(d, max_inflate);
	}
	if (err)
		goto out;
	/* Everything is mapped or in memory: the caller may close fd. */
	elf_cntl(d->elf, ELF_C_FDDONE);
	release_pages(d);
	*ret = d;
	d = NULL;
out:
	sym_dwarf__free(d);
	return err;
}

int sym_dwarf__open_mem(const void *buf, size_t len, struct sym_dwarf **ret)
{
	struct sym_dwarf *d;
	size_t image_len = 0;
	void *image = NULL;
	int err = 0;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	/* libdw may keep pointers into the image and libelf may write to it. */
	d->image = malloc(len ? len : 1);
	if (!d->image) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(d->image, buf, len);
	elf_version(EV_CURRENT);
	d->elf = elf_memory(d->image, len);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	err = sym_dwarf__image(d->elf, 0, false, &image, &image_len);
	if (!err) {
		elf_end(d->elf);
		free(d->image);
		d->image = image;
		len = image_len;
		d->elf = elf_memory(image, image_len);
		if (!d->elf) {
			err = -ENOEXEC;
			goto out;
		}
	} else if (err != -ENOENT) {
		goto out;
	}
	err = open_elf(d, 0);
	if (err)
		goto out;
	d->bytes += len;
	*ret = d;
	d = NULL;
out:
	sym_dwarf__free(d);
	return err;
}

static void unit_free(struct dw_unit *u)
{
	sym_lines__free(&u->lines);
	free(u->nodes);
	free(u->node_ranges);
	free(u->sorted);
}

void sym_dwarf__free(struct sym_dwarf *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nr_units; i++)
		unit_free(&d->units[i]);
	free(d->units);
	free(d->ranges);
	if (d->dw)
		dwarf_end(d->dw);
	if (d->elf)
		elf_end(d->elf);
	free(d->image);
	free(d);
}

size_t sym_dwarf__bytes(const struct sym_dwarf *d)
{
	return d ? d->bytes : 0;
}

bool sym_dwarf__has_lines(const struct sym_dwarf *d)
{
	return d && d->has_lines;
}

bool sym_dwarf__has_inlines(const struct sym_dwarf *d)
{
	return d && d->has_inlines;
}

static bool is_absolute(const char *p)
{
	return p && p[0] == '/';
}

/*
 * libdw's reading of the unit's line table, for what dwarf_lines.c does not
 * handle: file names (relative ones joined to the compilation directory)
 * and rows copied into u->lines.
 */
static int load_files_libdw(struct dw_unit *u, Dwarf_Die *cu)
{
	const char *const *dirs = NULL;
	const char *name, *comp_dir = NULL;
	size_t nr_dirs = 0, i, dlen, nlen, nr;
	uint32_t *offs = NULL;
	Dwarf_Files *files;
	Dwarf_Attribute a;
	char *tmp = NULL;
	int err = 0;

	if (dwarf_getsrcfiles(cu, &files, &nr) || !nr)
		return 0;
	if (!dwarf_getsrcdirs(files, &dirs, &nr_dirs) && nr_dirs && is_absolute(dirs[0]))
		comp_dir = dirs[0];
	if (!comp_dir) {
		comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
		if (!is_absolute(comp_dir))
			comp_dir = NULL;
	}
	u->lines.files = calloc(nr, sizeof(*u->lines.files));
	offs = calloc(nr, sizeof(*offs));
	tmp = malloc(2 * SYM_ELF_MAX_NAME + 2);
	if (!u->lines.files || !offs || !tmp || sym_arena__add(&u->lines.paths, "", 0) ||
	    u->lines.paths.len != 1) {
		err = -ENOMEM;
		goto out;
	}
	u->lines.nr_files = nr;
	/* Offsets first: the arena moves as it grows. */
	for (i = 0; i < nr; i++) {
		name = dwarf_filesrc(files, i, NULL, NULL);
		u->lines.files[i] = name;
		if (!name || !name[0] || is_absolute(name) || !comp_dir)
			continue;
		dlen = strnlen(comp_dir, SYM_ELF_MAX_NAME + 1);
		nlen = strnlen(name, SYM_ELF_MAX_NAME + 1);
		if (dlen > SYM_ELF_MAX_NAME || nlen > SYM_ELF_MAX_NAME)
			continue;
		memcpy(tmp, comp_dir, dlen);
		tmp[dlen] = '/';
		memcpy(tmp + dlen + 1, name, nlen);
		offs[i] = sym_arena__add(&u->lines.paths, tmp, dlen + 1 + nlen);
		if (!offs[i]) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		if (offs[i])
			u->lines.files[i] = u->lines.paths.buf + offs[i];
	}
out:
	free(offs);
	free(tmp);
	return err;
}

static int load_lines_libdw(struct dw_unit *u, Dwarf_Die *cu)
{
	struct sym_line_row *r;
	Dwarf_Files *files;
	Dwarf_Lines *lines;
	Dwarf_Line *l;
	size_t nr, i, idx;
	Dwarf_Addr addr;
	int line, col, err;
	bool end;

	err = load_files_libdw(u, cu);
	if (err)
		return err;
	if (dwarf_getsrclines(cu, &lines, &nr) || !nr)
		return 0;
	if (nr > SYM_DWARF_MAX_LINE_ROWS)
		nr = SYM_DWARF_MAX_LINE_ROWS;
	u->lines.rows = calloc(nr, sizeof(*u->lines.rows));
	if (!u->lines.rows)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		l = dwarf_onesrcline(lines, i);
		if (!l || dwarf_lineaddr(l, &addr))
			continue;
		r = &u->lines.rows[u->lines.nr_rows++];
		r->addr = addr;
		r->line = !dwarf_lineno(l, &line) && line > 0 ? (uint32_t)line : 0;
		r->column = !dwarf_linecol(l, &col) && col > 0 ? (uint32_t)col : 0;
		r->file = !dwarf_line_file(l, &files, &idx) && idx < UINT32_MAX ? (uint32_t)idx :
										  UINT32_MAX;
		r->end = !dwarf_lineendsequence(l, &end) && end;
	}
	/* libdw's own rows stay with its CU: counted as well. */
	u->lines.bytes = nr * (sizeof(*u->lines.rows) + LIBDW_LINE_BYTES) +
			 u->lines.nr_files * sizeof(*u->lines.files) + u->lines.paths.cap;
	return 0;
}

/* The unit's line table: our reader, else libdw's. */
static int load_lines(struct sym_dwarf *d, struct dw_unit *u, Dwarf_Die *cu)
{
	Dwarf_Attribute a;
	Dwarf_Word off;
	const char *comp_dir;

	if (!dwarf_attr(cu, DW_AT_stmt_list, &a) || dwarf_formudata(&a, &off))
		return 0;
	comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
	if (d->sec.line && !sym_lines__parse(&d->sec, off, comp_dir, &u->lines))
		return 0;
	return load_lines_libdw(u, cu);
}

static const char *attr_string(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute a;

	return dwarf_formstring(dwarf_attr_integrate(die, name, &a));
}

static uint32_t attr_udata(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(die, name, &a) || dwarf_formudata(&a, &w) || w > UINT32_MAX)
		return 0;
	return (uint32_t)w;
}

struct walk {
	struct sym_dwarf *d;
	struct dw_unit *u;
	size_t dies;
	bool sorted; /* node_ranges so far are in (lo, depth) order */
};

static bool range_before(const struct dw_range *x, const struct dw_range *y)
{
	if (x->lo != y->lo)
		return x->lo < y->lo;
	if (x->depth != y->depth)
		return x->depth < y->depth;
	return x->node < y->node;
}

/*
 * Sorts r[0..n) by (lo, depth, node) with tmp[0..n) as scratch: a bottom-up
 * merge of the runs already in order. A unit's ranges come in a few long
 * ascending runs (functions in address order, their cold parts in another),
 * which qsort() with its comparator calls took ten times longer to sort.
 */
static void sort_ranges(struct dw_range *r, struct dw_range *tmp, size_t n)
{
	struct dw_range *src = r, *dst = tmp, *swap;
	size_t i, a, b, a_end, b_end, out;
	bool merged;

	do {
		merged = false;
		for (i = 0, out = 0; i < n;) {
			a = i;
			a_end = a + 1;
			while (a_end < n && !range_before(&src[a_end], &src[a_end - 1]))
				a_end++;
			b = b_end = a_end;
			while (b_end < n &&
			       (b_end == b || !range_before(&src[b_end], &src[b_end - 1])))
				b_end++;
			if (b < b_end)
				merged = true;
			while (a < a_end && b < b_end)
				dst[out++] = range_before(&src[b], &src[a]) ? src[b++] : src[a++];
			while (a < a_end)
				dst[out++] = src[a++];
			while (b < b_end)
				dst[out++] = src[b++];
			i = b_end;
		}
		swap = src;
		src = dst;
		dst = swap;
	} while (merged);
	if (src != r)
		memcpy(r, src, n * sizeof(*r));
}

/* Adds a node for die with its ranges; *ret_node is -1 when it has no code. */
static int add_node(struct walk *w, Dwarf_Die *die, int tag, int32_t parent, int32_t *ret_node)
{
	struct dw_unit *u = w->u;
	size_t first = u->nr_node_ranges, n;
	Dwarf_Addr base, lo, hi;
	struct dw_node *node;
	ptrdiff_t r = 0;
	int err;

	*ret_node = NO_PARENT;
	for (n = 0; n < SYM_DWARF_MAX_UNIT_RANGES; n++) {
		r = dwarf_ranges(die, r, &base, &lo, &hi);
		if (r <= 0)
			break;
		if (lo >= hi)
			continue;
		err = sym_grow((void **)&u->node_ranges, &u->cap_node_ranges, u->nr_node_ranges,
			       sizeof(*u->node_ranges), SYM_DWARF_MAX_RANGES);
		if (err)
			return err;
		u->node_ranges[u->nr_node_ranges++] =
			(struct dw_range){.lo = lo, .hi = hi, .node = (uint32_t)u->nr_nodes};
	}
	if (u->nr_node_ranges == first)
		return 0;
	err = sym_grow((void **)&u->nodes, &u->cap_nodes, u->nr_nodes, sizeof(*u->nodes),
		       SYM_DWARF_MAX_NODES);
	if (err) {
		u->nr_node_ranges = first;
		return err;
	}
	node = &u->nodes[u->nr_nodes];
	memset(node, 0, sizeof(*node));
	node->parent = tag == DW_TAG_inlined_subroutine ? parent : NO_PARENT;
	node->depth = node->parent == NO_PARENT ? 0 : u->nodes[parent].depth + 1;
	node->range_first = (uint32_t)first;
	node->nr_ranges = (uint32_t)(u->nr_node_ranges - first);
	node->die_offset = dwarf_dieoffset(die);
	for (n = first; n < u->nr_node_ranges; n++)
		u->node_ranges[n].depth = node->depth;
	if (node->nr_ranges > 1)
		qsort(&u->node_ranges[first], node->nr_ranges, sizeof(*u->node_ranges), cmp_range);
	/* Most units list their functions in address order: then no sort is needed. */
	if (w->sorted && first && cmp_range(&u->node_ranges[first - 1], &u->node_ranges[first]) > 0)
		w->sorted = false;
	for (n = first + 1; w->sorted && n < u->nr_node_ranges; n++) {
		if (cmp_range(&u->node_ranges[n - 1], &u->node_ranges[n]) > 0)
			w->sorted = false;
	}
	*ret_node = (int32_t)u->nr_nodes++;
	return 0;
}

static bool walk_into(int tag)
{
	switch (tag) {
	case DW_TAG_lexical_block:
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
		return true;
	default:
		return false;
	}
}

/* Iterative preorder walk of the unit's DIEs, bounded in depth and count. */
static int walk_unit(struct walk *w, Dwarf_Die *cu)
{
	Dwarf_Die stack[SYM_DWARF_MAX_DEPTH];
	int32_t parents[SYM_DWARF_MAX_DEPTH];
	int32_t node, parent;
	int depth = 0, tag, err = 0, r;
	bool descend;

	if (dwarf_child(cu, &stack[0]))
		return 0;
	parents[0] = NO_PARENT;
	for (;;) {
		if (++w->dies > SYM_DWARF_MAX_DIES)
			return 0;
		parent = parents[depth];
		tag = dwarf_tag(&stack[depth]);
		descend = false;
		node = parent;
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
		    tag == DW_TAG_entry_point) {
			/* An inlined instance outside any function is dropped, not made a root. */
			if (tag != DW_TAG_inlined_subroutine || parent != NO_PARENT) {
				err = add_node(w, &stack[depth], tag, parent, &node);
				if (err)
					return err == -E2BIG ? 0 : err;
				descend = node != NO_PARENT;
			}
		} else if (walk_into(tag)) {
			descend = true;
		}
		if (descend && depth + 1 < SYM_DWARF_MAX_DEPTH &&
		    !dwarf_child(&stack[depth], &stack[depth + 1])) {
			parents[depth + 1] = node;
			depth++;
			continue;
		}
		for (;;) {
			r = dwarf_siblingof(&stack[depth], &stack[depth]);
			if (r == 0)
				break;
			/* No more siblings (or an error): back to the parent's next sibling. */
			if (depth == 0)
				return 0;
			depth--;
		}
	}
}

/*
 * The same walk as walk_unit(), reading .debug_info and .debug_abbrev
 * ourselves: libdw looks every DIE's abbreviation up in a locked hash table,
 * which dominated loading a unit. Only DIEs that may have code (a
 * subprogram, inlined instance or entry point with DW_AT_low_pc or
 * DW_AT_ranges) go through libdw, for their ranges (add_node()). Returns
 * -ENOTSUP for anything unusual (a form, unit or abbreviation table it does
 * not know, a DIE past the unit): the caller then walks with libdw.
 */
#define FAST_MAX_ABBREV_CODE 65536
#define FAST_MAX_ATTR_SPECS  (1u << 20)

struct fast_abbrev {
	uint32_t tag;
	uint32_t first_spec; /* into specs */
	uint32_t nr_specs;
	bool children;
	bool has_code; /* DW_AT_low_pc or DW_AT_ranges */
};

struct fast_spec {
	uint32_t name;
	uint32_t form;
};

struct fast_reader {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
};

static uint64_t fast_uleb(struct fast_reader *r)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t b;

	do {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return v;
}

static uint64_t fast_fixed(struct fast_reader *r, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		r->p = r->end;
		return 0;
	}
	for (i = 0; i < n; i++) /* little-endian: x86-64 and arm64 */
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static void fast_skip(struct fast_reader *r, uint64_t n)
{
	if ((uint64_t)(r->end - r->p) < n) {
		r->bad = true;
		r->p = r->end;
		return;
	}
	r->p += n;
}

/* Skips one attribute value; *ret_ref gets a unit-relative reference's value. -ENOTSUP if unknown. */
static int fast_skip_form(struct fast_reader *r, uint64_t form, unsigned int version,
			  unsigned int addr_size, unsigned int offset_size, uint64_t *ret_ref)
{
	int indirect;

	for (indirect = 0; indirect < 4; indirect++) {
		switch (form) {
		case DW_FORM_flag_present:
		case DW_FORM_implicit_const:
			return 0;
		case DW_FORM_addr:
			fast_skip(r, addr_size);
			return 0;
		case DW_FORM_data1:
		case DW_FORM_flag:
		case DW_FORM_strx1:
		case DW_FORM_addrx1:
			fast_skip(r, 1);
			return 0;
		case DW_FORM_ref1:
			*ret_ref = fast_fixed(r, 1);
			return 0;
		case DW_FORM_data2:
		case DW_FORM_strx2:
		case DW_FORM_addrx2:
			fast_skip(r, 2);
			return 0;
		case DW_FORM_ref2:
			*ret_ref = fast_fixed(r, 2);
			return 0;
		case DW_FORM_strx3:
		case DW_FORM_addrx3:
			fast_skip(r, 3);
			return 0;
		case DW_FORM_data4:
		case DW_FORM_ref_sup4:
		case DW_FORM_strx4:
		case DW_FORM_addrx4:
			fast_skip(r, 4);
			return 0;
		case DW_FORM_ref4:
			*ret_ref = fast_fixed(r, 4);
			return 0;
		case DW_FORM_data8:
		case DW_FORM_ref_sig8:
		case DW_FORM_ref_sup8:
			fast_skip(r, 8);
			return 0;
		case DW_FORM_ref8:
			*ret_ref = fast_fixed(r, 8);
			return 0;
		case DW_FORM_data16:
			fast_skip(r, 16);
			return 0;
		case DW_FORM_ref_udata:
			*ret_ref = fast_uleb(r);
			return 0;
		case DW_FORM_sdata:
		case DW_FORM_udata:
		case DW_FORM_strx:
		case DW_FORM_addrx:
		case DW_FORM_loclistx:
		case DW_FORM_rnglistx:
		case DW_FORM_GNU_addr_index:
		case DW_FORM_GNU_str_index:
			fast_uleb(r);
			return 0;
		case DW_FORM_strp:
		case DW_FORM_sec_offset:
		case DW_FORM_line_strp:
		case DW_FORM_strp_sup:
		case DW_FORM_GNU_ref_alt:
		case DW_FORM_GNU_strp_alt:
			fast_skip(r, offset_size);
			return 0;
		case DW_FORM_ref_addr:
			fast_skip(r, version <= 2 ? addr_size : offset_size);
			return 0;
		case DW_FORM_string: {
			const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));

			if (!nul) {
				r->bad = true;
				r->p = r->end;
			} else {
				r->p = nul + 1;
			}
			return 0;
		}
		case DW_FORM_block1:
			fast_skip(r, fast_fixed(r, 1));
			return 0;
		case DW_FORM_block2:
			fast_skip(r, fast_fixed(r, 2));
			return 0;
		case DW_FORM_block4:
			fast_skip(r, fast_fixed(r, 4));
			return 0;
		case DW_FORM_block:
		case DW_FORM_exprloc:
			fast_skip(r, fast_uleb(r));
			return 0;
		case DW_FORM_indirect:
			form = fast_uleb(r);
			continue;
		default:
			return -ENOTSUP;
		}
	}
	return -ENOTSUP;
}

struct fast_unit {
	const uint8_t *start; /* unit header: references are relative to it */
	const uint8_t *end;
	unsigned int version;
	unsigned int addr_size;
	unsigned int offset_size;
	struct fast_abbrev *abbrevs; /* by code; tag 0: no such code */
	size_t nr_abbrevs;
	struct fast_spec *specs;
	size_t nr_specs;
};

static int fast_read_abbrevs(struct sym_dwarf *d, struct fast_unit *fu, uint64_t offset)
{
	struct fast_reader r = {.p = d->abbrev + offset, .end = d->abbrev + d->abbrev_len};
	size_t cap_specs = 0;
	uint64_t code, name, form;
	struct fast_abbrev *a;
	int err;

	if (offset >= d->abbrev_len)
		return -ENOTSUP;
	for (;;) {
		code = fast_uleb(&r);
		if (r.bad || code >= FAST_MAX_ABBREV_CODE)
			return -ENOTSUP;
		if (!code)
			return 0;
		if (code >= fu->nr_abbrevs) {
			size_t n = fu->nr_abbrevs ? fu->nr_abbrevs : 64;
			void *grown;

			while (n <= code)
				n *= 2;
			grown = realloc(fu->abbrevs, n * sizeof(*fu->abbrevs));
			if (!grown)
				return -ENOMEM;
			fu->abbrevs = grown;
			memset(fu->abbrevs + fu->nr_abbrevs, 0,
			       (n - fu->nr_abbrevs) * sizeof(*fu->abbrevs));
			fu->nr_abbrevs = n;
		}
		a = &fu->abbrevs[code];
		a->tag = (uint32_t)fast_uleb(&r);
		a->children = fast_fixed(&r, 1) != 0;
		a->first_spec = (uint32_t)fu->nr_specs;
		a->nr_specs = 0;
		a->has_code = false;
		if (!a->tag)
			return -ENOTSUP;
		for (;;) {
			name = fast_uleb(&r);
			form = fast_uleb(&r);
			if (r.bad)
				return -ENOTSUP;
			if (!name && !form)
				break;
			if (form == DW_FORM_implicit_const)
				fast_uleb(&r); /* sleb128: skipped alike */
			err = sym_grow((void **)&fu->specs, &cap_specs, fu->nr_specs,
				       sizeof(*fu->specs), FAST_MAX_ATTR_SPECS);
			if (err)
				return err == -E2BIG ? -ENOTSUP : err;
			fu->specs[fu->nr_specs++] =
				(struct fast_spec){.name = (uint32_t)name, .form = (uint32_t)form};
			a->nr_specs++;
			if (name == DW_AT_low_pc || name == DW_AT_ranges)
				a->has_code = true;
		}
	}
}

/*
 * Reads the DIE at r->p: its abbreviation (NULL for a null entry) and the
 * unit-relative offset of its next sibling from DW_AT_sibling (0: none).
 */
static int fast_read_die(const struct fast_unit *fu, struct fast_reader *r,
			 const struct fast_abbrev **ret_abbrev, uint64_t *ret_sibling)
{
	const struct fast_abbrev *a;
	const struct fast_spec *sp;
	uint64_t code, ref;
	uint32_t i;
	int err;

	*ret_abbrev = NULL;
	*ret_sibling = 0;
	code = fast_uleb(r);
	if (r->bad)
		return -ENOTSUP;
	if (!code)
		return 0;
	if (code >= fu->nr_abbrevs || !fu->abbrevs[code].tag)
		return -ENOTSUP;
	a = &fu->abbrevs[code];
	for (i = 0; i < a->nr_specs; i++) {
		sp = &fu->specs[a->first_spec + i];
		ref = 0;
		err = fast_skip_form(r, sp->form, fu->version, fu->addr_size, fu->offset_size,
				     &ref);
		if (err || r->bad)
			return -ENOTSUP;
		if (sp->name == DW_AT_sibling)
			*ret_sibling = ref;
	}
	*ret_abbrev = a;
	return 0;
}

static int fast_walk(struct walk *w, Dwarf_Die *cu)
{
	struct fast_unit fu = {0};
	struct fast_reader r;
	const struct fast_abbrev *a;
	int32_t parents[SYM_DWARF_MAX_DEPTH];
	uint64_t sibling, unit_off, len, abbrev_off;
	Dwarf_Off die_off = dwarf_dieoffset(cu);
	Dwarf_Die die;
	int32_t node, parent;
	int depth = 0, skip_depth, err;
	bool descend;

	if (!w->d->info || !w->d->abbrev || die_off < dwarf_cuoffset(cu) ||
	    die_off >= w->d->info_len)
		return -ENOTSUP;
	unit_off = die_off - dwarf_cuoffset(cu);
	r = (struct fast_reader){.p = w->d->info + unit_off, .end = w->d->info + w->d->info_len};
	len = fast_fixed(&r, 4);
	fu.offset_size = 4;
	if (len == 0xffffffff) {
		len = fast_fixed(&r, 8);
		fu.offset_size = 8;
	}
	if (r.bad || len > (uint64_t)(r.end - r.p))
		return -ENOTSUP;
	fu.start = w->d->info + unit_off;
	fu.end = r.p + len;
	fu.version = (unsigned int)fast_fixed(&r, 2);
	if (fu.version >= 5) {
		uint64_t type = fast_fixed(&r, 1);

		if (type != DW_UT_compile && type != DW_UT_partial)
			return -ENOTSUP;
		fu.addr_size = (unsigned int)fast_fixed(&r, 1);
		abbrev_off = fast_fixed(&r, fu.offset_size);
	} else if (fu.version >= 2) {
		abbrev_off = fast_fixed(&r, fu.offset_size);
		fu.addr_size = (unsigned int)fast_fixed(&r, 1);
	} else {
		return -ENOTSUP;
	}
	if (r.bad || (fu.addr_size != 4 && fu.addr_size != 8))
		return -ENOTSUP;
	err = fast_read_abbrevs(w->d, &fu, abbrev_off);
	if (err)
		goto out;
	/* The unit DIE, then its children. */
	r = (struct fast_reader){.p = w->d->info + die_off, .end = fu.end};
	err = fast_read_die(&fu, &r, &a, &sibling);
	if (err || !a || !a->children)
		goto out;
	parents[0] = NO_PARENT;
	while (r.p < fu.end) {
		const uint8_t *at = r.p;

		err = fast_read_die(&fu, &r, &a, &sibling);
		if (err)
			goto out;
		if (!a) {
			/* End of this level's siblings. */
			if (depth == 0)
				break;
			depth--;
			continue;
		}
		if (++w->dies > SYM_DWARF_MAX_DIES)
			break;
		parent = parents[depth];
		node = parent;
		descend = false;
		if (a->tag == DW_TAG_subprogram || a->tag == DW_TAG_inlined_subroutine ||
		    a->tag == DW_TAG_entry_point) {
			if (a->has_code &&
			    (a->tag != DW_TAG_inlined_subroutine || parent != NO_PARENT)) {
				if (!dwarf_offdie(w->d->dw, (Dwarf_Off)(at - w->d->info), &die)) {
					err = -ENOTSUP;
					goto out;
				}
				err = add_node(w, &die, (int)a->tag, parent, &node);
				if (err) {
					if (err == -E2BIG)
						err = 0;
					goto out;
				}
				descend = node != NO_PARENT;
			}
		} else {
			descend = walk_into((int)a->tag);
		}
		if (!a->children)
			continue;
		if (descend && depth + 1 < SYM_DWARF_MAX_DEPTH) {
			parents[++depth] = node;
			continue;
		}
		/* Skip the subtree: by DW_AT_sibling, else DIE by DIE. */
		if (sibling) {
			if (sibling >= (uint64_t)(fu.end - fu.start) || fu.start + sibling <= at) {
				err = -ENOTSUP;
				goto out;
			}
			r.p = fu.start + sibling;
			continue;
		}
		for (skip_depth = 1; skip_depth > 0;) {
			err = fast_read_die(&fu, &r, &a, &sibling);
			if (err)
				goto out;
			if (!a)
				skip_depth--;
			else if (a->children)
				skip_depth++;
		}
	}
	err = 0;
out:
	free(fu.abbrevs);
	free(fu.specs);
	return err;
}

static int load_unit(struct sym_dwarf *d, struct dw_unit *u)
{
	struct walk w = {.d = d, .u = u, .sorted = true};
	struct dw_range *tmp;
	Dwarf_Die cu;
	int err = 0;

	u->loaded = true;
	if (!dwarf_offdie(d->dw, u->die_offset, &cu)) {
		err = -ENODATA;
		goto out;
	}
	err = load_lines(d, u, &cu);
	if (err)
		goto out;
	err = fast_walk(&w, &cu);
	if (err == -ENOTSUP) {
		/* A form or layout fast_walk() does not know: libdw walks it all again. */
		u->nr_nodes = u->nr_node_ranges = 0;
		w.sorted = true;
		err = walk_unit(&w, &cu);
	}
	if (err)
		goto out;
	if (u->nr_node_ranges) {
		u->sorted = malloc(u->nr_node_ranges * sizeof(*u->sorted));
		if (!u->sorted) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(u->sorted, u->node_ranges, u->nr_node_ranges * sizeof(*u->sorted));
		if (!w.sorted) {
			tmp = malloc(u->nr_node_ranges * sizeof(*tmp));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			sort_ranges(u->sorted, tmp, u->nr_node_ranges);
			free(tmp);
		}
	}
out:
	if (err) {
		u->err = err;
		free(u->nodes);
		free(u->node_ranges);
		free(u->sorted);
		u->nodes = NULL;
		u->node_ranges = NULL;
		u->sorted = NULL;
		u->nr_nodes = u->nr_node_ranges = u->cap_nodes = u->cap_node_ranges = 0;
	}
	release_pages(d);
	u->bytes = u->lines.bytes + u->cap_nodes * sizeof(*u->nodes) +
		   u->cap_node_ranges * sizeof(*u->node_ranges) +
		   u->nr_node_ranges * sizeof(*u->sorted);
	d->unit_bytes += u->bytes;
	d->bytes += u->bytes;
	if (!u->libdw_counted) {
		d->bytes += w.dies * LIBDW_DIE_BYTES;
		u->libdw_counted = true;
	}
	return err;
}

/* Back to its state before the first lookup; libdw's share stays. */
static void unload_unit(struct sym_dwarf *d, struct dw_unit *u)
{
	Dwarf_Off die_offset = u->die_offset;

	d->unit_bytes -= u->bytes;
	d->bytes -= u->bytes;
	unit_free(u);
	memset(u, 0, sizeof(*u));
	u->die_offset = die_offset;
	u->libdw_counted = true;
	d->unit_evictions++;
}

/*
 * Past the cap, unloads the least recently used units but keep down to
 * three quarters of it: one linear pass per unit unloaded, paid only after
 * a load, which costs far more.
 */
static void trim_units(struct sym_dwarf *d, const struct dw_unit *keep)
{
	struct dw_unit *cold;
	size_t i;

	if (!d->max_unit_bytes || d->unit_bytes <= d->max_unit_bytes)
		return;
	while (d->unit_bytes > d->max_unit_bytes / 4 * 3) {
		cold = NULL;
		for (i = 0; i < d->nr_units; i++) {
			if (d->units[i].loaded && &d->units[i] != keep &&
			    (!cold || d->units[i].used < cold->used))
				cold = &d->units[i];
		}
		if (!cold)
			break;
		unload_unit(d, cold);
	}
}

void sym_dwarf__set_unit_cap(struct sym_dwarf *d, size_t max_bytes)
{
	if (!d)
		return;
	d->max_unit_bytes = max_bytes;
	trim_units(d, NULL);
}

uint64_t sym_dwarf__unit_evictions(const struct sym_dwarf *d)
{
	return d ? d->unit_evictions : 0;
}

/* The unit whose ranges contain addr, or NULL. */
static struct dw_unit *find_unit(struct sym_dwarf *d, uint64_t addr)
{
	size_t lo = 0, hi = d->nr_ranges, mid, i;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (d->ranges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Unit ranges seldom overlap; a few earlier ones may still contain addr. */
	for (i = lo; i > 0 && lo - i < 4; i--) {
		if (addr < d->ranges[i - 1].hi)
			return &d->units[d->ranges[i - 1].unit];
	}
	return NULL;
}

static bool node_contains(const struct dw_unit *u, const struct dw_node *n, uint64_t addr)
{
	const struct dw_range *r = &u->node_ranges[n->range_first];
	size_t lo = 0, hi = n->nr_ranges, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && addr < r[lo - 1].hi;
}

static int32_t innermost_node(const struct dw_unit *u, uint64_t addr)
{
	size_t lo = 0, hi = u->nr_node_ranges, mid;
	int32_t node;
	unsigned int steps;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u->sorted[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NO_PARENT;
	node = (int32_t)u->sorted[lo - 1].node;
	if (addr < u->sorted[lo - 1].hi)
		return node;
	for (steps = 0; node != NO_PARENT && steps < SYM_DWARF_MAX_DEPTH; steps++) {
		if (node_contains(u, &u->nodes[node], addr))
			return node;
		node = u->nodes[node].parent;
	}
	/* Ranges that do not nest: a last look at the few ranges before. */
	for (mid = lo - 1; mid > 0 && lo - mid < 16; mid--) {
		if (addr < u->sorted[mid - 1].hi)
			return (int32_t)u->sorted[mid - 1].node;
	}
	return NO_PARENT;
}

/*
 * The linkage name when the DIE (or its abstract origin or specification)
 * has one, else the source name; the symbolizer demangles it. This is
 * llvm-symbolizer's default naming: it shows GCC's clones by their own
 * linkage names ("f.isra.0", "f.part.0.lto_priv.0", which a profile should
 * keep apart from "f") and glibc's internal asm labels ("__GI_f").
 */
static void set_names(struct sym_frame *f, Dwarf_Die *die)
{
	const char *linkage_name = attr_string(die, DW_AT_linkage_name);

	if (!linkage_name)
		linkage_name = attr_string(die, DW_AT_MIPS_linkage_name);
	f->name = linkage_name ? linkage_name : attr_string(die, DW_AT_name);
	f->system_name = linkage_name;
}

/* The caller's position of an inlined instance: where frame f was called. */
static void set_call(struct sym_frame *f, const struct dw_unit *u, Dwarf_Die *die)
{
	uint32_t file_idx = attr_udata(die, DW_AT_call_file);

	f->file = file_idx < u->lines.nr_files ? u->lines.files[file_idx] : NULL;
	f->line = attr_udata(die, DW_AT_call_line);
	f->column = attr_udata(die, DW_AT_call_column);
}

int sym_dwarf__lookup(struct sym_dwarf *d, uint64_t addr, bool inlines, struct sym_frame *frames,
		      unsigned int max_frames, unsigned int *ret_nr)
{
	struct dw_unit *u;
	const struct dw_node *n;
	const struct sym_line_row *l;
	Dwarf_Die die;
	unsigned int nr = 0;
	int32_t node;
	int err = 0;

	*ret_nr = 0;
	if (!d || !max_frames)
		return 0;
	u = find_unit(d, addr);
	if (!u)
		return 0;
	u->used = ++d->tick;
	if (!u->loaded) {
		err = load_unit(d, u);
		trim_units(d, u);
		if (err)
			return err;
	}
	if (u->err)
		return 0;
	memset(&frames[0], 0, sizeof(frames[0]));
	l = sym_lines__find(&u->lines, addr);
	if (l) {
		frames[0].file = l->file < u->lines.nr_files ? u->lines.files[l->file] : NULL;
		frames[0].line = l->line;
		frames[0].column = l->column;
	}
	node = u->nr_node_ranges ? innermost_node(u, addr) : NO_PARENT;
	if (node == NO_PARENT) {
		*ret_nr = l ? 1 : 0;
		return 0;
	}
	if (!inlines) {
		while (u->nodes[node].parent != NO_PARENT)
			node = u->nodes[node].parent;
	}
	nr = 1;
	n = &u->nodes[node];
	if (!dwarf_offdie(d->dw, n->die_offset, &die))
		return 0;
	set_names(&frames[0], &die);
	while (n->parent != NO_PARENT && nr < max_frames) {
		memset(&frames[nr], 0, sizeof(frames[nr]));
		set_call(&frames[nr], u, &die);
		n = &u->nodes[n->parent];
		if (!dwarf_offdie(d->dw, n->die_offset, &die))
			break;
		set_names(&frames[nr], &die);
		nr++;
	}
	*ret_nr = nr;
	return 0;
}
