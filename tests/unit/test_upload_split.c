// SPDX-License-Identifier: MIT
/*
 * Unit tests of profiler/upload.c: splitting a profile into one series per
 * service (systemd_unit, container_id, comm, with the comm fallback), the
 * per-profile limits (16,000 samples, 4 MiB uncompressed), the series labels,
 * and reading secrets from files.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "upload.h"

static const struct pprof_value_type sample_types[] = {{"samples", "count"},
						       {"cpu", "nanoseconds"}};

static struct pprof_builder *new_builder(void)
{
	struct pprof_builder *b = pprof_builder__new();

	assert_non_null(b);
	assert_int_equal(pprof_builder__add_sample_type(b, &sample_types[0]), 0);
	assert_int_equal(pprof_builder__add_sample_type(b, &sample_types[1]), 0);
	assert_int_equal(pprof_builder__set_time(b, 1763719200000000000LL, 60000000000LL), 0);
	return b;
}

/* One sample at a location named fn, with a value and up to two string labels. */
static void add_sample(struct pprof_builder *b, const char *fn, int64_t v, const char *k1,
		       const char *v1, const char *k2, const char *v2)
{
	struct pprof_line_desc line = {.name = fn};
	struct pprof_label_desc labels[2];
	int64_t values[2] = {v, v * 10101010};
	size_t nr = 0;
	int64_t loc;
	uint64_t id;

	loc = pprof_builder__location(b, 0, 0, &line, 1);
	assert_true(loc > 0);
	id = (uint64_t)loc;
	if (k1)
		labels[nr++] = (struct pprof_label_desc){.key = k1, .str = v1};
	if (k2)
		labels[nr++] = (struct pprof_label_desc){.key = k2, .str = v2};
	assert_int_equal(pprof_builder__sample(b, &id, 1, values, 2, labels, nr), 0);
}

static pprof_profile_t *finish(struct pprof_builder *b)
{
	pprof_profile_t *p;
	uint8_t *buf;
	size_t len;

	assert_int_equal(pprof_builder__pack(b, &buf, &len), 0);
	assert_int_equal(pprof__read_mem(buf, len, &p), 0);
	free(buf);
	pprof_builder__free(b);
	return p;
}

static const char *label(const struct upload_series *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nr_labels; i++) {
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	}
	return NULL;
}

static const struct upload_series *find_service(const struct upload_series *s, size_t nr,
						const char *service)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!strcmp(label(&s[i], "service_name"), service))
			return &s[i];
	}
	return NULL;
}

/* Samples and the sum of first values in a series' profiles. */
static void totals(const struct upload_series *s, size_t *ret_samples, int64_t *ret_value)
{
	pprof_profile_t *p;
	size_t i, j;

	*ret_samples = 0;
	*ret_value = 0;
	for (i = 0; i < s->nr_profiles; i++) {
		assert_int_equal(pprof__read_mem(s->profiles[i].data, s->profiles[i].len, &p), 0);
		*ret_samples += p->n_sample;
		for (j = 0; j < p->n_sample; j++)
			*ret_value += p->sample[j]->value[0];
		assert_int_equal(p->time_nanos, 1763719200000000000LL);
		pprof__profile_free(p);
	}
}

static void test_split_by_service(void **state)
{
	const char *labels[] = {"env=prod", "region=eu"};
	struct pprof_builder *b = new_builder();
	const struct upload_series *s;
	struct upload_series *series;
	pprof_profile_t *p;
	size_t nr, samples;
	int64_t value;

	add_sample(b, "a1", 5, "systemd_unit", "nginx.service", "comm", "nginx");
	add_sample(b, "a2", 7, "systemd_unit", "nginx.service", "comm", "nginx");
	add_sample(b, "b1", 11, "systemd_unit", "cron.service", "comm", "cron");
	add_sample(b, "c1", 13, "comm", "kworker/0:1", NULL, NULL);
	add_sample(b, "d1", 17, NULL, NULL, NULL, NULL);
	add_sample(b, "e1", 19, "container_id", "4f1c", "comm", "java");
	p = finish(b);

	assert_int_equal(upload__split(p, NULL, labels, 2, &series, &nr), 0);
	assert_int_equal(nr, 5);
	s = find_service(series, nr, "nginx.service");
	assert_non_null(s);
	totals(s, &samples, &value);
	assert_int_equal(samples, 2);
	assert_int_equal(value, 12);
	assert_string_equal(label(s, "__name__"), "process_cpu");
	assert_string_equal(label(s, "__delta__"), "false");
	assert_string_equal(label(s, "env"), "prod");
	assert_string_equal(label(s, "region"), "eu");
	assert_int_equal(s->nr_labels, 5);
	assert_non_null(find_service(series, nr, "cron.service"));
	/* No systemd_unit: comm; neither: "unknown". */
	s = find_service(series, nr, "kworker/0:1");
	assert_non_null(s);
	totals(s, &samples, &value);
	assert_int_equal(value, 13);
	assert_non_null(find_service(series, nr, "unknown"));
	assert_non_null(find_service(series, nr, "java"));
	upload__series_free(series, nr);

	assert_int_equal(upload__split(p, "container_id", NULL, 0, &series, &nr), 0);
	assert_int_equal(nr, 5); /* 4f1c, nginx, cron, kworker/0:1, unknown */
	assert_non_null(find_service(series, nr, "4f1c"));
	assert_non_null(find_service(series, nr, "nginx"));
	upload__series_free(series, nr);

	assert_int_equal(upload__split(p, "comm", NULL, 0, &series, &nr), 0);
	assert_int_equal(nr, 5);
	assert_int_equal(series[0].nr_labels, 3);
	upload__series_free(series, nr);

	assert_int_equal(upload__split(p, "pid", NULL, 0, &series, &nr), -EINVAL);
	assert_false(upload__service_by_ok("cgroup"));
	assert_true(upload__service_by_ok("comm"));
	pprof__profile_free(p);
}

static void test_split_empty(void **state)
{
	struct upload_series *series = NULL;
	pprof_profile_t *p = finish(new_builder());
	size_t nr = 99;

	assert_int_equal(upload__split(p, NULL, NULL, 0, &series, &nr), 0);
	assert_int_equal(nr, 0);
	upload__series_free(series, nr);
	pprof__profile_free(p);
}

static void test_split_sample_limit(void **state)
{
	struct pprof_builder *b = new_builder();
	struct upload_series *series;
	pprof_profile_t *p, *part;
	char fn[32];
	size_t nr, samples, i;
	int64_t value;

	for (i = 0; i < 40000; i++) {
		/* Distinct stacks: merging sums equal samples. */
		snprintf(fn, sizeof(fn), "f%zu", i);
		add_sample(b, fn, 1, "systemd_unit", "big.service", "comm", "big");
	}
	add_sample(b, "g", 3, "systemd_unit", "small.service", NULL, NULL);
	p = finish(b);
	assert_int_equal(upload__split(p, NULL, NULL, 0, &series, &nr), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(label(&series[0], "service_name"), "big.service");
	assert_int_equal(series[0].nr_profiles, 3);
	for (i = 0; i < series[0].nr_profiles; i++) {
		assert_int_equal(pprof__read_mem(series[0].profiles[i].data,
						 series[0].profiles[i].len, &part),
				 0);
		assert_true(part->n_sample <= UPLOAD_MAX_SAMPLES);
		pprof__profile_free(part);
	}
	totals(&series[0], &samples, &value);
	assert_int_equal(samples, 40000);
	assert_int_equal(value, 40000);
	assert_int_equal(series[1].nr_profiles, 1);
	upload__series_free(series, nr);
	pprof__profile_free(p);
}

static size_t gunzip_size(const uint8_t *gz, size_t len)
{
	static uint8_t out[1 << 16];
	z_stream zs = {0};
	size_t total = 0;
	int ret;

	assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = (uint8_t *)gz;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		ret = inflate(&zs, Z_NO_FLUSH);
		total += sizeof(out) - zs.avail_out;
	} while (ret == Z_OK);
	assert_int_equal(ret, Z_STREAM_END);
	inflateEnd(&zs);
	return total;
}

static void test_split_size_limit(void **state)
{
	struct pprof_builder *b = new_builder();
	struct upload_series *series;
	pprof_profile_t *p;
	char fn[1100];
	size_t nr, samples, i;
	int64_t value;

	/* 6,000 samples with distinct 1 KiB function names: about 6 MiB raw. */
	for (i = 0; i < 6000; i++) {
		memset(fn, 'a' + (int)(i % 26), 1000);
		snprintf(fn + 1000, sizeof(fn) - 1000, "_%zu", i);
		add_sample(b, fn, 2, "systemd_unit", "fat.service", NULL, NULL);
	}
	p = finish(b);
	assert_int_equal(upload__split(p, NULL, NULL, 0, &series, &nr), 0);
	assert_int_equal(nr, 1);
	assert_true(series[0].nr_profiles >= 2);
	for (i = 0; i < series[0].nr_profiles; i++)
		assert_true(gunzip_size(series[0].profiles[i].data, series[0].profiles[i].len) <=
			    UPLOAD_MAX_PROFILE_BYTES);
	totals(&series[0], &samples, &value);
	assert_int_equal(samples, 6000);
	assert_int_equal(value, 12000);
	upload__series_free(series, nr);
	pprof__profile_free(p);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_read_secret(void **state)
{
	char path[] = "/tmp/smolder-secret-XXXXXX", err[256];
	char *s = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	write_file(path, "s3cr3t-token\n");
	assert_int_equal(upload__read_secret(path, &s, err, sizeof(err)), 0);
	assert_string_equal(s, "s3cr3t-token");
	free(s);
	write_file(path, "user:pass word \r\n");
	assert_int_equal(upload__read_secret(path, &s, err, sizeof(err)), 0);
	assert_string_equal(s, "user:pass word");
	free(s);
	write_file(path, "\n");
	assert_int_equal(upload__read_secret(path, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is empty"));
	write_file(path, "a\nb\n");
	assert_int_equal(upload__read_secret(path, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than one line"));
	unlink(path);
	assert_int_equal(upload__read_secret(path, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(upload__read_secret("/tmp", &s, err, sizeof(err)), -EISDIR);
	/* A FIFO as the token file is refused at once, not waited on. */
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(upload__read_secret(path, &s, err, sizeof(err)), -EBADFD);
	alarm(0);
	assert_non_null(strstr(err, "is not a regular file (a FIFO)"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_by_service),   cmocka_unit_test(test_split_empty),
		cmocka_unit_test(test_split_sample_limit), cmocka_unit_test(test_split_size_limit),
		cmocka_unit_test(test_read_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
