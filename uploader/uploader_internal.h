/* SPDX-License-Identifier: MIT */
/*
 * uploader internals shared by its files, its unit tests and its fuzz
 * harness: the spool (spool.c) and the HTTP helpers (http.c).
 */
#ifndef SMOLDER_UPLOADER_INTERNAL_H
#define SMOLDER_UPLOADER_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uploader.h"

/* Spool item files: "<20-digit sequence>.push.zst", rejected ones under "rejected/". */
#define UPLOADER_ITEM_SUFFIX ".push.zst"
#define UPLOADER_ITEM_MAGIC  "SMOLDUP1" /* 8 bytes, then one zstd frame of the PushRequest */
#define UPLOADER_REJECTED    "rejected"

struct uploader_spool;

struct uploader_spool_usage {
	uint64_t bytes; /* item files, on disk */
	uint64_t items;
	uint64_t dropped; /* deleted over the cap */
	uint64_t rejected_evicted; /* deleted from rejected/ over UPLOADER_MAX_REJECTED */
	uint64_t refused; /* named like items but symlinks, special files or others': ignored */
};

/*
 * Opens dir (mkdir 0700 when missing), deletes stale temporary files and
 * indexes the items it holds, oldest first, enforcing the caps at once.
 * max_items is normally UPLOADER_MAX_SPOOL_ITEMS. NULL with errno set. Freed
 * with uploader_spool__free() (which leaves the files).
 */
struct uploader_spool *uploader_spool__open(const char *dir, uint64_t cap_bytes, size_t max_items,
					    uploader_log_fn log, void *log_ctx);
void uploader_spool__free(struct uploader_spool *s);

/*
 * Compresses body into a new newest item (tmp file, fsync, rename, 0600) and
 * evicts the oldest items (never the busy one) until under the caps. Returns
 * 0 and its sequence number; -EFBIG when the item alone is over the cap (not
 * kept; counted as dropped); -errno.
 */
int uploader_spool__add(struct uploader_spool *s, const uint8_t *body, size_t len,
			uint64_t *ret_seq);
/* The oldest item's sequence, marked busy (spared by eviction). -ENOENT when empty. */
int uploader_spool__take_oldest(struct uploader_spool *s, uint64_t *ret_seq);
/* Clears the busy mark. */
void uploader_spool__release(struct uploader_spool *s);
/*
 * Reads and decodes item seq into the PushRequest body (*ret_body
 * malloc'ed). -ENOENT when it is gone (evicted), -EBADMSG when unreadable.
 */
int uploader_spool__read(struct uploader_spool *s, uint64_t seq, uint8_t **ret_body,
			 size_t *ret_len);
/* Deletes item seq (sent). 0, or -ENOENT when it was already gone. */
int uploader_spool__remove(struct uploader_spool *s, uint64_t seq);
/* Moves item seq to rejected/, deleting the oldest rejected ones over the cap. */
int uploader_spool__reject(struct uploader_spool *s, uint64_t seq);
void uploader_spool__usage(struct uploader_spool *s, struct uploader_spool_usage *ret);

/*
 * Decodes a spool item file's content: magic, one zstd frame whose declared
 * size is at most UPLOADER_MAX_ITEM, and a PushRequest that protoc-c accepts
 * with every RawSample carrying an ID. *ret_body is malloc'ed. 0 or -EBADMSG
 * (-ENOMEM).
 */
int uploader_item__decode(const uint8_t *data, size_t len, uint8_t **ret_body, size_t *ret_len);

/*
 * Delay before retry number attempt (1 = first retry): min_ms * 2^(attempt-1)
 * capped at max_ms, then "equal jitter": half of it fixed, half uniformly
 * random from rnd (any 32-bit value).
 */
unsigned int uploader__backoff_ms(unsigned int attempt, unsigned int min_ms, unsigned int max_ms,
				  uint32_t rnd);

/*
 * Parses a Retry-After header value (without the name): delta-seconds or an
 * IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), surrounding blanks allowed.
 * now_s is the current Unix time. Returns 0 with the delay in seconds (0 for a
 * date in the past, at most 2^31), -EINVAL when not parseable.
 */
int uploader__parse_retry_after(const char *value, size_t len, int64_t now_s, uint64_t *ret_s);

/* What to do with an HTTP answer (status 0: no answer, a network error). */
enum uploader_verdict {
	UPLOADER_SENT,
	UPLOADER_RETRY,
	UPLOADER_REJECT,
};
enum uploader_verdict uploader__classify(long http_status);

/* A random version-4 UUID, lower-case, 36 characters + NUL. 0 or -errno. */
int uploader__uuid(char ret[37]);

/* Formats a message and passes it to log (when not NULL). */
void uploader__logf(uploader_log_fn log, void *ctx, enum uploader_log_level level, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));

#endif /* SMOLDER_UPLOADER_INTERNAL_H */
