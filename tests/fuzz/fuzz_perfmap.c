// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes, sym_perfmap__parse() returns 0 or a negative
 * errno, never crashes, hangs or leaks; on success entries are sorted and do
 * not overlap, each has start < end and a non-empty NUL-terminated name of at
 * most SYM_PERFMAP_MAX_NAME bytes inside the string arena, and
 * sym_perfmap__find() returns exactly the entry containing the address asked
 * for (and NULL just before the first and at each entry's end when a gap
 * follows). And the same bytes written to this process's own perf map in
 * three appends (cut where the first two bytes say), each followed by a
 * lookup, are read once each and name every entry's start, middle and last
 * byte as the whole parse of the text up to its last newline does.
 */
#define _GNU_SOURCE /* memrchr */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolizer_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void append(const char *path, const uint8_t *data, size_t len, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f)
		abort();
	if (len && fwrite(data, 1, len, f) != len)
		abort();
	if (fclose(f))
		abort();
}

/* The name c gives addr now, or NULL. */
static const char *incremental_name(struct sym_perfmaps *c, uint64_t addr)
{
	struct sym_result res = {0};

	if (sym_perfmaps__lookup(c, getpid(), addr, &res))
		return NULL;
	return res.frames[0].name;
}

static void check_incremental(const uint8_t *data, size_t size)
{
	struct sym_perfmaps_opts opts = {.reread_ns = 1};
	const uint8_t *nl = size ? memrchr(data, '\n', size) : NULL;
	size_t whole = nl ? (size_t)(nl - data) + 1 : 0, cut1, cut2, i;
	struct symbolizer_stats st = {0};
	const struct sym_perfmap_sym *e;
	struct sym_perfmap *pm = NULL;
	struct sym_perfmaps *c;
	const char *got;
	uint64_t probes[3];
	char path[64];
	int k;

	cut1 = size ? data[0] % (size + 1) : 0;
	cut2 = size > 1 ? cut1 + data[1] % (size - cut1 + 1) : cut1;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	c = sym_perfmaps__new(&opts);
	if (!c || sym_perfmap__parse((const char *)data, whole, &pm))
		abort();
	append(path, data, cut1, "w");
	incremental_name(c, 0);
	append(path, data + cut1, cut2 - cut1, "a");
	incremental_name(c, 0);
	append(path, data + cut2, size - cut2, "a");
	incremental_name(c, 0);
	for (i = 0; i < pm->nr; i++) {
		e = &pm->syms[i];
		probes[0] = e->start;
		probes[1] = e->start + (e->end - e->start) / 2;
		probes[2] = e->end - 1;
		for (k = 0; k < 3; k++) {
			got = incremental_name(c, probes[k]);
			if (!got || strcmp(got, pm->strs + e->name_off))
				abort();
		}
	}
	sym_perfmaps__stats(c, &st);
	if (st.perfmap_bytes_read != size)
		abort();
	sym_perfmaps__free(c);
	sym_perfmap__free(pm);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sym_perfmap_sym *e, *found;
	struct sym_perfmap *pm = NULL;
	uint64_t probe;
	size_t i, name_len;

	check_incremental(data, size);
	if (sym_perfmap__parse((const char *)data, size, &pm))
		return 0;
	for (i = 0; i < pm->nr; i++) {
		e = &pm->syms[i];
		if (e->start >= e->end)
			abort();
		if (i && pm->syms[i - 1].end > e->start)
			abort();
		if (!e->name_off || e->name_off >= pm->strs_len)
			abort();
		name_len = strnlen(pm->strs + e->name_off, pm->strs_len - e->name_off);
		if (!name_len || name_len > SYM_PERFMAP_MAX_NAME ||
		    e->name_off + name_len >= pm->strs_len)
			abort();
		probe = e->start + (e->end - e->start) / 2;
		if (sym_perfmap__find(pm, probe) != e || sym_perfmap__find(pm, e->start) != e ||
		    sym_perfmap__find(pm, e->end - 1) != e)
			abort();
		found = sym_perfmap__find(pm, e->end);
		if (found && found != e + 1)
			abort();
	}
	if (pm->nr && pm->syms[0].start && sym_perfmap__find(pm, pm->syms[0].start - 1))
		abort();
	sym_perfmap__free(pm);
	return 0;
}
