// SPDX-License-Identifier: MIT
/*
 * The collector: sampling thread + worker thread (see collector.h).
 *
 * Shared state and who touches it:
 * - procs (the process table) is written by the sampling thread (new
 *   generations, exits, rereads) and read by the worker (mappings and labels
 *   while building); both hold procs_lock, the worker only long enough to
 *   copy one mapping.
 * - the message queue (new generations to preload, closed windows) and the
 *   extra labels are under queue_lock, and so is stats: the sampling thread
 *   counts into own (its alone) and copies it into stats under the lock
 *   after every poll and when it closes a window, so a reader (the worker,
 *   through collector__stats()) never sees a counter being written.
 * - the symbolizer belongs to the worker alone.
 * - aggregates: the sampling thread fills cur (and next, for samples stamped
 *   after cur's end), then hands cur to the worker through the queue.
 *
 * Limits: the queue holds at most COLLECTOR_MAX_PRELOADS notices (more are
 * dropped and counted: those processes are then parsed lazily when their
 * window is built) and COLLECTOR_MAX_PENDING closed windows (the oldest is
 * dropped, counted and logged when the worker falls that far behind). The
 * worker names one window's user frames for at most opts.name_budget_ns
 * (symbolizer__set_deadline()); frames past it stay addresses, counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "cgroup.h"
#include "collector.h"
#include "log.h"
#include "proctable.h"
#include "unwind.h"

#define COLLECTOR_MAX_PROCS	  32768
#define COLLECTOR_MAX_PRELOADS	  4096
#define COLLECTOR_MAX_PENDING	  4
#define COLLECTOR_MAPS_REREAD	  4 /* rereads of a process's maps for unknown addresses */
#define COLLECTOR_GRACE_NS	  150000000 /* after a window's end, before closing it */
#define COLLECTOR_POLL_MS	  100
#define COLLECTOR_MAX_EXTRA_LABEL 64
#define COLLECTOR_MAX_USER_FRAMES 1024
#define COLLECTOR_FILE_KEYS	  4096 /* power of two; emptied when three quarters full */
#define COLLECTOR_UNWIND_BYTES	  (24UL << 20) /* CFI tables kept by the sampling thread */

/* The counters only the sampling thread writes. */
struct sampling_counts {
	uint64_t samples;
	uint64_t dropped;
	uint64_t unwind_complete;
	uint64_t unwind_truncated;
	uint64_t unwind_errors[UNWIND_ERR_MAX];
	uint64_t unwind_ns;
	uint64_t file_key_resets;
	uint64_t go_procs;
};

/* A mapping of a process that samples landed in: its file is read while the process lives. */
struct preload {
	pid_t pid;
	uint32_t gen;
	uint64_t start;
};

struct pending_window {
	struct aggregate *agg;
	struct collector_window w;
	int64_t end_mono_ns;
};

struct collector {
	struct collector_opts opts;
	struct sampler *sampler;
	pthread_t worker;
	bool worker_started;

	/* sampling thread */
	struct aggregate *cur, *next;
	int64_t cur_start_ns, cur_end_ns; /* CLOCK_MONOTONIC */
	int64_t cur_time_nanos; /* wall-clock start of cur */
	uint64_t seq;
	uint64_t lost_at_open; /* ring-buffer losses + bad records when cur opened */
	uint64_t dropped_at_open;

	pthread_mutex_t procs_lock;
	struct proctable *procs;
	uint64_t maps_errors;

	pthread_mutex_t queue_lock;
	pthread_cond_t queue_cond;
	struct preload *preloads; /* ring of COLLECTOR_MAX_PRELOADS */
	size_t preload_head, nr_preloads;
	struct pending_window pending[COLLECTOR_MAX_PENDING];
	size_t nr_pending;
	bool quit;
	char **labels;
	size_t nr_labels;
	struct collector_stats stats; /* windows, *_dropped, and own as last published */

	/* sampling thread: its counters, published into stats under queue_lock */
	struct sampling_counts own;

	/* sampling thread: user-space unwinding */
	struct unwind_cache *unwind; /* NULL once sampling has stopped */
	struct unwind_cache_stats unwind_final;
	struct file_key *file_keys; /* COLLECTOR_FILE_KEYS slots: (dev, inode) -> CFI cache key */
	size_t nr_file_keys;
	const void *vdso_image; /* our own vDSO: the same image in every process */
	size_t vdso_bytes;
	struct proc_entry *unwinding; /* the process being unwound (procs_lock held) */
	uint64_t ips[COLLECTOR_MAX_USER_FRAMES];
	uint8_t ip_flags[COLLECTOR_MAX_USER_FRAMES];
	uint64_t adjusted[COLLECTOR_MAX_USER_FRAMES];

	/* worker thread */
	struct symbolizer *sym;
};

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void free_labels(char **labels, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(labels[i]);
	free(labels);
}

/* ---- the process table, shared ---- */

static int read_maps(struct collector *c, struct proc_entry *p)
{
	struct sym_maps maps = {};
	int err;

	p->maps_reads++;
	err = sym_maps__read(p->pid, &maps);
	if (err) {
		p->maps_err = err;
		c->maps_errors++;
		log_debug("failed to read /proc/%d/maps: %s, ignoring", p->pid, strerror(-err));
		return err;
	}
	sym_maps__free(&p->maps);
	p->maps = maps;
	p->maps_err = 0;
	return 0;
}

/*
 * The mapping of code address addr in p. One that was not mapped, or not as
 * code, when the maps were last read was mapped since (dlopen, a JIT reusing
 * the range of a file the loader unmapped): the maps are read again, at most
 * COLLECTOR_MAPS_REREAD times a process, and once per *once when given.
 */
static struct sym_map_entry *code_mapping(struct collector *c, struct proc_entry *p, uint64_t addr,
					  bool *once)
{
	/* The table's entries are the collector's own; sym_maps__find() only looks. */
	struct sym_map_entry *m = (struct sym_map_entry *)sym_maps__find(&p->maps, addr);

	if (m && m->executable)
		return m;
	if ((once && *once) || p->exited || p->maps_reads >= COLLECTOR_MAPS_REREAD)
		return m;
	if (once)
		*once = true;
	if (read_maps(c, p))
		return m ? (struct sym_map_entry *)sym_maps__find(&p->maps, addr) : NULL;
	return (struct sym_map_entry *)sym_maps__find(&p->maps, addr);
}

static void enqueue_preloads(struct collector *c, const struct preload *pl, size_t nr)
{
	size_t slot, i;

	pthread_mutex_lock(&c->queue_lock);
	for (i = 0; i < nr; i++) {
		if (c->nr_preloads >= COLLECTOR_MAX_PRELOADS) {
			c->stats.preloads_dropped++;
			continue;
		}
		slot = (c->preload_head + c->nr_preloads) % COLLECTOR_MAX_PRELOADS;
		c->preloads[slot] = pl[i];
		c->nr_preloads++;
	}
	pthread_cond_signal(&c->queue_cond);
	pthread_mutex_unlock(&c->queue_lock);
}

/*
 * One pass over the sample's user frames, under one lock: code mapped since
 * the maps were read (dlopen, JITs) has them read again, a few times; and
 * the mappings the frames are in are queued for the worker the first time
 * each is seen, so only files that samples land in are parsed (symbols,
 * debug file), not every library every process maps.
 */
static void want_mappings(struct collector *c, const struct smolder_sample *s,
			  const uint64_t *ustack, size_t nu)
{
	struct preload pl[8];
	struct sym_map_entry *m;
	struct proc_entry *p;
	size_t i, nr = 0;
	bool reread = false;

	pthread_mutex_lock(&c->procs_lock);
	p = proctable__find(c->procs, (pid_t)s->hdr.pid, s->hdr.gen);
	for (i = 0; p && i < nu && nr < sizeof(pl) / sizeof(pl[0]); i++) {
		m = code_mapping(c, p, ustack[i], &reread);
		if (!m || m->sampled)
			continue;
		m->sampled = true;
		pl[nr++] = (struct preload){(pid_t)s->hdr.pid, s->hdr.gen, m->start};
	}
	pthread_mutex_unlock(&c->procs_lock);
	if (nr)
		enqueue_preloads(c, pl, nr);
}

/* A sample of a generation not seen before: read what we can while the process lives. */
static void new_generation(struct collector *c, const struct smolder_sample *s)
{
	struct proc_entry *p;
	struct cgroup_info cg;
	bool is_new, have_cg = false;

	/* Read before taking the lock: the worker may be waiting on it. */
	if (c->opts.proc_labels)
		have_cg = cgroup__read((pid_t)s->hdr.pid, &cg) == 0;
	pthread_mutex_lock(&c->procs_lock);
	p = proctable__get(c->procs, (pid_t)s->hdr.pid, s->hdr.gen, &is_new);
	if (p && is_new) {
		read_maps(c, p);
		if (have_cg) {
			snprintf(p->cgroup, sizeof(p->cgroup), "%s", cg.cgroup);
			snprintf(p->systemd_unit, sizeof(p->systemd_unit), "%s", cg.systemd_unit);
			snprintf(p->container_id, sizeof(p->container_id), "%s", cg.container_id);
		}
	}
	pthread_mutex_unlock(&c->procs_lock);
}

static int source_find_mapping(void *ctx, pid_t pid, uint32_t gen, uint64_t addr,
			       struct sym_map_entry *ret, char *path, size_t path_len)
{
	struct collector *c = ctx;
	const struct sym_map_entry *m = NULL;
	struct proc_entry *p;

	pthread_mutex_lock(&c->procs_lock);
	p = proctable__find(c->procs, pid, gen);
	if (p) {
		m = code_mapping(c, p, addr, NULL);
	}
	if (m) {
		*ret = *m;
		snprintf(path, path_len, "%s", m->path ? m->path : "");
		ret->path = path;
	}
	pthread_mutex_unlock(&c->procs_lock);
	return m ? 0 : -ENOENT;
}

static void source_labels(void *ctx, pid_t pid, uint32_t gen, char cgroup[PROC_CGROUP_LEN],
			  char unit[PROC_UNIT_LEN], char container_id[PROC_CID_LEN])
{
	struct collector *c = ctx;
	struct proc_entry *p;

	cgroup[0] = unit[0] = container_id[0] = '\0';
	pthread_mutex_lock(&c->procs_lock);
	p = proctable__find(c->procs, pid, gen);
	if (p) {
		memcpy(cgroup, p->cgroup, PROC_CGROUP_LEN);
		memcpy(unit, p->systemd_unit, PROC_UNIT_LEN);
		memcpy(container_id, p->container_id, PROC_CID_LEN);
	}
	pthread_mutex_unlock(&c->procs_lock);
}

/* ---- the sampling thread ---- */

/*
 * A mapped file's CFI cache key: its build-id, so every copy of a binary
 * (other containers, other overlay layers) shares one table, or its device
 * and inode when it has none. Found once per (dev, inode) by reading the
 * file's notes; remembered in an open-addressing table that is emptied when
 * three quarters full (counted), so it never grows with the machine.
 */
struct file_key {
	uint64_t dev, inode; /* dev 0 and inode 0: an empty slot */
	uint8_t len;
	uint8_t key[1 + SYMBOLIZER_BUILD_ID_MAX];
};

static const struct file_key *file_key_of(struct collector *c, pid_t pid,
					  const struct sym_map_entry *m)
{
	uint64_t dev = (uint64_t)m->dev_major << 32 | m->dev_minor;
	uint64_t h = (dev * 0x9e3779b97f4a7c15ULL) ^ (m->inode * 0xbf58476d1ce4e5b9ULL);
	size_t j = (size_t)(h ^ (h >> 29)) & (COLLECTOR_FILE_KEYS - 1), len;
	struct file_key *k;
	int fd;

	while (c->file_keys[j].dev || c->file_keys[j].inode) {
		if (c->file_keys[j].dev == dev && c->file_keys[j].inode == m->inode)
			return &c->file_keys[j];
		j = (j + 1) & (COLLECTOR_FILE_KEYS - 1);
	}
	if (sym_maps__open(pid, m, &fd))
		return NULL;
	if (c->nr_file_keys >= COLLECTOR_FILE_KEYS / 4 * 3) {
		memset(c->file_keys, 0, COLLECTOR_FILE_KEYS * sizeof(*c->file_keys));
		c->nr_file_keys = 0;
		c->own.file_key_resets++;
		j = (size_t)(h ^ (h >> 29)) & (COLLECTOR_FILE_KEYS - 1);
	}
	k = &c->file_keys[j];
	k->dev = dev;
	k->inode = m->inode;
	if (!sym_maps__build_id(fd, k->key + 1, &len)) {
		k->key[0] = 'B';
		k->len = (uint8_t)(1 + len);
	} else {
		k->key[0] = 'I';
		memcpy(k->key + 1, &dev, sizeof(dev));
		memcpy(k->key + 1 + sizeof(dev), &m->inode, sizeof(m->inode));
		k->len = 1 + 2 * sizeof(uint64_t);
	}
	c->nr_file_keys++;
	close(fd);
	return k;
}

struct unwind_load {
	struct collector *c;
	pid_t pid;
	const struct sym_map_entry *m;
};

static int load_table(void *arg, struct unwind_table **ret)
{
	struct unwind_load *l = arg;
	struct unwind_table *t;
	int fd, debug_fd, err;

	if (!strcmp(l->m->path, "[vdso]")) {
		if (!l->c->vdso_image)
			return -ENOENT;
		t = unwind_table__from_memory(l->c->vdso_image, l->c->vdso_bytes);
	} else {
		err = sym_maps__open(l->pid, l->m, &fd);
		if (err)
			return err;
		/* .debug_frame of the separate debug file covers what .eh_frame does not. */
		if (sym_maps__open_debug(l->pid, l->m, fd, &debug_fd))
			debug_fd = -1;
		t = unwind_table__from_fd(fd, debug_fd);
		close(fd);
		if (debug_fd >= 0)
			close(debug_fd);
	}
	if (!t)
		return -errno;
	*ret = t;
	return 0;
}

/* The unwinder's view of an address: the CFI of the file mapped there, or none. */
static int find_cfi(void *arg, uint64_t ip, struct unwind_mapping *ret)
{
	static const uint8_t vdso_key[] = {'V'};
	struct collector *c = arg;
	struct proc_entry *p = c->unwinding;
	const struct sym_map_entry *m = code_mapping(c, p, ip, NULL);
	const struct unwind_table *t = NULL;
	const struct file_key *fk = NULL;
	struct unwind_load l;
	uint64_t vaddr;

	if (!m || !m->executable)
		return -ENOENT;
	ret->table = NULL;
	ret->bias = 0;
	/* Anonymous memory (JIT code): frame pointers. */
	if (m->path[0] != '/' && strcmp(m->path, "[vdso]"))
		return 0;
	/* Keyed by build-id, shared by every process and every copy of the file. */
	if (m->path[0] == '/') {
		fk = file_key_of(c, p->pid, m);
		if (!fk)
			return 0;
	}
	l = (struct unwind_load){c, p->pid, m};
	if (unwind_cache__get(c->unwind, fk ? fk->key : vdso_key, fk ? fk->len : sizeof(vdso_key),
			      load_table, &l, &t) ||
	    !t)
		return 0;
	if (unwind_table__file_to_vaddr(t, ip - m->start + m->offset, &vaddr))
		return 0;
	ret->table = t;
	ret->bias = ip - vaddr;
	/* Go code: from now on BPF copies the switched-out goroutine of its g0 samples. */
	if (!p->go_marked && unwind_table__is_go(t)) {
		p->go_marked = true;
		if (!sampler__mark_go(c->sampler, p->pid, p->gen))
			c->own.go_procs++;
	}
	return 0;
}

/*
 * Unwinds the copied user stack of s with the CFI of each binary; fills
 * ret_frames with the addresses to name (return addresses minus one) and
 * returns how many, setting *ret_flags' AGG_F_USER_TRUNCATED when the stack
 * went deeper than the copy.
 */
static size_t unwind_sample(struct collector *c, const struct smolder_sample *s, size_t size,
			    uint32_t *ret_flags)
{
	struct unwind_regs regs = {
		.rip = s->user_regs[SMOLDER_REG_IP],
		.rsp = s->user_regs[SMOLDER_REG_SP],
		.rbp = s->user_regs[SMOLDER_REG_BP],
	};
	size_t copy = s->stack_copy_bytes, i;
	struct unwind_go_stack go = {
		.regs =
			{
				.rip = s->go_regs[SMOLDER_REG_IP],
				.rsp = s->go_regs[SMOLDER_REG_SP],
				.rbp = s->go_regs[SMOLDER_REG_BP],
			},
	};
	struct unwind_result r = {};
	struct proc_entry *p;

	if (!(s->flags & SMOLDER_SAMPLE_F_USER_REGS))
		return 0;
	/* The record is cut after the copy: never read past it. */
	if (offsetof(struct smolder_sample, stack) + copy > size)
		copy = size - offsetof(struct smolder_sample, stack);
	/* The goroutine's stack, from a Go thread's g0, follows the copy. */
	if (s->flags & SMOLDER_SAMPLE_F_GO_STACK) {
		go.stack = s->stack + copy;
		go.stack_bytes = size - offsetof(struct smolder_sample, stack) - copy;
		if (go.stack_bytes > s->go_stack_bytes)
			go.stack_bytes = s->go_stack_bytes;
		go.vdso_call = s->flags & SMOLDER_SAMPLE_F_GO_VDSO;
	}

	int64_t t0 = now_ns(CLOCK_MONOTONIC);

	pthread_mutex_lock(&c->procs_lock);
	p = proctable__find(c->procs, (pid_t)s->hdr.pid, s->hdr.gen);
	if (!p) {
		pthread_mutex_unlock(&c->procs_lock);
		c->own.unwind_errors[UNWIND_ERR_NO_MAPPING]++;
		return 0;
	}
	c->unwinding = p;
	unwind__walk_go(&regs, s->stack, copy,
			go.stack_bytes || (s->flags & SMOLDER_SAMPLE_F_GO_G0) ? &go : NULL,
			find_cfi, c, COLLECTOR_MAX_USER_FRAMES, c->ips, c->ip_flags, &r);
	c->unwinding = NULL;
	pthread_mutex_unlock(&c->procs_lock);
	c->own.unwind_ns += (uint64_t)(now_ns(CLOCK_MONOTONIC) - t0);

	for (i = 0; i < r.nr_frames; i++)
		c->adjusted[i] = c->ips[i] - !!(c->ip_flags[i] & UNWIND_FRAME_RETURN_ADDRESS);
	if (r.status == UNWIND_COMPLETE) {
		c->own.unwind_complete++;
	} else if (r.status == UNWIND_TRUNCATED) {
		c->own.unwind_truncated++;
		*ret_flags |= AGG_F_USER_TRUNCATED;
	} else {
		c->own.unwind_errors[r.error < UNWIND_ERR_MAX ? r.error : 0]++;
		/* What was found is kept; the stack is marked as not reaching its root. */
		*ret_flags |= AGG_F_USER_TRUNCATED;
	}
	return r.nr_frames;
}

static void on_sample(const struct smolder_sample *s, size_t size, void *arg)
{
	struct collector *c = arg;
	/* __u64 is unsigned long long, uint64_t unsigned long: same bits. */
	const uint64_t *kstack = (const uint64_t *)s->kstack;
	const uint64_t *ustack = (const uint64_t *)s->ustack;
	struct aggregate *agg;
	struct agg_key key;
	size_t nk = 0, nu = 0, i;
	uint32_t flags = 0;
	int err;

	if (s->kstack_bytes > 0)
		nk = (size_t)s->kstack_bytes / sizeof(uint64_t);
	if (s->ustack_bytes > 0 && !(s->flags & SMOLDER_SAMPLE_F_STACK_COPY))
		nu = (size_t)s->ustack_bytes / sizeof(uint64_t);
	if (nk > SMOLDER_MAX_STACK)
		nk = SMOLDER_MAX_STACK;
	if (nu > SMOLDER_MAX_STACK)
		nu = SMOLDER_MAX_STACK;
	/* The record is cut after the last user frame: never read past it. */
	if (offsetof(struct smolder_sample, ustack) + nu * sizeof(uint64_t) > size)
		nu = (size - offsetof(struct smolder_sample, ustack)) / sizeof(uint64_t);

	if (s->hdr.pid && (s->flags & SMOLDER_SAMPLE_F_FIRST) &&
	    !(s->flags & SMOLDER_SAMPLE_F_KTHREAD))
		new_generation(c, s);

	if (s->flags & SMOLDER_SAMPLE_F_STACK_COPY) {
		nu = unwind_sample(c, s, size, &flags);
	} else {
		/* Frame-pointer stacks: every frame but the leaf is a return address. */
		for (i = 0; i < nu; i++)
			c->adjusted[i] = ustack[i] - (i > 0);
	}
	ustack = c->adjusted;
	if (s->hdr.pid && nu)
		want_mappings(c, s, ustack, nu);

	memset(&key, 0, sizeof(key));
	key.pid = s->hdr.pid;
	key.tid = s->hdr.tid;
	key.gen = s->hdr.gen;
	strncpy(key.comm, s->comm, sizeof(key.comm));
	strncpy(key.thread, s->thread, sizeof(key.thread));
	key.nr_kernel = (uint16_t)nk;
	key.nr_user = (uint16_t)nu;
	key.flags = flags;

	agg = (int64_t)s->hdr.time_ns < c->cur_end_ns ? c->cur : c->next;
	err = aggregate__add(agg, &key, kstack, ustack, 1);
	if (err == -ENOSPC || err == -ENOMEM)
		c->own.dropped++;
	else
		c->own.samples++;
}

static void on_event(const struct smolder_event *e, void *arg)
{
	struct collector *c = arg;
	struct proc_entry *p;

	/* An exec ends the old image's generation just as an exit does. */
	pthread_mutex_lock(&c->procs_lock);
	p = proctable__find(c->procs, (pid_t)e->hdr.pid, e->hdr.gen);
	if (p) {
		p->exited = true;
		p->exit_ns = (int64_t)e->hdr.time_ns;
	}
	pthread_mutex_unlock(&c->procs_lock);
}

static uint64_t lost_so_far(struct collector *c)
{
	struct sampler_counters sc;

	sampler__counters(c->sampler, &sc);
	return sc.v[SMOLDER_CNT_LOST] + sc.bad_records;
}

/* Copies the sampling thread's counters into stats; queue_lock held. */
static void publish_counts(struct collector *c)
{
	c->stats.samples = c->own.samples;
	c->stats.dropped = c->own.dropped;
	c->stats.unwind_complete = c->own.unwind_complete;
	c->stats.unwind_truncated = c->own.unwind_truncated;
	memcpy(c->stats.unwind_errors, c->own.unwind_errors, sizeof(c->stats.unwind_errors));
	c->stats.unwind_ns = c->own.unwind_ns;
	c->stats.file_key_resets = c->own.file_key_resets;
	c->stats.go_procs = c->own.go_procs;
	/* The CFI cache is the sampling thread's: its counters are copied here too. */
	if (c->unwind)
		unwind_cache__stats(c->unwind, &c->stats.unwind);
}

/* The end of the window starting at start (monotonic), with wall-clock time wall. */
static int64_t window_end(const struct collector *c, int64_t start, int64_t wall)
{
	int64_t w = c->opts.window_ns;

	if (!w)
		return INT64_MAX;
	if (c->opts.align)
		return start + (w - wall % w);
	return start + w;
}

/* Hands cur (ending at end_ns) to the worker; next becomes cur. */
static int close_window(struct collector *c, int64_t end_ns)
{
	struct pending_window pw = {};
	struct aggregate *fresh;
	struct agg_stats as;
	uint64_t lost = lost_so_far(c), dropped_seq = UINT64_MAX, nr_dropped = 0;

	fresh = aggregate__new(c->opts.agg_bytes);
	if (!fresh)
		return -ENOMEM;
	aggregate__stats(c->cur, &as);
	pw.agg = c->cur;
	pw.end_mono_ns = end_ns;
	pw.w.seq = c->seq++;
	pw.w.time_nanos = c->cur_time_nanos;
	pw.w.duration_nanos = end_ns - c->cur_start_ns;
	pw.w.samples = as.samples;
	pw.w.lost = lost - c->lost_at_open + (c->own.dropped - c->dropped_at_open);

	pthread_mutex_lock(&c->queue_lock);
	publish_counts(c);
	if (c->nr_pending == COLLECTOR_MAX_PENDING) {
		/* The worker is that far behind: drop the oldest, counted. */
		dropped_seq = c->pending[0].w.seq;
		aggregate__free(c->pending[0].agg);
		memmove(&c->pending[0], &c->pending[1],
			sizeof(c->pending[0]) * (c->nr_pending - 1));
		c->nr_pending--;
		nr_dropped = ++c->stats.windows_dropped;
	}
	c->pending[c->nr_pending++] = pw;
	pthread_cond_signal(&c->queue_cond);
	pthread_mutex_unlock(&c->queue_lock);
	if (dropped_seq != UINT64_MAX)
		log_err("window %llu dropped unbuilt: %d closed windows are waiting for the worker; %llu windows dropped so far",
			(unsigned long long)dropped_seq, COLLECTOR_MAX_PENDING,
			(unsigned long long)nr_dropped);

	c->cur = c->next;
	c->next = fresh;
	c->cur_start_ns = end_ns;
	c->cur_time_nanos = pw.w.time_nanos + pw.w.duration_nanos;
	c->cur_end_ns = window_end(c, c->cur_start_ns, c->cur_time_nanos);
	c->lost_at_open = lost;
	c->dropped_at_open = c->own.dropped;
	return 0;
}

/* ---- the worker thread ---- */

static void do_preload(struct collector *c, struct preload pl)
{
	const struct sym_map_entry *m;
	struct sym_map_entry copy;
	struct proc_entry *p;
	bool found = false;

	pthread_mutex_lock(&c->procs_lock);
	p = proctable__find(c->procs, pl.pid, pl.gen);
	m = p ? sym_maps__find(&p->maps, pl.start) : NULL;
	if (m && m->start == pl.start) {
		copy = *m;
		copy.path = strdup(m->path ? m->path : "");
		found = copy.path != NULL;
	}
	pthread_mutex_unlock(&c->procs_lock);
	if (found) {
		symbolizer__preload(c->sym, pl.pid, &copy);
		free(copy.path);
	}
}

static void build_window(struct collector *c, struct pending_window *pw)
{
	struct proc_source src = {
		.find_mapping = source_find_mapping,
		.labels = source_labels,
		.ctx = c,
	};
	struct profile_meta meta = {
		.freq_hz = c->opts.sampler.freq_hz,
		.time_nanos = pw->w.time_nanos,
		.duration_nanos = pw->w.duration_nanos,
		.comments = c->opts.comments,
		.nr_comments = c->opts.nr_comments,
		.proc_labels = c->opts.proc_labels,
		.one_shot = !c->opts.window_ns,
	};
	struct pprof_builder *b = NULL;
	struct proctable_stats ps;
	char **labels = NULL;
	size_t nr_labels = 0, i;
	int err;

	/* A private copy of the extra labels: a reload may replace them meanwhile. */
	pthread_mutex_lock(&c->queue_lock);
	labels = calloc(c->nr_labels + 1, sizeof(*labels));
	for (i = 0; labels && i < c->nr_labels; i++) {
		labels[i] = strdup(c->labels[i]);
		if (labels[i])
			nr_labels++;
	}
	pthread_mutex_unlock(&c->queue_lock);
	meta.extra_labels = (const char *const *)labels;
	meta.nr_extra_labels = nr_labels;

	if (c->opts.name_budget_ns)
		symbolizer__set_deadline(c->sym, now_ns(CLOCK_MONOTONIC) + c->opts.name_budget_ns);
	/* JIT names as the perf maps were when the window ended. */
	symbolizer__set_time(c->sym, (uint64_t)pw->end_mono_ns);
	err = profile_build(pw->agg, &src, c->sym, &meta, &b, &pw->w.build);
	symbolizer__set_deadline(c->sym, 0);
	if (err) {
		log_err("failed to build the profile of window %llu: %s",
			(unsigned long long)pw->w.seq, strerror(-err));
	} else {
		pthread_mutex_lock(&c->procs_lock);
		proctable__stats(c->procs, &ps);
		pthread_mutex_unlock(&c->procs_lock);
		pw->w.processes = ps.entries;
		if (c->opts.on_window(b, &pw->w, c->opts.ctx) == 1)
			b = NULL;
	}
	pprof_builder__free(b);
	free_labels(labels, nr_labels);
	aggregate__free(pw->agg);
	pw->agg = NULL;

	/* Processes that ended inside this window are of no more use. */
	pthread_mutex_lock(&c->procs_lock);
	proctable__reap(c->procs, pw->end_mono_ns);
	pthread_mutex_unlock(&c->procs_lock);

	pthread_mutex_lock(&c->queue_lock);
	c->stats.windows++;
	pthread_mutex_unlock(&c->queue_lock);
}

static void *worker_main(void *arg)
{
	struct collector *c = arg;
	struct pending_window pw;
	struct preload pl;

	/* Its own name in /proc/PID/task/TID/comm, for top -H and perf. */
	pthread_setname_np(pthread_self(), "smolder-worker");
	pthread_mutex_lock(&c->queue_lock);
	for (;;) {
		while (!c->quit && !c->nr_preloads && !c->nr_pending)
			pthread_cond_wait(&c->queue_cond, &c->queue_lock);
		if (c->nr_pending) {
			pw = c->pending[0];
			memmove(&c->pending[0], &c->pending[1],
				sizeof(c->pending[0]) * (c->nr_pending - 1));
			c->nr_pending--;
			pthread_mutex_unlock(&c->queue_lock);
			build_window(c, &pw);
			pthread_mutex_lock(&c->queue_lock);
		} else if (c->quit) {
			/* Parsing binaries for windows that will never come is wasted. */
			break;
		} else if (c->nr_preloads) {
			pl = c->preloads[c->preload_head];
			c->preload_head = (c->preload_head + 1) % COLLECTOR_MAX_PRELOADS;
			c->nr_preloads--;
			pthread_mutex_unlock(&c->queue_lock);
			do_preload(c, pl);
			pthread_mutex_lock(&c->queue_lock);
		}
	}
	pthread_mutex_unlock(&c->queue_lock);
	return NULL;
}

/* ---- lifecycle ---- */

/* Our vDSO and its size: the kernel maps the same image into every process. */
static void find_own_vdso(struct collector *c)
{
	struct sym_maps maps = {};
	size_t i;

	c->vdso_image = (const void *)getauxval(AT_SYSINFO_EHDR);
	if (!c->vdso_image || sym_maps__read(getpid(), &maps))
		goto out;
	for (i = 0; i < maps.nr; i++) {
		if ((uintptr_t)c->vdso_image == maps.entries[i].start)
			c->vdso_bytes = maps.entries[i].end - maps.entries[i].start;
	}
out:
	if (!c->vdso_bytes)
		c->vdso_image = NULL;
	sym_maps__free(&maps);
}

struct collector *collector__new(const struct collector_opts *opts)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct sampler_opts so;

	if (!c) {
		log_err("out of memory");
		return NULL;
	}
	c->opts = *opts;
	pthread_mutex_init(&c->procs_lock, NULL);
	pthread_mutex_init(&c->queue_lock, NULL);
	pthread_cond_init(&c->queue_cond, NULL);
	c->procs = proctable__new(COLLECTOR_MAX_PROCS);
	c->sym = symbolizer__new(&(struct symbolizer_opts){
		.max_bytes = opts->sym_bytes,
		.max_inflate_bytes = opts->sym_inflate_bytes,
		.log = log_symbolizer,
	});
	c->cur = aggregate__new(opts->agg_bytes);
	c->next = aggregate__new(opts->agg_bytes);
	c->preloads = calloc(COLLECTOR_MAX_PRELOADS, sizeof(*c->preloads));
	c->file_keys = calloc(COLLECTOR_FILE_KEYS, sizeof(*c->file_keys));
	c->unwind = unwind_cache__new(&(struct unwind_cache_opts){
		.max_bytes = opts->unwind_bytes ? opts->unwind_bytes : COLLECTOR_UNWIND_BYTES,
	});
	if (!c->procs || !c->sym || !c->cur || !c->next || !c->preloads || !c->unwind ||
	    !c->file_keys) {
		log_err("out of memory");
		goto err_out;
	}
	if (opts->sampler.stack_copy_bytes)
		find_own_vdso(c);
	so = opts->sampler;
	so.on_sample = on_sample;
	so.on_event = on_event;
	so.ctx = c;
	c->sampler = sampler__new(&so);
	if (!c->sampler)
		goto err_out;
	return c;

err_out:
	collector__free(c);
	return NULL;
}

void collector__free(struct collector *c)
{
	size_t i;

	if (!c)
		return;
	if (c->worker_started) {
		pthread_mutex_lock(&c->queue_lock);
		c->quit = true;
		pthread_cond_signal(&c->queue_cond);
		pthread_mutex_unlock(&c->queue_lock);
		pthread_join(c->worker, NULL);
	}
	sampler__free(c->sampler);
	for (i = 0; i < c->nr_pending; i++)
		aggregate__free(c->pending[i].agg);
	aggregate__free(c->cur);
	aggregate__free(c->next);
	proctable__free(c->procs);
	symbolizer__free(c->sym);
	unwind_cache__free(c->unwind);
	free(c->file_keys);
	free(c->preloads);
	free_labels(c->labels, c->nr_labels);
	pthread_mutex_destroy(&c->procs_lock);
	pthread_mutex_destroy(&c->queue_lock);
	pthread_cond_destroy(&c->queue_cond);
	free(c);
}

int collector__run(struct collector *c, volatile sig_atomic_t *stop, int64_t deadline_mono_ns)
{
	int64_t now;
	int err = 0, last_err = 0;

	if (!c->worker_started) {
		err = -pthread_create(&c->worker, NULL, worker_main, c);
		if (err) {
			log_err("failed to start the worker thread: %s", strerror(-err));
			return err;
		}
		c->worker_started = true;
		c->cur_start_ns = now_ns(CLOCK_MONOTONIC);
		c->cur_time_nanos = now_ns(CLOCK_REALTIME);
		c->cur_end_ns = window_end(c, c->cur_start_ns, c->cur_time_nanos);
		c->lost_at_open = lost_so_far(c);
	}

	while (!*stop) {
		now = now_ns(CLOCK_MONOTONIC);
		if (deadline_mono_ns && now >= deadline_mono_ns)
			break;
		err = sampler__poll(c->sampler, COLLECTOR_POLL_MS);
		if (err && err != -EINTR) {
			log_err("failed to read samples: %s", strerror(-err));
			break;
		}
		err = 0;
		pthread_mutex_lock(&c->queue_lock);
		publish_counts(c);
		pthread_mutex_unlock(&c->queue_lock);
		if (c->opts.on_tick)
			c->opts.on_tick(c->opts.ctx);
		/* Every sample stamped before the end has been drained by now. */
		if (c->cur_end_ns != INT64_MAX &&
		    now_ns(CLOCK_MONOTONIC) >= c->cur_end_ns + COLLECTOR_GRACE_NS) {
			err = close_window(c, c->cur_end_ns);
			if (err) {
				log_err("failed to close a window: %s", strerror(-err));
				break;
			}
		}
	}

	/* Stop sampling, drain, and close what is open: nothing sampled is left behind. */
	sampler__stop(c->sampler);
	/*
	 * The ring buffer, the BPF maps and the CFI tables are of no more use: the
	 * last windows are built without them held.
	 */
	pthread_mutex_lock(&c->queue_lock);
	publish_counts(c);
	sampler__release(c->sampler);
	unwind_cache__stats(c->unwind, &c->unwind_final);
	unwind_cache__free(c->unwind);
	c->unwind = NULL;
	pthread_mutex_unlock(&c->queue_lock);
	now = now_ns(CLOCK_MONOTONIC);
	if (now >= c->cur_end_ns) {
		last_err = close_window(c, c->cur_end_ns);
		if (last_err)
			log_err("failed to close window %llu at exit: %s; its samples are lost",
				(unsigned long long)c->seq, strerror(-last_err));
	}
	if (!last_err) {
		c->cur_end_ns = now;
		last_err = close_window(c, now);
		if (last_err)
			log_err("failed to close the last window (%llu) at exit: %s; its samples are lost",
				(unsigned long long)c->seq, strerror(-last_err));
	}
	if (!err)
		err = last_err;

	pthread_mutex_lock(&c->queue_lock);
	c->quit = true;
	pthread_cond_signal(&c->queue_cond);
	pthread_mutex_unlock(&c->queue_lock);
	pthread_join(c->worker, NULL);
	c->worker_started = false;
	return err;
}

int collector__set_labels(struct collector *c, const char *const *labels, size_t nr)
{
	char **copy = calloc(nr + 1, sizeof(*copy));
	size_t i;

	if (!copy)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		copy[i] = strdup(labels[i]);
		if (!copy[i]) {
			free_labels(copy, i);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&c->queue_lock);
	free_labels(c->labels, c->nr_labels);
	c->labels = copy;
	c->nr_labels = nr;
	pthread_mutex_unlock(&c->queue_lock);
	return 0;
}

void collector__stats(struct collector *c, struct collector_stats *ret)
{
	pthread_mutex_lock(&c->queue_lock);
	*ret = c->stats;
	/* The sampling thread frees the BPF objects and CFI cache under this lock when it stops. */
	if (!c->unwind)
		ret->unwind = c->unwind_final;
	sampler__counters(c->sampler, &ret->bpf);
	pthread_mutex_unlock(&c->queue_lock);
	symbolizer__stats(c->sym, &ret->sym);
	pthread_mutex_lock(&c->procs_lock);
	proctable__stats(c->procs, &ret->procs);
	ret->maps_errors = c->maps_errors;
	pthread_mutex_unlock(&c->procs_lock);
}

unsigned int collector__nr_cpus(const struct collector *c)
{
	return sampler__nr_cpus(c->sampler);
}
