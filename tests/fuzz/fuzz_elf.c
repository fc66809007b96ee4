// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes fed as an ELF image through sym_elf__parse_mem()
 * (the parse path the symbolizer uses for files and the vDSO), the result
 * is 0 or a negative errno, never a crash, hang or leak; on success the
 * symbol table is sorted with addr < end and names inside the arena, and
 * normalizing and looking up a few addresses stays in bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_find(const struct sym_elf_file *f, uint64_t vaddr)
{
	const struct sym_elf_sym *sym = sym_elf__find(f, vaddr);

	if (sym && (vaddr < sym->addr || vaddr >= sym->end))
		abort();
	if (sym && sym->name_off >= f->strs_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sym_elf_file *f = NULL;
	uint64_t offsets[] = {0, 0x40, 0x1000, 0x1234, size, UINT64_MAX};
	uint64_t vaddr;
	size_t i;

	if (sym_elf__parse_mem(data, size, &f))
		return 0;
	for (i = 0; i < f->nr_syms; i++) {
		if (f->syms[i].addr >= f->syms[i].end)
			abort();
		if (i && f->syms[i - 1].addr >= f->syms[i].addr)
			abort();
		if (f->syms[i].name_off >= f->strs_len)
			abort();
		if (i < 64)
			check_find(f, f->syms[i].addr + 1);
	}
	if (f->build_id_len > SYMBOLIZER_BUILD_ID_MAX ||
	    strlen(f->build_id_hex) != 2 * f->build_id_len)
		abort();
	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		if (!sym_elf__offset_to_vaddr(f, offsets[i], &vaddr))
			check_find(f, vaddr);
		check_find(f, offsets[i]);
	}
	sym_elf__free(f);
	return 0;
}
