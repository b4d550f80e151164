/* The device channel to venus, as fs/coda/psdev.c: upcalls go out tagged with
 * a unique number, replies come back in any order and wake the task that
 * waits for them; downcalls are handed to the caches. */
#ifndef CODA_PSDEV_H
#define CODA_PSDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

struct sup;
struct task;
struct upc_req;

struct venus_comm {
	int chan;		 /* our end of the message channel, -1 once closed */
	bool dead;		 /* venus closed the channel: every call now fails */
	uint32_t seq;		 /* last unique handed out */
	int timeout_ms;		 /* how long venus may make no progress at all */
	int64_t progress_ms;	 /* when venus last answered, or was seen working */
	int64_t sample_ms;	 /* when its scheduling count was last read */
	unsigned long long runs; /* how often it had been scheduled then */
	struct upc_req *pending; /* sent, waiting for a reply, by unique */
	/* Is the call behind t to end now (a signal)? NULL: never. */
	bool (*interrupted)(struct sup *s, struct task *t);
};

void psdev_init(struct venus_comm *vc, int chan, int timeout_s);

/* Sends the upcall in m and sleeps until its reply is in m, for as long as
 * venus makes progress (as the kernel's coda_upcall waits: a big store may
 * take minutes). Returns the venus result as a negative errno, -ENXIO when
 * venus is gone, -EINTR when it went away, made no progress at all for the
 * timeout (no reply to anything, never scheduled, not running or in a disk
 * wait) or the caller was interrupted (as the kernel does), -EIO for a bad
 * reply.
 * A passed fd comes back in m->fd and belongs to the caller. */
int coda_upcall(struct task *t, struct coda_msg *m);

/* Event-loop side: a message is waiting on the channel. */
void psdev_readable(struct sup *s);

/* A message from venus however it came (the channel, or a hosted venus's
 * write on its device): a reply wakes its caller, a downcall reaches the
 * caches. Takes in->fd. */
void psdev_deliver(struct sup *s, struct coda_msg *in);

/* The upcall still waiting for the reply `unique`, or NULL. */
const struct coda_msg *psdev_upcall_of(struct sup *s, uint32_t unique);

/* Fails the calls whose time is up or whose caller was interrupted, telling
 * venus (CODA_SIGNAL); returns ms until the next check or -1. */
int psdev_expire(struct sup *s);

/* The channel is gone: fail every pending call and refuse new ones. */
void psdev_venus_gone(struct sup *s);

#endif
