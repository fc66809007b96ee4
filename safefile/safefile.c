// SPDX-License-Identifier: MIT
/*
 * safefile: reading and writing the files smolder is given by name.
 *
 * smolder runs as root, and the names it is given often lie in directories
 * other users can write (/tmp). Three attacks shape this file:
 *  - a FIFO or device where a file is expected: open() of a FIFO blocks until
 *    a writer comes, and opening some devices acts (a watchdog starts). Input
 *    is opened O_PATH, which opens nothing, checked with fstat(), and only a
 *    regular file is then opened for reading, through /proc/self/fd/N so that
 *    it is the very inode checked, with O_NONBLOCK (cleared after) in case.
 *  - a symlink planted where an output will be written, pointing at a file of
 *    root's: writing through it would replace that file. The final name is
 *    opened O_PATH | O_NOFOLLOW, so its owner and target are read from one
 *    inode; it is followed only when it belongs to us or root, or when no one
 *    else can write its directory (owned by us or root, no group or other
 *    write bit); fs.protected_symlinks only covers sticky world-writable
 *    directories and may be off.
 *  - a device or directory at the output name: refused, never replaced; only a
 *    new name or a regular file is. Checked again just before the rename.
 * Outputs are written to ".NAME.XXXXXX" (random, O_EXCL | O_NOFOLLOW) in the
 * target's directory, fsync'ed and renamed over the name, all relative to one
 * descriptor of that directory (openat, renameat, unlinkat), so a directory
 * swapped after the checks changes nothing. A rename replaces the directory
 * entry, never the old inode's bytes, so a hard link to a file of root's is
 * not overwritten either. Intermediate directories of a path are resolved by
 * the kernel as usual (protected_symlinks applies there).
 */
#define _GNU_SOURCE /* O_PATH, AT_EMPTY_PATH */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safefile.h"

#define TMP_SUFFIX_LEN 6
#define TMP_ATTEMPTS   100
#define READ_FIRST_CAP ((size_t)4096)

struct safefile_out {
	int dirfd; /* -1 for standard output */
	int fd;
	FILE *f;
	char *name; /* the target, in dirfd */
	char *tmp; /* the temporary file, in dirfd */
};

const char *safefile__type_name(mode_t type)
{
	switch (type & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symlink";
	default:
		return "not a file";
	}
}

/* 0 for a regular file, else the refusal for its type. */
static int type_refusal(mode_t mode)
{
	if (S_ISREG(mode))
		return 0;
	return S_ISDIR(mode) ? -EISDIR : -EBADFD;
}

/* ---- reading ---- */

int safefile__open_read(const char *path, int *ret_fd, mode_t *ret_type)
{
	struct stat st, rst;
	char proc[32];
	int pfd, fd = -1, flags, err;

	if (ret_type)
		*ret_type = 0;
	if (!path || !ret_fd)
		return -EINVAL;
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st)) {
		err = -errno;
		goto out;
	}
	if (ret_type)
		*ret_type = st.st_mode & S_IFMT;
	err = type_refusal(st.st_mode);
	if (err)
		goto out;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* The same inode by construction; refuse rather than trust an odd /proc. */
	if (fstat(fd, &rst)) {
		err = -errno;
		goto out;
	}
	if (rst.st_dev != st.st_dev || rst.st_ino != st.st_ino || !S_ISREG(rst.st_mode)) {
		err = -ESTALE;
		goto out;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)) {
		err = -errno;
		goto out;
	}
	*ret_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	close(pfd);
	return err;
}

int safefile__read(const char *path, size_t max, char **ret_buf, size_t *ret_len, mode_t *ret_type)
{
	size_t len = 0, cap, want = max + 1;
	char *buf = NULL, *grown;
	struct stat st;
	ssize_t n;
	int fd, err;

	if (ret_type)
		*ret_type = 0;
	if (!ret_buf || !ret_len || max >= SIZE_MAX - 1)
		return -EINVAL;
	err = safefile__open_read(path, &fd, ret_type);
	if (err)
		return err;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		err = -EFBIG;
		goto out;
	}
	/*
	 * want = max + 1: one byte over the cap tells a file at it from one
	 * beyond. Room for the size and one byte, so EOF is seen without growing
	 * (no stale copies of a secret left by realloc); /proc files say 0.
	 */
	cap = (size_t)st.st_size + 1 < READ_FIRST_CAP ? READ_FIRST_CAP : (size_t)st.st_size + 1;
	if (cap > want)
		cap = want;
	buf = malloc(cap + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < want) {
		if (len == cap) {
			cap = cap > want / 2 ? want : cap * 2;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		err = -EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

/* ---- writing ---- */

/* "", "." and "..": a final component that can only name a directory. */
static bool is_directory_name(const char *name)
{
	return !*name || !strcmp(name, ".") || !strcmp(name, "..");
}

/*
 * Splits path into a directory (opened O_PATH relative to at) and a final
 * name (malloc'ed). A path without a slash is in at itself.
 */
static int open_parent(int at, const char *path, int *ret_dirfd, char **ret_name)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL, *name;
	int dirfd, err = 0;

	name = strdup(slash ? slash + 1 : path);
	if (!name)
		return -ENOMEM;
	if (!slash) {
		dirfd = openat(at, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		/* "/x": the root; "a//x" strips to "a/" which is a. */
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		if (!dir) {
			err = -ENOMEM;
			goto out;
		}
		dirfd = openat(at, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0) {
		err = -errno;
		goto out;
	}
	*ret_dirfd = dirfd;
	*ret_name = name;
	name = NULL;
out:
	free(dir);
	free(name);
	return err;
}

/* Whether a user other than us and root can create or replace names in dir. */
static bool others_can_write(const struct stat *dir)
{
	uid_t me = geteuid();

	if (dir->st_uid != me && dir->st_uid != 0)
		return true;
	return dir->st_mode & (S_IWGRP | S_IWOTH);
}

/*
 * Looks at name in dirfd without following it: *ret_type 0 when it does not
 * exist, else its type; a symlink is opened (O_PATH | O_NOFOLLOW) into
 * *ret_linkfd so that its owner and target are read from one inode.
 */
static int look(int dirfd, const char *name, mode_t *ret_type, struct stat *ret_st, int *ret_linkfd)
{
	int fd;

	*ret_linkfd = -1;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		*ret_type = 0;
		return 0;
	}
	if (fstat(fd, ret_st)) {
		close(fd);
		return -errno;
	}
	*ret_type = ret_st->st_mode & S_IFMT;
	if (S_ISLNK(ret_st->st_mode))
		*ret_linkfd = fd;
	else
		close(fd);
	return 0;
}

/*
 * Follows the final symlinks of (*dirfd, *name) as far as allowed, replacing
 * both with the file to write. *ret_type is what is found at the end.
 */
static int resolve_target(int *dirfd, char **name, mode_t *ret_type)
{
	char target[PATH_MAX];
	struct stat st, dst;
	char *new_name;
	int links, linkfd = -1, new_dirfd, err = 0;
	ssize_t n;

	for (links = 0;; links++) {
		err = look(*dirfd, *name, ret_type, &st, &linkfd);
		if (err || *ret_type != S_IFLNK)
			break;
		if (links == SAFEFILE_MAX_LINKS) {
			err = -ELOOP;
			break;
		}
		if (st.st_uid != geteuid() && st.st_uid != 0) {
			if (fstat(*dirfd, &dst)) {
				err = -errno;
				break;
			}
			if (others_can_write(&dst)) {
				err = -EPERM;
				break;
			}
		}
		n = readlinkat(linkfd, "", target, sizeof(target));
		if (n < 0 || (size_t)n >= sizeof(target)) {
			err = n < 0 ? -errno : -ENAMETOOLONG;
			break;
		}
		target[n] = '\0';
		close(linkfd);
		linkfd = -1;
		err = open_parent(*dirfd, target, &new_dirfd, &new_name);
		if (err)
			break;
		close(*dirfd);
		free(*name);
		*dirfd = new_dirfd;
		*name = new_name;
		if (is_directory_name(*name)) {
			*ret_type = S_IFDIR;
			err = -EISDIR;
			break;
		}
	}
	if (linkfd >= 0)
		close(linkfd);
	if (!err && *ret_type)
		err = type_refusal(*ret_type);
	return err;
}

static void random_suffix(char *out, size_t len)
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char bytes[TMP_SUFFIX_LEN];
	struct timespec ts;
	size_t i;

	/* Unpredictable names only spare retries: O_EXCL is what makes them safe. */
	if (getrandom(bytes, sizeof(bytes), GRND_NONBLOCK) != (ssize_t)sizeof(bytes)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i * 5)) ^
				   (unsigned char)(getpid() >> i);
	}
	for (i = 0; i < len && i < sizeof(bytes); i++)
		out[i] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
}

static int create_temp(struct safefile_out *o, mode_t mode)
{
	size_t name_len = strlen(o->name);
	int attempt, fd = -1;

	/* "." NAME "." XXXXXX must still be one valid name. */
	if (name_len + 2 + TMP_SUFFIX_LEN > NAME_MAX)
		return -ENAMETOOLONG;
	o->tmp = malloc(name_len + 3 + TMP_SUFFIX_LEN);
	if (!o->tmp)
		return -ENOMEM;
	for (attempt = 0; attempt < TMP_ATTEMPTS; attempt++) {
		o->tmp[0] = '.';
		memcpy(o->tmp + 1, o->name, name_len);
		o->tmp[name_len + 1] = '.';
		random_suffix(o->tmp + name_len + 2, TMP_SUFFIX_LEN);
		o->tmp[name_len + 2 + TMP_SUFFIX_LEN] = '\0';
		fd = openat(o->dirfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode & 0777);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		free(o->tmp);
		o->tmp = NULL;
		return -errno;
	}
	o->fd = fd;
	if (fchmod(fd, mode))
		return -errno;
	return 0;
}

/* A path whose last component is "", "." or "..": it names a directory, or nothing. */
static int directory_name(const char *path, mode_t *ret_type)
{
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!is_directory_name(slash ? slash + 1 : path))
		return 0;
	if (stat(path, &st))
		return -errno;
	*ret_type = st.st_mode & S_IFMT;
	return S_ISDIR(st.st_mode) ? -EISDIR : -ENOTDIR;
}

int safefile__create(const char *path, mode_t mode, struct safefile_out **ret, mode_t *ret_type)
{
	struct safefile_out *o;
	mode_t type = 0;
	int err;

	if (ret_type)
		*ret_type = 0;
	if (!path || !ret)
		return -EINVAL;
	if (!*path)
		return -ENOENT;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->dirfd = -1;
	o->fd = -1;
	if (!strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		*ret = o;
		return 0;
	}
	err = directory_name(path, &type);
	if (err)
		goto out;
	err = open_parent(AT_FDCWD, path, &o->dirfd, &o->name);
	if (err)
		goto out;
	err = resolve_target(&o->dirfd, &o->name, &type);
	if (err)
		goto out;
	err = create_temp(o, mode);
	if (err)
		goto out;
	*ret = o;
	o = NULL;
out:
	if (ret_type)
		*ret_type = type;
	safefile__discard(o);
	return err;
}

int safefile__fd(const struct safefile_out *o)
{
	return o ? o->fd : -1;
}

FILE *safefile__stream(struct safefile_out *o)
{
	int fd;

	if (!o) {
		errno = EINVAL;
		return NULL;
	}
	if (o->f)
		return o->f;
	if (o->dirfd < 0) {
		o->f = stdout;
		return o->f;
	}
	/* The stream owns a duplicate, so fclose() leaves o->fd to commit(). */
	fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	o->f = fdopen(fd, "w");
	if (!o->f)
		close(fd);
	return o->f;
}

/* Flushes and (but for stdout) closes the stream; -errno of the first failure. */
static int close_stream(struct safefile_out *o)
{
	int err = 0;

	if (!o->f)
		return 0;
	if (fflush(o->f) || ferror(o->f))
		err = -(errno ? errno : EIO);
	if (o->f != stdout && fclose(o->f) && !err)
		err = -(errno ? errno : EIO);
	o->f = NULL;
	return err;
}

int safefile__commit(struct safefile_out *o)
{
	struct stat st;
	int err;

	if (!o)
		return -EINVAL;
	errno = 0;
	err = close_stream(o);
	if (err || o->dirfd < 0)
		goto out;
	if (!fstatat(o->dirfd, o->name, &st, AT_SYMLINK_NOFOLLOW) && !S_ISLNK(st.st_mode)) {
		err = type_refusal(st.st_mode);
		if (err)
			goto out;
	}
	if (fsync(o->fd)) {
		err = -errno;
		goto out;
	}
	err = close(o->fd) ? -errno : 0;
	o->fd = -1;
	if (err)
		goto out;
	if (renameat(o->dirfd, o->tmp, o->dirfd, o->name)) {
		err = -errno;
		goto out;
	}
	free(o->tmp);
	o->tmp = NULL;
out:
	safefile__discard(o);
	return err;
}

void safefile__discard(struct safefile_out *o)
{
	if (!o)
		return;
	close_stream(o);
	if (o->dirfd >= 0) {
		if (o->fd >= 0)
			close(o->fd);
		if (o->tmp)
			unlinkat(o->dirfd, o->tmp, 0);
		close(o->dirfd);
	}
	free(o->tmp);
	free(o->name);
	free(o);
}
