// SPDX-License-Identifier: MIT
/*
 * Property: for any bytes (a spool item file read back from disk, which may be
 * damaged or planted), uploader_item__decode() returns 0, -EBADMSG or
 * -ENOMEM, never crashes or leaks, and allocates at most UPLOADER_MAX_ITEM
 * (the zstd frame's declared size is checked before decompressing). On
 * success the body is non-empty and at most UPLOADER_MAX_ITEM bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uploader_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *body = NULL;
	size_t len = 0;
	int ret;

	ret = uploader_item__decode(data, size, &body, &len);
	if (ret != 0 && ret != -EBADMSG && ret != -ENOMEM)
		abort();
	if (ret)
		return 0;
	if (!body || !len || len > UPLOADER_MAX_ITEM)
		abort();
	free(body);
	return 0;
}
