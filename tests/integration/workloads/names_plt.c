// SPDX-License-Identifier: MIT
/*
 * Workload for test_names: calls libc's abs() through the PLT in a tight
 * loop, so that a good share of samples land in the abs@plt stub (one jmp)
 * itself. Built with -fno-builtin so that the calls stay calls. Stops after
 * SECONDS (SIGALRM).
 * Usage: names_plt SECONDS
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t names_plt_done;
volatile int names_plt_sink;

static void on_alarm(int sig)
{
	(void)sig;
	names_plt_done = 1;
}

__attribute__((noipa)) int names_plt_loop(int x)
{
	int i, v = 0;

	for (i = 0; i < 1000000; i++)
		v += abs(x - i);
	return v;
}

int main(int argc, char **argv)
{
	long seconds = argc > 1 ? strtol(argv[1], NULL, 10) : 5;
	int r = 0;

	signal(SIGALRM, on_alarm);
	alarm(seconds > 0 ? (unsigned int)seconds : 5);
	while (!names_plt_done)
		r += names_plt_loop(r & 7);
	names_plt_sink = r;
	return 0;
}
