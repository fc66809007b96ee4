/* SPDX-License-Identifier: MIT */
/*
 * The agent's local store: one gzip pprof file per window, in folders by UTC
 * day and hour, plus retention and the agent's status file.
 *
 *   DIR/YYYY-MM-DD/HH/smolder-<host>-<YYYYmmddTHHMMSSZ>.pb.gz
 *
 * The time in a file's name is its window's start (UTC, to the second); it
 * orders the files for retention and query. Files are written through a
 * temporary ".NAME.XXXXXX" in the same folder and renamed
 * (pprof_builder__write_file()), so a reader never sees a partial window.
 *
 * Nothing here prints; errors are negative errnos, and store__format_error()
 * turns the ones of store__open() into the line to print.
 */
#ifndef SMOLDER_STORE_H
#define SMOLDER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest window the agent writes; store__list() looks this far before since. */
#define STORE_MAX_WINDOW_S 3600
/* Files one retention pass or one listing considers; more are skipped and counted. */
#define STORE_MAX_FILES (1 << 20)
/* A temporary file this old was left by a crash and is removed by retention. */
#define STORE_STALE_TEMP_S 60

struct store;

/*
 * Opens dir so that no user but root and the effective one can steer what
 * is done in it, as OpenSSH's StrictModes checks a key file: dir must be a
 * real directory owned by the effective uid and writable by no one else
 * (-EPERM / -EACCES otherwise), and "/" and every parent on the way must be
 * owned by root or that uid and not writable by group or others, except a
 * sticky one like /tmp. The path is walked from "/" one component at a time
 * through directory fds (O_NOFOLLOW); a symlink on the way is followed only
 * when root or that uid owns it, a final one is refused (-ELOOP), a file is
 * -ENOTDIR. With create, missing components are made with mode by mkdirat()
 * under their checked parent. A relative dir is taken from the current
 * directory, whose parents are checked too. Returns an fd of dir
 * (O_DIRECTORY; the caller closes it) or -errno.
 */
int store__open_dir(const char *dir, bool create, mode_t mode);

/*
 * One line for a store__open_dir() failure -err on dir, naming the parent at
 * fault when it is one: "<what> '/x' is writable by others (mode 0777);
 * chmod 0750 it or give another with <option>". mode is the one to advise.
 */
void store__format_dir_error(const char *what, const char *option, mode_t mode, const char *dir,
			     int err, char *buf, size_t len);

/*
 * Opens the store at dir (store__open_dir(), creating it and missing
 * parents with mode 0750). Returns NULL with errno set (ELOOP, ENOTDIR,
 * EPERM, EACCES as there). Caller frees with store__free().
 */
struct store *store__open(const char *dir);
/* Accepts NULL. */
void store__free(struct store *s);
/* The directory given to store__open(); borrowed until store__free(). */
const char *store__dir(const struct store *s);

/*
 * One line for a store__open() failure with errno err, for log_err("%s"):
 * "store directory '/x' is a symlink; give a real directory with --store".
 * Also for store__list() failures (-err).
 */
void store__format_error(const char *dir, int err, char *buf, size_t len);

/*
 * The path of the window starting at time_nanos (unix, UTC) written by host,
 * into buf; creates its day and hour folders (0750). host is sanitized: any
 * byte but [A-Za-z0-9._] becomes '_', and "-" is kept. Each folder is made
 * with mkdirat() under the fd of its parent and must be a real folder of
 * root or ours that no one else can write. Returns 0, -ENAMETOOLONG when
 * buf is too small, -ELOOP (a symlink), -ENOTDIR, -EPERM (another user's),
 * -EACCES (writable by others) for a day or hour folder, or -errno from mkdir.
 */
int store__path(struct store *s, int64_t time_nanos, const char *host, char *buf, size_t len);

/*
 * Parses a store file name ("smolder-web1-20261121T100000Z.pb.gz", no folder)
 * into the window start in *ret_nanos. False when it is not one.
 */
bool store__parse_name(const char *name, int64_t *ret_nanos);

struct store_usage {
	uint64_t bytes; /* of the windows kept */
	uint64_t files; /* windows kept */
	uint64_t deleted; /* windows and stale temporary files deleted */
	uint64_t skipped; /* windows beyond STORE_MAX_FILES, not considered */
	uint64_t
		refused; /* named like windows or folders, but symlinks, special files or others': left alone */
};

typedef void (*store_delete_fn)(const char *path, uint64_t bytes, const char *why, void *ctx);

/*
 * Deletes windows older than max_age_s (by the time in their name; 0: no age
 * limit), then the oldest until the store holds at most max_bytes (0: no
 * size limit), then temporary files older than STORE_STALE_TEMP_S (a crash
 * left them); younger ones are being written and are left alone. Empty hour
 * and day folders older than the current hour are removed. on_delete (may
 * be NULL) is called after each deletion with why one of "age", "size",
 * "stale temporary file". A file that cannot be deleted is skipped; the first
 * such error is returned after the pass. ret_usage (may be NULL) gets what
 * the store holds afterwards.
 */
int store__retention(struct store *s, int64_t now_nanos, uint64_t max_age_s, uint64_t max_bytes,
		     store_delete_fn on_delete, void *ctx, struct store_usage *ret_usage);

/*
 * The windows of the store at dir whose start lies in
 * [since - STORE_MAX_WINDOW_S, until), oldest first: every window that may
 * overlap [since, until). The exact test needs the window's length, which
 * only the profile holds (time_nanos, duration_nanos): callers check it.
 * Creates nothing. dir is checked as store__open_dir() does; day and hour
 * folders and files that are not what they should be (symlinks, special
 * files, others' or writable by others) are skipped and counted in
 * *ret_refused (may be NULL), so each path lies in folders only root or we
 * can change. *ret_paths is an array of *ret_nr malloc'ed paths; free it
 * with store__free_list(). Returns 0 (possibly with no paths) or -errno
 * (-ENOENT when dir does not exist; -ELOOP, -ENOTDIR, -EPERM, -EACCES).
 */
int store__list(const char *dir, int64_t since_nanos, int64_t until_nanos, char ***ret_paths,
		size_t *ret_nr, uint64_t *ret_refused);
void store__free_list(char **paths, size_t nr);

/* What the agent says about itself, rewritten after every window. */
struct agent_status {
	int64_t pid;
	int64_t started_nanos; /* unix */
	int64_t updated_nanos; /* when this status was written */
	uint64_t windows_written;
	int64_t last_window_nanos; /* start of the last window written; 0: none yet */
	uint64_t samples;
	uint64_t lost_samples;
	uint64_t processes; /* tracked now */
	uint64_t symbolization_misses;
	double cpu_seconds; /* user + system, of the agent */
	uint64_t rss_bytes;
	uint64_t store_bytes;
	uint64_t store_files;
	uint64_t pending_windows; /* held in memory, not yet written (disk full) */
	uint64_t windows_dropped; /* closed but never built: the worker fell behind */
	uint64_t windows_dropped_store; /* built but dropped: too many waiting for the store */
	uint64_t kernel_unavailable; /* kernel frames left unnamed: no kallsyms */
	uint64_t frames_over_budget; /* user frames left unnamed past a window's time budget */
	uint64_t debug_too_large; /* debug files refused unread: too large for their binary */
	char store_dir[512];
	char last_error[256]; /* "" when none */
};

/*
 * Writes st to path as "key=value" lines, atomically, mode 0640, through
 * safefile__create() (temporary file in the same folder, fsync, rename; a
 * FIFO, device or another user's symlink at path is refused). Returns 0 or
 * -errno.
 */
int store__write_status(const char *path, const struct agent_status *st);

/*
 * Reads a status file written by store__write_status(). Unknown keys are
 * ignored, missing ones stay 0. Returns 0, -errno, -EFBIG beyond 64 KiB or
 * -EBADMSG when it holds no pid. *ret is filled on success only.
 */
int store__read_status(const char *path, struct agent_status *ret);

#endif /* SMOLDER_STORE_H */
