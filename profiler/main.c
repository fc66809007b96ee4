// SPDX-License-Identifier: MIT
/*
 * smolder: the command-line entry point. Dispatches `smolder <command>` to
 * the cmd_*() functions of commands.h and owns the process-wide state: the
 * verbosity and the messages printed to the terminal (log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "commands.h"
#include "log.h"
#include "textesc.h"

#define SMOLDER_VERSION "0.1.0"
#define LOG_MAX_LINE	8192

int smolder_verbosity;

/*
 * Messages carry names from outside (comms, paths, URLs, frame names): the
 * whole line goes through textesc, so none can move the cursor, retitle the
 * terminal or start a forged line. A longer message is cut.
 */
__attribute__((format(printf, 2, 0))) static void log_v(const char *prefix, const char *fmt,
							va_list ap)
{
	char msg[LOG_MAX_LINE];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fputs(prefix, stderr);
	textesc__fputs(stderr, msg);
	fputc('\n', stderr);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("smolder: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("smolder: warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("smolder: ", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (smolder_verbosity < 2)
		return;
	va_start(ap, fmt);
	log_v("smolder: debug: ", fmt, ap);
	va_end(ap);
}

void log_symbolizer(enum sym_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == SYM_LOG_WARN)
		log_warn("%s, ignoring", msg);
	else if (level == SYM_LOG_INFO)
		log_info("%s", msg);
	else
		log_debug("%s", msg);
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"record", cmd_record, "sample every CPU and write a pprof profile"},
	{"agent", cmd_agent, "profile the machine continuously into a local store"},
	{"report", cmd_report, "print the hottest functions of profiles"},
	{"flamegraph", cmd_flamegraph, "write an interactive flame graph (HTML) or folded stacks"},
	{"diff", cmd_diff, "compare two profiles: what got slower, and is it real"},
	{"symbolize", cmd_symbolize, "print function, file:line and inline frames of addresses"},
	{"query", cmd_query,
	 "merge the agent's stored windows by time and labels into one profile"},
	{"status", cmd_status, "print the state of the running agent"},
	{"upload", cmd_upload, "send pprof files to Grafana Pyroscope"},
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: smolder <command> [options]\n"
		     "\n"
		     "Whole-system CPU profiler for Linux (BPF, pprof output).\n"
		     "\n"
		     "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n"
		     "Run 'smolder <command> --help' for the options of a command.\n"
		     "\n"
		     "EXAMPLES:\n"
		     "  smolder record -d 30 -o prof.pb.gz   # profile the machine for 30 seconds\n"
		     "  smolder report prof.pb.gz            # hottest functions\n"
		     "  smolder flamegraph prof.pb.gz -o prof.html\n");
}

/*
 * One perf event per CPU and the symbolizer's open debug files (at most its
 * file cap) need more descriptors than the usual soft limit of 1,024 on a
 * large machine; the hard limit is ours to take.
 */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("smolder %s\n", SMOLDER_VERSION);
		return 0;
	}
	raise_nofile_limit();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	}
	log_err("unknown command '%s'; run 'smolder --help' for the list", argv[1]);
	return 2;
}
