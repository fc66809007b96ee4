/* SPDX-License-Identifier: MIT */
/*
 * safefile: the files smolder reads and writes by a name it was given, opened
 * so that another local user cannot steer a root smolder with them.
 *
 * Reading: only a regular file is read, and opening it cannot block (a FIFO)
 * or touch a device; reads are capped. Writing: the target must be a new name
 * or a regular file; the bytes go to a temporary file created next to it and
 * renamed over it (so readers never see a partial file, and a hard link to the
 * old file keeps the old bytes); a final symlink is followed only when nobody
 * but us (or root) could have planted it; "-" is standard output.
 *
 * This module never prints; errors are negative errno values. Refusals for a
 * file's type are -EISDIR (a directory) and -EBADFD (a FIFO, device, socket);
 * a symlink that is not followed is -EPERM. Each reports the type it found
 * through an optional mode_t out-parameter (S_IFMT bits, 0 when nothing was
 * found), so the caller can say what it refused (safefile__type_name()).
 */
#ifndef SMOLDER_SAFEFILE_H
#define SMOLDER_SAFEFILE_H

#include <stdio.h>
#include <sys/types.h>

/* Symlinks followed from one output name before -ELOOP. */
#define SAFEFILE_MAX_LINKS 8

/*
 * Opens path for reading if it is a regular file. The name is opened with
 * O_PATH first, which never opens a FIFO or device; only once fstat() shows a
 * regular file is that same inode opened for reading (through
 * /proc/self/fd), with O_NONBLOCK, cleared afterwards. Symlinks are followed.
 * Returns 0 with *ret_fd (caller closes it), or -errno. *ret_type, when not
 * NULL, is set whenever the file could be looked at, also on refusal.
 */
int safefile__open_read(const char *path, int *ret_fd, mode_t *ret_type);

/*
 * safefile__open_read(), then the whole file into a NUL-terminated malloc'ed
 * *ret_buf of *ret_len bytes (the caller frees it). -EFBIG when the file holds
 * more than max bytes (no more than max + 1 are ever read). The buffer starts
 * at the file's size and grows only if the file grows. *ret_buf and *ret_len
 * are untouched on failure; *ret_type as for safefile__open_read().
 */
int safefile__read(const char *path, size_t max, char **ret_buf, size_t *ret_len, mode_t *ret_type);

/* "a FIFO", "a directory", "a character device", ... for a type from above. */
const char *safefile__type_name(mode_t type);

/* An output being written; see safefile__create(). */
struct safefile_out;

/*
 * Starts writing path with the given mode (applied with fchmod, so the umask
 * does not change it). "-" is standard output: nothing is created, renamed or
 * closed. Otherwise the directory is opened once and everything after goes
 * through that descriptor (fstatat, readlinkat, openat, renameat), so the
 * directory cannot be swapped in between. The target must not exist, or be a
 * regular file (-EISDIR for a directory, -EBADFD for anything else; a
 * trailing "/" or a name "." or ".." is a directory). A final symlink is
 * followed (and the target checked again, at most SAFEFILE_MAX_LINKS times)
 * only if it belongs to us or root, or its directory is ours or root's and
 * writable by nobody else; otherwise -EPERM with S_IFLNK, as with
 * fs.protected_symlinks but also for directories of other users and group-
 * writable ones. The temporary file ".NAME.XXXXXX" (random, O_EXCL,
 * O_NOFOLLOW) is created in the final directory at once, so a directory we
 * cannot write fails here, not after the work.
 * Returns 0 with *ret (end it with safefile__commit() or safefile__discard()),
 * or -errno. *ret_type, when not NULL, is the type found at the name.
 */
int safefile__create(const char *path, mode_t mode, struct safefile_out **ret, mode_t *ret_type);

/* The descriptor to write to (borrowed until the end of o). */
int safefile__fd(const struct safefile_out *o);

/*
 * A stdio stream on o (stdout for "-"), opened on the first call and closed by
 * safefile__commit() / safefile__discard(); NULL with errno set on failure.
 * Do not mix with writes to safefile__fd() without fflush().
 */
FILE *safefile__stream(struct safefile_out *o);

/*
 * Finishes o: flushes the stream, fsyncs, and renames the temporary file over
 * the target, unless the target has become something other than a regular
 * file or a symlink meanwhile (-EISDIR / -EBADFD). For "-" it only flushes.
 * On any failure the temporary file is removed. Frees o either way.
 * Returns 0 or -errno.
 */
int safefile__commit(struct safefile_out *o);

/* Drops o and its temporary file; the target is untouched. Accepts NULL. */
void safefile__discard(struct safefile_out *o);

#endif /* SMOLDER_SAFEFILE_H */
