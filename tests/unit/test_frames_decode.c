// SPDX-License-Identifier: MIT
/*
 * Property test of frame identity: for every profile of the tests' corpora
 * (the .pb.gz files of tests/data, every file of tests/fuzz/corpus/fuzz_pprof)
 * and for generated profiles full of unnamed frames, what report (per-function
 * flat and cum), folded output, the flame graph's trees and a diff's base
 * show equals an independent decode of the same file, and no frame has an
 * empty name.
 *
 * The independent decode reads the file with zlib and the protobuf-c code
 * generated from proto/profile.proto only (no pprof__read*(), no stacks.c),
 * resolves ids itself, names frames by the rules stacks.h states (a line's
 * function name or system name, unnamed lines skipped, a location with no
 * named line shown as "0xADDR [mapping]"), and sums flat, cum and whole
 * stacks. A frame that took another frame's name (the packed-key bug: an
 * unnamed frame's key equalled a function's) shows up as a difference.
 *
 * go tool pprof, where installed, checks the decoder itself: its flat
 * sample counts per function agree with the decoder's on a Go profile and
 * on a generated one.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "pprof.h"
#include "profile.pb-c.h"
#include "stacks.h"

#define KERNEL_ADDR_MIN 0xffff800000000000ull

/* ---- sums keyed by a string ---- */

struct sum {
	char *key;
	int64_t v[4];
};

struct sums {
	struct sum *e;
	size_t nr, alloc;
};

static void sums__add(struct sums *s, const char *key, int64_t a, int64_t b, int64_t c, int64_t d)
{
	if (s->nr == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 256;
		s->e = realloc(s->e, s->alloc * sizeof(*s->e));
		assert_non_null(s->e);
	}
	s->e[s->nr].key = strdup(key);
	assert_non_null(s->e[s->nr].key);
	s->e[s->nr].v[0] = a;
	s->e[s->nr].v[1] = b;
	s->e[s->nr].v[2] = c;
	s->e[s->nr].v[3] = d;
	s->nr++;
}

static int sum__cmp(const void *a, const void *b)
{
	return strcmp(((const struct sum *)a)->key, ((const struct sum *)b)->key);
}

/* Sorts, merges equal keys (adding), drops all-zero entries. */
static void sums__finish(struct sums *s)
{
	size_t i, n = 0, k;

	if (s->nr)
		qsort(s->e, s->nr, sizeof(*s->e), sum__cmp);
	for (i = 0; i < s->nr; i++) {
		if (n && !strcmp(s->e[n - 1].key, s->e[i].key)) {
			for (k = 0; k < 4; k++)
				s->e[n - 1].v[k] += s->e[i].v[k];
			free(s->e[i].key);
			continue;
		}
		s->e[n++] = s->e[i];
	}
	s->nr = n;
	for (i = n = 0; i < s->nr; i++) {
		if (s->e[i].v[0] || s->e[i].v[1] || s->e[i].v[2] || s->e[i].v[3])
			s->e[n++] = s->e[i];
		else
			free(s->e[i].key);
	}
	s->nr = n;
}

static void sums__free(struct sums *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		free(s->e[i].key);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static void printable(char *out, size_t size, const char *in)
{
	size_t i = 0;

	for (; *in && i + 5 < size; in++) {
		if ((unsigned char)*in >= 0x20 && (unsigned char)*in < 0x7f)
			out[i++] = *in;
		else
			i += (size_t)snprintf(out + i, size - i, "\\x%02x", (unsigned char)*in);
	}
	out[i] = '\0';
}

/* Fails (naming what and where) unless want and got hold the same sums. */
static void sums__expect_equal(const struct sums *want, const struct sums *got, const char *what,
			       const char *profile, const char *got_by)
{
	char buf[1024];
	size_t i, j;

	for (i = j = 0; i < want->nr || j < got->nr;) {
		int c = i == want->nr ? 1 :
			j == got->nr  ? -1 :
					strcmp(want->e[i].key, got->e[j].key);

		if (!c && !memcmp(want->e[i].v, got->e[j].v, sizeof(want->e[i].v))) {
			i++;
			j++;
			continue;
		}
		if (c <= 0) {
			printable(buf, sizeof(buf), want->e[i].key);
			print_error("%s: %s: decoder has '%s' = %" PRId64 " %" PRId64 " %" PRId64
				    " %" PRId64 "%s\n",
				    profile, what, buf, want->e[i].v[0], want->e[i].v[1],
				    want->e[i].v[2], want->e[i].v[3],
				    c ? ", the other nothing" : "");
		}
		if (c >= 0) {
			printable(buf, sizeof(buf), got->e[j].key);
			print_error("%s: %s: %s has '%s' = %" PRId64 " %" PRId64 " %" PRId64
				    " %" PRId64 "\n",
				    profile, what, got_by, buf, got->e[j].v[0], got->e[j].v[1],
				    got->e[j].v[2], got->e[j].v[3]);
		}
		fail_msg("%s: %s differ", profile, what);
	}
}

/* ---- the independent decode ---- */

enum {
	K_USER,
	K_KERNEL,
	K_INLINED,
	K_JIT,
	K_UNKNOWN,
	K_PROCESS
};

static const char kind_char[] = "ukijuP";

struct dframe {
	char *name;
	const char *file;
	int kind;
};

struct decoded {
	struct sums funcs; /* name \x1f file -> flat val, flat cnt, cum val, cum cnt */
	struct sums machine; /* raw path -> self cnt, self val */
	struct sums by_comm;
	struct sums folded; /* folded text line (without count) -> count */
	bool plain; /* every name prints as itself in folded output */
	bool by_comm_folded; /* some sample has a comm label */
};

struct dec_ctx {
	Perftools__Profiles__Profile *p;
	struct dframe **loc_frames; /* by location index */
	size_t *loc_nr;
};

static const char *dstr(const Perftools__Profiles__Profile *p, int64_t i)
{
	return i >= 0 && (size_t)i < p->n_string_table ? p->string_table[i] : "";
}

static Perftools__Profiles__Function *dfunc(const Perftools__Profiles__Profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; id && i < p->n_function; i++)
		if (p->function[i]->id == id)
			return p->function[i];
	return NULL;
}

static Perftools__Profiles__Mapping *dmapping(const Perftools__Profiles__Profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; id && i < p->n_mapping; i++)
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	return NULL;
}

static long dlocation(const Perftools__Profiles__Profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return (long)i;
	return -1;
}

static bool d_is_jit(const char *file)
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

/* The frames of location li, outermost first, by the rules of stacks.h. */
static void decode_location(struct dec_ctx *c, size_t li)
{
	const Perftools__Profiles__Location *loc = c->p->location[li];
	const Perftools__Profiles__Mapping *m = dmapping(c->p, loc->mapping_id);
	const char *map_file = m ? dstr(c->p, m->filename) : "";
	bool kernel = loc->address >= KERNEL_ADDR_MIN, jit = false;
	struct dframe *fr = calloc(loc->n_line + 1, sizeof(*fr));
	size_t n = 0, i;
	char buf[600];

	assert_non_null(fr);
	if (m) {
		kernel = kernel || !strncmp(map_file, "[kernel", 7) ||
			 !strcmp(map_file, "[vmlinux]");
		jit = !kernel && d_is_jit(map_file);
	}
	for (i = loc->n_line; i-- > 0;) {
		const Perftools__Profiles__Function *fn = dfunc(c->p, loc->line[i]->function_id);
		const char *name = fn ? dstr(c->p, fn->name) : "";

		if (fn && !*name)
			name = dstr(c->p, fn->system_name);
		if (!*name)
			continue;
		fr[n].name = strdup(name);
		fr[n].file = dstr(c->p, fn->filename);
		fr[n].kind = kernel		  ? K_KERNEL :
			     i != loc->n_line - 1 ? K_INLINED :
			     jit		  ? K_JIT :
						    K_USER;
		n++;
	}
	if (!n) {
		if (m && *map_file) {
			const char *base = strrchr(map_file, '/');

			base = base && base[1] ? base + 1 : map_file;
			if (base[0] == '[' && base[strlen(base) - 1] == ']')
				snprintf(buf, sizeof(buf), "0x%" PRIx64 " %.500s", loc->address,
					 base);
			else
				snprintf(buf, sizeof(buf), "0x%" PRIx64 " [%.500s]", loc->address,
					 base);
		} else {
			snprintf(buf, sizeof(buf), "0x%" PRIx64, loc->address);
		}
		fr[n].name = strdup(buf);
		fr[n].file = "";
		fr[n].kind = kernel ? K_KERNEL : K_UNKNOWN;
		n++;
	}
	c->loc_frames[li] = fr;
	c->loc_nr[li] = n;
}

static bool name_is_plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == ';')
			return false;
	return true;
}

static void append(char **buf, size_t *len, size_t *alloc, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *alloc) {
		*alloc = (*len + n + 1) * 2;
		*buf = realloc(*buf, *alloc);
		assert_non_null(*buf);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static void raw_frame(char **buf, size_t *len, size_t *alloc, const char *name, const char *file,
		      int kind)
{
	char k[4] = {'\x1f', kind_char[kind], '\x1e', '\0'};

	append(buf, len, alloc, name);
	append(buf, len, alloc, "\x1f");
	append(buf, len, alloc, file);
	append(buf, len, alloc, k);
}

static const char *folded_suffix(int kind)
{
	return kind == K_KERNEL ? "_[k]" : kind == K_INLINED ? "_[i]" : kind == K_JIT ? "_[j]" : "";
}

static int read_all(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *out = NULL;
	size_t len = 0, alloc = 0, n;
	z_stream z;
	int zr;

	if (!f)
		return -errno;
	for (;;) {
		if (len == alloc) {
			alloc = alloc ? alloc * 2 : 65536;
			buf = realloc(buf, alloc);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, alloc - len, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	if (len < 2 || buf[0] != 0x1f || buf[1] != 0x8b) {
		*ret = buf;
		*ret_len = len;
		return 0;
	}
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 32), Z_OK);
	z.next_in = buf;
	z.avail_in = (uInt)len;
	alloc = 0;
	n = 0;
	do {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 1 << 20;
			out = realloc(out, alloc);
			assert_non_null(out);
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(alloc - n);
		zr = inflate(&z, Z_NO_FLUSH);
		n = alloc - z.avail_out;
	} while (zr == Z_OK && (z.avail_in || !z.avail_out));
	inflateEnd(&z);
	free(buf);
	if (zr != Z_STREAM_END) {
		free(out);
		return -EBADMSG;
	}
	*ret = out;
	*ret_len = n;
	return 0;
}

/*
 * Decodes path independently into *d. Returns false when the file is not
 * one to compare (not a profile, or values so large that sums overflow).
 */
static bool decode(const char *path, struct decoded *d)
{
	struct dec_ctx c = {0};
	uint8_t *buf = NULL;
	size_t len = 0, i, k, li, nf;
	long vi = -1, ci = -1, idx;
	struct dframe *stack = NULL;
	size_t nstack, astack = 0;
	char *key = NULL;
	size_t klen, kalloc = 0;
	double magnitude = 0;
	bool ok = false;

	memset(d, 0, sizeof(*d));
	d->plain = true;
	if (read_all(path, &buf, &len))
		return false;
	c.p = perftools__profiles__profile__unpack(NULL, len, buf);
	free(buf);
	if (!c.p || !c.p->n_sample_type)
		goto out;
	c.loc_frames = calloc(c.p->n_location + 1, sizeof(*c.loc_frames));
	c.loc_nr = calloc(c.p->n_location + 1, sizeof(*c.loc_nr));
	assert_true(c.loc_frames && c.loc_nr);
	for (li = 0; li < c.p->n_location; li++)
		decode_location(&c, li);

	if (c.p->default_sample_type)
		for (i = 0; i < c.p->n_sample_type && vi < 0; i++)
			if (!strcmp(dstr(c.p, c.p->sample_type[i]->type),
				    dstr(c.p, c.p->default_sample_type)))
				vi = (long)i;
	if (vi < 0)
		vi = (long)c.p->n_sample_type - 1;
	for (i = 0; i < c.p->n_sample_type && ci < 0; i++)
		if (!strcmp(dstr(c.p, c.p->sample_type[i]->type), "samples") &&
		    !strcmp(dstr(c.p, c.p->sample_type[i]->unit), "count"))
			ci = (long)i;

	for (i = 0; i < c.p->n_sample; i++) {
		const Perftools__Profiles__Sample *sm = c.p->sample[i];
		const char *comm = "[unknown]";
		int64_t val, cnt;
		size_t f, g;

		val = (size_t)vi < sm->n_value ? sm->value[vi] : 0;
		cnt = ci >= 0 ? ((size_t)ci < sm->n_value ? sm->value[ci] : 0) : 1;
		magnitude += (val < 0 ? -(double)val : (double)val) +
			     (cnt < 0 ? -(double)cnt : (double)cnt);
		for (k = 0; k < sm->n_label; k++)
			if (!strcmp(dstr(c.p, sm->label[k]->key), "comm")) {
				d->by_comm_folded = true;
				if (*dstr(c.p, sm->label[k]->str)) {
					comm = dstr(c.p, sm->label[k]->str);
					break;
				}
			}
		if (!val && !cnt)
			continue;
		/* The whole stack, outermost first. */
		nstack = 0;
		for (k = sm->n_location_id; k-- > 0;) {
			idx = dlocation(c.p, sm->location_id[k]);
			if (idx < 0)
				goto out; /* not a valid profile */
			nf = c.loc_nr[idx];
			if (nstack + nf > astack) {
				astack = (nstack + nf) * 2;
				stack = realloc(stack, astack * sizeof(*stack));
				assert_non_null(stack);
			}
			memcpy(stack + nstack, c.loc_frames[idx], nf * sizeof(*stack));
			nstack += nf;
		}
		/* Per function: flat for the leaf, cum once per sample. */
		for (f = 0; f < nstack; f++) {
			bool seen = false;

			for (g = 0; g < f && !seen; g++)
				seen = !strcmp(stack[g].name, stack[f].name) &&
				       !strcmp(stack[g].file, stack[f].file);
			klen = 0;
			append(&key, &klen, &kalloc, stack[f].name);
			append(&key, &klen, &kalloc, "\x1f");
			append(&key, &klen, &kalloc, stack[f].file);
			sums__add(&d->funcs, key, f == nstack - 1 ? val : 0,
				  f == nstack - 1 ? cnt : 0, seen ? 0 : val, seen ? 0 : cnt);
			d->plain = d->plain && name_is_plain(stack[f].name);
		}
		d->plain = d->plain && name_is_plain(comm);
		/* The machine tree (a sample with no frame is the root's own). */
		klen = 0;
		append(&key, &klen, &kalloc, "");
		for (f = 0; f < nstack; f++)
			raw_frame(&key, &klen, &kalloc, stack[f].name, stack[f].file,
				  stack[f].kind);
		if (nstack)
			sums__add(&d->machine, key, cnt, val, 0, 0);
		klen = 0;
		raw_frame(&key, &klen, &kalloc, comm, "", K_PROCESS);
		for (f = 0; f < nstack; f++)
			raw_frame(&key, &klen, &kalloc, stack[f].name, stack[f].file,
				  stack[f].kind);
		sums__add(&d->by_comm, key, cnt, val, 0, 0);
		/* Folded text, as flamegraph --folded prints it. */
		klen = 0;
		append(&key, &klen, &kalloc, "");
		for (f = 0; f < nstack; f++) {
			if (f)
				append(&key, &klen, &kalloc, ";");
			append(&key, &klen, &kalloc, stack[f].name);
			append(&key, &klen, &kalloc, folded_suffix(stack[f].kind));
		}
		{
			/* by_comm_folded is final only after all samples: keep both forms. */
			char *line = NULL;
			size_t llen = 0, lalloc = 0;

			append(&line, &llen, &lalloc, "C");
			append(&line, &llen, &lalloc, comm);
			if (nstack)
				append(&line, &llen, &lalloc, ";");
			append(&line, &llen, &lalloc, key);
			sums__add(&d->folded, line, cnt, 0, 0, 0);
			if (nstack) {
				line[0] = 'M';
				llen = 1;
				line[1] = '\0';
				append(&line, &llen, &lalloc, key);
				sums__add(&d->folded, line, cnt, 0, 0, 0);
			}
			free(line);
		}
	}
	ok = magnitude < 1e15;
out:
	for (li = 0; c.loc_frames && li < c.p->n_location; li++) {
		for (k = 0; k < c.loc_nr[li]; k++)
			free(c.loc_frames[li][k].name);
		free(c.loc_frames[li]);
	}
	free(c.loc_frames);
	free(c.loc_nr);
	free(stack);
	free(key);
	/* The folded sums keep only the tree the output uses. */
	if (ok) {
		struct sums keep = {0};

		for (i = 0; i < d->folded.nr; i++)
			if (d->folded.e[i].key[0] == (d->by_comm_folded ? 'C' : 'M'))
				sums__add(&keep, d->folded.e[i].key + 1, d->folded.e[i].v[0], 0, 0,
					  0);
		sums__free(&d->folded);
		d->folded = keep;
		sums__finish(&d->funcs);
		sums__finish(&d->machine);
		sums__finish(&d->by_comm);
		sums__finish(&d->folded);
	}
	if (c.p)
		perftools__profiles__profile__free_unpacked(c.p, NULL);
	return ok;
}

static void decoded__free(struct decoded *d)
{
	sums__free(&d->funcs);
	sums__free(&d->machine);
	sums__free(&d->by_comm);
	sums__free(&d->folded);
}

/* ---- what smolder shows ---- */

struct walk_ctx {
	const struct stacks *s;
	const struct stacks_tree *t;
	struct sums *out;
	uint32_t path[4096];
	bool too_deep;
};

static int walk_enter(void *arg, uint32_t node, size_t depth)
{
	struct walk_ctx *w = arg;
	const struct stacks_frame *fr;
	char *key = NULL;
	size_t len = 0, alloc = 0, i;

	if (depth >= sizeof(w->path) / sizeof(w->path[0])) {
		w->too_deep = true;
		return 1;
	}
	w->path[depth] = w->t->nodes[node].frame;
	if (!depth)
		return 0;
	append(&key, &len, &alloc, "");
	for (i = 1; i <= depth; i++) {
		fr = stacks__frame(w->s, w->path[i]);
		raw_frame(&key, &len, &alloc, fr->name, fr->file, (int)fr->kind);
	}
	sums__add(w->out, key, stacks__self_cnt(w->t, node, STACKS_NEW),
		  stacks__self_val(w->t, node, STACKS_NEW), 0, 0);
	free(key);
	return 0;
}

static void tree_sums(const struct stacks *s, enum stacks_tree_id id, struct sums *out)
{
	struct walk_ctx *w = calloc(1, sizeof(*w));
	struct stacks_walk_ops ops = {.enter = walk_enter};

	assert_non_null(w);
	w->s = s;
	w->t = stacks__tree(s, id);
	w->out = out;
	if (w->t)
		assert_int_equal(stacks__walk(s, id, 0, &ops, w), 0);
	assert_false(w->too_deep);
	free(w);
	sums__finish(out);
}

static void folded_sums(const struct stacks *s, enum stacks_tree_id id, struct sums *out)
{
	char *text = NULL, *line, *save = NULL, *sp;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(stacks__write_folded(s, id, STACKS_NEW, f), 0);
	assert_int_equal(fclose(f), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		sp = strrchr(line, ' ');
		assert_non_null(sp);
		*sp = '\0';
		sums__add(out, line, strtoll(sp + 1, NULL, 10), 0, 0, 0);
	}
	free(text);
	sums__finish(out);
}

/* Compares everything for one file; false when it was not one to compare. */
static bool check_file(const char *path)
{
	struct sums funcs = {0}, base_funcs = {0}, machine = {0}, by_comm = {0}, folded = {0};
	struct stacks_func_stat *st = NULL;
	const struct stacks_func *fn;
	pprof_profile_t *p = NULL;
	struct stacks *s = NULL;
	struct decoded d;
	char *key = NULL;
	size_t klen, kalloc = 0, nr = 0, i;

	if (pprof__read_file(path, &p))
		return false; /* smolder refuses it: nothing shown to compare */
	if (!decode(path, &d)) {
		pprof__profile_free(p);
		return false;
	}
	s = stacks__new(STACKS_WANT_MACHINE | STACKS_WANT_BY_COMM);
	assert_non_null(s);
	if (stacks__add_profile(s, p, STACKS_NEW)) {
		/* Refused (no sample type...): the decoder must have nothing to show either. */
		assert_int_equal(d.funcs.nr, 0);
		goto out;
	}
	/* diff: the same file as BASE must show the same, in its own slot. */
	assert_int_equal(stacks__add_profile(s, p, STACKS_BASE), 0);
	assert_int_equal(stacks__build(s, 0), 0);
	/* No frame, process frames included, has an empty name. */
	for (i = 0; i < stacks__nr_frames(s); i++)
		if (!stacks__frame(s, (uint32_t)i)->name[0])
			fail_msg("%s: frame %zu has an empty name", path, i);

	/* report: flat and cum per function. */
	assert_int_equal(stacks__func_stats(s, STACKS_NONE, &st, &nr), 0);
	for (i = 0; i < nr; i++) {
		fn = stacks__func(s, st[i].func);
		klen = 0;
		append(&key, &klen, &kalloc, fn->name);
		append(&key, &klen, &kalloc, "\x1f");
		append(&key, &klen, &kalloc, fn->file);
		sums__add(&funcs, key, st[i].flat_val[STACKS_NEW], st[i].flat_cnt[STACKS_NEW],
			  st[i].cum_val[STACKS_NEW], st[i].cum_cnt[STACKS_NEW]);
		sums__add(&base_funcs, key, st[i].flat_val[STACKS_BASE],
			  st[i].flat_cnt[STACKS_BASE], st[i].cum_val[STACKS_BASE],
			  st[i].cum_cnt[STACKS_BASE]);
	}
	sums__finish(&funcs);
	sums__expect_equal(&d.funcs, &funcs, "flat/cum per function", path, "smolder");
	sums__finish(&base_funcs);
	sums__expect_equal(&d.funcs, &base_funcs, "flat/cum per function of a diff's base", path,
			   "smolder");

	/* The flame graph's trees, frame by frame. */
	tree_sums(s, STACKS_TREE_MACHINE, &machine);
	sums__expect_equal(&d.machine, &machine, "machine tree", path, "smolder");
	tree_sums(s, STACKS_TREE_BY_COMM, &by_comm);
	sums__expect_equal(&d.by_comm, &by_comm, "per-process tree", path, "smolder");

	/* Folded text, where every name prints as itself. */
	if (d.plain) {
		folded_sums(s, d.by_comm_folded ? STACKS_TREE_BY_COMM : STACKS_TREE_MACHINE,
			    &folded);
		sums__expect_equal(&d.folded, &folded, "folded stacks", path, "smolder");
	}
out:
	free(key);
	free(st);
	sums__free(&funcs);
	sums__free(&base_funcs);
	sums__free(&machine);
	sums__free(&by_comm);
	sums__free(&folded);
	decoded__free(&d);
	stacks__free(s);
	pprof__profile_free(p);
	return true;
}

static size_t check_dir(const char *dir, const char *suffix)
{
	struct dirent **names = NULL;
	char path[4096];
	size_t checked = 0, len;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		len = strlen(names[i]->d_name);
		if (names[i]->d_name[0] != '.' &&
		    (!suffix || (len > strlen(suffix) &&
				 !strcmp(names[i]->d_name + len - strlen(suffix), suffix)))) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			checked += check_file(path);
		}
		free(names[i]);
	}
	free(names);
	return checked;
}

static void test_corpora(void **state)
{
	size_t data, fuzz;

	(void)state;
	data = check_dir(SMOLDER_SRC_DIR "/tests/data", ".pb.gz");
	fuzz = check_dir(SMOLDER_SRC_DIR "/tests/fuzz/corpus/fuzz_pprof", NULL);
	print_message("compared %zu data profiles, %zu fuzz corpus profiles\n", data, fuzz);
	assert_true(data >= 1);
	assert_true(fuzz >= 1);
}

/* ---- generated profiles ---- */

static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (rng_state >> 33) % n;
}

static const char *const gen_names[] = {
	"__memcpy_avx512_unaligned_erms",
	"elf_getdata",
	"main",
	"parse",
	"inner_loop",
	"_dl_map_object_deps",
	"std::vector<int>::push_back",
	"JS:*mapwork",
	"schedule",
	"do_syscall_64",
	"",
};
static const char *const gen_files[] = {"", "memmove.S", "elf_data.c", "main.c", "x.c"};
static const char *const gen_maps[] = {
	"/usr/lib/x86_64-linux-gnu/libelf.so.1",
	"/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/usr/bin/xz",
	"[kernel.kallsyms]",
	"[anon]",
	"/tmp/perf-42.map",
	"[vdso]",
	"/",
};

/*
 * A profile of unnamed and named frames: unnamed ones in every mapping, so
 * that under the old packed keys their frame keys equal function keys.
 */
static void generate(const char *path, uint64_t seed, bool named_lines_only)
{
	static const struct pprof_value_type samples = {"samples", "count"};
	static const struct pprof_value_type cpu = {"cpu", "nanoseconds"};
	struct pprof_builder *b = pprof_builder__new();
	uint64_t maps[sizeof(gen_maps) / sizeof(gen_maps[0])], locs[400], stack[32];
	struct pprof_line_desc lines[3];
	struct pprof_label_desc label;
	size_t nr_locs = 100 + rnd(300), i, k, n, nl;
	int64_t values[2], id;

	rng_state = seed;
	assert_non_null(b);
	assert_int_equal(pprof_builder__add_sample_type(b, &samples), 0);
	assert_int_equal(pprof_builder__add_sample_type(b, &cpu), 0);
	assert_int_equal(pprof_builder__set_default_sample_type(b, "cpu"), 0);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct pprof_mapping_desc md = {
			.memory_start = 0x7f0000000000ull + i * 0x1000000,
			.memory_limit = 0x7f0000000000ull + (i + 1) * 0x1000000,
			.filename = gen_maps[i],
		};

		if (!strcmp(gen_maps[i], "[kernel.kallsyms]")) {
			md.memory_start = KERNEL_ADDR_MIN;
			md.memory_limit = UINT64_MAX;
		}
		id = pprof_builder__mapping(b, &md);
		assert_true(id > 0);
		maps[i] = (uint64_t)id;
	}
	for (i = 0; i < nr_locs; i++) {
		size_t mi = rnd(sizeof(maps) / sizeof(maps[0]));
		uint64_t addr = !strcmp(gen_maps[mi], "[kernel.kallsyms]") ?
					KERNEL_ADDR_MIN + rnd(1 << 20) :
					0x7f0000000000ull + mi * 0x1000000 + 1 + rnd(0xffffff);

		nl = rnd(5) < 2 ? 0 : 1 + rnd(3); /* many unnamed locations */
		for (k = 0; k < nl; k++)
			lines[k] = (struct pprof_line_desc){
				.name = gen_names[rnd(sizeof(gen_names) / sizeof(gen_names[0]) -
						      named_lines_only)],
				.filename =
					gen_files[rnd(sizeof(gen_files) / sizeof(gen_files[0]))],
				.line = (int64_t)rnd(50),
			};
		id = pprof_builder__location(b, rnd(8) ? maps[mi] : 0, addr + i, lines, nl);
		assert_true(id > 0);
		locs[i] = (uint64_t)id;
	}
	for (i = 0; i < 200 + rnd(400); i++) {
		n = 1 + rnd(sizeof(stack) / sizeof(stack[0]));
		for (k = 0; k < n; k++)
			stack[k] = locs[rnd(nr_locs)];
		values[0] = 1 + (int64_t)rnd(5);
		values[1] = values[0] * 10000000;
		label = (struct pprof_label_desc){.key = "comm", .str = rnd(3) ? "xz" : "bash"};
		assert_int_equal(
			pprof_builder__sample(b, stack, n, values, 2, &label, (seed & 1) ? 1 : 0),
			0);
	}
	assert_int_equal(pprof_builder__write_file(b, path, 0600), 0);
	pprof_builder__free(b);
}

static void test_generated(void **state)
{
	char dir[] = "/tmp/smolder-frames-XXXXXX", path[64];
	uint64_t seed;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (seed = 1; seed <= 24; seed++) {
		snprintf(path, sizeof(path), "%s/gen.pb.gz", dir);
		generate(path, seed, false);
		assert_true(check_file(path));
		unlink(path);
	}
	rmdir(dir);
}

/*
 * A profile whose string table holds "" twice, its samples labelled with the
 * second: the process is then unknown, not a frame named "".
 */
static void test_empty_comm(void **state)
{
	char *strs[] = {"", "samples", "count", "comm", "", "main"};
	Perftools__Profiles__Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT, *vts[] = {&vt};
	Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT, *fns[] = {&fn};
	Perftools__Profiles__Line ln = PERFTOOLS__PROFILES__LINE__INIT, *lns[] = {&ln};
	Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT, *locs[] = {&loc};
	Perftools__Profiles__Label lb = PERFTOOLS__PROFILES__LABEL__INIT, *lbs[] = {&lb};
	Perftools__Profiles__Sample sm = PERFTOOLS__PROFILES__SAMPLE__INIT, *sms[] = {&sm};
	char dir[] = "/tmp/smolder-frames-XXXXXX", path[64];
	uint64_t loc_ids[] = {1};
	int64_t values[] = {3};
	uint8_t *buf;
	size_t len;
	FILE *f;

	(void)state;
	vt.type = 1;
	vt.unit = 2;
	fn.id = 1;
	fn.name = 5;
	ln.function_id = 1;
	loc.id = 1;
	loc.address = 0x1234;
	loc.n_line = 1;
	loc.line = lns;
	lb.key = 3;
	lb.str = 4;
	sm.n_location_id = 1;
	sm.location_id = loc_ids;
	sm.n_value = 1;
	sm.value = values;
	sm.n_label = 1;
	sm.label = lbs;
	p.n_sample_type = 1;
	p.sample_type = vts;
	p.n_function = 1;
	p.function = fns;
	p.n_location = 1;
	p.location = locs;
	p.n_sample = 1;
	p.sample = sms;
	p.n_string_table = sizeof(strs) / sizeof(strs[0]);
	p.string_table = strs;
	len = perftools__profiles__profile__get_packed_size(&p);
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(perftools__profiles__profile__pack(&p, buf), len);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/comm.pb", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(buf);
	assert_true(check_file(path));
	unlink(path);
	rmdir(dir);
}

/* ---- the decoder against go tool pprof ---- */

static bool have_go(void)
{
	return !system("command -v go >/dev/null 2>&1");
}

/* go tool pprof's flat sample counts per function name, against the decoder's. */
static void compare_with_go(const char *path)
{
	struct sums want = {0}, got = {0};
	struct decoded d;
	char cmd[4200], line[4096], name[4096], *sep;
	long long flat;
	size_t i;
	FILE *f;
	bool table = false;

	assert_true(decode(path, &d));
	for (i = 0; i < d.funcs.nr; i++) {
		snprintf(name, sizeof(name), "%s", d.funcs.e[i].key);
		sep = strchr(name, '\x1f');
		if (sep)
			*sep = '\0';
		/* go names an address frame its own way and drops template arguments. */
		if (strncmp(name, "0x", 2) && !strchr(name, '<'))
			sums__add(&want, name, d.funcs.e[i].v[1], 0, 0, 0);
	}
	sums__finish(&want);
	snprintf(cmd, sizeof(cmd),
		 "HOME=${HOME:-/tmp} GOFLAGS= go tool pprof -top -flat -nodecount=1000000 "
		 "-nodefraction=0 -sample_index=samples '%s' 2>/dev/null",
		 path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		int off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (strstr(line, "flat%") && strstr(line, "cum%")) {
			table = true;
			continue;
		}
		if (!table || sscanf(line, " %lld %*s %*s %*s %*s %n", &flat, &off) != 1 || !off)
			continue;
		/* Unnamed locations: go shows "0x...", "<unknown>" or "[mapping]". */
		if (strncmp(line + off, "0x", 2) && strcmp(line + off, "<unknown>") &&
		    line[off] != '[' && strcmp(line + off, "std::vector::push_back"))
			sums__add(&got, line + off, flat, 0, 0, 0);
	}
	assert_int_equal(pclose(f), 0);
	assert_true(table);
	sums__finish(&got);
	sums__expect_equal(&want, &got, "flat samples", path, "go tool pprof");
	sums__free(&want);
	sums__free(&got);
	decoded__free(&d);
}

static void test_go_pprof_agrees(void **state)
{
	char dir[] = "/tmp/smolder-frames-XXXXXX", path[64];

	(void)state;
	if (!have_go()) {
		print_message("go not installed (scripts/install-deps.sh): skipped\n");
		skip();
	}
	compare_with_go(SMOLDER_SRC_DIR "/tests/data/go-cpu.pb.gz");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gen.pb.gz", dir);
	/* go shows a line of function "" as "": only named lines here. */
	generate(path, 7, true);
	compare_with_go(path);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpora),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_empty_comm),
		cmocka_unit_test(test_go_pprof_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
