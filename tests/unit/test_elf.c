// SPDX-License-Identifier: MIT
/*
 * Unit tests of symbolizer/elf.c and the user-space lookups (no root):
 * fixture binaries built by tests/unit/symbolizer.cmake (PIE, non-PIE, a
 * shared library and its stripped copy) are symbolized through real
 * /proc/PID/maps of a fixture child and of this process, through synthetic
 * mappings (load bias, file offsets, gaps), and through the vDSO. Ground
 * truth comes from the fixtures themselves (the child prints its function
 * addresses and load bias; dlsym() for the libraries), never from the code
 * under test. Also: the file cache caps and counters.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolizer.h"
#include "symbolizer_internal.h"

struct fixture_child {
	pid_t pid;
	int stdin_fd;
	uint64_t alpha_runtime, alpha_vaddr;
	uint64_t beta_runtime, beta_vaddr;
	struct sym_maps maps;
};

/* Starts a fixture executable and reads the addresses it prints. */
static void child_start(const char *path, struct fixture_child *c)
{
	int in[2], out[2];
	char line[256], name[64];
	unsigned long runtime, vaddr;
	FILE *f;

	memset(c, 0, sizeof(*c));
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->stdin_fd = in[1];
	f = fdopen(out[0], "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "ready\n"))
			break;
		assert_int_equal(sscanf(line, "%63s %lx %lx", name, &runtime, &vaddr), 3);
		if (!strcmp(name, "smolder_fixture_alpha")) {
			c->alpha_runtime = runtime;
			c->alpha_vaddr = vaddr;
		} else if (!strcmp(name, "smolder_fixture_beta")) {
			c->beta_runtime = runtime;
			c->beta_vaddr = vaddr;
		}
	}
	fclose(f);
	assert_true(c->alpha_runtime && c->beta_runtime);
	assert_int_equal(sym_maps__read(c->pid, &c->maps), 0);
}

static void child_stop(struct fixture_child *c)
{
	int status;

	if (c->stdin_fd > 0)
		close(c->stdin_fd);
	c->stdin_fd = -1;
	if (c->pid > 0)
		waitpid(c->pid, &status, 0);
	c->pid = 0;
	sym_maps__free(&c->maps);
}

static void assert_named(struct symbolizer *s, pid_t pid, const struct sym_map_entry *m,
			 uint64_t addr, const char *name)
{
	struct sym_result res;

	assert_non_null(m);
	assert_int_equal(symbolizer__user(s, pid, m, addr, &res), 0);
	assert_int_equal(res.nr_frames, 1);
	assert_string_equal(res.frames[0].name, name);
	assert_true(res.has_functions);
}

static void check_executable(const char *path, bool pie)
{
	struct symbolizer *s = symbolizer__new(NULL);
	const struct sym_map_entry *m;
	struct fixture_child c;
	struct sym_result res;

	assert_non_null(s);
	child_start(path, &c);
	if (pie)
		assert_true(c.alpha_runtime != c.alpha_vaddr);
	else
		assert_int_equal(c.alpha_runtime, c.alpha_vaddr);
	m = sym_maps__find(&c.maps, c.alpha_runtime);
	assert_non_null(m);
	assert_int_equal(symbolizer__user(s, c.pid, m, c.alpha_runtime, &res), 0);
	assert_int_equal(res.nr_frames, 1);
	assert_string_equal(res.frames[0].name, "smolder_fixture_alpha");
	assert_int_equal(res.elf_addr, c.alpha_vaddr);
	assert_non_null(res.build_id);
	assert_int_equal(strlen(res.build_id), 40);
	assert_int_equal(strspn(res.build_id, "0123456789abcdef"), 40);
	assert_null(res.module);
	assert_named(s, c.pid, m, c.alpha_runtime + 1, "smolder_fixture_alpha");
	m = sym_maps__find(&c.maps, c.beta_runtime);
	assert_named(s, c.pid, m, c.beta_runtime, "smolder_fixture_beta");

	/* The same file read by path at the ELF address the child computed. */
	assert_int_equal(symbolizer__elf(s, path, c.beta_vaddr, &res), 0);
	assert_int_equal(res.nr_frames, 1);
	assert_string_equal(res.frames[0].name, "smolder_fixture_beta");
	child_stop(&c);
	symbolizer__free(s);
}

static void test_pie_child(void **state)
{
	check_executable(SYM_FIXTURE_PIE, true);
}

static void test_nopie_child(void **state)
{
	check_executable(SYM_FIXTURE_NOPIE, false);
}

/*
 * Past the deadline a user lookup reads nothing and names nothing, counted
 * in over_budget; with no deadline the same address is named again.
 */
static void test_deadline(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct symbolizer_stats st;
	const struct sym_map_entry *m;
	struct fixture_child c;
	struct sym_result res;

	assert_non_null(s);
	child_start(SYM_FIXTURE_PIE, &c);
	m = sym_maps__find(&c.maps, c.alpha_runtime);
	assert_non_null(m);
	symbolizer__set_deadline(s, 1);
	assert_int_equal(symbolizer__user(s, c.pid, m, c.alpha_runtime, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	symbolizer__stats(s, &st);
	assert_int_equal(st.over_budget, 1);
	assert_int_equal(st.elf_misses, 0);
	symbolizer__set_deadline(s, 0);
	assert_named(s, c.pid, m, c.alpha_runtime, "smolder_fixture_alpha");
	symbolizer__stats(s, &st);
	assert_int_equal(st.over_budget, 1);
	child_stop(&c);
	symbolizer__free(s);
}

/*
 * Synthetic mappings of the PIE fixture in this process's name (pid = self,
 * so the file is reached through /proc/self/root): another load bias, then
 * a file offset no PT_LOAD covers.
 */
static void test_synthetic_normalization(void **state)
{
	const uint64_t bias = 0x100000000000ull;
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_map_entry m;
	struct fixture_child c;
	struct sym_result res;

	assert_non_null(s);
	child_start(SYM_FIXTURE_PIE, &c);
	m = *sym_maps__find(&c.maps, c.alpha_runtime);
	m.path = strdup(m.path);
	assert_non_null(m.path);
	child_stop(&c);

	m.start += bias;
	m.end += bias;
	assert_named(s, getpid(), &m, c.alpha_runtime + bias, "smolder_fixture_alpha");
	assert_int_equal(symbolizer__user(s, getpid(), &m, c.alpha_runtime + bias, &res), 0);
	assert_int_equal(res.elf_addr, c.alpha_vaddr);

	/* The same range at a file offset past every PT_LOAD: the file is read, nothing named. */
	m.start += 0x10000000;
	m.end += 0x10000000;
	m.offset = 0x40000000;
	memset(&res, 0xff, sizeof(res));
	assert_int_equal(symbolizer__user(s, getpid(), &m, m.start + 0x10, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	assert_non_null(res.build_id);
	assert_true(res.has_functions);

	/* An address outside the mapping given is a caller error. */
	assert_int_equal(symbolizer__user(s, getpid(), &m, m.end, &res), -EINVAL);
	free(m.path);
	symbolizer__free(s);
}

static void check_library(const char *path, bool stripped)
{
	struct symbolizer *s = symbolizer__new(NULL);
	const struct sym_map_entry *m;
	struct sym_maps maps = {0};
	void *lib, *gamma, *delta, *epsilon;
	void *(*epsilon_address)(void);
	struct sym_result res;

	assert_non_null(s);
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(lib);
	gamma = dlsym(lib, "smolder_lib_gamma");
	delta = dlsym(lib, "smolder_lib_delta");
	*(void **)&epsilon_address = dlsym(lib, "smolder_lib_epsilon_address");
	assert_true(gamma && delta && epsilon_address);
	epsilon = epsilon_address();
	assert_int_equal(sym_maps__read(getpid(), &maps), 0);

	m = sym_maps__find(&maps, (uint64_t)(uintptr_t)gamma);
	assert_non_null(m);
	/* Text of a shared library sits at a non-zero file offset. */
	assert_true(m->offset != 0);
	assert_named(s, getpid(), m, (uint64_t)(uintptr_t)gamma, "smolder_lib_gamma");
	assert_named(s, getpid(), m, (uint64_t)(uintptr_t)delta + 2, "smolder_lib_delta");
	assert_int_equal(symbolizer__user(s, getpid(), m, (uint64_t)(uintptr_t)epsilon, &res), 0);
	if (!stripped) {
		assert_int_equal(res.nr_frames, 1);
		assert_string_equal(res.frames[0].name, "smolder_lib_epsilon");
	} else if (res.nr_frames) {
		assert_string_not_equal(res.frames[0].name, "smolder_lib_epsilon");
	}
	assert_non_null(res.build_id);
	sym_maps__free(&maps);
	dlclose(lib);
	symbolizer__free(s);
}

static void test_shared_library(void **state)
{
	check_library(SYM_FIXTURE_LIB, false);
}

static void test_stripped_library(void **state)
{
	check_library(SYM_FIXTURE_STRIPPED, true);
}

/*
 * Aliases at one address (tests/data/symbolizer/fixture_alias.c): global or
 * weak over local and hidden, native over compat, fewer leading underscores.
 * Each address comes from dlsym() of one of its names.
 */
static void test_aliases(void **state)
{
	static const struct {
		const char *lookup, *want;
	} cases[] = {
		{"__smolder_alias_impl", "smolder_alias_pub"},
		{"__smolder_alias_global_two", "__smolder_alias_global_two"},
		{"__smolder_alias_exported", "__smolder_alias_exported"},
		{"__ia32_smolder_alias_sys", "__x64_smolder_alias_sys"},
	};
	struct symbolizer *s = symbolizer__new(NULL);
	const struct sym_map_entry *m;
	struct sym_maps maps = {0};
	void *lib, *addr;
	size_t i;

	assert_non_null(s);
	lib = dlopen(SYM_FIXTURE_ALIAS, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(lib);
	assert_int_equal(sym_maps__read(getpid(), &maps), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		addr = dlsym(lib, cases[i].lookup);
		assert_non_null(addr);
		m = sym_maps__find(&maps, (uint64_t)(uintptr_t)addr);
		assert_non_null(m);
		assert_named(s, getpid(), m, (uint64_t)(uintptr_t)addr, cases[i].want);
	}
	sym_maps__free(&maps);
	dlclose(lib);
	symbolizer__free(s);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), suffix_len = strlen(suffix);

	return len >= suffix_len && !strcmp(s + len - suffix_len, suffix);
}

#define MAX_PLT_LABELS 4096

/* One PLT entry as objdump labels it: "<puts@plt>" at start, its last instruction at last. */
struct plt_label {
	uint64_t start, last;
	char name[128];
	char section[16];
};

/*
 * The PLT entries of path that objdump names (its own reading of the
 * relocations), in .plt, .plt.sec and .plt.got. Labels objdump cannot name
 * (PLT0, "*ABS*+0x...@plt" for ifuncs) are skipped. Returns the count.
 */
static size_t objdump_plt(const char *path, struct plt_label *labels)
{
	char cmd[4096], line[512], name[256], section[64] = "";
	struct plt_label *cur = NULL;
	unsigned long addr;
	size_t nr = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' -d -j .plt -j .plt.sec -j .plt.got '%s'", SYM_OBJDUMP,
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "Disassembly of section %63[^:]:", section) == 1) {
			cur = NULL;
		} else if (sscanf(line, "%lx <%255[^>]>:", &addr, name) == 2) {
			cur = NULL;
			if (!ends_with(name, "@plt") || strchr(name, '*') || strchr(name, '+') ||
			    strchr(name, '-') || strlen(name) >= sizeof(labels->name))
				continue;
			assert_true(nr < MAX_PLT_LABELS);
			cur = &labels[nr++];
			cur->start = cur->last = addr;
			strcpy(cur->name, name);
			snprintf(cur->section, sizeof(cur->section), "%s", section);
		} else if (cur && sscanf(line, " %lx:", &addr) == 1) {
			cur->last = addr;
		}
	}
	assert_int_equal(pclose(p), 0);
	return nr;
}

static size_t labels_in(const struct plt_label *labels, size_t nr, const char *section,
			const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < nr; i++)
		n += !strcmp(labels[i].section, section) &&
		     (!name || !strcmp(labels[i].name, name));
	return n;
}

/* Every address of every entry objdump names is named so by symbolizer__elf(). */
static void check_plt(struct symbolizer *s, const char *path, const struct plt_label *labels,
		      size_t nr)
{
	struct sym_result res;
	uint64_t addr[2];
	size_t i, j;

	for (i = 0; i < nr; i++) {
		addr[0] = labels[i].start;
		addr[1] = labels[i].last;
		for (j = 0; j < 2; j++) {
			assert_int_equal(symbolizer__elf(s, path, addr[j], &res), 0);
			if (!res.nr_frames || !res.frames[res.nr_frames - 1].name)
				fail_msg("%s: %#" PRIx64 " in %s unnamed", path, addr[j],
					 labels[i].name);
			assert_string_equal(res.frames[res.nr_frames - 1].name, labels[i].name);
		}
	}
}

/*
 * PLT stubs of the four fixture layouts are named symbol@plt as objdump names
 * them: lazy .plt, IBT .plt.sec with 16-byte .plt.got entries, -z now, and
 * -fno-plt (only .plt.got left).
 */
static void test_plt(void **state)
{
	static const char *const paths[] = {SYM_FIXTURE_PLT_LAZY, SYM_FIXTURE_PLT_IBT,
					    SYM_FIXTURE_PLT_NOW, SYM_FIXTURE_PLT_NOPLT};
	struct symbolizer *s = symbolizer__new(NULL);
	struct plt_label *labels = calloc(MAX_PLT_LABELS, sizeof(*labels));
	size_t i, nr;

	assert_non_null(s);
	assert_non_null(labels);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		nr = objdump_plt(paths[i], labels);
		/* The layouts the fixtures are built for, so that each kind is tested. */
		assert_int_equal(labels_in(labels, nr, ".plt.got", "getpid@plt"), i < 3);
		assert_int_equal(labels_in(labels, nr, ".plt.got", "__cxa_finalize@plt"), 1);
		if (i == 1)
			assert_int_equal(labels_in(labels, nr, ".plt.sec", NULL), 4);
		else if (i < 3)
			assert_int_equal(labels_in(labels, nr, ".plt", NULL), 4);
		check_plt(s, paths[i], labels, nr);
	}
	free(labels);
	symbolizer__free(s);
}

/* This process's own PLT (as record names a process), through its mapping. */
static int exe_bias(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uint64_t *)data = (uint64_t)info->dlpi_addr;
	return 1;
}

static void test_plt_in_process(void **state)
{
	struct plt_label *labels = calloc(MAX_PLT_LABELS, sizeof(*labels));
	struct symbolizer *s = symbolizer__new(NULL);
	const struct sym_map_entry *m;
	struct sym_maps maps = {0};
	char exe[4096];
	uint64_t bias = 0;
	ssize_t len;
	size_t i, nr;

	assert_non_null(s);
	assert_non_null(labels);
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(len > 0);
	exe[len] = '\0';
	nr = objdump_plt(exe, labels);
	assert_true(nr > 3);
	dl_iterate_phdr(exe_bias, &bias);
	assert_int_equal(sym_maps__read(getpid(), &maps), 0);
	for (i = 0; i < nr; i++) {
		m = sym_maps__find(&maps, bias + labels[i].start);
		assert_named(s, getpid(), m, bias + labels[i].start, labels[i].name);
		assert_named(s, getpid(), m, bias + labels[i].last, labels[i].name);
	}
	sym_maps__free(&maps);
	free(labels);
	symbolizer__free(s);
}

/* The vDSO's clock_gettime, in this process and at the same offset in a child. */
static void test_vdso(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	const struct sym_map_entry *m, *cm = NULL;
	struct sym_maps maps = {0};
	struct symbolizer_stats stats;
	struct fixture_child c;
	struct sym_result res;
	void *vdso, *fn;
	uint64_t addr;
	size_t i;

	assert_non_null(s);
	vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	if (!vdso)
		skip();
	fn = dlvsym(vdso, "__vdso_clock_gettime", "LINUX_2.6");
	if (!fn)
		fn = dlsym(vdso, "__vdso_clock_gettime");
	assert_non_null(fn);
	addr = (uint64_t)(uintptr_t)fn;
	assert_int_equal(sym_maps__read(getpid(), &maps), 0);
	m = sym_maps__find(&maps, addr);
	assert_non_null(m);
	assert_string_equal(m->path, "[vdso]");
	assert_int_equal(symbolizer__user(s, getpid(), m, addr, &res), 0);
	assert_int_equal(res.nr_frames, 1);
	assert_true(ends_with(res.frames[0].name, "clock_gettime"));
	assert_int_equal(res.elf_addr, addr - m->start);

	child_start(SYM_FIXTURE_PIE, &c);
	for (i = 0; i < c.maps.nr; i++) {
		if (!strcmp(c.maps.entries[i].path, "[vdso]"))
			cm = &c.maps.entries[i];
	}
	assert_non_null(cm);
	assert_named(s, c.pid, cm, cm->start + (addr - m->start), res.frames[0].name);
	child_stop(&c);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_misses, 1);
	assert_int_equal(stats.elf_hits, 1);
	sym_maps__free(&maps);
	dlclose(vdso);
	symbolizer__free(s);
}

static void test_cache_eviction(void **state)
{
	struct symbolizer_opts opts = {.max_files = 2};
	struct symbolizer *s = symbolizer__new(&opts);
	struct symbolizer_stats stats;
	struct sym_result res;

	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_PIE, 0, &res), 0);
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_NOPIE, 0, &res), 0);
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_LIB, 0, &res), 0);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_misses, 3);
	assert_int_equal(stats.elf_evictions, 1);
	assert_int_equal(stats.elf_cached, 2);
	assert_int_equal(stats.elf_hits, 0);
	assert_true(stats.bytes_cached > 0);

	/* The library and the non-PIE are cached; the PIE was the coldest. */
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_LIB, 0, &res), 0);
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_NOPIE, 0, &res), 0);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_hits, 2);
	assert_int_equal(stats.elf_misses, 3);
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_PIE, 0, &res), 0);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_misses, 4);
	assert_int_equal(stats.elf_evictions, 2);
	assert_int_equal(stats.elf_cached, 2);
	assert_int_equal(stats.lookups, 6);
	assert_int_equal(stats.unresolved, 6);

	/* A byte cap below one file keeps only the file in use. */
	symbolizer__free(s);
	opts.max_files = 0;
	opts.max_bytes = 1;
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_PIE, 0, &res), 0);
	assert_int_equal(symbolizer__elf(s, SYM_FIXTURE_LIB, 0, &res), 0);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_cached, 1);
	assert_int_equal(stats.elf_evictions, 1);
	symbolizer__free(s);
}

/* Mapping bindings: a second lookup neither reopens nor reparses; the cap evicts. */
static void test_bindings_and_exit(void **state)
{
	struct symbolizer_opts opts = {.max_mappings = 1};
	struct symbolizer *s = symbolizer__new(&opts);
	const struct sym_map_entry *first = NULL;
	struct symbolizer_stats stats;
	struct sym_map_entry ma;
	struct fixture_child c;
	struct sym_result res;
	pid_t pid;
	size_t i;

	assert_non_null(s);
	child_start(SYM_FIXTURE_PIE, &c);
	ma = *sym_maps__find(&c.maps, c.alpha_runtime);
	ma.path = strdup(ma.path);
	assert_non_null(ma.path);
	assert_int_equal(symbolizer__preload(s, c.pid, &ma), 0);
	assert_named(s, c.pid, &ma, c.alpha_runtime, "smolder_fixture_alpha");
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_misses, 1);
	assert_int_equal(stats.elf_hits, 1);
	assert_int_equal(stats.mapping_hits, 1);
	assert_int_equal(stats.mappings_cached, 1);

	/* Another mapping of the same file: a new binding, the same cached file. */
	for (i = 0; i < c.maps.nr && !first; i++) {
		if (c.maps.entries[i].inode == ma.inode && c.maps.entries[i].start != ma.start)
			first = &c.maps.entries[i];
	}
	assert_non_null(first);
	assert_int_equal(symbolizer__user(s, c.pid, first, first->start, &res), 0);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_misses, 1);
	assert_int_equal(stats.elf_hits, 2);
	assert_int_equal(stats.mapping_evictions, 1);
	assert_int_equal(stats.mappings_cached, 1);

	/* Preloaded, the file still names addresses once the process is gone. */
	assert_int_equal(symbolizer__preload(s, c.pid, &ma), 0);
	pid = c.pid;
	kill(pid, SIGKILL);
	child_stop(&c);
	assert_named(s, pid, &ma, c.alpha_runtime + 1, "smolder_fixture_alpha");
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_misses, 1);
	free(ma.path);
	symbolizer__free(s);
}

/* A process that exited before anything was read: the host path, if the same inode. */
static void test_process_gone(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_map_entry m;
	struct fixture_child c;
	pid_t pid;

	assert_non_null(s);
	child_start(SYM_FIXTURE_NOPIE, &c);
	m = *sym_maps__find(&c.maps, c.alpha_runtime);
	m.path = strdup(m.path);
	assert_non_null(m.path);
	pid = c.pid;
	child_stop(&c);
	assert_named(s, pid, &m, c.alpha_runtime, "smolder_fixture_alpha");
	free(m.path);
	symbolizer__free(s);
}

static void test_unreadable_files(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_map_entry m = {.start = 0x200000000000ull,
				  .end = 0x200000010000ull,
				  .inode = 42,
				  .path = (char *)"/nonexistent/smolder/lib.so"};
	struct symbolizer_stats stats;
	struct sym_result res;

	assert_non_null(s);
	assert_int_equal(symbolizer__user(s, getpid(), &m, m.start, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	assert_null(res.build_id);
	assert_int_equal(symbolizer__user(s, getpid(), &m, m.start + 1, &res), 0);
	assert_int_equal(symbolizer__preload(s, getpid(), &m), -ENOENT);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.elf_failures, 1); /* remembered, not retried */
	assert_int_equal(stats.mapping_hits, 2);

	m.path = (char *)"/nonexistent/smolder/lib.so (deleted)";
	m.inode = 43;
	assert_int_equal(symbolizer__user(s, getpid(), &m, m.start, &res), 0);
	assert_int_equal(res.nr_frames, 0);

	/* Not ELF; a directory; anonymous memory. */
	assert_int_equal(symbolizer__elf(s, SYM_DATA_DIR "/kallsyms.txt", 0, &res), -ENOEXEC);
	assert_int_equal(symbolizer__elf(s, SYM_DATA_DIR, 0, &res), -EINVAL);
	m.path = (char *)"";
	assert_int_equal(symbolizer__user(s, getpid(), &m, m.start, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	m.path = (char *)"[heap]";
	assert_int_equal(symbolizer__preload(s, getpid(), &m), 0);
	symbolizer__free(s);
	symbolizer__free(NULL);
}

/* The internal table: sorted, deduplicated, each lookup inside its symbol. */
static void test_symbol_table(void **state)
{
	struct sym_elf_file *f = NULL;
	uint64_t vaddr;
	size_t i;
	int fd;

	fd = open(SYM_FIXTURE_LIB, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sym_elf__parse_fd(fd, &f), 0);
	close(fd);
	assert_true(f->nr_syms > 3);
	assert_true(f->nr_loads >= 2);
	for (i = 0; i < f->nr_syms; i++) {
		assert_true(f->syms[i].end > f->syms[i].addr);
		if (i)
			assert_true(f->syms[i - 1].addr < f->syms[i].addr);
		assert_ptr_equal(sym_elf__find(f, f->syms[i].addr), &f->syms[i]);
	}
	assert_int_equal(sym_elf__offset_to_vaddr(f, 0, &vaddr), 0);
	assert_int_equal(vaddr, 0);
	assert_int_equal(sym_elf__offset_to_vaddr(f, 1ull << 40, &vaddr), -ENOENT);
	assert_int_equal(f->build_id_len, 20);
	sym_elf__free(f);
	assert_int_equal(sym_elf__parse_mem("\177ELF", 4, &f), -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pie_child),
		cmocka_unit_test(test_nopie_child),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_synthetic_normalization),
		cmocka_unit_test(test_shared_library),
		cmocka_unit_test(test_stripped_library),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_plt),
		cmocka_unit_test(test_plt_in_process),
		cmocka_unit_test(test_vdso),
		cmocka_unit_test(test_cache_eviction),
		cmocka_unit_test(test_bindings_and_exit),
		cmocka_unit_test(test_process_gone),
		cmocka_unit_test(test_unreadable_files),
		cmocka_unit_test(test_symbol_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
