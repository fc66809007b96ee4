// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes, sym_maps__parse() returns 0 or a negative errno,
 * never crashes, hangs or leaks; on success every entry has start < end and
 * a NUL-terminated path, entries are sorted, and sym_maps__find() returns
 * only an entry containing the address asked for (for input from the kernel,
 * whose mappings never overlap, always one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sym_map_entry *e;
	struct sym_maps maps = {0};
	uint64_t probe;
	size_t i;

	if (sym_maps__parse((const char *)data, size, &maps))
		return 0;
	for (i = 0; i < maps.nr; i++) {
		if (maps.entries[i].start >= maps.entries[i].end)
			abort();
		if (i && maps.entries[i - 1].start > maps.entries[i].start)
			abort();
		(void)strlen(maps.entries[i].path);
		probe = maps.entries[i].start + (maps.entries[i].end - maps.entries[i].start) / 2;
		e = sym_maps__find(&maps, probe);
		if (e && (probe < e->start || probe >= e->end))
			abort();
	}
	e = sym_maps__find(&maps, size ? data[0] * 0x1000ull : 0);
	(void)e;
	sym_maps__free(&maps);
	return 0;
}
