/* SPDX-License-Identifier: MIT */
/*
 * The process table: what the profiler knows of each process it has sampled
 * (its memory mappings, read when the process is first seen, so it can still
 * be symbolized after it exits). Capped; the least recently sampled process
 * is evicted first, and evictions are counted.
 */
#ifndef SMOLDER_PROCTABLE_H
#define SMOLDER_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symbolizer.h"

#define PROC_CGROUP_LEN 256
#define PROC_UNIT_LEN	128
#define PROC_CID_LEN	65

/* A process generation: a pid between two execs (see bpf/profile.h, gen). */
struct proc_entry {
	struct proc_entry *next; /* hash chain */
	pid_t pid;
	uint32_t gen;
	uint64_t last_used; /* table clock at the last get */
	struct sym_maps maps;
	int maps_err; /* 0, or why the maps could not be read */
	unsigned int maps_reads; /* times the maps were (re)read */
	bool exited;
	bool go_marked; /* sampler__mark_go() was called for this generation */
	int64_t exit_ns; /* CLOCK_MONOTONIC of the exit or exec event */
	char cgroup[PROC_CGROUP_LEN];
	char systemd_unit[PROC_UNIT_LEN];
	char container_id[PROC_CID_LEN];
};

struct proctable_stats {
	size_t entries;
	uint64_t added;
	uint64_t evicted; /* dropped to stay under the cap */
	uint64_t reaped; /* freed after their exit */
};

/* Constructor. NULL with errno set. */
struct proctable *proctable__new(size_t max_entries);
/* Accepts NULL. */
void proctable__free(struct proctable *t);

/*
 * The entry for (pid, gen), created (zeroed but for pid and gen) when
 * missing, in which case *ret_new is set. Borrowed until the next
 * proctable__get(), __reap() or __free(). NULL with errno set on allocation
 * failure.
 */
struct proc_entry *proctable__get(struct proctable *t, pid_t pid, uint32_t gen, bool *ret_new);
/* The entry for (pid, gen), or NULL; does not create or touch the LRU clock. */
struct proc_entry *proctable__find(const struct proctable *t, pid_t pid, uint32_t gen);
/* Frees the entries that exited before before_ns. Returns how many. */
size_t proctable__reap(struct proctable *t, int64_t before_ns);

void proctable__stats(const struct proctable *t, struct proctable_stats *ret);

#endif /* SMOLDER_PROCTABLE_H */
