// SPDX-License-Identifier: MIT
/*
 * /proc/PID/maps parsing, and the text-file reader and string arena shared
 * by the other parsers.
 *
 * A line is "start-end perms offset major:minor inode [path]". The path is
 * everything after the whitespace that follows the inode, kept verbatim:
 * it may contain spaces, end in " (deleted)", or be a pseudo name such as
 * "[vdso]". Lines that do not parse are skipped, never fatal.
 *
 * The result is one allocation: the entries array followed by the paths, so
 * sym_maps__free() is a single free() and a parse is two passes (count, fill).
 * Entries are sorted by start (the kernel writes them sorted; we sort anyway)
 * and sym_maps__find() is a binary search. At most SYM_MAPS_MAX_ENTRIES lines
 * are kept; input past that is ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safefile.h"
#include "symbolizer_internal.h"

int sym_proc__read_text(const char *path, char **ret_text, size_t *ret_len)
{
	return safefile__read(path, SYM_PROC_TEXT_MAX, ret_text, ret_len, NULL);
}

uint32_t sym_arena__add(struct sym_arena *a, const char *s, size_t len)
{
	size_t off = a->len, want = a->len + len + 1, cap;
	char *grown;

	if (len > UINT32_MAX || want > UINT32_MAX)
		return 0;
	if (want > a->cap) {
		cap = a->cap ? a->cap : 4096;
		while (cap < want)
			cap *= 2;
		grown = realloc(a->buf, cap);
		if (!grown)
			return 0;
		a->buf = grown;
		a->cap = cap;
	}
	memcpy(a->buf + off, s, len);
	a->buf[off + len] = '\0';
	a->len = want;
	return (uint32_t)off;
}

static bool parse_dec(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	while (s < end && *s >= '0' && *s <= '9') {
		if (++digits > 20 || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (!digits)
		return false;
	*p = s;
	*ret = v;
	return true;
}

static bool skip_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

static bool skip_spaces(const char **p, const char *end)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == *p)
		return false;
	*p = s;
	return true;
}

/* Parses one line (without its newline). The path is returned as a range of line. */
static bool parse_line(const char *s, const char *end, struct sym_map_entry *e,
		       const char **ret_path, size_t *ret_path_len)
{
	uint64_t major, minor;

	memset(e, 0, sizeof(*e));
	if (!sym_parse_hex(&s, end, &e->start) || !skip_char(&s, end, '-') ||
	    !sym_parse_hex(&s, end, &e->end) || !skip_spaces(&s, end))
		return false;
	if (e->end <= e->start || end - s < 4)
		return false;
	e->readable = s[0] == 'r';
	e->writable = s[1] == 'w';
	e->executable = s[2] == 'x';
	e->shared = s[3] == 's';
	s += 4;
	if (!skip_spaces(&s, end) || !sym_parse_hex(&s, end, &e->offset) || !skip_spaces(&s, end) ||
	    !sym_parse_hex(&s, end, &major) || !skip_char(&s, end, ':') ||
	    !sym_parse_hex(&s, end, &minor) || !skip_spaces(&s, end) ||
	    !parse_dec(&s, end, &e->inode))
		return false;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return false;
	e->dev_major = (uint32_t)major;
	e->dev_minor = (uint32_t)minor;
	if (s < end && !skip_spaces(&s, end))
		return false;
	*ret_path = s;
	*ret_path_len = (size_t)(end - s);
	return true;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct sym_map_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

int sym_maps__parse(const char *text, size_t len, struct sym_maps *ret)
{
	const char *end = text + len, *line, *eol, *path;
	struct sym_map_entry e, *entries = NULL;
	size_t nr = 0, path_bytes = 0, path_len;
	bool sorted = true;
	char *arena = NULL;
	int pass;

	/* Pass 0 counts, pass 1 fills the single allocation. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (nr > (SIZE_MAX - path_bytes) / sizeof(*entries))
				return -ENOMEM;
			entries = malloc(nr * sizeof(*entries) + path_bytes + 1);
			if (!entries)
				return -ENOMEM;
			arena = (char *)(entries + nr);
			nr = 0;
		}
		for (line = text; line < end && nr < SYM_MAPS_MAX_ENTRIES; line = eol + 1) {
			eol = memchr(line, '\n', (size_t)(end - line));
			if (!eol)
				eol = end;
			if (!parse_line(line, eol, &e, &path, &path_len))
				continue;
			/* An embedded NUL would truncate the path; such a line is not from the kernel. */
			if (memchr(path, '\0', path_len))
				continue;
			if (pass == 0) {
				path_bytes += path_len + 1;
				nr++;
				continue;
			}
			memcpy(arena, path, path_len);
			arena[path_len] = '\0';
			e.path = arena;
			arena += path_len + 1;
			if (nr && entries[nr - 1].start > e.start)
				sorted = false;
			entries[nr++] = e;
		}
	}
	if (!sorted)
		qsort(entries, nr, sizeof(*entries), cmp_entry);
	/* Sorting moves entries, not the paths they point to. */
	ret->entries = entries;
	ret->nr = nr;
	return 0;
}

int sym_maps__read(pid_t pid, struct sym_maps *ret)
{
	char path[64], *text = NULL;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	err = sym_proc__read_text(path, &text, &len);
	if (err == -ENOENT)
		err = -ESRCH;
	if (err)
		goto out;
	err = sym_maps__parse(text, len, ret);
out:
	free(text);
	return err;
}

const struct sym_map_entry *sym_maps__find(const struct sym_maps *maps, uint64_t addr)
{
	size_t n = sym_count_le(maps->entries, maps->nr, sizeof(*maps->entries),
				offsetof(struct sym_map_entry, start), addr);

	if (!n)
		return NULL;
	return addr < maps->entries[n - 1].end ? &maps->entries[n - 1] : NULL;
}

void sym_maps__free(struct sym_maps *maps)
{
	if (!maps)
		return;
	free(maps->entries);
	maps->entries = NULL;
	maps->nr = 0;
}
