/* The caller's side of the channel to venus, as fs/coda/psdev.c: upcalls go
 * out tagged with a unique number, replies come back in any order and wake
 * the caller that waits for them. */
#ifndef CODA_PSDEV_H
#define CODA_PSDEV_H

#include "coda.h"

/* Sends the upcall in m and sleeps until its reply is in m, for as long as
 * venus makes progress (as the kernel's coda_upcall waits: a big store may
 * take minutes). Returns the venus result as a negative errno, -ENXIO when
 * venus is gone, -EINTR when it went away, made no progress at all for the
 * timeout (no reply to anything, never scheduled, not running or in a disk
 * wait) or the caller was interrupted (as the kernel does), -EIO for a bad
 * reply. A passed fd comes back in m->fd and belongs to the caller. */
int coda_upcall(struct coda_req *r, struct coda_msg *m);

/* The caller of r as an upcall names it. */
int coda_caller(struct coda_req *r, struct coda_caller *who);

#endif
