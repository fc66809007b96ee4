// SPDX-License-Identifier: MIT
/* Reading small text files whole, with a cap; see readfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "readfile.h"

int read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0;
	char *buf;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* On the heap: the agent's threads should not carry large frames. */
	buf = malloc(max + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out_close;
	}
	/* One byte more than max tells a file at the cap from one over it. */
	while (len < max + 1) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out_free;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		err = -EFBIG;
		goto out_free;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
out_free:
	free(buf);
out_close:
	close(fd);
	return err;
}
