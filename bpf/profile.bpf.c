// SPDX-License-Identifier: GPL-2.0
/*
 * The sampler: one perf event per online CPU runs do_sample() at a fixed
 * frequency. Each run fills a per-CPU scratch record (too big for the 512-byte
 * BPF stack) with the task's ids, names and kernel stack, and either the
 * frame-pointer user stack or the user registers plus a copy of the top of
 * the user stack (unwound in user space), and copies it to a ring buffer, cut
 * after what is used. A sample of a Go thread on its g0 (system) stack also
 * carries the switched-out goroutine's saved registers and the top of its
 * stack, found through the runtime's g and m structs (see profile.h), so user
 * space can unwind across runtime.systemstack, mcall and morestack. User space aggregates identical stacks; there is no
 * stack map, so no hash bucket can silently drop a stack.
 *
 * Processes: the known map remembers, per thread group, the generation the
 * BPF side gave it when it first sampled it. exec and exit (tp_btf
 * tracepoints, no tracefs) forget it and tell user space, so the next sample
 * of a reused pid or a new image gets a new generation. The first sample of a
 * generation wakes user space at once, so it can read the process's mappings
 * while the process still lives; every other record is written without a
 * wakeup and drained on a timer.
 *
 * Every outcome is counted in a per-CPU array (enum smolder_counter): a
 * record that does not fit in the ring buffer is counted as lost, never
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
const volatile __u32 stack_copy_bytes = 0; /* 0: frame-pointer user stacks */

__u32 next_gen = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized by user space before load */
} samples SEC(".maps");

/* One record per CPU, indexed by CPU number; sized to the CPU count before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
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

/* Thread group id -> generation, for processes sampled since their last exec. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SMOLDER_MAX_KNOWN);
	__type(key, __u32);
	__type(value, __u32);
} known SEC(".maps");

/*
 * Thread group id -> generation of the processes user space found Go code
 * in: only their samples look for a switched-out goroutine, so no other
 * process pays for the runtime struct reads.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SMOLDER_MAX_KNOWN);
	__type(key, __u32);
	__type(value, __u32);
} go_procs SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/*
 * Copies up to want bytes of user memory from addr to s->stack[at...], a
 * page at a time, stopping at the first hole. Returns the bytes copied.
 */
static __always_inline __u32 copy_stack(struct smolder_sample *s, __u32 at, __u64 addr, __u32 want)
{
	__u32 n = 0, len, off;
	int i;

	if (want > SMOLDER_STACK_COPY_MAX)
		want = SMOLDER_STACK_COPY_MAX;
	for (i = 0; i < SMOLDER_STACK_COPY_MAX / 4096 + 1; i++) {
		/* The first read ends at a page boundary: a short stack still copies. */
		len = i == 0 ? 4096 - (addr & 4095) : 4096;
		if (len > want - n)
			len = want - n;
		off = at + n;
		if (len == 0 || off > sizeof(s->stack) - 4096)
			break;
		if (bpf_probe_read_user(&s->stack[off], len & 8191, (void *)(addr + n)))
			break;
		n += len;
	}
	return n;
}

static __always_inline int read_user_u64(__u64 addr, __u64 *ret)
{
	return bpf_probe_read_user(ret, sizeof(*ret), (void *)addr);
}

/* Reads the gobuf at addr; false unless its g is want_g and its sp is in [lo, hi). */
static __always_inline bool read_gobuf(__u64 addr, __u64 want_g, __u64 lo, __u64 hi, __u64 *ret)
{
	__u64 buf[7];

	if (bpf_probe_read_user(buf, sizeof(buf), (void *)addr))
		return false;
	if (buf[SMOLDER_GO_GOBUF_G / 8] != want_g || buf[SMOLDER_GO_GOBUF_SP / 8] < lo ||
	    buf[SMOLDER_GO_GOBUF_SP / 8] >= hi)
		return false;
	ret[SMOLDER_REG_SP] = buf[SMOLDER_GO_GOBUF_SP / 8];
	ret[SMOLDER_REG_IP] = buf[SMOLDER_GO_GOBUF_PC / 8];
	ret[SMOLDER_REG_BP] = buf[SMOLDER_GO_GOBUF_BP / 8];
	return true;
}

enum go_state {
	GO_NONE = 0, /* not a Go g0, or nothing to add */
	GO_SWITCHED, /* on g0, a goroutine switched out: its sched and stack */
	GO_G0_ONLY, /* on g0, no goroutine: g0's own sched (where mstart1 left it) */
	GO_VDSO, /* a goroutine in a vDSO call on g0's stack: m.vdsoPC/vdsoSP and its stack */
};

/*
 * g, m's current goroutine, runs on another stack than its own: in a vDSO
 * call of runtime.nanotime1 or walltime (on g0's stack) when m.vdsoSP is in
 * g's stack with vdsoPC as the return address below it. The caller's frame
 * pointer is the one nanotime1 saved, 16 bytes below vdsoSP.
 */
static __always_inline enum go_state go_vdso_of(__u64 g, __u64 m, __u64 sp, __u64 *ret_sched,
						__u64 *ret_stack_hi)
{
	__u64 stack[2], vdso_sp, vdso_pc, ra, bp;

	if (bpf_probe_read_user(stack, sizeof(stack), (void *)(g + SMOLDER_GO_G_STACK_LO)) ||
	    (sp >= stack[0] && sp < stack[1]) ||
	    read_user_u64(m + SMOLDER_GO_M_VDSO_SP, &vdso_sp) ||
	    read_user_u64(m + SMOLDER_GO_M_VDSO_PC, &vdso_pc) || vdso_sp < stack[0] + 16 ||
	    vdso_sp >= stack[1] || read_user_u64(vdso_sp - 8, &ra) || ra != vdso_pc ||
	    read_user_u64(vdso_sp - 16, &bp))
		return GO_NONE;
	ret_sched[SMOLDER_REG_SP] = vdso_sp;
	ret_sched[SMOLDER_REG_IP] = vdso_pc;
	ret_sched[SMOLDER_REG_BP] = bp;
	*ret_stack_hi = stack[1];
	return GO_VDSO;
}

/*
 * g is the goroutine (runtime.g) the sampled thread was running, or
 * garbage. On the thread's g0 while a goroutine is switched out
 * (runtime.systemstack, mcall, morestack), *ret_sched gets that goroutine's
 * saved sp, pc, bp and *ret_stack_hi its stack's end; on g0 with no
 * goroutine (the scheduler, after mcall), g0's own; in a vDSO call on g0's
 * stack, the goroutine's m.vdsoPC/vdsoSP. Every pointer is checked
 * against the one it must equal, so a non-Go process or another struct
 * layout ends in GO_NONE.
 */
static __always_inline enum go_state go_state_of(__u64 g, __u64 sp, __u64 *ret_sched,
						 __u64 *ret_stack_hi)
{
	__u64 m, g0, curg, curg_m, stack[2];

	if (!g || (g & 7) || read_user_u64(g + SMOLDER_GO_G_M, &m) || !m || (m & 7) ||
	    read_user_u64(m + SMOLDER_GO_M_G0, &g0) || read_user_u64(m + SMOLDER_GO_M_CURG, &curg))
		return GO_NONE;
	if (g0 != g)
		return curg == g ? go_vdso_of(g, m, sp, ret_sched, ret_stack_hi) : GO_NONE;
	if (curg == g || (curg & 7))
		return GO_NONE;
	if (curg && !read_user_u64(curg + SMOLDER_GO_G_M, &curg_m) && curg_m == m &&
	    !bpf_probe_read_user(stack, sizeof(stack), (void *)(curg + SMOLDER_GO_G_STACK_LO)) &&
	    read_gobuf(curg + SMOLDER_GO_G_SCHED, curg, stack[0], stack[1], ret_sched)) {
		*ret_stack_hi = stack[1];
		return GO_SWITCHED;
	}
	/* No goroutine, or one the scheduler is attaching to m or detaching from it. */
	if (bpf_probe_read_user(stack, sizeof(stack), (void *)(g + SMOLDER_GO_G_STACK_LO)) ||
	    !read_gobuf(g + SMOLDER_GO_G_SCHED, g, sp, stack[1], ret_sched))
		return GO_NONE;
	return GO_G0_ONLY;
}

/*
 * A sample on a Go thread's g0 stack: the user stack copy ends at the
 * switch, so the goroutine below it is copied too, from its saved sp. g is
 * in R14 in Go code (the register ABI); in TLS otherwise.
 */
static __always_inline void copy_goroutine(struct smolder_sample *s, struct task_struct *task,
					   __u64 r14)
{
	__u64 sched[3], hi = 0, tls_g = 0, fsbase, sp = s->user_regs[SMOLDER_REG_SP];
	enum go_state state;
	__u32 want;

	state = go_state_of(r14, sp, sched, &hi);
	if (state == GO_NONE) {
		fsbase = BPF_CORE_READ(task, thread.fsbase);
		if (!fsbase || read_user_u64(fsbase + SMOLDER_GO_TLS_G_OFFSET, &tls_g) ||
		    tls_g == r14)
			return;
		state = go_state_of(tls_g, sp, sched, &hi);
		if (state == GO_NONE)
			return;
	}
	s->go_regs[SMOLDER_REG_IP] = sched[SMOLDER_REG_IP];
	s->go_regs[SMOLDER_REG_SP] = sched[SMOLDER_REG_SP];
	s->go_regs[SMOLDER_REG_BP] = sched[SMOLDER_REG_BP];
	if (state == GO_G0_ONLY) {
		s->flags |= SMOLDER_SAMPLE_F_GO_G0;
		return;
	}
	if (state == GO_VDSO)
		s->flags |= SMOLDER_SAMPLE_F_GO_VDSO;
	want = hi - sched[SMOLDER_REG_SP] > SMOLDER_GO_STACK_COPY_MAX ?
		       SMOLDER_GO_STACK_COPY_MAX :
		       (__u32)(hi - sched[SMOLDER_REG_SP]);
	s->go_stack_bytes = copy_stack(s, s->stack_copy_bytes, sched[SMOLDER_REG_SP], want);
	if (s->go_stack_bytes)
		s->flags |= SMOLDER_SAMPLE_F_GO_STACK;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid(), wake = BPF_RB_NO_WAKEUP;
	__u32 tgid = id >> 32, tid = (__u32)id, cpu, size, *known_gen, gen;
	struct smolder_sample *s;
	struct pt_regs *uregs;
	__u64 r14;
	__u32 *go_gen;
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
	cpu = bpf_get_smp_processor_id();
	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s)
		return 0;

	s->hdr.kind = SMOLDER_REC_SAMPLE;
	s->hdr.time_ns = bpf_ktime_get_ns();
	s->hdr.pid = tgid;
	s->hdr.tid = tid;
	s->hdr.reserved = 0;
	s->cpu = cpu;
	s->flags = 0;
	s->stack_copy_bytes = 0;
	s->go_stack_bytes = 0;

	known_gen = bpf_map_lookup_elem(&known, &tgid);
	if (known_gen) {
		gen = *known_gen;
	} else {
		gen = __sync_fetch_and_add(&next_gen, 1) + 1;
		bpf_map_update_elem(&known, &tgid, &gen, BPF_ANY);
		s->flags |= SMOLDER_SAMPLE_F_FIRST;
		wake = BPF_RB_FORCE_WAKEUP;
	}
	s->hdr.gen = gen;

	/* Kernel mode when the interrupted instruction pointer is a kernel address. */
	if ((long)PT_REGS_IP(&ctx->regs) < 0)
		s->flags |= SMOLDER_SAMPLE_F_KERNEL_MODE;
	bpf_get_current_comm(s->thread, sizeof(s->thread));
	BPF_CORE_READ_STR_INTO(&s->comm, task, group_leader, comm);

	kb = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
	if (kb < 0)
		count(SMOLDER_CNT_KSTACK_ERR);
	s->kstack_bytes = kb;
	s->ustack_bytes = 0;
	size = offsetof(struct smolder_sample, ustack);

	/* Kernel threads have no user stack. */
	if (!BPF_CORE_READ(task, mm)) {
		s->flags |= SMOLDER_SAMPLE_F_KTHREAD;
		goto out;
	}

	if (stack_copy_bytes) {
		/*
		 * In kernel mode, the user state is what the task saved on entry;
		 * in user mode, the interrupted registers (read as context fields,
		 * which the verifier rewrites: never through a copied pointer).
		 */
		if (s->flags & SMOLDER_SAMPLE_F_KERNEL_MODE) {
			uregs = (struct pt_regs *)bpf_task_pt_regs(task);
			s->user_regs[SMOLDER_REG_IP] = BPF_CORE_READ(uregs, ip);
			s->user_regs[SMOLDER_REG_SP] = BPF_CORE_READ(uregs, sp);
			s->user_regs[SMOLDER_REG_BP] = BPF_CORE_READ(uregs, bp);
			r14 = BPF_CORE_READ(uregs, r14);
		} else {
			s->user_regs[SMOLDER_REG_IP] = PT_REGS_IP(&ctx->regs);
			s->user_regs[SMOLDER_REG_SP] = PT_REGS_SP(&ctx->regs);
			s->user_regs[SMOLDER_REG_BP] = PT_REGS_FP(&ctx->regs);
			r14 = ctx->regs.r14;
		}
		s->flags |= SMOLDER_SAMPLE_F_USER_REGS | SMOLDER_SAMPLE_F_STACK_COPY;
		s->stack_copy_bytes =
			copy_stack(s, 0, s->user_regs[SMOLDER_REG_SP], stack_copy_bytes);
		go_gen = bpf_map_lookup_elem(&go_procs, &tgid);
		if (go_gen && *go_gen == gen)
			copy_goroutine(s, task, r14);
		size += s->stack_copy_bytes & (SMOLDER_STACK_COPY_MAX * 2 - 1);
		size += s->go_stack_bytes & (SMOLDER_GO_STACK_COPY_MAX * 2 - 1);
	} else {
		ub = bpf_get_stack(ctx, s->ustack, sizeof(s->ustack), BPF_F_USER_STACK);
		if (ub < 0)
			count(SMOLDER_CNT_USTACK_ERR);
		s->ustack_bytes = ub;
		if (ub > 0 && ub <= sizeof(s->ustack))
			size += ub;
	}
out:
	/* A bounded local, not the map value, so the verifier can check the size. */
	if (size > sizeof(*s))
		size = sizeof(*s);
	s->hdr.record_bytes = size;
	if (bpf_ringbuf_output(&samples, s, size, wake))
		count(SMOLDER_CNT_LOST);
	else
		count(SMOLDER_CNT_SENT);
	return 0;
}

static __always_inline void emit_event(__u32 kind, struct task_struct *p)
{
	struct smolder_event e = {};
	__u32 tgid = BPF_CORE_READ(p, tgid), *gen;

	gen = bpf_map_lookup_elem(&known, &tgid);
	/* A process never sampled is of no interest to user space. */
	if (!gen)
		return;
	e.hdr.kind = kind;
	e.hdr.record_bytes = sizeof(e);
	e.hdr.time_ns = bpf_ktime_get_ns();
	e.hdr.pid = tgid;
	e.hdr.tid = BPF_CORE_READ(p, pid);
	e.hdr.gen = *gen;
	BPF_CORE_READ_STR_INTO(&e.comm, p, comm);
	bpf_map_delete_elem(&known, &tgid);
	bpf_map_delete_elem(&go_procs, &tgid);
	if (bpf_ringbuf_output(&samples, &e, sizeof(e), BPF_RB_NO_WAKEUP))
		count(SMOLDER_CNT_EVENTS_LOST);
	else
		count(SMOLDER_CNT_EVENTS);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p)
{
	emit_event(SMOLDER_REC_EXEC, p);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	/* Only the thread group's end: the leader exits last. */
	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0;
	emit_event(SMOLDER_REC_EXIT, p);
	return 0;
}
