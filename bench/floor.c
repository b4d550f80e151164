/* floor -- COMMAND [ARG]...: the floor of any seccomp-notify design.
 *
 * Runs COMMAND under coda-exec's own target filter and answers every
 * notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, doing nothing else:
 * what a workload costs here is the price of the trap alone. Like coda-exec
 * it is the subreaper of the command's tree, ends when no process is left
 * under the filter, and exits with the command's status. */
#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filters/filter.h"

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	/* The flags coda-exec's filter never traps on a send. */
	return sendmsg(sock, &msg, FILTER_UNTRAPPED_SEND_FLAGS) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EPROTO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* In the child: the filter coda-exec installs by default (neither sends
 * nor every fork trapped: pidfd_getfd allowed, /proc lists children), its
 * listener to the parent, then the command. */
static void __attribute__((noreturn)) run_child(int sock, char **argv)
{
	int listener = filter_install_target(0);

	if (listener < 0) {
		fprintf(stderr, "floor: cannot install the filter: %s\n", strerror(-listener));
		_exit(125);
	}
	if (send_fd(sock, listener) < 0)
		_exit(125);
	close(listener);
	close(sock);
	execvp(argv[0], argv);
	fprintf(stderr, "floor: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int continue_one(int listener)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp = {.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};

	memset(&req, 0, sizeof(req));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -errno;
	resp.id = req.id;
	/* ENOENT: the caller was killed meanwhile. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static void note(pid_t pid, int st, pid_t command, int *status)
{
	if (pid == command)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Reaps every child that has ended; the command's status into *status. */
static void reap(int sigfd, pid_t command, int *status)
{
	struct signalfd_siginfo si;
	pid_t pid;
	int st;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si))
		;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		note(pid, st, command, status);
}

/* The listener hangs up as the last process under the filter exits, maybe
 * before it is a zombie: wait for every child still there. */
static int reap_all(pid_t command, int status)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, 0)) > 0 || errno == EINTR)
		if (pid > 0)
			note(pid, st, command, &status);
	return status;
}

/* Until the last process under the filter is gone (the listener hangs up). */
static int serve(int listener, int sigfd, pid_t command)
{
	struct pollfd fds[2] = {{.fd = listener, .events = POLLIN},
				{.fd = sigfd, .events = POLLIN}};
	int status = 125;

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("floor: poll");
			return 125;
		}
		if (fds[1].revents)
			reap(sigfd, command, &status);
		if (fds[0].revents & POLLIN) {
			int rc = continue_one(listener);

			if (rc < 0) {
				fprintf(stderr, "floor: notification: %s\n", strerror(-rc));
				return 125;
			}
		} else if (fds[0].revents & (POLLHUP | POLLERR)) {
			return reap_all(command, status);
		}
	}
}

int main(int argc, char **argv)
{
	int sock[2], listener, sigfd;
	sigset_t chld;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: floor [--] COMMAND [ARG]...\n");
		return 125;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0 ||
	    (sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) {
		perror("floor");
		return 125;
	}
	pid = fork();
	if (pid < 0) {
		perror("floor: fork");
		return 125;
	}
	if (pid == 0) {
		if (sigprocmask(SIG_UNBLOCK, &chld, NULL) < 0)
			_exit(125);
		close(sock[0]);
		run_child(sock[1], argv + 1);
	}
	close(sock[1]);
	listener = recv_fd(sock[0]);
	close(sock[0]);
	if (listener < 0) {
		fprintf(stderr, "floor: no listener from the child\n");
		return 125;
	}
	/* As coda-exec does: the target sleeps while we answer, so wake it
	 * on our CPU. An older kernel says EINVAL; it only costs time. */
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	return serve(listener, sigfd, pid);
}
