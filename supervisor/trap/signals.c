/* The supervisor's own signals as events of the loop, and the one wait they
 * must end: the loop's idle wait in the listener.
 *
 * While nothing but the command can need us, the loop waits in the
 * listener's RECV itself: one call per notification instead of epoll_wait
 * and RECV. A signal must end that wait, so our signals are caught rather
 * than blocked for a signalfd: the handler writes what a signalfd would give
 * to a pipe in the event set and, when the loop is in that wait, jumps out
 * of it. The kernel restarts our other calls (SA_RESTART), but for one: an
 * ADDFD with SEND that a signal interrupts before the target took the fd
 * leaves the call answered 0 (kernel/seccomp.c), so ADDFDs are made with
 * the signals blocked (signals_block). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "trap.h"

/* The handler's only way to its state: a signal handler takes no argument. */
static struct trap_signals *caught;

static void on_caught(int sig, siginfo_t *info, void *uc)
{
	struct trap_signals *s = caught;
	struct signalfd_siginfo rec = {
	    .ssi_signo = (uint32_t)sig,
	    .ssi_code = info->si_code,
	    .ssi_pid = (uint32_t)info->si_pid,
	    .ssi_uid = info->si_uid,
	};
	int saved = errno;
	ssize_t written;

	(void)uc;
	/* Should the pipe be full, the loop has records enough to read. */
	written = write(s->wr, &rec, sizeof(rec));
	(void)written;
	s->pending = 1;
	errno = saved;
	if (s->in_recv) {
		s->in_recv = 0;
		siglongjmp(s->recv_env, 1);
	}
}

int signals_init(struct trap *t, const sigset_t *set)
{
	struct trap_signals *s = &t->signals;
	struct sigaction sa;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	s->rd = fds[0];
	s->wr = fds[1];
	s->set = *set;
	caught = s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_caught;
	/* Each handler runs with all of ours blocked, so that no second one
	 * jumps out of the wait before the first has written its record. */
	sa.sa_mask = *set;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(set, sig) == 1 && sigaction(sig, &sa, NULL) < 0)
			return -errno;
	return sigprocmask(SIG_UNBLOCK, set, NULL) < 0 ? -errno : s->rd;
}

void signals_destroy(struct trap *t)
{
	struct trap_signals *s = &t->signals;

	if (s->wr < 0)
		return;
	sigprocmask(SIG_BLOCK, &s->set, NULL);
	caught = NULL;
	close(s->rd);
	close(s->wr);
	s->rd = s->wr = -1;
}

void signals_block(struct trap *t, bool block)
{
	if (t->signals.wr >= 0)
		sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &t->signals.set, NULL);
}

void signals_child_reset(const struct trap *t)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&t->signals.set, sig) == 1)
			signal(sig, SIG_DFL);
}

void signals_seen(struct trap *t)
{
	t->signals.pending = 0;
}

/* 1: a notification is in s->recv_notif. 0: a signal came first (its record
 * is in the pipe), or the target gave its call up. */
int signals_recv_idle(struct trap *t)
{
	struct trap_signals *s = &t->signals;

	memset(&s->recv_notif, 0, sizeof(s->recv_notif));
	if (sigsetjmp(s->recv_env, 0)) {
		/* Out of the handler: its mask is still ours. The RECV may have
		 * returned just before the jump: the kernel wrote a notification
		 * then, and arch is never 0 in one. */
		sigprocmask(SIG_UNBLOCK, &s->set, NULL);
		return s->recv_notif.data.arch != 0;
	}
	s->in_recv = 1;
	/* A signal caught before in_recv was set did not jump: its record is
	 * in the pipe, for the event set to show. */
	if (s->pending) {
		s->in_recv = 0;
		return 0;
	}
	if (ioctl(t->listener, SECCOMP_IOCTL_NOTIF_RECV, &s->recv_notif) < 0) {
		s->in_recv = 0;
		return 0;
	}
	s->in_recv = 0;
	return 1;
}
