/* The venus channel of the Coda module (supervisor/coda/psdev.c).
 *
 * The module is linked as it is (libcoda), with nothing of the trap: the
 * test is its scheduler (struct coda_sched) and plays venus on the other end
 * of a channel pair (reads upcalls with chan_recv, writes replies and
 * downcalls with chan_send or a raw send) and the event loop by calling
 * psdev_readable() and psdev_expire() itself. Every upcall is made by a
 * caller of its own, a thread that runs only while the test hands it the
 * turn: it runs from its start until it sleeps in coda_upcall(), and from
 * its wake until it sleeps again or ends, so each step is deterministic. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "channel.h"
#include "coda/cache.h"
#include "coda/coda.h"
#include "coda/prefetch.h"
#include "coda/psdev.h"
#include "venus_dirent.h"

static struct coda_sb sb;
static int venus = -1; /* the test's end of the channel */

static const struct coda_caller caller = {.pid = 42, .pgid = 41, .uid = 1000};

/* ---- The scheduler: one turn, handed between the test and its callers ---- */

struct coda_waiter {
	pthread_t thread;
	sem_t turn;
	void (*fn)(struct coda_waiter *w, void *arg);
	void *arg;
};

static sem_t test_turn;
static int live_callers; /* started, not yet ended */

/* Runs w until it sleeps or ends. */
static void run_until_it_waits(struct coda_waiter *w)
{
	sem_post(&w->turn);
	sem_wait(&test_turn);
}

static void sleep_caller(struct coda_waiter *w)
{
	sem_post(&test_turn);
	sem_wait(&w->turn);
}

static void wake_later(struct coda_waiter *w)
{
	(void)w;
	cr_assert_fail("psdev never wakes a caller from a caller");
}

static struct coda_waiter *interrupted; /* the caller a signal has come for */

static bool is_interrupted(struct coda_waiter *w)
{
	return w == interrupted;
}

static int fixed_caller(struct coda_waiter *w, struct coda_caller *who)
{
	(void)w;
	*who = caller;
	return 0;
}

static void *caller_thread(void *arg)
{
	struct coda_waiter *w = arg;

	sem_wait(&w->turn);
	w->fn(w, w->arg);
	live_callers--;
	sem_post(&test_turn);
	return NULL;
}

/* A caller that has not run yet. */
static struct coda_waiter *new_caller(void (*fn)(struct coda_waiter *w, void *arg), void *arg)
{
	struct coda_waiter *w = calloc(1, sizeof(*w));

	cr_assert_not_null(w);
	w->fn = fn;
	w->arg = arg;
	sem_init(&w->turn, 0, 0);
	cr_assert_eq(pthread_create(&w->thread, NULL, caller_thread, w), 0);
	pthread_detach(w->thread);
	live_callers++;
	return w;
}

static int spawn_caller(void *ctx, void (*fn)(struct coda_waiter *w, void *arg), void *arg)
{
	(void)ctx;
	run_until_it_waits(new_caller(fn, arg));
	return 0;
}

static const struct coda_sched test_sched = {
    .sleep = sleep_caller,
    .wake = run_until_it_waits,
    .wake_later = wake_later,
    .interrupted = is_interrupted,
    .caller = fixed_caller,
    .spawn = spawn_caller,
};

static void setup(void)
{
	int fds[2];

	memset(&sb, 0, sizeof(sb));
	sem_init(&test_turn, 0, 0);
	cr_assert_eq(coda_sb_init(&sb, &test_sched), 0);
	coda_sb_mount(&sb, "/coda");
	cr_assert_eq(chan_pair(fds), 0);
	/* A long timeout: only the deadline test lowers it, so no other test
	 * depends on how fast it runs. */
	psdev_init(&sb.vc, fds[0], 30);
	venus = fds[1];
}

static void teardown(void)
{
	if (venus >= 0)
		close(venus);
	venus = -1;
	if (sb.vc.chan >= 0)
		close(sb.vc.chan);
	coda_sb_destroy(&sb);
}

TestSuite(psdev, .init = setup, .fini = teardown);

/* ---- Calls, each made by a caller of its own ---- */

struct call {
	struct coda_msg m; /* the upcall, then its reply */
	int rc;
	bool done;
};

static void call_fn(struct coda_waiter *w, void *arg)
{
	struct coda_req r = {.sb = &sb, .waiter = w};
	struct call *c = arg;

	c->rc = coda_upcall(&r, &c->m);
	c->done = true;
}

static struct CodaFid fid_of(uint32_t n)
{
	struct CodaFid f = {{0x7f000001u, n, n * 2654435761u, 0xc0dau}};

	return f;
}

/* Starts a caller making a GETATTR (or other fid-only) upcall for fid n. */
static struct call *start_call(uint32_t opcode, uint32_t n)
{
	struct call *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->rc = 1;
	coda_msg_upcall(&c->m, opcode, &caller);
	/* GETATTR, ACCESS and OPEN_BY_FD all carry the fid first. */
	c->m.in.coda_getattr.VFid = fid_of(n);
	cr_assert_eq(spawn_caller(NULL, call_fn, c), 0);
	return c;
}

/* Venus side: the next upcall on the channel, which must be there already. */
static void venus_recv(struct coda_msg *up)
{
	int rc = chan_recv(venus, up);

	cr_assert_eq(rc, 0, "venus expected an upcall, got %d", rc);
	cr_assert_geq(up->len, sizeof(struct coda_in_hdr));
	cr_assert_eq(up->fd, -1);
}

/* Venus side: receives the upcall of c, checks it is what c sent. */
static uint32_t venus_take(const struct call *c)
{
	struct coda_msg up;

	venus_recv(&up);
	cr_assert_eq(up.ih.opcode, c->m.ih.opcode);
	cr_assert_eq(up.ih.pid, caller.pid);
	cr_assert_eq(up.ih.uid, caller.uid);
	cr_assert_neq(up.ih.unique, 0);
	cr_assert_eq(up.len, coda_upcall_size(up.ih.opcode));
	cr_assert(coda_fid_eq(&up.in.coda_getattr.VFid, &c->m.in.coda_getattr.VFid));
	return up.ih.unique;
}

static void venus_send(const struct coda_msg *r)
{
	cr_assert_eq(chan_send(venus, r), 0);
}

/* A reply of `opcode` for `unique`: the opcode's fixed size, or just the
 * header for an error. */
static void make_reply(struct coda_msg *r, uint32_t opcode, uint32_t unique, int error)
{
	struct coda_in_hdr ih = {.opcode = opcode, .unique = unique};

	coda_msg_reply(r, &ih, error);
}

static void venus_getattr_reply(uint32_t unique, uint64_t size)
{
	struct coda_msg r;

	make_reply(&r, CODA_GETATTR, unique, 0);
	r.out.coda_getattr.attr.va_type = C_VREG;
	r.out.coda_getattr.attr.va_size = size;
	r.out.coda_getattr.attr.va_mode = 0644;
	venus_send(&r);
}

static void expect_getattr(const struct call *c, uint64_t size)
{
	cr_assert(c->done, "the caller is still waiting");
	cr_assert_eq(c->rc, 0, "rc %d", c->rc);
	cr_assert_eq(c->m.len, sizeof(struct coda_getattr_out));
	cr_assert_eq(c->m.oh.opcode, CODA_GETATTR);
	cr_assert_eq(c->m.out.coda_getattr.attr.va_size, size);
	cr_assert_eq(c->m.fd, -1);
}

/* A GETATTR whose good reply is delivered: the channel still works. */
static void check_channel_works(uint32_t n, uint64_t size)
{
	struct call *c = start_call(CODA_GETATTR, n);

	venus_getattr_reply(venus_take(c), size);
	psdev_readable(&sb);
	expect_getattr(c, size);
	free(c);
}

/* Nothing must be left waiting on the channel for venus. */
static void venus_expect_nothing(void)
{
	struct coda_msg up;

	cr_assert_eq(chan_recv(venus, &up), -EAGAIN);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int open_null(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	return fd;
}

/* ---- Replies ---- */

Test(psdev, reply_reaches_the_caller_waiting_for_its_unique)
{
	struct call *c = start_call(CODA_GETATTR, 7);
	uint32_t u = venus_take(c);

	cr_assert_not(c->done, "coda_upcall returned before any reply");
	psdev_readable(&sb); /* nothing there yet */
	cr_assert_not(c->done);
	venus_getattr_reply(u, 4242);
	psdev_readable(&sb);
	expect_getattr(c, 4242);
	cr_assert_eq(c->m.oh.unique, u);
	cr_assert_eq(live_callers, 0);
	free(c);
}

Test(psdev, two_waiting_callers_each_get_their_own_reply)
{
	struct call *a = start_call(CODA_GETATTR, 1);
	struct call *b = start_call(CODA_GETATTR, 2);
	uint32_t ua = venus_take(a), ub = venus_take(b);

	cr_assert_neq(ua, ub, "two pending upcalls share unique %u", ua);
	venus_getattr_reply(ub, 222);
	psdev_readable(&sb);
	cr_assert_not(a->done, "a woke on b's reply");
	expect_getattr(b, 222);
	venus_getattr_reply(ua, 111);
	psdev_readable(&sb);
	expect_getattr(a, 111);
	cr_assert_eq(live_callers, 0);
	free(a);
	free(b);
}

Test(psdev, venus_error_comes_back_as_negative_errno)
{
	struct call *c = start_call(CODA_ACCESS, 3);
	struct coda_msg r;

	make_reply(&r, CODA_ACCESS, venus_take(c), ENOENT);
	venus_send(&r);
	psdev_readable(&sb);
	cr_assert(c->done);
	cr_assert_eq(c->rc, -ENOENT);
	free(c);
}

Test(psdev, reply_with_wrong_opcode_is_eio)
{
	struct call *c = start_call(CODA_GETATTR, 4);
	struct coda_msg r;

	make_reply(&r, CODA_ACCESS, venus_take(c), 0);
	venus_send(&r);
	psdev_readable(&sb);
	cr_assert(c->done);
	cr_assert_eq(c->rc, -EIO);
	free(c);
	check_channel_works(5, 55);
}

Test(psdev, reply_with_truncated_fixed_part_is_eio)
{
	struct call *c = start_call(CODA_GETATTR, 4);
	struct coda_msg r;

	make_reply(&r, CODA_GETATTR, venus_take(c), 0);
	r.len = sizeof(struct coda_getattr_out) - 8;
	venus_send(&r);
	psdev_readable(&sb);
	cr_assert(c->done);
	cr_assert_eq(c->rc, -EIO);
	free(c);
	check_channel_works(5, 55);
}

Test(psdev, reply_with_out_of_range_result_is_eio)
{
	struct call *c = start_call(CODA_GETATTR, 4);
	struct coda_msg r;

	make_reply(&r, CODA_GETATTR, venus_take(c), 0);
	r.oh.result = 4096;
	venus_send(&r);
	psdev_readable(&sb);
	cr_assert(c->done);
	cr_assert_eq(c->rc, -EIO);
	free(c);
	check_channel_works(5, 55);
}

Test(psdev, record_shorter_than_reply_header_is_dropped)
{
	struct call *c = start_call(CODA_GETATTR, 4);
	uint32_t u = venus_take(c);
	struct coda_out_hdr oh = {.opcode = CODA_GETATTR, .unique = u, .result = 0};

	/* opcode and unique are there, the result is not. */
	cr_assert_eq(send(venus, &oh, sizeof(oh) - 2, 0), (ssize_t)(sizeof(oh) - 2));
	psdev_readable(&sb);
	cr_assert_not(c->done, "a runt record was taken as the reply");
	venus_getattr_reply(u, 99);
	psdev_readable(&sb);
	expect_getattr(c, 99);
	free(c);
}

Test(psdev, fd_passed_with_an_error_reply_is_not_leaked)
{
	struct call *c = start_call(CODA_GETATTR, 4);
	struct coda_msg r;
	int before = count_fds();

	make_reply(&r, CODA_GETATTR, venus_take(c), EACCES);
	r.fd = open_null();
	venus_send(&r);
	close(r.fd);
	psdev_readable(&sb);
	cr_assert(c->done);
	cr_assert_eq(c->rc, -EACCES);
	/* The caller of a failed upcall has no use for a file: it must not be
	 * left holding one it does not know to close. */
	cr_assert_eq(c->m.fd, -1);
	cr_assert_eq(count_fds(), before);
	free(c);
}

Test(psdev, reply_for_unknown_unique_is_dropped_and_its_fd_closed)
{
	struct call *c = start_call(CODA_GETATTR, 8);
	uint32_t u = venus_take(c);
	struct coda_msg r;
	int before = count_fds();

	make_reply(&r, CODA_GETATTR, u + 1000, 0);
	r.fd = open_null();
	venus_send(&r);
	close(r.fd);
	psdev_readable(&sb);
	cr_assert_not(c->done, "a reply for another unique woke the caller");
	cr_assert_eq(count_fds(), before, "the fd passed with a dropped reply was kept open");
	venus_getattr_reply(u, 8);
	psdev_readable(&sb);
	expect_getattr(c, 8);
	free(c);
}

Test(psdev, open_by_fd_reply_hands_the_fd_to_the_caller)
{
	struct call *c = start_call(CODA_OPEN_BY_FD, 9);
	struct coda_msg r;
	struct stat want, got;
	char buf[16] = {0};
	int file = memfd_create("container", MFD_CLOEXEC);

	cr_assert_geq(file, 0);
	cr_assert_eq(write(file, "container", 9), 9);
	cr_assert_eq(fstat(file, &want), 0);
	make_reply(&r, CODA_OPEN_BY_FD, venus_take(c), 0);
	r.fd = file;
	venus_send(&r);
	close(file);
	psdev_readable(&sb);
	cr_assert(c->done);
	cr_assert_eq(c->rc, 0, "rc %d", c->rc);
	cr_assert_geq(c->m.fd, 0, "the passed fd did not reach the caller");
	cr_assert_eq(fstat(c->m.fd, &got), 0);
	cr_assert_eq(got.st_ino, want.st_ino);
	cr_assert_eq(got.st_dev, want.st_dev);
	cr_assert_eq(pread(c->m.fd, buf, sizeof(buf), 0), 9);
	cr_assert_str_eq(buf, "container");
	close(c->m.fd);
	free(c);
}

Test(psdev, oversized_record_is_dropped_and_channel_keeps_working)
{
	struct call *c = start_call(CODA_GETATTR, 10);
	uint32_t u = venus_take(c);
	size_t big = CODA_MSG_MAX + 512;
	char *raw = calloc(1, big);
	struct coda_out_hdr oh = {.opcode = CODA_GETATTR, .unique = u, .result = 0};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {0};
	struct iovec iov;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cmsg;
	int before = count_fds(), fd = open_null();

	/* A record that looks like c's reply but is too big, with an fd. */
	cr_assert_not_null(raw);
	memcpy(raw, &oh, sizeof(oh));
	iov.iov_base = raw;
	iov.iov_len = big;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	cr_assert_eq(sendmsg(venus, &msg, 0), (ssize_t)big);
	close(fd);
	free(raw);
	psdev_readable(&sb);
	cr_assert_not(c->done, "an oversized record was taken as the reply");
	cr_assert_eq(count_fds(), before, "the fd passed with an oversized record leaked");
	venus_getattr_reply(u, 10);
	psdev_readable(&sb);
	expect_getattr(c, 10);
	free(c);
}

/* ---- Venus going away ---- */

Test(psdev, venus_closing_fails_pending_calls_and_refuses_new_ones)
{
	struct call *a = start_call(CODA_GETATTR, 11);
	struct call *b = start_call(CODA_ACCESS, 12);
	struct call *c;

	venus_take(a);
	venus_take(b);
	close(venus);
	venus = -1;
	psdev_readable(&sb);
	cr_assert(sb.vc.dead);
	cr_assert(a->done && b->done, "a call still waits on a venus that is gone");
	cr_assert_eq(a->rc, -EINTR);
	cr_assert_eq(b->rc, -EINTR);
	cr_assert_eq(live_callers, 0);

	c = start_call(CODA_GETATTR, 13);
	cr_assert(c->done, "a call after venus went away waited");
	cr_assert_eq(c->rc, -ENXIO);

	/* The loop may still be told the channel is readable: harmless. */
	psdev_readable(&sb);
	psdev_readable(&sb);
	cr_assert_eq(psdev_expire(&sb), -1);
	cr_assert_eq(a->rc, -EINTR);
	cr_assert_eq(c->rc, -ENXIO);
	free(a);
	free(b);
	free(c);
}

/* A caller that finds the channel closed before the loop has noticed: it
 * must fail alone, without the other waiting callers being run from inside
 * it. */
Test(psdev, call_that_finds_venus_gone_first_fails_and_others_still_end)
{
	struct call *a = start_call(CODA_GETATTR, 14);
	struct call *b, *c;

	venus_take(a);
	close(venus);
	venus = -1;
	b = start_call(CODA_GETATTR, 15);
	cr_assert(b->done, "a call to a closed channel waited");
	cr_assert_eq(b->rc, -ENXIO);
	psdev_readable(&sb);
	cr_assert(sb.vc.dead);
	cr_assert(a->done);
	cr_assert_eq(a->rc, -EINTR);
	cr_assert_eq(live_callers, 0);
	/* Callers still start and finish. */
	c = start_call(CODA_GETATTR, 16);
	cr_assert(c->done);
	cr_assert_eq(c->rc, -ENXIO);
	cr_assert_eq(live_callers, 0);
	free(a);
	free(b);
	free(c);
}

/* ---- Deadlines ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

Test(psdev, call_past_its_deadline_is_interrupted_and_venus_signalled)
{
	struct call *c, *late;
	struct coda_msg sig, r;
	uint32_t u, ul;
	int next, before;

	sb.vc.timeout_ms = 250;
	c = start_call(CODA_GETATTR, 17);
	u = venus_take(c);
	next = psdev_expire(&sb);
	cr_assert(next > 0 && next <= 250, "next deadline in %d ms", next);
	cr_assert_not(c->done, "a call expired before its deadline");
	venus_expect_nothing();

	sleep_ms(350);
	cr_assert_eq(psdev_expire(&sb), -1);
	cr_assert(c->done, "a call past its deadline still waits");
	cr_assert_eq(c->rc, -EINTR);

	venus_recv(&sig);
	cr_assert_eq(sig.ih.opcode, CODA_SIGNAL);
	cr_assert_eq(sig.ih.unique, u);
	cr_assert_eq(coda_msg_check_upcall(&sig), 0);
	venus_expect_nothing();

	/* The reply comes after all: nobody waits for it. */
	before = count_fds();
	make_reply(&r, CODA_GETATTR, u, 0);
	r.fd = open_null();
	venus_send(&r);
	close(r.fd);
	psdev_readable(&sb);
	cr_assert_eq(c->rc, -EINTR);
	cr_assert_eq(count_fds(), before);

	/* A new call is not confused with the old one. */
	sb.vc.timeout_ms = 30000;
	late = start_call(CODA_GETATTR, 18);
	ul = venus_take(late);
	cr_assert_neq(ul, u);
	venus_getattr_reply(u, 1);
	psdev_readable(&sb);
	cr_assert_not(late->done, "the timed-out call's reply woke a new call");
	venus_getattr_reply(ul, 18);
	psdev_readable(&sb);
	expect_getattr(late, 18);
	free(late);
	free(c);
}

/* ---- Downcalls ---- */

static void fill_cache(void)
{
	struct CodaFid d = fid_of(100), e = fid_of(200), f1 = fid_of(101), f2 = fid_of(102),
		       f3 = fid_of(201);
	struct coda_vattr attr = {.va_type = C_VDIR, .va_size = 4096};

	cache_name_put(&sb.caches, &d, "a", 1, &f1, C_VREG);
	cache_name_put(&sb.caches, &d, "b", 1, &f2, C_VREG);
	cache_name_put(&sb.caches, &d, "gone", 4, &f2, C_VNON);
	cache_name_put(&sb.caches, &e, "c", 1, &f3, C_VREG);
	cache_attr_put(&sb.caches, &d, &attr);
	cache_attr_put(&sb.caches, &e, &attr);
	attr.va_type = C_VREG;
	cache_attr_put(&sb.caches, &f1, &attr);
}

static bool name_cached(uint32_t dir, const char *name)
{
	struct CodaFid d = fid_of(dir), fid;
	int vtype;

	return cache_name_get(&sb.caches, &d, name, strlen(name), &fid, &vtype) == 1;
}

static bool attr_cached(uint32_t n)
{
	struct CodaFid f = fid_of(n);
	struct coda_vattr attr;

	return cache_attr_get(&sb.caches, &f, &attr);
}

static void send_downcall(uint32_t opcode, uint32_t unique, size_t len, const struct CodaFid *fid)
{
	struct coda_msg r;

	memset(r.raw, 0, sizeof(struct coda_zapdir_out));
	r.fd = -1;
	r.oh.opcode = opcode;
	r.oh.unique = unique;
	r.oh.result = 0;
	if (fid)
		r.out.coda_zapdir.CodaFid = *fid;
	r.len = len;
	venus_send(&r);
}

Test(psdev, zapdir_downcall_drops_names_under_dir_and_its_attributes)
{
	struct CodaFid d = fid_of(100);

	fill_cache();
	cr_assert(name_cached(100, "a") && name_cached(100, "gone") && attr_cached(100));
	send_downcall(CODA_ZAPDIR, 0, sizeof(struct coda_zapdir_out), &d);
	psdev_readable(&sb);
	cr_assert_not(name_cached(100, "a"));
	cr_assert_not(name_cached(100, "b"));
	cr_assert_not(name_cached(100, "gone"), "a negative entry survived ZAPDIR");
	cr_assert_not(attr_cached(100), "the directory's attributes survived ZAPDIR");
	/* Another directory is untouched: this is not a flush. */
	cr_assert(name_cached(200, "c"));
	cr_assert(attr_cached(200));
	venus_expect_nothing(); /* a downcall has no reply */
}

Test(psdev, flush_downcall_empties_the_cache)
{
	fill_cache();
	send_downcall(CODA_FLUSH, 0, sizeof(struct coda_out_hdr), NULL);
	psdev_readable(&sb);
	cr_assert_not(name_cached(100, "a"));
	cr_assert_not(name_cached(200, "c"));
	cr_assert_not(attr_cached(100));
	cr_assert_not(attr_cached(200));
	cr_assert_not(attr_cached(101));
	cr_assert_eq(sb.caches.count, 0);
}

/* 40,000 names of one directory, as a big walk leaves them: the cache keeps
 * the newest, drops the oldest, and its size stops growing. */
Test(psdev, cache_of_a_walk_bigger_than_it_drops_the_oldest_names)
{
	struct CodaFid d = fid_of(100), f = fid_of(101);
	struct coda_vattr attr = {.va_type = C_VREG};
	char name[16];
	unsigned peak = 0;

	for (uint32_t i = 0; i < 40000; i++) {
		struct CodaFid o = fid_of(1000 + i);

		snprintf(name, sizeof(name), "f%05u", i);
		cache_name_put(&sb.caches, &d, name, strlen(name), &f, C_VREG);
		cache_attr_put(&sb.caches, &o, &attr);
		if (sb.caches.count > peak)
			peak = sb.caches.count;
	}
	cr_assert_not(name_cached(100, "f00000"), "the oldest name is still cached");
	cr_assert(name_cached(100, "f39999"), "the newest name is not cached");
	cr_assert_not(attr_cached(1000), "the oldest attributes are still cached");
	cr_assert(attr_cached(1000 + 39999), "the newest attributes are not cached");
	cr_assert_lt(peak, 2 * 40000, "the cache grew with the walk: %u entries", peak);
	cr_assert_eq(peak, sb.caches.count, "entries were dropped wholesale");
}

/* The largest values a kernel gives, kept packed: what comes back is
 * exactly what venus said. */
Test(psdev, cached_attributes_come_back_exactly_as_venus_gave_them)
{
	struct CodaFid f = fid_of(101);
	struct coda_vattr put, got;

	memset(&put, 0, sizeof(put)); /* padding too: the two are compared whole */
	put.va_type = C_VCHR;
	put.va_mode = 07777;
	put.va_nlink = 32767;
	put.va_uid = 4294967294u;
	put.va_gid = 4294967293u;
	put.va_fileid = 0x7fffffffffffffffL;
	put.va_size = 0xffffffffffffffffULL;
	put.va_blocksize = 4294967295L;
	put.va_atime = (struct coda_timespec){-1, 999999999};
	put.va_mtime = (struct coda_timespec){0x7fffffffffffffffLL, 1};
	put.va_ctime = (struct coda_timespec){1765000000, 0};
	put.va_rdev = 0xffffffffUL;
	put.va_bytes = 0xfffffffffffffe00ULL;
	cache_attr_put(&sb.caches, &f, &put);
	cr_assert(cache_attr_get(&sb.caches, &f, &got));
	cr_assert_eq(memcmp(&got, &put, sizeof(got)), 0, "the cached attributes differ");
}

/* Values no kernel gives (a malformed venus): not cached, so a stat sees
 * venus's own answer, and an older cached one goes. */
Test(psdev, attributes_too_wide_to_keep_are_not_cached)
{
	struct CodaFid f = fid_of(101);
	struct coda_vattr attr = {.va_type = C_VREG};

	cache_attr_put(&sb.caches, &f, &attr);
	cr_assert(attr_cached(101));
	attr.va_mtime.tv_nsec = 1L << 32;
	cache_attr_put(&sb.caches, &f, &attr);
	cr_assert_not(attr_cached(101), "a nanosecond count past 32 bits was cached");
	cr_assert_eq(sb.caches.count, 0);
	attr.va_mtime.tv_nsec = 0;
	attr.va_rdev = 1UL << 32;
	cache_attr_put(&sb.caches, &f, &attr);
	cr_assert_not(attr_cached(101), "an rdev past 32 bits was cached");
	attr.va_rdev = 0;
	attr.va_blocksize = -1;
	cache_attr_put(&sb.caches, &f, &attr);
	cr_assert_not(attr_cached(101), "a negative block size was cached");
}

Test(psdev, too_short_downcall_is_ignored)
{
	struct CodaFid d = fid_of(100);

	fill_cache();
	/* A ZAPDIR without the whole fid. */
	send_downcall(CODA_ZAPDIR, 0, sizeof(struct coda_zapdir_out) - 4, &d);
	psdev_readable(&sb);
	cr_assert(name_cached(100, "a"));
	cr_assert(name_cached(100, "gone"));
	cr_assert(attr_cached(100));
	/* A PURGEUSER without its uid: applied, it would drop the rights. */
	cache_access_grant(&sb.caches, &d, 1000, C_A_R_OK);
	send_downcall(CODA_PURGEUSER, 0, sizeof(struct coda_out_hdr), NULL);
	psdev_readable(&sb);
	cr_assert(cache_access_ok(&sb.caches, &d, 1000, C_A_R_OK), "a short PURGEUSER was applied");
	/* And a whole one is applied: the check above is not vacuous. */
	send_downcall(CODA_PURGEUSER, 0, sizeof(struct coda_purgeuser_out), NULL);
	psdev_readable(&sb);
	cr_assert_not(cache_access_ok(&sb.caches, &d, 1000, C_A_R_OK));
	check_channel_works(5, 55);
}

/* As the kernel's coda_cache_clear_all(): rights go, names and attributes stay. */
Test(psdev, purgeuser_drops_access_rights_only)
{
	struct CodaFid d = fid_of(100);

	fill_cache();
	cache_access_grant(&sb.caches, &d, 1000, C_A_R_OK);
	send_downcall(CODA_PURGEUSER, 0, sizeof(struct coda_purgeuser_out), NULL);
	psdev_readable(&sb);
	cr_assert_not(cache_access_ok(&sb.caches, &d, 1000, C_A_R_OK));
	cr_assert(name_cached(100, "a"));
	cr_assert(name_cached(200, "c"));
	cr_assert(attr_cached(100), "the attributes went with the rights kept beside them");
	cr_assert(attr_cached(200));
}

/* As the kernel's C_VATTR: ZAPFILE makes the attributes and the link target
 * stale, and the rights kept for the same object stay. */
Test(psdev, zapfile_drops_attributes_and_link_and_keeps_rights)
{
	struct CodaFid f = fid_of(101);
	char target[16];

	fill_cache();
	cache_access_grant(&sb.caches, &f, 1000, C_A_R_OK);
	cache_link_put(&sb.caches, &f, "there", 5);
	send_downcall(CODA_ZAPFILE, 0, sizeof(struct coda_zapfile_out), &f);
	psdev_readable(&sb);
	cr_assert_not(attr_cached(101));
	cr_assert_eq(cache_link_get(&sb.caches, &f, target, sizeof(target)), -1);
	cr_assert(cache_access_ok(&sb.caches, &f, 1000, C_A_R_OK), "ZAPFILE dropped the rights");
}

/* PURGEFID: the object goes whole, and nothing of it is left taking memory. */
Test(psdev, purgefid_leaves_no_entry_of_the_object)
{
	struct CodaFid f = fid_of(7);
	struct coda_vattr attr = {.va_type = C_VLNK};
	char target[16];

	cache_attr_put(&sb.caches, &f, &attr);
	cache_access_grant(&sb.caches, &f, 1000, C_A_R_OK);
	cache_access_grant(&sb.caches, &f, 1001, C_A_W_OK);
	cache_link_put(&sb.caches, &f, "there", 5);
	cr_assert_eq(cache_link_get(&sb.caches, &f, target, sizeof(target)), 5);
	cr_assert_eq(sb.caches.count, 1, "one object, %u entries", sb.caches.count);
	send_downcall(CODA_PURGEFID, 0, sizeof(struct coda_purgefid_out), &f);
	psdev_readable(&sb);
	cr_assert_not(attr_cached(7));
	cr_assert_not(cache_access_ok(&sb.caches, &f, 1000, C_A_R_OK));
	cr_assert_not(cache_access_ok(&sb.caches, &f, 1001, C_A_W_OK));
	cr_assert_eq(cache_link_get(&sb.caches, &f, target, sizeof(target)), -1);
	cr_assert_eq(sb.caches.count, 0);
}

Test(psdev, downcall_does_not_disturb_a_waiting_call)
{
	struct call *c = start_call(CODA_GETATTR, 100);
	uint32_t u = venus_take(c);
	struct CodaFid d = fid_of(100);

	fill_cache();
	/* A downcall whose unique happens to be the pending call's. */
	send_downcall(CODA_ZAPDIR, u, sizeof(struct coda_zapdir_out), &d);
	psdev_readable(&sb);
	cr_assert_not(c->done, "a downcall was taken as a reply");
	cr_assert_not(attr_cached(100));
	venus_getattr_reply(u, 100);
	psdev_readable(&sb);
	expect_getattr(c, 100);
	free(c);
}

/* ---- Memory that runs out ---- */

/* The module's malloc and calloc (the test is linked with --wrap for both:
 * a compiler may make uthash's malloc and zeroing one calloc). While
 * no_hash_tables is set, a uthash table cannot be made: the next add to an
 * empty table fails as it does with no memory. */
static bool no_hash_tables;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);

static bool refused(size_t size)
{
	if (!no_hash_tables || size != sizeof(UT_hash_table))
		return false;
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return refused(size) ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return refused(n * size) ? NULL : __real_calloc(n, size);
}

Test(psdev, upcall_that_cannot_be_kept_pending_fails_with_enomem_and_is_not_sent)
{
	struct call *c;

	no_hash_tables = true;
	c = start_call(CODA_GETATTR, 9);
	no_hash_tables = false;
	cr_assert(c->done, "the caller waits for a reply that nothing would find");
	cr_assert_eq(c->rc, -ENOMEM);
	venus_expect_nothing();
	cr_assert_null(sb.vc.pending);
	free(c);
	check_channel_works(9, 99);
}

struct getattr_call {
	uint32_t n;
	struct coda_vattr attr;
	int rc;
	bool done;
};

static void getattr_fn(struct coda_waiter *w, void *arg)
{
	struct coda_req r = {.sb = &sb, .waiter = w};
	struct getattr_call *g = arg;
	struct CodaFid fid = fid_of(g->n);

	g->rc = coda_getattr(&r, &fid, &g->attr);
	g->done = true;
}

/* coda_getattr of fid n, which venus answers with size; with no hash
 * tables from the reply on, if oom. */
static void getattr_answered(struct getattr_call *g, uint32_t n, uint64_t size, bool oom)
{
	struct coda_msg up;

	*g = (struct getattr_call){.n = n};
	spawn_caller(NULL, getattr_fn, g);
	venus_recv(&up);
	cr_assert_eq(up.ih.opcode, CODA_GETATTR);
	no_hash_tables = oom;
	venus_getattr_reply(up.ih.unique, size);
	psdev_readable(&sb);
	no_hash_tables = false;
	cr_assert(g->done, "the caller is still waiting");
	cr_assert_eq(g->rc, 0, "rc %d", g->rc);
	cr_assert_eq(g->attr.va_size, size);
}

Test(psdev, attributes_the_cache_has_no_memory_for_are_answered_and_asked_again)
{
	struct getattr_call g;

	getattr_answered(&g, 8, 800, true);
	cr_assert_not(attr_cached(8));
	cr_assert_eq(sb.caches.count, 0);
	/* Venus is asked again, and its new answer is the one seen. */
	getattr_answered(&g, 8, 801, false);
	cr_assert(attr_cached(8));
	venus_expect_nothing();
}

/* ---- What --stats counts ---- */

Test(psdev, stats_count_upcalls_their_replies_signals_and_downcalls)
{
	struct CodaFid f = fid_of(6);
	const struct coda_stats *st;
	struct call *c, *lost;
	struct coda_msg sig;

	cr_assert_eq(coda_stats_enable(&sb), 0);
	st = sb.vc.stats;
	c = start_call(CODA_GETATTR, 5);
	sleep_ms(20);
	venus_getattr_reply(venus_take(c), 5);
	psdev_readable(&sb);
	expect_getattr(c, 5);
	cr_assert_eq(st->sent[CODA_GETATTR], 1);
	cr_assert_eq(st->replied[CODA_GETATTR].count, 1);
	/* From the write of the upcall to the read of its reply. */
	cr_assert_geq(latency_percentile_us(&st->replied[CODA_GETATTR], 50), 20000.0 * 15 / 16);

	sb.vc.timeout_ms = 100;
	lost = start_call(CODA_ACCESS, 6);
	venus_take(lost);
	sleep_ms(150);
	psdev_expire(&sb);
	cr_assert_eq(lost->rc, -EINTR);
	venus_recv(&sig);
	cr_assert_eq(st->sent[CODA_ACCESS], 1);
	cr_assert_eq(st->replied[CODA_ACCESS].count, 0, "a call with no reply was timed");
	cr_assert_eq(st->sent[CODA_SIGNAL], 1);

	send_downcall(CODA_ZAPFILE, 0, sizeof(struct coda_zapfile_out), &f);
	psdev_readable(&sb);
	cr_assert_eq(st->downcalls[CODA_ZAPFILE], 1);
	cr_assert_eq(st->sent[CODA_ZAPFILE], 0);
	free(lost);
	free(c);
}

/* ---- A caller waiting for read-ahead's upcall ---- */

/* Read-ahead's work for a name: an upcall, which waits for venus. */
static void fetch_by_getattr(struct coda_req *r, const struct coda_caller *who,
			     const struct CodaFid *dir, const char *name, size_t len)
{
	struct coda_msg m;

	(void)dir;
	(void)name;
	(void)len;
	coda_msg_upcall(&m, CODA_GETATTR, who);
	m.in.coda_getattr.VFid = fid_of(7);
	coda_upcall(r, &m);
}

struct lookup {
	const char *name;
	struct coda_waiter *w;
	bool returned;
};

/* What coda_lookup does before its own LOOKUP of a name not cached. */
static void lookup_fn(struct coda_waiter *w, void *arg)
{
	struct coda_req r = {.sb = &sb, .waiter = w};
	struct CodaFid dir = fid_of(100);
	struct lookup *l = arg;

	l->w = w;
	prefetch_release(&sb, prefetch_claim(&r, &caller, &dir, l->name, strlen(l->name)));
	l->returned = true;
}

/* Waiters spawned by a caller (read-ahead's) run when the test says: the
 * turn is the test's to hand, not a caller's. */
static struct coda_waiter *spawned[16];
static int n_spawned;

static struct coda_sched spawn_later_sched; /* test_sched but for spawn */

static int spawn_later(void *ctx, void (*fn)(struct coda_waiter *w, void *arg), void *arg)
{
	(void)ctx;
	cr_assert_lt(n_spawned, 16);
	spawned[n_spawned++] = new_caller(fn, arg);
	return 0;
}

Test(psdev, interrupted_caller_waiting_for_read_ahead_goes_on_at_once)
{
	struct lookup first = {.name = "n0"}, second = {.name = "n1"}, third = {.name = "n2"};
	struct CodaFid dir = fid_of(100);
	char image[4096], name[8];
	size_t len = 0;

	for (int i = 0; i < 10; i++) {
		int n;

		snprintf(name, sizeof(name), "n%d", i);
		n = venus_dirent_encode(image + len, sizeof(image) - len, 1000 + (uint32_t)i,
					CDT_REG, name, strlen(name));
		cr_assert_gt(n, 0);
		len += (size_t)n;
	}
	spawn_later_sched = test_sched;
	spawn_later_sched.spawn = spawn_later;
	sb.sched = &spawn_later_sched;
	prefetch_listed(&sb, &dir, image, len, fetch_by_getattr);
	spawn_caller(NULL, lookup_fn, &first);
	spawn_caller(NULL, lookup_fn, &second);
	cr_assert(first.returned && second.returned);
	cr_assert_gt(n_spawned, 0, "two names in order started no read-ahead");
	for (int i = 0; i < n_spawned; i++)
		run_until_it_waits(spawned[i]);
	/* Two names in order: read-ahead has n2 under way, venus has not
	 * answered, and a lookup of n2 waits for it. */
	spawn_caller(NULL, lookup_fn, &third);
	cr_assert_not(third.returned, "n2 was not under way: no read-ahead started");
	interrupted = third.w;
	psdev_expire(&sb);
	cr_assert(third.returned, "an interrupted caller still waits for read-ahead's upcall");
}
