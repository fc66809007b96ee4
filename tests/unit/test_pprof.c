// SPDX-License-Identifier: MIT
/*
 * Unit tests for proto/: the builder's output decoded with protobuf-c itself,
 * the id rules of pprof.h, file round trips, the reader's rejection of bad
 * input, renumbering, merging, a real Go profile, and `go tool pprof`
 * accepting what we write.
 */
#define _GNU_SOURCE /* mkdtemp(), popen() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "pprof.h"

/* Named checks: a failure says what was compared, then stops the test. */
#define ASSERT_EQ(got, want, name) \
	check_eq((int64_t)(got), (int64_t)(want), name, __FILE__, __LINE__)
#define ASSERT_TRUE(cond, name)	    check_eq(!!(cond), 1, name, __FILE__, __LINE__)
#define ASSERT_STR(got, want, name) check_str(got, want, name, __FILE__, __LINE__)

static void check_eq(int64_t got, int64_t want, const char *name, const char *file, int line)
{
	if (got == want)
		return;
	print_error("%s: got %lld, want %lld\n", name, (long long)got, (long long)want);
	_fail(file, line);
}

static void check_str(const char *got, const char *want, const char *name, const char *file,
		      int line)
{
	if (got && want && !strcmp(got, want))
		return;
	print_error("%s: got '%s', want '%s'\n", name, got ? got : "(null)",
		    want ? want : "(null)");
	_fail(file, line);
}

/* Every invariant pprof.h promises after a read, and that the builder keeps. */
static void check_invariants(const pprof_profile_t *p)
{
	size_t i, j;

#define STR_OK(i) ((i) >= 0 && (uint64_t)(i) < p->n_string_table)
	ASSERT_TRUE(p->n_string_table >= 1, "string table not empty");
	ASSERT_STR(p->string_table[0], "", "string_table[0]");
	ASSERT_TRUE(STR_OK(p->default_sample_type), "default_sample_type in range");
	for (i = 0; i < p->n_sample_type; i++) {
		ASSERT_TRUE(STR_OK(p->sample_type[i]->type), "sample type in range");
		ASSERT_TRUE(STR_OK(p->sample_type[i]->unit), "sample unit in range");
	}
	for (i = 0; i < p->n_comment; i++)
		ASSERT_TRUE(STR_OK(p->comment[i]), "comment in range");
	for (i = 0; i < p->n_mapping; i++) {
		ASSERT_EQ(p->mapping[i]->id, i + 1, "mapping id is index+1");
		ASSERT_TRUE(STR_OK(p->mapping[i]->filename), "mapping filename in range");
		ASSERT_TRUE(STR_OK(p->mapping[i]->build_id), "mapping build_id in range");
	}
	for (i = 0; i < p->n_function; i++) {
		ASSERT_EQ(p->function[i]->id, i + 1, "function id is index+1");
		ASSERT_TRUE(STR_OK(p->function[i]->name), "function name in range");
		ASSERT_TRUE(STR_OK(p->function[i]->system_name), "system_name in range");
		ASSERT_TRUE(STR_OK(p->function[i]->filename), "function filename in range");
	}
	for (i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *l = p->location[i];

		ASSERT_EQ(l->id, i + 1, "location id is index+1");
		ASSERT_TRUE(l->mapping_id <= p->n_mapping, "location mapping exists");
		for (j = 0; j < l->n_line; j++)
			ASSERT_TRUE(l->line[j]->function_id <= p->n_function,
				    "line function exists");
	}
	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		ASSERT_EQ(s->n_value, p->n_sample_type, "one value per sample type");
		for (j = 0; j < s->n_location_id; j++) {
			ASSERT_TRUE(s->location_id[j] >= 1, "sample location id non-zero");
			ASSERT_TRUE(s->location_id[j] <= p->n_location, "sample location exists");
		}
		for (j = 0; j < s->n_label; j++) {
			ASSERT_TRUE(STR_OK(s->label[j]->key), "label key in range");
			ASSERT_TRUE(STR_OK(s->label[j]->str), "label str in range");
			ASSERT_TRUE(STR_OK(s->label[j]->num_unit), "label unit in range");
		}
	}
#undef STR_OK
}

static const Perftools__Profiles__Function *loc_func(const pprof_profile_t *p, uint64_t loc_id,
						     size_t line)
{
	const Perftools__Profiles__Location *l = p->location[loc_id - 1];

	if (line >= l->n_line || !l->line[line]->function_id)
		return NULL;
	return p->function[l->line[line]->function_id - 1];
}

static const char *loc_name(const pprof_profile_t *p, uint64_t loc_id, size_t line)
{
	const Perftools__Profiles__Function *f = loc_func(p, loc_id, line);

	return f ? pprof__str(p, f->name) : NULL;
}

/* Sum of value vi over samples whose leaf frame's innermost function is fn. */
static int64_t leaf_total(const pprof_profile_t *p, const char *fn, size_t vi)
{
	const char *name;
	int64_t total = 0;
	size_t i;

	for (i = 0; i < p->n_sample; i++) {
		if (!p->sample[i]->n_location_id)
			continue;
		name = loc_name(p, p->sample[i]->location_id[0], 0);
		if (name && !strcmp(name, fn))
			total += p->sample[i]->value[vi];
	}
	return total;
}

static bool has_function(const pprof_profile_t *p, const char *fn)
{
	size_t i;

	for (i = 0; i < p->n_function; i++) {
		if (!strcmp(pprof__str(p, p->function[i]->name), fn))
			return true;
	}
	return false;
}

#define T_TIME	   1700000000000000000LL
#define T_DURATION 2000000000LL
#define T_PERIOD   10000000LL

static const struct pprof_value_type vt_samples = {"samples", "count"};
static const struct pprof_value_type vt_cpu = {"cpu", "nanoseconds"};

/*
 * Builds the reference profile: 2 mappings (one added twice), 6 distinct
 * locations (two added twice), 5 distinct functions, 4 samples.
 */
static struct pprof_builder *build_reference(int64_t time_nanos, int64_t scale)
{
	const struct pprof_mapping_desc exe = {
		.memory_start = 0x400000,
		.memory_limit = 0x500000,
		.file_offset = 0x1000,
		.filename = "/usr/bin/smolder_test",
		.build_id = "abcdef0123",
		.has_functions = true,
	};
	const struct pprof_mapping_desc kernel = {
		.memory_start = 0xffffffff81000000ULL,
		.memory_limit = 0xffffffff82000000ULL,
		.filename = "[kernel.kallsyms]",
	};
	const struct pprof_line_desc inl[] = {
		{.name = "inlined_helper", .filename = "test.c", .line = 10, .start_line = 8},
		{.name = "test_main",
		 .system_name = "_Z9test_mainv",
		 .filename = "test.c",
		 .line = 20,
		 .column = 3,
		 .start_line = 15},
	};
	const struct pprof_line_desc main_only[] = {
		{.name = "test_main",
		 .system_name = "_Z9test_mainv",
		 .filename = "test.c",
		 .line = 30,
		 .start_line = 15},
	};
	const struct pprof_line_desc ksys[] = {{.name = "do_syscall_64"}};
	const struct pprof_line_desc py1[] = {{.name = "py_work", .filename = "w.py", .line = 5}};
	const struct pprof_line_desc py2[] = {{.name = "py_other", .filename = "w.py", .line = 9}};
	const struct pprof_label_desc labels[] = {
		{.key = "pid", .num = 42, .num_unit = "pid"},
		{.key = "comm", .str = "smolder_test"},
	};
	struct pprof_builder *b;
	int64_t m1, m1b, m2, l1, l1b, l2, l3, l4, l4b, l5, l6;
	uint64_t stack[2];
	int64_t values[2];

	b = pprof_builder__new();
	ASSERT_TRUE(b, "builder");
	ASSERT_EQ(pprof_builder__add_sample_type(b, &vt_samples), 0, "add samples type");
	ASSERT_EQ(pprof_builder__add_sample_type(b, &vt_cpu), 0, "add cpu type");
	ASSERT_EQ(pprof_builder__set_period(b, &vt_cpu, T_PERIOD), 0, "period");
	ASSERT_EQ(pprof_builder__set_default_sample_type(b, "cpu"), 0, "default type");
	ASSERT_EQ(pprof_builder__set_time(b, time_nanos, T_DURATION), 0, "time");
	ASSERT_EQ(pprof_builder__add_comment(b, "smolder test"), 0, "comment");

	m1 = pprof_builder__mapping(b, &exe);
	m1b = pprof_builder__mapping(b, &exe);
	m2 = pprof_builder__mapping(b, &kernel);
	ASSERT_EQ(m1, 1, "first mapping id");
	ASSERT_EQ(m1b, m1, "equal mapping interned");
	ASSERT_EQ(m2, 2, "second mapping id");

	l1 = pprof_builder__location(b, (uint64_t)m1, 0x401000, inl, 2);
	l1b = pprof_builder__location(b, (uint64_t)m1, 0x401000, main_only, 1);
	l2 = pprof_builder__location(b, (uint64_t)m1, 0x402000, main_only, 1);
	l3 = pprof_builder__location(b, (uint64_t)m2, 0xffffffff81001000ULL, ksys, 1);
	l4 = pprof_builder__location(b, 0, 0, py1, 1);
	l4b = pprof_builder__location(b, 0, 0, py1, 1);
	l5 = pprof_builder__location(b, 0, 0, py2, 1);
	l6 = pprof_builder__location(b, (uint64_t)m1, 0x403000, NULL, 0);
	ASSERT_EQ(l1, 1, "l1 id");
	ASSERT_EQ(l1b, l1, "(mapping, address) interned, first lines win");
	ASSERT_EQ(l2, 2, "l2 id");
	ASSERT_EQ(l3, 3, "l3 id");
	ASSERT_EQ(l4, 4, "l4 id");
	ASSERT_EQ(l4b, l4, "address-0 location interned by lines");
	ASSERT_EQ(l5, 5, "address-0 location with other lines is new");
	ASSERT_EQ(l6, 6, "l6 id");

	stack[0] = (uint64_t)l1;
	stack[1] = (uint64_t)l2;
	values[0] = 3 * scale;
	values[1] = 3 * scale * T_PERIOD;
	ASSERT_EQ(pprof_builder__sample(b, stack, 2, values, 2, labels, 2), 0, "sample 1");
	stack[0] = (uint64_t)l3;
	values[0] = 1 * scale;
	values[1] = 1 * scale * T_PERIOD;
	ASSERT_EQ(pprof_builder__sample(b, stack, 2, values, 2, NULL, 0), 0, "sample 2");
	stack[0] = (uint64_t)l4;
	values[0] = 2 * scale;
	values[1] = 2 * scale * T_PERIOD;
	ASSERT_EQ(pprof_builder__sample(b, stack, 1, values, 2, &labels[1], 1), 0, "sample 3");
	stack[0] = (uint64_t)l6;
	values[0] = 1 * scale;
	values[1] = 1 * scale * T_PERIOD;
	ASSERT_EQ(pprof_builder__sample(b, stack, 1, values, 2, NULL, 0), 0, "sample 4");
	return b;
}

/* Packs b and decodes it with protobuf-c directly (no validation of ours). */
static pprof_profile_t *pack_and_decode(struct pprof_builder *b)
{
	pprof_profile_t *p;
	uint8_t *buf = NULL;
	size_t len = 0;

	ASSERT_EQ(pprof_builder__pack(b, &buf, &len), 0, "pack");
	p = perftools__profiles__profile__unpack(NULL, len, buf);
	free(buf);
	ASSERT_TRUE(p, "protobuf-c decodes the packed profile");
	return p;
}

static void test_build_pack_decode(void **state)
{
	const Perftools__Profiles__Mapping *m;
	const Perftools__Profiles__Location *l;
	const Perftools__Profiles__Function *f;
	const Perftools__Profiles__Sample *s;
	struct pprof_builder *b;
	pprof_profile_t *p;
	size_t i, j;

	b = build_reference(T_TIME, 1);
	p = pack_and_decode(b);
	check_invariants(p);

	/* Dedup: every string once. */
	for (i = 0; i < p->n_string_table; i++) {
		for (j = i + 1; j < p->n_string_table; j++)
			ASSERT_TRUE(strcmp(p->string_table[i], p->string_table[j]),
				    "strings unique");
	}

	ASSERT_EQ(p->n_sample_type, 2, "sample types");
	ASSERT_STR(pprof__str(p, p->sample_type[0]->type), "samples", "type 0");
	ASSERT_STR(pprof__str(p, p->sample_type[0]->unit), "count", "unit 0");
	ASSERT_STR(pprof__str(p, p->sample_type[1]->type), "cpu", "type 1");
	ASSERT_STR(pprof__str(p, p->sample_type[1]->unit), "nanoseconds", "unit 1");
	ASSERT_TRUE(p->period_type, "period type present");
	ASSERT_STR(pprof__str(p, p->period_type->type), "cpu", "period type");
	ASSERT_STR(pprof__str(p, p->period_type->unit), "nanoseconds", "period unit");
	ASSERT_EQ(p->period, T_PERIOD, "period");
	ASSERT_STR(pprof__str(p, p->default_sample_type), "cpu", "default sample type");
	ASSERT_EQ(p->time_nanos, T_TIME, "time_nanos");
	ASSERT_EQ(p->duration_nanos, T_DURATION, "duration_nanos");
	ASSERT_EQ(p->n_comment, 1, "comments");
	ASSERT_STR(pprof__str(p, p->comment[0]), "smolder test", "comment");

	ASSERT_EQ(p->n_mapping, 2, "mappings deduplicated");
	m = p->mapping[0];
	ASSERT_EQ(m->memory_start, 0x400000, "memory_start");
	ASSERT_EQ(m->memory_limit, 0x500000, "memory_limit");
	ASSERT_EQ(m->file_offset, 0x1000, "file_offset");
	ASSERT_STR(pprof__str(p, m->filename), "/usr/bin/smolder_test", "mapping filename");
	ASSERT_STR(pprof__str(p, m->build_id), "abcdef0123", "build id");
	ASSERT_TRUE(m->has_functions && !m->has_filenames && !m->has_line_numbers &&
			    !m->has_inline_frames,
		    "mapping flags");
	ASSERT_STR(pprof__str(p, p->mapping[1]->build_id), "", "no build id is string 0");

	ASSERT_EQ(p->n_function, 5, "functions deduplicated");
	ASSERT_EQ(p->n_location, 6, "locations deduplicated");
	l = p->location[0];
	ASSERT_EQ(l->mapping_id, 1, "l1 mapping");
	ASSERT_EQ(l->address, 0x401000, "l1 address");
	ASSERT_EQ(l->n_line, 2, "l1 lines");
	ASSERT_STR(loc_name(p, 1, 0), "inlined_helper", "innermost line first");
	ASSERT_STR(loc_name(p, 1, 1), "test_main", "physical function last");
	ASSERT_EQ(l->line[1]->line, 20, "line number");
	ASSERT_EQ(l->line[1]->column, 3, "column");
	f = loc_func(p, 1, 1);
	ASSERT_STR(pprof__str(p, f->system_name), "_Z9test_mainv", "system name");
	ASSERT_STR(pprof__str(p, f->filename), "test.c", "function filename");
	ASSERT_EQ(f->start_line, 15, "start line");
	ASSERT_EQ(loc_func(p, 2, 0)->id, f->id, "same function shared by two locations");
	f = loc_func(p, 3, 0);
	ASSERT_STR(pprof__str(p, f->system_name), "do_syscall_64", "NULL system name = name");
	ASSERT_EQ(p->location[3]->mapping_id, 0, "mapping 0 is none");
	ASSERT_EQ(p->location[3]->address, 0, "address 0");
	ASSERT_EQ(p->location[5]->n_line, 0, "location without lines");

	ASSERT_EQ(p->n_sample, 4, "samples not merged");
	s = p->sample[0];
	ASSERT_EQ(s->n_location_id, 2, "stack depth");
	ASSERT_EQ(s->location_id[0], 1, "leaf first");
	ASSERT_EQ(s->location_id[1], 2, "caller second");
	ASSERT_EQ(s->value[0], 3, "value 0");
	ASSERT_EQ(s->value[1], 3 * T_PERIOD, "value 1");
	ASSERT_EQ(s->n_label, 2, "labels");
	ASSERT_STR(pprof__str(p, s->label[0]->key), "pid", "num label key");
	ASSERT_EQ(s->label[0]->num, 42, "num label");
	ASSERT_STR(pprof__str(p, s->label[0]->num_unit), "pid", "num label unit");
	ASSERT_EQ(s->label[0]->str, 0, "num label has no str");
	ASSERT_STR(pprof__str(p, s->label[1]->key), "comm", "str label key");
	ASSERT_STR(pprof__str(p, s->label[1]->str), "smolder_test", "str label");
	ASSERT_EQ(p->sample[1]->n_label, 0, "sample 2 labels");
	ASSERT_EQ(p->sample[2]->n_label, 1, "sample 3 labels");
	ASSERT_STR(pprof__str(p, p->sample[2]->label[0]->str), "smolder_test", "sample 3 label");
	ASSERT_STR(pprof__str(p, -1), "", "negative index");
	ASSERT_STR(pprof__str(p, (int64_t)p->n_string_table), "", "index past end");

	pprof__profile_free(p);
	pprof_builder__free(b);
}

static void make_temp_dir(char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, size, "%s/test_pprof.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ASSERT_TRUE(mkdtemp(dir), "mkdtemp");
}

static size_t count_dir_entries(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	d = opendir(dir);
	ASSERT_TRUE(d, "opendir");
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	}
	closedir(d);
	return n;
}

static void write_whole_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ASSERT_TRUE(f, "fopen for writing");
	ASSERT_EQ(fwrite(buf, 1, len, f), len, "fwrite");
	ASSERT_EQ(fclose(f), 0, "fclose");
}

static void test_write_read_roundtrip(void **state)
{
	char dir[256], path[320];
	uint8_t magic[2] = {0};
	struct pprof_builder *b;
	pprof_profile_t *p = NULL;
	struct stat st;
	FILE *f;

	make_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/out.pb.gz", dir);
	b = build_reference(T_TIME, 1);
	ASSERT_EQ(pprof_builder__write_file(b, path, 0600), 0, "write_file");
	/* Writing again replaces the file atomically. */
	ASSERT_EQ(pprof_builder__write_file(b, path, 0600), 0, "write_file again");
	ASSERT_EQ(stat(path, &st), 0, "stat");
	ASSERT_EQ(st.st_mode & 07777, 0600, "file mode");
	ASSERT_EQ(count_dir_entries(dir), 1, "no temporary file left");
	f = fopen(path, "rb");
	ASSERT_TRUE(f, "fopen");
	ASSERT_EQ(fread(magic, 1, 2, f), 2, "read magic");
	fclose(f);
	ASSERT_TRUE(magic[0] == 0x1f && magic[1] == 0x8b, "gzip magic");

	ASSERT_EQ(pprof__read_file(path, &p), 0, "read_file");
	check_invariants(p);
	ASSERT_EQ(p->n_sample, 4, "samples");
	ASSERT_EQ(p->n_location, 6, "locations");
	ASSERT_EQ(p->time_nanos, T_TIME, "time");
	ASSERT_EQ(leaf_total(p, "inlined_helper", 1), 3 * T_PERIOD, "value survives");
	pprof__profile_free(p);

	/* A failed write leaves nothing behind either. */
	snprintf(path, sizeof(path), "%s/missing/out.pb.gz", dir);
	ASSERT_EQ(pprof_builder__write_file(b, path, 0600), -ENOENT, "write into missing dir");
	ASSERT_EQ(count_dir_entries(dir), 1, "still one file");
	ASSERT_EQ(pprof__read_file(path, &p), -ENOENT, "read missing file");

	/* rename() onto a directory fails after the temp file exists: it must go. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	ASSERT_EQ(mkdir(path, 0700), 0, "mkdir");
	ASSERT_EQ(pprof_builder__write_file(b, path, 0600), -EISDIR, "write over a directory");
	ASSERT_EQ(count_dir_entries(dir), 2, "temporary file removed after failed rename");
	rmdir(path);

	snprintf(path, sizeof(path), "%s/out.pb.gz", dir);
	unlink(path);
	rmdir(dir);
	pprof_builder__free(b);
}

/* pack_gzip: gzip bytes that read back to the same profile; raw size is pack()'s. */
static void test_pack_gzip(void **state)
{
	struct pprof_builder *b;
	pprof_profile_t *p = NULL;
	uint8_t *buf = NULL, *gz = NULL;
	size_t len = 0, gz_len = 0, raw_len = 0;

	b = build_reference(T_TIME, 1);
	ASSERT_EQ(pprof_builder__pack(b, &buf, &len), 0, "pack");
	ASSERT_EQ(pprof_builder__pack_gzip(b, &gz, &gz_len, &raw_len), 0, "pack_gzip");
	ASSERT_EQ(raw_len, len, "uncompressed size");
	ASSERT_TRUE(gz[0] == 0x1f && gz[1] == 0x8b, "gzip magic");
	ASSERT_EQ(pprof__read_mem(gz, gz_len, &p), 0, "read_mem gzip");
	check_invariants(p);
	ASSERT_EQ(p->n_sample, 4, "samples");
	pprof__profile_free(p);
	free(gz);
	gz = NULL;
	ASSERT_EQ(pprof_builder__pack_gzip(b, &gz, &gz_len, NULL), 0, "pack_gzip without raw size");
	free(gz);
	free(buf);
	pprof_builder__free(b);
}

static void test_read_plain(void **state)
{
	char dir[256], path[320];
	struct pprof_builder *b;
	pprof_profile_t *p = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	b = build_reference(T_TIME, 1);
	ASSERT_EQ(pprof_builder__pack(b, &buf, &len), 0, "pack");
	ASSERT_EQ(pprof__read_mem(buf, len, &p), 0, "read_mem plain");
	check_invariants(p);
	ASSERT_EQ(p->n_sample, 4, "samples");
	ASSERT_STR(loc_name(p, 3, 0), "do_syscall_64", "function of location 3");
	pprof__profile_free(p);
	p = NULL;

	make_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/plain.pb", dir);
	write_whole_file(path, buf, len);
	ASSERT_EQ(pprof__read_file(path, &p), 0, "read_file plain");
	check_invariants(p);
	ASSERT_EQ(p->n_function, 5, "functions");
	pprof__profile_free(p);
	unlink(path);
	rmdir(dir);
	free(buf);
	pprof_builder__free(b);
}

/* Decodes the reference profile with protobuf-c so a test can break it. */
static pprof_profile_t *mutable_reference(void)
{
	struct pprof_builder *b = build_reference(T_TIME, 1);
	pprof_profile_t *p = pack_and_decode(b);

	pprof_builder__free(b);
	return p;
}

/* Packs a (possibly broken) profile with protobuf-c and runs our reader on it. */
static int repack_and_read(const pprof_profile_t *p, pprof_profile_t **ret)
{
	size_t len = perftools__profiles__profile__get_packed_size(p);
	uint8_t *buf = malloc(len + 1);
	int err;

	ASSERT_TRUE(buf, "malloc");
	ASSERT_EQ(perftools__profiles__profile__pack(p, buf), len, "protobuf-c pack");
	err = pprof__read_mem(buf, len, ret);
	free(buf);
	return err;
}

static void expect_badmsg(pprof_profile_t *p, const char *name)
{
	pprof_profile_t *out = NULL;

	ASSERT_EQ(repack_and_read(p, &out), -EBADMSG, name);
	ASSERT_TRUE(!out, "nothing returned on failure");
	pprof__profile_free(p);
}

static void test_read_rejects(void **state)
{
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x34};
	struct pprof_builder *b;
	pprof_profile_t *p, *out = NULL;
	uint8_t *buf = NULL, *gz;
	uLongf gz_len;
	size_t len = 0;
	z_stream zs;
	char *saved;

	b = build_reference(T_TIME, 1);
	ASSERT_EQ(pprof_builder__pack(b, &buf, &len), 0, "pack");
	pprof_builder__free(b);

	ASSERT_EQ(pprof__read_mem(buf, len - 3, &out), -EBADMSG, "truncated plain");
	ASSERT_EQ(pprof__read_mem(garbage, sizeof(garbage), &out), -EBADMSG, "garbage");
	ASSERT_EQ(pprof__read_mem(buf, 0, &out), -EBADMSG, "empty input (no string table)");

	/* gzip the packed profile, then truncate and corrupt it. */
	gz_len = compressBound(len) + 64;
	gz = malloc(gz_len);
	ASSERT_TRUE(gz, "malloc");
	memset(&zs, 0, sizeof(zs));
	ASSERT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK,
		  "deflate");
	zs.next_in = buf;
	zs.avail_in = (uInt)len;
	zs.next_out = gz;
	zs.avail_out = (uInt)gz_len;
	ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END, "deflate finish");
	gz_len = zs.total_out;
	deflateEnd(&zs);
	ASSERT_EQ(pprof__read_mem(gz, gz_len, &out), 0, "gzip from zlib reads");
	pprof__profile_free(out);
	out = NULL;
	ASSERT_EQ(pprof__read_mem(gz, gz_len / 2, &out), -EBADMSG, "truncated gzip");
	ASSERT_EQ(pprof__read_mem(gz, gz_len - 1, &out), -EBADMSG, "gzip without full trailer");
	gz[gz_len - 5] ^= 0x55; /* CRC/length trailer */
	ASSERT_EQ(pprof__read_mem(gz, gz_len, &out), -EBADMSG, "gzip with bad trailer");
	gz[gz_len - 5] ^= 0x55;
	gz[gz_len / 2] ^= 0xff;
	ASSERT_EQ(pprof__read_mem(gz, gz_len, &out), -EBADMSG, "corrupt deflate data");
	ASSERT_TRUE(!out, "nothing returned");
	free(gz);
	free(buf);

	p = mutable_reference();
	saved = p->string_table[0];
	p->string_table[0] = p->string_table[1];
	ASSERT_EQ(repack_and_read(p, &out), -EBADMSG, "string_table[0] not empty");
	p->string_table[0] = saved;
	pprof__profile_free(p);

	p = mutable_reference();
	p->sample[0]->location_id[1] = 77;
	expect_badmsg(p, "dangling sample location id");
	p = mutable_reference();
	p->sample[0]->location_id[0] = 0;
	expect_badmsg(p, "sample location id 0");
	p = mutable_reference();
	p->location[0]->mapping_id = 9;
	expect_badmsg(p, "dangling mapping id");
	p = mutable_reference();
	p->location[0]->line[0]->function_id = 6;
	expect_badmsg(p, "dangling function id");
	p = mutable_reference();
	p->function[1]->id = 1;
	expect_badmsg(p, "duplicate function id");
	p = mutable_reference();
	p->mapping[0]->id = 0;
	expect_badmsg(p, "mapping id 0");
	p = mutable_reference();
	p->function[0]->name = (int64_t)p->n_string_table;
	expect_badmsg(p, "string index past the table");
	p = mutable_reference();
	p->sample[0]->label[0]->num_unit = -1;
	expect_badmsg(p, "negative string index");
	p = mutable_reference();
	p->sample[2]->n_value = 1;
	expect_badmsg(p, "value count differs from sample types");
	p = mutable_reference();
	p->default_sample_type = 1000;
	expect_badmsg(p, "default_sample_type past the table");
}

static pprof_profile_t *reread(struct pprof_builder *b)
{
	pprof_profile_t *p = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	ASSERT_EQ(pprof_builder__pack(b, &buf, &len), 0, "pack");
	ASSERT_EQ(pprof__read_mem(buf, len, &p), 0, "read packed profile");
	free(buf);
	check_invariants(p);
	return p;
}

static void test_builder_errors(void **state)
{
	const struct pprof_line_desc line = {.name = "f"};
	struct pprof_line_desc empty_line = {0};
	const int64_t values[2] = {1, 2};
	struct pprof_builder *b;
	pprof_profile_t *p;
	uint64_t loc, bad = 99;
	int64_t id;

	b = pprof_builder__new();
	ASSERT_TRUE(b, "builder");
	ASSERT_EQ(pprof_builder__add_sample_type(b, &vt_samples), 0, "add type");
	ASSERT_EQ(pprof_builder__set_default_sample_type(b, "nope"), -EINVAL, "unknown default");
	ASSERT_EQ(pprof_builder__location(b, 3, 0x10, &line, 1), -EINVAL, "unknown mapping");
	id = pprof_builder__location(b, 0, 0x10, &line, 1);
	ASSERT_EQ(id, 1, "location");
	loc = (uint64_t)id;
	ASSERT_EQ(pprof_builder__sample(b, &loc, 1, values, 2, NULL, 0), -EINVAL, "value count");
	ASSERT_EQ(pprof_builder__sample(b, &bad, 1, values, 1, NULL, 0), -EINVAL, "unknown loc");
	bad = 0;
	ASSERT_EQ(pprof_builder__sample(b, &bad, 1, values, 1, NULL, 0), -EINVAL, "loc id 0");
	ASSERT_EQ(pprof_builder__sample(b, &loc, 1, values, 1, NULL, 0), 0, "sample");
	ASSERT_EQ(pprof_builder__add_sample_type(b, &vt_cpu), -EINVAL, "type after sample");
	ASSERT_EQ(pprof_builder__set_period(b, NULL, 1), -EINVAL, "NULL period type");
	empty_line.line = 7;
	id = pprof_builder__location(b, 0, 0x20, &empty_line, 1);
	ASSERT_EQ(id, 2, "location of a nameless line");
	p = reread(b);
	ASSERT_EQ(p->location[1]->n_line, 0, "nameless line dropped");
	ASSERT_EQ(p->n_function, 1, "no function for it");
	pprof__profile_free(p);
	pprof_builder__free(b);
	pprof_builder__free(NULL);
	pprof__profile_free(NULL);
}

/* Ids that are not index+1 are renumbered and references follow them. */
static void test_renumber(void **state)
{
	struct pprof_builder *b;
	pprof_profile_t *p, *out = NULL;
	uint64_t old_loc_ids[6];
	size_t i, j;

	p = mutable_reference();
	for (i = 0; i < p->n_mapping; i++)
		p->mapping[i]->id = 1000 + 7 * i;
	for (i = 0; i < p->n_function; i++)
		p->function[i]->id = (1ULL << 40) + 3 * i;
	ASSERT_EQ(p->n_location, 6, "locations");
	for (i = 0; i < p->n_location; i++) {
		Perftools__Profiles__Location *l = p->location[i];

		/* Descending ids: 60, 50, ..., 10. */
		old_loc_ids[i] = 60 - 10 * i;
		l->id = old_loc_ids[i];
		if (l->mapping_id)
			l->mapping_id = 1000 + 7 * (l->mapping_id - 1);
		for (j = 0; j < l->n_line; j++)
			l->line[j]->function_id = (1ULL << 40) + 3 * (l->line[j]->function_id - 1);
	}
	for (i = 0; i < p->n_sample; i++) {
		for (j = 0; j < p->sample[i]->n_location_id; j++)
			p->sample[i]->location_id[j] =
				old_loc_ids[p->sample[i]->location_id[j] - 1];
	}
	ASSERT_EQ(repack_and_read(p, &out), 0, "read renumbers");
	pprof__profile_free(p);
	check_invariants(out);
	ASSERT_STR(loc_name(out, 1, 0), "inlined_helper", "location 1 function");
	ASSERT_STR(loc_name(out, 1, 1), "test_main", "location 1 caller");
	ASSERT_STR(loc_name(out, 3, 0), "do_syscall_64", "location 3 function");
	ASSERT_EQ(out->location[2]->mapping_id, 2, "location 3 mapping");
	ASSERT_STR(pprof__str(out, out->mapping[1]->filename), "[kernel.kallsyms]", "mapping 2");
	ASSERT_EQ(out->location[3]->mapping_id, 0, "mapping 0 stays none");
	ASSERT_EQ(out->sample[0]->location_id[0], 1, "sample leaf");
	ASSERT_EQ(out->sample[0]->location_id[1], 2, "sample caller");
	ASSERT_EQ(leaf_total(out, "py_work", 0), 2, "python sample follows its location");
	pprof__profile_free(out);

	/* function_id 0 in a line is "no function", not an error. */
	p = mutable_reference();
	p->location[0]->line[0]->function_id = 0;
	ASSERT_EQ(repack_and_read(p, &out), 0, "function_id 0 accepted");
	ASSERT_EQ(out->location[0]->line[0]->function_id, 0, "function_id 0 kept");
	pprof__profile_free(p);

	/* Merging drops that line: go tool pprof rejects lines without a function. */
	b = pprof_builder__new();
	ASSERT_TRUE(b, "builder");
	ASSERT_EQ(pprof_builder__merge(b, out), 0, "merge profile with function_id 0");
	pprof__profile_free(out);
	out = reread(b);
	ASSERT_EQ(out->location[0]->n_line, 1, "line without function dropped");
	ASSERT_STR(loc_name(out, 1, 0), "test_main", "remaining line");
	pprof__profile_free(out);
	pprof_builder__free(b);
}

static void test_merge(void **state)
{
	struct pprof_builder *b1, *b2, *m;
	pprof_profile_t *p1, *p2, *out;

	b1 = build_reference(T_TIME, 1);
	/* Starts 5 s later, lasts 2 s: the span is 7 s. */
	b2 = build_reference(T_TIME + 5000000000LL, 10);
	ASSERT_EQ(pprof_builder__add_comment(b2, "second run"), 0, "comment");
	p1 = reread(b1);
	p2 = reread(b2);

	m = pprof_builder__new();
	ASSERT_TRUE(m, "merge builder");
	ASSERT_EQ(pprof_builder__merge(m, p2), 0, "merge later profile first");
	ASSERT_EQ(pprof_builder__merge(m, p1), 0, "merge earlier profile");
	out = reread(m);

	/* The two differ in values only: each sample of one is summed into the other's. */
	ASSERT_EQ(out->n_sample, 4, "equal samples summed into one");
	/* py_other's location is in no sample: merge only carries what samples reach. */
	ASSERT_EQ(out->n_location, 5, "referenced locations re-interned once");
	ASSERT_EQ(out->n_function, 4, "referenced functions re-interned once");
	ASSERT_TRUE(!has_function(out, "py_other"), "unreferenced function dropped");
	ASSERT_EQ(out->n_mapping, 2, "mappings re-interned");
	ASSERT_EQ(leaf_total(out, "inlined_helper", 0), 33, "samples summed");
	ASSERT_EQ(leaf_total(out, "inlined_helper", 1), 33 * T_PERIOD, "cpu summed");
	ASSERT_EQ(leaf_total(out, "do_syscall_64", 1), 11 * T_PERIOD, "kernel summed");
	ASSERT_EQ(leaf_total(out, "py_work", 0), 22, "address-0 location summed");
	ASSERT_EQ(out->time_nanos, T_TIME, "earliest start");
	ASSERT_EQ(out->duration_nanos, 7000000000LL, "span of both");
	ASSERT_EQ(out->n_sample_type, 2, "sample types taken from first");
	ASSERT_STR(pprof__str(out, out->sample_type[1]->type), "cpu", "type");
	ASSERT_STR(pprof__str(out, out->default_sample_type), "cpu", "default type");
	ASSERT_EQ(out->period, T_PERIOD, "period");
	ASSERT_TRUE(out->period_type, "period type");
	ASSERT_EQ(out->n_comment, 2, "comments once each");
	ASSERT_EQ(out->sample[0]->n_label, 2, "labels kept");
	ASSERT_STR(pprof__str(out, out->sample[0]->label[1]->str), "smolder_test", "label");

	pprof__profile_free(out);
	pprof__profile_free(p1);
	pprof__profile_free(p2);
	pprof_builder__free(m);
	pprof_builder__free(b1);
	pprof_builder__free(b2);
}

/* Keeps samples whose "pid" label is the number in ctx. */
static bool keep_pid(const pprof_profile_t *p, const Perftools__Profiles__Sample *s, void *ctx)
{
	size_t i;

	for (i = 0; i < s->n_label; i++) {
		if (!strcmp(pprof__str(p, s->label[i]->key), "pid"))
			return s->label[i]->num == *(const int64_t *)ctx;
	}
	return false;
}

/*
 * A day of one process's windows: merging a window 1,000 times keeps its
 * sample count and multiplies its values, filtered merges included.
 */
static void test_merge_repeated(void **state)
{
	struct pprof_builder *b, *m;
	pprof_profile_t *p, *out;
	int64_t pid = 42;
	int i;

	b = build_reference(T_TIME, 1);
	p = reread(b);
	m = pprof_builder__new();
	ASSERT_TRUE(m, "merge builder");
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(pprof_builder__merge(m, p), 0, "merge window");
	ASSERT_EQ(pprof_builder__merge_filtered(m, p, keep_pid, &pid), 0, "one more of pid 42");
	out = reread(m);
	ASSERT_EQ(out->n_sample, p->n_sample, "one sample per distinct stack and labels");
	ASSERT_EQ(leaf_total(out, "inlined_helper", 0), 3000 + 3, "values summed");
	ASSERT_EQ(leaf_total(out, "py_work", 0), 2000, "address-0 location summed");
	pprof__profile_free(out);
	pprof_builder__free(m);
	pprof__profile_free(p);
	pprof_builder__free(b);
}

static void test_merge_filtered(void **state)
{
	struct pprof_builder *b1, *m;
	pprof_profile_t *p1, *out;
	int64_t pid = 42;

	b1 = build_reference(T_TIME, 1);
	p1 = reread(b1);

	m = pprof_builder__new();
	ASSERT_TRUE(m, "builder");
	ASSERT_EQ(pprof_builder__merge_filtered(m, p1, keep_pid, &pid), 0, "filtered merge");
	out = reread(m);
	ASSERT_EQ(out->n_sample, 1, "only the pid 42 sample kept");
	ASSERT_EQ(out->sample[0]->value[0], 3, "its value");
	ASSERT_EQ(out->n_location, 2, "only locations kept samples reach");
	ASSERT_TRUE(!has_function(out, "py_work"), "frames of dropped samples not interned");
	ASSERT_EQ(out->time_nanos, T_TIME, "time span merged");
	pprof__profile_free(out);
	pprof_builder__free(m);

	/* Nothing kept: header and time still merged, and a later merge still checks types. */
	pid = 7;
	m = pprof_builder__new();
	ASSERT_TRUE(m, "builder");
	ASSERT_EQ(pprof_builder__merge_filtered(m, p1, keep_pid, &pid), 0, "merge keeping none");
	out = reread(m);
	ASSERT_EQ(out->n_sample, 0, "no sample");
	ASSERT_EQ(out->n_sample_type, 2, "sample types taken");
	ASSERT_EQ(out->time_nanos, T_TIME, "time taken");
	pprof__profile_free(out);
	/* A NULL filter is pprof_builder__merge(). */
	ASSERT_EQ(pprof_builder__merge_filtered(m, p1, NULL, NULL), 0, "unfiltered merge");
	out = reread(m);
	ASSERT_EQ(out->n_sample, 4, "every sample");
	pprof__profile_free(out);
	pprof_builder__free(m);

	pprof__profile_free(p1);
	pprof_builder__free(b1);
}

static void test_merge_type_mismatch(void **state)
{
	const struct pprof_value_type wall = {"wall", "nanoseconds"};
	struct pprof_builder *b1, *b2, *m;
	pprof_profile_t *p1, *p2, *out;

	b1 = build_reference(T_TIME, 1);
	b2 = pprof_builder__new();
	ASSERT_TRUE(b2, "builder");
	ASSERT_EQ(pprof_builder__add_sample_type(b2, &vt_samples), 0, "type");
	ASSERT_EQ(pprof_builder__add_sample_type(b2, &wall), 0, "type");
	p1 = reread(b1);
	p2 = reread(b2);

	m = pprof_builder__new();
	ASSERT_TRUE(m, "builder");
	ASSERT_EQ(pprof_builder__merge(m, p1), 0, "first merge");
	ASSERT_EQ(pprof_builder__merge(m, p2), -EINVAL, "different sample types");
	out = reread(m);
	ASSERT_EQ(out->n_sample, 4, "builder untouched by the refused merge");
	pprof__profile_free(out);

	pprof__profile_free(p1);
	pprof__profile_free(p2);
	pprof_builder__free(m);
	pprof_builder__free(b1);
	pprof_builder__free(b2);
}

static void fixture_path(char *buf, size_t size, const char *name)
{
	const char *src = getenv("SMOLDER_SRC");

	snprintf(buf, size, "%s/tests/data/%s", src && *src ? src : ".", name);
}

static void test_go_fixture(void **state)
{
	struct pprof_builder *m;
	pprof_profile_t *p = NULL, *out;
	char path[PATH_MAX];

	fixture_path(path, sizeof(path), "go-cpu.pb.gz");
	ASSERT_EQ(pprof__read_file(path, &p), 0, "read Go runtime/pprof output");
	check_invariants(p);
	ASSERT_TRUE(has_function(p, "main.burnAlpha"), "main.burnAlpha present");
	ASSERT_TRUE(has_function(p, "main.burnBeta"), "main.burnBeta present");
	ASSERT_EQ(p->n_sample_type, 2, "Go CPU profiles have two sample types");
	ASSERT_STR(pprof__str(p, p->sample_type[0]->type), "samples", "Go type 0");
	ASSERT_STR(pprof__str(p, p->sample_type[1]->type), "cpu", "Go type 1");
	ASSERT_TRUE(p->n_sample > 0, "Go samples");
	ASSERT_TRUE(p->time_nanos > 0, "Go start time");

	m = pprof_builder__new();
	ASSERT_TRUE(m, "builder");
	ASSERT_EQ(pprof_builder__merge(m, p), 0, "merge Go profile");
	out = reread(m);
	ASSERT_EQ(out->n_sample, p->n_sample, "samples kept");
	ASSERT_TRUE(has_function(out, "main.burnAlpha"), "merged function");
	pprof__profile_free(out);
	pprof_builder__free(m);
	pprof__profile_free(p);
}

static bool go_on_path(void)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX], *dirs, *dir, *save = NULL;
	bool found = false;

	if (!path)
		return false;
	dirs = strdup(path);
	if (!dirs)
		return false;
	for (dir = strtok_r(dirs, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/go", dir);
		found = !access(buf, X_OK);
	}
	free(dirs);
	return found;
}

/* Runs `go tool pprof -raw path`: it must exit 0 and mention needle. */
static void check_go_pprof_raw(const char *dir, const char *path, const char *needle)
{
	char cmd[1200], line[4096];
	bool mentioned = false;
	FILE *f;
	int status;

	/* pprof wants a writable HOME; keep its files inside the temp dir. */
	snprintf(cmd, sizeof(cmd), "HOME='%s' PPROF_TMPDIR='%s' go tool pprof -raw '%s' 2>&1", dir,
		 dir, path);
	f = popen(cmd, "r");
	ASSERT_TRUE(f, "popen go tool pprof");
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, needle))
			mentioned = true;
	}
	status = pclose(f);
	ASSERT_TRUE(WIFEXITED(status), "go tool pprof exited");
	ASSERT_EQ(WEXITSTATUS(status), 0, "go tool pprof exit status");
	ASSERT_TRUE(mentioned, "go tool pprof -raw names our function");
}

static void test_go_tool_pprof(void **state)
{
	char dir[256], path[320], fixture[PATH_MAX], cmd[400];
	struct pprof_builder *b;
	pprof_profile_t *p = NULL;

	if (!go_on_path()) {
		print_message("go not on PATH: skipping the go tool pprof check\n");
		skip();
	}
	make_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/smolder.pb.gz", dir);
	b = build_reference(T_TIME, 1);
	ASSERT_EQ(pprof_builder__write_file(b, path, 0600), 0, "write_file");
	pprof_builder__free(b);
	check_go_pprof_raw(dir, path, "inlined_helper");

	/* What merge writes must satisfy Go's validator too. */
	fixture_path(fixture, sizeof(fixture), "go-cpu.pb.gz");
	ASSERT_EQ(pprof__read_file(fixture, &p), 0, "read Go fixture");
	b = build_reference(T_TIME, 1);
	ASSERT_EQ(pprof_builder__merge(b, p), 0, "merge Go fixture into ours");
	pprof__profile_free(p);
	snprintf(path, sizeof(path), "%s/merged.pb.gz", dir);
	ASSERT_EQ(pprof_builder__write_file(b, path, 0600), 0, "write merged");
	pprof_builder__free(b);
	check_go_pprof_raw(dir, path, "main.burnBeta");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0, "cleanup");
}

/* Starts a gzip stream (level 9) into out[0..cap). */
static void gzip_begin(z_stream *zs, uint8_t *out, size_t cap)
{
	memset(zs, 0, sizeof(*zs));
	ASSERT_EQ(deflateInit2(zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK, "deflate");
	zs->next_out = out;
	zs->avail_out = (uInt)cap;
}

/* Concatenated gzip members inflating to more than the limit give -EFBIG. */
static void test_read_size_limits(void **state)
{
	const size_t member_raw = (size_t)1 << 20;
	const size_t members = (PPROF_READ_MAX_SIZE / member_raw) + 1;
	char dir[256], path[320];
	uint8_t *zeros, *member, *bomb;
	pprof_profile_t *p = NULL;
	size_t member_len, i;
	z_stream zs;
	int fd;

	zeros = calloc(1, member_raw);
	member = malloc(member_raw);
	ASSERT_TRUE(zeros && member, "malloc");
	gzip_begin(&zs, member, member_raw);
	zs.next_in = zeros;
	zs.avail_in = (uInt)member_raw;
	ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END, "deflate finish");
	member_len = zs.total_out;
	deflateEnd(&zs);
	bomb = malloc(member_len * members);
	ASSERT_TRUE(bomb, "malloc");
	for (i = 0; i < members; i++)
		memcpy(bomb + i * member_len, member, member_len);
	ASSERT_EQ(pprof__read_mem(bomb, member_len * members, &p), -EFBIG, "gzip bomb refused");
	ASSERT_TRUE(!p, "nothing returned");
	free(bomb);
	free(member);
	free(zeros);

	/* A sparse plain file past the limit is refused before it is read. */
	make_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/huge.pb", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ASSERT_TRUE(fd >= 0, "create sparse file");
	ASSERT_EQ(ftruncate(fd, (off_t)PPROF_READ_MAX_SIZE + 1), 0, "ftruncate");
	close(fd);
	ASSERT_EQ(pprof__read_file(path, &p), -EFBIG, "oversized file refused");
	unlink(path);
	rmdir(dir);
}

/*
 * Peak memory of this process: reset_peak() starts a new peak (writing 5 to
 * /proc/self/clear_refs resets VmHWM), peak_bytes() reads it. Under ASan the
 * allocator's redzones and quarantine make the numbers meaningless, so the
 * bounds are only checked in plain builds.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PEAK_CHECKED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEAK_CHECKED 0
#endif
#endif
#ifndef PEAK_CHECKED
#define PEAK_CHECKED 1
#endif

static bool reset_peak(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok;
}

static size_t peak_bytes(void)
{
	char line[256];
	size_t kb = 0;
	FILE *f = fopen("/proc/self/status", "re");

	ASSERT_TRUE(f, "open /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

static void check_peak_below(size_t start, size_t limit, const char *name)
{
	size_t grown = peak_bytes() - start;

	if (!PEAK_CHECKED)
		return;
	if (grown >= limit)
		print_error("%s: peak grew by %zu MiB, limit %zu MiB\n", name, grown >> 20,
			    limit >> 20);
	ASSERT_TRUE(grown < limit, name);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Appends the protobuf varint of v to buf at *len. */
static void put_varint(uint8_t *buf, size_t *len, uint64_t v)
{
	while (v >= 0x80) {
		buf[(*len)++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	buf[(*len)++] = (uint8_t)v;
}

/*
 * The gzip of a profile of raw bytes: a string table of "" and one string of
 * zero bytes, about a thousandth of that compressed. Deflated from one 1 MiB
 * buffer, so building it costs little.
 */
static uint8_t *gzip_zero_string(size_t raw, size_t *ret_len)
{
	const size_t chunk = (size_t)1 << 20;
	uint8_t head[16], *zeros, *out;
	size_t head_len = 0, n = raw - 4, left, cap = raw / 256 + (1 << 16);
	z_stream zs;

	/* raw = 2 ("" entry) + 1 (tag) + the varint of n + n. */
	while (3 + varint_len(n) + n > raw)
		n--;
	left = n;

	head[head_len++] = 0x32; /* field 6, string_table: "" */
	head[head_len++] = 0;
	head[head_len++] = 0x32;
	put_varint(head, &head_len, n);
	zeros = calloc(1, chunk);
	out = malloc(cap);
	ASSERT_TRUE(zeros && out, "malloc");
	gzip_begin(&zs, out, cap);
	zs.next_in = head;
	zs.avail_in = (uInt)head_len;
	ASSERT_EQ(deflate(&zs, Z_NO_FLUSH), Z_OK, "deflate head");
	while (left) {
		size_t step = left < chunk ? left : chunk;

		zs.next_in = zeros;
		zs.avail_in = (uInt)step;
		ASSERT_EQ(deflate(&zs, Z_NO_FLUSH), Z_OK, "deflate zeros");
		ASSERT_TRUE(zs.avail_out > 0, "gzip buffer large enough");
		left -= step;
	}
	ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END, "deflate finish");
	ASSERT_EQ(zs.total_in, raw, "raw size");
	*ret_len = zs.total_out;
	deflateEnd(&zs);
	free(zeros);
	return out;
}

/*
 * The inflated cap: a protobuf of PPROF_READ_MAX_SIZE bytes is read, one
 * byte more is -EFBIG, and a 600 MiB bomb (600 KB of gzip) is refused having
 * grown the process by less than 96 MiB (it once took 512 MiB before a
 * refusal, and a bomb just under that then decoded into 2 GiB).
 */
static void test_read_inflate_cap(void **state)
{
	pprof_profile_t *p = NULL;
	uint8_t *gz;
	size_t gz_len, start;
	bool peak_ok;
	int err;

	gz = gzip_zero_string((size_t)600 << 20, &gz_len);
	peak_ok = reset_peak();
	ASSERT_TRUE(peak_ok || !PEAK_CHECKED, "reset the peak through /proc/self/clear_refs");
	start = peak_bytes();
	ASSERT_EQ(pprof__read_mem(gz, gz_len, &p), -EFBIG, "600 MiB bomb refused");
	ASSERT_TRUE(!p, "nothing returned");
	check_peak_below(start, (size_t)96 << 20, "bomb's peak");
	free(gz);

	gz = gzip_zero_string(PPROF_READ_MAX_SIZE + 1, &gz_len);
	ASSERT_EQ(pprof__read_mem(gz, gz_len, &p), -EFBIG, "cap + 1 refused");
	free(gz);
	gz = gzip_zero_string(PPROF_READ_MAX_SIZE, &gz_len);
	err = pprof__read_mem(gz, gz_len, &p);
	ASSERT_TRUE(err != -EFBIG, "the cap itself is not too big");
	pprof__profile_free(p);
	free(gz);
}

/*
 * The decoded cap: 10 million empty samples (20 MB of protobuf) unpack into
 * ~800 MB of protobuf-c messages, past PPROF_DECODE_MAX_SIZE: refused with
 * -EFBIG, having grown the process by less than 768 MiB (it once decoded
 * them all).
 */
static void test_read_decode_cap(void **state)
{
	const size_t nr = 10u << 20;
	pprof_profile_t *p = NULL;
	size_t len = 0, i, start;
	uint8_t *buf = malloc(2 * nr + 2);

	ASSERT_TRUE(buf, "malloc");
	buf[len++] = 0x32; /* string_table: "" */
	buf[len++] = 0;
	for (i = 0; i < nr; i++) {
		buf[len++] = 0x12; /* field 2, sample, empty */
		buf[len++] = 0;
	}
	reset_peak();
	start = peak_bytes();
	ASSERT_EQ(pprof__read_mem(buf, len, &p), -EFBIG, "decoding past the cap refused");
	ASSERT_TRUE(!p, "nothing returned");
	/* malloc's own headers come on top of what protobuf-c asks for. */
	check_peak_below(start, (size_t)768 << 20, "decoding's peak");
	free(buf);
}

/*
 * protobuf-c allocates per element present, not per length claimed: a
 * 30-byte profile whose sample claims a 1 GiB packed location list is
 * -EBADMSG at once, and so is one claiming a 1 GiB string.
 */
static void test_read_claimed_lengths(void **state)
{
	pprof_profile_t *p = NULL;
	uint8_t buf[64];
	size_t len = 0, start;

	buf[len++] = 0x32;
	buf[len++] = 0;
	buf[len++] = 0x12; /* sample of 7 bytes: location_id (packed) claiming 1 GiB */
	buf[len++] = 7;
	buf[len++] = 0x0a;
	put_varint(buf, &len, (uint64_t)1 << 30);
	buf[len++] = 1;
	buf[len++] = 2;
	reset_peak();
	start = peak_bytes();
	ASSERT_EQ(pprof__read_mem(buf, len, &p), -EBADMSG, "claimed packed length refused");
	len = 0;
	buf[len++] = 0x32;
	put_varint(buf, &len, (uint64_t)1 << 30);
	buf[len++] = 'x';
	ASSERT_EQ(pprof__read_mem(buf, len, &p), -EBADMSG, "claimed string length refused");
	ASSERT_TRUE(!p, "nothing returned");
	check_peak_below(start, (size_t)1 << 20, "claimed lengths' peak");
}

/* 100k locations, 1M samples: interning must stay linear. */
static void test_scale(void **state)
{
	const size_t nr_locs = 100000, nr_samples = 1000000;
	struct pprof_line_desc line = {.filename = "gen.c"};
	struct pprof_mapping_desc map = {.memory_start = 0x1000, .memory_limit = 0x100000000ULL};
	struct pprof_builder *b;
	pprof_profile_t *p;
	char name[32];
	uint64_t stack[4];
	int64_t id, mapping, value = 1;
	size_t i, j;

	b = pprof_builder__new();
	ASSERT_TRUE(b, "builder");
	ASSERT_EQ(pprof_builder__add_sample_type(b, &vt_samples), 0, "type");
	mapping = pprof_builder__mapping(b, &map);
	ASSERT_EQ(mapping, 1, "mapping");
	for (i = 0; i < nr_locs; i++) {
		snprintf(name, sizeof(name), "fn_%zu", i / 2);
		line.name = name;
		line.line = (int64_t)i;
		id = pprof_builder__location(b, (uint64_t)mapping, 0x1000 + 16 * i, &line, 1);
		ASSERT_EQ(id, (int64_t)i + 1, "location id");
	}
	for (i = 0; i < nr_samples; i++) {
		for (j = 0; j < 4; j++)
			stack[j] = 1 + (i * 7919 + j * 104729) % nr_locs;
		ASSERT_EQ(pprof_builder__sample(b, stack, 4, &value, 1, NULL, 0), 0, "sample");
	}
	p = reread(b);
	ASSERT_EQ(p->n_sample, nr_samples, "samples");
	ASSERT_EQ(p->n_location, nr_locs, "locations");
	ASSERT_EQ(p->n_function, nr_locs / 2, "functions interned");
	pprof__profile_free(p);
	pprof_builder__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_pack_decode),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_write_read_roundtrip),
		cmocka_unit_test(test_pack_gzip),
		cmocka_unit_test(test_read_plain),
		cmocka_unit_test(test_read_rejects),
		cmocka_unit_test(test_renumber),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_repeated),
		cmocka_unit_test(test_merge_filtered),
		cmocka_unit_test(test_merge_type_mismatch),
		cmocka_unit_test(test_go_fixture),
		cmocka_unit_test(test_go_tool_pprof),
		cmocka_unit_test(test_read_size_limits),
		cmocka_unit_test(test_read_inflate_cap),
		cmocka_unit_test(test_read_decode_cap),
		cmocka_unit_test(test_read_claimed_lengths),
		cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests_name("pprof", tests, NULL, NULL);
}
