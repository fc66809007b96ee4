// SPDX-License-Identifier: MIT
/*
 * LTO fixture, first unit: lto_entry() calls lto_helper() of lto_b.c, which
 * link-time optimization inlines across units. Prints the ELF virtual
 * address of the return address of the call to lto_sink() (in lto_b.c).
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>

int lto_helper(int x);
extern uintptr_t lto_ret_addr;

__attribute__((noinline)) int lto_entry(int x)
{
	return lto_helper(x + 1) * 5; /* CALL_HELPER */
}

static int first_base(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = info->dlpi_addr;
	return 1;
}

int main(int argc, char **argv)
{
	uintptr_t base = 0;
	int r = lto_entry(argc);

	dl_iterate_phdr(first_base, &base);
	printf("%lx %d\n", (unsigned long)(lto_ret_addr - base), r);
	return 0;
}
