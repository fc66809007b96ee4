// SPDX-License-Identifier: MIT
/*
 * smolder upload, and upload__start() for the agent: the parts of the
 * upload glue that print. Settings go through config__set(), so the command
 * line and the agent's config file accept exactly the same values. Secrets
 * come from files only: there is deliberately no --token or --password, as a
 * command line is visible to every user of the machine (/proc/PID/cmdline).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "upload.h"
#include "vizcli.h"

#define UPLOAD_DEFAULT_WAIT_S 60
#define UPLOAD_MAX_WAIT_S     86400
#define UPLOAD_SPOOL_MODE     0700

static const char upload_usage[] =
	"Usage: smolder upload URL FILE... [--service-by KEY] [--label KEY=VALUE]...\n"
	"                      [--token-file FILE | --basic-auth-file FILE] [--tenant ID]\n"
	"                      [--ca-file FILE] [--spool DIR] [--timeout SEC]\n"
	"\n"
	"Sends pprof files to Grafana Pyroscope (POST URL/push.v1.PusherService/Push),\n"
	"one series per service, as the agent does with --upload. Each request is\n"
	"written to the spool first and leaves it only once the server accepted it;\n"
	"what is not sent before the timeout stays there for the next run or the agent.\n"
	"\n"
	"Options:\n"
	"      --service-by KEY       systemd_unit (default), container_id or comm: the\n"
	"                             sample label that names the service; samples\n"
	"                             without it use comm\n"
	"  -l, --label KEY=VALUE      a label on every series, repeatable (at most 32)\n"
	"      --token-file FILE      send 'Authorization: Bearer <first line of FILE>'\n"
	"      --basic-auth-file FILE HTTP Basic with user:password, the first line of FILE\n"
	"      --tenant ID            send X-Scope-OrgID: ID\n"
	"      --ca-file FILE         trust these PEM CAs instead of the system ones\n"
	"      --spool DIR            the spool (default /var/lib/smolder/spool, the agent's)\n"
	"      --timeout SEC          give up waiting after SEC seconds, 1 to 86400 (default 60)\n"
	"  -h, --help                 this text\n"
	"\n"
	"Exit status: 0 when every request was accepted, 1 when some were refused\n"
	"(kept in SPOOL/rejected/) or are still waiting in the spool, 2 for bad usage.\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder upload http://localhost:4040 prof.pb.gz\n"
	"  smolder upload https://profiles.example.com prof.pb.gz --tenant team-a \\\n"
	"                 --basic-auth-file /etc/smolder/pyroscope.auth --label env=prod\n";

static void upload_log(enum uploader_log_level level, const char *msg, void *ctx)
{
	switch (level) {
	case UPLOADER_LOG_ERR:
		log_err("%s", msg);
		break;
	case UPLOADER_LOG_WARN:
		log_warn("%s", msg);
		break;
	case UPLOADER_LOG_INFO:
		log_info("%s", msg);
		break;
	case UPLOADER_LOG_DEBUG:
		log_debug("%s", msg);
		break;
	}
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int read_credentials(const struct agent_config *cfg, char **ret_token, char **ret_basic)
{
	char err[512];
	int ret = 0;

	if (cfg->upload_token_file) {
		ret = upload__read_secret(cfg->upload_token_file, ret_token, err, sizeof(err));
		if (ret)
			log_err("token file: %s", err);
	} else if (cfg->upload_basic_auth_file) {
		ret = upload__read_secret(cfg->upload_basic_auth_file, ret_basic, err, sizeof(err));
		if (ret) {
			log_err("basic-auth file: %s", err);
		} else if (!strchr(*ret_basic, ':')) {
			log_err("basic-auth file '%s': expected user:password on one line",
				cfg->upload_basic_auth_file);
			wipe_free(*ret_basic);
			*ret_basic = NULL;
			ret = -EINVAL;
		}
	}
	return ret;
}

static struct uploader *start(const struct agent_config *cfg, unsigned int total_ms)
{
	struct uploader_opts o = {0};
	struct uploader *u = NULL;
	char *token = NULL, *basic = NULL, *spool = NULL, shown[UPLOADER_URL_SHOWN_MAX], msg[1024];
	int fd;

	if (!cfg->upload_url) {
		log_err("no upload URL configured");
		return NULL;
	}
	/* libcurl opens it on the sender thread: checked here, where a FIFO cannot hang that. */
	if (cfg->upload_ca_file &&
	    vizcli__check_input(cfg->upload_ca_file, "a PEM file of CA certificates"))
		goto out_free;
	if (read_credentials(cfg, &token, &basic))
		goto out_free;
	if (cfg->upload_spool)
		spool = strdup(cfg->upload_spool);
	else if (asprintf(&spool, "%s/spool", cfg->store_dir) < 0)
		spool = NULL;
	if (!spool) {
		log_err("out of memory");
		goto out_free;
	}
	/* Whatever is in the spool goes out with our credentials: only root and we may change it. */
	fd = store__open_dir(spool, true, UPLOAD_SPOOL_MODE);
	if (fd < 0) {
		store__format_dir_error("upload spool", "--spool", UPLOAD_SPOOL_MODE, spool, -fd,
					msg, sizeof(msg));
		log_err("%s", msg);
		goto out_free;
	}
	close(fd);
	o.url = cfg->upload_url;
	o.spool_dir = spool;
	o.spool_cap_bytes = cfg->upload_spool_bytes;
	o.bearer_token = token;
	o.basic_auth = basic;
	o.tenant = cfg->upload_tenant;
	o.ca_file = cfg->upload_ca_file;
	o.total_timeout_ms = total_ms;
	o.log = upload_log;
	u = uploader__new(&o);
	if (!u)
		log_err("cannot start uploading to '%s' with the spool '%s': %s; choose another "
			"spool with --spool DIR",
			uploader__redact_url(cfg->upload_url, shown, sizeof(shown)), spool,
			strerror(errno));
out_free:
	wipe_free(token);
	wipe_free(basic);
	free(spool);
	return u;
}

struct uploader *upload__start(const struct agent_config *cfg)
{
	return start(cfg, 0);
}

/* Options that must not exist: secrets on a command line leak to every user. */
static bool forbidden_option(const char *arg)
{
	static const char *const names[] = {"--token", "--password", "--basic-auth", "--user"};
	size_t i, len;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		len = strlen(names[i]);
		if (!strncmp(arg, names[i], len) && (arg[len] == '\0' || arg[len] == '='))
			return true;
	}
	return false;
}

static int set(struct agent_config *cfg, const char *key, const char *value)
{
	char err[512];

	if (config__set(cfg, key, value, err, sizeof(err))) {
		log_err("%s", err);
		return -EINVAL;
	}
	return 0;
}

/* Returns the exit code, or -1 to go on; operands are then argv[optind..]. */
static int parse_args(int argc, char **argv, struct agent_config *cfg, unsigned int *wait_s)
{
	static const struct option longopts[] = {
		{"service-by", required_argument, NULL, 'b'},
		{"label", required_argument, NULL, 'l'},
		{"token-file", required_argument, NULL, 't'},
		{"basic-auth-file", required_argument, NULL, 'B'},
		{"tenant", required_argument, NULL, 'T'},
		{"ca-file", required_argument, NULL, 'c'},
		{"spool", required_argument, NULL, 's'},
		{"timeout", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	bool have_token = false, have_basic = false;
	const char *key;
	char *end;
	long v;
	int opt, i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (forbidden_option(argv[i])) {
			log_err("there is no %.*s option: a command line is visible to every user; "
				"put the secret in a file only you can read and use --token-file "
				"FILE or --basic-auth-file FILE",
				(int)strcspn(argv[i], "="), argv[i]);
			return 2;
		}
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":l:h", longopts, NULL)) != -1) {
		key = NULL;
		switch (opt) {
		case 'b':
			key = "service-by";
			break;
		case 'l':
			key = "label";
			break;
		case 't':
			key = "token-file";
			have_token = true;
			break;
		case 'B':
			key = "basic-auth-file";
			have_basic = true;
			break;
		case 'T':
			key = "tenant";
			break;
		case 'c':
			key = "ca-file";
			break;
		case 's':
			key = "spool";
			break;
		case 'w':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > UPLOAD_MAX_WAIT_S) {
				log_err("invalid --timeout '%s': expected seconds from 1 to %d",
					optarg, UPLOAD_MAX_WAIT_S);
				return 2;
			}
			*wait_s = (unsigned int)v;
			break;
		case 'h':
			fputs(upload_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; run 'smolder upload --help'",
				argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s'; run 'smolder upload --help'",
				argv[optind - 1]);
			return 2;
		}
		if (key && set(cfg, key, optarg))
			return 2;
	}
	if (have_token && have_basic) {
		log_err("--token-file and --basic-auth-file exclude each other: choose one");
		return 2;
	}
	if (argc - optind < 2) {
		log_err("expected a URL and at least one pprof file; run 'smolder upload --help'");
		return 2;
	}
	if (set(cfg, "upload", argv[optind]))
		return 2;
	return -1;
}

int cmd_upload(int argc, char **argv)
{
	char shown[UPLOADER_URL_SHOWN_MAX];
	struct uploader_stats st;
	struct upload_opts uo = {0};
	struct agent_config cfg;
	struct uploader *u = NULL;
	pprof_profile_t *p;
	unsigned int wait_s = UPLOAD_DEFAULT_WAIT_S;
	int i, first_file, ret = 1, err;

	if (config__init(&cfg)) {
		log_err("out of memory");
		return 1;
	}
	ret = parse_args(argc, argv, &cfg, &wait_s);
	if (ret >= 0)
		goto out_free;
	ret = 1;
	first_file = optind + 1;
	/* Every file is checked before anything is spooled: all or nothing on bad input. */
	for (i = first_file; i < argc; i++) {
		if (vizcli__load(&argv[i], 1, &p))
			goto out_free;
		pprof__profile_free(p);
	}
	/* The whole request may take as long as the wait: a slow link still gets there. */
	u = start(&cfg, wait_s * 1000);
	if (!u)
		goto out_free;
	uo.service_by = cfg.upload_service_by;
	uo.labels = (const char *const *)cfg.labels;
	uo.nr_labels = cfg.nr_labels;
	for (i = first_file; i < argc; i++) {
		err = pprof__read_file(argv[i], &p);
		if (!err) {
			err = upload__profile(u, p, &uo);
			pprof__profile_free(p);
		}
		if (err) {
			log_err("cannot queue '%s' for upload: %s", argv[i], strerror(-err));
			goto out_free;
		}
	}
	err = uploader__flush(u, wait_s * 1000);
	uploader__stats(u, &st);
	if (!err && !st.rejected) {
		log_info("sent %" PRIu64 " requests (%" PRIu64 " bytes) to '%s'", st.sent,
			 st.bytes_sent, uploader__redact_url(cfg.upload_url, shown, sizeof(shown)));
		ret = 0;
	} else if (err) {
		log_err("%" PRIu64 " requests not sent after %u s (last error: %s); they stay in "
			"'%s' and go with the next 'smolder upload' or the agent",
			st.spool_items, wait_s, st.last_error[0] ? st.last_error : "none",
			cfg.upload_spool ? cfg.upload_spool : "/var/lib/smolder/spool");
	} else {
		log_err("%" PRIu64
			" requests refused by the server (kept in '%s/rejected/'); %" PRIu64
			" sent",
			st.rejected, cfg.upload_spool ? cfg.upload_spool : "/var/lib/smolder/spool",
			st.sent);
	}
out_free:
	uploader__free(u);
	config__free(&cfg);
	return ret;
}
