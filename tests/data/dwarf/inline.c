// SPDX-License-Identifier: MIT
/*
 * DWARF fixture: a chain of always-inlined helpers (outer -> middle -> leaf
 * -> sink). Prints the ELF virtual address of the return address of the call
 * to sink() made inside leaf(), and of outer(). The tests find each call's
 * line and column in this file by its marker comment.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>

static uintptr_t ret_addr;

__attribute__((noinline)) int sink(int x)
{
	ret_addr = (uintptr_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static inline __attribute__((always_inline)) int leaf(int x)
{
	return sink(x) * 3; /* CALL_SINK */
}

static inline __attribute__((always_inline)) int middle(int x)
{
	return leaf(x + 1) + 2; /* CALL_LEAF */
}

__attribute__((noinline)) int outer(int x)
{
	return middle(x * 2) - 1; /* CALL_MIDDLE */
}

static int first_base(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = info->dlpi_addr;
	return 1;
}

int main(int argc, char **argv)
{
	uintptr_t base = 0;
	int r = outer(argc);

	dl_iterate_phdr(first_base, &base);
	printf("%lx %lx %d\n", (unsigned long)(ret_addr - base),
	       (unsigned long)((uintptr_t)&outer - base), r);
	return 0;
}
