// SPDX-License-Identifier: MIT
/*
 * viz_genprofile: writes a synthetic pprof profile for the flame graph
 * browser test and bench/flamegraph.sh, with every kind of frame the viewer
 * colors: user functions across processes ("comm" labels), inlined lines,
 * kernel frames, JIT frames and unnamed addresses.
 *
 * Usage: viz_genprofile OUTPUT SAMPLES LOCATIONS [base|new|hostile]
 *
 * Stacks are random walks over a fixed pseudo-random call graph (seeded, so
 * the output is reproducible). "new" moves about a tenth of the samples to a
 * function hot_new_path() and drops legacy_path(), which only "base" has, so
 * a diff of the two shows a growth and a ghost. "hostile" is "base" with
 * names that a process or a binary could choose: comms and function and file
 * names holding terminal escape sequences, a BEL, a newline and a byte that
 * is not UTF-8 (the text outputs must escape them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"

#define NR_COMMS  24
#define MAX_DEPTH 48
#define NR_KERNEL 64
#define PERIOD_NS 10101010

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ull + b + 1;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return x;
}

static int parse(const char *s, long *ret)
{
	char *end;

	errno = 0;
	*ret = strtol(s, &end, 10);
	return errno || end == s || *end || *ret < 1 || *ret > 100000000 ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	struct pprof_value_type samples = {"samples", "count"}, cpu = {"cpu", "nanoseconds"};
	struct pprof_mapping_desc bin = {.memory_start = 0x400000,
					 .memory_limit = 0x40000000,
					 .filename = "/usr/bin/busyd",
					 .has_functions = true};
	struct pprof_mapping_desc kernel = {.memory_start = 0xffffffff81000000ull,
					    .memory_limit = 0xffffffff83000000ull,
					    .filename = "[kernel.kallsyms]"};
	struct pprof_mapping_desc jit = {.memory_start = 0x7f0000000000ull,
					 .memory_limit = 0x7f0010000000ull,
					 .filename = "/tmp/perf-4242.map"};
	static const char *const kernel_names[] = {
		"entry_SYSCALL_64", "do_syscall_64", "__x64_sys_read", "vfs_read",
		"ksys_write",	    "tcp_sendmsg",   "schedule",       "__schedule"};
	uint64_t *locs = NULL, mbin, mkern, mjit, hot = 0, legacy = 0, stack[MAX_DEPTH + 4];
	struct pprof_builder *b = NULL;
	long nr_samples, nr_locs, i;
	bool variant_new, hostile;
	int ret = 1, err;

	if (argc != 5 || parse(argv[2], &nr_samples) || parse(argv[3], &nr_locs) ||
	    (strcmp(argv[4], "base") && strcmp(argv[4], "new") && strcmp(argv[4], "hostile"))) {
		fprintf(stderr,
			"usage: viz_genprofile OUTPUT SAMPLES LOCATIONS base|new|hostile\n");
		return 2;
	}
	variant_new = !strcmp(argv[4], "new");
	hostile = !strcmp(argv[4], "hostile");
	b = pprof_builder__new();
	locs = calloc((size_t)nr_locs + NR_KERNEL, sizeof(*locs));
	if (!b || !locs)
		goto out;
	if (pprof_builder__add_sample_type(b, &samples) ||
	    pprof_builder__add_sample_type(b, &cpu) ||
	    pprof_builder__set_default_sample_type(b, "cpu") ||
	    pprof_builder__set_period(b, &cpu, PERIOD_NS) ||
	    pprof_builder__set_time(b, 1700000000000000000ll, 3600000000000ll))
		goto out;
	mbin = (uint64_t)pprof_builder__mapping(b, &bin);
	mkern = (uint64_t)pprof_builder__mapping(b, &kernel);
	mjit = (uint64_t)pprof_builder__mapping(b, &jit);
	for (i = 0; i < nr_locs; i++) {
		struct pprof_line_desc lines[2] = {};
		char name[64], inl[64], file[64];
		uint64_t map = mbin, addr = 0x400000 + (uint64_t)i * 16;
		size_t nr_lines = 1;
		int64_t id;

		snprintf(name, sizeof(name),
			 hostile ? "\033]0;PWN\a\033[2J\nfunc_%ld\377" : "busyd::mod%ld::func_%ld",
			 hostile ? i : i % 97, i);
		snprintf(file, sizeof(file), hostile ? "src/\033[31m\n%ld.c" : "src/mod%ld.c",
			 i % 97);
		lines[0] = (struct pprof_line_desc){
			.name = name, .filename = file, .line = 10 + i % 500};
		if (i % 17 == 3) { /* an inlined helper inside the function */
			snprintf(inl, sizeof(inl), "busyd::helper_%ld", i % 50);
			lines[1] = lines[0];
			lines[0] = (struct pprof_line_desc){
				.name = inl, .filename = "src/helpers.h", .line = 5 + i % 40};
			nr_lines = 2;
		}
		if (i % 29 == 5) { /* JIT-compiled code */
			map = mjit;
			addr = 0x7f0000000000ull + (uint64_t)i * 64;
			snprintf(name, sizeof(name), "LJIT:script%ld.lua:%ld", i % 13, i);
			lines[0] = (struct pprof_line_desc){.name = name};
			nr_lines = 1;
		}
		if (i % 31 == 7)
			nr_lines = 0; /* no symbol: shown by address */
		id = pprof_builder__location(b, map, addr, lines, nr_lines);
		if (id < 0)
			goto out;
		locs[i] = (uint64_t)id;
	}
	for (i = 0; i < NR_KERNEL; i++) {
		struct pprof_line_desc line = {.name = kernel_names[i % 8]};
		int64_t id = pprof_builder__location(
			b, mkern, 0xffffffff81000000ull + (uint64_t)i * 256, &line, 1);

		if (id < 0)
			goto out;
		locs[nr_locs + i] = (uint64_t)id;
	}
	{
		struct pprof_line_desc h = {
			.name = "busyd::hot_new_path", .filename = "src/new.c", .line = 42};
		struct pprof_line_desc l = {
			.name = "busyd::legacy_path", .filename = "src/old.c", .line = 7};

		hot = (uint64_t)pprof_builder__location(b, mbin, 0x3ff000, &h, 1);
		legacy = (uint64_t)pprof_builder__location(b, mbin, 0x3ff100, &l, 1);
	}
	for (i = 0; i < nr_samples; i++) {
		int64_t values[2] = {1, PERIOD_NS};
		struct pprof_label_desc label = {.key = "comm"};
		char comm[32];
		uint64_t comm_nr = rng() % NR_COMMS, cur, depth, d, n = 0, path[MAX_DEPTH];

		/* Processes get a skewed share: comm 0 is the busiest. */
		comm_nr = comm_nr * comm_nr / NR_COMMS;
		snprintf(comm, sizeof(comm),
			 hostile ? "\033]0;PWN\a\033[2J\n%02lu" : "worker-%02lu",
			 (unsigned long)comm_nr);
		label.str = comm;
		depth = 4 + rng() % (MAX_DEPTH - 4);
		cur = mix(comm_nr, 0) % (uint64_t)nr_locs;
		for (d = 0; d < depth; d++) {
			uint64_t k = 0;

			path[d] = cur;
			while (k < 15 && (rng() & 1))
				k++;
			/* Deep frames fan out over the whole table, shallow ones stay few. */
			cur = mix(cur, d < 3 ? k % 3 : k) % (uint64_t)nr_locs;
		}
		/* Leaf first. */
		if (rng() % 5 == 0) {
			uint64_t kd = 1 + rng() % 4, kbase = rng() % (NR_KERNEL / 8);

			for (d = 0; d < kd; d++)
				stack[n++] = locs[nr_locs + (kbase * 8 + (kd - 1 - d)) % NR_KERNEL];
		}
		if (variant_new && rng() % 10 == 0)
			stack[n++] = hot;
		else if (!variant_new && rng() % 20 == 0)
			stack[n++] = legacy;
		for (d = depth; d-- > 0;)
			stack[n++] = locs[path[d]];
		if (pprof_builder__sample(b, stack, n, values, 2, &label, 1))
			goto out;
	}
	err = pprof_builder__write_file(b, argv[1], 0644);
	if (err) {
		fprintf(stderr, "viz_genprofile: failed to write '%s': %s\n", argv[1],
			strerror(-err));
		goto out;
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "viz_genprofile: failed to build the profile\n");
	free(locs);
	pprof_builder__free(b);
	return ret;
}
