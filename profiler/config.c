// SPDX-License-Identifier: MIT
/*
 * Agent configuration: defaults, config__set() (shared by the command line and
 * the file) and the `key = value` file parser.
 *
 * Every setter validates into locals first and commits only when the value is
 * good, so a failed config__set() leaves the struct as it was. The file
 * parser walks the buffer line by line without copying it whole; a line is
 * copied (at most CONFIG_MAX_LINE bytes) only to trim and split it. A file is
 * at most CONFIG_MAX_FILE bytes and holds at most CONFIG_MAX_LABELS labels, so
 * parsing a hostile file costs bounded time and memory.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "safefile.h"
#include "uploader.h"

#define CONFIG_MAX_PATH		 4000
#define CONFIG_MAX_URL		 2048
#define CONFIG_MAX_RETENTION_AGE (10ULL * 366 * 24 * 3600)

static const char *const config_reserved_labels[] = {
	"pid", "tid", "comm", "thread", "container_id", "cgroup", "systemd_unit",
};

static void __attribute__((format(printf, 3, 4)))
config_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Replaces *slot with a copy of value. */
static int replace_str(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static char *status_path_for(const char *store_dir)
{
	size_t len = strlen(store_dir);
	char *path;

	/* "/var/lib/smolder/" gives "/var/lib/smolder/status", not "//status". */
	while (len > 1 && store_dir[len - 1] == '/')
		len--;
	path = malloc(len + sizeof("/status"));
	if (!path)
		return NULL;
	memcpy(path, store_dir, len);
	if (len == 1 && store_dir[0] == '/')
		len = 0;
	memcpy(path + len, "/status", sizeof("/status"));
	return path;
}

int config__init(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->freq_hz = CONFIG_DEFAULT_FREQ_HZ;
	c->window_s = CONFIG_DEFAULT_WINDOW_S;
	c->retention_age_s = CONFIG_DEFAULT_RETENTION_AGE;
	c->retention_bytes = CONFIG_DEFAULT_RETENTION_SIZE;
	c->store_dir = strdup(CONFIG_DEFAULT_STORE);
	if (!c->store_dir)
		return -ENOMEM;
	c->status_file = status_path_for(c->store_dir);
	if (!c->status_file)
		return -ENOMEM;
	return 0;
}

void config__free(struct agent_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nr_labels; i++)
		free(c->labels[i]);
	free(c->labels);
	free(c->store_dir);
	free(c->upload_url);
	free(c->upload_service_by);
	free(c->upload_token_file);
	free(c->upload_basic_auth_file);
	free(c->upload_tenant);
	free(c->upload_ca_file);
	free(c->upload_spool);
	free(c->status_file);
	memset(c, 0, sizeof(*c));
}

int config__copy(struct agent_config *dst, const struct agent_config *src)
{
	struct agent_config n = *src;
	size_t i;

	n.labels = NULL;
	n.nr_labels = 0;
	n.store_dir = n.upload_url = n.status_file = NULL;
	n.upload_service_by = n.upload_token_file = n.upload_basic_auth_file = NULL;
	n.upload_tenant = n.upload_ca_file = n.upload_spool = NULL;
	if (src->store_dir && !(n.store_dir = strdup(src->store_dir)))
		goto out_nomem;
	if (src->upload_service_by && !(n.upload_service_by = strdup(src->upload_service_by)))
		goto out_nomem;
	if (src->upload_token_file && !(n.upload_token_file = strdup(src->upload_token_file)))
		goto out_nomem;
	if (src->upload_basic_auth_file &&
	    !(n.upload_basic_auth_file = strdup(src->upload_basic_auth_file)))
		goto out_nomem;
	if (src->upload_tenant && !(n.upload_tenant = strdup(src->upload_tenant)))
		goto out_nomem;
	if (src->upload_ca_file && !(n.upload_ca_file = strdup(src->upload_ca_file)))
		goto out_nomem;
	if (src->upload_spool && !(n.upload_spool = strdup(src->upload_spool)))
		goto out_nomem;
	if (src->upload_url && !(n.upload_url = strdup(src->upload_url)))
		goto out_nomem;
	if (src->status_file && !(n.status_file = strdup(src->status_file)))
		goto out_nomem;
	if (src->nr_labels) {
		n.labels = calloc(src->nr_labels, sizeof(*n.labels));
		if (!n.labels)
			goto out_nomem;
		for (i = 0; i < src->nr_labels; i++) {
			n.labels[i] = strdup(src->labels[i]);
			if (!n.labels[i])
				goto out_nomem;
			n.nr_labels++;
		}
	}
	*dst = n;
	return 0;

out_nomem:
	config__free(&n);
	return -ENOMEM;
}

bool config__label_reserved(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(config_reserved_labels) / sizeof(config_reserved_labels[0]); i++) {
		if (!strcmp(key, config_reserved_labels[i]))
			return true;
	}
	return false;
}

int config__check_label(const char *kv, bool allow_reserved, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	size_t key_len, i;
	char key[CONFIG_MAX_LABEL_KEY + 1];

	if (!eq) {
		config_err(err, errlen, "invalid label '%s': expected key=value", kv);
		return -EINVAL;
	}
	key_len = (size_t)(eq - kv);
	if (!key_len || key_len > CONFIG_MAX_LABEL_KEY) {
		config_err(err, errlen, "invalid label '%s': the key must be 1 to %d characters",
			   kv, CONFIG_MAX_LABEL_KEY);
		return -EINVAL;
	}
	for (i = 0; i < key_len; i++) {
		unsigned char ch = (unsigned char)kv[i];

		if (ch == '_' || isalpha(ch) || (i && isdigit(ch)))
			continue;
		config_err(
			err, errlen,
			"invalid label '%s': the key may only hold letters, digits and '_', and not start with a digit",
			kv);
		return -EINVAL;
	}
	memcpy(key, kv, key_len);
	key[key_len] = '\0';
	if (!allow_reserved && config__label_reserved(key)) {
		config_err(err, errlen,
			   "invalid label '%s': '%s' is set by smolder itself; choose another key",
			   kv, key);
		return -EINVAL;
	}
	if (!eq[1] || strlen(eq + 1) > CONFIG_MAX_LABEL_VALUE) {
		config_err(err, errlen, "invalid label '%s': the value must be 1 to %d characters",
			   kv, CONFIG_MAX_LABEL_VALUE);
		return -EINVAL;
	}
	for (i = 1; eq[i]; i++) {
		if ((unsigned char)eq[i] < 0x20 || eq[i] == 0x7f) {
			config_err(err, errlen,
				   "invalid label '%s': the value holds a control character", kv);
			return -EINVAL;
		}
	}
	return 0;
}

/* Whole decimal number with no sign, no blanks, no overflow; *end is what follows. */
static int parse_u64_prefix(const char *s, uint64_t *ret, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*ret = v;
	*end = p;
	return 0;
}

static int parse_uint_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	const char *end;
	uint64_t v;

	if (parse_u64_prefix(s, &v, &end) || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int config__parse_duration(const char *s, uint64_t *ret_s)
{
	const char *end;
	uint64_t v, mult = 1;

	if (!s || parse_u64_prefix(s, &v, &end))
		return -EINVAL;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60;
	else if (!strcmp(end, "h"))
		mult = 3600;
	else if (!strcmp(end, "d"))
		mult = 86400;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -EINVAL;
	*ret_s = v * mult;
	return 0;
}

int config__parse_size(const char *s, uint64_t *ret_bytes)
{
	const char *end;
	uint64_t v;
	unsigned int shift = 0;

	if (!s || parse_u64_prefix(s, &v, &end))
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case 'B':
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (shift)
		end++;
	if (strcmp(end, "") && strcmp(end, "B") && !(shift && !strcmp(end, "iB")))
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*ret_bytes = v << shift;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1") || !strcmp(s, "on"))
		*ret = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0") || !strcmp(s, "off"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static int set_label(struct agent_config *c, const char *value, char *err, size_t errlen)
{
	size_t key_len, i;
	char **labels, *copy;
	int ret;

	ret = config__check_label(value, false, err, errlen);
	if (ret)
		return ret;
	key_len = (size_t)(strchr(value, '=') - value);
	for (i = 0; i < c->nr_labels; i++) {
		if (!strncmp(c->labels[i], value, key_len + 1)) {
			config_err(err, errlen,
				   "label '%.*s' is given twice; keep one value for each key",
				   (int)key_len, value);
			return -EINVAL;
		}
	}
	if (c->nr_labels >= CONFIG_MAX_LABELS) {
		config_err(err, errlen, "too many labels: at most %d", CONFIG_MAX_LABELS);
		return -E2BIG;
	}
	copy = strdup(value);
	if (!copy)
		goto out_nomem;
	labels = realloc(c->labels, (c->nr_labels + 1) * sizeof(*labels));
	if (!labels) {
		free(copy);
		goto out_nomem;
	}
	labels[c->nr_labels++] = copy;
	c->labels = labels;
	return 0;

out_nomem:
	config_err(err, errlen, "out of memory");
	return -ENOMEM;
}

static int set_path(char **slot, const char *what, const char *value, char *err, size_t errlen)
{
	if (!*value || strlen(value) > CONFIG_MAX_PATH) {
		config_err(err, errlen, "invalid %s '%s': expected a path of 1 to %d characters",
			   what, value, CONFIG_MAX_PATH);
		return -EINVAL;
	}
	if (replace_str(slot, value)) {
		config_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int set_store(struct agent_config *c, const char *value, char *err, size_t errlen)
{
	char *status = NULL;
	int ret;

	if (!c->status_file_set && *value && strlen(value) <= CONFIG_MAX_PATH) {
		status = status_path_for(value);
		if (!status) {
			config_err(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	ret = set_path(&c->store_dir, "store directory", value, err, errlen);
	if (ret) {
		free(status);
		return ret;
	}
	if (status) {
		free(c->status_file);
		c->status_file = status;
	}
	return 0;
}

static int set_upload(struct agent_config *c, const char *value, char *err, size_t errlen)
{
	char shown[UPLOADER_URL_SHOWN_MAX];
	size_t i;

	if ((strncmp(value, "http://", 7) && strncmp(value, "https://", 8)) ||
	    strlen(value) > CONFIG_MAX_URL) {
		config_err(
			err, errlen,
			"invalid upload URL '%s': expected http://HOST[:PORT]/... or https://...",
			uploader__redact_url(value, shown, sizeof(shown)));
		return -EINVAL;
	}
	for (i = 0; value[i]; i++) {
		if ((unsigned char)value[i] <= 0x20 || value[i] == 0x7f) {
			config_err(err, errlen,
				   "invalid upload URL '%s': it holds a blank or control character",
				   uploader__redact_url(value, shown, sizeof(shown)));
			return -EINVAL;
		}
	}
	if (replace_str(&c->upload_url, value)) {
		config_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int set_tenant(struct agent_config *c, const char *value, char *err, size_t errlen)
{
	size_t i, len = strlen(value);

	for (i = 0; i < len; i++) {
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			break;
	}
	if (!len || len > CONFIG_MAX_LABEL_VALUE || i < len) {
		config_err(err, errlen,
			   "invalid tenant '%s': expected 1 to %d printable characters", value,
			   CONFIG_MAX_LABEL_VALUE);
		return -EINVAL;
	}
	if (replace_str(&c->upload_tenant, value)) {
		config_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int config__set(struct agent_config *c, const char *key, const char *value, char *err,
		size_t errlen)
{
	uint64_t v;
	bool b;
	int ret;

	if (!c || !key) {
		config_err(err, errlen, "no key given");
		return -EINVAL;
	}
	if (!value && strcmp(key, "include-idle") && strcmp(key, "verbose")) {
		if (!strcmp(key, "frequency") || !strcmp(key, "window") || !strcmp(key, "store") ||
		    !strcmp(key, "retention-age") || !strcmp(key, "retention-size") ||
		    !strcmp(key, "label") || !strcmp(key, "upload") ||
		    !strcmp(key, "status-file") || !strcmp(key, "service-by") ||
		    !strcmp(key, "token-file") || !strcmp(key, "basic-auth-file") ||
		    !strcmp(key, "tenant") || !strcmp(key, "ca-file") || !strcmp(key, "spool") ||
		    !strcmp(key, "spool-size")) {
			config_err(err, errlen, "'%s' needs a value", key);
			return -EINVAL;
		}
	}

	if (!strcmp(key, "frequency")) {
		if (parse_uint_range(value, 1, CONFIG_MAX_FREQ_HZ, &v)) {
			config_err(
				err, errlen,
				"invalid frequency '%s': expected a whole number of Hz from 1 to %d",
				value, CONFIG_MAX_FREQ_HZ);
			return -EINVAL;
		}
		c->freq_hz = (unsigned int)v;
	} else if (!strcmp(key, "window")) {
		if (parse_uint_range(value, 1, CONFIG_MAX_WINDOW_S, &v)) {
			config_err(
				err, errlen,
				"invalid window '%s': expected a whole number of seconds from 1 to %d",
				value, CONFIG_MAX_WINDOW_S);
			return -EINVAL;
		}
		c->window_s = (unsigned int)v;
	} else if (!strcmp(key, "store")) {
		return set_store(c, value, err, errlen);
	} else if (!strcmp(key, "retention-age")) {
		if (config__parse_duration(value, &v) || v > CONFIG_MAX_RETENTION_AGE) {
			config_err(
				err, errlen,
				"invalid retention-age '%s': expected a number with s, m, h or d (like 7d), at most 3660d; 0 for no limit",
				value);
			return -EINVAL;
		}
		c->retention_age_s = v;
	} else if (!strcmp(key, "retention-size")) {
		if (config__parse_size(value, &v)) {
			config_err(
				err, errlen,
				"invalid retention-size '%s': expected bytes or a number with K, M, G or T (like 1G); 0 for no limit",
				value);
			return -EINVAL;
		}
		c->retention_bytes = v;
	} else if (!strcmp(key, "label")) {
		return set_label(c, value, err, errlen);
	} else if (!strcmp(key, "include-idle")) {
		b = true;
		if (value && parse_bool(value, &b)) {
			config_err(err, errlen, "invalid include-idle '%s': expected true or false",
				   value);
			return -EINVAL;
		}
		c->include_idle = b;
	} else if (!strcmp(key, "upload")) {
		return set_upload(c, value, err, errlen);
	} else if (!strcmp(key, "status-file")) {
		ret = set_path(&c->status_file, "status file", value, err, errlen);
		if (ret)
			return ret;
		c->status_file_set = true;
	} else if (!strcmp(key, "service-by")) {
		if (strcmp(value, "systemd_unit") && strcmp(value, "container_id") &&
		    strcmp(value, "comm")) {
			config_err(
				err, errlen,
				"invalid service-by '%s': expected systemd_unit, container_id or comm",
				value);
			return -EINVAL;
		}
		if (replace_str(&c->upload_service_by, value)) {
			config_err(err, errlen, "out of memory");
			return -ENOMEM;
		}
	} else if (!strcmp(key, "token-file")) {
		ret = set_path(&c->upload_token_file, "token file", value, err, errlen);
		if (ret)
			return ret;
		free(c->upload_basic_auth_file);
		c->upload_basic_auth_file = NULL;
	} else if (!strcmp(key, "basic-auth-file")) {
		ret = set_path(&c->upload_basic_auth_file, "basic-auth file", value, err, errlen);
		if (ret)
			return ret;
		free(c->upload_token_file);
		c->upload_token_file = NULL;
	} else if (!strcmp(key, "tenant")) {
		return set_tenant(c, value, err, errlen);
	} else if (!strcmp(key, "ca-file")) {
		return set_path(&c->upload_ca_file, "CA file", value, err, errlen);
	} else if (!strcmp(key, "spool")) {
		return set_path(&c->upload_spool, "spool directory", value, err, errlen);
	} else if (!strcmp(key, "spool-size")) {
		if (config__parse_size(value, &v) || v < (1ULL << 20)) {
			config_err(
				err, errlen,
				"invalid spool-size '%s': expected bytes or a number with K, M, G or T, at least 1M",
				value);
			return -EINVAL;
		}
		c->upload_spool_bytes = v;
	} else if (!strcmp(key, "verbose")) {
		if (!value) {
			if (c->verbosity < CONFIG_MAX_VERBOSITY)
				c->verbosity++;
		} else if (!parse_uint_range(value, 0, CONFIG_MAX_VERBOSITY, &v)) {
			c->verbosity = (int)v;
		} else if (!parse_bool(value, &b)) {
			c->verbosity = b;
		} else {
			config_err(err, errlen, "invalid verbose '%s': expected 0, 1 or 2", value);
			return -EINVAL;
		}
	} else {
		config_err(err, errlen, "unknown key '%s'", key);
		return -ENOENT;
	}
	return 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trims blanks at both ends of s[0..len) in place; returns the start. */
static char *trim(char *s, size_t *len)
{
	while (*len && is_blank(*s)) {
		s++;
		(*len)--;
	}
	while (*len && is_blank(s[*len - 1]))
		(*len)--;
	s[*len] = '\0';
	return s;
}

static int load_line(struct agent_config *c, const char *name, unsigned long lineno, char *line,
		     size_t len, char *err, size_t errlen)
{
	char msg[512];
	char *key, *value, *eq;
	size_t key_len, value_len;
	int ret;

	line = trim(line, &len);
	if (!len || line[0] == '#')
		return 0;
	eq = memchr(line, '=', len);
	if (!eq) {
		config_err(err, errlen, "%s:%lu: expected 'key = value', got '%.64s'", name, lineno,
			   line);
		return -EINVAL;
	}
	key_len = (size_t)(eq - line);
	value_len = len - key_len - 1;
	key = trim(line, &key_len);
	value = trim(eq + 1, &value_len);
	if (!key_len) {
		config_err(err, errlen, "%s:%lu: missing key before '='", name, lineno);
		return -EINVAL;
	}
	/* In a file every key has a value: "include-idle =" is a mistake, not a flag. */
	if (!value_len) {
		config_err(err, errlen, "%s:%lu: '%.64s' needs a value", name, lineno, key);
		return -EINVAL;
	}
	ret = config__set(c, key, value, msg, sizeof(msg));
	if (ret)
		config_err(err, errlen, "%s:%lu: %s", name, lineno, msg);
	return ret;
}

int config__load_buf(struct agent_config *c, const char *name, const char *buf, size_t len,
		     char *err, size_t errlen)
{
	char *line = NULL;
	const char *p = buf, *end = buf + len, *nl;
	unsigned long lineno = 0;
	size_t line_len;
	int ret = 0;

	if (len > CONFIG_MAX_FILE) {
		config_err(err, errlen, "%s: file too large: more than %d bytes", name,
			   CONFIG_MAX_FILE);
		return -EFBIG;
	}
	if (memchr(buf, '\0', len)) {
		config_err(err, errlen, "%s: not a text file (it holds a NUL byte)", name);
		return -EINVAL;
	}
	line = malloc(CONFIG_MAX_LINE + 1);
	if (!line) {
		config_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		line_len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (line_len > CONFIG_MAX_LINE) {
			config_err(err, errlen, "%s:%lu: line too long: more than %d bytes", name,
				   lineno, CONFIG_MAX_LINE);
			ret = -EINVAL;
			goto out_free;
		}
		memcpy(line, p, line_len);
		line[line_len] = '\0';
		ret = load_line(c, name, lineno, line, line_len, err, errlen);
		if (ret)
			goto out_free;
		p += line_len + (nl ? 1 : 0);
	}
out_free:
	free(line);
	return ret;
}

int config__load_file(struct agent_config *c, const char *path, char *err, size_t errlen)
{
	mode_t type;
	char *buf;
	size_t len;
	int ret;

	/* Not blocking on a FIFO matters most on SIGHUP, when the agent is running. */
	ret = safefile__read(path, CONFIG_MAX_FILE, &buf, &len, &type);
	if (ret == -EISDIR || ret == -EBADFD) {
		config_err(err, errlen, "'%s' is not a regular file (%s); give a config file", path,
			   safefile__type_name(type));
		return ret;
	}
	if (ret == -EFBIG) {
		config_err(err, errlen, "%s: file too large: more than %d bytes", path,
			   CONFIG_MAX_FILE);
		return ret;
	}
	if (ret) {
		config_err(err, errlen, "cannot read '%s': %s", path, strerror(-ret));
		return ret;
	}
	ret = config__load_buf(c, path, buf, len, err, errlen);
	free(buf);
	return ret;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved). */
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

/* Exactly n digits at s; their value in *ret. */
static bool digits(const char *s, int n, unsigned int *ret)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	*ret = v;
	return true;
}

static int parse_rfc3339(const char *s, int64_t *ret_nanos)
{
	static const unsigned int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned int year, mon, day, hour, min, sec, oh, om;
	int64_t secs, frac = 0, scale = 100000000;
	const char *p;

	if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) || s[7] != '-' ||
	    !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &min) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour > 23 || min > 59 ||
	    sec > 60)
		return -EINVAL;
	if (mon == 2 && day == 29 && (year % 4 || (year % 100 == 0 && year % 400)))
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	secs = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		/* UTC */
	} else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
		   digits(p + 4, 2, &om) && !p[6] && oh <= 23 && om <= 59) {
		/* Local time at an offset: UTC = local - offset. */
		secs += (*p == '+' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	*ret_nanos = secs * 1000000000LL + frac;
	return 0;
}

int config__parse_time(const char *s, int64_t now_nanos, int64_t *ret_nanos)
{
	uint64_t v;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '-') {
		if (config__parse_duration(s + 1, &v) || v > (uint64_t)(INT64_MAX / 1000000000LL))
			return -EINVAL;
		if (__builtin_sub_overflow(now_nanos, (int64_t)v * 1000000000LL, ret_nanos))
			return -EINVAL;
		return 0;
	}
	if (!parse_uint_range(s, 0, (uint64_t)(INT64_MAX / 1000000000LL), &v)) {
		*ret_nanos = (int64_t)v * 1000000000LL;
		return 0;
	}
	return parse_rfc3339(s, ret_nanos);
}
