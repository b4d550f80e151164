/* The table of answers in shared memory (proto/shtable.c): what the server
 * writes a job finds, under the same key only; what it clears or flushes
 * is gone; a table that is not sealed is refused, and a job cannot write
 * the one it maps; and a reader racing a writer in another process never
 * takes a torn slot. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shtable.h"

/* A LOOKUP upcall of name in the directory of fid word w. */
static void lookup(struct coda_msg *m, uint32_t w, const char *name)
{
	struct coda_caller me = {getpid(), getpgrp(), 1000};

	coda_msg_upcall(m, CODA_LOOKUP, &me);
	m->in.coda_lookup.VFid = (struct CodaFid){{w, w, w, w}};
	cr_assert_eq(coda_msg_put_string(m, &m->in.coda_lookup.name, name, strlen(name)), 0);
}

/* A GETATTR reply whose bytes after the header are all fill. */
static void reply(struct coda_msg *r, unsigned char fill)
{
	struct coda_in_hdr ih = {.opcode = CODA_GETATTR};

	coda_msg_reply(r, &ih, 0);
	memset(r->raw + sizeof(r->oh), fill, r->len - sizeof(r->oh));
}

static size_t key_of(const char *name, unsigned char key[SHTABLE_KEY_MAX])
{
	struct coda_msg m;

	lookup(&m, 7, name);
	return shtable_key(&m, 1000, key);
}

/* A writer's table and a reader's mapping of the same memfd. */
struct pair {
	struct shtable *w;
	const struct shtable *r;
	int fd;
};

static void pair_new(struct pair *p)
{
	p->fd = shtable_create(1000, &p->w);
	cr_assert_geq(p->fd, 0, "shtable_create: %s", strerror(-p->fd));
	cr_assert_eq(shtable_map(p->fd, &p->r), 0);
}

/* Writes the answer to name, filled with fill, into its set's first slot. */
static void keep(struct pair *p, const char *name, unsigned char fill)
{
	unsigned char key[SHTABLE_KEY_MAX];
	size_t klen = key_of(name, key);
	uint32_t hash = shtable_hash(key, klen);
	struct coda_msg r;

	reply(&r, fill);
	shtable_write(p->w, shtable_set(hash), hash, key, klen, &r);
}

static bool find(const struct pair *p, const char *name, struct coda_msg *out)
{
	unsigned char key[SHTABLE_KEY_MAX];
	size_t klen = key_of(name, key);

	return shtable_find(p->r, key, klen, out);
}

Test(shtable, reader_finds_what_the_writer_kept_under_its_key_only)
{
	struct coda_msg out, r;
	struct pair p;

	pair_new(&p);
	cr_assert_not(find(&p, "f.txt", &out));
	keep(&p, "f.txt", 0x5a);
	cr_assert(find(&p, "f.txt", &out));
	reply(&r, 0x5a);
	cr_assert_eq(out.len, r.len);
	cr_assert_eq(memcmp(out.raw, r.raw, r.len), 0);
	cr_assert_eq(out.fd, -1);
	cr_assert_not(find(&p, "g.txt", &out));
}

Test(shtable, key_names_the_connections_uid_unless_root)
{
	unsigned char a[SHTABLE_KEY_MAX], b[SHTABLE_KEY_MAX];
	struct coda_msg m;
	size_t la, lb;

	lookup(&m, 7, "f.txt");
	m.ih.uid = 0; /* what a job of uid 1000 wrote does not count */
	la = shtable_key(&m, 1000, a);
	m.ih.uid = 1000;
	lb = shtable_key(&m, 0, b);
	cr_assert(la && la == lb && !memcmp(a, b, la));
	m.ih.uid = 2000; /* root's connection: the caller's uid */
	lb = shtable_key(&m, 0, b);
	cr_assert(la == lb && memcmp(a, b, la));
	lookup(&m, 7, "..");
	cr_assert_eq(shtable_key(&m, 1000, a), 0);
}

Test(shtable, cleared_slot_and_flushed_table_are_empty)
{
	unsigned char key[SHTABLE_KEY_MAX];
	struct coda_msg out;
	struct pair p;

	pair_new(&p);
	keep(&p, "f.txt", 1);
	shtable_clear(p.w, shtable_set(shtable_hash(key, key_of("f.txt", key))));
	cr_assert_not(find(&p, "f.txt", &out));
	keep(&p, "f.txt", 1);
	keep(&p, "g.txt", 2);
	shtable_flush(p.w);
	cr_assert_not(find(&p, "f.txt", &out));
	cr_assert_not(find(&p, "g.txt", &out));
	keep(&p, "f.txt", 3);
	cr_assert(find(&p, "f.txt", &out));
}

Test(shtable, unsealed_memfd_is_refused)
{
	const struct shtable *t;
	int fd = memfd_create("plain", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, sizeof(struct shtable)), 0);
	cr_assert_eq(shtable_map(fd, &t), -EINVAL);
	close(fd);
}

Test(shtable, reader_cannot_write_the_table)
{
	struct pair p;

	pair_new(&p);
	cr_assert_eq(
	    mmap(NULL, sizeof(struct shtable), PROT_READ | PROT_WRITE, MAP_SHARED, p.fd, 0),
	    MAP_FAILED);
	cr_assert_neq(mprotect((void *)p.r, sizeof(struct shtable), PROT_READ | PROT_WRITE), 0);
	cr_assert_lt(write(p.fd, "x", 1), 0);
	cr_assert_neq(ftruncate(p.fd, 4096), 0);
}

/* A name long enough that a write of the slot takes a while. */
#define LONG_A                                                                                     \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaa"                                                                                      \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaa"
#define LONG_B                                                                                     \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
	"bbb"                                                                                      \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
	"bbb"

/* The writer, in a process of its own: one slot, rewritten without end,
 * in turn with A's key and an answer of fill n (below 0x80), and with B's
 * key, filed under A's hash as a collision would be, and fill n | 0x80. */
static void hammer(struct shtable *t)
{
	unsigned char a[SHTABLE_KEY_MAX], b[SHTABLE_KEY_MAX];
	size_t la = key_of(LONG_A, a), lb = key_of(LONG_B, b);
	uint32_t hash = shtable_hash(a, la), slot = shtable_set(hash);
	struct coda_msg r;

	for (unsigned n = 0;; n++) {
		reply(&r, n & 0x7f);
		shtable_write(t, slot, hash, a, la, &r);
		reply(&r, 0x80 | (n & 0x7f));
		shtable_write(t, slot, hash, b, lb, &r);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is out an answer the writer wrote for A, whole: one fill, below 0x80, in
 * every byte after the header? */
static bool whole_a(const struct coda_msg *out)
{
	unsigned char fill = (unsigned char)out->raw[sizeof(out->oh)];

	for (size_t k = sizeof(out->oh); k < out->len; k++)
		if ((unsigned char)out->raw[k] != fill)
			return false;
	return !(fill & 0x80);
}

Test(shtable, reader_never_takes_a_torn_slot_from_a_writer_in_another_process)
{
	unsigned long hits = 0, reads = 0, torn = 0;
	unsigned char key[SHTABLE_KEY_MAX];
	size_t klen = key_of(LONG_A, key);
	struct coda_msg out;
	struct pair p;
	int64_t end;
	pid_t pid;

	pair_new(&p);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		hammer(p.w);
	end = now_ms() + 1500;
	while (now_ms() < end) {
		for (int i = 0; i < 10000; i++, reads++) {
			if (!shtable_find(p.r, key, klen, &out))
				continue;
			hits++;
			torn += !whole_a(&out);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_log_info("%lu reads, %lu answers of A, %lu torn", reads, hits, torn);
	cr_assert_eq(torn, 0, "%lu torn answers in %lu", torn, hits);
	cr_assert_gt(hits, 0, "the reader never found A in %lu reads", reads);
}
