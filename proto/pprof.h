/* SPDX-License-Identifier: MIT */
/*
 * pprof: build, write, read and merge profiles in the pprof format
 * (proto/profile.proto, compiled by protoc-c into profile.pb-c.h).
 *
 * Writing goes through a builder that interns strings, functions, mappings and
 * locations, so callers describe frames by value and never handle ids. Ids it
 * assigns are index+1 in every table.
 *
 * Reading decodes a (gzip-compressed or plain) pprof file and validates it, so
 * that consumers may index tables without checks: after pprof__read*() every id
 * equals index+1 (renumbered when the file used other ids), every id a message
 * refers to exists (mapping_id and function_id may be 0, meaning none; sample
 * location ids never are), every string index is in range, string_table[0] is
 * "" and every sample has exactly one value per sample type. period_type may be
 * NULL (absent).
 *
 * This module never prints; errors are negative errno values.
 */
#ifndef SMOLDER_PPROF_H
#define SMOLDER_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pprof_profile_t;

/*
 * pprof__read*() refuse, with -EFBIG, inputs larger than PPROF_READ_MAX_SIZE
 * after decompression, and inputs whose decoded message tree would take more
 * than PPROF_DECODE_MAX_SIZE bytes. The agent's largest window is bounded by
 * its 16 MiB aggregate (one of ~12,000 samples from a busy 2-CPU host is
 * 0.8 MB); real profiles decode to 6-7.2 times their size, so every profile
 * under the first cap fits the second.
 */
#define PPROF_READ_MAX_SIZE   ((size_t)64 << 20)
#define PPROF_DECODE_MAX_SIZE ((size_t)512 << 20)

struct pprof_builder;

struct pprof_value_type {
	const char *type; /* "samples", "cpu" */
	const char *unit; /* "count", "nanoseconds" */
};

struct pprof_mapping_desc {
	uint64_t memory_start;
	uint64_t memory_limit;
	uint64_t file_offset;
	const char *filename; /* "[kernel.kallsyms]", "/usr/bin/python3.11" */
	const char *build_id; /* lower-case hex, or NULL */
	bool has_functions;
	bool has_filenames;
	bool has_line_numbers;
	bool has_inline_frames;
};

/* One line of a location: a function and where in it. */
struct pprof_line_desc {
	const char *name; /* display name (demangled); NULL or "" if unknown */
	const char *system_name; /* mangled name; NULL means same as name */
	const char *filename; /* source file, or NULL */
	int64_t line; /* 0 if unknown */
	int64_t column; /* 0 if unknown */
	int64_t start_line; /* 0 if unknown */
};

/* A sample label: string-valued when str is non-NULL, else numeric. */
struct pprof_label_desc {
	const char *key;
	const char *str;
	int64_t num;
	const char *num_unit; /* NULL for none */
};

/* Constructor. Returns NULL with errno set. Caller frees with pprof_builder__free(). */
struct pprof_builder *pprof_builder__new(void);
/* Accepts NULL. */
void pprof_builder__free(struct pprof_builder *b);

/*
 * Profile-level fields. Sample types are appended in call order, and only
 * before the first sample (-EINVAL after).
 */
int pprof_builder__add_sample_type(struct pprof_builder *b, const struct pprof_value_type *vt);
int pprof_builder__set_period(struct pprof_builder *b, const struct pprof_value_type *period_type,
			      int64_t period);
/* Names one of the sample types already added ("cpu"); -EINVAL if none matches. */
int pprof_builder__set_default_sample_type(struct pprof_builder *b, const char *type);
int pprof_builder__set_time(struct pprof_builder *b, int64_t time_nanos, int64_t duration_nanos);
int pprof_builder__add_comment(struct pprof_builder *b, const char *comment);

/*
 * Interns a mapping equal in every field to an earlier one, or adds it.
 * Returns its id (>= 1) or a negative errno.
 */
int64_t pprof_builder__mapping(struct pprof_builder *b, const struct pprof_mapping_desc *m);

/*
 * Interns a location by (mapping_id, address): the first call for a pair sets
 * its lines (innermost first), later calls return the same id. mapping_id 0
 * means no mapping. Address 0 means unknown: such locations are interned by
 * (mapping_id, lines) instead. A line whose name, system_name and filename are
 * all NULL or "" (and start_line 0) is dropped: pprof readers reject lines
 * without a function. Returns its id (>= 1) or a negative errno; -EINVAL for a
 * mapping_id that does not exist.
 */
int64_t pprof_builder__location(struct pprof_builder *b, uint64_t mapping_id, uint64_t address,
				const struct pprof_line_desc *lines, size_t nr_lines);

/*
 * Adds a sample. location_ids are leaf first; nr_values must equal the number
 * of sample types. Samples with equal locations and labels are NOT merged
 * here: callers aggregate. Returns 0 or a negative errno; -EINVAL for an
 * unknown location id, a wrong value count or a label without a key.
 */
int pprof_builder__sample(struct pprof_builder *b, const uint64_t *location_ids,
			  size_t nr_locations, const int64_t *values, size_t nr_values,
			  const struct pprof_label_desc *labels, size_t nr_labels);

/*
 * Serializes the profile (uncompressed protobuf). *ret_buf is malloc'ed; the
 * caller frees it. Untouched on failure.
 */
int pprof_builder__pack(struct pprof_builder *b, uint8_t **ret_buf, size_t *ret_len);

/*
 * Serializes the profile gzip-compressed into memory (what a pprof file
 * holds). *ret_buf is malloc'ed; the caller frees it. *ret_raw_len, when not
 * NULL, gets the uncompressed size. Untouched on failure.
 */
int pprof_builder__pack_gzip(struct pprof_builder *b, uint8_t **ret_buf, size_t *ret_len,
			     size_t *ret_raw_len);

/* Writes the profile gzip-compressed to fd (from where it is). Returns 0 or a negative errno. */
int pprof_builder__write_fd(struct pprof_builder *b, int fd);

/*
 * Writes the profile gzip-compressed to path with the given mode through
 * safefile__create() (safefile.h): into a temporary file next to the target,
 * renamed over it, so a reader never sees a partial file; "-" is standard
 * output. The refusals of safefile__create() apply: -EISDIR, -EBADFD for a
 * FIFO or device, -EPERM for a symlink another user planted. Returns 0 or a
 * negative errno.
 */
int pprof_builder__write_file(struct pprof_builder *b, const char *path, mode_t mode);

/*
 * Reads and validates a pprof file, gzip-compressed or not, opened with
 * safefile__read() (a FIFO or device is never opened: -EBADFD; a directory
 * is -EISDIR). *ret is freed with
 * pprof__profile_free(). Returns 0, -errno for I/O errors, -EBADMSG for data
 * that is not a valid profile, -EFBIG beyond PPROF_READ_MAX_SIZE (or when
 * decoding would take more than PPROF_DECODE_MAX_SIZE of memory).
 */
int pprof__read_file(const char *path, pprof_profile_t **ret);
/* The same from memory (gzip or plain). Used by the fuzz harness. */
int pprof__read_mem(const uint8_t *data, size_t len, pprof_profile_t **ret);
/* Accepts NULL. */
void pprof__profile_free(pprof_profile_t *p);

/*
 * Adds every sample of p to b, re-interning its strings, functions, mappings
 * and locations (only those its samples reach); labels are kept. A sample
 * whose locations and labels (in order) equal those of a sample an earlier
 * merge added is summed into it (kept apart where a sum would wrap), so
 * merging many windows of one process grows with its distinct stacks, not
 * with the number of windows. Lines with
 * function_id 0 are dropped (see pprof_builder__location()). The first profile
 * merged sets the sample types, period and default type; a later one whose
 * sample types differ gives -EINVAL (b is then untouched). time_nanos becomes the earliest start and
 * duration_nanos covers the span of all merged profiles (time_nanos 0 counts as
 * unknown). Comments are added once each. p must satisfy the pprof__read*()
 * invariants; ids out of range give -EINVAL. After any other failure b may
 * hold part of p.
 */
int pprof_builder__merge(struct pprof_builder *b, const pprof_profile_t *p);

/* Decides whether merging keeps sample s of p; ctx is the caller's. */
typedef bool (*pprof_sample_filter_fn)(const pprof_profile_t *p,
				       const Perftools__Profiles__Sample *s, void *ctx);

/*
 * pprof_builder__merge() that only adds the samples for which keep() returns
 * true (all of them when keep is NULL). The header (sample types, period,
 * comments) and the time span are merged as by pprof_builder__merge() even
 * when no sample is kept, so a window that matched in time but not in labels
 * still widens the span. Only what kept samples reach is interned.
 */
int pprof_builder__merge_filtered(struct pprof_builder *b, const pprof_profile_t *p,
				  pprof_sample_filter_fn keep, void *ctx);

/* String at index i of p's table ("" when out of range). */
const char *pprof__str(const pprof_profile_t *p, int64_t i);

#endif /* SMOLDER_PPROF_H */
