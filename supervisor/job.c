/* The command as a job of ours: the signals we get are passed on to it, our
 * children are reaped (we are the tree's subreaper), and the run ends when
 * the command has exited, nothing is left under its filter and venus has
 * every last close: its status is then ours. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "stats.h"
#include "syscalls/syscalls.h"
#include "trap/trap.h"

/* Our children: the command, venus, and (we are their subreaper) what the
 * command's processes left behind when they went. */
static void reap_children(struct sup *s)
{
	struct rusage ru;
	int status;
	pid_t pid;

	stage_reap(&s->trap);
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		if (stage_stopped(&s->trap, pid, status))
			continue;
		stats_reaped(s, pid, &ru);
		if (pid == s->trap.target) {
			s->target_status = status;
			s->target_exited = true;
			if (s->forwarded_signal)
				proc_signal_tree(&s->trap, s->forwarded_signal);
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
	return si->ssi_code == SI_KERNEL && getpgid(s->trap.target) == getpgrp();
}

static void on_signal(struct trap *t, pid_t pid, uint32_t events)
{
	struct sup *s = sup_of(t);
	struct signalfd_siginfo si;

	(void)pid;
	(void)events;
	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap_children(s);
		} else if (s->venus_only) {
			s->stop_asked = true; /* by the server we host venus for */
		} else if (!s->target_exited && !sent_to_our_group(s, &si)) {
			kill(s->trap.target, (int)si.ssi_signo); /* the command decides */
			s->forwarded_signal = (int)si.ssi_signo;
		} else if (s->target_exited) {
			proc_signal_tree(t, (int)si.ssi_signo);
		}
	}
}

int job_init(struct sup *s)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	/* What the command's processes leave behind is reparented to us, and
	 * reaped: a zombie would count as a task still under the filter. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return -errno;
	/* Blocked until caught: none is lost meanwhile. */
	s->sigfd = signals_init(&s->trap, &mask);
	if (s->sigfd < 0)
		return s->sigfd;
	loop_on(&s->trap, EV_SIGNAL, on_signal);
	return loop_add(&s->trap, s->sigfd, EV_SIGNAL, 0);
}

static int shell_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

/* Once the command has gone, what it left running is still served (with no
 * supervisor its every trapped call would fail with ENOSYS), and the last
 * closes still have to reach venus: the data would be lost otherwise. With
 * no task left, no write open of the job's is left either. */
static bool command_done(struct trap *t)
{
	struct sup *s = sup_of(t);

	if (!s->target_exited || !t->tree_gone)
		return false;
	release_all(&s->sb);
	return s->sb.vc.dead || !release_pending(&s->sb);
}

int job_run(struct sup *s)
{
	if (loop_run_until(&s->trap, command_done) < 0)
		return 125;
	proc_reap_tree(&s->trap);
	return shell_status(s->target_status);
}

static bool venus_done(struct trap *t)
{
	struct sup *s = sup_of(t);

	return s->stop_asked || hosted_exited(s);
}

int job_host_venus(struct sup *s)
{
	return loop_run_until(&s->trap, venus_done) < 0 ? -EIO : 0;
}
