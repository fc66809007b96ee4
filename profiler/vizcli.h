/* SPDX-License-Identifier: MIT */
/*
 * vizcli: what the report, flamegraph and diff commands share on the command
 * line: reading and merging profile files, parsing numbers, opening output.
 * Every function prints its own one-line error (log.h), once.
 */
#ifndef SMOLDER_VIZCLI_H
#define SMOLDER_VIZCLI_H

#include <stdio.h>
#include <sys/types.h>

#include "pprof.h"
#include "safefile.h"

/*
 * Reads paths[0..nr) and merges them into one profile (no merge for one
 * file). Only regular files are read (safefile__read()): a FIFO is refused
 * at once. *ret is freed with pprof__profile_free(). Returns 0 or a negative
 * errno, after printing what failed.
 */
int vizcli__load(char *const *paths, int nr, pprof_profile_t **ret);

/*
 * Checks that path can be opened as a regular file (safefile__open_read()),
 * for files another library opens later (an ELF file, a CA bundle). Prints
 * "'f' is not a regular file (a FIFO); give <give>" or why it cannot be read.
 * Returns 0 or a negative errno.
 */
int vizcli__check_input(const char *path, const char *give);

/* strtol() with a range check; prints what is wrong. Returns 0 or -EINVAL. */
int vizcli__parse_long(const char *arg, long min, long max, const char *what, long *ret);

/* A double in [min, max]; prints what is wrong. Returns 0 or -EINVAL. */
int vizcli__parse_double(const char *arg, double min, double max, const char *what, double *ret);

/*
 * Starts writing a command's output to path with mode (safefile__create():
 * "-" is standard output; a directory, FIFO, device or another user's symlink
 * is refused). Returns the output, to end with vizcli__commit() or
 * safefile__discard(), or NULL after printing why.
 */
struct safefile_out *vizcli__create(const char *path, mode_t mode);

/* safefile__commit() of out, written to path; prints and returns -errno on failure. */
int vizcli__commit(struct safefile_out *out, const char *path);

/* Flushes standard output; prints and returns -errno on failure. */
int vizcli__close_stdout(void);

#endif /* SMOLDER_VIZCLI_H */
