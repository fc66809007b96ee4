// SPDX-License-Identifier: MIT
/*
 * Unit tests of profiler/profile_build.c (no root): kernel frames against a
 * kallsyms text with module and BPF symbols (tests/data/kallsyms.txt) and a
 * /proc/modules text (tests/data/modules.txt). A module's functions sit
 * under one mapping named [module] spanning the module's address range; a
 * BPF program (in kallsyms as module "bpf", not in /proc/modules) under
 * [bpf] spanning the kernel's range; the core kernel under
 * [kernel.kallsyms]. The profile is packed and read back as any reader would.
 *
 * User frames no symbol covers, in a fixture library (fixtures/
 * unnamed_lines.S, dlopen()ed here) whose DWARF gives lines but no function:
 * no Function may be named "", and the frames are named by file and FDE
 * start ("libunnamed_lines.so+0x1010"), or by their own ELF address where no
 * FDE covers them.
 */
#define _GNU_SOURCE /* dladdr() */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aggregate.h"
#include "pprof.h"
#include "profile_build.h"

#define KERNEL_START 0xffff800000000000ULL

static int no_mapping(void *ctx, pid_t pid, uint32_t gen, uint64_t addr, struct sym_map_entry *ret,
		      char *path, size_t path_len)
{
	return -ENOENT;
}

static void no_labels(void *ctx, pid_t pid, uint32_t gen, char cgroup[PROC_CGROUP_LEN],
		      char unit[PROC_UNIT_LEN], char container_id[PROC_CID_LEN])
{
	cgroup[0] = unit[0] = container_id[0] = '\0';
}

static void add_stack(struct aggregate *a, const uint64_t *ks, uint16_t nk)
{
	struct agg_key k;

	memset(&k, 0, sizeof(k));
	k.pid = 42;
	k.tid = 42;
	strcpy(k.comm, "kworker");
	strcpy(k.thread, "kworker");
	k.nr_kernel = nk;
	assert_int_equal(aggregate__add(a, &k, ks, NULL, 1), 0);
}

/* The mapping of the location whose innermost function is name; fails if none. */
static const Perftools__Profiles__Mapping *mapping_of(const pprof_profile_t *p, const char *name)
{
	const Perftools__Profiles__Location *loc;
	const Perftools__Profiles__Function *fn;
	size_t i;

	for (i = 0; i < p->n_location; i++) {
		loc = p->location[i];
		if (!loc->n_line)
			continue;
		fn = p->function[loc->line[0]->function_id - 1];
		if (strcmp(p->string_table[fn->name], name))
			continue;
		assert_true(loc->mapping_id >= 1 && loc->mapping_id <= p->n_mapping);
		return p->mapping[loc->mapping_id - 1];
	}
	fail_msg("no location named %s", name);
	return NULL;
}

static size_t mappings_named(const pprof_profile_t *p, const char *file)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_mapping; i++)
		n += !strcmp(p->string_table[p->mapping[i]->filename], file);
	return n;
}

static void test_module_mappings(void **state)
{
	/* Leaf first; every frame but the leaf is a return address (named at - 1). */
	const uint64_t one[] = {0xffffffffc0001810ULL, 0xffffffffc0003011ULL, 0xffffffffc0005021ULL,
				0xffffffff81001011ULL};
	const uint64_t two[] = {0xffffffffc0001004ULL, 0xffffffff81001011ULL};
	struct symbolizer_opts so = {
		.kallsyms = SMOLDER_DATA_DIR "/kallsyms.txt",
		.no_debuginfod = true,
	};
	struct profile_meta meta = {
		.freq_hz = 99,
		.time_nanos = 1,
		.duration_nanos = 1000000000,
		.modules_path = SMOLDER_DATA_DIR "/modules.txt",
	};
	struct proc_source src = {.find_mapping = no_mapping, .labels = no_labels};
	const Perftools__Profiles__Mapping *m;
	struct profile_build_stats st;
	struct pprof_builder *b = NULL;
	struct aggregate *a;
	struct symbolizer *sym;
	pprof_profile_t *p;
	uint8_t *buf;
	size_t len;

	a = aggregate__new(1 << 20);
	sym = symbolizer__new(&so);
	assert_non_null(a);
	assert_non_null(sym);
	add_stack(a, one, 4);
	add_stack(a, two, 2);
	assert_int_equal(profile_build(a, &src, sym, &meta, &b, &st), 0);
	assert_int_equal(st.unsymbolized, 0);
	assert_int_equal(st.kernel_unavailable, 0);
	assert_int_equal(pprof_builder__pack(b, &buf, &len), 0);
	assert_int_equal(pprof__read_mem(buf, len, &p), 0);

	/* Two ext4 functions, one [ext4] mapping with the module's range. */
	m = mapping_of(p, "ext4_mod_fn_b");
	assert_string_equal(p->string_table[m->filename], "[ext4]");
	assert_int_equal(m->memory_start, 0xffffffffc0001000ULL);
	assert_int_equal(m->memory_limit, 0xffffffffc0001000ULL + 12288);
	assert_true(m->has_functions);
	assert_ptr_equal(mapping_of(p, "ext4_mod_fn_a"), m);
	assert_int_equal(mappings_named(p, "[ext4]"), 1);

	m = mapping_of(p, "xfs_mod_fn");
	assert_string_equal(p->string_table[m->filename], "[xfs]");
	assert_int_equal(m->memory_start, 0xffffffffc0003000ULL);
	assert_int_equal(m->memory_limit, 0xffffffffc0003000ULL + 8192);

	/* BPF programs have no /proc/modules line: the kernel's whole range. */
	m = mapping_of(p, "bpf_prog_6deef7357e7b4530_sd_fw_ingress");
	assert_string_equal(p->string_table[m->filename], "[bpf]");
	assert_int_equal(m->memory_start, KERNEL_START);

	m = mapping_of(p, "do_syscall_64");
	assert_string_equal(p->string_table[m->filename], "[kernel.kallsyms]");
	assert_int_equal(mappings_named(p, "[kernel.kallsyms]"), 1);

	pprof__profile_free(p);
	free(buf);
	pprof_builder__free(b);
	symbolizer__free(sym);
	aggregate__free(a);
}

/* The test process's own mappings, for the unnamed-frame test. */
static int own_mapping(void *ctx, pid_t pid, uint32_t gen, uint64_t addr, struct sym_map_entry *ret,
		       char *path, size_t path_len)
{
	const struct sym_map_entry *m = sym_maps__find(ctx, addr);

	if (!m || (pid_t)pid != getpid())
		return -ENOENT;
	*ret = *m;
	snprintf(path, path_len, "%s", m->path);
	ret->path = path;
	return 0;
}

/* The location at address addr; fails if none. */
static const Perftools__Profiles__Location *location_at(const pprof_profile_t *p, uint64_t addr)
{
	size_t i;

	for (i = 0; i < p->n_location; i++)
		if (p->location[i]->address == addr)
			return p->location[i];
	fail_msg("no location at 0x%" PRIx64, addr);
	return NULL;
}

static const char *physical_name(const pprof_profile_t *p, const Perftools__Profiles__Location *l)
{
	assert_true(l->n_line >= 1);
	assert_true(l->line[l->n_line - 1]->function_id >= 1);
	return p->string_table[p->function[l->line[l->n_line - 1]->function_id - 1]->name];
}

static void test_unnamed_user_frames(void **state)
{
	struct symbolizer_opts so = {.no_debuginfod = true, .debug_root = "/nonexistent"};
	struct profile_meta meta = {.freq_hz = 99, .time_nanos = 1, .duration_nanos = 1};
	struct proc_source src = {.find_mapping = own_mapping, .labels = no_labels};
	char want[512], lib[] = SMOLDER_FIXTURE_SO;
	struct profile_build_stats st;
	struct pprof_builder *b = NULL;
	struct sym_maps maps = {0};
	uint64_t frames[3], vaddr[3];
	struct agg_key k;
	struct aggregate *a;
	struct symbolizer *sym;
	const uint64_t *delta;
	pprof_profile_t *p;
	uintptr_t named;
	Dl_info info;
	uint8_t *buf;
	void *h;
	size_t len, i;

	h = dlopen(SMOLDER_FIXTURE_SO, RTLD_NOW);
	assert_non_null(h);
	named = (uintptr_t)dlsym(h, "named_fn");
	delta = dlsym(h, "unnamed_delta");
	assert_true(named && delta);
	assert_true(dladdr((void *)named, &info));
	/* Leaf first: inside the FDE'd unnamed code, inside code with no FDE, named_fn. */
	frames[0] = named + delta[0] + 1;
	frames[1] = named + delta[1] + 1;
	frames[2] = named + 1;
	for (i = 0; i < 3; i++)
		vaddr[i] = frames[i] - (uintptr_t)info.dli_fbase;
	assert_int_equal(sym_maps__read(getpid(), &maps), 0);
	src.ctx = &maps;

	a = aggregate__new(1 << 20);
	sym = symbolizer__new(&so);
	assert_non_null(a);
	assert_non_null(sym);
	memset(&k, 0, sizeof(k));
	k.pid = k.tid = (uint32_t)getpid();
	strcpy(k.comm, "test");
	strcpy(k.thread, "test");
	k.nr_user = 3;
	assert_int_equal(aggregate__add(a, &k, NULL, frames, 1), 0);
	assert_int_equal(profile_build(a, &src, sym, &meta, &b, &st), 0);
	assert_int_equal(pprof_builder__pack(b, &buf, &len), 0);
	assert_int_equal(pprof__read_mem(buf, len, &p), 0);

	/* No function is named "". */
	for (i = 0; i < p->n_function; i++)
		assert_true(p->string_table[p->function[i]->name][0]);
	/* Named by the FDE's start, the exact address kept in the location. */
	snprintf(want, sizeof(want), "%s+0x%" PRIx64, basename(lib), vaddr[0] - 1);
	assert_string_equal(physical_name(p, location_at(p, frames[0])), want);
	/* No FDE: its own ELF address. */
	snprintf(want, sizeof(want), "%s+0x%" PRIx64, basename(lib), vaddr[1]);
	assert_string_equal(physical_name(p, location_at(p, frames[1])), want);
	assert_string_equal(physical_name(p, location_at(p, frames[2])), "named_fn");
	assert_int_equal(st.unsymbolized, 2);
	assert_int_equal(st.named_by_start, 1);
	assert_int_equal(st.named_by_address, 1);

	pprof__profile_free(p);
	free(buf);
	pprof_builder__free(b);
	symbolizer__free(sym);
	aggregate__free(a);
	sym_maps__free(&maps);
	dlclose(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_mappings),
		cmocka_unit_test(test_unnamed_user_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
