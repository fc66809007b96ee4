// SPDX-License-Identifier: MIT
/*
 * smolder flamegraph: an interactive flame graph of merged profiles as one
 * self-contained HTML file (viewer.c, viewer.html), or Brendan Gregg's folded
 * stacks with --folded. Works on any valid pprof, Go's included.
 *
 * The HTML carries two trees, one root per process ("comm" label) and the
 * whole machine, pruned at VIEWER_DEFAULT_PRUNE of the total so that an hour
 * of a busy machine stays a few MB and draws fast.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "stacks.h"
#include "viewer.h"
#include "vizcli.h"

#define FLAMEGRAPH_DEFAULT_OUTPUT "flamegraph.html"

struct flamegraph_opts {
	const char *output;
	bool folded;
	char **files;
	int nr_files;
};

static const char flamegraph_usage[] =
	"Usage: smolder flamegraph PROFILE... [-o FILE.html] [--folded]\n"
	"\n"
	"Merges the profiles into one interactive flame graph: a single HTML file\n"
	"with no external resources. Click a frame to zoom, Esc to reset, search by\n"
	"regular expression (the matched share is shown), hover for details; switch\n"
	"between one root per process and the whole machine, flame or icicle view.\n"
	"Colors: user, kernel, inlined, JIT and unknown frames. Subtrees under\n"
	"1/5000 of the total are folded into their parent.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   where to write, '-' for standard output (default\n"
	"                      flamegraph.html; with --folded, standard output); mode\n"
	"                      0640; a FIFO, device or another user's symlink is refused\n"
	"      --folded        write folded stacks instead ('root;...;leaf COUNT' per\n"
	"                      line, samples counts) for flamegraph.pl, inferno or\n"
	"                      speedscope; processes are the first frame when the\n"
	"                      samples carry a comm label\n"
	"  -h, --help          this text\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder flamegraph prof.pb.gz                    # writes flamegraph.html\n"
	"  smolder flamegraph -o day.html mon.pb.gz tue.pb.gz\n"
	"  smolder flamegraph --folded prof.pb.gz | flamegraph.pl > prof.svg\n";

static int flamegraph__parse_args(int argc, char **argv, struct flamegraph_opts *o)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"folded", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->folded = true;
			break;
		case 'h':
			fputs(flamegraph_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; see 'smolder flamegraph --help'",
				argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s'; see 'smolder flamegraph --help'",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		log_err("no profile given; usage: smolder flamegraph PROFILE... (see --help)");
		return 2;
	}
	o->files = argv + optind;
	o->nr_files = argc - optind;
	return -1;
}

/* True when some sample of p has a "comm" label. */
static bool has_comm_labels(const pprof_profile_t *p)
{
	size_t i, k;

	for (i = 0; i < p->n_sample; i++)
		for (k = 0; k < p->sample[i]->n_label; k++)
			if (!strcmp(pprof__str(p, p->sample[i]->label[k]->key), "comm"))
				return true;
	return false;
}

int cmd_flamegraph(int argc, char **argv)
{
	struct flamegraph_opts o = {};
	struct viewer_opts vo = {.prune = VIEWER_DEFAULT_PRUNE};
	const char *output;
	pprof_profile_t *p = NULL;
	struct stacks *s = NULL;
	char title[256];
	struct safefile_out *out = NULL;
	FILE *f;
	bool by_comm;
	int ret, err;

	ret = flamegraph__parse_args(argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = 1;
	if (vizcli__load(o.files, o.nr_files, &p))
		goto out;
	by_comm = has_comm_labels(p);
	if (o.folded)
		s = stacks__new(by_comm ? STACKS_WANT_BY_COMM : STACKS_WANT_MACHINE);
	else
		s = stacks__new(STACKS_WANT_MACHINE | (by_comm ? STACKS_WANT_BY_COMM : 0));
	if (!s) {
		log_err("failed to build the flame graph: %s", strerror(errno));
		goto out;
	}
	err = stacks__add_profile(s, p, STACKS_NEW);
	if (err) {
		log_err("failed to read the samples of the profile: %s", strerror(-err));
		goto out;
	}
	pprof__profile_free(p);
	p = NULL;
	err = stacks__build(s, o.folded ? 0 : VIEWER_DEFAULT_PRUNE);
	if (err) {
		log_err("failed to build the call tree: %s", strerror(-err));
		goto out;
	}

	output = o.output ? o.output : o.folded ? "-" : FLAMEGRAPH_DEFAULT_OUTPUT;
	out = vizcli__create(output, 0640);
	if (!out)
		goto out;
	f = safefile__stream(out);
	if (!f)
		err = -errno;
	else if (o.folded)
		err = stacks__write_folded(s, by_comm ? STACKS_TREE_BY_COMM : STACKS_TREE_MACHINE,
					   STACKS_NEW, f);
	else {
		snprintf(title, sizeof(title), "smolder flame graph: %s%s", o.files[0],
			 o.nr_files > 1 ? " and more" : "");
		vo.title = title;
		err = viewer__write(s, &vo, f);
	}
	if (err) {
		log_err("failed to write '%s': %s", output, strerror(-err));
		safefile__discard(out);
		goto out;
	}
	if (vizcli__commit(out, output))
		goto out;
	ret = 0;
out:
	stacks__free(s);
	pprof__profile_free(p);
	return ret;
}
