// SPDX-License-Identifier: MIT
/*
 * PLT stubs, named symbol@plt from the dynamic relocations (as perf and
 * objdump name them).
 *
 * A call to a function of another object goes through a stub that jumps
 * through a GOT slot, and the slot's relocation names the function:
 * - .plt: a header (PLT0, the lazy resolver's entry), then one entry per
 *   .rela.plt relocation (JUMP_SLOT, or IRELATIVE for a local ifunc);
 * - .plt.sec (IBT, -z ibtplt or CET): the entries that calls reach, one per
 *   .rela.plt relocation; .plt then holds only the lazy-binding push stubs;
 * - .plt.got: entries for functions that also have their address taken,
 *   jumping through GLOB_DAT slots of .rela.dyn.
 * Each entry is decoded, so that no ordering is assumed: its jmp *disp(%rip)
 * gives the GOT slot, which is some relocation's r_offset; a lazy stub of an
 * IBT .plt has no such jmp, and its push $n gives the index into .rela.plt.
 * Only when neither decodes is an entry matched by position (the n-th
 * .rela.plt relocation, the n-th GLOB_DAT function slot by address).
 * Position alone would be wrong in glibc, whose .rela.plt lists its
 * IRELATIVE relocations last though their entries come first.
 * An IRELATIVE slot names no symbol: the entry carries the resolver's
 * address (the addend) for the caller to name.
 *
 * Per machine (struct plt_arch): the header size, entry sizes, the decoders
 * and relocation types. Only x86_64 is known; other machines get no entries.
 * Limits: SYM_ELF_MAX_SYMS relocations and entries per file.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer_internal.h"

#define NO_SLOT UINT64_MAX

struct plt_arch {
	uint16_t machine;
	uint64_t plt_header; /* bytes of .plt before its first entry */
	uint64_t entry_size; /* .plt and .plt.sec entries when sh_entsize is 0 */
	uint64_t min_entry, max_entry; /* a sh_entsize outside is not believed */
	/* .plt.got entries when sh_entsize is 0, given the first entry's bytes */
	uint64_t (*got_entry_size)(const uint8_t *p, size_t len);
	/* The GOT slot an entry at addr jumps through, or NO_SLOT. */
	uint64_t (*jump_slot)(const uint8_t *p, size_t len, uint64_t addr);
	/* The .rela.plt index a lazy stub pushes, or false. */
	bool (*pushed_index)(const uint8_t *p, size_t len, uint32_t *ret);
	uint32_t r_jump_slot, r_glob_dat, r_irelative;
};

struct reloc {
	uint64_t offset; /* the GOT slot */
	uint64_t ifunc; /* IRELATIVE: the resolver */
	const char *name; /* NULL for IRELATIVE */
	bool func; /* the symbol is a function (or untyped) */
	uint32_t type;
	uint32_t plt_index; /* its index in .rela.plt, else NO_INDEX */
};

#define NO_INDEX UINT32_MAX

struct plt_state {
	Elf *elf;
	const struct plt_arch *arch;
	struct reloc *relocs; /* every kept relocation, by offset */
	size_t nr_relocs, cap_relocs;
	size_t *jmprel; /* .rela.plt in table order, as indexes into relocs (SIZE_MAX: none) */
	size_t nr_jmprel;
	size_t *glob_dat; /* GLOB_DAT function slots by offset, as indexes */
	size_t nr_glob_dat;
	struct sym_plt_entry *out;
	size_t nr_out, cap_out;
};

static bool skip_endbr64(const uint8_t *p, size_t len, size_t *i)
{
	if (len >= 4 && p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa) {
		*i = 4;
		return true;
	}
	*i = 0;
	return false;
}

static uint64_t x86_64_got_entry_size(const uint8_t *p, size_t len)
{
	size_t i;

	/* IBT .plt.got entries are endbr64; bnd jmp; padding: 16 bytes, else 8. */
	return skip_endbr64(p, len, &i) ? 16 : 8;
}

/* [endbr64] [bnd] jmp *disp32(%rip) at the entry's start. */
static uint64_t x86_64_jump_slot(const uint8_t *p, size_t len, uint64_t addr)
{
	int32_t disp;
	size_t i;

	skip_endbr64(p, len, &i);
	if (i < len && p[i] == 0xf2)
		i++;
	if (i + 6 > len || p[i] != 0xff || p[i + 1] != 0x25)
		return NO_SLOT;
	memcpy(&disp, p + i + 2, sizeof(disp));
	return addr + i + 6 + (uint64_t)(int64_t)disp;
}

/* [endbr64] push $imm32: the lazy stub of relocation imm32. */
static bool x86_64_pushed_index(const uint8_t *p, size_t len, uint32_t *ret)
{
	size_t i;

	skip_endbr64(p, len, &i);
	if (i + 5 > len || p[i] != 0x68)
		return false;
	memcpy(ret, p + i + 1, sizeof(*ret));
	return true;
}

static const struct plt_arch arches[] = {
	{
		.machine = EM_X86_64,
		.plt_header = 16,
		.entry_size = 16,
		.min_entry = 8,
		.max_entry = 32,
		.got_entry_size = x86_64_got_entry_size,
		.jump_slot = x86_64_jump_slot,
		.pushed_index = x86_64_pushed_index,
		.r_jump_slot = R_X86_64_JUMP_SLOT,
		.r_glob_dat = R_X86_64_GLOB_DAT,
		.r_irelative = R_X86_64_IRELATIVE,
	},
};

static int cmp_reloc(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return 0;
}

/* The relocation of GOT slot offset, or NULL. */
static const struct reloc *find_reloc(const struct plt_state *st, uint64_t offset)
{
	size_t n = sym_count_le(st->relocs, st->nr_relocs, sizeof(*st->relocs),
				offsetof(struct reloc, offset), offset);

	if (!n || st->relocs[n - 1].offset != offset)
		return NULL;
	return &st->relocs[n - 1];
}

/* Keeps the JUMP_SLOT, GLOB_DAT and IRELATIVE relocations of one section. */
static int read_relocs(struct plt_state *st, Elf_Scn *scn, const GElf_Shdr *shdr, bool jmprel)
{
	size_t nr, i, entsize;
	Elf_Scn *symscn;
	GElf_Shdr symshdr;
	Elf_Data *data, *symdata;
	const char *name;
	uint32_t type;
	GElf_Rela rela;
	GElf_Sym sym;
	int err;

	data = elf_getdata(scn, NULL);
	entsize = gelf_fsize(st->elf, ELF_T_RELA, 1, EV_CURRENT);
	symscn = elf_getscn(st->elf, shdr->sh_link);
	/* A debug file's copies are SHT_NOBITS: no bytes. */
	if (!data || !data->d_buf || !entsize || !symscn || !gelf_getshdr(symscn, &symshdr))
		return 0;
	symdata = elf_getdata(symscn, NULL);
	if (symdata && !symdata->d_buf)
		symdata = NULL;
	nr = data->d_size / entsize;
	for (i = 0; i < nr; i++) {
		if (!gelf_getrela(data, (int)i, &rela))
			break;
		type = (uint32_t)GELF_R_TYPE(rela.r_info);
		if (type != st->arch->r_jump_slot && type != st->arch->r_glob_dat &&
		    type != st->arch->r_irelative)
			continue;
		name = NULL;
		memset(&sym, 0, sizeof(sym));
		if (type != st->arch->r_irelative) {
			if (!symdata || !gelf_getsym(symdata, (int)GELF_R_SYM(rela.r_info), &sym))
				continue;
			name = elf_strptr(st->elf, symshdr.sh_link, sym.st_name);
			if (!name || !name[0] ||
			    strnlen(name, SYM_ELF_MAX_NAME + 1) > SYM_ELF_MAX_NAME)
				continue;
		}
		err = sym_grow((void **)&st->relocs, &st->cap_relocs, st->nr_relocs,
			       sizeof(*st->relocs), SYM_ELF_MAX_SYMS);
		if (err)
			return err == -E2BIG ? 0 : err;
		st->relocs[st->nr_relocs] = (struct reloc){
			.offset = rela.r_offset,
			.ifunc = (uint64_t)rela.r_addend,
			.name = name,
			.func = GELF_ST_TYPE(sym.st_info) == STT_FUNC ||
				GELF_ST_TYPE(sym.st_info) == STT_NOTYPE ||
				GELF_ST_TYPE(sym.st_info) == STT_GNU_IFUNC,
			.type = type,
			.plt_index = jmprel && i < SYM_ELF_MAX_SYMS ? (uint32_t)i : NO_INDEX,
		};
		st->nr_relocs++;
	}
	return 0;
}

/*
 * Sorts the relocations by slot, and lists .rela.plt by table index (push $n
 * and the n-th lazy entry) and the GLOB_DAT function slots by address.
 */
static int index_relocs(struct plt_state *st)
{
	const struct reloc *r;
	size_t i;

	qsort(st->relocs, st->nr_relocs, sizeof(*st->relocs), cmp_reloc);
	for (i = 0; i < st->nr_relocs; i++) {
		if (st->relocs[i].plt_index != NO_INDEX && st->relocs[i].plt_index >= st->nr_jmprel)
			st->nr_jmprel = (size_t)st->relocs[i].plt_index + 1;
	}
	st->jmprel = malloc((st->nr_jmprel ? st->nr_jmprel : 1) * sizeof(*st->jmprel));
	st->glob_dat = malloc(st->nr_relocs * sizeof(*st->glob_dat));
	if (!st->jmprel || !st->glob_dat)
		return -ENOMEM;
	memset(st->jmprel, 0xff, (st->nr_jmprel ? st->nr_jmprel : 1) * sizeof(*st->jmprel));
	for (i = 0; i < st->nr_relocs; i++) {
		r = &st->relocs[i];
		if (r->plt_index != NO_INDEX)
			st->jmprel[r->plt_index] = i;
		else if (r->type == st->arch->r_glob_dat && r->func)
			st->glob_dat[st->nr_glob_dat++] = i;
	}
	return 0;
}

/* .rela.plt's entry index, or NULL. */
static const struct reloc *jmprel_at(const struct plt_state *st, uint64_t index)
{
	if (index >= st->nr_jmprel || st->jmprel[index] == SIZE_MAX)
		return NULL;
	return &st->relocs[st->jmprel[index]];
}

static int add_entry(struct plt_state *st, uint64_t addr, uint64_t size, const struct reloc *r)
{
	int err;

	if (!r)
		return 0;
	err = sym_grow((void **)&st->out, &st->cap_out, st->nr_out, sizeof(*st->out),
		       SYM_ELF_MAX_SYMS);
	if (err)
		return err == -E2BIG ? 0 : err;
	st->out[st->nr_out++] = (struct sym_plt_entry){
		.addr = addr,
		.size = size,
		.name = r->name,
		.ifunc = r->type == st->arch->r_irelative ? r->ifunc : 0,
	};
	return 0;
}

enum plt_kind {
	PLT,
	PLT_SEC,
	PLT_GOT
};

static int read_entries(struct plt_state *st, Elf_Scn *scn, const GElf_Shdr *shdr,
			enum plt_kind kind)
{
	const struct plt_arch *a = st->arch;
	uint64_t entsize, first, off, slot, n;
	const struct reloc *r;
	const uint8_t *p;
	Elf_Data *data;
	uint32_t index;
	size_t len;
	int err;

	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || data->d_size > shdr->sh_size)
		return 0;
	p = data->d_buf;
	entsize = shdr->sh_entsize;
	if (entsize < a->min_entry || entsize > a->max_entry)
		entsize = kind == PLT_GOT ? a->got_entry_size(p, data->d_size) : a->entry_size;
	first = kind == PLT ? a->plt_header : 0;
	for (off = first, n = 0; off < data->d_size && data->d_size - off >= entsize;
	     off += entsize, n++) {
		len = (size_t)entsize;
		slot = a->jump_slot(p + off, len, shdr->sh_addr + off);
		r = slot != NO_SLOT ? find_reloc(st, slot) : NULL;
		if (!r && a->pushed_index(p + off, len, &index))
			r = jmprel_at(st, index);
		if (!r && slot == NO_SLOT) {
			if (kind == PLT_GOT && n < st->nr_glob_dat)
				r = &st->relocs[st->glob_dat[n]];
			else if (kind != PLT_GOT)
				r = jmprel_at(st, n);
		}
		err = add_entry(st, shdr->sh_addr + off, entsize, r);
		if (err)
			return err;
	}
	return 0;
}

int sym_plt__read(struct Elf *elf, struct sym_plt_entry **ret, size_t *ret_nr)
{
	struct plt_state st = {.elf = elf};
	Elf_Scn *scn = NULL, *plt[3] = {NULL, NULL, NULL};
	GElf_Shdr shdr;
	const char *name;
	GElf_Ehdr ehdr;
	size_t shstrndx, i;
	int err = 0;

	if (!gelf_getehdr(elf, &ehdr) || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	for (i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		if (arches[i].machine == ehdr.e_machine)
			st.arch = &arches[i];
	}
	if (!st.arch)
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr))
			continue;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (shdr.sh_type == SHT_RELA) {
			err = read_relocs(&st, scn, &shdr, name && !strcmp(name, ".rela.plt"));
			if (err)
				goto out;
		} else if (name && shdr.sh_type == SHT_PROGBITS &&
			   (shdr.sh_flags & SHF_EXECINSTR)) {
			if (!strcmp(name, ".plt"))
				plt[PLT] = scn;
			else if (!strcmp(name, ".plt.sec"))
				plt[PLT_SEC] = scn;
			else if (!strcmp(name, ".plt.got"))
				plt[PLT_GOT] = scn;
		}
	}
	if (!st.nr_relocs)
		goto out;
	err = index_relocs(&st);
	if (err)
		goto out;
	for (i = PLT; i <= PLT_GOT; i++) {
		if (!plt[i] || !gelf_getshdr(plt[i], &shdr))
			continue;
		err = read_entries(&st, plt[i], &shdr, (enum plt_kind)i);
		if (err)
			goto out;
	}
out:
	if (!err) {
		*ret = st.out;
		*ret_nr = st.nr_out;
		st.out = NULL;
	}
	free(st.out);
	free(st.relocs);
	free(st.jmprel);
	free(st.glob_dat);
	return err;
}
