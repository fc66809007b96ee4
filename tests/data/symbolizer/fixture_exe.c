// SPDX-License-Identifier: MIT
/*
 * Symbolizer test fixture, built as a PIE and as a non-PIE executable.
 * Prints "name runtime_address elf_vaddr" for each known function, then
 * "ready", and waits until its stdin closes (or 60 s pass) so the test can
 * read its /proc/PID/maps while it lives.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) int smolder_fixture_alpha(int x);
__attribute__((noinline)) int smolder_fixture_beta(int x);

__attribute__((noinline)) int smolder_fixture_alpha(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}

__attribute__((noinline)) int smolder_fixture_beta(int x)
{
	__asm__ volatile("" : "+r"(x));
	return smolder_fixture_alpha(x) ^ 0x5a5a;
}

/* The first object reported is the executable; dlpi_addr is its load bias. */
static int first_bias(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = (uintptr_t)info->dlpi_addr;
	return 1;
}

int main(void)
{
	uintptr_t bias = 0;
	char byte;

	dl_iterate_phdr(first_bias, &bias);
	printf("smolder_fixture_alpha %lx %lx\n", (unsigned long)(uintptr_t)&smolder_fixture_alpha,
	       (unsigned long)((uintptr_t)&smolder_fixture_alpha - bias));
	printf("smolder_fixture_beta %lx %lx\n", (unsigned long)(uintptr_t)&smolder_fixture_beta,
	       (unsigned long)((uintptr_t)&smolder_fixture_beta - bias));
	printf("ready\n");
	fflush(stdout);
	alarm(60);
	while (read(0, &byte, 1) > 0)
		;
	return smolder_fixture_beta(1) == 0;
}
