// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes, sym_perfmap__parse() returns 0 or a negative
 * errno, never crashes, hangs or leaks; on success entries are sorted and do
 * not overlap, each has start < end and a non-empty NUL-terminated name of at
 * most SYM_PERFMAP_MAX_NAME bytes inside the string arena, and
 * sym_perfmap__find() returns exactly the entry containing the address asked
 * for (and NULL just before the first and at each entry's end when a gap
 * follows).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sym_perfmap_sym *e, *found;
	struct sym_perfmap *pm = NULL;
	uint64_t probe;
	size_t i, name_len;

	if (sym_perfmap__parse((const char *)data, size, &pm))
		return 0;
	for (i = 0; i < pm->nr; i++) {
		e = &pm->syms[i];
		if (e->start >= e->end)
			abort();
		if (i && pm->syms[i - 1].end > e->start)
			abort();
		if (!e->name_off || e->name_off >= pm->strs_len)
			abort();
		name_len = strnlen(pm->strs + e->name_off, pm->strs_len - e->name_off);
		if (!name_len || name_len > SYM_PERFMAP_MAX_NAME ||
		    e->name_off + name_len >= pm->strs_len)
			abort();
		probe = e->start + (e->end - e->start) / 2;
		if (sym_perfmap__find(pm, probe) != e || sym_perfmap__find(pm, e->start) != e ||
		    sym_perfmap__find(pm, e->end - 1) != e)
			abort();
		found = sym_perfmap__find(pm, e->end);
		if (found && found != e + 1)
			abort();
	}
	if (pm->nr && pm->syms[0].start && sym_perfmap__find(pm, pm->syms[0].start - 1))
		abort();
	sym_perfmap__free(pm);
	return 0;
}
