/* The first stage (stage/stage.h), put into each image of the command.
 *
 * At an execve the supervisor lets through, the calling thread is seized
 * (PTRACE_SEIZE, which stops nothing). The kernel then stops the new image
 * at PTRACE_EVENT_EXEC, before it runs any code of its own; there the blob
 * and its data are mapped at STAGE_ADDR, the SIGSYS action set to its
 * handler, the cwd told if it is in the volume and, the
 * first time, the stage's filter installed (filters/stage_filter.c), each
 * call made by the stopped thread itself as a debugger makes it; then its
 * registers are put back and it is let go. An execve that fails leaves its
 * thread seized: its next stop lets it go, with the signal that stopped it.
 *
 * The filter, once installed, is inherited by every later image: an image
 * the stage cannot be put into would be killed by its first trapped call.
 * So an exec of a thread that cannot be seized (a debugger's tracee) is
 * refused once the filter is in, and an image that cannot take the stage
 * is killed with a message.
 *
 * Later, the layer above tells a program's stage where its cwd is and what
 * its fds of the fd band are, written into the stage's data with
 * process_vm_writev (stage_tell_cwd, stage_tell_fd). x86-64 only. */
#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
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

#include "filters/fd_band.h"
#include "filters/stage_filter.h"
#include "stage/stage.h"

extern const unsigned char stage_blob[];
extern const size_t stage_blob_len;

#define KSA_RESTORER 0x04000000 /* the kernel's SA_RESTORER, which glibc hides */
#define MAP_STAGE    (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)

struct stopped {
	pid_t pid;
	const struct stage_seized *seized; /* how it was seized */
	struct user_regs_struct regs;	   /* as it stopped, to be put back */
	int pending_signal;		   /* one that came while we worked */
};

/* Resumes the stopped thread (single-stepping it, or not) until its next
 * SIGTRAP; a signal that stops it first is kept for later. */
static int run_to_trap(struct stopped *s, enum __ptrace_request how)
{
	for (int tries = 0; tries < 8; tries++) {
		int status;

		if (ptrace(how, s->pid, 0, 0) < 0 || waitpid(s->pid, &status, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == SIGTRAP)
			return 0;
		s->pending_signal = WSTOPSIG(status);
	}
	return -EAGAIN;
}

/* Makes the stopped thread run syscall nr, from `at` (the number in rax,
 * single-stepped) or, when the number is in the code there, to its int3. */
static long remote_call(struct stopped *s, uint64_t at, enum __ptrace_request how, long nr,
			const uint64_t a[6])
{
	struct user_regs_struct r = s->regs;
	int rc;

	ptrace_regs_syscall(&r, at, nr, a);
	if (ptrace(PTRACE_SETREGS, s->pid, 0, &r) < 0)
		return -errno;
	rc = run_to_trap(s, how);
	if (rc < 0)
		return rc;
	if (ptrace(PTRACE_GETREGS, s->pid, 0, &r) < 0)
		return -errno;
	return (long)r.rax;
}

/* Code written over the thread's first instructions: the blob's mapping
 * (read and execute), kept in r15, then the data's (read and write),
 * then int3. The numbers go in with the code because the exec, still on its
 * way out, writes its own result into rax first. */
static const unsigned char map_code[32] = {
    0xb8, SYS_mmap, 0,	  0,	0,	    /* mov $SYS_mmap, %eax */
    0x0f, 0x05,				    /* syscall */
    0x49, 0x89,	    0xc7,		    /* mov %rax, %r15 */
    0x4c, 0x89,	    0xe7,		    /* mov %r12, %rdi */
    0x4c, 0x89,	    0xee,		    /* mov %r13, %rsi */
    0x4c, 0x89,	    0xf2,		    /* mov %r14, %rdx */
    0xb8, SYS_mmap, 0,	  0,	0,	    /* mov $SYS_mmap, %eax */
    0x0f, 0x05,				    /* syscall */
    0xcc, 0xcc,	    0xcc, 0xcc, 0xcc, 0xcc, /* int3 */
};

/* Writes len bytes at addr of the stopped thread a word at a time, as its
 * tracer may whatever its owner (/proc/PID/mem is its owner's file). */
static int poke(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	for (size_t off = 0; off < len; off += sizeof(long)) {
		long word = 0;
		size_t n = len - off < sizeof(word) ? len - off : sizeof(word);

		if (n < sizeof(word)) {
			errno = 0;
			word = ptrace(PTRACE_PEEKDATA, pid, addr + off, 0);
			if (errno)
				return -errno;
		}
		memcpy(&word, (const char *)buf + off, n);
		if (ptrace(PTRACE_POKEDATA, pid, addr + off, word) < 0)
			return -errno;
	}
	return 0;
}

static int peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	for (size_t off = 0; off < len; off += sizeof(long)) {
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKTEXT, pid, addr + off, 0);
		if (errno)
			return -errno;
		memcpy((char *)buf + off, &word, sizeof(word));
	}
	return 0;
}

/* The blob's mapping and its data's, made by the thread at its pc. */
static long map_blob(struct stopped *s)
{
	struct user_regs_struct r = s->regs;
	unsigned char saved[sizeof(map_code)];
	uint64_t pc = s->regs.rip;
	int rc = peek(s->pid, pc, saved, sizeof(saved));

	if (rc < 0)
		return rc;
	r.rip = pc;
	r.rdi = STAGE_ADDR;
	r.rsi = STAGE_LEN;
	r.rdx = PROT_READ | PROT_EXEC;
	r.r10 = MAP_STAGE;
	r.r8 = (unsigned long long)-1;
	r.r9 = 0;
	r.r12 = STAGE_ADDR + STAGE_DATA;
	r.r13 = STAGE_DATA_LEN;
	r.r14 = PROT_READ | PROT_WRITE;
	rc = poke(s->pid, pc, map_code, sizeof(map_code));
	if (!rc && ptrace(PTRACE_SETREGS, s->pid, 0, &r) < 0)
		rc = -errno;
	if (!rc)
		rc = run_to_trap(s, PTRACE_CONT);
	if (!rc && ptrace(PTRACE_GETREGS, s->pid, 0, &r) < 0)
		rc = -errno;
	if (poke(s->pid, pc, saved, sizeof(saved)) < 0 && !rc)
		rc = -errno;
	if (!rc && (r.r15 != STAGE_ADDR || r.rax != STAGE_ADDR + STAGE_DATA))
		rc = (long long)r.r15 < 0   ? (int)r.r15
		     : (long long)r.rax < 0 ? (int)r.rax
					    : -EEXIST;
	return rc;
}

/* The blob as this program gets it: the mount point, what the calls made
 * from it point to, where its tables are. Written over its read-only
 * mapping, as a debugger writes a breakpoint; word by word if /proc/PID/mem
 * is not ours to open (a program of another user). */
static int write_blob(struct trap *t, struct stopped *s)
{
	unsigned char *blob = malloc(stage_blob_len);
	struct stage_head h;
	struct sock_filter f[FILTER_STAGE_MAX];
	size_t len = filter_stage(f);
	int rc;

	if (!blob)
		return -ENOMEM;
	memcpy(blob, stage_blob, stage_blob_len);
	memcpy(&h, blob, sizeof(h));
	h.mount_len = (uint32_t)snprintf(h.mount, sizeof(h.mount), "%s", t->stage.mount);
	memcpy(h.table_dir, t->stage.table_dir, sizeof(h.table_dir));
	/* SA_NODEFER: a signal handler that runs while the stage forwards a
	 * call may make a trapped call itself. */
	h.action[0] = STAGE_ADDR + h.handler;
	h.action[1] = SA_SIGINFO | KSA_RESTORER | SA_NODEFER;
	h.action[2] = STAGE_ADDR + h.restorer;
	h.fprog[0] = len;
	h.fprog[1] = STAGE_ADDR + offsetof(struct stage_head, filter);
	memcpy(h.filter, f, len * sizeof(*f));
	memcpy(blob, &h, sizeof(h));
	rc = mem_write_force(s->pid, STAGE_ADDR, blob, stage_blob_len);
	if (rc == -EACCES)
		rc = poke(s->pid, STAGE_ADDR, blob, stage_blob_len);
	free(blob);
	return rc;
}

/* A call made from the stage's own direct instruction, which the stage's
 * filter (if in) and the command's let through. */
static long direct_call(struct stopped *s, long nr, long a0, long a1, long a2, long a3)
{
	const uint64_t args[6] = {(uint64_t)a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3};

	return remote_call(s, STAGE_ADDR + STAGE_DIRECT_IP_OFF - 2, PTRACE_SINGLESTEP, nr, args);
}

/* n directories in tid's stage data from address `at` on, each told as
 * dir (NULL: none), as seqlocks (stage.h): each count made odd, each
 * written, each count made even, in that order by one call a chunk. A
 * program without the stage has no such page: nothing is told. */
static void write_dirs(struct trap *t, pid_t tid, uint64_t at, size_t n, const uint32_t dir[4])
{
	enum { CHUNK = 300 };
	struct stage_obj told = {0, 0, {0}};
	struct iovec local[3 * CHUNK], remote[3 * CHUNK];
	uint32_t seq = t->stage.dir_seq += 2, odd = seq - 1;

	if (dir && !t->stage.untold) {
		told.tid = tid;
		memcpy(told.fid, dir, sizeof(told.fid));
	}
	for (size_t first = 0; first < n; first += CHUNK) {
		size_t k = n - first < CHUNK ? n - first : CHUNK;

		for (size_t i = 0; i < k; i++) {
			char *d = (char *)(uintptr_t)(at + (first + i) * sizeof(told));

			local[i] = (struct iovec){&odd, sizeof(odd)};
			remote[i] = (struct iovec){d, sizeof(odd)};
			local[k + i] = (struct iovec){(char *)&told + 4, sizeof(told) - 4};
			remote[k + i] = (struct iovec){d + 4, sizeof(told) - 4};
			local[2 * k + i] = (struct iovec){&seq, sizeof(seq)};
			remote[2 * k + i] = (struct iovec){d, sizeof(seq)};
		}
		if (process_vm_writev(tid, local, 3 * k, remote, 3 * k, 0) < 0)
			return;
	}
}

static uint64_t data_at(size_t offset)
{
	return STAGE_ADDR + STAGE_DATA + offset;
}

/* Puts the stage into the program s stopped in at its exec: two stops of
 * the thread (three the first time). */
static long inject(struct trap *t, struct stopped *s)
{
	const uint64_t head = STAGE_ADDR;
	long rc = map_blob(s);

	if (!rc)
		rc = write_blob(t, s);
	/* The thread that execs takes the process's pid. */
	if (!rc && s->seized->in_volume)
		write_dirs(t, s->pid, data_at(offsetof(struct stage_data, cwd)), 1, s->seized->cwd);
	if (!rc)
		rc = direct_call(s, SYS_rt_sigaction, SIGSYS,
				 (long)(head + offsetof(struct stage_head, action)), 0, 8);
	if (!rc && !t->stage.filtered) {
		rc = direct_call(s, SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
				 (long)(head + offsetof(struct stage_head, fprog)), 0);
		t->stage.filtered = rc == 0;
	}
	return rc;
}

/* At the exec stop; the exec returns 0 to the program once it is let go. */
static void exec_stopped(struct trap *t, pid_t pid, const struct stage_seized *seized)
{
	struct stopped s = {.pid = pid, .seized = seized};
	long rc = ptrace(PTRACE_GETREGS, pid, 0, &s.regs) < 0 ? -errno : 0;

	s.regs.rax = 0;
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

int stage_seize(struct call *c, const uint32_t cwd[4])
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
		if (t->stage.filtered) {
			if (!t->stage.said_untraceable)
				fprintf(stderr,
					"coda-exec: --stage: an exec of process %d is refused: it "
					"cannot take the first stage (%s; traced by a debugger?); "
					"run without --stage to trace programs inside the job\n",
					(int)c->proc->tgid, strerror(errno));
			t->stage.said_untraceable = true;
			return -EPERM;
		}
		fprintf(stderr,
			"coda-exec: --stage: cannot trace the command (%s); it runs "
			"without the first stage\n",
			strerror(errno));
		t->stage.on = false;
		return 0;
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
	t->stage.seized[t->stage.n++] = (struct stage_seized){tid, c->proc->tgid, cwd != NULL, {0}};
	if (cwd)
		memcpy(t->stage.seized[t->stage.n - 1].cwd, cwd, sizeof(t->stage.seized->cwd));
	return 0;
}

bool stage_stopped(struct trap *t, pid_t pid, int status)
{
	ssize_t i = seized_index(t, pid);
	struct stage_seized seized;

	if (i < 0 || !WIFSTOPPED(status))
		return false;
	seized = t->stage.seized[i];
	forget(t, (size_t)i);
	if (status >> 16 == PTRACE_EVENT_EXEC)
		exec_stopped(t, pid, &seized);
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

/* Is the caller's program one the stage is in (the command's tree)? */
static bool staged(const struct call *c)
{
	return c->trap->stage.on && c->listener == c->trap->listener;
}

void stage_tell_cwd(struct call *c, const uint32_t cwd[4])
{
	if (staged(c))
		write_dirs(c->trap, c->proc->tid, data_at(offsetof(struct stage_data, cwd)), 1,
			   cwd);
}

void stage_tell_fd(struct call *c, int fd, const uint32_t fid[4])
{
	if (staged(c) && fd >= STAGE_FD_LO && fd < STAGE_FD_LO + STAGE_FDS)
		write_dirs(c->trap, c->proc->tid,
			   data_at(offsetof(struct stage_data, fd[fd - STAGE_FD_LO])), 1, fid);
}

void stage_forget_fds(struct call *c, long first, long last)
{
	_Static_assert(STAGE_FD_LO == CODA_FD_BAND_LO && STAGE_FDS == CODA_FD_BAND_SIZE,
		       "the stage's fds are the fd band");
	if (first < STAGE_FD_LO)
		first = STAGE_FD_LO;
	if (last >= STAGE_FD_LO + STAGE_FDS)
		last = STAGE_FD_LO + STAGE_FDS - 1;
	if (staged(c) && first <= last)
		write_dirs(c->trap, c->proc->tid,
			   data_at(offsetof(struct stage_data, fd[first - STAGE_FD_LO])),
			   (size_t)(last - first + 1), NULL);
}

void stage_untold(struct call *c)
{
	if (!staged(c))
		return;
	c->trap->stage.untold = true;
	stage_tell_cwd(c, NULL);
	stage_forget_fds(c, STAGE_FD_LO, STAGE_FD_LO + STAGE_FDS - 1);
}
