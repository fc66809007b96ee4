// SPDX-License-Identifier: MIT
/*
 * Unit tests of unwind/: hand-made CFI, the cache, and real stacks of this
 * process. The fixture chains (fixtures/unwind/) are built -O2
 * -fomit-frame-pointer and copy their own registers and stack top as the BPF
 * program will; the walk then runs with a find callback made from
 * /proc/self/maps and the ELF files behind it, and the returned addresses
 * are named with a small symbol table lookup of our own (the debug file from
 * /usr/lib/debug/.build-id when there is one, for libc's local symbols).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures/unwind/fixture.h"
#include "unwind.h"

#define TEST_MAX_MAPS	 1024
#define TEST_MAX_FRAMES	 2048
#define TEST_STACK_BYTES (16 * 1024) /* the profiler's default copy */

struct test_key {
	uint64_t dev, ino, size, mtime;
};

struct test_map {
	uint64_t start, end, offset;
	struct test_key key; /* the cache key: dev, inode, size, mtime (all ones for the vDSO) */
	bool exec;
	bool bias_ok;
	uint64_t bias;
	char path[512];
};

struct test_proc {
	struct test_map maps[TEST_MAX_MAPS];
	size_t nr;
	struct unwind_cache *cache;
	/* One-entry name cache: deep recursions name the same function over and over. */
	char last_path[512];
	uint64_t last_lo, last_hi;
	char last_name[256];
};

static struct test_proc *proc;
static struct fixture_capture *main_cap; /* captured by main() before the tests run */
static int main_cap_result;

/* ---- ELF helpers (test side: libelf directly) ---- */

static int test_build_id(Elf *elf, uint8_t *id, size_t *len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Nhdr nh;
	Elf_Data *d;
	size_t off, name_off, desc_off;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		off = 0;
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + name_off, "GNU", 4) && nh.n_descsz <= 32) {
				memcpy(id, (char *)d->d_buf + desc_off, nh.n_descsz);
				*len = nh.n_descsz;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* Opens /usr/lib/debug/.build-id/xx/yyyy.debug for the file open as elf, or -1. */
static int test_open_debug(Elf *elf)
{
	uint8_t id[32];
	size_t len, i;
	char path[256];
	int n;

	if (test_build_id(elf, id, &len) || len < 2)
		return -1;
	n = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (i = 1; i < len; i++)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "%02x", id[i]);
	snprintf(path + n, sizeof(path) - (size_t)n, ".debug");
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Runtime - vaddr for the mapping at start with file offset offset. */
static bool test_elf_bias(Elf *elf, uint64_t start, uint64_t offset, uint64_t *bias)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if ((ph.p_offset & ~(uint64_t)4095) == offset) {
			*bias = start - (ph.p_vaddr & ~(uint64_t)4095);
			return true;
		}
	}
	return false;
}

/* Name of the function symbol covering vaddr in elf's .symtab (or .dynsym when no .symtab). */
static bool test_elf_symbol(Elf *elf, uint64_t vaddr, char *name, size_t len, uint64_t *lo,
			    uint64_t *hi)
{
	Elf_Scn *scn = NULL, *best_scn = NULL;
	GElf_Shdr sh, best_sh = {0};
	GElf_Sym sym;
	Elf_Data *d;
	size_t i, n;
	const char *s;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !best_scn)) {
			best_scn = scn;
			best_sh = sh;
		}
	}
	if (!best_scn || !best_sh.sh_entsize)
		return false;
	d = elf_getdata(best_scn, NULL);
	n = best_sh.sh_size / best_sh.sh_entsize;
	for (i = 0; d && i < n; i++) {
		if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    !sym.st_value)
			continue;
		if (vaddr < sym.st_value || vaddr >= sym.st_value + (sym.st_size ? sym.st_size : 1))
			continue;
		s = elf_strptr(elf, best_sh.sh_link, sym.st_name);
		if (!s)
			continue;
		snprintf(name, len, "%s", s);
		*lo = sym.st_value;
		*hi = sym.st_value + (sym.st_size ? sym.st_size : 1);
		return true;
	}
	return false;
}

/* ---- The process: maps, find callback, names ---- */

static int test_proc_read_maps(struct test_proc *p)
{
	char line[1024], perms[8], path[512];
	unsigned long start, end, offset, inode;
	struct stat st;
	FILE *f;
	Elf *elf;
	int fd;

	p->nr = 0;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && p->nr < TEST_MAX_MAPS) {
		struct test_map *m = &p->maps[p->nr];

		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu %511[^\n]", &start, &end, perms, &offset,
			   &inode, path) < 5)
			continue;
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		m->offset = offset;
		m->exec = perms[2] == 'x';
		snprintf(m->path, sizeof(m->path), "%s", path + strspn(path, " "));
		if (m->exec && !strcmp(m->path, "[vdso]")) {
			elf = elf_memory((char *)(uintptr_t)start, end - start);
			m->bias_ok = elf && test_elf_bias(elf, start, 0, &m->bias);
			elf_end(elf);
			memset(&m->key, 0xff, sizeof(m->key));
		} else if (m->exec && m->path[0] == '/') {
			fd = open(m->path, O_RDONLY | O_CLOEXEC);
			elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
			m->bias_ok = elf && test_elf_bias(elf, start, offset, &m->bias);
			elf_end(elf);
			if (fd >= 0 && !fstat(fd, &st)) {
				m->key.dev = st.st_dev;
				m->key.ino = st.st_ino;
				m->key.size = (uint64_t)st.st_size;
				m->key.mtime = (uint64_t)st.st_mtime;
			} else {
				m->bias_ok = false;
			}
			if (fd >= 0)
				close(fd);
		}
		p->nr++;
	}
	fclose(f);
	return 0;
}

static const struct test_map *test_proc_find(const struct test_proc *p, uint64_t addr)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (addr >= p->maps[i].start && addr < p->maps[i].end)
			return &p->maps[i];
	return NULL;
}

static uint64_t test_stack_end(const void *local)
{
	const struct test_map *m;

	test_proc_read_maps(proc);
	m = test_proc_find(proc, (uint64_t)(uintptr_t)local);
	return m ? m->end : 0;
}

static int test_load(void *ctx, struct unwind_table **ret)
{
	const struct test_map *m = ctx;
	struct unwind_table *t;
	int fd, debug_fd = -1;
	Elf *elf;

	if (!strcmp(m->path, "[vdso]")) {
		t = unwind_table__from_memory((const void *)(uintptr_t)m->start, m->end - m->start);
	} else {
		fd = open(m->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (elf)
			debug_fd = test_open_debug(elf);
		elf_end(elf);
		t = unwind_table__from_fd(fd, debug_fd);
		if (debug_fd >= 0)
			close(debug_fd);
		close(fd);
	}
	if (!t)
		return -errno;
	*ret = t;
	return 0;
}

static int test_find(void *ctx, uint64_t ip, struct unwind_mapping *ret)
{
	struct test_proc *p = ctx;
	const struct test_map *m = test_proc_find(p, ip);
	const struct unwind_table *t = NULL;

	if (!m || !m->exec)
		return -ENOENT;
	ret->table = NULL;
	ret->bias = m->bias;
	if (!m->bias_ok)
		return 0;
	if (!unwind_cache__get(p->cache, &m->key, sizeof(m->key), test_load, (void *)m, &t))
		ret->table = t;
	return 0;
}

/* Function name at ip ("?" when unknown), for a return address when caller is set. */
static const char *test_name(struct test_proc *p, uint64_t ip, bool caller)
{
	const struct test_map *m = test_proc_find(p, ip);
	uint64_t vaddr, lo, hi;
	char *dot;
	Elf *elf = NULL, *debug_elf = NULL;
	int fd = -1, debug_fd = -1;
	bool found;

	if (!m || !m->exec || !m->bias_ok)
		return "?";
	if (!strcmp(m->path, "[vdso]"))
		return "[vdso]";
	vaddr = ip - m->bias - (caller ? 1 : 0);
	if (!strcmp(p->last_path, m->path) && vaddr >= p->last_lo && vaddr < p->last_hi)
		return p->last_name;
	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "?";
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	debug_fd = elf ? test_open_debug(elf) : -1;
	if (debug_fd >= 0)
		debug_elf = elf_begin(debug_fd, ELF_C_READ_MMAP, NULL);
	found = debug_elf &&
		test_elf_symbol(debug_elf, vaddr, p->last_name, sizeof(p->last_name), &lo, &hi);
	if (!found)
		found = elf &&
			test_elf_symbol(elf, vaddr, p->last_name, sizeof(p->last_name), &lo, &hi);
	elf_end(debug_elf);
	elf_end(elf);
	if (debug_fd >= 0)
		close(debug_fd);
	close(fd);
	if (!found)
		return "?";
	/* gcc clones: fixture_unwind_b.isra.0 is fixture_unwind_b. */
	dot = strchr(p->last_name, '.');
	if (dot && dot != p->last_name)
		*dot = 0;
	snprintf(p->last_path, sizeof(p->last_path), "%s", m->path);
	p->last_lo = lo;
	p->last_hi = hi;
	return p->last_name;
}

struct test_walk {
	uint64_t ips[TEST_MAX_FRAMES];
	uint8_t flags[TEST_MAX_FRAMES];
	char names[TEST_MAX_FRAMES][256];
	struct unwind_result res;
};

static int test_walk_capture(const struct fixture_capture *cap, struct test_walk *w,
			     unsigned int max_frames)
{
	struct unwind_regs regs = {cap->rip, cap->rsp, cap->rbp};
	unsigned int i;
	int err;

	err = unwind__walk(&regs, cap->stack, cap->len, test_find, proc, max_frames, w->ips,
			   w->flags, &w->res);
	if (err)
		return err;
	for (i = 0; i < w->res.nr_frames; i++)
		snprintf(w->names[i], sizeof(w->names[i]), "%s",
			 test_name(proc, w->ips[i], w->flags[i] & UNWIND_FRAME_RETURN_ADDRESS));
	return 0;
}

static void test_print_walk(const char *what, const struct test_walk *w)
{
	unsigned int i;

	print_message("%s: %s (%s), %u frames (%u cfi, %u fp)\n", what,
		      unwind__status_str(w->res.status), unwind__error_str(w->res.error),
		      w->res.nr_frames, w->res.nr_cfi_frames, w->res.nr_fp_frames);
	for (i = 0; i < w->res.nr_frames && i < 40; i++)
		print_message("  #%-3u %#018lx %s\n", i, (unsigned long)w->ips[i], w->names[i]);
}

static int test_index_of(const struct test_walk *w, const char *name, unsigned int from)
{
	unsigned int i;

	for (i = from; i < w->res.nr_frames; i++)
		if (!strcmp(w->names[i], name))
			return (int)i;
	return -1;
}

static bool test_in_mapping_named(uint64_t ip, const char *needle)
{
	const struct test_map *m = test_proc_find(proc, ip);

	return m && strstr(m->path, needle);
}

static struct fixture_capture *test_new_capture(size_t want_bytes)
{
	struct fixture_capture *cap = calloc(1, sizeof(*cap));

	assert_non_null(cap);
	cap->want_bytes = want_bytes;
	return cap;
}

/* The tail shared by main-thread stacks: main, libc's start code, _start. */
static void test_assert_main_root(struct test_walk *w, unsigned int from)
{
	int main_idx = test_index_of(w, "main", from);
	unsigned int last = w->res.nr_frames - 1;

	assert_true(main_idx >= 0);
	assert_string_equal(w->names[last], "_start");
	/* Between main and _start: libc only (__libc_start_call_main, __libc_start_main). */
	for (unsigned int i = (unsigned int)main_idx + 1; i < last; i++)
		assert_true(test_in_mapping_named(w->ips[i], "libc.so"));
	if (test_index_of(w, "__libc_start_call_main", 0) < 0)
		print_message("note: __libc_start_call_main not named (no libc debug file?)\n");
	else
		assert_int_equal(test_index_of(w, "__libc_start_call_main", 0), main_idx + 1);
}

/* ---- Hand-made CFI ---- */

/*
 * A .eh_frame with one CIE (zR, pcrel|sdata4, CFA rsp+8, rip at CFA-8) and
 * one FDE at 0x1000 (0x40 bytes): push rbp (+1), mov rsp,rbp (+4), then
 * remember_state, at +0x30 a restore_state. Built by hand so every byte is known.
 */
static size_t test_make_eh_frame(uint8_t *buf, uint64_t vaddr, const uint8_t *insns,
				 size_t insns_len)
{
	static const uint8_t cie[] = {
		0x14, 0,    0,	 0, /* length 20 */
		0,    0,    0,	 0, /* CIE id */
		1,    'z',  'R', 0, 1, 0x78, 16, /* v1, "zR", code 1, data -8, ra 16 */
		1,    0x1b, /* aug data: pcrel|sdata4 */
		0x0c, 7,    8, /* def_cfa rsp 8 */
		0x90, 1, /* offset rip cfa-8 */
		0,    0, /* pad */
	};
	size_t n = 0, fde_len, body;
	int32_t pc;

	memcpy(buf, cie, sizeof(cie));
	n = sizeof(cie);
	body = 4 + 4 + 4 + 1 + insns_len;
	fde_len = (body + 3) & ~(size_t)3;
	buf[n] = (uint8_t)fde_len;
	buf[n + 1] = buf[n + 2] = buf[n + 3] = 0;
	/* CIE pointer: from this field back to offset 0. */
	buf[n + 4] = (uint8_t)(n + 4);
	buf[n + 5] = buf[n + 6] = buf[n + 7] = 0;
	pc = (int32_t)(0x1000 - (int64_t)(vaddr + n + 8));
	memcpy(buf + n + 8, &pc, 4);
	buf[n + 12] = 0x40;
	buf[n + 13] = buf[n + 14] = buf[n + 15] = 0;
	buf[n + 16] = 0; /* aug data length */
	memcpy(buf + n + 17, insns, insns_len);
	memset(buf + n + 17 + insns_len, 0, fde_len - body);
	n += 4 + fde_len;
	memset(buf + n, 0, 4); /* terminator */
	return n + 4;
}

static void test_rules_basic(void **state)
{
	static const uint8_t insns[] = {
		0x41, 0x0e, 16, /* +1: def_cfa_offset 16 */
		0x86, 2, /* offset rbp cfa-16 */
		0x43, 0x0d, 6, /* +3: def_cfa_register rbp */
		0x0a, /* remember_state */
		0x6c, 0x0c, 7,	  8, /* +0x2c: def_cfa rsp 8 */
		0xc6, /* restore rbp */
		0x2e, 16, /* GNU_args_size */
		0x04, 3,    0,	  0,	0, /* advance_loc4 3 */
		0x0b, /* restore_state */
		0x0f, 11,   0x77, 8,	0x80, 0,    0x3f,
		0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22, /* PLT expr */
		0x41, 0x0f, 2,	  0x76, 0, /* +1: unsupported expression (breg6 without deref) */
	};
	uint8_t buf[256];
	struct unwind_table *t;
	struct unwind_rule r;
	size_t len;

	len = test_make_eh_frame(buf, 0x2000, insns, sizeof(insns));
	t = unwind_table__from_section(UNWIND_SECTION_EH_FRAME, 0x2000, buf, len);
	assert_non_null(t);
	unwind_table__find(t, 0x1000, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_RSP);
	assert_int_equal(r.cfa_off, 8);
	assert_int_equal(r.rbp, UNWIND_RBP_SAME);
	assert_int_equal(r.end, 0x1001);
	unwind_table__find(t, 0x1002, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_RSP);
	assert_int_equal(r.cfa_off, 16);
	assert_int_equal(r.rbp, UNWIND_RBP_AT_CFA);
	assert_int_equal(r.rbp_off, -16);
	unwind_table__find(t, 0x1010, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_RBP);
	assert_int_equal(r.cfa_off, 16);
	assert_int_equal(r.start, 0x1004);
	unwind_table__find(t, 0x1030, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_RSP);
	assert_int_equal(r.cfa_off, 8);
	assert_int_equal(r.rbp, UNWIND_RBP_SAME);
	unwind_table__find(t, 0x1033, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_PLT);
	assert_int_equal(r.cfa_off, 8);
	assert_int_equal(r.plt_threshold, 11);
	unwind_table__find(t, 0x1034, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_UNSUPPORTED);
	assert_int_equal(r.end, 0x1040);
	unwind_table__find(t, 0x1040, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_NONE);
	unwind_table__find(t, 0xfff, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_NONE);
	unwind_table__free(t);
}

static void test_rules_corrupt(void **state)
{
	static const uint8_t insns[] = {0x41, 0x0e, 16, 0x41, 0x3f /* unknown op */, 0x41};
	uint8_t buf[256];
	struct unwind_table *t;
	struct unwind_rule r;
	size_t len, i;

	len = test_make_eh_frame(buf, 0, insns, sizeof(insns));
	t = unwind_table__from_section(UNWIND_SECTION_EH_FRAME, 0, buf, len);
	assert_non_null(t);
	unwind_table__find(t, 0x1001, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_RSP);
	unwind_table__find(t, 0x1002, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_UNSUPPORTED);
	unwind_table__free(t);

	/* Every truncation of a valid section: an error or a table, no crash (ASan checks). */
	len = test_make_eh_frame(buf, 0, insns, sizeof(insns));
	for (i = 0; i < len; i++) {
		t = unwind_table__from_section(UNWIND_SECTION_EH_FRAME, 0, buf, i);
		unwind_table__free(t);
	}
	errno = 0;
	assert_null(unwind_table__from_section(UNWIND_SECTION_EH_FRAME, 0, buf, 0));
	assert_int_equal(errno, ENOENT);
}

/* ---- Cache ---- */

struct test_load_ctx {
	int calls;
	int fail;
};

static int test_cache_load(void *ctx, struct unwind_table **ret)
{
	static const uint8_t insns[] = {0x41, 0x0e, 16};
	struct test_load_ctx *l = ctx;
	uint8_t buf[128];
	size_t len;

	l->calls++;
	if (l->fail)
		return -ENOENT;
	len = test_make_eh_frame(buf, 0, insns, sizeof(insns));
	*ret = unwind_table__from_section(UNWIND_SECTION_EH_FRAME, 0, buf, len);
	return *ret ? 0 : -errno;
}

static void test_cache_lru(void **state)
{
	struct unwind_cache_opts opts = {.max_tables = 2};
	struct test_load_ctx l = {0};
	const struct unwind_table *t;
	struct unwind_cache_stats st;
	struct unwind_cache *c;

	c = unwind_cache__new(&opts);
	assert_non_null(c);
	assert_int_equal(unwind_cache__get(c, "a", 1, test_cache_load, &l, &t), 0);
	assert_int_equal(unwind_cache__get(c, "b", 1, test_cache_load, &l, &t), 0);
	assert_int_equal(unwind_cache__get(c, "a", 1, test_cache_load, &l, &t), 0);
	assert_int_equal(l.calls, 2);
	/* "b" is least recently used: "c" evicts it. */
	assert_int_equal(unwind_cache__get(c, "c", 1, test_cache_load, &l, &t), 0);
	assert_int_equal(unwind_cache__get(c, "a", 1, test_cache_load, &l, &t), 0);
	assert_int_equal(l.calls, 3);
	assert_int_equal(unwind_cache__get(c, "b", 1, test_cache_load, &l, &t), 0);
	assert_int_equal(l.calls, 4);
	/* Failures are remembered. */
	l.fail = 1;
	assert_int_equal(unwind_cache__get(c, "x", 1, test_cache_load, &l, &t), -ENOENT);
	assert_int_equal(unwind_cache__get(c, "x", 1, test_cache_load, &l, &t), -ENOENT);
	assert_int_equal(l.calls, 5);
	assert_int_equal(unwind_cache__get(c, "x", 0, test_cache_load, &l, &t), -EINVAL);
	unwind_cache__stats(c, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 5);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.nr_tables, 2);
	unwind_cache__free(c);

	/* A table over max_bytes is a failure, not a flush. */
	opts.max_tables = 0;
	opts.max_bytes = 8;
	l.fail = 0;
	c = unwind_cache__new(&opts);
	assert_non_null(c);
	assert_int_equal(unwind_cache__get(c, "a", 1, test_cache_load, &l, &t), -ENOENT);
	unwind_cache__stats(c, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.bytes, 0);
	unwind_cache__free(c);
	unwind_cache__free(NULL);
}

/* ---- Real stacks ---- */

static void test_main_chain(void **state)
{
	struct test_walk *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_true(main_cap->captured);
	assert_int_equal(test_walk_capture(main_cap, w, TEST_MAX_FRAMES), 0);
	test_print_walk("main chain", w);
	assert_int_equal(w->res.status, UNWIND_COMPLETE);
	assert_int_equal(w->res.nr_fp_frames, 0);
	assert_true(w->res.nr_frames >= 6);
	assert_string_equal(w->names[0], "fixture_unwind_c");
	assert_string_equal(w->names[1], "fixture_unwind_b");
	assert_string_equal(w->names[2], "fixture_unwind_a");
	assert_string_equal(w->names[3], "main");
	test_assert_main_root(w, 3);
	free(w);
}

static void test_qsort_callback(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));
	int qsort_idx;

	assert_non_null(w);
	cap->stack_end = test_stack_end(&cap);
	fixture_unwind_qsort(cap);
	assert_true(cap->captured);
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	test_print_walk("qsort", w);
	assert_int_equal(w->res.status, UNWIND_COMPLETE);
	assert_string_equal(w->names[0], "fixture_unwind_cmp");
	/* libc (msort, qsort_r) sits between the callback and its caller; ASan replaces it. */
	if (!strncmp(w->names[1], "__interceptor_", 14))
		print_message("note: qsort intercepted by the sanitizer runtime\n");
	else
		assert_true(test_in_mapping_named(w->ips[1], "libc.so"));
	qsort_idx = test_index_of(w, "fixture_unwind_qsort", 1);
	assert_true(qsort_idx > 1);
	assert_string_equal(w->names[qsort_idx + 1], "test_qsort_callback");
	test_assert_main_root(w, (unsigned int)qsort_idx);
	free(w);
	free(cap);
}

static void *test_thread_main(void *arg)
{
	struct fixture_capture *cap = arg;

	cap->stack_end = test_stack_end(&cap);
	fixture_unwind_a(cap);
	return NULL;
}

static void test_thread(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));
	pthread_t th;
	unsigned int n;

	assert_non_null(w);
	assert_int_equal(pthread_create(&th, NULL, test_thread_main, cap), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(cap->captured);
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	test_print_walk("thread", w);
	assert_int_equal(w->res.status, UNWIND_COMPLETE);
	n = w->res.nr_frames;
	assert_true(n >= 5);
	assert_string_equal(w->names[0], "fixture_unwind_c");
	assert_string_equal(w->names[1], "fixture_unwind_b");
	assert_string_equal(w->names[2], "fixture_unwind_a");
	assert_string_equal(w->names[3], "test_thread_main");
	assert_true(test_in_mapping_named(w->ips[n - 1], "libc.so"));
	assert_true(test_in_mapping_named(w->ips[n - 2], "libc.so"));
	if (strcmp(w->names[n - 1], "?")) {
		assert_string_equal(w->names[n - 2], "start_thread");
		assert_true(!strcmp(w->names[n - 1], "clone3") ||
			    !strcmp(w->names[n - 1], "__clone3") ||
			    !strcmp(w->names[n - 1], "clone") ||
			    !strcmp(w->names[n - 1], "__clone"));
	}
	free(w);
	free(cap);
}

static void test_signal_handler(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));
	struct sigaction sa = {0}, old;
	int restore_idx, raise_idx;

	assert_non_null(w);
	cap->stack_end = test_stack_end(&cap);
	sa.sa_handler = fixture_unwind_on_signal;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	fixture_unwind_raise(cap);
	sigaction(SIGUSR1, &old, NULL);
	assert_true(cap->captured);
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	test_print_walk("signal", w);
	assert_int_equal(w->res.status, UNWIND_COMPLETE);
	assert_string_equal(w->names[0], "fixture_unwind_on_signal");
	assert_true(test_in_mapping_named(w->ips[1], "libc.so"));
	restore_idx = test_index_of(w, "__restore_rt", 1);
	if (restore_idx < 0)
		print_message("note: __restore_rt not named (no libc debug file?)\n");
	else
		assert_int_equal(restore_idx, 1);
	/* The interrupted frame is inside raise()'s libc code, then our caller. */
	assert_true(test_in_mapping_named(w->ips[2], "libc.so"));
	raise_idx = test_index_of(w, "fixture_unwind_raise", 2);
	assert_true(raise_idx > 2);
	assert_string_equal(w->names[raise_idx + 1], "test_signal_handler");
	test_assert_main_root(w, (unsigned int)raise_idx);
	free(w);
	free(cap);
}

static void test_vdso(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));
	struct itimerval it = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
	struct sigaction sa = {0}, old;
	const struct test_map *m;
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	int loop_idx, i;

	assert_non_null(w);
	if (!vdso) {
		print_message("note: no vDSO, skipped\n");
		goto out;
	}
	cap->stack_end = test_stack_end(&cap);
	m = test_proc_find(proc, vdso);
	assert_non_null(m);
	cap->vdso_start = m->start;
	cap->vdso_end = m->end;
	sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))fixture_unwind_on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGPROF, &sa, &old), 0);
	assert_int_equal(setitimer(ITIMER_PROF, &it, NULL), 0);
	for (i = 0; i < 20 && !cap->captured; i++)
		fixture_unwind_vdso_loop(cap, 1000 * 1000);
	setitimer(ITIMER_PROF, &off, NULL);
	sigaction(SIGPROF, &old, NULL);
	if (!cap->captured) {
		print_message("note: no sample landed in the vDSO, skipped\n");
		goto out;
	}
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	test_print_walk("vdso", w);
	assert_int_equal(w->res.status, UNWIND_COMPLETE);
	assert_string_equal(w->names[0], "fixture_unwind_on_prof");
	assert_string_equal(w->names[2], "[vdso]");
	loop_idx = test_index_of(w, "fixture_unwind_vdso_loop", 2);
	assert_true(loop_idx > 2);
	test_assert_main_root(w, (unsigned int)loop_idx);
out:
	free(w);
	free(cap);
}

static void test_recursion_truncated(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));
	unsigned int i;

	assert_non_null(w);
	cap->stack_end = test_stack_end(&cap);
	fixture_unwind_recurse(cap, 1000);
	assert_true(cap->captured);
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	print_message("recursion: %s, %u frames in %zu bytes\n", unwind__status_str(w->res.status),
		      w->res.nr_frames, cap->len);
	assert_int_equal(w->res.status, UNWIND_TRUNCATED);
	assert_true(w->res.nr_frames > 100);
	assert_true(w->res.nr_frames <= 1001);
	for (i = 0; i < w->res.nr_frames; i++)
		assert_string_equal(w->names[i], "fixture_unwind_recurse");

	/* Too deep: max_frames reached first. */
	assert_int_equal(test_walk_capture(cap, w, 10), 0);
	assert_int_equal(w->res.status, UNWIND_ERROR);
	assert_int_equal(w->res.error, UNWIND_ERR_TOO_DEEP);
	assert_int_equal(w->res.nr_frames, 10);
	free(w);
	free(cap);
}

static void test_debug_frame_only(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	cap->stack_end = test_stack_end(&cap);
	fixture_unwind_debug_frame_only(cap);
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	test_print_walk("debug_frame", w);
	assert_int_equal(w->res.status, UNWIND_COMPLETE);
	assert_string_equal(w->names[0], "fixture_unwind_c");
	assert_string_equal(w->names[1], "fixture_unwind_debug_frame_only");
	assert_string_equal(w->names[2], "test_debug_frame_only");
	assert_int_equal(w->res.nr_fp_frames, 0);
	free(w);
	free(cap);
}

static void test_realigned_frame(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	cap->stack_end = test_stack_end(&cap);
	fixture_unwind_realign(cap);
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	test_print_walk("realign", w);
	assert_int_equal(w->res.status, UNWIND_COMPLETE);
	assert_string_equal(w->names[0], "fixture_unwind_c");
	assert_string_equal(w->names[1], "fixture_unwind_realign_args");
	assert_string_equal(w->names[2], "fixture_unwind_realign");
	assert_string_equal(w->names[3], "test_realigned_frame");
	assert_int_equal(w->res.nr_fp_frames, 0);
	test_assert_main_root(w, 3);
	free(w);
	free(cap);
}

/* Finds the .plt section of this executable; returns its runtime address or 0. */
static uint64_t test_plt_runtime(uint64_t *size)
{
	const struct test_map *m = NULL;
	uint64_t addr = 0;
	size_t i, shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	const char *name;
	Elf *elf;
	int fd;

	for (i = 0; i < proc->nr; i++)
		if (proc->maps[i].exec &&
		    test_in_mapping_named((uint64_t)(uintptr_t)test_plt_runtime,
					  proc->maps[i].path) &&
		    proc->maps[i].path[0] == '/')
			m = &proc->maps[i];
	if (!m)
		return 0;
	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	if (elf && !elf_getshdrstrndx(elf, &shstrndx)) {
		while ((scn = elf_nextscn(elf, scn))) {
			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (name && !strcmp(name, ".plt")) {
				addr = sh.sh_addr + m->bias;
				*size = sh.sh_size;
			}
		}
	}
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return addr;
}

/*
 * A PLT entry: the main chain's stack with c "calling" a PLT entry: a return
 * address into c pushed below c's rsp (and, past the entry's push, the
 * relocation index), rip inside the entry. The walk must come out in c.
 */
static void test_plt_entry(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES + 16);
	struct test_walk *w = calloc(1, sizeof(*w));
	uint64_t plt, plt_size, entry, ra, idx = 7;
	unsigned int offsets[] = {0, 6, 11, 15}, i, pushed;

	assert_non_null(w);
	plt = test_plt_runtime(&plt_size);
	if (!plt || plt_size < 32) {
		print_message("note: no lazy .plt in the test binary, skipped\n");
		goto out;
	}
	entry = plt + 16; /* first entry after PLT0 */
	ra = main_cap->rip + 1; /* lookups use ra - 1: c's row at the capture point */
	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		/* The entry pushes its relocation index at byte 6; from 11 on it is on the stack. */
		pushed = offsets[i] >= 11 ? 1 : 0;
		memset(cap->stack, 0, 16);
		if (pushed) {
			memcpy(cap->stack, &idx, 8);
			memcpy(cap->stack + 8, &ra, 8);
		} else {
			memcpy(cap->stack, &ra, 8);
		}
		memcpy(cap->stack + 8 * (1 + pushed), main_cap->stack, main_cap->len);
		cap->len = main_cap->len + 8 * (1 + pushed);
		cap->rsp = main_cap->rsp - 8 * (1 + pushed);
		cap->rbp = main_cap->rbp;
		cap->rip = entry + offsets[i];
		assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
		if (i == 0)
			test_print_walk("plt", w);
		assert_int_equal(w->res.status, UNWIND_COMPLETE);
		assert_int_equal(w->ips[0], entry + offsets[i]);
		assert_string_equal(w->names[1], "fixture_unwind_c");
		assert_string_equal(w->names[2], "fixture_unwind_b");
		assert_string_equal(w->names[4], "main");
	}
out:
	free(w);
	free(cap);
}

/* Short copies, bad frame pointers, unknown mappings: clean statuses, no garbage. */
static void test_walk_errors(void **state)
{
	struct fixture_capture *cap = test_new_capture(TEST_STACK_BYTES);
	struct test_walk *w = calloc(1, sizeof(*w));
	uint64_t junk[64];
	unsigned int i;

	assert_non_null(w);
	*cap = *main_cap;
	/* 16 bytes: c's own frame does not even hold its return address. */
	for (i = 0; i < 64; i++) {
		cap->len = i * 8;
		assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
		assert_int_equal(w->res.status, UNWIND_TRUNCATED);
		assert_true(w->res.nr_frames >= 1);
		assert_string_equal(w->names[0], "fixture_unwind_c");
	}
	/* A leaf outside any mapping: the leaf stays, the walk says why it stopped. */
	cap->rip = 16;
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	assert_int_equal(w->res.status, UNWIND_ERROR);
	assert_int_equal(w->res.error, UNWIND_ERR_NO_MAPPING);
	assert_int_equal(w->res.nr_frames, 1);
	/* Anonymous executable memory is not mapped here; an rbp below rsp is a bad frame pointer. */
	*cap = *main_cap;
	cap->rip = (uint64_t)(uintptr_t)test_walk_errors;
	for (i = 0; i < 64; i++)
		junk[i] = 0x1234567 * (i + 1);
	cap->rbp = cap->rsp - 64;
	memcpy(cap->stack, junk, sizeof(junk));
	cap->len = sizeof(junk);
	assert_int_equal(test_walk_capture(cap, w, TEST_MAX_FRAMES), 0);
	assert_int_equal(w->res.status, UNWIND_ERROR);
	assert_int_equal(w->res.nr_frames, 1);
	assert_int_equal(unwind__walk(NULL, NULL, 0, test_find, proc, 1, w->ips, NULL, &w->res),
			 -EINVAL);
	free(w);
	free(cap);
}

/* Tables built from the binaries mapped here, counters after a real walk. */
static void test_real_tables(void **state)
{
	struct unwind_cache_stats st;
	struct unwind_table *t;
	struct unwind_rule r;
	int fd;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	t = unwind_table__from_fd(fd, -1);
	close(fd);
	assert_non_null(t);
	assert_true(unwind_table__nr_rows(t) > 10);
	unwind_table__find(t, 0, &r);
	assert_int_equal(r.cfa, UNWIND_CFA_NONE);
	unwind_table__free(t);

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	errno = 0;
	assert_null(unwind_table__from_fd(fd, -1));
	assert_int_equal(errno, EINVAL);
	close(fd);
	unwind_cache__stats(proc->cache, &st);
	print_message("cache: %lu hits, %lu misses, %lu evictions, %lu failures, %zu tables, %zu "
		      "bytes\n",
		      (unsigned long)st.hits, (unsigned long)st.misses, (unsigned long)st.evictions,
		      (unsigned long)st.failures, st.nr_tables, st.bytes);
	assert_true(st.misses >= 2);
	assert_true(st.hits > st.misses);
}

static void test_bench(void **state)
{
	struct unwind_regs regs = {main_cap->rip, main_cap->rsp, main_cap->rbp};
	double ns;

	assert_int_equal(unwind__bench_walk(&regs, main_cap->stack, main_cap->len, test_find, proc,
					    TEST_MAX_FRAMES, 20000, &ns),
			 0);
	print_message("bench: %.0f ns per walk of the main chain (test find callback)\n", ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_basic),
		cmocka_unit_test(test_rules_corrupt),
		cmocka_unit_test(test_cache_lru),
		cmocka_unit_test(test_main_chain),
		cmocka_unit_test(test_qsort_callback),
		cmocka_unit_test(test_thread),
		cmocka_unit_test(test_signal_handler),
		cmocka_unit_test(test_vdso),
		cmocka_unit_test(test_recursion_truncated),
		cmocka_unit_test(test_debug_frame_only),
		cmocka_unit_test(test_realigned_frame),
		cmocka_unit_test(test_plt_entry),
		cmocka_unit_test(test_walk_errors),
		cmocka_unit_test(test_real_tables),
		cmocka_unit_test(test_bench),
	};
	int err;

	sigset_t sigs;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 1;
	/* ctest or a job runner may start us with these blocked. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGPROF);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	proc = calloc(1, sizeof(*proc));
	main_cap = calloc(1, sizeof(*main_cap));
	if (!proc || !main_cap)
		return 1;
	proc->cache = unwind_cache__new(NULL);
	if (!proc->cache)
		return 1;
	/* main -> a -> b -> c, straight from main so the chain ends main, libc, _start. */
	main_cap->want_bytes = TEST_STACK_BYTES;
	main_cap->stack_end = test_stack_end(&err);
	main_cap_result = fixture_unwind_a(main_cap);
	test_proc_read_maps(proc);
	err = cmocka_run_group_tests(tests, NULL, NULL);
	unwind_cache__free(proc->cache);
	free(main_cap);
	free(proc);
	return err;
}
