// SPDX-License-Identifier: MIT
/*
 * Aggregated samples -> pprof.
 *
 * Every distinct (address space, address) is named once: a small open-
 * addressing table maps it to its pprof location id, so a hot frame shared by
 * thousands of stacks costs one symbolizer lookup. User frames are named
 * first, sorted by the file they are in (name_user_frames()), so that the
 * symbolizer needs one file's DWARF at a time. Kernel addresses share one
 * address space; a user address is keyed by its process generation.
 *
 * Stacks are leaf first, kernel frames before user frames. Every kernel frame
 * but the leaf is a return address; it is named and stored as address - 1 so
 * it points into the call instruction, as the caller's line is what a reader
 * wants to see. User frames arrive already adjusted that way by the
 * collector, which alone knows which are return addresses (a frame a signal
 * interrupted is not). A user stack that did not reach its root ends in a
 * synthetic [truncated] frame.
 *
 * No frame is left without a name, nor named "": a user address no symbol
 * covers is named by its file and the start of its function in the file's
 * own (ELF virtual) address space, "bash+0x4a2b30", from the .eh_frame FDE
 * covering it (else by its own ELF address), so that the samples of one
 * unnamed function merge across processes; the location keeps the exact
 * address. Inlined frames without a name are left out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile_build.h"
#include "unwind.h"

#define KERNEL_SPACE	  (~0ULL)
#define KERNEL_MAP_START  0xffff800000000000ULL
#define KERNEL_MAP_LIMIT  0xffffffffffffffffULL
#define UNKNOWN_MAP_LIMIT 0x0000800000000000ULL

#define MAX_LABELS 48

struct loc_slot {
	uint64_t space; /* gen << 32 | pid, or KERNEL_SPACE; the slot is empty when id is 0 */
	uint64_t addr;
	uint64_t id;
};

struct build_ctx {
	struct pprof_builder *b;
	const struct proc_source *procs;
	const struct profile_meta *meta;
	struct symbolizer *sym;
	int64_t period;
	int64_t kernel_mapping;
	bool kernel_ok;
	struct loc_slot *slots;
	size_t nr_slots; /* power of two */
	size_t used;
	uint64_t *loc_ids; /* scratch: one stack's location ids */
	uint64_t truncated_loc; /* the synthetic [truncated] root, once made */
	struct user_frame *todo; /* distinct user frames, before they are named */
	size_t nr_todo, cap_todo;
	/* Function starts of the one file whose unnamed frames are being named. */
	struct unwind_funcs *funcs; /* NULL: none (not read yet, or no .eh_frame) */
	uint64_t funcs_dev, funcs_inode;
	bool funcs_read;
	struct profile_build_stats stats;
};

/* A distinct user frame, sorted by the file it is in before it is named. */
struct user_frame {
	uint64_t dev;
	uint64_t inode;
	uint64_t file_off; /* addr's offset in the file: same order as its ELF address */
	uint64_t space;
	uint64_t addr;
};

#define SLOT_PENDING UINT64_MAX /* a user frame seen, named by name_user_frames() */

static inline size_t slot_hash(uint64_t space, uint64_t addr)
{
	uint64_t h = (addr ^ (space * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;

	return (size_t)(h ^ (h >> 31));
}

static int slots_grow(struct build_ctx *c)
{
	size_t nr = c->nr_slots ? c->nr_slots * 2 : 4096, i, j;
	struct loc_slot *ns = calloc(nr, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (i = 0; i < c->nr_slots; i++) {
		if (!c->slots[i].id)
			continue;
		j = slot_hash(c->slots[i].space, c->slots[i].addr) & (nr - 1);
		while (ns[j].id)
			j = (j + 1) & (nr - 1);
		ns[j] = c->slots[i];
	}
	free(c->slots);
	c->slots = ns;
	c->nr_slots = nr;
	return 0;
}

/* The slot for (space, addr): found (id != 0) or the empty one to fill. */
static struct loc_slot *slot_find(struct build_ctx *c, uint64_t space, uint64_t addr)
{
	size_t j = slot_hash(space, addr) & (c->nr_slots - 1);

	while (c->slots[j].id && (c->slots[j].space != space || c->slots[j].addr != addr))
		j = (j + 1) & (c->nr_slots - 1);
	return &c->slots[j];
}

static bool name_empty(const char *name)
{
	return !name || !name[0];
}

/*
 * The lines of r, innermost first. An inlined frame without a name (DWARF
 * may give a line but no function) is left out: no frame gets the name "".
 * The physical function (the last line) may still be unnamed: the caller
 * names it or drops it.
 */
static void fill_lines(const struct sym_result *r, struct pprof_line_desc *lines, size_t *ret_nr)
{
	unsigned int i, n = 0;

	for (i = 0; i < r->nr_frames && i < SYMBOLIZER_MAX_FRAMES; i++) {
		if (name_empty(r->frames[i].name) && name_empty(r->frames[i].system_name) &&
		    i + 1 < r->nr_frames)
			continue;
		lines[n++] = (struct pprof_line_desc){
			.name = r->frames[i].name,
			.system_name = r->frames[i].system_name,
			.filename = r->frames[i].file,
			.line = r->frames[i].line,
			.column = r->frames[i].column,
		};
	}
	*ret_nr = n;
}

/* True when the physical function of lines (the last one) has no name. */
static bool physical_unnamed(const struct pprof_line_desc *lines, size_t nr)
{
	return nr && name_empty(lines[nr - 1].name) && name_empty(lines[nr - 1].system_name);
}

/* Reads the function starts of m's file, unless they are those of the last file asked for. */
static void funcs_load(struct build_ctx *c, pid_t pid, const struct sym_map_entry *m)
{
	uint64_t dev = (uint64_t)m->dev_major << 32 | m->dev_minor;
	int fd;

	if (c->funcs_read && c->funcs_dev == dev && c->funcs_inode == m->inode)
		return;
	unwind_funcs__free(c->funcs);
	c->funcs = NULL;
	c->funcs_read = true;
	c->funcs_dev = dev;
	c->funcs_inode = m->inode;
	if (sym_maps__open(pid, m, &fd))
		return;
	c->funcs = unwind_funcs__from_fd(fd);
	close(fd);
}

/*
 * The name of user address addr of mapping m when no symbol covers it: the
 * file's base name and the ELF virtual address of the function's start, from
 * the FDE covering addr ("bash+0x4a2b30"), else of addr itself. Every sample
 * in one unnamed function then merges, in every process of the file. False
 * when the ELF address is not known (anonymous memory, no ELF file): the
 * location then has no line, and readers show its address and mapping.
 * Frames come sorted by file, so one file's starts are held at once.
 */
static bool unnamed_user_name(struct build_ctx *c, pid_t pid, const struct sym_map_entry *m,
			      uint64_t addr, const struct sym_result *r, char *buf, size_t size)
{
	static const char deleted[] = " (deleted)";
	const char *path = m->path[0] ? m->path : "[anon]";
	const char *base = strrchr(path, '/');
	uint64_t vaddr = 0, start;
	bool have_vaddr = false;
	size_t len;

	base = base && base[1] ? base + 1 : path;
	len = strlen(base);
	/* A file replaced on disk is still the same code: merge with its other processes. */
	if (len > sizeof(deleted) - 1 && !strcmp(base + len - (sizeof(deleted) - 1), deleted))
		len -= sizeof(deleted) - 1;
	if (path[0] != '[') {
		funcs_load(c, pid, m);
		if (c->funcs)
			have_vaddr = !unwind_funcs__file_to_vaddr(
				c->funcs, addr - m->start + m->offset, &vaddr);
		if (!have_vaddr && r->elf_addr) {
			vaddr = r->elf_addr;
			have_vaddr = true;
		}
	}
	if (!have_vaddr)
		return false;
	if (c->funcs && !unwind_funcs__start(c->funcs, vaddr, &start)) {
		vaddr = start;
		c->stats.named_by_start++;
	} else {
		c->stats.named_by_address++;
	}
	snprintf(buf, size, "%.*s+0x%" PRIx64, (int)len, base, vaddr);
	return true;
}

/*
 * The mapping of a kernel module, from /proc/modules (address and size),
 * read once per profile; a module it does not list (BPF programs' "bpf")
 * gets the kernel's range under its own name. 0 or a negative errno.
 */
static int64_t module_mapping(struct build_ctx *c, const char *module)
{
	struct pprof_mapping_desc md = {
		.memory_start = KERNEL_MAP_START,
		.memory_limit = KERNEL_MAP_LIMIT,
		.has_functions = true,
	};
	char line[512], name[256], file[280];
	unsigned long long size, addr;
	FILE *f;

	snprintf(file, sizeof(file), "[%s]", module);
	md.filename = file;
	f = fopen(c->meta->modules_path ? c->meta->modules_path : "/proc/modules", "re");
	while (f && fgets(line, sizeof(line), f)) {
		/* "name size refcount deps state address" */
		if (sscanf(line, "%255s %llu %*s %*s %*s %llx", name, &size, &addr) == 3 &&
		    !strcmp(name, module) && addr) {
			md.memory_start = addr;
			md.memory_limit = addr + size;
			break;
		}
	}
	if (f)
		fclose(f);
	return pprof_builder__mapping(c->b, &md);
}

static int64_t kernel_location(struct build_ctx *c, uint64_t addr)
{
	struct pprof_line_desc lines[SYMBOLIZER_MAX_FRAMES];
	int64_t mapping = c->kernel_mapping;
	struct sym_result r;
	size_t nr = 0;

	memset(&r, 0, sizeof(r));
	if (c->kernel_ok && symbolizer__kernel(c->sym, addr, &r) == 0)
		fill_lines(&r, lines, &nr);
	else
		c->stats.kernel_unavailable++;
	if (physical_unnamed(lines, nr))
		nr--; /* shown as its address under its mapping */
	if (!nr)
		c->stats.unsymbolized++;
	/* A module's functions sit under the module's own mapping. */
	if (nr && r.module && r.module[0]) {
		mapping = module_mapping(c, r.module);
		if (mapping < 0)
			return mapping;
	}
	return pprof_builder__location(c->b, (uint64_t)mapping, addr, lines, nr);
}

static int64_t user_location(struct build_ctx *c, pid_t pid, uint32_t gen, uint64_t addr)
{
	struct pprof_line_desc lines[SYMBOLIZER_MAX_FRAMES];
	struct pprof_mapping_desc md;
	struct sym_map_entry entry, *m = NULL;
	char path[4096], unnamed[600];
	struct sym_result r;
	int64_t mapping_id;
	size_t nr = 0;

	if (c->procs->find_mapping(c->procs->ctx, pid, gen, addr, &entry, path, sizeof(path)) == 0)
		m = &entry;
	if (!m) {
		/* No mapping known: keep the address under an honest placeholder. */
		c->stats.no_mapping++;
		c->stats.unsymbolized++;
		md = (struct pprof_mapping_desc){
			.memory_start = 0,
			.memory_limit = UNKNOWN_MAP_LIMIT,
			.filename = "[unknown]",
		};
		mapping_id = pprof_builder__mapping(c->b, &md);
		if (mapping_id < 0)
			return mapping_id;
		return pprof_builder__location(c->b, (uint64_t)mapping_id, addr, NULL, 0);
	}

	memset(&r, 0, sizeof(r));
	if (symbolizer__user(c->sym, pid, m, addr, &r) == 0)
		fill_lines(&r, lines, &nr);
	if (!nr || physical_unnamed(lines, nr)) {
		c->stats.unsymbolized++;
		if (!nr)
			lines[nr++] = (struct pprof_line_desc){0};
		if (unnamed_user_name(c, pid, m, addr, &r, unnamed, sizeof(unnamed))) {
			lines[nr - 1].name = unnamed;
			lines[nr - 1].system_name = NULL;
		} else {
			nr--; /* no ELF address: readers show the exact address and mapping */
		}
	}
	md = (struct pprof_mapping_desc){
		.memory_start = m->start,
		.memory_limit = m->end,
		.file_offset = m->offset,
		.filename = m->path[0] ? m->path : "[anon]",
		.build_id = r.build_id,
		.has_functions = r.has_functions,
		.has_filenames = r.has_filenames,
		.has_line_numbers = r.has_line_numbers,
		.has_inline_frames = r.has_inline_frames,
	};
	mapping_id = pprof_builder__mapping(c->b, &md);
	if (mapping_id < 0)
		return mapping_id;
	return pprof_builder__location(c->b, (uint64_t)mapping_id, addr, lines, nr);
}

/* slot_find() with room kept for one more entry: NULL when growing failed. */
static struct loc_slot *slot_reserve(struct build_ctx *c, uint64_t space, uint64_t addr)
{
	if ((c->used + 1) * 2 > c->nr_slots && slots_grow(c))
		return NULL;
	return slot_find(c, space, addr);
}

static int64_t location(struct build_ctx *c, uint64_t space, uint64_t addr)
{
	struct loc_slot *slot = slot_reserve(c, space, addr);
	int64_t id;

	if (!slot)
		return -ENOMEM;
	if (slot->id)
		return (int64_t)slot->id;
	c->stats.frames++;
	if (space == KERNEL_SPACE)
		id = kernel_location(c, addr);
	else
		id = user_location(c, (pid_t)(uint32_t)space, (uint32_t)(space >> 32), addr);
	if (id < 0)
		return id;
	slot->space = space;
	slot->addr = addr;
	slot->id = (uint64_t)id;
	c->used++;
	return id;
}

/* Kernel frame i of e: return addresses point past their call. */
static uint64_t kernel_frame(const struct agg_entry *e, size_t i)
{
	return e->frames[i] - (i > 0);
}

static int cmp_user_frame(const void *a, const void *b)
{
	const struct user_frame *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->file_off != y->file_off)
		return x->file_off < y->file_off ? -1 : 1;
	if (x->space != y->space)
		return x->space < y->space ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Reserves a slot for each distinct user frame of e and lists the frame. */
static int collect_user_frames(const struct agg_entry *e, void *arg)
{
	struct build_ctx *c = arg;
	const struct agg_key *k = &e->key;
	uint64_t space = (uint64_t)k->gen << 32 | k->pid, addr;
	struct user_frame *grown;
	struct loc_slot *slot;
	size_t i;

	for (i = 0; i < k->nr_user; i++) {
		addr = e->frames[k->nr_kernel + i];
		slot = slot_reserve(c, space, addr);
		if (!slot)
			return -ENOMEM;
		if (slot->id)
			continue;
		if (c->nr_todo == c->cap_todo) {
			c->cap_todo = c->cap_todo ? c->cap_todo * 2 : 4096;
			grown = realloc(c->todo, c->cap_todo * sizeof(*c->todo));
			if (!grown)
				return -ENOMEM;
			c->todo = grown;
		}
		c->todo[c->nr_todo++] = (struct user_frame){.space = space, .addr = addr};
		slot->space = space;
		slot->addr = addr;
		slot->id = SLOT_PENDING;
		c->used++;
	}
	return 0;
}

/*
 * Names every distinct user frame, one file after another and by address
 * within a file: the symbolizer then needs one file's DWARF at a time, and
 * one unit of it after another. Under its caps the files and units done
 * with are unloaded instead of all being held at once.
 */
static int name_user_frames(struct build_ctx *c, const struct aggregate *agg)
{
	struct sym_map_entry m;
	struct user_frame *f;
	char path[4096];
	int64_t id;
	size_t i;
	int err;

	err = aggregate__for_each(agg, collect_user_frames, c);
	for (i = 0; !err && i < c->nr_todo; i++) {
		f = &c->todo[i];
		if (!c->procs->find_mapping(c->procs->ctx, (pid_t)(uint32_t)f->space,
					    (uint32_t)(f->space >> 32), f->addr, &m, path,
					    sizeof(path))) {
			f->dev = (uint64_t)m.dev_major << 32 | m.dev_minor;
			f->inode = m.inode;
			f->file_off = f->addr - m.start + m.offset;
		}
	}
	if (!err && c->nr_todo)
		qsort(c->todo, c->nr_todo, sizeof(*c->todo), cmp_user_frame);
	for (i = 0; !err && i < c->nr_todo; i++) {
		f = &c->todo[i];
		c->stats.frames++;
		id = user_location(c, (pid_t)(uint32_t)f->space, (uint32_t)(f->space >> 32),
				   f->addr);
		if (id < 0)
			err = (int)id;
		else
			slot_find(c, f->space, f->addr)->id = (uint64_t)id;
	}
	free(c->todo);
	c->todo = NULL;
	c->nr_todo = c->cap_todo = 0;
	return err;
}

/* Names the kernel frames of e: all of them before any user frame. */
static int name_kernel_frames(const struct agg_entry *e, void *arg)
{
	struct build_ctx *c = arg;
	int64_t id;
	size_t i;

	for (i = 0; i < e->key.nr_kernel; i++) {
		id = location(c, KERNEL_SPACE, kernel_frame(e, i));
		if (id < 0)
			return (int)id;
	}
	return 0;
}

/* The root of a user stack deeper than the copied window: never garbage frames. */
static const struct pprof_line_desc truncated_line = {.name = "[truncated]"};

static int add_entry(const struct agg_entry *e, void *arg)
{
	struct build_ctx *c = arg;
	const struct agg_key *k = &e->key;
	struct pprof_label_desc labels[MAX_LABELS];
	char comm[AGG_COMM_LEN + 1], thread[AGG_COMM_LEN + 1];
	char cgroup[PROC_CGROUP_LEN], unit[PROC_UNIT_LEN], cid[PROC_CID_LEN];
	char extra[MAX_LABELS][128];
	uint64_t space = (uint64_t)k->gen << 32 | k->pid;
	size_t n = 0, i, nl = 4;
	int64_t values[2], id;
	const char *eq;

	for (i = 0; i < k->nr_kernel; i++) {
		id = location(c, KERNEL_SPACE, kernel_frame(e, i));
		if (id < 0)
			return (int)id;
		c->loc_ids[n++] = (uint64_t)id;
	}
	/* User frames come already adjusted: each is the address to name. */
	for (i = 0; i < k->nr_user; i++) {
		id = location(c, space, e->frames[k->nr_kernel + i]);
		if (id < 0)
			return (int)id;
		c->loc_ids[n++] = (uint64_t)id;
	}
	if (k->flags & AGG_F_USER_TRUNCATED) {
		if (!c->truncated_loc) {
			id = pprof_builder__location(c->b, 0, 0, &truncated_line, 1);
			if (id < 0)
				return (int)id;
			c->truncated_loc = (uint64_t)id;
		}
		c->loc_ids[n++] = c->truncated_loc;
	}

	memcpy(comm, k->comm, AGG_COMM_LEN);
	comm[AGG_COMM_LEN] = '\0';
	memcpy(thread, k->thread, AGG_COMM_LEN);
	thread[AGG_COMM_LEN] = '\0';
	labels[0] = (struct pprof_label_desc){.key = "pid", .num = k->pid};
	labels[1] = (struct pprof_label_desc){.key = "tid", .num = k->tid};
	labels[2] = (struct pprof_label_desc){.key = "comm", .str = comm};
	labels[3] = (struct pprof_label_desc){.key = "thread", .str = thread};
	if (c->meta->proc_labels) {
		c->procs->labels(c->procs->ctx, (pid_t)k->pid, k->gen, cgroup, unit, cid);
		if (cgroup[0])
			labels[nl++] = (struct pprof_label_desc){.key = "cgroup", .str = cgroup};
		if (unit[0])
			labels[nl++] =
				(struct pprof_label_desc){.key = "systemd_unit", .str = unit};
		if (cid[0])
			labels[nl++] = (struct pprof_label_desc){.key = "container_id", .str = cid};
	}
	for (i = 0; i < c->meta->nr_extra_labels && nl < MAX_LABELS; i++) {
		eq = strchr(c->meta->extra_labels[i], '=');
		if (!eq || (size_t)(eq - c->meta->extra_labels[i]) >= sizeof(extra[0]))
			continue;
		memcpy(extra[nl], c->meta->extra_labels[i],
		       (size_t)(eq - c->meta->extra_labels[i]));
		extra[nl][eq - c->meta->extra_labels[i]] = '\0';
		labels[nl] = (struct pprof_label_desc){.key = extra[nl], .str = eq + 1};
		nl++;
	}
	values[0] = (int64_t)e->count;
	values[1] = (int64_t)e->count * c->period;
	return pprof_builder__sample(c->b, c->loc_ids, n, values, 2, labels, nl);
}

int profile_build(const struct aggregate *agg, const struct proc_source *procs,
		  struct symbolizer *sym, const struct profile_meta *meta,
		  struct pprof_builder **ret, struct profile_build_stats *ret_stats)
{
	static const struct pprof_value_type samples = {"samples", "count"};
	static const struct pprof_value_type cpu = {"cpu", "nanoseconds"};
	struct pprof_mapping_desc kmap = {
		.memory_start = KERNEL_MAP_START,
		.memory_limit = KERNEL_MAP_LIMIT,
		.filename = "[kernel.kallsyms]",
	};
	struct build_ctx c = {
		.procs = procs,
		.meta = meta,
		.sym = sym,
		.period = 1000000000LL / meta->freq_hz,
	};
	struct sym_result probe;
	size_t i;
	int err;

	c.b = pprof_builder__new();
	c.loc_ids = calloc(2 * 65536, sizeof(*c.loc_ids));
	if (!c.b || !c.loc_ids) {
		err = -ENOMEM;
		goto out;
	}
	err = pprof_builder__add_sample_type(c.b, &samples);
	if (!err)
		err = pprof_builder__add_sample_type(c.b, &cpu);
	if (!err)
		err = pprof_builder__set_period(c.b, &cpu, c.period);
	if (!err)
		err = pprof_builder__set_default_sample_type(c.b, "cpu");
	if (!err)
		err = pprof_builder__set_time(c.b, meta->time_nanos, meta->duration_nanos);
	for (i = 0; !err && i < meta->nr_comments; i++)
		err = pprof_builder__add_comment(c.b, meta->comments[i]);
	if (err)
		goto out;

	/* kallsyms readable? Then the kernel mapping honestly has functions. */
	memset(&probe, 0, sizeof(probe));
	c.kernel_ok = symbolizer__kernel(sym, KERNEL_MAP_START, &probe) == 0;
	kmap.has_functions = c.kernel_ok;
	c.kernel_mapping = pprof_builder__mapping(c.b, &kmap);
	if (c.kernel_mapping < 0) {
		err = (int)c.kernel_mapping;
		goto out;
	}
	err = slots_grow(&c);
	if (!err)
		err = aggregate__for_each(agg, name_kernel_frames, &c);
	/* Kernel frames first: then kallsyms and the user files' DWARF are never held at once. */
	if (meta->one_shot)
		symbolizer__drop_kernel(sym);
	if (!err)
		err = name_user_frames(&c, agg);
	if (!err)
		err = aggregate__for_each(agg, add_entry, &c);
out:
	unwind_funcs__free(c.funcs);
	free(c.slots);
	free(c.loc_ids);
	if (err) {
		pprof_builder__free(c.b);
		return err;
	}
	*ret = c.b;
	if (ret_stats)
		*ret_stats = c.stats;
	return 0;
}
