/* SPDX-License-Identifier: MIT */
/*
 * The collector: the whole pipeline behind `record` and `agent`.
 *
 * The calling thread samples: it drains the BPF ring buffer, counts each
 * sample into the aggregate of the window its timestamp falls in, reads the
 * mappings of every new process generation at once (the BPF side wakes it
 * for those), and follows exits. A worker thread owns the symbolizer: it
 * parses the binaries of new processes and, when a window closes, names its
 * frames, builds the pprof profile and hands it to the caller's callback. A
 * slow binary therefore delays names, never samples.
 *
 * Windows are back to back: a sample belongs to exactly one window, by its
 * CLOCK_MONOTONIC timestamp, and each window's time_nanos is the previous
 * one's time_nanos + duration_nanos.
 */
#ifndef SMOLDER_COLLECTOR_H
#define SMOLDER_COLLECTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "pprof.h"
#include "profile_build.h"
#include "sampler.h"
#include "symbolizer.h"
#include "unwind.h"

struct collector_window {
	uint64_t seq; /* 0, 1, ... */
	int64_t time_nanos; /* wall-clock start */
	int64_t duration_nanos; /* length */
	uint64_t samples; /* samples counted into this window */
	uint64_t lost; /* samples lost while it was open (ring buffer, cap, malformed) */
	size_t processes; /* process generations known when it was built */
	struct profile_build_stats build;
};

/*
 * Called on the worker thread with each closed window's profile. Return 1 to
 * keep b (then free it with pprof_builder__free()), 0 to let the collector
 * free it.
 */
typedef int (*collector_window_fn)(struct pprof_builder *b, const struct collector_window *w,
				   void *ctx);

struct collector_opts {
	struct sampler_opts sampler; /* on_sample, on_event and ctx are the collector's */
	int64_t window_ns; /* 0: one window until collector__run() returns */
	bool align; /* windows end on wall-clock multiples of window_ns */
	size_t agg_bytes; /* cap of one window's aggregate */
	size_t sym_bytes; /* symbolizer cache cap; 0: its default */
	size_t sym_inflate_bytes; /* one file's inflated DWARF; 0: a quarter of sym_bytes */
	size_t unwind_bytes; /* CFI table cache cap; 0: the default, 24 MiB */
	bool proc_labels; /* label samples with cgroup, systemd_unit, container_id */
	/*
	 * Time the worker may spend naming one window's user frames; past it the
	 * rest stay addresses (stats.sym.over_budget), so one window never holds
	 * the next ones up. 0: no limit.
	 */
	int64_t name_budget_ns;
	const char *const *comments; /* borrowed for the collector's life */
	size_t nr_comments;
	collector_window_fn on_window;
	/* Called on the sampling thread about every 100 ms (may be NULL). */
	void (*on_tick)(void *ctx);
	void *ctx;
};

struct collector_stats {
	struct sampler_counters bpf;
	struct symbolizer_stats sym;
	struct proctable_stats procs;
	uint64_t samples; /* samples counted */
	uint64_t dropped; /* samples refused by a full aggregate */
	uint64_t windows; /* windows built */
	uint64_t windows_dropped; /* windows dropped because the worker fell behind (each logged) */
	uint64_t preloads_dropped; /* new-process notices dropped (queue full) */
	uint64_t maps_errors; /* processes whose mappings could not be read */
	/* user stacks unwound in user space (stack copy mode) */
	uint64_t unwind_complete; /* reached a known root */
	uint64_t unwind_truncated; /* deeper than the copied window */
	uint64_t unwind_errors[UNWIND_ERR_MAX]; /* stopped early, by reason */
	uint64_t unwind_ns; /* time spent unwinding, table loads included */
	uint64_t go_procs; /* processes BPF was told run Go code (sampler__mark_go()) */
	uint64_t file_key_resets; /* times the (dev, inode) -> build-id table was emptied */
	struct unwind_cache_stats unwind;
};

/* Loads and attaches the sampler. NULL after printing what went wrong. */
struct collector *collector__new(const struct collector_opts *opts);
/* Accepts NULL. */
void collector__free(struct collector *c);

/*
 * Samples until *stop becomes non-zero or deadline_mono_ns (CLOCK_MONOTONIC,
 * 0 for none) passes, closing windows as they end; then closes the open
 * window and waits until the worker has delivered every profile. Returns 0
 * or a negative errno.
 */
int collector__run(struct collector *c, volatile sig_atomic_t *stop, int64_t deadline_mono_ns);

/*
 * Replaces the extra labels ("key=value") put on every sample, from the next
 * window built on. Copies them. 0 or -ENOMEM.
 */
int collector__set_labels(struct collector *c, const char *const *labels, size_t nr);

/* Counters so far. Call it from the window callback or after collector__run(). */
void collector__stats(struct collector *c, struct collector_stats *ret);

/* CPUs sampled. */
unsigned int collector__nr_cpus(const struct collector *c);

#endif /* SMOLDER_COLLECTOR_H */
