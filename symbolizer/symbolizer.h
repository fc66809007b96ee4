/* SPDX-License-Identifier: MIT */
/*
 * symbolizer: kernel and user addresses to names.
 *
 * - /proc/PID/maps parsing and address normalization (runtime address ->
 *   file offset -> ELF virtual address), PIE, non-PIE, shared objects, vDSO.
 * - Kernel: /proc/kallsyms (modules included), sorted, binary search.
 * - User: ELF .symtab and .dynsym through libelf, sorted, binary search.
 *   Binaries are opened only through /proc/PID/map_files/ or /proc/PID/root/
 *   (never following a symlink out of it), falling back to the host path
 *   only when the process is gone. Parsed files are cached by GNU build-id
 *   (or device, inode, size and mtime when there is none), shared by every
 *   process mapping them, bounded, least-recently-used first out.
 * - DWARF (libdw): file:line:column and inline chains, from the binary, a
 *   separate debug file (build-id, .gnu_debuglink) or debuginfod.
 * - C++ and Rust names demangled (libiberty); the mangled form is kept.
 *
 * This module never prints: errors are negative errno values, and diagnostics
 * go to the optional log callback.
 */
#ifndef SMOLDER_SYMBOLIZER_H
#define SMOLDER_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SYMBOLIZER_MAX_FRAMES	16 /* inline chain depth kept per address */
#define SYMBOLIZER_BUILD_ID_MAX 20 /* bytes; GNU build-ids are 20 (sha1) or 16 */

/* One line of /proc/PID/maps. */
struct sym_map_entry {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	bool readable, writable, executable, shared;
	bool sampled; /* the caller's: set once an address in it was seen (not read from maps) */
	char *path; /* "" for anonymous memory; "[vdso]", "[stack]", "/x (deleted)" as the kernel writes them */
};

/* The mappings of one process, sorted by start. Free with sym_maps__free(). */
struct sym_maps {
	struct sym_map_entry *entries;
	size_t nr;
};

/*
 * Parses the text of a /proc/PID/maps file. Lines that do not parse are
 * skipped. Returns 0 or -ENOMEM; *ret is untouched on failure.
 */
int sym_maps__parse(const char *text, size_t len, struct sym_maps *ret);
/* Reads and parses /proc/PID/maps. Returns 0 or a negative errno (-ESRCH when gone). */
int sym_maps__read(pid_t pid, struct sym_maps *ret);
/* The entry containing addr, or NULL. */
const struct sym_map_entry *sym_maps__find(const struct sym_maps *maps, uint64_t addr);
/* Frees the entries; accepts a zeroed struct. */
void sym_maps__free(struct sym_maps *maps);
/*
 * Opens the file behind mapping m of process pid the way the symbolizer
 * does: /proc/PID/map_files first, then inside /proc/PID/root without
 * leaving it, then (the process gone) the host path if it is still the same
 * inode. Stateless, so any thread may call it. *ret_fd is the caller's to
 * close. 0 or a negative errno.
 */
int sym_maps__open(pid_t pid, const struct sym_map_entry *m, int *ret_fd);
/*
 * Opens the separate debug file of the binary open as fd (mapping m of pid):
 * by build-id under /usr/lib/debug, then by .gnu_debuglink (CRC checked),
 * inside the process's root first. Stateless. 0 with *ret_fd (the caller
 * closes it), or -ENOENT when there is none, or a negative errno.
 */
int sym_maps__open_debug(pid_t pid, const struct sym_map_entry *m, int fd, int *ret_fd);
/*
 * The GNU build-id of the ELF file open as fd, from its PT_NOTE segments (no
 * symbol table is read). Stateless. 0, -ENOENT when it has none, or a
 * negative errno.
 */
int sym_maps__build_id(int fd, uint8_t ret[SYMBOLIZER_BUILD_ID_MAX], size_t *ret_len);

/* What a lookup found. Strings are borrowed until the next call on the symbolizer. */
struct sym_frame {
	const char *name; /* display name (demangled), NULL if unknown */
	const char *system_name; /* linkage name, NULL if same as name */
	const char *file; /* source file, NULL if unknown */
	uint32_t line;
	uint32_t column;
};

struct sym_result {
	/* Innermost first; the physical function is last. 0 frames: nothing known. */
	struct sym_frame frames[SYMBOLIZER_MAX_FRAMES];
	unsigned int nr_frames;
	uint64_t elf_addr; /* normalized address: ELF vaddr (user), address (kernel) */
	const char *module; /* kernel module name, NULL for vmlinux and user frames */
	const char *build_id; /* lower-case hex, NULL if none */
	bool has_functions; /* the file had a symbol table */
	bool has_filenames; /* the file had line info (file names) */
	bool has_line_numbers;
	bool has_inline_frames;
};

struct symbolizer_stats {
	uint64_t elf_hits; /* lookups served from a cached file */
	uint64_t elf_misses; /* files parsed */
	uint64_t elf_evictions; /* files dropped to stay under the cap */
	uint64_t elf_failures; /* files that could not be opened or parsed */
	uint64_t lookups;
	uint64_t unresolved; /* lookups that found no symbol */
	size_t elf_cached; /* files in the cache now */
	size_t bytes_cached; /* approximate memory held by the cache */
	uint64_t mapping_hits; /* user lookups whose (pid, mapping) was already bound to a file */
	uint64_t mapping_evictions; /* (pid, mapping) bindings dropped to stay under the cap */
	size_t mappings_cached; /* (pid, mapping) bindings held now */
	size_t kernel_symbols; /* kallsyms text symbols loaded, 0 before first use */
	uint64_t perfmap_hits; /* anonymous/memfd addresses named by a JIT perf map */
	uint64_t perfmap_misses; /* such addresses no perf map entry covered */
	uint64_t perfmap_reads; /* looks at perf map files that read new bytes */
	uint64_t perfmap_failures; /* looks at perf map files that failed (no file included) */
	uint64_t
		perfmap_refused; /* perf maps refused: a symlink, not a regular file, or not the process's */
	uint64_t perfmap_bytes_read; /* bytes read from perf maps (each byte once) */
	uint64_t perfmap_bytes_refused; /* bytes past a process's cap, never read */
	uint64_t perfmap_entries; /* perf map lines kept as entries */
	uint64_t perfmap_entries_refused; /* perf map lines dropped at a process's memory cap */
	uint64_t perfmap_evictions; /* processes' perf maps dropped to stay under the caps */
	size_t perfmaps_cached; /* processes with a perf map entry now */
	size_t perfmap_bytes_cached; /* approximate memory held by perf maps */
	/* Debug info lookups, one per parsed file, by where it was found. */
	uint64_t debug_self; /* the file carries its own DWARF */
	uint64_t debug_build_id; /* DEBUG_ROOT/.build-id/xx/rest.debug */
	uint64_t debug_debuglink; /* .gnu_debuglink, CRC checked */
	uint64_t debug_debuginfod; /* downloaded (or cached) by debuginfod */
	uint64_t debug_none; /* nothing found (symbol tables only) */
	uint64_t debuglink_crc_mismatches; /* debuglink candidates rejected */
	uint64_t debug_too_large; /* debug files refused unread: larger than their binary allows */
	uint64_t dwarf_failures; /* debug files found but unusable, or units that failed */
	uint64_t dwarf_too_large; /* debug files read for symbols only: over max_inflate_bytes */
	uint64_t dwarf_unit_evictions; /* DWARF units unloaded to stay under max_unit_bytes */
	uint64_t debuginfod_timeouts; /* debuginfod queries cut short by the time limit */
	uint64_t over_budget; /* user lookups past the deadline, left unnamed */
};

enum sym_log_level {
	SYM_LOG_WARN,
	SYM_LOG_INFO,
	SYM_LOG_DEBUG
};
typedef void (*sym_log_fn)(enum sym_log_level level, const char *msg, void *ctx);

struct symbolizer_opts {
	size_t max_files; /* parsed files kept; 0 means the default, 256 */
	size_t max_bytes; /* memory for parsed files; 0 means the default, 64 MiB */
	const char *kallsyms; /* path, NULL means /proc/kallsyms (tests pass a fixture) */
	sym_log_fn log; /* NULL: silent */
	void *log_ctx;
	size_t max_mappings; /* (pid, mapping) -> file bindings kept; 0 means the default, 16384 */
	size_t max_perfmaps; /* processes whose JIT perf map is kept; 0 means the default, 128 */
	size_t max_perfmap_bytes; /* memory for perf maps; 0 means the default, 128 MiB */
	/* One process's perf map: file bytes read, and memory held; 0 means the default,
	 * 96 MiB (never more than max_perfmap_bytes). */
	size_t max_perfmap_proc_bytes;
	/* Separate debug files: root of the build-id tree and of debuglink paths; NULL means
	 * /usr/lib/debug (tests pass a directory of their own). */
	const char *debug_root;
	bool no_dwarf; /* symbol tables only: no file:line, no inline frames */
	/*
	 * Compressed debug sections (libc6-dbg's, for one) that libdw may inflate for one
	 * file; a file needing more gets no file:line (symbols still name it), counted in
	 * dwarf_too_large. 0 means the default, max_bytes / 4: one file's DWARF never
	 * crowds the whole cache out.
	 */
	size_t max_inflate_bytes;
	/*
	 * One file's DWARF units (line tables, function and inline ranges) loaded at
	 * once; past it the least recently used are unloaded, and loaded again when
	 * needed (dwarf_unit_evictions). 0 means the default, max_bytes / 4.
	 */
	size_t max_unit_bytes;
	bool no_inlines; /* file:line, but only the physical function per address */
	/* debuginfod (only when DEBUGINFOD_URLS is set): per-query time limit in ms, 0 means
	 * the default, 5000; total time spent on it is capped at 10 times that. */
	unsigned int debuginfod_timeout_ms;
	bool no_debuginfod;
};

/*
 * Constructor; opts may be NULL (defaults) and is copied. Returns NULL with
 * errno set. Free with symbolizer__free().
 */
struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts);
/* Accepts NULL. */
void symbolizer__free(struct symbolizer *s);

/*
 * Names a kernel address. Loads kallsyms on first use. Returns 0 (with
 * nr_frames 0 when nothing covers addr) or a negative errno. When kallsyms
 * cannot be loaded (-EPERM: the kernel hides addresses from us), only the
 * first call returns the error (and logs it); later calls return 0 with
 * nr_frames 0, and stats.kernel_symbols stays 0.
 */
int symbolizer__kernel(struct symbolizer *s, uint64_t addr, struct sym_result *ret);
/* Frees the kernel symbol table; the next symbolizer__kernel() loads it again. */
void symbolizer__drop_kernel(struct symbolizer *s);

/*
 * Parses the file behind mapping m of process pid now, so that it can still
 * be named after the process has exited. Cheap when already cached.
 * Returns 0 or a negative errno (the mapping then stays unsymbolized).
 */
int symbolizer__preload(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m);

/*
 * Names a user address of process pid, inside mapping m. elf_addr and
 * build_id are set whenever the file could be read, even when no symbol
 * covers the address. Anonymous and memfd memory without an ELF image (JIT
 * code) is named from the process's /tmp/perf-PID.map, read inside its mount
 * namespace under its namespace pid, only when it is a regular file (not a
 * symlink) of the process's own uid or a root file it could read (refusals:
 * stats.perfmap_refused, and the log once per process). Returns 0 or a
 * negative errno.
 */
int symbolizer__user(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m, uint64_t addr,
		     struct sym_result *ret);

/*
 * Bounds the time user lookups may take: past deadline_mono_ns
 * (CLOCK_MONOTONIC; 0 for none), symbolizer__user() reads nothing and names
 * nothing (nr_frames 0, counted in over_budget) until a later deadline is set.
 */
void symbolizer__set_deadline(struct symbolizer *s, int64_t deadline_mono_ns);

/*
 * JIT names (perf maps) of the lookups that follow are those of the maps as
 * they were at mono_ns (CLOCK_MONOTONIC, as sample times are): the newest
 * line read by the first look at the map at or after mono_ns (a lookup makes
 * that look if none happened since); an address no such line covers takes
 * the oldest later line that does. 0 (the default): as the maps are now.
 * Callers give times that do not go back, e.g. the end of each window.
 */
void symbolizer__set_time(struct symbolizer *s, uint64_t mono_ns);

/*
 * Names an ELF virtual address of the file at path (for `smolder symbolize --elf`, tests).
 * The host path is checked on every call (stat(): the same device, inode,
 * size and mtime reuse the parse); a changed file is opened and parsed again.
 */
int symbolizer__elf(struct symbolizer *s, const char *path, uint64_t elf_addr,
		    struct sym_result *ret);

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *ret);

#endif /* SMOLDER_SYMBOLIZER_H */
