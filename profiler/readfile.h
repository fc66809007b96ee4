/* SPDX-License-Identifier: MIT */
/* Reading small text files whole, with a cap (status files, /proc/PID/cgroup). */
#ifndef SMOLDER_READFILE_H
#define SMOLDER_READFILE_H

#include <stddef.h>

/*
 * Reads the file at path into a NUL-terminated malloc()ed buffer (*ret, the
 * caller frees it) of *ret_len bytes: safefile__read(), so only a regular
 * file is read (-EISDIR for a directory, -EBADFD for a FIFO or device, never
 * opened). -EFBIG when it holds more than max bytes; -errno otherwise. *ret
 * is untouched on failure.
 */
int read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len);

#endif /* SMOLDER_READFILE_H */
