// SPDX-License-Identifier: MIT
/*
 * smolder record: sample the whole machine (or some processes) for a while
 * and write one pprof file.
 *
 * One collector window spanning the whole run (collector.c): samples are
 * aggregated as they come, a process seen for the first time has its
 * mappings read at once and its binaries parsed by the worker, so it is
 * still named if it exits before the end; naming every frame happens once,
 * after sampling stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "commands.h"
#include "log.h"
#include "pprof.h"
#include "vizcli.h"

#define RECORD_MAX_PIDS	 SMOLDER_MAX_PIDS
#define RECORD_AGG_BYTES (256UL << 20)
/*
 * record names the frames of one file after another when it builds the
 * profile, so its symbolizer needs one large file's DWARF at a time: a
 * 12 MiB cache, and up to 16 MiB inflated for one file, keep file:line for
 * large debug files such as libc6-dbg's (8.4 MiB inflated) while the files
 * done with are evicted. The agent trades file:line of such files for memory.
 */
#define RECORD_SYM_BYTES     (12UL << 20)
#define RECORD_INFLATE_BYTES (16UL << 20)
#define RECORD_UNWIND_BYTES  (8UL << 20)

static volatile sig_atomic_t record_stop;

struct record_opts {
	unsigned int freq_hz;
	long duration_s;
	pid_t *pids;
	size_t nr_pids;
	const char *output;
	bool include_idle;
	enum sampler_event event;
	unsigned int stack_copy;
};

struct record_ctx {
	const char *output;
	struct safefile_out *out; /* created before sampling, so a bad -o fails first */
	int err; /* of writing the profile */
	struct collector_window w;
	bool written;
};

static const char record_usage[] =
	"Usage: smolder record [-F HZ] [-d SECONDS] [-p PID]... [-o FILE] [--include-idle]\n"
	"                      [--event cpu-clock|cycles] [--stack-copy BYTES] [-v]\n"
	"\n"
	"Samples every online CPU at HZ and writes a gzip pprof profile.\n"
	"\n"
	"Options:\n"
	"  -F, --frequency HZ   samples per second per CPU, 1-10000 (default 99)\n"
	"  -d, --duration SEC   how long to record, 1-86400 (default 10); Ctrl-C stops early\n"
	"  -p, --pid PID        only this process (repeatable); default: the whole machine\n"
	"  -o, --output FILE    where to write (default smolder-<host>-<time>.pb.gz), mode\n"
	"                       0600; '-' is standard output\n"
	"      --include-idle   keep samples of the idle task\n"
	"      --event EVENT    cpu-clock (default, works in VMs) or cycles (needs a PMU)\n"
	"      --stack-copy BYTES  user stack copied per sample and unwound with the\n"
	"                       binaries' CFI, 0 or 1024-32768 (default 16384); 0 walks\n"
	"                       frame pointers in the kernel instead\n"
	"  -v, --verbose        print counters at the end; twice for debug messages\n"
	"  -h, --help           this text\n"
	"\n"
	"Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF (5.15+).\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder record                      # whole machine, 10 s, 99 Hz\n"
	"  smolder record -d 60 -o prof.pb.gz  # one minute\n"
	"  smolder record -p 1234 -F 499       # one process, finer\n";

static void on_signal(int sig)
{
	record_stop = 1;
}

/* The window callback: record has one window, the whole run. */
static int write_profile(struct pprof_builder *b, const struct collector_window *w, void *arg)
{
	struct record_ctx *c = arg;

	c->err = pprof_builder__write_fd(b, safefile__fd(c->out));
	if (c->err) {
		log_err("failed to write '%s': %s", c->output, strerror(-c->err));
		safefile__discard(c->out);
	} else {
		c->err = vizcli__commit(c->out, c->output);
	}
	c->out = NULL;
	c->w = *w;
	c->written = !c->err;
	return 0;
}

static int parse_args(int argc, char **argv, struct record_opts *o)
{
	static const struct option longopts[] = {
		{"frequency", required_argument, NULL, 'F'},
		{"duration", required_argument, NULL, 'd'},
		{"pid", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'o'},
		{"include-idle", no_argument, NULL, 'I'},
		{"event", required_argument, NULL, 'e'},
		{"stack-copy", required_argument, NULL, 'S'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	long v;
	int opt;

	o->freq_hz = 99;
	o->duration_s = 10;
	o->stack_copy = 16384;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":F:d:p:o:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'F':
			if (vizcli__parse_long(optarg, 1, 10000, "frequency", &v))
				return 2;
			o->freq_hz = (unsigned int)v;
			break;
		case 'd':
			if (vizcli__parse_long(optarg, 1, 86400, "duration", &v))
				return 2;
			o->duration_s = v;
			break;
		case 'p':
			if (vizcli__parse_long(optarg, 1, INT_MAX, "pid", &v))
				return 2;
			if (o->nr_pids >= RECORD_MAX_PIDS) {
				log_err("too many -p options: at most %d processes",
					RECORD_MAX_PIDS);
				return 2;
			}
			o->pids[o->nr_pids++] = (pid_t)v;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'I':
			o->include_idle = true;
			break;
		case 'e':
			if (!strcmp(optarg, "cpu-clock")) {
				o->event = SAMPLER_EVENT_CPU_CLOCK;
			} else if (!strcmp(optarg, "cycles")) {
				o->event = SAMPLER_EVENT_CYCLES;
			} else {
				log_err("unknown event '%s': use cpu-clock or cycles", optarg);
				return 2;
			}
			break;
		case 'S':
			if (vizcli__parse_long(optarg, 0, SMOLDER_STACK_COPY_MAX, "stack copy size",
					       &v))
				return 2;
			if (v && v < 1024) {
				log_err("invalid stack copy size '%s': 0 (frame pointers) or 1024 to %d bytes",
					optarg, SMOLDER_STACK_COPY_MAX);
				return 2;
			}
			o->stack_copy = (unsigned int)v;
			break;
		case 'v':
			smolder_verbosity++;
			break;
		case 'h':
			fputs(record_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; see 'smolder record --help'",
				argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s'; see 'smolder record --help'",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'; see 'smolder record --help'", argv[optind]);
		return 2;
	}
	return -1;
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void default_output(char *buf, size_t len)
{
	char host[256] = "localhost";
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, len, "smolder-%s-%s.pb.gz", host, stamp);
}

static void print_counters(const struct collector_stats *st, const struct collector_window *w)
{
	const struct sampler_counters *sc = &st->bpf;

	fprintf(stderr,
		"  bpf: %llu events, %llu sent, %llu lost, %llu idle, %llu filtered, %llu kernel-stack errors, %llu user-stack errors, %llu exec/exit events (%llu lost)\n",
		(unsigned long long)sc->v[SMOLDER_CNT_SAMPLES],
		(unsigned long long)sc->v[SMOLDER_CNT_SENT],
		(unsigned long long)sc->v[SMOLDER_CNT_LOST],
		(unsigned long long)sc->v[SMOLDER_CNT_IDLE],
		(unsigned long long)sc->v[SMOLDER_CNT_FILTERED],
		(unsigned long long)sc->v[SMOLDER_CNT_KSTACK_ERR],
		(unsigned long long)sc->v[SMOLDER_CNT_USTACK_ERR],
		(unsigned long long)sc->v[SMOLDER_CNT_EVENTS],
		(unsigned long long)sc->v[SMOLDER_CNT_EVENTS_LOST]);
	fprintf(stderr, "  aggregate: %llu samples, %llu dropped at the cap\n",
		(unsigned long long)st->samples, (unsigned long long)st->dropped);
	fprintf(stderr,
		"  processes: %zu tracked, %llu seen, %llu evicted, %llu reaped, %llu without maps, %llu preloads dropped\n",
		st->procs.entries, (unsigned long long)st->procs.added,
		(unsigned long long)st->procs.evicted, (unsigned long long)st->procs.reaped,
		(unsigned long long)st->maps_errors, (unsigned long long)st->preloads_dropped);
	fprintf(stderr,
		"  symbolizer: %llu hits, %llu misses, %llu evictions, %llu failures, %zu files, %zu KiB, %llu DWARF units unloaded\n",
		(unsigned long long)st->sym.elf_hits, (unsigned long long)st->sym.elf_misses,
		(unsigned long long)st->sym.elf_evictions, (unsigned long long)st->sym.elf_failures,
		st->sym.elf_cached, st->sym.bytes_cached / 1024,
		(unsigned long long)st->sym.dwarf_unit_evictions);
	fprintf(stderr,
		"  debug files: %llu refused as too large, %llu debuglink CRC mismatches; %llu user frames left unnamed past the time budget\n",
		(unsigned long long)st->sym.debug_too_large,
		(unsigned long long)st->sym.debuglink_crc_mismatches,
		(unsigned long long)st->sym.over_budget);
	fprintf(stderr,
		"  perf maps: %zu processes, %zu KiB, %llu hits, %llu misses, %llu refused, %llu entries (%llu refused), %llu KiB read (%llu KiB refused)\n",
		st->sym.perfmaps_cached, st->sym.perfmap_bytes_cached / 1024,
		(unsigned long long)st->sym.perfmap_hits,
		(unsigned long long)st->sym.perfmap_misses,
		(unsigned long long)st->sym.perfmap_refused,
		(unsigned long long)st->sym.perfmap_entries,
		(unsigned long long)st->sym.perfmap_entries_refused,
		(unsigned long long)(st->sym.perfmap_bytes_read / 1024),
		(unsigned long long)(st->sym.perfmap_bytes_refused / 1024));
	fprintf(stderr,
		"  unwind: %zu CFI tables, %zu KiB, %llu hits, %llu misses, %llu evictions, %llu failures, %llu build-id table resets, %llu Go processes\n",
		st->unwind.nr_tables, st->unwind.bytes / 1024, (unsigned long long)st->unwind.hits,
		(unsigned long long)st->unwind.misses, (unsigned long long)st->unwind.evictions,
		(unsigned long long)st->unwind.failures, (unsigned long long)st->file_key_resets,
		(unsigned long long)st->go_procs);
	fprintf(stderr,
		"  frames: %llu distinct, %llu unsymbolized (%llu named file+function start, %llu file+address), %llu outside known mappings, %llu kernel frames without kallsyms\n",
		(unsigned long long)w->build.frames, (unsigned long long)w->build.unsymbolized,
		(unsigned long long)w->build.named_by_start,
		(unsigned long long)w->build.named_by_address,
		(unsigned long long)w->build.no_mapping,
		(unsigned long long)w->build.kernel_unavailable);
	fprintf(stderr, "  windows: %llu built, %llu dropped (the worker fell behind)\n",
		(unsigned long long)st->windows, (unsigned long long)st->windows_dropped);
}

/* The share of user stacks that reached their root, and why the others did not. */
static void print_unwind(const struct collector_stats *st)
{
	uint64_t errors = 0, total;
	char reasons[512] = "";
	size_t len = 0;
	int i;

	for (i = 0; i < UNWIND_ERR_MAX; i++)
		errors += st->unwind_errors[i];
	total = st->unwind_complete + st->unwind_truncated + errors;
	if (!total)
		return;
	for (i = 1; i < UNWIND_ERR_MAX && len < sizeof(reasons); i++) {
		if (st->unwind_errors[i])
			len += (size_t)snprintf(reasons + len, sizeof(reasons) - len, "%s%s %llu",
						len ? ", " : " (", unwind__error_str(i),
						(unsigned long long)st->unwind_errors[i]);
	}
	if (len && len < sizeof(reasons) - 1)
		strcat(reasons, ")");
	log_info(
		"user stacks: %.1f%% complete, %.1f%% truncated, %.1f%% stopped by an unwind error%s; %.1f us per unwind",
		100.0 * (double)st->unwind_complete / (double)total,
		100.0 * (double)st->unwind_truncated / (double)total,
		100.0 * (double)errors / (double)total, reasons,
		(double)st->unwind_ns / 1e3 / (double)total);
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o = {};
	struct record_ctx ctx = {};
	struct collector_opts co = {};
	struct collector_stats st;
	struct collector *c = NULL;
	struct sigaction sa = {};
	char outbuf[512], comment[512];
	const char *comments[1];
	struct utsname u;
	uint64_t lost;
	size_t i;
	int ret = 1, err;

	o.pids = calloc(RECORD_MAX_PIDS, sizeof(*o.pids));
	if (!o.pids) {
		log_err("out of memory");
		return 1;
	}
	err = parse_args(argc, argv, &o);
	if (err >= 0) {
		ret = err;
		goto out;
	}
	if (!o.output) {
		default_output(outbuf, sizeof(outbuf));
		o.output = outbuf;
	}
	for (i = 0; i < o.nr_pids; i++) {
		if (kill(o.pids[i], 0) && errno == ESRCH) {
			log_err("no process with pid %d; check the pid with ps", o.pids[i]);
			goto out;
		}
	}
	ctx.out = vizcli__create(o.output, 0600);
	if (!ctx.out)
		goto out;

	uname(&u);
	co.sampler.freq_hz = o.freq_hz;
	co.sampler.event = o.event;
	co.sampler.include_idle = o.include_idle;
	co.sampler.pids = o.pids;
	co.sampler.nr_pids = o.nr_pids;
	co.sampler.track_processes = true;
	co.sampler.stack_copy_bytes = o.stack_copy;
	/* Half a second of samples from every CPU: five drains' worth. */
	co.sampler.ringbuf_ms = 500;
	co.agg_bytes = RECORD_AGG_BYTES;
	co.sym_bytes = RECORD_SYM_BYTES;
	co.sym_inflate_bytes = RECORD_INFLATE_BYTES;
	co.unwind_bytes = RECORD_UNWIND_BYTES;
	co.comments = comments;
	co.nr_comments = 1;
	co.on_window = write_profile;
	co.ctx = &ctx;
	ctx.output = o.output;
	c = collector__new(&co);
	if (!c)
		goto out;
	snprintf(comment, sizeof(comment), "smolder record: %u Hz, %u CPUs, kernel %s", o.freq_hz,
		 collector__nr_cpus(c), u.release);
	comments[0] = comment;

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	log_info("recording %u CPUs at %u Hz for %ld s (Ctrl-C to stop early)",
		 collector__nr_cpus(c), o.freq_hz, o.duration_s);
	err = collector__run(c, &record_stop,
			     now_ns(CLOCK_MONOTONIC) + o.duration_s * 1000000000LL);
	if (err || !ctx.written)
		goto out;

	collector__stats(c, &st);
	lost = ctx.w.lost;
	log_info("wrote %s: %llu samples, %llu processes, %.1f s; %llu samples lost", o.output,
		 (unsigned long long)ctx.w.samples, (unsigned long long)st.procs.added,
		 (double)ctx.w.duration_nanos / 1e9, (unsigned long long)lost);
	if (lost)
		log_warn(
			"%llu samples lost: %llu ring buffer full, %llu aggregate full, %llu malformed",
			(unsigned long long)lost, (unsigned long long)st.bpf.v[SMOLDER_CNT_LOST],
			(unsigned long long)st.dropped, (unsigned long long)st.bpf.bad_records);
	if (o.stack_copy)
		print_unwind(&st);
	if (smolder_verbosity)
		print_counters(&st, &ctx.w);
	ret = 0;
out:
	safefile__discard(ctx.out);
	collector__free(c);
	free(o.pids);
	return ret;
}
