// SPDX-License-Identifier: MIT
/*
 * A stand-in for Grafana Pyroscope's push endpoint, for tests/integration/
 * test_upload.c: HTTP/1.1 on 127.0.0.1, one connection at a time (keep-alive
 * honoured), and a script of faults.
 *
 * Usage: upload_receiver PORT LOG SCRIPT
 * SCRIPT is a comma-separated list of actions, one per request, then "ok"
 * forever: ok (200), 400, 500, 429:SECONDS (with Retry-After), slow:MS (sleep
 * MS, then 200 to a client that has likely given up), reset (read the request,
 * close with RST, no answer). "ACTIONxN" repeats an action N times.
 *
 * Every request is decoded here, independently of the uploader's protoc-c
 * code: the protobuf wire format is parsed by hand (PushRequest, LabelPair,
 * RawSample, and the pprof Profile inside each gunzipped raw_profile). One
 * line per RawSample goes to LOG (O_APPEND, written whole):
 *   ms=<unix ms> req=<n> action=<a> id=<ID> labels=<k=v;...> samples=<n>
 *   value=<sum of first values> time=<time_nanos> auth=<Authorization>
 *   tenant=<X-Scope-OrgID> ctype=<Content-Type> path=<request path>
 * A request that does not decode is answered 400 and logged as "bad ...".
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_HEAD  65536
#define MAX_BODY  (64 << 20)
#define MAX_LINE  8192
#define MAX_STEPS 256

struct step {
	char action[16];
	long arg;
};

static struct step steps[MAX_STEPS];
static size_t nr_steps, next_step;
static int log_fd = -1;

struct reader {
	const uint8_t *p, *end;
};

static bool rd_varint(struct reader *r, uint64_t *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (r->p < r->end && shift < 64) {
		uint8_t b = *r->p++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

/* Next field: number, wire type, and for LEN its bytes, for VARINT its value. */
static bool rd_field(struct reader *r, uint32_t *num, int *wt, struct reader *sub, uint64_t *val)
{
	uint64_t key, len;

	if (!rd_varint(r, &key))
		return false;
	*num = (uint32_t)(key >> 3);
	*wt = (int)(key & 7);
	switch (*wt) {
	case 0:
		return rd_varint(r, val);
	case 1:
		if (r->end - r->p < 8)
			return false;
		r->p += 8;
		return true;
	case 5:
		if (r->end - r->p < 4)
			return false;
		r->p += 4;
		return true;
	case 2:
		if (!rd_varint(r, &len) || len > (uint64_t)(r->end - r->p))
			return false;
		sub->p = r->p;
		sub->end = r->p + len;
		r->p += len;
		return true;
	default:
		return false;
	}
}

static bool gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	size_t cap = len * 4 + 1024, n = 0;
	z_stream zs = {0};
	uint8_t *buf = malloc(cap);
	int ret;

	if (!buf || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return false;
	}
	zs.next_in = (uint8_t *)in;
	zs.avail_in = (uInt)len;
	do {
		if (n == cap) {
			cap *= 2;
			if (cap > MAX_BODY * 4u)
				break;
			buf = realloc(buf, cap);
			if (!buf)
				break;
		}
		zs.next_out = buf + n;
		zs.avail_out = (uInt)(cap - n);
		ret = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
	} while (ret == Z_OK);
	inflateEnd(&zs);
	if (ret != Z_STREAM_END || !buf) {
		free(buf);
		return false;
	}
	*out = buf;
	*out_len = n;
	return true;
}

struct profile_facts {
	uint64_t samples;
	int64_t value;
	int64_t time_nanos;
};

static bool decode_profile(const uint8_t *gz, size_t len, struct profile_facts *f)
{
	struct reader r, sub, vals;
	uint8_t *raw;
	size_t raw_len;
	uint32_t num, vnum;
	uint64_t v;
	int wt, vwt;
	bool ok = true;

	memset(f, 0, sizeof(*f));
	if (len < 2 || gz[0] != 0x1f || gz[1] != 0x8b || !gunzip(gz, len, &raw, &raw_len))
		return false;
	r.p = raw;
	r.end = raw + raw_len;
	while (ok && r.p < r.end) {
		ok = rd_field(&r, &num, &wt, &sub, &v);
		if (!ok)
			break;
		if (num == 9 && wt == 0)
			f->time_nanos = (int64_t)v;
		if (num != 2 || wt != 2)
			continue;
		f->samples++;
		/* Sample.value = 2: packed (LEN) or not (VARINT); the first one counts. */
		while (ok && sub.p < sub.end) {
			ok = rd_field(&sub, &vnum, &vwt, &vals, &v);
			if (!ok || vnum != 2)
				continue;
			if (vwt == 0) {
				f->value += (int64_t)v;
				break;
			}
			if (vwt == 2 && rd_varint(&vals, &v)) {
				f->value += (int64_t)v;
				break;
			}
		}
	}
	free(raw);
	return ok;
}

static void copy_str(char *dst, size_t cap, const struct reader *s)
{
	size_t n = (size_t)(s->end - s->p), i;

	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = (s->p[i] > 0x20 && s->p[i] < 0x7f) ? (char)s->p[i] : '_';
	dst[n] = '\0';
}

struct request {
	char path[256], ctype[128], auth[512], tenant[128];
	const char *action;
	unsigned long nr;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_line(const char *line)
{
	if (write(log_fd, line, strlen(line)) < 0)
		perror("upload_receiver: log");
}

/* Decodes a PushRequest and logs one line per RawSample. False when malformed. */
static bool decode_push(const uint8_t *body, size_t len, const struct request *rq)
{
	struct reader r = {body, body + len}, series, field, sf;
	char labels[2048], id[64], name[256], value[512], line[MAX_LINE];
	struct profile_facts facts;
	uint32_t num, snum;
	uint64_t v;
	int wt, swt;
	size_t nr_samples = 0;

	while (r.p < r.end) {
		if (!rd_field(&r, &num, &wt, &series, &v) || num != 1 || wt != 2)
			return false;
		/* Labels first (they come first on the wire, but do not rely on it). */
		labels[0] = '\0';
		field = series;
		while (field.p < field.end) {
			struct reader lp;

			if (!rd_field(&field, &snum, &swt, &lp, &v))
				return false;
			if (snum != 1 || swt != 2)
				continue;
			name[0] = value[0] = '\0';
			while (lp.p < lp.end) {
				struct reader s;
				uint32_t lnum;
				int lwt;

				if (!rd_field(&lp, &lnum, &lwt, &s, &v) || lwt != 2)
					return false;
				if (lnum == 1)
					copy_str(name, sizeof(name), &s);
				else if (lnum == 2)
					copy_str(value, sizeof(value), &s);
			}
			snprintf(labels + strlen(labels), sizeof(labels) - strlen(labels),
				 "%s%s=%s", labels[0] ? ";" : "", name, value);
		}
		field = series;
		while (field.p < field.end) {
			const uint8_t *raw = NULL;
			size_t raw_len = 0;

			if (!rd_field(&field, &snum, &swt, &sf, &v))
				return false;
			if (snum != 2 || swt != 2)
				continue;
			id[0] = '\0';
			while (sf.p < sf.end) {
				struct reader s;
				uint32_t rnum;
				int rwt;

				if (!rd_field(&sf, &rnum, &rwt, &s, &v) || rwt != 2)
					return false;
				if (rnum == 1) {
					raw = s.p;
					raw_len = (size_t)(s.end - s.p);
				} else if (rnum == 2) {
					copy_str(id, sizeof(id), &s);
				}
			}
			if (!raw || !id[0] || !decode_profile(raw, raw_len, &facts))
				return false;
			snprintf(
				line, sizeof(line),
				"ms=%lld req=%lu action=%s id=%s labels=%s samples=%llu value=%lld "
				"time=%lld auth=%s tenant=%s ctype=%s path=%s\n",
				now_ms(), rq->nr, rq->action, id, labels,
				(unsigned long long)facts.samples, (long long)facts.value,
				(long long)facts.time_nanos, rq->auth[0] ? rq->auth : "-",
				rq->tenant[0] ? rq->tenant : "-", rq->ctype, rq->path);
			log_line(line);
			nr_samples++;
		}
	}
	return nr_samples > 0;
}

static bool send_all(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

static bool respond(int fd, int status, const char *reason, const char *extra, const char *body)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n%s",
		 status, reason, strlen(body), extra, body);
	return send_all(fd, buf);
}

static void header_value(const char *head, const char *name, char *out, size_t cap)
{
	const char *p = head;
	size_t nlen = strlen(name), n;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nlen) && p[nlen] == ':') {
			p += nlen + 1;
			while (*p == ' ')
				p++;
			n = strcspn(p, "\r\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return;
		}
	}
}

static const struct step *take_step(void)
{
	static const struct step ok = {"ok", 0};

	return next_step < nr_steps ? &steps[next_step++] : &ok;
}

/* Serves one request on fd. False: close the connection. */
static bool serve_one(int fd, unsigned long nr)
{
	static char head[MAX_HEAD + 1];
	struct request rq = {0};
	const struct step *st;
	uint8_t *body = NULL;
	size_t hlen = 0, blen, got;
	char *end, clen[32], extra[64], line[512];
	struct linger lg = {1, 0};
	ssize_t n;
	bool keep = true, ok;

	/* Headers, byte by byte past the buffer: simple and enough for tests. */
	for (;;) {
		if (hlen == MAX_HEAD)
			return false;
		n = recv(fd, head + hlen, 1, 0);
		if (n <= 0)
			return false;
		hlen++;
		head[hlen] = '\0';
		if (hlen >= 4 && !memcmp(head + hlen - 4, "\r\n\r\n", 4))
			break;
	}
	end = strchr(head, ' ');
	if (end)
		snprintf(rq.path, sizeof(rq.path), "%.*s", (int)strcspn(end + 1, " "), end + 1);
	header_value(head, "Content-Length", clen, sizeof(clen));
	header_value(head, "Content-Type", rq.ctype, sizeof(rq.ctype));
	header_value(head, "Authorization", rq.auth, sizeof(rq.auth));
	header_value(head, "X-Scope-OrgID", rq.tenant, sizeof(rq.tenant));
	for (char *p = rq.auth; *p; p++)
		if (*p == ' ')
			*p = '_';
	blen = strtoul(clen, NULL, 10);
	if (!clen[0] || blen > MAX_BODY)
		return false;
	body = malloc(blen + 1);
	if (!body)
		return false;
	for (got = 0; got < blen; got += (size_t)n) {
		n = recv(fd, body + got, blen - got, 0);
		if (n <= 0) {
			free(body);
			return false;
		}
	}
	st = take_step();
	rq.action = st->action;
	rq.nr = nr;
	ok = decode_push(body, blen, &rq);
	free(body);
	if (!ok) {
		snprintf(line, sizeof(line), "ms=%lld req=%lu bad path=%s\n", now_ms(), nr,
			 rq.path);
		log_line(line);
		return respond(fd, 400, "Bad Request", "", "receiver: cannot decode the request");
	}
	if (!strcmp(st->action, "ok")) {
		keep = respond(fd, 200, "OK", "", "{}");
	} else if (!strcmp(st->action, "400")) {
		keep = respond(fd, 400, "Bad Request", "", "invalid profile: rejected by test");
	} else if (!strcmp(st->action, "500")) {
		keep = respond(fd, 500, "Internal Server Error", "", "receiver: injected 500");
	} else if (!strcmp(st->action, "429")) {
		snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", st->arg);
		keep = respond(fd, 429, "Too Many Requests", extra, "slow down");
	} else if (!strcmp(st->action, "slow")) {
		usleep((useconds_t)st->arg * 1000);
		respond(fd, 200, "OK", "", "{}");
		keep = false;
	} else {
		/* reset: an abortive close, the client sees ECONNRESET and no answer. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		keep = false;
	}
	return keep;
}

static int parse_script(char *script)
{
	char *tok, *save = NULL, *x, *colon;
	long reps, i;

	for (tok = strtok_r(script, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		reps = 1;
		x = strchr(tok, 'x');
		if (x) {
			*x = '\0';
			reps = strtol(x + 1, NULL, 10);
		}
		colon = strchr(tok, ':');
		if (colon)
			*colon = '\0';
		for (i = 0; i < reps; i++) {
			if (nr_steps == MAX_STEPS)
				return -1;
			snprintf(steps[nr_steps].action, sizeof(steps[0].action), "%s", tok);
			steps[nr_steps].arg = colon ? strtol(colon + 1, NULL, 10) : 0;
			nr_steps++;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {0};
	unsigned long nr = 0;
	int one = 1, lfd, cfd;

	if (argc != 4) {
		fprintf(stderr, "usage: upload_receiver PORT LOG SCRIPT\n");
		return 2;
	}
	if (parse_script(argv[3])) {
		fprintf(stderr, "upload_receiver: script too long\n");
		return 2;
	}
	log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		perror("upload_receiver: open log");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8)) {
		perror("upload_receiver: bind");
		return 1;
	}
	for (;;) {
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		while (serve_one(cfd, ++nr))
			;
		close(cfd);
	}
	return 0;
}
