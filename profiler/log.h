/* SPDX-License-Identifier: MIT */
/*
 * Messages to the terminal. The profiler is the only module that prints:
 * errors are one line, "smolder: what failed: why", and non-fatal ones end
 * in ", ignoring".
 */
#ifndef SMOLDER_LOG_H
#define SMOLDER_LOG_H

#include <stdbool.h>

#include "symbolizer.h"

extern int smolder_verbosity; /* 0 normal, 1 -v, 2 -vv */

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The symbolizer's log callback: warnings end in ", ignoring"; ctx unused. */
void log_symbolizer(enum sym_log_level level, const char *msg, void *ctx);

#endif /* SMOLDER_LOG_H */
