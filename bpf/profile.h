/* SPDX-License-Identifier: MIT */
/*
 * Types shared by bpf/profile.bpf.c and user space. Only __u32/__u64 and
 * fixed arrays: the layout is the same on both sides.
 *
 * Every ring-buffer record starts with struct smolder_record_hdr; kind says
 * which struct follows, record_bytes where the record ends.
 */
#ifndef SMOLDER_BPF_PROFILE_H
#define SMOLDER_BPF_PROFILE_H

#define SMOLDER_TASK_COMM_LEN 16
/* Frames per stack; the kernel's default kernel.perf_event_max_stack is 127. */
#define SMOLDER_MAX_STACK 127
#define SMOLDER_MAX_PIDS  4096
/* The largest copy of the top of a user stack a sample can carry. */
#define SMOLDER_STACK_COPY_MAX (32 * 1024)
/*
 * The largest copy of a Go goroutine's stack a sample can carry, taken from
 * the goroutine's saved stack pointer when the sample ran on the thread's g0
 * (system) stack after runtime.systemstack, mcall or morestack.
 */
#define SMOLDER_GO_STACK_COPY_MAX (16 * 1024)
/*
 * Offsets in the Go runtime's structs (amd64, Go 1.17 and later: g.m,
 * g.sched, m.g0, m.curg and gobuf are laid out alike from 1.17 on; checked
 * against the DWARF of a Go 1.19 binary). A sample only uses them once they
 * check out: m.g0 is the sampled g, curg.m is m, curg.sched.g is curg and
 * the saved sp is inside curg's stack (with no curg: g0.sched.g is g0 and
 * its sp between the sampled sp and the end of g0's stack).
 */
#define SMOLDER_GO_G_STACK_LO 0
#define SMOLDER_GO_G_STACK_HI 8
#define SMOLDER_GO_G_M	      48
#define SMOLDER_GO_G_SCHED    56
#define SMOLDER_GO_M_G0	      0
#define SMOLDER_GO_M_CURG     192
#define SMOLDER_GO_GOBUF_SP   0
#define SMOLDER_GO_GOBUF_PC   8
#define SMOLDER_GO_GOBUF_G    16
#define SMOLDER_GO_GOBUF_BP   48
/*
 * m.vdsoSP, m.vdsoPC: runtime.nanotime1 and walltime call the vDSO on the
 * g0 stack without a g.sched, leaving the caller's sp and pc there. These
 * move between Go versions (Go 1.19's); a sample checks that vdsoSP is in
 * the goroutine's stack and that vdsoPC is the return address below it.
 */
#define SMOLDER_GO_M_VDSO_SP 800
#define SMOLDER_GO_M_VDSO_PC 808
/* Where Go keeps g in TLS when R14 does not hold it: fs_base - 8 (binaries without cgo). */
#define SMOLDER_GO_TLS_G_OFFSET (-8)
/* Processes the BPF side remembers having seen (LRU). */
#define SMOLDER_MAX_KNOWN 65536

enum smolder_record_kind {
	SMOLDER_REC_SAMPLE = 1,
	SMOLDER_REC_EXEC,
	SMOLDER_REC_EXIT,
};

/* Indexes of the per-CPU counters map. */
enum smolder_counter {
	SMOLDER_CNT_SAMPLES = 0, /* perf events that ran the program */
	SMOLDER_CNT_SENT, /* samples delivered to the ring buffer */
	SMOLDER_CNT_LOST, /* samples that did not fit in the ring buffer */
	SMOLDER_CNT_IDLE, /* samples of the idle task, left out */
	SMOLDER_CNT_FILTERED, /* samples of processes not asked for */
	SMOLDER_CNT_KSTACK_ERR, /* kernel stack could not be read */
	SMOLDER_CNT_USTACK_ERR, /* user stack could not be read */
	SMOLDER_CNT_EVENTS, /* exec and exit events delivered */
	SMOLDER_CNT_EVENTS_LOST, /* exec and exit events that did not fit */
	SMOLDER_CNT_MAX,
};

#define SMOLDER_SAMPLE_F_KERNEL_MODE (1U << 0) /* the CPU was in kernel mode */
#define SMOLDER_SAMPLE_F_FIRST	     (1U << 1) /* first sample of this process generation */
#define SMOLDER_SAMPLE_F_USER_REGS   (1U << 2) /* user_regs are valid */
#define SMOLDER_SAMPLE_F_STACK_COPY  (1U << 3) /* tail holds a copy of the user stack */
#define SMOLDER_SAMPLE_F_KTHREAD     (1U << 4) /* a kernel thread: no user space */
#define SMOLDER_SAMPLE_F_GO_STACK    (1U << 5) /* go_regs and a goroutine stack copy are valid */
#define SMOLDER_SAMPLE_F_GO_G0	     (1U << 6) /* go_regs are g0's own (no goroutine), on the copy */
#define SMOLDER_SAMPLE_F_GO_VDSO     (1U << 7) /* with _GO_STACK: go_regs are m.vdsoPC/vdsoSP */

struct smolder_record_hdr {
	__u32 kind; /* enum smolder_record_kind */
	__u32 record_bytes; /* bytes of this record */
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u32 pid; /* thread group id */
	__u32 tid;
	/*
	 * Generation of the process: a new value each time the BPF side sees a
	 * pid for the first time since an exec or exit, so a reused pid or an
	 * exec'ed image is never confused with the old one.
	 */
	__u32 gen;
	__u32 reserved;
};

/* SMOLDER_REC_EXEC (comm is the new image's) and SMOLDER_REC_EXIT (group leader). */
struct smolder_event {
	struct smolder_record_hdr hdr;
	char comm[SMOLDER_TASK_COMM_LEN];
};

/*
 * SMOLDER_REC_SAMPLE. Stacks are leaf first. The tail holds either the
 * frame-pointer user stack (ustack, ustack_bytes) or, with
 * SMOLDER_SAMPLE_F_STACK_COPY, stack_copy_bytes bytes of the user stack from
 * user_regs[SP] up, followed, with SMOLDER_SAMPLE_F_GO_STACK, by
 * go_stack_bytes bytes of the switched-out goroutine's stack from go_regs[SP]
 * up; the record is cut right after what is used.
 */
struct smolder_sample {
	struct smolder_record_hdr hdr;
	__u32 cpu;
	__u32 flags;
	__s32 kstack_bytes; /* bytes used in kstack, or a negative errno */
	__s32 ustack_bytes; /* bytes used in ustack, or a negative errno */
	__u32 stack_copy_bytes;
	__u32 go_stack_bytes; /* SMOLDER_SAMPLE_F_GO_STACK: bytes after the stack copy */
	__u64 user_regs[3]; /* SMOLDER_REG_IP, _SP, _BP at the sample (or the last kernel entry) */
	__u64 go_regs[3]; /* the goroutine's saved pc, sp, bp (g.sched), SMOLDER_REG_* order */
	char comm[SMOLDER_TASK_COMM_LEN]; /* process (group leader) name */
	char thread[SMOLDER_TASK_COMM_LEN]; /* thread name */
	__u64 kstack[SMOLDER_MAX_STACK];
	union {
		__u64 ustack[SMOLDER_MAX_STACK];
		__u8 stack[SMOLDER_STACK_COPY_MAX + SMOLDER_GO_STACK_COPY_MAX];
	};
};

enum smolder_reg {
	SMOLDER_REG_IP = 0,
	SMOLDER_REG_SP,
	SMOLDER_REG_BP
};

#endif /* SMOLDER_BPF_PROFILE_H */
