// SPDX-License-Identifier: MIT
/*
 * Integration: the store and spool directory checks against another user
 * (root; "nobody" plays the other user through chown). A spool that another
 * user owns or can write is refused before anything in it is read, so a
 * PushRequest planted there is never sent with our credentials; an item file
 * of another user in our own spool is skipped and counted; a store under a
 * parent another user owns is refused and nothing is created under it.
 * Uploads go to a closed port on 127.0.0.1: nothing leaves the machine.
 */
#define _GNU_SOURCE
#include <dirent.h>
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

#include "harness.h"

#define NOBODY 65534

static char url[64], profile[512];

/* The first item file in dir, into buf; false when there is none. */
static bool first_item(const char *dir, char *buf, size_t len)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (strstr(de->d_name, ".push.zst")) {
			snprintf(buf, len, "%s/%s", dir, de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static int upload(const char *spool, char **out)
{
	char *argv[] = {(char *)itest_smolder(),
			"upload",
			"--spool",
			(char *)spool,
			"--timeout",
			"1",
			url,
			profile,
			NULL};

	return itest_run(argv, out);
}

/* A real request left in a spool by an upload to the closed port; its path in buf. */
static void seed_item(const char *name, char *buf, size_t len)
{
	char *spool = itest_path(name), *out = NULL;

	assert_int_equal(upload(spool, &out), 1);
	free(out);
	assert_true(first_item(spool, buf, len));
}

static void test_planted_spool(void **state)
{
	char item[512], planted[600], *evil = itest_path("evil"), *out = NULL;

	seed_item("seed", item, sizeof(item));
	assert_int_equal(mkdir(evil, 0777), 0);
	assert_int_equal(chmod(evil, 0777), 0);
	snprintf(planted, sizeof(planted), "%s/%s", evil, strrchr(item, '/') + 1);
	assert_int_equal(rename(item, planted), 0);
	assert_int_equal(chown(planted, NOBODY, NOBODY), 0);
	assert_int_equal(chown(evil, NOBODY, NOBODY), 0);

	/* Another user's spool. */
	assert_int_equal(upload(evil, &out), 1);
	assert_non_null(out);
	if (!strstr(out, "upload spool") || !strstr(out, "is owned by another user"))
		fail_msg("another user's spool was used: %s", out);
	free(out);
	/* Ours, but writable by others. */
	assert_int_equal(chown(evil, 0, 0), 0);
	assert_int_equal(upload(evil, &out), 1);
	if (!strstr(out, "is writable by others (mode 0777); chmod 0700 it"))
		fail_msg("a spool others can write was used: %s", out);
	free(out);
	assert_int_equal(access(planted, F_OK), 0); /* not read, not moved, not deleted */

	/* Ours and closed: the other user's file in it is skipped and counted. */
	assert_int_equal(chmod(evil, 0700), 0);
	assert_int_equal(upload(evil, &out), 1);
	if (!strstr(out, "1 entries named like requests are symlinks, special files or other "
			 "users' files, ignoring"))
		fail_msg("another user's item was taken: %s", out);
	free(out);
	assert_int_equal(access(planted, F_OK), 0);
}

static void test_store_parent_of_other(void **state)
{
	char *nob = itest_path("nob"), *store = itest_path("nob/store"), *out = NULL;
	char *argv[] = {"timeout",  "10",      (char *)itest_smolder(),
			"agent",    "--store", store,
			"--window", "10",      NULL};

	assert_int_equal(mkdir(nob, 0755), 0);
	assert_int_equal(chown(nob, NOBODY, NOBODY), 0);
	assert_int_equal(itest_run(argv, &out), 1);
	if (!strstr(out, "its parent") || !strstr(out, "is owned by another user (uid 65534)"))
		fail_msg("a store under another user's folder was used: %s", out);
	free(out);
	assert_int_equal(access(store, F_OK), -1);
}

/*
 * A day folder planted as a symlink to a folder outside the store, holding a
 * file named like a window: the agent writes its windows inside the store,
 * never deletes through the link, and says once that it left it alone.
 */
static void test_agent_planted_day(void **state)
{
	char *store = itest_path("store"), *outside = itest_path("outside"), *out = NULL;
	char link[600], victim[600];
	char *argv[] = {"timeout", "-s",      "TERM", "6",	  (char *)itest_smolder(),
			"agent",   "--store", store,  "--window", "1",
			NULL};
	FILE *f;

	assert_int_equal(mkdir(store, 0750), 0);
	assert_int_equal(mkdir(outside, 0750), 0);
	snprintf(victim, sizeof(victim), "%s/00", outside);
	assert_int_equal(mkdir(victim, 0750), 0);
	snprintf(victim, sizeof(victim), "%s/00/smolder-h-20200101T000000Z.pb.gz", outside);
	f = fopen(victim, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/2020-01-01", store);
	assert_int_equal(symlink(outside, link), 0);
	itest_run(argv, &out);
	assert_non_null(out);
	if (!strstr(out, "1 entries in the store") || !strstr(out, "left alone, ignoring"))
		fail_msg("the planted day folder was not reported: %s", out);
	if (!itest_count_windows(store))
		fail_msg("the agent wrote no window: %s", out);
	free(out);
	assert_int_equal(access(victim, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_planted_spool),
		cmocka_unit_test(test_store_parent_of_other),
		cmocka_unit_test(test_agent_planted_day),
	};
	const char *src = getenv("SMOLDER_SRC");
	int ret;

	itest_require_root("test_dirs");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", itest_free_port());
	snprintf(profile, sizeof(profile), "%s/tests/data/go-cpu.pb.gz", src ? src : ".");
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	itest_cleanup();
	return ret;
}
