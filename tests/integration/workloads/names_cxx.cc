// SPDX-License-Identifier: MIT
/*
 * Workload for test_names, C++: the CPU time is in a method of a class
 * template in a namespace, smolder_ns::Spinner<long>::spin(), called from a
 * function template, smolder_ns::drive<long>().
 * Usage: names_cxx SECONDS
 */
#include <stdlib.h>
#include <time.h>

namespace smolder_ns
{
template <typename T> struct Spinner {
	volatile T state;
	__attribute__((noipa)) T spin(T x)
	{
		unsigned long v = (unsigned long)state;

		for (unsigned long i = 0; i < 2000000UL; i++)
			v = v * 6364136223846793005UL + 1442695040888963407UL;
		state = (T)v;
		return x + (T)(v & 1);
	}
};

template <typename T> __attribute__((noipa)) T drive(Spinner<T> &s, T x)
{
	return s.spin(x) * 3;
}
} // namespace smolder_ns

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	smolder_ns::Spinner<long> s{1};
	struct timespec t0, t;
	long r = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		r += smolder_ns::drive<long>(s, r & 7);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return r == 42;
}
