// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes, sym_kallsyms__parse() returns 0 or a negative
 * errno, never crashes, hangs or leaks; on success symbols are sorted by
 * address with addr < end, names and module names lie inside the string
 * arena, and sym_kallsyms__find() only returns a symbol covering the address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_find(const struct sym_kallsyms *k, uint64_t addr)
{
	const struct sym_ksym *sym = sym_kallsyms__find(k, addr);

	if (sym && (addr < sym->addr || addr >= sym->end))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sym_kallsyms *k = NULL;
	size_t i;

	if (sym_kallsyms__parse((const char *)data, size, &k))
		return 0;
	for (i = 0; i < k->nr; i++) {
		if (k->syms[i].addr >= k->syms[i].end)
			abort();
		if (i && k->syms[i - 1].addr >= k->syms[i].addr)
			abort();
		if (k->syms[i].name_off >= k->strs_len || k->syms[i].module_off >= k->strs_len)
			abort();
		(void)strlen(k->strs + k->syms[i].name_off);
		check_find(k, k->syms[i].addr);
		check_find(k, k->syms[i].end - 1);
		check_find(k, k->syms[i].end);
	}
	check_find(k, 0);
	check_find(k, UINT64_MAX);
	sym_kallsyms__free(k);
	return 0;
}
