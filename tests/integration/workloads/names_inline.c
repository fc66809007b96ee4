// SPDX-License-Identifier: MIT
/*
 * Workload for test_names: nearly all CPU time in names_burn(), called from
 * a chain of always-inlined helpers (names_leaf <- names_middle) inside
 * names_outer(). The test finds each call's line and column by its marker
 * comment. Functions are global: the stripped build (-rdynamic) keeps them in
 * .dynsym. NAMES_VARIANT only makes each build's build-id its own.
 * Usage: names_inline SECONDS
 */
#include <stdlib.h>
#include <time.h>

#ifndef NAMES_VARIANT
#define NAMES_VARIANT 0
#endif

volatile unsigned long names_sink = NAMES_VARIANT;

__attribute__((noipa)) int names_burn(int x)
{
	unsigned long i, v = names_sink;

	for (i = 0; i < 2000000UL; i++)
		v = v * 6364136223846793005UL + 1442695040888963407UL;
	names_sink = v;
	return x + (int)(v & 1);
}

static inline __attribute__((always_inline)) int names_leaf(int x)
{
	return names_burn(x) * 3; /* CALL_BURN */
}

static inline __attribute__((always_inline)) int names_middle(int x)
{
	return names_leaf(x + 1) + 2; /* CALL_LEAF */
}

__attribute__((noipa)) int names_outer(int x)
{
	return names_middle(x * 2) - 1; /* CALL_MIDDLE */
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	struct timespec t0, t;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		r += names_outer(r & 7);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return r == 42;
}
