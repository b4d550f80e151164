/* The server's loop: the listening socket, venus's channel, SIGTERM and
 * SIGINT, and the jobs' connections in an epoll set of their own, which
 * the loop stops watching while RELAY_VENUS_MAX upcalls are in flight. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "proto/channel.h"
#include "proto/poll_first.h"
#include "answers.h"
#include "relay.h"
#include "control.h"
#include "server.h"

/* Connections at once; more are closed as they come, before the fds run out. */
#define CONN_MAX 512

enum watch { W_LISTENER, W_VENUS, W_SIGNAL, W_CONNS };

struct server {
	int ep;	     /* the listener, venus, the signalfd, conn_ep */
	int conn_ep; /* the connections, each while it may send */
	bool conns_watched;
	int listener, sigfd;
	struct conn *conns;
	unsigned nconns;
	struct relay relay;
	bool stopping, venus_gone;
	pid_t venus_pid;
	uint32_t venus_flags; /* told to every job at HELLO */
	FILE *log;
	bool verbose;
};

static int watch(int ep, int op, int fd, uint32_t events, epoll_data_t data)
{
	struct epoll_event ev = {.events = events, .data = data};

	return epoll_ctl(ep, op, fd, &ev) < 0 ? -errno : 0;
}

static int watch_fixed(struct server *srv, int fd, enum watch w)
{
	return watch(srv->ep, EPOLL_CTL_ADD, fd, EPOLLIN, (epoll_data_t){.u32 = w});
}

/* A connection is read while it has fewer than CONN_INFLIGHT_MAX upcalls
 * in flight. */
static void pace(struct server *srv, struct conn *c)
{
	bool pause = c->inflight >= CONN_INFLIGHT_MAX;

	if (pause == c->paused || c->broken)
		return;
	if (watch(srv->conn_ep, EPOLL_CTL_MOD, c->fd, pause ? 0 : EPOLLIN,
		  (epoll_data_t){.ptr = c}) == 0)
		c->paused = pause;
}

/* The connections are read while venus has room for more upcalls. */
static void pace_all(struct server *srv)
{
	bool want = srv->relay.inflight < RELAY_VENUS_MAX;

	if (want == srv->conns_watched)
		return;
	if (watch(srv->ep, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, srv->conn_ep, EPOLLIN,
		  (epoll_data_t){.u32 = W_CONNS}) == 0)
		srv->conns_watched = want;
}

static void accept_one(struct server *srv)
{
	struct conn *c;
	int rc = conn_accept(srv->listener, &c);

	if (rc == -EAGAIN)
		return;
	if (rc < 0) {
		fprintf(srv->log, "coda-exec: serve: accept: %s\n", strerror(-rc));
		return;
	}
	if (srv->nconns >= CONN_MAX || answers_user(srv->relay.answers, c->uid, &c->user) < 0 ||
	    watch(srv->conn_ep, EPOLL_CTL_ADD, c->fd, EPOLLIN, (epoll_data_t){.ptr = c}) < 0) {
		conn_close(c);
		return;
	}
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->nconns++;
	if (srv->verbose)
		fprintf(srv->log, "coda-exec: serve: job pid %d uid %u attached\n", (int)c->pid,
			c->uid);
}

static void close_conn(struct server *srv, struct conn *c)
{
	if (srv->verbose)
		fprintf(srv->log, "coda-exec: serve: job pid %d gone, %u calls in flight\n",
			(int)c->pid, c->inflight);
	relay_conn_gone(&srv->relay, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	conn_close(c); /* its fd leaves conn_ep as it closes */
}

/* Connections found gone, or not reading what they are sent. */
static void close_broken(struct server *srv)
{
	struct conn *c = srv->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->broken)
			close_conn(srv, c);
	}
}

/* HELLO: venus's pid and the job's uid with the answer, and the table of
 * that uid's answers for the job to read (control.h). */
static void hello(struct server *srv, struct conn *c, const struct coda_msg *m)
{
	struct coda_server_hello_out out;
	struct coda_msg reply;

	coda_msg_reply(&reply, &m->ih, 0);
	memcpy(&out.oh, &reply.oh, sizeof(out.oh));
	out.venus_pid = srv->venus_pid > 0 ? (int32_t)srv->venus_pid : 0;
	out.uid = c->uid;
	out.venus_flags = srv->venus_flags;
	memcpy(reply.raw, &out, sizeof(out));
	reply.len = sizeof(out);
	reply.fd = answers_table_fd(c->user);
	conn_send(c, &reply);
}

/* STOP: from the server's own uid or root, as a signal would be. */
static void control(struct server *srv, struct conn *c, const struct coda_msg *m)
{
	int err = 0;

	if (m->ih.opcode == CODA_SERVER_HELLO) {
		hello(srv, c, m);
		return;
	}
	if (c->uid == 0 || c->uid == geteuid())
		srv->stopping = true;
	else
		err = -EPERM;
	conn_reply(c, &m->ih, err);
}

static void conn_message(struct server *srv, struct conn *c)
{
	struct coda_msg m;
	int rc = conn_take(c, &m, srv->log, srv->verbose);

	if (rc == -EAGAIN || rc == 1)
		return;
	if (rc < 0) {
		c->broken = true;
		return;
	}
	if (coda_server_control(m.ih.opcode)) {
		control(srv, c, &m);
		return;
	}
	if (relay_upcall(&srv->relay, c, &m) < 0)
		srv->venus_gone = true;
	pace(srv, c);
}

/* One message from each connection that has one, while venus has room. */
static void serve_conns(struct server *srv)
{
	struct epoll_event evs[32];
	int n = epoll_wait(srv->conn_ep, evs, 32, 0);

	for (int i = 0; i < n; i++) {
		struct conn *c = evs[i].data.ptr;

		if (srv->relay.inflight >= RELAY_VENUS_MAX)
			break; /* the rest stay ready for later */
		if (c->paused && !(evs[i].events & EPOLLIN))
			c->broken = true; /* hung up: it will read no reply */
		else if (!c->broken)
			conn_message(srv, c);
	}
}

static void venus_message(struct server *srv)
{
	struct coda_msg m;
	struct conn *c;
	int rc = chan_recv(srv->relay.venus, &m);

	if (rc == -EPIPE) {
		srv->venus_gone = true;
		return;
	}
	if (rc < 0)
		return; /* nothing, or an oversized record: dropped whole */
	c = relay_from_venus(&srv->relay, &m);
	if (c)
		pace(srv, c);
}

static void on_signal(struct server *srv)
{
	struct signalfd_siginfo si;

	while (read(srv->sigfd, &si, sizeof(si)) == sizeof(si))
		srv->stopping = true;
}

static void dispatch(struct server *srv, const struct epoll_event *ev)
{
	switch ((enum watch)ev->data.u32) {
	case W_LISTENER:
		accept_one(srv);
		break;
	case W_VENUS:
		venus_message(srv);
		break;
	case W_SIGNAL:
		on_signal(srv);
		break;
	case W_CONNS:
		serve_conns(srv);
		break;
	}
}

int server_run(struct server *srv)
{
	while (!srv->stopping && !srv->venus_gone) {
		struct epoll_event evs[8];
		/* A job's next upcall or venus's reply usually comes at once:
		 * polled a while before sleeping (proto/poll_first.h). */
		int n = poll_epoll_wait(srv->ep, evs, 8, -1, POLL_NS);

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			dispatch(srv, &evs[i]);
		close_broken(srv);
		pace_all(srv);
	}
	return srv->venus_gone ? -EPIPE : 0;
}

/* SIGTERM and SIGINT stop the server through a signalfd; a job gone must
 * not kill it with SIGPIPE. */
static int signals(struct server *srv)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	srv->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return srv->sigfd < 0 ? -errno : 0;
}

int server_new(int listener, int venus, pid_t venus_pid, bool fixed_containers, FILE *log,
	       bool verbose, bool trace, struct server **srvp)
{
	struct server *srv = calloc(1, sizeof(*srv));
	int rc;

	*srvp = srv;
	if (!srv)
		return -ENOMEM;
	srv->listener = listener;
	srv->venus_pid = venus_pid;
	srv->venus_flags = fixed_containers ? CODA_SERVER_FIXED_CONTAINERS : 0;
	srv->log = log;
	srv->verbose = verbose;
	srv->sigfd = -1;
	rc = relay_init(&srv->relay, venus, &srv->conns, trace ? log : NULL);
	if (rc < 0)
		return rc;
	srv->ep = epoll_create1(EPOLL_CLOEXEC);
	srv->conn_ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv->ep < 0 || srv->conn_ep < 0)
		return -errno;
	rc = signals(srv);
	if (!rc)
		rc = watch_fixed(srv, listener, W_LISTENER);
	if (!rc)
		rc = watch_fixed(srv, venus, W_VENUS);
	if (!rc)
		rc = watch_fixed(srv, srv->sigfd, W_SIGNAL);
	if (!rc)
		pace_all(srv);
	return rc;
}

void server_free(struct server *srv)
{
	if (!srv)
		return;
	relay_free(&srv->relay); /* venus has stopped: nobody to signal */
	while (srv->conns)
		close_conn(srv, srv->conns);
	if (srv->sigfd >= 0)
		close(srv->sigfd);
	if (srv->conn_ep >= 0)
		close(srv->conn_ep);
	if (srv->ep >= 0)
		close(srv->ep);
	free(srv);
}
