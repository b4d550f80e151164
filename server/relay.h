/* The relay between jobs and the one venus: each upcall gets a server-wide
 * unique and its sender's uid, each reply goes back with the job's own
 * unique (and the container fd) to the job that asked, each downcall to
 * every job. */
#ifndef CODA_SERVER_RELAY_H
#define CODA_SERVER_RELAY_H

#include "conn.h"

/* Upcalls in flight to venus. Few enough that venus's replies to them
 * always fit its socket's buffer (32 replies of a 4 KiB symlink target at
 * most), so venus never waits to write to us while we wait to write to
 * it; enough to keep a venus busy. */
#define RELAY_VENUS_MAX 32
/* Upcalls in flight from one connection: others get their turn while one
 * floods. */
#define CONN_INFLIGHT_MAX 16

struct flight;
struct answers;

struct relay {
	int venus;		   /* the channel to venus */
	uint32_t seq;		   /* the last unique handed out */
	unsigned inflight;	   /* upcalls venus has not answered */
	struct flight *by_unique;  /* ours: how venus's replies find theirs */
	struct flight *by_job;	   /* (connection, its unique): for CODA_SIGNAL */
	struct conn *const *conns; /* every job: downcalls go to all */
	FILE *trace;		   /* --trace: where each message is shown, or NULL */
	struct answers *answers;   /* venus's answers kept for every job */
	struct open_rec *closes;   /* opens of jobs gone, to close (opens.h) */
};

/* 0, or -ENOMEM. */
int relay_init(struct relay *r, int venus, struct conn *const *conns, FILE *trace);
void relay_free(struct relay *r);

/* An upcall (or CODA_SIGNAL) from c, checked, to venus. 0, or -EPIPE when
 * venus has gone. */
int relay_upcall(struct relay *r, struct conn *c, struct coda_msg *m);

/* A message from venus, to whom it is for. Returns the connection a reply
 * went to (it may have room for more upcalls now), or NULL. Takes m->fd. */
struct conn *relay_from_venus(struct relay *r, struct coda_msg *m);

/* c has gone: venus gets CODA_SIGNAL for each of its upcalls it may drop,
 * as the kernel sends for an interrupted one; replies to the others, and
 * any that come all the same, are dropped. Each open venus granted c (or
 * grants it still) and c did not close gets its CODA_CLOSE, as c's, as the
 * kernel's release of a dead process's files. */
void relay_conn_gone(struct relay *r, struct conn *c);

#endif
