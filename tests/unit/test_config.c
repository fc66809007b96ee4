// SPDX-License-Identifier: MIT
/* Unit tests of profiler/config.c: defaults, config__set(), the file parser and its messages. */
#include <errno.h>
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

#include "config.h"

static int load(struct agent_config *c, const char *text, char *err, size_t errlen)
{
	return config__load_buf(c, "/etc/smolder.conf", text, strlen(text), err, errlen);
}

static void test_defaults(void **state)
{
	struct agent_config c;

	assert_int_equal(config__init(&c), 0);
	assert_int_equal(c.freq_hz, 99);
	assert_int_equal(c.window_s, 60);
	assert_string_equal(c.store_dir, "/var/lib/smolder");
	assert_string_equal(c.status_file, "/var/lib/smolder/status");
	assert_int_equal(c.retention_age_s, 7 * 86400);
	assert_int_equal(c.retention_bytes, 1ULL << 30);
	assert_int_equal(c.nr_labels, 0);
	assert_false(c.include_idle);
	assert_null(c.upload_url);
	assert_int_equal(c.verbosity, 0);
	config__free(&c);
	config__free(&c); /* zeroed: a second free is harmless */
}

static void test_set_values(void **state)
{
	struct agent_config c;
	char err[256];

	assert_int_equal(config__init(&c), 0);
	assert_int_equal(config__set(&c, "frequency", "499", err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 499);
	assert_int_equal(config__set(&c, "window", "3600", err, sizeof(err)), 0);
	assert_int_equal(c.window_s, 3600);
	assert_int_equal(config__set(&c, "retention-age", "30s", err, sizeof(err)), 0);
	assert_int_equal(c.retention_age_s, 30);
	assert_int_equal(config__set(&c, "retention-age", "15m", err, sizeof(err)), 0);
	assert_int_equal(c.retention_age_s, 900);
	assert_int_equal(config__set(&c, "retention-age", "12h", err, sizeof(err)), 0);
	assert_int_equal(c.retention_age_s, 12 * 3600);
	assert_int_equal(config__set(&c, "retention-age", "7d", err, sizeof(err)), 0);
	assert_int_equal(c.retention_age_s, 7 * 86400);
	assert_int_equal(config__set(&c, "retention-size", "500M", err, sizeof(err)), 0);
	assert_int_equal(c.retention_bytes, 500ULL << 20);
	assert_int_equal(config__set(&c, "retention-size", "1GiB", err, sizeof(err)), 0);
	assert_int_equal(c.retention_bytes, 1ULL << 30);
	assert_int_equal(config__set(&c, "retention-size", "12345", err, sizeof(err)), 0);
	assert_int_equal(c.retention_bytes, 12345);
	assert_int_equal(config__set(&c, "include-idle", NULL, err, sizeof(err)), 0);
	assert_true(c.include_idle);
	assert_int_equal(config__set(&c, "include-idle", "false", err, sizeof(err)), 0);
	assert_false(c.include_idle);
	assert_int_equal(config__set(&c, "verbose", NULL, err, sizeof(err)), 0);
	assert_int_equal(config__set(&c, "verbose", NULL, err, sizeof(err)), 0);
	assert_int_equal(config__set(&c, "verbose", NULL, err, sizeof(err)), 0);
	assert_int_equal(c.verbosity, 2); /* capped */
	assert_int_equal(
		config__set(&c, "upload", "https://pyro.example:4040/ingest", err, sizeof(err)), 0);
	assert_string_equal(c.upload_url, "https://pyro.example:4040/ingest");
	config__free(&c);
}

static void test_status_file_follows_store(void **state)
{
	struct agent_config c;
	char err[256];

	assert_int_equal(config__init(&c), 0);
	assert_int_equal(config__set(&c, "store", "/srv/prof/", err, sizeof(err)), 0);
	assert_string_equal(c.store_dir, "/srv/prof/");
	assert_string_equal(c.status_file, "/srv/prof/status");
	assert_int_equal(config__set(&c, "status-file", "/run/smolder.status", err, sizeof(err)),
			 0);
	assert_int_equal(config__set(&c, "store", "/srv/other", err, sizeof(err)), 0);
	assert_string_equal(c.status_file, "/run/smolder.status");
	config__free(&c);
}

static void test_bad_values_keep_config(void **state)
{
	static const struct {
		const char *key, *value, *msg;
		int ret;
	} cases[] = {
		{"frequency", "0",
		 "invalid frequency '0': expected a whole number of Hz from 1 to 10000", -EINVAL},
		{"frequency", "10001", "invalid frequency '10001'", -EINVAL},
		{"frequency", "-5", "invalid frequency '-5'", -EINVAL},
		{"frequency", "99hz", "invalid frequency '99hz'", -EINVAL},
		{"window", "0",
		 "invalid window '0': expected a whole number of seconds from 1 to 3600", -EINVAL},
		{"window", "3601", "invalid window '3601'", -EINVAL},
		{"window", "", "invalid window ''", -EINVAL},
		{"retention-age", "7w", "invalid retention-age '7w'", -EINVAL},
		{"retention-age", "99999999999999999999d", "invalid retention-age", -EINVAL},
		{"retention-size", "1P", "invalid retention-size '1P'", -EINVAL},
		{"retention-size", "1 G", "invalid retention-size '1 G'", -EINVAL},
		{"retention-size", "99999999999T", "invalid retention-size", -EINVAL},
		{"include-idle", "maybe", "invalid include-idle 'maybe': expected true or false",
		 -EINVAL},
		{"upload", "ftp://x", "invalid upload URL 'ftp://x'", -EINVAL},
		{"store", "", "invalid store directory ''", -EINVAL},
		{"verbose", "3", "invalid verbose '3'", -EINVAL},
		{"window", NULL, "'window' needs a value", -EINVAL},
		{"windw", "60", "unknown key 'windw'", -ENOENT},
	};
	struct agent_config c;
	char err[256];
	size_t i;

	assert_int_equal(config__init(&c), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config__set(&c, cases[i].key, cases[i].value, err, sizeof(err)),
				 cases[i].ret);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err, cases[i].msg);
	}
	/* Nothing changed. */
	assert_int_equal(c.freq_hz, 99);
	assert_int_equal(c.window_s, 60);
	assert_int_equal(c.retention_age_s, 7 * 86400);
	assert_int_equal(c.retention_bytes, 1ULL << 30);
	assert_string_equal(c.store_dir, "/var/lib/smolder");
	assert_null(c.upload_url);
	config__free(&c);
}

static void test_labels(void **state)
{
	struct agent_config c;
	char err[256], kv[32];
	int i;

	assert_int_equal(config__init(&c), 0);
	assert_int_equal(config__set(&c, "label", "env=prod", err, sizeof(err)), 0);
	assert_int_equal(config__set(&c, "label", "_dc2=eu-west=1", err, sizeof(err)), 0);
	assert_int_equal(c.nr_labels, 2);
	assert_string_equal(c.labels[1], "_dc2=eu-west=1");

	assert_int_equal(config__set(&c, "label", "env=dev", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "label 'env' is given twice; keep one value for each key");
	assert_int_equal(config__set(&c, "label", "container_id=x", err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err,
		"invalid label 'container_id=x': 'container_id' is set by smolder itself; choose another key");
	assert_int_equal(config__set(&c, "label", "pid=1", err, sizeof(err)), -EINVAL);
	assert_int_equal(config__set(&c, "label", "9x=1", err, sizeof(err)), -EINVAL);
	assert_int_equal(config__set(&c, "label", "a-b=1", err, sizeof(err)), -EINVAL);
	assert_int_equal(config__set(&c, "label", "noequals", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid label 'noequals': expected key=value");
	assert_int_equal(config__set(&c, "label", "k=", err, sizeof(err)), -EINVAL);
	assert_int_equal(config__set(&c, "label", "=v", err, sizeof(err)), -EINVAL);
	assert_int_equal(config__set(&c, "label", "k=a\tb", err, sizeof(err)), -EINVAL);
	assert_int_equal(c.nr_labels, 2);

	for (i = 2; i < CONFIG_MAX_LABELS; i++) {
		snprintf(kv, sizeof(kv), "k%d=v", i);
		assert_int_equal(config__set(&c, "label", kv, err, sizeof(err)), 0);
	}
	assert_int_equal(config__set(&c, "label", "one_more=v", err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "too many labels: at most 32");
	assert_int_equal(c.nr_labels, CONFIG_MAX_LABELS);
	assert_true(config__label_reserved("systemd_unit"));
	assert_false(config__label_reserved("env"));
	assert_int_equal(config__check_label("pid=12", true, err, sizeof(err)), 0);
	config__free(&c);
}

static void test_file(void **state)
{
	static const char text[] = "# smolder agent\n"
				   "\n"
				   "frequency = 49\n"
				   "  window=30  \r\n"
				   "store = /srv/smolder\n"
				   "\t# indented comment\n"
				   "retention-age = 3d\n"
				   "retention-size = 2G\n"
				   "label = env=prod\n"
				   "label = team=db#1\n"
				   "include-idle = yes\n"
				   "upload = https://example.com/ingest?x=1#frag\n"
				   "verbose = 1"; /* no final newline */
	struct agent_config c;
	char err[256] = "";

	assert_int_equal(config__init(&c), 0);
	assert_int_equal(load(&c, text, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.freq_hz, 49);
	assert_int_equal(c.window_s, 30);
	assert_string_equal(c.store_dir, "/srv/smolder");
	assert_string_equal(c.status_file, "/srv/smolder/status");
	assert_int_equal(c.retention_age_s, 3 * 86400);
	assert_int_equal(c.retention_bytes, 2ULL << 30);
	assert_int_equal(c.nr_labels, 2);
	assert_string_equal(c.labels[1], "team=db#1");
	assert_true(c.include_idle);
	assert_string_equal(c.upload_url, "https://example.com/ingest?x=1#frag");
	assert_int_equal(c.verbosity, 1);
	config__free(&c);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"frequency = 99\n# ok\nwindw = 60\n", "/etc/smolder.conf:3: unknown key 'windw'"},
		{"window = 0\n",
		 "/etc/smolder.conf:1: invalid window '0': expected a whole number of seconds from 1 to 3600"},
		{"\n\njust words\n",
		 "/etc/smolder.conf:3: expected 'key = value', got 'just words'"},
		{"= 5\n", "/etc/smolder.conf:1: missing key before '='"},
		{"include-idle =\n", "/etc/smolder.conf:1: 'include-idle' needs a value"},
		{"label = pid=1\n",
		 "/etc/smolder.conf:1: invalid label 'pid=1': 'pid' is set by smolder itself; choose another key"},
	};
	struct agent_config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(config__init(&c), 0);
		err[0] = '\0';
		assert_true(load(&c, cases[i].text, err, sizeof(err)) < 0);
		assert_string_equal(err, cases[i].msg);
		config__free(&c);
	}
}

static void test_file_limits(void **state)
{
	struct agent_config c;
	char err[256], *big;

	assert_int_equal(config__init(&c), 0);
	big = malloc(CONFIG_MAX_LINE + 16);
	assert_non_null(big);
	memset(big, 'x', CONFIG_MAX_LINE + 15);
	big[CONFIG_MAX_LINE + 15] = '\0';
	assert_int_equal(load(&c, big, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/etc/smolder.conf:1: line too long: more than 4096 bytes");
	free(big);
	assert_int_equal(config__load_buf(&c, "f", "window = 5\0", 11, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "f: not a text file (it holds a NUL byte)");
	config__free(&c);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/smolder-test-config-XXXXXX", err[512];
	struct agent_config c;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("window = 120\nlabel = env=ci\n", f);
	fclose(f);
	assert_int_equal(config__init(&c), 0);
	assert_int_equal(config__load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.window_s, 120);
	assert_int_equal(c.nr_labels, 1);
	unlink(path);
	assert_int_equal(config__load_file(&c, path, err, sizeof(err)), -ENOENT);
	assert_true(!strncmp(err, "cannot read '/tmp/smolder-test-config-", 38));
	assert_non_null(strstr(err, "': No such file or directory"));
	assert_int_equal(config__load_file(&c, "/tmp", err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "'/tmp' is not a regular file (a directory); give a config file");
	/* A FIFO (a config replaced before a SIGHUP) is refused at once, not waited on. */
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(config__load_file(&c, path, err, sizeof(err)), -EBADFD);
	alarm(0);
	assert_non_null(strstr(err, "' is not a regular file (a FIFO); give a config file"));
	unlink(path);
	config__free(&c);
}

static void test_copy(void **state)
{
	struct agent_config a, b;
	char err[256];

	assert_int_equal(config__init(&a), 0);
	assert_int_equal(config__set(&a, "label", "env=prod", err, sizeof(err)), 0);
	assert_int_equal(config__set(&a, "upload", "http://x/", err, sizeof(err)), 0);
	assert_int_equal(config__copy(&b, &a), 0);
	config__free(&a);
	assert_int_equal(b.nr_labels, 1);
	assert_string_equal(b.labels[0], "env=prod");
	assert_string_equal(b.upload_url, "http://x/");
	assert_string_equal(b.store_dir, "/var/lib/smolder");
	config__free(&b);
}

static void test_parse_time(void **state)
{
	const int64_t now = 1763719200LL * 1000000000LL; /* 2025-11-21T10:00:00Z */
	int64_t t;

	assert_int_equal(config__parse_time("2026-11-21T10:00:00Z", now, &t), 0);
	assert_int_equal(t, 1795255200LL * 1000000000LL);
	assert_int_equal(config__parse_time("2026-11-21T11:00:00+01:00", now, &t), 0);
	assert_int_equal(t, 1795255200LL * 1000000000LL);
	assert_int_equal(config__parse_time("2026-11-21T10:00:00.5Z", now, &t), 0);
	assert_int_equal(t, 1795255200LL * 1000000000LL + 500000000);
	assert_int_equal(config__parse_time("2024-02-29T00:00:00Z", now, &t), 0);
	assert_int_equal(config__parse_time("-1h", now, &t), 0);
	assert_int_equal(t, now - 3600LL * 1000000000LL);
	assert_int_equal(config__parse_time("-30m", now, &t), 0);
	assert_int_equal(t, now - 1800LL * 1000000000LL);
	assert_int_equal(config__parse_time("1763719200", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(config__parse_time("2025-02-29T00:00:00Z", now, &t), -EINVAL);
	assert_int_equal(config__parse_time("2026-11-21T10:00:00", now, &t), -EINVAL);
	assert_int_equal(config__parse_time("2026-13-01T00:00:00Z", now, &t), -EINVAL);
	assert_int_equal(config__parse_time("-1w", now, &t), -EINVAL);
	assert_int_equal(config__parse_time("", now, &t), -EINVAL);
	assert_int_equal(config__parse_time("yesterday", now, &t), -EINVAL);
}

static void test_upload_keys(void **state)
{
	struct agent_config c, d;
	char err[256];

	assert_int_equal(config__init(&c), 0);
	assert_null(c.upload_service_by);
	assert_null(c.upload_spool);
	assert_int_equal(c.upload_spool_bytes, 0);
	assert_int_equal(load(&c,
			      "upload = http://127.0.0.1:4040\n"
			      "service-by = container_id\n"
			      "token-file = /etc/smolder/token\n"
			      "tenant = team-a\n"
			      "ca-file = /etc/ssl/private-ca.pem\n"
			      "spool = /var/spool/smolder\n"
			      "spool-size = 64M\n",
			      err, sizeof(err)),
			 0);
	assert_string_equal(c.upload_service_by, "container_id");
	assert_string_equal(c.upload_token_file, "/etc/smolder/token");
	assert_string_equal(c.upload_tenant, "team-a");
	assert_string_equal(c.upload_ca_file, "/etc/ssl/private-ca.pem");
	assert_string_equal(c.upload_spool, "/var/spool/smolder");
	assert_int_equal(c.upload_spool_bytes, 64ULL << 20);
	/* Token and Basic exclude each other: the later wins. */
	assert_int_equal(config__set(&c, "basic-auth-file", "/etc/smolder/auth", err, sizeof(err)),
			 0);
	assert_string_equal(c.upload_basic_auth_file, "/etc/smolder/auth");
	assert_null(c.upload_token_file);
	assert_int_equal(config__copy(&d, &c), 0);
	assert_string_equal(d.upload_basic_auth_file, "/etc/smolder/auth");
	assert_string_equal(d.upload_spool, "/var/spool/smolder");
	assert_true(d.upload_tenant != c.upload_tenant);
	config__free(&d);

	assert_int_equal(config__set(&c, "service-by", "pid", err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "invalid service-by 'pid': expected systemd_unit, container_id or comm");
	assert_string_equal(c.upload_service_by, "container_id");
	assert_int_equal(config__set(&c, "tenant", "a\tb", err, sizeof(err)), -EINVAL);
	assert_string_equal(c.upload_tenant, "team-a");
	assert_int_equal(config__set(&c, "spool-size", "1K", err, sizeof(err)), -EINVAL);
	assert_int_equal(c.upload_spool_bytes, 64ULL << 20);
	assert_int_equal(config__set(&c, "spool", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(config__set(&c, "token-file", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'token-file' needs a value");
	assert_int_equal(config__set(&c, "token", "abc", err, sizeof(err)), -ENOENT);
	config__free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set_values),
		cmocka_unit_test(test_status_file_follows_store),
		cmocka_unit_test(test_bad_values_keep_config),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_upload_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
