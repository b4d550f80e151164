/* Connections of jobs: accepted with their credentials, every message
 * checked before anything else sees it. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/channel.h"
#include "conn.h"
#include "control.h"
#include "opens.h"

/* Room for the replies a job has not read yet (capped to wmem_max): a busy
 * job must not lose its connection for being slow. */
#define CONN_SNDBUF (1 << 20)

int conn_accept(int listener, struct conn **cp)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int sndbuf = CONN_SNDBUF, fd;
	struct conn *c;

	fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	*cp = c;
	return 0;
}

int conn_take(struct conn *c, struct coda_msg *m, FILE *log, bool verbose)
{
	int rc = chan_recv(c->fd, m);

	if (rc == -EAGAIN)
		return rc;
	if (rc < 0)
		return -EPIPE;
	/* No upcall hands venus an fd: do not keep one we were sent. */
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->len < sizeof(struct coda_in_hdr)) {
		if (verbose)
			fprintf(log, "coda-exec: serve: pid %d: a %zu-byte record: closed\n",
				(int)c->pid, m->len);
		return -EPIPE;
	}
	if (coda_server_control(m->ih.opcode))
		return 0;
	rc = coda_msg_check_upcall(m);
	if (!rc)
		rc = coda_msg_check_upcall_args(m);
	if (!rc)
		return 0;
	if (verbose)
		fprintf(log, "coda-exec: serve: pid %d: bad upcall (opcode %u): %s\n", (int)c->pid,
			m->ih.opcode, strerror(-rc));
	conn_reply(c, &m->ih, rc);
	return 1;
}

void conn_send(struct conn *c, const struct coda_msg *m)
{
	if (!c->broken && chan_send_flags(c->fd, m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		c->broken = true;
}

void conn_reply(struct conn *c, const struct coda_in_hdr *ih, int err)
{
	struct coda_msg out;

	coda_msg_reply(&out, ih, err);
	conn_send(c, &out);
}

void conn_close(struct conn *c)
{
	opens_free(&c->opens);
	close(c->fd);
	free(c);
}
