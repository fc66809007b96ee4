// SPDX-License-Identifier: MIT
/*
 * Small pure helpers of the sender: the backoff schedule, Retry-After
 * parsing (its input comes from the server, so it is fuzzed), the verdict on
 * an HTTP status, sample UUIDs, log formatting and the redaction of
 * credentials from URLs in messages. No state, no I/O except
 * getrandom() for UUIDs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "uploader_internal.h"

#define RETRY_AFTER_MAX_S (1ULL << 31)

unsigned int uploader__backoff_ms(unsigned int attempt, unsigned int min_ms, unsigned int max_ms,
				  uint32_t rnd)
{
	uint64_t d = min_ms ? min_ms : 1;
	unsigned int i;

	if (max_ms < d)
		max_ms = (unsigned int)d;
	for (i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	/* Half fixed so retries never bunch at 0; half random so clients spread out. */
	return (unsigned int)(d / 2 + (d - d / 2) * (uint64_t)rnd / ((uint64_t)UINT32_MAX + 1));
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool digits(const char *s, size_t n, unsigned int *ret)
{
	unsigned int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	*ret = v;
	return true;
}

/* Days since 1970-01-01 of a Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters. */
static int parse_imf_fixdate(const char *s, size_t len, int64_t *ret_s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char *const wdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	unsigned int day, year, hour, min, sec, mon = 0, i;
	bool wday_ok = false;

	if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4))
		return -EINVAL;
	for (i = 0; i < 7; i++)
		wday_ok |= !memcmp(s, wdays[i], 3);
	for (i = 0; i < 12; i++) {
		if (!memcmp(s + 8, months + 3 * i, 3))
			mon = i + 1;
	}
	if (!wday_ok || !mon || !digits(s + 5, 2, &day) || !digits(s + 12, 4, &year) ||
	    !digits(s + 17, 2, &hour) || !digits(s + 20, 2, &min) || !digits(s + 23, 2, &sec))
		return -EINVAL;
	if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -EINVAL;
	*ret_s = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
	return 0;
}

int uploader__parse_retry_after(const char *value, size_t len, int64_t now_s, uint64_t *ret_s)
{
	uint64_t v = 0;
	int64_t when;
	size_t i;

	while (len && is_blank(*value)) {
		value++;
		len--;
	}
	while (len &&
	       (is_blank(value[len - 1]) || value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	if (!len)
		return -EINVAL;
	if (value[0] >= '0' && value[0] <= '9') {
		for (i = 0; i < len; i++) {
			if (value[i] < '0' || value[i] > '9')
				return -EINVAL;
			/* Saturate: a huge delay is still a delay, capped by the caller. */
			if (v < RETRY_AFTER_MAX_S)
				v = v * 10 + (uint64_t)(value[i] - '0');
		}
		*ret_s = v < RETRY_AFTER_MAX_S ? v : RETRY_AFTER_MAX_S;
		return 0;
	}
	if (parse_imf_fixdate(value, len, &when))
		return -EINVAL;
	if (when <= now_s)
		*ret_s = 0;
	else if ((uint64_t)(when - now_s) > RETRY_AFTER_MAX_S)
		*ret_s = RETRY_AFTER_MAX_S;
	else
		*ret_s = (uint64_t)(when - now_s);
	return 0;
}

enum uploader_verdict uploader__classify(long http_status)
{
	if (http_status >= 200 && http_status < 300)
		return UPLOADER_SENT;
	/* No answer, timeouts, throttling and server trouble pass; the request was fine. */
	if (http_status == 0 || http_status == 408 || http_status == 429 || http_status >= 500)
		return UPLOADER_RETRY;
	/* Every other answer, 401, 403 and 404 included, rejects this request. */
	return UPLOADER_REJECT;
}

int uploader__uuid(char ret[37])
{
	uint8_t b[16];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(b)) {
		n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

void uploader__logf(uploader_log_fn log, void *ctx, enum uploader_log_level level, const char *fmt,
		    ...)
{
	char msg[1024];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(level, msg, ctx);
}

const char *uploader__redact_url(const char *url, char *buf, size_t len)
{
	const char *auth = strstr(url, "://"), *end, *at = NULL, *colon, *p;
	size_t keep;

	auth = auth ? auth + 3 : url;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++) {
		if (*p == '@')
			at = p;
	}
	if (!at) {
		snprintf(buf, len, "%s", url);
		return buf;
	}
	colon = memchr(auth, ':', (size_t)(at - auth));
	keep = colon ? (size_t)(colon - url) + 1 : (size_t)(auth - url);
	snprintf(buf, len, "%.*s***%s", (int)keep, url, at);
	return buf;
}
