// SPDX-License-Identifier: MIT
/*
 * smolder agent: always-on whole-machine profiling into a local store.
 *
 * One collector (collector.c) runs for the agent's life with back-to-back
 * windows aligned on wall-clock multiples of the window length. Its worker
 * thread calls write_window() with each closed window's profile: it goes to
 * the store (temporary name + rename, so a reader never sees a partial file),
 * then retention runs, the status file is rewritten and one line is logged.
 *
 * A window that cannot be written (disk full, store gone) is kept in memory
 * and retried before the next one is written; at most AGENT_MAX_PENDING are
 * kept, the oldest dropped (counted, logged) beyond that. The error is logged
 * once per window.
 *
 * Signals: SIGTERM and SIGINT close the open window, write it and exit 0.
 * SIGHUP rereads the configuration file: labels and retention change at
 * once; frequency, window length and store need a restart (logged). A
 * configuration that does not load is logged and the old one kept.
 *
 * The reload runs on a thread of its own: the sampling thread only raises a
 * flag under reload_lock (never held while reading or applying), so a slow
 * or blocked read of the file never stops sampling. The new labels go to
 * the collector (under its lock), labels and retention to cfg under lock.
 * At exit the reload thread is told to stop; one still blocked in reading
 * after AGENT_RELOAD_JOIN_MS is left behind (it applies nothing once told
 * to stop) and the agent's state it may still touch is not freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "upload.h"

#define AGENT_MAX_PENDING	 16
#define AGENT_AGG_BYTES		 (16UL << 20)
#define AGENT_SYM_BYTES		 (5UL << 20)
#define AGENT_UNWIND_BYTES	 (3UL << 20)
#define AGENT_STACK_COPY	 16384
#define AGENT_MAX_CLI_PAIRS	 128
#define AGENT_MMAP_THRESHOLD	 (64 << 10) /* malloc: larger blocks get their own mapping */
#define AGENT_RELOAD_JOIN_MS	 1000 /* at exit, wait this long for a reload still reading */
#define AGENT_NAME_BUDGET_MIN_NS (10LL * 1000000000LL) /* naming one window, at least */

static volatile sig_atomic_t agent_stop;
static volatile sig_atomic_t agent_reload;

/* A command-line option, kept to be applied again over a reloaded file. */
struct cli_pair {
	const char *key;
	const char *value; /* NULL for flags */
};

struct pending_write {
	struct pprof_builder *b;
	int64_t time_nanos;
};

struct agent {
	struct agent_config cfg; /* under lock: the worker reads labels and retention */
	pthread_mutex_t lock;
	const char *config_path;
	struct cli_pair cli[AGENT_MAX_CLI_PAIRS];
	size_t nr_cli;
	struct store *store;
	uint64_t store_refused; /* entries the last retention pass left alone */
	struct collector *collector;
	struct uploader *uploader; /* NULL: no upload */
	char host[256];
	int64_t started_nanos;

	/* SIGHUP: the sampling thread asks, the reload thread reads and applies */
	pthread_t reloader;
	bool reloader_started;
	pthread_mutex_t reload_lock;
	pthread_cond_t reload_cond;
	bool reload_wanted, reload_quit, reload_applying;

	/* worker thread */
	struct pending_write pending[AGENT_MAX_PENDING];
	size_t nr_pending;
	struct agent_status status;
	uint64_t dropped_windows;
	uint64_t unwound_before, complete_before; /* unwind counters at the last window */
};

static const char agent_usage[] =
	"Usage: smolder agent [--config FILE] [options]\n"
	"\n"
	"Profiles the whole machine continuously and stores one pprof profile per window.\n"
	"Every option is also a key of the configuration file (key = value); options win.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE          configuration file (key = value lines)\n"
	"  -F, --frequency HZ         samples per second per CPU, 1-10000 (default 99)\n"
	"  -w, --window SECONDS       length of each stored profile, 1-3600 (default 60)\n"
	"  -s, --store DIR            where profiles go (default /var/lib/smolder)\n"
	"      --retention-age AGE    delete windows older than AGE: 30m, 12h, 7d (default 7d)\n"
	"      --retention-size SIZE  keep the store under SIZE: 500M, 1G (default 1G)\n"
	"  -l, --label KEY=VALUE      add a label to every sample (repeatable), e.g. version=1.4.2\n"
	"      --include-idle         keep samples of the idle task\n"
	"      --status-file FILE     where the agent keeps its state (default <store>/status)\n"
	"      --upload URL           also send every window to Grafana Pyroscope\n"
	"      --service-by KEY       one series per systemd_unit (default), container_id or comm\n"
	"      --token-file FILE      bearer token for the upload, read from FILE\n"
	"      --basic-auth-file FILE user:password for the upload, read from FILE\n"
	"      --tenant ID            X-Scope-OrgID sent with the upload\n"
	"      --ca-file FILE         CA certificates for the upload's TLS\n"
	"      --spool DIR            upload spool (default <store>/spool)\n"
	"      --spool-size SIZE      spool cap; the oldest windows go first (default 256M)\n"
	"  -v, --verbose              more messages\n"
	"  -h, --help                 this text\n"
	"\n"
	"Signals: SIGTERM/SIGINT write the open window and exit; SIGHUP rereads the file.\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder agent --config /etc/smolder/smolder.conf\n"
	"  smolder agent --store /tmp/prof --window 10 --label version=1.4.2\n"
	"  smolder query --store /tmp/prof --since -1h -o last-hour.pb.gz\n";

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		agent_reload = 1;
	else
		agent_stop = 1;
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Loads the file (if any), then the command-line options over it. */
static int load_config(struct agent *a, struct agent_config *cfg, char *err, size_t errlen)
{
	size_t i;
	int ret;

	ret = config__init(cfg);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	if (a->config_path) {
		ret = config__load_file(cfg, a->config_path, err, errlen);
		if (ret)
			return ret;
	}
	for (i = 0; i < a->nr_cli; i++) {
		ret = config__set(cfg, a->cli[i].key, a->cli[i].value, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_args(struct agent *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"frequency", required_argument, NULL, 'F'},
		{"window", required_argument, NULL, 'w'},
		{"store", required_argument, NULL, 's'},
		{"retention-age", required_argument, NULL, 'A'},
		{"retention-size", required_argument, NULL, 'S'},
		{"label", required_argument, NULL, 'l'},
		{"include-idle", no_argument, NULL, 'I'},
		{"status-file", required_argument, NULL, 'f'},
		{"upload", required_argument, NULL, 'U'},
		{"service-by", required_argument, NULL, 1},
		{"token-file", required_argument, NULL, 2},
		{"basic-auth-file", required_argument, NULL, 3},
		{"tenant", required_argument, NULL, 4},
		{"ca-file", required_argument, NULL, 5},
		{"spool", required_argument, NULL, 6},
		{"spool-size", required_argument, NULL, 7},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int opt, idx;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:F:w:s:l:vh", longopts, &idx)) != -1) {
		const char *key = NULL;

		switch (opt) {
		case 'c':
			a->config_path = optarg;
			continue;
		case 'h':
			fputs(agent_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; see 'smolder agent --help'",
				argv[optind - 1]);
			return 2;
		case '?':
			log_err("unknown option '%s'; see 'smolder agent --help'",
				argv[optind - 1]);
			return 2;
		case 'F':
			key = "frequency";
			break;
		case 'w':
			key = "window";
			break;
		case 's':
			key = "store";
			break;
		case 'l':
			key = "label";
			break;
		case 'v':
			key = "verbose";
			smolder_verbosity++;
			break;
		default:
			/* Long-only options: the config key is the option's name. */
			key = longopts[idx].name;
			break;
		}
		if (a->nr_cli == AGENT_MAX_CLI_PAIRS) {
			log_err("too many options");
			return 2;
		}
		a->cli[a->nr_cli].key = key;
		a->cli[a->nr_cli].value = (opt == 'v' || opt == 'I') ? NULL : optarg;
		a->nr_cli++;
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'; see 'smolder agent --help'", argv[optind]);
		return 2;
	}
	return -1;
}

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void on_delete(const char *path, uint64_t bytes, const char *why, void *ctx)
{
	log_info("retention: deleted %s (%llu bytes, %s)", path, (unsigned long long)bytes, why);
}

/* Writes one window to the store; -errno when it could not (the caller keeps it). */
static int store_window(struct agent *a, struct pprof_builder *b, int64_t time_nanos)
{
	char path[4096];
	int err;

	err = store__path(a->store, time_nanos, a->host, path, sizeof(path));
	if (!err)
		err = pprof_builder__write_file(b, path, 0640);
	return err;
}

/* The collector's window callback, on its worker thread. */
static int write_window(struct pprof_builder *b, const struct collector_window *w, void *ctx)
{
	struct agent *a = ctx;
	struct collector_stats cs;
	struct store_usage usage = {};
	uint64_t age, size, errors, unwound, complete;
	int kept = 0, err = 0;
	size_t i;

	/* Older windows first: the store stays in time order. */
	for (i = 0; i < a->nr_pending;) {
		err = store_window(a, a->pending[i].b, a->pending[i].time_nanos);
		if (err)
			break;
		pprof_builder__free(a->pending[i].b);
		memmove(&a->pending[i], &a->pending[i + 1],
			sizeof(a->pending[0]) * (a->nr_pending - i - 1));
		a->nr_pending--;
		a->status.windows_written++;
	}
	if (err || (err = store_window(a, b, w->time_nanos))) {
		if (a->nr_pending == AGENT_MAX_PENDING) {
			log_err("%d windows are waiting for the store; dropping the oldest, of %lld",
				AGENT_MAX_PENDING,
				(long long)(a->pending[0].time_nanos / 1000000000));
			pprof_builder__free(a->pending[0].b);
			memmove(&a->pending[0], &a->pending[1],
				sizeof(a->pending[0]) * (a->nr_pending - 1));
			a->nr_pending--;
			a->dropped_windows++;
		}
		a->pending[a->nr_pending++] = (struct pending_write){b, w->time_nanos};
		kept = 1;
		/* Once per window, naming it: the older ones waiting failed the same way. */
		snprintf(a->status.last_error, sizeof(a->status.last_error),
			 "failed to write the window of %lld: %s",
			 (long long)(w->time_nanos / 1000000000), strerror(-err));
		if (a->nr_pending > 1)
			log_err("%s; keeping it in memory and retrying (%zu windows waiting, the oldest of %lld)",
				a->status.last_error, a->nr_pending,
				(long long)(a->pending[0].time_nanos / 1000000000));
		else
			log_err("%s; keeping it in memory and retrying", a->status.last_error);
	} else {
		a->status.windows_written++;
		a->status.last_error[0] = '\0';
	}

	if (a->uploader) {
		struct upload_opts uo = {.service_by = a->cfg.upload_service_by};
		char **labels;
		size_t nr = 0;
		int uerr;

		/*
		 * A private copy of the labels, so the reload (on its own
		 * thread) never waits for packing, compressing and spooling.
		 */
		pthread_mutex_lock(&a->lock);
		labels = calloc(a->cfg.nr_labels + 1, sizeof(*labels));
		for (i = 0; labels && i < a->cfg.nr_labels; i++) {
			labels[nr] = strdup(a->cfg.labels[i]);
			if (labels[nr])
				nr++;
		}
		pthread_mutex_unlock(&a->lock);
		uo.labels = (const char *const *)labels;
		uo.nr_labels = nr;
		uerr = labels ? upload__window(a->uploader, b, &uo) : -ENOMEM;
		for (i = 0; i < nr; i++)
			free(labels[i]);
		free(labels);
		if (uerr)
			log_warn("failed to queue window %llu for upload: %s, ignoring",
				 (unsigned long long)w->seq, strerror(-uerr));
	}

	pthread_mutex_lock(&a->lock);
	age = a->cfg.retention_age_s;
	size = a->cfg.retention_bytes;
	pthread_mutex_unlock(&a->lock);
	store__retention(a->store, wall_ns(), age, size, on_delete, a, &usage);
	/* Planted entries are left alone; said once, and again when more appear. */
	if (usage.refused > a->store_refused)
		log_warn(
			"%llu entries in the store '%s' are symlinks, special files or other users' "
			"folders and files, not windows; left alone, ignoring",
			(unsigned long long)usage.refused, store__dir(a->store));
	a->store_refused = usage.refused;

	/* What building the window freed goes back to the system: RSS stays flat. */
	malloc_trim(0);
	collector__stats(a->collector, &cs);
	a->status.updated_nanos = wall_ns();
	a->status.last_window_nanos = w->time_nanos;
	a->status.samples += w->samples;
	a->status.lost_samples += w->lost;
	a->status.processes = cs.procs.entries;
	a->status.symbolization_misses += w->build.unsymbolized;
	a->status.cpu_seconds = cpu_seconds();
	a->status.rss_bytes = rss_bytes();
	a->status.store_bytes = usage.bytes;
	a->status.store_files = usage.files;
	a->status.pending_windows = a->nr_pending;
	a->status.windows_dropped = cs.windows_dropped;
	a->status.windows_dropped_store = a->dropped_windows;
	a->status.kernel_unavailable += w->build.kernel_unavailable;
	a->status.frames_over_budget = cs.sym.over_budget;
	a->status.debug_too_large = cs.sym.debug_too_large;
	pthread_mutex_lock(&a->lock);
	if (store__write_status(a->cfg.status_file, &a->status))
		log_warn("failed to write the status file '%s', ignoring", a->cfg.status_file);
	pthread_mutex_unlock(&a->lock);

	/* The unwinding outcome of this window's user stacks: counters since the last one. */
	errors = 0;
	for (i = 0; i < UNWIND_ERR_MAX; i++)
		errors += cs.unwind_errors[i];
	unwound = cs.unwind_complete + cs.unwind_truncated + errors - a->unwound_before;
	complete = cs.unwind_complete - a->complete_before;
	a->unwound_before += unwound;
	a->complete_before = cs.unwind_complete;
	log_info(
		"window %llu: %llu samples, %llu lost, %llu processes, %.1f%% complete user stacks, %llu unsymbolized frames (%llu kernel without kallsyms), %.2f CPU s, %.1f MiB RSS; %llu windows dropped, %llu frames past the naming budget%s",
		(unsigned long long)w->seq, (unsigned long long)w->samples,
		(unsigned long long)w->lost, (unsigned long long)cs.procs.entries,
		unwound ? 100.0 * (double)complete / (double)unwound : 100.0,
		(unsigned long long)w->build.unsymbolized,
		(unsigned long long)w->build.kernel_unavailable, a->status.cpu_seconds,
		(double)a->status.rss_bytes / (1 << 20),
		(unsigned long long)(cs.windows_dropped + a->dropped_windows),
		(unsigned long long)cs.sym.over_budget, kept ? " (not yet stored)" : "");
	if (smolder_verbosity >= 1)
		log_info(
			"window %llu: symbolizer %zu files %.1f MiB (%llu evicted, %llu DWARF units unloaded), %zu mappings; unwind %zu tables %.1f MiB (%llu evicted); %llu processes reaped, %llu evicted",
			(unsigned long long)w->seq, cs.sym.elf_cached,
			(double)cs.sym.bytes_cached / (1 << 20),
			(unsigned long long)cs.sym.elf_evictions,
			(unsigned long long)cs.sym.dwarf_unit_evictions, cs.sym.mappings_cached,
			cs.unwind.nr_tables, (double)cs.unwind.bytes / (1 << 20),
			(unsigned long long)cs.unwind.evictions,
			(unsigned long long)cs.procs.reaped, (unsigned long long)cs.procs.evicted);
	return kept;
}

/* Applies a configuration read by the reload thread (or logs why it was not read). */
static void apply_reload(struct agent *a, struct agent_config *fresh, int ret, const char *err)
{
	char **labels;
	size_t nr;

	if (ret) {
		log_err("reload: %s; keeping the running configuration", err);
		return;
	}
	if (fresh->freq_hz != a->cfg.freq_hz || fresh->window_s != a->cfg.window_s ||
	    strcmp(fresh->store_dir, a->cfg.store_dir) ||
	    fresh->include_idle != a->cfg.include_idle)
		log_warn(
			"reload: frequency, window, store and include-idle changes take effect at the next start");
	if (collector__set_labels(a->collector, (const char *const *)fresh->labels,
				  fresh->nr_labels)) {
		log_err("reload: out of memory; keeping the running configuration");
		return;
	}
	pthread_mutex_lock(&a->lock);
	a->cfg.retention_age_s = fresh->retention_age_s;
	a->cfg.retention_bytes = fresh->retention_bytes;
	/* The upload's series labels follow the samples' (swapped, freed with fresh). */
	labels = a->cfg.labels;
	nr = a->cfg.nr_labels;
	a->cfg.labels = fresh->labels;
	a->cfg.nr_labels = fresh->nr_labels;
	fresh->labels = labels;
	fresh->nr_labels = nr;
	pthread_mutex_unlock(&a->lock);
	log_info("reload: configuration reread%s%s", a->config_path ? " from " : "",
		 a->config_path ? a->config_path : "");
}

/* The reload thread: one reread per SIGHUP (requests during a read coalesce). */
static void *reload_main(void *arg)
{
	struct agent *a = arg;
	struct agent_config fresh;
	char err[512];
	int ret;

	pthread_setname_np(pthread_self(), "smolder-reload");
	pthread_mutex_lock(&a->reload_lock);
	for (;;) {
		while (!a->reload_quit && !a->reload_wanted)
			pthread_cond_wait(&a->reload_cond, &a->reload_lock);
		if (a->reload_quit)
			break;
		a->reload_wanted = false;
		pthread_mutex_unlock(&a->reload_lock);
		/* May take long (or block on a FIFO): nothing waits for it. */
		ret = load_config(a, &fresh, err, sizeof(err));
		pthread_mutex_lock(&a->reload_lock);
		if (a->reload_quit) {
			config__free(&fresh);
			break;
		}
		a->reload_applying = true;
		pthread_mutex_unlock(&a->reload_lock);
		apply_reload(a, &fresh, ret, err);
		config__free(&fresh);
		pthread_mutex_lock(&a->reload_lock);
		a->reload_applying = false;
		pthread_cond_broadcast(&a->reload_cond);
	}
	pthread_mutex_unlock(&a->reload_lock);
	return NULL;
}

/* On the sampling thread, between two polls: SIGHUP only wakes the reload thread. */
static void on_tick(void *ctx)
{
	struct agent *a = ctx;

	if (!agent_reload)
		return;
	agent_reload = 0;
	pthread_mutex_lock(&a->reload_lock);
	a->reload_wanted = true;
	pthread_cond_signal(&a->reload_cond);
	pthread_mutex_unlock(&a->reload_lock);
}

/*
 * Stops the reload thread. False when it is still reading after
 * AGENT_RELOAD_JOIN_MS: then it is left running (it applies nothing now) and
 * the caller must not free the agent.
 */
static bool stop_reloader(struct agent *a)
{
	struct timespec deadline;

	if (!a->reloader_started)
		return true;
	pthread_mutex_lock(&a->reload_lock);
	a->reload_quit = true;
	pthread_cond_signal(&a->reload_cond);
	while (a->reload_applying)
		pthread_cond_wait(&a->reload_cond, &a->reload_lock);
	pthread_mutex_unlock(&a->reload_lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += (AGENT_RELOAD_JOIN_MS % 1000) * 1000000L;
	deadline.tv_sec += AGENT_RELOAD_JOIN_MS / 1000 + deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	if (pthread_timedjoin_np(a->reloader, NULL, &deadline)) {
		log_warn("reload: still reading '%s' at exit; not waiting for it",
			 a->config_path ? a->config_path : "the configuration");
		pthread_detach(a->reloader);
		return false;
	}
	a->reloader_started = false;
	return true;
}

int cmd_agent(int argc, char **argv)
{
	struct agent *a = calloc(1, sizeof(*a));
	struct collector_opts co = {};
	struct sigaction sa = {};
	char err[512], comment[2][512];
	const char *comments[2];
	sigset_t mask, old_mask;
	bool reloader_gone = true;
	struct utsname u;
	size_t i;
	int ret = 1, e;

	if (!a) {
		log_err("out of memory");
		return 1;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->reload_lock, NULL);
	pthread_cond_init(&a->reload_cond, NULL);
	/* Two threads need no more than two malloc arenas; more only hold freed memory. */
	mallopt(M_ARENA_MAX, 2);
	/*
	 * Symbol tables, CFI tables and inflated debug sections come and go as
	 * files are parsed and evicted. From the heap they leave holes that
	 * only malloc_trim() gives back, and glibc's sliding mmap threshold
	 * moves them all to the heap after the first large free: a fixed
	 * threshold keeps each large block in its own mapping, returned to the
	 * system when freed, so RSS follows the caches' caps.
	 */
	mallopt(M_MMAP_THRESHOLD, AGENT_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, AGENT_MMAP_THRESHOLD);
	ret = parse_args(a, argc, argv);
	if (ret >= 0)
		goto out;
	ret = 1;
	if (load_config(a, &a->cfg, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	a->store = store__open(a->cfg.store_dir);
	if (!a->store) {
		store__format_error(a->cfg.store_dir, errno, err, sizeof(err));
		log_err("%s", err);
		goto out;
	}

	if (a->cfg.upload_url) {
		a->uploader = upload__start(&a->cfg);
		if (!a->uploader)
			goto out;
	}

	gethostname(a->host, sizeof(a->host) - 1);
	uname(&u);
	snprintf(comment[0], sizeof(comment[0]), "host: %s", a->host);
	snprintf(comment[1], sizeof(comment[1]), "kernel: %s %s", u.sysname, u.release);
	comments[0] = comment[0];
	comments[1] = comment[1];
	co.sampler.freq_hz = a->cfg.freq_hz;
	co.sampler.include_idle = a->cfg.include_idle;
	co.sampler.stack_copy_bytes = AGENT_STACK_COPY;
	/* Three drains' worth: the agent trades margin for memory (the ring counts twice in RSS). */
	co.sampler.ringbuf_ms = 300;
	co.sampler.track_processes = true;
	co.window_ns = (int64_t)a->cfg.window_s * 1000000000LL;
	co.align = true;
	co.agg_bytes = AGENT_AGG_BYTES;
	co.sym_bytes = AGENT_SYM_BYTES;
	co.unwind_bytes = AGENT_UNWIND_BYTES;
	co.proc_labels = true;
	/*
	 * One window's time to name its frames, so the worker keeps pace with the
	 * sampling, but never under AGENT_NAME_BUDGET_MIN_NS: short windows still
	 * get their first files (kallsyms, DWARF) parsed.
	 */
	co.name_budget_ns =
		co.window_ns > AGENT_NAME_BUDGET_MIN_NS ? co.window_ns : AGENT_NAME_BUDGET_MIN_NS;
	co.comments = comments;
	co.nr_comments = 2;
	co.on_window = write_window;
	co.on_tick = on_tick;
	co.ctx = a;
	a->collector = collector__new(&co);
	if (!a->collector)
		goto out;
	if (collector__set_labels(a->collector, (const char *const *)a->cfg.labels,
				  a->cfg.nr_labels)) {
		log_err("out of memory");
		goto out;
	}

	a->started_nanos = wall_ns();
	a->status.pid = getpid();
	a->status.started_nanos = a->started_nanos;
	snprintf(a->status.store_dir, sizeof(a->status.store_dir), "%s", a->cfg.store_dir);

	/* The reload thread takes no signals: they stay with the sampling thread's polls. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, &old_mask);
	e = pthread_create(&a->reloader, NULL, reload_main, a);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (e) {
		log_err("failed to start the reload thread: %s", strerror(e));
		goto out;
	}
	a->reloader_started = true;

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	log_info("agent: %u CPUs at %u Hz, %u s windows into %s", collector__nr_cpus(a->collector),
		 a->cfg.freq_hz, a->cfg.window_s, a->cfg.store_dir);
	e = collector__run(a->collector, &agent_stop, 0);
	reloader_gone = stop_reloader(a);
	if (e)
		goto out;
	if (a->uploader && uploader__flush(a->uploader, 2000))
		log_info("upload: windows not sent yet stay in the spool for the next start");
	if (a->nr_pending)
		log_err("%zu windows could not be stored before exit and are lost", a->nr_pending);
	log_info("agent: stopped");
	ret = a->nr_pending ? 1 : 0;
out:
	if (reloader_gone)
		reloader_gone = stop_reloader(a);
	for (i = 0; i < a->nr_pending; i++)
		pprof_builder__free(a->pending[i].b);
	collector__free(a->collector);
	uploader__free(a->uploader);
	store__free(a->store);
	config__free(&a->cfg);
	/* A reload thread still reading holds a (and its locks) until the process ends. */
	if (!reloader_gone)
		return ret;
	pthread_cond_destroy(&a->reload_cond);
	pthread_mutex_destroy(&a->reload_lock);
	pthread_mutex_destroy(&a->lock);
	free(a);
	return ret;
}
