#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "keep.h"
#include "proto/channel.h"
#include "proto/hash.h"
#include "prefetch.h"
#include "psdev.h"
#include "stats.h"
#include "proto/describe.h"
#include "proto/shtable.h"

/* How often a held call is checked for a signal that ends it: the kernel
 * learns of one at once, we only by asking. */
#define SIGNAL_CHECK_MS 10

/* The monotonic clock in ms: the deadlines of held calls. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum req_state { REQ_WAITING, REQ_ANSWERED, REQ_ABORTED, REQ_TIMED_OUT, REQ_INTERRUPTED };

struct upc_req {
	uint32_t unique;
	uint32_t opcode;
	struct coda_waiter *waiter;
	struct coda_msg *msg; /* the upcall going out, its reply coming in */
	enum req_state state;
	int64_t sent_ms;
	int64_t sent_ns; /* --stats: when it was written */
	int64_t deadline_ms;
	int64_t check_ms;
	struct upc_req *next_done;
	UT_hash_handle hh;
};

void psdev_init(struct venus_comm *vc, int chan, int timeout_s)
{
	vc->chan = chan;
	vc->dead = false;
	vc->quiet = false;
	vc->venus_pid = -1;
	vc->seq = 0;
	vc->timeout_ms = timeout_s * 1000;
	vc->progress_ms = now_ms();
	vc->sample_ms = 0;
	vc->runs = 0;
	vc->pending = NULL;
	vc->shared = NULL;
}

int psdev_share(struct venus_comm *vc, int table, uint32_t uid)
{
	int rc;

	if (table < 0)
		return 0;
	rc = shtable_map(table, &vc->shared);
	close(table); /* the mapping keeps it */
	vc->shared_uid = uid;
	return rc;
}

/* The channel layer's shortcut beneath the module: a LOOKUP, GETATTR or
 * ACCESS whose answer the server keeps in its table is answered here,
 * into m, with no message and no sleep. */
static bool shared_answer(struct venus_comm *vc, struct coda_msg *m)
{
	unsigned char key[SHTABLE_KEY_MAX];
	uint32_t opcode = m->ih.opcode, unique = m->ih.unique;
	size_t klen;

	if (!vc->shared)
		return false;
	klen = shtable_key(m, vc->shared_uid, key);
	if (!klen || !shtable_find(vc->shared, key, klen, m))
		return false;
	m->oh.unique = unique;
	if (vc->stats)
		coda_stats_shared(vc->stats, opcode);
	return true;
}

/* Tells venus that nobody waits for `unique` any more, as the kernel does for
 * an interrupted upcall; no reply is expected. */
static void send_signal(struct coda_sb *sb, uint32_t unique)
{
	struct venus_comm *vc = &sb->vc;
	struct coda_msg sig;
	struct coda_caller nobody = {0, 0, 0};

	coda_msg_upcall(&sig, CODA_SIGNAL, &nobody);
	sig.ih.unique = unique;
	if (chan_send(vc->chan, &sig) < 0)
		return;
	if (vc->stats)
		coda_stats_sent(vc->stats, CODA_SIGNAL);
	if (sb->trace)
		coda_trace_signal(sb->log, NULL, unique);
}

static int finish_request(struct upc_req *req)
{
	switch (req->state) {
	case REQ_ANSWERED:
		return coda_msg_check_reply(req->msg, req->opcode);
	case REQ_ABORTED:
	case REQ_TIMED_OUT:
	case REQ_INTERRUPTED:
	case REQ_WAITING:
		break;
	}
	return -EINTR;
}

int coda_caller(struct coda_req *r, struct coda_caller *who)
{
	return r->sb->sched->caller(r->waiter, who);
}

int coda_upcall(struct coda_req *r, struct coda_msg *m)
{
	struct venus_comm *vc = &r->sb->vc;
	uint32_t opcode = m->ih.opcode;
	struct upc_req req = {0};
	char line[CODA_TRACE_LEN];
	int rc;

	if (vc->dead)
		return -ENXIO;
	if (++vc->seq == 0)
		vc->seq = 1;
	m->ih.unique = vc->seq;
	if (r->sb->trace)
		coda_trace_format(m, line, sizeof(line));
	req.sent_ns = vc->stats || r->sb->trace ? latency_now_ns() : 0;
	if (shared_answer(vc, m)) {
		rc = coda_msg_check_reply(m, opcode);
		if (r->sb->trace)
			coda_trace_answer(r->sb->log, "(shared answer)", line, -rc, req.sent_ns);
		return rc;
	}
	req.unique = m->ih.unique;
	req.opcode = m->ih.opcode;
	req.waiter = r->waiter;
	req.msg = m;
	req.state = REQ_WAITING;
	/* Pending before it goes, so that its reply finds it: one that
	 * cannot be kept is not sent. */
	HASH_ADD(hh, vc->pending, unique, sizeof(req.unique), &req);
	if (!HASH_ADDED(hh, &req))
		return -ENOMEM;
	rc = chan_send(vc->chan, m);
	if (rc < 0) {
		HASH_DEL(vc->pending, &req);
		/* Not psdev_venus_gone() from here: a waiter must not wake
		 * others. If venus has gone, the loop reads the end of the
		 * channel next and fails every waiting call then. */
		return -ENXIO;
	}
	if (vc->stats)
		coda_stats_sent(vc->stats, m->ih.opcode);
	req.sent_ms = now_ms();
	req.deadline_ms = req.sent_ms + vc->timeout_ms;
	req.check_ms = now_ms() + SIGNAL_CHECK_MS;
	while (req.state == REQ_WAITING)
		r->sb->sched->sleep(r->waiter);
	rc = finish_request(&req);
	if (r->sb->trace)
		coda_trace_answer(r->sb->log, NULL, line, -rc, req.sent_ns);
	/* A file passed with a failed reply is of no use to the caller. */
	if (rc < 0 && m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
	return rc;
}

static void wake_list(struct coda_sb *sb, struct upc_req *list)
{
	while (list) {
		struct upc_req *next = list->next_done;

		sb->sched->wake(list->waiter);
		list = next;
	}
}

static void deliver_reply(struct coda_sb *sb, struct coda_msg *in)
{
	struct venus_comm *vc = &sb->vc;
	struct upc_req *req;
	uint32_t unique = in->oh.unique;

	HASH_FIND(hh, vc->pending, &unique, sizeof(unique), req);
	if (!req) {
		/* Late (timed out) or bogus: the kernel drops these too. */
		if (sb->verbose)
			fprintf(sb->log, "coda-exec: venus reply for unknown unique %u dropped\n",
				unique);
		if (in->fd >= 0)
			close(in->fd);
		return;
	}
	HASH_DEL(vc->pending, req);
	if (vc->stats)
		coda_stats_replied(vc->stats, req->opcode, req->sent_ns);
	memcpy(req->msg->raw, in->raw, in->len);
	req->msg->len = in->len;
	req->msg->fd = in->fd;
	req->state = REQ_ANSWERED;
	req->next_done = NULL;
	wake_list(sb, req);
}

const struct coda_msg *psdev_upcall_of(struct coda_sb *sb, uint32_t unique)
{
	struct upc_req *req;

	HASH_FIND(hh, sb->vc.pending, &unique, sizeof(unique), req);
	return req ? req->msg : NULL;
}

void psdev_deliver(struct coda_sb *sb, struct coda_msg *in)
{
	sb->vc.progress_ms = now_ms();
	if (in->len < sizeof(struct coda_out_hdr)) {
		fprintf(stderr,
			"coda-exec: a message from venus: shorter than a Coda header: dropped\n");
		if (in->fd >= 0)
			close(in->fd);
		return;
	}
	if (coda_is_downcall(in->oh.opcode)) {
		enum coda_stale stale;
		struct CodaFid fid;

		if (sb->vc.stats)
			coda_stats_downcall(sb->vc.stats, in->oh.opcode);
		if (sb->trace)
			coda_trace_downcall(sb->log, NULL, in);
		if (in->fd >= 0)
			close(in->fd);
		stale = coda_cache_downcall(&sb->caches, in, &fid);
		keep_stale(sb, stale, &fid);
		return;
	}
	deliver_reply(sb, in);
}

/* One message per wakeup: the epoll set is level-triggered, so a second one
 * waiting brings us back, and the common case costs no EAGAIN read. */
void psdev_readable(struct coda_sb *sb)
{
	struct coda_msg in;
	int rc;

	if (sb->vc.dead)
		return;
	rc = chan_recv(sb->vc.chan, &in);
	if (rc == -EAGAIN)
		return;
	if (rc == -EPIPE) {
		psdev_venus_gone(sb);
		return;
	}
	if (rc < 0) {
		fprintf(stderr, "coda-exec: a message from venus: %s: dropped\n", strerror(-rc));
		if (in.fd >= 0)
			close(in.fd);
		return;
	}
	psdev_deliver(sb, &in);
}

/* Is the caller of req killed, or has a SIGINT come for it (or, on kernels
 * without WAIT_KILLABLE_RECV, any signal)? */
static bool caller_interrupted(struct coda_sb *sb, struct upc_req *req, int64_t now)
{
	req->check_ms = now + SIGNAL_CHECK_MS;
	return coda_opcode_interruptible(req->opcode) && sb->sched->interrupted(req->waiter);
}

/* As fs/coda/upcall.c: venus is told that nobody waits (CODA_SIGNAL), so it
 * sends no reply and undoes an open; the caller gets EINTR at once. A reply
 * that comes all the same finds no request and is dropped. */
static void end_request(struct coda_sb *sb, struct upc_req *req, enum req_state why,
			struct upc_req **done)
{
	HASH_DEL(sb->vc.pending, req);
	send_signal(sb, req->unique);
	req->state = why;
	req->next_done = *done;
	*done = req;
}

/* Venus's state, from /proc/PID/stat. */
static char venus_state(pid_t pid)
{
	char path[64], buf[1024], *p, state;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold anything */
	return p && sscanf(p + 1, " %c", &state) == 1 ? state : 0;
}

/* How many times venus has been scheduled (/proc/PID/schedstat, third
 * field): it moves whenever venus runs at all, even for a wakeup that
 * costs no clock tick of CPU time. 0 if unknown. */
static unsigned long long venus_runs(pid_t pid)
{
	unsigned long long run_ns, wait_ns, slices;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu %llu", &run_ns, &wait_ns, &slices);
	fclose(f);
	return n == 3 ? slices : 0;
}

/* Once a second while calls wait: a venus that ran since the last look
 * (it may be waiting for a server, and waking for its timers), or is
 * running or waiting for its disk, is working on them. A stopped or
 * deadlocked venus runs not at all. */
static void sample_progress(struct venus_comm *vc, int64_t now)
{
	pid_t pid = vc->venus_pid;
	unsigned long long runs;
	char state;

	if (now - vc->sample_ms < 1000 || pid <= 0)
		return;
	vc->sample_ms = now;
	state = venus_state(pid);
	runs = venus_runs(pid);
	if ((runs && runs != vc->runs) || state == 'R' || state == 'D')
		vc->progress_ms = now;
	vc->runs = runs;
}

/* A call times out only when venus has made no progress at all for the
 * timeout since it was sent. */
static int64_t deadline(const struct venus_comm *vc, const struct upc_req *req)
{
	int64_t from = req->sent_ms > vc->progress_ms ? req->sent_ms : vc->progress_ms;

	return from + vc->timeout_ms;
}

int psdev_expire(struct coda_sb *sb)
{
	struct venus_comm *vc = &sb->vc;
	struct upc_req *req, *tmp, *done = NULL;
	int64_t now, next = -1, due;

	if (!vc->pending && !sb->prefetch.waiting)
		return -1; /* nothing to look at: no clock read per call served */
	now = now_ms();
	if (vc->pending)
		sample_progress(vc, now);
	prefetch_expire(sb, now);
	HASH_ITER(hh, vc->pending, req, tmp)
	{
		req->deadline_ms = deadline(vc, req);
		if (req->deadline_ms <= now) {
			fprintf(stderr,
				"coda-exec: venus made no progress on %s for %d s: the call "
				"fails\n",
				coda_opcode_name(req->opcode), vc->timeout_ms / 1000);
			end_request(sb, req, REQ_TIMED_OUT, &done);
			continue;
		}
		if (req->check_ms <= now && caller_interrupted(sb, req, now)) {
			if (sb->verbose)
				fprintf(sb->log, "coda-exec: %s (unique %u) interrupted\n",
					coda_opcode_name(req->opcode), req->unique);
			end_request(sb, req, REQ_INTERRUPTED, &done);
			continue;
		}
		due = req->check_ms < req->deadline_ms ? req->check_ms : req->deadline_ms;
		if (next < 0 || due - now < next)
			next = due - now;
	}
	wake_list(sb, done);
	return (int)next;
}

void psdev_venus_gone(struct coda_sb *sb)
{
	struct venus_comm *vc = &sb->vc;
	struct upc_req *req, *tmp, *done = NULL;

	if (vc->dead)
		return;
	vc->dead = true;
	if (!vc->quiet)
		fprintf(stderr,
			"coda-exec: venus has gone away: calls under %s now fail (ENXIO; its own "
			"messages, or --log, say why)\n",
			sb->mnt);
	/* Opens fail from now on, as every other call: none from what is kept. */
	keep_destroy(sb);
	HASH_ITER(hh, vc->pending, req, tmp)
	{
		HASH_DEL(vc->pending, req);
		req->state = REQ_ABORTED;
		req->next_done = done;
		done = req;
	}
	wake_list(sb, done);
}

bool psdev_answer_due(const struct coda_sb *sb)
{
	return sb->vc.pending && !sb->vc.dead;
}
