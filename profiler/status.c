// SPDX-License-Identifier: MIT
/*
 * smolder status: print the running agent's state from the status file it
 * rewrites after every window (store__write_status()).
 *
 * The agent is "running" when its pid exists and is a smolder process
 * (/proc/PID/comm), so a pid reused after a crash reads as stale. A stale
 * status is still printed, then the command exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "textesc.h"

#define NSEC_PER_SEC 1000000000LL

static const char status_usage[] =
	"Usage: smolder status [--store DIR] [--status-file FILE]\n"
	"\n"
	"Prints the state of the running agent: uptime, windows written, samples and\n"
	"losses, its own CPU and memory, the store's size. Exits 1 when no agent is\n"
	"running (the status file is missing or its pid is gone).\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR          the agent's store (default /var/lib/smolder); the\n"
	"                           status file is DIR/status\n"
	"      --status-file FILE   read this status file instead\n"
	"  -h, --help               this text\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder status\n"
	"  smolder status --store /srv/smolder\n";

static void format_time(int64_t nanos, char *buf, size_t len)
{
	time_t t = (time_t)(nanos / NSEC_PER_SEC);
	struct tm tm;

	if (nanos <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "never");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "3d 4h", "2h 5m", "4m 10s", "12s". */
static void format_span(int64_t nanos, char *buf, size_t len)
{
	int64_t s = nanos / NSEC_PER_SEC;

	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

static void format_bytes(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ULL << 30))
		snprintf(buf, len, "%.1f GiB", (double)bytes / (1ULL << 30));
	else if (bytes >= (1ULL << 20))
		snprintf(buf, len, "%.1f MiB", (double)bytes / (1ULL << 20));
	else if (bytes >= (1ULL << 10))
		snprintf(buf, len, "%.1f KiB", (double)bytes / (1ULL << 10));
	else
		snprintf(buf, len, "%" PRIu64 " B", bytes);
}

/* True when pid exists and its comm is smolder's. */
static bool agent_running(int64_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || pid > INT32_MAX)
		return false;
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%" PRId64 "/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return errno != ENOENT;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "smolder", 7);
}

static void print_status(const char *path, const struct agent_status *st, bool running)
{
	struct timespec ts;
	int64_t now;
	char a[64], b[64], c[64];
	/* The status file is the agent's; what it says came from outside. */
	char esc[TEXTESC_MAX_PER_BYTE * sizeof(st->store_dir) + 1];

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	format_span(now - st->started_nanos, a, sizeof(a));
	if (running)
		printf("smolder agent: running, pid %" PRId64 ", up %s\n", st->pid, a);
	else
		printf("smolder agent: NOT RUNNING (pid %" PRId64
		       " is gone); status below is stale\n",
		       st->pid);
	printf("  status file:      %s\n", textesc__str(path, esc, sizeof(esc)));
	format_time(st->started_nanos, a, sizeof(a));
	printf("  started:          %s\n", a);
	format_time(st->updated_nanos, a, sizeof(a));
	format_span(now - st->updated_nanos, b, sizeof(b));
	printf("  updated:          %s (%s ago)\n", a, b);
	format_time(st->last_window_nanos, a, sizeof(a));
	printf("  windows written:  %" PRIu64 ", last at %s\n", st->windows_written, a);
	printf("  pending windows:  %" PRIu64 "%s\n", st->pending_windows,
	       st->pending_windows ? " (held in memory: the store could not be written)" : "");
	printf("  dropped windows:  %" PRIu64 " (the worker fell behind), %" PRIu64
	       " (too many waiting for the store)\n",
	       st->windows_dropped, st->windows_dropped_store);
	printf("  samples:          %" PRIu64 ", %" PRIu64 " lost\n", st->samples,
	       st->lost_samples);
	printf("  processes:        %" PRIu64 " tracked\n", st->processes);
	printf("  symbol misses:    %" PRIu64 " (%" PRIu64
	       " kernel frames without kallsyms, %" PRIu64 " past the naming time budget; %" PRIu64
	       " debug files too large)\n",
	       st->symbolization_misses, st->kernel_unavailable, st->frames_over_budget,
	       st->debug_too_large);
	format_bytes(st->rss_bytes, a, sizeof(a));
	printf("  agent cost:       %.1f s CPU, %s RSS\n", st->cpu_seconds, a);
	format_bytes(st->store_bytes, c, sizeof(c));
	printf("  store:            %s: %" PRIu64 " windows, %s\n",
	       st->store_dir[0] ? textesc__str(st->store_dir, esc, sizeof(esc)) : "?",
	       st->store_files, c);
	printf("  last error:       %s\n",
	       st->last_error[0] ? textesc__str(st->last_error, esc, sizeof(esc)) : "none");
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'},
		{"status-file", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct agent_config c = {};
	const char *status_file = NULL;
	struct agent_status st;
	char err[512];
	bool running;
	int opt, ret = 2, e;

	if (config__init(&c)) {
		log_err("out of memory");
		return 1;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (config__set(&c, "store", optarg, err, sizeof(err))) {
				log_err("%s", err);
				goto out;
			}
			break;
		case 'f':
			status_file = optarg;
			break;
		case 'h':
			fputs(status_usage, stdout);
			ret = 0;
			goto out;
		case ':':
			log_err("option '%s' needs a value; see 'smolder status --help'",
				argv[optind - 1]);
			goto out;
		default:
			log_err("unknown option '%s'; see 'smolder status --help'",
				argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'; see 'smolder status --help'", argv[optind]);
		goto out;
	}
	if (!status_file)
		status_file = c.status_file;
	ret = 1;
	e = store__read_status(status_file, &st);
	if (e == -ENOENT) {
		log_err("no status file '%s': the agent is not running, or uses another --store; start it with 'systemctl start smolder'",
			status_file);
		goto out;
	}
	if (e == -EISDIR || e == -EBADFD) {
		log_err("'%s' is not a regular file; give the agent's status file with --status-file",
			status_file);
		goto out;
	}
	if (e) {
		log_err("cannot read status file '%s': %s", status_file,
			e == -EBADMSG ? "not a smolder status file" : strerror(-e));
		goto out;
	}
	running = agent_running(st.pid);
	print_status(status_file, &st, running);
	if (!running) {
		log_err("the agent (pid %" PRId64 ") is not running; see 'journalctl -u smolder'",
			st.pid);
		goto out;
	}
	ret = 0;
out:
	config__free(&c);
	return ret;
}
