// SPDX-License-Identifier: MIT
/*
 * The sampler: BPF skeleton lifecycle and perf events.
 *
 * open -> set .rodata knobs and the ring buffer size -> load -> fill the pid
 * filter -> one perf event per online CPU, the program attached to each ->
 * poll the ring buffer -> detach -> drain -> destroy.
 *
 * The BPF side writes without waking user space, but for the first sample of
 * a process (sampler__poll() returns at once for it); user space drains the
 * ring buffer at least every 100 ms. The buffer is sized from the CPU count and the
 * frequency to hold a quarter second of full-size records, a 2.5-fold margin: a
 * record that still does not fit is counted in the BPF "lost" counter and
 * reported, never silently dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "profile.skel.h"
#include "sampler.h"

#define SAMPLER_MAX_CPUS 8192

struct sampler {
	struct profile_bpf *skel;
	struct ring_buffer *rb;
	int *event_fds;
	struct bpf_link **links;
	unsigned int nr_cpus; /* slots in event_fds and links */
	unsigned int nr_attached; /* CPUs sampled */
	struct bpf_link *exec_link, *exit_link;
	sampler_fn on_sample;
	sampler_event_fn on_event;
	void *ctx;
	uint64_t bad_records; /* atomic: counted while polling, read by sampler__counters() */
	bool stopped;
	struct sampler_counters final; /* once stopped */
};

__attribute__((format(printf, 2, 0))) static int libbpf_print(enum libbpf_print_level level,
							      const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && smolder_verbosity < 2)
		return 0;
	if (level != LIBBPF_DEBUG && smolder_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1U << (cap % 32));
}

int sampler__check_system(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (geteuid() != 0 && !(has_cap(CAP_BPF) && has_cap(CAP_PERFMON))) {
		log_err("sampling needs root, or the CAP_BPF and CAP_PERFMON capabilities; run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log_err("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); smolder needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, Linux 5.15 or newer");
		return -ENOTSUP;
	}
	if (!uname(&u) && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 15)))
		log_warn(
			"kernel %s is older than 5.15, the oldest smolder is tested on; continuing",
			u.release);
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		log_err("this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux 5.8+); upgrade to Linux 5.15 or newer");
		return -ENOTSUP;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_PERF_EVENT, NULL) != 1) {
		log_err("this kernel cannot run BPF perf_event programs (CONFIG_BPF_EVENTS); use a kernel built with it");
		return -ENOTSUP;
	}
	return 0;
}

/* Parses /sys/devices/system/cpu/online ("0-3,5,7-8") into a bitmap of online CPUs. */
static int online_cpus(bool *online, unsigned int max, unsigned int *ret_max_cpu)
{
	unsigned int a, b, hi = 0, i;
	char buf[4096], *p, *end;
	ssize_t n;
	int fd;

	fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	for (p = buf; *p && *p != '\n';) {
		a = strtoul(p, &end, 10);
		if (end == p)
			return -EINVAL;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtoul(p + 1, &end, 10);
			if (end == p + 1)
				return -EINVAL;
			p = end;
		}
		for (i = a; i <= b && i < max; i++)
			online[i] = true;
		if (b + 1 > hi)
			hi = b + 1;
		if (*p == ',')
			p++;
	}
	*ret_max_cpu = hi < max ? hi : max;
	return 0;
}

static void count_bad_record(struct sampler *s)
{
	__atomic_fetch_add(&s->bad_records, 1, __ATOMIC_RELAXED);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	const struct smolder_record_hdr *hdr = data;
	struct sampler *s = ctx;

	if (size < sizeof(*hdr) || hdr->record_bytes > size) {
		count_bad_record(s);
		return 0;
	}
	switch (hdr->kind) {
	case SMOLDER_REC_SAMPLE:
		if (hdr->record_bytes < offsetof(struct smolder_sample, ustack)) {
			count_bad_record(s);
			break;
		}
		s->on_sample(data, hdr->record_bytes, s->ctx);
		break;
	case SMOLDER_REC_EXEC:
	case SMOLDER_REC_EXIT:
		if (hdr->record_bytes < sizeof(struct smolder_event)) {
			count_bad_record(s);
			break;
		}
		if (s->on_event)
			s->on_event(data, s->ctx);
		break;
	default:
		count_bad_record(s);
	}
	return 0;
}

static size_t ringbuf_size(const struct sampler_opts *opts, unsigned int nr_cpus)
{
	/*
	 * ringbuf_ms of full-size records from every CPU (the drain runs every
	 * 100 ms), as a power of two in [1, 256] MiB. The data pages are mapped
	 * twice (the ring's wrap-around), so they count twice in RSS.
	 */
	uint64_t record = offsetof(struct smolder_sample, ustack) +
			  (opts->stack_copy_bytes ? opts->stack_copy_bytes :
						    sizeof(((struct smolder_sample *)0)->ustack));
	unsigned int ms = opts->ringbuf_ms ? opts->ringbuf_ms : 1000;
	uint64_t want = (uint64_t)nr_cpus * opts->freq_hz * record * ms / 1000;
	size_t size = 1 << 20;

	while (size < want && size < (256u << 20))
		size <<= 1;
	return size;
}

static int open_event(const struct sampler_opts *opts, unsigned int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
	};

	if (opts->event == SAMPLER_EVENT_CYCLES) {
		attr.type = PERF_TYPE_HARDWARE;
		attr.config = PERF_COUNT_HW_CPU_CYCLES;
		attr.freq = 1;
		attr.sample_freq = opts->freq_hz;
	} else {
		/* cpu-clock counts nanoseconds: a fixed period is an exact frequency. */
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		attr.sample_period = 1000000000ULL / opts->freq_hz;
	}
	return (int)syscall(SYS_perf_event_open, &attr, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static void explain_perf_error(const struct sampler_opts *opts, int err, unsigned int cpu)
{
	char paranoid[32] = "?";
	FILE *f;

	if (opts->event == SAMPLER_EVENT_CYCLES && (err == ENOENT || err == EOPNOTSUPP)) {
		log_err("the cycles event is not available on this machine (no hardware PMU, as in most VMs); leave out --event to use cpu-clock");
		return;
	}
	if (err == EACCES || err == EPERM) {
		f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
		if (f) {
			if (!fgets(paranoid, sizeof(paranoid), f))
				strcpy(paranoid, "?");
			paranoid[strcspn(paranoid, "\n")] = '\0';
			fclose(f);
		}
		log_err("perf events are not permitted (kernel.perf_event_paranoid=%s); run as root or with CAP_PERFMON",
			paranoid);
		return;
	}
	log_err("failed to open a perf event on CPU %u: %s", cpu, strerror(err));
}

struct sampler *sampler__new(const struct sampler_opts *opts)
{
	bool *online = NULL;
	unsigned int max_cpu = 0, cpu, nr_online = 0;
	struct sampler *s;
	__u8 one = 1;
	size_t i;
	int err, fd;

	libbpf_set_print(libbpf_print);
	if (sampler__check_system())
		return NULL;

	s = calloc(1, sizeof(*s));
	online = calloc(SAMPLER_MAX_CPUS, sizeof(*online));
	if (!s || !online) {
		log_err("out of memory");
		goto err_out;
	}
	s->on_sample = opts->on_sample;
	s->on_event = opts->on_event;
	s->ctx = opts->ctx;

	err = online_cpus(online, SAMPLER_MAX_CPUS, &max_cpu);
	if (err) {
		log_err("failed to read /sys/devices/system/cpu/online: %s", strerror(-err));
		goto err_out;
	}
	for (cpu = 0; cpu < max_cpu; cpu++)
		nr_online += online[cpu];

	s->skel = profile_bpf__open();
	if (!s->skel) {
		log_err("failed to open the BPF program: %s", strerror(errno));
		goto err_out;
	}
	s->skel->rodata->include_idle = opts->include_idle;
	s->skel->rodata->filter_pids = opts->nr_pids > 0;
	s->skel->rodata->stack_copy_bytes = opts->stack_copy_bytes;
	if (!opts->track_processes) {
		bpf_program__set_autoload(s->skel->progs.on_exec, false);
		bpf_program__set_autoload(s->skel->progs.on_exit, false);
	}
	err = bpf_map__set_max_entries(s->skel->maps.samples, ringbuf_size(opts, nr_online));
	if (!err)
		err = bpf_map__set_max_entries(s->skel->maps.scratch, max_cpu);
	if (!err)
		err = profile_bpf__load(s->skel);
	if (err) {
		log_err("failed to load the BPF program: %s; run with -v for the loader's messages",
			strerror(-err));
		goto err_out;
	}
	for (i = 0; i < opts->nr_pids; i++) {
		__u32 pid = (__u32)opts->pids[i];

		if (bpf_map__update_elem(s->skel->maps.pids, &pid, sizeof(pid), &one, sizeof(one),
					 BPF_ANY)) {
			log_err("failed to add pid %u to the BPF filter: %s", pid, strerror(errno));
			goto err_out;
		}
	}

	s->event_fds = calloc(max_cpu, sizeof(*s->event_fds));
	s->links = calloc(max_cpu, sizeof(*s->links));
	if (!s->event_fds || !s->links) {
		log_err("out of memory");
		goto err_out;
	}
	for (cpu = 0; cpu < max_cpu; cpu++)
		s->event_fds[cpu] = -1;
	s->nr_cpus = max_cpu;
	for (cpu = 0; cpu < max_cpu; cpu++) {
		if (!online[cpu])
			continue;
		fd = open_event(opts, cpu);
		if (fd < 0) {
			/* A CPU that went offline since we read the list is not an error. */
			if (errno == ENODEV)
				continue;
			explain_perf_error(opts, errno, cpu);
			goto err_out;
		}
		s->event_fds[cpu] = fd;
		s->links[cpu] = bpf_program__attach_perf_event(s->skel->progs.do_sample, fd);
		if (!s->links[cpu]) {
			err = -errno;
			s->links[cpu] = NULL;
			log_err("failed to attach the BPF program to CPU %u: %s", cpu,
				strerror(-err));
			goto err_out;
		}
		s->nr_attached++;
	}

	if (opts->track_processes) {
		s->exec_link = bpf_program__attach(s->skel->progs.on_exec);
		s->exit_link = bpf_program__attach(s->skel->progs.on_exit);
		if (!s->exec_link || !s->exit_link) {
			log_err("failed to attach the exec/exit tracepoints (tp_btf): %s; the kernel needs BTF for tracepoints (5.5+)",
				strerror(errno));
			goto err_out;
		}
	}

	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), handle_record, s, NULL);
	if (!s->rb) {
		log_err("failed to create the ring buffer reader: %s", strerror(errno));
		goto err_out;
	}
	free(online);
	return s;

err_out:
	free(online);
	sampler__free(s);
	return NULL;
}

static void detach(struct sampler *s)
{
	unsigned int cpu;

	for (cpu = 0; s->links && cpu < s->nr_cpus; cpu++) {
		bpf_link__destroy(s->links[cpu]);
		s->links[cpu] = NULL;
	}
	for (cpu = 0; s->event_fds && cpu < s->nr_cpus; cpu++) {
		if (s->event_fds[cpu] >= 0)
			close(s->event_fds[cpu]);
		s->event_fds[cpu] = -1;
	}
	bpf_link__destroy(s->exec_link);
	bpf_link__destroy(s->exit_link);
	s->exec_link = NULL;
	s->exit_link = NULL;
}

void sampler__free(struct sampler *s)
{
	if (!s)
		return;
	detach(s);
	ring_buffer__free(s->rb);
	profile_bpf__destroy(s->skel);
	free(s->event_fds);
	free(s->links);
	free(s);
}

int sampler__poll(struct sampler *s, int timeout_ms)
{
	int n;

	/*
	 * Sleeps in epoll: samples are written without a wakeup, but the first
	 * one of a new process generation forces one, so its mappings are read
	 * while a process that lives a few milliseconds still exists.
	 */
	n = ring_buffer__poll(s->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	/* A timeout drains nothing by itself: what came without a wakeup is read now. */
	if (ring_buffer__consume(s->rb) < 0)
		return -EIO;
	return n == -EINTR ? -EINTR : 0;
}

int sampler__stop(struct sampler *s)
{
	int n;

	detach(s);
	n = ring_buffer__consume(s->rb);
	return n < 0 ? n : 0;
}

void sampler__release(struct sampler *s)
{
	if (s->stopped)
		return;
	sampler__counters(s, &s->final);
	s->stopped = true;
	ring_buffer__free(s->rb);
	s->rb = NULL;
	profile_bpf__destroy(s->skel);
	s->skel = NULL;
}

unsigned int sampler__nr_cpus(const struct sampler *s)
{
	return s->nr_attached;
}

int sampler__mark_go(struct sampler *s, pid_t pid, uint32_t gen)
{
	__u32 key = (__u32)pid, value = gen;

	if (!s->skel)
		return -ENODEV;
	if (bpf_map__update_elem(s->skel->maps.go_procs, &key, sizeof(key), &value, sizeof(value),
				 BPF_ANY))
		return -errno;
	return 0;
}

void sampler__counters(const struct sampler *s, struct sampler_counters *ret)
{
	int nr_possible = libbpf_num_possible_cpus();
	__u64 *values;
	__u32 key;
	int cpu;

	if (s->stopped) {
		*ret = s->final;
		return;
	}
	memset(ret, 0, sizeof(*ret));
	ret->bad_records = __atomic_load_n(&s->bad_records, __ATOMIC_RELAXED);
	if (nr_possible <= 0)
		return;
	values = calloc((size_t)nr_possible, sizeof(*values));
	if (!values)
		return;
	for (key = 0; key < SMOLDER_CNT_MAX; key++) {
		if (bpf_map__lookup_elem(s->skel->maps.counters, &key, sizeof(key), values,
					 sizeof(*values) * (size_t)nr_possible, 0))
			continue;
		for (cpu = 0; cpu < nr_possible; cpu++)
			ret->v[key] += values[cpu];
	}
	free(values);
}
