// SPDX-License-Identifier: MIT
/*
 * The local store: partition paths, retention, listing by time, status file.
 *
 * Layout: DIR/YYYY-MM-DD/HH/smolder-<host>-<YYYYmmddTHHMMSSZ>.pb.gz, all UTC.
 * The name carries the window's start, so ordering, retention and time
 * queries never open a profile. Folders are walked through file descriptors
 * (openat with O_NOFOLLOW, fstatat with AT_SYMLINK_NOFOLLOW, unlinkat), so a
 * symlink planted inside the store is never followed; the store directory
 * itself must be a real directory owned by the agent's user.
 *
 * A walk collects at most STORE_MAX_FILES windows (a week of one-second
 * windows fits); beyond that files are skipped and counted, never guessed at.
 * Folders whose name is not a day or an hour, and files that are neither a
 * window nor a temporary ".NAME.XXXXXX" of one, are left alone: the store may
 * share its directory with the status file and whatever an operator put there.
 */
#define _GNU_SOURCE /* timegm() */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "readfile.h"
#include "safefile.h"
#include "store.h"

#define NSEC_PER_SEC	   1000000000LL
#define STORE_MAX_HOST	   64
#define STORE_STATUS_MAX   (64 << 10)
#define STORE_NAME_PREFIX  "smolder-"
#define STORE_NAME_SUFFIX  ".pb.gz"
#define STORE_STAMP_LEN	   16 /* YYYYmmddTHHMMSSZ */
#define STORE_DIR_MODE	   0750
#define STORE_MAX_SYMLINKS 40 /* followed while resolving a directory, as the kernel does */

struct store {
	char *dir;
	int dirfd;
};

struct store_entry {
	char *rel; /* "YYYY-MM-DD/HH/name" */
	int64_t time_nanos; /* window start, or mtime of a temporary file */
	uint64_t bytes;
};

struct entry_list {
	struct store_entry *v;
	size_t nr, cap;
	uint64_t skipped;
};

struct walk {
	int64_t lo, hi; /* windows starting in [lo, hi) */
	bool stat_files; /* sizes of windows, mtime and size of temporary files */
	struct entry_list windows;
	struct entry_list temps; /* only when stat_files */
	uint64_t refused; /* symlinks, special files, folders of others: skipped */
};

/* Root and the agent's own user: nobody else may have made or be able to change a thing. */
static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static void entry_list__free(struct entry_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		free(l->v[i].rel);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Takes ownership of rel. */
static int entry_list__add(struct entry_list *l, char *rel, int64_t time_nanos, uint64_t bytes)
{
	struct store_entry *v;
	size_t cap;

	if (l->nr >= STORE_MAX_FILES) {
		free(rel);
		l->skipped++;
		return 0;
	}
	if (l->nr == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			free(rel);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->nr].rel = rel;
	l->v[l->nr].time_nanos = time_nanos;
	l->v[l->nr].bytes = bytes;
	l->nr++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct store_entry *x = a, *y = b;

	if (x->time_nanos != y->time_nanos)
		return x->time_nanos < y->time_nanos ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

/* Exactly n digits at s, as a number. */
static bool digits(const char *s, int n, int *ret)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* Unix seconds of a UTC date and time, rejecting dates that do not exist. */
static bool utc_seconds(int year, int mon, int day, int hour, int min, int sec, int64_t *ret)
{
	struct tm tm = {}, back;
	time_t t;

	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
	    sec > 59)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm() normalizes Feb 30 into March: a round trip catches it. */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != day ||
	    back.tm_mon != mon - 1)
		return false;
	*ret = (int64_t)t;
	return true;
}

/* "YYYY-MM-DD" -> unix seconds of its midnight. */
static bool parse_day(const char *name, int64_t *ret)
{
	int y, m, d;

	return strlen(name) == 10 && digits(name, 4, &y) && name[4] == '-' &&
	       digits(name + 5, 2, &m) && name[7] == '-' && digits(name + 8, 2, &d) &&
	       utc_seconds(y, m, d, 0, 0, 0, ret);
}

/* "HH" -> the hour. */
static bool parse_hour(const char *name, int *ret)
{
	return strlen(name) == 2 && digits(name, 2, ret) && *ret < 24;
}

bool store__parse_name(const char *name, int64_t *ret_nanos)
{
	size_t len = strlen(name), pre = strlen(STORE_NAME_PREFIX), suf = strlen(STORE_NAME_SUFFIX);
	const char *st;
	int y, mo, d, h, mi, s;
	int64_t secs;

	/* At least one byte of host between the prefix and "-STAMP". */
	if (len < pre + 1 + 1 + STORE_STAMP_LEN + suf)
		return false;
	if (strncmp(name, STORE_NAME_PREFIX, pre) || strcmp(name + len - suf, STORE_NAME_SUFFIX))
		return false;
	st = name + len - suf - STORE_STAMP_LEN;
	if (st[-1] != '-' || !digits(st, 4, &y) || !digits(st + 4, 2, &mo) ||
	    !digits(st + 6, 2, &d) || st[8] != 'T' || !digits(st + 9, 2, &h) ||
	    !digits(st + 11, 2, &mi) || !digits(st + 13, 2, &s) || st[15] != 'Z')
		return false;
	if (!utc_seconds(y, mo, d, h, mi, s, &secs))
		return false;
	*ret_nanos = secs * NSEC_PER_SEC;
	return true;
}

/* ".smolder-....pb.gz.XXXXXX": what pprof_builder__write_file() leaves on a crash. */
static bool is_temp_name(const char *name)
{
	const char *suffix;
	size_t len = strlen(name);

	if (name[0] != '.' || strncmp(name + 1, STORE_NAME_PREFIX, strlen(STORE_NAME_PREFIX)))
		return false;
	if (len < 1 + strlen(STORE_NAME_SUFFIX) + 7)
		return false;
	suffix = name + len - 7;
	return suffix[0] == '.' && !strncmp(suffix - strlen(STORE_NAME_SUFFIX), STORE_NAME_SUFFIX,
					    strlen(STORE_NAME_SUFFIX));
}

static char *join3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *p = malloc(la + lb + lc + 3);

	if (!p)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb);
	p[la + 1 + lb] = '/';
	memcpy(p + la + lb + 2, c, lc + 1);
	return p;
}

/*
 * Opens a sub-folder of the store without following a symlink, and only
 * when root or we own it and no one else can write it. -errno otherwise:
 * -ELOOP for a symlink, -ENOTDIR, -EPERM, -EACCES.
 */
static int open_subdir(int dirfd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR && !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
				       S_ISLNK(st.st_mode) ?
			       -ELOOP :
			       -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -EIO;
	}
	if (!trusted_owner(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return trusted_owner(st.st_uid) ? -EACCES : -EPERM;
	}
	return fd;
}

/*
 * A DIR stream on a dup of fd. The dup shares fd's offset, which an earlier
 * walk left at the end: rewind, or the second pass sees an empty folder.
 */
static DIR *opendir_at(int fd)
{
	DIR *d;
	int dup_fd;

	dup_fd = dup(fd);
	if (dup_fd < 0)
		return NULL;
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

static int walk_hour(struct walk *w, int hourfd, const char *day, const char *hour)
{
	struct dirent *de;
	struct stat st;
	int64_t t;
	char *rel;
	DIR *d;
	int err = 0;

	d = opendir_at(hourfd);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		bool window = store__parse_name(de->d_name, &t);

		if (!window && !(w->stat_files && is_temp_name(de->d_name)))
			continue;
		if (window && (t < w->lo || t >= w->hi))
			continue;
		if (fstatat(hourfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue; /* gone meanwhile */
		/* Named like ours but not a file of ours: never followed, never deleted. */
		if (!S_ISREG(st.st_mode) || !trusted_owner(st.st_uid)) {
			w->refused++;
			continue;
		}
		rel = join3(day, hour, de->d_name);
		if (!rel) {
			err = -ENOMEM;
			break;
		}
		if (window)
			err = entry_list__add(&w->windows, rel, t, (uint64_t)st.st_size);
		else
			err = entry_list__add(&w->temps, rel,
					      (int64_t)st.st_mtim.tv_sec * NSEC_PER_SEC +
						      st.st_mtim.tv_nsec,
					      (uint64_t)st.st_size);
	}
	closedir(d);
	return err;
}

static int walk_day(struct walk *w, int dayfd, const char *day, int64_t day_start)
{
	struct dirent *de;
	int64_t hour_start;
	DIR *d;
	int err = 0, fd, hour;

	d = opendir_at(dayfd);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		if (!parse_hour(de->d_name, &hour))
			continue;
		hour_start = (day_start + hour * 3600) * NSEC_PER_SEC;
		if (hour_start + 3600 * NSEC_PER_SEC <= w->lo || hour_start >= w->hi)
			continue;
		fd = open_subdir(dayfd, de->d_name);
		if (fd < 0) {
			w->refused += fd != -ENOENT;
			continue;
		}
		err = walk_hour(w, fd, day, de->d_name);
		close(fd);
	}
	closedir(d);
	return err;
}

static int walk_store(struct walk *w, int dirfd)
{
	struct dirent *de;
	int64_t day_start;
	DIR *d;
	int err = 0, fd;

	d = opendir_at(dirfd);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		if (!parse_day(de->d_name, &day_start))
			continue;
		if ((day_start + 86400) * NSEC_PER_SEC <= w->lo ||
		    day_start * NSEC_PER_SEC >= w->hi)
			continue;
		fd = open_subdir(dirfd, de->d_name);
		if (fd < 0) {
			w->refused += fd != -ENOENT;
			continue;
		}
		err = walk_day(w, fd, de->d_name, day_start);
		close(fd);
	}
	closedir(d);
	if (!err && w->windows.nr)
		qsort(w->windows.v, w->windows.nr, sizeof(*w->windows.v), entry_cmp);
	return err;
}

static void walk__free(struct walk *w)
{
	entry_list__free(&w->windows);
	entry_list__free(&w->temps);
}

/* ---- trusted directories ---- */

/* What store__open_dir() found wrong, for store__format_dir_error(). */
struct dir_fault {
	char path[PATH_MAX]; /* the directory at fault, as resolved */
	bool is_target; /* it is the directory asked for, not a parent */
	mode_t mode;
	uid_t uid;
};

/*
 * Checks the directory open at fd (st from fstat()): 0, or -EPERM / -EACCES
 * with fault filled. The target must be the effective user's and writable by
 * no one else; a parent may be root's too, and writable by others only when
 * sticky (then nobody else can rename or delete our entry in it).
 */
static int check_dir(const struct stat *st, bool is_target, const char *shown, struct dir_fault *f)
{
	int err = 0;

	if (is_target ? st->st_uid != geteuid() : !trusted_owner(st->st_uid))
		err = -EPERM;
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) && (is_target || !(st->st_mode & S_ISVTX)))
		err = -EACCES;
	if (err) {
		snprintf(f->path, sizeof(f->path), "%s", *shown ? shown : "/");
		f->is_target = is_target;
		f->mode = st->st_mode & 07777;
		f->uid = st->st_uid;
	}
	return err;
}

/* Names shown/comp (a symlink) as the fault; the message may cut a long path. */
static void set_fault(struct dir_fault *f, const char *shown, const char *comp, bool is_target,
		      const struct stat *st)
{
	if (snprintf(f->path, sizeof(f->path), "%s/%s", shown, comp) >= (int)sizeof(f->path))
		memcpy(f->path + sizeof(f->path) - 4, "...", 4);
	f->is_target = is_target;
	f->mode = st->st_mode & 07777;
	f->uid = st->st_uid;
}

/* The next component of *rest (skipping empty and "." ones) into comp; false when none. */
static bool next_component(const char **rest, char *comp, size_t len)
{
	const char *p = *rest;
	size_t n;

	for (;;) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n) {
			*rest = p;
			return false;
		}
		if (n == 1 && p[0] == '.') {
			p++;
			continue;
		}
		break;
	}
	if (n >= len)
		n = len - 1; /* never: comp holds a whole path */
	memcpy(comp, p, n);
	comp[n] = '\0';
	*rest = p + strcspn(p, "/");
	return true;
}

static bool last_component(const char *rest)
{
	char comp[PATH_MAX];

	return !next_component(&rest, comp, sizeof(comp));
}

/*
 * Walks dir from "/" one component at a time through directory fds
 * (O_NOFOLLOW), checking each (check_dir()), creating missing ones with mode
 * when create. A symlink before the last component is followed only when
 * root or we own it (its folder is already checked, so no one else placed
 * it); a final symlink is refused. Returns the fd of dir or -errno.
 */
static int walk_dir(const char *dir, bool create, mode_t mode, struct dir_fault *f)
{
	char path[PATH_MAX], next[PATH_MAX], shown[PATH_MAX], comp[PATH_MAX];
	char target[PATH_MAX];
	int fd, nfd, err = 0, links = 0;
	const char *rest;
	struct stat st;
	size_t len;
	ssize_t n;
	bool last;

	if (!dir || !*dir)
		return -EINVAL;
	if (dir[0] == '/') {
		len = (size_t)snprintf(path, sizeof(path), "%s", dir);
	} else {
		if (!getcwd(next, sizeof(next)))
			return -errno;
		len = (size_t)snprintf(path, sizeof(path), "%s/%s", next, dir);
	}
	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	shown[0] = '\0';
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	rest = path;
	err = check_dir(&st, last_component(rest), shown, f);
	while (!err && next_component(&rest, comp, sizeof(comp))) {
		last = last_component(rest);
		if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW)) {
			if (errno != ENOENT || !create) {
				err = -errno;
				break;
			}
			if (mkdirat(fd, comp, mode) && errno != EEXIST) {
				err = -errno;
				break;
			}
		} else if (S_ISLNK(st.st_mode)) {
			if (last || !trusted_owner(st.st_uid) || ++links > STORE_MAX_SYMLINKS) {
				err = !last && !trusted_owner(st.st_uid) ? -EPERM : -ELOOP;
				set_fault(f, shown, comp, last, &st);
				break;
			}
			n = readlinkat(fd, comp, target, sizeof(target) - 1);
			if (n < 0) {
				err = -errno;
				break;
			}
			target[n] = '\0';
			len = (size_t)snprintf(next, sizeof(next), "%s/%s", target, rest);
			if (len >= sizeof(next)) {
				err = -ENAMETOOLONG;
				break;
			}
			memcpy(path, next, len + 1);
			rest = path;
			if (target[0] == '/') {
				close(fd);
				shown[0] = '\0';
				fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (fd < 0)
					return -errno;
			}
			continue;
		}
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			err = -errno;
			break;
		}
		close(fd);
		fd = nfd;
		len = strlen(shown);
		if (len + 1 + strlen(comp) >= sizeof(shown)) {
			err = -ENAMETOOLONG;
			break;
		}
		shown[len] = '/';
		memcpy(shown + len + 1, comp, strlen(comp) + 1);
		if (fstat(fd, &st)) {
			err = -errno;
			break;
		}
		err = check_dir(&st, last, shown, f);
	}
out:
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int store__open_dir(const char *dir, bool create, mode_t mode)
{
	struct dir_fault f;

	return walk_dir(dir, create, mode, &f);
}

void store__format_dir_error(const char *what, const char *option, mode_t mode, const char *dir,
			     int err, char *buf, size_t len)
{
	struct dir_fault f = {};
	int fd;

	/* Walked again (creating nothing) to name the culprit: a parent, maybe. */
	fd = walk_dir(dir, false, 0, &f);
	if (fd >= 0)
		close(fd);
	else if (fd != -err)
		f.path[0] = '\0';
	switch (err) {
	case ELOOP:
		snprintf(buf, len, "%s '%s' is a symlink; give a real directory with %s", what, dir,
			 option);
		break;
	case EPERM:
		if (f.path[0] && !f.is_target)
			snprintf(
				buf, len,
				"%s '%s': its parent '%s' is owned by another user (uid %u); give one whose parents only root or uid %u can change with %s",
				what, dir, f.path, (unsigned int)f.uid, (unsigned int)geteuid(),
				option);
		else
			snprintf(
				buf, len,
				"%s '%s' is owned by another user; chown it to uid %u or give another with %s",
				what, dir, (unsigned int)geteuid(), option);
		break;
	case EACCES:
		if (f.path[0] && !f.is_target)
			snprintf(
				buf, len,
				"%s '%s': its parent '%s' is writable by others (mode %04o); chmod go-w it or give another with %s",
				what, dir, f.path, (unsigned int)f.mode, option);
		else if (f.path[0])
			snprintf(
				buf, len,
				"%s '%s' is writable by others (mode %04o); chmod %04o it or give another with %s",
				what, dir, (unsigned int)f.mode, (unsigned int)mode, option);
		else
			snprintf(
				buf, len,
				"%s '%s' is writable by others; chmod %04o it or give another with %s",
				what, dir, (unsigned int)mode, option);
		break;
	case ENOTDIR:
		snprintf(buf, len, "%s '%s' is not a directory; give a directory with %s", what,
			 dir, option);
		break;
	default:
		snprintf(buf, len, "cannot open %s '%s': %s; give a writable directory with %s",
			 what, dir, strerror(err), option);
		break;
	}
}

void store__free(struct store *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	free(s);
}

struct store *store__open(const char *dir)
{
	struct store *s;
	int err;

	if (!dir || !*dir) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dirfd = -1;
	s->dir = strdup(dir);
	if (!s->dir) {
		err = ENOMEM;
		goto out_free;
	}
	s->dirfd = store__open_dir(dir, true, STORE_DIR_MODE);
	if (s->dirfd < 0) {
		err = -s->dirfd;
		goto out_free;
	}
	return s;

out_free:
	store__free(s);
	errno = err;
	return NULL;
}

const char *store__dir(const struct store *s)
{
	return s->dir;
}

void store__format_error(const char *dir, int err, char *buf, size_t len)
{
	store__format_dir_error("store directory", "--store", STORE_DIR_MODE, dir, err, buf, len);
}

/* Keeps [A-Za-z0-9._-] of host, replaces the rest with '_', caps the length. */
static void sanitize_host(const char *host, char *out, size_t outlen)
{
	size_t i;

	if (!host || !*host)
		host = "localhost";
	for (i = 0; host[i] && i < outlen - 1; i++) {
		unsigned char ch = (unsigned char)host[i];

		out[i] = (isalnum(ch) || ch == '.' || ch == '_' || ch == '-') ? (char)ch : '_';
	}
	out[i] = '\0';
}

int store__path(struct store *s, int64_t time_nanos, const char *host, char *buf, size_t len)
{
	char safe_host[STORE_MAX_HOST + 1], day[16], hour[8], stamp[24];
	int n, dayfd, hourfd, err = 0;
	time_t t;
	struct tm tm;

	if (!s || !buf || time_nanos < 0)
		return -EINVAL;
	t = (time_t)(time_nanos / NSEC_PER_SEC);
	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	strftime(hour, sizeof(hour), "%H", &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	sanitize_host(host, safe_host, sizeof(safe_host));
	n = snprintf(buf, len, "%s/%s/%s/smolder-%s-%s.pb.gz", s->dir, day, hour, safe_host, stamp);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	/* Each folder made and checked under the fd of its parent: never through a name. */
	if (mkdirat(s->dirfd, day, STORE_DIR_MODE) && errno != EEXIST)
		return -errno;
	dayfd = open_subdir(s->dirfd, day);
	if (dayfd < 0)
		return dayfd;
	if (mkdirat(dayfd, hour, STORE_DIR_MODE) && errno != EEXIST)
		err = -errno;
	hourfd = err ? -1 : open_subdir(dayfd, hour);
	if (!err && hourfd < 0)
		err = hourfd;
	if (hourfd >= 0)
		close(hourfd);
	close(dayfd);
	return err;
}

/* Removes empty hour and day folders that end before the current hour. */
static void remove_empty_folders(struct store *s, int64_t now_nanos)
{
	int64_t day_start, hour_end, now_s = now_nanos / NSEC_PER_SEC;
	struct dirent *de, *he;
	DIR *d, *hd;
	int fd, hour;

	d = opendir_at(s->dirfd);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!parse_day(de->d_name, &day_start))
			continue;
		fd = open_subdir(s->dirfd, de->d_name);
		if (fd < 0)
			continue;
		hd = fdopendir(fd);
		if (!hd) {
			close(fd);
			continue;
		}
		while ((he = readdir(hd))) {
			if (!parse_hour(he->d_name, &hour))
				continue;
			hour_end = day_start + (hour + 1) * 3600;
			if (hour_end > now_s - now_s % 3600)
				continue;
			/* Fails with ENOTEMPTY unless empty: that is the test. */
			unlinkat(dirfd(hd), he->d_name, AT_REMOVEDIR);
		}
		closedir(hd);
		if (day_start + 86400 <= now_s - now_s % 3600)
			unlinkat(s->dirfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static int delete_entry(struct store *s, struct store_entry *e, const char *why,
			store_delete_fn on_delete, void *ctx)
{
	char day[11], *path;
	int dayfd, hourfd, err = 0;

	/* rel is "YYYY-MM-DD/HH/name": the folders are opened (checked) one by one. */
	memcpy(day, e->rel, 10);
	day[10] = '\0';
	dayfd = open_subdir(s->dirfd, day);
	if (dayfd < 0)
		return dayfd == -ENOENT ? 0 : dayfd;
	e->rel[13] = '\0';
	hourfd = open_subdir(dayfd, e->rel + 11);
	e->rel[13] = '/';
	close(dayfd);
	if (hourfd < 0)
		return hourfd == -ENOENT ? 0 : hourfd;
	if (unlinkat(hourfd, e->rel + 14, 0) && errno != ENOENT)
		err = -errno;
	close(hourfd);
	if (err)
		return err;
	if (on_delete) {
		path = malloc(strlen(s->dir) + strlen(e->rel) + 2);
		if (path) {
			sprintf(path, "%s/%s", s->dir, e->rel);
			on_delete(path, e->bytes, why, ctx);
			free(path);
		} else {
			on_delete(e->rel, e->bytes, why, ctx);
		}
	}
	return 0;
}

int store__retention(struct store *s, int64_t now_nanos, uint64_t max_age_s, uint64_t max_bytes,
		     store_delete_fn on_delete, void *ctx, struct store_usage *ret_usage)
{
	struct walk w = {.lo = INT64_MIN, .hi = INT64_MAX, .stat_files = true};
	struct store_usage u = {};
	int64_t oldest_kept = INT64_MIN;
	uint64_t total = 0;
	const char *why;
	size_t i, kept = 0;
	int err, first_err = 0;

	if (!s)
		return -EINVAL;
	err = walk_store(&w, s->dirfd);
	if (err)
		goto out;
	if (max_age_s && max_age_s < (uint64_t)(INT64_MAX / NSEC_PER_SEC) &&
	    now_nanos > INT64_MIN + (int64_t)max_age_s * NSEC_PER_SEC)
		oldest_kept = now_nanos - (int64_t)max_age_s * NSEC_PER_SEC;
	for (i = 0; i < w.windows.nr; i++)
		total += w.windows.v[i].bytes;
	/* Oldest first; the newest window is kept even when it alone is over the size. */
	for (i = 0; i < w.windows.nr; i++) {
		struct store_entry *e = &w.windows.v[i];

		if (e->time_nanos < oldest_kept)
			why = "age";
		else if (max_bytes && total > max_bytes && i + 1 < w.windows.nr)
			why = "size";
		else
			break;
		err = delete_entry(s, e, why, on_delete, ctx);
		if (err) {
			if (!first_err)
				first_err = err;
			kept++;
			u.bytes += e->bytes;
			continue;
		}
		total -= e->bytes;
		u.deleted++;
	}
	for (; i < w.windows.nr; i++) {
		kept++;
		u.bytes += w.windows.v[i].bytes;
	}
	for (i = 0; i < w.temps.nr; i++) {
		struct store_entry *e = &w.temps.v[i];

		if (now_nanos - e->time_nanos < STORE_STALE_TEMP_S * NSEC_PER_SEC)
			continue;
		err = delete_entry(s, e, "stale temporary file", on_delete, ctx);
		if (err && !first_err)
			first_err = err;
		else if (!err)
			u.deleted++;
	}
	remove_empty_folders(s, now_nanos);
	u.files = kept;
	u.skipped = w.windows.skipped;
	u.refused = w.refused;
	if (ret_usage)
		*ret_usage = u;
	err = first_err;
out:
	walk__free(&w);
	return err;
}

void store__free_list(char **paths, size_t nr)
{
	size_t i;

	if (!paths)
		return;
	for (i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
}

int store__list(const char *dir, int64_t since_nanos, int64_t until_nanos, char ***ret_paths,
		size_t *ret_nr, uint64_t *ret_refused)
{
	struct walk w = {.lo = since_nanos, .hi = until_nanos};
	char **paths = NULL;
	size_t i, dir_len;
	int dirfd, err;

	if (!dir || !ret_paths || !ret_nr)
		return -EINVAL;
	if (w.lo > INT64_MIN + STORE_MAX_WINDOW_S * NSEC_PER_SEC)
		w.lo -= STORE_MAX_WINDOW_S * NSEC_PER_SEC;
	dirfd = store__open_dir(dir, false, 0);
	if (dirfd < 0)
		return dirfd;
	err = walk_store(&w, dirfd);
	if (err)
		goto out;
	if (w.windows.skipped) {
		err = -E2BIG;
		goto out;
	}
	paths = calloc(w.windows.nr ? w.windows.nr : 1, sizeof(*paths));
	if (!paths) {
		err = -ENOMEM;
		goto out;
	}
	dir_len = strlen(dir);
	for (i = 0; i < w.windows.nr; i++) {
		paths[i] = malloc(dir_len + strlen(w.windows.v[i].rel) + 2);
		if (!paths[i]) {
			store__free_list(paths, i);
			paths = NULL;
			err = -ENOMEM;
			goto out;
		}
		sprintf(paths[i], "%s/%s", dir, w.windows.v[i].rel);
	}
	*ret_paths = paths;
	*ret_nr = w.windows.nr;
	if (ret_refused)
		*ret_refused = w.refused;
out:
	walk__free(&w);
	close(dirfd);
	return err;
}

/* ---- status file ---- */

/* last_error and store_dir are single lines: newlines would forge keys. */
static void put_line(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s=", key);
	for (; *value; value++)
		fputc((*value == '\n' || *value == '\r') ? ' ' : *value, f);
	fputc('\n', f);
}

int store__write_status(const char *path, const struct agent_status *st)
{
	struct safefile_out *out;
	FILE *f;
	int err;

	if (!path || !*path || !st)
		return -EINVAL;
	err = safefile__create(path, 0640, &out, NULL);
	if (err)
		return err;
	f = safefile__stream(out);
	if (!f) {
		err = -errno;
		safefile__discard(out);
		return err;
	}
	fprintf(f, "# smolder agent status, rewritten after every window; see 'smolder status'\n");
	fprintf(f, "pid=%" PRId64 "\n", st->pid);
	fprintf(f, "started_ns=%" PRId64 "\n", st->started_nanos);
	fprintf(f, "updated_ns=%" PRId64 "\n", st->updated_nanos);
	fprintf(f, "windows_written=%" PRIu64 "\n", st->windows_written);
	fprintf(f, "last_window_ns=%" PRId64 "\n", st->last_window_nanos);
	fprintf(f, "samples=%" PRIu64 "\n", st->samples);
	fprintf(f, "lost_samples=%" PRIu64 "\n", st->lost_samples);
	fprintf(f, "processes=%" PRIu64 "\n", st->processes);
	fprintf(f, "symbolization_misses=%" PRIu64 "\n", st->symbolization_misses);
	fprintf(f, "cpu_seconds=%.3f\n", st->cpu_seconds);
	fprintf(f, "rss_bytes=%" PRIu64 "\n", st->rss_bytes);
	fprintf(f, "store_bytes=%" PRIu64 "\n", st->store_bytes);
	fprintf(f, "store_files=%" PRIu64 "\n", st->store_files);
	fprintf(f, "pending_windows=%" PRIu64 "\n", st->pending_windows);
	fprintf(f, "windows_dropped=%" PRIu64 "\n", st->windows_dropped);
	fprintf(f, "windows_dropped_store=%" PRIu64 "\n", st->windows_dropped_store);
	fprintf(f, "kernel_unavailable=%" PRIu64 "\n", st->kernel_unavailable);
	fprintf(f, "frames_over_budget=%" PRIu64 "\n", st->frames_over_budget);
	fprintf(f, "debug_too_large=%" PRIu64 "\n", st->debug_too_large);
	put_line(f, "store_dir", st->store_dir);
	put_line(f, "last_error", st->last_error);
	return safefile__commit(out);
}

enum status_kind {
	STATUS_I64,
	STATUS_U64
};

static const struct status_key {
	const char *key;
	size_t offset;
	enum status_kind kind;
} status_keys[] = {
	{"pid", offsetof(struct agent_status, pid), STATUS_I64},
	{"started_ns", offsetof(struct agent_status, started_nanos), STATUS_I64},
	{"updated_ns", offsetof(struct agent_status, updated_nanos), STATUS_I64},
	{"windows_written", offsetof(struct agent_status, windows_written), STATUS_U64},
	{"last_window_ns", offsetof(struct agent_status, last_window_nanos), STATUS_I64},
	{"samples", offsetof(struct agent_status, samples), STATUS_U64},
	{"lost_samples", offsetof(struct agent_status, lost_samples), STATUS_U64},
	{"processes", offsetof(struct agent_status, processes), STATUS_U64},
	{"symbolization_misses", offsetof(struct agent_status, symbolization_misses), STATUS_U64},
	{"rss_bytes", offsetof(struct agent_status, rss_bytes), STATUS_U64},
	{"store_bytes", offsetof(struct agent_status, store_bytes), STATUS_U64},
	{"store_files", offsetof(struct agent_status, store_files), STATUS_U64},
	{"pending_windows", offsetof(struct agent_status, pending_windows), STATUS_U64},
	{"windows_dropped", offsetof(struct agent_status, windows_dropped), STATUS_U64},
	{"windows_dropped_store", offsetof(struct agent_status, windows_dropped_store), STATUS_U64},
	{"kernel_unavailable", offsetof(struct agent_status, kernel_unavailable), STATUS_U64},
	{"frames_over_budget", offsetof(struct agent_status, frames_over_budget), STATUS_U64},
	{"debug_too_large", offsetof(struct agent_status, debug_too_large), STATUS_U64},
};

static void parse_status_line(struct agent_status *st, char *line)
{
	char *eq = strchr(line, '='), *value;
	size_t i;

	if (line[0] == '#' || !eq)
		return;
	*eq = '\0';
	value = eq + 1;
	for (i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]); i++) {
		const struct status_key *k = &status_keys[i];
		int64_t i64;
		uint64_t u64;

		if (strcmp(line, k->key))
			continue;
		if (k->kind == STATUS_I64) {
			i64 = strtoll(value, NULL, 10);
			memcpy((char *)st + k->offset, &i64, sizeof(i64));
		} else {
			u64 = strtoull(value, NULL, 10);
			memcpy((char *)st + k->offset, &u64, sizeof(u64));
		}
		return;
	}
	if (!strcmp(line, "cpu_seconds"))
		st->cpu_seconds = strtod(value, NULL);
	else if (!strcmp(line, "store_dir"))
		snprintf(st->store_dir, sizeof(st->store_dir), "%s", value);
	else if (!strcmp(line, "last_error"))
		snprintf(st->last_error, sizeof(st->last_error), "%s", value);
}

int store__read_status(const char *path, struct agent_status *ret)
{
	struct agent_status st = {};
	char *buf, *line, *save = NULL;
	size_t len;
	int err;

	err = read_file_capped(path, STORE_STATUS_MAX, &buf, &len);
	if (err)
		return err;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		parse_status_line(&st, line);
	if (st.pid <= 0)
		err = -EBADMSG;
	else
		*ret = st;
	free(buf);
	return err;
}
