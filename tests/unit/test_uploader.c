// SPDX-License-Identifier: MIT
/*
 * Unit tests of uploader/: the spool (write, read back, order, caps and
 * eviction, counters, rejected/, restart), the backoff schedule, Retry-After
 * parsing, the verdict on HTTP statuses, UUIDs, and submit's validation.
 * No network: uploaders here run with no_thread.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "uploader_internal.h"

static char tmpdir[64];

static void subdir(const char *name, char *out, size_t len)
{
	char cmd[256];

	snprintf(out, len, "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
}

static size_t count_items(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !!strstr(de->d_name, UPLOADER_ITEM_SUFFIX);
	closedir(d);
	return n;
}

/* A PushRequest: series { labels { name: "n" value: "v" } samples { raw_profile: "data<i>" ID: "id<i>" } } */
static size_t make_body(uint8_t *buf, int i, size_t pad)
{
	uint8_t raw[4096], sample[4200], series[4400];
	size_t rl, sl, el, n = 0;
	char id[16];

	assert_true(pad < 3000);
	rl = (size_t)snprintf((char *)raw, sizeof(raw), "data%d", i);
	memset(raw + rl, 'x', pad);
	rl += pad;
	snprintf(id, sizeof(id), "id%d", i);
	sl = 0;
	sample[sl++] = 0x0a;
	sample[sl++] = (uint8_t)(0x80 | (rl & 0x7f));
	sample[sl++] = (uint8_t)(rl >> 7);
	memcpy(sample + sl, raw, rl);
	sl += rl;
	sample[sl++] = 0x12;
	sample[sl++] = (uint8_t)strlen(id);
	memcpy(sample + sl, id, strlen(id));
	sl += strlen(id);
	el = 0;
	memcpy(series, "\x0a\x06\x0a\x01n\x12\x01v", 8);
	el = 8;
	series[el++] = 0x12;
	series[el++] = (uint8_t)(0x80 | (sl & 0x7f));
	series[el++] = (uint8_t)(sl >> 7);
	memcpy(series + el, sample, sl);
	el += sl;
	buf[n++] = 0x0a;
	buf[n++] = (uint8_t)(0x80 | (el & 0x7f));
	buf[n++] = (uint8_t)(el >> 7);
	memcpy(buf + n, series, el);
	return n + el;
}

static void test_spool_roundtrip_order(void **state)
{
	struct uploader_spool_usage use;
	struct uploader_spool *s;
	uint8_t body[8192], *got;
	uint64_t seq[5], oldest;
	size_t len[5], got_len;
	char dir[128], path[256];
	struct stat st;
	int i;

	subdir("order", dir, sizeof(dir));
	s = uploader_spool__open(dir, 1 << 20, 100, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	for (i = 0; i < 5; i++) {
		len[i] = make_body(body, i, 10);
		assert_int_equal(uploader_spool__add(s, body, len[i], &seq[i]), 0);
		if (i)
			assert_true(seq[i] > seq[i - 1]);
	}
	uploader_spool__usage(s, &use);
	assert_int_equal(use.items, 5);
	assert_true(use.bytes > 0);
	snprintf(path, sizeof(path), "%s/%020llu%s", dir, (unsigned long long)seq[0],
		 UPLOADER_ITEM_SUFFIX);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Oldest first, content intact. */
	for (i = 0; i < 5; i++) {
		assert_int_equal(uploader_spool__take_oldest(s, &oldest), 0);
		assert_int_equal(oldest, seq[i]);
		assert_int_equal(uploader_spool__read(s, oldest, &got, &got_len), 0);
		make_body(body, i, 10);
		assert_int_equal(got_len, len[i]);
		assert_memory_equal(got, body, len[i]);
		free(got);
		assert_int_equal(uploader_spool__remove(s, oldest), 0);
		uploader_spool__release(s);
	}
	assert_int_equal(uploader_spool__take_oldest(s, &oldest), -ENOENT);
	assert_int_equal(uploader_spool__remove(s, seq[0]), -ENOENT);
	uploader_spool__usage(s, &use);
	assert_int_equal(use.items, 0);
	assert_int_equal(use.bytes, 0);
	assert_int_equal(use.dropped, 0);
	uploader_spool__free(s);
	assert_int_equal(count_items(dir), 0);
}

static void test_spool_cap_evicts_oldest(void **state)
{
	struct uploader_spool_usage use;
	struct uploader_spool *s;
	uint8_t body[8192];
	uint64_t seq[10], oldest;
	size_t len;
	char dir[128];
	int i;

	subdir("cap", dir, sizeof(dir));
	/* The padding compresses well: each item is about 40 bytes on disk. */
	s = uploader_spool__open(dir, 200, 100, NULL, NULL);
	assert_non_null(s);
	for (i = 0; i < 10; i++) {
		len = make_body(body, i, 2000);
		assert_int_equal(uploader_spool__add(s, body, len, &seq[i]), 0);
	}
	uploader_spool__usage(s, &use);
	assert_true(use.bytes <= 200);
	assert_true(use.dropped > 0);
	assert_int_equal(use.items + use.dropped, 10);
	assert_int_equal(count_items(dir), use.items);
	/* The newest survived, the oldest went. */
	assert_int_equal(uploader_spool__take_oldest(s, &oldest), 0);
	assert_int_equal(oldest, seq[use.dropped]);

	/* The busy item is spared: it stays while newer ones push past the cap. */
	for (i = 0; i < 10; i++) {
		len = make_body(body, 20 + i, 2000);
		assert_int_equal(uploader_spool__add(s, body, len, &seq[0]), 0);
	}
	assert_int_equal(uploader_spool__take_oldest(s, &seq[1]), 0);
	assert_int_equal(seq[1], oldest);
	uploader_spool__release(s);
	uploader_spool__free(s);

	/* An item bigger than the whole spool is refused and counted. */
	s = uploader_spool__open(dir, 20, 100, NULL, NULL);
	assert_non_null(s);
	uploader_spool__usage(s, &use);
	assert_true(use.bytes <= 20);
	len = make_body(body, 1, 2000);
	assert_int_equal(uploader_spool__add(s, body, len, &seq[0]), -EFBIG);
	uploader_spool__free(s);

	/* The item count cap. */
	subdir("count", dir, sizeof(dir));
	s = uploader_spool__open(dir, 1 << 20, 3, NULL, NULL);
	assert_non_null(s);
	for (i = 0; i < 5; i++) {
		len = make_body(body, i, 1);
		assert_int_equal(uploader_spool__add(s, body, len, &seq[i]), 0);
	}
	uploader_spool__usage(s, &use);
	assert_int_equal(use.items, 3);
	assert_int_equal(use.dropped, 2);
	assert_int_equal(uploader_spool__take_oldest(s, &oldest), 0);
	assert_int_equal(oldest, seq[2]);
	uploader_spool__free(s);
}

static void test_spool_reopen_and_garbage(void **state)
{
	struct uploader_spool_usage use;
	struct uploader_spool *s;
	uint8_t body[8192], *got;
	uint64_t seq[3], oldest, next;
	size_t len, got_len;
	char dir[128], path[300];
	int i, fd;

	subdir("reopen", dir, sizeof(dir));
	s = uploader_spool__open(dir, 1 << 20, 100, NULL, NULL);
	assert_non_null(s);
	for (i = 0; i < 3; i++) {
		len = make_body(body, i, 5);
		assert_int_equal(uploader_spool__add(s, body, len, &seq[i]), 0);
	}
	uploader_spool__free(s);
	/* A crash's leftovers and foreign files. */
	snprintf(path, sizeof(path), "%s/.tmp-abcdef", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	/* A damaged item, older than the rest. */
	snprintf(path, sizeof(path), "%s/%020d%s", dir, 1, UPLOADER_ITEM_SUFFIX);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_int_equal(write(fd, "SMOLDUP1garbage", 15), 15);
	close(fd);

	s = uploader_spool__open(dir, 1 << 20, 100, NULL, NULL);
	assert_non_null(s);
	snprintf(path, sizeof(path), "%s/.tmp-abcdef", dir);
	assert_int_equal(access(path, F_OK), -1);
	uploader_spool__usage(s, &use);
	assert_int_equal(use.items, 4);
	assert_int_equal(uploader_spool__take_oldest(s, &oldest), 0);
	assert_int_equal(oldest, 1);
	assert_int_equal(uploader_spool__read(s, oldest, &got, &got_len), -EBADMSG);
	assert_int_equal(uploader_spool__reject(s, oldest), 0);
	uploader_spool__release(s);
	snprintf(path, sizeof(path), "%s/rejected", dir);
	assert_int_equal(count_items(path), 1);
	assert_int_equal(uploader_spool__take_oldest(s, &oldest), 0);
	assert_int_equal(oldest, seq[0]);
	uploader_spool__release(s);
	/* New items still sort after the old ones. */
	len = make_body(body, 9, 5);
	assert_int_equal(uploader_spool__add(s, body, len, &next), 0);
	assert_true(next > seq[2]);
	uploader_spool__free(s);
}

/*
 * A spool others can write is refused: anyone could plant a PushRequest
 * there and have it sent with our token. A symlink or FIFO named like an
 * item in our own spool is skipped and counted, never read.
 */
static void test_spool_refuses_planted(void **state)
{
	struct uploader_spool_usage use;
	struct uploader_spool *s;
	uint8_t body[8192];
	char dir[128], path[300], target[300];
	uint64_t seq;
	size_t len;

	subdir("open", dir, sizeof(dir));
	s = uploader_spool__open(dir, 1 << 20, 100, NULL, NULL);
	assert_non_null(s);
	len = make_body(body, 1, 5);
	assert_int_equal(uploader_spool__add(s, body, len, &seq), 0);
	uploader_spool__free(s);
	assert_int_equal(chmod(dir, 0777), 0);
	errno = 0;
	assert_null(uploader_spool__open(dir, 1 << 20, 100, NULL, NULL));
	assert_int_equal(errno, EACCES);
	assert_int_equal(chmod(dir, 0700), 0);

	snprintf(target, sizeof(target), "%s/%020" PRIu64 "%s", dir, seq, UPLOADER_ITEM_SUFFIX);
	snprintf(path, sizeof(path), "%s/%020d%s", dir, 7, UPLOADER_ITEM_SUFFIX);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/%020d%s", dir, 8, UPLOADER_ITEM_SUFFIX);
	assert_int_equal(mkfifo(path, 0600), 0);
	s = uploader_spool__open(dir, 1 << 20, 100, NULL, NULL);
	assert_non_null(s);
	uploader_spool__usage(s, &use);
	assert_int_equal(use.items, 1);
	assert_int_equal(use.refused, 2);
	uploader_spool__free(s);
}

static void test_rejected_cap(void **state)
{
	struct uploader_spool_usage use;
	struct uploader_spool *s;
	uint8_t body[512];
	uint64_t seq;
	size_t len;
	char dir[128], rej[160];
	int i;

	subdir("rejcap", dir, sizeof(dir));
	s = uploader_spool__open(dir, 1 << 20, 1000, NULL, NULL);
	assert_non_null(s);
	for (i = 0; i < UPLOADER_MAX_REJECTED + 5; i++) {
		len = make_body(body, i, 1);
		assert_int_equal(uploader_spool__add(s, body, len, &seq), 0);
		assert_int_equal(uploader_spool__reject(s, seq), 0);
	}
	snprintf(rej, sizeof(rej), "%s/rejected", dir);
	assert_int_equal(count_items(rej), UPLOADER_MAX_REJECTED);
	uploader_spool__usage(s, &use);
	assert_int_equal(use.rejected_evicted, 5);
	assert_int_equal(use.items, 0);
	uploader_spool__free(s);
}

static void test_item_decode(void **state)
{
	uint8_t body[512], *out;
	size_t len, out_len;

	assert_int_equal(uploader_item__decode((const uint8_t *)"", 0, &out, &out_len), -EBADMSG);
	assert_int_equal(uploader_item__decode((const uint8_t *)"SMOLDUP1", 8, &out, &out_len),
			 -EBADMSG);
	assert_int_equal(uploader_item__decode((const uint8_t *)"XXXXXXXX\x28\xb5\x2f\xfd", 12,
					       &out, &out_len),
			 -EBADMSG);
	len = make_body(body, 1, 1);
	assert_true(len > 0);
}

static void test_backoff(void **state)
{
	unsigned int a;

	/* Half fixed, half jitter: rnd 0 gives the low end, UINT32_MAX the high end. */
	assert_int_equal(uploader__backoff_ms(1, 1000, 300000, 0), 500);
	assert_true(uploader__backoff_ms(1, 1000, 300000, UINT32_MAX) >= 999);
	assert_true(uploader__backoff_ms(1, 1000, 300000, UINT32_MAX) <= 1000);
	assert_int_equal(uploader__backoff_ms(2, 1000, 300000, 0), 1000);
	assert_int_equal(uploader__backoff_ms(3, 1000, 300000, 0), 2000);
	assert_int_equal(uploader__backoff_ms(5, 1000, 300000, 0), 8000);
	/* Capped, and no overflow for huge attempt counts. */
	assert_int_equal(uploader__backoff_ms(20, 1000, 300000, 0), 150000);
	assert_int_equal(uploader__backoff_ms(4000000000u, 1000, 300000, 0), 150000);
	assert_true(uploader__backoff_ms(4000000000u, 1000, 300000, UINT32_MAX) <= 300000);
	for (a = 1; a < 100; a++)
		assert_true(uploader__backoff_ms(a, 1000, 300000, a * 2654435761u) <= 300000);
	/* max below min: min wins. */
	assert_int_equal(uploader__backoff_ms(3, 1000, 10, 0), 500);
}

static void test_retry_after(void **state)
{
	uint64_t s;
	/* 1994-11-06T08:49:37Z */
	const int64_t t = 784111777;

	assert_int_equal(uploader__parse_retry_after("120", 3, t, &s), 0);
	assert_int_equal(s, 120);
	assert_int_equal(uploader__parse_retry_after(" 7 \r\n", 5, t, &s), 0);
	assert_int_equal(s, 7);
	assert_int_equal(uploader__parse_retry_after("0", 1, t, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(uploader__parse_retry_after("99999999999999999999999", 23, t, &s), 0);
	assert_int_equal(s, 1ULL << 31);
	assert_int_equal(uploader__parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 29, t, &s),
			 0);
	assert_int_equal(s, 0);
	assert_int_equal(uploader__parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", 29, t, &s),
			 0);
	assert_int_equal(s, 30);
	assert_int_equal(uploader__parse_retry_after("Sun, 06 Nov 1994 08:49:07 GMT", 29, t, &s),
			 0);
	assert_int_equal(s, 0); /* in the past */
	assert_int_equal(uploader__parse_retry_after("", 0, t, &s), -EINVAL);
	assert_int_equal(uploader__parse_retry_after("-5", 2, t, &s), -EINVAL);
	assert_int_equal(uploader__parse_retry_after("1.5", 3, t, &s), -EINVAL);
	assert_int_equal(uploader__parse_retry_after("soon", 4, t, &s), -EINVAL);
	assert_int_equal(uploader__parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 29, t, &s),
			 -EINVAL);
	assert_int_equal(uploader__parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 30, t, &s),
			 -EINVAL);
	/* Only len bytes count: no NUL needed. */
	assert_int_equal(uploader__parse_retry_after("12345", 2, t, &s), 0);
	assert_int_equal(s, 12);
}

static void test_classify_uuid(void **state)
{
	char a[37], b[37];

	assert_int_equal(uploader__classify(200), UPLOADER_SENT);
	assert_int_equal(uploader__classify(204), UPLOADER_SENT);
	assert_int_equal(uploader__classify(0), UPLOADER_RETRY);
	assert_int_equal(uploader__classify(408), UPLOADER_RETRY);
	assert_int_equal(uploader__classify(429), UPLOADER_RETRY);
	assert_int_equal(uploader__classify(500), UPLOADER_RETRY);
	assert_int_equal(uploader__classify(503), UPLOADER_RETRY);
	assert_int_equal(uploader__classify(400), UPLOADER_REJECT);
	/* Setup errors refuse every request: retried, not rejected. */
	assert_int_equal(uploader__classify(401), UPLOADER_REJECT);
	assert_int_equal(uploader__classify(403), UPLOADER_REJECT);
	assert_int_equal(uploader__classify(404), UPLOADER_REJECT);
	assert_int_equal(uploader__classify(422), UPLOADER_REJECT);
	assert_int_equal(uploader__classify(413), UPLOADER_REJECT);
	assert_int_equal(uploader__classify(301), UPLOADER_REJECT);
	assert_int_equal(uploader__uuid(a), 0);
	assert_int_equal(uploader__uuid(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_int_equal(a[8], '-');
}

static void test_submit(void **state)
{
	struct uploader_opts o = {0};
	struct uploader_stats st;
	struct uploader *u;
	struct uploader_label l[] = {{"__name__", "process_cpu"}, {"service_name", "x"}};
	struct uploader_blob blob = {(const uint8_t *)"\x1f\x8b...", 5};
	struct upload_series s = {l, 2, &blob, 1};
	char dir[128];
	uint8_t *body;
	uint64_t seq;
	size_t len;

	subdir("submit", dir, sizeof(dir));
	o.url = "http://127.0.0.1:9";
	o.spool_dir = dir;
	o.no_thread = true;
	/* Header injection and bad URLs are refused. */
	o.tenant = "a\r\nX-Evil: 1";
	assert_null(uploader__new(&o));
	assert_int_equal(errno, EINVAL);
	o.tenant = NULL;
	o.basic_auth = "nocolon";
	assert_null(uploader__new(&o));
	o.basic_auth = NULL;
	o.url = "ftp://x";
	assert_null(uploader__new(&o));
	o.url = "http://127.0.0.1:9";

	u = uploader__new(&o);
	assert_non_null(u);
	assert_int_equal(uploader__flush(u, 10), -EINVAL);
	assert_int_equal(uploader__submit(u, &s, 0), -EINVAL);
	s.nr_profiles = 0;
	assert_int_equal(uploader__submit(u, &s, 1), -EINVAL);
	s.nr_profiles = 1;
	l[1].value = NULL;
	assert_int_equal(uploader__submit(u, &s, 1), -EINVAL);
	l[1].value = "x";
	assert_int_equal(uploader__submit(u, &s, 1), 0);
	assert_int_equal(uploader__submit(u, &s, 1), 0);
	uploader__stats(u, &st);
	assert_int_equal(st.submitted, 2);
	assert_int_equal(st.spool_items, 2);
	assert_int_equal(st.sent, 0);
	uploader__free(u);
	assert_int_equal(count_items(dir), 2);

	/* The item holds a PushRequest whose IDs are fixed at submit time. */
	{
		struct uploader_spool *sp = uploader_spool__open(dir, 1 << 20, 100, NULL, NULL);
		uint8_t *again;
		size_t again_len;

		assert_non_null(sp);
		assert_int_equal(uploader_spool__take_oldest(sp, &seq), 0);
		assert_int_equal(uploader_spool__read(sp, seq, &body, &len), 0);
		assert_int_equal(uploader_spool__read(sp, seq, &again, &again_len), 0);
		assert_int_equal(len, again_len);
		assert_memory_equal(body, again, len);
		/* 36-character UUID after the ID tag (0x12, 36). */
		assert_non_null(memmem(body, len, "\x12\x24", 2));
		free(body);
		free(again);
		uploader_spool__free(sp);
	}
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/smolder-uploader-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

/* Credentials in a URL never reach a message: the password, or a lone user part, becomes ***. */
static void test_redact_url(void **state)
{
	static const char *const cases[][2] = {
		{"http://user:PW@host:4040/x", "http://user:***@host:4040/x"},
		{"https://TOKEN@host/", "https://***@host/"},
		/* The authority ends at the first '/', '?' or '#': an '@' after it is the path's. */
		{"http://host/a@b", "http://host/a@b"},
		{"http://h?u=a@b", "http://h?u=a@b"},
		/* The last '@' of the authority ends the userinfo (an unencoded '@' in the password). */
		{"http://u:p@ss@host", "http://u:***@host"},
		{"http://localhost:4040", "http://localhost:4040"},
		{"no-scheme:PW@host", "no-scheme:***@host"},
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(uploader__redact_url(cases[i][0], buf, sizeof(buf)),
				    cases[i][1]);
	/* Cut to the buffer, the password is still not there. */
	assert_string_equal(uploader__redact_url("http://user:PW@host", buf, 12), "http://user");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_url),
		cmocka_unit_test(test_spool_roundtrip_order),
		cmocka_unit_test(test_spool_cap_evicts_oldest),
		cmocka_unit_test(test_spool_reopen_and_garbage),
		cmocka_unit_test(test_spool_refuses_planted),
		cmocka_unit_test(test_rejected_cap),
		cmocka_unit_test(test_item_decode),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_classify_uuid),
		cmocka_unit_test(test_submit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
