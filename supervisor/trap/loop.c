#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uthash.h>

#include "fdwait.h"
#include "syscalls/hosted.h"
#include "loop.h"
#include "call.h"
#include "proc.h"
#include "coda/coda.h"
#include "super.h"

/* Not in bookworm's headers (Linux 6.6): the flag is passed by value. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

void loop_tune_listener(struct sup *s)
{
	/* The target sleeps while we answer: waking it on our CPU saves a
	 * migration per call. An older kernel says EINVAL; it only costs time. */
	ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

static int add_events(struct sup *s, int fd, uint32_t events, enum ev_kind kind, pid_t pid)
{
	struct epoll_event ev = {
	    .events = events,
	    .data.u64 = ((uint64_t)kind << 32) | (uint32_t)pid,
	};

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_add(struct sup *s, int fd, enum ev_kind kind, pid_t pid)
{
	return add_events(s, fd, EPOLLIN, kind, pid);
}

int loop_add_oneshot(struct sup *s, int fd, enum ev_kind kind, pid_t pid)
{
	return add_events(s, fd, EPOLLIN | EPOLLONESHOT, kind, pid);
}

void loop_remove(struct sup *s, int fd)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void on_notification(struct sup *s, int listener, task_fn serve)
{
	struct seccomp_notif n;

	memset(&n, 0, sizeof(n));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
		/* ENOENT: the target gave up the call (killed, signalled). */
		if (errno != ENOENT && errno != EINTR)
			fprintf(stderr, "coda-exec: receiving a notification: %s\n",
				strerror(errno));
		return;
	}
	if (task_spawn(s, serve, &n, NULL) < 0) {
		struct seccomp_notif_resp resp = {.id = n.id, .error = -ENOMEM};

		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

#define MAX_LEFTOVERS 1024

/* What the command left behind gets a signal meant for the job: every
 * process of the tree we know of that is still there, and our children
 * (orphans) that made no trapped call yet. */
static void signal_leftovers(struct sup *s, int sig)
{
	pid_t children[MAX_LEFTOVERS];
	int n = proc_our_children(s, children, MAX_LEFTOVERS);
	struct proc *p, *tmp;

	HASH_ITER(hh, s->procs, p, tmp)
	{
		if (p->pidfd >= 0 && p->tid != s->target)
			syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
	}
	for (int i = 0; i < n; i++)
		if (children[i] != s->target && !proc_known(s, children[i]))
			kill(children[i], sig); /* a zombie of ours until reaped: no other pid */
}

/* No task is left under the filter: what is left of the tree among our
 * children is dead, and is reaped now rather than left to init. */
static void reap_tree(struct sup *s)
{
	pid_t children[MAX_LEFTOVERS];
	int n = proc_our_children(s, children, MAX_LEFTOVERS);

	for (int i = 0; i < n; i++)
		waitpid(children[i], NULL, 0);
}

/* Our children: the command, venus, and (we are their subreaper) what the
 * command's processes left behind when they went. */
static void reap_children(struct sup *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->target) {
			s->target_status = status;
			s->target_exited = true;
			if (s->forwarded_signal)
				signal_leftovers(s, s->forwarded_signal);
		} else if (pid == s->venus_pid) {
			s->venus_pid = -1;
			/* One line tells the user, whichever we see first: its
			 * exit or the end of its channel. A hosted venus named by
			 * its device open has its own pidfd: this may be the
			 * shell that forked it. */
			if (s->hosted.pid <= 0)
				psdev_venus_gone(&s->sb);
		}
	}
}

/* A ^C from the terminal reaches the whole foreground group: a command
 * still in our group has had it already, and must not get it twice. */
static bool sent_to_our_group(struct sup *s, const struct signalfd_siginfo *si)
{
	return si->ssi_code == SI_KERNEL && getpgid(s->target) == getpgrp();
}

static void on_signal(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap_children(s);
		} else if (!s->target_exited && !sent_to_our_group(s, &si)) {
			kill(s->target, (int)si.ssi_signo); /* the command decides */
			s->forwarded_signal = (int)si.ssi_signo;
		} else if (s->target_exited) {
			signal_leftovers(s, (int)si.ssi_signo);
		}
	}
}

static void on_event(struct sup *s, const struct epoll_event *ev)
{
	enum ev_kind kind = (enum ev_kind)(ev->data.u64 >> 32);
	pid_t pid = (pid_t)(uint32_t)ev->data.u64;

	switch (kind) {
	case EV_LISTENER:
		if (ev->events & EPOLLIN) {
			on_notification(s, s->listener, call_serve);
		} else if (ev->events & EPOLLHUP) {
			loop_remove(s, s->listener); /* no task of ours is left */
			s->tree_gone = true;
		}
		break;
	case EV_VENUS_LISTENER:
		if (ev->events & EPOLLIN)
			on_notification(s, s->hosted.listener, hosted_serve);
		else if (ev->events & (EPOLLHUP | EPOLLERR))
			loop_remove(s, s->hosted.listener);
		break;
	case EV_VENUS:
		psdev_readable(&s->sb);
		if (s->sb.vc.dead)
			loop_remove(s, s->sb.vc.chan);
		break;
	case EV_SIGNAL:
		on_signal(s);
		break;
	case EV_PIDFD:
		proc_exit(s, pid);
		break;
	case EV_INOTIFY:
		release_readable(&s->sb);
		break;
	case EV_TIMER:
		s->hosted.too_late = true;
		loop_remove(s, s->hosted.timer);
		break;
	case EV_FDWAIT:
		fdwait_ready(s, pid);
		break;
	case EV_VENUS_PIDFD:
		hosted_venus_exited(s);
		break;
	}
}

static int shell_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

/* One round: waits for events (or the next upcall deadline) and serves them. */
static int loop_once(struct sup *s)
{
	struct epoll_event evs[32];
	int upcalls = psdev_expire(&s->sb), waits = fdwait_expire(s);
	int timeout = upcalls < 0 || (waits >= 0 && waits < upcalls) ? waits : upcalls;
	int n = epoll_wait(s->epfd, evs, 32, timeout);

	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "coda-exec: epoll_wait: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		on_event(s, &evs[i]);
		task_run_ready(s);
	}
	return 0;
}

int loop_run_until(struct sup *s, bool (*done)(struct sup *s))
{
	while (!done(s))
		if (loop_once(s) < 0)
			return -1;
	return 0;
}

/* Once the command has gone, what it left running is still served (with no
 * supervisor its every trapped call would fail with ENOSYS), and the last
 * closes still have to reach venus: the data would be lost otherwise. */
static bool command_done(struct sup *s)
{
	return s->target_exited && s->tree_gone && (s->sb.vc.dead || !release_pending(&s->sb));
}

int loop_run(struct sup *s)
{
	if (loop_run_until(s, command_done) < 0)
		return 125;
	reap_tree(s);
	return shell_status(s->target_status);
}
