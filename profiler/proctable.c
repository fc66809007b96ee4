// SPDX-License-Identifier: MIT
/*
 * The process table: a chained hash of pid -> struct proc_entry.
 *
 * Eviction is least-recently-used by a logical clock bumped on every get. The
 * victim is found by a scan, which runs only when the table is full and a new
 * process appears: O(cap) then, O(1) otherwise, and no list to keep in step.
 */
#include <errno.h>
#include <stdlib.h>

#include "proctable.h"

#define PROCTABLE_BUCKETS 4096

struct proctable {
	struct proc_entry *buckets[PROCTABLE_BUCKETS];
	size_t max_entries;
	uint64_t clock;
	struct proctable_stats stats;
};

static inline size_t bucket_of(pid_t pid)
{
	return ((uint32_t)pid * 2654435761U) % PROCTABLE_BUCKETS;
}

static void entry_free(struct proc_entry *e)
{
	sym_maps__free(&e->maps);
	free(e);
}

struct proctable *proctable__new(size_t max_entries)
{
	struct proctable *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max_entries = max_entries ? max_entries : 1;
	return t;
}

void proctable__free(struct proctable *t)
{
	struct proc_entry *e, *next;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < PROCTABLE_BUCKETS; i++) {
		for (e = t->buckets[i]; e; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	free(t);
}

struct proc_entry *proctable__find(const struct proctable *t, pid_t pid)
{
	struct proc_entry *e;

	for (e = t->buckets[bucket_of(pid)]; e; e = e->next) {
		if (e->pid == pid)
			return e;
	}
	return NULL;
}

static void evict_oldest(struct proctable *t)
{
	struct proc_entry **victim = NULL, **pp;
	size_t i;

	for (i = 0; i < PROCTABLE_BUCKETS; i++) {
		for (pp = &t->buckets[i]; *pp; pp = &(*pp)->next) {
			if (!victim || (*pp)->last_used < (*victim)->last_used)
				victim = pp;
		}
	}
	if (victim) {
		struct proc_entry *e = *victim;

		*victim = e->next;
		entry_free(e);
		t->stats.entries--;
		t->stats.evicted++;
	}
}

struct proc_entry *proctable__get(struct proctable *t, pid_t pid, bool *ret_new)
{
	struct proc_entry *e = proctable__find(t, pid);
	size_t b;

	*ret_new = false;
	if (e) {
		e->last_used = ++t->clock;
		return e;
	}
	if (t->stats.entries >= t->max_entries)
		evict_oldest(t);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	e->last_used = ++t->clock;
	b = bucket_of(pid);
	e->next = t->buckets[b];
	t->buckets[b] = e;
	t->stats.entries++;
	t->stats.added++;
	*ret_new = true;
	return e;
}

void proctable__stats(const struct proctable *t, struct proctable_stats *ret)
{
	*ret = t->stats;
}
