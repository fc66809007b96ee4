// SPDX-License-Identifier: MIT
/*
 * Which of several names at one address a frame shows (kallsyms and ELF
 * symbol tables alike): the name users search for.
 *
 * In order: a global (or weak) symbol over a local one (a file's local or
 * hidden names are internal: glibc's __GI___libc_write against write); a
 * native name over a compat entry (x86_64 kernels give each system call a
 * __x64_sys_ and a __ia32_sys_ entry at one address: __x64_sys_getppid, as
 * perf shows it); fewer leading underscores (write over __write); then the
 * shorter name, then the first in byte order, so the choice never depends on
 * the order a table lists its aliases in.
 */
#include <string.h>

#include "symbolizer_internal.h"

/* Entry points of 32-bit (ia32, x32) system calls and other compat code. */
static const char *const compat_prefixes[] = {"__ia32_", "__x32_", "compat_"};

static bool is_compat(const char *name, size_t len)
{
	size_t i, plen;

	for (i = 0; i < sizeof(compat_prefixes) / sizeof(compat_prefixes[0]); i++) {
		plen = strlen(compat_prefixes[i]);
		if (len >= plen && !memcmp(name, compat_prefixes[i], plen))
			return true;
	}
	return false;
}

static size_t leading_underscores(const char *name, size_t len)
{
	size_t n = 0;

	while (n < len && name[n] == '_')
		n++;
	return n;
}

int sym_alias__cmp(const struct sym_alias *a, const struct sym_alias *b)
{
	size_t ua, ub;
	bool ca, cb;
	int c;

	if (a->local != b->local)
		return a->local ? 1 : -1;
	ca = is_compat(a->name, a->len);
	cb = is_compat(b->name, b->len);
	if (ca != cb)
		return ca ? 1 : -1;
	ua = leading_underscores(a->name, a->len);
	ub = leading_underscores(b->name, b->len);
	if (ua != ub)
		return ua > ub ? 1 : -1;
	if (a->len != b->len)
		return a->len > b->len ? 1 : -1;
	c = memcmp(a->name, b->name, a->len);
	return c < 0 ? -1 : c > 0;
}
