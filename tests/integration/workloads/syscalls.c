// SPDX-License-Identifier: MIT
/*
 * Syscall-heavy workload: reads /dev/zero in 1 MiB chunks, so most of its
 * CPU time is in the kernel (read -> ... -> clear_user / iov_iter_zero).
 * Usage: syscalls SECONDS
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

__attribute__((noinline)) void read_zeroes(int fd)
{
	if (read(fd, buf, sizeof(buf)) < 0)
		exit(1);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	struct timespec t0, t;
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		read_zeroes(fd);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return 0;
}
