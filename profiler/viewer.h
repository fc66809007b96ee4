/* SPDX-License-Identifier: MIT */
/*
 * viewer: writes the self-contained HTML flame graph (viewer.html, embedded
 * at build time, with the trees of a struct stacks as data).
 */
#ifndef SMOLDER_VIEWER_H
#define SMOLDER_VIEWER_H

#include <stdbool.h>
#include <stdio.h>

#include "stacks.h"

#define VIEWER_DEFAULT_PRUNE \
	(1.0 / 5000) /* of the total: narrower subtrees fold into their parent */

struct viewer_opts {
	const char *title; /* shown in the page; HTML-escaped */
	bool diff; /* BASE slot filled: differential flame graph */
	bool normalize; /* diff: scale BASE to the NEW total */
	double prune; /* what stacks__build() was given, for the legend */
};

/*
 * Writes the page for the trees of s that exist to out. Returns 0, -EIO on
 * a write error or -ENOMEM.
 */
int viewer__write(const struct stacks *s, const struct viewer_opts *o, FILE *out);

#endif /* SMOLDER_VIEWER_H */
