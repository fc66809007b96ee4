// SPDX-License-Identifier: MIT
/*
 * Workload of short-lived processes: each burns MS milliseconds of its own
 * CPU time in short_lived_burn_xyzzy() (a distinctive name to look for in
 * profiles) and exits.
 *
 * Usage: short_burn MS                        one process
 *        short_burn MS COUNT PARALLEL [GAP_MS] starts COUNT processes that
 *                                             each run `short_burn MS` (a
 *                                             fresh exec), PARALLEL at a
 *                                             time, GAP_MS apart; exits
 *                                             when all have
 *
 * With SHORT_BURN_PIDS=FILE in the environment the starter appends each
 * child's pid to FILE, one a line, so that a test can select exactly the
 * processes it spawned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

__attribute__((noinline)) void short_lived_burn_xyzzy(double ms)
{
	double start = cpu_ms();
	unsigned long i, x = sink;

	do {
		for (i = 0; i < 100000UL; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		sink = x;
	} while (cpu_ms() - start < ms);
}

static int spawn_all(char *ms, long count, long parallel, long gap_ms)
{
	char *argv[] = {"short_burn", ms, NULL};
	const char *pids_path = getenv("SHORT_BURN_PIDS");
	long started = 0, running = 0;
	FILE *pids = NULL;
	char self[4096];
	ssize_t len;
	pid_t pid;

	/* Our real path, so that each child's comm is "short_burn", not "exe". */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return 1;
	self[len] = '\0';
	if (pids_path && !(pids = fopen(pids_path, "a")))
		return 1;

	while (started < count || running > 0) {
		if (started < count && running < parallel) {
			pid = fork();
			if (pid == 0) {
				execv(self, argv);
				_exit(127);
			}
			if (pid < 0)
				return 1;
			if (pids) {
				fprintf(pids, "%d\n", (int)pid);
				fflush(pids);
			}
			started++;
			running++;
			if (gap_ms > 0)
				usleep((useconds_t)gap_ms * 1000);
			continue;
		}
		if (wait(NULL) > 0)
			running--;
	}
	if (pids && fclose(pids))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: short_burn MS [COUNT PARALLEL [GAP_MS]]\n");
		return 2;
	}
	if (argc >= 4)
		return spawn_all(argv[1], atol(argv[2]), atol(argv[3]),
				 argc > 4 ? atol(argv[4]) : 0);
	short_lived_burn_xyzzy(atof(argv[1]));
	return 0;
}
