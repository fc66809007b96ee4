// SPDX-License-Identifier: MIT
/*
 * Workload for test_names, LTO, first unit: names_lto_entry() calls
 * names_lto_helper() of names_lto_b.c, which link-time optimization inlines
 * across units; the CPU time is in names_lto_burn() (names_lto_b.c).
 * Usage: names_lto SECONDS
 */
#include <stdlib.h>
#include <time.h>

int names_lto_helper(int x);

__attribute__((noipa)) int names_lto_entry(int x)
{
	return names_lto_helper(x + 1) * 5; /* CALL_HELPER */
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	struct timespec t0, t;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		r += names_lto_entry(r & 7);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return r == 42;
}
