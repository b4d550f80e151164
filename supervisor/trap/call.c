#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "trap.h"

/* The call's one answer is given (or its caller has gone). */
static void answered(struct call *c)
{
	c->answered = true;
	if (c->recv_ns)
		trap_stats_answered(c);
}

static void send_response(struct call *c, long val, int error, uint32_t flags)
{
	struct seccomp_notif_resp resp = {
	    .id = c->n->id,
	    .val = val,
	    .error = error,
	    .flags = flags,
	};

	/* ENOENT: the target was killed or interrupted meanwhile; nothing waits. */
	if (ioctl(c->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
		if (errno == ENOENT)
			c->abandoned = true;
		else
			fprintf(stderr, "coda-exec: answering syscall %d of %u failed: %s\n",
				c->n->data.nr, c->n->pid, strerror(errno));
	}
	answered(c);
}

void call_return(struct call *c, long result)
{
	if (result < 0)
		send_response(c, 0, (int)result, 0);
	else
		send_response(c, result, 0, 0);
}

void call_continue(struct call *c)
{
	send_response(c, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

static int add_fd(struct call *c, int srcfd, int newfd, uint32_t flags, bool cloexec)
{
	struct seccomp_notif_addfd addfd = {
	    .id = c->n->id,
	    .flags = flags | (newfd >= 0 ? SECCOMP_ADDFD_FLAG_SETFD : 0),
	    .srcfd = (uint32_t)srcfd,
	    .newfd = newfd >= 0 ? (uint32_t)newfd : 0,
	    .newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	struct affinity_hold hold;
	int fd;

	/* Interrupted, an ADDFD with SEND leaves the call answered 0. */
	signals_block(c->trap, true);
	affinity_hold(&hold, (pid_t)c->n->pid);
	fd = ioctl(c->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	if (fd < 0)
		fd = -errno;
	affinity_release(&hold);
	signals_block(c->trap, false);
	return fd;
}

int call_inject_fd(struct call *c, int srcfd, int newfd, bool cloexec)
{
	int fd = add_fd(c, srcfd, newfd, SECCOMP_ADDFD_FLAG_SEND, cloexec);

	/* ENOENT: the target is gone; either way nothing waits for an answer. */
	if (fd >= 0 || fd == -ENOENT)
		answered(c);
	if (fd == -ENOENT)
		c->abandoned = true;
	return fd;
}

int call_add_fd(struct call *c, int srcfd, int newfd, bool cloexec)
{
	return add_fd(c, srcfd, newfd, 0, cloexec);
}

bool call_id_valid(int listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno != ENOENT;
}

bool call_valid(struct call *c)
{
	return call_id_valid(c->listener, c->n->id);
}

bool call_task_interrupted(struct trap *tr, struct task *t)
{
	if (!t->notif.pid)
		return false; /* not a syscall's task */
	return !call_id_valid(tr->listener, t->notif.id) ||
	       proc_sigint_pending((pid_t)t->notif.pid);
}

void call_serve(struct task *t)
{
	struct call c = {.trap = t->trap,
			 .task = t,
			 .n = &t->notif,
			 .listener = t->trap->listener,
			 .uid_override = -1,
			 .recv_ns = t->trap->stats ? t->trap->stats->recv_ns : 0};

	c.proc = proc_get(t->trap, (pid_t)t->notif.pid);
	if (!c.proc) {
		/* No memory or fd of ours for its state: the call fails, since
		 * the kernel would resolve a /coda path wrongly. Gone already, or
		 * /proc hidden from us: let the kernel have it. */
		if (errno == ENOMEM || errno == EMFILE || errno == ENFILE)
			call_return(&c, -errno);
		else
			call_continue(&c);
		return;
	}
	t->call = &c;
	proc_hold(c.proc);
	c.proc->in_kernel_recvmsg = false; /* it is here, so out of any */
	t->trap->ops->serve(&c);
	if (!c.answered) {
		fprintf(stderr, "coda-exec: internal error: syscall %d left unanswered\n",
			t->notif.data.nr);
		call_return(&c, -ENOSYS);
	}
	proc_release(t->trap, c.proc);
	t->call = NULL;
}
