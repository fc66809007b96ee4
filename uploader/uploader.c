// SPDX-License-Identifier: MIT
/*
 * The uploader: uploader__submit() encodes a PushRequest and hands it to the
 * spool (spool.c); one sender thread posts the spool's oldest item with
 * libcurl and acts on the answer (http.c's uploader__classify()):
 *
 *   2xx            delete the item, reset the backoff;
 *   no answer, 408, 429, 5xx
 *                  keep it, wait uploader__backoff_ms(attempt) or the
 *                  server's Retry-After (429, 503; at most an hour), retry
 *                  the same item (oldest first, so order is kept);
 *   anything else  move it to rejected/ and log the server's message once.
 *
 * The thread sleeps on a condition variable (CLOCK_MONOTONIC) until an item
 * arrives, the backoff ends or uploader__free() stops it; a request in
 * progress is aborted by the progress callback when stopping. Failures are
 * logged once when they start and once when sending works again, not per
 * retry. u->lock guards the counters and the thread state; the spool has its
 * own lock and never takes u->lock, so the order is always u->lock first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Calls go through pointers (libcurl is dlopen()ed): no type-checking macros. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>

#include "push.pb-c.h"
#include "uploader_internal.h"

#define PUSH_PATH	    "/push.v1.PusherService/Push"
#define RETRY_AFTER_CAP_S   3600
#define SERVER_MSG_MAX	    512 /* bytes of an error answer kept for the log */
#define RETRY_AFTER_HDR_MAX 128

struct uploader {
	char *url; /* base without credentials, for messages */
	char *push_url;
	char *basic_auth;
	char *ca_file;
	char *spool_dir;
	struct curl_slist *headers;
	unsigned int connect_ms, total_ms, retry_min_ms, retry_max_ms;
	uploader_log_fn log;
	void *log_ctx;
	struct uploader_spool *spool;
	CURL *curl;
	bool curl_global;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_started;
	bool stop; /* also read without the lock by the progress callback */
	uint64_t next_try_ms; /* CLOCK_MONOTONIC; 0: now */
	unsigned int attempt; /* failed attempts in a row */
	bool failing; /* the start of the failure was logged */
	uint32_t rnd;
	struct uploader_stats stats;
};

/* One response's pieces, filled by curl's callbacks. */
struct response {
	char retry_after[RETRY_AFTER_HDR_MAX];
	bool has_retry_after;
	char msg[SERVER_MSG_MAX + 1];
	size_t msg_len;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool header_value_ok(const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\r' || *s == '\n' || *s == '\0')
			return false;
	}
	return true;
}

/*
 * libcurl and its TLS, Kerberos and LDAP libraries (about 7 MiB resident)
 * are loaded only by a process that uploads, not by every `record`: once,
 * by soname, from the system's library path.
 */
static struct {
	pthread_once_t once;
	const char *error;
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} libcurl = {.once = PTHREAD_ONCE_INIT};

static void libcurl_load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		libcurl.error = "cannot load libcurl.so.4; install libcurl4";
		return;
	}
	*(void **)&libcurl.global_init = dlsym(h, "curl_global_init");
	*(void **)&libcurl.global_cleanup = dlsym(h, "curl_global_cleanup");
	*(void **)&libcurl.easy_init = dlsym(h, "curl_easy_init");
	*(void **)&libcurl.easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&libcurl.easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&libcurl.easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&libcurl.easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&libcurl.easy_strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&libcurl.slist_append = dlsym(h, "curl_slist_append");
	*(void **)&libcurl.slist_free_all = dlsym(h, "curl_slist_free_all");
	if (!libcurl.global_init || !libcurl.global_cleanup || !libcurl.easy_init ||
	    !libcurl.easy_setopt || !libcurl.easy_getinfo || !libcurl.easy_perform ||
	    !libcurl.easy_cleanup || !libcurl.easy_strerror || !libcurl.slist_append ||
	    !libcurl.slist_free_all) {
		libcurl.error = "libcurl.so.4 lacks the functions smolder uses";
		libcurl.global_init = NULL;
	}
}

static int add_header(struct uploader *u, const char *name, const char *value)
{
	struct curl_slist *l;
	char *line;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	l = libcurl.slist_append(u->headers, line);
	free(line);
	if (!l)
		return -ENOMEM;
	u->headers = l;
	return 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
	struct response *r = ctx;
	size_t len = size * n, vlen;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1)) {
		vlen = len - (sizeof(name) - 1);
		if (vlen >= sizeof(r->retry_after))
			vlen = sizeof(r->retry_after) - 1;
		memcpy(r->retry_after, buf + sizeof(name) - 1, vlen);
		r->retry_after[vlen] = '\0';
		r->has_retry_after = true;
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ctx)
{
	struct response *r = ctx;
	size_t len = size * n, take, i;

	take = SERVER_MSG_MAX - r->msg_len;
	if (take > len)
		take = len;
	for (i = 0; i < take; i++) {
		char c = buf[i];

		/* The server's text goes into our log: no control characters. */
		r->msg[r->msg_len++] = (c >= 0x20 && c < 0x7f) ? c : ' ';
	}
	r->msg[r->msg_len] = '\0';
	return len;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct uploader *u = ctx;

	return __atomic_load_n(&u->stop, __ATOMIC_RELAXED) ? 1 : 0;
}

static int setup_curl(struct uploader *u)
{
	CURL *c = u->curl;
	int err = 0;

	if (libcurl.easy_setopt(c, CURLOPT_URL, u->push_url) ||
	    libcurl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    libcurl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    libcurl.easy_setopt(c, CURLOPT_POST, 1L) ||
	    libcurl.easy_setopt(c, CURLOPT_HTTPHEADER, u->headers) ||
	    libcurl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)u->connect_ms) ||
	    libcurl.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)u->total_ms) ||
	    libcurl.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) ||
	    libcurl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) ||
	    libcurl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L) ||
	    libcurl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    libcurl.easy_setopt(c, CURLOPT_XFERINFODATA, u) ||
	    libcurl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L))
		err = -EINVAL;
	if (!err && u->basic_auth &&
	    (libcurl.easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) ||
	     libcurl.easy_setopt(c, CURLOPT_USERPWD, u->basic_auth)))
		err = -EINVAL;
	if (!err && u->ca_file && libcurl.easy_setopt(c, CURLOPT_CAINFO, u->ca_file))
		err = -EINVAL;
	return err;
}

static char *dup_or_null(const char *s, int *err)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

static void *sender_main(void *arg);

struct uploader *uploader__new(const struct uploader_opts *o)
{
	char shown[UPLOADER_URL_SHOWN_MAX];
	struct uploader_spool_usage usage;
	pthread_condattr_t ca;
	struct uploader *u;
	size_t base_len;
	int err = 0;

	if (!o || !o->url || !o->spool_dir ||
	    (strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8)) ||
	    !header_value_ok(o->url) || !header_value_ok(o->bearer_token) ||
	    !header_value_ok(o->basic_auth) || !header_value_ok(o->tenant) ||
	    (o->basic_auth && !strchr(o->basic_auth, ':'))) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->cond, &ca);
	pthread_condattr_destroy(&ca);
	u->log = o->log;
	u->log_ctx = o->log_ctx;
	u->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : UPLOADER_DEFAULT_CONNECT_MS;
	u->total_ms = o->total_timeout_ms ? o->total_timeout_ms : UPLOADER_DEFAULT_TOTAL_MS;
	u->retry_min_ms = o->retry_min_ms ? o->retry_min_ms : UPLOADER_DEFAULT_RETRY_MIN_MS;
	u->retry_max_ms = o->retry_max_ms ? o->retry_max_ms : UPLOADER_DEFAULT_RETRY_MAX_MS;
	u->rnd = (uint32_t)mono_ms() ^ (uint32_t)(uintptr_t)u;
	/* Messages only ever see the URL without its credentials. */
	u->url = dup_or_null(uploader__redact_url(o->url, shown, sizeof(shown)), &err);
	u->basic_auth = dup_or_null(o->basic_auth, &err);
	u->ca_file = dup_or_null(o->ca_file, &err);
	u->spool_dir = dup_or_null(o->spool_dir, &err);
	if (err)
		goto out_free;
	base_len = strlen(o->url);
	while (base_len && o->url[base_len - 1] == '/')
		base_len--;
	if (asprintf(&u->push_url, "%.*s%s", (int)base_len, o->url, PUSH_PATH) < 0) {
		u->push_url = NULL;
		err = -ENOMEM;
		goto out_free;
	}
	pthread_once(&libcurl.once, libcurl_load);
	if (!libcurl.global_init) {
		uploader__logf(u->log, u->log_ctx, UPLOADER_LOG_ERR, "upload: %s", libcurl.error);
		err = -ENOENT;
		goto out_free;
	}
	/* An empty Expect: skips the 100-continue round trip on large bodies. */
	err = add_header(u, "Content-Type", "application/proto");
	if (!err)
		err = add_header(u, "Expect", "");
	if (!err && o->bearer_token) {
		char *v;

		if (asprintf(&v, "Bearer %s", o->bearer_token) < 0) {
			err = -ENOMEM;
			goto out_free;
		}
		err = add_header(u, "Authorization", v);
		/* The token stays in curl's header list only. */
		explicit_bzero(v, strlen(v));
		free(v);
	}
	if (!err && o->tenant)
		err = add_header(u, "X-Scope-OrgID", o->tenant);
	if (err)
		goto out_free;

	u->spool = uploader_spool__open(
		o->spool_dir, o->spool_cap_bytes ? o->spool_cap_bytes : UPLOADER_DEFAULT_SPOOL_CAP,
		UPLOADER_MAX_SPOOL_ITEMS, o->log, o->log_ctx);
	if (!u->spool) {
		err = -errno;
		goto out_free;
	}
	uploader_spool__usage(u->spool, &usage);
	u->stats.dropped = usage.dropped;
	if (usage.items)
		uploader__logf(u->log, u->log_ctx, UPLOADER_LOG_INFO,
			       "upload spool '%s' holds %" PRIu64 " unsent items (%" PRIu64
			       " bytes) from before; sending them first",
			       o->spool_dir, usage.items, usage.bytes);
	if (o->no_thread)
		return u;

	if (libcurl.global_init(CURL_GLOBAL_DEFAULT)) {
		err = -ENOMEM;
		goto out_free;
	}
	u->curl_global = true;
	u->curl = libcurl.easy_init();
	if (!u->curl) {
		err = -ENOMEM;
		goto out_free;
	}
	err = setup_curl(u);
	if (err)
		goto out_free;
	err = -pthread_create(&u->thread, NULL, sender_main, u);
	if (err)
		goto out_free;
	u->thread_started = true;
	return u;

out_free:
	uploader__free(u);
	errno = -err;
	return NULL;
}

void uploader__free(struct uploader *u)
{
	if (!u)
		return;
	if (u->thread_started) {
		pthread_mutex_lock(&u->lock);
		__atomic_store_n(&u->stop, true, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&u->cond);
		pthread_mutex_unlock(&u->lock);
		pthread_join(u->thread, NULL);
	}
	if (u->curl)
		libcurl.easy_cleanup(u->curl);
	if (u->curl_global)
		libcurl.global_cleanup();
	if (u->headers)
		libcurl.slist_free_all(u->headers);
	uploader_spool__free(u->spool);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	if (u->basic_auth)
		explicit_bzero(u->basic_auth, strlen(u->basic_auth));
	free(u->basic_auth);
	free(u->url);
	free(u->push_url);
	free(u->ca_file);
	free(u->spool_dir);
	free(u);
}

/* Frees what encode() allocated in the message tree (not the borrowed bytes and strings). */
static void request_free(Push__V1__PushRequest *req)
{
	size_t i, j;

	for (i = 0; i < req->n_series; i++) {
		Push__V1__RawProfileSeries *s = req->series[i];

		if (!s)
			continue;
		for (j = 0; j < s->n_labels; j++)
			free(s->labels[j]);
		for (j = 0; j < s->n_samples; j++) {
			if (s->samples[j])
				free(s->samples[j]->id);
			free(s->samples[j]);
		}
		free(s->labels);
		free(s->samples);
		free(s);
	}
	free(req->series);
}

static int encode(const struct upload_series *series, size_t nr, uint8_t **ret_buf, size_t *ret_len)
{
	Push__V1__PushRequest req = PUSH__V1__PUSH_REQUEST__INIT;
	uint8_t *buf = NULL;
	size_t i, j, len;
	int err = 0;

	req.series = calloc(nr, sizeof(*req.series));
	if (!req.series)
		return -ENOMEM;
	req.n_series = nr;
	for (i = 0; i < nr; i++) {
		const struct upload_series *in = &series[i];
		Push__V1__RawProfileSeries *s;

		s = calloc(1, sizeof(*s));
		if (!s) {
			err = -ENOMEM;
			goto out_free;
		}
		push__v1__raw_profile_series__init(s);
		req.series[i] = s;
		s->labels = calloc(in->nr_labels ? in->nr_labels : 1, sizeof(*s->labels));
		s->samples = calloc(in->nr_profiles, sizeof(*s->samples));
		if (!s->labels || !s->samples) {
			err = -ENOMEM;
			goto out_free;
		}
		for (j = 0; j < in->nr_labels; j++) {
			Push__V1__LabelPair *l = calloc(1, sizeof(*l));

			if (!l) {
				err = -ENOMEM;
				goto out_free;
			}
			push__v1__label_pair__init(l);
			l->name = (char *)in->labels[j].name;
			l->value = (char *)in->labels[j].value;
			s->labels[s->n_labels++] = l;
		}
		for (j = 0; j < in->nr_profiles; j++) {
			Push__V1__RawSample *rs = calloc(1, sizeof(*rs));

			if (!rs) {
				err = -ENOMEM;
				goto out_free;
			}
			push__v1__raw_sample__init(rs);
			s->samples[s->n_samples++] = rs;
			rs->raw_profile.data = (uint8_t *)in->profiles[j].data;
			rs->raw_profile.len = in->profiles[j].len;
			rs->id = malloc(37);
			if (!rs->id) {
				err = -ENOMEM;
				goto out_free;
			}
			err = uploader__uuid(rs->id);
			if (err)
				goto out_free;
		}
	}
	len = push__v1__push_request__get_packed_size(&req);
	if (len > UPLOADER_MAX_ITEM) {
		err = -EFBIG;
		goto out_free;
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out_free;
	}
	push__v1__push_request__pack(&req, buf);
	*ret_buf = buf;
	*ret_len = len;
out_free:
	request_free(&req);
	return err;
}

int uploader__submit(struct uploader *u, const struct upload_series *series, size_t nr)
{
	struct uploader_spool_usage usage;
	uint8_t *body = NULL;
	size_t len = 0, i, j;
	uint64_t seq;
	int err;

	if (!u || !series || !nr || nr > UPLOADER_MAX_SERIES)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (!series[i].nr_profiles || series[i].nr_profiles > UPLOADER_MAX_PROFILES ||
		    series[i].nr_labels > UPLOADER_MAX_LABELS || !series[i].profiles)
			return -EINVAL;
		for (j = 0; j < series[i].nr_labels; j++) {
			if (!series[i].labels[j].name || !series[i].labels[j].name[0] ||
			    !series[i].labels[j].value)
				return -EINVAL;
		}
		for (j = 0; j < series[i].nr_profiles; j++) {
			if (!series[i].profiles[j].data || !series[i].profiles[j].len)
				return -EINVAL;
		}
	}
	err = encode(series, nr, &body, &len);
	if (err == -EFBIG) {
		pthread_mutex_lock(&u->lock);
		u->stats.dropped++;
		pthread_mutex_unlock(&u->lock);
		uploader__logf(u->log, u->log_ctx, UPLOADER_LOG_WARN,
			       "upload request over %zu bytes: dropped", UPLOADER_MAX_ITEM);
	}
	if (err)
		goto out_free;
	err = uploader_spool__add(u->spool, body, len, &seq);
	pthread_mutex_lock(&u->lock);
	uploader_spool__usage(u->spool, &usage);
	u->stats.dropped = usage.dropped;
	if (!err) {
		u->stats.submitted++;
		pthread_cond_broadcast(&u->cond);
	}
	pthread_mutex_unlock(&u->lock);
out_free:
	free(body);
	return err;
}

int uploader__flush(struct uploader *u, unsigned int timeout_ms)
{
	struct uploader_spool_usage usage;
	uint64_t deadline = mono_ms() + timeout_ms;
	struct timespec ts;
	int err = 0;

	if (!u || !u->thread_started)
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	for (;;) {
		uploader_spool__usage(u->spool, &usage);
		if (!usage.items)
			break;
		if (mono_ms() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		ts.tv_sec = (time_t)(deadline / 1000);
		ts.tv_nsec = (long)(deadline % 1000) * 1000000;
		pthread_cond_timedwait(&u->cond, &u->lock, &ts);
	}
	pthread_mutex_unlock(&u->lock);
	return err;
}

void uploader__stats(struct uploader *u, struct uploader_stats *ret)
{
	struct uploader_spool_usage usage;

	pthread_mutex_lock(&u->lock);
	uploader_spool__usage(u->spool, &usage);
	*ret = u->stats;
	ret->dropped = usage.dropped > u->stats.dropped ? usage.dropped : u->stats.dropped;
	ret->rejected_evicted = usage.rejected_evicted;
	ret->spool_refused = usage.refused;
	ret->spool_bytes = usage.bytes;
	ret->spool_items = usage.items;
	pthread_mutex_unlock(&u->lock);
}

static void set_last_error(struct uploader *u, const char *why)
{
	size_t len = strnlen(why, sizeof(u->stats.last_error) - 1);

	memcpy(u->stats.last_error, why, len);
	u->stats.last_error[len] = '\0';
}

/* xorshift32: jitter only, no need for quality. */
static uint32_t next_rnd(struct uploader *u)
{
	uint32_t x = u->rnd ? u->rnd : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	u->rnd = x;
	return x;
}

/* Posts body; *ret_status is the HTTP status, 0 when there was no answer (errbuf says why). */
static void post(struct uploader *u, const uint8_t *body, size_t len, struct response *r,
		 long *ret_status, char *errbuf)
{
	CURLcode res;
	long status = 0;

	errbuf[0] = '\0';
	libcurl.easy_setopt(u->curl, CURLOPT_ERRORBUFFER, errbuf);
	libcurl.easy_setopt(u->curl, CURLOPT_POSTFIELDS, body);
	libcurl.easy_setopt(u->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	libcurl.easy_setopt(u->curl, CURLOPT_HEADERDATA, r);
	libcurl.easy_setopt(u->curl, CURLOPT_WRITEDATA, r);
	res = libcurl.easy_perform(u->curl);
	if (res == CURLE_OK)
		libcurl.easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, &status);
	else if (!errbuf[0])
		snprintf(errbuf, CURL_ERROR_SIZE, "%s", libcurl.easy_strerror(res));
	libcurl.easy_setopt(u->curl, CURLOPT_ERRORBUFFER, NULL);
	*ret_status = status;
}

/* After an attempt that gets another try: schedules it. Under u->lock. */
static void schedule_retry(struct uploader *u, long status, const struct response *r,
			   const char *why)
{
	uint64_t delay_ms, ra_s;

	u->attempt++;
	u->stats.retried++;
	delay_ms = uploader__backoff_ms(u->attempt, u->retry_min_ms, u->retry_max_ms, next_rnd(u));
	if ((status == 429 || status == 503) && r->has_retry_after &&
	    !uploader__parse_retry_after(r->retry_after, strlen(r->retry_after),
					 (int64_t)time(NULL), &ra_s))
		delay_ms = (ra_s < RETRY_AFTER_CAP_S ? ra_s : RETRY_AFTER_CAP_S) * 1000;
	u->next_try_ms = mono_ms() + delay_ms;
	set_last_error(u, why);
	if (!u->failing) {
		u->failing = true;
		uploader__logf(
			u->log, u->log_ctx, UPLOADER_LOG_WARN,
			"upload to '%s' failed: %s; keeping the profiles in '%s' and retrying",
			u->url, why, u->spool_dir);
	} else {
		uploader__logf(u->log, u->log_ctx, UPLOADER_LOG_DEBUG,
			       "upload retry %u failed: %s; next in %" PRIu64 " ms", u->attempt,
			       why, delay_ms);
	}
}

/* Sends item seq once and acts on the answer. Called with u->lock held; drops it meanwhile. */
static void send_item(struct uploader *u, uint64_t seq)
{
	char errbuf[CURL_ERROR_SIZE], why[CURL_ERROR_SIZE + SERVER_MSG_MAX + 32];
	struct response r;
	uint8_t *body = NULL;
	size_t len = 0;
	long status = 0;
	int err;

	pthread_mutex_unlock(&u->lock);
	err = uploader_spool__read(u->spool, seq, &body, &len);
	if (!err) {
		memset(&r, 0, sizeof(r));
		post(u, body, len, &r, &status, errbuf);
	}
	pthread_mutex_lock(&u->lock);
	if (err == -ENOENT)
		goto out_free; /* evicted while we looked: nothing to send */
	if (err) {
		uploader__logf(u->log, u->log_ctx, UPLOADER_LOG_ERR,
			       "upload spool item %020" PRIu64
			       " in '%s' is unreadable (%s); moved to "
			       "%s/",
			       seq, u->spool_dir, strerror(-err), UPLOADER_REJECTED);
		if (!uploader_spool__reject(u->spool, seq))
			u->stats.rejected++;
		goto out_free;
	}
	if (__atomic_load_n(&u->stop, __ATOMIC_RELAXED) && !status)
		goto out_free; /* aborted by uploader__free(): the item stays */
	u->stats.last_http_status = status;
	if (status)
		snprintf(why, sizeof(why), "HTTP %ld%s%s", status, r.msg_len ? ": " : "", r.msg);
	else
		snprintf(why, sizeof(why), "%s", errbuf);
	switch (uploader__classify(status)) {
	case UPLOADER_SENT:
		uploader_spool__remove(u->spool, seq);
		u->stats.sent++;
		u->stats.bytes_sent += len;
		u->stats.last_error[0] = '\0';
		if (u->failing)
			uploader__logf(u->log, u->log_ctx, UPLOADER_LOG_INFO,
				       "upload to '%s' works again after %u failed attempts",
				       u->url, u->attempt);
		u->failing = false;
		u->attempt = 0;
		u->next_try_ms = 0;
		break;
	case UPLOADER_RETRY:
		schedule_retry(u, status, &r, why);
		break;
	case UPLOADER_REJECT:
		set_last_error(u, why);
		uploader__logf(u->log, u->log_ctx, UPLOADER_LOG_ERR,
			       "upload to '%s' refused: %s; moved the request to '%s/%s/'%s",
			       u->url, why, u->spool_dir, UPLOADER_REJECTED,
			       status == 401 || status == 403 || status == 404 ?
				       " (check the URL, the token or credentials and the tenant)" :
				       "");
		if (!uploader_spool__reject(u->spool, seq))
			u->stats.rejected++;
		/* The server answered: the connection works, the next item goes now. */
		u->attempt = 0;
		u->next_try_ms = 0;
		break;
	}
out_free:
	free(body);
}

static void *sender_main(void *arg)
{
	struct uploader *u = arg;
	struct timespec ts;
	uint64_t now, seq;

	pthread_mutex_lock(&u->lock);
	while (!u->stop) {
		now = mono_ms();
		if (now < u->next_try_ms) {
			ts.tv_sec = (time_t)(u->next_try_ms / 1000);
			ts.tv_nsec = (long)(u->next_try_ms % 1000) * 1000000;
			pthread_cond_timedwait(&u->cond, &u->lock, &ts);
			continue;
		}
		if (uploader_spool__take_oldest(u->spool, &seq)) {
			pthread_cond_wait(&u->cond, &u->lock);
			continue;
		}
		send_item(u, seq);
		uploader_spool__release(u->spool);
		/* Wakes uploader__flush(). */
		pthread_cond_broadcast(&u->cond);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}
