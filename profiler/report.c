// SPDX-License-Identifier: MIT
/*
 * smolder report: the hottest functions of one or more merged profiles, in
 * the manner of `go tool pprof -top`.
 *
 * Values are those of the default sample type (cpu nanoseconds for smolder
 * and Go profiles). flat is the function's own time, cum includes callees
 * and counts a function once per sample even when it recurses (stacks.h).
 * With --by comm, each process (sample label "comm") gets its own table
 * whose percentages are of that process.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "stacks.h"
#include "vizcli.h"
#include "textesc.h"

#define REPORT_DEFAULT_ROWS 20
#define REPORT_MAX_ROWS	    1000000

struct report_opts {
	long rows;
	bool by_comm;
	char **files;
	int nr_files;
};

static const char report_usage[] =
	"Usage: smolder report FILE... [-n N] [--by comm]\n"
	"\n"
	"Merges the profiles and prints the functions with the most samples, like\n"
	"'go tool pprof -top': flat is time in the function itself, cum includes\n"
	"what it calls, sum% adds up flat% down the table.\n"
	"\n"
	"Options:\n"
	"  -n, --top N       rows to print, 1-1000000 (default 20)\n"
	"      --by comm     one table per process (sample label 'comm'), hottest first,\n"
	"                    with percentages of that process; at most N processes\n"
	"  -h, --help        this text\n"
	"\n"
	"Code no symbol names: 'FILE+0xSTART' in smolder's profiles (the function's\n"
	"start in the file's ELF address space, as objdump -d shows it), else\n"
	"'ADDRESS [mapping]'.\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder report prof.pb.gz                  # top 20 functions\n"
	"  smolder report -n 50 a.pb.gz b.pb.gz       # two profiles merged, top 50\n"
	"  smolder report --by comm -n 5 prof.pb.gz   # top 5 functions of each process\n";

struct report_row {
	const struct stacks_func_stat *st;
	const char *name;
	const char *file;
};

static int report_row__cmp(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;
	int c;

	if (x->st->flat_val[STACKS_NEW] != y->st->flat_val[STACKS_NEW])
		return x->st->flat_val[STACKS_NEW] > y->st->flat_val[STACKS_NEW] ? -1 : 1;
	if (x->st->cum_val[STACKS_NEW] != y->st->cum_val[STACKS_NEW])
		return x->st->cum_val[STACKS_NEW] > y->st->cum_val[STACKS_NEW] ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->file, y->file);
}

static double pct(int64_t part, int64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Prints the table of the functions under node, whose total value is total. */
static int report__table(const struct stacks *s, uint32_t process_frame, int64_t total, long rows)
{
	const char *unit = stacks__totals(s, STACKS_NEW)->unit;
	struct stacks_func_stat *st = NULL;
	struct report_row *rows_sorted;
	size_t nr = 0, i;
	int64_t sum = 0;
	char flat[32], cum[32];
	int err;

	err = stacks__func_stats(s, process_frame, &st, &nr);
	if (err) {
		log_err("failed to aggregate functions: %s", strerror(-err));
		return err;
	}
	rows_sorted = calloc(nr + 1, sizeof(*rows_sorted));
	if (!rows_sorted) {
		log_err("failed to aggregate functions: %s", strerror(ENOMEM));
		free(st);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		rows_sorted[i].st = &st[i];
		rows_sorted[i].name = stacks__func(s, st[i].func)->name;
		rows_sorted[i].file = stacks__func(s, st[i].func)->file;
	}
	qsort(rows_sorted, nr, sizeof(*rows_sorted), report_row__cmp);
	printf("Showing top %zu of %zu functions, sorted by flat\n",
	       nr < (size_t)rows ? nr : (size_t)rows, nr);
	printf("%10s %7s %7s %10s %7s  %s\n", "flat", "flat%", "sum%", "cum", "cum%", "function");
	for (i = 0; i < nr && i < (size_t)rows; i++) {
		const struct stacks_func_stat *r = rows_sorted[i].st;
		const struct stacks_func *f = stacks__func(s, r->func);

		sum += r->flat_val[STACKS_NEW];
		printf("%10s %6.2f%% %6.2f%% %10s %6.2f%%  ",
		       stacks__format_value(flat, sizeof(flat), r->flat_val[STACKS_NEW], unit),
		       pct(r->flat_val[STACKS_NEW], total), pct(sum, total),
		       stacks__format_value(cum, sizeof(cum), r->cum_val[STACKS_NEW], unit),
		       pct(r->cum_val[STACKS_NEW], total));
		textesc__fputs(stdout, f->name);
		if (*f->file) {
			fputs("  ", stdout);
			textesc__fputs(stdout, f->file);
		}
		if (*f->file && f->line > 0)
			printf(":%" PRId64, f->line);
		putchar('\n');
	}
	free(rows_sorted);
	free(st);
	return 0;
}

struct comm_row {
	const struct stacks_process *p;
	const char *name;
};

static int comm_row__cmp(const void *a, const void *b)
{
	const struct comm_row *x = a, *y = b;

	if (x->p->val[STACKS_NEW] != y->p->val[STACKS_NEW])
		return x->p->val[STACKS_NEW] > y->p->val[STACKS_NEW] ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int report__by_comm(const struct stacks *s, long rows)
{
	const struct stacks_totals *tot = stacks__totals(s, STACKS_NEW);
	struct stacks_process *procs = NULL;
	struct comm_row *sorted = NULL;
	size_t nr = 0, i;
	int64_t rest_val = 0;
	char v[32];
	int err;

	err = stacks__processes(s, &procs, &nr);
	if (!err) {
		sorted = calloc(nr + 1, sizeof(*sorted));
		if (!sorted)
			err = -ENOMEM;
	}
	if (err) {
		log_err("failed to list processes: %s", strerror(-err));
		goto out;
	}
	for (i = 0; i < nr; i++) {
		sorted[i].p = &procs[i];
		sorted[i].name = stacks__frame(s, procs[i].frame)->name;
	}
	qsort(sorted, nr, sizeof(*sorted), comm_row__cmp);
	for (i = 0; i < nr; i++) {
		const struct stacks_process *p = sorted[i].p;

		if (i >= (size_t)rows) {
			rest_val += p->val[STACKS_NEW];
			continue;
		}
		fputs("\nProcess ", stdout);
		textesc__fputs(stdout, sorted[i].name);
		printf(": %s (%.2f%% of total), %" PRId64 " samples\n",
		       stacks__format_value(v, sizeof(v), p->val[STACKS_NEW], tot->unit),
		       pct(p->val[STACKS_NEW], tot->val), p->cnt[STACKS_NEW]);
		err = report__table(s, p->frame, p->val[STACKS_NEW], rows);
		if (err)
			goto out;
	}
	if (nr > (size_t)rows)
		printf("\n... and %zu more processes: %s (%.2f%% of total)\n", nr - (size_t)rows,
		       stacks__format_value(v, sizeof(v), rest_val, tot->unit),
		       pct(rest_val, tot->val));
out:
	free(sorted);
	free(procs);
	return err;
}

static int report__parse_args(int argc, char **argv, struct report_opts *o)
{
	static const struct option longopts[] = {
		{"top", required_argument, NULL, 'n'},
		{"by", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int opt;

	o->rows = REPORT_DEFAULT_ROWS;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (vizcli__parse_long(optarg, 1, REPORT_MAX_ROWS, "row count for -n",
					       &o->rows))
				return 2;
			break;
		case 'b':
			if (strcmp(optarg, "comm")) {
				log_err("cannot group by '%s': only --by comm is supported",
					optarg);
				return 2;
			}
			o->by_comm = true;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; see 'smolder report --help'",
				argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s'; see 'smolder report --help'",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		log_err("no profile given; usage: smolder report FILE... (see --help)");
		return 2;
	}
	o->files = argv + optind;
	o->nr_files = argc - optind;
	return -1;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = {};
	const struct stacks_totals *tot;
	pprof_profile_t *p = NULL;
	struct stacks *s = NULL;
	char total[32], dur[32];
	int i, ret, err;

	ret = report__parse_args(argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = 1;
	if (vizcli__load(o.files, o.nr_files, &p))
		goto out;
	s = stacks__new(0); /* no tree: the table comes from the samples */
	if (!s) {
		log_err("failed to build the report: %s", strerror(errno));
		goto out;
	}
	err = stacks__add_profile(s, p, STACKS_NEW);
	if (err) {
		log_err("failed to read the samples of the profile: %s", strerror(-err));
		goto out;
	}
	tot = stacks__totals(s, STACKS_NEW);
	printf("Files:    ");
	for (i = 0; i < o.nr_files; i++) {
		fputs(i ? ", " : "", stdout);
		textesc__fputs(stdout, o.files[i]);
	}
	fputs("\nType:     ", stdout);
	textesc__fputs(stdout, tot->type);
	fputs(" (", stdout);
	textesc__fputs(stdout, tot->unit);
	fputs(")\n", stdout);
	printf("Duration: %s, Total samples = %" PRId64 " (%s)\n",
	       stacks__format_value(dur, sizeof(dur), p->duration_nanos, "nanoseconds"), tot->cnt,
	       stacks__format_value(total, sizeof(total), tot->val, tot->unit));
	if (o.by_comm)
		err = report__by_comm(s, o.rows);
	else
		err = report__table(s, STACKS_NONE, tot->val, o.rows);
	if (err)
		goto out;
	if (fflush(stdout) || ferror(stdout)) {
		log_err("failed to write the report: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	stacks__free(s);
	pprof__profile_free(p);
	return ret;
}
