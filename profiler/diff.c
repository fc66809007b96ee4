// SPDX-License-Identifier: MIT
/*
 * smolder diff: what changed between two profiles, and whether sampling
 * noise explains it.
 *
 * Both profiles go into one struct stacks (BASE and NEW slots) so frames
 * match by value. The page is a differential flame graph (viewer.c): widths
 * from NEW, colors from the change in self time, frames only in BASE drawn
 * as ghosts at their BASE width.
 *
 * The terminal table ranks functions by the change of their self share.
 * Normalized (default), a function's share is its self samples over the
 * profile's samples, and the change is tested with a two-proportion z-test
 * (pooled proportion; |z| > 1.96 is significant at 95%). With
 * --no-normalize, raw self counts are compared, as points of the BASE total,
 * and tested as two Poisson counts over equal time: conditional on their
 * sum, NEW is binomial(x1 + x2, 1/2), so z = (x2 - x1) / sqrt(x1 + x2).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "stacks.h"
#include "viewer.h"
#include "vizcli.h"
#include "textesc.h"

#define DIFF_DEFAULT_OUTPUT "diff.html"
#define DIFF_DEFAULT_ROWS   20
#define DIFF_MAX_ROWS	    1000000

struct diff_opts {
	const char *output;
	bool normalize;
	bool fail_above_set;
	double fail_above;
	long rows;
	const char *base;
	const char *new;
};

struct diff_row {
	uint32_t func;
	const char *name;
	int64_t base_cnt, new_cnt;
	int64_t base_val, new_val;
	double base_share, new_share; /* percent */
	double change; /* points */
	double z;
	bool significant;
};

static const char diff_usage[] =
	"Usage: smolder diff BASE NEW [-o FILE.html] [--no-normalize] [--fail-above PCT] [-n N]\n"
	"\n"
	"Compares two profiles: prints the functions whose share of self time\n"
	"changed most, says whether each change is larger than sampling noise, and\n"
	"writes a differential flame graph (widths from NEW; red: more self time in\n"
	"NEW, blue: less; hatched frames exist only in BASE).\n"
	"\n"
	"A change is significant when a two-proportion z-test on the self sample\n"
	"counts gives |z| > 1.96 (95%); otherwise it is marked '~ noise'.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE     flame graph to write (default diff.html), mode 0640;\n"
	"                        '-' writes it to standard output instead of the table\n"
	"      --no-normalize    compare raw counts instead of shares of each total\n"
	"                        (for profiles of equal length and rate)\n"
	"      --fail-above PCT  exit 1 when a function's self share grew significantly\n"
	"                        by more than PCT points (0-100), for CI\n"
	"  -n, --top N           rows to print, 1-1000000 (default 20)\n"
	"  -h, --help            this text\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder diff before.pb.gz after.pb.gz                # table and diff.html\n"
	"  smolder diff -n 10 -o change.html v1.pb.gz v2.pb.gz\n"
	"  smolder diff --fail-above 2 main.pb.gz pr.pb.gz     # CI: fail on +2 points\n";

static int diff__parse_args(int argc, char **argv, struct diff_opts *o)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"no-normalize", no_argument, NULL, 'N'},
		{"fail-above", required_argument, NULL, 'f'},
		{"top", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int opt;

	o->normalize = true;
	o->rows = DIFF_DEFAULT_ROWS;
	o->output = DIFF_DEFAULT_OUTPUT;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o->output = optarg;
			break;
		case 'N':
			o->normalize = false;
			break;
		case 'f':
			if (vizcli__parse_double(optarg, 0, 100, "percentage for --fail-above",
						 &o->fail_above))
				return 2;
			o->fail_above_set = true;
			break;
		case 'n':
			if (vizcli__parse_long(optarg, 1, DIFF_MAX_ROWS, "row count for -n",
					       &o->rows))
				return 2;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; see 'smolder diff --help'",
				argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s'; see 'smolder diff --help'", argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		log_err("expected two profiles, got %d; usage: smolder diff BASE NEW (see --help)",
			argc - optind);
		return 2;
	}
	o->base = argv[optind];
	o->new = argv[optind + 1];
	return -1;
}

static int diff_row__cmp(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;

	if (fabs(x->change) != fabs(y->change))
		return fabs(x->change) > fabs(y->change) ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Fills *ret with one row per function, sorted by the size of the change. */
static int diff__rows(const struct stacks *s, bool normalize, struct diff_row **ret, size_t *ret_nr)
{
	const struct stacks_totals *bt = stacks__totals(s, STACKS_BASE);
	const struct stacks_totals *nt = stacks__totals(s, STACKS_NEW);
	struct stacks_func_stat *st = NULL;
	struct diff_row *rows = NULL;
	size_t nr = 0, i;
	int err;

	err = stacks__func_stats(s, STACKS_NONE, &st, &nr);
	if (err)
		goto out;
	rows = calloc(nr + 1, sizeof(*rows));
	if (!rows) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr; i++) {
		struct diff_row *r = &rows[i];
		double x1 = (double)st[i].flat_cnt[STACKS_BASE],
		       x2 = (double)st[i].flat_cnt[STACKS_NEW];

		r->func = st[i].func;
		r->name = stacks__func(s, st[i].func)->name;
		r->base_cnt = st[i].flat_cnt[STACKS_BASE];
		r->new_cnt = st[i].flat_cnt[STACKS_NEW];
		r->base_val = st[i].flat_val[STACKS_BASE];
		r->new_val = st[i].flat_val[STACKS_NEW];
		r->base_share = bt->cnt ? 100 * x1 / (double)bt->cnt : 0;
		if (normalize) {
			r->new_share = nt->cnt ? 100 * x2 / (double)nt->cnt : 0;
			r->z = stacks__ztest(r->base_cnt, bt->cnt, r->new_cnt, nt->cnt);
		} else {
			r->new_share = bt->cnt ? 100 * x2 / (double)bt->cnt : 0;
			r->z = x1 + x2 > 0 ? (x2 - x1) / sqrt(x1 + x2) : 0;
		}
		r->change = r->new_share - r->base_share;
		r->significant = fabs(r->z) > STACKS_Z_95;
	}
	qsort(rows, nr, sizeof(*rows), diff_row__cmp);
	*ret = rows;
	*ret_nr = nr;
	rows = NULL;
out:
	free(st);
	free(rows);
	return err;
}

static const char *signed_value(char *buf, size_t size, int64_t v, const char *unit)
{
	buf[0] = v > 0 ? '+' : '\0';
	stacks__format_value(buf + (v > 0), size - 1, v, unit);
	return buf;
}

static void diff__print(const struct stacks *s, const struct diff_opts *o,
			const struct diff_row *rows, size_t nr)
{
	const struct stacks_totals *bt = stacks__totals(s, STACKS_BASE);
	const struct stacks_totals *nt = stacks__totals(s, STACKS_NEW);
	char a[32], b[32], c[32];
	size_t i;

	fputs("BASE: ", stdout);
	textesc__fputs(stdout, o->base);
	printf(", %" PRId64 " samples (%s)\n", bt->cnt,
	       stacks__format_value(a, sizeof(a), bt->val, bt->unit));
	fputs("NEW:  ", stdout);
	textesc__fputs(stdout, o->new);
	printf(", %" PRId64 " samples (%s)\n", nt->cnt,
	       stacks__format_value(b, sizeof(b), nt->val, nt->unit));
	if (o->normalize)
		printf("Self share of each total; change in points; significant: |z| > 1.96 "
		       "(two-proportion z-test)\n");
	else
		printf("Raw self time; change in points of the BASE total; significant: |z| > "
		       "1.96 (Poisson counts)\n");
	printf("Showing top %zu of %zu functions, sorted by the size of the change\n",
	       nr < (size_t)o->rows ? nr : (size_t)o->rows, nr);
	if (o->normalize)
		printf("%8s %8s %9s %7s  %-12s  %s\n", "BASE", "NEW", "change", "z", "verdict",
		       "function");
	else
		printf("%10s %10s %10s %9s %7s  %-12s  %s\n", "BASE", "NEW", "change", "points",
		       "z", "verdict", "function");
	for (i = 0; i < nr && i < (size_t)o->rows; i++) {
		const struct diff_row *r = &rows[i];
		const char *verdict = r->significant ? (r->z > 0 ? "more" : "less") : "~ noise";

		if (o->normalize)
			printf("%7.2f%% %7.2f%% %+7.2fpt %+7.2f  %-12s  ", r->base_share,
			       r->new_share, r->change, r->z, verdict);
		else
			printf("%10s %10s %10s %+7.2fpt %+7.2f  %-12s  ",
			       stacks__format_value(a, sizeof(a), r->base_val, bt->unit),
			       stacks__format_value(b, sizeof(b), r->new_val, bt->unit),
			       signed_value(c, sizeof(c), r->new_val - r->base_val, bt->unit),
			       r->change, r->z, verdict);
		textesc__fputs(stdout, r->name);
		putchar('\n');
	}
}

/* Prints every significant increase above the limit; true if there is one. */
static bool diff__over_limit(const struct diff_opts *o, const struct diff_row *rows, size_t nr)
{
	bool over = false;
	size_t i;

	for (i = 0; i < nr; i++) {
		const struct diff_row *r = &rows[i];

		if (!r->significant || r->change <= o->fail_above)
			continue;
		log_err("%s: self %s grew by %.2f points (%.2f%% -> %.2f%%, z = %.2f), above "
			"--fail-above %g",
			r->name, o->normalize ? "share" : "time (of the BASE total)", r->change,
			r->base_share, r->new_share, r->z, o->fail_above);
		over = true;
	}
	return over;
}

static bool has_comm(const pprof_profile_t *p)
{
	size_t i, k;

	for (i = 0; i < p->n_sample; i++)
		for (k = 0; k < p->sample[i]->n_label; k++)
			if (!strcmp(pprof__str(p, p->sample[i]->label[k]->key), "comm"))
				return true;
	return false;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_opts o = {};
	struct viewer_opts vo = {.diff = true, .prune = VIEWER_DEFAULT_PRUNE};
	pprof_profile_t *base = NULL, *new = NULL;
	struct diff_row *rows = NULL;
	struct stacks *s = NULL;
	size_t nr_rows = 0;
	char title[512];
	struct safefile_out *out;
	bool to_stdout;
	FILE *f;
	int ret, err;

	ret = diff__parse_args(argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = 1;
	if (vizcli__load((char **)&o.base, 1, &base) || vizcli__load((char **)&o.new, 1, &new))
		goto out;
	s = stacks__new(STACKS_WANT_MACHINE |
			(has_comm(base) || has_comm(new) ? STACKS_WANT_BY_COMM : 0));
	if (!s) {
		log_err("failed to compare the profiles: %s", strerror(errno));
		goto out;
	}
	err = stacks__add_profile(s, base, STACKS_BASE);
	if (err) {
		log_err("failed to read the samples of '%s': %s", o.base, strerror(-err));
		goto out;
	}
	err = stacks__add_profile(s, new, STACKS_NEW);
	if (err == -EINVAL) {
		log_err("cannot compare '%s' with '%s': their sample types differ; give two "
			"profiles of one kind",
			o.new, o.base);
		goto out;
	} else if (err) {
		log_err("failed to read the samples of '%s': %s", o.new, strerror(-err));
		goto out;
	}
	pprof__profile_free(base);
	pprof__profile_free(new);
	base = new = NULL;
	if (!stacks__totals(s, STACKS_BASE)->cnt || !stacks__totals(s, STACKS_NEW)->cnt) {
		log_err("cannot compare: '%s' has no samples; record a longer profile",
			stacks__totals(s, STACKS_BASE)->cnt ? o.new : o.base);
		goto out;
	}
	err = diff__rows(s, o.normalize, &rows, &nr_rows);
	if (!err)
		err = stacks__build(s, VIEWER_DEFAULT_PRUNE);
	if (err) {
		log_err("failed to compare the profiles: %s", strerror(-err));
		goto out;
	}
	/* Created before the table is printed, so a refused -o is the only output. */
	out = vizcli__create(o.output, 0640);
	if (!out)
		goto out;
	to_stdout = !strcmp(o.output, "-");
	if (!to_stdout) {
		diff__print(s, &o, rows, nr_rows);
		if (vizcli__close_stdout()) {
			safefile__discard(out);
			goto out;
		}
	}
	snprintf(title, sizeof(title), "smolder diff: %s -> %s", o.base, o.new);
	vo.title = title;
	vo.normalize = o.normalize;
	f = safefile__stream(out);
	err = f ? viewer__write(s, &vo, f) : -errno;
	if (err) {
		log_err("failed to write '%s': %s", o.output, strerror(-err));
		safefile__discard(out);
		goto out;
	}
	if (vizcli__commit(out, o.output))
		goto out;
	if (!to_stdout) {
		fputs("Differential flame graph: ", stdout);
		textesc__fputs(stdout, o.output);
		putchar('\n');
		if (vizcli__close_stdout())
			goto out;
	}
	ret = o.fail_above_set && diff__over_limit(&o, rows, nr_rows) ? 1 : 0;
out:
	free(rows);
	stacks__free(s);
	pprof__profile_free(base);
	pprof__profile_free(new);
	return ret;
}
