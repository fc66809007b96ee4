/* SPDX-License-Identifier: MIT */
/*
 * symbolizer internals shared by maps.c, kallsyms.c, elf.c and symbolizer.c,
 * and by the unit tests and fuzz harnesses (which drive the same parse paths).
 * Not part of the public API.
 */
#ifndef SMOLDER_SYMBOLIZER_INTERNAL_H
#define SMOLDER_SYMBOLIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer.h"

#define SYM_MAPS_MAX_ENTRIES	  1000000u /* lines kept from one maps file */
#define SYM_PROC_TEXT_MAX	  (256u << 20) /* bytes read from one /proc text file */
#define SYM_KALLSYMS_MAX_SYMS	  4000000u /* text symbols kept from kallsyms */
#define SYM_KALLSYMS_MAX_GAP	  (1u << 20) /* bytes past a symbol still named by it */
#define SYM_ELF_MAX_SYMS	  8000000u /* function symbols kept from one ELF file */
#define SYM_ELF_MAX_LOADS	  256u /* PT_LOAD headers kept from one ELF file */
#define SYM_ELF_MAX_NAME	  4096u /* longer symbol names are skipped */
#define SYM_ELF_MAX_FILE_BYTES	  (4ull << 30) /* larger files are not parsed */
#define SYM_DWARF_MAX_UNITS	  1000000u /* compilation units indexed per file */
#define SYM_DWARF_MAX_RANGES	  (16u << 20) /* address ranges per file index or per unit */
#define SYM_DWARF_MAX_UNIT_RANGES 65536 /* ranges read from one DIE */
#define SYM_DWARF_MAX_NODES	  (4u << 20) /* functions and inlined instances per unit */
#define SYM_DWARF_MAX_DIES	  (64u << 20) /* DIEs walked per unit */
#define SYM_DWARF_MAX_DEPTH	  128 /* DIE nesting followed */
#define SYM_DEBUGDATA_MAX_BYTES	  (256u << 20) /* MiniDebugInfo inflated at most */
/* A separate debug file is read only up to sym_debuginfo__max_bytes() of its binary. */
#define SYM_DEBUG_SIZE_RATIO 32u /* times the binary's size */
#define SYM_DEBUG_MIN_BYTES  (64ull << 20) /* whatever the binary's size */
#define SYM_DEBUG_MAX_BYTES  (2ull << 30) /* whatever the binary's size */

/*
 * Reads a whole /proc (or any) text file into a NUL-terminated buffer of at
 * most SYM_PROC_TEXT_MAX bytes: safefile__read(), so only a regular file is
 * opened (a FIFO gives -EBADFD at once). Caller frees *ret_text. Returns 0 or
 * a negative errno (-EFBIG past the cap).
 */
int sym_proc__read_text(const char *path, char **ret_text, size_t *ret_len);

/* A growing string arena; offsets stay valid as it grows. */
struct sym_arena {
	char *buf;
	size_t len;
	size_t cap;
};

/*
 * Appends s[0..len) and a NUL. Returns the offset, or 0 on failure (no
 * memory, or past 4 GiB): callers add "" first so that 0 is never a string
 * they asked for.
 */
uint32_t sym_arena__add(struct sym_arena *a, const char *s, size_t len);

/* One of several names at one address (names.c). */
struct sym_alias {
	const char *name; /* not NUL-terminated */
	size_t len;
	bool local; /* kallsyms 't', ELF STB_LOCAL or hidden; weak counts as global */
};

/*
 * Orders the aliases of one address, best name first: global (or weak) over
 * local, native over compat (__ia32_, __x32_, compat_ prefixes), fewer
 * leading underscores, shorter, then byte order. Returns <0, 0 or >0.
 */
int sym_alias__cmp(const struct sym_alias *a, const struct sym_alias *b);

/* kallsyms: text symbols sorted by address; strings in one arena. */
struct sym_ksym {
	uint64_t addr;
	uint64_t end; /* first address not named by this symbol */
	uint32_t name_off; /* into strs */
	uint32_t module_off; /* into strs; 0 is the empty string (vmlinux) */
};

struct sym_kallsyms {
	struct sym_ksym *syms;
	size_t nr;
	char *strs;
	size_t strs_len;
};

/*
 * Parses kallsyms text ("addr type name [module]" lines). Returns 0, -EPERM
 * when every address is zero (hidden by kptr_restrict or lack of privilege),
 * -ENOENT when no text symbol was found, or -ENOMEM. Free with
 * sym_kallsyms__free().
 */
int sym_kallsyms__parse(const char *text, size_t len, struct sym_kallsyms **ret);
int sym_kallsyms__load(const char *path, struct sym_kallsyms **ret);
/* The symbol naming addr, or NULL. Borrowed from k. */
const struct sym_ksym *sym_kallsyms__find(const struct sym_kallsyms *k, uint64_t addr);
void sym_kallsyms__free(struct sym_kallsyms *k);

/* ELF: function symbols sorted by address, deduplicated; one string arena. */
struct sym_elf_sym {
	uint64_t addr;
	uint64_t end;
	uint32_t name_off;
};

struct sym_elf_load {
	uint64_t offset;
	uint64_t filesz;
	uint64_t vaddr;
};

struct sym_dwarf;
struct Elf; /* libelf.h */

/* Where a file's debug info was found (see debuginfo.c for the search order). */
enum sym_debug_source {
	SYM_DEBUG_NONE,
	SYM_DEBUG_SELF,
	SYM_DEBUG_BUILD_ID,
	SYM_DEBUG_DEBUGLINK,
	SYM_DEBUG_DEBUGINFOD,
};

struct sym_elf_file {
	struct sym_elf_sym *syms;
	size_t nr_syms;
	char *strs;
	size_t strs_len;
	struct sym_elf_load *loads;
	size_t nr_loads;
	uint16_t type; /* ET_EXEC, ET_DYN */
	bool has_functions;
	size_t build_id_len;
	uint8_t build_id[SYMBOLIZER_BUILD_ID_MAX];
	char build_id_hex[2 * SYMBOLIZER_BUILD_ID_MAX + 1];
	size_t bytes; /* approximate memory held */
	bool has_symtab; /* a .symtab (not only .dynsym) was read */
	bool has_debug_info; /* .debug_info or .zdebug_info present */
	bool has_minidebuginfo; /* symbols came from .gnu_debugdata too */
	char *debuglink; /* .gnu_debuglink file name, NULL if none */
	uint32_t debuglink_crc;
	/* Set by the symbolizer once it has looked for debug info; freed with the file. */
	bool debug_tried;
	enum sym_debug_source debug_source;
	struct sym_dwarf *dwarf;
	struct sym_elf_file *debug_syms; /* the debug file's .symtab when ours has none */
};

/* One PLT stub (plt.c). */
struct sym_plt_entry {
	uint64_t addr;
	uint64_t size;
	const char *name; /* the called symbol, borrowed from the Elf; NULL for an ifunc */
	uint64_t ifunc; /* when name is NULL: the ifunc resolver's address (IRELATIVE) */
};

/*
 * The stubs of elf's .plt, .plt.sec and .plt.got, each with the function it
 * calls, from the dynamic relocations. *ret (caller frees, may be NULL when
 * *ret_nr is 0) is unsorted. Machines other than x86_64, and files without
 * relocations, have none. Returns 0 or -ENOMEM; *ret untouched on failure.
 */
int sym_plt__read(struct Elf *elf, struct sym_plt_entry **ret, size_t *ret_nr);

/* Parses an open ELF file (the fd stays the caller's). Free with sym_elf__free(). */
int sym_elf__parse_fd(int fd, struct sym_elf_file **ret);
/* Parses an ELF image in memory (copied first; buf stays the caller's). */
int sym_elf__parse_mem(const void *buf, size_t len, struct sym_elf_file **ret);
/*
 * File offset to ELF virtual address through the PT_LOAD covering it.
 * Returns 0 or -ENOENT when no PT_LOAD file range covers off.
 */
int sym_elf__offset_to_vaddr(const struct sym_elf_file *f, uint64_t off, uint64_t *ret);
/* The function symbol containing vaddr, or NULL. */
const struct sym_elf_sym *sym_elf__find(const struct sym_elf_file *f, uint64_t vaddr);
/* The function symbol of f, else of its debug file's symbol table, containing vaddr. */
const struct sym_elf_sym *sym_elf__find_any(const struct sym_elf_file *f, uint64_t vaddr,
					    const char **ret_name);
/* Frees f, its DWARF and its debug symbols; accepts NULL. */
void sym_elf__free(struct sym_elf_file *f);

/*
 * DWARF of one ELF file (dwarf.c). Opening reads unit headers only; units
 * are loaded on first lookup. The fd stays the caller's and may be closed
 * after the call; the memory image is copied. Returns 0, -ENODATA when
 * there is no usable DWARF, -ENOEXEC, -EFBIG (too large, or its compressed
 * debug sections would inflate to more than max_inflate bytes; 0: no
 * limit) or -ENOMEM.
 */
int sym_dwarf__open_fd(int fd, size_t max_inflate, struct sym_dwarf **ret);
int sym_dwarf__open_mem(const void *buf, size_t len, struct sym_dwarf **ret);
/*
 * When elf has a compressed section among the DWARF sections we read: a new
 * ELF image (malloc()ed, *ret_len bytes) of those sections inflated, for
 * elf_memory(). -ENOENT when there is none (read elf as it is) or elf is not
 * 64-bit little-endian ET_EXEC/ET_DYN; -EFBIG past max_bytes (0: no cap but
 * SYM_ELF_MAX_FILE_BYTES); -ENOTSUP for an unknown compression; -EBADMSG for
 * a corrupt section; -ENOMEM. mapped: elf is a file mapped by libelf, whose
 * pages may be dropped once read.
 */
int sym_dwarf__image(struct Elf *elf, size_t max_bytes, bool mapped, void **ret, size_t *ret_len);
/*
 * Drops the whole pages of [p, p + len), in a read-only private file mapping,
 * from our resident set (they stay in the page cache). Never on memory of
 * our own: that would zero it.
 */
void sym_drop_pages(const void *p, size_t len);
/*
 * Frames for an ELF vaddr, innermost first, physical function last (only it
 * when !inlines). Frame 0 carries the line-table row; its name is NULL when
 * no function DIE covers vaddr. Strings are borrowed from d, until the next
 * lookup (which may unload the unit they belong to). *ret_nr is 0
 * when nothing is known. Returns 0 or -ENOMEM (the unit stays unloaded).
 */
int sym_dwarf__lookup(struct sym_dwarf *d, uint64_t vaddr, bool inlines, struct sym_frame *frames,
		      unsigned int max_frames, unsigned int *ret_nr);
/* Approximate memory held now: grows as units are loaded. */
size_t sym_dwarf__bytes(const struct sym_dwarf *d);
/*
 * Caps the memory of the units loaded at once (0: no cap). Past it, a load
 * unloads the least recently looked-up units, never the one just loaded,
 * until three quarters of the cap hold; an unloaded unit is loaded again at
 * its next lookup. libdw's own share of a unit is kept until the file is
 * freed. Counted in sym_dwarf__unit_evictions().
 */
void sym_dwarf__set_unit_cap(struct sym_dwarf *d, size_t max_bytes);
uint64_t sym_dwarf__unit_evictions(const struct sym_dwarf *d);
/* Whether some unit has a line table / has code (whose DIEs give inline chains). */
bool sym_dwarf__has_lines(const struct sym_dwarf *d);
bool sym_dwarf__has_inlines(const struct sym_dwarf *d);
void sym_dwarf__free(struct sym_dwarf *d);

/* Line tables read without libdw (dwarf_lines.c). */
#define SYM_DWARF_MAX_LINE_ROWS	 (16u << 20) /* rows kept per unit */
#define SYM_DWARF_MAX_LINE_FILES 1000000u /* directories and files per unit */

struct sym_line_row {
	uint64_t addr;
	uint32_t line; /* 0: unknown */
	uint32_t column; /* 0: unknown */
	uint32_t file; /* index into files */
	uint32_t end; /* ends a sequence: addr is past its code */
};

/* One unit's rows, by address, and its file names (NULL where unnamed). */
struct sym_line_table {
	struct sym_line_row *rows;
	size_t nr_rows;
	const char **files; /* into paths */
	size_t nr_files;
	struct sym_arena paths;
	size_t bytes; /* memory held */
};

/* The (inflated) sections a line table refers to; NULL when absent. */
struct sym_line_sections {
	const uint8_t *line;
	size_t line_len;
	const char *line_str;
	size_t line_str_len;
	const char *str;
	size_t str_len;
};

/*
 * Reads the line table at offset of .debug_line (the unit's DW_AT_stmt_list;
 * comp_dir its DW_AT_comp_dir or NULL). Returns 0, -EINVAL (malformed),
 * -ENOTSUP (a form or layout not handled: use libdw) or -ENOMEM; *ret is
 * untouched on failure. Free with sym_lines__free().
 */
int sym_lines__parse(const struct sym_line_sections *sec, uint64_t offset, const char *comp_dir,
		     struct sym_line_table *ret);
/* The row covering addr (the last at or before it, unless that ends a sequence), or NULL. */
const struct sym_line_row *sym_lines__find(const struct sym_line_table *t, uint64_t addr);
/* Accepts a zeroed table. */
void sym_lines__free(struct sym_line_table *t);

/* Where to look for separate debug files of one ELF file (debuginfo.c). */
struct sym_debug_query {
	const char *debug_root; /* "/usr/lib/debug" or the tests' stand-in */
	int root_fd; /* /proc/PID/root (O_PATH) for a process, -1 for the host */
	const char *binary_path; /* path of the binary under that root; NULL if unknown */
	bool host_build_id; /* after the root, try the host's debug_root by build-id */
	uint64_t binary_bytes; /* the binary's size: caps its debug file's */
};

/* Debug file candidates refused by sym_debuginfo__find(). */
struct sym_debug_refusals {
	unsigned int crc_mismatches; /* debuglink candidates whose CRC (or ELF) did not match */
	unsigned int too_large; /* candidates over sym_debuginfo__max_bytes(), never read */
};

/*
 * Opens the separate debug file of f: by build-id under debug_root, then
 * by .gnu_debuglink (CRC32 checked) next to the binary, in its .debug/ and
 * under debug_root. Paths under root_fd are resolved inside it
 * (RESOLVE_IN_ROOT). Candidates over sym_debuginfo__max_bytes(q->binary_bytes)
 * are refused unread. Returns 0 with *ret_fd and *ret_source, -ENOENT when
 * none is found, -ENOMEM. *ret_refused counts the candidates rejected.
 */
int sym_debuginfo__find(const struct sym_debug_query *q, const struct sym_elf_file *f, int *ret_fd,
			enum sym_debug_source *ret_source, struct sym_debug_refusals *ret_refused);
/*
 * The largest debug file read for a binary of binary_bytes:
 * SYM_DEBUG_SIZE_RATIO times it, within [SYM_DEBUG_MIN_BYTES, SYM_DEBUG_MAX_BYTES].
 */
uint64_t sym_debuginfo__max_bytes(uint64_t binary_bytes);
/*
 * CRC-32 (as .gnu_debuglink uses) of a whole open file of at most max_bytes.
 * Returns 0, -EFBIG past max_bytes, or a negative errno.
 */
int sym_debuginfo__crc32(int fd, uint64_t max_bytes, uint32_t *ret);

/*
 * Demangles a C++ or Rust symbol (libiberty). Returns a malloc()ed string
 * the caller frees, or NULL when name is not mangled (or on no memory).
 */
char *sym_demangle(const char *name);

/*
 * Opens path (absolute, as process pid sees it) inside /proc/PID/root with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so that no symlink leads
 * out of the process's root; read-only, non-blocking, close-on-exec, plus
 * extra_flags (O_NOFOLLOW: -ELOOP when the last component is a symlink). Any
 * file type: callers check. Returns 0 or a negative errno, -ESRCH when the
 * process (its /proc/PID/root) is gone.
 */
int sym_proc__open_in_root(pid_t pid, const char *path, int extra_flags, int *ret_fd);

/* JIT perf maps (/tmp/perf-PID.map): see perfmap.c. */
#define SYM_PERFMAP_MAX_BYTES \
	(96u << 20) /* default per-process cap: file bytes read, memory held */
#define SYM_PERFMAP_MAX_LINE 2048u /* bytes of a line looked at; the rest is skipped */
#define SYM_PERFMAP_MAX_SYMS 4000000u /* entries kept from one perf map */
#define SYM_PERFMAP_MAX_NAME 1024u /* longer names are cut at a UTF-8 boundary */

struct sym_perfmap_sym {
	uint64_t start;
	uint64_t end;
	uint32_t name_off; /* into strs */
	uint32_t seq; /* line number among kept lines: later lines win overlaps */
};

/* One parsed perf map: sorted by start, non-overlapping; strings in one arena. */
struct sym_perfmap {
	struct sym_perfmap_sym *syms;
	size_t nr;
	char *strs;
	size_t strs_len;
	size_t bytes; /* approximate memory held */
};

/*
 * Parses perf map text ("START SIZE name" lines, hex, optional 0x; the first
 * SYM_PERFMAP_MAX_LINE bytes of each). Lines that do not parse are skipped;
 * an empty map is not an error. Each address is named by the last line
 * covering it. Returns 0 or -ENOMEM. Free with sym_perfmap__free().
 */
int sym_perfmap__parse(const char *text, size_t len, struct sym_perfmap **ret);
/* The entry containing addr, or NULL. Borrowed from pm. */
const struct sym_perfmap_sym *sym_perfmap__find(const struct sym_perfmap *pm, uint64_t addr);
void sym_perfmap__free(struct sym_perfmap *pm);

/* Per-process perf maps, read from inside each process's mount namespace. */
struct sym_perfmaps;

struct sym_perfmaps_opts {
	size_t max_procs; /* processes kept; 0 means the default, 128 */
	size_t max_bytes; /* memory for parsed maps; 0 means the default, 128 MiB */
	uint64_t reread_ns; /* least time between two looks at one file; 0: default, 1 s */
	/* One process's file bytes read, and memory held; 0 means the default,
	 * SYM_PERFMAP_MAX_BYTES; never more than max_bytes. */
	size_t max_proc_bytes;
	sym_log_fn log; /* refusals; NULL: silent */
	void *log_ctx;
};

/* opts may be NULL. Returns NULL with errno set. Free with sym_perfmaps__free(). */
struct sym_perfmaps *sym_perfmaps__new(const struct sym_perfmaps_opts *opts);
/* Accepts NULL. */
void sym_perfmaps__free(struct sym_perfmaps *c);
/* Whether addresses in m may be JIT code named by a perf map (anonymous, memfd). */
bool sym_perfmaps__eligible(const struct sym_map_entry *m);
/*
 * Names addr of process pid from its perf map: fills frames[0], nr_frames,
 * has_functions and elf_addr of *res when an entry covers addr, leaves *res
 * alone otherwise. Reads the map on first use; reads what was appended when
 * reread_ns passed since the last look, or when no look happened since the
 * time set_time() gave. Returns 0 when named, -ENOENT when not, or another
 * negative errno when the map cannot be read (-ELOOP, -EINVAL, -EPERM: it
 * was refused). The name is borrowed until the next call on c.
 */
int sym_perfmaps__lookup(struct sym_perfmaps *c, pid_t pid, uint64_t addr, struct sym_result *res);
/* Reads pid's perf map now (if not cached yet), so it outlives the process. */
int sym_perfmaps__preload(struct sym_perfmaps *c, pid_t pid);
/*
 * Lookups from now on name addresses as the maps were at mono_ns
 * (CLOCK_MONOTONIC), see perfmap.c; 0: as they are now. Times given are
 * expected not to go back (older reads are folded together).
 */
void sym_perfmaps__set_time(struct sym_perfmaps *c, uint64_t mono_ns);
/* Sets the perfmap_* fields of *ret only. */
void sym_perfmaps__stats(const struct sym_perfmaps *c, struct symbolizer_stats *ret);

/*
 * In an array of nr entries of size bytes, sorted by a uint64_t start field
 * at start_off, the number of entries whose start is <= addr: the one that
 * may contain addr is the last of them. One binary search for every sorted
 * table of the module (maps, kallsyms, perf maps).
 */
static inline size_t sym_count_le(const void *base, size_t nr, size_t size, size_t start_off,
				  uint64_t addr)
{
	size_t lo = 0, hi = nr, mid;
	uint64_t start;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		memcpy(&start, (const char *)base + mid * size + start_off, sizeof(start));
		if (start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Makes room for entry nr in *arr (of *cap entries of elem bytes), doubling
 * from 64 up to max entries. 0, -E2BIG at max, or -ENOMEM; *arr is kept on
 * failure.
 */
static inline int sym_grow(void **arr, size_t *cap, size_t nr, size_t elem, size_t max)
{
	size_t new_cap;
	void *p;

	if (nr < *cap)
		return 0;
	if (nr >= max)
		return -E2BIG;
	new_cap = *cap ? *cap * 2 : 64;
	if (new_cap > max)
		new_cap = max;
	p = reallocarray(*arr, new_cap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = new_cap;
	return 0;
}

/* Parses up to 16 hex digits at *p; advances *p. */
static inline bool sym_parse_hex(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;
	int d;

	while (s < end) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (++digits > 16)
			return false;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	if (!digits)
		return false;
	*p = s;
	*ret = v;
	return true;
}

#endif /* SMOLDER_SYMBOLIZER_INTERNAL_H */
