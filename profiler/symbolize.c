// SPDX-License-Identifier: MIT
/*
 * smolder symbolize: addresses to functions, file:line:column and inline
 * frames, printed the way llvm-symbolizer prints them by default, so the two
 * can be compared line by line: per frame (innermost first) a line with the
 * function and a line with file:line:column, "??" and "??:0:0" when unknown,
 * and an empty line after each address.
 *
 * Addresses are ELF virtual addresses of a file (--elf) or runtime addresses
 * of a live process (--pid: its /proc/PID/maps is read once, and again when
 * an address falls outside every mapping). They come from the command line
 * or, when there is none, one per line from stdin.
 *
 * Limits: a stdin line holds at most SYMBOLIZE_MAX_LINE bytes; a longer one
 * is read to its newline without being kept, answered "??" and warned about
 * by its line number, so memory stays flat whatever comes in (/dev/zero).
 * A bad address is echoed escaped and cut to SYMBOLIZE_ECHO_MAX bytes.
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
#include "log.h"
#include "symbolizer.h"
#include "textesc.h"
#include "vizcli.h"

#define PID_MAX_VALUE		4194304L /* the kernel's PID_MAX_LIMIT */
#define SYMBOLIZE_MAX_BYTES	(1ul << 30) /* symbolizer cache and inflated DWARF */
#define SYMBOLIZE_STDOUT_BUFFER (1u << 20) /* stdout buffer when reading addresses from a pipe */
#define SYMBOLIZE_MAX_LINE	4096 /* bytes of one stdin line, newline excluded */
#define SYMBOLIZE_ECHO_MAX	40 /* bytes of a bad address shown in its warning */

struct symbolize_opts {
	const char *elf;
	pid_t pid;
	bool no_inlines;
	const char *debug_root;
	char **addrs;
	int nr_addrs;
};

static const char symbolize_usage[] =
	"Usage: smolder symbolize (--elf FILE | --pid PID) [--no-inlines] [ADDR...]\n"
	"\n"
	"Prints, for each address, its function, file:line:column and inlined\n"
	"callers (innermost first, the physical function last) in llvm-symbolizer's\n"
	"default output style: two lines per frame, an empty line after each\n"
	"address, '\?\?' and '\?\?:0:0' where nothing is known. Debug info is read\n"
	"from the file, /usr/lib/debug (build-id, .gnu_debuglink) or debuginfod\n"
	"(when DEBUGINFOD_URLS is set).\n"
	"\n"
	"Addresses are hexadecimal (with or without 0x), as arguments or, when there\n"
	"are none, one per line on stdin.\n"
	"\n"
	"Options:\n"
	"  -e, --elf FILE        addresses are ELF virtual addresses of FILE\n"
	"  -p, --pid PID         addresses are runtime addresses in process PID\n"
	"  -n, --no-inlines      only the physical function of each address\n"
	"      --debug-root DIR  where separate debug files live (default /usr/lib/debug)\n"
	"  -h, --help            this text\n"
	"\n"
	"EXAMPLES:\n"
	"  smolder symbolize --elf /usr/bin/python3.11 0x4f0a60\n"
	"  smolder symbolize --pid 1234 7f3a12c45e10 7f3a12c46000\n"
	"  cut -d' ' -f1 addrs.txt | smolder symbolize --elf ./app --no-inlines\n";

static int parse_args(int argc, char **argv, struct symbolize_opts *o)
{
	static const struct option longopts[] = {
		{"elf", required_argument, NULL, 'e'},
		{"pid", required_argument, NULL, 'p'},
		{"no-inlines", no_argument, NULL, 'n'},
		{"debug-root", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	char *end;
	long v;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":e:p:nh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			o->elf = optarg;
			break;
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > PID_MAX_VALUE) {
				log_err("invalid pid '%s': expected a number from 1 to %ld", optarg,
					PID_MAX_VALUE);
				return 2;
			}
			o->pid = (pid_t)v;
			break;
		case 'n':
			o->no_inlines = true;
			break;
		case 'd':
			o->debug_root = optarg;
			break;
		case 'h':
			fputs(symbolize_usage, stdout);
			return 0;
		case ':':
			log_err("option '%s' needs a value; see 'smolder symbolize --help'",
				argv[optind - 1]);
			return 2;
		default:
			log_err("unknown option '%s'; see 'smolder symbolize --help'",
				argv[optind - 1]);
			return 2;
		}
	}
	if (!o->elf == !o->pid) {
		log_err("give exactly one of --elf FILE and --pid PID; see 'smolder symbolize --help'");
		return 2;
	}
	o->addrs = argv + optind;
	o->nr_addrs = argc - optind;
	return -1;
}

/* Hex with or without 0x, surrounding blanks allowed. Returns 0 or -EINVAL. */
static int parse_addr(const char *text, size_t len, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (memchr(text, '\0', len))
		return -EINVAL;
	while (*text == ' ' || *text == '\t')
		text++;
	if (!*text || *text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 16);
	if (errno || end == text)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (*end)
		return -EINVAL;
	*ret = (uint64_t)v;
	return 0;
}

struct symbolize_ctx {
	struct symbolizer *sym;
	const struct symbolize_opts *o;
	struct sym_maps maps;
	bool maps_read;
	bool maps_failed;
};

static void print_result(const struct sym_result *r)
{
	const struct sym_frame *f;
	unsigned int i;

	if (!r->nr_frames)
		fputs("??\n??:0:0\n", stdout);
	for (i = 0; i < r->nr_frames; i++) {
		f = &r->frames[i];
		/* One name line and one place line per frame, whatever the names hold. */
		textesc__fputs(stdout, f->name ? f->name : "??");
		putchar('\n');
		textesc__fputs(stdout, f->file ? f->file : "??");
		printf(":%" PRIu32 ":%" PRIu32 "\n", f->line, f->column);
	}
	putchar('\n');
}

static int maps_refresh(struct symbolize_ctx *c)
{
	int err;

	sym_maps__free(&c->maps);
	c->maps_read = true;
	err = sym_maps__read(c->o->pid, &c->maps);
	if (err && !c->maps_failed) {
		c->maps_failed = true;
		log_err("failed to read '/proc/%d/maps': %s", (int)c->o->pid, strerror(-err));
	}
	return err;
}

/*
 * The first SYMBOLIZE_ECHO_MAX bytes of text[0..len) for a message, escaped
 * as every outside text is (textesc), "..." when cut.
 */
static const char *echo_prefix(const char *text, size_t len, char *buf, size_t size)
{
	size_t n = len < SYMBOLIZE_ECHO_MAX ? len : SYMBOLIZE_ECHO_MAX, used;

	textesc__mem(text, n, buf, size);
	used = strlen(buf);
	if (n < len && used + 4 <= size)
		memcpy(buf + used, "...", 4);
	return buf;
}

/* Symbolizes one address (text[0..len)) and prints it. Only an unreadable process fails. */
static int symbolize_one(struct symbolize_ctx *c, const char *text, size_t len)
{
	const struct sym_map_entry *m = NULL;
	char echo[TEXTESC_MAX_PER_BYTE * SYMBOLIZE_ECHO_MAX + 8];
	struct sym_result r;
	uint64_t addr;
	int err;

	memset(&r, 0, sizeof(r));
	if (parse_addr(text, len, &addr)) {
		log_warn("invalid address '%s': expected hexadecimal, ignoring",
			 echo_prefix(text, len, echo, sizeof(echo)));
		print_result(&r);
		return 0;
	}
	if (c->o->elf) {
		err = symbolizer__elf(c->sym, c->o->elf, addr, &r);
		if (err) {
			log_err("failed to read '%s': %s", c->o->elf, strerror(-err));
			return err;
		}
		print_result(&r);
		return 0;
	}
	if (!c->maps_read && maps_refresh(c))
		return -ESRCH;
	m = sym_maps__find(&c->maps, addr);
	if (!m) {
		if (maps_refresh(c))
			return -ESRCH;
		m = sym_maps__find(&c->maps, addr);
	}
	if (m)
		symbolizer__user(c->sym, c->o->pid, m, addr, &r);
	print_result(&r);
	return 0;
}

/*
 * Reads one line of f into buf (SYMBOLIZE_MAX_LINE + 1 bytes), without its
 * newline. Returns its length, -1 at the end of the input, or -E2BIG for a
 * longer line: the rest of it is read up to its newline and dropped.
 */
static ssize_t read_line(FILE *f, char *buf)
{
	bool too_long = false;
	size_t len = 0;
	int ch;

	while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
		if (len < SYMBOLIZE_MAX_LINE)
			buf[len++] = (char)ch;
		else
			too_long = true;
	}
	buf[len] = '\0';
	if (ch == EOF && !len)
		return -1;
	return too_long ? -E2BIG : (ssize_t)len;
}

int cmd_symbolize(int argc, char **argv)
{
	struct symbolize_opts o = {0};
	struct symbolizer_opts so = {0};
	struct symbolize_ctx c = {.o = &o};
	char line[SYMBOLIZE_MAX_LINE + 1];
	struct sym_result unknown = {0};
	size_t lineno;
	bool interactive;
	ssize_t len;
	int i, ret;

	ret = parse_args(argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = 1;
	if (o.elf && vizcli__check_input(o.elf, "an ELF file"))
		return ret;
	so.no_inlines = o.no_inlines;
	so.debug_root = o.debug_root;
	so.log = log_symbolizer;
	/*
	 * One file, one run, like llvm-symbolizer: its whole DWARF may be held
	 * (python3.11-dbg's sections inflate to 21 MiB, past the agent's caps).
	 */
	so.max_bytes = SYMBOLIZE_MAX_BYTES;
	so.max_inflate_bytes = SYMBOLIZE_MAX_BYTES;
	c.sym = symbolizer__new(&so);
	if (!c.sym) {
		log_err("failed to set up the symbolizer: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < o.nr_addrs; i++) {
		if (symbolize_one(&c, o.addrs[i], strlen(o.addrs[i])))
			goto out;
	}
	if (!o.nr_addrs) {
		interactive = isatty(STDIN_FILENO);
		/* Batches (a pipe, a file) are written in large blocks, not line by line. */
		if (!interactive)
			setvbuf(stdout, NULL, _IOFBF, SYMBOLIZE_STDOUT_BUFFER);
		for (lineno = 1; (len = read_line(stdin, line)) != -1; lineno++) {
			if (len == -E2BIG) {
				/* Still one answer per line, so outputs stay aligned with inputs. */
				log_warn("line %zu of the input is longer than %d bytes, ignoring",
					 lineno, SYMBOLIZE_MAX_LINE);
				print_result(&unknown);
			} else if (symbolize_one(&c, line, (size_t)len)) {
				goto out;
			}
			if (interactive)
				fflush(stdout);
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		log_err("failed to write the output: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	sym_maps__free(&c.maps);
	symbolizer__free(c.sym);
	return ret;
}
