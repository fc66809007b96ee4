// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes, config__load_buf() returns 0 or a negative errno,
 * never crashes, hangs or leaks. On failure the message is one non-empty,
 * NUL-terminated line. On success every field is in its documented range:
 * frequency 1-10000, window 1-3600, verbosity 0-2, at most 32 labels each a
 * valid, non-reserved key=value with distinct keys, non-empty store and
 * status paths; and config__copy() gives an equal, independent config.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const struct agent_config *c)
{
	char err[512];
	size_t i, j, ki, kj;

	if (c->freq_hz < 1 || c->freq_hz > CONFIG_MAX_FREQ_HZ)
		abort();
	if (c->window_s < 1 || c->window_s > CONFIG_MAX_WINDOW_S)
		abort();
	if (c->verbosity < 0 || c->verbosity > CONFIG_MAX_VERBOSITY)
		abort();
	if (!c->store_dir || !*c->store_dir || !c->status_file || !*c->status_file)
		abort();
	if (c->nr_labels > CONFIG_MAX_LABELS)
		abort();
	for (i = 0; i < c->nr_labels; i++) {
		if (config__check_label(c->labels[i], false, err, sizeof(err)))
			abort();
		ki = (size_t)(strchr(c->labels[i], '=') - c->labels[i]);
		for (j = 0; j < i; j++) {
			kj = (size_t)(strchr(c->labels[j], '=') - c->labels[j]);
			if (ki == kj && !memcmp(c->labels[i], c->labels[j], ki))
				abort();
		}
	}
	if (c->upload_url && strncmp(c->upload_url, "http://", 7) &&
	    strncmp(c->upload_url, "https://", 8))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config c, copy;
	char err[512];
	size_t i;
	int ret;

	if (config__init(&c))
		return 0;
	err[0] = '\0';
	ret = config__load_buf(&c, "fuzz.conf", (const char *)data, size, err, sizeof(err));
	if (ret > 0)
		abort();
	if (ret) {
		if (!err[0] || strchr(err, '\n') || strnlen(err, sizeof(err)) == sizeof(err))
			abort();
		config__free(&c);
		return 0;
	}
	check_config(&c);
	if (!config__copy(&copy, &c)) {
		if (copy.nr_labels != c.nr_labels || strcmp(copy.store_dir, c.store_dir) ||
		    copy.freq_hz != c.freq_hz)
			abort();
		for (i = 0; i < c.nr_labels; i++) {
			if (copy.labels[i] == c.labels[i] || strcmp(copy.labels[i], c.labels[i]))
				abort();
		}
		config__free(&copy);
	}
	config__free(&c);
	return 0;
}
