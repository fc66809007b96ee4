// SPDX-License-Identifier: MIT
/*
 * Names in `smolder record -p`'s profile, as root, asserted on the decoded
 * pprof: workloads built by names.cmake spin in a known function called from
 * a known chain, and the Location of the caller's frame must carry that
 * chain, innermost inlined function first and the physical function last,
 * with the file's basename, line and column of each call read from marker
 * comments in the workload's source (never from smolder). Cases: DWARF in
 * the binary (and `go tool pprof -raw` accepting the file), an LTO build
 * inlining across units, C++ (demangled Function.name, mangled
 * system_name), a stripped binary whose debug file is found by build-id
 * under /usr/lib/debug (installed by the test and removed afterwards, also
 * when it fails), one whose debug file exists only inside the process's
 * private mount namespace, a stripped binary named from .dynsym alone, and
 * samples in a PLT stub (abs@plt, called from the workload's loop).
 * Mapping flags (has_functions, has_filenames, has_line_numbers,
 * has_inline_frames) are checked too. DEBUGINFOD_URLS is unset: nothing
 * comes from the network.
 *
 * JIT names (fake_jit): a JIT that renames the code at one address while the
 * agent samples it in 1 s windows gets both names, and no window that starts
 * after the rename carries the old one; perf maps that are a symlink to a
 * root-only file, owned by another user, or root-only while the process runs
 * as nobody name nothing and are counted as refused in `record -v`, while
 * the map nobody's process writes itself names its code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define RECORD_SECONDS	 "3"
#define WORKLOAD_SECONDS "8"
#define MIN_SAMPLES	 200 /* of the workload with the expected leaf; 499 Hz x 3 s is ~1,500 */
#define MIN_SHARE	 90 /* percent of those whose caller's Location is exactly as expected */
#define HOST_DEBUG_ROOT	 "/usr/lib/debug"
#define MIN_PLT_SAMPLES	 20 /* in abs@plt; it has about a fifth of the ~1,500 */
#define MIN_PLT_SHARE	 5 /* percent of the workload's samples in abs@plt */

struct expect_line {
	const char *function;
	const char *file; /* basename */
	uint32_t line;
	uint32_t column;
};

/* Line and column (1-based, bytes) of call on the line of src holding marker. */
static struct expect_line find_call(const char *function, const char *src, const char *marker,
				    const char *call)
{
	struct expect_line e = {.function = function, .file = src};
	char path[4096], text[512];
	uint32_t n = 0;
	char *at;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", NAMES_SRC, src);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(text, sizeof(text), f)) {
		n++;
		if (!strstr(text, marker))
			continue;
		at = strstr(text, call);
		assert_non_null(at);
		e.line = n;
		e.column = (uint32_t)(at - text) + 1;
		break;
	}
	fclose(f);
	assert_true(e.line > 0);
	return e;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	itest_wait(pid);
}

/* Runs workload for WORKLOAD_SECONDS and records it; NULL on failure. */
static pprof_profile_t *record_workload(const char *workload, const char *out, pid_t *ret_pid)
{
	char *argv[] = {(char *)workload, WORKLOAD_SECONDS, NULL};
	pprof_profile_t *p;
	pid_t pid;

	pid = itest_spawn(argv);
	usleep(200 * 1000);
	p = itest_record_pid(out, pid, RECORD_SECONDS, "499");
	stop(pid);
	*ret_pid = pid;
	return p;
}

static const Perftools__Profiles__Location *
location_of(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, size_t i)
{
	return p->location[s->location_id[i] - 1];
}

/* Index of the first user frame of s (kernel frames come first), or n_location_id. */
static size_t first_user_frame(const pprof_profile_t *p, const Perftools__Profiles__Sample *s)
{
	const Perftools__Profiles__Mapping *m;
	size_t u;

	for (u = 0; u < s->n_location_id; u++) {
		m = itest_frame_mapping(p, s, u);
		if (!m || strcmp(pprof__str(p, m->filename), "[kernel.kallsyms]"))
			break;
	}
	return u;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Whether loc's lines are exactly want[0..nr), printing the first difference. */
static bool location_is(const pprof_profile_t *p, const Perftools__Profiles__Location *loc,
			const struct expect_line *want, size_t nr, bool verbose)
{
	const Perftools__Profiles__Function *fn;
	const Perftools__Profiles__Line *l;
	size_t i;

	if (loc->n_line != nr) {
		if (verbose)
			print_message("location has %zu lines, expected %zu\n", loc->n_line, nr);
		return false;
	}
	for (i = 0; i < nr; i++) {
		l = loc->line[i];
		if (!l->function_id)
			return false;
		fn = p->function[l->function_id - 1];
		if (strcmp(pprof__str(p, fn->name), want[i].function) ||
		    strcmp(base_name(pprof__str(p, fn->filename)), want[i].file) ||
		    (uint32_t)l->line != want[i].line || (uint32_t)l->column != want[i].column) {
			if (verbose)
				print_message("line %zu: %s %s:%lld:%lld, expected %s %s:%u:%u\n",
					      i, pprof__str(p, fn->name),
					      pprof__str(p, fn->filename), (long long)l->line,
					      (long long)l->column, want[i].function, want[i].file,
					      want[i].line, want[i].column);
			return false;
		}
	}
	return true;
}

/*
 * Asserts that pid spent its samples in leaf, and that the caller's
 * Location is want[] (innermost first) for at least MIN_SHARE% of them, in a
 * mapping with DWARF flags set.
 */
static void assert_caller_chain(const pprof_profile_t *p, pid_t pid, const char *leaf,
				const struct expect_line *want, size_t nr)
{
	const Perftools__Profiles__Mapping *m;
	int64_t total = 0, in_leaf = 0, exact = 0;
	bool shown = false, ok;
	size_t i, u;

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		if (itest_label_num(p, s, "pid") != pid)
			continue;
		total += s->value[0];
		u = first_user_frame(p, s);
		if (u + 1 >= s->n_location_id || strcmp(itest_frame_name(p, s, u), leaf))
			continue;
		in_leaf += s->value[0];
		ok = location_is(p, location_of(p, s, u + 1), want, nr, !shown);
		shown = shown || !ok;
		if (!ok)
			continue;
		exact += s->value[0];
		m = itest_frame_mapping(p, s, u + 1);
		assert_non_null(m);
		assert_true(m->has_functions);
		assert_true(m->has_filenames);
		assert_true(m->has_line_numbers);
		assert_true(m->has_inline_frames);
	}
	print_message("pid %d: %lld samples, %lld in %s, %lld with the expected caller\n", (int)pid,
		      (long long)total, (long long)in_leaf, leaf, (long long)exact);
	assert_true(in_leaf >= MIN_SAMPLES);
	assert_true(exact * 100 >= in_leaf * MIN_SHARE);
}

static void inline_chain(struct expect_line want[3])
{
	want[0] = find_call("names_leaf", "names_inline.c", "CALL_BURN", "names_burn(");
	want[1] = find_call("names_middle", "names_inline.c", "CALL_LEAF", "names_leaf(");
	want[2] = find_call("names_outer", "names_inline.c", "CALL_MIDDLE", "names_middle(");
}

static void test_inline_chain(void **state)
{
	char *out = NULL, *go[] = {"go", "tool", "pprof", "-raw", itest_path("inline.pb.gz"), NULL};
	struct expect_line want[3];
	pprof_profile_t *p;
	pid_t pid;

	inline_chain(want);
	p = record_workload(NAMES_OUT "/names_inline", "inline.pb.gz", &pid);
	assert_non_null(p);
	assert_caller_chain(p, pid, "names_burn", want, 3);
	pprof__profile_free(p);
	/* go tool pprof accepts Locations with inline lines and columns. */
	assert_int_equal(itest_run(go, &out), 0);
	assert_non_null(strstr(out, "names_middle"));
	free(out);
}

static void test_lto_cross_unit(void **state)
{
	struct expect_line want[2];
	pprof_profile_t *p;
	pid_t pid;

	want[0] = find_call("names_lto_helper", "names_lto_b.c", "CALL_BURN", "names_lto_burn(");
	want[1] = find_call("names_lto_entry", "names_lto_a.c", "CALL_HELPER", "names_lto_helper(");
	p = record_workload(NAMES_OUT "/names_lto", "lto.pb.gz", &pid);
	assert_non_null(p);
	assert_caller_chain(p, pid, "names_lto_burn", want, 2);
	pprof__profile_free(p);
}

/* Function name and system_name of the physical function of frame i. */
static void frame_function(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, size_t i,
			   const char **ret_name, const char **ret_system)
{
	const Perftools__Profiles__Location *loc = location_of(p, s, i);
	const Perftools__Profiles__Function *fn;

	*ret_name = "";
	*ret_system = "";
	if (!loc->n_line || !loc->line[loc->n_line - 1]->function_id)
		return;
	fn = p->function[loc->line[loc->n_line - 1]->function_id - 1];
	*ret_name = pprof__str(p, fn->name);
	*ret_system = pprof__str(p, fn->system_name);
}

static void test_cxx_demangled(void **state)
{
	static const char spin[] = "smolder_ns::Spinner<long>::spin(long)";
	static const char drive[] =
		"long smolder_ns::drive<long>(smolder_ns::Spinner<long>&, long)";
	const char *name, *system;
	int64_t in_leaf = 0, exact = 0;
	pprof_profile_t *p;
	pid_t pid;
	size_t i, u;

	if (!NAMES_CXX[0])
		skip();
	p = record_workload(NAMES_CXX, "cxx.pb.gz", &pid);
	assert_non_null(p);
	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		if (itest_label_num(p, s, "pid") != pid)
			continue;
		u = first_user_frame(p, s);
		if (u + 1 >= s->n_location_id)
			continue;
		frame_function(p, s, u, &name, &system);
		if (strcmp(name, spin))
			continue;
		in_leaf += s->value[0];
		assert_string_equal(system, "_ZN10smolder_ns7SpinnerIlE4spinEl");
		frame_function(p, s, u + 1, &name, &system);
		if (strcmp(name, drive)) {
			print_message("caller '%s', expected '%s'\n", name, drive);
			continue;
		}
		assert_string_equal(system, "_ZN10smolder_ns5driveIlEET_RNS_7SpinnerIS1_EES1_");
		exact += s->value[0];
	}
	print_message("pid %d: %lld samples in %s, %lld called from %s\n", (int)pid,
		      (long long)in_leaf, spin, (long long)exact, drive);
	assert_true(in_leaf >= MIN_SAMPLES);
	assert_true(exact * 100 >= in_leaf * MIN_SHARE);
	pprof__profile_free(p);
}

/* The debug file installed under /usr/lib/debug by test_split_build_id, removed by its teardown. */
static char installed_file[1024];
static char installed_dir[1024];

static void debug_uninstall(void)
{
	if (installed_file[0] && unlink(installed_file))
		fprintf(stderr, "test_names: cannot remove %s: %s\n", installed_file,
			strerror(errno));
	installed_file[0] = '\0';
	/* Only a directory we created, and only when empty. */
	if (installed_dir[0])
		rmdir(installed_dir);
	installed_dir[0] = '\0';
}

static int debug_uninstall_teardown(void **state)
{
	debug_uninstall();
	return 0;
}

/* Path (relative to root) of the one .build-id/xx/rest.debug under staging root. */
static void staged_debug_file(const char *root, char *ret_rel, size_t size)
{
	char pattern[4096];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/.build-id/*/*.debug", root);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	snprintf(ret_rel, size, "%s", g.gl_pathv[0] + strlen(root));
	globfree(&g);
}

static void test_split_build_id(void **state)
{
	char rel[512], dir[4096], *cp[] = {"cp", NULL, installed_file, NULL};
	struct expect_line want[3];
	pprof_profile_t *p;
	pid_t pid;

	inline_chain(want);
	staged_debug_file(NAMES_OUT "/names_split_root", rel, sizeof(rel));
	snprintf(installed_file, sizeof(installed_file), "%s%s", HOST_DEBUG_ROOT, rel);
	/* Never overwrite (nor later remove) a file that was there before us. */
	if (!access(installed_file, F_OK)) {
		print_error("'%s' exists already\n", installed_file);
		installed_file[0] = '\0';
		fail();
	}
	memcpy(dir, installed_file, sizeof(installed_file));
	*strrchr(dir, '/') = '\0';
	if (access(dir, F_OK)) {
		if (mkdir(HOST_DEBUG_ROOT "/.build-id", 0755))
			assert_int_equal(errno, EEXIST);
		assert_int_equal(mkdir(dir, 0755), 0);
		memcpy(installed_dir, dir, strlen(dir) + 1);
	}
	snprintf(dir, sizeof(dir), "%s%s", NAMES_OUT "/names_split_root", rel);
	cp[1] = dir;
	assert_int_equal(itest_run(cp, NULL), 0);

	p = record_workload(NAMES_OUT "/names_split", "split.pb.gz", &pid);
	debug_uninstall();
	assert_non_null(p);
	assert_caller_chain(p, pid, "names_burn", want, 3);
	pprof__profile_free(p);
}

/* The debug file exists only on a tmpfs over /usr/lib/debug in the process's own mounts. */
static void test_debug_file_in_private_mount(void **state)
{
	char rel[512], script[8192], host_copy[1024];
	char *argv[] = {
		"/usr/bin/unshare", "-m", "--propagation", "private", "sh", "-c", script, NULL};
	struct expect_line want[3];
	pprof_profile_t *p = NULL;
	bool premise;
	pid_t pid;

	inline_chain(want);
	staged_debug_file(NAMES_OUT "/names_ns_root", rel, sizeof(rel));
	snprintf(host_copy, sizeof(host_copy), "%s%s", HOST_DEBUG_ROOT, rel);
	snprintf(script, sizeof(script),
		 "exec 3<'%s/names_ns_root%s' && mount -t tmpfs smolder-itest '%s' && "
		 "mkdir -p \"$(dirname '%s')\" && cat <&3 >'%s' && exec 3<&- && "
		 "exec '%s/names_nsdebug' %s",
		 NAMES_OUT, rel, HOST_DEBUG_ROOT, host_copy, host_copy, NAMES_OUT,
		 WORKLOAD_SECONDS);
	pid = itest_spawn(argv);
	/* The premise: the host has no such debug file, the process does. */
	premise = itest_wait_comm(pid, "names_nsdebug") && access(host_copy, F_OK);
	if (premise) {
		char in_root[8192];

		snprintf(in_root, sizeof(in_root), "/proc/%d/root%s", (int)pid, host_copy);
		premise = !access(in_root, F_OK);
	}
	if (premise)
		p = itest_record_pid("nsdebug.pb.gz", pid, RECORD_SECONDS, "499");
	stop(pid);
	assert_true(premise);
	assert_non_null(p);
	assert_caller_chain(p, pid, "names_burn", want, 3);
	pprof__profile_free(p);
}

struct leaf_count {
	int64_t total; /* samples of the process */
	int64_t in_leaf; /* whose first user frame is the leaf */
	int64_t with_caller; /* of those, called from the caller */
};

/*
 * Counts pid's samples in leaf (its first user frame) and those of them
 * called from caller; check, if given, asserts on each leaf frame.
 */
static struct leaf_count
count_leaf(const pprof_profile_t *p, pid_t pid, const char *leaf, const char *caller,
	   void (*check)(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, size_t u))
{
	struct leaf_count c = {0};
	size_t i, u;

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		if (itest_label_num(p, s, "pid") != pid)
			continue;
		c.total += s->value[0];
		u = first_user_frame(p, s);
		if (u >= s->n_location_id || strcmp(itest_frame_name(p, s, u), leaf))
			continue;
		c.in_leaf += s->value[0];
		if (check)
			check(p, s, u);
		if (u + 1 < s->n_location_id && !strcmp(itest_frame_name(p, s, u + 1), caller))
			c.with_caller += s->value[0];
	}
	print_message("pid %d: %lld samples, %lld in %s, %lld called from %s\n", (int)pid,
		      (long long)c.total, (long long)c.in_leaf, leaf, (long long)c.with_caller,
		      caller);
	return c;
}

/* A frame named from .dynsym alone: one line, no line number, no file names. */
static void check_dynsym_frame(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			       size_t u)
{
	const Perftools__Profiles__Location *loc = location_of(p, s, u);
	const Perftools__Profiles__Mapping *m = itest_frame_mapping(p, s, u);

	assert_int_equal(loc->n_line, 1);
	assert_int_equal(loc->line[0]->line, 0);
	assert_non_null(m);
	assert_true(m->has_functions);
	assert_false(m->has_filenames);
	assert_false(m->has_line_numbers);
	assert_false(m->has_inline_frames);
}

/* Records workload and counts its samples in leaf (see count_leaf). */
static struct leaf_count
record_leaf(const char *workload, const char *out, const char *leaf, const char *caller,
	    void (*check)(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, size_t u))
{
	struct leaf_count c;
	pprof_profile_t *p;
	pid_t pid;

	p = record_workload(workload, out, &pid);
	assert_non_null(p);
	c = count_leaf(p, pid, leaf, caller, check);
	pprof__profile_free(p);
	return c;
}

/* Stripped, no debug file anywhere: exported functions named from .dynsym, no lines. */
static void test_stripped_dynsym(void **state)
{
	struct leaf_count c = record_leaf(NAMES_OUT "/names_stripped", "stripped.pb.gz",
					  "names_burn", "names_outer", check_dynsym_frame);

	assert_true(c.in_leaf >= MIN_SAMPLES);
	assert_true(c.with_caller * 100 >= c.in_leaf * MIN_SHARE);
}

/*
 * Samples in the PLT stub are named abs@plt, under the function that calls
 * it. The stub is one jmp of a loop of about ten instructions: about a fifth
 * of the time.
 */
static void test_plt_stub(void **state)
{
	struct leaf_count c =
		record_leaf(NAMES_OUT "/names_plt", "plt.pb.gz", "abs@plt", "names_plt_loop", NULL);

	assert_true(c.in_leaf >= MIN_PLT_SAMPLES);
	assert_true(c.in_leaf * 100 >= c.total * MIN_PLT_SHARE);
	assert_true(c.with_caller * 100 >= c.in_leaf * MIN_SHARE);
}

#define NOBODY 65534

/* Starts argv with its stdout in out, as uid (and gid) when uid is not 0; returns the pid. */
static pid_t spawn_as(char *const argv[], uid_t uid, const char *out)
{
	pid_t pid;
	int fd;

	/* Gone before the child starts: no line of an earlier run is read as its own. */
	unlink(out);
	pid = fork();
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to 10 s for out to hold a line "key ..."; copies the rest of that line. */
static bool wait_line(const char *out, const char *key, char *ret, size_t len)
{
	char text[256];
	FILE *f;
	int i;

	for (i = 0; i < 1000; i++) {
		f = fopen(out, "r");
		if (f) {
			while (fgets(text, sizeof(text), f)) {
				if (!strncmp(text, key, strlen(key)) && strchr(text, '\n')) {
					fclose(f);
					snprintf(ret, len, "%s", text + strlen(key));
					return true;
				}
			}
			fclose(f);
		}
		usleep(10 * 1000);
	}
	return false;
}

/* Samples of pid in p whose leaf user frame is named name. */
static int64_t leaf_samples(const pprof_profile_t *p, pid_t pid, const char *name)
{
	const Perftools__Profiles__Sample *s;
	const char *leaf;
	int64_t n = 0;
	size_t i;

	for (i = 0; i < p->n_sample; i++) {
		s = p->sample[i];
		if (itest_label_num(p, s, "pid") != pid || !s->n_value)
			continue;
		leaf = itest_frame_name(p, s, first_user_frame(p, s));
		if (leaf && !strcmp(leaf, name))
			n += s->value[0];
	}
	return n;
}

/*
 * fake_jit names its code jit_first for 3 s, then jit_second for 3 s: the
 * agent's 1 s windows name each by the map as it was when they ended, so both
 * names show with about their shares, and none after the rename is jit_first.
 */
static void test_jit_renamed_while_sampled(void **state)
{
	const char *args[] = {"--window", "1", "-F", "199"};
	char *store = itest_path("jit-store"), *log = itest_path("jit-agent.log");
	char *out = itest_path("jit-renamed.out"), *argv[] = {WORKLOAD_FAKE_JIT, "3", "3", NULL};
	int64_t first = 0, second = 0, late_first = 0, n, renamed_ns = 0;
	struct itest_files f = {0};
	char text[64], map[64];
	pprof_profile_t *p;
	pid_t agent, pid;
	bool renamed;
	size_t i;

	agent = itest_start_agent(store, log, args, 4);
	sleep(2);
	pid = spawn_as(argv, 0, out);
	renamed = wait_line(out, "renamed ", text, sizeof(text));
	if (renamed)
		renamed_ns = strtoll(text, NULL, 10);
	itest_wait(pid);
	sleep(3);
	kill(agent, SIGTERM);
	itest_wait(agent);
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", (int)pid);
	unlink(map);
	assert_true(renamed);
	itest_list_store(store, &f, false);
	for (i = 0; i < f.nr; i++) {
		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		n = leaf_samples(p, pid, "jit_first");
		first += n;
		if (p->time_nanos >= renamed_ns)
			late_first += n;
		second += leaf_samples(p, pid, "jit_second");
		pprof__profile_free(p);
	}
	/* What the workload's leaves were instead, should the names be missing. */
	for (i = 0, n = 0; first + second < 300 && i < f.nr && n < 8; i++) {
		size_t j;

		assert_int_equal(pprof__read_file(f.paths[i], &p), 0);
		for (j = 0; j < p->n_sample && n < 8; j++) {
			const Perftools__Profiles__Mapping *m;

			if (itest_label_num(p, p->sample[j], "pid") != pid)
				continue;
			m = itest_frame_mapping(p, p->sample[j], 0);
			print_message("  leaf %s in %s\n", itest_frame_name(p, p->sample[j], 0),
				      m ? pprof__str(p, m->filename) : "(no mapping)");
			n++;
		}
		pprof__profile_free(p);
	}
	itest_free_files(&f);
	print_message("jit_first %lld, jit_second %lld, jit_first after the rename %lld\n",
		      (long long)first, (long long)second, (long long)late_first);
	assert_true(first + second >= 300);
	assert_true(first * 100 >= (first + second) * 15);
	assert_true(second * 100 >= (first + second) * 35);
	assert_int_equal(late_first, 0);
}

/* `smolder record -v` of pid for 2 s; the profile, its log in *ret_log (malloc'ed). */
static pprof_profile_t *record_verbose(const char *out_name, pid_t pid, char **ret_log)
{
	char pidarg[16], *out = itest_path(out_name);
	char *argv[] = {(char *)itest_smolder(),
			"record",
			"-v",
			"-o",
			out,
			"-d",
			"2",
			"-F",
			"499",
			"-p",
			pidarg,
			NULL};
	pprof_profile_t *p = NULL;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	if (itest_run(argv, ret_log) == 0 && pprof__read_file(out, &p))
		p = NULL;
	return p;
}

/* The "refused" count of record -v's perf maps line, -1 when there is none. */
static long long perfmaps_refused(const char *log)
{
	const char *line = log ? strstr(log, "perf maps: ") : NULL;
	unsigned long long hits, misses, refused;
	size_t procs, kib;

	if (!line ||
	    sscanf(line, "perf maps: %zu processes, %zu KiB, %llu hits, %llu misses, %llu refused",
		   &procs, &kib, &hits, &misses, &refused) != 5)
		return -1;
	return (long long)refused;
}

enum bad_map {
	MAP_SYMLINK_TO_SECRET,
	MAP_OTHER_OWNER,
	MAP_ROOT_ONLY
};

/* fake_jit as nobody, its code named by a map the test makes: nothing is named, the map is refused. */
static void bad_map_case(enum bad_map kind, const char *name)
{
	char *out = itest_path("nomap.out"), *secret = itest_path("secret.map");
	char *argv[] = {WORKLOAD_FAKE_JIT, "5", "nomap", NULL};
	char text[64], line[128], map[64], *log = NULL;
	unsigned long addr = 0, len = 0;
	pprof_profile_t *p = NULL;
	int64_t named = -1, total = 0;
	long long refused = -1;
	bool ready;
	pid_t pid;
	FILE *f;

	pid = spawn_as(argv, NOBODY, out);
	ready = wait_line(out, "code ", text, sizeof(text)) &&
		sscanf(text, "%lx %lx", &addr, &len) == 2;
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", (int)pid);
	snprintf(line, sizeof(line), "%lx %lx %s\n", addr, len, name);
	f = fopen(kind == MAP_SYMLINK_TO_SECRET ? secret : map, "w");
	if (f) {
		fputs(line, f);
		fclose(f);
	}
	if (kind == MAP_SYMLINK_TO_SECRET) {
		/* root's, 0600, in a root-only directory; the link is nobody's, as an attacker's. */
		ready = ready && !chmod(secret, 0600) && !symlink(secret, map) &&
			!lchown(map, NOBODY, NOBODY);
	} else if (kind == MAP_OTHER_OWNER) {
		ready = ready && !chown(map, 12345, 12345) && !chmod(map, 0644);
	} else {
		ready = ready && !chmod(map, 0600);
	}
	if (ready)
		p = record_verbose("badmap.pb.gz", pid, &log);
	stop(pid);
	unlink(map);
	unlink(secret);
	if (p) {
		named = leaf_samples(p, pid, name);
		total = itest_samples_of(p, pid);
		refused = perfmaps_refused(log);
		pprof__profile_free(p);
	}
	print_message("%s: %lld of %lld samples named, %lld refused\n", name, (long long)named,
		      (long long)total, refused);
	if (!p)
		print_message("%s\n", log ? log : "");
	free(log);
	assert_true(ready);
	assert_true(total >= 200);
	assert_int_equal(named, 0);
	assert_true(refused >= 1);
}

static void test_perfmap_symlink_refused(void **state)
{
	bad_map_case(MAP_SYMLINK_TO_SECRET, "jit_secret_root");
}

static void test_perfmap_other_owner_refused(void **state)
{
	bad_map_case(MAP_OTHER_OWNER, "jit_other_owner");
}

static void test_perfmap_root_only_refused(void **state)
{
	bad_map_case(MAP_ROOT_ONLY, "jit_root_only");
}

/* The control: nobody's process writes its own map, and it names the code. */
static void test_perfmap_own_map_read(void **state)
{
	char *out = itest_path("ownmap.out"), *argv[] = {WORKLOAD_FAKE_JIT, "5", NULL};
	pprof_profile_t *p = NULL;
	int64_t named = -1, total = 0;
	char map[64], *log = NULL;
	struct stat st;
	pid_t pid;
	int i;

	pid = spawn_as(argv, NOBODY, out);
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", (int)pid);
	for (i = 0; i < 500 && (stat(map, &st) || st.st_size < 40); i++)
		usleep(10 * 1000);
	p = record_verbose("ownmap.pb.gz", pid, &log);
	stop(pid);
	unlink(map);
	free(log);
	assert_non_null(p);
	named = leaf_samples(p, pid, "jit_hot_loop");
	total = itest_samples_of(p, pid);
	pprof__profile_free(p);
	print_message("jit_hot_loop: %lld of %lld samples\n", (long long)named, (long long)total);
	assert_true(total >= 200);
	assert_true(named * 100 >= total * MIN_SHARE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_chain),
		cmocka_unit_test(test_lto_cross_unit),
		cmocka_unit_test(test_cxx_demangled),
		cmocka_unit_test_teardown(test_split_build_id, debug_uninstall_teardown),
		cmocka_unit_test(test_debug_file_in_private_mount),
		cmocka_unit_test(test_stripped_dynsym),
		cmocka_unit_test(test_plt_stub),
		cmocka_unit_test(test_jit_renamed_while_sampled),
		cmocka_unit_test(test_perfmap_symlink_refused),
		cmocka_unit_test(test_perfmap_other_owner_refused),
		cmocka_unit_test(test_perfmap_root_only_refused),
		cmocka_unit_test(test_perfmap_own_map_read),
	};
	int ret;

	itest_require_root("test_names");
	unsetenv("DEBUGINFOD_URLS");
	atexit(debug_uninstall);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	debug_uninstall();
	itest_cleanup();
	return ret;
}
