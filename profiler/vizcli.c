// SPDX-License-Identifier: MIT
/*
 * vizcli: shared command-line plumbing of report, flamegraph and diff.
 *
 * Several files are merged through pprof_builder__merge() and the result is
 * packed and decoded again, so the commands always see one validated
 * profile; a single file is used as read. Each file, and the merge, must
 * have values >= 0 adding up to at most INT64_MAX per sample type
 * (stacks__check_values()), so the sums the commands show cannot overflow.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "safefile.h"
#include "stacks.h"
#include "vizcli.h"

/* Refuses p (read from path) when stacks__check_values() does; prints why. */
static int vizcli__check_values(const char *path, const pprof_profile_t *p)
{
	size_t sample;
	int64_t value;
	int err = stacks__check_values(p, &sample, &value);

	if (err == -ERANGE)
		log_err("'%s': sample %zu has value %" PRId64 "; a profile's values must be >= 0",
			path, sample + 1, value);
	else if (err == -EOVERFLOW)
		log_err("'%s': its values add up to more than %" PRId64 " (from sample %zu on); "
			"give a smaller profile",
			path, INT64_MAX, sample + 1);
	else if (err)
		log_err("failed to read '%s': %s", path, strerror(-err));
	return err;
}

/* The line for a failure to open or read path; give says what to give instead. */
static void print_read_error(const char *path, int err, mode_t type, const char *give)
{
	if (err == -EISDIR || err == -EBADFD)
		log_err("'%s' is not a regular file (%s); give %s", path, safefile__type_name(type),
			give);
	else
		log_err("failed to read '%s': %s", path, strerror(-err));
}

int vizcli__check_input(const char *path, const char *give)
{
	mode_t type;
	int fd, err;

	err = safefile__open_read(path, &fd, &type);
	if (err) {
		print_read_error(path, err, type, give);
		return err;
	}
	close(fd);
	return 0;
}

static int vizcli__read(const char *path, pprof_profile_t **ret)
{
	pprof_profile_t *p = NULL;
	mode_t type;
	size_t len;
	char *buf;
	int err;

	err = safefile__read(path, PPROF_READ_MAX_SIZE, &buf, &len, &type);
	if (!err) {
		err = pprof__read_mem((const uint8_t *)buf, len, &p);
		free(buf);
	}
	if (err == -EBADMSG)
		log_err("'%s' is not a pprof profile (or is corrupt); give a file written by "
			"'smolder record' or pprof",
			path);
	else if (err)
		print_read_error(path, err, type, "a profile file");
	if (!err)
		err = vizcli__check_values(path, p);
	if (err) {
		pprof__profile_free(p);
		return err;
	}
	*ret = p;
	return 0;
}

int vizcli__load(char *const *paths, int nr, pprof_profile_t **ret)
{
	struct pprof_builder *b = NULL;
	pprof_profile_t *p = NULL;
	uint8_t *buf = NULL;
	size_t len, sample;
	int64_t value;
	int i, err;

	if (nr == 1)
		return vizcli__read(paths[0], ret);
	b = pprof_builder__new();
	if (!b) {
		err = -errno;
		log_err("failed to merge profiles: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < nr; i++) {
		err = vizcli__read(paths[i], &p);
		if (err)
			goto out;
		err = pprof_builder__merge(b, p);
		pprof__profile_free(p);
		p = NULL;
		if (err == -EINVAL) {
			log_err("cannot merge '%s' with '%s': their sample types differ; give "
				"profiles of one kind",
				paths[i], paths[0]);
			goto out;
		} else if (err) {
			log_err("failed to merge '%s': %s", paths[i], strerror(-err));
			goto out;
		}
	}
	err = pprof_builder__pack(b, &buf, &len);
	if (!err)
		err = pprof__read_mem(buf, len, &p);
	if (err) {
		log_err("failed to merge profiles: %s", strerror(-err));
		goto out;
	}
	/* Each file's sums fit; together they may not. */
	err = stacks__check_values(p, &sample, &value);
	if (err == -EOVERFLOW)
		log_err("the values of the %d profiles add up to more than %" PRId64
			"; give fewer files",
			nr, INT64_MAX);
	else if (err)
		log_err("failed to merge profiles: %s", strerror(-err));
	if (err) {
		pprof__profile_free(p);
		goto out;
	}
	*ret = p;
out:
	free(buf);
	pprof_builder__free(b);
	return err;
}

int vizcli__parse_long(const char *arg, long min, long max, const char *what, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		log_err("invalid %s '%s': expected a whole number from %ld to %ld", what, arg, min,
			max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int vizcli__parse_double(const char *arg, double min, double max, const char *what, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max) {
		log_err("invalid %s '%s': expected a number from %g to %g", what, arg, min, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

struct safefile_out *vizcli__create(const char *path, mode_t mode)
{
	struct safefile_out *out;
	mode_t type;
	int err;

	err = safefile__create(path, mode, &out, &type);
	if (!err)
		return out;
	if (err == -EISDIR)
		log_err("cannot write '%s': it is a directory; give a file name with -o", path);
	else if (err == -EBADFD)
		log_err("refusing to write '%s': it is %s, not a regular file; give a file name "
			"with -o",
			path, safefile__type_name(type));
	else if (err == -EPERM && type == S_IFLNK)
		log_err("refusing to write '%s': it is a symlink in a directory others can write; "
			"choose another path",
			path);
	else
		log_err("cannot write '%s': %s; choose another place with -o", path,
			strerror(-err));
	return NULL;
}

int vizcli__commit(struct safefile_out *out, const char *path)
{
	int err = safefile__commit(out);

	if (err == -EISDIR || err == -EBADFD)
		log_err("refusing to write '%s': it was replaced by something other than a "
			"regular file meanwhile; give a file name with -o",
			path);
	else if (err)
		log_err("failed to write '%s': %s", path, strerror(-err));
	return err;
}

int vizcli__close_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		log_err("failed to write to standard output: %s", strerror(errno ? errno : EIO));
		return -(errno ? errno : EIO);
	}
	return 0;
}
