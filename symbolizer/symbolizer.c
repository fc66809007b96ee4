// SPDX-License-Identifier: MIT
/*
 * The symbolizer object: a cache of parsed ELF files and the public lookups.
 *
 * Files cache: parsed files (struct sym_elf_file, no fd kept) keyed by GNU
 * build-id, or by (dev, inode, size, mtime) when there is none. Two hash
 * tables index them: by that key, and by the (dev, inode, size, mtime) of
 * the file they were read from, so a file already parsed is recognised from
 * fstat() alone. One LRU list; inserting evicts from its cold end until
 * max_files and max_bytes hold again, never evicting the entry just used
 * (so a single file larger than max_bytes is still usable once).
 *
 * Bindings: (pid, mapping start, inode) -> file key, or the error met when
 * opening or parsing it, so that a sample costs two hash lookups and never
 * an open(). Capped at max_mappings, LRU. A binding that outlives its file
 * entry just reopens the file. Errors are remembered (not retried) except
 * resource exhaustion (ENOMEM, EMFILE, ENFILE).
 *
 * Files of other processes are opened through /proc/PID/map_files/ first,
 * then inside /proc/PID/root with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), and through the host path only when the process
 * is gone (then its inode must match the mapping's). Deleted files are only
 * reached through map_files. The vDSO is parsed once, from this process's
 * own image (the same in every process on this kernel).
 *
 * Debug info: the first time a file is parsed, its DWARF is looked for in
 * the file itself, then as a separate debug file (debuginfo.c: build-id,
 * .gnu_debuglink; inside the process's root first), then through
 * debuginfod when DEBUGINFOD_URLS is set (time-limited per query and in
 * total). The DWARF handle lives with the parsed file; its memory (the
 * sections libdw inflates included) grows as units are loaded, is
 * re-counted after every lookup and pushes colder files out of the cache.
 * A file whose compressed debug sections would inflate past
 * max_inflate_bytes keeps its symbols but no DWARF (dwarf_too_large). Names are demangled at lookup time into buffers
 * that live until the next call (so nothing is cached twice).
 *
 * kallsyms is loaded on the first kernel lookup; a failure is reported once.
 * Not thread-safe: one symbolizer per thread, or the caller's lock.
 */
#define _GNU_SOURCE /* O_PATH */
#include <elfutils/debuginfod.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "symbolizer_internal.h"

#define DEFAULT_MAX_FILES     256
#define DEFAULT_MAX_BYTES     (64u << 20)
#define DEFAULT_MAX_MAPPINGS  16384
#define DEFAULT_DEBUG_ROOT    "/usr/lib/debug"
#define DEFAULT_DEBUGINFOD_MS 5000
#define DEBUGINFOD_BUDGET     10 /* total debuginfod time, in per-query time limits */
#define MAX_BUCKETS	      (1u << 20)
#define OPEN_FLAGS	      (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
#define DELETED_SUFFIX	      " (deleted)"

#define KEY_BUILD_ID 1
#define KEY_STAT     2

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct lru_node {
	struct lru_node *prev;
	struct lru_node *next;
};

/* Compared with memcmp(): always built from a zeroed struct. */
struct file_key {
	uint8_t kind;
	uint8_t len;
	uint8_t data[32];
};

struct file_entry {
	struct lru_node lru;
	struct file_entry *key_next;
	struct file_entry *stat_next;
	struct file_key key;
	struct file_key stat_key;
	struct sym_elf_file *elf;
	size_t bytes; /* as counted in stats.bytes_cached */
	/* Where elf's DWARF is, kept open until an address of elf is looked up. */
	int debug_fd;
	enum sym_debug_source debug_source;
	uint64_t binary_bytes; /* the file's size: caps its debug file's */
};

struct binding {
	struct lru_node lru;
	struct binding *next;
	pid_t pid;
	uint64_t start;
	uint64_t inode;
	int err;
	struct file_key key;
};

struct symbolizer {
	size_t max_files;
	size_t max_bytes;
	size_t max_mappings;
	char *kallsyms_path;
	sym_log_fn log;
	void *log_ctx;

	struct file_entry **files_by_key;
	struct file_entry **files_by_stat;
	size_t file_buckets;
	struct lru_node files_lru;

	struct binding **bindings;
	size_t binding_buckets;
	struct lru_node bindings_lru;

	struct sym_kallsyms *ksyms;
	int ksyms_err;
	bool ksyms_reported;

	struct sym_elf_file *vdso;
	int vdso_err;

	char *debug_root;
	bool no_dwarf;
	bool no_inlines;
	size_t max_inflate_bytes;
	size_t max_unit_bytes;
	bool no_debuginfod;
	debuginfod_client *debuginfod;
	bool debuginfod_reported;
	uint64_t debuginfod_timeout_ms;
	uint64_t debuginfod_spent_ms;
	uint64_t debuginfod_deadline_ms;
	char *demangled[SYMBOLIZER_MAX_FRAMES]; /* names handed out by the last lookup */

	struct sym_perfmaps *perfmaps; /* JIT perf maps, perfmap.c */

	struct symbolizer_stats stats;
	int64_t deadline_mono_ns; /* 0: none; see symbolizer__set_deadline() */
};

__attribute__((format(printf, 3, 4))) static void
sym_log(struct symbolizer *s, enum sym_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s || !s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(level, msg, s->log_ctx);
}

static void lru_init(struct lru_node *head)
{
	head->prev = head;
	head->next = head;
}

static void lru_unlink(struct lru_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static void lru_push_front(struct lru_node *head, struct lru_node *n)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static void lru_touch(struct lru_node *head, struct lru_node *n)
{
	lru_unlink(n);
	lru_push_front(head, n);
}

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static size_t key_bucket(const struct symbolizer *s, const struct file_key *k)
{
	return hash_bytes(0xcbf29ce484222325ull, k, sizeof(*k)) & (s->file_buckets - 1);
}

static size_t binding_bucket(const struct symbolizer *s, pid_t pid, uint64_t start, uint64_t inode)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = hash_bytes(h, &pid, sizeof(pid));
	h = hash_bytes(h, &start, sizeof(start));
	h = hash_bytes(h, &inode, sizeof(inode));
	return h & (s->binding_buckets - 1);
}

static size_t bucket_count(size_t cap)
{
	size_t n = 16;

	while (n < MAX_BUCKETS && n < cap * 2)
		n *= 2;
	return n;
}

static void stat_key_from(const struct stat *st, struct file_key *ret)
{
	uint64_t v[4] = {(uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
			 (uint64_t)st->st_mtim.tv_sec * 1000000000ull +
				 (uint64_t)st->st_mtim.tv_nsec};

	memset(ret, 0, sizeof(*ret));
	ret->kind = KEY_STAT;
	ret->len = sizeof(v);
	memcpy(ret->data, v, sizeof(v));
}

static struct file_entry *file_find_by_key(struct symbolizer *s, const struct file_key *k)
{
	struct file_entry *e;

	for (e = s->files_by_key[key_bucket(s, k)]; e; e = e->key_next) {
		if (!memcmp(&e->key, k, sizeof(*k)))
			return e;
	}
	return NULL;
}

static struct file_entry *file_find_by_stat(struct symbolizer *s, const struct file_key *k)
{
	struct file_entry *e;

	for (e = s->files_by_stat[key_bucket(s, k)]; e; e = e->stat_next) {
		if (!memcmp(&e->stat_key, k, sizeof(*k)))
			return e;
	}
	return NULL;
}

static void file_evict(struct symbolizer *s, struct file_entry *e)
{
	struct file_entry **pp;

	for (pp = &s->files_by_key[key_bucket(s, &e->key)]; *pp; pp = &(*pp)->key_next) {
		if (*pp == e) {
			*pp = e->key_next;
			break;
		}
	}
	for (pp = &s->files_by_stat[key_bucket(s, &e->stat_key)]; *pp; pp = &(*pp)->stat_next) {
		if (*pp == e) {
			*pp = e->stat_next;
			break;
		}
	}
	lru_unlink(&e->lru);
	s->stats.elf_cached--;
	s->stats.bytes_cached -= e->bytes;
	if (e->debug_fd >= 0)
		close(e->debug_fd);
	sym_elf__free(e->elf);
	free(e);
}

/* Evicts from the cold end until the caps hold, never e (the entry in use). */
static void file_shrink(struct symbolizer *s, struct file_entry *e)
{
	struct file_entry *cold;

	while ((s->stats.elf_cached > s->max_files || s->stats.bytes_cached > s->max_bytes) &&
	       s->files_lru.prev != &e->lru) {
		cold = container_of(s->files_lru.prev, struct file_entry, lru);
		file_evict(s, cold);
		s->stats.elf_evictions++;
	}
}

static void file_insert(struct symbolizer *s, struct file_entry *e)
{
	size_t b;

	b = key_bucket(s, &e->key);
	e->key_next = s->files_by_key[b];
	s->files_by_key[b] = e;
	b = key_bucket(s, &e->stat_key);
	e->stat_next = s->files_by_stat[b];
	s->files_by_stat[b] = e;
	lru_push_front(&s->files_lru, &e->lru);
	s->stats.elf_cached++;
	e->bytes = e->elf->bytes;
	s->stats.bytes_cached += e->bytes;
	file_shrink(s, e);
}

static size_t file_bytes(const struct sym_elf_file *f)
{
	return f->bytes + sym_dwarf__bytes(f->dwarf) + (f->debug_syms ? f->debug_syms->bytes : 0);
}

/* Re-counts e (its DWARF grows as units load) and evicts colder files to fit. */
static void file_account(struct symbolizer *s, struct file_entry *e)
{
	size_t now = file_bytes(e->elf);

	if (now == e->bytes)
		return;
	s->stats.bytes_cached = s->stats.bytes_cached - e->bytes + now;
	e->bytes = now;
	file_shrink(s, e);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * libdebuginfod, loaded on first use: it brings libcurl and a TLS stack
 * (about 2.5 MiB resident) that a profiler without DEBUGINFOD_URLS never
 * needs. Loaded once per process by soname from the system's library path.
 */
static struct {
	pthread_once_t once;
	const char *error;
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *);
	void (*set_user_data)(debuginfod_client *, void *);
	void *(*get_user_data)(debuginfod_client *);
	void (*set_progressfn)(debuginfod_client *, debuginfod_progressfn_t);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
} libdebuginfod = {.once = PTHREAD_ONCE_INIT};

static void libdebuginfod_load(void)
{
	void *h = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		libdebuginfod.error = "cannot load libdebuginfod.so.1 (install libdebuginfod1)";
		return;
	}
	*(void **)&libdebuginfod.begin = dlsym(h, "debuginfod_begin");
	*(void **)&libdebuginfod.end = dlsym(h, "debuginfod_end");
	*(void **)&libdebuginfod.set_user_data = dlsym(h, "debuginfod_set_user_data");
	*(void **)&libdebuginfod.get_user_data = dlsym(h, "debuginfod_get_user_data");
	*(void **)&libdebuginfod.set_progressfn = dlsym(h, "debuginfod_set_progressfn");
	*(void **)&libdebuginfod.find_debuginfo = dlsym(h, "debuginfod_find_debuginfo");
	if (!libdebuginfod.begin || !libdebuginfod.end || !libdebuginfod.set_user_data ||
	    !libdebuginfod.get_user_data || !libdebuginfod.set_progressfn ||
	    !libdebuginfod.find_debuginfo) {
		libdebuginfod.error = "libdebuginfod.so.1 lacks the functions smolder uses";
		libdebuginfod.begin = NULL;
	}
}

/* Called by libdebuginfod while it waits: non-zero cancels the query. */
static int debuginfod_progress(debuginfod_client *c, long done, long total)
{
	struct symbolizer *s = libdebuginfod.get_user_data(c);

	return now_ms() >= s->debuginfod_deadline_ms ? 1 : 0;
}

/* An fd of f's debug file from debuginfod, or a negative errno. */
static int debuginfod_fetch(struct symbolizer *s, const struct sym_elf_file *f)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	uint64_t start;
	int fd;

	if (s->no_debuginfod || !f->build_id_len || !urls || !urls[0])
		return -ENOENT;
	if (s->debuginfod_spent_ms >= DEBUGINFOD_BUDGET * s->debuginfod_timeout_ms)
		return -ETIME;
	if (!s->debuginfod) {
		pthread_once(&libdebuginfod.once, libdebuginfod_load);
		if (!libdebuginfod.begin) {
			if (!s->debuginfod_reported)
				sym_log(s, SYM_LOG_WARN, "debuginfod: %s; DEBUGINFOD_URLS ignored",
					libdebuginfod.error);
			s->debuginfod_reported = true;
			return -ENOENT;
		}
		s->debuginfod = libdebuginfod.begin();
		if (!s->debuginfod)
			return -ENOMEM;
		libdebuginfod.set_user_data(s->debuginfod, s);
		libdebuginfod.set_progressfn(s->debuginfod, debuginfod_progress);
	}
	start = now_ms();
	s->debuginfod_deadline_ms = start + s->debuginfod_timeout_ms;
	fd = libdebuginfod.find_debuginfo(s->debuginfod, f->build_id, (int)f->build_id_len, NULL);
	s->debuginfod_spent_ms += now_ms() - start;
	if (fd < 0 && now_ms() >= s->debuginfod_deadline_ms) {
		s->stats.debuginfod_timeouts++;
		sym_log(s, SYM_LOG_INFO,
			"debuginfod: no answer for build-id %s within %" PRIu64 " ms",
			f->build_id_hex, s->debuginfod_timeout_ms);
	}
	return fd;
}

/*
 * Finds where e's DWARF lives while the process that maps it is still there
 * to open files through: the file itself (fd), else a separate debug file
 * under pid's root or the host's. The fd is kept; debug_load() parses it when
 * an address of e is first looked up, so a file never sampled costs no DWARF.
 */
static void count_refusals(struct symbolizer *s, const struct sym_debug_refusals *r)
{
	s->stats.debuglink_crc_mismatches += r->crc_mismatches;
	s->stats.debug_too_large += r->too_large;
}

static void debug_locate(struct symbolizer *s, struct file_entry *e, int fd, pid_t pid,
			 const char *binary_path)
{
	struct sym_debug_query q = {
		.debug_root = s->debug_root,
		.root_fd = -1,
		.binary_path = binary_path,
		.host_build_id = true,
		.binary_bytes = e->binary_bytes,
	};
	struct sym_debug_refusals refused = {};
	char path[64];

	e->debug_fd = -1;
	e->debug_source = SYM_DEBUG_NONE;
	if (s->no_dwarf)
		return;
	if (e->elf->has_debug_info && fd >= 0) {
		e->debug_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (e->debug_fd >= 0) {
			e->debug_source = SYM_DEBUG_SELF;
			return;
		}
	}
	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
		q.root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (sym_debuginfo__find(&q, e->elf, &e->debug_fd, &e->debug_source, &refused))
		e->debug_fd = -1;
	count_refusals(s, &refused);
	if (q.root_fd >= 0)
		close(q.root_fd);
}

/*
 * Attaches e's DWARF once, from what debug_locate() found, else the host's
 * debug file by build-id, else debuginfod. Failure only means no file:line.
 */
static void debug_load(struct symbolizer *s, struct file_entry *e)
{
	struct sym_debug_query q = {
		.debug_root = s->debug_root,
		.root_fd = -1,
		.host_build_id = true,
		.binary_bytes = e->binary_bytes,
	};
	struct sym_elf_file *f = e->elf;
	enum sym_debug_source source = e->debug_source;
	const char *what = f->build_id_len ? f->build_id_hex : "a file without build-id";
	struct sym_debug_refusals refused = {};
	int dfd = e->debug_fd, err;

	if (f->debug_tried)
		return;
	f->debug_tried = true;
	e->debug_fd = -1;
	if (s->no_dwarf)
		goto out;
	if (dfd >= 0 && source == SYM_DEBUG_SELF) {
		err = sym_dwarf__open_fd(dfd, s->max_inflate_bytes, &f->dwarf);
		close(dfd);
		dfd = -1;
		if (!err) {
			f->debug_source = SYM_DEBUG_SELF;
			s->stats.debug_self++;
			return;
		}
		if (err == -EFBIG)
			s->stats.dwarf_too_large++;
		else
			s->stats.dwarf_failures++;
		if (sym_debuginfo__find(&q, f, &dfd, &source, &refused))
			dfd = -1;
		count_refusals(s, &refused);
	}
	if (dfd < 0) {
		dfd = debuginfod_fetch(s, f);
		source = SYM_DEBUG_DEBUGINFOD;
	}
	if (dfd < 0) {
		s->stats.debug_none++;
		goto out;
	}
	if (!f->has_symtab && sym_elf__parse_fd(dfd, &f->debug_syms))
		f->debug_syms = NULL;
	err = sym_dwarf__open_fd(dfd, s->max_inflate_bytes, &f->dwarf);
	if (err == -EFBIG) {
		s->stats.dwarf_too_large++;
		sym_log(s, SYM_LOG_DEBUG, "debug file of %s is too large to keep, symbols only",
			what);
	} else if (err) {
		s->stats.dwarf_failures++;
		sym_log(s, SYM_LOG_DEBUG, "debug file of %s has no usable DWARF: %s", what,
			strerror(-err));
	}
	f->debug_source = source;
	if (source == SYM_DEBUG_BUILD_ID)
		s->stats.debug_build_id++;
	else if (source == SYM_DEBUG_DEBUGLINK)
		s->stats.debug_debuglink++;
	else
		s->stats.debug_debuginfod++;
out:
	if (dfd >= 0)
		close(dfd);
}

/*
 * The cache entry for an open file: found by its (dev, inode, size, mtime),
 * else parsed and found or inserted by build-id. Borrowed until the next call.
 */
static int file_load_fd(struct symbolizer *s, int fd, pid_t pid, const char *what,
			struct file_entry **ret)
{
	struct sym_elf_file *elf = NULL;
	struct file_entry *e = NULL;
	struct file_key stat_key;
	struct stat st;
	int err = 0;

	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	stat_key_from(&st, &stat_key);
	e = file_find_by_stat(s, &stat_key);
	if (e) {
		s->stats.elf_hits++;
		lru_touch(&s->files_lru, &e->lru);
		*ret = e;
		e = NULL;
		goto out;
	}
	err = sym_elf__parse_fd(fd, &elf);
	if (err) {
		sym_log(s, SYM_LOG_DEBUG, "cannot parse '%s' as ELF: %s", what, strerror(-err));
		goto out;
	}
	s->stats.elf_misses++;
	e = calloc(1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	e->stat_key = stat_key;
	if (elf->build_id_len) {
		e->key.kind = KEY_BUILD_ID;
		e->key.len = (uint8_t)elf->build_id_len;
		memcpy(e->key.data, elf->build_id, elf->build_id_len);
		/* The same contents under another inode: keep the entry we have. */
		*ret = file_find_by_key(s, &e->key);
		if (*ret) {
			lru_touch(&s->files_lru, &(*ret)->lru);
			goto out;
		}
	} else {
		e->key = stat_key;
	}
	e->elf = elf;
	elf = NULL;
	e->binary_bytes = (uint64_t)st.st_size;
	debug_locate(s, e, fd, pid, what);
	file_insert(s, e);
	*ret = e;
	e = NULL;
out:
	free(e);
	sym_elf__free(elf);
	return err;
}

static int check_regular(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t len = strlen(s), suffix_len = strlen(suffix);

	return len >= suffix_len && !strcmp(s + len - suffix_len, suffix);
}

int sym_proc__open_in_root(pid_t pid, const char *path, int extra_flags, int *ret_fd)
{
	struct open_how how = {
		.flags = (uint64_t)(OPEN_FLAGS | extra_flags),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root[32];
	int fd, root_fd;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	if (path[0] == '/')
		path++;
	fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	if (fd < 0)
		fd = -errno;
	close(root_fd);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* Opens the file behind mapping m of pid without leaving its mount namespace. */
static int open_mapped_file(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m,
			    int *ret_fd)
{
	int fd = -1, err = 0;
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	fd = open(path, OPEN_FLAGS);
	if (fd >= 0)
		goto out_check;
	if (m->path[0] != '/' || has_suffix(m->path, DELETED_SUFFIX)) {
		err = -ENOENT;
		goto out;
	}
	err = sym_proc__open_in_root(pid, m->path, 0, &fd);
	if (!err)
		goto out_check;
	if (err != -ESRCH)
		goto out;
	/* The process is gone: the host path is all that is left; it must be the same inode. */
	fd = open(m->path, OPEN_FLAGS);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (m->inode && (uint64_t)st.st_ino != m->inode) {
		sym_log(s, SYM_LOG_DEBUG, "'%s' is no longer the file pid %d mapped", m->path,
			(int)pid);
		err = -ESTALE;
		goto out;
	}
out_check:
	err = check_regular(fd);
	if (err)
		goto out;
	*ret_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int sym_maps__open(pid_t pid, const struct sym_map_entry *m, int *ret_fd)
{
	return open_mapped_file(NULL, pid, m, ret_fd);
}

int sym_maps__open_debug(pid_t pid, const struct sym_map_entry *m, int fd, int *ret_fd)
{
	struct sym_debug_query q = {
		.debug_root = "/usr/lib/debug",
		.root_fd = -1,
		.binary_path = m->path[0] == '/' ? m->path : NULL,
		.host_build_id = true,
	};
	struct sym_debug_refusals refused;
	enum sym_debug_source source;
	struct sym_elf_file *f = NULL;
	struct stat st;
	char root[32];
	int err;

	if (fstat(fd, &st))
		return -errno;
	q.binary_bytes = (uint64_t)st.st_size;
	err = sym_elf__parse_fd(fd, &f);
	if (err)
		return err;
	if (pid > 0) {
		snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
		q.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	err = sym_debuginfo__find(&q, f, ret_fd, &source, &refused);
	if (q.root_fd >= 0)
		close(q.root_fd);
	sym_elf__free(f);
	return err;
}

static struct binding *binding_find(struct symbolizer *s, pid_t pid, uint64_t start, uint64_t inode)
{
	struct binding *b;

	for (b = s->bindings[binding_bucket(s, pid, start, inode)]; b; b = b->next) {
		if (b->pid == pid && b->start == start && b->inode == inode)
			return b;
	}
	return NULL;
}

static void binding_evict(struct symbolizer *s, struct binding *b)
{
	struct binding **pp;

	for (pp = &s->bindings[binding_bucket(s, b->pid, b->start, b->inode)]; *pp;
	     pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	lru_unlink(&b->lru);
	s->stats.mappings_cached--;
	free(b);
}

/* Records what mapping m of pid resolved to. Losing a binding only costs a reopen. */
static void binding_set(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m, int err,
			const struct file_key *key)
{
	struct binding *b;
	size_t bucket;

	if (err == -ENOMEM || err == -EMFILE || err == -ENFILE)
		return;
	b = binding_find(s, pid, m->start, m->inode);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return;
		b->pid = pid;
		b->start = m->start;
		b->inode = m->inode;
		bucket = binding_bucket(s, pid, m->start, m->inode);
		b->next = s->bindings[bucket];
		s->bindings[bucket] = b;
		lru_push_front(&s->bindings_lru, &b->lru);
		s->stats.mappings_cached++;
		if (s->stats.mappings_cached > s->max_mappings) {
			binding_evict(s, container_of(s->bindings_lru.prev, struct binding, lru));
			s->stats.mapping_evictions++;
		}
	}
	b->err = err;
	if (key)
		b->key = *key;
}

static int vdso_load(struct symbolizer *s, struct sym_elf_file **ret)
{
	struct sym_maps self = {0};
	const struct sym_map_entry *m = NULL;
	unsigned long base;
	size_t i;
	int err = 0;

	if (s->vdso) {
		s->stats.elf_hits++;
		*ret = s->vdso;
		return 0;
	}
	if (s->vdso_err)
		return s->vdso_err;
	base = getauxval(AT_SYSINFO_EHDR);
	if (!base) {
		err = -ENOENT;
		goto out;
	}
	err = sym_maps__read(getpid(), &self);
	if (err)
		goto out;
	for (i = 0; i < self.nr && !m; i++) {
		if (self.entries[i].start == base && !strcmp(self.entries[i].path, "[vdso]"))
			m = &self.entries[i];
	}
	if (!m) {
		err = -ENOENT;
		goto out;
	}
	err = sym_elf__parse_mem((const void *)base, (size_t)(m->end - m->start), &s->vdso);
	if (err)
		goto out;
	s->stats.elf_misses++;
	*ret = s->vdso;
out:
	sym_maps__free(&self);
	if (err) {
		s->vdso_err = err;
		s->stats.elf_failures++;
		sym_log(s, SYM_LOG_WARN, "cannot read the vDSO image: %s", strerror(-err));
	}
	return err;
}

static bool is_vdso(const struct sym_map_entry *m)
{
	return !strcmp(m->path, "[vdso]");
}

/* The parsed file behind mapping m of pid; NULL (and 0) for anonymous memory. */
static int file_for_mapping(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m,
			    struct sym_elf_file **ret, struct file_entry **ret_entry)
{
	struct file_entry *e = NULL;
	struct binding *b;
	int fd = -1, err = 0;

	*ret = NULL;
	*ret_entry = NULL;
	if (!m->path || !m->path[0])
		return 0;
	if (is_vdso(m))
		return vdso_load(s, ret);
	if (m->path[0] == '[')
		return 0;
	b = binding_find(s, pid, m->start, m->inode);
	if (b) {
		lru_touch(&s->bindings_lru, &b->lru);
		s->stats.mapping_hits++;
		if (b->err)
			return b->err;
		e = file_find_by_key(s, &b->key);
		if (e) {
			s->stats.elf_hits++;
			lru_touch(&s->files_lru, &e->lru);
			*ret = e->elf;
			*ret_entry = e;
			return 0;
		}
	}
	err = open_mapped_file(s, pid, m, &fd);
	if (err) {
		sym_log(s, SYM_LOG_DEBUG, "cannot open '%s' of pid %d: %s", m->path, (int)pid,
			strerror(-err));
		goto out;
	}
	err = file_load_fd(s, fd, pid, m->path, &e);
	if (err)
		goto out;
	*ret = e->elf;
	*ret_entry = e;
out:
	if (fd >= 0)
		close(fd);
	if (err)
		s->stats.elf_failures++;
	binding_set(s, pid, m, err, e ? &e->key : NULL);
	return err;
}

static void demangled_free(struct symbolizer *s)
{
	unsigned int i;

	for (i = 0; i < SYMBOLIZER_MAX_FRAMES; i++) {
		free(s->demangled[i]);
		s->demangled[i] = NULL;
	}
}

/* Display names for the frames; the mangled form moves to system_name. */
static void demangle_frames(struct symbolizer *s, struct sym_result *res)
{
	struct sym_frame *f;
	unsigned int i;

	for (i = 0; i < res->nr_frames; i++) {
		f = &res->frames[i];
		if (f->system_name && f->name && !strcmp(f->system_name, f->name))
			f->system_name = NULL;
		s->demangled[i] = sym_demangle(f->system_name ? f->system_name : f->name);
		if (!s->demangled[i])
			continue;
		if (!f->system_name)
			f->system_name = f->name;
		f->name = s->demangled[i];
	}
}

static void fill_user(struct symbolizer *s, struct file_entry *e, const struct sym_elf_file *f,
		      uint64_t vaddr, bool have_vaddr, struct sym_result *res)
{
	const struct sym_elf_sym *sym;
	const char *sym_name = NULL;
	unsigned int nr = 0;
	uint64_t evictions;

	if (e && have_vaddr && !f->debug_tried) {
		debug_load(s, e);
		sym_dwarf__set_unit_cap(f->dwarf, s->max_unit_bytes);
		file_account(s, e);
	}
	res->build_id = f->build_id_len ? f->build_id_hex : NULL;
	res->has_functions = f->has_functions || (f->debug_syms && f->debug_syms->has_functions);
	if (!have_vaddr)
		return;
	res->elf_addr = vaddr;
	if (f->dwarf) {
		evictions = sym_dwarf__unit_evictions(f->dwarf);
		if (sym_dwarf__lookup(f->dwarf, vaddr, !s->no_inlines, res->frames,
				      SYMBOLIZER_MAX_FRAMES, &nr))
			s->stats.dwarf_failures++;
		s->stats.dwarf_unit_evictions += sym_dwarf__unit_evictions(f->dwarf) - evictions;
		res->has_filenames = sym_dwarf__has_lines(f->dwarf);
		res->has_line_numbers = res->has_filenames;
		res->has_inline_frames = !s->no_inlines && sym_dwarf__has_inlines(f->dwarf);
		if (e)
			file_account(s, e);
	}
	/*
	 * The physical function is named by the file's own symbol table when a
	 * symbol covers vaddr (the linker's name: public aliases over __GI_ ones),
	 * as llvm-symbolizer does; else by DWARF; else by the debug file's table.
	 */
	sym = sym_elf__find(f, vaddr);
	if (sym)
		sym_name = f->strs + sym->name_off;
	else if (!nr || !res->frames[nr - 1].name)
		sym = sym_elf__find_any(f, vaddr, &sym_name);
	if (sym) {
		if (!nr)
			memset(&res->frames[0], 0, sizeof(res->frames[0]));
		nr = nr ? nr : 1;
		res->frames[nr - 1].name = sym_name;
		res->frames[nr - 1].system_name = NULL;
	}
	res->nr_frames = nr;
	demangle_frames(s, res);
}

struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts)
{
	struct symbolizer_opts defaults = {0};
	struct symbolizer *s;
	int err = 0;

	if (!opts)
		opts = &defaults;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	lru_init(&s->files_lru);
	lru_init(&s->bindings_lru);
	s->max_files = opts->max_files ? opts->max_files : DEFAULT_MAX_FILES;
	s->max_bytes = opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
	s->max_mappings = opts->max_mappings ? opts->max_mappings : DEFAULT_MAX_MAPPINGS;
	s->log = opts->log;
	s->log_ctx = opts->log_ctx;
	s->no_dwarf = opts->no_dwarf;
	s->no_inlines = opts->no_inlines;
	s->max_inflate_bytes = opts->max_inflate_bytes ? opts->max_inflate_bytes : s->max_bytes / 4;
	s->max_unit_bytes = opts->max_unit_bytes ? opts->max_unit_bytes : s->max_bytes / 4;
	s->no_debuginfod = opts->no_debuginfod;
	s->debuginfod_timeout_ms =
		opts->debuginfod_timeout_ms ? opts->debuginfod_timeout_ms : DEFAULT_DEBUGINFOD_MS;
	s->debug_root = strdup(opts->debug_root ? opts->debug_root : DEFAULT_DEBUG_ROOT);
	s->kallsyms_path = strdup(opts->kallsyms ? opts->kallsyms : "/proc/kallsyms");
	s->file_buckets = bucket_count(s->max_files);
	s->files_by_key = calloc(s->file_buckets, sizeof(*s->files_by_key));
	s->files_by_stat = calloc(s->file_buckets, sizeof(*s->files_by_stat));
	s->binding_buckets = bucket_count(s->max_mappings);
	s->bindings = calloc(s->binding_buckets, sizeof(*s->bindings));
	s->perfmaps = sym_perfmaps__new(
		&(struct sym_perfmaps_opts){.max_procs = opts->max_perfmaps,
					    .max_bytes = opts->max_perfmap_bytes,
					    .max_proc_bytes = opts->max_perfmap_proc_bytes,
					    .log = opts->log,
					    .log_ctx = opts->log_ctx});
	if (!s->kallsyms_path || !s->debug_root || !s->files_by_key || !s->files_by_stat ||
	    !s->bindings || !s->perfmaps) {
		err = -ENOMEM;
		goto out_free;
	}
	return s;
out_free:
	symbolizer__free(s);
	errno = -err;
	return NULL;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	if (s->files_by_key && s->files_by_stat) {
		while (s->files_lru.next != &s->files_lru)
			file_evict(s, container_of(s->files_lru.next, struct file_entry, lru));
	}
	if (s->bindings) {
		while (s->bindings_lru.next != &s->bindings_lru)
			binding_evict(s, container_of(s->bindings_lru.next, struct binding, lru));
	}
	free(s->files_by_key);
	free(s->files_by_stat);
	free(s->bindings);
	sym_kallsyms__free(s->ksyms);
	sym_elf__free(s->vdso);
	sym_perfmaps__free(s->perfmaps);
	free(s->kallsyms_path);
	free(s->debug_root);
	demangled_free(s);
	if (s->debuginfod)
		libdebuginfod.end(s->debuginfod);
	free(s);
}

void symbolizer__drop_kernel(struct symbolizer *s)
{
	sym_kallsyms__free(s->ksyms);
	s->ksyms = NULL;
}

int symbolizer__kernel(struct symbolizer *s, uint64_t addr, struct sym_result *ret)
{
	struct sym_result res = {0};
	const struct sym_ksym *sym;
	int err = 0;

	s->stats.lookups++;
	if (!s->ksyms && !s->ksyms_err) {
		err = sym_kallsyms__load(s->kallsyms_path, &s->ksyms);
		if (err) {
			s->ksyms_err = err;
			sym_log(s, SYM_LOG_WARN, "cannot load kernel symbols from '%s': %s",
				s->kallsyms_path,
				err == -EPERM ? "addresses are hidden (kptr_restrict or no root)" :
						strerror(-err));
		} else {
			s->stats.kernel_symbols = s->ksyms->nr;
		}
	}
	if (s->ksyms_err) {
		s->stats.unresolved++;
		if (!s->ksyms_reported) {
			s->ksyms_reported = true;
			err = s->ksyms_err;
			goto out;
		}
		*ret = res;
		goto out;
	}
	res.elf_addr = addr;
	res.has_functions = true;
	sym = sym_kallsyms__find(s->ksyms, addr);
	if (sym) {
		res.frames[0].name = s->ksyms->strs + sym->name_off;
		res.nr_frames = 1;
		res.module = sym->module_off ? s->ksyms->strs + sym->module_off : NULL;
	} else {
		s->stats.unresolved++;
	}
	*ret = res;
out:
	return err;
}

int symbolizer__preload(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m)
{
	struct sym_elf_file *f;
	struct file_entry *e;

	if (sym_perfmaps__eligible(m))
		sym_perfmaps__preload(s->perfmaps, pid);
	return file_for_mapping(s, pid, m, &f, &e);
}

void symbolizer__set_deadline(struct symbolizer *s, int64_t deadline_mono_ns)
{
	s->deadline_mono_ns = deadline_mono_ns;
}

static bool past_deadline(const struct symbolizer *s)
{
	struct timespec ts;

	if (!s->deadline_mono_ns)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec >= s->deadline_mono_ns;
}

int symbolizer__user(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m, uint64_t addr,
		     struct sym_result *ret)
{
	struct sym_result res = {0};
	struct sym_elf_file *f = NULL;
	struct file_entry *e = NULL;
	uint64_t vaddr = 0;
	bool have_vaddr;
	int err = 0;

	s->stats.lookups++;
	demangled_free(s);
	if (addr < m->start || addr >= m->end) {
		err = -EINVAL;
		goto out;
	}
	if (past_deadline(s)) {
		s->stats.over_budget++;
		goto out_done;
	}
	/* A file that cannot be read leaves the address unnamed, not the sample lost. */
	if (file_for_mapping(s, pid, m, &f, &e) || !f) {
		/* No ELF image: JIT code, named by the process's perf map if it has one. */
		if (sym_perfmaps__eligible(m))
			sym_perfmaps__lookup(s->perfmaps, pid, addr, &res);
		goto out_done;
	}
	have_vaddr = !sym_elf__offset_to_vaddr(f, addr - m->start + m->offset, &vaddr);
	fill_user(s, e, f, vaddr, have_vaddr, &res);
out_done:
	*ret = res;
out:
	if (!res.nr_frames)
		s->stats.unresolved++;
	return err;
}

int symbolizer__elf(struct symbolizer *s, const char *path, uint64_t elf_addr,
		    struct sym_result *ret)
{
	struct sym_result res = {0};
	struct file_entry *e = NULL;
	struct file_key stat_key;
	struct stat st;
	int fd, err = 0;

	s->stats.lookups++;
	demangled_free(s);
	/* A file already parsed is recognised by stat() alone: one system call per address. */
	if (!stat(path, &st) && S_ISREG(st.st_mode)) {
		stat_key_from(&st, &stat_key);
		e = file_find_by_stat(s, &stat_key);
		if (e) {
			s->stats.elf_hits++;
			lru_touch(&s->files_lru, &e->lru);
			goto out_fill;
		}
	}
	fd = open(path, OPEN_FLAGS);
	if (fd < 0) {
		err = -errno;
		s->stats.elf_failures++;
		goto out;
	}
	err = file_load_fd(s, fd, 0, path, &e);
	close(fd);
	if (err) {
		s->stats.elf_failures++;
		goto out;
	}
out_fill:
	fill_user(s, e, e->elf, elf_addr, true, &res);
	*ret = res;
out:
	if (!res.nr_frames)
		s->stats.unresolved++;
	return err;
}

void symbolizer__set_time(struct symbolizer *s, uint64_t mono_ns)
{
	sym_perfmaps__set_time(s->perfmaps, mono_ns);
}

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *ret)
{
	*ret = s->stats;
	sym_perfmaps__stats(s->perfmaps, ret);
}
