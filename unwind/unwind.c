// SPDX-License-Identifier: MIT
/*
 * Stack walker and table cache.
 *
 * Walker: each step maps the frame's pc (the return address minus one for
 * caller frames, so that it falls inside the call instruction; the exact pc
 * for the leaf and for the frame a signal interrupted) to a table row, and
 * applies it: CFA from rsp or rbp, return address at CFA - 8, rbp from its
 * save slot. The signal trampoline's row reads rip, rsp and rbp from the
 * ucontext the kernel pushed. Where no table covers the pc, the rbp chain is
 * followed instead. Every stack read goes through stack_read(): below the
 * copy is a corrupt CFA, above it is truncation. The stack pointer must grow
 * at every non-signal step, so a walk over a finite copy ends; max_frames
 * bounds the rest (signal frames can move rsp anywhere, e.g. sigaltstack).
 * A Go stack switch (gostack.c) replaces the registers and the copy once,
 * with the goroutine's from the sample; without them the walk stops there.
 *
 * Cache: a chained hash table on the caller's key, plus a doubly linked LRU
 * list. Failed loads are remembered as entries without a table so a file
 * without CFI is not parsed again at every sample. Caps: entry count and
 * table bytes; the least recently used entries go first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unwind_internal.h"

/*
 * x86_64 signal frame (kernel struct rt_sigframe): the handler returns to
 * the restorer with rsp at the struct ucontext; its uc_mcontext.gregs start
 * 40 bytes in (after uc_flags, uc_link and the 24-byte uc_stack), in the
 * order of <sys/ucontext.h> REG_*.
 */
#define UNWIND_UC_GREGS_OFFSET 40
#define UNWIND_GREG_RBP	       10
#define UNWIND_GREG_RSP	       15
#define UNWIND_GREG_RIP	       16

#define UNWIND_CACHE_DEFAULT_TABLES 512
#define UNWIND_CACHE_DEFAULT_BYTES  (64UL << 20)

struct unwind_stack {
	const uint8_t *bytes;
	size_t len;
	uint64_t start; /* address of bytes[0] */
};

/* Reads 8 bytes at addr: 0, -ERANGE below the copy, -ENODATA beyond it. */
static int stack_read(const struct unwind_stack *s, uint64_t addr, uint64_t *ret)
{
	uint64_t off;

	if (addr < s->start)
		return -ERANGE;
	off = addr - s->start;
	if (off > s->len || s->len - off < sizeof(*ret))
		return -ENODATA;
	memcpy(ret, s->bytes + off, sizeof(*ret));
	return 0;
}

/* Turns a failed stack read into the walk's end. */
static void walk_read_failed(int err, struct unwind_result *res)
{
	if (err == -ENODATA) {
		res->status = UNWIND_TRUNCATED;
	} else {
		res->status = UNWIND_ERROR;
		res->error = UNWIND_ERR_BAD_CFA;
	}
}

static void walk_error(struct unwind_result *res, enum unwind_error error)
{
	res->status = UNWIND_ERROR;
	res->error = error;
}

int unwind__walk(const struct unwind_regs *regs, const void *stack, size_t stack_bytes,
		 unwind_find_fn find, void *find_ctx, unsigned int max_frames, uint64_t *ret_ips,
		 uint8_t *ret_flags, struct unwind_result *ret)
{
	return unwind__walk_go(regs, stack, stack_bytes, NULL, find, find_ctx, max_frames, ret_ips,
			       ret_flags, ret);
}

/*
 * A Go stack switch at a caller frame of kind: the walk goes on in the
 * goroutine's registers and stack copy. runtime.systemstack saves a fake pc
 * (systemstack_switch) and the sp of its own return address, so its caller
 * is read from there; mcall and morestack save their caller's pc and sp.
 * Returns 0, a stack_read() error, or -EINVAL when go cannot continue there.
 */
static int walk_go_switch(const struct unwind_go_stack *go, enum unwind_go_kind kind,
			  struct unwind_stack *s, uint64_t *rip, uint64_t *rsp, uint64_t *rbp)
{
	uint64_t ra;
	int err;

	*rbp = go->regs.rbp;
	if (go->vdso_call != (kind == UNWIND_GO_VDSO))
		return -EINVAL;
	/* g0's own registers: only the scheduler, called by mcall, runs from there. */
	if (!go->stack) {
		if (kind != UNWIND_GO_SWITCH_PC)
			return -EINVAL;
		*rip = go->regs.rip;
		*rsp = go->regs.rsp;
		return 0;
	}
	s->bytes = go->stack;
	s->len = go->stack_bytes;
	s->start = go->regs.rsp;
	if (kind != UNWIND_GO_SYSTEMSTACK) {
		/* nanotime1's vdsoSP and mcall's and morestack's sp are past the return address. */
		*rip = go->regs.rip;
		*rsp = go->regs.rsp;
		return 0;
	}
	err = stack_read(s, go->regs.rsp, &ra);
	if (err)
		return err;
	*rip = ra;
	*rsp = go->regs.rsp + 8;
	return 0;
}

int unwind__walk_go(const struct unwind_regs *regs, const void *stack, size_t stack_bytes,
		    const struct unwind_go_stack *go, unwind_find_fn find, void *find_ctx,
		    unsigned int max_frames, uint64_t *ret_ips, uint8_t *ret_flags,
		    struct unwind_result *ret)
{
	struct unwind_result res = {0};
	enum unwind_go_kind go_kind;
	bool switched = false;
	const struct unwind_row *row;
	struct unwind_stack s;
	struct unwind_mapping m;
	uint64_t rip, rsp, rbp, lookup_ip, cfa, ra, saved_rbp = 0, gregs;
	bool rbp_known = true, precise = true;
	int err;

	if (!regs || (!stack && stack_bytes) || !find || !ret_ips || !max_frames || !ret)
		return -EINVAL;
	s.bytes = stack;
	s.len = stack_bytes;
	s.start = regs->rsp;
	rip = regs->rip;
	rsp = regs->rsp;
	rbp = regs->rbp;

	for (;;) {
		if (res.nr_frames == max_frames) {
			walk_error(&res, UNWIND_ERR_TOO_DEEP);
			break;
		}
		if (ret_flags)
			ret_flags[res.nr_frames] = precise ? 0 : UNWIND_FRAME_RETURN_ADDRESS;
		ret_ips[res.nr_frames++] = rip;
		/* A return address is after the call; the call itself is what belongs to the caller. */
		lookup_ip = precise ? rip : rip - 1;
		memset(&m, 0, sizeof(m));
		err = find(find_ctx, lookup_ip, &m);
		if (err) {
			/* A return address outside any mapping is garbage: not reported. */
			if (err == -ENOENT && res.nr_frames > 1)
				res.nr_frames--;
			walk_error(&res,
				   err == -ENOENT ? UNWIND_ERR_NO_MAPPING : UNWIND_ERR_LOOKUP);
			break;
		}
		go_kind = m.table ? unwind_go__kind(m.table, lookup_ip - m.bias) : UNWIND_GO_NONE;
		if (go_kind == UNWIND_GO_TOP) {
			res.status = UNWIND_COMPLETE;
			break;
		}
		if (go_kind == UNWIND_GO_BEFORE_SWITCH)
			switched = true;
		/*
		 * A caller frame in a switching function is on g0, above the
		 * switch; the leaf may be on either side (then only go says
		 * which). Once switched, they are plain frames (the ABI
		 * wrappers of the goroutine's side). nanotime1 switches only
		 * when called on a goroutine: go from g.sched means g0 called it.
		 */
		if ((go_kind == UNWIND_GO_SYSTEMSTACK || go_kind == UNWIND_GO_SWITCH_PC ||
		     (go_kind == UNWIND_GO_VDSO && (!go || go->vdso_call))) &&
		    !switched && (go || !precise)) {
			if (!go) {
				walk_error(&res, UNWIND_ERR_GO_SWITCH);
				break;
			}
			switched = true;
			err = walk_go_switch(go, go_kind, &s, &rip, &rsp, &rbp);
			if (err == -EINVAL) {
				walk_error(&res, UNWIND_ERR_GO_SWITCH);
				break;
			}
			if (err) {
				walk_read_failed(err, &res);
				break;
			}
			rbp_known = true;
			precise = false;
			if (!rip) {
				res.status = UNWIND_COMPLETE;
				break;
			}
			continue;
		}
		row = m.table ? unwind_table__row(m.table, lookup_ip - m.bias) : NULL;
		/* nanotime1 realigns rsp for the vDSO: its CFI is off by that; its rbp is not. */
		if (!row || row->cfa == UNWIND_CFA_NONE || go_kind == UNWIND_GO_VDSO)
			goto frame_pointer;

		switch (row->cfa) {
		case UNWIND_CFA_RSP:
			cfa = rsp + (uint64_t)(int64_t)row->cfa_off;
			break;
		case UNWIND_CFA_RBP:
			if (!rbp_known) {
				walk_error(&res, UNWIND_ERR_BAD_CFA);
				goto out;
			}
			cfa = rbp + (uint64_t)(int64_t)row->cfa_off;
			break;
		case UNWIND_CFA_RBP_DEREF:
			if (!rbp_known) {
				walk_error(&res, UNWIND_ERR_BAD_CFA);
				goto out;
			}
			err = stack_read(&s, rbp + (uint64_t)(int64_t)row->cfa_off, &cfa);
			if (err) {
				walk_read_failed(err, &res);
				goto out;
			}
			break;
		case UNWIND_CFA_PLT:
			cfa = rsp + (uint64_t)(int64_t)row->cfa_off;
			if ((rip & 15) >= (uint64_t)row->rbp_off)
				cfa += 8;
			break;
		case UNWIND_CFA_SIGNAL:
			if (ret_flags)
				ret_flags[res.nr_frames - 1] = UNWIND_FRAME_SIGNAL;
			gregs = rsp + UNWIND_UC_GREGS_OFFSET;
			err = stack_read(&s, gregs + 8 * UNWIND_GREG_RIP, &rip);
			if (!err)
				err = stack_read(&s, gregs + 8 * UNWIND_GREG_RSP, &rsp);
			if (!err)
				err = stack_read(&s, gregs + 8 * UNWIND_GREG_RBP, &rbp);
			if (err) {
				walk_read_failed(err, &res);
				goto out;
			}
			/* The interrupted pc is exact, and every register is known again. */
			rbp_known = true;
			precise = true;
			res.nr_cfi_frames++;
			continue;
		case UNWIND_CFA_END:
			res.status = UNWIND_COMPLETE;
			goto out;
		default:
			walk_error(&res, UNWIND_ERR_UNSUPPORTED);
			goto out;
		}

		/* Read with the callee's rbp, before the CFA rule's result replaces anything. */
		if (row->rbp == UNWIND_RBP_AT_RBP) {
			if (!rbp_known) {
				walk_error(&res, UNWIND_ERR_BAD_CFA);
				break;
			}
			err = stack_read(&s, rbp + (uint64_t)(int64_t)row->rbp_off, &saved_rbp);
			if (err) {
				walk_read_failed(err, &res);
				break;
			}
		}
		if (cfa < rsp + 8) {
			walk_error(&res, UNWIND_ERR_NO_PROGRESS);
			break;
		}
		err = stack_read(&s, cfa - 8, &ra);
		if (err) {
			walk_read_failed(err, &res);
			break;
		}
		if (row->rbp == UNWIND_RBP_AT_CFA && cfa + (uint64_t)(int64_t)row->rbp_off < rsp) {
			/*
			 * The slot is below the stack pointer: an epilogue has
			 * popped it already (compilers do not restore the rule
			 * for epilogue pops), so the register holds the value.
			 */
		} else if (row->rbp == UNWIND_RBP_AT_CFA) {
			err = stack_read(&s, cfa + (uint64_t)(int64_t)row->rbp_off, &saved_rbp);
			if (err) {
				walk_read_failed(err, &res);
				break;
			}
			rbp = saved_rbp;
			rbp_known = true;
		} else if (row->rbp == UNWIND_RBP_AT_RBP) {
			rbp = saved_rbp;
		} else if (row->rbp == UNWIND_RBP_LOST) {
			rbp_known = false;
		}
		res.nr_cfi_frames++;
		goto next;

frame_pointer:
		/* Frame record: [rbp] = caller's rbp, [rbp + 8] = return address. */
		if (!rbp_known || (rbp & 7) || rbp < rsp) {
			walk_error(&res, UNWIND_ERR_BAD_FP);
			break;
		}
		err = stack_read(&s, rbp + 8, &ra);
		if (!err)
			err = stack_read(&s, rbp, &saved_rbp);
		if (err) {
			walk_read_failed(err, &res);
			break;
		}
		cfa = rbp + 16;
		rbp = saved_rbp;
		res.nr_fp_frames++;
next:
		/* psABI: a zero return address marks the outermost frame. */
		if (!ra) {
			res.status = UNWIND_COMPLETE;
			break;
		}
		rsp = cfa;
		rip = ra;
		precise = false;
	}
out:
	*ret = res;
	return 0;
}

const char *unwind__status_str(enum unwind_status status)
{
	switch (status) {
	case UNWIND_COMPLETE:
		return "complete";
	case UNWIND_TRUNCATED:
		return "truncated";
	case UNWIND_ERROR:
		return "error";
	}
	return "unknown";
}

const char *unwind__error_str(enum unwind_error error)
{
	switch (error) {
	case UNWIND_ERR_NONE:
		return "none";
	case UNWIND_ERR_NO_MAPPING:
		return "no mapping";
	case UNWIND_ERR_BAD_FP:
		return "no CFI and bad frame pointer";
	case UNWIND_ERR_UNSUPPORTED:
		return "unsupported CFI rule";
	case UNWIND_ERR_BAD_CFA:
		return "bad CFA";
	case UNWIND_ERR_NO_PROGRESS:
		return "no progress";
	case UNWIND_ERR_TOO_DEEP:
		return "too deep";
	case UNWIND_ERR_LOOKUP:
		return "mapping lookup failed";
	case UNWIND_ERR_GO_SWITCH:
		return "Go stack switch without the goroutine's stack";
	case UNWIND_ERR_MAX:
		break;
	}
	return "unknown";
}

static uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int unwind__bench_walk(const struct unwind_regs *regs, const void *stack, size_t stack_bytes,
		       unwind_find_fn find, void *find_ctx, unsigned int max_frames,
		       unsigned int iterations, double *ret_ns_per_walk)
{
	struct unwind_result res;
	uint64_t *ips = NULL, t0, t1;
	unsigned int i;
	int err = 0;

	if (!iterations || !max_frames || !ret_ns_per_walk)
		return -EINVAL;
	ips = calloc(max_frames, sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	t0 = bench_now_ns();
	for (i = 0; i < iterations && !err; i++)
		err = unwind__walk(regs, stack, stack_bytes, find, find_ctx, max_frames, ips, NULL,
				   &res);
	t1 = bench_now_ns();
	if (!err)
		*ret_ns_per_walk = (double)(t1 - t0) / iterations;
	free(ips);
	return err;
}

/* ---- Cache ---- */

struct unwind_cache_entry {
	struct unwind_cache_entry *hash_next;
	struct unwind_cache_entry *lru_prev; /* towards the most recently used */
	struct unwind_cache_entry *lru_next;
	struct unwind_table *table; /* NULL: the load failed */
	size_t bytes;
	uint64_t hash;
	size_t key_len;
	uint8_t key[UNWIND_KEY_MAX];
};

struct unwind_cache {
	struct unwind_cache_entry **buckets;
	size_t nr_buckets; /* a power of two */
	struct unwind_cache_entry *lru_head; /* most recently used */
	struct unwind_cache_entry *lru_tail;
	size_t max_tables;
	size_t max_bytes;
	struct unwind_cache_stats stats;
};

/* Keys are build-ids or stat fields: mixed 8 bytes at a time (this runs once per frame). */
static uint64_t cache_hash(const uint8_t *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, word;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&word, key + i, 8);
		h = (h ^ word) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return h;
}

static void cache_lru_unlink(struct unwind_cache *c, struct unwind_cache_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = NULL;
	e->lru_next = NULL;
}

static void cache_lru_push_head(struct unwind_cache *c, struct unwind_cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

static void cache_remove(struct unwind_cache *c, struct unwind_cache_entry *e)
{
	struct unwind_cache_entry **pp = &c->buckets[e->hash & (c->nr_buckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = e->hash_next;
	cache_lru_unlink(c, e);
	c->stats.nr_tables--;
	c->stats.bytes -= e->bytes;
	unwind_table__free(e->table);
	free(e);
}

struct unwind_cache *unwind_cache__new(const struct unwind_cache_opts *opts)
{
	struct unwind_cache *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		goto err_nomem;
	c->max_tables = opts && opts->max_tables ? opts->max_tables : UNWIND_CACHE_DEFAULT_TABLES;
	c->max_bytes = opts && opts->max_bytes ? opts->max_bytes : UNWIND_CACHE_DEFAULT_BYTES;
	c->nr_buckets = 16;
	while (c->nr_buckets < c->max_tables && c->nr_buckets < (1UL << 20))
		c->nr_buckets *= 2;
	c->buckets = calloc(c->nr_buckets, sizeof(*c->buckets));
	if (!c->buckets)
		goto err_free;
	return c;
err_free:
	unwind_cache__free(c);
err_nomem:
	errno = ENOMEM;
	return NULL;
}

void unwind_cache__free(struct unwind_cache *c)
{
	struct unwind_cache_entry *e, *next;

	if (!c)
		return;
	for (e = c->lru_head; e; e = next) {
		next = e->lru_next;
		unwind_table__free(e->table);
		free(e);
	}
	free(c->buckets);
	free(c);
}

int unwind_cache__get(struct unwind_cache *c, const void *key, size_t key_len, unwind_load_fn load,
		      void *load_ctx, const struct unwind_table **ret)
{
	struct unwind_table *table = NULL;
	struct unwind_cache_entry *e;
	uint64_t hash;
	size_t bytes = 0;
	int err;

	if (!c || !key || !key_len || key_len > UNWIND_KEY_MAX || !load || !ret)
		return -EINVAL;
	hash = cache_hash(key, key_len);
	for (e = c->buckets[hash & (c->nr_buckets - 1)]; e; e = e->hash_next) {
		if (e->hash == hash && e->key_len == key_len && !memcmp(e->key, key, key_len))
			break;
	}
	if (e) {
		c->stats.hits++;
		if (e != c->lru_head) {
			cache_lru_unlink(c, e);
			cache_lru_push_head(c, e);
		}
		if (!e->table)
			return -ENOENT;
		*ret = e->table;
		return 0;
	}

	c->stats.misses++;
	err = load(load_ctx, &table);
	if (err || !table) {
		table = NULL;
		c->stats.failures++;
	} else {
		bytes = unwind_table__bytes(table);
		/* A table alone over the cap would flush everything, every time. */
		if (bytes > c->max_bytes) {
			unwind_table__free(table);
			table = NULL;
			bytes = 0;
			c->stats.failures++;
		}
	}
	while (c->lru_tail &&
	       (c->stats.nr_tables + 1 > c->max_tables || c->stats.bytes + bytes > c->max_bytes)) {
		cache_remove(c, c->lru_tail);
		c->stats.evictions++;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		unwind_table__free(table);
		return -ENOMEM;
	}
	e->table = table;
	e->bytes = bytes;
	e->hash = hash;
	e->key_len = key_len;
	memcpy(e->key, key, key_len);
	e->hash_next = c->buckets[hash & (c->nr_buckets - 1)];
	c->buckets[hash & (c->nr_buckets - 1)] = e;
	cache_lru_push_head(c, e);
	c->stats.nr_tables++;
	c->stats.bytes += bytes;
	if (!table)
		return -ENOENT;
	*ret = table;
	return 0;
}

void unwind_cache__stats(const struct unwind_cache *c, struct unwind_cache_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (c)
		*ret = c->stats;
}
