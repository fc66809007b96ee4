// SPDX-License-Identifier: MIT
/*
 * /proc/kallsyms parsing: "address type name[\t[module]]" per line.
 *
 * Text symbols (types t, T, w, W; module ones included, BPF programs too:
 * "bpf_prog_<tag>_<name> [bpf]") are kept in one array sorted by address,
 * names and module names in one string arena (offset 0 is "", vmlinux).
 * Every other symbol only ends the one before it: a symbol's end is the
 * next symbol's start, whatever its type, and never more than
 * SYM_KALLSYMS_MAX_GAP past its own start, so addresses beyond the last
 * symbol of a text region are not named. _etext and _einittext are end
 * markers, not functions. Aliases at one address keep one name, chosen by
 * sym_alias__cmp() (names.c): __x64_sys_getppid over __ia32_sys_getppid.
 *
 * The kernel prints all-zero addresses when it hides them (kptr_restrict,
 * no CAP_SYSLOG): parsing then fails with -EPERM. Limits: input text of
 * SYM_PROC_TEXT_MAX bytes, SYM_KALLSYMS_MAX_SYMS symbols, 4 GiB of names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer_internal.h"

#define RANK_GLOBAL 0 /* T, and W: weak counts as global among aliases */
#define RANK_LOCAL  1
#define RANK_END    2 /* not a function: only ends the symbol before it */

struct raw_sym {
	uint64_t addr;
	uint32_t name_off;
	uint32_t module_off;
	uint32_t rank;
};

static int cmp_raw(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->name_off != y->name_off)
		return x->name_off < y->name_off ? -1 : 1;
	return 0;
}

static struct sym_alias raw_alias(const struct sym_arena *names, const struct raw_sym *r)
{
	const char *name = names->buf + r->name_off;

	return (struct sym_alias){
		.name = name, .len = strlen(name), .local = r->rank == RANK_LOCAL};
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int type_rank(char type, const char *name, size_t name_len)
{
	if ((name_len == 6 && !memcmp(name, "_etext", 6)) ||
	    (name_len == 10 && !memcmp(name, "_einittext", 10)))
		return RANK_END;
	switch (type) {
	case 'T':
		return RANK_GLOBAL;
	case 't':
		return RANK_LOCAL;
	case 'W':
	case 'w':
		return RANK_GLOBAL;
	default:
		return RANK_END;
	}
}

/* Parses "addr type name [module]"; returns false for lines to skip. */
static bool parse_line(const char *s, const char *end, uint64_t *ret_addr, char *ret_type,
		       const char **ret_name, size_t *ret_name_len, const char **ret_module,
		       size_t *ret_module_len)
{
	uint64_t addr = 0;
	int digits = 0, d;
	const char *name, *module = NULL;

	for (; s < end && !is_space(*s); s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (++digits > 16)
			return false;
		addr = addr << 4 | (uint64_t)d;
	}
	if (!digits || s >= end || *s != ' ' || end - s < 4 || s[2] != ' ')
		return false;
	*ret_type = s[1];
	s += 3;
	name = s;
	while (s < end && !is_space(*s))
		s++;
	if (s == name)
		return false;
	*ret_name = name;
	*ret_name_len = (size_t)(s - name);
	while (s < end && is_space(*s))
		s++;
	*ret_module_len = 0;
	if (s < end && *s == '[') {
		module = ++s;
		while (s < end && *s != ']')
			s++;
		if (s == end)
			return false;
		*ret_module_len = (size_t)(s - module);
	}
	*ret_module = module;
	*ret_addr = addr;
	return true;
}

int sym_kallsyms__parse(const char *text, size_t len, struct sym_kallsyms **ret)
{
	const char *end = text + len, *line, *eol, *name, *module, *prev_module = NULL;
	size_t name_len, module_len, prev_module_len = 0, nr_raw = 0, cap_raw = 0, i, j;
	struct raw_sym *raw = NULL, *grown_raw;
	struct sym_kallsyms *k = NULL;
	void *shrunk;
	struct sym_arena names = {0};
	struct sym_alias best = {0}, alias;
	uint32_t module_off = 0;
	bool seen_line = false;
	uint64_t addr, limit;
	int rank, err = 0;
	char type;

	if (sym_arena__add(&names, "", 0) || names.len != 1) {
		err = -ENOMEM;
		goto out;
	}
	for (line = text; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if (!parse_line(line, eol, &addr, &type, &name, &name_len, &module, &module_len))
			continue;
		seen_line = true;
		if (!addr || name_len > SYM_ELF_MAX_NAME || memchr(name, '\0', name_len))
			continue;
		if (nr_raw >= SYM_KALLSYMS_MAX_SYMS)
			break;
		rank = type_rank(type, name, name_len);
		if (nr_raw == cap_raw) {
			cap_raw = cap_raw ? cap_raw * 2 : 4096;
			grown_raw = realloc(raw, cap_raw * sizeof(*raw));
			if (!grown_raw) {
				err = -ENOMEM;
				goto out;
			}
			raw = grown_raw;
		}
		raw[nr_raw].addr = addr;
		raw[nr_raw].rank = (uint32_t)rank;
		raw[nr_raw].name_off = 0;
		raw[nr_raw].module_off = 0;
		if (rank != RANK_END) {
			raw[nr_raw].name_off = sym_arena__add(&names, name, name_len);
			if (!raw[nr_raw].name_off) {
				err = -ENOMEM;
				goto out;
			}
			/* A module's symbols are contiguous: intern its name once per run. */
			if (module_len && !memchr(module, '\0', module_len)) {
				if (!prev_module || prev_module_len != module_len ||
				    memcmp(prev_module, module, module_len)) {
					module_off = sym_arena__add(&names, module, module_len);
					if (!module_off) {
						err = -ENOMEM;
						goto out;
					}
					prev_module = module;
					prev_module_len = module_len;
				}
				raw[nr_raw].module_off = module_off;
			}
		}
		nr_raw++;
	}
	if (!nr_raw) {
		err = seen_line ? -EPERM : -ENOENT;
		goto out;
	}
	qsort(raw, nr_raw, sizeof(*raw), cmp_raw);

	k = calloc(1, sizeof(*k));
	if (!k) {
		err = -ENOMEM;
		goto out;
	}
	k->syms = malloc(nr_raw * sizeof(*k->syms));
	if (!k->syms) {
		err = -ENOMEM;
		goto out;
	}
	j = 0;
	for (i = 0; i < nr_raw; i++) {
		if (raw[i].rank == RANK_END || raw[i].addr == UINT64_MAX)
			continue;
		if (k->nr && k->syms[k->nr - 1].addr == raw[i].addr) {
			alias = raw_alias(&names, &raw[i]);
			if (sym_alias__cmp(&alias, &best) < 0) {
				best = alias;
				k->syms[k->nr - 1].name_off = raw[i].name_off;
				k->syms[k->nr - 1].module_off = raw[i].module_off;
			}
			continue;
		}
		best = raw_alias(&names, &raw[i]);
		/* The next symbol at a higher address, of any kind, ends this one. */
		if (j <= i)
			j = i + 1;
		while (j < nr_raw && raw[j].addr == raw[i].addr)
			j++;
		limit = raw[i].addr + SYM_KALLSYMS_MAX_GAP;
		if (limit < raw[i].addr)
			limit = UINT64_MAX;
		k->syms[k->nr].addr = raw[i].addr;
		k->syms[k->nr].end = j < nr_raw && raw[j].addr < limit ? raw[j].addr : limit;
		k->syms[k->nr].name_off = raw[i].name_off;
		k->syms[k->nr].module_off = raw[i].module_off;
		k->nr++;
	}
	if (!k->nr) {
		err = -ENOENT;
		goto out;
	}
	/* Kept for the profiler's life: give back what growing by doubling left over. */
	shrunk = realloc(k->syms, k->nr * sizeof(*k->syms));
	if (shrunk)
		k->syms = shrunk;
	shrunk = realloc(names.buf, names.len ? names.len : 1);
	if (shrunk)
		names.buf = shrunk;
	k->strs = names.buf;
	k->strs_len = names.len;
	names.buf = NULL;
	*ret = k;
	k = NULL;
out:
	sym_kallsyms__free(k);
	free(names.buf);
	free(raw);
	return err;
}

int sym_kallsyms__load(const char *path, struct sym_kallsyms **ret)
{
	char *text = NULL;
	size_t len;
	int err;

	err = sym_proc__read_text(path, &text, &len);
	if (err)
		goto out;
	err = sym_kallsyms__parse(text, len, ret);
out:
	free(text);
	return err;
}

const struct sym_ksym *sym_kallsyms__find(const struct sym_kallsyms *k, uint64_t addr)
{
	size_t n = sym_count_le(k->syms, k->nr, sizeof(*k->syms), offsetof(struct sym_ksym, addr),
				addr);

	if (!n)
		return NULL;
	return addr < k->syms[n - 1].end ? &k->syms[n - 1] : NULL;
}

void sym_kallsyms__free(struct sym_kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->strs);
	free(k);
}
