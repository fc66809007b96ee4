// SPDX-License-Identifier: MIT
/*
 * smolder record: sample the whole machine (or some processes) for a while
 * and write one pprof file.
 *
 * The loop polls the sampler's ring buffer every 100 ms. Each record goes
 * straight into the aggregate (identical stacks counted once); a process seen
 * for the first time has its mappings read and its binaries parsed then, so
 * it is still named if it exits before the end. Naming every frame happens
 * once, after sampling stopped (profile_build.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "aggregate.h"
#include "commands.h"
#include "log.h"
#include "pprof.h"
#include "proctable.h"
#include "profile_build.h"
#include "sampler.h"
#include "symbolizer.h"

#define RECORD_MAX_PIDS	   SMOLDER_MAX_PIDS
#define RECORD_MAX_PROCS   32768
#define RECORD_AGG_BYTES   (256UL << 20)
#define RECORD_MAPS_REREAD 4 /* times a process's maps are reread for unknown addresses */

static volatile sig_atomic_t record_stop;

struct record_opts {
	unsigned int freq_hz;
	long duration_s;
	pid_t *pids;
	size_t nr_pids;
	const char *output;
	bool include_idle;
	enum sampler_event event;
};

struct record_ctx {
	struct aggregate *agg;
	struct proctable *procs;
	struct symbolizer *sym;
	uint64_t proc_errors; /* processes whose maps could not be read */
	uint64_t oom;
};

static const char record_usage[] =
	"Usage: smolder record [-F HZ] [-d SECONDS] [-p PID]... [-o FILE] [--include-idle]\n"
	"                      [--event cpu-clock|cycles] [-v]\n"
	"\n"
	"Samples every online CPU at HZ and writes a gzip pprof profile.\n"
	"\n"
	"Options:\n"
	"  -F, --frequency HZ   samples per second per CPU, 1-10000 (default 99)\n"
	"  -d, --duration SEC   how long to record, 1-86400 (default 10); Ctrl-C stops early\n"
	"  -p, --pid PID        only this process (repeatable); default: the whole machine\n"
	"  -o, --output FILE    where to write (default smolder-<host>-<time>.pb.gz)\n"
	"      --include-idle   keep samples of the idle task\n"
	"      --event EVENT    cpu-clock (default, works in VMs) or cycles (needs a PMU)\n"
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

static int parse_long(const char *arg, long min, long max, const char *what, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		log_err("invalid %s '%s': expected a whole number from %ld to %ld", what, arg, min,
			max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* Fails before sampling when the output cannot be written. */
static int check_output(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	if (strlen(path) >= sizeof(dir)) {
		log_err("output path is too long: '%s'", path);
		return -ENAMETOOLONG;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		log_err("cannot write '%s': it is a directory; give a file name with -o", path);
		return -EISDIR;
	}
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK)) {
		log_err("cannot write '%s': %s; choose another place with -o", path,
			strerror(errno));
		return -errno;
	}
	return 0;
}

static void read_maps(struct record_ctx *c, struct proc_entry *p)
{
	size_t i;
	int err;

	sym_maps__free(&p->maps);
	p->maps_reads++;
	err = sym_maps__read(p->pid, &p->maps);
	p->maps_err = err;
	if (err) {
		c->proc_errors++;
		log_debug("failed to read /proc/%d/maps: %s, ignoring", p->pid, strerror(-err));
		return;
	}
	for (i = 0; i < p->maps.nr; i++) {
		if (p->maps.entries[i].executable)
			symbolizer__preload(c->sym, p->pid, &p->maps.entries[i]);
	}
}

static void on_sample(const struct smolder_sample *s, size_t size, void *arg)
{
	struct record_ctx *c = arg;
	/* __u64 is unsigned long long, uint64_t unsigned long: same bits. */
	const uint64_t *kstack = (const uint64_t *)s->kstack;
	const uint64_t *ustack = (const uint64_t *)s->ustack;
	struct proc_entry *p;
	struct agg_key key;
	size_t nk = 0, nu = 0, i;
	bool is_new;

	if (s->kstack_bytes > 0)
		nk = (size_t)s->kstack_bytes / sizeof(uint64_t);
	if (s->ustack_bytes > 0)
		nu = (size_t)s->ustack_bytes / sizeof(uint64_t);
	if (nk > SMOLDER_MAX_STACK)
		nk = SMOLDER_MAX_STACK;
	if (nu > SMOLDER_MAX_STACK)
		nu = SMOLDER_MAX_STACK;
	/* The record is cut after the last user frame: never read past it. */
	if (offsetof(struct smolder_sample, ustack) + nu * sizeof(uint64_t) > size)
		nu = (size - offsetof(struct smolder_sample, ustack)) / sizeof(uint64_t);

	memset(&key, 0, sizeof(key));
	key.pid = s->pid;
	key.tid = s->tid;
	strncpy(key.comm, s->comm, sizeof(key.comm));
	strncpy(key.thread, s->thread, sizeof(key.thread));
	key.nr_kernel = (uint16_t)nk;
	key.nr_user = (uint16_t)nu;

	if (nu && s->pid) {
		p = proctable__get(c->procs, (pid_t)s->pid, &is_new);
		if (p && is_new) {
			read_maps(c, p);
		} else if (p && p->maps_reads < RECORD_MAPS_REREAD) {
			/* Code mapped since we looked (dlopen, JIT): look again, a few times. */
			for (i = 0; i < nu; i++) {
				if (!sym_maps__find(&p->maps, ustack[i])) {
					read_maps(c, p);
					break;
				}
			}
		}
	}
	if (aggregate__add(c->agg, &key, kstack, ustack, 1) == -ENOMEM)
		c->oom++;
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
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	long v;
	int opt;

	o->freq_hz = 99;
	o->duration_s = 10;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":F:d:p:o:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'F':
			if (parse_long(optarg, 1, 10000, "frequency", &v))
				return 2;
			o->freq_hz = (unsigned int)v;
			break;
		case 'd':
			if (parse_long(optarg, 1, 86400, "duration", &v))
				return 2;
			o->duration_s = v;
			break;
		case 'p':
			if (parse_long(optarg, 1, INT_MAX, "pid", &v))
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

static void print_counters(const struct sampler_counters *sc, const struct record_ctx *c,
			   const struct profile_build_stats *bs)
{
	struct symbolizer_stats ss;
	struct proctable_stats ps;
	struct agg_stats as;

	symbolizer__stats(c->sym, &ss);
	proctable__stats(c->procs, &ps);
	aggregate__stats(c->agg, &as);
	fprintf(stderr,
		"  bpf: %llu events, %llu sent, %llu lost, %llu idle, %llu filtered, %llu kernel-stack errors, %llu user-stack errors\n",
		(unsigned long long)sc->v[SMOLDER_CNT_SAMPLES],
		(unsigned long long)sc->v[SMOLDER_CNT_SENT],
		(unsigned long long)sc->v[SMOLDER_CNT_LOST],
		(unsigned long long)sc->v[SMOLDER_CNT_IDLE],
		(unsigned long long)sc->v[SMOLDER_CNT_FILTERED],
		(unsigned long long)sc->v[SMOLDER_CNT_KSTACK_ERR],
		(unsigned long long)sc->v[SMOLDER_CNT_USTACK_ERR]);
	fprintf(stderr, "  aggregate: %zu stacks, %zu KiB, %llu dropped\n", as.entries,
		as.bytes / 1024, (unsigned long long)as.dropped);
	fprintf(stderr, "  processes: %zu tracked, %llu evicted, %llu without maps\n", ps.entries,
		(unsigned long long)ps.evicted, (unsigned long long)c->proc_errors);
	fprintf(stderr,
		"  symbolizer: %llu hits, %llu misses, %llu evictions, %llu failures, %zu files, %zu KiB\n",
		(unsigned long long)ss.elf_hits, (unsigned long long)ss.elf_misses,
		(unsigned long long)ss.elf_evictions, (unsigned long long)ss.elf_failures,
		ss.elf_cached, ss.bytes_cached / 1024);
	fprintf(stderr, "  frames: %llu distinct, %llu unsymbolized, %llu outside known mappings\n",
		(unsigned long long)bs->frames, (unsigned long long)bs->unsymbolized,
		(unsigned long long)bs->no_mapping);
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o = {};
	struct record_ctx c = {};
	struct sampler_opts so = {};
	struct sampler_counters sc;
	struct profile_build_stats bs = {};
	struct profile_meta meta = {};
	struct pprof_builder *b = NULL;
	struct sampler *s = NULL;
	struct sigaction sa = {};
	char outbuf[512], comment[512];
	const char *comments[2];
	struct utsname u;
	int64_t t0_wall, t0, t1, deadline;
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
	if (check_output(o.output))
		goto out;

	c.agg = aggregate__new(RECORD_AGG_BYTES);
	c.procs = proctable__new(RECORD_MAX_PROCS);
	c.sym = symbolizer__new(NULL);
	if (!c.agg || !c.procs || !c.sym) {
		log_err("out of memory");
		goto out;
	}

	so.freq_hz = o.freq_hz;
	so.event = o.event;
	so.include_idle = o.include_idle;
	so.pids = o.pids;
	so.nr_pids = o.nr_pids;
	so.on_sample = on_sample;
	so.ctx = &c;
	s = sampler__new(&so);
	if (!s)
		goto out;

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	t0_wall = now_ns(CLOCK_REALTIME);
	t0 = now_ns(CLOCK_MONOTONIC);
	deadline = t0 + o.duration_s * 1000000000LL;
	log_info("recording %u CPUs at %u Hz for %ld s (Ctrl-C to stop early)", sampler__nr_cpus(s),
		 o.freq_hz, o.duration_s);
	while (!record_stop && now_ns(CLOCK_MONOTONIC) < deadline) {
		err = sampler__poll(s, 100);
		if (err && err != -EINTR) {
			log_err("failed to read samples: %s", strerror(-err));
			goto out;
		}
	}
	sampler__stop(s);
	t1 = now_ns(CLOCK_MONOTONIC);
	sampler__counters(s, &sc);

	uname(&u);
	snprintf(comment, sizeof(comment), "smolder record: %u Hz, %u CPUs, kernel %s", o.freq_hz,
		 sampler__nr_cpus(s), u.release);
	comments[0] = comment;
	meta.freq_hz = o.freq_hz;
	meta.time_nanos = t0_wall;
	meta.duration_nanos = t1 - t0;
	meta.comments = comments;
	meta.nr_comments = 1;
	err = profile_build(c.agg, c.procs, c.sym, &meta, &b, &bs);
	if (err) {
		log_err("failed to build the profile: %s", strerror(-err));
		goto out;
	}
	err = pprof_builder__write_file(b, o.output, 0600);
	if (err) {
		log_err("failed to write '%s': %s", o.output, strerror(-err));
		goto out;
	}

	{
		struct agg_stats as;
		struct proctable_stats ps;

		aggregate__stats(c.agg, &as);
		proctable__stats(c.procs, &ps);
		lost = sc.v[SMOLDER_CNT_LOST] + as.dropped + sc.bad_records;
		log_info("wrote %s: %llu samples, %llu processes, %.1f s; %llu samples lost",
			 o.output, (unsigned long long)as.samples, (unsigned long long)ps.added,
			 (double)(t1 - t0) / 1e9, (unsigned long long)lost);
		if (lost)
			log_warn(
				"%llu samples lost: %llu ring buffer full, %llu aggregate full, %llu malformed",
				(unsigned long long)lost,
				(unsigned long long)sc.v[SMOLDER_CNT_LOST],
				(unsigned long long)as.dropped, (unsigned long long)sc.bad_records);
	}
	if (smolder_verbosity)
		print_counters(&sc, &c, &bs);
	ret = 0;
out:
	pprof_builder__free(b);
	sampler__free(s);
	symbolizer__free(c.sym);
	proctable__free(c.procs);
	aggregate__free(c.agg);
	free(o.pids);
	return ret;
}
