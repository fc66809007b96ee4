// SPDX-License-Identifier: MIT
/*
 * The upload spool: one file per PushRequest in a directory, named by a
 * 20-digit sequence number so that name order is age order, also across
 * restarts (a new sequence is max(now in ns, last + 1)).
 *
 * File: UPLOADER_ITEM_MAGIC, then one zstd frame (content size declared) of
 * the PushRequest body, which already holds the sample IDs, so a retry sends
 * the same bytes. Written to ".tmp-XXXXXX", fsync'ed, chmod 0600, renamed,
 * and the directory fsync'ed: a crash leaves either the whole item or a temp
 * file that the next open deletes.
 *
 * The index (sequence, bytes) is a sorted array, oldest first, guarded by a
 * mutex; file I/O for a new item happens outside it. Caps: cap_bytes of item
 * files and max_items items; over them the oldest items go first, except the
 * one the sender is busy with, and every deletion is counted and logged.
 * rejected/ keeps at most UPLOADER_MAX_REJECTED items, oldest deleted.
 *
 * Anything that lands in the spool is sent with our credentials, so the
 * spool and rejected/ must be our own folders that no one else can write,
 * every access goes through their fds (openat/unlinkat/renameat, temporary
 * files made there with O_EXCL|O_NOFOLLOW), and only regular files of ours
 * are items: a symlink, special file or other user's file named like one is
 * skipped and counted.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "push.pb-c.h"
#include "uploader_internal.h"

#define SEQ_DIGITS 20
#define NAME_LEN   (SEQ_DIGITS + sizeof(UPLOADER_ITEM_SUFFIX) - 1)
#define MAGIC_LEN  8
#define ZSTD_LEVEL 3

struct spool_item {
	uint64_t seq;
	uint64_t bytes;
};

struct uploader_spool {
	char *dir;
	int dir_fd;
	uint64_t cap_bytes;
	size_t max_items;
	uploader_log_fn log;
	void *log_ctx;

	pthread_mutex_t lock;
	struct spool_item *items; /* sorted by seq, oldest first */
	size_t nr_items, items_cap;
	uint64_t bytes;
	uint64_t last_seq;
	uint64_t busy_seq; /* 0: none */
	uint64_t dropped;
	uint64_t rejected_evicted;
	uint64_t refused;
};

/* 0 when the folder open at fd is ours and no one else can write it; -EPERM / -EACCES. */
static int check_own_dir(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (st.st_uid != geteuid())
		return -EPERM;
	return st.st_mode & (S_IWGRP | S_IWOTH) ? -EACCES : 0;
}

/* True for a regular file of ours: the only thing that is ever read as an item. */
static bool own_file(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid();
}

static void item_name(uint64_t seq, char name[NAME_LEN + 1])
{
	snprintf(name, NAME_LEN + 1, "%020" PRIu64 UPLOADER_ITEM_SUFFIX, seq);
}

/* "00000000001763770000.push.zst" -> 1763770000. False for any other name. */
static bool parse_item_name(const char *name, uint64_t *ret_seq)
{
	uint64_t v = 0;
	size_t i;

	if (strlen(name) != NAME_LEN || strcmp(name + SEQ_DIGITS, UPLOADER_ITEM_SUFFIX))
		return false;
	for (i = 0; i < SEQ_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(name[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (!v)
		return false;
	*ret_seq = v;
	return true;
}

static int cmp_item(const void *a, const void *b)
{
	const struct spool_item *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int items_reserve(struct uploader_spool *s, size_t extra)
{
	struct spool_item *n;
	size_t cap;

	if (s->nr_items + extra <= s->items_cap)
		return 0;
	cap = s->items_cap ? s->items_cap * 2 : 64;
	while (cap < s->nr_items + extra)
		cap *= 2;
	if (cap > SIZE_MAX / sizeof(*n))
		return -ENOMEM;
	n = realloc(s->items, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->items = n;
	s->items_cap = cap;
	return 0;
}

static void remove_index(struct uploader_spool *s, size_t i)
{
	s->bytes -= s->items[i].bytes;
	memmove(&s->items[i], &s->items[i + 1], (s->nr_items - i - 1) * sizeof(s->items[0]));
	s->nr_items--;
}

/* Drops the oldest items, sparing the busy one, while over a cap. Under s->lock. */
static void evict_locked(struct uploader_spool *s)
{
	char name[NAME_LEN + 1];
	size_t i = 0;

	while ((s->bytes > s->cap_bytes || s->nr_items > s->max_items) && i < s->nr_items) {
		if (s->items[i].seq == s->busy_seq) {
			i++;
			continue;
		}
		item_name(s->items[i].seq, name);
		if (unlinkat(s->dir_fd, name, 0) && errno != ENOENT)
			uploader__logf(s->log, s->log_ctx, UPLOADER_LOG_WARN,
				       "cannot delete spool item '%s/%s': %s", s->dir, name,
				       strerror(errno));
		uploader__logf(s->log, s->log_ctx, UPLOADER_LOG_WARN,
			       "upload spool '%s' full (%" PRIu64 " bytes, %zu items): dropped "
			       "the oldest item %s (%" PRIu64 " bytes, never sent)",
			       s->dir, s->bytes, s->nr_items, name, s->items[i].bytes);
		remove_index(s, i);
		s->dropped++;
	}
}

static int scan(struct uploader_spool *s)
{
	struct dirent *de;
	struct stat st;
	uint64_t seq;
	DIR *d;
	int fd, err = 0;

	fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, ".tmp-", 5)) {
			unlinkat(s->dir_fd, de->d_name, 0);
			continue;
		}
		if (!parse_item_name(de->d_name, &seq))
			continue;
		if (fstatat(s->dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (!own_file(&st)) {
			s->refused++;
			continue;
		}
		err = items_reserve(s, 1);
		if (err)
			goto out_close;
		s->items[s->nr_items].seq = seq;
		s->items[s->nr_items].bytes = (uint64_t)st.st_size;
		s->nr_items++;
		s->bytes += (uint64_t)st.st_size;
		if (seq > s->last_seq)
			s->last_seq = seq;
	}
	if (s->nr_items)
		qsort(s->items, s->nr_items, sizeof(s->items[0]), cmp_item);
	if (s->refused)
		uploader__logf(s->log, s->log_ctx, UPLOADER_LOG_WARN,
			       "upload spool '%s': %" PRIu64
			       " entries named like requests are symlinks, special files or other "
			       "users' files, ignoring",
			       s->dir, s->refused);
out_close:
	closedir(d);
	return err;
}

struct uploader_spool *uploader_spool__open(const char *dir, uint64_t cap_bytes, size_t max_items,
					    uploader_log_fn log, void *log_ctx)
{
	struct uploader_spool *s;
	int err = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dir_fd = -1;
	s->cap_bytes = cap_bytes;
	s->max_items = max_items ? max_items : 1;
	s->log = log;
	s->log_ctx = log_ctx;
	pthread_mutex_init(&s->lock, NULL);
	s->dir = strdup(dir);
	if (!s->dir) {
		err = -ENOMEM;
		goto out_free;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		goto out_free;
	}
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->dir_fd < 0) {
		err = errno == ELOOP ? -ENOTDIR : -errno;
		goto out_free;
	}
	err = check_own_dir(s->dir_fd);
	if (err)
		goto out_free;
	err = scan(s);
	if (err)
		goto out_free;
	evict_locked(s);
	return s;

out_free:
	uploader_spool__free(s);
	errno = -err;
	return NULL;
}

void uploader_spool__free(struct uploader_spool *s)
{
	if (!s)
		return;
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->items);
	free(s->dir);
	free(s);
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Creates ".tmp-XXXXXX" (random) in the folder at dir_fd, 0600, never
 * through a name another user could have planted. Returns the fd or -errno.
 */
static int create_temp(int dir_fd, char name[sizeof(".tmp-XXXXXX")])
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	int tries, i, fd;

	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		memcpy(name, ".tmp-", 5);
		for (i = 0; i < 6; i++)
			name[5 + i] = chars[rnd[i] % (sizeof(chars) - 1)];
		name[11] = '\0';
		fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int uploader_spool__add(struct uploader_spool *s, const uint8_t *body, size_t len,
			uint64_t *ret_seq)
{
	char tmp[sizeof(".tmp-XXXXXX")], name[NAME_LEN + 1];
	uint8_t *buf = NULL;
	size_t bound, zlen, i;
	uint64_t seq;
	int fd = -1, err = 0;

	bound = ZSTD_compressBound(len);
	if (ZSTD_isError(bound) || bound > SIZE_MAX - MAGIC_LEN)
		return -EFBIG;
	buf = malloc(MAGIC_LEN + bound);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, UPLOADER_ITEM_MAGIC, MAGIC_LEN);
	zlen = ZSTD_compress(buf + MAGIC_LEN, bound, body, len, ZSTD_LEVEL);
	if (ZSTD_isError(zlen)) {
		err = -EIO;
		goto out_free;
	}
	zlen += MAGIC_LEN;
	if (zlen > s->cap_bytes) {
		pthread_mutex_lock(&s->lock);
		s->dropped++;
		pthread_mutex_unlock(&s->lock);
		uploader__logf(s->log, s->log_ctx, UPLOADER_LOG_WARN,
			       "upload of %zu bytes is larger than the whole spool (%" PRIu64
			       " bytes): dropped",
			       zlen, s->cap_bytes);
		err = -EFBIG;
		goto out_free;
	}
	fd = create_temp(s->dir_fd, tmp);
	if (fd < 0) {
		err = fd;
		goto out_free;
	}
	err = write_all(fd, buf, zlen);
	if (!err && fchmod(fd, 0600))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	fd = -1;
	if (err)
		goto out_unlink;

	pthread_mutex_lock(&s->lock);
	seq = now_ns();
	if (seq <= s->last_seq)
		seq = s->last_seq + 1;
	item_name(seq, name);
	err = items_reserve(s, 1);
	if (!err && renameat(s->dir_fd, tmp, s->dir_fd, name))
		err = -errno;
	if (err) {
		pthread_mutex_unlock(&s->lock);
		goto out_unlink;
	}
	s->last_seq = seq;
	/* Appended: seq is the largest, so the array stays sorted. */
	i = s->nr_items++;
	s->items[i].seq = seq;
	s->items[i].bytes = zlen;
	s->bytes += zlen;
	evict_locked(s);
	pthread_mutex_unlock(&s->lock);
	fsync(s->dir_fd);
	*ret_seq = seq;
	goto out_free;

out_unlink:
	unlinkat(s->dir_fd, tmp, 0);
out_free:
	free(buf);
	return err;
}

int uploader_spool__take_oldest(struct uploader_spool *s, uint64_t *ret_seq)
{
	int err = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if (s->nr_items) {
		s->busy_seq = s->items[0].seq;
		*ret_seq = s->busy_seq;
		err = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

void uploader_spool__release(struct uploader_spool *s)
{
	pthread_mutex_lock(&s->lock);
	s->busy_seq = 0;
	evict_locked(s);
	pthread_mutex_unlock(&s->lock);
}

static ssize_t find_locked(struct uploader_spool *s, uint64_t seq)
{
	size_t lo = 0, hi = s->nr_items, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->items[mid].seq == seq)
			return (ssize_t)mid;
		if (s->items[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int uploader_spool__read(struct uploader_spool *s, uint64_t seq, uint8_t **ret_body,
			 size_t *ret_len)
{
	char name[NAME_LEN + 1];
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	item_name(seq, name);
	fd = openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	if (fstat(fd, &st) || !own_file(&st) ||
	    (uint64_t)st.st_size > ZSTD_compressBound(UPLOADER_MAX_ITEM) + MAGIC_LEN) {
		err = -EBADMSG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out_close;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = -EBADMSG;
			goto out_free;
		}
		len += (size_t)n;
	}
	err = uploader_item__decode(buf, len, ret_body, ret_len);
out_free:
	free(buf);
out_close:
	close(fd);
	return err;
}

int uploader_spool__remove(struct uploader_spool *s, uint64_t seq)
{
	char name[NAME_LEN + 1];
	ssize_t i;
	int err = 0;

	item_name(seq, name);
	pthread_mutex_lock(&s->lock);
	i = find_locked(s, seq);
	if (i < 0) {
		err = -ENOENT;
		goto out_unlock;
	}
	if (unlinkat(s->dir_fd, name, 0) && errno != ENOENT) {
		err = -errno;
		goto out_unlock;
	}
	remove_index(s, (size_t)i);
out_unlock:
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Deletes the oldest items of rejected/ beyond UPLOADER_MAX_REJECTED. */
static void trim_rejected(struct uploader_spool *s, int rej_fd)
{
	uint64_t seqs[UPLOADER_MAX_REJECTED * 2], seq;
	char name[NAME_LEN + 1];
	struct dirent *de;
	size_t nr = 0, i;
	DIR *d;
	int fd;

	fd = openat(rej_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!parse_item_name(de->d_name, &seq))
			continue;
		if (nr == sizeof(seqs) / sizeof(seqs[0])) {
			/* Keep the newest half seen so far; the rest go. */
			qsort(seqs, nr, sizeof(seqs[0]), cmp_u64);
			for (i = 0; i < nr - UPLOADER_MAX_REJECTED; i++) {
				item_name(seqs[i], name);
				if (!unlinkat(rej_fd, name, 0))
					s->rejected_evicted++;
			}
			memmove(seqs, seqs + nr - UPLOADER_MAX_REJECTED,
				UPLOADER_MAX_REJECTED * sizeof(seqs[0]));
			nr = UPLOADER_MAX_REJECTED;
		}
		seqs[nr++] = seq;
	}
	closedir(d);
	if (nr <= UPLOADER_MAX_REJECTED)
		return;
	qsort(seqs, nr, sizeof(seqs[0]), cmp_u64);
	for (i = 0; i < nr - UPLOADER_MAX_REJECTED; i++) {
		item_name(seqs[i], name);
		if (!unlinkat(rej_fd, name, 0))
			s->rejected_evicted++;
	}
}

int uploader_spool__reject(struct uploader_spool *s, uint64_t seq)
{
	char name[NAME_LEN + 1];
	int rej_fd = -1, err = 0;
	ssize_t i;

	item_name(seq, name);
	pthread_mutex_lock(&s->lock);
	i = find_locked(s, seq);
	if (i < 0) {
		err = -ENOENT;
		goto out_unlock;
	}
	if (mkdirat(s->dir_fd, UPLOADER_REJECTED, 0700) && errno != EEXIST) {
		err = -errno;
		goto out_unlock;
	}
	rej_fd = openat(s->dir_fd, UPLOADER_REJECTED,
			O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rej_fd < 0) {
		err = -errno;
		goto out_unlock;
	}
	err = check_own_dir(rej_fd);
	if (err)
		goto out_close;
	if (renameat(s->dir_fd, name, rej_fd, name) && errno != ENOENT) {
		err = -errno;
		goto out_close;
	}
	remove_index(s, (size_t)i);
	trim_rejected(s, rej_fd);
out_close:
	close(rej_fd);
out_unlock:
	pthread_mutex_unlock(&s->lock);
	return err;
}

void uploader_spool__usage(struct uploader_spool *s, struct uploader_spool_usage *ret)
{
	pthread_mutex_lock(&s->lock);
	ret->bytes = s->bytes;
	ret->items = s->nr_items;
	ret->dropped = s->dropped;
	ret->rejected_evicted = s->rejected_evicted;
	ret->refused = s->refused;
	pthread_mutex_unlock(&s->lock);
}

int uploader_item__decode(const uint8_t *data, size_t len, uint8_t **ret_body, size_t *ret_len)
{
	Push__V1__PushRequest *req = NULL;
	unsigned long long size;
	uint8_t *body = NULL;
	size_t got, i, j;
	int err = 0;

	if (len < MAGIC_LEN || memcmp(data, UPLOADER_ITEM_MAGIC, MAGIC_LEN))
		return -EBADMSG;
	data += MAGIC_LEN;
	len -= MAGIC_LEN;
	size = ZSTD_getFrameContentSize(data, len);
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
	    size > UPLOADER_MAX_ITEM || !size)
		return -EBADMSG;
	/* Exactly one frame: trailing bytes mean a damaged or foreign file. */
	if (ZSTD_findFrameCompressedSize(data, len) != len)
		return -EBADMSG;
	body = malloc((size_t)size);
	if (!body)
		return -ENOMEM;
	got = ZSTD_decompress(body, (size_t)size, data, len);
	if (ZSTD_isError(got) || got != size) {
		err = -EBADMSG;
		goto out_free;
	}
	req = push__v1__push_request__unpack(NULL, got, body);
	if (!req || !req->n_series) {
		err = -EBADMSG;
		goto out_free;
	}
	for (i = 0; i < req->n_series; i++) {
		if (!req->series[i]->n_samples) {
			err = -EBADMSG;
			goto out_free;
		}
		for (j = 0; j < req->series[i]->n_samples; j++) {
			if (!req->series[i]->samples[j]->id || !req->series[i]->samples[j]->id[0]) {
				err = -EBADMSG;
				goto out_free;
			}
		}
	}
	*ret_body = body;
	*ret_len = got;
	body = NULL;
out_free:
	if (req)
		push__v1__push_request__free_unpacked(req, NULL);
	free(body);
	return err;
}
