// SPDX-License-Identifier: MIT
/*
 * `smolder agent --upload` across a server outage and an agent restart (root):
 * the agent runs with 1 s windows while the receiver is down, is stopped, and
 * runs again with the receiver up; then an uploader on the same spool sends
 * whatever the agent left. Asserts that every non-empty window of the local
 * store reached the receiver (by time_nanos), that all copies of a profile
 * carry one ID, and that the spool ends empty. Skipped (77) when not root or
 * while `smolder agent` has no --spool option (upload not wired in yet).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "uploader.h"

#define MAX_TIMES 1024

static char log_path[512];
static int64_t store_times[MAX_TIMES];
static size_t nr_store_times;

static pid_t start_receiver(int port)
{
	char port_s[16];
	struct sockaddr_in sa = {0};
	int i, fd;
	pid_t pid;

	snprintf(port_s, sizeof(port_s), "%d", port);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		execl(UPLOAD_RECEIVER, "upload_receiver", port_s, log_path, "ok", (char *)NULL);
		_exit(127);
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 500; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			return pid;
		}
		close(fd);
		usleep(10000);
	}
	fail_msg("receiver did not start");
	return -1;
}

/* Runs the agent for ms milliseconds, then SIGTERM; returns its exit status. */
static int run_agent(const char *store, const char *spool, int port, int ms)
{
	char url[64];
	char *argv[] = {(char *)itest_smolder(),
			"agent",
			"--store",
			(char *)store,
			"--window",
			"1",
			"--upload",
			url,
			"--spool",
			(char *)spool,
			NULL};
	pid_t pid;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	pid = itest_spawn(argv);
	usleep((useconds_t)ms * 1000);
	kill(pid, SIGTERM);
	return itest_wait(pid);
}

static int collect_window(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	pprof_profile_t *p;

	if (type != FTW_F || !strstr(path, ".pb.gz"))
		return 0;
	if (pprof__read_file(path, &p))
		return 0;
	if (p->n_sample && nr_store_times < MAX_TIMES)
		store_times[nr_store_times++] = p->time_nanos;
	pprof__profile_free(p);
	return 0;
}

static bool received(int64_t t)
{
	char line[8192], want[64];
	bool found = false;
	FILE *f = fopen(log_path, "r");

	if (!f)
		return false;
	snprintf(want, sizeof(want), " time=%lld ", (long long)t);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) && strstr(line, "action=ok");
	fclose(f);
	return found;
}

static size_t count_items(const char *dir)
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

static void test_agent_outage_restart(void **state)
{
	char store[512], spool[512], url[64];
	struct uploader_opts o = {0};
	struct uploader *u;
	pid_t rpid, burn;
	size_t i, first_run_items;
	int port = itest_free_port();

	snprintf(store, sizeof(store), "%s/store", itest_tmpdir());
	snprintf(spool, sizeof(spool), "%s/spool", itest_tmpdir());
	snprintf(log_path, sizeof(log_path), "%s/receiver.log", itest_tmpdir());
	/* Something to sample on every window. */
	burn = fork();
	if (!burn) {
		for (;;)
			;
	}
	/* Down: windows pile up in the spool. */
	assert_int_equal(run_agent(store, spool, port, 3500), 0);
	first_run_items = count_items(spool);
	assert_true(first_run_items >= 2);
	/* Up, and a new agent: it sends the old windows and its own. */
	rpid = start_receiver(port);
	assert_int_equal(run_agent(store, spool, port, 3500), 0);
	/* What the second agent had not sent when stopped goes now. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	o.url = url;
	o.spool_dir = spool;
	u = uploader__new(&o);
	assert_non_null(u);
	assert_int_equal(uploader__flush(u, 20000), 0);
	uploader__free(u);
	kill(burn, SIGKILL);
	waitpid(burn, NULL, 0);
	kill(rpid, SIGKILL);
	waitpid(rpid, NULL, 0);

	assert_int_equal(count_items(spool), 0);
	assert_int_equal(nftw(store, collect_window, 16, FTW_PHYS), 0);
	assert_true(nr_store_times >= 5);
	for (i = 0; i < nr_store_times; i++) {
		if (!received(store_times[i]))
			fail_msg("window at %lld is in the store but never reached the server",
				 (long long)store_times[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_outage_restart),
	};
	char *argv[] = {NULL, "agent", "--help", NULL};
	char *out = NULL;
	int ret;

	itest_require_root("test_upload_agent");
	argv[0] = (char *)itest_smolder();
	itest_run(argv, &out);
	if (!out || !strstr(out, "--spool")) {
		printf("test_upload_agent: 'smolder agent' has no --spool yet; skipped\n");
		free(out);
		return 77;
	}
	free(out);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	itest_cleanup();
	return ret;
}
