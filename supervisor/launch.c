#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/channel.h"
#include "filters/filter.h"
#include "launch.h"
#include "stats.h"
#include "filters/venus_filter.h"
#include "syscalls/syscalls.h"
#include "trap/trap.h"

/* The channel's fd number in the embedded venus, and the log's. */
#define VENUS_CHANNEL_FD 3
#define VENUS_LOG_FD	 4

/* In a child: the signals as a new program expects them, not as we catch
 * them. */
static void unblock_signals(const struct sup *s)
{
	sigset_t all;

	signals_child_reset(&s->trap);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
}

/* rel (absolute, or relative to dir) in out. */
static void path_at(const char *dir, const char *rel, char *out, size_t cap)
{
	if (rel[0] == '/')
		snprintf(out, cap, "%s", rel);
	else
		snprintf(out, cap, "%s/%s", dir, rel);
}

/* Where the embedded venus program is: $CODA_EXEC_VENUS, else beside
 * coda-exec as installed (bindir to libexecdir), else in the build tree
 * coda-exec was built in (tests run it there). Relative to coda-exec's own
 * directory, so that a moved install or a copied build tree finds its own
 * venus. The installed path when neither exists, for the error message. */
static int venus_program(char *out, size_t cap)
{
	static const char *const rel[] = {CODA_VENUS_INSTALLED, CODA_VENUS_BUILT};
	const char *env = getenv("CODA_EXEC_VENUS");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		snprintf(out, cap, "%s", rel[0]);
		return -errno;
	}
	self[n] = '\0';
	*strrchr(self, '/') = '\0'; /* the link is an absolute path */
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		path_at(self, rel[i], out, cap);
		if (access(out, F_OK) == 0)
			return 0;
	}
	path_at(self, rel[0], out, cap);
	return 0;
}

/* The command line of the embedded venus, in argv (12 slots). */
static void venus_argv(const struct sup *s, char *chan_fd, char *log_fd, char **argv)
{
	int n = 0;

	argv[n++] = "coda-venus";
	argv[n++] = "--channel";
	argv[n++] = chan_fd;
	argv[n++] = "--volume";
	argv[n++] = (char *)s->opt.volume;
	argv[n++] = "--cache";
	argv[n++] = (char *)s->opt.cache;
	if (s->opt.verbose)
		argv[n++] = "--verbose";
	if (log_fd) {
		argv[n++] = "--log-fd";
		argv[n++] = log_fd;
	}
	if (s->opt.read_only)
		argv[n++] = "--read-only";
	argv[n] = NULL;
}

/* What venus starts with: the channel as VENUS_CHANNEL_FD, the log (or -1)
 * as VENUS_LOG_FD, and no other fd past stderr, so none of our epoll,
 * signal pipe, inotify or memfd; no signal blocked; its own process group, as
 * a ^C for the command must not stop the cache manager under it. */
static int venus_spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr, int chan,
			     int log)
{
	sigset_t none;
	int rc;

	sigemptyset(&none);
	rc = posix_spawn_file_actions_adddup2(fa, chan, VENUS_CHANNEL_FD);
	if (!rc && log >= 0)
		rc = posix_spawn_file_actions_adddup2(fa, log, VENUS_LOG_FD);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(
		    fa, (log >= 0 ? VENUS_LOG_FD : VENUS_CHANNEL_FD) + 1);
	if (!rc)
		rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
	if (!rc)
		rc = posix_spawnattr_setsigmask(attr, &none);
	return rc;
}

/* Starts prog on the venus end of the channel, its --verbose lines going
 * to our --log file (log, or -1: its stderr). posix_spawn is a fork+exec
 * that tells us when the exec failed. */
static int spawn_venus(const struct sup *s, const char *prog, int chan, int log, pid_t *pid)
{
	char fd[16], log_fd[16], *argv[12];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	snprintf(fd, sizeof(fd), "%d", VENUS_CHANNEL_FD);
	snprintf(log_fd, sizeof(log_fd), "%d", VENUS_LOG_FD);
	venus_argv(s, fd, log >= 0 ? log_fd : NULL, argv);
	rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		return -rc;
	rc = posix_spawnattr_init(&attr);
	if (!rc) {
		rc = venus_spawn_setup(&fa, &attr, chan, log);
		if (!rc)
			rc = posix_spawn(pid, prog, &fa, &attr, argv, environ);
		posix_spawnattr_destroy(&attr);
	}
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

/* The log venus is to write its --verbose lines to, or -1 (stderr, also
 * when no copy can be made). A copy above the numbers venus gets, so that
 * no dup2 of the spawn overwrites it before it is moved. */
static int venus_log(const struct sup *s)
{
	if (!s->opt.verbose || s->log == stderr)
		return -1;
	return fcntl(fileno(s->log), F_DUPFD_CLOEXEC, VENUS_LOG_FD + 1);
}

int launch_venus(struct sup *s, char *prog, size_t cap)
{
	int chan[2], log, rc;
	pid_t pid;

	rc = venus_program(prog, cap);
	if (!rc)
		rc = chan_pair(chan);
	if (rc < 0)
		return rc;
	log = venus_log(s);
	rc = spawn_venus(s, prog, chan[1], log, &pid);
	if (log >= 0)
		close(log);
	close(chan[1]);
	if (rc < 0) {
		close(chan[0]);
		return rc;
	}
	s->venus_pid = pid;
	psdev_init(&s->sb.vc, chan[0], s->opt.timeout_s);
	s->sb.vc.venus_pid = pid;
	return 0;
}

/* The listener comes back over a channel of its own; EOF means the child
 * could not install the filter (it said why and exited). */
static int receive_listener(pid_t child, int sock, int *listener, int32_t *word)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	struct coda_msg m = {.fd = -1};
	int rc = -EAGAIN;

	while (rc == -EAGAIN && (poll(&pfd, 1, -1) >= 0 || errno == EINTR))
		rc = chan_recv(sock, &m);
	if (rc < 0 || m.fd < 0) {
		int status;

		if (m.fd >= 0)
			close(m.fd);
		waitpid(child, &status, 0);
		return -ECHILD;
	}
	*listener = m.fd;
	if (word)
		*word = m.len >= sizeof(m.oh) ? m.oh.result : 0;
	return 0;
}

/* Why the filter could not be installed, and what to do. */
static const char *filter_failure(int err)
{
	if (err == EBUSY)
		return "a seccomp listener is already present in this process tree (coda-exec "
		       "under coda-exec?), and Linux lets only one watch a process (run the "
		       "command "
		       "outside the other listener's tree; under coda-exec, its /coda is there "
		       "already)";
	if (err == EINVAL || err == ENOSYS)
		return "this kernel has no seccomp user notification "
		       "(SECCOMP_FILTER_FLAG_NEW_LISTENER, Linux 5.0), or a seccomp filter above "
		       "coda-exec refuses it; coda-exec needs Linux 5.14 or later "
		       "(SECCOMP_ADDFD_FLAG_SEND)";
	if (err == EOPNOTSUPP)
		return "this kernel has seccomp user notification but cannot answer a call with an "
		       "fd (SECCOMP_ADDFD_FLAG_SEND, Linux 5.14); coda-exec needs Linux 5.14 or "
		       "later";
	return strerror(err);
}

/* Linux 5.0 to 5.13 make a listener but refuse ADDFD with SEND, which
 * every open under the mount needs: asked now, with no fd to add, a kernel
 * that knows the flag says EBADF (kernel/seccomp.c checks the flags first),
 * so that such a kernel fails here, before the command runs. */
static int listener_can_send_fds(int listener)
{
	struct seccomp_notif_addfd probe = {.flags = SECCOMP_ADDFD_FLAG_SEND,
					    .srcfd = (uint32_t)-1};

	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &probe) == 0 || errno != EINVAL)
		return listener;
	close(listener);
	return -EOPNOTSUPP;
}

/* In a child: installs the filter, hands its listener to the supervisor
 * over sock. Exits with 125 on failure, having said why. */
static void install_and_send(int (*install)(unsigned flags), unsigned flags, int sock)
{
	struct coda_msg m = {.len = sizeof(struct coda_out_hdr)};
	int listener = install(flags);

	if (listener >= 0)
		listener = listener_can_send_fds(listener);
	if (listener < 0) {
		fprintf(stderr, "coda-exec: cannot install the seccomp filter: %s\n",
			filter_failure(-listener));
		_exit(125);
	}
	memset(m.raw, 0, m.len);
	m.fd = listener;
	if (chan_send_flags(sock, &m, FILTER_UNTRAPPED_SEND_FLAGS) < 0)
		_exit(125);
	close(listener);
	close(sock);
}

pid_t launch_fork(struct sup *s, void (*child_main)(struct sup *s, int sock), int *listener,
		  int32_t *word)
{
	int sock[2], rc = chan_pair(sock);
	pid_t pid;

	if (rc < 0)
		return rc;
	/* Until the child has reset them, a signal of ours must not reach our
	 * handler in it. */
	signals_block(&s->trap, true);
	pid = fork();
	if (pid == 0) {
		close(sock[0]);
		child_main(s, sock[1]);
	}
	rc = -errno;
	signals_block(&s->trap, false);
	if (pid < 0) {
		close(sock[0]);
		close(sock[1]);
		return rc;
	}
	close(sock[1]);
	rc = receive_listener(pid, sock[0], listener, word);
	close(sock[0]);
	return rc < 0 ? rc : pid;
}

/* After a failed exec of prog: says why, and exits as a shell would. */
static void __attribute__((noreturn)) exec_failed(const char *prog)
{
	int err = errno;

	fprintf(stderr, "coda-exec: %s: %s\n", prog, strerror(err));
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

static void __attribute__((noreturn)) target_child(struct sup *s, int sock)
{
	unblock_signals(s);
	install_and_send(filter_install_target,
			 (s->trap.borrow_fds ? FILTER_TRACK_SENDS : 0) |
			     (s->trap.trap_forks ? FILTER_TRAP_FORKS : 0) |
			     (s->trap.stage.on ? FILTER_STAGE : 0),
			 sock);
	execvp(s->opt.argv[0], s->opt.argv);
	exec_failed(s->opt.argv[0]);
}

int launch_target(struct sup *s)
{
	pid_t pid = launch_fork(s, target_child, &s->trap.listener, NULL);

	if (pid < 0)
		return (int)pid;
	s->trap.target = pid;
	return 0;
}

/* The words of a command line that needs no shell: words between blanks,
 * made of characters that no shell takes specially (no quotes, $, globs,
 * ~, #, redirections, separators), the first without '=' (an assignment).
 * NULL if it needs the shell, or on failure. */
static char **plain_words(const char *line)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_./,:+@%=";
	size_t n = 0, len = strlen(line);
	char **words, *copy, *save = NULL;

	for (size_t i = 0; i < len; i++)
		if (!strchr(plain, line[i]) && line[i] != ' ' && line[i] != '\t')
			return NULL;
	words = calloc(len / 2 + 2, sizeof(*words));
	copy = strdup(line);
	if (!words || !copy)
		goto shell;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	if (n > 0 && !strchr(words[0], '='))
		return words;
shell:
	free(words);
	free(copy);
	return NULL;
}

/* The hosted venus: its own process group, as the embedded one. A plain
 * command line is exec'ed here, so that venus is our child and gets our
 * PR_SET_PDEATHSIG; any other, or one that cannot be exec'ed (its first
 * word is a shell builtin such as exec), goes to the shell, which says
 * what is wrong if anything is. A shell forks venus (dash does, even for a
 * lone command): the lifeline reaches it then. */
static void __attribute__((noreturn)) hosted_child(struct sup *s, int sock)
{
	char **argv = plain_words(s->hosted.cmd);

	setpgid(0, 0);
	unblock_signals(s);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != s->trap.self_pid)
		_exit(125); /* coda-exec has died already */
	install_and_send(filter_install_venus, 0, sock);
	if (argv)
		execvp(argv[0], argv);
	execl("/bin/sh", "sh", "-c", s->hosted.cmd, (char *)NULL);
	exec_failed("/bin/sh");
}

int launch_hosted_venus(struct sup *s)
{
	int chan[2], rc = chan_pair(chan);
	pid_t pid;

	if (rc < 0)
		return rc;
	rc = hosted_lifeline(&s->hosted);
	pid = rc < 0 ? rc : launch_fork(s, hosted_child, &s->hosted.listener, NULL);
	if (pid < 0) {
		close(chan[0]);
		close(chan[1]);
		return (int)pid;
	}
	s->venus_pid = pid;
	/* Kept open here: venus closes its device between its two opens. */
	s->hosted.venus_end = chan[1];
	psdev_init(&s->sb.vc, chan[0], s->opt.timeout_s);
	/* Its shell's pid until its device open names venus itself; it may
	 * go before it mounts, and start-up then says why. */
	s->sb.vc.venus_pid = pid;
	s->sb.vc.quiet = true;
	return 0;
}

/* Has venus been reaped now (waitpid flags)? Its usage goes to --stats. */
static bool reap_venus(struct sup *s, int flags)
{
	struct rusage ru;

	if (wait4(s->venus_pid, NULL, flags, &ru) != s->venus_pid)
		return false;
	stats_reaped(s, s->venus_pid, &ru);
	s->venus_pid = -1;
	return true;
}

/* Has venus left within ms? Its pidfd says so the moment it does; where
 * pidfd_open is refused (a container's seccomp profile), looks 50 us apart
 * at first, then 1 ms. */
static bool await_venus(struct sup *s, int ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, s->venus_pid, 0);
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	if (pidfd >= 0) {
		while (poll(&p, 1, ms) < 0 && errno == EINTR)
			;
		close(pidfd);
		return reap_venus(s, WNOHANG);
	}
	for (long waited = 0, step = 50; waited < ms * 1000L; waited += step) {
		if (reap_venus(s, WNOHANG))
			return true;
		usleep((useconds_t)step);
		if (step < 1000)
			step *= 2;
	}
	return reap_venus(s, WNOHANG);
}

void stop_venus(struct sup *s)
{
	if (s->hosted.venus_end >= 0) {
		close(s->hosted.venus_end);
		s->hosted.venus_end = -1;
	}
	if (s->sb.vc.chan >= 0) {
		close(s->sb.vc.chan);
		s->sb.vc.chan = -1;
	}
	/* Venus leaves a millisecond or so after its channel's end (10-20 ms
	 * when it had inotify watches to free, venus/dir_watch.c), and is
	 * given a second. */
	if (s->venus_pid > 0 && !await_venus(s, 1000)) {
		kill(s->hosted.cmd ? -s->venus_pid : s->venus_pid, SIGKILL);
		reap_venus(s, 0);
	}
}
