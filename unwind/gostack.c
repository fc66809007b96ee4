// SPDX-License-Identifier: MIT
/*
 * Go stack switches. A Go program runs goroutines on their own stacks and
 * runtime code on each thread's g0 (system) stack; runtime.systemstack, mcall
 * and morestack switch from one to the other, leaving the goroutine's
 * registers in g.sched. Above such a switch, the g0 stack holds nothing of
 * the goroutine's: CFI or frame pointers there read a stale return address.
 * The BPF side copies the goroutine's stack from g.sched (see
 * bpf/profile.bpf.c); this file tells the walker where the switches are, by
 * the addresses of a few runtime functions in the binary's .symtab, and
 * where a Go stack ends (runtime.goexit, runtime.mstart).
 *
 * Lookups are a linear scan of at most UNWIND_GO_MAX_FUNCS ranges, only in
 * tables of Go binaries. A binary stripped of .symtab (-ldflags=-s) has no
 * ranges: its walks stop where the CFI reads garbage, as before.
 */
#include <gelf.h>
#include <string.h>

#include "unwind_internal.h"

static const struct {
	const char *name;
	enum unwind_go_kind kind;
} go_names[] = {
	{"runtime.systemstack", UNWIND_GO_SYSTEMSTACK},
	{"runtime.mcall", UNWIND_GO_SWITCH_PC},
	{"runtime.morestack", UNWIND_GO_SWITCH_PC},
	{"runtime.goexit", UNWIND_GO_TOP},
	{"runtime.mstart", UNWIND_GO_TOP},
	/* systemstack calls it on the goroutine's stack, before switching. */
	{"gosave_systemstack_switch", UNWIND_GO_BEFORE_SWITCH},
	{"runtime.nanotime1", UNWIND_GO_VDSO},
	{"runtime.walltime", UNWIND_GO_VDSO},
	{"time.now", UNWIND_GO_VDSO},
};

/*
 * Index in go_names of symbol name, or -1. The runtime's assembly functions
 * are named with the ".abi0" suffix from Go 1.17 on (without it before);
 * *ret_abi0 says which. A name without it next to one with it is the
 * ABIInternal wrapper, a plain call on the goroutine's stack.
 */
static int go_name_index(const char *name, bool *ret_abi0)
{
	size_t i, n;

	for (i = 0; i < sizeof(go_names) / sizeof(go_names[0]); i++) {
		n = strlen(go_names[i].name);
		if (strncmp(name, go_names[i].name, n))
			continue;
		if (!name[n] || !strcmp(name + n, ".abi0")) {
			*ret_abi0 = name[n] != '\0';
			return (int)i;
		}
	}
	return -1;
}

/* Does elf have a section named want? *ret_symtab: its SHT_SYMTAB, or NULL. */
static bool go_has_section(Elf *elf, size_t shstrndx, const char *want, Elf_Scn **ret_symtab)
{
	Elf_Scn *scn = NULL;
	const char *name;
	bool found = false;
	GElf_Shdr sh;

	*ret_symtab = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			*ret_symtab = scn;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, want))
			found = true;
	}
	return found;
}

bool unwind_go__read_funcs(Elf *elf, struct unwind_table *t)
{
	/* Per go_names entry: the symbol found, and whether it had ".abi0". */
	struct unwind_go_func found[sizeof(go_names) / sizeof(go_names[0])] = {0};
	bool abi0[sizeof(go_names) / sizeof(go_names[0])] = {0}, is_abi0;
	Elf_Scn *symtab;
	const char *name;
	size_t shstrndx, i, nr;
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	int idx;

	t->nr_go_funcs = 0;
	if (elf_getshdrstrndx(elf, &shstrndx) ||
	    !go_has_section(elf, shstrndx, ".gopclntab", &symtab))
		return false;
	if (!symtab || !gelf_getshdr(symtab, &sh) || !sh.sh_entsize)
		return true;
	d = elf_getdata(symtab, NULL);
	if (!d)
		return true;
	nr = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < nr; i++) {
		if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    !sym.st_value || !sym.st_size)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		idx = name ? go_name_index(name, &is_abi0) : -1;
		/* The assembly function wins over its wrapper. */
		if (idx < 0 || (found[idx].end && abi0[idx] && !is_abi0))
			continue;
		found[idx] = (struct unwind_go_func){
			.start = sym.st_value,
			.end = sym.st_value + sym.st_size,
			.kind = go_names[idx].kind,
		};
		abi0[idx] = is_abi0;
	}
	for (i = 0; i < sizeof(go_names) / sizeof(go_names[0]); i++)
		if (found[i].end && t->nr_go_funcs < UNWIND_GO_MAX_FUNCS)
			t->go_funcs[t->nr_go_funcs++] = found[i];
	return true;
}

enum unwind_go_kind unwind_go__kind(const struct unwind_table *t, uint64_t elf_addr)
{
	size_t i;

	for (i = 0; i < t->nr_go_funcs; i++)
		if (elf_addr >= t->go_funcs[i].start && elf_addr < t->go_funcs[i].end)
			return t->go_funcs[i].kind;
	return UNWIND_GO_NONE;
}
