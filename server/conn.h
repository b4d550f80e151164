/* A job's connection to the server: who it is (SO_PEERCRED, from the
 * kernel, never from its messages), and its messages taken in as untrusted
 * input. */
#ifndef CODA_SERVER_CONN_H
#define CODA_SERVER_CONN_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "proto/msg.h"

struct user;
struct open_rec;

struct conn {
	int fd;
	uid_t uid; /* of the process that connected, as the kernel says */
	pid_t pid;
	unsigned inflight;	/* its upcalls venus has not answered */
	bool paused;		/* not read while at CONN_INFLIGHT_MAX */
	bool broken;		/* gone, or does not read what we send: to be closed */
	struct user *user;	/* its uid's answers and fids (answers.h) */
	struct open_rec *opens; /* venus's opens it has not closed (opens.h) */
	struct conn *prev, *next;
};

/* Accepts one connection on listener: 0 and *cp, -EAGAIN if none waits, or
 * -errno. Its socket is non-blocking: a job that does not read its
 * replies must not stop the server. */
int conn_accept(int listener, struct conn **cp);

/* Takes one message from c into m: 0 for a message to act on (a whole,
 * checked upcall, CODA_SIGNAL or a control message), 1 for one that has
 * had its error reply, -EAGAIN if none waits, -EPIPE when c must be closed
 * (its end, or a record with no header to answer: too short, too long). */
int conn_take(struct conn *c, struct coda_msg *m, FILE *log, bool verbose);

/* Sends m (and m->fd) to c without waiting; c is marked broken if that
 * fails. */
void conn_send(struct conn *c, const struct coda_msg *m);

/* Answers the message with header ih with error err (0: success). */
void conn_reply(struct conn *c, const struct coda_in_hdr *ih, int err);

void conn_close(struct conn *c);

#endif
