/* SPDX-License-Identifier: MIT */
/*
 * The sampler: loads bpf/profile.bpf.c, opens one perf event per online CPU,
 * attaches the program to each, and hands every record from the ring buffer
 * to a callback. Prints its own errors (one line, what is missing and how to
 * fix it).
 */
#ifndef SMOLDER_SAMPLER_H
#define SMOLDER_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "profile.h"

enum sampler_event {
	SAMPLER_EVENT_CPU_CLOCK, /* software timer: works everywhere, VMs included */
	SAMPLER_EVENT_CYCLES, /* hardware cycles: needs a PMU */
};

/* Called for each sample; size is what the ring buffer delivered (>= hdr.record_bytes). */
typedef void (*sampler_fn)(const struct smolder_sample *s, size_t size, void *ctx);
/* Called for each exec or exit event. */
typedef void (*sampler_event_fn)(const struct smolder_event *e, void *ctx);

struct sampler_opts {
	unsigned int freq_hz;
	enum sampler_event event;
	bool include_idle;
	const pid_t *pids; /* thread group ids to sample; none means all */
	size_t nr_pids;
	unsigned int stack_copy_bytes; /* 0: frame-pointer user stacks in BPF */
	unsigned int ringbuf_ms; /* records the ring buffer holds; 0: a second's worth */
	bool track_processes; /* attach the exec and exit tracepoints */
	sampler_fn on_sample;
	sampler_event_fn on_event; /* may be NULL */
	void *ctx;
};

/* Totals of the BPF counters (enum smolder_counter) over every CPU. */
struct sampler_counters {
	uint64_t v[SMOLDER_CNT_MAX];
	uint64_t bad_records; /* records too short to parse, from user space */
};

/*
 * Checks the prerequisites, loads and attaches. Returns NULL after printing
 * what is missing. Free with sampler__free().
 */
struct sampler *sampler__new(const struct sampler_opts *opts);
/* Detaches and frees; accepts NULL. */
void sampler__free(struct sampler *s);

/*
 * Waits up to timeout_ms (less when the first sample of a new process
 * arrives), then delivers every record waiting. 0, or a negative errno
 * (-EINTR: a signal cut the wait short).
 */
int sampler__poll(struct sampler *s, int timeout_ms);
/* Stops sampling (detaches the perf events) and delivers what is left in the ring buffer. */
int sampler__stop(struct sampler *s);
/*
 * After sampler__stop(): keeps the final counters and frees the BPF objects
 * and the ring buffer. Afterwards only sampler__counters(),
 * sampler__nr_cpus() and sampler__free() may be called.
 */
void sampler__release(struct sampler *s);
/* Number of CPUs sampled. */
unsigned int sampler__nr_cpus(const struct sampler *s);
void sampler__counters(const struct sampler *s, struct sampler_counters *ret);
/*
 * Tells BPF that generation gen of process pid runs Go code, so its samples
 * on a g0 stack carry the switched-out goroutine. Call from the sampling
 * thread. Returns 0 or a negative errno (the map is an LRU of
 * SMOLDER_MAX_KNOWN processes; exec and exit drop the entry).
 */
int sampler__mark_go(struct sampler *s, pid_t pid, uint32_t gen);

/*
 * Prerequisite checks alone (root or CAP_BPF+CAP_PERFMON, BTF, ring buffer),
 * printing the first thing missing. 0 when all is there, else -errno.
 */
int sampler__check_system(void);

#endif /* SMOLDER_SAMPLER_H */
