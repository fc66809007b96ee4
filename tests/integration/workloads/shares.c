// SPDX-License-Identifier: MIT
/*
 * Workload with a known profile: burn_a, burn_b and burn_c spend CPU in the
 * ratio 6:3:1 in their own loops (spin() is inlined into each, so each is a
 * leaf), each called from run_round() called from main(). Built with frame
 * pointers and without inlining across those functions, so the call chain is
 * exact.
 * Usage: shares SECONDS
 */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static inline __attribute__((always_inline)) void spin(unsigned long units)
{
	unsigned long i, x = sink;

	for (i = 0; i < units * 100000UL; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

__attribute__((noinline)) void burn_a(void)
{
	spin(6);
}

__attribute__((noinline)) void burn_b(void)
{
	spin(3);
}

__attribute__((noinline)) void burn_c(void)
{
	spin(1);
}

__attribute__((noinline)) void run_round(void)
{
	burn_a();
	burn_b();
	burn_c();
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		run_round();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return 0;
}
