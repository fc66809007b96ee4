// SPDX-License-Identifier: MIT
/*
 * smolder query: merge the windows of the agent's store that overlap a time
 * range into one profile, keeping only the samples whose labels match.
 *
 * store__list() picks the files by the time in their names (with a window's
 * worth of slack before since); each profile read then decides exactly from
 * its time_nanos and duration_nanos. A window that cannot be read (corrupt,
 * deleted by retention meanwhile) is skipped with a warning: a query over a
 * week should not fail for one bad minute. At most QUERY_MAX_WINDOWS windows
 * are merged; a wider range is refused up front with a hint to narrow it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "pprof.h"
#include "store.h"
#include "vizcli.h"

#define QUERY_MAX_WINDOWS 100000
#define QUERY_DEFAULT_OUT "smolder-query.pb.gz"
#define NSEC_PER_SEC	  1000000000LL

struct query_label {
	const char *key; /* points into the argument, cut at '=' */
	const char *value;
};

struct query_opts {
	const char *store;
	const char *output;
	int64_t since, until;
	const char *since_arg, *until_arg;
	struct query_label labels[CONFIG_MAX_LABELS];
	size_t nr_labels;
};

struct query_filter {
	const struct query_opts *o;
	uint64_t samples; /* first value of the samples kept */
};

static const char query_usage[] =
	"Usage: smolder query [--store DIR] [--since T] [--until T] [--label KEY=VALUE]...\n"
	"                     [-o FILE]\n"
	"\n"
	"Merges the windows the agent stored that overlap [since, until) into one\n"
	"profile, keeping only the samples whose labels match every --label. The\n"
	"result is a pprof file like any other: report, flamegraph and diff take it.\n"
	"\n"
	"Options:\n"
	"  -s, --store DIR          the agent's store (default /var/lib/smolder)\n"
	"      --since T            from this time (default: the oldest window)\n"
	"      --until T            up to this time, excluded (default: the newest window)\n"
	"  -l, --label KEY=VALUE    only samples with this label, repeatable (at most 32);\n"
	"                           numbers compare as decimal strings (pid=1234)\n"
	"  -o, --output FILE        where to write (default smolder-query.pb.gz), mode 0600;\n"
	"                           '-' is standard output\n"
	"  -h, --help               this text\n"
	"\n"
	"T is RFC 3339 (2026-11-21T10:00:00Z, or with an offset like +01:00), relative\n"
	"to now (-90s, -30m, -1h, -2d) or unix seconds (1763719200).\n"
	"Labels: pid, tid, comm, thread, container_id, cgroup, systemd_unit, and those\n"
	"given to the agent with --label.\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder query --since -1h -o last-hour.pb.gz\n"
	"  smolder query --since 2026-11-21T10:00:00Z --until 2026-11-21T11:00:00Z \\\n"
	"                --label systemd_unit=nginx.service -o nginx.pb.gz\n"
	"  smolder query --since -1d --label container_id=4f1c... && smolder report smolder-query.pb.gz\n";

static void format_time(int64_t nanos, char *buf, size_t len)
{
	time_t t = (time_t)(nanos / NSEC_PER_SEC);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		snprintf(buf, len, "%" PRId64 " ns", nanos);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t now_nanos(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int add_label(struct query_opts *o, char *arg)
{
	char err[512];
	char *eq;

	if (config__check_label(arg, true, err, sizeof(err))) {
		log_err("%s", err);
		return -EINVAL;
	}
	if (o->nr_labels >= CONFIG_MAX_LABELS) {
		log_err("too many --label options: at most %d", CONFIG_MAX_LABELS);
		return -E2BIG;
	}
	eq = strchr(arg, '=');
	*eq = '\0';
	o->labels[o->nr_labels].key = arg;
	o->labels[o->nr_labels].value = eq + 1;
	o->nr_labels++;
	return 0;
}

static int parse_time_arg(const char *opt, const char *arg, int64_t now, int64_t *ret)
{
	if (config__parse_time(arg, now, ret)) {
		log_err("invalid %s '%s': expected RFC 3339 (2026-11-21T10:00:00Z), -1h, -30m or unix seconds",
			opt, arg);
		return -EINVAL;
	}
	return 0;
}

/* Returns the exit code, or -1 to go on. */
static int parse_args(int argc, char **argv, struct query_opts *o)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"label", required_argument, NULL, 'l'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int64_t now = now_nanos();
	int opt;

	o->store = CONFIG_DEFAULT_STORE;
	o->output = QUERY_DEFAULT_OUT;
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":s:l:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o->store = optarg;
			break;
		case 'S':
			if (parse_time_arg("--since", optarg, now, &o->since))
				return 2;
			o->since_arg = optarg;
			break;
		case 'U':
			if (parse_time_arg("--until", optarg, now, &o->until))
				return 2;
			o->until_arg = optarg;
			break;
		case 'l':
			if (add_label(o, optarg))
				return 2;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			fputs(query_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; see 'smolder query --help'",
				argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s'; see 'smolder query --help'",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'; see 'smolder query --help'", argv[optind]);
		return 2;
	}
	if (o->since >= o->until) {
		log_err("--since %s is not before --until %s; swap them", o->since_arg ?: "",
			o->until_arg ?: "now");
		return 2;
	}
	return -1;
}

/* The label's value as text: str, or num in decimal. False when s lacks key. */
static bool label_value(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			const char *key, char *buf, size_t len, const char **ret)
{
	size_t i;

	for (i = 0; i < s->n_label; i++) {
		const Perftools__Profiles__Label *l = s->label[i];

		if (strcmp(pprof__str(p, l->key), key))
			continue;
		if (l->str) {
			*ret = pprof__str(p, l->str);
		} else {
			snprintf(buf, len, "%" PRId64, l->num);
			*ret = buf;
		}
		return true;
	}
	return false;
}

static bool keep_sample(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, void *ctx)
{
	struct query_filter *f = ctx;
	const char *value;
	char num[32];
	size_t i;

	for (i = 0; i < f->o->nr_labels; i++) {
		if (!label_value(p, s, f->o->labels[i].key, num, sizeof(num), &value) ||
		    strcmp(value, f->o->labels[i].value))
			return false;
	}
	if (s->n_value && s->value[0] > 0)
		f->samples += (uint64_t)s->value[0];
	return true;
}

/* True when the window of p overlaps [since, until); unknown times match. */
static bool window_overlaps(const pprof_profile_t *p, int64_t since, int64_t until)
{
	int64_t end;

	if (!p->time_nanos)
		return true;
	if (__builtin_add_overflow(p->time_nanos, p->duration_nanos > 0 ? p->duration_nanos : 0,
				   &end))
		end = INT64_MAX;
	/* A zero-length window is the instant at its start (end + 1 may not exist). */
	if (end == p->time_nanos)
		return p->time_nanos < until && p->time_nanos >= since;
	return p->time_nanos < until && end > since;
}

static void print_range(const struct query_opts *o, char *buf, size_t len)
{
	char since[40], until[40];

	format_time(o->since, since, sizeof(since));
	format_time(o->until, until, sizeof(until));
	if (o->since != INT64_MIN && o->until != INT64_MAX)
		snprintf(buf, len, " from %s to %s", since, until);
	else if (o->since != INT64_MIN)
		snprintf(buf, len, " since %s", since);
	else if (o->until != INT64_MAX)
		snprintf(buf, len, " before %s", until);
	else
		buf[0] = '\0';
}

int cmd_query(int argc, char **argv)
{
	struct query_opts o = {};
	struct query_filter f = {.o = &o};
	struct pprof_builder *b = NULL;
	struct safefile_out *out = NULL;
	pprof_profile_t *p;
	char **paths = NULL;
	size_t nr_paths = 0, i, windows = 0, unreadable = 0;
	char range[128], msg[1024];
	uint64_t refused = 0;
	int ret = 1, err;

	err = parse_args(argc, argv, &o);
	if (err >= 0)
		return err;
	print_range(&o, range, sizeof(range));

	err = store__list(o.store, o.since, o.until, &paths, &nr_paths, &refused);
	if (err == -ENOENT) {
		log_err("store directory '%s' does not exist; give the agent's store with --store",
			o.store);
		goto out;
	}
	if (err == -E2BIG) {
		log_err("too many windows in '%s'%s; narrow the range with --since and --until",
			o.store, range);
		goto out;
	}
	if (err == -ELOOP || err == -ENOTDIR || err == -EPERM || err == -EACCES) {
		store__format_error(o.store, -err, msg, sizeof(msg));
		log_err("%s", msg);
		goto out;
	}
	if (err) {
		log_err("cannot list the store '%s': %s", o.store, strerror(-err));
		goto out;
	}
	if (refused)
		log_warn("%" PRIu64 " entries in '%s' are symlinks, special files or other users' "
			 "folders and files, not windows, ignoring",
			 refused, o.store);
	if (nr_paths > QUERY_MAX_WINDOWS) {
		log_err("%zu windows in '%s'%s, more than %d; narrow the range with --since and --until",
			nr_paths, o.store, range, QUERY_MAX_WINDOWS);
		goto out;
	}
	/* Before reading the windows: a refused -o costs nothing. */
	out = vizcli__create(o.output, 0600);
	if (!out)
		goto out;
	b = pprof_builder__new();
	if (!b) {
		log_err("out of memory");
		goto out;
	}
	for (i = 0; i < nr_paths; i++) {
		err = pprof__read_file(paths[i], &p);
		if (err) {
			/* Retention may delete a window between the listing and here. */
			if (err == -EISDIR || err == -EBADFD)
				log_warn("'%s' is not a regular file, ignoring", paths[i]);
			else if (err != -ENOENT)
				log_warn("failed to read '%s': %s, ignoring", paths[i],
					 strerror(-err));
			unreadable++;
			continue;
		}
		if (!window_overlaps(p, o.since, o.until)) {
			pprof__profile_free(p);
			continue;
		}
		err = pprof_builder__merge_filtered(b, p, o.nr_labels ? keep_sample : NULL, &f);
		if (!o.nr_labels) {
			size_t j;

			for (j = 0; !err && j < p->n_sample; j++) {
				if (p->sample[j]->n_value && p->sample[j]->value[0] > 0)
					f.samples += (uint64_t)p->sample[j]->value[0];
			}
		}
		pprof__profile_free(p);
		if (err == -EINVAL) {
			log_warn("'%s' has other sample types than the windows before it, ignoring",
				 paths[i]);
			continue;
		}
		if (err) {
			log_err("failed to merge '%s': %s", paths[i], strerror(-err));
			goto out;
		}
		windows++;
	}
	if (!windows) {
		log_err("no window in '%s'%s%s; widen --since/--until, or check the agent with 'smolder status'",
			o.store, range, unreadable ? " could be read" : "");
		goto out;
	}
	if (o.nr_labels && !f.samples) {
		log_err("no sample of the %zu windows%s has every --label asked for; check the keys and values",
			windows, range);
		goto out;
	}
	err = pprof_builder__write_fd(b, safefile__fd(out));
	if (err) {
		log_err("failed to write '%s': %s; choose another place with -o", o.output,
			strerror(-err));
		goto out;
	}
	err = vizcli__commit(out, o.output);
	out = NULL;
	if (err)
		goto out;
	log_info("wrote %s: %zu windows, %" PRIu64 " samples", o.output, windows, f.samples);
	ret = 0;
out:
	safefile__discard(out);
	pprof_builder__free(b);
	store__free_list(paths, nr_paths);
	return ret;
}
