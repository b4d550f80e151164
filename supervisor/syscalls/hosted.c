#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "fakeroot.h"
#include "proto/channel.h"
#include "handlers.h"
#include "syscalls.h"
#include "vfs.h"
#include "trap/trap.h"
#include "coda/coda.h"
#include "filters/venus_filter.h"

/* Is path one of venus's device paths ("/dev/cfs0,/dev/coda/0" by default,
 * a comma-separated list as venus's own kerneldevice setting)? */
static bool is_device(const struct hosted_venus *h, const char *path)
{
	size_t len = strlen(path);

	for (const char *p = h->devices; *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && !memcmp(p, path, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

int hosted_lifeline(struct hosted_venus *h)
{
	if (pipe2(h->lifeline, O_CLOEXEC) < 0)
		return -errno;
	/* The signal first: O_ASYNC alone would send SIGIO, which venus ignores. */
	if (fcntl(h->lifeline[0], F_SETSIG, SIGTERM) < 0 ||
	    fcntl(h->lifeline[0], F_SETFL, O_ASYNC) < 0)
		return -errno;
	return 0;
}

/* The first process to open the device is venus, whether the command line
 * exec'ed it or a shell forked it: from now on we follow that one. */
static int follow_venus(struct call *c)
{
	struct sup *s = call_sup(c);
	struct hosted_venus *h = &s->hosted;
	pid_t pid;
	int pidfd, rc;

	if (h->exited)
		return -ENXIO; /* its channel has gone with it */
	if (h->pid > 0)
		return 0;
	pid = proc_tgid((pid_t)c->n->pid);
	if (pid < 0)
		return pid;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	/* Until its open is answered the pid cannot be anyone else's. */
	if (!call_valid(c))
		rc = -ESRCH;
	else if (fcntl(h->lifeline[0], F_SETOWN, pid) < 0)
		rc = -errno;
	else
		rc = loop_add(&s->trap, pidfd, EV_VENUS_PIDFD, pid);
	if (rc < 0) {
		close(pidfd);
		return rc;
	}
	h->pid = pid;
	s->sb.vc.venus_pid = pid; /* its own, not its shell's */
	h->pidfd = pidfd;
	return 0;
}

/* Beside the device: the lifeline's read end and our end of the channel
 * (syscalls.h). Again at each open: venus may have closed them meanwhile. */
static int give_lifeline(struct call *c)
{
	int rc = call_add_fd(c, call_sup(c)->hosted.lifeline[0], VENUS_LIFELINE_FD, true);

	if (rc >= 0)
		rc = call_add_fd(c, call_sup(c)->sb.vc.chan, VENUS_PEER_FD, true);
	return rc < 0 ? rc : 0;
}

static void open_call(struct call *c, int path_arg, int flags)
{
	struct hosted_venus *h = &call_sup(c)->hosted;
	char path[PATH_MAX];
	int rc = call_read_path(c, call_arg(c, path_arg), path);

	if (rc < 0 || !is_device(h, path)) {
		call_continue(c); /* the kernel says what is wrong with it */
		return;
	}
	rc = follow_venus(c);
	if (!rc)
		rc = give_lifeline(c);
	if (rc < 0 && rc != -ENXIO)
		fprintf(stderr, "coda-exec: cannot tie venus (pid %u) to us: %s\n", c->n->pid,
			strerror(-rc));
	if (!rc)
		rc = call_inject_fd(c, h->venus_end, VENUS_DEV_FD, flags & O_CLOEXEC);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}

static void venus_open(struct call *c)
{
	open_call(c, 0, (int)call_arg(c, 1));
}

static void venus_openat(struct call *c)
{
	open_call(c, 1, (int)call_arg(c, 2));
}

static void venus_openat2(struct call *c)
{
	struct open_how how;

	if (call_arg(c, 3) < sizeof(how) || call_read(c, call_arg(c, 2), &how, sizeof(how)) < 0)
		call_continue(c);
	else
		open_call(c, 1, (int)how.flags);
}

/* CIOC_KERNEL_VERSION: venus passes a pointer to an int. */
static void venus_ioctl(struct call *c)
{
	int version = CODA_KERNEL_VERSION;

	if (call_arg(c, 1) != CIOC_KERNEL_VERSION)
		call_return(c, -ENOTTY);
	else
		call_return(c, call_write(c, call_arg(c, 2), &version, sizeof(version)));
}

/* For a write open, venus's own open is writable: its release, which the
 * replacement below brings about when venus's write returns, would pass for
 * the target's last release unless the writer's watch, taken now, knows. */
static bool venus_fd_writable(pid_t pid, int fd)
{
	char path[64], line[128];
	unsigned flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f) && sscanf(line, "flags: %o", &flags) != 1)
		;
	fclose(f);
	return (flags & O_ACCMODE) != O_RDONLY;
}

static void expect_venus_release(struct sup *s, pid_t pid, const struct coda_msg *m)
{
	const struct coda_msg *up = psdev_upcall_of(&s->sb, m->oh.unique);
	struct coda_caller who;

	if (!up || up->ih.opcode != CODA_OPEN_BY_FD ||
	    !(up->in.coda_open_by_fd.flags & C_O_WRITE) ||
	    !venus_fd_writable(pid, m->out.coda_open_by_fd.fd))
		return;
	who = (struct coda_caller){up->ih.pid, up->ih.pgid, up->ih.uid};
	int rc = release_expect_venus_close(&s->sb, m->fd, &up->in.coda_open_by_fd.VFid,
					    up->in.coda_open_by_fd.flags, &who);

	if (rc < 0)
		fprintf(stderr,
			"coda-exec: watching the container of a write open: %s: its store may "
			"come before the file's last close\n",
			strerror(-rc));
}

/* The container venus names by its own fd number, taken while its write is
 * held: it closes that fd as soon as the write returns. Venus's fd is then
 * replaced by our read-only copy, so that its own open file (for writing,
 * if the open was) is released now, before the writer's release is watched:
 * its close later must not look like the target's last release. */
static void take_container(struct call *c, struct coda_msg *m)
{
	int venus_fd = m->out.coda_open_by_fd.fd;
	char path[64];

	if (m->len < sizeof(struct coda_open_by_fd_out) || m->oh.result)
		return;
	snprintf(path, sizeof(path), "/proc/%u/fd/%d", c->n->pid, venus_fd);
	m->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->fd >= 0)
		expect_venus_release(call_sup(c), (pid_t)c->n->pid, m);
	if (m->fd >= 0 && call_add_fd(c, m->fd, venus_fd, false) < 0) {
		close(m->fd);
		m->fd = -1;
	}
	if (m->fd < 0) {
		fprintf(stderr, "coda-exec: the container of venus's open reply (%s): %s\n", path,
			strerror(errno));
		m->oh.result = EBADF;
	}
}

/* A reply or downcall goes to our Coda module; or, when a --serve server
 * speaks to venus, to the server: sent on venus's own end of the channel,
 * it reaches the server's end as it would had venus sent it there. */
static void deliver(struct sup *s, struct coda_msg *m)
{
	int rc;

	if (!s->hosted.relay) {
		psdev_deliver(&s->sb, m);
		return;
	}
	rc = chan_send(s->hosted.venus_end, m);
	if (rc < 0 && rc != -EPIPE)
		fprintf(stderr, "coda-exec: a message of venus's did not reach the server: %s\n",
			strerror(-rc));
	if (m->fd >= 0)
		close(m->fd);
}

/* write(2) on the device: one reply or downcall, as psdev_write() takes it. */
static long device_write(struct call *c)
{
	size_t len = (size_t)call_arg(c, 2);
	struct coda_msg m = {.fd = -1};
	int rc;

	if (len < sizeof(struct coda_out_hdr) || len > sizeof(m.raw))
		return -EINVAL;
	rc = call_read(c, call_arg(c, 1), m.raw, len);
	if (rc < 0)
		return rc;
	m.len = len;
	if (m.oh.opcode == CODA_OPEN_BY_FD)
		take_container(c, &m);
	deliver(call_sup(c), &m);
	return (long)len;
}

static void venus_write(struct call *c)
{
	call_return(c, device_write(c));
}

static void venus_writev(struct call *c)
{
	call_return(c, -EINVAL); /* venus writes each message whole */
}

/* mount("coda", dir, "coda", flags, {version, fd}): the mount point is
 * recorded and the mount succeeds; any other mount is the kernel's. */
static void venus_mount(struct call *c)
{
	struct hosted_venus *h = &call_sup(c)->hosted;
	char type[PATH_MAX], dir[PATH_MAX];

	if (call_read_path(c, call_arg(c, 2), type) < 0 || strcmp(type, "coda") ||
	    call_read_path(c, call_arg(c, 1), dir) < 0) {
		call_continue(c);
		return;
	}
	if (dir[0] != '/') {
		call_return(c, -EINVAL);
		return;
	}
	snprintf(h->mnt, sizeof(h->mnt), "%s", dir);
	h->mounted = true;
	call_sup(c)->sb.vc.quiet = false;
	call_return(c, 0);
}

static void venus_umount2(struct call *c)
{
	struct hosted_venus *h = &call_sup(c)->hosted;
	char dir[PATH_MAX];

	if (h->mounted && call_read_path(c, call_arg(c, 0), dir) == 0 && !strcmp(dir, h->mnt))
		call_return(c, 0);
	else
		call_continue(c);
}

/* Every call venus's filter traps goes to its handler. */
static void dispatch(struct call *c)
{
	switch (c->n->data.nr) {
#define TRAP(name, handler, rule) DISPATCH_CASE(name, handler)
#include "venus_calls.def"
#undef TRAP
	}
}

void hosted_serve(struct task *t)
{
	struct call c = {.trap = t->trap,
			 .task = t,
			 .n = &t->notif,
			 .listener = sup_of(t->trap)->hosted.listener,
			 .uid_override = -1};

	t->call = &c;
	dispatch(&c);
	if (!c.answered)
		call_return(&c, -ENOSYS);
	t->call = NULL;
}

bool hosted_exited(const struct sup *s)
{
	return s->hosted.pid > 0 ? s->hosted.exited : s->venus_pid < 0;
}

void hosted_venus_exited(struct sup *s)
{
	struct hosted_venus *h = &s->hosted;

	loop_remove(&s->trap, h->pidfd);
	close(h->pidfd);
	h->pidfd = -1;
	h->exited = true;
	/* Nobody is left for the lifeline to signal. */
	close(h->lifeline[0]);
	close(h->lifeline[1]);
	h->lifeline[0] = h->lifeline[1] = -1;
	psdev_venus_gone(&s->sb);
}

static bool hosted_gone(struct trap *t)
{
	struct sup *s = sup_of(t);

	return hosted_exited(s) || s->hosted.too_late;
}

/* The process --venus-cmd started: the shell, if venus is not it. */
static bool child_gone(struct trap *t)
{
	struct sup *s = sup_of(t);

	return s->venus_pid < 0 || s->hosted.too_late;
}

/* Serves the loop until done, for at most secs. */
static void serve_until(struct sup *s, bool (*done)(struct trap *t), int secs)
{
	struct itimerspec deadline = {.it_value.tv_sec = secs};
	struct hosted_venus *h = &s->hosted;
	int rc;

	h->too_late = false;
	if (h->timer < 0 || timerfd_settime(h->timer, 0, &deadline, NULL) < 0)
		return;
	rc = loop_add(&s->trap, h->timer, EV_TIMER, 0); /* still there if start-up was quick */
	if (rc < 0 && rc != -EEXIST)
		return;
	loop_run_until(&s->trap, done);
}

/* Venus itself once its device open named it, else the process group
 * --venus-cmd was started in. */
static int signal_venus(struct sup *s, int sig)
{
	int rc = s->hosted.pidfd >= 0
		     ? (int)syscall(SYS_pidfd_send_signal, s->hosted.pidfd, sig, NULL, 0)
		     : kill(-s->venus_pid, sig);

	return rc < 0 ? -errno : 0;
}

void hosted_stop(struct sup *s, int secs)
{
	s->hosted.stopping = true;
	s->sb.vc.quiet = true;
	if (!hosted_exited(s) && signal_venus(s, SIGTERM) == 0)
		serve_until(s, hosted_gone, secs);
	if (!hosted_exited(s) && signal_venus(s, SIGKILL) == 0)
		serve_until(s, hosted_gone, 1);
	/* A shell may have more of the command line to run after venus. */
	if (s->venus_pid > 0)
		serve_until(s, child_gone, 1);
	if (s->venus_pid > 0)
		kill(-s->venus_pid, SIGTERM);
}

int hosted_mount_preempted(void)
{
	if (syscall(SYS_mount, NULL, (void *)1, NULL, 0UL, NULL) < 0 && errno != EFAULT)
		return errno;
	return 0;
}

bool hosted_ready(struct trap *t)
{
	return sup_of(t)->hosted.mounted || hosted_gone(t);
}
