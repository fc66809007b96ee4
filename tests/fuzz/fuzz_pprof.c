// SPDX-License-Identifier: MIT
/*
 * Property: for any input, pprof__read_mem() returns 0 or a negative errno,
 * never crashes, hangs or leaks. When it returns 0, every invariant pprof.h
 * promises holds (ids are index+1, every referenced id exists, every string
 * index is in range, string_table[0] is "", one value per sample type); the
 * harness checks each and abort()s otherwise. The profile is then merged into
 * a fresh builder and packed, and the packed bytes must read back with at
 * most as many samples (equal ones are summed) and, where no sum can
 * saturate, the same total of each sample type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond)
{
	if (!cond)
		abort();
}

static bool str_ok(const pprof_profile_t *p, int64_t i)
{
	return i >= 0 && (uint64_t)i < p->n_string_table;
}

static void check_invariants(const pprof_profile_t *p)
{
	size_t i, j;

	require(p->n_string_table >= 1 && p->string_table[0] && !p->string_table[0][0]);
	for (i = 0; i < p->n_string_table; i++)
		require(p->string_table[i] != NULL);
	require(str_ok(p, p->default_sample_type) && str_ok(p, p->drop_frames) &&
		str_ok(p, p->keep_frames) && str_ok(p, p->doc_url));
	require(!p->period_type ||
		(str_ok(p, p->period_type->type) && str_ok(p, p->period_type->unit)));
	for (i = 0; i < p->n_sample_type; i++)
		require(str_ok(p, p->sample_type[i]->type) && str_ok(p, p->sample_type[i]->unit));
	for (i = 0; i < p->n_comment; i++)
		require(str_ok(p, p->comment[i]));
	for (i = 0; i < p->n_mapping; i++) {
		require(p->mapping[i]->id == i + 1);
		require(str_ok(p, p->mapping[i]->filename) && str_ok(p, p->mapping[i]->build_id));
	}
	for (i = 0; i < p->n_function; i++) {
		const Perftools__Profiles__Function *f = p->function[i];

		require(f->id == i + 1);
		require(str_ok(p, f->name) && str_ok(p, f->system_name) && str_ok(p, f->filename));
	}
	for (i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *l = p->location[i];

		require(l->id == i + 1);
		require(l->mapping_id <= p->n_mapping);
		for (j = 0; j < l->n_line; j++)
			require(l->line[j]->function_id <= p->n_function);
	}
	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		require(s->n_value == p->n_sample_type);
		for (j = 0; j < s->n_location_id; j++)
			require(s->location_id[j] >= 1 && s->location_id[j] <= p->n_location);
		for (j = 0; j < s->n_label; j++) {
			const Perftools__Profiles__Label *l = s->label[j];

			require(str_ok(p, l->key) && str_ok(p, l->str) && str_ok(p, l->num_unit));
		}
	}
	/* pprof__str() must be safe for any index. */
	require(pprof__str(p, -1)[0] == '\0');
	require(pprof__str(p, (int64_t)p->n_string_table)[0] == '\0');
}

/* The total of value type t over p's samples; *ret_abs gets the total of |values|. */
static __int128 value_total(const pprof_profile_t *p, size_t t, __int128 *ret_abs)
{
	__int128 sum = 0, abs_sum = 0;
	size_t i;

	for (i = 0; i < p->n_sample; i++) {
		int64_t v = p->sample[i]->value[t];

		sum += v;
		abs_sum += v < 0 ? -(__int128)v : v;
	}
	*ret_abs = abs_sum;
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pprof_profile_t *p = NULL, *again = NULL;
	struct pprof_builder *b;
	uint8_t *buf = NULL;
	size_t len = 0, t;
	int err;

	err = pprof__read_mem(data, size, &p);
	require(err <= 0);
	if (err) {
		require(p == NULL);
		return 0;
	}
	check_invariants(p);

	b = pprof_builder__new();
	require(b != NULL);
	/* A valid profile always merges into an empty builder. */
	require(pprof_builder__merge(b, p) == 0);
	require(pprof_builder__pack(b, &buf, &len) == 0);
	require(pprof__read_mem(buf, len, &again) == 0);
	check_invariants(again);
	require(again->n_sample <= p->n_sample);
	require(again->n_sample_type == p->n_sample_type);
	for (t = 0; t < p->n_sample_type; t++) {
		__int128 abs_sum, unused, sum = value_total(p, t, &abs_sum);

		if (abs_sum <= INT64_MAX)
			require(value_total(again, t, &unused) == sum);
	}

	pprof__profile_free(again);
	free(buf);
	pprof_builder__free(b);
	pprof__profile_free(p);
	return 0;
}
