// SPDX-License-Identifier: MIT
/*
 * Compressed DWARF, inflated by us into a small ELF image in memory.
 *
 * libdw inflates a compressed debug section itself, but every one it knows
 * (location lists and macros too, which a symbolizer never reads), and
 * elfutils before 0.189 cannot inflate zstd (ELFCOMPRESS_ZSTD) at all:
 * Debian 12's libdw 0.188 sees no DWARF in such a file. So when a file has
 * a compressed section among those we read, we build an image holding only
 * those sections, inflated with zlib or libzstd, and hand it to libelf's
 * elf_memory(). The image is an ELF header, the section contents, a
 * section-name table and the section headers; nothing else of the file is
 * needed by libdw to read units, lines and inline chains.
 *
 * Only 64-bit little-endian ET_EXEC/ET_DYN files (what x86_64 debug files
 * are) get an image; others are left to libdw as they are.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "symbolizer_internal.h"

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2
#endif

#define MAX_SECTIONS 16
#define ZDEBUG_HDR   12 /* "ZLIB" and the inflated size, 64-bit big-endian */
/* Beyond deflate's limit (about 1032:1); zstd frames also state their size. */
#define MAX_RATIO 2048

/*
 * What the symbolizer reads (units, lines, inline chains, their strings and
 * ranges), and the link libdw follows to a dwz supplementary file.
 */
static const char *const kept_names[] = {
	".debug_info",	   ".debug_abbrev",	 ".debug_line", ".debug_line_str",
	".debug_str",	   ".debug_str_offsets", ".debug_addr", ".debug_ranges",
	".debug_rnglists", ".debug_aranges",	 ".debug_sup",	".gnu_debugaltlink",
};

enum compression {
	COMP_NONE,
	COMP_ZLIB, /* SHF_COMPRESSED, ELFCOMPRESS_ZLIB */
	COMP_ZSTD, /* SHF_COMPRESSED, ELFCOMPRESS_ZSTD */
	COMP_ZDEBUG, /* .zdebug_*: the GNU format, zlib */
};

struct kept {
	const char *name; /* as written into the image: .zdebug_x becomes .debug_x */
	const uint8_t *src; /* payload: compressed stream or plain bytes */
	size_t src_len;
	uint64_t size; /* in the image */
	enum compression comp;
	GElf_Shdr shdr;
	uint64_t offset;
};

/* The image's name for a section we keep, or NULL. */
static const char *kept_name(const char *name, bool *zdebug)
{
	size_t i;

	/* ".zdebug_info" is ".debug_info" once inflated. */
	*zdebug = !strncmp(name, ".zdebug_", 8);
	for (i = 0; i < sizeof(kept_names) / sizeof(kept_names[0]); i++) {
		if (*zdebug ? !strcmp(name + 2, kept_names[i] + 1) : !strcmp(name, kept_names[i]))
			return kept_names[i];
	}
	return NULL;
}

/* Fills k from a section: its payload, its size once inflated and how. */
static int kept_read(Elf_Scn *scn, const GElf_Shdr *shdr, bool zdebug, struct kept *k)
{
	Elf_Data *data = elf_rawdata(scn, NULL);
	const uint8_t *raw = data ? data->d_buf : NULL;
	size_t len = data ? data->d_size : 0;
	unsigned long long content;
	GElf_Chdr chdr;
	size_t i;

	if (!raw && len)
		return -EBADMSG;
	k->shdr = *shdr;
	if (shdr->sh_flags & SHF_COMPRESSED) {
		if (!gelf_getchdr(scn, &chdr) || len < sizeof(Elf64_Chdr))
			return -EBADMSG;
		if (chdr.ch_type == ELFCOMPRESS_ZLIB)
			k->comp = COMP_ZLIB;
		else if (chdr.ch_type == ELFCOMPRESS_ZSTD)
			k->comp = COMP_ZSTD;
		else
			return -ENOTSUP;
		k->src = raw + sizeof(Elf64_Chdr);
		k->src_len = len - sizeof(Elf64_Chdr);
		k->size = chdr.ch_size;
		k->shdr.sh_flags &= ~(GElf_Xword)SHF_COMPRESSED;
		k->shdr.sh_addralign = chdr.ch_addralign;
	} else if (zdebug) {
		if (len < ZDEBUG_HDR || memcmp(raw, "ZLIB", 4))
			return -EBADMSG;
		k->comp = COMP_ZDEBUG;
		k->size = 0;
		for (i = 4; i < ZDEBUG_HDR; i++)
			k->size = k->size << 8 | raw[i];
		k->src = raw + ZDEBUG_HDR;
		k->src_len = len - ZDEBUG_HDR;
	} else {
		k->comp = COMP_NONE;
		k->src = raw;
		k->src_len = len;
		k->size = len;
	}
	if (k->size > SYM_ELF_MAX_FILE_BYTES)
		return -EFBIG;
	/* A size no stream of this length can inflate to is a corrupt header, not a cue to allocate. */
	if (k->comp == COMP_ZSTD) {
		content = ZSTD_getFrameContentSize(k->src, k->src_len);
		if (content == ZSTD_CONTENTSIZE_ERROR ||
		    (content != ZSTD_CONTENTSIZE_UNKNOWN && content != k->size))
			return -EBADMSG;
	}
	if (k->comp != COMP_NONE && k->size / MAX_RATIO > k->src_len)
		return -EBADMSG;
	if (!k->shdr.sh_addralign || k->shdr.sh_addralign > 64)
		k->shdr.sh_addralign = 1;
	return 0;
}

/* Inflates or copies k into dst (k->size bytes exactly, else -EBADMSG). */
static int kept_fill(const struct kept *k, uint8_t *dst)
{
	uLongf zlen = (uLongf)k->size;
	size_t n;

	switch (k->comp) {
	case COMP_NONE:
		/* An empty section's data may have no buffer: memcpy() from NULL is undefined. */
		if (k->size)
			memcpy(dst, k->src, k->size);
		return 0;
	case COMP_ZLIB:
	case COMP_ZDEBUG:
		if (uncompress(dst, &zlen, k->src, (uLong)k->src_len) != Z_OK || zlen != k->size)
			return -EBADMSG;
		return 0;
	case COMP_ZSTD:
		n = ZSTD_decompress(dst, k->size, k->src, k->src_len);
		if (ZSTD_isError(n) || n != k->size)
			return -EBADMSG;
		return 0;
	}
	return -EBADMSG;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Writes the image: header, contents, names, section headers. */
static int image_write(const GElf_Ehdr *ehdr, struct kept *kept, size_t nr, size_t max_bytes,
		       bool mapped, void **ret, size_t *ret_len)
{
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	uint64_t off = sizeof(Elf64_Ehdr), names_off, names_len = 1, shoff, total;
	uint8_t *img;
	size_t i;
	int err;

	for (i = 0; i < nr; i++) {
		off = align_up(off, kept[i].shdr.sh_addralign);
		kept[i].offset = off;
		off += kept[i].size;
		names_len += strlen(kept[i].name) + 1;
		if (off > SYM_ELF_MAX_FILE_BYTES)
			return -EFBIG;
	}
	names_len += strlen(".shstrtab") + 1;
	names_off = off;
	shoff = align_up(names_off + names_len, 8);
	total = shoff + (nr + 2) * sizeof(Elf64_Shdr);
	if (max_bytes && total > max_bytes)
		return -EFBIG;
	img = calloc(1, total);
	if (!img)
		return -ENOMEM;
	sh = (Elf64_Shdr *)(img + shoff);
	names_len = 1;
	for (i = 0; i < nr; i++) {
		err = kept_fill(&kept[i], img + kept[i].offset);
		if (err) {
			free(img);
			return err;
		}
		/* Read through libelf's mapping of the file: not needed again. */
		if (mapped)
			sym_drop_pages(kept[i].src, kept[i].src_len);
		sh[i + 1] = (Elf64_Shdr){
			.sh_name = (Elf64_Word)names_len,
			.sh_type = kept[i].shdr.sh_type,
			.sh_flags = kept[i].shdr.sh_flags,
			.sh_offset = kept[i].offset,
			.sh_size = kept[i].size,
			.sh_addralign = kept[i].shdr.sh_addralign,
			.sh_entsize = kept[i].shdr.sh_entsize,
		};
		strcpy((char *)img + names_off + names_len, kept[i].name);
		names_len += strlen(kept[i].name) + 1;
	}
	sh[nr + 1] = (Elf64_Shdr){
		.sh_name = (Elf64_Word)names_len,
		.sh_type = SHT_STRTAB,
		.sh_offset = names_off,
		.sh_size = names_len + strlen(".shstrtab") + 1,
		.sh_addralign = 1,
	};
	strcpy((char *)img + names_off + names_len, ".shstrtab");

	eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, ehdr->e_ident, EI_NIDENT);
	eh->e_type = ehdr->e_type;
	eh->e_machine = ehdr->e_machine;
	eh->e_version = EV_CURRENT;
	eh->e_shoff = shoff;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = (Elf64_Half)(nr + 2);
	eh->e_shstrndx = (Elf64_Half)(nr + 1);
	*ret = img;
	*ret_len = total;
	return 0;
}

int sym_dwarf__image(Elf *elf, size_t max_bytes, bool mapped, void **ret, size_t *ret_len)
{
	struct kept kept[MAX_SECTIONS];
	bool compressed = false, zdebug;
	const char *name, *keep;
	Elf_Scn *scn = NULL;
	size_t shstrndx, nr = 0;
	GElf_Ehdr ehdr;
	GElf_Shdr shdr;
	int err;

	if (!gelf_getehdr(elf, &ehdr) || ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
	    ehdr.e_ident[EI_DATA] != ELFDATA2LSB || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ ||
	    (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN) || elf_getshdrstrndx(elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		keep = name ? kept_name(name, &zdebug) : NULL;
		if (!keep)
			continue;
		if (nr == MAX_SECTIONS)
			return -EBADMSG;
		memset(&kept[nr], 0, sizeof(kept[nr]));
		kept[nr].name = keep;
		err = kept_read(scn, &shdr, zdebug, &kept[nr]);
		if (err)
			return err;
		compressed |= kept[nr].comp != COMP_NONE;
		nr++;
	}
	if (!compressed)
		return -ENOENT;
	return image_write(&ehdr, kept, nr, max_bytes, mapped, ret, ret_len);
}
