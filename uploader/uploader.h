/* SPDX-License-Identifier: MIT */
/*
 * uploader: sends profiles to Grafana Pyroscope's push API
 * (POST {url}/push.v1.PusherService/Push, a push.v1.PushRequest body) without
 * losing one when the server is down.
 *
 * uploader__submit() writes the request to an on-disk spool (one
 * zstd-compressed file per call, written to a temporary file, fsync'ed and
 * renamed) and returns without network I/O. One background thread sends the
 * spool oldest first; an item leaves the spool only after a 2xx answer.
 * Network errors, 408, 429, 5xx and the setup errors 401, 403 and 404 are
 * retried with exponential backoff and jitter (429 and 503 honour
 * Retry-After); any other answer moves the item to <spool>/rejected/. The spool has a size cap: when it is full the oldest
 * items are deleted and counted. A new uploader on the same spool directory
 * sends what an earlier one left.
 *
 * This module never prints: it reports through the log callback, from the
 * thread that calls it or from its sender thread.
 */
#ifndef SMOLDER_UPLOADER_H
#define SMOLDER_UPLOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPLOADER_DEFAULT_SPOOL_CAP    ((uint64_t)256 << 20) /* bytes on disk */
#define UPLOADER_DEFAULT_CONNECT_MS   10000
#define UPLOADER_DEFAULT_TOTAL_MS     60000
#define UPLOADER_DEFAULT_RETRY_MIN_MS 1000
#define UPLOADER_DEFAULT_RETRY_MAX_MS (5 * 60 * 1000)
#define UPLOADER_MAX_REJECTED	      64 /* items kept in rejected/, oldest deleted */
#define UPLOADER_MAX_ITEM	      ((size_t)64 << 20) /* PushRequest bytes per item */
#define UPLOADER_MAX_LABELS	      64 /* per series */
#define UPLOADER_MAX_SERIES	      4096 /* per item */
#define UPLOADER_MAX_PROFILES	      256 /* per series */
#define UPLOADER_MAX_SPOOL_ITEMS      65536 /* items indexed; the oldest beyond are dropped */

enum uploader_log_level {
	UPLOADER_LOG_ERR,
	UPLOADER_LOG_WARN,
	UPLOADER_LOG_INFO,
	UPLOADER_LOG_DEBUG,
};

/* msg is one line without a trailing newline, valid for the call only. */
typedef void (*uploader_log_fn)(enum uploader_log_level level, const char *msg, void *ctx);

struct uploader_opts {
	const char *url; /* http:// or https:// base; "/push.v1.PusherService/Push" is appended */
	/*
	 * Created 0700 when missing (its parent must exist). It must be ours and
	 * writable by no one else (EPERM / EACCES otherwise); its parents are the
	 * caller's to check (profiler/ does, with store__open_dir()).
	 */
	const char *spool_dir;
	uint64_t spool_cap_bytes; /* 0: UPLOADER_DEFAULT_SPOOL_CAP */
	const char *bearer_token; /* "Authorization: Bearer ..."; NULL for none */
	const char *basic_auth; /* "user:password" for HTTP Basic; NULL for none */
	const char *tenant; /* X-Scope-OrgID; NULL for none */
	const char *ca_file; /* PEM bundle instead of the system CAs; NULL for those */
	unsigned int connect_timeout_ms; /* 0: UPLOADER_DEFAULT_CONNECT_MS */
	unsigned int total_timeout_ms; /* whole request; 0: UPLOADER_DEFAULT_TOTAL_MS */
	unsigned int retry_min_ms; /* first backoff; 0: UPLOADER_DEFAULT_RETRY_MIN_MS */
	unsigned int
		retry_max_ms; /* backoff and Retry-After cap; 0: UPLOADER_DEFAULT_RETRY_MAX_MS */
	bool no_thread; /* open the spool only: submit works, nothing is sent (tests, tools) */
	uploader_log_fn log; /* may be NULL */
	void *log_ctx;
};

struct uploader_label {
	const char *name;
	const char *value;
};

/* One gzip-compressed pprof profile: becomes a RawSample with a fresh UUID. */
struct uploader_blob {
	const uint8_t *data;
	size_t len;
};

/* One RawProfileSeries. Everything is borrowed for the uploader__submit() call only. */
struct upload_series {
	const struct uploader_label *labels;
	size_t nr_labels; /* at most UPLOADER_MAX_LABELS */
	const struct uploader_blob *profiles;
	size_t nr_profiles; /* 1 to UPLOADER_MAX_PROFILES */
};

struct uploader_stats {
	uint64_t submitted; /* items written to the spool by this uploader */
	uint64_t sent; /* items answered 2xx */
	uint64_t retried; /* failed attempts that will be retried */
	uint64_t rejected; /* items moved to rejected/ (4xx, or unreadable) */
	uint64_t dropped; /* items deleted because the spool was full */
	uint64_t rejected_evicted; /* old items deleted from rejected/ over its cap */
	uint64_t bytes_sent; /* request bodies answered 2xx */
	uint64_t spool_bytes; /* now, on disk */
	uint64_t spool_items; /* now, including one being sent */
	uint64_t
		spool_refused; /* entries named like items that are not our regular files: ignored */
	long last_http_status; /* 0: none yet or a network error */
	char last_error[256]; /* "" when the last attempt succeeded */
};

/*
 * Opens (creating it 0700) the spool, indexes what it holds, and starts the
 * sender thread. Strings are copied. Returns NULL with errno set: EINVAL for
 * a bad URL, a CR or LF in a header value, or a spool path that is not a
 * directory; others from the system. Caller frees with uploader__free().
 */
struct uploader *uploader__new(const struct uploader_opts *o);

/*
 * Stops the sender thread (aborting a request in progress) and frees u.
 * Unsent items stay in the spool for the next uploader. Accepts NULL.
 */
void uploader__free(struct uploader *u);

/*
 * Encodes one PushRequest of nr series (each profile gets a fresh UUID, kept
 * in the item so retries carry the same ID) and writes it to the spool. No
 * network I/O; safe from any thread. Returns 0; -EINVAL for nr 0 or limits
 * exceeded; -EFBIG over UPLOADER_MAX_ITEM or over the spool cap by itself
 * (then counted as dropped); -errno for I/O errors (nothing is left behind).
 * Writing may evict the oldest items to stay under the cap.
 */
int uploader__submit(struct uploader *u, const struct upload_series *series, size_t nr);

/*
 * Waits until the spool is empty or timeout_ms passes (a backoff in progress
 * is still honoured). Returns 0 when empty, -ETIMEDOUT otherwise, -EINVAL
 * without a sender thread.
 */
int uploader__flush(struct uploader *u, unsigned int timeout_ms);

/*
 * url for a message: the userinfo of its authority (what comes before the
 * last '@' up to the first '/', '?' or '#') becomes "user:***" or, without
 * a ':', "***". Written into buf of len bytes (len > 0), cut to fit, always
 * NUL-terminated. Returns buf.
 */
const char *uploader__redact_url(const char *url, char *buf, size_t len);
/* A buffer for uploader__redact_url() that holds any URL worth showing. */
#define UPLOADER_URL_SHOWN_MAX 1024

/* Counters and spool usage now. */
void uploader__stats(struct uploader *u, struct uploader_stats *ret);

#endif /* SMOLDER_UPLOADER_H */
