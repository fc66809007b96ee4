// SPDX-License-Identifier: MIT
/*
 * stacks: frames interned by value and call trees built from pprof samples.
 *
 * Data structures:
 * - strings: every name and file is copied once into its own allocation and
 *   interned in an open-addressing set, so frames and functions compare by
 *   string id (< 2^30).
 * - id maps: open-addressing tables (linear probing, load <= 1/2) from a key
 *   of three u32 compared field by field to a u64, one per kind of key:
 *   frames (name, file, kind), functions (name, file) and hottest-line
 *   weights (function, line). Nothing is packed into one integer, so two
 *   distinct frames can never share a key (a packed key once let an unnamed
 *   frame's key equal a function's, and the frame took another's name).
 * - samples: every sample of every profile is kept as a compact record (slot,
 *   process frame, value, count) and its frames, root first, in one pool of
 *   u32, so an hour of 200,000 samples costs a few dozen MB.
 * - trees: built by stacks__build() from the samples sorted by stack. In that
 *   order the open nodes form one path and a node is complete as soon as the
 *   next stack leaves it; nodes are created in preorder, so a complete node
 *   under the prune threshold is the whole tail of the node array and is
 *   dropped by truncating it. Memory is the kept nodes plus one path, not
 *   the full tree (which for random stacks is ~depth nodes per sample).
 *
 * Per profile, each location is turned once into its frames (outermost line
 * first, since pprof lists inlined lines innermost first).
 */
#define _GNU_SOURCE /* qsort_r() */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stacks.h"
#include "textesc.h"

#define STR_MAX		(1u << 30)
#define KERNEL_ADDR_MIN 0xffff800000000000ull

/*
 * The key of an id map, compared field by field. Each kind of key has a map
 * of its own, so no two distinct frames, functions or lines can share one.
 */
struct idkey {
	uint32_t a, b, c;
};

struct idmap_slot {
	struct idkey key;
	bool used;
	uint64_t val;
};

struct idmap {
	struct idmap_slot *slots;
	size_t cap; /* power of two */
	size_t nr;
};

struct strset {
	char **strs; /* by id */
	uint64_t *hashes; /* by id */
	size_t nr, alloc;
	uint32_t *slots; /* ids, STACKS_NONE when empty */
	size_t cap;
};

struct tree {
	struct stacks_node *nodes;
	size_t nr, alloc;
};

struct func_priv {
	struct stacks_func pub;
	uint32_t name_id, file_id;
	int64_t start_line;
	int64_t best_line_w;
};

struct sample_rec {
	size_t off; /* frames in stacks->pool[off .. off + len) */
	uint32_t len;
	uint32_t process_frame;
	int64_t val;
	int64_t cnt;
	enum stacks_slot slot;
};

struct stacks {
	unsigned int want;
	struct sample_rec *samples;
	size_t nr_samples, alloc_samples;
	uint32_t *pool;
	size_t nr_pool, alloc_pool;
	uint64_t pruned;
	struct strset strs;
	struct idmap frame_ids; /* (name, file, kind) -> frame */
	struct idmap func_ids; /* (name, file) -> function */
	struct idmap line_weights; /* (function, line) -> value of its samples */
	struct stacks_frame *frames;
	size_t nr_frames, alloc_frames;
	struct func_priv *funcs;
	size_t nr_funcs, alloc_funcs;
	struct tree trees[STACKS_NR_TREES];
	struct stacks_tree views[STACKS_NR_TREES];
	struct stacks_totals totals[STACKS_NR_SLOTS];
	uint32_t type_id, unit_id; /* STACKS_NONE until the first profile */
};

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return hash64(h);
}

static int grow(void **arr, size_t *alloc, size_t need, size_t elem)
{
	size_t n = *alloc ? *alloc : 64;
	void *p;

	if (need <= *alloc)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		n *= 2;
	}
	p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*alloc = n;
	return 0;
}

/* a + b, clamped to the range of int64_t. */
static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* idmap */

static uint64_t idkey__hash(const struct idkey *k)
{
	return hash64(((uint64_t)k->a << 32 | k->b) ^ hash64(k->c));
}

static bool idkey__eq(const struct idkey *x, const struct idkey *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c;
}

static int idmap__rehash(struct idmap *m, size_t cap)
{
	struct idmap_slot *slots = calloc(cap, sizeof(*slots));
	size_t i, j;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		if (!m->slots[i].used)
			continue;
		j = idkey__hash(&m->slots[i].key) & (cap - 1);
		while (slots[j].used)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/*
 * Finds key; when absent and insert is set, adds it with value val. Returns
 * a pointer to the value, or NULL (absent, or out of memory when inserting:
 * *err tells).
 */
static uint64_t *idmap__get(struct idmap *m, const struct idkey *key, bool insert, uint64_t val,
			    int *err)
{
	size_t j;

	*err = 0;
	if (insert && (m->nr + 1) * 2 > m->cap) {
		*err = idmap__rehash(m, m->cap ? m->cap * 2 : 1024);
		if (*err)
			return NULL;
	}
	if (!m->cap)
		return NULL;
	j = idkey__hash(key) & (m->cap - 1);
	while (m->slots[j].used) {
		if (idkey__eq(&m->slots[j].key, key))
			return &m->slots[j].val;
		j = (j + 1) & (m->cap - 1);
	}
	if (!insert)
		return NULL;
	m->slots[j].used = true;
	m->slots[j].key = *key;
	m->slots[j].val = val;
	m->nr++;
	return &m->slots[j].val;
}

/* strset */

static int strset__rehash(struct strset *ss, size_t cap)
{
	uint32_t *slots = malloc(cap * sizeof(*slots));
	size_t i;

	if (!slots)
		return -ENOMEM;
	memset(slots, 0xff, cap * sizeof(*slots));
	for (i = 0; i < ss->nr; i++) {
		size_t j = ss->hashes[i] & (cap - 1);

		while (slots[j] != STACKS_NONE)
			j = (j + 1) & (cap - 1);
		slots[j] = (uint32_t)i;
	}
	free(ss->slots);
	ss->slots = slots;
	ss->cap = cap;
	return 0;
}

/* Interns s (copied); *ret_id is its id. Returns 0, -E2BIG or -ENOMEM. */
static int strset__intern(struct strset *ss, const char *s, uint32_t *ret_id)
{
	uint64_t h = hash_str(s);
	size_t j;
	int err;

	if ((ss->nr + 1) * 2 > ss->cap) {
		err = strset__rehash(ss, ss->cap ? ss->cap * 2 : 1024);
		if (err)
			return err;
	}
	j = h & (ss->cap - 1);
	while (ss->slots[j] != STACKS_NONE) {
		uint32_t id = ss->slots[j];

		if (ss->hashes[id] == h && !strcmp(ss->strs[id], s)) {
			*ret_id = id;
			return 0;
		}
		j = (j + 1) & (ss->cap - 1);
	}
	if (ss->nr >= STR_MAX)
		return -E2BIG;
	if (ss->nr == ss->alloc) {
		size_t alloc = ss->alloc ? ss->alloc * 2 : 1024;
		char **strs = realloc(ss->strs, alloc * sizeof(*strs));
		uint64_t *hashes;

		if (!strs)
			return -ENOMEM;
		ss->strs = strs;
		hashes = realloc(ss->hashes, alloc * sizeof(*hashes));
		if (!hashes)
			return -ENOMEM;
		ss->hashes = hashes;
		ss->alloc = alloc;
	}
	ss->strs[ss->nr] = strdup(s);
	if (!ss->strs[ss->nr])
		return -ENOMEM;
	ss->hashes[ss->nr] = h;
	ss->slots[j] = (uint32_t)ss->nr;
	*ret_id = (uint32_t)ss->nr++;
	return 0;
}

static void strset__free(struct strset *ss)
{
	size_t i;

	for (i = 0; i < ss->nr; i++)
		free(ss->strs[i]);
	free(ss->strs);
	free(ss->hashes);
	free(ss->slots);
}

/* construction */

struct stacks *stacks__new(unsigned int want)
{
	struct stacks *s = calloc(1, sizeof(*s));
	uint32_t empty_id;
	int i, err;

	if (!s)
		return NULL;
	s->want = want;
	s->type_id = STACKS_NONE;
	s->unit_id = STACKS_NONE;
	err = strset__intern(&s->strs, "", &empty_id);
	if (err)
		goto err_free;
	for (i = 0; i < STACKS_NR_SLOTS; i++) {
		s->totals[i].type = "";
		s->totals[i].unit = "";
	}
	return s;

err_free:
	stacks__free(s);
	errno = -err;
	return NULL;
}

void stacks__free(struct stacks *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < STACKS_NR_TREES; i++)
		free(s->trees[i].nodes);
	free(s->samples);
	free(s->pool);
	free(s->frames);
	free(s->funcs);
	free(s->frame_ids.slots);
	free(s->func_ids.slots);
	free(s->line_weights.slots);
	strset__free(&s->strs);
	free(s);
}

static int stacks__intern_func(struct stacks *s, uint32_t name_id, uint32_t file_id,
			       int64_t start_line, enum stacks_kind kind, uint32_t *ret)
{
	struct idkey key = {.a = name_id, .b = file_id};
	struct func_priv *f;
	uint64_t *v;
	int err;

	v = idmap__get(&s->func_ids, &key, true, s->nr_funcs, &err);
	if (!v)
		return err;
	if (*v == s->nr_funcs) {
		if (s->nr_funcs >= STACKS_MAX_FRAMES)
			return -E2BIG;
		err = grow((void **)&s->funcs, &s->alloc_funcs, s->nr_funcs + 1, sizeof(*s->funcs));
		if (err)
			return err;
		f = &s->funcs[s->nr_funcs++];
		memset(f, 0, sizeof(*f));
		f->name_id = name_id;
		f->file_id = file_id;
		f->pub.name = s->strs.strs[name_id];
		f->pub.file = s->strs.strs[file_id];
		f->pub.kind = kind;
	}
	f = &s->funcs[*v];
	if (start_line > 0 && !f->start_line)
		f->start_line = start_line;
	*ret = (uint32_t)*v;
	return 0;
}

/* Interns a frame; process frames (kind STACKS_KIND_PROCESS) have no function. */
static int stacks__intern_frame(struct stacks *s, uint32_t name_id, uint32_t file_id,
				int64_t start_line, enum stacks_kind kind, uint32_t *ret)
{
	struct idkey key = {.a = name_id, .b = file_id, .c = (uint32_t)kind};
	struct stacks_frame *fr;
	uint32_t func = STACKS_NONE;
	uint64_t *v;
	int err;

	if (kind != STACKS_KIND_PROCESS) {
		err = stacks__intern_func(s, name_id, file_id, start_line, kind, &func);
		if (err)
			return err;
	}
	v = idmap__get(&s->frame_ids, &key, true, s->nr_frames, &err);
	if (!v)
		return err;
	if (*v == s->nr_frames) {
		if (s->nr_frames >= STACKS_MAX_FRAMES)
			return -E2BIG;
		err = grow((void **)&s->frames, &s->alloc_frames, s->nr_frames + 1,
			   sizeof(*s->frames));
		if (err)
			return err;
		fr = &s->frames[s->nr_frames++];
		/* Each string has its own allocation: the pointer stays valid. */
		fr->name = s->strs.strs[name_id];
		fr->file = s->strs.strs[file_id];
		fr->func = func;
		fr->kind = kind;
	}
	*ret = (uint32_t)*v;
	return 0;
}

static bool mapping_is_kernel(const char *file)
{
	return !strncmp(file, "[kernel", 7) || !strcmp(file, "[vmlinux]");
}

static bool mapping_is_jit(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t len;

	base = base ? base + 1 : file;
	len = strlen(base);
	if (!*file || !strcmp(file, "[anon]") || !strncmp(file, "[anon:", 6) ||
	    !strncmp(file, "//anon", 6))
		return true;
	return len > 9 && !strncmp(base, "perf-", 5) && !strcmp(base + len - 4, ".map");
}

struct profile_ctx {
	const pprof_profile_t *p;
	uint32_t *str_ids; /* profile string index -> interned id */
	uint32_t *loc_frames; /* frames of every location, outermost first */
	size_t *loc_off; /* location i: loc_frames[loc_off[i] .. loc_off[i + 1]) */
	int64_t *loc_val; /* value of the samples through each location */
	size_t nr_loc_frames, alloc_loc_frames;
};

static int ctx__str(struct stacks *s, struct profile_ctx *c, int64_t i, uint32_t *ret)
{
	int err;

	if (i < 0 || (size_t)i >= c->p->n_string_table)
		i = 0;
	if (c->str_ids[i] == STACKS_NONE) {
		err = strset__intern(&s->strs, c->p->string_table[i], &c->str_ids[i]);
		if (err)
			return err;
	}
	*ret = c->str_ids[i];
	return 0;
}

static int ctx__push_frame(struct profile_ctx *c, uint32_t frame)
{
	int err = grow((void **)&c->loc_frames, &c->alloc_loc_frames, c->nr_loc_frames + 1,
		       sizeof(*c->loc_frames));

	if (err)
		return err;
	c->loc_frames[c->nr_loc_frames++] = frame;
	return 0;
}

static int stacks__location_frames(struct stacks *s, struct profile_ctx *c, size_t li)
{
	const Perftools__Profiles__Location *loc = c->p->location[li];
	const Perftools__Profiles__Mapping *m = NULL;
	const char *map_file = "";
	bool kernel = loc->address >= KERNEL_ADDR_MIN, jit = false;
	uint32_t name_id, file_id, frame, empty_id = 0; /* "" is interned first */
	char buf[600];
	size_t i;
	int err;

	if (loc->mapping_id && loc->mapping_id <= c->p->n_mapping) {
		m = c->p->mapping[loc->mapping_id - 1];
		map_file = pprof__str(c->p, m->filename);
		kernel = kernel || mapping_is_kernel(map_file);
		jit = !kernel && mapping_is_jit(map_file);
	}
	/* lines[] is innermost first; frames go outermost first. */
	for (i = loc->n_line; i-- > 0;) {
		const Perftools__Profiles__Line *ln = loc->line[i];
		const Perftools__Profiles__Function *fn = NULL;
		enum stacks_kind kind;
		const char *name = "";

		if (ln->function_id && ln->function_id <= c->p->n_function) {
			fn = c->p->function[ln->function_id - 1];
			name = pprof__str(c->p, fn->name);
			if (!*name)
				name = pprof__str(c->p, fn->system_name);
		}
		if (!*name)
			continue; /* an unnamed line: the address frame below names it */
		if (kernel)
			kind = STACKS_KIND_KERNEL;
		else if (i != loc->n_line - 1)
			kind = STACKS_KIND_INLINED;
		else if (jit)
			kind = STACKS_KIND_JIT;
		else
			kind = STACKS_KIND_USER;
		err = strset__intern(&s->strs, name, &name_id);
		if (err)
			return err;
		err = ctx__str(s, c, fn->filename, &file_id);
		if (err)
			return err;
		err = stacks__intern_frame(s, name_id, file_id, fn->start_line, kind, &frame);
		if (!err)
			err = ctx__push_frame(c, frame);
		if (err)
			return err;
	}
	if (c->nr_loc_frames > c->loc_off[li])
		return 0;
	if (m && *map_file) {
		const char *base = strrchr(map_file, '/');

		base = base && base[1] ? base + 1 : map_file;
		/* "[kernel.kallsyms]", "[vdso]" already carry their brackets. */
		if (base[0] == '[' && base[strlen(base) - 1] == ']')
			snprintf(buf, sizeof(buf), "0x%" PRIx64 " %.500s", loc->address, base);
		else
			snprintf(buf, sizeof(buf), "0x%" PRIx64 " [%.500s]", loc->address, base);
	} else {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, loc->address);
	}
	err = strset__intern(&s->strs, buf, &name_id);
	if (err)
		return err;
	err = stacks__intern_frame(s, name_id, empty_id, 0,
				   kernel ? STACKS_KIND_KERNEL : STACKS_KIND_UNKNOWN, &frame);
	if (err)
		return err;
	return ctx__push_frame(c, frame);
}

static int default_type_index(const pprof_profile_t *p)
{
	const char *want = pprof__str(p, p->default_sample_type);
	size_t i;

	if (p->default_sample_type)
		for (i = 0; i < p->n_sample_type; i++)
			if (!strcmp(pprof__str(p, p->sample_type[i]->type), want))
				return (int)i;
	return (int)p->n_sample_type - 1;
}

static int count_type_index(const pprof_profile_t *p)
{
	size_t i;

	for (i = 0; i < p->n_sample_type; i++)
		if (!strcmp(pprof__str(p, p->sample_type[i]->type), "samples") &&
		    !strcmp(pprof__str(p, p->sample_type[i]->unit), "count"))
			return (int)i;
	return -1;
}

static int stacks__add_sample(struct stacks *s, struct profile_ctx *c,
			      const Perftools__Profiles__Sample *sm, int64_t val, int64_t cnt,
			      enum stacks_slot slot, uint32_t process_frame)
{
	struct sample_rec *r;
	size_t i, need = 0;
	int err;

	for (i = 0; i < sm->n_location_id; i++) {
		size_t li = sm->location_id[i] - 1;

		need += c->loc_off[li + 1] - c->loc_off[li];
	}
	if (need > UINT32_MAX)
		return -E2BIG;
	err = grow((void **)&s->pool, &s->alloc_pool, s->nr_pool + need, sizeof(*s->pool));
	if (!err)
		err = grow((void **)&s->samples, &s->alloc_samples, s->nr_samples + 1,
			   sizeof(*s->samples));
	if (err)
		return err;
	r = &s->samples[s->nr_samples++];
	r->off = s->nr_pool;
	r->len = (uint32_t)need;
	r->process_frame = process_frame;
	r->val = val;
	r->cnt = cnt;
	r->slot = slot;
	/* location_id[] is leaf first. */
	for (i = sm->n_location_id; i-- > 0;) {
		size_t li = sm->location_id[i] - 1, k;

		for (k = c->loc_off[li]; k < c->loc_off[li + 1]; k++)
			s->pool[s->nr_pool++] = c->loc_frames[k];
		/* Recursion counts a location once per appearance: this may pass INT64_MAX. */
		c->loc_val[li] = add_sat(c->loc_val[li], val);
	}
	return 0;
}

/* Recomputes every function's line from its start line or its hottest line. */
static void stacks__update_lines(struct stacks *s)
{
	size_t i;

	for (i = 0; i < s->nr_funcs; i++)
		s->funcs[i].best_line_w = -1;
	for (i = 0; i < s->line_weights.cap; i++) {
		const struct idmap_slot *sl = &s->line_weights.slots[i];
		struct func_priv *f;
		int64_t w;

		if (!sl->used)
			continue;
		f = &s->funcs[sl->key.a];
		w = (int64_t)sl->val;
		/* Ties go to the lower line so that output does not depend on hashing. */
		if (w > f->best_line_w || (w == f->best_line_w && sl->key.b < f->pub.line)) {
			f->best_line_w = w;
			f->pub.line = sl->key.b;
		}
	}
	for (i = 0; i < s->nr_funcs; i++)
		if (s->funcs[i].start_line > 0)
			s->funcs[i].pub.line = s->funcs[i].start_line;
}

static int stacks__add_line_weights(struct stacks *s, struct profile_ctx *c)
{
	size_t li, i;
	int err;

	for (li = 0; li < c->p->n_location; li++) {
		const Perftools__Profiles__Location *loc = c->p->location[li];

		if (!c->loc_val[li])
			continue;
		for (i = 0; i < loc->n_line; i++) {
			const Perftools__Profiles__Line *ln = loc->line[i];
			struct idkey key;
			uint32_t frame;
			uint64_t *v;

			if (ln->line <= 0 || ln->line > UINT32_MAX)
				continue;
			/* The frame of line i is at the mirrored position (outermost first). */
			if (c->loc_off[li + 1] - c->loc_off[li] != loc->n_line)
				continue; /* some lines were unnamed: no safe pairing */
			frame = c->loc_frames[c->loc_off[li + 1] - 1 - i];
			if (s->frames[frame].func == STACKS_NONE)
				continue;
			key = (struct idkey){.a = s->frames[frame].func, .b = (uint32_t)ln->line};
			v = idmap__get(&s->line_weights, &key, true, 0, &err);
			if (!v)
				return err;
			*v = (uint64_t)add_sat((int64_t)*v, c->loc_val[li]);
		}
	}
	return 0;
}

int stacks__check_values(const pprof_profile_t *p, size_t *ret_sample, int64_t *ret_value)
{
	int64_t *sums;
	size_t i, k;
	int err = 0;

	sums = calloc(p->n_sample_type + 1, sizeof(*sums));
	if (!sums)
		return -ENOMEM;
	for (i = 0; i < p->n_sample && !err; i++) {
		const Perftools__Profiles__Sample *sm = p->sample[i];

		for (k = 0; k < sm->n_value && k < p->n_sample_type; k++) {
			if (sm->value[k] < 0)
				err = -ERANGE;
			else if (__builtin_add_overflow(sums[k], sm->value[k], &sums[k]))
				err = -EOVERFLOW;
			if (err) {
				*ret_sample = i;
				*ret_value = sm->value[k];
				break;
			}
		}
	}
	free(sums);
	return err;
}

int stacks__add_profile(struct stacks *s, const pprof_profile_t *p, enum stacks_slot slot)
{
	struct stacks_totals *tot = &s->totals[slot];
	size_t i;
	struct profile_ctx c = {.p = p};
	size_t first_sample = s->nr_samples, first_pool = s->nr_pool, bad_sample;
	int64_t bad_value, sum_val = 0, sum_cnt = 0;
	int vi, ci, err;
	uint32_t type_id, unit_id, unknown_comm;
	int64_t comm_key_idx = -1;

	if (!p->n_sample_type || !p->n_string_table) {
		err = -EINVAL;
		goto out;
	}
	/* Values >= 0 whose sums fit: then no sum over a subset of samples overflows. */
	err = stacks__check_values(p, &bad_sample, &bad_value);
	if (err)
		goto out;
	c.str_ids = malloc(p->n_string_table * sizeof(*c.str_ids));
	c.loc_off = calloc(p->n_location + 1, sizeof(*c.loc_off));
	c.loc_val = calloc(p->n_location + 1, sizeof(*c.loc_val));
	if (!c.str_ids || !c.loc_off || !c.loc_val) {
		err = -ENOMEM;
		goto out;
	}
	memset(c.str_ids, 0xff, p->n_string_table * sizeof(*c.str_ids));

	vi = default_type_index(p);
	ci = count_type_index(p);
	err = ctx__str(s, &c, p->sample_type[vi]->type, &type_id);
	if (!err)
		err = ctx__str(s, &c, p->sample_type[vi]->unit, &unit_id);
	if (err)
		goto out;
	if (s->type_id == STACKS_NONE) {
		s->type_id = type_id;
		s->unit_id = unit_id;
	} else if (s->type_id != type_id || s->unit_id != unit_id) {
		err = -EINVAL;
		goto out;
	}
	for (i = 0; i < p->n_string_table; i++)
		if (!strcmp(p->string_table[i], "comm")) {
			comm_key_idx = (int64_t)i;
			break;
		}
	err = strset__intern(&s->strs, "[unknown]", &unknown_comm);
	if (err)
		goto out;

	for (i = 0; i < p->n_location; i++) {
		c.loc_off[i] = c.nr_loc_frames;
		err = stacks__location_frames(s, &c, i);
		if (err)
			goto out;
	}
	c.loc_off[p->n_location] = c.nr_loc_frames;

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *sm = p->sample[i];
		uint32_t process_frame = STACKS_NONE, comm_id = unknown_comm;
		int64_t val, cnt;
		size_t k;

		val = (size_t)vi < sm->n_value ? sm->value[vi] : 0;
		cnt = ci >= 0 ? ((size_t)ci < sm->n_value ? sm->value[ci] : 0) : 1;
		if (!val && !cnt)
			continue;
		{
			for (k = 0; comm_key_idx > 0 && k < sm->n_label; k++)
				/* A label of "" (a repeated empty string) is no process name. */
				if (sm->label[k]->key == comm_key_idx &&
				    *pprof__str(c.p, sm->label[k]->str)) {
					err = ctx__str(s, &c, sm->label[k]->str, &comm_id);
					if (err)
						goto out;
					break;
				}
			err = stacks__intern_frame(s, comm_id, 0, 0, STACKS_KIND_PROCESS,
						   &process_frame);
			if (err)
				goto out;
		}
		err = stacks__add_sample(s, &c, sm, val, cnt, slot, process_frame);
		if (err)
			goto out;
		/* Checked above: these sums fit. */
		sum_val += val;
		sum_cnt += cnt;
	}
	if (__builtin_add_overflow(tot->val, sum_val, &sum_val) ||
	    __builtin_add_overflow(tot->cnt, sum_cnt, &sum_cnt)) {
		err = -EOVERFLOW;
		goto out;
	}
	err = stacks__add_line_weights(s, &c);
	if (err)
		goto out;
	tot->val = sum_val;
	tot->cnt = sum_cnt;
	tot->duration_nanos = add_sat(tot->duration_nanos, p->duration_nanos);
	tot->nr_profiles++;
	err = 0;

out:
	if (err) {
		/* All or nothing: forget this profile's samples. */
		s->nr_samples = first_sample;
		s->nr_pool = first_pool;
	}
	if (s->type_id != STACKS_NONE) {
		for (i = 0; i < STACKS_NR_SLOTS; i++) {
			s->totals[i].type = s->strs.strs[s->type_id];
			s->totals[i].unit = s->strs.strs[s->unit_id];
		}
	}
	stacks__update_lines(s);
	free(c.str_ids);
	free(c.loc_off);
	free(c.loc_val);
	free(c.loc_frames);
	return err;
}

const struct stacks_tree *stacks__tree(const struct stacks *s, enum stacks_tree_id id)
{
	if (!(s->want & (1u << id)) || !s->views[id].nr_nodes)
		return NULL;
	return &s->views[id];
}

const struct stacks_frame *stacks__frame(const struct stacks *s, uint32_t frame)
{
	return &s->frames[frame];
}

const struct stacks_func *stacks__func(const struct stacks *s, uint32_t func)
{
	return &s->funcs[func].pub;
}

size_t stacks__nr_frames(const struct stacks *s)
{
	return s->nr_frames;
}

size_t stacks__nr_funcs(const struct stacks *s)
{
	return s->nr_funcs;
}

const struct stacks_totals *stacks__totals(const struct stacks *s, enum stacks_slot slot)
{
	return &s->totals[slot];
}

int64_t stacks__self_val(const struct stacks_tree *t, uint32_t node, enum stacks_slot slot)
{
	int64_t v = t->nodes[node].val[slot];
	uint32_t c;

	for (c = t->nodes[node].first_child; c != STACKS_NONE; c = t->nodes[c].next_sibling)
		v -= t->nodes[c].val[slot];
	return v;
}

int64_t stacks__self_cnt(const struct stacks_tree *t, uint32_t node, enum stacks_slot slot)
{
	int64_t v = t->nodes[node].cnt[slot];
	uint32_t c;

	for (c = t->nodes[node].first_child; c != STACKS_NONE; c = t->nodes[c].next_sibling)
		v -= t->nodes[c].cnt[slot];
	return v;
}

int stacks__func_stats(const struct stacks *s, uint32_t process_frame,
		       struct stacks_func_stat **ret, size_t *ret_nr)
{
	struct stacks_func_stat *st = NULL;
	uint32_t *stamp = NULL;
	size_t i, k, nr = 0;
	int err;

	st = calloc(s->nr_funcs + 1, sizeof(*st));
	stamp = calloc(s->nr_funcs + 1, sizeof(*stamp));
	if (!st || !stamp) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nr_samples; i++) {
		const struct sample_rec *r = &s->samples[i];
		/* Stamps tell whether a function was seen in this sample: cum counts once. */
		uint32_t mark = (uint32_t)(i % UINT32_MAX) + 1;
		uint32_t f;

		if (process_frame != STACKS_NONE && r->process_frame != process_frame)
			continue;
		if (!r->len)
			continue;
		f = s->frames[s->pool[r->off + r->len - 1]].func;
		st[f].flat_val[r->slot] += r->val;
		st[f].flat_cnt[r->slot] += r->cnt;
		for (k = 0; k < r->len; k++) {
			f = s->frames[s->pool[r->off + k]].func;
			if (stamp[f] == mark)
				continue;
			stamp[f] = mark;
			st[f].cum_val[r->slot] += r->val;
			st[f].cum_cnt[r->slot] += r->cnt;
		}
	}
	for (i = 0; i < s->nr_funcs; i++) {
		if (!st[i].cum_cnt[STACKS_NEW] && !st[i].cum_cnt[STACKS_BASE] &&
		    !st[i].cum_val[STACKS_NEW] && !st[i].cum_val[STACKS_BASE])
			continue;
		st[nr] = st[i];
		st[nr].func = (uint32_t)i;
		nr++;
	}
	*ret = st;
	*ret_nr = nr;
	st = NULL;
	err = 0;
out:
	free(st);
	free(stamp);
	return err;
}

int stacks__processes(const struct stacks *s, struct stacks_process **ret, size_t *ret_nr)
{
	struct stacks_process *pr = NULL;
	uint32_t *index = NULL;
	size_t i, nr = 0;
	int err;

	pr = calloc(s->nr_frames + 1, sizeof(*pr));
	index = malloc((s->nr_frames + 1) * sizeof(*index));
	if (!pr || !index) {
		err = -ENOMEM;
		goto out;
	}
	memset(index, 0xff, (s->nr_frames + 1) * sizeof(*index));
	for (i = 0; i < s->nr_samples; i++) {
		const struct sample_rec *r = &s->samples[i];
		struct stacks_process *p;

		if (index[r->process_frame] == STACKS_NONE) {
			index[r->process_frame] = (uint32_t)nr;
			pr[nr++].frame = r->process_frame;
		}
		p = &pr[index[r->process_frame]];
		p->val[r->slot] += r->val;
		p->cnt[r->slot] += r->cnt;
	}
	*ret = pr;
	*ret_nr = nr;
	pr = NULL;
	err = 0;
out:
	free(pr);
	free(index);
	return err;
}

/* Frames of a sample, root first; NULL for none (the pool may not exist: no NULL + 0). */
static const uint32_t *sample_frames(const struct stacks *s, const struct sample_rec *r)
{
	return r->len ? &s->pool[r->off] : NULL;
}

/* Stack of sample i as the tree sees it: with its process frame first or not. */
static const uint32_t *sample_key(const struct stacks *s, const struct sample_rec *r, bool by_comm,
				  uint32_t *frame0, uint32_t *ret_len)
{
	*ret_len = r->len + by_comm;
	if (by_comm)
		*frame0 = r->process_frame;
	return sample_frames(s, r);
}

static uint32_t key_at(const uint32_t *key, uint32_t frame0, bool by_comm, uint32_t k)
{
	if (!by_comm)
		return key[k];
	return k ? key[k - 1] : frame0;
}

static int stack_cmp(const struct stacks *s, const struct sample_rec *x, const struct sample_rec *y)
{
	const uint32_t *xk = sample_frames(s, x), *yk = sample_frames(s, y);
	uint32_t n = x->len < y->len ? x->len : y->len, k;

	for (k = 0; k < n; k++)
		if (xk[k] != yk[k])
			return xk[k] < yk[k] ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int sample_cmp_machine(const void *a, const void *b, void *arg)
{
	const struct stacks *s = arg;

	return stack_cmp(s, &s->samples[*(const uint32_t *)a], &s->samples[*(const uint32_t *)b]);
}

static int sample_cmp_by_comm(const void *a, const void *b, void *arg)
{
	const struct stacks *s = arg;
	const struct sample_rec *x = &s->samples[*(const uint32_t *)a];
	const struct sample_rec *y = &s->samples[*(const uint32_t *)b];

	if (x->process_frame != y->process_frame)
		return x->process_frame < y->process_frame ? -1 : 1;
	return stack_cmp(s, x, y);
}

static int tree__new_node(struct tree *t, uint32_t parent, uint32_t frame, uint32_t *ret)
{
	struct stacks_node *n;
	int err;

	if (t->nr >= STACKS_MAX_NODES)
		return -E2BIG;
	err = grow((void **)&t->nodes, &t->alloc, t->nr + 1, sizeof(*t->nodes));
	if (err)
		return err;
	n = &t->nodes[t->nr];
	memset(n, 0, sizeof(*n));
	n->frame = frame;
	n->parent = parent;
	n->first_child = STACKS_NONE;
	n->next_sibling = parent == STACKS_NONE ? STACKS_NONE : t->nodes[parent].first_child;
	if (parent != STACKS_NONE)
		t->nodes[parent].first_child = (uint32_t)t->nr;
	*ret = (uint32_t)t->nr++;
	return 0;
}

/*
 * node is complete. Under the threshold in every slot, it goes: it and its
 * subtree are the tail of the node array (preorder creation), and it is its
 * parent's newest child, so its first_child link.
 */
static void tree__close(struct stacks *s, struct tree *t, uint32_t node, const double *min)
{
	struct stacks_node *n = &t->nodes[node];
	int k;

	for (k = 0; k < STACKS_NR_SLOTS; k++)
		if (s->totals[k].val > 0 && (double)n->val[k] >= min[k])
			return;
	t->nodes[n->parent].first_child = n->next_sibling;
	t->nr = node;
	s->pruned++;
}

static int stacks__build_one(struct stacks *s, int id, const uint32_t *order, double prune)
{
	struct tree *t = &s->trees[id];
	bool by_comm = id == STACKS_TREE_BY_COMM;
	uint32_t *open = NULL, prev_len = 0, prev_f0 = 0, node;
	const uint32_t *prev = NULL;
	size_t alloc_open = 0, nr_open = 0, i;
	double min[STACKS_NR_SLOTS];
	int k, err;

	for (k = 0; k < STACKS_NR_SLOTS; k++)
		min[k] = prune * (double)s->totals[k].val;
	t->nr = 0;
	err = tree__new_node(t, STACKS_NONE, STACKS_NONE, &node);
	if (err)
		goto out;
	for (i = 0; i < s->nr_samples; i++) {
		const struct sample_rec *r = &s->samples[order[i]];
		uint32_t f0 = 0, len, lcp = 0, d;
		const uint32_t *key = sample_key(s, r, by_comm, &f0, &len);

		while (i && lcp < len && lcp < prev_len &&
		       key_at(key, f0, by_comm, lcp) == key_at(prev, prev_f0, by_comm, lcp))
			lcp++;
		while (nr_open > lcp)
			tree__close(s, t, open[--nr_open], min);
		err = grow((void **)&open, &alloc_open, len + 1, sizeof(*open));
		if (err)
			goto out;
		for (d = (uint32_t)nr_open; d < len; d++) {
			err = tree__new_node(t, d ? open[d - 1] : 0, key_at(key, f0, by_comm, d),
					     &node);
			if (err)
				goto out;
			open[nr_open++] = node;
		}
		t->nodes[0].val[r->slot] += r->val;
		t->nodes[0].cnt[r->slot] += r->cnt;
		for (d = 0; d < len; d++) {
			t->nodes[open[d]].val[r->slot] += r->val;
			t->nodes[open[d]].cnt[r->slot] += r->cnt;
		}
		prev = key;
		prev_len = len;
		prev_f0 = f0;
	}
	while (nr_open)
		tree__close(s, t, open[--nr_open], min);
	err = 0;
out:
	s->views[id].nodes = t->nodes;
	s->views[id].nr_nodes = t->nr;
	free(open);
	return err;
}

int stacks__build(struct stacks *s, double prune)
{
	uint32_t *order = NULL;
	size_t i;
	int id, err = 0;

	if (s->nr_samples > UINT32_MAX)
		return -E2BIG;
	order = malloc((s->nr_samples + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	s->pruned = 0;
	for (id = 0; id < STACKS_NR_TREES; id++) {
		if (!(s->want & (1u << id)))
			continue;
		for (i = 0; i < s->nr_samples; i++)
			order[i] = (uint32_t)i;
		qsort_r(order, s->nr_samples, sizeof(*order),
			id == STACKS_TREE_BY_COMM ? sample_cmp_by_comm : sample_cmp_machine, s);
		err = stacks__build_one(s, id, order, prune);
		if (err)
			break;
	}
	free(order);
	return err;
}

uint64_t stacks__pruned(const struct stacks *s)
{
	return s->pruned;
}

struct child_key {
	const char *name;
	const char *file;
	enum stacks_kind kind;
	uint32_t node;
};

static int child_key__cmp(const void *a, const void *b)
{
	const struct child_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (!c)
		c = strcmp(x->file, y->file);
	if (!c)
		c = (int)x->kind - (int)y->kind;
	return c;
}

int stacks__sorted_children(const struct stacks *s, const struct stacks_tree *t, uint32_t node,
			    uint32_t **ret, size_t *ret_nr)
{
	struct child_key *keys = NULL;
	uint32_t *out = NULL, c;
	size_t nr = 0, i;
	int err;

	for (c = t->nodes[node].first_child; c != STACKS_NONE; c = t->nodes[c].next_sibling)
		nr++;
	keys = malloc((nr + 1) * sizeof(*keys));
	out = malloc((nr + 1) * sizeof(*out));
	if (!keys || !out) {
		err = -ENOMEM;
		goto out;
	}
	i = 0;
	for (c = t->nodes[node].first_child; c != STACKS_NONE; c = t->nodes[c].next_sibling) {
		const struct stacks_frame *fr = &s->frames[t->nodes[c].frame];

		keys[i].name = fr->name;
		keys[i].file = fr->file;
		keys[i].kind = fr->kind;
		keys[i].node = c;
		i++;
	}
	qsort(keys, nr, sizeof(*keys), child_key__cmp);
	for (i = 0; i < nr; i++)
		out[i] = keys[i].node;
	*ret = out;
	*ret_nr = nr;
	out = NULL;
	err = 0;
out:
	free(keys);
	free(out);
	return err;
}

struct walk_level {
	uint32_t *kids;
	size_t nr, pos;
};

int stacks__walk(const struct stacks *s, enum stacks_tree_id id, uint32_t node,
		 const struct stacks_walk_ops *ops, void *ctx)
{
	const struct stacks_tree *t = stacks__tree(s, id);
	struct walk_level *levels = NULL;
	size_t depth = 0, alloc = 0;
	int err;

	if (!t)
		return -EINVAL;
	err = ops->enter(ctx, node, 0);
	if (err < 0)
		goto out;
	if (err > 0) {
		err = 0;
		goto out;
	}
	err = grow((void **)&levels, &alloc, 1, sizeof(*levels));
	if (err)
		goto out;
	err = stacks__sorted_children(s, t, node, &levels[0].kids, &levels[0].nr);
	if (err)
		goto out;
	levels[0].pos = 0;
	depth = 1;
	while (depth) {
		struct walk_level *lv = &levels[depth - 1];
		uint32_t child;

		if (lv->pos == lv->nr) {
			uint32_t done = depth > 1 ?
						levels[depth - 2].kids[levels[depth - 2].pos - 1] :
						node;

			free(lv->kids);
			depth--;
			if (ops->leave) {
				err = ops->leave(ctx, done, depth);
				if (err < 0)
					goto out;
			}
			continue;
		}
		child = lv->kids[lv->pos++];
		err = ops->enter(ctx, child, depth);
		if (err < 0)
			goto out;
		if (err > 0)
			continue;
		err = grow((void **)&levels, &alloc, depth + 1, sizeof(*levels));
		if (err)
			goto out;
		lv = &levels[depth];
		lv->pos = 0;
		lv->kids = NULL;
		err = stacks__sorted_children(s, t, child, &lv->kids, &lv->nr);
		if (err)
			goto out;
		depth++;
	}
	err = 0;
out:
	while (depth)
		free(levels[--depth].kids);
	free(levels);
	return err;
}

struct folded_ctx {
	const struct stacks *s;
	const struct stacks_tree *t;
	enum stacks_slot slot;
	FILE *out;
	uint32_t *path;
	size_t alloc;
};

static const char *kind_suffix(enum stacks_kind kind)
{
	switch (kind) {
	case STACKS_KIND_KERNEL:
		return "_[k]";
	case STACKS_KIND_INLINED:
		return "_[i]";
	case STACKS_KIND_JIT:
		return "_[j]";
	default:
		return "";
	}
}

static int folded__enter(void *arg, uint32_t node, size_t depth)
{
	struct folded_ctx *c = arg;
	int64_t self;
	size_t i;
	int err;

	if (!c->t->nodes[node].cnt[c->slot])
		return 1;
	if (!depth)
		return 0;
	err = grow((void **)&c->path, &c->alloc, depth, sizeof(*c->path));
	if (err)
		return err;
	c->path[depth - 1] = c->t->nodes[node].frame;
	self = stacks__self_cnt(c->t, node, c->slot);
	if (self <= 0)
		return 0;
	for (i = 0; i < depth; i++) {
		const struct stacks_frame *fr = &c->s->frames[c->path[i]];
		const char *p;
		size_t n;

		if (i)
			putc(';', c->out);
		/* ';' separates frames: a name's own becomes ':'. */
		for (p = fr->name; *p; p += n) {
			n = strcspn(p, ";");
			textesc__fwrite(c->out, p, n);
			if (p[n]) {
				putc(':', c->out);
				n++;
			}
		}
		fputs(kind_suffix(fr->kind), c->out);
	}
	fprintf(c->out, " %" PRId64 "\n", self);
	return ferror(c->out) ? -EIO : 0;
}

int stacks__write_folded(const struct stacks *s, enum stacks_tree_id id, enum stacks_slot slot,
			 FILE *out)
{
	struct folded_ctx c = {.s = s, .t = stacks__tree(s, id), .slot = slot, .out = out};
	struct stacks_walk_ops ops = {.enter = folded__enter};
	int err;

	err = stacks__walk(s, id, 0, &ops, &c);
	free(c.path);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}

double stacks__ztest(int64_t x1, int64_t n1, int64_t x2, int64_t n2)
{
	double p1, p2, p, se;

	if (n1 <= 0 || n2 <= 0)
		return 0;
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	/* In double: x1 + x2 and n1 + n2 may pass INT64_MAX. */
	p = ((double)x1 + (double)x2) / ((double)n1 + (double)n2);
	se = sqrt(p * (1 - p) * (1 / (double)n1 + 1 / (double)n2));
	if (!(se > 0))
		return 0;
	return (p2 - p1) / se;
}

const char *stacks__format_value(char *buf, size_t size, int64_t v, const char *unit)
{
	double a = fabs((double)v);

	if (!strcmp(unit, "nanoseconds")) {
		if (!v)
			snprintf(buf, size, "0");
		else if (a >= 1e9)
			snprintf(buf, size, "%.2fs", (double)v / 1e9);
		else if (a >= 1e6)
			snprintf(buf, size, "%.2fms", (double)v / 1e6);
		else if (a >= 1e3)
			snprintf(buf, size, "%.2fus", (double)v / 1e3);
		else
			snprintf(buf, size, "%" PRId64 "ns", v);
	} else if (!strcmp(unit, "bytes")) {
		if (a >= 1 << 30)
			snprintf(buf, size, "%.2fGB", (double)v / (1 << 30));
		else if (a >= 1 << 20)
			snprintf(buf, size, "%.2fMB", (double)v / (1 << 20));
		else if (a >= 1 << 10)
			snprintf(buf, size, "%.2fkB", (double)v / (1 << 10));
		else
			snprintf(buf, size, "%" PRId64 "B", v);
	} else {
		snprintf(buf, size, "%" PRId64, v);
	}
	return buf;
}
