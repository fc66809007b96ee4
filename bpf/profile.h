/* SPDX-License-Identifier: MIT */
/*
 * Types shared by bpf/profile.bpf.c and user space. Only __u32/__u64 and
 * fixed arrays: the layout is the same on both sides.
 */
#ifndef SMOLDER_BPF_PROFILE_H
#define SMOLDER_BPF_PROFILE_H

#define SMOLDER_TASK_COMM_LEN 16
/* Frames per stack; the kernel's default kernel.perf_event_max_stack is 127. */
#define SMOLDER_MAX_STACK 127
#define SMOLDER_MAX_PIDS  4096

/* Indexes of the per-CPU counters map. */
enum smolder_counter {
	SMOLDER_CNT_SAMPLES = 0, /* perf events that ran the program */
	SMOLDER_CNT_SENT, /* records delivered to the ring buffer */
	SMOLDER_CNT_LOST, /* records that did not fit in the ring buffer */
	SMOLDER_CNT_IDLE, /* samples of the idle task, left out */
	SMOLDER_CNT_FILTERED, /* samples of processes not asked for */
	SMOLDER_CNT_KSTACK_ERR, /* kernel stack could not be read */
	SMOLDER_CNT_USTACK_ERR, /* user stack could not be read */
	SMOLDER_CNT_MAX,
};

#define SMOLDER_SAMPLE_F_KERNEL_MODE (1U << 0) /* the CPU was in kernel mode */

/*
 * One sample. Stacks are leaf first. The record sent through the ring buffer
 * is cut after the last used user frame: its size is
 * offsetof(ustack) + ustack_bytes. Later versions append a user register set
 * and a copy of the top of the user stack after ustack[]; record_bytes says
 * where the record ends so readers can skip what they do not know.
 */
struct smolder_sample {
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u32 pid; /* thread group id */
	__u32 tid;
	__u32 cpu;
	__u32 flags;
	__s32 kstack_bytes; /* bytes used in kstack, or a negative errno */
	__s32 ustack_bytes; /* bytes used in ustack, or a negative errno */
	__u32 record_bytes; /* bytes of this record */
	__u32 reserved;
	char comm[SMOLDER_TASK_COMM_LEN]; /* process (group leader) name */
	char thread[SMOLDER_TASK_COMM_LEN]; /* thread name */
	__u64 kstack[SMOLDER_MAX_STACK];
	__u64 ustack[SMOLDER_MAX_STACK];
};

#endif /* SMOLDER_BPF_PROFILE_H */
