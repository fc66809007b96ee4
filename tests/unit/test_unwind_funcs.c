// SPDX-License-Identifier: MIT
/*
 * Unit test of unwind_funcs (unwind/cfi.c): for this test's own executable
 * and the libc it runs with, every FDE that `readelf --debug-dump=frames`
 * lists ("pc=START..END") must give START for its first and last address,
 * and the count must agree. readelf is an independent parser of the same
 * sections; binutils is a test dependency (scripts/install-deps.sh).
 */
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
#include <unistd.h>

#include <cmocka.h>

#include "unwind.h"

static void check_file(const char *path)
{
	char cmd[4200], line[1024];
	unsigned long long start, end;
	struct unwind_funcs *f;
	size_t nr = 0;
	uint64_t got;
	const char *pc;
	FILE *p;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	f = unwind_funcs__from_fd(fd);
	close(fd);
	assert_non_null(f);
	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		pc = strstr(line, " FDE ");
		pc = pc ? strstr(pc, "pc=") : NULL;
		if (!pc || sscanf(pc, "pc=%llx..%llx", &start, &end) != 2 || !start || end <= start)
			continue;
		nr++;
		if (unwind_funcs__start(f, start, &got) || got != start ||
		    unwind_funcs__start(f, end - 1, &got) || got != start)
			fail_msg("%s: FDE pc=%llx..%llx: start not found", path, start, end);
	}
	/* readelf exits 1 on some libcs without saying why: the FDE count is the check. */
	assert_true(pclose(p) >= 0);
	print_message("%s: %zu FDEs\n", path, nr);
	assert_true(nr > 0);
	assert_int_equal(unwind_funcs__nr(f), nr);
	/* Before the first FDE: none. */
	assert_int_equal(unwind_funcs__start(f, 0, &got), -ENOENT);
	unwind_funcs__free(f);
}

static void test_against_readelf(void **state)
{
	char line[4096], path[4096] = "";
	FILE *maps;
	ssize_t n;

	(void)state;
	/* readelf's own /proc/self/exe would be readelf: name the file. */
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	assert_true(n > 0);
	path[n] = '\0';
	check_file(path);
	path[0] = '\0';
	maps = fopen("/proc/self/maps", "r");
	assert_non_null(maps);
	while (!path[0] && fgets(line, sizeof(line), maps)) {
		char *slash = strchr(line, '/');

		if (slash && strstr(slash, "/libc.so")) {
			slash[strcspn(slash, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s", slash);
		}
	}
	fclose(maps);
	assert_true(path[0]);
	check_file(path);
}

static void test_not_elf(void **state)
{
	char tmp[] = "/tmp/smolder-funcs-XXXXXX";
	int fd = mkstemp(tmp);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not an ELF file", 15), 15);
	errno = 0;
	assert_null(unwind_funcs__from_fd(fd));
	assert_int_equal(errno, EINVAL);
	close(fd);
	unlink(tmp);
	unwind_funcs__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_readelf),
		cmocka_unit_test(test_not_elf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
