// SPDX-License-Identifier: MIT
/*
 * debuginfod through the symbolizer (no root): the stripped DWARF fixture,
 * whose debug file is nowhere on disk where the symbolizer looks (an empty
 * debug root, no .gnu_debuglink), gets file:line and its inline chain from a
 * tiny server of our own on 127.0.0.1 (debuginfod_server.c) serving the
 * fixtures' build-id tree; and against a server that accepts and never
 * answers, the lookup still returns, counts a timeout, and the address stays
 * named from the symbol table alone. DEBUGINFOD_URLS and
 * DEBUGINFOD_CACHE_PATH (a fresh temporary directory per test) are set for
 * the test process only; proxies are turned off for the loopback address.
 * The server exits on its own after SERVER_SECONDS whatever happens.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolizer.h"

#define SERVER_SECONDS "60"
#define TIMEOUT_MS     300

struct server {
	pid_t pid;
	char cache[64];
};

/* Starts the server in mode ("serve" or "silent"); returns its port, fails the test if none. */
static unsigned int server_start(struct server *srv, const char *mode)
{
	char buf[32] = "", urls[64];
	struct pollfd pfd;
	size_t len = 0;
	int pipefd[2];
	unsigned int port = 0;
	ssize_t n;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	srv->pid = fork();
	assert_true(srv->pid >= 0);
	if (srv->pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execl(DEBUGINFOD_SERVER, DEBUGINFOD_SERVER, DW_OUT "/dwarf_root", mode,
		      SERVER_SECONDS, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	while (len < sizeof(buf) - 1 && !strchr(buf, '\n') && poll(&pfd, 1, 5000) == 1) {
		n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	close(pipefd[0]);
	assert_int_equal(sscanf(buf, "%u", &port), 1);
	assert_true(port > 0);

	strcpy(srv->cache, "/tmp/smolder-debuginfod-XXXXXX");
	assert_non_null(mkdtemp(srv->cache));
	snprintf(urls, sizeof(urls), "http://127.0.0.1:%u", port);
	setenv("DEBUGINFOD_URLS", urls, 1);
	setenv("DEBUGINFOD_CACHE_PATH", srv->cache, 1);
	return port;
}

static int server_stop(void **state)
{
	struct server *srv = *state;
	char cmd[128];

	unsetenv("DEBUGINFOD_URLS");
	unsetenv("DEBUGINFOD_CACHE_PATH");
	if (srv->pid > 0) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, NULL, 0);
		srv->pid = 0;
	}
	if (srv->cache[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", srv->cache);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", srv->cache);
		srv->cache[0] = '\0';
	}
	return 0;
}

static int server_setup(void **state)
{
	static struct server srv;

	memset(&srv, 0, sizeof(srv));
	*state = &srv;
	/* A proxy from the environment would take the loopback queries elsewhere. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("no_proxy", "127.0.0.1", 1);
	return 0;
}

/* The fixture's return address inside the inlined chain, and outer()'s entry. */
static void run_fixture(uint64_t *ret_addr, uint64_t *outer)
{
	unsigned long a = 0, b = 0;
	FILE *p;

	p = popen("'" DW_OUT "/dwarf_inline'", "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%lx %lx", &a, &b), 2);
	pclose(p);
	*ret_addr = a;
	*outer = b;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t len, slen = strlen(suffix);

	if (!s)
		return false;
	len = strlen(s);
	return len >= slen && !strcmp(s + len - slen, suffix);
}

static void test_debuginfod_serves_debug_file(void **state)
{
	struct symbolizer_opts opts = {.debug_root = DW_OUT "/empty_root",
				       .debuginfod_timeout_ms = 5000};
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer;

	run_fixture(&ret_addr, &outer);
	server_start(*state, "serve");
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline_stripped", ret_addr - 1, &r), 0);
	symbolizer__stats(s, &st);
	print_message("debuginfod %llu, none %llu, timeouts %llu, frames %u\n",
		      (unsigned long long)st.debug_debuginfod, (unsigned long long)st.debug_none,
		      (unsigned long long)st.debuginfod_timeouts, r.nr_frames);
	assert_int_equal(st.debug_debuginfod, 1);
	assert_int_equal(st.debuginfod_timeouts, 0);
	assert_int_equal(r.nr_frames, 3);
	assert_string_equal(r.frames[0].name, "leaf");
	assert_string_equal(r.frames[1].name, "middle");
	assert_string_equal(r.frames[2].name, "outer");
	assert_true(ends_with(r.frames[0].file, "/inline.c"));
	assert_true(r.frames[0].line > 0);
	assert_true(r.has_line_numbers);
	assert_true(r.has_inline_frames);
	/* The physical function's entry, from the downloaded file's symbols. */
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline_stripped", outer, &r), 0);
	assert_true(r.nr_frames >= 1);
	assert_string_equal(r.frames[r.nr_frames - 1].name, "outer");
	symbolizer__free(s);
}

/*
 * The server never answers: the lookup still returns (bounded by ctest's
 * timeout, not by a clock here), counts the timeout, and the MiniDebugInfo
 * copy of the fixture is named from its symbol table, without file:line.
 */
static void test_debuginfod_timeout(void **state)
{
	struct symbolizer_opts opts = {.debug_root = DW_OUT "/empty_root",
				       .debuginfod_timeout_ms = TIMEOUT_MS};
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer;

	run_fixture(&ret_addr, &outer);
	server_start(*state, "silent");
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline_mini", ret_addr - 1, &r), 0);
	symbolizer__stats(s, &st);
	assert_int_equal(st.debuginfod_timeouts, 1);
	assert_int_equal(r.nr_frames, 1);
	assert_string_equal(r.frames[0].name, "outer");
	assert_null(r.frames[0].file);
	assert_int_equal(st.debug_none, 1);
	assert_int_equal(st.debug_debuginfod, 0);
	assert_false(r.has_line_numbers);
	assert_non_null(r.build_id);
	/* Not queried again for the same file. */
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline_mini", outer, &r), 0);
	assert_string_equal(r.frames[0].name, "outer");
	symbolizer__stats(s, &st);
	assert_int_equal(st.debuginfod_timeouts, 1);
	symbolizer__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_debuginfod_serves_debug_file, server_setup,
						server_stop),
		cmocka_unit_test_setup_teardown(test_debuginfod_timeout, server_setup, server_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
