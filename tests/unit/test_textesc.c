// SPDX-License-Identifier: MIT
/*
 * Unit tests of profiler/textesc.c: control bytes, DEL, C1 controls and
 * invalid UTF-8 come out as visible escapes, valid UTF-8 is kept, a cut
 * result stays NUL-terminated at a whole escape; and the folded-stack writer
 * (stacks.c) escapes a frame name that carries a terminal escape sequence and
 * a newline, so each stack stays one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pprof.h"
#include "stacks.h"
#include "textesc.h"

static char *escaped(const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(textesc__fwrite(f, s, len), 0);
	fclose(f);
	return buf;
}

static void check(const char *in, size_t len, const char *want)
{
	char *got = escaped(in, len), buf[256];

	assert_string_equal(got, want);
	free(got);
	/* The buffer form agrees when nothing is cut. */
	if (len == strlen(in))
		assert_string_equal(textesc__str(in, buf, sizeof(buf)), want);
}

static void test_escape(void **state)
{
	check("plain name", 10, "plain name");
	check("\x1b]0;PWN\a\x1b[2J", 12, "\\x1b]0;PWN\\x07\\x1b[2J");
	check("a\nb\rc\td", 7, "a\\nb\\rc\\td");
	check("del\x7f", 4, "del\\x7f");
	check("nul\0x", 5, "nul\\x00x");
	/* Valid UTF-8 (2, 3 and 4 bytes) is kept. */
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5", 14,
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5");
	/* C1 CSI (U+009B) is a control even when well-formed. */
	check("\xc2\x9b"
	      "2J",
	      4, "\\xc2\\x9b2J");
	/* A lone 8-bit CSI, a truncated sequence, an overlong NUL, a surrogate. */
	check("\x9b"
	      "2J",
	      3, "\\x9b2J");
	check("\xe2\x82", 2, "\\xe2\\x82");
	check("\xc0\x80", 2, "\\xc0\\x80");
	check("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");
	check("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");
	/* One bad byte does not hide the valid character after it. */
	check("\xff\xc3\xa9", 3, "\\xff\xc3\xa9");
}

static void test_str_cut(void **state)
{
	char buf[8];

	assert_string_equal(textesc__str("abcdefghij", buf, sizeof(buf)), "abcd...");
	/* Never half an escape or half a character. */
	assert_string_equal(textesc__str("ab\x1b\x1b\x1b", buf, sizeof(buf)), "ab...");
	assert_string_equal(textesc__str("abcd\xc3\xa9xy", buf, sizeof(buf)), "abcd...");
	assert_string_equal(textesc__str("abc\x1b", buf, sizeof(buf)), "abc\\x1b");
	assert_string_equal(textesc__str("x", buf, 1), "");
}

static void test_folded_hostile(void **state)
{
	struct pprof_value_type samples = {"samples", "count"};
	struct pprof_mapping_desc bin = {.memory_start = 0x400000,
					 .memory_limit = 0x500000,
					 .filename = "/usr/bin/app",
					 .has_functions = true};
	struct pprof_line_desc line = {.name = "evil\x1b]0;PWN\a\x1b[2J\nmain;x 99"};
	struct pprof_label_desc label = {.key = "comm", .str = "co\x1b[31mmm\nfake 1"};
	struct pprof_builder *b = pprof_builder__new();
	pprof_profile_t *p = NULL;
	int64_t value = 3;
	uint64_t map, loc;
	struct stacks *s;
	char *buf = NULL;
	size_t len = 0;
	uint8_t *pb;
	FILE *f;

	assert_non_null(b);
	assert_int_equal(pprof_builder__add_sample_type(b, &samples), 0);
	map = (uint64_t)pprof_builder__mapping(b, &bin);
	loc = (uint64_t)pprof_builder__location(b, map, 0x401000, &line, 1);
	assert_int_equal(pprof_builder__sample(b, &loc, 1, &value, 1, &label, 1), 0);
	assert_int_equal(pprof_builder__pack(b, &pb, &len), 0);
	assert_int_equal(pprof__read_mem(pb, len, &p), 0);
	free(pb);
	pprof_builder__free(b);
	s = stacks__new(STACKS_WANT_MACHINE | STACKS_WANT_BY_COMM);
	assert_non_null(s);
	assert_int_equal(stacks__add_profile(s, p, STACKS_NEW), 0);
	assert_int_equal(stacks__build(s, 0), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(stacks__write_folded(s, STACKS_TREE_BY_COMM, STACKS_NEW, f), 0);
	fclose(f);
	assert_string_equal(buf,
			    "co\\x1b[31mmm\\nfake 1;evil\\x1b]0:PWN\\x07\\x1b[2J\\nmain:x 99 3\n");
	free(buf);
	stacks__free(s);
	pprof__profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_str_cut),
		cmocka_unit_test(test_folded_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
