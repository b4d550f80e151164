/* recvmsg with room for control messages, done on the target's behalf: fds
 * passed over a Unix socket (SCM_RIGHTS) would land below the band, where
 * fd calls are not trapped, and a received /coda fd would be venus's
 * container to fstat, getdents64 and fchdir. Received here, each /coda one
 * is put in the band and known as the /coda file it is; every other fd goes
 * where the kernel would have put it, the lowest free one.
 *
 * The socket is taken with pidfd_getfd, or where that is denied (the default
 * seccomp profiles of Docker and containerd) borrowed with ptrace. Where
 * neither may be done, or for what we do not do ourselves (MSG_PEEK,
 * MSG_WAITALL, MSG_ERRQUEUE, other socket families), the kernel does the
 * call as it is. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uthash.h>

#include "trap/trap.h"
#include "fdtable.h"
#include "filters/fd_band.h"
#include "coda/coda.h"
#include "syscalls.h"
#include "vfs.h"

/* Beyond these the kernel does the call: a datagram may not be split. */
#define MAX_DATA    (1 << 20)
#define MAX_CONTROL 65536
#define MAX_IOV	    1024 /* UIO_MAXIOV: more is EMSGSIZE */

/* Offsets in the target's struct msghdr of what recvmsg writes back. */
#define MSGHDR_NAMELEN	  offsetof(struct msghdr, msg_namelen)
#define MSGHDR_CONTROLLEN offsetof(struct msghdr, msg_controllen)
#define MSGHDR_FLAGS	  offsetof(struct msghdr, msg_flags)

/* One recvmsg: the target's msghdr (its pointers are the target's) and our
 * buffers of the same sizes. */
struct recv_job {
	uint64_t msg_addr;
	struct msghdr theirs;
	struct iovec *iov; /* the target's iovecs */
	struct msghdr ours;
	struct iovec buf;
	struct sockaddr_storage name;
	size_t total; /* bytes the target's iovecs hold */
	int flags;
};

/* The target's socket fd, ours now; -errno when we cannot have it. Where
 * pidfd_getfd is denied, c may be answered instead (fd_borrow): the call
 * then comes again, and finds the socket lent. */
static int take_socket(struct call *c, int fd)
{
	int pidfd, sock;

	if (fd_borrowed(c, fd, &sock))
		return sock;
	if (c->trap->borrow_fds && !call_sup(c)->coda_fd_sent) {
		c->proc->in_kernel_recvmsg = true; /* see note_sent */
		return -EPERM;			   /* no /coda fd can be in any message */
	}
	pidfd = (int)syscall(SYS_pidfd_open, c->proc->tgid, 0);
	if (pidfd < 0)
		return -errno;
	sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (sock < 0)
		sock = -errno;
	close(pidfd);
	if ((sock == -EPERM || sock == -ENOSYS) && fd_borrow(c, fd) == 0)
		return -EAGAIN;
	/* The pid named the caller only if it is still in its call. */
	if (sock >= 0 && !call_valid(c)) {
		close(sock);
		return -ESRCH;
	}
	return sock;
}

static bool is_unix_socket(int sock)
{
	int domain;
	socklen_t len = sizeof(domain);

	return getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

static bool we_do(struct call *c, struct recv_job *j)
{
	if (j->flags & (MSG_PEEK | MSG_WAITALL | MSG_ERRQUEUE | MSG_OOB))
		return false;
	if (call_read(c, j->msg_addr, &j->theirs, sizeof(j->theirs)) < 0)
		return false; /* the kernel says EFAULT */
	if (!j->theirs.msg_control || !j->theirs.msg_controllen || j->theirs.msg_iovlen > MAX_IOV)
		return false;
	j->iov = calloc(j->theirs.msg_iovlen + 1, sizeof(*j->iov));
	if (!j->iov || call_read(c, (uint64_t)j->theirs.msg_iov, j->iov,
				 j->theirs.msg_iovlen * sizeof(*j->iov)) < 0)
		return false;
	for (size_t i = 0; i < j->theirs.msg_iovlen; i++)
		j->total += j->iov[i].iov_len;
	return j->total <= MAX_DATA;
}

static int alloc_buffers(struct recv_job *j)
{
	j->buf.iov_len = j->total;
	j->buf.iov_base = malloc(j->total ? j->total : 1);
	j->ours.msg_controllen =
	    j->theirs.msg_controllen < MAX_CONTROL ? j->theirs.msg_controllen : MAX_CONTROL;
	j->ours.msg_control = calloc(1, j->ours.msg_controllen);
	j->ours.msg_iov = &j->buf;
	j->ours.msg_iovlen = 1;
	if (j->theirs.msg_name && j->theirs.msg_namelen) {
		j->ours.msg_name = &j->name;
		j->ours.msg_namelen = sizeof(j->name);
	}
	return j->buf.iov_base && j->ours.msg_control ? 0 : -ENOMEM;
}

static int64_t receive_timeout_ms(int sock)
{
	struct timeval tv = {0};
	socklen_t len = sizeof(tv);

	if (getsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) < 0)
		return 0;
	return (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

/* As the kernel's recvmsg: waits (unless told not to) until a message is in. */
static ssize_t receive(struct call *c, int sock, struct recv_job *j)
{
	bool blocking = !(j->flags & MSG_DONTWAIT) && !(fcntl(sock, F_GETFL) & O_NONBLOCK);
	int flags = (j->flags & ~MSG_CMSG_CLOEXEC) | MSG_CMSG_CLOEXEC | MSG_DONTWAIT;

	for (;;) {
		ssize_t n = recvmsg(sock, &j->ours, flags);
		int rc;

		if (n >= 0 || errno != EAGAIN || !blocking)
			return n >= 0 ? n : -errno;
		rc = fdwait_readable(c, sock, receive_timeout_ms(sock));
		if (rc < 0)
			return rc;
	}
}

/* The /coda file received as fd: the sender's own record when one of ours
 * is the same open file, else a new record of the object it is; NULL for an
 * fd that is no /coda file we know. */
static struct coda_file *known_file(struct sup *s, int fd)
{
	struct proc *p, *tmp;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	HASH_ITER(hh, s->trap.procs, p, tmp)
	{
		for (int i = 0; proc_files(p) && i < CODA_FD_BAND_SIZE; i++) {
			struct coda_file *f = proc_files(p)->slot[i];

			if (f && f->cdev == st.st_dev && f->cino == st.st_ino && f->host_fd >= 0 &&
			    fdtable_same_open_file(fd, f->host_fd))
				return coda_file_get(f);
		}
	}
	return fdtable_recall(&s->file_memos, fd);
}

/* Puts a received fd into the target: its number there, or -errno. */
static int hand_over(struct call *c, int fd, bool cloexec)
{
	struct coda_file *f = known_file(call_sup(c), fd);
	int rc;

	if (!f)
		return call_add_fd(c, fd, -1, cloexec);
	rc = fdtable_add(c, f, fd, cloexec);
	coda_file_put(f);
	return rc;
}

static size_t fd_count(const struct cmsghdr *cm)
{
	return (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
}

static bool is_rights(const struct cmsghdr *cm)
{
	return cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS;
}

/* The fds of the messages from cm on, from the first-th: nobody gets them. */
static void close_received(struct msghdr *m, struct cmsghdr *cm, size_t first)
{
	for (; cm; cm = CMSG_NXTHDR(m, cm), first = 0) {
		const int *fds = (const int *)CMSG_DATA(cm);

		for (size_t i = first; is_rights(cm) && i < fd_count(cm); i++)
			close(fds[i]);
	}
}

/* Ends the control data after the i-th fd of cm, as the kernel's
 * scm_detach_fds() does when an fd cannot be handed over: MSG_CTRUNC. */
static void truncate_at(struct recv_job *j, struct cmsghdr *cm, size_t i)
{
	close_received(&j->ours, cm, i + 1);
	cm->cmsg_len = CMSG_LEN(i * sizeof(int));
	j->ours.msg_controllen = (size_t)((char *)cm - (char *)j->ours.msg_control) + cm->cmsg_len;
	j->ours.msg_flags |= MSG_CTRUNC;
}

/* Replaces our fd numbers in every SCM_RIGHTS message by the target's. */
static void hand_over_fds(struct call *c, struct recv_job *j)
{
	bool cloexec = j->flags & MSG_CMSG_CLOEXEC;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&j->ours); cm; cm = CMSG_NXTHDR(&j->ours, cm)) {
		int *fds = (int *)CMSG_DATA(cm);

		for (size_t i = 0; is_rights(cm) && i < fd_count(cm); i++) {
			int theirs = hand_over(c, fds[i], cloexec);

			close(fds[i]);
			fds[i] = theirs;
			if (theirs < 0) {
				truncate_at(j, cm, i);
				return;
			}
		}
	}
}

static int copy_out_data(struct call *c, struct recv_job *j, size_t n)
{
	const char *from = j->buf.iov_base;

	for (size_t i = 0; i < j->theirs.msg_iovlen && n; i++) {
		size_t len = j->iov[i].iov_len < n ? j->iov[i].iov_len : n;
		int rc = call_write(c, (uint64_t)j->iov[i].iov_base, from, len);

		if (rc < 0)
			return rc;
		from += len;
		n -= len;
	}
	return 0;
}

/* What recvmsg writes besides the data: the sender's name, the control data
 * and their lengths, the flags. */
static int copy_out_rest(struct call *c, struct recv_job *j)
{
	socklen_t namelen = j->ours.msg_namelen;
	size_t controllen = j->ours.msg_controllen;
	socklen_t room = j->theirs.msg_namelen;
	int rc = 0;

	if (j->ours.msg_name && namelen)
		rc = call_write(c, (uint64_t)j->theirs.msg_name, &j->name,
				namelen < room ? namelen : room);
	if (!rc && j->ours.msg_name)
		rc = call_write(c, j->msg_addr + MSGHDR_NAMELEN, &namelen, sizeof(namelen));
	if (!rc && controllen)
		rc =
		    call_write(c, (uint64_t)j->theirs.msg_control, j->ours.msg_control, controllen);
	if (!rc)
		rc =
		    call_write(c, j->msg_addr + MSGHDR_CONTROLLEN, &controllen, sizeof(controllen));
	if (!rc)
		rc = call_write(c, j->msg_addr + MSGHDR_FLAGS, &j->ours.msg_flags,
				sizeof(j->ours.msg_flags));
	return rc;
}

static long recv_for_target(struct call *c, int sock, struct recv_job *j)
{
	ssize_t n;
	int rc = alloc_buffers(j);

	if (rc < 0)
		return rc;
	n = receive(c, sock, j);
	if (n < 0)
		return n;
	/* The message is ours now: a bad buffer of the target's loses it, as
	 * the kernel's EFAULT after a dequeue does. */
	rc = copy_out_data(c, j, (size_t)n);
	if (rc < 0) {
		close_received(&j->ours, CMSG_FIRSTHDR(&j->ours), 0);
		return rc;
	}
	hand_over_fds(c, j);
	rc = copy_out_rest(c, j);
	return rc < 0 ? rc : n;
}

void sys_recvmsg(struct call *c)
{
	struct recv_job j = {.msg_addr = call_arg(c, 1), .flags = (int)call_arg(c, 2)};
	int sock = -1;

	if (we_do(c, &j))
		sock = take_socket(c, (int)call_arg(c, 0));
	if (c->answered) {
		/* borrowing: the call comes again, and finds the socket lent */
	} else if (sock < 0 || !is_unix_socket(sock)) {
		call_continue(c);
	} else {
		call_return(c, recv_for_target(c, sock, &j));
	}
	if (sock >= 0)
		close(sock);
	free(j.iov);
	free(j.buf.iov_base);
	free(j.ours.msg_control);
}

/* Does SCM_RIGHTS message cm, which the target wrote, name a band fd? Its
 * length is trusted no further than `end` of the control data. */
static bool names_band_fd(const struct cmsghdr *cm, const char *end)
{
	const char *data = (const char *)CMSG_DATA(cm);
	size_t len = cm->cmsg_len < CMSG_LEN(0) ? 0 : cm->cmsg_len - CMSG_LEN(0);
	int fd;

	if (len > (size_t)(end - data))
		len = (size_t)(end - data);
	for (size_t off = 0; off + sizeof(fd) <= len; off += sizeof(fd)) {
		memcpy(&fd, data + off, sizeof(fd));
		if (coda_fd_in_band(fd))
			return true;
	}
	return false;
}

/* Does the control data of msghdr m (the target's) pass a band fd? */
static bool passes_band_fd(struct call *c, const struct msghdr *m)
{
	struct msghdr ours = {.msg_controllen = m->msg_controllen};
	bool found = false;

	if (!m->msg_control || !m->msg_controllen || m->msg_controllen > MAX_CONTROL)
		return m->msg_controllen > MAX_CONTROL;
	ours.msg_control = malloc(ours.msg_controllen);
	if (!ours.msg_control ||
	    call_read(c, (uint64_t)m->msg_control, ours.msg_control, ours.msg_controllen) < 0) {
		free(ours.msg_control);
		return false; /* the kernel says ENOMEM or EFAULT */
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&ours); cm && !found; cm = CMSG_NXTHDR(&ours, cm))
		found = is_rights(cm) &&
			names_band_fd(cm, (char *)ours.msg_control + ours.msg_controllen);
	free(ours.msg_control);
	return found;
}

/* The first /coda fd is being sent. A recvmsg let through to the kernel
 * before may be waiting there for this very message: each such receiver is
 * made to make its call again, trapped, so that it is borrowed for. */
static void note_sent(struct sup *s)
{
	struct proc *p, *tmp;

	s->coda_fd_sent = true;
	HASH_ITER(hh, s->trap.procs, p, tmp)
	{
		if (p->in_kernel_recvmsg && !p->exited)
			fd_borrow_kick(p->tid);
		p->in_kernel_recvmsg = false;
	}
}

/* Sends are trapped only where receives are borrowed for (trap.h, ptrace): from
 * the first that passes a /coda fd on, a recvmsg may get one. The kernel
 * sends. */
void sys_sendmsg(struct call *c)
{
	struct msghdr m;

	if (!call_sup(c)->coda_fd_sent && call_read(c, call_arg(c, 1), &m, sizeof(m)) == 0 &&
	    passes_band_fd(c, &m))
		note_sent(call_sup(c));
	call_continue(c);
}

void sys_sendmmsg(struct call *c)
{
	unsigned int n = (unsigned int)call_arg(c, 2);
	struct mmsghdr m;

	for (unsigned int i = 0; i < n && i < MAX_IOV && !call_sup(c)->coda_fd_sent; i++)
		if (call_read(c, call_arg(c, 1) + i * sizeof(m), &m, sizeof(m)) == 0 &&
		    passes_band_fd(c, &m.msg_hdr))
			note_sent(call_sup(c));
	call_continue(c);
}
