/* SPDX-License-Identifier: MIT */
/*
 * stacks: pprof profiles turned into what report, flamegraph and diff show.
 *
 * A struct stacks holds a table of frames interned by value (name, source
 * file, kind), so frames from different files and from BASE and NEW of a
 * diff are comparable, the samples (stacks of frame ids), and up to two call
 * trees built from them by stacks__build():
 *
 *   STACKS_TREE_MACHINE  root -> outermost frame -> ... -> leaf
 *   STACKS_TREE_BY_COMM  root -> process (the sample's "comm" label) -> ...
 *
 * Every tree node keeps inclusive totals for two slots (STACKS_NEW for the
 * profile(s) shown, STACKS_BASE for the base of a diff): the value of the
 * default sample type and the number of samples. A node's self value is its
 * total minus its children's totals.
 *
 * Flat and cum per function come from the samples: flat is the value of the
 * samples whose leaf is the function, cum of the samples where it appears at
 * all, so recursion counts once.
 *
 * Limits: at most STACKS_MAX_NODES tree nodes and STACKS_MAX_FRAMES frames
 * (-E2BIG past them); profiles are read-only and not kept. Values must be
 * >= 0 and each slot's totals fit in int64_t (profiles that break this are
 * refused), so no node, function or process total can overflow.
 *
 * This module never prints; errors are negative errno values.
 */
#ifndef SMOLDER_STACKS_H
#define SMOLDER_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pprof.h"

#define STACKS_MAX_NODES  (64u << 20)
#define STACKS_MAX_FRAMES (16u << 20)
#define STACKS_NONE	  UINT32_MAX /* no node / no frame */

enum stacks_slot {
	STACKS_NEW = 0,
	STACKS_BASE = 1,
	STACKS_NR_SLOTS,
};

enum stacks_tree_id {
	STACKS_TREE_MACHINE = 0,
	STACKS_TREE_BY_COMM = 1,
	STACKS_NR_TREES,
};

#define STACKS_WANT_MACHINE (1u << STACKS_TREE_MACHINE)
#define STACKS_WANT_BY_COMM (1u << STACKS_TREE_BY_COMM)

enum stacks_kind {
	STACKS_KIND_USER = 0,
	STACKS_KIND_KERNEL,
	STACKS_KIND_INLINED,
	STACKS_KIND_JIT,
	STACKS_KIND_UNKNOWN,
	STACKS_KIND_PROCESS, /* the per-process root frame of the by-comm tree */
	STACKS_NR_KINDS,
};

/* Strings are owned by the struct stacks and live as long as it does. */
struct stacks_frame {
	const char *name; /* display name; "0x1234 [libfoo.so]" when unknown */
	const char *file; /* source file, "" when unknown */
	uint32_t func; /* index into the function table */
	enum stacks_kind kind;
};

/* A function: frames of equal name and file (inlined or not) share one. */
struct stacks_func {
	const char *name;
	const char *file;
	int64_t line; /* start line if known, else its hottest line, else 0 */
	enum stacks_kind kind; /* kind of its first frame */
};

struct stacks_node {
	uint32_t frame; /* STACKS_NONE for the root */
	uint32_t parent;
	uint32_t first_child;
	uint32_t next_sibling;
	int64_t val[STACKS_NR_SLOTS]; /* inclusive value of the default sample type */
	int64_t cnt[STACKS_NR_SLOTS]; /* inclusive number of samples */
};

/* A tree: nodes[0] is the root. Borrowed from the struct stacks. */
struct stacks_tree {
	const struct stacks_node *nodes;
	size_t nr_nodes;
};

/* What the profiles of a slot add up to. Strings owned by the struct stacks. */
struct stacks_totals {
	int64_t val;
	int64_t cnt;
	int64_t duration_nanos;
	int nr_profiles;
	const char *type; /* default sample type, "cpu" */
	const char *unit; /* its unit, "nanoseconds" */
};

/* A process (value of the "comm" label) and its totals. */
struct stacks_process {
	uint32_t frame; /* its STACKS_KIND_PROCESS frame; the name is the comm */
	int64_t val[STACKS_NR_SLOTS];
	int64_t cnt[STACKS_NR_SLOTS];
};

/* Per-function flat and cum, for every slot. */
struct stacks_func_stat {
	uint32_t func;
	int64_t flat_val[STACKS_NR_SLOTS];
	int64_t flat_cnt[STACKS_NR_SLOTS];
	int64_t cum_val[STACKS_NR_SLOTS];
	int64_t cum_cnt[STACKS_NR_SLOTS];
};

/*
 * Constructor; want is a mask of STACKS_WANT_*. Returns NULL with errno set.
 * Caller frees with stacks__free().
 */
struct stacks *stacks__new(unsigned int want);
/* Accepts NULL. */
void stacks__free(struct stacks *s);

/*
 * Checks the values of p as stacks__add_profile() needs them: every value of
 * every sample >= 0, and the values of each sample type adding up to at most
 * INT64_MAX. Returns 0, -ERANGE for a negative value or -EOVERFLOW for a sum
 * past INT64_MAX (then *ret_sample is the index of the sample in p and
 * *ret_value the value), or -ENOMEM.
 */
int stacks__check_values(const pprof_profile_t *p, size_t *ret_sample, int64_t *ret_value);

/*
 * Adds every sample of p to the trees, in slot. Values are those of p's
 * default sample type (the last one when unset); the sample count is the
 * "samples" value when p has one, else 1 per sample. Samples with no
 * "comm" label go to process "[unknown]". Returns 0, -E2BIG past the limits,
 * -EINVAL when p has no sample type or its default type differs from the
 * one of earlier profiles, -ERANGE or -EOVERFLOW when its values fail
 * stacks__check_values() or would take the slot's totals past INT64_MAX
 * (the profile is then not added), or -ENOMEM.
 */
int stacks__add_profile(struct stacks *s, const pprof_profile_t *p, enum stacks_slot slot);

/*
 * (Re)builds the trees wanted at stacks__new() from every sample added so
 * far. With prune > 0, a subtree whose value is under prune times the slot's
 * total in every slot is left out, so its samples stay in its parent's self.
 * Returns 0, -E2BIG or -ENOMEM.
 */
int stacks__build(struct stacks *s, double prune);
/* Subtrees left out by the last stacks__build(). */
uint64_t stacks__pruned(const struct stacks *s);

/*
 * Borrowed until stacks__free() or the next stacks__build(); NULL for a tree
 * not wanted at stacks__new() or not built yet.
 */
const struct stacks_tree *stacks__tree(const struct stacks *s, enum stacks_tree_id id);
const struct stacks_frame *stacks__frame(const struct stacks *s, uint32_t frame);
const struct stacks_func *stacks__func(const struct stacks *s, uint32_t func);
size_t stacks__nr_frames(const struct stacks *s);
size_t stacks__nr_funcs(const struct stacks *s);
const struct stacks_totals *stacks__totals(const struct stacks *s, enum stacks_slot slot);

/* Self of a node: its total minus its children's totals. */
int64_t stacks__self_val(const struct stacks_tree *t, uint32_t node, enum stacks_slot slot);
int64_t stacks__self_cnt(const struct stacks_tree *t, uint32_t node, enum stacks_slot slot);

/*
 * Flat and cum of every function, over all samples (process_frame
 * STACKS_NONE) or those of one process, for the functions with a non-zero
 * cum in some slot, in function-table order. *ret is malloc'ed, caller
 * frees. Returns 0 or -ENOMEM; outputs untouched on failure.
 */
int stacks__func_stats(const struct stacks *s, uint32_t process_frame,
		       struct stacks_func_stat **ret, size_t *ret_nr);

/*
 * Every process with samples, in order of first appearance. *ret is
 * malloc'ed, caller frees. Returns 0 or -ENOMEM.
 */
int stacks__processes(const struct stacks *s, struct stacks_process **ret, size_t *ret_nr);

/*
 * Writes slot's samples of tree id (built) as folded stacks (root first, frames
 * separated by ';', a space and the sample count), one line per node with
 * a non-zero self count, children sorted by name. ';' and newlines inside
 * names become ':' and ' '. Kernel, inlined and JIT frames carry the usual
 * _[k], _[i], _[j] suffixes. Returns 0 or -EIO / -ENOMEM.
 */
int stacks__write_folded(const struct stacks *s, enum stacks_tree_id id, enum stacks_slot slot,
			 FILE *out);

/*
 * Children of node sorted by frame name (then file, kind): fills *ret with a
 * malloc'ed array of node indices. Returns 0 or -ENOMEM.
 */
int stacks__sorted_children(const struct stacks *s, const struct stacks_tree *t, uint32_t node,
			    uint32_t **ret, size_t *ret_nr);

/*
 * Preorder walk of the subtree at node, children sorted as above, without
 * recursion. enter() returns 0 to descend, 1 to skip the node's children
 * (leave() is then not called for it) or a negative errno to stop; leave()
 * (optional) runs after the children. depth is 0 at node.
 */
struct stacks_walk_ops {
	int (*enter)(void *ctx, uint32_t node, size_t depth);
	int (*leave)(void *ctx, uint32_t node, size_t depth);
};
int stacks__walk(const struct stacks *s, enum stacks_tree_id id, uint32_t node,
		 const struct stacks_walk_ops *ops, void *ctx);

/*
 * Two-proportion z statistic for x1 of n1 against x2 of n2, with the pooled
 * proportion: (x2/n2 - x1/n1) / sqrt(p (1 - p) (1/n1 + 1/n2)), p = (x1 + x2) /
 * (n1 + n2). Positive when the share grew. 0 when undefined (an empty side,
 * or p of 0 or 1).
 */
double stacks__ztest(int64_t x1, int64_t n1, int64_t x2, int64_t n2);

/* |z| beyond this is significant at 95%, two-sided. */
#define STACKS_Z_95 1.959964

/*
 * Formats v in unit for humans: nanoseconds as "1.23s", "45.6ms", "789us",
 * "12ns"; anything else as a plain number. Returns buf.
 */
const char *stacks__format_value(char *buf, size_t size, int64_t v, const char *unit);

#endif /* SMOLDER_STACKS_H */
