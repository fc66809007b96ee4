// SPDX-License-Identifier: MIT
/*
 * JIT perf maps: /tmp/perf-PID.map, one "START SIZE name" line per piece of
 * generated code (hex, as V8/Node --perf-basic-prof, the JVM perf agent,
 * LuaJIT, .NET and Python 3.12 -X perf write them), appended as code is made.
 *
 * Parse: lines (each cut at SYM_PERFMAP_MAX_LINE bytes) to (start, end, name)
 * with a sequence number, then resolved into sorted, non-overlapping pieces:
 * each address is named by the last line that covers it (a sweep over the
 * sorted lines with a heap of the open ones, newest on top). Names go to one
 * string arena, cut at SYM_PERFMAP_MAX_NAME.
 *
 * Files: the map is named by the process's pid in its own PID namespace (the
 * last NSpid field of /proc/PID/status) and opened inside its root, through
 * sym_proc__open_in_root() with O_NOFOLLOW: a container's /tmp, never the
 * host's by mistake, and never a symlink. It is read only when it is a
 * regular file owned by one of the process's uids (the Uid line of the same
 * status file), or by root when the process could read it itself (a uid of 0,
 * or world-readable): another user's file, or a root-only one, is refused,
 * counted once per process and logged (WARN for the first WARN_REFUSALS).
 *
 * Growth: each process keeps its file offset and the partial line at its end;
 * a look reads the bytes appended since (each byte once), the complete lines
 * of which become one "chunk", stamped with the time of the look before it
 * (its lines were written after that). Lookups search chunks newest first,
 * then "base", the fold of older chunks. As of a time T (set_time()), a chunk
 * counts only if its previous look was before T: the name is the newest line
 * read by the first look at or after T; the first lookup of a process at a
 * new T makes that look when none happened since T. An address that no such
 * line covers takes the oldest later line that does. Chunks that count at T
 * are folded once FOLD_CHUNKS of them pile up (times only go forward): into
 * one chunk while they hold less than a quarter of base's bytes (so a big
 * map is not copied for a little growth), else into base; at MAX_CHUNKS the
 * oldest half are folded into base whatever T.
 *
 * Caps: per process, max_proc_bytes of file read (later bytes are refused,
 * counted once) and of memory held (lines past it are refused, counted); in
 * all, max_bytes of memory and max_procs processes, in one LRU list searched
 * from the most recent: inserting or growing evicts from the cold end, never
 * the entry in use (its cap is at most max_bytes). A replaced (other inode)
 * or shrunk file is read again from its start. When the process is gone the
 * last map read stays in use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "symbolizer_internal.h"

#define DEFAULT_MAX_PROCS  128
#define DEFAULT_MAX_BYTES  (128u << 20)
#define DEFAULT_PROC_BYTES SYM_PERFMAP_MAX_BYTES
#define DEFAULT_REREAD_NS  1000000000ull
#define READ_BLOCK	   (1u << 20) /* bytes read per pread() */
#define FOLD_CHUNKS	   8
#define MAX_CHUNKS	   16
#define WARN_REFUSALS	   32 /* refusals logged as warnings; later ones at debug level */

struct perfmap_chunk {
	struct sym_perfmap *map;
	uint64_t prev_look_ns; /* the look before the one that read it; 0: none */
};

struct perfmap_proc {
	struct perfmap_proc *prev;
	struct perfmap_proc *next;
	pid_t pid;
	struct sym_perfmap *base; /* folded chunks, NULL when none */
	struct perfmap_chunk chunks[MAX_CHUNKS]; /* oldest first */
	size_t nr_chunks;
	size_t bytes; /* memory of base and chunks */
	int err; /* of the last look at the file */
	uint64_t looked_ns; /* CLOCK_MONOTONIC of the last look, 0: never */
	bool have_file;
	bool refused; /* the last look refused the file (counted and logged once) */
	bool overlong; /* the partial line is longer than SYM_PERFMAP_MAX_LINE: rest skipped */
	uint64_t file_dev;
	uint64_t file_ino;
	uint64_t file_off; /* bytes read */
	uint64_t file_seen; /* largest size seen: bytes past the cap counted up to it */
	char *partial; /* the unfinished last line, SYM_PERFMAP_MAX_LINE bytes */
	size_t partial_len;
};

struct sym_perfmaps {
	size_t max_procs;
	size_t max_bytes;
	size_t max_proc_bytes;
	uint64_t reread_ns;
	uint64_t as_of_ns; /* 0: now */
	sym_log_fn log;
	void *log_ctx;
	struct perfmap_proc lru; /* head: next is the most recent */
	uint64_t hits;
	uint64_t misses;
	uint64_t reads;
	uint64_t failures;
	uint64_t evictions;
	uint64_t refusals;
	uint64_t bytes_read;
	uint64_t bytes_refused;
	uint64_t entries;
	uint64_t entries_refused;
	size_t nr_procs;
	size_t bytes;
};

/* Lines on their way to a map: a budget of memory, and what it refused. */
struct map_builder {
	struct sym_perfmap_sym *syms;
	size_t nr, cap;
	struct sym_arena arena;
	size_t budget;
	size_t charged;
	uint64_t refused;
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

static int builder_init(struct map_builder *b, size_t budget)
{
	memset(b, 0, sizeof(*b));
	b->budget = budget;
	if (!sym_arena__add(&b->arena, "", 0) && !b->arena.buf)
		return -ENOMEM;
	return 0;
}

static void builder_free(struct map_builder *b)
{
	free(b->syms);
	free(b->arena.buf);
	memset(b, 0, sizeof(*b));
}

/*
 * Adds line s[0..eol) when it is an entry and the budget holds it: its piece
 * and its name. (A line inside an older one splits it in two: one piece more,
 * not charged, so a map of such lines may pass the budget by 24 bytes each.)
 */
static int builder_line(struct map_builder *b, const char *s, const char *eol)
{
	struct sym_perfmap_sym sym = {0}, *grown;
	size_t name_len, charge, cap;
	const char *name;

	if (eol - s > (ptrdiff_t)SYM_PERFMAP_MAX_LINE)
		eol = s + SYM_PERFMAP_MAX_LINE;
	if (!parse_line(s, eol, &sym, &name, &name_len))
		return 0;
	charge = sizeof(sym) + name_len + 1;
	if (b->nr >= SYM_PERFMAP_MAX_SYMS || charge > b->budget - b->charged) {
		b->refused++;
		return 0;
	}
	if (b->nr == b->cap) {
		cap = b->cap ? b->cap * 2 : 64;
		grown = reallocarray(b->syms, cap, sizeof(*b->syms));
		if (!grown)
			return -ENOMEM;
		b->syms = grown;
		b->cap = cap;
	}
	sym.name_off = sym_arena__add(&b->arena, name, name_len);
	if (!sym.name_off)
		return -ENOMEM;
	sym.seq = (uint32_t)b->nr;
	b->syms[b->nr++] = sym;
	b->charged += charge;
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct sym_perfmap_sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A max-heap of indices into syms, by seq. */
struct seq_heap {
	const struct sym_perfmap_sym *syms;
	uint32_t *idx;
	size_t nr;
};

static bool heap_above(const struct seq_heap *h, size_t a, size_t b)
{
	return h->syms[h->idx[a]].seq > h->syms[h->idx[b]].seq;
}

static void heap_swap(struct seq_heap *h, size_t a, size_t b)
{
	uint32_t t = h->idx[a];

	h->idx[a] = h->idx[b];
	h->idx[b] = t;
}

static void heap_push(struct seq_heap *h, uint32_t i)
{
	size_t at = h->nr++;

	h->idx[at] = i;
	while (at && heap_above(h, at, (at - 1) / 2)) {
		heap_swap(h, at, (at - 1) / 2);
		at = (at - 1) / 2;
	}
}

static void heap_pop(struct seq_heap *h)
{
	size_t at = 0, l, r, top;

	h->idx[0] = h->idx[--h->nr];
	for (;;) {
		l = 2 * at + 1;
		r = l + 1;
		top = at;
		if (l < h->nr && heap_above(h, l, top))
			top = l;
		if (r < h->nr && heap_above(h, r, top))
			top = r;
		if (top == at)
			break;
		heap_swap(h, at, top);
		at = top;
	}
}

/*
 * in[0..nr) sorted by start -> sorted, non-overlapping pieces, each address
 * named by the entry of the highest seq covering it; *ret is malloc'ed.
 */
static int resolve(const struct sym_perfmap_sym *in, size_t nr, struct sym_perfmap_sym **ret,
		   size_t *ret_nr)
{
	struct seq_heap h = {.syms = in};
	struct sym_perfmap_sym *out = NULL, *grown;
	size_t i = 0, n = 0, cap = nr + 1, last = SIZE_MAX;
	uint64_t pos = 0, next;
	uint32_t top;
	int err = 0;

	h.idx = malloc((nr + 1) * sizeof(*h.idx));
	out = malloc(cap * sizeof(*out));
	if (!h.idx || !out) {
		err = -ENOMEM;
		goto out;
	}
	while (i < nr || h.nr) {
		if (!h.nr)
			pos = in[i].start;
		while (i < nr && in[i].start <= pos)
			heap_push(&h, (uint32_t)i++);
		while (h.nr && in[h.idx[0]].end <= pos)
			heap_pop(&h);
		if (!h.nr)
			continue;
		top = h.idx[0];
		next = in[top].end;
		if (i < nr && in[i].start < next)
			next = in[i].start;
		if (last == top && out[n - 1].end == pos) {
			out[n - 1].end = next;
		} else {
			if (n == cap) {
				cap *= 2;
				grown = reallocarray(out, cap, sizeof(*out));
				if (!grown) {
					err = -ENOMEM;
					goto out;
				}
				out = grown;
			}
			out[n] = in[top];
			out[n].start = pos;
			out[n].end = next;
			n++;
			last = top;
		}
		pos = next;
	}
	grown = reallocarray(out, n ? n : 1, sizeof(*out));
	*ret = grown ? grown : out;
	*ret_nr = n;
	out = NULL;
out:
	free(h.idx);
	free(out);
	return err;
}

static size_t map_bytes(const struct sym_perfmap *pm)
{
	return sizeof(*pm) + pm->nr * sizeof(*pm->syms) + pm->strs_len;
}

/* The builder's lines as a map (NULL when it has none); the builder is emptied. */
static int builder_finish(struct map_builder *b, struct sym_perfmap **ret)
{
	struct sym_perfmap *pm = NULL;
	char *strs;
	int err = 0;

	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		err = -ENOMEM;
		goto out;
	}
	if (b->nr)
		qsort(b->syms, b->nr, sizeof(*b->syms), cmp_start);
	err = resolve(b->syms, b->nr, &pm->syms, &pm->nr);
	if (err)
		goto out;
	strs = realloc(b->arena.buf, b->arena.len);
	pm->strs = strs ? strs : b->arena.buf;
	pm->strs_len = b->arena.len;
	b->arena.buf = NULL;
	pm->bytes = map_bytes(pm);
	*ret = pm;
	pm = NULL;
out:
	sym_perfmap__free(pm);
	builder_free(b);
	return err;
}

int sym_perfmap__parse(const char *text, size_t len, struct sym_perfmap **ret)
{
	const char *p = text, *end = text + len, *eol;
	struct map_builder b;
	int err;

	err = builder_init(&b, SIZE_MAX);
	while (!err && p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		err = builder_line(&b, p, eol);
		p = eol + 1;
	}
	if (err) {
		builder_free(&b);
		return err;
	}
	return builder_finish(&b, ret);
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

/*
 * maps[0..nr), oldest first, folded into one map where a later map's entry
 * wins where they overlap. The inputs are left alone.
 */
static int fold_maps(struct sym_perfmap *const *maps, size_t nr, struct sym_perfmap **ret)
{
	struct sym_perfmap_sym *all = NULL, *pieces = NULL;
	struct sym_arena arena = {0};
	struct sym_perfmap *pm = NULL;
	size_t total = 0, i, j, nr_pieces = 0;
	uint32_t last_src = UINT32_MAX, last_off = 0, off = 0;
	const char *name;
	int err = 0;

	for (i = 0; i < nr; i++)
		total += maps[i]->nr;
	all = malloc((total + 1) * sizeof(*all));
	pm = calloc(1, sizeof(*pm));
	if (!all || !pm || (!sym_arena__add(&arena, "", 0) && !arena.buf)) {
		err = -ENOMEM;
		goto out;
	}
	total = 0;
	for (i = 0; i < nr; i++) {
		for (j = 0; j < maps[i]->nr; j++) {
			all[total] = maps[i]->syms[j];
			all[total++].seq = (uint32_t)i; /* one map's entries never overlap */
		}
	}
	qsort(all, total, sizeof(*all), cmp_start);
	err = resolve(all, total, &pieces, &nr_pieces);
	if (err)
		goto out;
	for (i = 0; i < nr_pieces; i++) {
		if (pieces[i].seq != last_src || pieces[i].name_off != last_off) {
			last_src = pieces[i].seq;
			last_off = pieces[i].name_off;
			name = maps[last_src]->strs + last_off;
			off = sym_arena__add(&arena, name, strlen(name));
			if (!off) {
				err = -ENOMEM;
				goto out;
			}
		}
		pieces[i].name_off = off;
		pieces[i].seq = 0;
	}
	pm->syms = pieces;
	pm->nr = nr_pieces;
	pieces = NULL;
	pm->strs = realloc(arena.buf, arena.len);
	if (!pm->strs)
		pm->strs = arena.buf;
	pm->strs_len = arena.len;
	arena.buf = NULL;
	pm->bytes = map_bytes(pm);
	*ret = pm;
	pm = NULL;
out:
	free(all);
	free(pieces);
	free(arena.buf);
	sym_perfmap__free(pm);
	return err;
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

/* What /proc/PID/status says of a process: its namespace pid and its uids. */
struct proc_ids {
	pid_t nspid;
	uid_t uids[4]; /* real, effective, saved, filesystem */
	size_t nr_uids;
};

/* The numbers after "\n<key>" in text, up to max; the count. */
static size_t status_numbers(const char *text, const char *key, long *ret, size_t max)
{
	const char *line = strstr(text, key), *p;
	size_t n = 0;
	char *endp;
	long v;

	if (!line)
		return 0;
	p = line + strlen(key);
	while (n < max) {
		while (is_blank(*p))
			p++;
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		v = strtol(p, &endp, 10);
		if (errno || v < 0 || v > INT32_MAX)
			return 0;
		ret[n++] = v;
		p = endp;
	}
	return n;
}

static int read_status(pid_t pid, struct proc_ids *ret)
{
	long nspids[32], uids[4];
	size_t nr, i;
	char path[64], *text = NULL;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	err = sym_proc__read_text(path, &text, &len);
	if (err) {
		if (err == -ENOENT)
			err = -ESRCH;
		goto out;
	}
	ret->nr_uids = status_numbers(text, "\nUid:", uids, 4);
	if (!ret->nr_uids) {
		err = -EINVAL;
		goto out;
	}
	for (i = 0; i < ret->nr_uids; i++)
		ret->uids[i] = (uid_t)uids[i];
	/* The last NSpid is the innermost; kernels before 4.1 have none: no namespaces. */
	nr = status_numbers(text, "\nNSpid:", nspids, 32);
	ret->nspid = nr ? (pid_t)nspids[nr - 1] : pid;
	if (ret->nspid <= 0)
		err = -EINVAL;
out:
	free(text);
	return err;
}

static bool has_uid(const struct proc_ids *ids, uid_t uid)
{
	size_t i;

	for (i = 0; i < ids->nr_uids; i++) {
		if (ids->uids[i] == uid)
			return true;
	}
	return false;
}

/*
 * 0 when st may be read as the perf map of the process ids describes, or a
 * negative errno with why filled in.
 */
static int check_file(const struct stat *st, const struct proc_ids *ids, char *why, size_t len)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, len, "it is not a regular file");
		return -EINVAL;
	}
	if (has_uid(ids, st->st_uid))
		return 0;
	if (st->st_uid == 0 && (has_uid(ids, 0) || (st->st_mode & S_IROTH)))
		return 0;
	if (st->st_uid == 0)
		snprintf(why, len, "it is root's and the process (uid %u) cannot read it",
			 (unsigned int)ids->uids[0]);
	else
		snprintf(why, len, "it is owned by uid %u, not by the process (uid %u) or root",
			 (unsigned int)st->st_uid, (unsigned int)ids->uids[0]);
	return -EPERM;
}

__attribute__((format(printf, 3, 4))) static void
perfmaps_log(struct sym_perfmaps *c, enum sym_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(level, msg, c->log_ctx);
}

/* Counts and logs a refused file once per process, until a look accepts one again. */
static void proc_refuse(struct sym_perfmaps *c, struct perfmap_proc *e, pid_t nspid,
			const char *why)
{
	if (e->refused)
		return;
	e->refused = true;
	c->refusals++;
	perfmaps_log(c, c->refusals <= WARN_REFUSALS ? SYM_LOG_WARN : SYM_LOG_DEBUG,
		     "refusing to read the perf map /proc/%d/root/tmp/perf-%d.map: %s; the JIT "
		     "frames of pid %d stay unnamed",
		     (int)e->pid, (int)nspid, why, (int)e->pid);
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

static void proc_account(struct sym_perfmaps *c, struct perfmap_proc *e)
{
	size_t i, bytes = e->base ? e->base->bytes : 0;

	for (i = 0; i < e->nr_chunks; i++)
		bytes += e->chunks[i].map->bytes;
	c->bytes = c->bytes - e->bytes + bytes;
	e->bytes = bytes;
}

/* Forgets everything read from e's file. */
static void proc_reset(struct sym_perfmaps *c, struct perfmap_proc *e)
{
	size_t i;

	sym_perfmap__free(e->base);
	e->base = NULL;
	for (i = 0; i < e->nr_chunks; i++)
		sym_perfmap__free(e->chunks[i].map);
	e->nr_chunks = 0;
	free(e->partial);
	e->partial = NULL;
	e->partial_len = 0;
	e->overlong = false;
	e->have_file = false;
	e->file_off = 0;
	e->file_seen = 0;
	proc_account(c, e);
}

static void proc_evict(struct sym_perfmaps *c, struct perfmap_proc *e)
{
	lru_unlink(e);
	proc_reset(c, e);
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

/*
 * Folds e's oldest nr chunks: into base, or (into_base false) into one chunk
 * that takes the place of the first (its previous look is the oldest).
 */
static int proc_fold(struct sym_perfmaps *c, struct perfmap_proc *e, size_t nr, bool into_base)
{
	struct sym_perfmap *maps[MAX_CHUNKS + 1], *folded = NULL;
	size_t n = 0, i, keep = into_base ? 0 : 1;
	int err;

	if (into_base && e->base)
		maps[n++] = e->base;
	for (i = 0; i < nr; i++)
		maps[n++] = e->chunks[i].map;
	err = fold_maps(maps, n, &folded);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		sym_perfmap__free(maps[i]);
	if (into_base)
		e->base = folded;
	else
		e->chunks[0].map = folded;
	memmove(&e->chunks[keep], &e->chunks[nr], (e->nr_chunks - nr) * sizeof(e->chunks[0]));
	e->nr_chunks -= nr - keep;
	proc_account(c, e);
	return 0;
}

/* Whether chunk ch counts for names as of c->as_of_ns. */
static bool chunk_counts(const struct sym_perfmaps *c, const struct perfmap_chunk *ch)
{
	return !c->as_of_ns || ch->prev_look_ns < c->as_of_ns;
}

/* Adds map as e's newest chunk, folding when too many pile up. */
static int proc_add_chunk(struct sym_perfmaps *c, struct perfmap_proc *e, struct sym_perfmap *map,
			  uint64_t prev_look_ns)
{
	size_t counting = 0, bytes = 0, i;
	int err = 0;

	if (e->nr_chunks == MAX_CHUNKS)
		err = proc_fold(c, e, MAX_CHUNKS / 2, true);
	if (err) {
		sym_perfmap__free(map);
		return err;
	}
	e->chunks[e->nr_chunks++] =
		(struct perfmap_chunk){.map = map, .prev_look_ns = prev_look_ns};
	proc_account(c, e);
	/* Counting now, it counts for every later time: base as it is, no copy. */
	if (!e->base && chunk_counts(c, &e->chunks[0])) {
		e->base = e->chunks[0].map;
		memmove(&e->chunks[0], &e->chunks[1], (e->nr_chunks - 1) * sizeof(e->chunks[0]));
		e->nr_chunks--;
	}
	while (counting < e->nr_chunks && chunk_counts(c, &e->chunks[counting]))
		counting++;
	if (counting < FOLD_CHUNKS)
		return 0;
	for (i = 0; i < counting; i++)
		bytes += e->chunks[i].map->bytes;
	/* Small growth of a big map: fold the growth alone, not a second copy of base. */
	return proc_fold(c, e, counting, !e->base || bytes * 4 >= e->base->bytes);
}

/* Appends up to SYM_PERFMAP_MAX_LINE bytes of a line to e's partial line. */
static int partial_append(struct perfmap_proc *e, const char *s, size_t len)
{
	size_t room = SYM_PERFMAP_MAX_LINE - e->partial_len;

	if (!e->partial) {
		e->partial = malloc(SYM_PERFMAP_MAX_LINE);
		if (!e->partial)
			return -ENOMEM;
	}
	if (len > room) {
		len = room;
		e->overlong = true;
	}
	memcpy(e->partial + e->partial_len, s, len);
	e->partial_len += len;
	return 0;
}

/* Feeds newly read bytes: complete lines to b, the rest to e's partial line. */
static int proc_feed(struct perfmap_proc *e, struct map_builder *b, const char *p, size_t len)
{
	const char *end = p + len, *nl;
	int err = 0;

	while (!err && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (e->partial_len || e->overlong) {
			err = partial_append(e, p, (size_t)(nl - p));
			if (!err)
				err = builder_line(b, e->partial, e->partial + e->partial_len);
			e->partial_len = 0;
			e->overlong = false;
		} else {
			err = builder_line(b, p, nl);
		}
		p = nl + 1;
	}
	if (!err && p < end)
		err = partial_append(e, p, (size_t)(end - p));
	if (!e->partial_len && !e->overlong) {
		free(e->partial);
		e->partial = NULL;
	}
	return err;
}

/* Reads fd from e->file_off to size (capped), into one new chunk. */
static int proc_read(struct sym_perfmaps *c, struct perfmap_proc *e, int fd, uint64_t size,
		     uint64_t prev_look_ns)
{
	uint64_t cap = c->max_proc_bytes, want, counted;
	struct sym_perfmap *map = NULL;
	struct map_builder b;
	size_t budget = 0, n;
	char *buf = NULL;
	ssize_t got;
	int err;

	counted = e->file_seen > cap ? e->file_seen : cap;
	if (size > counted)
		c->bytes_refused += size - counted;
	if (size > e->file_seen)
		e->file_seen = size;
	want = (size < cap ? size : cap) - e->file_off;
	if (!want)
		return 0;
	if (cap > e->bytes + sizeof(*map) + 1)
		budget = cap - e->bytes - sizeof(*map) - 1;
	err = builder_init(&b, budget);
	if (err)
		goto out;
	buf = malloc(want < READ_BLOCK ? want : READ_BLOCK);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (want) {
		n = want < READ_BLOCK ? (size_t)want : READ_BLOCK;
		got = pread(fd, buf, n, (off_t)e->file_off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			goto out;
		}
		if (got == 0)
			break;
		e->file_off += (uint64_t)got;
		want -= (uint64_t)got;
		c->bytes_read += (uint64_t)got;
		err = proc_feed(e, &b, buf, (size_t)got);
		if (err)
			goto out;
	}
	c->reads++;
	c->entries += b.nr;
	c->entries_refused += b.refused;
	if (!b.nr)
		goto out;
	err = builder_finish(&b, &map);
	if (!err)
		err = proc_add_chunk(c, e, map, prev_look_ns);
out:
	builder_free(&b);
	free(buf);
	return err;
}

/*
 * Looks at e's file and reads what was appended since the last look. Keeps
 * what was read before when the file cannot be looked at (the process is
 * gone) or is refused.
 */
static int proc_refresh(struct sym_perfmaps *c, struct perfmap_proc *e)
{
	uint64_t prev_look_ns = e->looked_ns;
	struct proc_ids ids = {0};
	char path[64], why[128];
	struct stat st;
	int fd = -1, err;

	e->looked_ns = now_ns();
	err = read_status(e->pid, &ids);
	if (err)
		goto out;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)ids.nspid);
	err = sym_proc__open_in_root(e->pid, path, O_NOFOLLOW, &fd);
	if (err == -ELOOP)
		proc_refuse(c, e, ids.nspid, "it is a symbolic link");
	if (err)
		goto out;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	err = check_file(&st, &ids, why, sizeof(why));
	if (err) {
		proc_refuse(c, e, ids.nspid, why);
		goto out;
	}
	e->refused = false;
	if (e->have_file &&
	    ((uint64_t)st.st_dev != e->file_dev || (uint64_t)st.st_ino != e->file_ino ||
	     (uint64_t)st.st_size < e->file_off))
		proc_reset(c, e);
	e->have_file = true;
	e->file_dev = (uint64_t)st.st_dev;
	e->file_ino = (uint64_t)st.st_ino;
	if ((uint64_t)st.st_size > e->file_off)
		err = proc_read(c, e, fd, (uint64_t)st.st_size, prev_look_ns);
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

/* Whether e holds anything read. */
static bool proc_has_map(const struct perfmap_proc *e)
{
	return e->base || e->nr_chunks;
}

/*
 * The entry naming addr as of c->as_of_ns: the newest counting chunk that
 * covers it, then base, then the oldest later chunk. *ret_pm is its map.
 */
static const struct sym_perfmap_sym *proc_find(const struct sym_perfmaps *c,
					       const struct perfmap_proc *e, uint64_t addr,
					       const struct sym_perfmap **ret_pm)
{
	const struct sym_perfmap_sym *sym;
	size_t counting = 0, i;

	while (counting < e->nr_chunks && chunk_counts(c, &e->chunks[counting]))
		counting++;
	for (i = counting; i-- > 0;) {
		sym = sym_perfmap__find(e->chunks[i].map, addr);
		if (sym) {
			*ret_pm = e->chunks[i].map;
			return sym;
		}
	}
	if (e->base) {
		sym = sym_perfmap__find(e->base, addr);
		if (sym) {
			*ret_pm = e->base;
			return sym;
		}
	}
	for (i = counting; i < e->nr_chunks; i++) {
		sym = sym_perfmap__find(e->chunks[i].map, addr);
		if (sym) {
			*ret_pm = e->chunks[i].map;
			return sym;
		}
	}
	return NULL;
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
	c->max_proc_bytes = opts->max_proc_bytes ? opts->max_proc_bytes : DEFAULT_PROC_BYTES;
	if (c->max_proc_bytes > c->max_bytes)
		c->max_proc_bytes = c->max_bytes;
	c->reread_ns = opts->reread_ns ? opts->reread_ns : DEFAULT_REREAD_NS;
	c->log = opts->log;
	c->log_ctx = opts->log_ctx;
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

void sym_perfmaps__set_time(struct sym_perfmaps *c, uint64_t mono_ns)
{
	c->as_of_ns = mono_ns;
}

int sym_perfmaps__lookup(struct sym_perfmaps *c, pid_t pid, uint64_t addr, struct sym_result *res)
{
	const struct sym_perfmap_sym *sym = NULL;
	const struct sym_perfmap *pm = NULL;
	struct perfmap_proc *e;
	int err = 0;

	e = proc_get(c, pid);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	/* No look since the time asked for, or none for reread_ns: look now. */
	if ((c->as_of_ns && e->looked_ns < c->as_of_ns) ||
	    now_ns() - e->looked_ns >= c->reread_ns) {
		proc_refresh(c, e);
		enforce_caps(c, e);
	}
	sym = proc_find(c, e, addr, &pm);
	if (!sym) {
		err = proc_has_map(e) ? -ENOENT : e->err ? e->err : -ENOENT;
		goto out;
	}
	res->frames[0] = (struct sym_frame){.name = pm->strs + sym->name_off};
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
	return proc_has_map(e) ? 0 : e->err;
}

void sym_perfmaps__stats(const struct sym_perfmaps *c, struct symbolizer_stats *ret)
{
	ret->perfmap_hits = c->hits;
	ret->perfmap_misses = c->misses;
	ret->perfmap_reads = c->reads;
	ret->perfmap_failures = c->failures;
	ret->perfmap_evictions = c->evictions;
	ret->perfmap_refused = c->refusals;
	ret->perfmap_bytes_read = c->bytes_read;
	ret->perfmap_bytes_refused = c->bytes_refused;
	ret->perfmap_entries = c->entries;
	ret->perfmap_entries_refused = c->entries_refused;
	ret->perfmaps_cached = c->nr_procs;
	ret->perfmap_bytes_cached = c->bytes;
}
