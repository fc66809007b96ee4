// SPDX-License-Identifier: MIT
/*
 * C++ fixture: a function template in a namespace and a method of a class
 * template. Prints the ELF virtual addresses of smolder_ns::scale<int>() and
 * smolder_ns::Box<long>::twice().
 */
#include <link.h>
#include <stdint.h>
#include <stdio.h>

namespace smolder_ns {
template <typename T> __attribute__((noinline)) T scale(T x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3;
}

template <typename T> struct Box {
	T v;
	__attribute__((noinline)) T twice(T x) const
	{
		__asm__ volatile("" ::: "memory");
		return v + x * 2;
	}
};
} // namespace smolder_ns

static int first_base(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = info->dlpi_addr;
	return 1;
}

int main(int argc, char **argv)
{
	smolder_ns::Box<long> b{argc};
	uintptr_t base = 0;
	long r = smolder_ns::scale<int>(argc) + b.twice(argc);
	long (smolder_ns::Box<long>::*twice)(long) const = &smolder_ns::Box<long>::twice;

	dl_iterate_phdr(first_base, &base);
	printf("%lx %lx %ld\n", (unsigned long)((uintptr_t)&smolder_ns::scale<int> - base),
	       (unsigned long)(*(uintptr_t *)&twice - base), r);
	return 0;
}
