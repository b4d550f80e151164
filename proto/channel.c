#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "poll_first.h"

int chan_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	return 0;
}

int chan_send(int sock, const struct coda_msg *m)
{
	return chan_send_flags(sock, m, MSG_NOSIGNAL);
}

int chan_send_flags(int sock, const struct coda_msg *m, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align; /* CMSG_* need an aligned buffer */
	} control = {0};
	struct iovec iov = {.iov_base = (void *)m->raw, .iov_len = m->len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (m->fd >= 0) {
		struct cmsghdr *cmsg;

		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &m->fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	return (size_t)n == m->len ? 0 : -EIO;
}

/* Takes the first fd of an SCM_RIGHTS message and closes any others, so that a
 * peer sending more than the protocol allows cannot leak fds into us. */
static int take_passed_fd(struct msghdr *msg)
{
	int fd = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t nfds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = got;
			else
				close(got);
		}
	}
	return fd;
}

static int recv_flags(int sock, struct coda_msg *m, int flags)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align; /* CMSG_* need an aligned buffer */
	} control;
	struct iovec iov = {.iov_base = m->raw, .iov_len = sizeof(m->raw)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	ssize_t n;

	m->fd = -1;
	m->len = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	m->fd = take_passed_fd(&msg);
	if (n > 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == MSG_CTRUNC) {
		/* The record whole, its fd lost: we had none free for it. */
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -EMFILE;
		m->len = (size_t)n;
		return 0;
	}
	if (n == 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		return n == 0 ? -EPIPE : -EMSGSIZE;
	}
	m->len = (size_t)n;
	return 0;
}

int chan_recv(int sock, struct coda_msg *m)
{
	return recv_flags(sock, m, MSG_DONTWAIT);
}

int chan_recv_wait(int sock, struct coda_msg *m)
{
	return recv_flags(sock, m, 0);
}

struct recv_args {
	int sock;
	struct coda_msg *m;
};

static int recv_now(void *arg)
{
	const struct recv_args *a = arg;

	return chan_recv(a->sock, a->m);
}

int chan_recv_poll(int sock, struct coda_msg *m, long poll_ns)
{
	struct recv_args a = {sock, m};
	int err = poll_first(recv_now, &a, -EAGAIN, poll_ns);

	return err != -EAGAIN ? err : chan_recv_wait(sock, m);
}
