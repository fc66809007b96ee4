// SPDX-License-Identifier: MIT
/*
 * Symbolizer test fixture for PLT stubs, built as a PIE four ways
 * (tests/unit/symbolizer.cmake): lazy binding (.plt), IBT (.plt.sec beside
 * the lazy stubs of .plt), -z now, and -fno-plt. Its libc calls go through
 * the PLT; getpid also has its address taken, so its stub sits in .plt.got
 * (a GLOB_DAT slot), as does __cxa_finalize's. Never run by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) static void *address_of_getpid(void)
{
	return (void *)getpid;
}

int main(int argc, char **argv)
{
	char buf[64];
	long n = strtol(argc > 1 ? argv[1] : "3", NULL, 10);

	snprintf(buf, sizeof(buf), "%ld %d %p", n, (int)getpid(), address_of_getpid());
	puts(buf);
	return (int)strlen(buf) == 0;
}
