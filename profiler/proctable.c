// SPDX-License-Identifier: MIT
/*
 * The process table: a chained hash of (pid, generation) -> struct proc_entry.
 * An entry lives until it is evicted, or reaped once the window that saw its
 * exit has been written.
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

static inline size_t bucket_of(pid_t pid, uint32_t gen)
{
	return ((uint32_t)pid * 2654435761U ^ gen * 40503U) % PROCTABLE_BUCKETS;
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

struct proc_entry *proctable__find(const struct proctable *t, pid_t pid, uint32_t gen)
{
	struct proc_entry *e;

	for (e = t->buckets[bucket_of(pid, gen)]; e; e = e->next) {
		if (e->pid == pid && e->gen == gen)
			return e;
	}
	return NULL;
}

size_t proctable__reap(struct proctable *t, int64_t before_ns)
{
	struct proc_entry **pp, *e;
	size_t i, n = 0;

	for (i = 0; i < PROCTABLE_BUCKETS; i++) {
		for (pp = &t->buckets[i]; *pp;) {
			e = *pp;
			if (e->exited && e->exit_ns < before_ns) {
				*pp = e->next;
				entry_free(e);
				n++;
			} else {
				pp = &e->next;
			}
		}
	}
	t->stats.entries -= n;
	t->stats.reaped += n;
	return n;
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

struct proc_entry *proctable__get(struct proctable *t, pid_t pid, uint32_t gen, bool *ret_new)
{
	struct proc_entry *e = proctable__find(t, pid, gen);
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
	e->gen = gen;
	e->last_used = ++t->clock;
	b = bucket_of(pid, gen);
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
