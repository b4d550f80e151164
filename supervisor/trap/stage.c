/* The first stage (stage/stage.h), put into each image of the command.
 *
 * At an execve the supervisor lets through, the calling thread is seized
 * (PTRACE_SEIZE, which stops nothing). The kernel then stops the new image
 * at PTRACE_EVENT_EXEC, before it runs any code of its own; there the blob
 * is mapped at STAGE_ADDR, the SIGSYS action set to its handler and, the
 * first time, the stage's filter installed (filters/stage_filter.c), each
 * call made by the stopped thread itself as a debugger makes it; then its
 * registers are put back and it is let go. An execve that fails leaves its
 * thread seized: its next stop lets it go, with the signal that stopped it.
 *
 * The filter, once installed, is inherited by every later image: an image
 * the stage cannot be put into would be killed by its first trapped call.
 * So an exec of a thread that cannot be seized (a debugger's tracee) is
 * refused once the filter is in, and an image that cannot take the stage
 * is killed with a message. x86-64 only. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trap.h"

#include "filters/stage_filter.h"
#include "stage/stage.h"

extern const unsigned char stage_blob[];
extern const size_t stage_blob_len;

/* Scratch in the stage's data page, past struct stage_data: what a call
 * made in the stopped thread points to. Zeroed before it runs on. */
#define SCRATCH_ACTION (STAGE_ADDR + STAGE_DATA + 0x100)
#define SCRATCH_FPROG  (STAGE_ADDR + STAGE_DATA + 0x180)
#define SCRATCH_FILTER (STAGE_ADDR + STAGE_DATA + 0x200)
#define SCRATCH_END    (STAGE_ADDR + STAGE_DATA + 0x1000)
#define SYSCALL_INSN   0x050f	  /* syscall, as a little-endian word */
#define KSA_RESTORER   0x04000000 /* the kernel's SA_RESTORER, which glibc hides */

struct stopped {
	pid_t pid;
	struct user_regs_struct regs; /* as it stopped, to be put back */
	int pending_signal;	      /* one that came while we worked */
};

static int put(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {(void *)buf, len}, remote = {(void *)(uintptr_t)addr, len};

	return process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* One single-step of the stopped thread; a signal that stops it first is
 * kept for later, and the step made again. */
static int step(struct stopped *s)
{
	for (int tries = 0; tries < 8; tries++) {
		int status;

		if (ptrace(PTRACE_SINGLESTEP, s->pid, 0, 0) < 0 ||
		    waitpid(s->pid, &status, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == SIGTRAP)
			return 0;
		s->pending_signal = WSTOPSIG(status);
	}
	return -EAGAIN;
}

/* Makes the stopped thread run syscall nr from the instruction at `at`. */
static long remote_call(struct stopped *s, uint64_t at, long nr, long a, long b, long c, long d)
{
	struct user_regs_struct r = s->regs;
	int rc;

	r.rip = at;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = (unsigned long long)a;
	r.rsi = (unsigned long long)b;
	r.rdx = (unsigned long long)c;
	r.r10 = (unsigned long long)d;
	if (ptrace(PTRACE_SETREGS, s->pid, 0, &r) < 0)
		return -errno;
	rc = step(s);
	if (rc < 0)
		return rc;
	if (ptrace(PTRACE_GETREGS, s->pid, 0, &r) < 0)
		return -errno;
	return (long)r.rax;
}

static int write_blob(struct stopped *s, const char *mount)
{
	unsigned char *blob = malloc(stage_blob_len);
	struct stage_head head;
	int rc;

	if (!blob)
		return -ENOMEM;
	memcpy(blob, stage_blob, stage_blob_len);
	memcpy(&head, blob, sizeof(head));
	head.mount_len = (uint32_t)snprintf(head.mount, sizeof(head.mount), "%s", mount);
	memcpy(blob, &head, sizeof(head));
	rc = put(s->pid, STAGE_ADDR, blob, stage_blob_len);
	free(blob);
	return rc;
}

/* The blob mapped, written and made executable, by a syscall instruction
 * written over the one at the thread's pc for the time of the calls. */
static long map_blob(struct stopped *s, const char *mount)
{
	uint64_t pc = s->regs.rip;
	long word, rc;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, s->pid, pc, 0);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, s->pid, pc, (word & ~0xffffL) | SYSCALL_INSN) < 0)
		return -errno;
	rc = remote_call(s, pc, SYS_mmap, (long)STAGE_ADDR, (long)STAGE_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
	if (rc >= 0 && (uint64_t)rc != STAGE_ADDR)
		rc = -EEXIST;
	if (rc >= 0)
		rc = write_blob(s, mount);
	if (!rc)
		rc = remote_call(s, pc, SYS_mprotect, (long)STAGE_ADDR, (long)STAGE_DATA,
				 PROT_READ | PROT_EXEC, 0);
	if (ptrace(PTRACE_POKETEXT, s->pid, pc, word) < 0 && rc >= 0)
		rc = -errno;
	return rc < 0 ? rc : 0;
}

/* The calls made from the stage's own direct instruction, which the
 * stage's filter (if in) and the command's let through. */
static long direct_call(struct stopped *s, long nr, long a, long b, long c, long d)
{
	return remote_call(s, STAGE_ADDR + STAGE_DIRECT_IP_OFF - 2, nr, a, b, c, d);
}

static long set_action(struct stopped *s)
{
	/* SA_NODEFER: a signal handler that runs while the stage forwards a
	 * call may make a trapped call itself. */
	const uint64_t action[4] = {STAGE_ADDR + ((const struct stage_head *)stage_blob)->handler,
				    SA_SIGINFO | KSA_RESTORER | SA_NODEFER,
				    STAGE_ADDR + ((const struct stage_head *)stage_blob)->restorer,
				    0};
	long rc = put(s->pid, SCRATCH_ACTION, action, sizeof(action));

	return rc ? rc : direct_call(s, SYS_rt_sigaction, SIGSYS, (long)SCRATCH_ACTION, 0, 8);
}

static long install_filter(struct stopped *s)
{
	struct sock_filter f[FILTER_STAGE_MAX];
	size_t len = filter_stage(f);
	struct sock_fprog prog = {.len = (unsigned short)len,
				  .filter = (struct sock_filter *)(uintptr_t)SCRATCH_FILTER};
	long rc = put(s->pid, SCRATCH_FILTER, f, len * sizeof(*f));

	if (!rc)
		rc = put(s->pid, SCRATCH_FPROG, &prog, sizeof(prog));
	return rc ? rc
		  : direct_call(s, SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)SCRATCH_FPROG, 0);
}

static long clear_scratch(struct stopped *s)
{
	static const char zero[SCRATCH_END - SCRATCH_ACTION];

	return put(s->pid, SCRATCH_ACTION, zero, sizeof(zero));
}

/* Puts the stage into the image s stopped in at its exec. */
static long inject(struct trap *t, struct stopped *s)
{
	long rc = map_blob(s, t->stage.mount);

	if (!rc)
		rc = set_action(s);
	if (!rc && !t->stage.filtered) {
		rc = install_filter(s);
		t->stage.filtered = rc == 0;
	}
	if (!rc)
		rc = clear_scratch(s);
	return rc;
}

/* At the exec stop: the exec's own return is made first (the kernel writes
 * it on the way out), then the stage goes in. */
static void exec_stopped(struct trap *t, pid_t pid)
{
	struct stopped s = {.pid = pid};
	long rc = step(&s);

	if (!rc && ptrace(PTRACE_GETREGS, pid, 0, &s.regs) < 0)
		rc = -errno;
	if (!rc)
		rc = inject(t, &s);
	if (!rc && ptrace(PTRACE_SETREGS, pid, 0, &s.regs) < 0)
		rc = -errno;
	if (rc < 0 && t->stage.filtered) {
		fprintf(stderr,
			"coda-exec: cannot put the first stage into process %d: %s; killed\n",
			(int)pid, strerror((int)-rc));
		kill(pid, SIGKILL);
	}
	ptrace(PTRACE_DETACH, pid, 0, s.pending_signal);
}

static ssize_t seized_index(const struct trap *t, pid_t pid)
{
	for (size_t i = 0; i < t->stage.n; i++)
		if (t->stage.seized[i].tid == pid || t->stage.seized[i].tgid == pid)
			return (ssize_t)i;
	return -1;
}

static void forget(struct trap *t, size_t i)
{
	t->stage.seized[i] = t->stage.seized[--t->stage.n];
}

int stage_seize(struct call *c)
{
	struct trap *t = c->trap;
	struct stage_seized *more;
	pid_t tid = (pid_t)c->n->pid;

	/* The command's tree only: not a hosted venus. */
	if (!t->stage.on || c->listener != t->listener || seized_index(t, tid) >= 0)
		return 0;
	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACEEXEC) < 0) {
		/* The first exec: the command runs without the stage. Later,
		 * an image without it would die at its first trapped call. */
		if (!t->stage.filtered)
			t->stage.on = false;
		return t->stage.filtered ? -EPERM : 0;
	}
	if (t->stage.n == t->stage.cap) {
		size_t cap = t->stage.cap ? 2 * t->stage.cap : 8;

		more = realloc(t->stage.seized, cap * sizeof(*more));
		if (!more) {
			ptrace(PTRACE_DETACH, tid, 0, 0);
			return t->stage.filtered ? -ENOMEM : 0;
		}
		t->stage.seized = more;
		t->stage.cap = cap;
	}
	t->stage.seized[t->stage.n++] = (struct stage_seized){tid, c->proc->tgid};
	return 0;
}

bool stage_stopped(struct trap *t, pid_t pid, int status)
{
	ssize_t i = seized_index(t, pid);

	if (i < 0 || !WIFSTOPPED(status))
		return false;
	forget(t, (size_t)i);
	if (status >> 16 == PTRACE_EVENT_EXEC)
		exec_stopped(t, pid);
	else /* a signal-delivery stop passes its signal on; a group stop stays */
		ptrace(PTRACE_DETACH, pid, 0, status >> 16 ? 0 : WSTOPSIG(status));
	return true;
}

void stage_reap(struct trap *t)
{
	for (size_t i = 0; i < t->stage.n;) {
		struct stage_seized s = t->stage.seized[i];
		pid_t ids[2] = {s.tid, s.tgid};
		int gone = 0;
		bool seen = false;

		for (int k = 0; k < 2 && !seen; k++) {
			siginfo_t si = {0};

			if (waitid(P_PID, (id_t)ids[k], &si, WSTOPPED | WNOHANG | __WALL) < 0)
				gone += errno == ECHILD;
			else if (si.si_pid)
				seen = stage_stopped(t, si.si_pid, (si.si_status << 8) | 0x7f);
		}
		if (gone == 2)
			forget(t, i); /* neither the thread nor its leader is ours now */
		else if (!seen)
			i++;
	}
}
