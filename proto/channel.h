/* The message channel between the supervisor and a venus: one Coda message per
 * SOCK_SEQPACKET record, an fd riding along with SCM_RIGHTS where the protocol
 * hands one over (the container of a CODA_OPEN_BY_FD reply). */
#ifndef CODA_CHANNEL_H
#define CODA_CHANNEL_H

#include "msg.h"

/* Both ends of a new channel, close-on-exec. */
int chan_pair(int fds[2]);

/* Sends m->len bytes of m, and m->fd if it is not -1. 0 or negative errno. */
int chan_send(int sock, const struct coda_msg *m);
/* The same with sendmsg flags of the caller's (chan_send: MSG_NOSIGNAL). */
int chan_send_flags(int sock, const struct coda_msg *m, int flags);

/* Receives one message into m (m->fd set to a received fd or -1; -EMFILE
 * when one came and we had no fd free for it). 0 on success, -EPIPE when
 * the peer has gone, -EAGAIN when nothing is waiting, -EMSGSIZE for an
 * oversized record (dropped whole). */
int chan_recv(int sock, struct coda_msg *m);
/* The same, sleeping until a message (or the end) comes: a peer with
 * nothing else to wait for saves a poll and an empty read per message. */
int chan_recv_wait(int sock, struct coda_msg *m);
/* The same, polled for poll_ns before it sleeps (poll_first.h). */
int chan_recv_poll(int sock, struct coda_msg *m, long poll_ns);

#endif
