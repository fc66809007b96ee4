// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes fed as an ELF image with DWARF through
 * sym_dwarf__open_mem() (the parse path of every debug file), opening
 * returns 0 or a negative errno, and lookups at addresses inside and around
 * the image's code return frames with bounded count, NUL-terminated strings
 * and no crash, hang or leak; an unparsable file gives no frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lookup(struct sym_dwarf *d, uint64_t addr, bool inlines)
{
	struct sym_frame frames[SYMBOLIZER_MAX_FRAMES];
	unsigned int nr = 0, i;

	if (sym_dwarf__lookup(d, addr, inlines, frames, SYMBOLIZER_MAX_FRAMES, &nr))
		return;
	if (nr > SYMBOLIZER_MAX_FRAMES)
		abort();
	for (i = 0; i < nr; i++) {
		/* Reading every string through catches dangling or unterminated ones (ASan). */
		if (frames[i].name && strlen(frames[i].name) > (1u << 30))
			abort();
		if (frames[i].file && strlen(frames[i].file) > (1u << 30))
			abort();
		if (frames[i].system_name && strlen(frames[i].system_name) > (1u << 30))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t addrs[] = {0,	 0x400000, 0x401000, 0x401010, 0x1000,
					 0x1040, 0x1130,   0x1139,   0x1150,   UINT64_MAX};
	struct sym_dwarf *d = NULL;
	size_t i;

	if (sym_dwarf__open_mem(data, size, &d))
		return 0;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		check_lookup(d, addrs[i], true);
		check_lookup(d, addrs[i] + 7, false);
	}
	/* Every 32nd byte of 16 KiB at the usual PIE and static text starts: the corpus's code. */
	for (i = 0; i < 0x4000; i += 32) {
		check_lookup(d, 0x1000 + i, true);
		check_lookup(d, 0x401000 + i, true);
	}
	if (!sym_dwarf__bytes(d))
		abort();
	sym_dwarf__free(d);
	return 0;
}
