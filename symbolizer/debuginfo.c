// SPDX-License-Identifier: MIT
/*
 * Finding the separate debug file of an ELF file, and demangling.
 *
 * Search order (the binary itself and debuginfod are the symbolizer's):
 * 1. by build-id: DEBUG_ROOT/.build-id/xx/rest.debug, where xx is the
 *    first byte in hex; the candidate's own build-id must match;
 * 2. by .gnu_debuglink NAME (the whole file's CRC-32 must match):
 *    DIR/NAME, DIR/.debug/NAME, DEBUG_ROOT/DIR/NAME, DIR being the
 *    directory of the binary.
 * For a process, every path is opened under its /proc/PID/root with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), as the binary is, so a
 * container's debug files are its own; the host's build-id path is tried
 * last when asked (a build-id names the same contents everywhere).
 * Candidates must be regular files and ELF; nothing here keeps an fd.
 *
 * Size cap: a debug file is CRC-checked and later read (mapped by libdw)
 * whole, so one named by a local user could cost seconds of CPU (a 4,000 MB
 * sparse file: 10 s of CRC). A candidate larger than
 * sym_debuginfo__max_bytes() of its binary (SYM_DEBUG_SIZE_RATIO times the
 * binary's size, at least SYM_DEBUG_MIN_BYTES, at most SYM_DEBUG_MAX_BYTES)
 * is refused after one fstat(), before anything is read, and counted.
 */
#define _GNU_SOURCE
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <libiberty/demangle.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "symbolizer_internal.h"

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
#define CRC_CHUNK  (1u << 20)

uint64_t sym_debuginfo__max_bytes(uint64_t binary_bytes)
{
	uint64_t max = binary_bytes > SYM_DEBUG_MAX_BYTES / SYM_DEBUG_SIZE_RATIO ?
			       SYM_DEBUG_MAX_BYTES :
			       binary_bytes * SYM_DEBUG_SIZE_RATIO;

	return max < SYM_DEBUG_MIN_BYTES ? SYM_DEBUG_MIN_BYTES : max;
}

/* A regular file of at most max_bytes (-EFBIG past it, nothing read), opened without blocking. */
static int open_under(int root_fd, const char *path, uint64_t max_bytes)
{
	struct open_how how = {
		.flags = OPEN_FLAGS,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd;

	if (root_fd < 0)
		fd = open(path, OPEN_FLAGS);
	else
		fd = (int)syscall(SYS_openat2, root_fd, path[0] == '/' ? path + 1 : path, &how,
				  sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		close(fd);
		return -EFBIG;
	}
	return fd;
}

/* Whether fd is an ELF file whose GNU build-id is id (any ELF when len is 0). */
static bool build_id_matches(int fd, const uint8_t *id, size_t len)
{
	const void *got = NULL;
	ssize_t got_len;
	bool ok = false;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	if (!len) {
		ok = true;
		goto out;
	}
	got_len = dwelf_elf_gnu_build_id(elf, &got);
	ok = got_len == (ssize_t)len && !memcmp(got, id, len);
out:
	elf_end(elf);
	return ok;
}

int sym_debuginfo__crc32(int fd, uint64_t max_bytes, uint32_t *ret)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	unsigned char *buf;
	off_t pos = 0;
	ssize_t n;
	int err = 0;

	buf = malloc(CRC_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = pread(fd, buf, CRC_CHUNK, pos);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!n)
			break;
		crc = crc32(crc, buf, (uInt)n);
		pos += n;
		/* The file may grow while it is read: the cap holds all the same. */
		if ((uint64_t)pos > max_bytes) {
			err = -EFBIG;
			goto out;
		}
	}
	*ret = (uint32_t)crc;
out:
	free(buf);
	return err;
}

static int try_build_id(int root_fd, const struct sym_debug_query *q, const struct sym_elf_file *f,
			struct sym_debug_refusals *refused)
{
	char path[4096];
	size_t n;
	int fd;

	n = (size_t)snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", q->debug_root,
			     f->build_id_hex, f->build_id_hex + 2);
	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open_under(root_fd, path, sym_debuginfo__max_bytes(q->binary_bytes));
	if (fd == -EFBIG)
		refused->too_large++;
	if (fd < 0)
		return fd;
	if (!build_id_matches(fd, f->build_id, f->build_id_len)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static int try_debuglink(const struct sym_debug_query *q, const char *path,
			 const struct sym_elf_file *f, struct sym_debug_refusals *refused)
{
	uint64_t max_bytes = sym_debuginfo__max_bytes(q->binary_bytes);
	uint32_t crc;
	int fd;

	fd = open_under(q->root_fd, path, max_bytes);
	if (fd == -EFBIG)
		refused->too_large++;
	if (fd < 0)
		return fd;
	if (sym_debuginfo__crc32(fd, max_bytes, &crc) || crc != f->debuglink_crc ||
	    !build_id_matches(fd, NULL, 0)) {
		refused->crc_mismatches++;
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static int find_by_debuglink(const struct sym_debug_query *q, const struct sym_elf_file *f,
			     struct sym_debug_refusals *refused)
{
	char dir[4096], path[8192];
	const char *slash;
	size_t dlen;
	int fd = -ENOENT, i;

	if (!f->debuglink || strchr(f->debuglink, '/') || !q->binary_path ||
	    q->binary_path[0] != '/')
		return -ENOENT;
	slash = strrchr(q->binary_path, '/');
	dlen = (size_t)(slash - q->binary_path);
	if (dlen >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, q->binary_path, dlen);
	dir[dlen] = '\0';
	for (i = 0; i < 3; i++) {
		if (i == 0)
			snprintf(path, sizeof(path), "%s/%s", dir, f->debuglink);
		else if (i == 1)
			snprintf(path, sizeof(path), "%s/.debug/%s", dir, f->debuglink);
		else
			snprintf(path, sizeof(path), "%s%s/%s", q->debug_root, dir, f->debuglink);
		/* The binary itself may carry its own name as debuglink: it has no DWARF. */
		if (!strcmp(path, q->binary_path))
			continue;
		fd = try_debuglink(q, path, f, refused);
		if (fd >= 0 || fd == -ENOMEM)
			return fd;
	}
	return -ENOENT;
}

int sym_debuginfo__find(const struct sym_debug_query *q, const struct sym_elf_file *f, int *ret_fd,
			enum sym_debug_source *ret_source, struct sym_debug_refusals *ret_refused)
{
	struct sym_debug_refusals refused = {};
	int fd = -ENOENT;

	if (f->build_id_len) {
		fd = try_build_id(q->root_fd, q, f, &refused);
		if (fd >= 0) {
			*ret_source = SYM_DEBUG_BUILD_ID;
			goto out;
		}
	}
	fd = find_by_debuglink(q, f, &refused);
	if (fd >= 0) {
		*ret_source = SYM_DEBUG_DEBUGLINK;
		goto out;
	}
	if (f->build_id_len && q->root_fd >= 0 && q->host_build_id) {
		fd = try_build_id(-1, q, f, &refused);
		if (fd >= 0) {
			*ret_source = SYM_DEBUG_BUILD_ID;
			goto out;
		}
	}
	fd = -ENOENT;
out:
	*ret_refused = refused;
	if (fd < 0)
		return fd == -ENOMEM ? fd : -ENOENT;
	*ret_fd = fd;
	return 0;
}

char *sym_demangle(const char *name)
{
	static const char plt[] = "@plt";
	size_t len, plain_len;
	char *plain, *demangled = NULL, *with_plt;

	if (!name || name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	len = strlen(name);
	if (len < sizeof(plt) || strcmp(name + len - (sizeof(plt) - 1), plt))
		return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	/* A PLT stub (plt.c): the demangler knows no "@plt" suffix. */
	plain = strndup(name, len - (sizeof(plt) - 1));
	if (plain)
		demangled = cplus_demangle(plain, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	free(plain);
	if (!demangled)
		return NULL;
	plain_len = strlen(demangled);
	with_plt = realloc(demangled, plain_len + sizeof(plt));
	if (!with_plt) {
		free(demangled);
		return NULL;
	}
	memcpy(with_plt + plain_len, plt, sizeof(plt));
	return with_plt;
}
