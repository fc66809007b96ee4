// SPDX-License-Identifier: MIT
/*
 * ELF symbol tables through libelf.
 *
 * One parse reads, from a file descriptor or an in-memory image (the vDSO,
 * fuzz inputs), everything a lookup needs and then lets go of the file:
 * - the GNU build-id, from PT_NOTE segments, else SHT_NOTE sections;
 * - PT_LOAD headers (file offset, file size, vaddr), sorted by offset, to
 *   turn a file offset into an ELF virtual address;
 * - .symtab and .dynsym function symbols (STT_FUNC, STT_GNU_IFUNC, defined),
 *   sorted by address. Aliases at one address keep one name: a sized one
 *   over size 0, then as sym_alias__cmp() (names.c) orders them, STB_LOCAL
 *   and hidden symbols counting as local (glibc: write over __write and
 *   __GI___libc_write). A sized symbol ends at addr + size (the largest of
 *   its aliases); a size-0 one at the next symbol's start (bounded by its
 *   section). Names are copied into one string arena.
 * - section facts the debug-info search needs: whether .debug_info is here,
 *   .gnu_debuglink (name and CRC), whether .symtab was present;
 * - MiniDebugInfo: when there is no .symtab but a .gnu_debugdata section
 *   (an xz-compressed ELF holding a .symtab), its function symbols too
 *   (inflated at most SYM_DEBUGDATA_MAX_BYTES).
 * - PLT stubs, as "name@plt" symbols (plt.c), where no symbol covers them.
 * Lookup is a binary search; when the symbol found ends before the address,
 * a few earlier ones are tried for a symbol enclosing it (nested symbols).
 *
 * Limits: SYM_ELF_MAX_FILE_BYTES per file, SYM_ELF_MAX_SYMS symbols,
 * SYM_ELF_MAX_LOADS PT_LOADs, names longer than SYM_ELF_MAX_NAME skipped.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "symbolizer_internal.h"

#define NESTED_LOOKBACK 8 /* earlier symbols tried for an enclosing one */

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

struct raw_sym {
	uint64_t addr;
	uint64_t end; /* addr + size, or the section end for size 0 */
	uint32_t name_off;
	uint32_t name_len;
	bool sized;
	bool local; /* STB_LOCAL, or hidden or internal visibility */
};

struct parse_state {
	Elf *elf;
	struct sym_elf_file *file;
	struct raw_sym *raw;
	size_t nr_raw;
	size_t cap_raw;
	struct sym_arena names;
};

static int cmp_raw(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->sized != y->sized)
		return x->sized ? -1 : 1;
	if (x->sized && x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return 0;
}

static int cmp_load(const void *a, const void *b)
{
	const struct sym_elf_load *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return 0;
}

static void set_build_id(struct sym_elf_file *f, const uint8_t *id, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	memcpy(f->build_id, id, len);
	f->build_id_len = len;
	for (i = 0; i < len; i++) {
		f->build_id_hex[2 * i] = hex[id[i] >> 4];
		f->build_id_hex[2 * i + 1] = hex[id[i] & 15];
	}
	f->build_id_hex[2 * len] = '\0';
}

static void scan_notes(struct sym_elf_file *f, Elf_Data *data)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nhdr;

	if (!data || !data->d_buf)
		return;
	while (off < data->d_size) {
		next = gelf_getnote(data, off, &nhdr, &name_off, &desc_off);
		if (!next || next <= off)
			break;
		if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
		    name_off + 4 <= data->d_size &&
		    !memcmp((const char *)data->d_buf + name_off, "GNU", 4) && nhdr.n_descsz >= 1 &&
		    nhdr.n_descsz <= SYMBOLIZER_BUILD_ID_MAX && desc_off <= data->d_size &&
		    nhdr.n_descsz <= data->d_size - desc_off) {
			set_build_id(f, (const uint8_t *)data->d_buf + desc_off, nhdr.n_descsz);
			return;
		}
		off = next;
	}
}

static int read_program_headers(struct parse_state *st)
{
	struct sym_elf_file *f = st->file;
	size_t phnum, i;
	GElf_Phdr ph;
	Elf_Data *data;

	if (elf_getphdrnum(st->elf, &phnum))
		return 0;
	f->loads = calloc(phnum < SYM_ELF_MAX_LOADS ? (phnum ? phnum : 1) : SYM_ELF_MAX_LOADS,
			  sizeof(*f->loads));
	if (!f->loads)
		return -ENOMEM;
	for (i = 0; i < phnum; i++) {
		if (!gelf_getphdr(st->elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && ph.p_filesz && f->nr_loads < SYM_ELF_MAX_LOADS &&
		    ph.p_offset + ph.p_filesz > ph.p_offset) {
			f->loads[f->nr_loads].offset = ph.p_offset;
			f->loads[f->nr_loads].filesz = ph.p_filesz;
			f->loads[f->nr_loads].vaddr = ph.p_vaddr;
			f->nr_loads++;
		} else if (ph.p_type == PT_NOTE && !f->build_id_len && ph.p_filesz) {
			data = elf_getdata_rawchunk(st->elf, (int64_t)ph.p_offset, ph.p_filesz,
						    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
			scan_notes(f, data);
		}
	}
	qsort(f->loads, f->nr_loads, sizeof(*f->loads), cmp_load);
	return 0;
}

int sym_maps__build_id(int fd, uint8_t ret[SYMBOLIZER_BUILD_ID_MAX], size_t *ret_len)
{
	struct sym_elf_file f = {0};
	size_t phnum, i;
	Elf_Data *data;
	GElf_Phdr ph;
	Elf *elf;
	int err = -ENOENT;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	/* The PT_NOTE segments only: no symbol table is read. */
	if (elf_getphdrnum(elf, &phnum))
		phnum = 0;
	for (i = 0; i < phnum && !f.build_id_len; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE || !ph.p_filesz)
			continue;
		data = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
					    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		scan_notes(&f, data);
	}
	if (f.build_id_len) {
		memcpy(ret, f.build_id, f.build_id_len);
		*ret_len = f.build_id_len;
		err = 0;
	}
	elf_end(elf);
	return err;
}

/* The end of the section a size-0 symbol lives in: it never extends past it. */
static uint64_t section_end(Elf *elf, const GElf_Sym *sym)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;

	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= SHN_LORESERVE)
		return sym->st_value + 1;
	scn = elf_getscn(elf, sym->st_shndx);
	if (!scn || !gelf_getshdr(scn, &shdr) || sym->st_value < shdr.sh_addr ||
	    sym->st_value - shdr.sh_addr >= shdr.sh_size)
		return sym->st_value + 1;
	return shdr.sh_addr + shdr.sh_size;
}

static int read_symbols(struct parse_state *st, Elf_Scn *scn, const GElf_Shdr *shdr)
{
	size_t nr, i, name_len, entsize;
	struct raw_sym *grown;
	const char *name;
	Elf_Data *data;
	GElf_Sym sym;
	int type;

	data = elf_getdata(scn, NULL);
	entsize = gelf_fsize(st->elf, ELF_T_SYM, 1, EV_CURRENT);
	if (!data || !entsize)
		return 0;
	nr = data->d_size / entsize;
	for (i = 0; i < nr; i++) {
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value || sym.st_value == UINT64_MAX)
			continue;
		name = elf_strptr(st->elf, shdr->sh_link, sym.st_name);
		if (!name || !name[0])
			continue;
		name_len = strnlen(name, SYM_ELF_MAX_NAME + 1);
		if (name_len > SYM_ELF_MAX_NAME)
			continue;
		st->file->has_functions = true;
		if (st->nr_raw >= SYM_ELF_MAX_SYMS)
			return 0;
		if (st->nr_raw == st->cap_raw) {
			st->cap_raw = st->cap_raw ? st->cap_raw * 2 : 1024;
			grown = realloc(st->raw, st->cap_raw * sizeof(*st->raw));
			if (!grown)
				return -ENOMEM;
			st->raw = grown;
		}
		st->raw[st->nr_raw].name_off = sym_arena__add(&st->names, name, name_len);
		if (!st->raw[st->nr_raw].name_off)
			return -ENOMEM;
		st->raw[st->nr_raw].addr = sym.st_value;
		st->raw[st->nr_raw].sized = sym.st_size != 0;
		st->raw[st->nr_raw].end =
			sym.st_size ? sym.st_value + sym.st_size : section_end(st->elf, &sym);
		if (st->raw[st->nr_raw].end <= sym.st_value)
			st->raw[st->nr_raw].end = UINT64_MAX;
		st->raw[st->nr_raw].name_len = (uint32_t)name_len;
		st->raw[st->nr_raw].local = GELF_ST_BIND(sym.st_info) == STB_LOCAL ||
					    GELF_ST_VISIBILITY(sym.st_other) == STV_HIDDEN ||
					    GELF_ST_VISIBILITY(sym.st_other) == STV_INTERNAL;
		st->nr_raw++;
	}
	return 0;
}

static void read_debuglink(struct sym_elf_file *f, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const char *p;
	size_t len, crc_off;
	uint32_t crc;

	if (!data || !data->d_buf || !data->d_size || f->debuglink)
		return;
	p = data->d_buf;
	len = strnlen(p, data->d_size);
	if (!len || len == data->d_size || len > SYM_ELF_MAX_NAME)
		return;
	crc_off = (len + 4) & ~(size_t)3;
	if (crc_off + 4 > data->d_size)
		return;
	memcpy(&crc, p + crc_off, 4);
	/* The CRC is stored in the file's byte order; only native files are read. */
	f->debuglink = strndup(p, len);
	f->debuglink_crc = crc;
}

/* Inflates an xz buffer of at most SYM_DEBUGDATA_MAX_BYTES. Caller frees *ret. */
static int xz_inflate(const uint8_t *in, size_t in_len, uint8_t **ret, size_t *ret_len)
{
	lzma_stream zs = LZMA_STREAM_INIT;
	size_t cap = in_len * 4 + 4096, len = 0;
	uint8_t *out = NULL, *grown;
	lzma_ret lr;
	int err = 0;

	if (lzma_stream_decoder(&zs, SYM_DEBUGDATA_MAX_BYTES, 0) != LZMA_OK)
		return -ENOMEM;
	zs.next_in = in;
	zs.avail_in = in_len;
	for (;;) {
		if (len == cap || !out) {
			if (out)
				cap *= 2;
			if (cap > SYM_DEBUGDATA_MAX_BYTES)
				cap = SYM_DEBUGDATA_MAX_BYTES;
			if (out && len == cap) {
				err = -EFBIG;
				goto out;
			}
			grown = realloc(out, cap);
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			out = grown;
		}
		zs.next_out = out + len;
		zs.avail_out = cap - len;
		lr = lzma_code(&zs, LZMA_FINISH);
		len = cap - zs.avail_out;
		if (lr == LZMA_STREAM_END)
			break;
		if (lr != LZMA_OK) {
			err = lr == LZMA_MEM_ERROR ? -ENOMEM : -EBADMSG;
			goto out;
		}
		if (!zs.avail_in && zs.avail_out) {
			err = -EBADMSG;
			goto out;
		}
	}
	*ret = out;
	*ret_len = len;
	out = NULL;
out:
	lzma_end(&zs);
	free(out);
	return err;
}

static int read_minidebuginfo(struct parse_state *st, Elf_Scn *debugdata)
{
	Elf_Data *data = elf_getdata(debugdata, NULL);
	Elf *outer = st->elf, *inner = NULL;
	uint8_t *image = NULL;
	size_t image_len = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	int err = 0;

	if (!data || !data->d_buf || !data->d_size)
		return 0;
	if (xz_inflate(data->d_buf, data->d_size, &image, &image_len))
		goto out; /* a broken MiniDebugInfo leaves the file as it is */
	inner = elf_memory((char *)image, image_len);
	if (!inner || elf_kind(inner) != ELF_K_ELF)
		goto out;
	st->elf = inner;
	while ((scn = elf_nextscn(inner, scn))) {
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_SYMTAB) {
			err = read_symbols(st, scn, &shdr);
			if (err)
				goto out;
			st->file->has_minidebuginfo = true;
		}
	}
out:
	st->elf = outer;
	elf_end(inner);
	free(image);
	return err;
}

static int read_sections(struct parse_state *st)
{
	Elf_Scn *scn = NULL, *debugdata = NULL;
	size_t nr_sections = 0, shstrndx;
	const char *name;
	GElf_Shdr shdr;
	int err;

	if (elf_getshdrnum(st->elf, &nr_sections) || elf_getshdrstrndx(st->elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(st->elf, scn))) {
		if (!gelf_getshdr(scn, &shdr))
			continue;
		name = elf_strptr(st->elf, shstrndx, shdr.sh_name);
		if (shdr.sh_type == SHT_NOTE && !st->file->build_id_len) {
			scan_notes(st->file, elf_getdata(scn, NULL));
		} else if (shdr.sh_type == SHT_SYMTAB || shdr.sh_type == SHT_DYNSYM) {
			if (shdr.sh_type == SHT_SYMTAB)
				st->file->has_symtab = true;
			err = read_symbols(st, scn, &shdr);
			if (err)
				return err;
		} else if (name && shdr.sh_type != SHT_NOBITS &&
			   (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info"))) {
			st->file->has_debug_info = true;
		} else if (name && !strcmp(name, ".gnu_debuglink")) {
			read_debuglink(st->file, scn);
		} else if (name && !strcmp(name, ".gnu_debugdata")) {
			debugdata = scn;
		}
	}
	if (debugdata && !st->file->has_symtab)
		return read_minidebuginfo(st, debugdata);
	return 0;
}

static bool better_alias(const struct parse_state *st, const struct raw_sym *a,
			 const struct raw_sym *b)
{
	struct sym_alias x = {st->names.buf + a->name_off, a->name_len, a->local};
	struct sym_alias y = {st->names.buf + b->name_off, b->name_len, b->local};

	return sym_alias__cmp(&x, &y) < 0;
}

/* Sorts, deduplicates and sets each symbol's end; fills file->syms. */
static int build_table(struct parse_state *st)
{
	struct sym_elf_file *f = st->file;
	struct raw_sym *r = st->raw, *best;
	size_t i, j, nr = 0;
	uint64_t end;

	if (!st->nr_raw)
		return 0;
	qsort(r, st->nr_raw, sizeof(*r), cmp_raw);
	f->syms = malloc(st->nr_raw * sizeof(*f->syms));
	if (!f->syms)
		return -ENOMEM;
	for (i = 0; i < st->nr_raw; i = j) {
		/* r[i] is the largest of the group at r[i].addr; best its preferred name. */
		end = r[i].end;
		best = &r[i];
		for (j = i + 1; j < st->nr_raw && r[j].addr == r[i].addr; j++) {
			if (r[j].sized && (!r[i].sized || r[j].end > end))
				end = r[j].end;
			if (r[j].sized == best->sized && better_alias(st, &r[j], best))
				best = &r[j];
		}
		if (!r[i].sized && j < st->nr_raw && r[j].addr < end)
			end = r[j].addr;
		f->syms[nr].addr = r[i].addr;
		f->syms[nr].end = end;
		f->syms[nr].name_off = best->name_off;
		nr++;
	}
	f->nr_syms = nr;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym_elf_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/*
 * PLT stubs (plt.c) join the table as "name@plt" where no symbol of the file
 * covers them; a stub of a local ifunc takes the name of the symbol at its
 * resolver (glibc's memcpy@plt).
 */
static int add_plt(struct parse_state *st)
{
	struct sym_elf_file *f = st->file;
	struct sym_plt_entry *plt = NULL;
	const struct sym_elf_sym *sym;
	char name[SYM_ELF_MAX_NAME + sizeof("@plt")];
	size_t nr_plt = 0, nr, i;
	struct sym_elf_sym *grown;
	uint32_t name_off;
	int err, len;

	err = sym_plt__read(st->elf, &plt, &nr_plt);
	if (err || !nr_plt)
		goto out;
	grown = realloc(f->syms, (f->nr_syms + nr_plt) * sizeof(*grown));
	if (!grown) {
		err = -ENOMEM;
		goto out;
	}
	f->syms = grown;
	nr = f->nr_syms;
	for (i = 0; i < nr_plt; i++) {
		if (plt[i].addr + plt[i].size <= plt[i].addr || sym_elf__find(f, plt[i].addr))
			continue;
		if (plt[i].name) {
			len = snprintf(name, sizeof(name), "%s@plt", plt[i].name);
		} else {
			sym = sym_elf__find(f, plt[i].ifunc);
			if (!sym || sym->addr != plt[i].ifunc)
				continue;
			len = snprintf(name, sizeof(name), "%s@plt", st->names.buf + sym->name_off);
		}
		if (len < 0 || (size_t)len >= sizeof(name))
			continue;
		name_off = sym_arena__add(&st->names, name, (size_t)len);
		if (!name_off) {
			err = -ENOMEM;
			goto out;
		}
		f->syms[nr].addr = plt[i].addr;
		f->syms[nr].end = plt[i].addr + plt[i].size;
		f->syms[nr].name_off = name_off;
		nr++;
	}
	qsort(f->syms, nr, sizeof(*f->syms), cmp_sym);
	/* Overlapping PLT sections (a broken file) would give one address twice. */
	for (i = 0, f->nr_syms = 0; i < nr; i++) {
		if (!f->nr_syms || f->syms[f->nr_syms - 1].addr != f->syms[i].addr)
			f->syms[f->nr_syms++] = f->syms[i];
	}
out:
	free(plt);
	return err;
}

static int parse_elf(Elf *elf, struct sym_elf_file **ret)
{
	struct parse_state st = {.elf = elf};
	struct sym_elf_sym *shrunk;
	GElf_Ehdr ehdr;
	int err = 0;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr) ||
	    (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN)) {
		err = -ENOEXEC;
		goto out;
	}
	st.file = calloc(1, sizeof(*st.file));
	if (!st.file) {
		err = -ENOMEM;
		goto out;
	}
	st.file->type = ehdr.e_type;
	if (sym_arena__add(&st.names, "", 0) || st.names.len != 1) {
		err = -ENOMEM;
		goto out;
	}
	err = read_program_headers(&st);
	if (err)
		goto out;
	err = read_sections(&st);
	if (err)
		goto out;
	err = build_table(&st);
	if (err)
		goto out;
	err = add_plt(&st);
	if (err)
		goto out;
	if (st.file->nr_syms) {
		shrunk = realloc(st.file->syms, st.file->nr_syms * sizeof(*shrunk));
		if (shrunk)
			st.file->syms = shrunk;
	}
	st.file->strs = st.names.buf;
	st.file->strs_len = st.names.len;
	st.names.buf = NULL;
	st.file->bytes = sizeof(*st.file) + st.file->nr_syms * sizeof(*st.file->syms) +
			 st.file->strs_len + st.file->nr_loads * sizeof(*st.file->loads) +
			 (st.file->debuglink ? strlen(st.file->debuglink) + 1 : 0);
	*ret = st.file;
	st.file = NULL;
out:
	sym_elf__free(st.file);
	free(st.names.buf);
	free(st.raw);
	return err;
}

int sym_elf__parse_fd(int fd, struct sym_elf_file **ret)
{
	struct stat sb;
	Elf *elf = NULL;
	int err;

	if (fstat(fd, &sb)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if ((uint64_t)sb.st_size > SYM_ELF_MAX_FILE_BYTES) {
		err = -EFBIG;
		goto out;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		err = -ENOEXEC;
		goto out;
	}
	err = parse_elf(elf, ret);
out:
	elf_end(elf);
	return err;
}

int sym_elf__parse_mem(const void *buf, size_t len, struct sym_elf_file **ret)
{
	Elf *elf = NULL;
	char *copy;
	int err;

	/* libelf may write to the image it is given; the caller's may be read-only. */
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	elf_version(EV_CURRENT);
	elf = elf_memory(copy, len);
	if (!elf) {
		err = -ENOEXEC;
		goto out;
	}
	err = parse_elf(elf, ret);
out:
	elf_end(elf);
	free(copy);
	return err;
}

int sym_elf__offset_to_vaddr(const struct sym_elf_file *f, uint64_t off, uint64_t *ret)
{
	size_t lo = 0, hi = f->nr_loads, mid, i;
	const struct sym_elf_load *l;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->loads[mid].offset <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Segments seldom overlap in the file; when they do, the one before may cover off. */
	for (i = lo; i > 0 && lo - i < 2; i--) {
		l = &f->loads[i - 1];
		if (off - l->offset < l->filesz) {
			*ret = off - l->offset + l->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

const struct sym_elf_sym *sym_elf__find(const struct sym_elf_file *f, uint64_t vaddr)
{
	size_t lo = 0, hi = f->nr_syms, mid, i;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i > 0 && lo - i < NESTED_LOOKBACK; i--) {
		if (vaddr < f->syms[i - 1].end)
			return &f->syms[i - 1];
	}
	return NULL;
}

const struct sym_elf_sym *sym_elf__find_any(const struct sym_elf_file *f, uint64_t vaddr,
					    const char **ret_name)
{
	const struct sym_elf_sym *sym = sym_elf__find(f, vaddr);

	if (sym) {
		*ret_name = f->strs + sym->name_off;
		return sym;
	}
	if (f->debug_syms) {
		sym = sym_elf__find(f->debug_syms, vaddr);
		if (sym)
			*ret_name = f->debug_syms->strs + sym->name_off;
	}
	return sym;
}

void sym_elf__free(struct sym_elf_file *f)
{
	if (!f)
		return;
	sym_dwarf__free(f->dwarf);
	sym_elf__free(f->debug_syms);
	free(f->debuglink);
	free(f->syms);
	free(f->strs);
	free(f->loads);
	free(f);
}
