/* SPDX-License-Identifier: MIT */
/*
 * unwind: user stacks from a copy of the stack and the call frame information
 * (CFI) of each binary, for code built without frame pointers (x86_64 only).
 *
 * - unwind_table: the .eh_frame (and .debug_frame) of one ELF file turned once
 *   into a sorted array of compact rows; a frame step is a binary search.
 * - unwind_cache: tables keyed by build-id (or any caller key), shared by all
 *   processes, least-recently-used first out, capped in count and bytes.
 * - unwind__walk(): registers + stack copy -> return addresses, leaf first,
 *   and a status saying how the walk ended.
 *
 * Nothing here is thread-safe: one thread owns a cache and walks with it.
 * This module never prints: errors are negative errno values or statuses.
 */
#ifndef SMOLDER_UNWIND_H
#define SMOLDER_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Tables ---- */

/* How the canonical frame address (rsp before the call) is found at a pc. */
enum unwind_cfa_rule {
	UNWIND_CFA_NONE = 0, /* no CFI covers the pc: fall back to frame pointers */
	UNWIND_CFA_RSP, /* CFA = rsp + cfa_off */
	UNWIND_CFA_RBP, /* CFA = rbp + cfa_off */
	UNWIND_CFA_RBP_DEREF, /* CFA = *(rbp + cfa_off) (gcc's realigned main) */
	UNWIND_CFA_PLT, /* CFA = rsp + cfa_off + ((rip & 15) >= plt_threshold ? 8 : 0) */
	UNWIND_CFA_SIGNAL, /* signal trampoline: registers are in the ucontext at rsp */
	UNWIND_CFA_END, /* return address undefined: outermost frame (_start, clone) */
	UNWIND_CFA_UNSUPPORTED, /* a rule this module does not evaluate */
};

/* Where the caller's rbp is. The return address is always at CFA - 8. */
enum unwind_rbp_rule {
	UNWIND_RBP_SAME = 0, /* unchanged */
	UNWIND_RBP_AT_CFA, /* saved at CFA + rbp_off */
	UNWIND_RBP_AT_RBP, /* saved at rbp + rbp_off (gcc's realigned main) */
	UNWIND_RBP_LOST, /* any other rule: rbp is unknown in the caller */
};

/* The rule at one address, decoded (the table stores a 12-byte form). */
struct unwind_rule {
	uint64_t start; /* ELF virtual address where the rule starts */
	uint64_t end; /* first address after it */
	enum unwind_cfa_rule cfa;
	int32_t cfa_off;
	enum unwind_rbp_rule rbp;
	int32_t rbp_off;
	uint8_t plt_threshold; /* UNWIND_CFA_PLT only */
};

/* What a raw CFI section holds (for unwind_table__from_section()). */
enum unwind_section_kind {
	UNWIND_SECTION_EH_FRAME = 0,
	UNWIND_SECTION_DEBUG_FRAME,
};

struct unwind_table;

/*
 * Builds the table of an ELF file open at fd (x86_64, ELFCLASS64): its
 * .eh_frame, plus its .debug_frame where .eh_frame has no entry. debug_fd,
 * when >= 0, is a separate debug file whose .debug_frame fills the ranges
 * .eh_frame leaves out. Both fds stay owned by the caller and can be closed
 * on return. Returns the table, or NULL with errno set (ENOENT: no CFI at
 * all; EINVAL: not an x86_64 ELF; ENOMEM).
 * Free with unwind_table__free().
 */
struct unwind_table *unwind_table__from_fd(int fd, int debug_fd);

/*
 * Same from an ELF image in memory (the vDSO: the bytes at
 * getauxval(AT_SYSINFO_EHDR), or read from /proc/PID/mem). The image is
 * borrowed for the call only. Returns NULL with errno set on failure.
 */
struct unwind_table *unwind_table__from_memory(const void *image, size_t image_bytes);

/*
 * Same from the raw bytes of one section: data is the section contents and
 * section_vaddr its sh_addr (pc-relative pointers in .eh_frame depend on it;
 * ignored for .debug_frame). data is borrowed for the call only. For callers
 * that extract sections themselves, and the fuzzer.
 */
struct unwind_table *unwind_table__from_section(enum unwind_section_kind kind,
						uint64_t section_vaddr, const void *data,
						size_t bytes);

/* Accepts NULL. */
void unwind_table__free(struct unwind_table *t);
/*
 * The ELF virtual address of a file offset, through the PT_LOAD segments of
 * the file the table was built from (from_fd and from_memory only). 0, or
 * -ENOENT when no segment holds the offset.
 */
int unwind_table__file_to_vaddr(const struct unwind_table *t, uint64_t file_offset,
				uint64_t *ret_vaddr);

/*
 * The rule covering ELF virtual address elf_addr. Addresses no FDE covers
 * give a rule of UNWIND_CFA_NONE (with start/end of the gap when known).
 * Always succeeds; *ret is fully written.
 */
void unwind_table__find(const struct unwind_table *t, uint64_t elf_addr, struct unwind_rule *ret);

size_t unwind_table__nr_rows(const struct unwind_table *t);
/* True when t is a Go binary's (it has .gopclntab): its threads may switch stacks. */
bool unwind_table__is_go(const struct unwind_table *t);
/* Heap bytes held by the table (what the cache charges for it). */
size_t unwind_table__bytes(const struct unwind_table *t);

/* ---- Function starts ---- */

/*
 * Where the functions of a file start, for naming code no symbol covers: the
 * start and end of every FDE of its .eh_frame (and .debug_frame, when the
 * file itself has one) that a table would keep (sorted, overlaps dropped),
 * and its PT_LOAD segments. 16 bytes per FDE, fewer FDEs than the sections
 * have bytes; no instructions are run.
 */
struct unwind_funcs;

/*
 * Reads the ELF file open at fd (x86_64, ELFCLASS64; fd stays the caller's).
 * Returns NULL with errno set (ENOENT: no FDE; EINVAL: not an x86_64 ELF;
 * ENOMEM). Free with unwind_funcs__free().
 */
struct unwind_funcs *unwind_funcs__from_fd(int fd);
/* Accepts NULL. */
void unwind_funcs__free(struct unwind_funcs *f);
/*
 * The start (FDE initial location, an ELF virtual address) of the function
 * whose FDE covers elf_addr: 0 with *ret_start set, or -ENOENT.
 */
int unwind_funcs__start(const struct unwind_funcs *f, uint64_t elf_addr, uint64_t *ret_start);
/* As unwind_table__file_to_vaddr(). */
int unwind_funcs__file_to_vaddr(const struct unwind_funcs *f, uint64_t file_offset,
				uint64_t *ret_vaddr);
size_t unwind_funcs__nr(const struct unwind_funcs *f);

/* ---- Cache ---- */

#define UNWIND_KEY_MAX 32 /* bytes: a 20-byte build-id, or dev/inode/size/mtime */

struct unwind_cache_opts {
	size_t max_tables; /* tables (and remembered failures) kept; 0: default 512 */
	size_t max_bytes; /* table memory; 0: default 64 MiB */
};

struct unwind_cache_stats {
	uint64_t hits; /* lookups served from the cache (failures included) */
	uint64_t misses; /* lookups that called the loader */
	uint64_t evictions; /* entries dropped to stay under a cap */
	uint64_t failures; /* loads that failed, or gave a table over max_bytes */
	size_t nr_tables; /* entries now, remembered failures included */
	size_t bytes; /* table memory held now */
};

/*
 * Builds the table of a cache miss. Sets *ret to a new table whose ownership
 * passes to the cache, and returns 0; or returns a negative errno, which the
 * cache remembers (as "no CFI") for that key until the entry is evicted.
 */
typedef int (*unwind_load_fn)(void *load_ctx, struct unwind_table **ret);

/* Constructor; opts may be NULL. Returns NULL with errno set. Free with unwind_cache__free(). */
struct unwind_cache *unwind_cache__new(const struct unwind_cache_opts *opts);
/* Frees the cache and every table in it. Accepts NULL. */
void unwind_cache__free(struct unwind_cache *c);

/*
 * The table for key (1..UNWIND_KEY_MAX bytes), calling load on a miss.
 * Returns 0 with *ret set to the table, borrowed until the next call on the
 * cache; -ENOENT when the load failed now or before (the caller then has no
 * CFI for that file: frame pointers); -EINVAL for a bad key; -ENOMEM.
 */
int unwind_cache__get(struct unwind_cache *c, const void *key, size_t key_len, unwind_load_fn load,
		      void *load_ctx, const struct unwind_table **ret);

void unwind_cache__stats(const struct unwind_cache *c, struct unwind_cache_stats *ret);

/* ---- Walking ---- */

/* The user registers of the sample (struct pt_regs ip, sp, bp). */
struct unwind_regs {
	uint64_t rip;
	uint64_t rsp;
	uint64_t rbp;
};

/* What the find callback says about one runtime address. */
struct unwind_mapping {
	/* CFI of the file mapped there, NULL when none (JIT, anonymous memory,
	 * a file without CFI): frame pointers are used instead. Borrowed until
	 * the next call of the callback or the end of the walk. */
	const struct unwind_table *table;
	uint64_t bias; /* runtime address - ELF virtual address */
};

/*
 * Maps a runtime address of the sampled process to its table. Returns 0 and
 * fills *ret; -ENOENT when no executable mapping contains ip (the walk stops
 * with UNWIND_ERR_NO_MAPPING); any other negative errno stops it with
 * UNWIND_ERR_LOOKUP.
 */
typedef int (*unwind_find_fn)(void *find_ctx, uint64_t ip, struct unwind_mapping *ret);

enum unwind_status {
	UNWIND_COMPLETE = 0, /* reached an outermost frame (undefined return address, or 0) */
	UNWIND_TRUNCATED, /* needed stack memory beyond the copy: append a [truncated] frame */
	UNWIND_ERROR, /* stopped early; reason in error */
};

enum unwind_error {
	UNWIND_ERR_NONE = 0,
	UNWIND_ERR_NO_MAPPING, /* a return address outside any executable mapping */
	UNWIND_ERR_BAD_FP, /* no CFI, and rbp is not a frame record inside the copy */
	UNWIND_ERR_UNSUPPORTED, /* CFI rule not evaluated (expression, other register) */
	UNWIND_ERR_BAD_CFA, /* CFA below the stack pointer, or rbp needed but unknown */
	UNWIND_ERR_NO_PROGRESS, /* the stack pointer did not grow: a cycle */
	UNWIND_ERR_TOO_DEEP, /* max_frames reached before the end */
	UNWIND_ERR_LOOKUP, /* the find callback failed */
	UNWIND_ERR_GO_SWITCH, /* a Go stack switch, without the goroutine's stack */
	UNWIND_ERR_MAX,
};

struct unwind_result {
	enum unwind_status status;
	enum unwind_error error; /* UNWIND_ERR_NONE unless status is UNWIND_ERROR */
	unsigned int nr_frames; /* ips written, leaf first */
	unsigned int nr_cfi_frames; /* caller frames found through CFI */
	unsigned int nr_fp_frames; /* caller frames found through frame pointers */
};

/* Per-frame flags (optional output of unwind__walk()). */
#define UNWIND_FRAME_RETURN_ADDRESS (1U << 0) /* ip is a return address: name ip - 1 */
#define UNWIND_FRAME_SIGNAL	    (1U << 1) /* the signal trampoline (__restore_rt) */

/*
 * Walks a user stack. stack holds stack_bytes bytes copied from the sampled
 * thread starting at address regs->rsp (a short copy is fine; reading past
 * it ends the walk as UNWIND_TRUNCATED). ret_ips receives up to max_frames
 * runtime addresses, leaf first: regs->rip, then return addresses. When
 * ret_flags is not NULL it receives max_frames UNWIND_FRAME_* bytes:
 * UNWIND_FRAME_RETURN_ADDRESS is set on every frame but the leaf, the frame
 * a signal interrupted (its pc is exact) and the signal trampoline (its
 * return address is its first instruction), so a symbolizer names ip - 1
 * exactly where that flag is set. stack is borrowed for the call. Returns 0
 * with *ret filled (even when the walk stopped on an error), or -EINVAL for
 * bad arguments.
 */
int unwind__walk(const struct unwind_regs *regs, const void *stack, size_t stack_bytes,
		 unwind_find_fn find, void *find_ctx, unsigned int max_frames, uint64_t *ret_ips,
		 uint8_t *ret_flags, struct unwind_result *ret);

/*
 * The stack a Go thread switched away from: the goroutine's registers saved
 * in g.sched by runtime.systemstack, mcall or morestack, and a copy of its
 * stack from regs.rsp up (see bpf/profile.bpf.c). With stack NULL, regs are
 * the g0's own g.sched (where runtime.mstart1 left it, on the sampled stack,
 * inside the first copy): a thread on g0 with no goroutine, whose scheduler
 * mcall called; the walk goes on there only at mcall.
 */
struct unwind_go_stack {
	struct unwind_regs regs; /* gobuf pc, sp, bp */
	const void *stack;
	size_t stack_bytes;
	/*
	 * regs are m.vdsoPC and m.vdsoSP (and the frame pointer below them):
	 * the goroutine is in runtime.nanotime1 or walltime, which call the
	 * vDSO on g0's stack; the walk switches there, not at systemstack.
	 */
	bool vdso_call;
};

/*
 * unwind__walk() for a sample that may be on a Go thread's g0 (system)
 * stack. In a Go binary (one with .gopclntab; its functions named by its
 * .symtab), a caller frame in runtime.systemstack, mcall or morestack is a
 * stack switch: the walk goes on in go's registers and stack when go is not
 * NULL, and stops there with UNWIND_ERR_GO_SWITCH otherwise (never reading
 * the stale return address above it); a caller frame in runtime.nanotime1 or
 * walltime switches only with go->vdso_call (without go, it stops there
 * too). runtime.goexit and runtime.mstart end a walk as complete. go and its
 * stack are borrowed for the call.
 */
int unwind__walk_go(const struct unwind_regs *regs, const void *stack, size_t stack_bytes,
		    const struct unwind_go_stack *go, unwind_find_fn find, void *find_ctx,
		    unsigned int max_frames, uint64_t *ret_ips, uint8_t *ret_flags,
		    struct unwind_result *ret);

/* Static strings for reports: "complete", "truncated", "error"; "no mapping", ... */
const char *unwind__status_str(enum unwind_status status);
const char *unwind__error_str(enum unwind_error error);

/*
 * Benchmark helper: walks the same sample iterations times and sets
 * *ret_ns_per_walk to the mean wall time of one walk (CLOCK_MONOTONIC).
 * Returns 0 or a negative errno.
 */
int unwind__bench_walk(const struct unwind_regs *regs, const void *stack, size_t stack_bytes,
		       unwind_find_fn find, void *find_ctx, unsigned int max_frames,
		       unsigned int iterations, double *ret_ns_per_walk);

#endif /* SMOLDER_UNWIND_H */
