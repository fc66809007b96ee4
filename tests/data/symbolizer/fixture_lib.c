// SPDX-License-Identifier: MIT
/*
 * Symbolizer test fixture, built as a shared library (and a stripped copy).
 * Exported functions stay named through .dynsym once stripped; the static
 * one is named only through .symtab.
 */
#include <stdint.h>

int smolder_lib_gamma(int x);
int smolder_lib_delta(int x);
void *smolder_lib_epsilon_address(void);

__attribute__((noinline)) static int smolder_lib_epsilon(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 7 - 2;
}

__attribute__((noinline)) int smolder_lib_gamma(int x)
{
	__asm__ volatile("" : "+r"(x));
	return smolder_lib_epsilon(x) + 11;
}

__attribute__((noinline)) int smolder_lib_delta(int x)
{
	__asm__ volatile("" : "+r"(x));
	return smolder_lib_gamma(x) * 5;
}

void *smolder_lib_epsilon_address(void)
{
	return (void *)(uintptr_t)&smolder_lib_epsilon;
}
