// SPDX-License-Identifier: MIT
/*
 * Replays a fuzz corpus without libFuzzer: every regular file under the
 * directories (or the files) given is fed once to LLVMFuzzerTestOneInput().
 * ctest runs this for each harness, so the corpora are regression tests; a
 * crash or a sanitizer report fails the test. An empty or missing corpus
 * directory is an error: a replay that feeds nothing proves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf = NULL;
	FILE *f;
	int err = 0;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	if (fstat(fileno(f), &st)) {
		err = -errno;
		goto out_close;
	}
	/* One extra byte so an empty input is still a valid pointer. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out_close;
	}
	if (st.st_size && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "replay: short read on '%s'\n", path);
		err = -EIO;
		goto out_free;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
out_free:
	free(buf);
out_close:
	fclose(f);
	return err;
}

static int replay_path(const char *path, unsigned long *nr_inputs)
{
	struct dirent *de;
	struct stat st;
	char child[4096];
	DIR *dir;
	int err = 0;

	if (stat(path, &st)) {
		fprintf(stderr, "replay: cannot stat '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*nr_inputs)++;
		return replay_file(path);
	}
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && !err) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		err = replay_path(child, nr_inputs);
	}
	closedir(dir);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long nr_inputs = 0;
	int i, err;

	for (i = 1; i < argc; i++) {
		err = replay_path(argv[i], &nr_inputs);
		if (err)
			return 1;
	}
	if (!nr_inputs) {
		fprintf(stderr, "replay: no inputs found; add seeds to the corpus\n");
		return 1;
	}
	printf("replayed %lu inputs\n", nr_inputs);
	return 0;
}
