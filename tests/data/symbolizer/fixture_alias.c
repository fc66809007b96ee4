// SPDX-License-Identifier: MIT
/*
 * Symbolizer test fixture, built as a shared library: functions with several
 * names at one address, as glibc has them (__libc_write, __write, write), in
 * global, weak, local and hidden bindings. Each group is exported under one
 * name the test looks up with dlsym(); which name the symbolizer must show
 * is the test's.
 */
int __smolder_alias_impl(int x);
int __smolder_alias_weak_impl(int x);
int smolder_alias_hidden_impl(int x);
int __smolder_alias_global_two(int x);
int __x64_smolder_alias_sys(int x);

/* Global __smolder_alias_impl, global __smolder_alias_mid, weak smolder_alias_pub. */
__attribute__((noinline)) int __smolder_alias_impl(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}
int __smolder_alias_mid(int x) __attribute__((alias("__smolder_alias_impl")));
int smolder_alias_pub(int x) __attribute__((weak, alias("__smolder_alias_impl")));

/* A local name without underscores loses to a global one with two. */
__attribute__((noinline)) int __smolder_alias_global_two(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 5 + 2;
}
static int smolder_alias_local(int x) __attribute__((alias("__smolder_alias_global_two"), used));

/* A hidden name becomes local in the linked file: the exported one wins. */
__attribute__((noinline, visibility("hidden"))) int smolder_alias_hidden_impl(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 7 + 3;
}
int __smolder_alias_exported(int x) __attribute__((alias("smolder_alias_hidden_impl")));

/* The native entry over the compat one, whatever their order. */
__attribute__((noinline)) int __x64_smolder_alias_sys(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 11 + 4;
}
int __ia32_smolder_alias_sys(int x) __attribute__((alias("__x64_smolder_alias_sys")));
int __x32_compat_smolder_alias_sys(int x) __attribute__((alias("__x64_smolder_alias_sys")));
