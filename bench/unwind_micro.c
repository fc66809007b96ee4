// SPDX-License-Identifier: MIT
/*
 * unwind micro-benchmark: mean time to unwind one sample, and to build the
 * table of a large binary (libc). The samples are this program's own stacks
 * (built -O2 -fomit-frame-pointer), copied 16 KiB from rsp as the BPF
 * program will: a 7-frame main chain, a chain through libc's qsort, and a
 * deep recursion that fills the copy (truncated). The find callback is what
 * the profiler would do: binary search of the sorted mappings, then the
 * table cache keyed by device/inode/size/mtime.
 *
 * Usage: unwind_micro [iterations]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unwind.h"

#define BENCH_STACK_BYTES (16 * 1024)
#define BENCH_MAX_MAPS	  512
#define BENCH_MAX_FRAMES  1024

struct bench_sample {
	struct unwind_regs regs;
	uint64_t stack_end;
	size_t len;
	uint8_t stack[BENCH_STACK_BYTES] __attribute__((aligned(8)));
};

struct bench_map {
	uint64_t start, end, bias;
	uint64_t key[4]; /* dev, inode, size, mtime */
	bool usable;
	char path[256];
};

struct bench_proc {
	struct bench_map maps[BENCH_MAX_MAPS];
	size_t nr;
	struct unwind_cache *cache;
};

static volatile int bench_sink;
static struct bench_sample *bench_current;

static __attribute__((noinline)) void bench_copy(uint64_t rip, uint64_t rsp, uint64_t rbp)
{
	struct bench_sample *s = bench_current;
	size_t len = BENCH_STACK_BYTES;

	if (rsp + len > s->stack_end)
		len = s->stack_end - rsp;
	memcpy(s->stack, (const void *)(uintptr_t)rsp, len);
	s->len = len;
	s->regs.rip = rip;
	s->regs.rsp = rsp;
	s->regs.rbp = rbp;
}

#define BENCH_CAPTURE()                                                               \
	do {                                                                          \
		uint64_t rip_, rsp_, rbp_;                                            \
		__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" \
				 : "=r"(rip_), "=r"(rsp_), "=r"(rbp_));               \
		bench_copy(rip_, rsp_, rbp_);                                         \
	} while (0)

static __attribute__((noinline)) int bench_c(void)
{
	BENCH_CAPTURE();
	return bench_sink + 1;
}

static __attribute__((noinline)) int bench_b(void)
{
	int r = bench_c();

	bench_sink += r;
	return r + 1;
}

static __attribute__((noinline)) int bench_a(void)
{
	int r = bench_b();

	bench_sink += r;
	return r + 1;
}

static __attribute__((noinline)) int bench_recurse(int depth)
{
	volatile int pad[16];
	int r, i;

	for (i = 0; i < 16; i++)
		pad[i] = depth + i;
	if (!depth) {
		BENCH_CAPTURE();
		return pad[0];
	}
	r = bench_recurse(depth - 1);
	bench_sink += r;
	return r + pad[15];
}

static int bench_captured;

static __attribute__((noinline)) int bench_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (!bench_captured) {
		bench_captured = 1;
		BENCH_CAPTURE();
	}
	return (x > y) - (x < y);
}

static __attribute__((noinline)) int bench_qsort(void)
{
	int v[64], i;

	for (i = 0; i < 64; i++)
		v[i] = (i * 7919) % 64;
	qsort(v, 64, sizeof(v[0]), bench_cmp);
	return v[1];
}

static bool bench_elf_bias(Elf *elf, uint64_t start, uint64_t offset, uint64_t *bias)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (i = 0; i < n; i++) {
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    (ph.p_offset & ~(uint64_t)4095) == offset) {
			*bias = start - (ph.p_vaddr & ~(uint64_t)4095);
			return true;
		}
	}
	return false;
}

static int bench_read_maps(struct bench_proc *p)
{
	char line[1024], perms[8], path[256];
	unsigned long start, end, offset;
	struct stat st;
	FILE *f;
	Elf *elf;
	int fd;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && p->nr < BENCH_MAX_MAPS) {
		struct bench_map *m = &p->maps[p->nr];

		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*u %255s", &start, &end, perms, &offset,
			   path) < 4 ||
		    perms[2] != 'x')
			continue;
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		snprintf(m->path, sizeof(m->path), "%s", path);
		fd = path[0] == '/' ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
		if (elf && bench_elf_bias(elf, start, offset, &m->bias) && !fstat(fd, &st)) {
			m->key[0] = st.st_dev;
			m->key[1] = st.st_ino;
			m->key[2] = (uint64_t)st.st_size;
			m->key[3] = (uint64_t)st.st_mtime;
			m->usable = true;
		}
		elf_end(elf);
		if (fd >= 0)
			close(fd);
		p->nr++;
	}
	fclose(f);
	return 0;
}

static int bench_load(void *ctx, struct unwind_table **ret)
{
	const struct bench_map *m = ctx;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*ret = unwind_table__from_fd(fd, -1);
	close(fd);
	return *ret ? 0 : -errno;
}

static int bench_find(void *ctx, uint64_t ip, struct unwind_mapping *ret)
{
	struct bench_proc *p = ctx;
	size_t lo = 0, hi = p->nr, mid;
	const struct bench_map *m;
	const struct unwind_table *t;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->maps[mid].end <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->nr || ip < p->maps[lo].start)
		return -ENOENT;
	m = &p->maps[lo];
	ret->table = NULL;
	ret->bias = m->bias;
	if (m->usable &&
	    !unwind_cache__get(p->cache, m->key, sizeof(m->key), bench_load, (void *)m, &t))
		ret->table = t;
	return 0;
}

static uint64_t bench_stack_end(void)
{
	char line[512];
	unsigned long start, end;
	uint64_t here = (uint64_t)(uintptr_t)&line, found = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 && here >= start && here < end)
			found = end;
	if (f)
		fclose(f);
	return found;
}

static void bench_run(struct bench_proc *p, const char *what, struct bench_sample *s,
		      unsigned int iterations)
{
	uint64_t ips[BENCH_MAX_FRAMES];
	struct unwind_result res;
	double ns;
	int err;

	unwind__walk(&s->regs, s->stack, s->len, bench_find, p, BENCH_MAX_FRAMES, ips, NULL, &res);
	err = unwind__bench_walk(&s->regs, s->stack, s->len, bench_find, p, BENCH_MAX_FRAMES,
				 iterations, &ns);
	if (err) {
		fprintf(stderr, "unwind_micro: %s: %s\n", what, strerror(-err));
		return;
	}
	printf("%-10s %4u frames (%s)  %8.0f ns/sample  %6.1f ns/frame\n", what, res.nr_frames,
	       unwind__status_str(res.status), ns, ns / res.nr_frames);
}

int main(int argc, char **argv)
{
	unsigned int iterations = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 10) : 100000;
	struct bench_sample *s = calloc(3, sizeof(*s));
	struct bench_proc *p = calloc(1, sizeof(*p));
	struct unwind_table *t;
	struct timespec t0, t1;
	int fd, i;

	if (!s || !p || !iterations || elf_version(EV_CURRENT) == EV_NONE)
		return 1;
	for (i = 0; i < 3; i++)
		s[i].stack_end = bench_stack_end();
	bench_current = &s[0];
	bench_a();
	bench_current = &s[1];
	bench_qsort();
	bench_current = &s[2];
	bench_recurse(1000);
	p->cache = unwind_cache__new(NULL);
	if (!p->cache || bench_read_maps(p))
		return 1;

	bench_run(p, "main chain", &s[0], iterations);
	bench_run(p, "qsort", &s[1], iterations);
	bench_run(p, "recursion", &s[2], iterations / 10 ? iterations / 10 : 1);

	fd = open("/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY | O_CLOEXEC);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = fd >= 0 ? unwind_table__from_fd(fd, -1) : NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t)
		printf("libc table: %zu rows, %zu KiB, built in %.2f ms\n",
		       unwind_table__nr_rows(t), unwind_table__bytes(t) / 1024,
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			       (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	unwind_table__free(t);
	if (fd >= 0)
		close(fd);
	unwind_cache__free(p->cache);
	free(p);
	free(s);
	return 0;
}
