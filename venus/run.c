/* The embedded venus's transport: a SOCK_SEQPACKET channel, one Coda message
 * per record, the container of a CODA_OPEN_BY_FD reply passed by SCM_RIGHTS. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto/channel.h"
#include "proto/latency.h"
#include "proto/poll_first.h"
#include "venus.h"

struct link {
	struct venus *v;
	int chan;
	struct coda_msg in, out;
};

/* Serves one received upcall. Only a vanished peer is an error here. */
static int serve_one(struct link *l)
{
	int err;

	if (l->in.fd >= 0) {
		/* No upcall hands venus an fd: do not keep one we were sent. */
		close(l->in.fd);
		l->in.fd = -1;
	}
	if (!venus_serve(l->v, &l->in, &l->out))
		return 0;
	err = chan_send(l->chan, &l->out);
	if (l->out.fd >= 0)
		close(l->out.fd); /* the peer has its own copy now, or never will */
	l->out.fd = -1;
	if (err && err != -EPIPE)
		fprintf(stderr, "coda-venus: cannot send the %s reply: %s\n",
			coda_opcode_name(l->in.ih.opcode), strerror(-err));
	return err == -EPIPE ? err : 0;
}

/* How long to poll for the next upcall: long while they come close
 * together (a program at work), short once one has been long in coming
 * (the program is idle, or thinks), so that an idle venus burns little. */
static long next_poll(int64_t last_wait_ns)
{
	return last_wait_ns < POLL_BUSY_NS ? POLL_BUSY_NS : POLL_NS;
}

/* One message at a time, polled a while (a program's next call usually
 * follows at once, proto/poll_first.h), then sleeping in the receive
 * itself: venus waits for nothing but the channel. Returns at the end of
 * the channel (0) or on an error. */
static int serve(struct link *l)
{
	int64_t waited = POLL_BUSY_NS;

	for (;;) {
		int64_t start = latency_now_ns();
		int err = chan_recv_poll(l->chan, &l->in, next_poll(waited));

		waited = latency_now_ns() - start;

		if (err == -EMSGSIZE) {
			fprintf(stderr,
				"coda-venus: an upcall: longer than any Coda message: dropped\n");
			continue;
		}
		if (!err)
			err = serve_one(l);
		if (err == -EPIPE)
			return 0; /* the supervisor closed the channel: we are done */
		if (err) {
			fprintf(stderr, "coda-venus: channel: %s\n", strerror(-err));
			return 1;
		}
	}
}

int venus_run(int chan, const struct venus_config *cfg)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	struct link *l;
	int status;

	/* A reply to a supervisor that has gone must not kill us. */
	if (sigaction(SIGPIPE, &sa, NULL) < 0) {
		fprintf(stderr, "coda-venus: ignoring SIGPIPE: %s\n", strerror(errno));
		return 1;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		fprintf(stderr, "coda-venus: starting: out of memory\n");
		return 1;
	}
	l->chan = chan;
	l->in.fd = -1;
	l->out.fd = -1;
	if (venus_new(cfg, &l->v) < 0) {
		free(l);
		return 1;
	}
	status = serve(l);
	venus_destroy(l->v);
	free(l);
	return status;
}
