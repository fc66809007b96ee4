/* SPDX-License-Identifier: MIT */
/*
 * Glue between profiles and the uploader: splits a window into one Pyroscope
 * series per service, starts an uploader from the agent configuration, and
 * `smolder upload`.
 *
 * A series is labelled __name__=process_cpu, service_name=<service>,
 * __delta__=false and every configured label; its profiles are gzip pprofs of
 * at most UPLOAD_MAX_SAMPLES samples and UPLOAD_MAX_PROFILE_BYTES
 * uncompressed (Pyroscope's default per-profile limits), so a big service is
 * split into several profiles of the same series.
 */
#ifndef SMOLDER_UPLOAD_H
#define SMOLDER_UPLOAD_H

#include <stddef.h>

#include "config.h"
#include "pprof.h"
#include "uploader.h"

#define UPLOAD_MAX_SAMPLES	 16000 /* per profile (Pyroscope: max_profile_stacktrace_samples) */
#define UPLOAD_MAX_PROFILE_BYTES (4 << 20) /* uncompressed (max_profile_size_bytes) */
#define UPLOAD_MAX_REQUEST_BYTES (8 << 20) /* gzip profiles per spool item / request */
#define UPLOAD_MAX_SERVICE	 128 /* bytes of a service name */

struct upload_opts {
	const char *service_by; /* "systemd_unit" (NULL: this), "container_id" or "comm" */
	const char *const *labels; /* "key=value", borrowed for the call */
	size_t nr_labels;
};

/* True for the values --service-by accepts. */
bool upload__service_by_ok(const char *service_by);

/*
 * Splits p into series: one per service (the sample label named service_by;
 * samples without it fall back to comm, then "unknown"), each holding one or
 * more gzip pprofs within the limits above. Labels are "key=value" strings
 * (already checked). *ret is freed with upload__series_free(). 0, -EINVAL
 * (bad service_by or label), -ENOMEM, or pprof's errors.
 */
int upload__split(const pprof_profile_t *p, const char *service_by, const char *const *labels,
		  size_t nr_labels, struct upload_series **ret, size_t *ret_nr);
/* Frees what upload__split() returned. Accepts NULL. */
void upload__series_free(struct upload_series *series, size_t nr);

/*
 * Splits p and submits it to u's spool, in requests of at most
 * UPLOAD_MAX_REQUEST_BYTES of profiles. No network I/O. 0 or a negative errno
 * (some requests may then be spooled already).
 */
int upload__profile(struct uploader *u, const pprof_profile_t *p, const struct upload_opts *o);

/*
 * The agent's per-window call, on the collector's worker thread: packs b,
 * reads it back and upload__profile()s it. b is not changed. 0 or a negative
 * errno; the caller logs it (", ignoring": the store has the window anyway).
 */
int upload__window(struct uploader *u, struct pprof_builder *b, const struct upload_opts *o);

/*
 * Starts the uploader of the agent configuration: reads the token or Basic
 * credentials file, opens the spool (cfg->upload_spool, or <store>/spool)
 * and starts the sender thread, whose messages go to log.h. NULL after
 * printing what went wrong. Free it with uploader__free().
 */
struct uploader *upload__start(const struct agent_config *cfg);

/*
 * Reads a secret (token, "user:password") from path: at most 4 KiB, one line,
 * trailing blanks and newline removed, not empty. *ret is malloc'ed; the
 * caller wipes and frees it. On failure err holds one line. 0 or -errno
 * (-EINVAL for bad content).
 */
int upload__read_secret(const char *path, char **ret, char *err, size_t errlen);

#endif /* SMOLDER_UPLOAD_H */
