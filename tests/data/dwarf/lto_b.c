// SPDX-License-Identifier: MIT
/* LTO fixture, second unit: lto_helper() is inlined into lto_a.c's lto_entry(). */
#include <stdint.h>

uintptr_t lto_ret_addr;

__attribute__((noinline)) int lto_sink(int x)
{
	lto_ret_addr = (uintptr_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
	return x - 2;
}

__attribute__((always_inline)) inline int lto_helper(int x)
{
	return lto_sink(x) + 7; /* CALL_SINK */
}

extern int lto_helper(int x);
