// SPDX-License-Identifier: MIT
/*
 * Unit tests of profiler/store.c in a temporary directory: partition paths,
 * retention by age and size, stale temporary files, symlink and ownership
 * refusal, listing by time, the status file.
 */
#define _GNU_SOURCE
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
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

#define NS		   1000000000LL
#define T0		   1795255200LL /* 2026-11-21T10:00:00Z */
#define NOW_AT_T0(extra_s) ((T0 + (extra_s)) * NS)

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/smolder-test-store-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, size_t bytes)
{
	FILE *f = fopen(path, "w");
	size_t i;

	assert_non_null(f);
	for (i = 0; i < bytes; i++)
		fputc('x', f);
	assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* Writes a window of bytes starting at T0 + offset_s; its path in buf. */
static void make_window(struct store *s, int64_t offset_s, size_t bytes, char *buf, size_t len)
{
	assert_int_equal(store__path(s, (T0 + offset_s) * NS, "web-1", buf, len), 0);
	write_file(buf, bytes);
}

static void test_path_layout(void **state)
{
	char dir[128], path[256], want[256];
	struct store *s;
	int64_t t;

	snprintf(dir, sizeof(dir), "%s/a/b/store", tmpdir);
	s = store__open(dir);
	assert_non_null(s);
	assert_string_equal(store__dir(s), dir);
	assert_int_equal(store__path(s, (T0 + 3723) * NS + 999, "web-1", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/2026-11-21/11/smolder-web-1-20261121T110203Z.pb.gz", dir);
	assert_string_equal(path, want);
	snprintf(want, sizeof(want), "%s/2026-11-21/11", dir);
	assert_true(exists(want));
	/* Hostile host names cannot climb out of the folder. */
	assert_int_equal(store__path(s, T0 * NS, "../../etc/x y", path, sizeof(path)), 0);
	snprintf(want, sizeof(want),
		 "%s/2026-11-21/10/smolder-.._.._etc_x_y-20261121T100000Z.pb.gz", dir);
	assert_string_equal(path, want);
	assert_int_equal(store__path(s, T0 * NS, "h", path, 20), -ENAMETOOLONG);

	assert_true(store__parse_name("smolder-web-1-20261121T110203Z.pb.gz", &t));
	assert_int_equal(t, (T0 + 3723) * NS);
	assert_false(store__parse_name("smolder--20261121T110203Z.pb.gz", &t));
	assert_false(store__parse_name("smolder-h-20260230T000000Z.pb.gz", &t));
	assert_false(store__parse_name("smolder-h-20261121T110203Z.pb", &t));
	assert_false(store__parse_name(".smolder-h-20261121T110203Z.pb.gz.aB3dEf", &t));
	store__free(s);
	store__free(NULL);
}

static int deleted_count;
static char deleted_why[8][32];

static void on_delete(const char *path, uint64_t bytes, const char *why, void *ctx)
{
	if (deleted_count < 8)
		snprintf(deleted_why[deleted_count], sizeof(deleted_why[0]), "%s", why);
	deleted_count++;
	*(uint64_t *)ctx += bytes;
}

static void test_retention_age(void **state)
{
	char old1[256], old2[256], recent[256], day[256];
	struct store_usage u;
	uint64_t freed = 0;
	struct store *s;

	s = store__open(tmpdir);
	assert_non_null(s);
	make_window(s, -9 * 86400, 100, old1, sizeof(old1));
	make_window(s, -8 * 86400 + 60, 100, old2, sizeof(old2));
	make_window(s, -86400, 100, recent, sizeof(recent));
	deleted_count = 0;
	assert_int_equal(store__retention(s, NOW_AT_T0(0), 7 * 86400, 0, on_delete, &freed, &u), 0);
	assert_int_equal(deleted_count, 2);
	assert_string_equal(deleted_why[0], "age");
	assert_int_equal(freed, 200);
	assert_false(exists(old1));
	assert_false(exists(old2));
	assert_true(exists(recent));
	/* The emptied day folders of the past are gone. */
	snprintf(day, sizeof(day), "%s/2026-11-12", tmpdir);
	assert_false(exists(day));
	assert_int_equal(u.files, 1);
	assert_int_equal(u.bytes, 100);
	assert_int_equal(u.deleted, 2);
	store__free(s);
}

static void test_retention_size(void **state)
{
	char p[5][256];
	struct store_usage u;
	uint64_t freed = 0;
	struct store *s;
	int i;

	s = store__open(tmpdir);
	assert_non_null(s);
	/* Written out of order: retention goes by the time in the name. */
	make_window(s, 120, 1000, p[2], sizeof(p[2]));
	make_window(s, 0, 1000, p[0], sizeof(p[0]));
	make_window(s, 180, 1000, p[3], sizeof(p[3]));
	make_window(s, 60, 1000, p[1], sizeof(p[1]));
	make_window(s, 3600 + 240, 1000, p[4], sizeof(p[4]));
	deleted_count = 0;
	assert_int_equal(store__retention(s, NOW_AT_T0(7200), 0, 2500, on_delete, &freed, &u), 0);
	assert_int_equal(deleted_count, 3);
	assert_string_equal(deleted_why[0], "size");
	for (i = 0; i < 3; i++)
		assert_false(exists(p[i]));
	assert_true(exists(p[3]));
	assert_true(exists(p[4]));
	assert_int_equal(u.bytes, 2000);
	assert_int_equal(u.files, 2);

	/* The newest window is kept even when it alone is over the limit. */
	deleted_count = 0;
	assert_int_equal(store__retention(s, NOW_AT_T0(7200), 0, 10, on_delete, &freed, &u), 0);
	assert_int_equal(deleted_count, 1);
	assert_true(exists(p[4]));
	store__free(s);
}

static void test_retention_temp_files(void **state)
{
	char win[256], stale[400], fresh[400], other[400], *slash;
	struct timeval tv[2] = {};
	struct store_usage u;
	uint64_t freed = 0;
	struct store *s;

	s = store__open(tmpdir);
	assert_non_null(s);
	make_window(s, 0, 10, win, sizeof(win));
	slash = strrchr(win, '/');
	*slash = '\0';
	snprintf(stale, sizeof(stale), "%s/.smolder-web-1-20261121T095900Z.pb.gz.Ab12Cd", win);
	snprintf(fresh, sizeof(fresh), "%s/.smolder-web-1-20261121T100100Z.pb.gz.Zz99Yy", win);
	snprintf(other, sizeof(other), "%s/notes.txt", win);
	*slash = '/';
	write_file(stale, 50);
	write_file(fresh, 50);
	write_file(other, 5);
	tv[0].tv_sec = tv[1].tv_sec = T0 - 600;
	assert_int_equal(utimes(stale, tv), 0);
	tv[0].tv_sec = tv[1].tv_sec = T0 - 10;
	assert_int_equal(utimes(fresh, tv), 0);
	deleted_count = 0;
	assert_int_equal(store__retention(s, NOW_AT_T0(0), 0, 0, on_delete, &freed, &u), 0);
	assert_int_equal(deleted_count, 1);
	assert_string_equal(deleted_why[0], "stale temporary file");
	assert_false(exists(stale));
	assert_true(exists(fresh));
	assert_true(exists(other)); /* not ours: left alone */
	assert_true(exists(win));
	assert_int_equal(u.files, 1);
	store__free(s);
}

static void test_refuse_symlink_and_owner(void **state)
{
	char real[128], link[128], file[128], buf[256];

	snprintf(real, sizeof(real), "%s/real", tmpdir);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	snprintf(file, sizeof(file), "%s/file", tmpdir);
	assert_int_equal(mkdir(real, 0750), 0);
	assert_int_equal(symlink(real, link), 0);
	errno = 0;
	assert_null(store__open(link));
	assert_int_equal(errno, ELOOP);
	store__format_error(link, ELOOP, buf, sizeof(buf));
	assert_non_null(strstr(buf, "is a symlink; give a real directory with --store"));
	write_file(file, 1);
	assert_null(store__open(file));
	assert_int_equal(errno, ENOTDIR);

	if (geteuid() != 0) {
		print_message("not root: skipping the ownership check\n");
		return;
	}
	assert_int_equal(chown(real, 65534, 65534), 0);
	assert_null(store__open(real));
	assert_int_equal(errno, EPERM);
	store__format_error(real, EPERM, buf, sizeof(buf));
	assert_non_null(strstr(buf, "is owned by another user"));
}

/* A store or one of its parents that others can write is refused; a sticky parent (/tmp) is fine. */
static void test_refuse_writable(void **state)
{
	char open_dir[128], wp[128], under_wp[160], sticky[128], under_sticky[160], grp[128];
	char buf[512], want[256], **paths = NULL;
	struct store *s;
	size_t nr = 0;

	snprintf(open_dir, sizeof(open_dir), "%s/open", tmpdir);
	assert_int_equal(mkdir(open_dir, 0750), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	errno = 0;
	assert_null(store__open(open_dir));
	assert_int_equal(errno, EACCES);
	store__format_error(open_dir, EACCES, buf, sizeof(buf));
	assert_non_null(strstr(buf, "is writable by others (mode 0777); chmod 0750 it"));
	assert_non_null(strstr(buf, open_dir));
	/* query reads the store as root too. */
	assert_int_equal(store__list(open_dir, INT64_MIN, INT64_MAX, &paths, &nr, NULL), -EACCES);

	snprintf(grp, sizeof(grp), "%s/grp", tmpdir);
	assert_int_equal(mkdir(grp, 0750), 0);
	assert_int_equal(chmod(grp, 0770), 0);
	assert_null(store__open(grp));
	assert_int_equal(errno, EACCES);

	/* A parent others can write: they could swap the store for their own. */
	snprintf(wp, sizeof(wp), "%s/wp", tmpdir);
	snprintf(under_wp, sizeof(under_wp), "%s/wp/store", tmpdir);
	assert_int_equal(mkdir(wp, 0750), 0);
	assert_int_equal(chmod(wp, 0777), 0);
	assert_null(store__open(under_wp));
	assert_int_equal(errno, EACCES);
	assert_false(exists(under_wp)); /* nothing is created under it */
	store__format_error(under_wp, EACCES, buf, sizeof(buf));
	snprintf(want, sizeof(want), "its parent '%s' is writable by others (mode 0777)", wp);
	assert_non_null(strstr(buf, want));

	/* A sticky parent like /tmp: only the owner of an entry may replace it. */
	snprintf(sticky, sizeof(sticky), "%s/sticky", tmpdir);
	snprintf(under_sticky, sizeof(under_sticky), "%s/sticky/store", tmpdir);
	assert_int_equal(mkdir(sticky, 0750), 0);
	assert_int_equal(chmod(sticky, 01777), 0);
	s = store__open(under_sticky);
	assert_non_null(s);
	store__free(s);
	/* Relative paths are checked from the root too. */
	assert_int_equal(chdir(wp), 0);
	assert_null(store__open("rel"));
	assert_int_equal(errno, EACCES);
	assert_int_equal(chdir("/"), 0);
}

/*
 * A <date> folder planted as a symlink before the agent writes: the window
 * is not written through it, and nothing is created where it points.
 */
static void test_planted_day_symlink(void **state)
{
	char store[128], outside[128], day[160], hour[160], path[256];
	struct store *s;

	snprintf(store, sizeof(store), "%s/store", tmpdir);
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	snprintf(day, sizeof(day), "%s/2026-11-21", store);
	snprintf(hour, sizeof(hour), "%s/10", outside);
	assert_int_equal(mkdir(outside, 0750), 0);
	s = store__open(store);
	assert_non_null(s);
	assert_int_equal(symlink(outside, day), 0);
	assert_int_equal(store__path(s, T0 * NS, "web-1", path, sizeof(path)), -ELOOP);
	assert_false(exists(hour));
	/* A day folder others can write is refused as well. */
	assert_int_equal(unlink(day), 0);
	assert_int_equal(mkdir(day, 0750), 0);
	assert_int_equal(chmod(day, 0777), 0);
	assert_int_equal(store__path(s, T0 * NS, "web-1", path, sizeof(path)), -EACCES);
	store__free(s);
}

/*
 * Symlinks and special files in the store look like windows but are not:
 * retention and listing skip and count them, never follow or delete through them.
 */
static void test_retention_skips_planted(void **state)
{
	char win[256], outside[128], victim[160], link[300], fifo[300], hour_link[200];
	char outside_win[300], *slash, **paths = NULL;
	struct store_usage u;
	uint64_t freed = 0, refused = 0;
	struct store *s;
	size_t nr = 0;

	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	snprintf(victim, sizeof(victim), "%s/victim", outside);
	snprintf(outside_win, sizeof(outside_win), "%s/smolder-web-1-20261121T110000Z.pb.gz",
		 outside);
	assert_int_equal(mkdir(outside, 0750), 0);
	write_file(victim, 7);
	write_file(outside_win, 7);
	s = store__open(tmpdir);
	assert_non_null(s);
	make_window(s, 0, 10, win, sizeof(win));
	slash = strrchr(win, '/');
	*slash = '\0';
	snprintf(link, sizeof(link), "%s/smolder-web-1-20261121T100500Z.pb.gz", win);
	snprintf(fifo, sizeof(fifo), "%s/smolder-web-1-20261121T100600Z.pb.gz", win);
	*slash = '/';
	snprintf(hour_link, sizeof(hour_link), "%s/2026-11-21/11", tmpdir);
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(outside, hour_link), 0);

	assert_int_equal(store__list(tmpdir, INT64_MIN, INT64_MAX, &paths, &nr, &refused), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(paths[0], win);
	assert_int_equal(refused, 3);
	store__free_list(paths, nr);

	deleted_count = 0;
	assert_int_equal(
		store__retention(s, NOW_AT_T0(86400 * 30), 86400, 0, on_delete, &freed, &u), 0);
	assert_int_equal(deleted_count, 1);
	assert_false(exists(win));
	assert_true(exists(victim));
	assert_true(exists(outside_win));
	assert_true(exists(link)); /* left alone, not deleted through */
	assert_true(exists(fifo));
	assert_int_equal(u.refused, 3);
	store__free(s);
}

static void test_list_by_time(void **state)
{
	char p[6][256];
	char **paths = NULL;
	size_t nr = 99;
	struct store *s;

	s = store__open(tmpdir);
	assert_non_null(s);
	make_window(s, 0, 1, p[0], sizeof(p[0])); /* 10:00 */
	make_window(s, 60, 1, p[1], sizeof(p[1])); /* 10:01 */
	make_window(s, 3600, 1, p[2], sizeof(p[2])); /* 11:00 */
	make_window(s, 86400, 1, p[3], sizeof(p[3])); /* next day */
	make_window(s, -2 * 3600, 1, p[4], sizeof(p[4])); /* 08:00 */
	make_window(s, 7200, 1, p[5], sizeof(p[5])); /* 12:00 */

	assert_int_equal(store__list(tmpdir, INT64_MIN, INT64_MAX, &paths, &nr, NULL), 0);
	assert_int_equal(nr, 6);
	assert_string_equal(paths[0], p[4]);
	assert_string_equal(paths[1], p[0]);
	assert_string_equal(paths[5], p[3]);
	store__free_list(paths, nr);

	/* [10:30, 12:00): the 11:00 window, plus those starting up to an hour earlier. */
	assert_int_equal(store__list(tmpdir, (T0 + 1800) * NS, (T0 + 7200) * NS, &paths, &nr, NULL),
			 0);
	assert_int_equal(nr, 3);
	assert_string_equal(paths[0], p[0]);
	assert_string_equal(paths[1], p[1]);
	assert_string_equal(paths[2], p[2]);
	store__free_list(paths, nr);

	assert_int_equal(store__list(tmpdir, (T0 + 5 * 86400) * NS, INT64_MAX, &paths, &nr, NULL),
			 0);
	assert_int_equal(nr, 0);
	store__free_list(paths, nr);

	snprintf(p[0], sizeof(p[0]), "%s/none", tmpdir);
	assert_int_equal(store__list(p[0], INT64_MIN, INT64_MAX, &paths, &nr, NULL), -ENOENT);
	store__free(s);
}

static void test_status_round_trip(void **state)
{
	struct agent_status st = {}, got;
	char path[128];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/status", tmpdir);
	st.pid = 4242;
	st.started_nanos = T0 * NS;
	st.updated_nanos = (T0 + 600) * NS;
	st.windows_written = 10;
	st.last_window_nanos = (T0 + 540) * NS;
	st.samples = 123456789012ULL;
	st.lost_samples = 7;
	st.processes = 321;
	st.symbolization_misses = 9;
	st.cpu_seconds = 12.5;
	st.rss_bytes = 45 << 20;
	st.store_bytes = 1ULL << 33;
	st.store_files = 10;
	st.pending_windows = 2;
	strcpy(st.store_dir, "/var/lib/smolder");
	strcpy(st.last_error, "failed to write 'x': No space left\non device");
	assert_int_equal(store__write_status(path, &st), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	assert_int_equal(store__read_status(path, &got), 0);
	assert_int_equal(got.pid, 4242);
	assert_int_equal(got.started_nanos, st.started_nanos);
	assert_int_equal(got.updated_nanos, st.updated_nanos);
	assert_int_equal(got.windows_written, 10);
	assert_int_equal(got.last_window_nanos, st.last_window_nanos);
	assert_int_equal(got.samples, 123456789012ULL);
	assert_int_equal(got.lost_samples, 7);
	assert_int_equal(got.processes, 321);
	assert_int_equal(got.symbolization_misses, 9);
	assert_true(got.cpu_seconds > 12.49 && got.cpu_seconds < 12.51);
	assert_int_equal(got.rss_bytes, 45 << 20);
	assert_int_equal(got.store_bytes, 1ULL << 33);
	assert_int_equal(got.store_files, 10);
	assert_int_equal(got.pending_windows, 2);
	assert_string_equal(got.store_dir, "/var/lib/smolder");
	/* A newline cannot forge another key. */
	assert_string_equal(got.last_error, "failed to write 'x': No space left on device");

	write_file(path, 3);
	assert_int_equal(store__read_status(path, &got), -EBADMSG);
	unlink(path);
	assert_int_equal(store__read_status(path, &got), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_temp_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_symlink_and_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_day_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_skips_planted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
