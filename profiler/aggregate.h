/* SPDX-License-Identifier: MIT */
/*
 * Aggregation of identical samples: (pid, tid, names, kernel stack, user
 * stack) -> count, in a chained hash table. Bounded by bytes; a sample that
 * would go over the cap is counted in dropped, never silently lost.
 */
#ifndef SMOLDER_AGGREGATE_H
#define SMOLDER_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#define AGG_COMM_LEN 16

struct agg_key {
	uint32_t pid;
	uint32_t tid;
	char comm[AGG_COMM_LEN]; /* NUL-padded */
	char thread[AGG_COMM_LEN]; /* NUL-padded */
	uint16_t nr_kernel;
	uint16_t nr_user;
	uint32_t flags; /* AGG_F_*: how the user stack ended */
	uint32_t gen; /* process generation (bpf/profile.h) */
	uint32_t reserved;
};

#define AGG_F_USER_TRUNCATED (1U << 0) /* user stack did not reach its root */

struct agg_entry {
	struct agg_entry *next;
	uint64_t hash;
	uint64_t count;
	struct agg_key key;
	uint64_t frames[]; /* nr_kernel kernel frames, then nr_user user frames; leaf first */
};

struct agg_stats {
	uint64_t samples; /* samples added */
	uint64_t dropped; /* samples refused because the table was full */
	size_t entries; /* distinct stacks */
	size_t bytes; /* memory held */
};

/* Constructor; max_bytes caps the memory of entries. NULL with errno set. */
struct aggregate *aggregate__new(size_t max_bytes);
/* Accepts NULL. */
void aggregate__free(struct aggregate *a);

/*
 * Adds count samples of the stack described by key (key->nr_kernel frames in
 * kstack, key->nr_user in ustack). Returns 0, or -ENOSPC when the table is
 * full (the samples are counted as dropped), or -ENOMEM.
 */
int aggregate__add(struct aggregate *a, const struct agg_key *key, const uint64_t *kstack,
		   const uint64_t *ustack, uint64_t count);

/* Calls fn for each entry until it returns non-zero, which is returned. */
int aggregate__for_each(const struct aggregate *a, int (*fn)(const struct agg_entry *e, void *ctx),
			void *ctx);

void aggregate__stats(const struct aggregate *a, struct agg_stats *ret);

#endif /* SMOLDER_AGGREGATE_H */
