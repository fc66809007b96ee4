// SPDX-License-Identifier: GPL-2.0
/*
 * The sampler: one perf event per online CPU runs do_sample() at a fixed
 * frequency. Each run fills a per-CPU scratch record (too big for the 512-byte
 * BPF stack) with the task's ids, names and both stacks, and copies it to a
 * ring buffer, cut after the last user frame. User space aggregates identical
 * stacks; there is no stack map, so no hash bucket can silently drop a stack.
 *
 * Every outcome is counted in a per-CPU array (see enum smolder_counter):
 * a record that does not fit in the ring buffer is counted as lost, never
 * dropped silently.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "profile.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile bool include_idle = false;
const volatile bool filter_pids = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized by user space before load */
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct smolder_sample);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SMOLDER_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Thread group ids to sample when filter_pids is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SMOLDER_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct smolder_sample *s;
	__u32 zero = 0, size;
	long kb, ub;

	count(SMOLDER_CNT_SAMPLES);
	if (tid == 0 && !include_idle) {
		count(SMOLDER_CNT_IDLE);
		return 0;
	}
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid)) {
		count(SMOLDER_CNT_FILTERED);
		return 0;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;

	s->time_ns = bpf_ktime_get_ns();
	s->pid = tgid;
	s->tid = tid;
	s->cpu = bpf_get_smp_processor_id();
	s->flags = 0;
	/* Kernel mode when the interrupted instruction pointer is a kernel address. */
	if ((long)PT_REGS_IP(&ctx->regs) < 0)
		s->flags |= SMOLDER_SAMPLE_F_KERNEL_MODE;
	s->reserved = 0;
	bpf_get_current_comm(s->thread, sizeof(s->thread));
	BPF_CORE_READ_STR_INTO(&s->comm, task, group_leader, comm);

	kb = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
	if (kb < 0)
		count(SMOLDER_CNT_KSTACK_ERR);
	s->kstack_bytes = kb;

	ub = 0;
	/* Kernel threads have no user stack. */
	if (BPF_CORE_READ(task, mm)) {
		ub = bpf_get_stack(ctx, s->ustack, sizeof(s->ustack), BPF_F_USER_STACK);
		if (ub < 0)
			count(SMOLDER_CNT_USTACK_ERR);
	}
	s->ustack_bytes = ub;
	if (ub < 0)
		ub = 0;
	if (ub > sizeof(s->ustack))
		ub = sizeof(s->ustack);
	/* A bounded local, not the map value, so the verifier can check the size. */
	size = offsetof(struct smolder_sample, ustack) + ub;
	s->record_bytes = size;

	/*
	 * No wakeup: user space drains the buffer on a timer, so a sample costs
	 * no context switch. The buffer holds a second of samples.
	 */
	if (bpf_ringbuf_output(&samples, s, size, BPF_RB_NO_WAKEUP))
		count(SMOLDER_CNT_LOST);
	else
		count(SMOLDER_CNT_SENT);
	return 0;
}
