// SPDX-License-Identifier: MIT
/*
 * Profiles -> uploader. upload__split() orders the samples of a profile by
 * service (a stable sort of sample indices by the service label's value), then
 * cuts each service's run into chunks of at most UPLOAD_MAX_SAMPLES samples
 * and rebuilds each chunk as its own pprof with pprof_builder__merge_filtered()
 * (which interns only what the chunk's samples reach). A chunk whose packed
 * profile is over UPLOAD_MAX_PROFILE_BYTES is halved and rebuilt until it
 * fits (a single sample always fits the checks of pprof; a sample over 4 MiB
 * alone is sent as it is and the server decides).
 *
 * Nothing here prints (upload_cmd.c does), so the unit tests link it alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"
#include "upload.h"

#define SECRET_MAX 4096

struct sample_ref {
	const char *service;
	size_t idx;
};

/* One series being built: owns its label strings and profile bytes. */
struct series_buf {
	struct uploader_label *labels;
	size_t nr_labels;
	struct uploader_blob *profiles;
	size_t nr_profiles, profiles_cap;
};

bool upload__service_by_ok(const char *service_by)
{
	return !service_by || !strcmp(service_by, "systemd_unit") ||
	       !strcmp(service_by, "container_id") || !strcmp(service_by, "comm");
}

static const char *sample_label(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
				const char *key)
{
	size_t i;

	for (i = 0; i < s->n_label; i++) {
		const Perftools__Profiles__Label *l = s->label[i];

		if (l->str && !strcmp(pprof__str(p, l->key), key)) {
			const char *v = pprof__str(p, l->str);

			return v[0] ? v : NULL;
		}
	}
	return NULL;
}

static const char *service_of(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			      const char *service_by)
{
	const char *v = sample_label(p, s, service_by);

	if (!v)
		v = sample_label(p, s, "comm");
	return v ? v : "unknown";
}

static int cmp_ref(const void *a, const void *b)
{
	const struct sample_ref *x = a, *y = b;
	int c = strcmp(x->service, y->service);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const void *const *)a,
		  y = (uintptr_t) * (const void *const *)b;

	return x < y ? -1 : x > y;
}

/* The samples of one chunk, sorted by address for bsearch. */
struct chunk {
	const Perftools__Profiles__Sample **samples;
	size_t nr;
};

static bool keep_in_chunk(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, void *ctx)
{
	const struct chunk *c = ctx;

	return bsearch(&s, c->samples, c->nr, sizeof(c->samples[0]), cmp_ptr) != NULL;
}

static int series_add_profile(struct series_buf *sb, uint8_t *data, size_t len)
{
	struct uploader_blob *n;
	size_t cap;

	if (sb->nr_profiles == sb->profiles_cap) {
		cap = sb->profiles_cap ? sb->profiles_cap * 2 : 4;
		n = realloc(sb->profiles, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		sb->profiles = n;
		sb->profiles_cap = cap;
	}
	sb->profiles[sb->nr_profiles].data = data;
	sb->profiles[sb->nr_profiles].len = len;
	sb->nr_profiles++;
	return 0;
}

/*
 * Builds refs[0..nr) of p as gzip pprofs appended to sb, halving while the
 * uncompressed profile is over the limit.
 */
static int build_chunk(const pprof_profile_t *p, const struct sample_ref *refs, size_t nr,
		       struct series_buf *sb)
{
	struct pprof_builder *b = NULL;
	struct chunk c = {0};
	uint8_t *gz = NULL;
	size_t gz_len = 0, raw_len = 0, i;
	int err;

	c.samples = malloc(nr * sizeof(*c.samples));
	if (!c.samples)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		c.samples[i] = p->sample[refs[i].idx];
	c.nr = nr;
	qsort(c.samples, nr, sizeof(c.samples[0]), cmp_ptr);
	b = pprof_builder__new();
	if (!b) {
		err = -ENOMEM;
		goto out_free;
	}
	err = pprof_builder__merge_filtered(b, p, keep_in_chunk, &c);
	if (!err)
		err = pprof_builder__pack_gzip(b, &gz, &gz_len, &raw_len);
	if (err)
		goto out_free;
	if (raw_len > UPLOAD_MAX_PROFILE_BYTES && nr > 1) {
		free(gz);
		gz = NULL;
		err = build_chunk(p, refs, nr / 2, sb);
		if (!err)
			err = build_chunk(p, refs + nr / 2, nr - nr / 2, sb);
		goto out_free;
	}
	err = series_add_profile(sb, gz, gz_len);
	if (!err)
		gz = NULL;
out_free:
	free(gz);
	pprof_builder__free(b);
	free(c.samples);
	return err;
}

static int set_label(struct uploader_label *l, const char *name, size_t name_len, const char *value)
{
	l->name = strndup(name, name_len);
	l->value = strdup(value);
	return l->name && l->value ? 0 : -ENOMEM;
}

static int series_labels(struct series_buf *sb, const char *service, const char *const *labels,
			 size_t nr_labels)
{
	const char *eq;
	size_t i;
	int err = 0;

	sb->labels = calloc(3 + nr_labels, sizeof(*sb->labels));
	if (!sb->labels)
		return -ENOMEM;
	sb->nr_labels = 3 + nr_labels;
	err = set_label(&sb->labels[0], "__name__", 8, "process_cpu");
	if (!err)
		err = set_label(&sb->labels[1], "service_name", 12, service);
	if (!err)
		err = set_label(&sb->labels[2], "__delta__", 9, "false");
	for (i = 0; !err && i < nr_labels; i++) {
		eq = strchr(labels[i], '=');
		if (!eq || eq == labels[i])
			err = -EINVAL;
		else
			err = set_label(&sb->labels[3 + i], labels[i], (size_t)(eq - labels[i]),
					eq + 1);
	}
	return err;
}

void upload__series_free(struct upload_series *series, size_t nr)
{
	size_t i, j;

	if (!series)
		return;
	for (i = 0; i < nr; i++) {
		for (j = 0; series[i].labels && j < series[i].nr_labels; j++) {
			free((char *)series[i].labels[j].name);
			free((char *)series[i].labels[j].value);
		}
		for (j = 0; series[i].profiles && j < series[i].nr_profiles; j++)
			free((uint8_t *)series[i].profiles[j].data);
		free((struct uploader_label *)series[i].labels);
		free((struct uploader_blob *)series[i].profiles);
	}
	free(series);
}

int upload__split(const pprof_profile_t *p, const char *service_by, const char *const *labels,
		  size_t nr_labels, struct upload_series **ret, size_t *ret_nr)
{
	struct upload_series *out = NULL;
	struct sample_ref *refs = NULL;
	size_t nr_out = 0, i, start, end, nr_services = 0;
	struct series_buf sb;
	char service[UPLOAD_MAX_SERVICE + 1];
	int err = 0;

	if (!p || !upload__service_by_ok(service_by) || (nr_labels && !labels))
		return -EINVAL;
	if (!service_by)
		service_by = "systemd_unit";
	if (p->n_sample) {
		refs = calloc(p->n_sample, sizeof(*refs));
		if (!refs)
			return -ENOMEM;
	}
	for (i = 0; i < p->n_sample; i++) {
		refs[i].service = service_of(p, p->sample[i], service_by);
		refs[i].idx = i;
	}
	if (p->n_sample)
		qsort(refs, p->n_sample, sizeof(*refs), cmp_ref);
	for (i = 0; i < p->n_sample; i++) {
		if (!i || strcmp(refs[i].service, refs[i - 1].service))
			nr_services++;
	}
	out = calloc(nr_services ? nr_services : 1, sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out_free;
	}
	for (start = 0; start < p->n_sample; start = end) {
		for (end = start + 1;
		     end < p->n_sample && !strcmp(refs[end].service, refs[start].service); end++)
			;
		memset(&sb, 0, sizeof(sb));
		snprintf(service, sizeof(service), "%s", refs[start].service);
		err = series_labels(&sb, service, labels, nr_labels);
		for (i = start; !err && i < end; i += UPLOAD_MAX_SAMPLES)
			err = build_chunk(
				p, refs + i,
				end - i < UPLOAD_MAX_SAMPLES ? end - i : UPLOAD_MAX_SAMPLES, &sb);
		out[nr_out].labels = sb.labels;
		out[nr_out].nr_labels = sb.nr_labels;
		out[nr_out].profiles = sb.profiles;
		out[nr_out].nr_profiles = sb.nr_profiles;
		nr_out++;
		if (err)
			goto out_free;
	}
	*ret = out;
	*ret_nr = nr_out;
	out = NULL;
out_free:
	upload__series_free(out, nr_out);
	free(refs);
	return err;
}

/* Submits series[0..nr) in requests of at most UPLOAD_MAX_REQUEST_BYTES of profiles. */
static int submit_batches(struct uploader *u, struct upload_series *series, size_t nr)
{
	struct upload_series part;
	size_t start = 0, i, j, bytes = 0, series_bytes;
	int err = 0;

	for (i = 0; i <= nr; i++) {
		series_bytes = 0;
		for (j = 0; i < nr && j < series[i].nr_profiles; j++)
			series_bytes += series[i].profiles[j].len;
		if (i > start && (i == nr || bytes + series_bytes > UPLOAD_MAX_REQUEST_BYTES)) {
			err = uploader__submit(u, series + start, i - start);
			if (err)
				return err;
			start = i;
			bytes = 0;
		}
		if (i == nr)
			break;
		/* A series alone over the limit: its profiles go in several requests. */
		if (series_bytes > UPLOAD_MAX_REQUEST_BYTES && series[i].nr_profiles > 1) {
			part = series[i];
			for (j = 0; j < series[i].nr_profiles; j++) {
				part.profiles = &series[i].profiles[j];
				part.nr_profiles = 1;
				err = uploader__submit(u, &part, 1);
				if (err)
					return err;
			}
			start = i + 1;
			continue;
		}
		bytes += series_bytes;
	}
	return err;
}

int upload__profile(struct uploader *u, const pprof_profile_t *p, const struct upload_opts *o)
{
	struct upload_series *series = NULL;
	size_t nr = 0;
	int err;

	err = upload__split(p, o ? o->service_by : NULL, o ? o->labels : NULL, o ? o->nr_labels : 0,
			    &series, &nr);
	if (err)
		return err;
	/* An empty window is sent as nothing: Pyroscope has no use for it. */
	if (nr)
		err = submit_batches(u, series, nr);
	upload__series_free(series, nr);
	return err;
}

int upload__window(struct uploader *u, struct pprof_builder *b, const struct upload_opts *o)
{
	pprof_profile_t *p = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	err = pprof_builder__pack(b, &buf, &len);
	if (err)
		return err;
	err = pprof__read_mem(buf, len, &p);
	free(buf);
	if (err)
		return err;
	err = upload__profile(u, p, o);
	pprof__profile_free(p);
	return err;
}

int upload__read_secret(const char *path, char **ret, char *err, size_t errlen)
{
	char *buf = NULL, *s;
	size_t len = 0, read_len, i;
	mode_t type;
	int ret_err;

	ret_err = safefile__read(path, SECRET_MAX, &buf, &len, &type);
	if (ret_err == -EISDIR || ret_err == -EBADFD) {
		snprintf(err, errlen,
			 "'%s' is not a regular file (%s); give a file holding one line", path,
			 safefile__type_name(type));
		return ret_err;
	}
	if (ret_err == -EFBIG) {
		snprintf(err, errlen, "'%s' is larger than %d bytes: expected one line", path,
			 SECRET_MAX);
		return -EINVAL;
	}
	if (ret_err) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-ret_err));
		return ret_err;
	}
	read_len = len;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
		       buf[len - 1] == '\t'))
		len--;
	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			break;
	}
	if (!len || i < len) {
		ret_err = -EINVAL;
		snprintf(err, errlen, "'%s' %s", path,
			 len ? "holds more than one line or a control character" : "is empty");
		goto out_wipe;
	}
	s = strndup(buf, len);
	if (!s) {
		ret_err = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out_wipe;
	}
	*ret = s;
out_wipe:
	explicit_bzero(buf, read_len);
	free(buf);
	return ret_err;
}
