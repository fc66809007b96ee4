// SPDX-License-Identifier: MIT
/*
 * pprof builder, writer, reader and merger.
 *
 * Builder. Every table (strings, functions, mappings, locations) is a growing
 * array whose index+1 is the id, plus an open-addressing hash table of
 * (32-bit hash, index+1) slots used to intern values, so adding N frames is
 * O(N) expected. Samples are not interned: their location ids, values and
 * labels live in three flat pools and a sample only records offsets, which
 * keeps a million samples to a few dozen bytes each. The protobuf-c message
 * tree (pointer arrays) is only built for the duration of pack().
 *
 * Locations are interned by (mapping_id, address). A location whose address
 * is 0 (unknown) has no identity but its lines, so those are interned by
 * (mapping_id, lines) instead; otherwise merging symbolized-only profiles
 * would fold every frame into one. No line is written with function_id 0:
 * `go tool pprof` rejects those ("line with nil function").
 *
 * Reader. Input is inflated when it starts with the gzip magic, into a
 * buffer that doubles from 64 KiB and is refused past PPROF_READ_MAX_SIZE
 * bytes (64 MiB), so a bomb costs at most the cap; the decoded message tree
 * is capped at PPROF_DECODE_MAX_SIZE bytes (512 MiB) through a counting
 * protobuf-c allocator, since tiny repeated sub-messages expand ~40x when
 * unpacked (real profiles 6-7x). protobuf-c allocates per element present in
 * the input, never per length a field claims. The result is then validated
 * and every id renumbered to index+1 (see pprof.h).
 *
 * Limits: at most UINT32_MAX - 1 entries per interned table (-E2BIG).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "pprof.h"
#include "safefile.h"

#define HTAB_MAX_ENTRIES ((size_t)UINT32_MAX - 1)
#define IO_CHUNK	 ((size_t)64 << 10)

typedef Perftools__Profiles__ValueType pb_value_type_t;
typedef Perftools__Profiles__Sample pb_sample_t;
typedef Perftools__Profiles__Label pb_label_t;
typedef Perftools__Profiles__Mapping pb_mapping_t;
typedef Perftools__Profiles__Location pb_location_t;
typedef Perftools__Profiles__Line pb_line_t;
typedef Perftools__Profiles__Function pb_function_t;

/* ---- growth and hashing ---- */

/* Makes room for nr + extra elements of elem_size bytes in *data. */
static int array_reserve(void **data, size_t *cap, size_t nr, size_t extra, size_t elem_size)
{
	size_t need, new_cap;
	void *p;

	if (extra > SIZE_MAX - nr)
		return -ENOMEM;
	need = nr + extra;
	if (need <= *cap)
		return 0;
	new_cap = *cap ? *cap : 16;
	while (new_cap < need) {
		if (new_cap > SIZE_MAX / 2)
			return -ENOMEM;
		new_cap *= 2;
	}
	if (new_cap > SIZE_MAX / elem_size)
		return -ENOMEM;
	p = realloc(*data, new_cap * elem_size);
	if (!p)
		return -ENOMEM;
	*data = p;
	*cap = new_cap;
	return 0;
}

static uint64_t hash_mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static uint64_t hash_add(uint64_t h, uint64_t v)
{
	return hash_mix(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6)));
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return hash_mix(h);
}

/*
 * Open addressing, linear probing. A slot is (hash32 << 32 | index+1), 0 when
 * empty; keeping the hash lets the table grow without touching the values.
 */
struct htab {
	uint64_t *slots;
	size_t cap; /* power of two, or 0 */
	size_t nr;
};

typedef bool (*htab_eq_fn)(const void *ctx, size_t idx, const void *key);

/* Returns index+1 of the entry equal to key, or 0. */
static size_t htab__find(const struct htab *h, uint64_t hash, htab_eq_fn eq, const void *ctx,
			 const void *key)
{
	uint32_t h32 = (uint32_t)hash;
	size_t mask = h->cap - 1, i;

	if (!h->cap)
		return 0;
	for (i = h32 & mask; h->slots[i]; i = (i + 1) & mask) {
		uint64_t slot = h->slots[i];

		if ((uint32_t)(slot >> 32) == h32 && eq(ctx, (uint32_t)slot - 1, key))
			return (uint32_t)slot;
	}
	return 0;
}

static void htab__place(uint64_t *slots, size_t cap, uint64_t slot, uint32_t h32)
{
	size_t mask = cap - 1, i;

	for (i = h32 & mask; slots[i]; i = (i + 1) & mask)
		;
	slots[i] = slot;
}

/*
 * Adds index idx under hash; the caller has checked it is absent. Positions
 * come from the 32 stored bits only, since regrowth has nothing else.
 */
static int htab__insert(struct htab *h, uint64_t hash, size_t idx)
{
	uint32_t h32 = (uint32_t)hash;
	uint64_t *slots;
	size_t new_cap, i;

	if (idx >= HTAB_MAX_ENTRIES || h->nr >= HTAB_MAX_ENTRIES)
		return -E2BIG;
	if ((h->nr + 1) * 2 > h->cap) {
		new_cap = h->cap ? h->cap * 2 : 64;
		if (new_cap > SIZE_MAX / sizeof(*slots))
			return -ENOMEM;
		slots = calloc(new_cap, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (i = 0; i < h->cap; i++) {
			if (h->slots[i])
				htab__place(slots, new_cap, h->slots[i],
					    (uint32_t)(h->slots[i] >> 32));
		}
		free(h->slots);
		h->slots = slots;
		h->cap = new_cap;
	}
	htab__place(h->slots, h->cap, (uint64_t)h32 << 32 | (idx + 1), h32);
	h->nr++;
	return 0;
}

static void htab__free(struct htab *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = h->nr = 0;
}

/* ---- builder ---- */

struct builder_sample {
	size_t loc_off; /* into sample_locs */
	size_t label_off; /* into labels */
	uint32_t nr_locs;
	uint32_t nr_labels;
};

struct pprof_builder {
	char **strs;
	size_t nr_strs, cap_strs;
	struct htab str_ht;

	pb_function_t *funcs;
	size_t nr_funcs, cap_funcs;
	struct htab func_ht;

	pb_mapping_t *maps;
	size_t nr_maps, cap_maps;
	struct htab map_ht;

	pb_location_t *locs;
	size_t *loc_line_off; /* first line of locs[i] in lines */
	size_t nr_locs, cap_locs, cap_loc_line_off;
	struct htab loc_ht;
	pb_line_t *lines; /* also the staging area for a location being interned */
	size_t nr_lines, cap_lines;

	struct builder_sample *samples;
	size_t nr_samples, cap_samples;
	uint64_t *sample_locs;
	size_t nr_sample_locs, cap_sample_locs;
	int64_t *sample_vals; /* nr_samples * nr_sample_types */
	size_t nr_sample_vals, cap_sample_vals;
	pb_label_t *labels;
	size_t nr_labels, cap_labels;
	struct htab merged_ht; /* the samples merge added, by locations and labels */

	pb_value_type_t *sample_types;
	size_t nr_sample_types, cap_sample_types;
	pb_value_type_t period_type;
	bool has_period_type;
	int64_t period;
	int64_t default_sample_type;
	int64_t time_nanos, duration_nanos;
	int64_t drop_frames, keep_frames, doc_url;
	int64_t *comments;
	size_t nr_comments, cap_comments;
};

static bool str_eq(const void *ctx, size_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;

	return !strcmp(b->strs[idx], key);
}

/* Returns the string index of s (NULL is ""), or a negative errno. */
static int64_t builder_str(struct pprof_builder *b, const char *s)
{
	uint64_t hash;
	size_t found;
	char *copy;
	int err;

	if (!s)
		s = "";
	hash = hash_str(s);
	found = htab__find(&b->str_ht, hash, str_eq, b, s);
	if (found)
		return (int64_t)found - 1;
	err = array_reserve((void **)&b->strs, &b->cap_strs, b->nr_strs, 1, sizeof(*b->strs));
	if (err)
		return err;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	err = htab__insert(&b->str_ht, hash, b->nr_strs);
	if (err) {
		free(copy);
		return err;
	}
	b->strs[b->nr_strs] = copy;
	return (int64_t)b->nr_strs++;
}

void pprof_builder__free(struct pprof_builder *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nr_strs; i++)
		free(b->strs[i]);
	free(b->strs);
	htab__free(&b->str_ht);
	free(b->funcs);
	htab__free(&b->func_ht);
	free(b->maps);
	htab__free(&b->map_ht);
	free(b->locs);
	free(b->loc_line_off);
	htab__free(&b->loc_ht);
	free(b->lines);
	free(b->samples);
	free(b->sample_locs);
	free(b->sample_vals);
	free(b->labels);
	htab__free(&b->merged_ht);
	free(b->sample_types);
	free(b->comments);
	free(b);
}

struct pprof_builder *pprof_builder__new(void)
{
	struct pprof_builder *b;
	int64_t idx;

	b = calloc(1, sizeof(*b));
	if (!b)
		goto err_nomem;
	idx = builder_str(b, "");
	if (idx < 0)
		goto err_free;
	return b;

err_free:
	pprof_builder__free(b);
err_nomem:
	errno = ENOMEM;
	return NULL;
}

static int builder_value_type(struct pprof_builder *b, const struct pprof_value_type *vt,
			      pb_value_type_t *ret)
{
	pb_value_type_t v = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;

	v.type = builder_str(b, vt->type);
	if (v.type < 0)
		return (int)v.type;
	v.unit = builder_str(b, vt->unit);
	if (v.unit < 0)
		return (int)v.unit;
	*ret = v;
	return 0;
}

int pprof_builder__add_sample_type(struct pprof_builder *b, const struct pprof_value_type *vt)
{
	pb_value_type_t v;
	int err;

	/* Samples already added carry one value per type known then. */
	if (!b || !vt || b->nr_samples)
		return -EINVAL;
	err = builder_value_type(b, vt, &v);
	if (err)
		return err;
	err = array_reserve((void **)&b->sample_types, &b->cap_sample_types, b->nr_sample_types, 1,
			    sizeof(*b->sample_types));
	if (err)
		return err;
	b->sample_types[b->nr_sample_types++] = v;
	return 0;
}

int pprof_builder__set_period(struct pprof_builder *b, const struct pprof_value_type *period_type,
			      int64_t period)
{
	pb_value_type_t v;
	int err;

	if (!b || !period_type)
		return -EINVAL;
	err = builder_value_type(b, period_type, &v);
	if (err)
		return err;
	b->period_type = v;
	b->has_period_type = true;
	b->period = period;
	return 0;
}

int pprof_builder__set_default_sample_type(struct pprof_builder *b, const char *type)
{
	size_t i;

	if (!b || !type)
		return -EINVAL;
	for (i = 0; i < b->nr_sample_types; i++) {
		if (!strcmp(b->strs[b->sample_types[i].type], type)) {
			b->default_sample_type = b->sample_types[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

int pprof_builder__set_time(struct pprof_builder *b, int64_t time_nanos, int64_t duration_nanos)
{
	if (!b)
		return -EINVAL;
	b->time_nanos = time_nanos;
	b->duration_nanos = duration_nanos;
	return 0;
}

static int builder_comment_idx(struct pprof_builder *b, int64_t idx)
{
	int err;

	err = array_reserve((void **)&b->comments, &b->cap_comments, b->nr_comments, 1,
			    sizeof(*b->comments));
	if (err)
		return err;
	b->comments[b->nr_comments++] = idx;
	return 0;
}

int pprof_builder__add_comment(struct pprof_builder *b, const char *comment)
{
	int64_t idx;

	if (!b || !comment)
		return -EINVAL;
	idx = builder_str(b, comment);
	if (idx < 0)
		return (int)idx;
	return builder_comment_idx(b, idx);
}

static bool func_eq(const void *ctx, size_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;
	const pb_function_t *f = &b->funcs[idx], *k = key;

	return f->name == k->name && f->system_name == k->system_name &&
	       f->filename == k->filename && f->start_line == k->start_line;
}

/* Interns a function whose string fields are already indices; returns its id. */
static int64_t builder_func(struct pprof_builder *b, const pb_function_t *key)
{
	uint64_t hash;
	size_t found;
	int err;

	hash = hash_add(
		hash_add(hash_add(hash_add(1, (uint64_t)key->name), (uint64_t)key->system_name),
			 (uint64_t)key->filename),
		(uint64_t)key->start_line);
	found = htab__find(&b->func_ht, hash, func_eq, b, key);
	if (found)
		return (int64_t)found;
	err = array_reserve((void **)&b->funcs, &b->cap_funcs, b->nr_funcs, 1, sizeof(*b->funcs));
	if (err)
		return err;
	err = htab__insert(&b->func_ht, hash, b->nr_funcs);
	if (err)
		return err;
	b->funcs[b->nr_funcs] = *key;
	b->funcs[b->nr_funcs].id = b->nr_funcs + 1;
	return (int64_t)++b->nr_funcs;
}

static bool map_eq(const void *ctx, size_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;
	const pb_mapping_t *m = &b->maps[idx], *k = key;

	return m->memory_start == k->memory_start && m->memory_limit == k->memory_limit &&
	       m->file_offset == k->file_offset && m->filename == k->filename &&
	       m->build_id == k->build_id && !m->has_functions == !k->has_functions &&
	       !m->has_filenames == !k->has_filenames &&
	       !m->has_line_numbers == !k->has_line_numbers &&
	       !m->has_inline_frames == !k->has_inline_frames;
}

static int64_t builder_mapping(struct pprof_builder *b, const pb_mapping_t *key)
{
	uint64_t hash, flags;
	size_t found;
	int err;

	flags = (uint64_t) !!key->has_functions | (uint64_t) !!key->has_filenames << 1 |
		(uint64_t) !!key->has_line_numbers << 2 | (uint64_t) !!key->has_inline_frames << 3;
	hash = hash_add(2, key->memory_start);
	hash = hash_add(hash, key->memory_limit);
	hash = hash_add(hash, key->file_offset);
	hash = hash_add(hash, (uint64_t)key->filename);
	hash = hash_add(hash, (uint64_t)key->build_id);
	hash = hash_add(hash, flags);
	found = htab__find(&b->map_ht, hash, map_eq, b, key);
	if (found)
		return (int64_t)found;
	err = array_reserve((void **)&b->maps, &b->cap_maps, b->nr_maps, 1, sizeof(*b->maps));
	if (err)
		return err;
	err = htab__insert(&b->map_ht, hash, b->nr_maps);
	if (err)
		return err;
	b->maps[b->nr_maps] = *key;
	b->maps[b->nr_maps].id = b->nr_maps + 1;
	return (int64_t)++b->nr_maps;
}

int64_t pprof_builder__mapping(struct pprof_builder *b, const struct pprof_mapping_desc *m)
{
	pb_mapping_t key = PERFTOOLS__PROFILES__MAPPING__INIT;

	if (!b || !m)
		return -EINVAL;
	key.memory_start = m->memory_start;
	key.memory_limit = m->memory_limit;
	key.file_offset = m->file_offset;
	key.filename = builder_str(b, m->filename);
	if (key.filename < 0)
		return key.filename;
	key.build_id = builder_str(b, m->build_id);
	if (key.build_id < 0)
		return key.build_id;
	key.has_functions = m->has_functions;
	key.has_filenames = m->has_filenames;
	key.has_line_numbers = m->has_line_numbers;
	key.has_inline_frames = m->has_inline_frames;
	return builder_mapping(b, &key);
}

/* A location lookup key: lines are the staged ones at the end of the pool. */
struct loc_key {
	uint64_t mapping_id;
	uint64_t address;
	size_t line_off;
	size_t nr_lines;
};

static bool loc_eq(const void *ctx, size_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;
	const pb_location_t *l = &b->locs[idx];
	const struct loc_key *k = key;
	const pb_line_t *a, *c;
	size_t i;

	if (l->mapping_id != k->mapping_id || l->address != k->address)
		return false;
	if (k->address)
		return true;
	if (l->n_line != k->nr_lines)
		return false;
	/* The pool is NULL while no line was ever staged. */
	if (!k->nr_lines)
		return true;
	a = &b->lines[b->loc_line_off[idx]];
	c = &b->lines[k->line_off];
	for (i = 0; i < k->nr_lines; i++) {
		if (a[i].function_id != c[i].function_id || a[i].line != c[i].line ||
		    a[i].column != c[i].column)
			return false;
	}
	return true;
}

static uint64_t loc_hash(const struct pprof_builder *b, const struct loc_key *k)
{
	uint64_t hash = hash_add(hash_add(3, k->mapping_id), k->address);
	size_t i;

	if (k->address)
		return hash;
	for (i = 0; i < k->nr_lines; i++) {
		const pb_line_t *l = &b->lines[k->line_off + i];

		hash = hash_add(hash_add(hash_add(hash, l->function_id), (uint64_t)l->line),
				(uint64_t)l->column);
	}
	return hash;
}

/*
 * Interns the location whose lines are staged at lines[line_off..nr_lines).
 * When an equal one exists, the staged lines are dropped.
 */
static int64_t builder_loc_commit(struct pprof_builder *b, uint64_t mapping_id, uint64_t address,
				  size_t line_off)
{
	pb_location_t loc = PERFTOOLS__PROFILES__LOCATION__INIT;
	struct loc_key key = {
		.mapping_id = mapping_id,
		.address = address,
		.line_off = line_off,
		.nr_lines = b->nr_lines - line_off,
	};
	uint64_t hash;
	size_t found;
	int err;

	hash = loc_hash(b, &key);
	found = htab__find(&b->loc_ht, hash, loc_eq, b, &key);
	if (found) {
		b->nr_lines = line_off;
		return (int64_t)found;
	}
	err = array_reserve((void **)&b->locs, &b->cap_locs, b->nr_locs, 1, sizeof(*b->locs));
	if (err)
		goto out_drop;
	err = array_reserve((void **)&b->loc_line_off, &b->cap_loc_line_off, b->nr_locs, 1,
			    sizeof(*b->loc_line_off));
	if (err)
		goto out_drop;
	err = htab__insert(&b->loc_ht, hash, b->nr_locs);
	if (err)
		goto out_drop;
	loc.id = b->nr_locs + 1;
	loc.mapping_id = mapping_id;
	loc.address = address;
	loc.n_line = key.nr_lines;
	b->locs[b->nr_locs] = loc;
	b->loc_line_off[b->nr_locs] = line_off;
	return (int64_t)++b->nr_locs;

out_drop:
	b->nr_lines = line_off;
	return err;
}

/* Finds an existing location by (mapping_id, address != 0) without staging lines. */
static int64_t builder_loc_find(struct pprof_builder *b, uint64_t mapping_id, uint64_t address)
{
	struct loc_key key = {.mapping_id = mapping_id, .address = address};

	return (int64_t)htab__find(&b->loc_ht, loc_hash(b, &key), loc_eq, b, &key);
}

static int builder_stage_line(struct pprof_builder *b, uint64_t function_id, int64_t line,
			      int64_t column)
{
	pb_line_t l = PERFTOOLS__PROFILES__LINE__INIT;
	int err;

	err = array_reserve((void **)&b->lines, &b->cap_lines, b->nr_lines, 1, sizeof(*b->lines));
	if (err)
		return err;
	l.function_id = function_id;
	l.line = line;
	l.column = column;
	b->lines[b->nr_lines++] = l;
	return 0;
}

static bool str_empty(const char *s)
{
	return !s || !*s;
}

/*
 * Interns the function of a line desc: 0 when it names nothing at all, and the
 * line is then dropped, since pprof readers reject a line without a function.
 */
static int64_t builder_line_func(struct pprof_builder *b, const struct pprof_line_desc *ld)
{
	pb_function_t key = PERFTOOLS__PROFILES__FUNCTION__INIT;

	if (str_empty(ld->name) && str_empty(ld->system_name) && str_empty(ld->filename) &&
	    !ld->start_line)
		return 0;
	key.name = builder_str(b, ld->name);
	if (key.name < 0)
		return key.name;
	key.system_name = builder_str(b, ld->system_name ? ld->system_name : ld->name);
	if (key.system_name < 0)
		return key.system_name;
	key.filename = builder_str(b, ld->filename);
	if (key.filename < 0)
		return key.filename;
	key.start_line = ld->start_line;
	return builder_func(b, &key);
}

int64_t pprof_builder__location(struct pprof_builder *b, uint64_t mapping_id, uint64_t address,
				const struct pprof_line_desc *lines, size_t nr_lines)
{
	size_t line_off, i;
	int64_t id;
	int err;

	if (!b || (nr_lines && !lines) || mapping_id > b->nr_maps)
		return -EINVAL;
	if (address) {
		id = builder_loc_find(b, mapping_id, address);
		if (id)
			return id;
	}
	line_off = b->nr_lines;
	for (i = 0; i < nr_lines; i++) {
		id = builder_line_func(b, &lines[i]);
		if (id < 0) {
			err = (int)id;
			goto out_drop;
		}
		if (!id)
			continue;
		err = builder_stage_line(b, (uint64_t)id, lines[i].line, lines[i].column);
		if (err)
			goto out_drop;
	}
	return builder_loc_commit(b, mapping_id, address, line_off);

out_drop:
	b->nr_lines = line_off;
	return err;
}

/* Appends a sample whose ids are valid and whose labels are already interned. */
static int builder_sample_raw(struct pprof_builder *b, const uint64_t *location_ids,
			      size_t nr_locations, const int64_t *values, size_t nr_labels)
{
	struct builder_sample *s;
	int err;

	if (nr_locations > UINT32_MAX || nr_labels > UINT32_MAX)
		return -E2BIG;
	err = array_reserve((void **)&b->samples, &b->cap_samples, b->nr_samples, 1,
			    sizeof(*b->samples));
	if (err)
		return err;
	err = array_reserve((void **)&b->sample_locs, &b->cap_sample_locs, b->nr_sample_locs,
			    nr_locations, sizeof(*b->sample_locs));
	if (err)
		return err;
	err = array_reserve((void **)&b->sample_vals, &b->cap_sample_vals, b->nr_sample_vals,
			    b->nr_sample_types, sizeof(*b->sample_vals));
	if (err)
		return err;
	s = &b->samples[b->nr_samples++];
	s->loc_off = b->nr_sample_locs;
	s->nr_locs = (uint32_t)nr_locations;
	s->label_off = b->nr_labels - nr_labels;
	s->nr_labels = (uint32_t)nr_labels;
	if (nr_locations)
		memcpy(&b->sample_locs[b->nr_sample_locs], location_ids,
		       nr_locations * sizeof(*location_ids));
	b->nr_sample_locs += nr_locations;
	if (b->nr_sample_types)
		memcpy(&b->sample_vals[b->nr_sample_vals], values,
		       b->nr_sample_types * sizeof(*values));
	b->nr_sample_vals += b->nr_sample_types;
	return 0;
}

static int builder_stage_label(struct pprof_builder *b, const pb_label_t *l)
{
	int err;

	err = array_reserve((void **)&b->labels, &b->cap_labels, b->nr_labels, 1,
			    sizeof(*b->labels));
	if (err)
		return err;
	b->labels[b->nr_labels++] = *l;
	return 0;
}

int pprof_builder__sample(struct pprof_builder *b, const uint64_t *location_ids,
			  size_t nr_locations, const int64_t *values, size_t nr_values,
			  const struct pprof_label_desc *labels, size_t nr_labels)
{
	size_t label_off, i;
	int err;

	if (!b || (nr_locations && !location_ids) || (nr_values && !values) ||
	    (nr_labels && !labels) || nr_values != b->nr_sample_types)
		return -EINVAL;
	for (i = 0; i < nr_locations; i++) {
		if (!location_ids[i] || location_ids[i] > b->nr_locs)
			return -EINVAL;
	}
	/* Labels are staged at the end of the pool, dropped again on failure. */
	label_off = b->nr_labels;
	for (i = 0; i < nr_labels; i++) {
		pb_label_t l = PERFTOOLS__PROFILES__LABEL__INIT;
		int64_t idx;

		err = -EINVAL;
		if (!labels[i].key)
			goto out_drop;
		idx = builder_str(b, labels[i].key);
		err = (int)idx;
		if (idx < 0)
			goto out_drop;
		l.key = idx;
		if (labels[i].str) {
			idx = builder_str(b, labels[i].str);
			err = (int)idx;
			if (idx < 0)
				goto out_drop;
			l.str = idx;
		} else {
			l.num = labels[i].num;
			idx = builder_str(b, labels[i].num_unit);
			err = (int)idx;
			if (idx < 0)
				goto out_drop;
			l.num_unit = idx;
		}
		err = builder_stage_label(b, &l);
		if (err)
			goto out_drop;
	}
	err = builder_sample_raw(b, location_ids, nr_locations, values, nr_labels);
	if (err)
		goto out_drop;
	return 0;

out_drop:
	b->nr_labels = label_off;
	return err;
}

/* Pointer arrays that make the builder's tables a protobuf-c message tree. */
struct pack_tree {
	pb_value_type_t **sample_types;
	pb_sample_t *samples;
	pb_sample_t **sample_ptrs;
	pb_label_t **label_ptrs;
	pb_mapping_t **map_ptrs;
	pb_location_t **loc_ptrs;
	pb_line_t **line_ptrs;
	pb_function_t **func_ptrs;
};

static void pack_tree__free(struct pack_tree *t)
{
	free(t->sample_types);
	free(t->samples);
	free(t->sample_ptrs);
	free(t->label_ptrs);
	free(t->map_ptrs);
	free(t->loc_ptrs);
	free(t->line_ptrs);
	free(t->func_ptrs);
}

/* calloc() that tolerates n == 0 (returns a non-NULL pointer then). */
static void *alloc_array(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static int pack_tree__build(struct pprof_builder *b, struct pack_tree *t, pprof_profile_t *p)
{
	size_t i;

	t->sample_types = alloc_array(b->nr_sample_types, sizeof(*t->sample_types));
	t->samples = alloc_array(b->nr_samples, sizeof(*t->samples));
	t->sample_ptrs = alloc_array(b->nr_samples, sizeof(*t->sample_ptrs));
	t->label_ptrs = alloc_array(b->nr_labels, sizeof(*t->label_ptrs));
	t->map_ptrs = alloc_array(b->nr_maps, sizeof(*t->map_ptrs));
	t->loc_ptrs = alloc_array(b->nr_locs, sizeof(*t->loc_ptrs));
	t->line_ptrs = alloc_array(b->nr_lines, sizeof(*t->line_ptrs));
	t->func_ptrs = alloc_array(b->nr_funcs, sizeof(*t->func_ptrs));
	if (!t->sample_types || !t->samples || !t->sample_ptrs || !t->label_ptrs || !t->map_ptrs ||
	    !t->loc_ptrs || !t->line_ptrs || !t->func_ptrs)
		return -ENOMEM;

	for (i = 0; i < b->nr_sample_types; i++)
		t->sample_types[i] = &b->sample_types[i];
	for (i = 0; i < b->nr_labels; i++)
		t->label_ptrs[i] = &b->labels[i];
	for (i = 0; i < b->nr_samples; i++) {
		const struct builder_sample *bs = &b->samples[i];
		pb_sample_t *s = &t->samples[i];

		perftools__profiles__sample__init(s);
		/* The pools stay NULL while nothing was added to them. */
		s->n_location_id = bs->nr_locs;
		s->location_id = bs->nr_locs ? &b->sample_locs[bs->loc_off] : NULL;
		s->n_value = b->nr_sample_types;
		s->value = b->nr_sample_types ? &b->sample_vals[i * b->nr_sample_types] : NULL;
		s->n_label = bs->nr_labels;
		s->label = &t->label_ptrs[bs->label_off];
		t->sample_ptrs[i] = s;
	}
	for (i = 0; i < b->nr_maps; i++)
		t->map_ptrs[i] = &b->maps[i];
	for (i = 0; i < b->nr_lines; i++)
		t->line_ptrs[i] = &b->lines[i];
	for (i = 0; i < b->nr_locs; i++) {
		b->locs[i].line = &t->line_ptrs[b->loc_line_off[i]];
		t->loc_ptrs[i] = &b->locs[i];
	}
	for (i = 0; i < b->nr_funcs; i++)
		t->func_ptrs[i] = &b->funcs[i];

	p->n_sample_type = b->nr_sample_types;
	p->sample_type = t->sample_types;
	p->n_sample = b->nr_samples;
	p->sample = t->sample_ptrs;
	p->n_mapping = b->nr_maps;
	p->mapping = t->map_ptrs;
	p->n_location = b->nr_locs;
	p->location = t->loc_ptrs;
	p->n_function = b->nr_funcs;
	p->function = t->func_ptrs;
	p->n_string_table = b->nr_strs;
	p->string_table = b->strs;
	p->drop_frames = b->drop_frames;
	p->keep_frames = b->keep_frames;
	p->time_nanos = b->time_nanos;
	p->duration_nanos = b->duration_nanos;
	p->period_type = b->has_period_type ? &b->period_type : NULL;
	p->period = b->period;
	p->n_comment = b->nr_comments;
	p->comment = b->comments;
	p->default_sample_type = b->default_sample_type;
	p->doc_url = b->doc_url;
	return 0;
}

int pprof_builder__pack(struct pprof_builder *b, uint8_t **ret_buf, size_t *ret_len)
{
	pprof_profile_t p = PERFTOOLS__PROFILES__PROFILE__INIT;
	struct pack_tree t = {0};
	uint8_t *buf = NULL;
	size_t len, i;
	int err;

	if (!b || !ret_buf || !ret_len)
		return -EINVAL;
	err = pack_tree__build(b, &t, &p);
	if (err)
		goto out;
	len = perftools__profiles__profile__get_packed_size(&p);
	buf = malloc(len ? len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (perftools__profiles__profile__pack(&p, buf) != len) {
		free(buf);
		err = -EIO;
		goto out;
	}
	*ret_buf = buf;
	*ret_len = len;
out:
	/* The line pointers point into t, which is going away. */
	for (i = 0; i < b->nr_locs; i++)
		b->locs[i].line = NULL;
	pack_tree__free(&t);
	return err;
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

/* Streams buf gzip-compressed to fd. */
static int gzip_to_fd(int fd, const uint8_t *buf, size_t len)
{
	uint8_t *out;
	z_stream zs;
	int zret, flush, err = 0;

	out = malloc(IO_CHUNK);
	if (!out)
		return -ENOMEM;
	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
		goto out_free;
	}
	do {
		uInt chunk = len > UINT_MAX ? UINT_MAX : (uInt)len;

		zs.next_in = (Bytef *)buf;
		zs.avail_in = chunk;
		buf += chunk;
		len -= chunk;
		flush = len ? Z_NO_FLUSH : Z_FINISH;
		do {
			zs.next_out = out;
			zs.avail_out = IO_CHUNK;
			zret = deflate(&zs, flush);
			if (zret == Z_STREAM_ERROR) {
				err = -EIO;
				goto out_end;
			}
			err = write_all(fd, out, IO_CHUNK - zs.avail_out);
			if (err)
				goto out_end;
		} while (zs.avail_out == 0);
	} while (flush != Z_FINISH);
	if (zret != Z_STREAM_END)
		err = -EIO;
out_end:
	deflateEnd(&zs);
out_free:
	free(out);
	return err;
}

int pprof_builder__pack_gzip(struct pprof_builder *b, uint8_t **ret_buf, size_t *ret_len,
			     size_t *ret_raw_len)
{
	uint8_t *raw = NULL, *out = NULL;
	size_t raw_len = 0;
	uLong bound;
	z_stream zs;
	int err;

	err = pprof_builder__pack(b, &raw, &raw_len);
	if (err)
		return err;
	if (raw_len > UINT_MAX) {
		err = -EFBIG;
		goto out_free;
	}
	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
		goto out_free;
	}
	/* deflateBound() leaves room for the gzip wrapper: one call suffices. */
	bound = deflateBound(&zs, (uLong)raw_len);
	if (bound > UINT_MAX) {
		err = -EFBIG;
		goto out_end;
	}
	out = malloc(bound);
	if (!out) {
		err = -ENOMEM;
		goto out_end;
	}
	zs.next_in = raw;
	zs.avail_in = (uInt)raw_len;
	zs.next_out = out;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		err = -EIO;
		goto out_end;
	}
	*ret_buf = out;
	*ret_len = zs.total_out;
	if (ret_raw_len)
		*ret_raw_len = raw_len;
	out = NULL;
out_end:
	deflateEnd(&zs);
out_free:
	free(out);
	free(raw);
	return err;
}

int pprof_builder__write_fd(struct pprof_builder *b, int fd)
{
	uint8_t *buf = NULL;
	size_t len;
	int err;

	if (!b || fd < 0)
		return -EINVAL;
	err = pprof_builder__pack(b, &buf, &len);
	if (!err)
		err = gzip_to_fd(fd, buf, len);
	free(buf);
	return err;
}

int pprof_builder__write_file(struct pprof_builder *b, const char *path, mode_t mode)
{
	struct safefile_out *out;
	int err;

	if (!b || !path || !*path)
		return -EINVAL;
	err = safefile__create(path, mode, &out, NULL);
	if (err)
		return err;
	err = pprof_builder__write_fd(b, safefile__fd(out));
	if (err) {
		safefile__discard(out);
		return err;
	}
	return safefile__commit(out);
}

/* ---- reader ---- */

/* Inflates a gzip stream (members may be concatenated) of at most max bytes. */
static int gunzip(const uint8_t *in, size_t in_len, size_t max, uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t *out = NULL, *new_out;
	size_t cap = 0, len = 0, new_cap;
	z_stream zs;
	int zret, err = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	for (;;) {
		if (!zs.avail_in) {
			uInt chunk = in_len > UINT_MAX ? UINT_MAX : (uInt)in_len;

			zs.next_in = (Bytef *)in;
			zs.avail_in = chunk;
			in += chunk;
			in_len -= chunk;
		}
		if (len == cap) {
			/* Room for one byte past max tells "exactly max" from "more". */
			new_cap = cap ? cap * 2 : IO_CHUNK;
			if (new_cap > max || new_cap < cap)
				new_cap = max + 1;
			if (new_cap == cap) {
				err = -EFBIG;
				goto out;
			}
			new_out = realloc(out, new_cap);
			if (!new_out) {
				err = -ENOMEM;
				goto out;
			}
			out = new_out;
			cap = new_cap;
		}
		zs.next_out = out + len;
		zs.avail_out = (uInt)((cap - len) > UINT_MAX ? UINT_MAX : cap - len);
		zret = inflate(&zs, Z_NO_FLUSH);
		len = (size_t)(zs.next_out - out);
		if (len > max) {
			err = -EFBIG;
			goto out;
		}
		if (zret == Z_STREAM_END) {
			if (!zs.avail_in && !in_len)
				break;
			/* Another member must follow; anything else is garbage. */
			if (inflateReset(&zs) != Z_OK) {
				err = -EBADMSG;
				goto out;
			}
			continue;
		}
		if (zret == Z_MEM_ERROR) {
			err = -ENOMEM;
			goto out;
		}
		if (zret != Z_OK && zret != Z_BUF_ERROR) {
			err = -EBADMSG;
			goto out;
		}
		/* No progress possible: truncated input. */
		if (zret == Z_BUF_ERROR && !zs.avail_in && !in_len) {
			err = -EBADMSG;
			goto out;
		}
	}
	*ret_buf = out;
	*ret_len = len;
	out = NULL;
out:
	inflateEnd(&zs);
	free(out);
	return err;
}

/* Counts what protobuf-c allocates while unpacking, and stops it at limit. */
struct decode_budget {
	size_t used;
	size_t limit;
	bool exceeded;
	bool nomem;
};

static void *budget_alloc(void *data, size_t size)
{
	struct decode_budget *db = data;
	void *p;

	if (size > db->limit - db->used) {
		db->exceeded = true;
		return NULL;
	}
	p = malloc(size);
	if (!p) {
		db->nomem = true;
		return NULL;
	}
	db->used += size;
	return p;
}

static void budget_free(void *data, void *ptr)
{
	free(ptr);
}

/* Maps a table's ids to index+1: the identity when they already are, else a hash. */
struct idmap {
	const uint64_t *ids;
	size_t nr;
	bool identity;
	struct htab ht;
};

static bool id_eq(const void *ctx, size_t idx, const void *key)
{
	const struct idmap *m = ctx;

	return m->ids[idx] == *(const uint64_t *)key;
}

/* ids must outlive m. Ids must be non-zero and unique. */
static int idmap__build(struct idmap *m, const uint64_t *ids, size_t nr)
{
	size_t i;
	int err;

	m->ids = ids;
	m->nr = nr;
	m->identity = true;
	for (i = 0; i < nr; i++) {
		if (ids[i] != i + 1) {
			m->identity = false;
			break;
		}
	}
	if (m->identity)
		return 0;
	for (i = 0; i < nr; i++) {
		uint64_t hash = hash_mix(ids[i]);

		if (!ids[i] || htab__find(&m->ht, hash, id_eq, m, &ids[i]))
			return -EBADMSG;
		err = htab__insert(&m->ht, hash, i);
		if (err)
			return err;
	}
	return 0;
}

/* Returns the new id (index+1) of old id, or 0 when there is none. */
static uint64_t idmap__get(const struct idmap *m, uint64_t id)
{
	if (m->identity)
		return id && id <= m->nr ? id : 0;
	return htab__find(&m->ht, hash_mix(id), id_eq, m, &id);
}

static bool str_ok(const pprof_profile_t *p, int64_t i)
{
	return i >= 0 && (uint64_t)i < p->n_string_table;
}

static bool value_type_ok(const pprof_profile_t *p, const pb_value_type_t *vt)
{
	return str_ok(p, vt->type) && str_ok(p, vt->unit);
}

/* Checks every string index and the value count of every sample. */
static int validate_strings(const pprof_profile_t *p)
{
	size_t i, j;

	if (!p->n_string_table || !p->string_table[0] || p->string_table[0][0])
		return -EBADMSG;
	for (i = 0; i < p->n_string_table; i++) {
		if (!p->string_table[i])
			return -EBADMSG;
	}
	if (!str_ok(p, p->drop_frames) || !str_ok(p, p->keep_frames) || !str_ok(p, p->doc_url) ||
	    !str_ok(p, p->default_sample_type))
		return -EBADMSG;
	if (p->period_type && !value_type_ok(p, p->period_type))
		return -EBADMSG;
	for (i = 0; i < p->n_sample_type; i++) {
		if (!value_type_ok(p, p->sample_type[i]))
			return -EBADMSG;
	}
	for (i = 0; i < p->n_comment; i++) {
		if (!str_ok(p, p->comment[i]))
			return -EBADMSG;
	}
	for (i = 0; i < p->n_sample; i++) {
		const pb_sample_t *s = p->sample[i];

		if (s->n_value != p->n_sample_type)
			return -EBADMSG;
		for (j = 0; j < s->n_label; j++) {
			const pb_label_t *l = s->label[j];

			if (!str_ok(p, l->key) || !str_ok(p, l->str) || !str_ok(p, l->num_unit))
				return -EBADMSG;
		}
	}
	for (i = 0; i < p->n_mapping; i++) {
		if (!str_ok(p, p->mapping[i]->filename) || !str_ok(p, p->mapping[i]->build_id))
			return -EBADMSG;
	}
	for (i = 0; i < p->n_function; i++) {
		const pb_function_t *f = p->function[i];

		if (!str_ok(p, f->name) || !str_ok(p, f->system_name) || !str_ok(p, f->filename))
			return -EBADMSG;
	}
	return 0;
}

/* Rewrites every id to index+1 and every reference through the old ids. */
static int renumber(pprof_profile_t *p)
{
	struct idmap maps = {0}, funcs = {0}, locs = {0};
	uint64_t *ids;
	size_t nr_ids, i, j;
	int err;

	nr_ids = p->n_mapping + p->n_function + p->n_location;
	if (nr_ids < p->n_mapping)
		return -EBADMSG;
	ids = alloc_array(nr_ids, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (i = 0; i < p->n_mapping; i++)
		ids[i] = p->mapping[i]->id;
	for (i = 0; i < p->n_function; i++)
		ids[p->n_mapping + i] = p->function[i]->id;
	for (i = 0; i < p->n_location; i++)
		ids[p->n_mapping + p->n_function + i] = p->location[i]->id;
	err = idmap__build(&maps, ids, p->n_mapping);
	if (err)
		goto out;
	err = idmap__build(&funcs, ids + p->n_mapping, p->n_function);
	if (err)
		goto out;
	err = idmap__build(&locs, ids + p->n_mapping + p->n_function, p->n_location);
	if (err)
		goto out;

	err = -EBADMSG;
	for (i = 0; i < p->n_location; i++) {
		pb_location_t *l = p->location[i];

		if (l->mapping_id) {
			l->mapping_id = idmap__get(&maps, l->mapping_id);
			if (!l->mapping_id)
				goto out;
		}
		for (j = 0; j < l->n_line; j++) {
			pb_line_t *ln = l->line[j];

			if (ln->function_id) {
				ln->function_id = idmap__get(&funcs, ln->function_id);
				if (!ln->function_id)
					goto out;
			}
		}
	}
	for (i = 0; i < p->n_sample; i++) {
		pb_sample_t *s = p->sample[i];

		for (j = 0; j < s->n_location_id; j++) {
			s->location_id[j] = idmap__get(&locs, s->location_id[j]);
			if (!s->location_id[j])
				goto out;
		}
	}
	for (i = 0; i < p->n_mapping; i++)
		p->mapping[i]->id = i + 1;
	for (i = 0; i < p->n_function; i++)
		p->function[i]->id = i + 1;
	for (i = 0; i < p->n_location; i++)
		p->location[i]->id = i + 1;
	err = 0;
out:
	htab__free(&maps.ht);
	htab__free(&funcs.ht);
	htab__free(&locs.ht);
	free(ids);
	return err;
}

static bool is_gzip(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

int pprof__read_mem(const uint8_t *data, size_t len, pprof_profile_t **ret)
{
	struct decode_budget budget = {.limit = PPROF_DECODE_MAX_SIZE};
	ProtobufCAllocator allocator = {
		.alloc = budget_alloc,
		.free = budget_free,
		.allocator_data = &budget,
	};
	uint8_t *plain = NULL;
	size_t plain_len = len;
	pprof_profile_t *p = NULL;
	int err;

	if ((!data && len) || !ret)
		return -EINVAL;
	if (!data)
		data = (const uint8_t *)"";
	if (is_gzip(data, len)) {
		err = gunzip(data, len, PPROF_READ_MAX_SIZE, &plain, &plain_len);
		if (err)
			return err;
		data = plain;
	} else if (len > PPROF_READ_MAX_SIZE) {
		return -EFBIG;
	}
	p = perftools__profiles__profile__unpack(&allocator, plain_len, data);
	if (!p) {
		err = budget.exceeded ? -EFBIG : budget.nomem ? -ENOMEM : -EBADMSG;
		goto out;
	}
	err = validate_strings(p);
	if (err)
		goto out;
	err = renumber(p);
	if (err)
		goto out;
	*ret = p;
	p = NULL;
out:
	pprof__profile_free(p);
	free(plain);
	return err;
}

int pprof__read_file(const char *path, pprof_profile_t **ret)
{
	char *buf;
	size_t len;
	int err;

	if (!path || !ret)
		return -EINVAL;
	/* A compressed file this large cannot inflate to within the limit anyway. */
	err = safefile__read(path, PPROF_READ_MAX_SIZE, &buf, &len, NULL);
	if (err)
		return err;
	err = pprof__read_mem((const uint8_t *)buf, len, ret);
	free(buf);
	return err;
}

void pprof__profile_free(pprof_profile_t *p)
{
	if (p)
		perftools__profiles__profile__free_unpacked(p, NULL);
}

const char *pprof__str(const pprof_profile_t *p, int64_t i)
{
	if (!p || !str_ok(p, i) || !p->string_table[i])
		return "";
	return p->string_table[i];
}

/* ---- merge ---- */

/* Per-merge memo of p's tables to b's ids; 0 (and -1 for strings) means not yet. */
struct merge_ctx {
	struct pprof_builder *b;
	const pprof_profile_t *p;
	int64_t *strs;
	uint64_t *maps;
	uint64_t *funcs;
	uint64_t *locs;
};

static int64_t merge_str(struct merge_ctx *mc, int64_t i)
{
	int64_t idx;

	if (!str_ok(mc->p, i))
		return 0;
	if (mc->strs[i] >= 0)
		return mc->strs[i];
	idx = builder_str(mc->b, pprof__str(mc->p, i));
	if (idx >= 0)
		mc->strs[i] = idx;
	return idx;
}

static int64_t merge_mapping(struct merge_ctx *mc, uint64_t id)
{
	pb_mapping_t key = PERFTOOLS__PROFILES__MAPPING__INIT;
	const pb_mapping_t *m;
	int64_t new_id;

	if (!id)
		return 0;
	if (id > mc->p->n_mapping)
		return -EINVAL;
	if (mc->maps[id - 1])
		return (int64_t)mc->maps[id - 1];
	m = mc->p->mapping[id - 1];
	key.memory_start = m->memory_start;
	key.memory_limit = m->memory_limit;
	key.file_offset = m->file_offset;
	key.filename = merge_str(mc, m->filename);
	if (key.filename < 0)
		return key.filename;
	key.build_id = merge_str(mc, m->build_id);
	if (key.build_id < 0)
		return key.build_id;
	key.has_functions = m->has_functions;
	key.has_filenames = m->has_filenames;
	key.has_line_numbers = m->has_line_numbers;
	key.has_inline_frames = m->has_inline_frames;
	new_id = builder_mapping(mc->b, &key);
	if (new_id > 0)
		mc->maps[id - 1] = (uint64_t)new_id;
	return new_id;
}

static int64_t merge_func(struct merge_ctx *mc, uint64_t id)
{
	pb_function_t key = PERFTOOLS__PROFILES__FUNCTION__INIT;
	const pb_function_t *f;
	int64_t new_id;

	if (!id)
		return 0;
	if (id > mc->p->n_function)
		return -EINVAL;
	if (mc->funcs[id - 1])
		return (int64_t)mc->funcs[id - 1];
	f = mc->p->function[id - 1];
	key.name = merge_str(mc, f->name);
	if (key.name < 0)
		return key.name;
	key.system_name = merge_str(mc, f->system_name);
	if (key.system_name < 0)
		return key.system_name;
	key.filename = merge_str(mc, f->filename);
	if (key.filename < 0)
		return key.filename;
	key.start_line = f->start_line;
	new_id = builder_func(mc->b, &key);
	if (new_id > 0)
		mc->funcs[id - 1] = (uint64_t)new_id;
	return new_id;
}

static int64_t merge_location(struct merge_ctx *mc, uint64_t id)
{
	struct pprof_builder *b = mc->b;
	const pb_location_t *l;
	int64_t mapping_id, func_id, new_id;
	size_t line_off, i;
	int err;

	if (!id || id > mc->p->n_location)
		return -EINVAL;
	if (mc->locs[id - 1])
		return (int64_t)mc->locs[id - 1];
	l = mc->p->location[id - 1];
	mapping_id = merge_mapping(mc, l->mapping_id);
	if (mapping_id < 0)
		return mapping_id;
	if (l->address) {
		new_id = builder_loc_find(b, (uint64_t)mapping_id, l->address);
		if (new_id)
			goto out_found;
	}
	line_off = b->nr_lines;
	for (i = 0; i < l->n_line; i++) {
		func_id = merge_func(mc, l->line[i]->function_id);
		if (func_id < 0) {
			b->nr_lines = line_off;
			return func_id;
		}
		/* function_id 0 is "none": such a line is dropped, as the builder does. */
		if (!func_id)
			continue;
		err = builder_stage_line(b, (uint64_t)func_id, l->line[i]->line,
					 l->line[i]->column);
		if (err) {
			b->nr_lines = line_off;
			return err;
		}
	}
	new_id = builder_loc_commit(b, (uint64_t)mapping_id, l->address, line_off);
	if (new_id < 0)
		return new_id;
out_found:
	mc->locs[id - 1] = (uint64_t)new_id;
	return new_id;
}

/* A sample being merged: its location ids and its labels staged in b->labels. */
struct sample_key {
	const uint64_t *locs;
	size_t nr_locs;
	const pb_label_t *labels;
	size_t nr_labels;
};

static uint64_t sample_key_hash(const struct sample_key *k)
{
	uint64_t h = hash_add(k->nr_locs, k->nr_labels);
	size_t i;

	for (i = 0; i < k->nr_locs; i++)
		h = hash_add(h, k->locs[i]);
	for (i = 0; i < k->nr_labels; i++) {
		h = hash_add(h, (uint64_t)k->labels[i].key);
		h = hash_add(h, (uint64_t)k->labels[i].str);
		h = hash_add(h, (uint64_t)k->labels[i].num);
		h = hash_add(h, (uint64_t)k->labels[i].num_unit);
	}
	return h;
}

static bool sample_eq(const void *ctx, size_t idx, const void *key)
{
	const struct pprof_builder *b = ctx;
	const struct builder_sample *s = &b->samples[idx];
	const struct sample_key *k = key;
	size_t i;

	if (s->nr_locs != k->nr_locs || s->nr_labels != k->nr_labels)
		return false;
	if (k->nr_locs &&
	    memcmp(&b->sample_locs[s->loc_off], k->locs, k->nr_locs * sizeof(*k->locs)))
		return false;
	for (i = 0; i < k->nr_labels; i++) {
		const pb_label_t *x = &b->labels[s->label_off + i], *y = &k->labels[i];

		if (x->key != y->key || x->str != y->str || x->num != y->num ||
		    x->num_unit != y->num_unit)
			return false;
	}
	return true;
}

/*
 * Adds values to sample idx; false, with the sample untouched, when a sum
 * would wrap: then the caller keeps the new one apart and a reader's own
 * overflow check still sees every value.
 */
static bool sample_add_values(struct pprof_builder *b, size_t idx, const int64_t *values)
{
	int64_t *v, sum;
	size_t i;

	/* Without sample types there is nothing to add (and no value pool). */
	if (!b->nr_sample_types)
		return true;
	v = &b->sample_vals[idx * b->nr_sample_types];
	for (i = 0; i < b->nr_sample_types; i++) {
		if (__builtin_add_overflow(v[i], values[i], &sum))
			return false;
	}
	for (i = 0; i < b->nr_sample_types; i++)
		v[i] += values[i];
	return true;
}

static int merge_sample(struct merge_ctx *mc, const pb_sample_t *s, uint64_t **scratch,
			size_t *scratch_cap)
{
	struct pprof_builder *b = mc->b;
	size_t label_off = b->nr_labels, i, found;
	struct sample_key key;
	uint64_t hash;
	int64_t id;
	int err;

	if (s->n_value != b->nr_sample_types)
		return -EINVAL;
	err = array_reserve((void **)scratch, scratch_cap, 0, s->n_location_id, sizeof(**scratch));
	if (err)
		return err;
	for (i = 0; i < s->n_location_id; i++) {
		id = merge_location(mc, s->location_id[i]);
		if (id < 0)
			return (int)id;
		(*scratch)[i] = (uint64_t)id;
	}
	for (i = 0; i < s->n_label; i++) {
		pb_label_t l = PERFTOOLS__PROFILES__LABEL__INIT;

		l.key = merge_str(mc, s->label[i]->key);
		l.str = merge_str(mc, s->label[i]->str);
		l.num = s->label[i]->num;
		l.num_unit = merge_str(mc, s->label[i]->num_unit);
		err = -ENOMEM;
		if (l.key < 0 || l.str < 0 || l.num_unit < 0)
			goto out_drop;
		err = builder_stage_label(b, &l);
		if (err)
			goto out_drop;
	}
	/* Windows of one process repeat their stacks: one sample each, values summed. */
	/* No label pool yet when no sample had labels: no NULL + 0. */
	key = (struct sample_key){*scratch, s->n_location_id,
				  s->n_label ? &b->labels[label_off] : NULL, s->n_label};
	hash = sample_key_hash(&key);
	found = htab__find(&b->merged_ht, hash, sample_eq, b, &key);
	if (found && sample_add_values(b, found - 1, s->value)) {
		b->nr_labels = label_off;
		return 0;
	}
	err = builder_sample_raw(b, *scratch, s->n_location_id, s->value, s->n_label);
	if (err)
		goto out_drop;
	/* Without room in the table a later equal sample stays a sample of its own. */
	if (!found)
		(void)htab__insert(&b->merged_ht, hash, b->nr_samples - 1);
	return 0;

out_drop:
	b->nr_labels = label_off;
	return err;
}

/* True when p's sample types equal b's, compared by string. */
static bool merge_same_types(const struct pprof_builder *b, const pprof_profile_t *p)
{
	size_t i;

	if (p->n_sample_type != b->nr_sample_types)
		return false;
	for (i = 0; i < b->nr_sample_types; i++) {
		const pb_value_type_t *vt = p->sample_type[i];

		if (strcmp(b->strs[b->sample_types[i].type], pprof__str(p, vt->type)) ||
		    strcmp(b->strs[b->sample_types[i].unit], pprof__str(p, vt->unit)))
			return false;
	}
	return true;
}

/* Appends p's comments that b does not have yet, in linear time. */
static int merge_comments(struct merge_ctx *mc)
{
	struct pprof_builder *b = mc->b;
	const pprof_profile_t *p = mc->p;
	bool *seen = NULL;
	int64_t idx;
	size_t i;
	int err = 0;

	if (!p->n_comment)
		return 0;
	/* Intern first, so that seen[] covers every string index involved. */
	for (i = 0; i < p->n_comment; i++) {
		idx = merge_str(mc, p->comment[i]);
		if (idx < 0)
			return (int)idx;
	}
	seen = calloc(b->nr_strs, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	for (i = 0; i < b->nr_comments; i++)
		seen[b->comments[i]] = true;
	for (i = 0; i < p->n_comment; i++) {
		idx = merge_str(mc, p->comment[i]);
		if (seen[idx])
			continue;
		err = builder_comment_idx(b, idx);
		if (err)
			goto out;
		seen[idx] = true;
	}
out:
	free(seen);
	return err;
}

/* Adopts p's profile-wide fields where b has none yet. */
static int merge_header(struct merge_ctx *mc, bool first)
{
	struct pprof_builder *b = mc->b;
	const pprof_profile_t *p = mc->p;
	pb_value_type_t vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	int64_t idx;
	size_t i;
	int err;

	for (i = 0; first && i < p->n_sample_type; i++) {
		vt.type = merge_str(mc, p->sample_type[i]->type);
		vt.unit = merge_str(mc, p->sample_type[i]->unit);
		if (vt.type < 0 || vt.unit < 0)
			return -ENOMEM;
		err = array_reserve((void **)&b->sample_types, &b->cap_sample_types,
				    b->nr_sample_types, 1, sizeof(*b->sample_types));
		if (err)
			return err;
		b->sample_types[b->nr_sample_types++] = vt;
	}
	if (!b->has_period_type && p->period_type) {
		vt.type = merge_str(mc, p->period_type->type);
		vt.unit = merge_str(mc, p->period_type->unit);
		if (vt.type < 0 || vt.unit < 0)
			return -ENOMEM;
		b->period_type = vt;
		b->has_period_type = true;
		b->period = p->period;
	}
	if (!b->default_sample_type && p->default_sample_type) {
		idx = merge_str(mc, p->default_sample_type);
		if (idx < 0)
			return (int)idx;
		b->default_sample_type = idx;
	}
	if (!b->drop_frames && !b->keep_frames) {
		b->drop_frames = merge_str(mc, p->drop_frames);
		b->keep_frames = merge_str(mc, p->keep_frames);
		if (b->drop_frames < 0 || b->keep_frames < 0) {
			b->drop_frames = b->keep_frames = 0;
			return -ENOMEM;
		}
	}
	if (!b->doc_url) {
		idx = merge_str(mc, p->doc_url);
		if (idx < 0)
			return (int)idx;
		b->doc_url = idx;
	}
	return merge_comments(mc);
}

static void merge_time(struct pprof_builder *b, const pprof_profile_t *p)
{
	int64_t b_end, p_end;

	if (!p->time_nanos)
		return;
	if (!b->time_nanos) {
		b->time_nanos = p->time_nanos;
		b->duration_nanos = p->duration_nanos;
		return;
	}
	/* Saturate rather than overflow on hostile values. */
	if (__builtin_add_overflow(b->time_nanos, b->duration_nanos, &b_end))
		b_end = INT64_MAX;
	if (__builtin_add_overflow(p->time_nanos, p->duration_nanos, &p_end))
		p_end = INT64_MAX;
	if (p->time_nanos < b->time_nanos)
		b->time_nanos = p->time_nanos;
	if (p_end > b_end)
		b_end = p_end;
	if (__builtin_sub_overflow(b_end, b->time_nanos, &b->duration_nanos))
		b->duration_nanos = INT64_MAX;
}

int pprof_builder__merge(struct pprof_builder *b, const pprof_profile_t *p)
{
	return pprof_builder__merge_filtered(b, p, NULL, NULL);
}

int pprof_builder__merge_filtered(struct pprof_builder *b, const pprof_profile_t *p,
				  pprof_sample_filter_fn keep, void *ctx)
{
	struct merge_ctx mc = {.b = b, .p = p};
	uint64_t *scratch = NULL;
	size_t scratch_cap = 0, i;
	bool first;
	int err;

	if (!b || !p || !p->n_string_table)
		return -EINVAL;
	first = !b->nr_sample_types && !b->nr_samples;
	if (!first && !merge_same_types(b, p))
		return -EINVAL;
	mc.strs = alloc_array(p->n_string_table, sizeof(*mc.strs));
	mc.maps = alloc_array(p->n_mapping, sizeof(*mc.maps));
	mc.funcs = alloc_array(p->n_function, sizeof(*mc.funcs));
	mc.locs = alloc_array(p->n_location, sizeof(*mc.locs));
	if (!mc.strs || !mc.maps || !mc.funcs || !mc.locs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < p->n_string_table; i++)
		mc.strs[i] = -1;
	err = merge_header(&mc, first);
	if (err)
		goto out;
	for (i = 0; i < p->n_sample; i++) {
		/* Skipped samples are never interned: their frames cost nothing. */
		if (keep && !keep(p, p->sample[i], ctx))
			continue;
		err = merge_sample(&mc, p->sample[i], &scratch, &scratch_cap);
		if (err)
			goto out;
	}
	merge_time(b, p);
out:
	free(scratch);
	free(mc.strs);
	free(mc.maps);
	free(mc.funcs);
	free(mc.locs);
	return err;
}
