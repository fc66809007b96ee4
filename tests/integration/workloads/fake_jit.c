// SPDX-License-Identifier: MIT
/*
 * A fake JIT: copies a hand-assembled x86-64 spin loop into an anonymous
 * mapping (written RW, then made RX), names it in /tmp/perf-PID.map (PID as
 * this process sees itself, so its namespace pid inside a PID namespace) and
 * spends its time in it. The loop touches no stack and no rbp, so
 * frame-pointer unwinding still walks the caller's frames.
 * Usage:
 *   fake_jit SECONDS           names it jit_hot_loop, next to a decoy entry;
 *   fake_jit SECONDS SECONDS2  names it jit_first, spins SECONDS, then appends
 *                              a line naming the same code jit_second (as a
 *                              JIT reusing an address does), prints
 *                              "renamed REALTIME_NS" on stdout, spins SECONDS2;
 *   fake_jit SECONDS nomap     writes no map; prints "code ADDR LEN" (hex) on
 *                              stdout, for a test to write the map itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* loop: dec %rdi; jnz loop; ret */
static const unsigned char loop_code[] = {0x48, 0xff, 0xcf, 0x75, 0xfb, 0xc3};

typedef void (*jit_fn)(unsigned long iterations);

static int append_line(const char *path, const char *mode, unsigned char *code, const char *name)
{
	FILE *f = fopen(path, mode);

	if (!f)
		return -1;
	fprintf(f, "%lx %zx %s\n", (unsigned long)code, sizeof(loop_code), name);
	return fclose(f) ? -1 : 0;
}

static void spin(jit_fn fn, double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		fn(50000000UL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *code;
	struct timespec now;
	char path[64];
	jit_fn fn;
	FILE *f;

	code = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 1;
	memcpy(code + 64, loop_code, sizeof(loop_code));
	if (mprotect(code, (size_t)page, PROT_READ | PROT_EXEC))
		return 1;
	fn = (jit_fn)(void *)(code + 64);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	if (argc > 2 && !strcmp(argv[2], "nomap")) {
		printf("code %lx %zx\n", (unsigned long)(code + 64), sizeof(loop_code));
		fflush(stdout);
		spin(fn, seconds);
		return 0;
	}
	if (argc > 2) {
		if (append_line(path, "w", code + 64, "jit_first"))
			return 1;
		spin(fn, seconds);
		if (append_line(path, "a", code + 64, "jit_second"))
			return 1;
		clock_gettime(CLOCK_REALTIME, &now);
		printf("renamed %lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
		fflush(stdout);
		spin(fn, atof(argv[2]));
		return 0;
	}
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx 40 jit_decoy_stub\n", (unsigned long)code);
	if (fclose(f) || append_line(path, "a", code + 64, "jit_hot_loop"))
		return 1;
	spin(fn, seconds);
	return 0;
}
