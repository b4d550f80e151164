/* The server's socket file: made and refused, and the clients' side of it
 * (--attach, --stop). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/channel.h"
#include "control.h"
#include "server.h"

static int address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* A socket connected to path: fd or -errno. A connect waits for room in
 * the server's backlog at most timeout_ms (0: not at all), as SO_SNDTIMEO
 * bounds it; then the socket blocks again, as a venus channel does. */
static int connect_to(const char *path, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	struct timeval forever = {0};
	struct sockaddr_un sa;
	int fd, rc = address(path, &sa);

	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (timeout_ms ? 0 : SOCK_NONBLOCK), 0);
	if (fd < 0)
		return -errno;
	if ((timeout_ms && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &forever, sizeof(forever)) < 0) {
		rc = errno == EAGAIN && timeout_ms ? -ETIMEDOUT : -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* A socket bound to name and listening: fd or -errno. */
static int bound_listening(const char *name)
{
	struct sockaddr_un sa;
	int fd, rc = address(name, &sa);

	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* bind makes the socket file before listen lets a connect in: a job that
 * attaches as soon as it sees the file would be refused. So the socket
 * listens under a name of its own first and is then linked to path, which
 * fails, as bind does, when path exists. Where that cannot be done (no
 * room for the name, the name taken, a file system with no hard links),
 * path is bound directly. */
static int listening_at(const char *path)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return bound_listening(path);
	fd = bound_listening(tmp);
	if (fd == -EADDRINUSE)
		return bound_listening(path);
	if (fd < 0)
		return fd;
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return fd;
	}
	n = errno;
	close(fd);
	unlink(tmp);
	return n == EEXIST ? -EADDRINUSE : bound_listening(path);
}

int server_listen(const char *path)
{
	struct stat st;
	int fd = connect_to(path, 0);

	if (fd >= 0 || fd == -EAGAIN) {
		if (fd >= 0)
			close(fd);
		return -EADDRINUSE; /* it answers, or its backlog is full */
	}
	if (fd == -ECONNREFUSED) {
		/* A socket nobody listens on any more; anything else stays. */
		if (lstat(path, &st) < 0)
			return -errno;
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(path) < 0)
			return -errno;
	} else if (fd != -ENOENT) {
		return fd;
	}
	return listening_at(path);
}

/* Waits up to timeout_ms for a message on fd: 0 and m, or -errno (-EPIPE
 * at the end). */
static int receive(int fd, struct coda_msg *m, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int rc = poll(&pfd, 1, timeout_ms);

	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	return chan_recv(fd, m);
}

/* Sends the control message opcode and waits for its answer, which it
 * leaves in *answer, with the fd it passed (the caller's) in answer->fd. */
static int control(int fd, uint32_t opcode, int timeout_ms, struct coda_msg *answer)
{
	struct coda_caller me = {getpid(), getpgrp(), getuid()};
	int rc;

	memset(&answer->ih, 0, sizeof(answer->ih));
	coda_msg_upcall(answer, opcode, &me); /* not Coda's: sets the header only */
	answer->len = sizeof(answer->ih);
	rc = chan_send(fd, answer);
	/* Downcalls of other jobs' changes may come first: a job that has
	 * cached nothing yet has nothing to drop for them. */
	while (!rc) {
		rc = receive(fd, answer, timeout_ms);
		if (rc || answer->len < sizeof(answer->oh) || !coda_is_downcall(answer->oh.opcode))
			break;
		if (answer->fd >= 0)
			close(answer->fd);
	}
	if (rc < 0)
		return rc;
	if (answer->len < sizeof(answer->oh) || answer->oh.opcode != opcode ||
	    answer->oh.result > 4095)
		rc = -EPROTO;
	else
		rc = -(int)answer->oh.result;
	if (rc < 0 && answer->fd >= 0)
		close(answer->fd);
	return rc;
}

int server_attach(const char *path, int timeout_ms, struct server_hello *hello)
{
	int fd = connect_to(path, timeout_ms), rc;
	struct coda_server_hello_out out = {0};
	struct coda_msg m;

	if (fd < 0)
		return fd;
	rc = control(fd, CODA_SERVER_HELLO, timeout_ms, &m);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	memcpy(&out, m.raw, m.len < sizeof(out) ? m.len : sizeof(out));
	hello->venus_pid = out.venus_pid > 0 ? (pid_t)out.venus_pid : 0;
	hello->uid = out.uid;
	hello->fixed_containers = out.venus_flags & CODA_SERVER_FIXED_CONTAINERS;
	hello->table = m.len >= sizeof(out) && m.fd >= 0 ? m.fd : -1;
	if (hello->table < 0 && m.fd >= 0)
		close(m.fd);
	return fd;
}

int server_stop(const char *path, int timeout_ms)
{
	int fd = connect_to(path, timeout_ms), rc;
	struct coda_msg m;

	if (fd < 0)
		return fd;
	rc = control(fd, CODA_SERVER_STOP, timeout_ms, &m);
	if (!rc && m.fd >= 0)
		close(m.fd);
	/* The server closes every connection once venus has stopped. */
	while (!rc) {
		rc = receive(fd, &m, timeout_ms);
		if (!rc && m.fd >= 0)
			close(m.fd);
	}
	close(fd);
	return rc == -EPIPE ? 0 : rc;
}
