// SPDX-License-Identifier: MIT
/*
 * Unit tests of safefile/ in a temporary directory: reading refuses FIFOs and
 * directories at once and caps what it reads; writing creates with the mode
 * asked, replaces a regular file by rename, refuses FIFOs, directories and a
 * symlink of another user in a sticky world-writable directory (that one only
 * as root), follows our own symlinks, and leaves no temporary file behind.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "safefile.h"

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/smolder-test-safefile-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir))
		return -1;
	/* A FIFO that blocks would hang the test: fail it instead. */
	alarm(10);
	return 0;
}

static int teardown(void **state)
{
	alarm(0);
	if (chdir("/"))
		return -1;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, for comparing (static buffer: one at a time). */
static const char *get(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Names starting with '.' but "." and "..": what a temporary file would leave. */
static int hidden_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int write_text(const char *path, mode_t mode, const char *text, mode_t *ret_type)
{
	struct safefile_out *o;
	FILE *f;
	int err;

	err = safefile__create(path, mode, &o, ret_type);
	if (err)
		return err;
	f = safefile__stream(o);
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	return safefile__commit(o);
}

static void test_read_regular_and_cap(void **state)
{
	mode_t type;
	size_t len;
	char *buf;

	put("f", "0123456789");
	assert_int_equal(safefile__read("f", 10, &buf, &len, &type), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	assert_int_equal(type, S_IFREG);
	free(buf);
	assert_int_equal(safefile__read("f", 9, &buf, &len, NULL), -EFBIG);
	assert_int_equal(safefile__read("missing", 9, &buf, &len, &type), -ENOENT);
	assert_int_equal(type, 0);
}

static void test_read_proc_file_grows(void **state)
{
	size_t len;
	char *buf;

	/* /proc files say size 0: the buffer must grow past its first 4 KiB. */
	assert_int_equal(safefile__read("/proc/self/maps", 1 << 20, &buf, &len, NULL), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(buf), len);
	free(buf);
	assert_int_equal(safefile__read("/proc/self/maps", 16, &buf, &len, NULL), -EFBIG);
}

static void test_read_refuses_fifo_and_directory(void **state)
{
	mode_t type;
	size_t len;
	char *buf;
	int fd;

	assert_int_equal(mkfifo("fifo", 0600), 0);
	assert_int_equal(safefile__read("fifo", 100, &buf, &len, &type), -EBADFD);
	assert_int_equal(type, S_IFIFO);
	assert_string_equal(safefile__type_name(type), "a FIFO");
	assert_int_equal(safefile__open_read("fifo", &fd, NULL), -EBADFD);
	assert_int_equal(mkdir("dir", 0700), 0);
	assert_int_equal(safefile__read("dir", 100, &buf, &len, &type), -EISDIR);
	assert_int_equal(type, S_IFDIR);
	assert_int_equal(safefile__read("/dev/null", 100, &buf, &len, &type), -EBADFD);
	assert_int_equal(type, S_IFCHR);
}

static void test_read_clears_nonblock(void **state)
{
	int fd;

	put("f", "x");
	assert_int_equal(safefile__open_read("f", &fd, NULL), 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
}

static void test_create_new_with_mode(void **state)
{
	struct stat st;
	mode_t old = umask(077);

	assert_int_equal(write_text("new", 0640, "hello", NULL), 0);
	umask(old);
	assert_int_equal(stat("new", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_string_equal(get("new"), "hello");
	assert_int_equal(hidden_files("."), 0);
}

static void test_replace_regular_by_rename(void **state)
{
	struct stat before, after;

	put("out", "old");
	assert_int_equal(chmod("out", 0666), 0);
	assert_int_equal(link("out", "keep"), 0);
	assert_int_equal(stat("out", &before), 0);
	assert_int_equal(write_text("out", 0640, "new", NULL), 0);
	assert_int_equal(stat("out", &after), 0);
	assert_string_equal(get("out"), "new");
	/* Replaced, not rewritten: the hard link still has the old bytes. */
	assert_string_equal(get("keep"), "old");
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(after.st_mode & 07777, 0640);
	assert_int_equal(hidden_files("."), 0);
}

static void test_refuse_special_targets(void **state)
{
	struct safefile_out *o;
	mode_t type;
	struct stat st;

	assert_int_equal(mkfifo("fifo", 0600), 0);
	assert_int_equal(safefile__create("fifo", 0640, &o, &type), -EBADFD);
	assert_int_equal(type, S_IFIFO);
	assert_int_equal(lstat("fifo", &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(mkdir("dir", 0700), 0);
	assert_int_equal(safefile__create("dir", 0640, &o, &type), -EISDIR);
	assert_int_equal(type, S_IFDIR);
	assert_int_equal(safefile__create("dir/", 0640, &o, NULL), -EISDIR);
	assert_int_equal(safefile__create("dir/..", 0640, &o, NULL), -EISDIR);
	assert_int_equal(safefile__create("/", 0640, &o, NULL), -EISDIR);
	assert_int_equal(safefile__create("", 0640, &o, NULL), -ENOENT);
	assert_int_equal(safefile__create("missing/x", 0640, &o, NULL), -ENOENT);
	/* A symlink to a FIFO is the FIFO. */
	assert_int_equal(symlink("fifo", "to-fifo"), 0);
	assert_int_equal(safefile__create("to-fifo", 0640, &o, &type), -EBADFD);
	assert_int_equal(type, S_IFIFO);
	assert_int_equal(hidden_files("."), 0);
}

static void test_follow_own_symlinks(void **state)
{
	struct stat st;

	assert_int_equal(mkdir("sub", 0700), 0);
	put("sub/real", "old");
	assert_int_equal(symlink("sub/real", "mine"), 0);
	assert_int_equal(write_text("mine", 0640, "new", NULL), 0);
	assert_int_equal(lstat("mine", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_string_equal(get("sub/real"), "new");
	/* A relative target is relative to the link's directory; a dangling one is created. */
	assert_int_equal(symlink("made", "sub/dangling"), 0);
	assert_int_equal(write_text("sub/dangling", 0640, "made", NULL), 0);
	assert_string_equal(get("sub/made"), "made");
	assert_int_equal(hidden_files("sub"), 0);
	assert_int_equal(symlink("loop", "loop"), 0);
	assert_int_equal(write_text("loop", 0640, "x", NULL), -ELOOP);
}

static void test_discard_and_changed_target(void **state)
{
	struct safefile_out *o;

	put("out", "old");
	assert_int_equal(safefile__create("out", 0640, &o, NULL), 0);
	assert_int_equal(write(safefile__fd(o), "new", 3), 3);
	assert_int_equal(hidden_files("."), 1);
	safefile__discard(o);
	safefile__discard(NULL);
	assert_string_equal(get("out"), "old");
	assert_int_equal(hidden_files("."), 0);
	/* The name became a FIFO after the checks: not replaced at commit. */
	assert_int_equal(safefile__create("out", 0640, &o, NULL), 0);
	assert_int_equal(unlink("out"), 0);
	assert_int_equal(mkfifo("out", 0600), 0);
	assert_int_equal(safefile__commit(o), -EBADFD);
	assert_int_equal(hidden_files("."), 0);
}

static void test_stdout(void **state)
{
	struct safefile_out *o;

	assert_int_equal(safefile__create("-", 0640, &o, NULL), 0);
	assert_int_equal(safefile__fd(o), STDOUT_FILENO);
	assert_ptr_equal(safefile__stream(o), stdout);
	assert_int_equal(safefile__commit(o), 0);
	assert_int_equal(access("-", F_OK), -1);
}

static void test_refuse_planted_symlink(void **state)
{
	mode_t type;

	if (geteuid())
		skip(); /* chown of a symlink to another user needs root */
	put("victim", "root only");
	assert_int_equal(mkdir("sticky", 0700), 0);
	assert_int_equal(chmod("sticky", 01777), 0);
	assert_int_equal(symlink("../victim", "sticky/link"), 0);
	assert_int_equal(lchown("sticky/link", 65534, 65534), 0);
	assert_int_equal(write_text("sticky/link", 0640, "pwned", &type), -EPERM);
	assert_int_equal(type, S_IFLNK);
	assert_string_equal(get("victim"), "root only");
	/* Also in a directory of another user without the sticky bit. */
	assert_int_equal(mkdir("theirs", 0755), 0);
	assert_int_equal(symlink("../victim", "theirs/link"), 0);
	assert_int_equal(lchown("theirs/link", 65534, 65534), 0);
	assert_int_equal(chown("theirs", 65534, 65534), 0);
	assert_int_equal(write_text("theirs/link", 0640, "pwned", NULL), -EPERM);
	/* Our own link in the sticky directory is followed. */
	assert_int_equal(lchown("sticky/link", 0, 0), 0);
	assert_int_equal(write_text("sticky/link", 0640, "ours", NULL), 0);
	assert_string_equal(get("victim"), "ours");
	assert_int_equal(hidden_files("sticky"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_regular_and_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_proc_file_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_refuses_fifo_and_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_clears_nonblock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_new_with_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_regular_by_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_special_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_own_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_and_changed_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_planted_symlink, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
