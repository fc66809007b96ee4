// SPDX-License-Identifier: MIT
/*
 * A minimal debuginfod server for the tests, on 127.0.0.1 only.
 *
 * Usage: debuginfod_server DIR serve|silent SECONDS
 *
 * Binds an ephemeral port, prints it on a line of its own and serves
 * `GET /buildid/<hex>/debuginfo` from DIR/.build-id/xx/rest.debug (the
 * layout of /usr/lib/debug); anything else gets 404. In silent mode it
 * accepts connections and never answers (the client's time limit must cut
 * the query short). It exits after SECONDS whatever happens (alarm), so a
 * test that dies never leaves it behind for long. One connection at a time;
 * requests are read up to 8 KiB with a 2 s receive timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_REQUEST    8192
#define MAX_HELD       64 /* connections held open in silent mode */
#define MAX_BUILD_ID   128 /* hex digits */
#define MAX_LIFETIME_S 600

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void reply_status(int fd, const char *status)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
	write_all(fd, head, (size_t)n);
}

/* The build-id of "GET /buildid/<hex>/debuginfo HTTP/1.x" into hex, or -1. */
static int parse_request(const char *req, char *hex, size_t hex_size)
{
	static const char prefix[] = "GET /buildid/";
	const char *p = req + sizeof(prefix) - 1;
	size_t n = 0;

	if (strncmp(req, prefix, sizeof(prefix) - 1))
		return -1;
	while ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f'))
		n++;
	if (n < 4 || n >= hex_size || strncmp(p + n, "/debuginfo ", 11))
		return -1;
	memcpy(hex, p, n);
	hex[n] = '\0';
	return 0;
}

static void serve_one(int fd, const char *dir)
{
	char req[MAX_REQUEST + 1], hex[MAX_BUILD_ID + 1], path[4096], head[256], buf[65536];
	struct timeval tv = {.tv_sec = 2};
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int file, hlen;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < MAX_REQUEST) {
		n = read(fd, req + len, MAX_REQUEST - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (parse_request(req, hex, sizeof(hex))) {
		reply_status(fd, "404 Not Found");
		return;
	}
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", dir, hex, hex + 2);
	file = open(path, O_RDONLY | O_CLOEXEC);
	if (file < 0 || fstat(file, &st)) {
		reply_status(fd, "404 Not Found");
		goto out;
	}
	hlen = snprintf(head, sizeof(head),
			"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			"Content-Length: %lld\r\nConnection: close\r\n\r\n",
			(long long)st.st_size);
	if (write_all(fd, head, (size_t)hlen))
		goto out;
	while ((n = read(file, buf, sizeof(buf))) > 0) {
		if (write_all(fd, buf, (size_t)n))
			break;
	}
out:
	if (file >= 0)
		close(file);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t addr_len = sizeof(addr);
	int nr_held = 0;
	bool silent;
	long seconds;
	char *end;
	int lfd, fd;

	if (argc != 4 || (strcmp(argv[2], "serve") && strcmp(argv[2], "silent"))) {
		fprintf(stderr, "usage: debuginfod_server DIR serve|silent SECONDS\n");
		return 2;
	}
	silent = !strcmp(argv[2], "silent");
	seconds = strtol(argv[3], &end, 10);
	if (*end || seconds < 1 || seconds > MAX_LIFETIME_S) {
		fprintf(stderr, "debuginfod_server: SECONDS must be 1-%d\n", MAX_LIFETIME_S);
		return 2;
	}
	alarm((unsigned int)seconds);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &addr_len)) {
		perror("debuginfod_server: listen on 127.0.0.1");
		return 1;
	}
	printf("%u\n", (unsigned int)ntohs(addr.sin_port));
	fflush(stdout);
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (silent) {
			/* Kept open, unanswered, until exit. */
			if (nr_held < MAX_HELD)
				nr_held++;
			else
				close(fd);
			continue;
		}
		serve_one(fd, argv[1]);
		close(fd);
	}
}
