// SPDX-License-Identifier: MIT
/* Reading small text files whole, with a cap; see readfile.h. */
#include "readfile.h"
#include "safefile.h"

int read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return safefile__read(path, max, ret, ret_len, NULL);
}
