// SPDX-License-Identifier: MIT
/*
 * Workloads for user-space unwinding, built -O2 -fomit-frame-pointer (no
 * frame pointers anywhere in this binary). Usage: nofp MODE SECONDS, MODE:
 *   chain    main -> chain_1 -> chain_2 -> chain_3 (spins)
 *   thread   a second thread: thread_main -> thread_1 -> thread_2 (spins)
 *   qsort    qsort() calling compare_slow, libc in the middle of the stack
 *   signal   a SIGPROF handler, in_handler, interrupting signal_loop
 *   recurse  recurse() 1,000 deep, spinning at the bottom (fits in 16 KiB)
 *   deep     recurse_big() 1,000 deep with 100-byte frames (does not)
 *   syscall  syscall_loop reading /dev/zero: kernel frames, then user ones
 * Every function that must appear in a stack is noinline, and each call is
 * followed by an asm barrier so no call becomes a tail call.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static volatile unsigned long sink;
static double seconds;
static struct timespec t0;

static int expired(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds;
}

static inline __attribute__((always_inline)) void spin(unsigned long n)
{
	unsigned long i, x = sink;

	/* The barrier keeps compilers from folding steps together: the same work with gcc and clang. */
	for (i = 0; i < n; i++) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		__asm__ volatile("" : "+r"(x));
	}
	sink = x;
}

__attribute__((noinline)) void chain_3(void)
{
	spin(2000000);
	KEEP_FRAME();
}

__attribute__((noinline)) void chain_2(void)
{
	chain_3();
	KEEP_FRAME();
}

__attribute__((noinline)) void chain_1(void)
{
	chain_2();
	KEEP_FRAME();
}

__attribute__((noinline)) void thread_2(void)
{
	spin(2000000);
	KEEP_FRAME();
}

__attribute__((noinline)) void thread_1(void)
{
	thread_2();
	KEEP_FRAME();
}

__attribute__((noinline)) void *thread_main(void *arg)
{
	while (!expired())
		thread_1();
	KEEP_FRAME();
	return arg;
}

__attribute__((noinline)) int compare_slow(const void *a, const void *b)
{
	spin(2000);
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

__attribute__((noinline)) void sort_loop(void)
{
	int v[512];
	size_t i;

	for (i = 0; i < 512; i++)
		v[i] = (int)((i * 7919) % 512);
	qsort(v, 512, sizeof(v[0]), compare_slow);
	KEEP_FRAME();
}

__attribute__((noinline)) void in_handler(void)
{
	spin(12000000);
	KEEP_FRAME();
}

static void on_sigprof(int sig)
{
	in_handler();
	KEEP_FRAME();
}

__attribute__((noinline)) void signal_loop(void)
{
	spin(1000000);
	KEEP_FRAME();
}

__attribute__((noinline)) unsigned long recurse(int depth)
{
	unsigned long r;

	if (depth == 0) {
		spin(20000000);
		return sink;
	}
	r = recurse(depth - 1) + 1;
	KEEP_FRAME();
	return r;
}

__attribute__((noinline)) unsigned long recurse_big(int depth)
{
	volatile char pad[100];
	unsigned long r;

	pad[0] = (char)depth;
	/* The whole array escapes, so every frame really holds it. */
	__asm__ volatile("" : : "r"(pad) : "memory");
	if (depth == 0) {
		spin(20000000);
		return sink;
	}
	r = recurse_big(depth - 1) + (unsigned long)pad[0];
	KEEP_FRAME();
	return r;
}

__attribute__((noinline)) void syscall_loop(int fd)
{
	static char buf[1 << 20];

	if (read(fd, buf, sizeof(buf)) < 0)
		exit(1);
	KEEP_FRAME();
}

int main(int argc, char **argv)
{
	struct itimerval it = {{0, 20000}, {0, 20000}};
	const char *mode = argc > 1 ? argv[1] : "chain";
	pthread_t th;
	int fd;

	seconds = argc > 2 ? atof(argv[2]) : 5;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strcmp(mode, "chain")) {
		while (!expired())
			chain_1();
	} else if (!strcmp(mode, "thread")) {
		if (pthread_create(&th, NULL, thread_main, NULL))
			return 1;
		pthread_join(th, NULL);
	} else if (!strcmp(mode, "qsort")) {
		while (!expired())
			sort_loop();
	} else if (!strcmp(mode, "signal")) {
		signal(SIGPROF, on_sigprof);
		setitimer(ITIMER_PROF, &it, NULL);
		while (!expired())
			signal_loop();
	} else if (!strcmp(mode, "recurse")) {
		while (!expired())
			recurse(1000);
	} else if (!strcmp(mode, "deep")) {
		while (!expired())
			recurse_big(1000);
	} else if (!strcmp(mode, "syscall")) {
		fd = open("/dev/zero", O_RDONLY);
		if (fd < 0)
			return 1;
		while (!expired())
			syscall_loop(fd);
	} else {
		return 2;
	}
	KEEP_FRAME();
	return 0;
}
