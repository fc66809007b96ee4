// SPDX-License-Identifier: MIT
/*
 * Workload for the namespace tests: nearly all CPU time in ns_spin_hot(),
 * a leaf called from main(). The tests run it from places the host cannot
 * see by path: a private mount, a deleted file, a memfd.
 * Usage: ns_spin SECONDS
 */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

__attribute__((noinline)) void ns_spin_hot(void)
{
	unsigned long i, x = sink;

	for (i = 0; i < 20000000UL; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ns_spin_hot();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return 0;
}
