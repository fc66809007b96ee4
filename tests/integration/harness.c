// SPDX-License-Identifier: MIT
/* Integration-test helpers; see harness.h. */
#define _GNU_SOURCE /* asprintf */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[64];

void itest_require_root(const char *test)
{
	if (geteuid() != 0) {
		printf("%s: skipped: needs root (it runs the real BPF profiler)\n", test);
		exit(77);
	}
}

const char *itest_smolder(void)
{
	static char path[4096];
	const char *build = getenv("SMOLDER_BUILD");

	snprintf(path, sizeof(path), "%s/smolder", build ? build : "build");
	return path;
}

const char *itest_tmpdir(void)
{
	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/smolder-itest-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return tmpdir;
}

void itest_cleanup(void)
{
	char cmd[128];

	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "failed to remove %s\n", tmpdir);
	tmpdir[0] = '\0';
}

char *itest_path(const char *name)
{
	static char path[8][256];
	static unsigned int next;
	char *p = path[next++ % 8];

	snprintf(p, sizeof(path[0]), "%s/%s", itest_tmpdir(), name);
	return p;
}

pprof_profile_t *itest_record_pid(const char *out_name, pid_t pid, const char *seconds,
				  const char *hz)
{
	char pidarg[16], *out = itest_path(out_name);
	char *argv[] = {(char *)itest_smolder(),
			"record",
			"-o",
			out,
			"-d",
			(char *)seconds,
			"-F",
			(char *)hz,
			"-p",
			pidarg,
			NULL};
	pprof_profile_t *p = NULL;
	char *log = NULL;
	int status;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	status = itest_run(argv, &log);
	if (status != 0)
		fprintf(stderr, "smolder record exited %d:\n%s\n", status, log ? log : "");
	free(log);
	if (status == 0 && pprof__read_file(out, &p))
		fprintf(stderr, "cannot read '%s'\n", out);
	return p;
}

/*
 * In a child about to exec: it is killed when the test that started it
 * dies (a failed assertion, a signal, ctest's timeout), so no agent or
 * workload outlives its test and loads the tests after it.
 */
static void die_with_test(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
}

pid_t itest_spawn(char *const argv[])
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		die_with_test(parent);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int itest_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int itest_run(char *const argv[], char **ret_out)
{
	char path[128];
	int fd, status;
	pid_t parent = getpid(), pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/run.out", itest_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		die_with_test(parent);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd);
	status = itest_wait(pid);
	if (ret_out) {
		*ret_out = NULL;
		f = fopen(path, "r");
		if (f) {
			size_t cap = 1 << 20, n;

			*ret_out = calloc(1, cap + 1);
			if (*ret_out) {
				n = fread(*ret_out, 1, cap, f);
				(*ret_out)[n] = '\0';
			}
			fclose(f);
		}
	}
	return status;
}

static const Perftools__Profiles__Label *
find_label(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n_label; i++) {
		if (!strcmp(pprof__str(p, s->label[i]->key), key))
			return s->label[i];
	}
	return NULL;
}

int64_t itest_label_num(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			const char *key)
{
	const Perftools__Profiles__Label *l = find_label(p, s, key);

	return l ? l->num : -1;
}

const char *itest_label_str(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			    const char *key)
{
	const Perftools__Profiles__Label *l = find_label(p, s, key);

	return l ? pprof__str(p, l->str) : NULL;
}

const char *itest_frame_name(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
			     size_t i)
{
	const Perftools__Profiles__Location *loc;
	const Perftools__Profiles__Function *fn;

	if (i >= s->n_location_id)
		return NULL;
	loc = p->location[s->location_id[i] - 1];
	/* The last line is the physical function; the ones before it were inlined into it. */
	if (!loc->n_line || !loc->line[loc->n_line - 1]->function_id)
		return "";
	fn = p->function[loc->line[loc->n_line - 1]->function_id - 1];
	return pprof__str(p, fn->name);
}

const Perftools__Profiles__Mapping *
itest_frame_mapping(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, size_t i)
{
	const Perftools__Profiles__Location *loc;

	if (i >= s->n_location_id)
		return NULL;
	loc = p->location[s->location_id[i] - 1];
	return loc->mapping_id ? p->mapping[loc->mapping_id - 1] : NULL;
}

int64_t itest_samples_of(const pprof_profile_t *p, pid_t pid)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < p->n_sample; i++) {
		if (itest_label_num(p, p->sample[i], "pid") == pid && p->sample[i]->n_value)
			n += p->sample[i]->value[0];
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	const char *bx = strrchr(x, '/'), *by = strrchr(y, '/');

	/* File names carry the window's start: they sort by time. */
	return strcmp(bx ? bx : x, by ? by : y);
}

static void walk(const char *dir, struct itest_files *ret, bool temps)
{
	struct dirent *de;
	char *path;
	DIR *d = opendir(dir);
	size_t len;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			abort();
		len = strlen(de->d_name);
		if (de->d_type == DT_DIR) {
			walk(path, ret, temps);
			free(path);
		} else if (ret->nr < ITEST_MAX_FILES &&
			   (temps ? de->d_name[0] == '.' :
				    de->d_name[0] != '.' && len > 6 &&
					    !strcmp(de->d_name + len - 6, ".pb.gz"))) {
			ret->paths[ret->nr++] = path;
		} else {
			free(path);
		}
	}
	closedir(d);
}

void itest_list_store(const char *dir, struct itest_files *ret, bool temps)
{
	memset(ret, 0, sizeof(*ret));
	walk(dir, ret, temps);
	qsort(ret->paths, ret->nr, sizeof(ret->paths[0]), cmp_str);
}

void itest_free_files(struct itest_files *f)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		free(f->paths[i]);
	f->nr = 0;
}

size_t itest_count_windows(const char *dir)
{
	struct itest_files f;
	size_t n;

	itest_list_store(dir, &f, false);
	n = f.nr;
	itest_free_files(&f);
	return n;
}

/* Starts the agent on store with args; its output goes to log. */
pid_t itest_start_agent(const char *store, const char *log, const char *const *args, size_t nr)
{
	const char *argv[40] = {itest_smolder(), "agent", "--store", store};
	size_t n = 4, i;
	pid_t parent = getpid(), pid;
	int fd;

	for (i = 0; i < nr && n < 38; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		die_with_test(parent);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

char *itest_read_log(const char *path)
{
	static char buf[1 << 16];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

bool itest_has_frame(const pprof_profile_t *p, const Perftools__Profiles__Sample *s,
		     const char *prefix)
{
	const char *name;
	size_t i;

	for (i = 0; (name = itest_frame_name(p, s, i)); i++) {
		if (!strncmp(name, prefix, strlen(prefix)))
			return true;
	}
	return false;
}

bool itest_comm_is(pid_t pid, const char *want)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, want);
}

/* Waits up to 5 s for pid to run a program whose comm is want. */
bool itest_wait_comm(pid_t pid, const char *want)
{
	int i;

	for (i = 0; i < 500 && !itest_comm_is(pid, want); i++)
		usleep(10 * 1000);
	return itest_comm_is(pid, want);
}

int itest_free_port(void)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		abort();
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}
