/* SPDX-License-Identifier: MIT */
/*
 * Turns aggregated samples into a pprof profile: names every kernel and user
 * frame through the symbolizer and the process table, interns mappings,
 * locations and functions, and labels each sample with pid, tid, comm and
 * thread.
 */
#ifndef SMOLDER_PROFILE_BUILD_H
#define SMOLDER_PROFILE_BUILD_H

#include <stdint.h>

#include "aggregate.h"
#include "pprof.h"
#include "proctable.h"
#include "symbolizer.h"

/* Where the builder learns about processes; the collector serves it from its locked table. */
struct proc_source {
	/*
	 * Copies the mapping of process (pid, gen) that contains addr into *ret,
	 * its path into path (ret->path points there). 0, or -ENOENT.
	 */
	int (*find_mapping)(void *ctx, pid_t pid, uint32_t gen, uint64_t addr,
			    struct sym_map_entry *ret, char *path, size_t path_len);
	/* Copies the process's cgroup labels ("" when unknown). */
	void (*labels)(void *ctx, pid_t pid, uint32_t gen, char cgroup[PROC_CGROUP_LEN],
		       char unit[PROC_UNIT_LEN], char container_id[PROC_CID_LEN]);
	void *ctx;
};

struct profile_meta {
	unsigned int freq_hz; /* sets the period: 1e9 / freq_hz nanoseconds */
	int64_t time_nanos; /* wall-clock start */
	int64_t duration_nanos; /* wall-clock span */
	const char *const *comments;
	size_t nr_comments;
	bool proc_labels; /* add cgroup, systemd_unit, container_id labels */
	const char *const *extra_labels; /* "key=value", on every sample */
	size_t nr_extra_labels;
	const char *modules_path; /* where module address ranges are read; NULL: /proc/modules */
	bool one_shot; /* the symbolizer's only profile: its kernel table is freed once used */
};

struct profile_build_stats {
	uint64_t frames; /* frames named or attempted */
	uint64_t unsymbolized; /* frames no symbol covers */
	uint64_t named_by_start; /* of those, named file+start of the FDE covering them */
	uint64_t named_by_address; /* of those, named file+their own ELF address (no FDE) */
	uint64_t no_mapping; /* user frames outside every known mapping */
	uint64_t kernel_unavailable; /* kernel frames without kallsyms */
};

/*
 * Builds the profile. *ret is freed by the caller with pprof_builder__free().
 * Returns 0 or a negative errno.
 */
int profile_build(const struct aggregate *agg, const struct proc_source *procs,
		  struct symbolizer *sym, const struct profile_meta *meta,
		  struct pprof_builder **ret, struct profile_build_stats *ret_stats);

#endif /* SMOLDER_PROFILE_BUILD_H */
