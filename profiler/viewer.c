// SPDX-License-Identifier: MIT
/*
 * viewer: the flame graph page. viewer.html (embedded at build time by
 * embed.cmake as viewer_html[]) holds the whole viewer and one marker,
 * @@SMOLDER_DATA@@, inside a <script type="application/json"> block; this
 * file writes the page with the marker replaced by the data:
 *
 *   {"title", "unit", "diff", "normalized", "scale", "prune", "pruned",
 *    "total": {"val", "cnt"}, "btotal": {...},
 *    "trees": {"comm": [...], "machine": [...]},
 *    "names": [...], "files": [...], "lines": [...], "kinds": [...]}
 *
 * A tree is a flat preorder list of node records [frame, children, value,
 * samples] (plus BASE value and samples for a diff); frame -1 is the root and
 * other frames index names/files/lines/kinds, which list only the frames the
 * trees use. Children come sorted by name.
 *
 * The trees come pruned by stacks__build() (o->prune says how much), which
 * keeps the page small and the drawing fast: subtrees under that share of
 * the total in both slots are left in their parent's self, and frames gone
 * in NEW but above it in BASE still appear.
 *
 * Strings are escaped for JSON and for HTML script data ('<', '>', '&' as
 * \u escapes, so no "</script>" can appear).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "viewer.h"

extern const unsigned char viewer_html[];
extern const unsigned long viewer_html_len;

#define DATA_MARKER "@@SMOLDER_DATA@@"

struct emit_ctx {
	const struct stacks *s;
	const struct stacks_tree *t;
	const struct viewer_opts *o;
	FILE *out;
	uint32_t *frame_out; /* stacks frame -> output index, STACKS_NONE if unused */
	uint32_t *frames; /* output index -> stacks frame */
	size_t nr_frames;
	double scale;
	uint64_t nodes;
};

static void json_str(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			putc(c, out);
	}
	putc('"', out);
}

static int emit__enter(void *arg, uint32_t node, size_t depth)
{
	struct emit_ctx *c = arg;
	const struct stacks_node *n = &c->t->nodes[node];
	uint32_t kid, kept = 0;
	int64_t frame = -1;

	for (kid = n->first_child; kid != STACKS_NONE; kid = c->t->nodes[kid].next_sibling)
		kept++;
	if (n->frame != STACKS_NONE) {
		if (c->frame_out[n->frame] == STACKS_NONE) {
			c->frame_out[n->frame] = (uint32_t)c->nr_frames;
			c->frames[c->nr_frames++] = n->frame;
		}
		frame = c->frame_out[n->frame];
	}
	fprintf(c->out, "%s%" PRId64 ",%" PRIu32 ",%" PRId64 ",%" PRId64, c->nodes ? "," : "",
		frame, kept, n->val[STACKS_NEW], n->cnt[STACKS_NEW]);
	if (c->o->diff)
		fprintf(c->out, ",%" PRId64 ",%" PRId64, n->val[STACKS_BASE], n->cnt[STACKS_BASE]);
	c->nodes++;
	return ferror(c->out) ? -EIO : 0;
}

static int viewer__emit_tree(struct emit_ctx *c, enum stacks_tree_id id, const char *name)
{
	struct stacks_walk_ops ops = {.enter = emit__enter};
	int err;

	c->t = stacks__tree(c->s, id);
	if (!c->t)
		return 0;
	fprintf(c->out, "%s\"%s\":[", id == STACKS_TREE_MACHINE ? "" : ",", name);
	c->nodes = 0;
	err = stacks__walk(c->s, id, 0, &ops, c);
	fputs("]", c->out);
	return err;
}

static int viewer__emit_data(struct emit_ctx *c)
{
	const struct stacks_totals *nt = stacks__totals(c->s, STACKS_NEW);
	const struct stacks_totals *bt = stacks__totals(c->s, STACKS_BASE);
	FILE *out = c->out;
	size_t i;
	int err;

	fputs("{\"title\":", out);
	json_str(out, c->o->title ? c->o->title : "smolder flame graph");
	fputs(",\"unit\":", out);
	json_str(out, nt->unit);
	fprintf(out, ",\"diff\":%s,\"normalized\":%s,\"scale\":%.17g,\"prune\":%.17g",
		c->o->diff ? "true" : "false", c->o->diff && c->o->normalize ? "true" : "false",
		c->scale, c->o->prune);
	fprintf(out, ",\"total\":{\"val\":%" PRId64 ",\"cnt\":%" PRId64 "}", nt->val, nt->cnt);
	fprintf(out, ",\"btotal\":{\"val\":%" PRId64 ",\"cnt\":%" PRId64 "}", bt->val, bt->cnt);
	fputs(",\"trees\":{", out);
	err = viewer__emit_tree(c, STACKS_TREE_MACHINE, "machine");
	if (!err)
		err = viewer__emit_tree(c, STACKS_TREE_BY_COMM, "comm");
	if (err)
		return err;
	fprintf(out, "},\"pruned\":%" PRIu64 ",\"names\":[", stacks__pruned(c->s));
	for (i = 0; i < c->nr_frames; i++) {
		if (i)
			putc(',', out);
		json_str(out, stacks__frame(c->s, c->frames[i])->name);
	}
	fputs("],\"files\":[", out);
	for (i = 0; i < c->nr_frames; i++) {
		if (i)
			putc(',', out);
		json_str(out, stacks__frame(c->s, c->frames[i])->file);
	}
	fputs("],\"lines\":[", out);
	for (i = 0; i < c->nr_frames; i++) {
		const struct stacks_frame *fr = stacks__frame(c->s, c->frames[i]);

		fprintf(out, "%s%" PRId64, i ? "," : "",
			fr->func == STACKS_NONE ? 0 : stacks__func(c->s, fr->func)->line);
	}
	fputs("],\"kinds\":[", out);
	for (i = 0; i < c->nr_frames; i++)
		fprintf(out, "%s%d", i ? "," : "", (int)stacks__frame(c->s, c->frames[i])->kind);
	fputs("]}", out);
	return ferror(out) ? -EIO : 0;
}

int viewer__write(const struct stacks *s, const struct viewer_opts *o, FILE *out)
{
	const char *page = (const char *)viewer_html;
	const char *marker = strstr(page, DATA_MARKER);
	const struct stacks_totals *nt = stacks__totals(s, STACKS_NEW);
	const struct stacks_totals *bt = stacks__totals(s, STACKS_BASE);
	struct emit_ctx c = {.s = s, .o = o, .out = out, .scale = 1};
	int err;

	if (!marker)
		return -EINVAL;
	c.frame_out = malloc((stacks__nr_frames(s) + 1) * sizeof(*c.frame_out));
	c.frames = malloc((stacks__nr_frames(s) + 1) * sizeof(*c.frames));
	if (!c.frame_out || !c.frames) {
		err = -ENOMEM;
		goto out;
	}
	memset(c.frame_out, 0xff, (stacks__nr_frames(s) + 1) * sizeof(*c.frame_out));
	if (o->diff && o->normalize && bt->val > 0)
		c.scale = (double)nt->val / (double)bt->val;

	fwrite(page, 1, (size_t)(marker - page), out);
	err = viewer__emit_data(&c);
	if (err)
		goto out;
	fputs(marker + strlen(DATA_MARKER), out);
	err = ferror(out) ? -EIO : 0;
out:
	free(c.frame_out);
	free(c.frames);
	return err;
}
