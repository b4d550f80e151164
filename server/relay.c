/* The unique numbers of many jobs, made one space for venus. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/channel.h"
#include "proto/describe.h"
#include "proto/hash.h"
#include "proto/latency.h"
#include "answers.h"
#include "opens.h"
#include "relay.h"

struct job_key {
	struct conn *conn; /* NULL once the job has gone */
	uint64_t unique;   /* the job's own */
};

/* A downcall to the other jobs for what an upcall changed. */
struct zap {
	uint32_t opcode; /* CODA_ZAPDIR or CODA_ZAPFILE */
	struct CodaFid fid;
};
#define ZAPS_MAX 2

struct flight {
	uint32_t unique; /* ours, as venus sees it */
	uint32_t opcode;
	struct job_key job;
	struct zap zaps[ZAPS_MAX]; /* for the other jobs, if venus says done */
	int nzaps;
	unsigned char *key; /* of an answer to keep (answers.h), or NULL */
	size_t klen;
	struct user *user;     /* whose answer it is */
	struct open_rec *open; /* an open's: the job's to close once granted, or ours */
	char *line;	       /* --trace: the upcall's line up to its answer */
	int64_t sent_ns;       /* --trace: when it went to venus */
	UT_hash_handle hh, hh_job;
};

int relay_init(struct relay *r, int venus, struct conn *const *conns, FILE *trace)
{
	memset(r, 0, sizeof(*r));
	r->venus = venus;
	r->conns = conns;
	r->trace = trace;
	return answers_new(&r->answers);
}

/* "job PID": which job a trace line is of (its coda-exec's pid). */
static void job_name(const struct conn *c, char *buf, size_t len)
{
	snprintf(buf, len, "job %d", c ? (int)c->pid : 0);
}

/* --trace: the upcall in m, as it goes to venus. */
static void trace_sent(struct flight *f, const struct coda_msg *m)
{
	char line[CODA_TRACE_LEN];

	coda_trace_format(m, line, sizeof(line));
	f->line = strdup(line);
	f->sent_ns = latency_now_ns();
}

/* --trace: venus's answer to f (err: a positive errno, or 0). */
static void trace_answered(struct relay *r, const struct flight *f, int err)
{
	char who[32];

	if (!f->line)
		return;
	job_name(f->job.conn, who, sizeof(who));
	coda_trace_answer(r->trace, who, f->line, err, f->sent_ns);
}

static struct flight *by_job(struct relay *r, struct conn *c, uint32_t unique)
{
	struct job_key key;
	struct flight *f;

	memset(&key, 0, sizeof(key));
	key.conn = c;
	key.unique = unique;
	HASH_FIND(hh_job, r->by_job, &key, sizeof(key), f);
	return f;
}

static uint32_t next_unique(struct relay *r)
{
	struct flight *f;

	do {
		if (++r->seq == 0)
			r->seq = 1;
		HASH_FIND(hh, r->by_unique, &r->seq, sizeof(r->seq), f);
	} while (f);
	return r->seq;
}

static void free_flight(struct flight *f)
{
	free(f->open);
	free(f->key);
	free(f->line);
	free(f);
}

/* f is answered, or nobody waits for it: it leaves the tables. */
static void land(struct relay *r, struct flight *f)
{
	HASH_DELETE(hh, r->by_unique, f);
	if (f->job.conn) {
		HASH_DELETE(hh_job, r->by_job, f);
		f->job.conn->inflight--;
	}
	r->inflight--;
	free_flight(f);
}

/* Venus is told that nobody waits for f: no reply is due, an open is
 * undone. */
static void send_signal(struct relay *r, struct flight *f)
{
	struct coda_caller nobody = {0, 0, 0};
	struct coda_msg sig;

	coda_msg_upcall(&sig, CODA_SIGNAL, &nobody);
	sig.ih.unique = f->unique;
	(void)chan_send(r->venus, &sig); /* a venus gone is seen on its channel */
	if (r->trace) {
		char who[32];

		job_name(f->job.conn, who, sizeof(who));
		coda_trace_signal(r->trace, who, f->unique);
	}
}

/* The job gave up on its upcall `unique`. The kernel never sends one for an
 * upcall that may not be interrupted, nor for one it does not know. */
static int relay_signal(struct relay *r, struct conn *c, uint32_t unique)
{
	struct flight *f = by_job(r, c, unique);

	if (!f || !coda_opcode_interruptible(f->opcode))
		return 0;
	send_signal(r, f);
	land(r, f);
	return 0;
}

static void zap(struct flight *f, uint32_t opcode, const struct CodaFid *fid)
{
	f->zaps[f->nzaps++] = (struct zap){opcode, *fid};
}

/* What other jobs may have cached that m, once done, makes untrue: the
 * names of the directories it changes (ZAPDIR), the attributes of the
 * object it changes (ZAPFILE), as venus tells a kernel of another client's
 * changes. A job knows its own: the kernel's module updates its caches
 * for the changes it makes. */
static void plan_zaps(struct flight *f, const struct coda_msg *m)
{
	const union inputArgs *in = &m->in;

	switch (m->ih.opcode) {
	case CODA_CREATE:
	case CODA_MKDIR:
	case CODA_SYMLINK:
	case CODA_REMOVE:
	case CODA_RMDIR:
		zap(f, CODA_ZAPDIR, &in->coda_create.VFid); /* first after the header in all */
		break;
	case CODA_LINK:
		zap(f, CODA_ZAPDIR, &in->coda_link.destFid);
		zap(f, CODA_ZAPFILE, &in->coda_link.sourceFid); /* its link count */
		break;
	case CODA_RENAME:
		zap(f, CODA_ZAPDIR, &in->coda_rename.sourceFid);
		if (memcmp(&in->coda_rename.destFid, &in->coda_rename.sourceFid,
			   sizeof(struct CodaFid)))
			zap(f, CODA_ZAPDIR, &in->coda_rename.destFid);
		break;
	case CODA_SETATTR:
	case CODA_STORE:
		zap(f, CODA_ZAPFILE, &in->coda_setattr.VFid);
		break;
	case CODA_CLOSE:
		if (in->coda_close.flags & C_O_WRITE)
			zap(f, CODA_ZAPFILE, &in->coda_close.VFid);
		break;
	}
}

/* The changes of f, done, to every job but the one that made them. */
static void send_zaps(struct relay *r, const struct flight *f)
{
	for (int i = 0; i < f->nzaps; i++) {
		struct coda_msg d = {.fd = -1};

		memset(d.raw, 0, sizeof(struct coda_zapfile_out));
		d.len = sizeof(struct coda_zapfile_out); /* a zapdir is the same */
		d.oh.opcode = f->zaps[i].opcode;
		d.out.coda_zapfile.CodaFid = f->zaps[i].fid;
		answers_zap(r->answers, d.oh.opcode, &f->zaps[i].fid);
		for (struct conn *c = *r->conns; c; c = c->next)
			if (c != f->job.conn)
				conn_send(c, &d);
		if (r->trace)
			coda_trace_downcall(r->trace, "other jobs", &d);
	}
}

/* Does m name only objects venus has handed c? A fid made up or taken from
 * another job's traffic would reach objects whose directories c's user may
 * not search: the kernel names only what its lookups found. */
static bool names_given(const struct conn *c, const struct coda_msg *m)
{
	struct CodaFid fids[2];
	int n = coda_msg_upcall_fids(m, fids);

	for (int i = 0; i < n; i++)
		if (!user_was_given(c->user, &fids[i]))
			return false;
	return true;
}

/* --trace: m answered by the server from what venus answered before. */
static void trace_kept(struct relay *r, struct conn *c, const struct coda_msg *m, int err)
{
	char line[CODA_TRACE_LEN], who[48];

	coda_trace_format(m, line, sizeof(line));
	snprintf(who, sizeof(who), "job %d (kept answer)", (int)c->pid);
	coda_trace_answer(r->trace, who, line, err, latency_now_ns());
}

/* Answers m with venus's answer to the same upcall, kept (answers.h): no
 * round trip to venus. A fid it hands out is the job's as if venus had. A
 * job that maps its uid's table reads such answers itself; this serves
 * one that does not, or that missed (its copy torn by our write). */
static bool answer_kept(struct relay *r, struct conn *c, const struct coda_msg *m,
			const unsigned char *key, size_t klen)
{
	struct coda_msg out;
	struct CodaFid fid;

	if (!answers_find(c->user, key, klen, &out))
		return false;
	if (out.oh.result == 0 && coda_msg_reply_fid(&out, m->ih.opcode, &fid) &&
	    user_give(c->user, &fid) < 0)
		return false; /* venus answers then */
	out.oh.unique = m->ih.unique;
	conn_send(c, &out);
	if (r->trace)
		trace_kept(r, c, m, (int)out.oh.result);
	return true;
}

/* The key of m's answer, to keep it when it comes. */
static void key_of(struct flight *f, struct user *u, const unsigned char *key, size_t klen)
{
	f->user = u;
	f->key = klen ? malloc(klen) : NULL;
	if (f->key) {
		memcpy(f->key, key, klen);
		f->klen = klen;
	}
}

/* f joins the tables, where venus's reply and its job's signal find it
 * (land() is the way out). 0, or -ENOMEM with f in neither. */
static int take_off(struct relay *r, struct flight *f)
{
	HASH_ADD(hh, r->by_unique, unique, sizeof(f->unique), f);
	if (!HASH_ADDED(hh, f))
		return -ENOMEM;
	if (f->job.conn) {
		HASH_ADD(hh_job, r->by_job, job, sizeof(f->job), f);
		if (!HASH_ADDED(hh_job, f)) {
			HASH_DELETE(hh, r->by_unique, f);
			return -ENOMEM;
		}
		f->job.conn->inflight++;
	}
	r->inflight++;
	return 0;
}

/* m to venus as f, f's job (if any) waiting for its reply; f is in the
 * tables first, so that the reply finds it. 0, -ENOMEM with nothing sent
 * and m as it was, or -EPIPE; f is freed but on success. */
static int send_flight(struct relay *r, struct flight *f, struct coda_msg *m)
{
	f->unique = next_unique(r);
	f->opcode = m->ih.opcode;
	plan_zaps(f, m);
	if (take_off(r, f) < 0) {
		free_flight(f);
		return -ENOMEM;
	}
	m->ih.unique = f->unique;
	if (r->trace)
		trace_sent(f, m);
	if (chan_send(r->venus, m) < 0) {
		land(r, f);
		return -EPIPE;
	}
	return 0;
}

/* The closes of the opens of jobs gone, while venus has room for them: a
 * close must not be lost to the cap, so the rest wait for replies. Their
 * replies go to nobody. */
static void send_closes(struct relay *r)
{
	while (r->closes && r->inflight < RELAY_VENUS_MAX) {
		struct open_rec *rec = r->closes;
		struct flight *f = calloc(1, sizeof(*f));
		struct coda_msg m;
		int rc;

		if (!f)
			return; /* the next reply tries again */
		open_rec_close(rec, &m);
		rc = send_flight(r, f, &m);
		if (rc == -ENOMEM)
			return; /* rec stays: the next reply tries again */
		r->closes = rec->next;
		free(rec);
		if (rc < 0)
			return; /* venus gone: seen on its channel */
	}
}

int relay_upcall(struct relay *r, struct conn *c, struct coda_msg *m)
{
	unsigned char key[SHTABLE_KEY_MAX];
	struct flight *f;
	size_t klen;
	int err = 0, rc;

	if (m->ih.opcode == CODA_SIGNAL)
		return relay_signal(r, c, m->ih.unique);
	if (!names_given(c, m)) {
		conn_reply(c, &m->ih, -ESTALE);
		return 0;
	}
	if (by_job(r, c, m->ih.unique)) {
		conn_reply(c, &m->ih, -EBUSY); /* its unique is in flight already */
		return 0;
	}
	/* Root may act as any uid, as its supervisor's target can setuid;
	 * anyone else only as itself. */
	if (c->uid != 0)
		m->ih.uid = c->uid;
	klen = shtable_key(m, c->uid, key);
	if (klen && answer_kept(r, c, m, key, klen))
		return 0;
	f = calloc(1, sizeof(*f));
	if (f)
		f->open = open_rec_of(m, &err);
	if (!f || err) {
		free(f);
		conn_reply(c, &m->ih, -ENOMEM);
		return 0;
	}
	f->job.conn = c;
	f->job.unique = m->ih.unique;
	key_of(f, c->user, key, klen);
	rc = send_flight(r, f, m);
	if (rc == -ENOMEM) {
		conn_reply(c, &m->ih, -ENOMEM); /* a close not sent leaves its open in c's set */
		return 0;
	}
	if (m->ih.opcode == CODA_CLOSE)
		opens_closed(&c->opens, &(struct open_key){m->in.coda_close.VFid,
							   (uint32_t)m->in.coda_close.flags});
	return rc;
}

/* A downcall of venus's drops the answers it makes untrue. */
static void venus_zap(struct relay *r, const struct coda_msg *m)
{
	switch (m->oh.opcode) {
	case CODA_ZAPFILE:
	case CODA_ZAPDIR:
	case CODA_PURGEFID:
		if (m->len >= sizeof(struct coda_zapfile_out)) /* the same for the three */
			answers_zap(r->answers, m->oh.opcode, &m->out.coda_zapfile.CodaFid);
		break;
	/* Every kept LOOKUP that gave the old fid, filed about its directory,
	 * is untrue too: as the jobs' caches (coda/cache.c), drop all. */
	case CODA_REPLACE:
	case CODA_PURGEUSER:
	case CODA_FLUSH:
		answers_flush(r->answers);
		break;
	}
}

static void broadcast(struct relay *r, const struct coda_msg *m)
{
	for (struct conn *c = *r->conns; c; c = c->next)
		conn_send(c, m);
}

static void drop(struct coda_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* Venus granted f's open: the job's to close, or, the job gone, ours. An
 * open the job's set has no room for is ours too, and -ENOMEM: the job is
 * told its open failed. */
static int keep_open(struct relay *r, struct flight *f)
{
	struct open_rec *rec = f->open;
	struct conn *c = f->job.conn;

	f->open = NULL;
	if (c) {
		HASH_ADD(hh, c->opens, key, sizeof(rec->key), rec);
		if (HASH_ADDED(hh, rec))
			return 0;
	}
	rec->next = r->closes;
	r->closes = rec;
	return c ? -ENOMEM : 0;
}

/* Venus's success in m becomes err for f's job, with no file. */
static void fail_reply(const struct flight *f, struct coda_msg *m, int err)
{
	drop(m);
	coda_msg_reply(m, &(struct coda_in_hdr){.opcode = f->opcode}, err);
}

struct conn *relay_from_venus(struct relay *r, struct coda_msg *m)
{
	struct conn *c = NULL;
	struct CodaFid fid;
	struct flight *f;

	if (m->len < sizeof(struct coda_out_hdr)) {
		drop(m);
		return NULL;
	}
	if (coda_is_downcall(m->oh.opcode)) {
		drop(m); /* no downcall carries an fd */
		if (r->trace)
			coda_trace_downcall(r->trace, "every job", m);
		if (m->oh.opcode == CODA_REPLACE && m->len >= sizeof(struct coda_replace_out))
			answers_replace(r->answers, &m->out.coda_replace.OldFid,
					&m->out.coda_replace.NewFid);
		venus_zap(r, m);
		broadcast(r, m);
		return NULL;
	}
	HASH_FIND(hh, r->by_unique, &m->oh.unique, sizeof(m->oh.unique), f);
	if (f && r->trace)
		trace_answered(r, f, (int)m->oh.result);
	if (f && f->key)
		answers_keep(r->answers, f->user, f->key, f->klen, m);
	if (f && m->oh.result == 0)
		send_zaps(r, f);
	if (f && f->open && m->oh.result == 0 && keep_open(r, f) < 0)
		fail_reply(f, m, -ENOMEM);
	/* Granted, but we had no fd free for its file: the job's open fails,
	 * and venus's count of it is closed with the job's others. */
	if (f && m->oh.result == 0 && m->fd == -EMFILE)
		fail_reply(f, m, -EMFILE);
	if (f && f->job.conn) {
		c = f->job.conn;
		if (m->oh.result == 0 && coda_msg_reply_fid(m, f->opcode, &fid) &&
		    user_give(c->user, &fid) < 0)
			fail_reply(f, m, -ENOMEM);
		m->oh.unique = (uint32_t)f->job.unique;
		conn_send(c, m);
	}
	if (f)
		land(r, f);
	drop(m); /* the job has its own copy now, or nobody wants it */
	send_closes(r);
	return c;
}

void relay_conn_gone(struct relay *r, struct conn *c)
{
	struct flight *f, *tmp;

	HASH_ITER(hh, r->by_unique, f, tmp)
	{
		if (f->job.conn != c)
			continue;
		/* A change is left to finish: its answer is what tells the
		 * other jobs of it (its zaps). So is an open, which we close
		 * when granted: a CODA_SIGNAL after venus's reply, still on its
		 * way to us, would come too late for a venus to undo it. */
		if (coda_opcode_interruptible(f->opcode) && !f->nzaps && !f->open) {
			send_signal(r, f);
			land(r, f);
			continue;
		}
		/* Venus must finish it (a close, a store, a change): its reply is
		 * dropped. */
		HASH_DELETE(hh_job, r->by_job, f);
		f->job.conn = NULL;
		c->inflight--;
	}
	if (r->venus < 0) {
		opens_free(&c->opens); /* venus stopped, its counts with it */
		return;
	}
	opens_move(&c->opens, &r->closes);
	send_closes(r);
}

void relay_free(struct relay *r)
{
	struct flight *f, *tmp;

	HASH_ITER(hh, r->by_unique, f, tmp)
	{
		HASH_DELETE(hh, r->by_unique, f);
		if (f->job.conn)
			HASH_DELETE(hh_job, r->by_job, f);
		free_flight(f);
	}
	opens_queue_free(&r->closes);
	r->venus = -1; /* stopped: jobs that go now leave nothing to close */
	r->inflight = 0;
	answers_free(r->answers);
	r->answers = NULL;
}
