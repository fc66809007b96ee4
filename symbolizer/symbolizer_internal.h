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
#include <stdint.h>

#include "symbolizer.h"

#define SYM_MAPS_MAX_ENTRIES   1000000u /* lines kept from one maps file */
#define SYM_PROC_TEXT_MAX      (256u << 20) /* bytes read from one /proc text file */
#define SYM_KALLSYMS_MAX_SYMS  4000000u /* text symbols kept from kallsyms */
#define SYM_KALLSYMS_MAX_GAP   (1u << 20) /* bytes past a symbol still named by it */
#define SYM_ELF_MAX_SYMS       8000000u /* function symbols kept from one ELF file */
#define SYM_ELF_MAX_LOADS      256u /* PT_LOAD headers kept from one ELF file */
#define SYM_ELF_MAX_NAME       4096u /* longer symbol names are skipped */
#define SYM_ELF_MAX_FILE_BYTES (4ull << 30) /* larger files are not parsed */

/*
 * Reads a whole /proc (or any) text file into a NUL-terminated buffer of at
 * most SYM_PROC_TEXT_MAX bytes. Caller frees *ret_text. Returns 0 or a
 * negative errno (-EFBIG past the cap).
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
};

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
void sym_elf__free(struct sym_elf_file *f);

/*
 * Opens path (absolute, as process pid sees it) inside /proc/PID/root with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so that no symlink leads
 * out of the process's root; read-only, non-blocking, close-on-exec. Any file
 * type: callers check. Returns 0 or a negative errno, -ESRCH when the process
 * (its /proc/PID/root) is gone.
 */
int sym_proc__open_in_root(pid_t pid, const char *path, int *ret_fd);

/* JIT perf maps (/tmp/perf-PID.map): see perfmap.c. */
#define SYM_PERFMAP_MAX_BYTES (64u << 20) /* larger perf map files are not read */
#define SYM_PERFMAP_MAX_SYMS  4000000u /* entries kept from one perf map */
#define SYM_PERFMAP_MAX_NAME  1024u /* longer names are cut at a UTF-8 boundary */

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
 * Parses perf map text ("START SIZE name" lines, hex, optional 0x). Lines that
 * do not parse are skipped; an empty map is not an error. Returns 0 or
 * -ENOMEM. Free with sym_perfmap__free().
 */
int sym_perfmap__parse(const char *text, size_t len, struct sym_perfmap **ret);
/* The entry containing addr, or NULL. Borrowed from pm. */
const struct sym_perfmap_sym *sym_perfmap__find(const struct sym_perfmap *pm, uint64_t addr);
void sym_perfmap__free(struct sym_perfmap *pm);

/* Per-process perf maps, read from inside each process's mount namespace. */
struct sym_perfmaps;

struct sym_perfmaps_opts {
	size_t max_procs; /* processes kept; 0 means the default, 128 */
	size_t max_bytes; /* memory for parsed maps; 0 means the default, 64 MiB */
	uint64_t reread_ns; /* least time between two looks at one file; 0: default, 1 s */
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
 * alone otherwise. Reads the map on first use, and again (at most once per
 * reread_ns) on a miss when the file changed. Returns 0 when named,
 * -ENOENT when not, or another negative errno when the map cannot be read.
 * The name is borrowed until the next call on c.
 */
int sym_perfmaps__lookup(struct sym_perfmaps *c, pid_t pid, uint64_t addr,
			 struct sym_result *res);
/* Reads pid's perf map now (if not cached yet), so it outlives the process. */
int sym_perfmaps__preload(struct sym_perfmaps *c, pid_t pid);
/* Sets the perfmap_* fields of *ret only. */
void sym_perfmaps__stats(const struct sym_perfmaps *c, struct symbolizer_stats *ret);

#endif /* SMOLDER_SYMBOLIZER_INTERNAL_H */
