/* Borrowing a target's fd without pidfd_getfd, the way a debugger makes its
 * tracee call something: ptrace stops the thread that waits in the trapped
 * call, whose answer is ERESTARTSYS; the stopped thread is made to run
 * sendmsg(fd) to a socket we put in it, then close() of that socket, from
 * the very syscall instruction it stopped in; its registers are then put
 * back, with the restart the kernel would have made, and it goes on into the
 * same call again. The kernel checks the same right (PTRACE_MODE_ATTACH) for
 * ptrace as for pidfd_getfd, so nothing is got that pidfd_getfd would not
 * give. A thread waiting in a receive the kernel was let make is stopped
 * the same way, only to make its call again (fd_borrow_kick). x86-64 only. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trap.h"

#include "filters/filter.h"

bool fd_borrowed(struct call *c, int fd, int *sock)
{
	struct lent_fd *l = &c->proc->lent;

	if (!l->held)
		return false;
	if (l->fd != fd) {
		lent_fd_drop(l); /* its call went elsewhere (a handler ran first) */
		return false;
	}
	*sock = l->sock;
	l->held = false;
	return true;
}

bool fd_borrow_needed(void)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), fd;
	bool denied;

	if (pidfd < 0)
		return false;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, pidfd, 0);
	denied = fd < 0 && (errno == EPERM || errno == ENOSYS);
	if (fd >= 0)
		close(fd);
	close(pidfd);
	return denied;
}

#if defined(__x86_64__)

#define ERESTARTSYS	 512
#define RED_ZONE	 128 /* below the stack pointer: the code's own */
#define SYSCALL_INSN	 0x050f
#define MAX_KEPT_SIGNALS 8

enum stop { STOP_GONE, STOP_SYSCALL, STOP_EVENT, STOP_SIGNAL };

struct borrow {
	pid_t tid, tgid;
	uint64_t insn; /* the syscall instruction the thread stopped in */
	struct user_regs_struct saved;
	uint64_t mask;		    /* its blocked signals, */
	bool masked;		    /* which we blocked all of */
	int kept[MAX_KEPT_SIGNALS]; /* signals dequeued while we held it */
	int nkept;
};

/* Room for the control data of one fd, aligned as a cmsghdr. */
union one_fd_control {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* What the thread reads for its sendmsg, at `at` on its stack. */
struct scratch {
	struct msghdr msg;
	struct iovec iov;
	union one_fd_control control;
	char byte;
};

static enum stop wait_stop(struct borrow *b, int *sig)
{
	int status;
	pid_t r;

	do
		r = waitpid(b->tid, &status, __WALL);
	while (r < 0 && errno == EINTR);
	if (r != b->tid || !WIFSTOPPED(status))
		return STOP_GONE;
	if (WSTOPSIG(status) == (SIGTRAP | 0x80))
		return STOP_SYSCALL;
	if (status >> 16)
		return STOP_EVENT;
	*sig = WSTOPSIG(status);
	return STOP_SIGNAL;
}

static void keep_signal(struct borrow *b, int sig)
{
	for (int i = 0; i < b->nkept; i++)
		if (b->kept[i] == sig)
			return; /* pending twice is pending once */
	if (b->nkept < MAX_KEPT_SIGNALS)
		b->kept[b->nkept++] = sig;
}

/* Waits for the stop PTRACE_INTERRUPT asked for. A signal dequeued first is
 * delivered as it would have been (its handler may then run first). */
static int interrupt_stop(struct borrow *b)
{
	for (;;) {
		int sig = 0;
		enum stop s = wait_stop(b, &sig);

		if (s == STOP_EVENT)
			return 0;
		if (s == STOP_GONE)
			return -ESRCH;
		if (ptrace(PTRACE_CONT, b->tid, 0, s == STOP_SIGNAL ? sig : 0) < 0)
			return -errno;
	}
}

/* Lets the thread run to its next syscall stop. Its signals are blocked
 * meanwhile (block_signals): one that is dequeued all the same (SIGSTOP) is
 * kept back, to be sent again when we let go. */
static int next_syscall_stop(struct borrow *b)
{
	for (;;) {
		int sig = 0;
		enum stop s;

		if (ptrace(PTRACE_SYSCALL, b->tid, 0, 0) < 0)
			return -errno;
		s = wait_stop(b, &sig);
		if (s == STOP_SYSCALL)
			return 0;
		if (s == STOP_GONE)
			return -ESRCH;
		if (s == STOP_SIGNAL)
			keep_signal(b, sig);
	}
}

/* While the thread runs our calls, signals wait for it, pending. */
static int block_signals(struct borrow *b)
{
	sigset_t all;

	sigfillset(&all);
	if (ptrace(PTRACE_GETSIGMASK, b->tid, sizeof(b->mask), &b->mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, b->tid, sizeof(uint64_t), &all) < 0)
		return -errno;
	b->masked = true;
	return 0;
}

static void set_arg(struct user_regs_struct *r, int arg, uint64_t value)
{
	unsigned long long *regs[] = {&r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8, &r->r9};

	*regs[arg] = value;
}

void ptrace_regs_syscall(struct user_regs_struct *r, uint64_t ip, long nr, const uint64_t a[6])
{
	r->rip = ip;
	r->rax = (uint64_t)nr;
	r->orig_rax = (uint64_t)-1; /* no restart of what it stopped in */
	for (int i = 0; i < 6; i++)
		set_arg(r, i, a[i]);
}

/* The thread makes syscall nr from its own syscall instruction: the result. */
static long inject(struct borrow *b, long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct user_regs_struct r = b->saved;
	struct __ptrace_syscall_info info;
	const uint64_t args[6] = {a0, a1, a2};
	int rc;

	ptrace_regs_syscall(&r, b->insn, nr, args);
	if (ptrace(PTRACE_SETREGS, b->tid, 0, &r) < 0)
		return -errno;
	rc = next_syscall_stop(b);
	if (rc < 0)
		return rc;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, b->tid, sizeof(info), &info) < 0 ||
	    info.op != PTRACE_SYSCALL_INFO_ENTRY || info.entry.nr != (uint64_t)nr)
		return -EPROTO;
	rc = next_syscall_stop(b);
	if (rc < 0)
		return rc;
	if (ptrace(PTRACE_GETREGS, b->tid, 0, &r) < 0)
		return -errno;
	return (long)r.rax;
}

static void fill_scratch(struct scratch *s, uint64_t at, int fd)
{
	struct cmsghdr *cm;

	memset(s, 0, sizeof(*s));
	s->iov.iov_base = (void *)(uintptr_t)(at + offsetof(struct scratch, byte));
	s->iov.iov_len = 1;
	s->msg.msg_iov = (void *)(uintptr_t)(at + offsetof(struct scratch, iov));
	s->msg.msg_iovlen = 1;
	s->msg.msg_control = (void *)(uintptr_t)(at + offsetof(struct scratch, control));
	s->msg.msg_controllen = sizeof(s->control.buf);
	cm = (struct cmsghdr *)s->control.buf;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
}

/* The one fd sent to us over `ours`. */
static int take_sent_fd(int ours)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union one_fd_control control;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = control.buf,
			   .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(ours, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/* The stopped thread sends fd over its end `theirs` of our socket `ours`,
 * reading its msghdr from below its stack's red zone (restored after). */
static int send_to_us(struct call *c, struct borrow *b, int fd, int theirs, int ours)
{
	uint64_t at = (b->saved.rsp - RED_ZONE - sizeof(struct scratch)) & ~(uint64_t)15;
	struct scratch s, was;
	long sent;

	fill_scratch(&s, at, fd);
	if (call_read(c, at, &was, sizeof(was)) < 0 || call_write(c, at, &s, sizeof(s)) < 0)
		return -EFAULT;
	sent = inject(b, SYS_sendmsg, (uint64_t)theirs, at + offsetof(struct scratch, msg),
		      FILTER_UNTRAPPED_SEND_FLAGS);
	call_write(c, at, &was, sizeof(was));
	return sent < 0 ? (int)sent : take_sent_fd(ours);
}

/* Puts the thread back as it stopped, about to make its call again, and
 * lets it go with the signals it was sent meanwhile. */
static void let_go(struct borrow *b)
{
	struct user_regs_struct r = b->saved;

	r.rax = b->saved.orig_rax;
	r.orig_rax = (uint64_t)-1;
	r.rip = b->insn;
	ptrace(PTRACE_SETREGS, b->tid, 0, &r);
	if (b->masked)
		ptrace(PTRACE_SETSIGMASK, b->tid, sizeof(b->mask), &b->mask);
	ptrace(PTRACE_DETACH, b->tid, 0, 0);
	for (int i = 0; i < b->nkept; i++)
		syscall(SYS_tgkill, b->tgid, b->tid, b->kept[i]);
}

/* The thread, stopped after our ERESTARTSYS, still in the call we answered? */
static bool stopped_in_call(struct call *c, struct borrow *b)
{
	if (ptrace(PTRACE_GETREGS, b->tid, 0, &b->saved) < 0)
		return false;
	return b->saved.rax == (uint64_t)-ERESTARTSYS &&
	       b->saved.orig_rax == (uint64_t)c->n->data.nr && b->saved.rip == b->insn + 2;
}

/* Our end of a socket pair whose other end is in the target, at *theirs. */
static int plant_socket(struct call *c, int *theirs)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*theirs = call_add_fd(c, sv[1], -1, true);
	close(sv[1]);
	if (*theirs < 0) {
		close(sv[0]);
		return *theirs;
	}
	return sv[0];
}

static bool from_syscall_insn(struct call *c, uint64_t insn)
{
	uint16_t op;

	return c->n->data.arch == AUDIT_ARCH_X86_64 && call_read(c, insn, &op, sizeof(op)) == 0 &&
	       op == SYSCALL_INSN;
}

/* Seizes c's thread, which waits in its call: 0, or -errno with the thread
 * untouched (no ptrace here, it is traced, or the call is not from a
 * syscall instruction we can run again). */
static int seize(struct call *c, struct borrow *b)
{
	b->tid = (pid_t)c->n->pid;
	b->tgid = c->proc->tgid;
	b->insn = c->n->data.instruction_pointer - 2;
	if (!from_syscall_insn(c, b->insn))
		return -ENOSYS;
	return ptrace(PTRACE_SEIZE, b->tid, 0, PTRACE_O_TRACESYSGOOD) < 0 ? -errno : 0;
}

/* Answers c with ERESTARTSYS and stops its thread on the way out: 0 when it
 * is stopped as it was in the call (b->saved), -ESRCH when it was killed,
 * -EINTR when a handler is to run first (the thread is let go, and the
 * kernel makes its call again after the handler). */
static int stop_in_call(struct call *c, struct borrow *b)
{
	ptrace(PTRACE_INTERRUPT, b->tid, 0, 0);
	call_return(c, -ERESTARTSYS);
	if (interrupt_stop(b) < 0)
		return -ESRCH;
	if (stopped_in_call(c, b))
		return 0;
	ptrace(PTRACE_DETACH, b->tid, 0, 0);
	return -EINTR;
}

int call_restart_with_arg(struct call *c, int arg, uint64_t value)
{
	struct borrow b = {0};
	int rc = arg < 0 || arg > 5 ? -EINVAL : seize(c, &b);

	if (rc < 0)
		return rc;
	if (stop_in_call(c, &b) == 0) {
		set_arg(&b.saved, arg, value);
		let_go(&b);
	}
	return 0;
}

int fd_borrow(struct call *c, int fd)
{
	struct borrow b = {0};
	int theirs = -1, ours, got = -EPERM, rc = seize(c, &b);

	if (rc < 0)
		return rc;
	ours = plant_socket(c, &theirs);
	rc = stop_in_call(c, &b);
	if (rc == 0 && block_signals(&b) < 0) {
		ptrace(PTRACE_DETACH, b.tid, 0, 0); /* the kernel restarts its call */
		rc = -EPERM;
	}
	if (rc == 0) {
		if (ours >= 0)
			got = send_to_us(c, &b, fd, theirs, ours);
		if (theirs >= 0)
			inject(&b, SYS_close, (uint64_t)theirs, 0, 0);
		let_go(&b);
	} else if (rc == -ESRCH) {
		got = -ESRCH; /* killed: nothing to put back */
	}
	if (ours >= 0)
		close(ours);
	c->proc->lent = (struct lent_fd){.held = true, .fd = fd, .sock = got};
	return 0;
}

/* Is thread tid in recvmsg? */
static bool in_recvmsg(pid_t tid)
{
	uint64_t sp;
	long nr;

	return proc_syscall(tid, &nr, &sp) == 0 && nr == SYS_recvmsg;
}

void fd_borrow_kick(pid_t tid)
{
	struct borrow b = {.tid = tid};
	struct user_regs_struct r;

	if (!in_recvmsg(tid) || ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD) < 0)
		return;
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	if (interrupt_stop(&b) < 0)
		return;
	/* A wait bounded by SO_RCVTIMEO ends with EINTR: the kernel would not
	 * restart it, we do. ERESTARTSYS the kernel restarts itself. */
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) == 0 && r.orig_rax == SYS_recvmsg &&
	    r.rax == (uint64_t)-EINTR) {
		r.rax = r.orig_rax;
		r.rip -= 2;
		r.orig_rax = (uint64_t)-1;
		ptrace(PTRACE_SETREGS, tid, 0, &r);
	}
	ptrace(PTRACE_DETACH, tid, 0, 0);
}

#else

void fd_borrow_kick(pid_t tid)
{
	(void)tid;
}

int call_restart_with_arg(struct call *c, int arg, uint64_t value)
{
	(void)c;
	(void)arg;
	(void)value;
	return -ENOSYS;
}

int fd_borrow(struct call *c, int fd)
{
	(void)c;
	(void)fd;
	return -ENOSYS;
}

#endif
