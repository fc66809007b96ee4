/* SPDX-License-Identifier: MIT */
/*
 * The agent's configuration: defaults, one setter shared by the command line
 * and the config file, and the config file parser.
 *
 * Keys are the agent's long option names: frequency, window, store,
 * retention-age, retention-size, label, include-idle, upload, status-file,
 * verbose, and the upload settings service-by, token-file, basic-auth-file,
 * tenant, ca-file, spool and spool-size. The file holds `key = value` lines; blank lines and lines whose
 * first non-blank character is '#' are ignored ('#' elsewhere is part of the
 * value, so URLs and labels may contain it). Whitespace around keys and values
 * is trimmed. A later setting of a key replaces an earlier one, except label,
 * which adds one.
 *
 * Nothing here prints: errors are a negative errno plus a one-line message in
 * the caller's buffer, ready for log_err("%s", err).
 */
#ifndef SMOLDER_CONFIG_H
#define SMOLDER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_FREQ_HZ	      99
#define CONFIG_DEFAULT_WINDOW_S	      60
#define CONFIG_DEFAULT_STORE	      "/var/lib/smolder"
#define CONFIG_DEFAULT_RETENTION_AGE  (7ULL * 24 * 3600) /* 7 days */
#define CONFIG_DEFAULT_RETENTION_SIZE (1ULL << 30) /* 1 GiB */
#define CONFIG_MAX_FREQ_HZ	      10000
#define CONFIG_MAX_WINDOW_S	      3600
#define CONFIG_MAX_LABELS	      32
#define CONFIG_MAX_LABEL_KEY	      64 /* bytes, without the NUL */
#define CONFIG_MAX_LABEL_VALUE	      256
#define CONFIG_MAX_LINE		      4096 /* bytes per config file line */
#define CONFIG_MAX_FILE		      (1 << 20) /* bytes per config file */
#define CONFIG_MAX_VERBOSITY	      2

struct agent_config {
	unsigned int freq_hz; /* samples per second per CPU, 1-10000 */
	unsigned int window_s; /* seconds per stored profile, 1-3600 */
	char *store_dir; /* owned */
	uint64_t retention_age_s; /* windows older than this are deleted; 0: no age limit */
	uint64_t retention_bytes; /* the store is kept under this; 0: no size limit */
	char **labels; /* "key=value", owned; added to every sample */
	size_t nr_labels; /* at most CONFIG_MAX_LABELS */
	bool include_idle;
	char *upload_url; /* owned; NULL: no upload */
	/* Upload settings, all owned; NULL means the default. */
	char *upload_service_by; /* systemd_unit (default), container_id or comm */
	char *upload_token_file; /* bearer token, read at start */
	char *upload_basic_auth_file; /* "user:password", read at start */
	char *upload_tenant; /* X-Scope-OrgID */
	char *upload_ca_file; /* PEM CA bundle; default: the system CAs */
	char *upload_spool; /* default: <store_dir>/spool */
	uint64_t upload_spool_bytes; /* spool cap; 0: the uploader's default (256 MiB) */
	/*
	 * Owned, never NULL after config__init(). Follows store_dir
	 * ("<store_dir>/status") until status-file is set explicitly.
	 */
	char *status_file;
	bool status_file_set;
	int verbosity; /* 0-2 */
};

/* Fills c with the defaults. Returns 0 or -ENOMEM (c is then safe to free). */
int config__init(struct agent_config *c);

/* Frees what c owns and zeroes it. Accepts a zeroed or half-built c. */
void config__free(struct agent_config *c);

/*
 * Sets key to value, both as a command-line option and a config-file line
 * give them. For the flags include-idle and verbose, value NULL means the bare
 * option: include-idle becomes true, verbose goes up by one. Otherwise
 * include-idle takes true/false/yes/no/1/0 and verbose 0-2.
 *
 * Values: frequency 1-10000; window 1-3600 seconds; retention-age a whole
 * number with an optional unit s, m, h or d (0 = no limit, at most 10 years);
 * retention-size bytes with an optional K, M, G or T (powers of 1024, an
 * optional "iB" or "B" after it; 0 = no limit); label key=value (key
 * [A-Za-z_][A-Za-z0-9_]*, not a reserved key, not given twice; value non-empty,
 * printable); upload an http:// or https:// URL; store and status-file
 * non-empty paths. service-by systemd_unit, container_id or comm; token-file,
 * basic-auth-file, ca-file and spool non-empty paths (token-file and
 * basic-auth-file exclude each other: the later one replaces the other);
 * tenant 1-256 printable characters; spool-size like retention-size, at
 * least 1M.
 *
 * Returns 0; -ENOENT for an unknown key; -EINVAL for a bad value; -E2BIG for
 * too many labels; -ENOMEM. On failure c is unchanged and err holds one line
 * ("invalid window '0': expected a whole number of seconds from 1 to 3600").
 */
int config__set(struct agent_config *c, const char *key, const char *value, char *err,
		size_t errlen);

/*
 * Applies every line of the config file at path to c, in order. On failure
 * err holds one line naming the file (and line): "/etc/smolder.conf:12:
 * unknown key 'windw'", "cannot read '/etc/x.conf': No such file or
 * directory". c may then hold the settings of the lines before the bad one:
 * to reload, load into a fresh struct and swap it in only on success.
 * Returns 0, -errno for I/O errors, or config__set()'s errors.
 */
int config__load_file(struct agent_config *c, const char *path, char *err, size_t errlen);

/* The same from memory; name is used in messages. Also the fuzz entry point. */
int config__load_buf(struct agent_config *c, const char *name, const char *buf, size_t len,
		     char *err, size_t errlen);

/* Deep copy of src into *dst (which is overwritten, not freed). 0 or -ENOMEM. */
int config__copy(struct agent_config *dst, const struct agent_config *src);

/* True when key is a label key the agent sets itself (pid, comm, container_id, ...). */
bool config__label_reserved(const char *key);

/*
 * Validates a "key=value" label as config__set() does; 0 or -EINVAL with a
 * message in err. Used by `smolder query --label` too.
 */
int config__check_label(const char *kv, bool allow_reserved, char *err, size_t errlen);

/*
 * Parses a point in time: RFC 3339 ("2026-11-21T10:00:00Z", fractional
 * seconds and a "+02:00" offset allowed), relative to now ("-1h", "-30m",
 * "-45s", "-2d") or unix seconds ("1763719200"). 0 or -EINVAL.
 */
int config__parse_time(const char *s, int64_t now_nanos, int64_t *ret_nanos);

/* Parses "30s", "15m", "12h", "7d" or plain seconds into seconds. 0 or -EINVAL. */
int config__parse_duration(const char *s, uint64_t *ret_s);

/* Parses "500M", "1G", "1GiB" or plain bytes. 0 or -EINVAL. */
int config__parse_size(const char *s, uint64_t *ret_bytes);

#endif /* SMOLDER_CONFIG_H */
