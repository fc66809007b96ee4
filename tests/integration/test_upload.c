// SPDX-License-Identifier: MIT
/*
 * The uploader against a real HTTP receiver on 127.0.0.1 (upload_receiver.c,
 * which decodes what it gets with its own protobuf decoder), with faults:
 * server down at the start, 500s, an answer slower than the timeout, a
 * connection reset, 429 with Retry-After, a 400. Asserts that every window
 * arrives, none is lost, every copy of a window carries the same ID, the 400
 * lands in rejected/, and the spool drains after recovery, also when a new
 * uploader takes over the spool of one that was stopped. Then `smolder
 * upload` end to end. No root needed; only 127.0.0.1; every wait is bounded.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "pprof.h"
#include "uploader.h"

#define MAX_RECORDS 4096
#define WINDOW_T0   1763719200000000000LL
#define NSEC	    1000000000LL

struct record {
	long long ms;
	unsigned long req;
	char action[16];
	char id[64];
	char labels[512];
	unsigned long long samples;
	long long value, time;
	char auth[128], tenant[64], ctype[64], path[128];
};

static char tmpdir[256];
static char log_path[300];

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool can_connect(int port)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ok;
}

/* Starts the receiver and waits (at most 5 s) until it listens. */
static pid_t start_receiver(int port, const char *script)
{
	char port_s[16];
	long long deadline = mono_ms() + 5000;
	pid_t pid;

	snprintf(port_s, sizeof(port_s), "%d", port);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		execl(UPLOAD_RECEIVER, "upload_receiver", port_s, log_path, script, (char *)NULL);
		_exit(127);
	}
	/* The probe connection counts as one (empty) connection, not a request. */
	while (!can_connect(port)) {
		assert_true(mono_ms() < deadline);
		usleep(10000);
	}
	return pid;
}

static void stop_receiver(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static size_t read_records(struct record *recs, size_t max)
{
	char line[8192];
	size_t nr = 0;
	FILE *f = fopen(log_path, "r");

	if (!f)
		return 0;
	while (nr < max && fgets(line, sizeof(line), f)) {
		struct record *r = &recs[nr];

		if (strstr(line, " bad ")) {
			fail_msg("receiver could not decode a request: %s", line);
		}
		if (sscanf(line,
			   "ms=%lld req=%lu action=%15s id=%63s labels=%511s samples=%llu value=%lld "
			   "time=%lld auth=%127s tenant=%63s ctype=%63s path=%127s",
			   &r->ms, &r->req, r->action, r->id, r->labels, &r->samples, &r->value,
			   &r->time, r->auth, r->tenant, r->ctype, r->path) == 12)
			nr++;
	}
	fclose(f);
	return nr;
}

/* A gzip pprof for window w: `samples` samples whose values sum to 100 + w. */
static void make_profile(int w, int samples, uint8_t **ret, size_t *ret_len)
{
	static const struct pprof_value_type st[] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
	struct pprof_line_desc line = {.name = "work"};
	struct pprof_mapping_desc m = {
		.memory_start = 0x1000, .memory_limit = 0x2000, .filename = "/bin/work"};
	struct pprof_builder *b = pprof_builder__new();
	int64_t mid, loc, values[2];
	uint64_t loc_id;
	int i;

	assert_non_null(b);
	assert_int_equal(pprof_builder__add_sample_type(b, &st[0]), 0);
	assert_int_equal(pprof_builder__add_sample_type(b, &st[1]), 0);
	assert_int_equal(pprof_builder__set_time(b, WINDOW_T0 + w * NSEC, NSEC), 0);
	mid = pprof_builder__mapping(b, &m);
	assert_true(mid > 0);
	for (i = 0; i < samples; i++) {
		loc = pprof_builder__location(b, (uint64_t)mid, 0x1100 + (uint64_t)i, &line, 1);
		assert_true(loc > 0);
		loc_id = (uint64_t)loc;
		values[0] = i ? 1 : 100 + w - (samples - 1);
		values[1] = values[0] * 10000000;
		assert_int_equal(pprof_builder__sample(b, &loc_id, 1, values, 2, NULL, 0), 0);
	}
	assert_int_equal(pprof_builder__pack_gzip(b, ret, ret_len, NULL), 0);
	pprof_builder__free(b);
}

static void submit_window(struct uploader *u, int w)
{
	char wname[16];
	struct uploader_label labels[] = {
		{"__name__", "process_cpu"},
		{"service_name", "test.service"},
		{"__delta__", "false"},
		{"window", wname},
	};
	struct uploader_blob blob;
	struct upload_series s = {labels, 4, &blob, 1};
	uint8_t *gz;
	size_t len;

	snprintf(wname, sizeof(wname), "w%d", w);
	make_profile(w, 3, &gz, &len);
	blob.data = gz;
	blob.len = len;
	assert_int_equal(uploader__submit(u, &s, 1), 0);
	free(gz);
}

static size_t count_files(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !!strstr(de->d_name, ".push.zst");
	closedir(d);
	return n;
}

struct log_capture {
	int warns, errs, infos;
};

static void capture_log(enum uploader_log_level level, const char *msg, void *ctx)
{
	struct log_capture *c = ctx;

	if (level == UPLOADER_LOG_ERR)
		c->errs++;
	else if (level == UPLOADER_LOG_WARN)
		c->warns++;
	else if (level == UPLOADER_LOG_INFO)
		c->infos++;
	if (getenv("UPLOAD_TEST_VERBOSE"))
		fprintf(stderr, "uploader[%d]: %s\n", level, msg);
}

static struct uploader *new_uploader(int port, const char *spool, struct log_capture *lc,
				     const char *token, const char *basic, const char *tenant)
{
	char url[64];
	struct uploader_opts o = {0};
	struct uploader *u;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	o.url = url;
	o.spool_dir = spool;
	o.connect_timeout_ms = 500;
	o.total_timeout_ms = 700;
	o.retry_min_ms = 50;
	o.retry_max_ms = 400;
	o.bearer_token = token;
	o.basic_auth = basic;
	o.tenant = tenant;
	o.log = capture_log;
	o.log_ctx = lc;
	u = uploader__new(&o);
	assert_non_null(u);
	return u;
}

/* Window number of a record, from its time; -1 when off. */
static int window_of(const struct record *r)
{
	long long w = (r->time - WINDOW_T0) / NSEC;

	return (r->time - WINDOW_T0) % NSEC ? -1 : (int)w;
}

/*
 * Per window: every copy has one ID, IDs differ between windows, the
 * accepted copies ("ok" or a late "slow") and their content are right.
 */
static void check_windows(const struct record *recs, size_t nr, int nr_windows, int rejected_w,
			  int *ret_accepted)
{
	char ids[64][64] = {{0}};
	int accepted[64] = {0}, i, j;
	size_t k;

	assert_true(nr_windows <= 64);
	for (k = 0; k < nr; k++) {
		const struct record *r = &recs[k];
		char want[64];

		i = window_of(r);
		assert_true(i >= 0 && i < nr_windows);
		if (!ids[i][0])
			snprintf(ids[i], sizeof(ids[i]), "%s", r->id);
		/* A retried window keeps its ID: duplicates are recognisable. */
		assert_string_equal(r->id, ids[i]);
		assert_int_equal(strlen(r->id), 36);
		assert_int_equal(r->samples, 3);
		assert_int_equal(r->value, 100 + i);
		snprintf(want, sizeof(want), "window=w%d", i);
		assert_non_null(strstr(r->labels, want));
		assert_non_null(strstr(r->labels, "__name__=process_cpu"));
		assert_non_null(strstr(r->labels, "service_name=test.service"));
		assert_non_null(strstr(r->labels, "__delta__=false"));
		assert_string_equal(r->ctype, "application/proto");
		assert_string_equal(r->path, "/push.v1.PusherService/Push");
		if (!strcmp(r->action, "ok"))
			accepted[i]++;
	}
	for (i = 0; i < nr_windows; i++) {
		for (j = 0; j < i; j++)
			assert_true(!ids[i][0] || strcmp(ids[i], ids[j]));
		if (i == rejected_w) {
			assert_int_equal(accepted[i], 0);
			continue;
		}
		/* Every window arrived, exactly once with a 2xx. */
		if (accepted[i] != 1)
			fail_msg("window %d accepted %d times", i, accepted[i]);
	}
	if (ret_accepted)
		*ret_accepted = nr_windows - (rejected_w >= 0);
}

static void fresh_dir(const char *name, char *out, size_t len)
{
	char cmd[600];

	snprintf(out, len, "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
	snprintf(log_path, sizeof(log_path), "%s/%s.log", tmpdir, name);
	unlink(log_path);
}

static void test_faults(void **state)
{
	static struct record recs[MAX_RECORDS];
	struct log_capture lc = {0};
	struct uploader_stats st;
	struct uploader *u;
	char spool[300], rej[320];
	size_t nr, k;
	long long t429 = 0;
	pid_t pid;
	int port = itest_free_port(), w, accepted;

	fresh_dir("faults", spool, sizeof(spool));
	u = new_uploader(port, spool, &lc, "secret-token", NULL, "team-a");
	/* Down at the start: the windows wait in the spool. */
	for (w = 0; w < 5; w++)
		submit_window(u, w);
	usleep(400000);
	uploader__stats(u, &st);
	assert_int_equal(st.submitted, 5);
	assert_int_equal(st.sent, 0);
	assert_true(st.retried >= 1);
	assert_int_equal(st.spool_items, 5);
	assert_int_equal(count_files(spool), 5);
	assert_int_equal(lc.warns, 1); /* the outage is logged once, not per retry */

	/*
	 * Window 0 meets every retryable fault then passes; window 1 passes;
	 * window 2 is refused with a 400; the rest pass.
	 */
	pid = start_receiver(port, "500x2,slow:1500,reset,429:1,ok,ok,400");
	for (w = 5; w < 10; w++)
		submit_window(u, w);
	assert_int_equal(uploader__flush(u, 30000), 0);
	uploader__stats(u, &st);
	assert_int_equal(st.submitted, 10);
	assert_int_equal(st.sent, 9);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.spool_items, 0);
	assert_int_equal(st.spool_bytes, 0);
	assert_true(st.retried >= 6);
	assert_int_equal(count_files(spool), 0);
	snprintf(rej, sizeof(rej), "%s/rejected", spool);
	assert_int_equal(count_files(rej), 1);
	assert_int_equal(lc.errs, 1); /* the 400, once */
	uploader__free(u);
	stop_receiver(pid);

	nr = read_records(recs, MAX_RECORDS);
	/* 500, 500, slow, reset, 429, ok for w0; ok w1; 400 w2; ok w3..w9. */
	assert_int_equal(nr, 6 + 1 + 1 + 7);
	check_windows(recs, nr, 10, 2, &accepted);
	assert_int_equal(accepted, 9);
	for (k = 0; k < nr; k++) {
		/* Oldest first: the windows arrive in order. */
		if (k)
			assert_true(window_of(&recs[k]) >= window_of(&recs[k - 1]));
		assert_string_equal(recs[k].auth, "Bearer_secret-token");
		assert_string_equal(recs[k].tenant, "team-a");
		if (!strcmp(recs[k].action, "429"))
			t429 = recs[k].ms;
		else if (t429) {
			/* Retry-After: 1 was honoured. */
			assert_true(recs[k].ms - t429 >= 900);
			t429 = 0;
		}
	}
	assert_string_equal(recs[2].action, "slow");
	assert_string_equal(recs[3].action, "reset");
}

static void test_restart(void **state)
{
	static struct record recs[MAX_RECORDS];
	struct log_capture lc = {0};
	struct uploader_stats st;
	struct uploader *u;
	char spool[300];
	size_t nr;
	pid_t pid;
	int port = itest_free_port(), w;

	fresh_dir("restart", spool, sizeof(spool));
	/* First uploader: the server answers 500 to everything; it is stopped mid-retry. */
	pid = start_receiver(port, "500x100");
	u = new_uploader(port, spool, &lc, NULL, "user:pw", NULL);
	for (w = 0; w < 4; w++)
		submit_window(u, w);
	assert_int_equal(uploader__flush(u, 500), -ETIMEDOUT);
	uploader__free(u);
	stop_receiver(pid);
	assert_int_equal(count_files(spool), 4);

	/* A new uploader on the same spool sends what the old one left, oldest first. */
	pid = start_receiver(port, "ok");
	u = new_uploader(port, spool, &lc, NULL, "user:pw", NULL);
	assert_int_equal(uploader__flush(u, 20000), 0);
	uploader__stats(u, &st);
	assert_int_equal(st.sent, 4);
	assert_int_equal(st.submitted, 0);
	assert_int_equal(count_files(spool), 0);
	uploader__free(u);
	stop_receiver(pid);

	nr = read_records(recs, MAX_RECORDS);
	assert_true(nr >= 5);
	check_windows(recs, nr, 4, -1, NULL);
	/* HTTP Basic, base64("user:pw"). */
	assert_string_equal(recs[nr - 1].auth, "Basic_dXNlcjpwdw==");
}

/* smolder upload: split by service, sent, exit 0; and exit 1 with the spool kept when down. */
static void test_cli(void **state)
{
	static struct record recs[MAX_RECORDS];
	static const struct pprof_value_type st[] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
	struct pprof_line_desc line = {.name = "work"};
	struct pprof_label_desc labels[2];
	struct pprof_builder *b;
	char spool[300], prof[320], cmd[1200];
	int64_t loc, values[2] = {1, 10};
	uint64_t loc_id;
	size_t nr, k, a = 0, bsvc = 0;
	pid_t pid;
	int port = itest_free_port(), i, status;

	fresh_dir("cli", spool, sizeof(spool));
	snprintf(prof, sizeof(prof), "%s/cli.pb.gz", tmpdir);
	b = pprof_builder__new();
	assert_non_null(b);
	assert_int_equal(pprof_builder__add_sample_type(b, &st[0]), 0);
	assert_int_equal(pprof_builder__add_sample_type(b, &st[1]), 0);
	assert_int_equal(pprof_builder__set_time(b, WINDOW_T0, NSEC), 0);
	loc = pprof_builder__location(b, 0, 0x1234, &line, 1);
	loc_id = (uint64_t)loc;
	for (i = 0; i < 30; i++) {
		labels[0] = (struct pprof_label_desc){.key = "systemd_unit",
						      .str = i < 20 ? "a.service" : "b.service"};
		labels[1] = (struct pprof_label_desc){.key = "pid", .num = 100 + i};
		assert_int_equal(pprof_builder__sample(b, &loc_id, 1, values, 2, labels, 2), 0);
	}
	assert_int_equal(pprof_builder__write_file(b, prof, 0600), 0);
	pprof_builder__free(b);

	/* Down: exit 1, the request stays in the spool. */
	snprintf(cmd, sizeof(cmd),
		 "%s upload http://127.0.0.1:%d %s --spool %s --timeout 1 --label env=test "
		 ">/dev/null 2>&1",
		 SMOLDER_BIN, port, prof, spool);
	status = system(cmd);
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_int_equal(count_files(spool), 1);

	pid = start_receiver(port, "ok");
	status = system(cmd);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(count_files(spool), 0);
	stop_receiver(pid);
	nr = read_records(recs, MAX_RECORDS);
	/* Two runs' worth: the first run's request went with the second run. */
	assert_int_equal(nr, 4);
	for (k = 0; k < nr; k++) {
		assert_non_null(strstr(recs[k].labels, "env=test"));
		if (strstr(recs[k].labels, "service_name=a.service")) {
			assert_int_equal(recs[k].samples, 20);
			a++;
		} else {
			assert_non_null(strstr(recs[k].labels, "service_name=b.service"));
			assert_int_equal(recs[k].samples, 10);
			bsvc++;
		}
	}
	assert_int_equal(a, 2);
	assert_int_equal(bsvc, 2);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/smolder-upload-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	if (getenv("UPLOAD_TEST_KEEP"))
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_cli),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
