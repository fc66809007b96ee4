// SPDX-License-Identifier: MIT
/*
 * Unit tests of the symbolizer's DWARF support (no root): file:line:column
 * and inline chains of fixture binaries built by tests/unit/dwarf.cmake, with
 * the debug info in the binary, compressed (zlib, zstd), split off and found
 * by build-id or .gnu_debuglink (a CRC mismatch rejected, a debug file far
 * larger than its binary refused before reading it), MiniDebugInfo
 * symbols (.gnu_debugdata), across LTO units,
 * and C++ names demangled. Ground truth: the fixtures print the addresses
 * (return address of the innermost call, function entries) and the expected
 * lines and columns are read from the fixture sources by marker comment,
 * never from the code under test. Also: counters, memory accounting and
 * eviction of files and of one file's units, and garbage input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gelf.h>
#include <libelf.h>

#include "symbolizer.h"
#include "symbolizer_internal.h"

struct src_pos {
	uint32_t line;
	uint32_t column;
};

/* Line of the marker comment in a fixture source, and column of call (1-based, bytes). */
static struct src_pos find_call(const char *src, const char *marker, const char *call)
{
	struct src_pos pos = {0};
	char path[4096], line[512];
	uint32_t n = 0;
	char *at;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", DW_SRC, src);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!strstr(line, marker))
			continue;
		at = strstr(line, call);
		assert_non_null(at);
		pos.line = n;
		pos.column = (uint32_t)(at - line) + 1;
		break;
	}
	fclose(f);
	assert_true(pos.line > 0);
	return pos;
}

/* Runs a fixture and reads the hex numbers it prints. */
static void run_fixture(const char *path, uint64_t *a, uint64_t *b)
{
	char cmd[4200];
	unsigned long x = 0, y = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_true(fscanf(p, "%lx %lx", &x, &y) >= 1);
	pclose(p);
	*a = x;
	if (b)
		*b = y;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t len, slen = strlen(suffix);

	if (!s)
		return false;
	len = strlen(s);
	return len >= slen && !strcmp(s + len - slen, suffix);
}

static void assert_frame(const struct sym_frame *f, const char *name, const char *file,
			 struct src_pos pos)
{
	assert_non_null(f->name);
	assert_string_equal(f->name, name);
	assert_true(ends_with(f->file, file));
	assert_true(f->file[0] == '/');
	assert_int_equal(f->line, pos.line);
	assert_int_equal(f->column, pos.column);
}

/* Symbolizes the inline fixture's innermost call site in path; checks the whole chain. */
static void check_inline_chain(const char *path, const char *debug_root,
			       struct symbolizer_stats *ret_stats)
{
	struct symbolizer_opts opts = {.debug_root = debug_root, .no_debuginfod = true};
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer;

	run_fixture(DW_OUT "/dwarf_inline", &ret_addr, &outer);
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, path, ret_addr - 1, &r), 0);
	assert_int_equal(r.nr_frames, 3);
	assert_frame(&r.frames[0], "leaf", "inline.c", find_call("inline.c", "CALL_SINK", "sink("));
	assert_frame(&r.frames[1], "middle", "inline.c",
		     find_call("inline.c", "CALL_LEAF", "leaf("));
	assert_frame(&r.frames[2], "outer", "inline.c",
		     find_call("inline.c", "CALL_MIDDLE", "middle("));
	assert_null(r.frames[0].system_name);
	assert_true(r.has_filenames);
	assert_true(r.has_line_numbers);
	assert_true(r.has_inline_frames);
	/* The entry of outer(): one frame, no inlining there. */
	assert_int_equal(symbolizer__elf(s, path, outer, &r), 0);
	assert_true(r.nr_frames >= 1);
	assert_string_equal(r.frames[r.nr_frames - 1].name, "outer");
	symbolizer__stats(s, ret_stats);
	symbolizer__free(s);
}

static void test_inline_chain(void **state)
{
	struct symbolizer_stats st;

	check_inline_chain(DW_OUT "/dwarf_inline", DW_OUT "/empty_root", &st);
	assert_int_equal(st.debug_self, 1);
	assert_int_equal(st.debug_none, 0);
	assert_true(st.bytes_cached > 0);
}

static void test_no_inlines(void **state)
{
	struct symbolizer_opts opts = {.no_inlines = true, .no_debuginfod = true};
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer;

	run_fixture(DW_OUT "/dwarf_inline", &ret_addr, &outer);
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline", ret_addr - 1, &r), 0);
	assert_int_equal(r.nr_frames, 1);
	/* The physical function, at the innermost line. */
	assert_frame(&r.frames[0], "outer", "inline.c",
		     find_call("inline.c", "CALL_SINK", "sink("));
	assert_false(r.has_inline_frames);
	symbolizer__free(s);
}

/*
 * A copy of the zstd fixture whose compressed .debug_info starts with junk
 * instead of a zstd frame: no DWARF, but still the symbol table's name.
 */
static void corrupt_compressed_degrades(void)
{
	struct symbolizer_opts opts = {.debug_root = DW_OUT "/empty_root", .no_debuginfod = true};
	char path[] = DW_OUT "/corrupt_zstd.XXXXXX";
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer, off = 0, len = 0;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	uint8_t junk[8];
	Elf *elf;
	FILE *in, *out;
	int c, fd;

	run_fixture(DW_OUT "/dwarf_inline", &ret_addr, &outer);
	in = fopen(DW_OUT "/dwarf_inline_zstd", "rb");
	assert_non_null(in);
	elf_version(EV_CURRENT);
	elf = elf_begin(fileno(in), ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		assert_non_null(gelf_getshdr(scn, &shdr));
		if (!strcmp(elf_strptr(elf, shstrndx, shdr.sh_name), ".debug_info")) {
			assert_true(shdr.sh_flags & SHF_COMPRESSED);
			off = shdr.sh_offset + sizeof(Elf64_Chdr);
			len = shdr.sh_size - sizeof(Elf64_Chdr);
		}
	}
	elf_end(elf);
	assert_true(len > sizeof(junk));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	out = fdopen(fd, "wb");
	assert_non_null(out);
	rewind(in);
	while ((c = fgetc(in)) != EOF)
		fputc(c, out);
	fclose(in);
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(fseek(out, (long)off, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), out), sizeof(junk));
	assert_int_equal(fclose(out), 0);

	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, path, ret_addr - 1, &r), 0);
	assert_int_equal(r.nr_frames, 1);
	assert_string_equal(r.frames[0].name, "outer");
	assert_null(r.frames[0].file);
	assert_false(r.has_filenames);
	symbolizer__stats(s, &st);
	assert_int_equal(st.debug_self, 0);
	assert_true(st.dwarf_failures >= 1);
	symbolizer__free(s);
	unlink(path);
}

/*
 * Compressed DWARF, inflated by debug_image.c whatever libdw supports:
 * SHF_COMPRESSED with zlib (-gz=zlib) and zstd (objcopy
 * --compress-debug-sections=zstd; libdw 0.188 alone cannot read it), and
 * the older GNU .zdebug_* sections (zlib-gnu). Each gives the whole chain,
 * also with an empty uncompressed section among the compressed ones (its
 * libelf data has no buffer: UBSan once saw a memcpy from NULL).
 */
static void test_compressed(void **state)
{
	static const char *const paths[] = {
		DW_OUT "/dwarf_inline_zlib",
		DW_OUT "/dwarf_inline_zstd",
		DW_OUT "/dwarf_inline_zgnu",
		DW_OUT "/dwarf_inline_zstd_empty",
	};
	struct symbolizer_stats st;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		check_inline_chain(paths[i], DW_OUT "/empty_root", &st);
		assert_int_equal(st.debug_self, 1);
		assert_int_equal(st.dwarf_failures, 0);
	}
	corrupt_compressed_degrades();
}

static void test_split_build_id(void **state)
{
	struct symbolizer_stats st;

	check_inline_chain(DW_OUT "/dwarf_inline_stripped", DW_OUT "/dwarf_root", &st);
	assert_int_equal(st.debug_build_id, 1);
	assert_int_equal(st.debug_self, 0);
}

static void test_split_debuglink(void **state)
{
	struct symbolizer_stats st;

	check_inline_chain(DW_OUT "/link/dwarf_inline", DW_OUT "/empty_root", &st);
	assert_int_equal(st.debug_debuglink, 1);
	assert_int_equal(st.debug_build_id, 0);
	assert_int_equal(st.debuglink_crc_mismatches, 0);
}

static void test_stripped_and_bad_crc(void **state)
{
	struct symbolizer_opts opts = {.debug_root = DW_OUT "/empty_root", .no_debuginfod = true};
	const char *paths[] = {DW_OUT "/dwarf_inline_stripped", DW_OUT "/badcrc/dwarf_inline"};
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer;
	size_t i;

	run_fixture(DW_OUT "/dwarf_inline", &ret_addr, &outer);
	for (i = 0; i < 2; i++) {
		s = symbolizer__new(&opts);
		assert_non_null(s);
		assert_int_equal(symbolizer__elf(s, paths[i], ret_addr - 1, &r), 0);
		/* Only .dynsym is left, and outer() is not exported: nothing known. */
		assert_int_equal(r.nr_frames, 0);
		assert_false(r.has_filenames);
		assert_false(r.has_inline_frames);
		assert_non_null(r.build_id);
		symbolizer__stats(s, &st);
		assert_int_equal(st.debug_none, 1);
		assert_int_equal(st.debuglink_crc_mismatches, i == 1 ? 1 : 0);
		symbolizer__free(s);
	}
}

/*
 * A .gnu_debuglink naming a 4000 MB sparse file: refused by its size (fstat)
 * before any CRC is computed, counted, and the binary still looked up
 * quickly (the CRC of 4000 MB of zeros takes seconds).
 */
static void test_debuglink_too_large(void **state)
{
	struct symbolizer_opts opts = {.debug_root = DW_OUT "/empty_root", .no_debuginfod = true};
	const char *debug = DW_OUT "/huge/dwarf_inline.debug";
	struct symbolizer_stats st;
	struct timespec t0, t1;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer;
	double secs;
	int fd;

	run_fixture(DW_OUT "/dwarf_inline", &ret_addr, &outer);
	fd = open(debug, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4000LL << 20), 0);
	close(fd);
	s = symbolizer__new(&opts);
	assert_non_null(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(symbolizer__elf(s, DW_OUT "/huge/dwarf_inline", ret_addr - 1, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	symbolizer__stats(s, &st);
	unlink(debug);
	assert_int_equal(r.nr_frames, 0);
	assert_int_equal(st.debug_too_large, 1);
	assert_int_equal(st.debuglink_crc_mismatches, 0);
	assert_int_equal(st.debug_none, 1);
	if (secs > 1.0)
		fail_msg("looking up a binary with a huge debug file took %.2f s", secs);
	symbolizer__free(s);
}

/*
 * MiniDebugInfo: the stripped binary plus .gnu_debugdata names its local
 * functions (outer() is not exported) from the xz'ed symbol table, without
 * file:line, and without looking any further.
 */
static void test_minidebuginfo(void **state)
{
	struct symbolizer_opts opts = {.debug_root = DW_OUT "/empty_root", .no_debuginfod = true};
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer;

	run_fixture(DW_OUT "/dwarf_inline", &ret_addr, &outer);
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline_mini", outer, &r), 0);
	assert_int_equal(r.nr_frames, 1);
	assert_string_equal(r.frames[0].name, "outer");
	assert_null(r.frames[0].file);
	assert_false(r.has_filenames);
	/* Inside outer(), where the inlined chain is: still outer, one frame. */
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline_mini", ret_addr - 1, &r), 0);
	assert_int_equal(r.nr_frames, 1);
	assert_string_equal(r.frames[0].name, "outer");
	assert_true(r.has_functions);
	symbolizer__stats(s, &st);
	assert_int_equal(st.debug_none, 1);
	symbolizer__free(s);
}

static void test_lto(void **state)
{
	struct symbolizer_opts opts = {.no_debuginfod = true};
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr;

	run_fixture(DW_LTO, &ret_addr, NULL);
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, DW_LTO, ret_addr - 1, &r), 0);
	assert_int_equal(r.nr_frames, 2);
	assert_frame(&r.frames[0], "lto_helper", "lto_b.c",
		     find_call("lto_b.c", "CALL_SINK", "lto_sink("));
	assert_frame(&r.frames[1], "lto_entry", "lto_a.c",
		     find_call("lto_a.c", "CALL_HELPER", "lto_helper("));
	symbolizer__free(s);
}

static void test_cxx_demangle(void **state)
{
	struct symbolizer_opts opts = {.no_debuginfod = true};
	struct symbolizer *s;
	struct sym_result r;
	uint64_t scale, twice;

	if (!DW_CXX[0])
		skip();
	run_fixture(DW_CXX, &scale, &twice);
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, DW_CXX, scale, &r), 0);
	assert_int_equal(r.nr_frames, 1);
	assert_string_equal(r.frames[0].name, "int smolder_ns::scale<int>(int)");
	assert_string_equal(r.frames[0].system_name, "_ZN10smolder_ns5scaleIiEET_S1_");
	assert_true(ends_with(r.frames[0].file, "cxx.cc"));
	assert_int_equal(symbolizer__elf(s, DW_CXX, twice, &r), 0);
	assert_int_equal(r.nr_frames, 1);
	assert_string_equal(r.frames[0].name, "smolder_ns::Box<long>::twice(long) const");
	assert_string_equal(r.frames[0].system_name, "_ZNK10smolder_ns3BoxIlE5twiceEl");
	symbolizer__free(s);
}

static void test_demangle(void **state)
{
	char *d;

	d = sym_demangle("_ZN3foo3barEv");
	assert_non_null(d);
	assert_string_equal(d, "foo::bar()");
	free(d);
	/* Rust legacy mangling (hash dropped) and v0. */
	d = sym_demangle("_ZN4core3fmt5write17h0123456789abcdefE");
	assert_non_null(d);
	assert_string_equal(d, "core::fmt::write");
	free(d);
	d = sym_demangle("_RNvCs1234_7mycrate3foo");
	assert_non_null(d);
	assert_string_equal(d, "mycrate::foo");
	free(d);
	/* PLT stubs: the name demangled, "@plt" kept. */
	d = sym_demangle("_ZN3foo3barEv@plt");
	assert_non_null(d);
	assert_string_equal(d, "foo::bar()@plt");
	free(d);
	assert_null(sym_demangle("_Zjunk@plt"));
	assert_null(sym_demangle("puts@plt"));
	assert_null(sym_demangle("main"));
	assert_null(sym_demangle("_Zjunk"));
	assert_null(sym_demangle(NULL));
}

/* DWARF memory counts in bytes_cached and pushes colder files out. */
static void test_cache_accounting(void **state)
{
	struct symbolizer_opts opts = {.no_debuginfod = true, .max_bytes = 1};
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, outer, lto_ret;

	run_fixture(DW_OUT "/dwarf_inline", &ret_addr, &outer);
	run_fixture(DW_LTO, &lto_ret, NULL);
	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline", ret_addr - 1, &r), 0);
	assert_int_equal(r.nr_frames, 3);
	assert_int_equal(symbolizer__elf(s, DW_LTO, lto_ret - 1, &r), 0);
	assert_int_equal(r.nr_frames, 2);
	symbolizer__stats(s, &st);
	assert_int_equal(st.elf_cached, 1);
	assert_int_equal(st.elf_evictions, 1);
	assert_true(st.bytes_cached > 1000);
	/* The evicted file is parsed again, and still right. */
	assert_int_equal(symbolizer__elf(s, DW_OUT "/dwarf_inline", ret_addr - 1, &r), 0);
	assert_int_equal(r.nr_frames, 3);
	symbolizer__stats(s, &st);
	assert_int_equal(st.elf_misses, 3);
	assert_int_equal(st.debug_self, 3);
	symbolizer__free(s);
}

/* The ELF address of symbol name in path's .symtab, read with libelf. */
static uint64_t symbol_value(const char *path, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	GElf_Sym sym;
	Elf_Data *data;
	uint64_t value = 0;
	size_t i;
	Elf *elf;
	FILE *f;

	f = fopen(path, "rb");
	assert_non_null(f);
	elf_version(EV_CURRENT);
	elf = elf_begin(fileno(f), ELF_C_READ, NULL);
	assert_non_null(elf);
	while (!value && (scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB || !shdr.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (i = 0; data && i < shdr.sh_size / shdr.sh_entsize; i++) {
			if (gelf_getsym(data, (int)i, &sym) &&
			    !strcmp(elf_strptr(elf, shdr.sh_link, sym.st_name), name))
				value = sym.st_value;
		}
	}
	elf_end(elf);
	fclose(f);
	assert_true(value != 0);
	return value;
}

/*
 * One file's loaded units under max_unit_bytes: looking up a second unit
 * unloads the first, which is loaded again, and right, when looked up again.
 * Without the cap nothing is unloaded.
 */
static void test_unit_cap(void **state)
{
	static const size_t caps[] = {1, 0};
	struct symbolizer_opts opts = {.no_debuginfod = true};
	struct src_pos sink = find_call("lto_b.c", "CALL_SINK", "lto_sink(");
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_result r;
	uint64_t ret_addr, entry = symbol_value(DW_UNITS, "lto_entry");
	size_t i;

	run_fixture(DW_UNITS, &ret_addr, NULL);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		opts.max_unit_bytes = caps[i];
		s = symbolizer__new(&opts);
		assert_non_null(s);
		assert_int_equal(symbolizer__elf(s, DW_UNITS, ret_addr - 1, &r), 0);
		assert_int_equal(r.nr_frames, 1);
		assert_frame(&r.frames[0], "lto_helper", "lto_b.c", sink);
		assert_int_equal(symbolizer__elf(s, DW_UNITS, entry, &r), 0);
		assert_int_equal(r.nr_frames, 1);
		assert_string_equal(r.frames[0].name, "lto_entry");
		assert_true(ends_with(r.frames[0].file, "lto_a.c"));
		assert_int_equal(symbolizer__elf(s, DW_UNITS, ret_addr - 1, &r), 0);
		assert_int_equal(r.nr_frames, 1);
		assert_frame(&r.frames[0], "lto_helper", "lto_b.c", sink);
		symbolizer__stats(s, &st);
		assert_int_equal(st.dwarf_unit_evictions, caps[i] ? 2 : 0);
		assert_int_equal(st.elf_misses, 1);
		symbolizer__free(s);
	}
}

static void test_garbage(void **state)
{
	static const char junk[] = "\177ELF\2\1\1\0junkjunkjunkjunkjunk";
	struct sym_dwarf *d = NULL;
	struct sym_frame frames[SYMBOLIZER_MAX_FRAMES];
	unsigned int nr = 1;

	assert_true(sym_dwarf__open_mem(junk, sizeof(junk), &d) < 0);
	assert_true(sym_dwarf__open_mem("", 0, &d) < 0);
	assert_int_equal(sym_dwarf__lookup(NULL, 0x1000, true, frames, 4, &nr), 0);
	assert_int_equal(nr, 0);
	sym_dwarf__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_chain),
		cmocka_unit_test(test_no_inlines),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_split_build_id),
		cmocka_unit_test(test_split_debuglink),
		cmocka_unit_test(test_stripped_and_bad_crc),
		cmocka_unit_test(test_debuglink_too_large),
		cmocka_unit_test(test_minidebuginfo),
		cmocka_unit_test(test_lto),
		cmocka_unit_test(test_cxx_demangle),
		cmocka_unit_test(test_demangle),
		cmocka_unit_test(test_cache_accounting),
		cmocka_unit_test(test_unit_cap),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
