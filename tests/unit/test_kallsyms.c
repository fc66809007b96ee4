// SPDX-License-Identifier: MIT
/*
 * Unit tests of symbolizer/kallsyms.c and symbolizer__kernel() on fixture
 * texts (tests/data/kallsyms*.txt): aliases, weak and module symbols, BPF
 * programs, end markers, gaps, and the all-zero addresses of a hidden kernel.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "symbolizer.h"
#include "symbolizer_internal.h"

struct expect {
	uint64_t addr;
	const char *name; /* NULL: nothing named */
	const char *module;
};

/* Each case's address is named as it says (NULL: not at all). */
static void check_cases(struct symbolizer *s, const struct expect *cases, size_t nr)
{
	struct sym_result res;
	size_t i;

	for (i = 0; i < nr; i++) {
		memset(&res, 0xff, sizeof(res));
		assert_int_equal(symbolizer__kernel(s, cases[i].addr, &res), 0);
		assert_int_equal(res.elf_addr, cases[i].addr);
		if (!cases[i].name) {
			assert_int_equal(res.nr_frames, 0);
			continue;
		}
		assert_int_equal(res.nr_frames, 1);
		assert_string_equal(res.frames[0].name, cases[i].name);
		if (cases[i].module)
			assert_string_equal(res.module, cases[i].module);
		else
			assert_null(res.module);
	}
}

static void test_lookups(void **state)
{
	static const struct expect cases[] = {
		{0xffffffff80ffffffull, NULL, NULL},
		{0xffffffff81000000ull, "startup_64",
		 NULL}, /* global, fewer underscores than _stext */
		{0xffffffff810003ffull, "startup_64", NULL},
		{0xffffffff81000400ull, "secondary_startup_64", NULL},
		{0xffffffff81001010ull, "do_syscall_64", NULL}, /* global over local alias */
		{0xffffffff81002fffull, "weak_text_fn", NULL},
		{0xffffffff81003000ull, NULL, NULL}, /* a data symbol ends the weak one */
		{0xffffffff810047ffull, "last_text_fn", NULL},
		{0xffffffff81004800ull, NULL, NULL}, /* _etext is a marker, not a function */
		{0xffffffff81100000ull, NULL, NULL},
		{0xffffffffc0001004ull, "ext4_mod_fn_a", "ext4"},
		{0xffffffffc0001900ull, "ext4_mod_fn_b", "ext4"},
		{0xffffffffc0003010ull, "xfs_mod_fn", "xfs"},
		{0xffffffffc0005020ull, "bpf_prog_6deef7357e7b4530_sd_fw_ingress", "bpf"},
		{0xffffffffc0005000ull + (2u << 20), NULL, NULL}, /* beyond the gap bound */
	};
	struct symbolizer_opts opts = {.kallsyms = SYM_DATA_DIR "/kallsyms.txt"};
	struct symbolizer_stats stats;
	struct symbolizer *s;

	s = symbolizer__new(&opts);
	assert_non_null(s);
	check_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.lookups, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(stats.unresolved, 5);
	/* startup_64, secondary, do_syscall_64, weak, last, 2 ext4, xfs, bpf */
	assert_int_equal(stats.kernel_symbols, 9);
	symbolizer__free(s);
}

/*
 * Aliases at one address (as x86_64 kernels have them): the native entry over
 * the compat ones, global or weak over local, fewer leading underscores, then
 * the shortest name, then the first in byte order; whatever order the file
 * lists them in.
 */
static void test_aliases(void **state)
{
	static const struct expect cases[] = {
		{0xffffffff81302f80ull, "__x64_sys_getppid", NULL},
		{0xffffffff81302f90ull, "__x64_sys_getppid", NULL},
		/* global over local, compat or not */
		{0xffffffff81303000ull, "__ia32_compat_sys_sigreturn", NULL},
		{0xffffffff81303100ull, "__x64_sys_recvmsg", NULL},
		{0xffffffff81303200ull, "sys_old_fn", NULL},
		{0xffffffff81303300ull, "__weak_fn", NULL}, /* weak over local */
		{0xffffffff81303400ull, "irq_entries_start", NULL},
		{0xffffffff81303500ull, "beta_fn", NULL},
		{0xffffffff81303600ull, "last_fn", NULL},
	};
	struct symbolizer_opts opts = {.kallsyms = SYM_DATA_DIR "/kallsyms_aliases.txt"};
	struct symbolizer *s;

	s = symbolizer__new(&opts);
	assert_non_null(s);
	check_cases(s, cases, sizeof(cases) / sizeof(cases[0]));
	symbolizer__free(s);
}

static void test_hidden_addresses(void **state)
{
	struct symbolizer_opts opts = {.kallsyms = SYM_DATA_DIR "/kallsyms_hidden.txt"};
	struct symbolizer_stats stats;
	struct sym_result res;
	struct symbolizer *s;

	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__kernel(s, 0xffffffff81000000ull, &res), -EPERM);
	/* Reported once; then addresses are just unnamed. */
	assert_int_equal(symbolizer__kernel(s, 0xffffffff81000000ull, &res), 0);
	assert_int_equal(res.nr_frames, 0);
	symbolizer__stats(s, &stats);
	assert_int_equal(stats.kernel_symbols, 0);
	assert_int_equal(stats.unresolved, 2);
	symbolizer__free(s);
}

static void test_parse_text(void **state)
{
	static const char text[] = "ffffffff81000000 T a\n"
				   "ffffffff81000010 t b\t[m]\n"
				   "ffffffff81000020 t c\t[unterminated\n"
				   "ffffffff81000030 T";
	struct sym_kallsyms *k = NULL;
	const struct sym_ksym *sym;

	assert_int_equal(sym_kallsyms__parse("", 0, &k), -ENOENT);
	assert_int_equal(sym_kallsyms__parse("garbage\n", 8, &k), -ENOENT);
	assert_int_equal(sym_kallsyms__parse("0000000000000000 T a\n", 21, &k), -EPERM);
	assert_int_equal(sym_kallsyms__parse(text, strlen(text), &k), 0);
	assert_int_equal(k->nr, 2);
	sym = sym_kallsyms__find(k, 0xffffffff81000018ull);
	assert_non_null(sym);
	assert_string_equal(k->strs + sym->name_off, "b");
	assert_string_equal(k->strs + sym->module_off, "m");
	/* b is the last symbol: it is bounded by the gap limit only. */
	assert_non_null(sym_kallsyms__find(k, 0xffffffff81000010ull + SYM_KALLSYMS_MAX_GAP - 1));
	assert_null(sym_kallsyms__find(k, 0xffffffff81000010ull + SYM_KALLSYMS_MAX_GAP));
	sym_kallsyms__free(k);
	sym_kallsyms__free(NULL);
}

static void test_missing_file(void **state)
{
	struct symbolizer_opts opts = {.kallsyms = SYM_DATA_DIR "/no-such-kallsyms.txt"};
	struct sym_result res;
	struct symbolizer *s;

	s = symbolizer__new(&opts);
	assert_non_null(s);
	assert_int_equal(symbolizer__kernel(s, 0xffffffff81000000ull, &res), -ENOENT);
	symbolizer__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),		 cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_hidden_addresses), cmocka_unit_test(test_parse_text),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
