// SPDX-License-Identifier: MIT
/*
 * Unit tests of profiler/profile_build.c (no root): kernel frames against a
 * kallsyms text with module and BPF symbols (tests/data/kallsyms.txt) and a
 * /proc/modules text (tests/data/modules.txt). A module's functions sit
 * under one mapping named [module] spanning the module's address range; a
 * BPF program (in kallsyms as module "bpf", not in /proc/modules) under
 * [bpf] spanning the kernel's range; the core kernel under
 * [kernel.kallsyms]. The profile is packed and read back as any reader would.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_mappings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
