/* SPDX-License-Identifier: MIT */
/*
 * Text that came from outside (process names, function and file names,
 * paths, URLs, messages of other modules) on its way to a terminal or to a
 * line-oriented file. A process chooses its own comm and a binary its own
 * symbol names: written raw, an ESC starts a terminal escape sequence and a
 * newline forges a line. Every such string goes through these functions.
 *
 * Escaped: bytes below 0x20, DEL, the C1 controls U+0080..U+009F and every
 * byte that is not part of valid UTF-8, as \xHH ("\n", "\r" and "\t" as such).
 * Valid UTF-8 is kept, so names in any script print as they are.
 */
#ifndef SMOLDER_TEXTESC_H
#define SMOLDER_TEXTESC_H

#include <stddef.h>
#include <stdio.h>

/* Longest output of one input byte: "\xHH". */
#define TEXTESC_MAX_PER_BYTE 4

/* Writes len bytes of s to f, escaped. Returns 0 or -EIO. */
int textesc__fwrite(FILE *f, const char *s, size_t len);
/* textesc__fwrite() of the whole NUL-terminated s. */
int textesc__fputs(FILE *f, const char *s);

/*
 * s escaped into buf of len bytes (len > 0), always NUL-terminated; cut
 * before an escape that does not fit, ending in "..." then. Returns buf, for
 * use as a printf argument.
 */
const char *textesc__str(const char *s, char *buf, size_t len);
/* textesc__str() of the in bytes at s (NUL bytes included, escaped). */
const char *textesc__mem(const char *s, size_t in, char *buf, size_t len);

#endif /* SMOLDER_TEXTESC_H */
