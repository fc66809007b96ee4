// SPDX-License-Identifier: MIT
/*
 * Escaping text for terminals and line-oriented files; see textesc.h.
 *
 * One pass over the bytes: each position is either the start of a valid
 * UTF-8 sequence that is not a control character (copied whole) or a single
 * byte to escape (then the scan resumes at the next byte, so one bad byte
 * never hides the valid text after it). The rules are the Unicode table of
 * well-formed UTF-8 (no overlong forms, no surrogates, nothing above
 * U+10FFFF).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "textesc.h"

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes) that is
 * printable as it is, or 0 when s[0] is to be escaped.
 */
static size_t printable_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0; /* controls, DEL, continuation bytes, overlong leads */
	if (c < 0xe0)
		n = 2;
	else if (c < 0xf0)
		n = 3;
	else
		n = 4;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	/* U+0080..U+009F: C1 controls, CSI (U+009B) among them. */
	if (c == 0xc2 && s[1] < 0xa0)
		return 0;
	return n;
}

/* The escape of byte c into out (TEXTESC_MAX_PER_BYTE + 1 bytes); its length. */
static size_t escape_byte(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	switch (c) {
	case '\n':
		out[1] = 'n';
		return 2;
	case '\r':
		out[1] = 'r';
		return 2;
	case '\t':
		out[1] = 't';
		return 2;
	default:
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 15];
		return 4;
	}
}

int textesc__fwrite(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[TEXTESC_MAX_PER_BYTE + 1];
	size_t i = 0, n, run;

	while (i < len) {
		/* Longest printable run first: one fwrite() for plain names. */
		for (run = i; run < len && (n = printable_len(p + run, len - run)); run += n)
			;
		if (run > i && fwrite(p + i, 1, run - i, f) != run - i)
			return -EIO;
		i = run;
		if (i < len) {
			n = escape_byte(p[i], esc);
			if (fwrite(esc, 1, n, f) != n)
				return -EIO;
			i++;
		}
	}
	return 0;
}

int textesc__fputs(FILE *f, const char *s)
{
	return textesc__fwrite(f, s, strlen(s));
}

const char *textesc__str(const char *s, char *buf, size_t len)
{
	return textesc__mem(s, strlen(s), buf, len);
}

const char *textesc__mem(const char *s, size_t in, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, mark = 0, n, out;
	char esc[TEXTESC_MAX_PER_BYTE + 1];
	const char *from;

	while (i < in) {
		n = printable_len(p + i, in - i);
		if (n) {
			from = s + i;
			out = n;
		} else {
			out = escape_byte(p[i], esc);
			from = esc;
			n = 1;
		}
		if (o + out >= len) {
			/* Cut at a whole character or escape; "..." says so when it fits. */
			o = mark;
			if (len >= 4) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(buf + o, from, out);
		o += out;
		i += n;
		if (len >= 4 && o <= len - 4)
			mark = o;
	}
	buf[o] = '\0';
	return buf;
}
