/* SPDX-License-Identifier: MIT */
/*
 * Integration-test helpers: run the real smolder binary and workloads, and
 * look into the decoded pprof. Tests need root; main() calls
 * itest_require_root() which exits 77 (ctest: skipped) with a message
 * otherwise.
 */
#ifndef SMOLDER_TESTS_HARNESS_H
#define SMOLDER_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pprof.h"

#define ITEST_MAX_FILES 256

/* Paths found in an agent's store, sorted by file name (so by window start). */
struct itest_files {
	char *paths[ITEST_MAX_FILES];
	size_t nr;
};

void itest_require_root(const char *test);
/* $SMOLDER_BUILD/smolder. */
const char *itest_smolder(void);
/* A fresh directory under /tmp, removed by itest_cleanup(). */
const char *itest_tmpdir(void);
void itest_cleanup(void);

/* tmpdir/name, in one of 8 rotating static buffers. */
char *itest_path(const char *name);
/*
 * Runs `smolder record -o tmpdir/out_name -d seconds -F hz -p pid` and reads
 * the result; NULL (after printing why) on failure, so callers clean up first.
 */
pprof_profile_t *itest_record_pid(const char *out_name, pid_t pid, const char *seconds,
				  const char *hz);

/* Starts argv[0] with its arguments; returns the pid. */
pid_t itest_spawn(char *const argv[]);
/* Runs argv to completion; its stdout+stderr go to *ret_out (malloc'ed, may be NULL). Returns the exit status, or -1. */
int itest_run(char *const argv[], char **ret_out);
/* Waits for pid; returns its exit status. */
int itest_wait(pid_t pid);

/* Numeric / string label of a sample (-1 / NULL when absent). */
int64_t itest_label_num(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			const char *key);
const char *itest_label_str(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			    const char *key);
/* Name of the physical function of frame i (0 = leaf) of s; "" when unnamed, NULL past the end. */
const char *itest_frame_name(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			     size_t i);
/* The mapping of frame i of s, or NULL. */
const Perftools__Profiles__Mapping *
itest_frame_mapping(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, size_t i);
/* Samples (first value) in p whose pid label is pid. */
int64_t itest_samples_of(const pprof_profile_t *p, pid_t pid);

/* The windows of a store (with temps, its temporary ".name" files), oldest first. */
void itest_list_store(const char *dir, struct itest_files *ret, bool temps);
void itest_free_files(struct itest_files *f);

/* Windows in an agent's store. */
size_t itest_count_windows(const char *dir);
/* Starts `smolder agent --store STORE ARGS...` with its output appended to log. */
pid_t itest_start_agent(const char *store, const char *log, const char *const *args, size_t nr);
/* The first 64 KiB of a log file, in a static buffer. */
char *itest_read_log(const char *path);

/* True when a frame of s is named starting with prefix. */
bool itest_has_frame(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
		     const char *prefix);

/* True when pid's comm is want. */
bool itest_comm_is(pid_t pid, const char *want);
/* Waits up to 5 s for pid to run a program whose comm is want. */
bool itest_wait_comm(pid_t pid, const char *want);
/* A free TCP port on 127.0.0.1 (aborts when none can be had). */
int itest_free_port(void);

#endif /* SMOLDER_TESTS_HARNESS_H */
