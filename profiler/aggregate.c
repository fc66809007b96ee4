// SPDX-License-Identifier: MIT
/*
 * Aggregation of identical samples.
 *
 * A chained hash table of variable-sized entries (key + frames). The bucket
 * array doubles when the load factor passes 1, so lookups stay O(1) however
 * many distinct stacks a machine produces. Memory is capped: once entries
 * would exceed max_bytes, new stacks are refused and counted as dropped
 * (existing stacks still count), so a pathological workload cannot grow the
 * profiler without bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"

struct aggregate {
	struct agg_entry **buckets;
	size_t nr_buckets; /* power of two */
	size_t max_bytes;
	struct agg_stats stats;
};

/* 64-bit mix of a word into a running hash (a multiply-xorshift, as in splitmix64). */
static inline uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 29);
}

static uint64_t key_hash(const struct agg_key *key, const uint64_t *kstack, const uint64_t *ustack)
{
	uint64_t h = 0, w;
	size_t i;

	for (i = 0; i + 8 <= sizeof(*key); i += 8) {
		memcpy(&w, (const char *)key + i, 8);
		h = hash_mix(h, w);
	}
	for (i = 0; i < key->nr_kernel; i++)
		h = hash_mix(h, kstack[i]);
	for (i = 0; i < key->nr_user; i++)
		h = hash_mix(h, ustack[i]);
	return h;
}

static int grow(struct aggregate *a)
{
	size_t nr = a->nr_buckets * 2, i;
	struct agg_entry **nb, *e, *next;

	if (nr < a->nr_buckets)
		return -ENOMEM;
	nb = calloc(nr, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	for (i = 0; i < a->nr_buckets; i++) {
		for (e = a->buckets[i]; e; e = next) {
			next = e->next;
			e->next = nb[e->hash & (nr - 1)];
			nb[e->hash & (nr - 1)] = e;
		}
	}
	free(a->buckets);
	a->buckets = nb;
	a->nr_buckets = nr;
	a->stats.bytes += (nr / 2) * sizeof(*nb);
	return 0;
}

struct aggregate *aggregate__new(size_t max_bytes)
{
	struct aggregate *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->nr_buckets = 1024;
	a->buckets = calloc(a->nr_buckets, sizeof(*a->buckets));
	if (!a->buckets) {
		aggregate__free(a);
		errno = ENOMEM;
		return NULL;
	}
	a->max_bytes = max_bytes;
	a->stats.bytes = sizeof(*a) + a->nr_buckets * sizeof(*a->buckets);
	return a;
}

void aggregate__free(struct aggregate *a)
{
	struct agg_entry *e, *next;
	size_t i;

	if (!a)
		return;
	for (i = 0; a->buckets && i < a->nr_buckets; i++) {
		for (e = a->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(a->buckets);
	free(a);
}

int aggregate__add(struct aggregate *a, const struct agg_key *key, const uint64_t *kstack,
		   const uint64_t *ustack, uint64_t count)
{
	size_t nr_frames = (size_t)key->nr_kernel + key->nr_user, size;
	uint64_t h = key_hash(key, kstack, ustack);
	struct agg_entry *e;

	for (e = a->buckets[h & (a->nr_buckets - 1)]; e; e = e->next) {
		if (e->hash != h || memcmp(&e->key, key, sizeof(*key)))
			continue;
		if ((key->nr_kernel &&
		     memcmp(e->frames, kstack, key->nr_kernel * sizeof(uint64_t))) ||
		    (key->nr_user &&
		     memcmp(e->frames + key->nr_kernel, ustack, key->nr_user * sizeof(uint64_t))))
			continue;
		e->count += count;
		a->stats.samples += count;
		return 0;
	}

	size = sizeof(*e) + nr_frames * sizeof(uint64_t);
	if (a->stats.bytes + size > a->max_bytes) {
		a->stats.dropped += count;
		return -ENOSPC;
	}
	/* A failed grow only makes chains longer. */
	if (a->stats.entries >= a->nr_buckets)
		(void)grow(a);
	e = malloc(size);
	if (!e) {
		a->stats.dropped += count;
		return -ENOMEM;
	}
	e->hash = h;
	e->count = count;
	e->key = *key;
	if (key->nr_kernel)
		memcpy(e->frames, kstack, key->nr_kernel * sizeof(uint64_t));
	if (key->nr_user)
		memcpy(e->frames + key->nr_kernel, ustack, key->nr_user * sizeof(uint64_t));
	e->next = a->buckets[h & (a->nr_buckets - 1)];
	a->buckets[h & (a->nr_buckets - 1)] = e;
	a->stats.entries++;
	a->stats.bytes += size;
	a->stats.samples += count;
	return 0;
}

int aggregate__for_each(const struct aggregate *a, int (*fn)(const struct agg_entry *e, void *ctx),
			void *ctx)
{
	const struct agg_entry *e;
	size_t i;
	int err;

	for (i = 0; i < a->nr_buckets; i++) {
		for (e = a->buckets[i]; e; e = e->next) {
			err = fn(e, ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

void aggregate__stats(const struct aggregate *a, struct agg_stats *ret)
{
	*ret = a->stats;
}
