// SPDX-License-Identifier: MIT
/*
 * JIT perf maps: /tmp/perf-PID.map, one "START SIZE name" line per piece of
 * generated code (hex, as V8/Node --perf-basic-prof, the JVM perf agent,
 * LuaJIT, .NET and Python 3.12 -X perf write them), appended as code is made.
 *
 * Parse: lines to (start, end, name) with a sequence number; sorted by start,
 * then made non-overlapping so that a binary search finds one answer: on the
 * same start the later line wins; a later line starting inside an earlier
 * entry cuts it short there; an earlier line starting inside a later entry is
 * dropped whole. Names go to one string arena, cut at SYM_PERFMAP_MAX_NAME.
 *
 * Files: the map is named by the process's pid in its own PID namespace (the
 * last NSpid field of /proc/PID/status) and read inside its root, through
 * sym_proc__open_in_root(): a container's /tmp, never the host's by mistake.
 * Regular files only, at most SYM_PERFMAP_MAX_BYTES, up to the last newline
 * (a JIT may be writing the last line).
 *
 * Cache: one entry per host pid (a missing file is remembered too), in one
 * LRU list searched from the most recent, at most max_procs entries and
 * max_bytes of parsed maps; inserting or growing evicts from the cold end,
 * never the entry in use. A lookup that misses looks at the file again when
 * reread_ns passed since the last look, and re-reads it when its size or
 * inode changed (JITs append). When the process is gone the last map read
 * stays in use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "symbolizer_internal.h"

#define DEFAULT_MAX_PROCS 128
#define DEFAULT_MAX_BYTES (64u << 20)
#define DEFAULT_REREAD_NS 1000000000ull

struct perfmap_proc {
	struct perfmap_proc *prev;
	struct perfmap_proc *next;
	pid_t pid;
	pid_t nspid; /* 0 until known */
	struct sym_perfmap *map; /* NULL: none read */
	int err; /* of the last look at the file */
	uint64_t checked_ns; /* CLOCK_MONOTONIC of the last look */
	uint64_t file_dev;
	uint64_t file_ino;
	uint64_t file_size;
};

struct sym_perfmaps {
	size_t max_procs;
	size_t max_bytes;
	uint64_t reread_ns;
	struct perfmap_proc lru; /* head: next is the most recent */
	uint64_t hits;
	uint64_t misses;
	uint64_t reads;
	uint64_t failures;
	uint64_t evictions;
	size_t nr_procs;
	size_t bytes;
};

/* Up to 16 hex digits, with or without 0x, as JITs write them. */
static bool parse_hex(const char **p, const char *end, uint64_t *ret)
{
	if (end - *p > 2 && (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	return sym_parse_hex(p, end, ret);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Skips at least one blank; false when there is none. */
static bool skip_blanks(const char **p, const char *end)
{
	const char *s = *p;

	while (s < end && is_blank(*s))
		s++;
	if (s == *p)
		return false;
	*p = s;
	return true;
}

/* The length of name[0..len) cut to the cap, at a UTF-8 character boundary. */
static size_t name_length(const char *name, size_t len)
{
	const char *nul = memchr(name, '\0', len);

	if (nul)
		len = (size_t)(nul - name);
	while (len && (is_blank(name[len - 1]) || name[len - 1] == '\r'))
		len--;
	if (len <= SYM_PERFMAP_MAX_NAME)
		return len;
	len = SYM_PERFMAP_MAX_NAME;
	while (len && ((unsigned char)name[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/* Parses one line into *ret (name_off left 0). False when it is not an entry. */
static bool parse_line(const char *s, const char *end, struct sym_perfmap_sym *ret,
		       const char **ret_name, size_t *ret_name_len)
{
	uint64_t start, size;
	size_t name_len;

	while (s < end && is_blank(*s))
		s++;
	if (!parse_hex(&s, end, &start) || !skip_blanks(&s, end))
		return false;
	if (!parse_hex(&s, end, &size) || !skip_blanks(&s, end))
		return false;
	if (!size || start > UINT64_MAX - size)
		return false;
	name_len = name_length(s, (size_t)(end - s));
	if (!name_len)
		return false;
	ret->start = start;
	ret->end = start + size;
	*ret_name = s;
	*ret_name_len = name_len;
	return true;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym_perfmap_sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* Later lines first: they win. */
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Sorted by (start, newest first) -> sorted and non-overlapping; returns the new count. */
static size_t resolve_overlaps(struct sym_perfmap_sym *syms, size_t nr)
{
	struct sym_perfmap_sym *last;
	size_t i, kept = 0;

	for (i = 0; i < nr; i++) {
		last = kept ? &syms[kept - 1] : NULL;
		if (last && syms[i].start == last->start)
			continue;
		if (last && syms[i].start < last->end) {
			if (syms[i].seq < last->seq)
				continue;
			last->end = syms[i].start;
		}
		syms[kept++] = syms[i];
	}
	return kept;
}

int sym_perfmap__parse(const char *text, size_t len, struct sym_perfmap **ret)
{
	const char *p = text, *end = text + len, *eol, *name;
	struct sym_arena arena = {0};
	struct sym_perfmap_sym *syms = NULL, *grown, sym;
	struct sym_perfmap *pm = NULL;
	size_t nr = 0, cap = 0, name_len;
	int err = 0;

	if (!sym_arena__add(&arena, "", 0) && !arena.buf) {
		err = -ENOMEM;
		goto out;
	}
	while (p < end && nr < SYM_PERFMAP_MAX_SYMS) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		memset(&sym, 0, sizeof(sym));
		if (parse_line(p, eol, &sym, &name, &name_len)) {
			if (nr == cap) {
				cap = cap ? cap * 2 : 256;
				grown = reallocarray(syms, cap, sizeof(*syms));
				if (!grown) {
					err = -ENOMEM;
					goto out;
				}
				syms = grown;
			}
			sym.name_off = sym_arena__add(&arena, name, name_len);
			if (!sym.name_off) {
				err = -ENOMEM;
				goto out;
			}
			sym.seq = (uint32_t)nr;
			syms[nr++] = sym;
		}
		p = eol + 1;
	}
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		err = -ENOMEM;
		goto out;
	}
	if (nr)
		qsort(syms, nr, sizeof(*syms), cmp_sym);
	pm->nr = resolve_overlaps(syms, nr);
	pm->syms = syms;
	syms = NULL;
	pm->strs = arena.buf;
	pm->strs_len = arena.len;
	arena.buf = NULL;
	pm->bytes = sizeof(*pm) + cap * sizeof(*pm->syms) + arena.cap;
	*ret = pm;
out:
	free(syms);
	free(arena.buf);
	return err;
}

const struct sym_perfmap_sym *sym_perfmap__find(const struct sym_perfmap *pm, uint64_t addr)
{
	size_t n = sym_count_le(pm->syms, pm->nr, sizeof(*pm->syms),
				offsetof(struct sym_perfmap_sym, start), addr);

	if (!n)
		return NULL;
	return addr < pm->syms[n - 1].end ? &pm->syms[n - 1] : NULL;
}

void sym_perfmap__free(struct sym_perfmap *pm)
{
	if (!pm)
		return;
	free(pm->syms);
	free(pm->strs);
	free(pm);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool sym_perfmaps__eligible(const struct sym_map_entry *m)
{
	const char *path = m->path ? m->path : "";

	return !path[0] || has_prefix(path, "[anon") || !strcmp(path, "[heap]") ||
	       has_prefix(path, "/memfd:") || has_prefix(path, "//anon");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The pid of pid in its own (innermost) PID namespace: the last NSpid field. */
static int read_nspid(pid_t pid, pid_t *ret)
{
	const char *line, *p;
	char path[64], *text = NULL, *endp;
	long v = 0;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	err = sym_proc__read_text(path, &text, &len);
	if (err) {
		if (err == -ENOENT)
			err = -ESRCH;
		goto out;
	}
	line = strstr(text, "\nNSpid:");
	if (!line) {
		/* Kernels before 4.1 have no NSpid: no PID namespaces to see through. */
		*ret = pid;
		goto out;
	}
	p = line + strlen("\nNSpid:");
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		v = strtol(p, &endp, 10);
		if (errno || v <= 0 || v > INT32_MAX) {
			err = -EINVAL;
			goto out;
		}
		p = endp;
	}
	if (!v) {
		err = -EINVAL;
		goto out;
	}
	*ret = (pid_t)v;
out:
	free(text);
	return err;
}

static void lru_unlink(struct perfmap_proc *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void lru_push_front(struct sym_perfmaps *c, struct perfmap_proc *e)
{
	e->next = c->lru.next;
	e->prev = &c->lru;
	c->lru.next->prev = e;
	c->lru.next = e;
}

static void proc_set_map(struct sym_perfmaps *c, struct perfmap_proc *e, struct sym_perfmap *map)
{
	if (e->map)
		c->bytes -= e->map->bytes;
	sym_perfmap__free(e->map);
	e->map = map;
	if (map)
		c->bytes += map->bytes;
}

static void proc_evict(struct sym_perfmaps *c, struct perfmap_proc *e)
{
	lru_unlink(e);
	proc_set_map(c, e, NULL);
	c->nr_procs--;
	free(e);
}

/* Evicts from the cold end until the caps hold again, keeping keep. */
static void enforce_caps(struct sym_perfmaps *c, struct perfmap_proc *keep)
{
	struct perfmap_proc *cold;

	while (c->nr_procs > c->max_procs || c->bytes > c->max_bytes) {
		cold = c->lru.prev;
		if (cold == keep)
			cold = cold->prev;
		if (cold == &c->lru)
			break;
		proc_evict(c, cold);
		c->evictions++;
	}
}

/* Reads the whole of fd (size bytes at most) up to its last newline, and parses it. */
static int read_map_fd(int fd, size_t size, struct sym_perfmap **ret)
{
	size_t len = 0;
	char *text, *last_nl;
	ssize_t n;
	int err = 0;

	text = malloc(size + 1);
	if (!text)
		return -ENOMEM;
	while (len < size) {
		n = pread(fd, text + len, size - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	last_nl = len ? memrchr(text, '\n', len) : NULL;
	if (last_nl)
		len = (size_t)(last_nl - text) + 1;
	err = sym_perfmap__parse(text, len, ret);
out:
	free(text);
	return err;
}

/*
 * Looks at e's file: reads it when new, grown or replaced. Keeps the map
 * read before when the file cannot be looked at (the process is gone).
 */
static int proc_refresh(struct sym_perfmaps *c, struct perfmap_proc *e)
{
	struct sym_perfmap *map = NULL;
	char path[64];
	struct stat st;
	int fd = -1, err = 0;

	e->checked_ns = now_ns();
	if (!e->nspid) {
		err = read_nspid(e->pid, &e->nspid);
		if (err)
			goto out;
	}
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)e->nspid);
	err = sym_proc__open_in_root(e->pid, path, &fd);
	if (err)
		goto out;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > SYM_PERFMAP_MAX_BYTES) {
		err = -EFBIG;
		goto out;
	}
	if (e->map && (uint64_t)st.st_dev == e->file_dev && (uint64_t)st.st_ino == e->file_ino &&
	    (uint64_t)st.st_size == e->file_size)
		goto out;
	err = read_map_fd(fd, (size_t)st.st_size, &map);
	if (err)
		goto out;
	c->reads++;
	e->file_dev = (uint64_t)st.st_dev;
	e->file_ino = (uint64_t)st.st_ino;
	e->file_size = (uint64_t)st.st_size;
	proc_set_map(c, e, map);
	map = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (err)
		c->failures++;
	e->err = err;
	return err;
}

/* The entry of pid, made (and its file read) when new; NULL only without memory. */
static struct perfmap_proc *proc_get(struct sym_perfmaps *c, pid_t pid)
{
	struct perfmap_proc *e;

	for (e = c->lru.next; e != &c->lru; e = e->next) {
		if (e->pid == pid) {
			lru_unlink(e);
			lru_push_front(c, e);
			return e;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	lru_push_front(c, e);
	c->nr_procs++;
	proc_refresh(c, e);
	enforce_caps(c, e);
	return e;
}

struct sym_perfmaps *sym_perfmaps__new(const struct sym_perfmaps_opts *opts)
{
	struct sym_perfmaps_opts defaults = {0};
	struct sym_perfmaps *c;

	if (!opts)
		opts = &defaults;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_procs = opts->max_procs ? opts->max_procs : DEFAULT_MAX_PROCS;
	c->max_bytes = opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
	c->reread_ns = opts->reread_ns ? opts->reread_ns : DEFAULT_REREAD_NS;
	c->lru.next = &c->lru;
	c->lru.prev = &c->lru;
	return c;
}

void sym_perfmaps__free(struct sym_perfmaps *c)
{
	if (!c)
		return;
	while (c->lru.next != &c->lru)
		proc_evict(c, c->lru.next);
	free(c);
}

int sym_perfmaps__lookup(struct sym_perfmaps *c, pid_t pid, uint64_t addr, struct sym_result *res)
{
	const struct sym_perfmap_sym *sym = NULL;
	struct perfmap_proc *e;
	int err = 0;

	e = proc_get(c, pid);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	if (e->map)
		sym = sym_perfmap__find(e->map, addr);
	if (!sym && now_ns() - e->checked_ns >= c->reread_ns) {
		proc_refresh(c, e);
		enforce_caps(c, e);
		if (e->map)
			sym = sym_perfmap__find(e->map, addr);
	}
	if (!sym) {
		err = e->map ? -ENOENT : e->err ? e->err : -ENOENT;
		goto out;
	}
	res->frames[0] = (struct sym_frame){.name = e->map->strs + sym->name_off};
	res->nr_frames = 1;
	res->has_functions = true;
	res->elf_addr = addr;
out:
	if (err)
		c->misses++;
	else
		c->hits++;
	return err;
}

int sym_perfmaps__preload(struct sym_perfmaps *c, pid_t pid)
{
	struct perfmap_proc *e = proc_get(c, pid);

	if (!e)
		return -ENOMEM;
	return e->map ? 0 : e->err;
}

void sym_perfmaps__stats(const struct sym_perfmaps *c, struct symbolizer_stats *ret)
{
	ret->perfmap_hits = c->hits;
	ret->perfmap_misses = c->misses;
	ret->perfmap_reads = c->reads;
	ret->perfmap_failures = c->failures;
	ret->perfmap_evictions = c->evictions;
	ret->perfmaps_cached = c->nr_procs;
	ret->perfmap_bytes_cached = c->bytes;
}
