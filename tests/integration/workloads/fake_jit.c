// SPDX-License-Identifier: MIT
/*
 * A fake JIT: copies a hand-assembled x86-64 spin loop into an anonymous
 * mapping (written RW, then made RX), names it jit_hot_loop in
 * /tmp/perf-PID.map (PID as this process sees itself, so its namespace pid
 * inside a PID namespace) next to a decoy entry, and spends its time in it.
 * The loop touches no stack and no rbp, so frame-pointer unwinding still
 * walks the caller's frames.
 * Usage: fake_jit SECONDS
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

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	long page = sysconf(_SC_PAGESIZE);
	struct timespec t0, t;
	unsigned char *code;
	char path[64];
	jit_fn fn;
	FILE *f;

	code = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 1;
	memcpy(code + 64, loop_code, sizeof(loop_code));
	if (mprotect(code, (size_t)page, PROT_READ | PROT_EXEC))
		return 1;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx 40 jit_decoy_stub\n", (unsigned long)code);
	fprintf(f, "%lx %zx jit_hot_loop\n", (unsigned long)(code + 64), sizeof(loop_code));
	if (fclose(f))
		return 1;
	fn = (jit_fn)(void *)(code + 64);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		fn(50000000UL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return 0;
}
