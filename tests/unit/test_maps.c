// SPDX-License-Identifier: MIT
/* Unit tests of symbolizer/maps.c: /proc/PID/maps parsing and lookup (no root). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbolizer.h"

static const char maps_text[] =
	"55d0c8a00000-55d0c8a02000 r--p 00000000 fd:01 1054 /usr/bin/cat\n"
	"55d0c8a02000-55d0c8a07000 r-xp 00002000 fd:01 1054 /usr/bin/cat\n"
	"55d0c9e5c000-55d0c9e7d000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 \n"
	"7f1c2a200000-7f1c2a228000 r-xp 00028000 103:02 4294967297   /opt/my app/lib x.so\n"
	"7f1c2a300000-7f1c2a301000 r-xs 00001000 08:11 77 /tmp/old lib.so (deleted)\n"
	"not a maps line at all\n"
	"7f1c2a400000-7f1c2a3f0000 r-xp 00000000 00:00 0 /end/before/start\n"
	"7ffc1b5e4000-7ffc1b605000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffc1b7c6000-7ffc1b7c8000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";

static void test_parse_fields(void **state)
{
	const struct sym_map_entry *e;
	struct sym_maps maps = {0};

	assert_int_equal(sym_maps__parse(maps_text, strlen(maps_text), &maps), 0);
	/* The garbage line and the one whose end precedes its start are skipped. */
	assert_int_equal(maps.nr, 9);

	e = &maps.entries[1];
	assert_int_equal(e->start, 0x55d0c8a02000ull);
	assert_int_equal(e->end, 0x55d0c8a07000ull);
	assert_int_equal(e->offset, 0x2000);
	assert_int_equal(e->dev_major, 0xfd);
	assert_int_equal(e->dev_minor, 1);
	assert_int_equal(e->inode, 1054);
	assert_true(e->readable && !e->writable && e->executable && !e->shared);
	assert_string_equal(e->path, "/usr/bin/cat");

	assert_string_equal(maps.entries[2].path, "[heap]");
	assert_string_equal(maps.entries[3].path, "");
	e = &maps.entries[4];
	assert_string_equal(e->path, "/opt/my app/lib x.so");
	assert_int_equal(e->inode, 4294967297ull);
	assert_int_equal(e->dev_major, 0x103);
	assert_int_equal(e->dev_minor, 2);
	assert_string_equal(maps.entries[5].path, "/tmp/old lib.so (deleted)");
	assert_true(maps.entries[5].shared);
	assert_string_equal(maps.entries[7].path, "[vdso]");
	assert_string_equal(maps.entries[8].path, "[vsyscall]");
	assert_int_equal(maps.entries[8].end, 0xffffffffff601000ull);
	sym_maps__free(&maps);
}

static void test_find(void **state)
{
	struct sym_maps maps = {0};

	assert_int_equal(sym_maps__parse(maps_text, strlen(maps_text), &maps), 0);
	assert_ptr_equal(sym_maps__find(&maps, 0x55d0c8a02000ull), &maps.entries[1]);
	assert_ptr_equal(sym_maps__find(&maps, 0x55d0c8a06fffull), &maps.entries[1]);
	assert_ptr_equal(sym_maps__find(&maps, 0x55d0c8a01fffull), &maps.entries[0]);
	assert_null(sym_maps__find(&maps, 0x55d0c8a07000ull));
	assert_null(sym_maps__find(&maps, 0x1000));
	assert_null(sym_maps__find(&maps, 0xfffffffffffff000ull));
	assert_ptr_equal(sym_maps__find(&maps, 0x7ffc1b7c7000ull), &maps.entries[7]);
	sym_maps__free(&maps);
}

static void test_unsorted_and_empty(void **state)
{
	static const char text[] = "2000-3000 r-xp 00000000 00:00 0 /b\n"
				   "1000-2000 r-xp 00000000 00:00 0 /a\n";
	struct sym_maps maps = {0};

	assert_int_equal(sym_maps__parse(text, strlen(text), &maps), 0);
	assert_int_equal(maps.nr, 2);
	assert_string_equal(maps.entries[0].path, "/a");
	assert_string_equal(maps.entries[1].path, "/b");
	assert_string_equal(sym_maps__find(&maps, 0x2800)->path, "/b");
	sym_maps__free(&maps);

	assert_int_equal(sym_maps__parse("", 0, &maps), 0);
	assert_int_equal(maps.nr, 0);
	assert_null(sym_maps__find(&maps, 0x1000));
	sym_maps__free(&maps);
	sym_maps__free(&maps);
	sym_maps__free(NULL);
}

static void test_malformed_lines(void **state)
{
	static const char text[] = "1000-2000\n"
				   "1000-2000 r-xp\n"
				   "1000-2000 r-xp 0 00:00\n"
				   "-2000 r-xp 0 00:00 0 /x\n"
				   "1000-2000 r-xp 0 0000 0 /x\n"
				   "11111111111111111-2000 r-xp 0 00:00 0 /x\n"
				   "1000-2000 r-xp 0 00:00 99999999999999999999999 /x\n"
				   "1000-2000 r-xp 0 00:00 0/x\n"
				   "3000-4000 r-xp 0 00:00 0\n";
	struct sym_maps maps = {0};

	assert_int_equal(sym_maps__parse(text, strlen(text), &maps), 0);
	assert_int_equal(maps.nr, 1);
	assert_int_equal(maps.entries[0].start, 0x3000);
	assert_string_equal(maps.entries[0].path, "");
	sym_maps__free(&maps);
}

static void test_read_self(void **state)
{
	struct sym_maps maps = {0};
	bool have_stack = false;
	size_t i;

	assert_int_equal(sym_maps__read(getpid(), &maps), 0);
	assert_true(maps.nr > 3);
	for (i = 0; i < maps.nr; i++) {
		if (!strcmp(maps.entries[i].path, "[stack]"))
			have_stack = true;
		if (i)
			assert_true(maps.entries[i - 1].start < maps.entries[i].start);
	}
	assert_true(have_stack);
	assert_non_null(sym_maps__find(&maps, (uint64_t)(uintptr_t)&test_read_self));
	sym_maps__free(&maps);

	assert_int_equal(sym_maps__read(999999999, &maps), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fields),	   cmocka_unit_test(test_find),
		cmocka_unit_test(test_unsorted_and_empty), cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
