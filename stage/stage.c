/* The first stage: a SIGSYS handler in each image of the command (stage.h).
 *
 * The stage's filter traps the path calls it can answer, unless they come
 * from one of its two syscall instructions. A call on a host path is made
 * here, through the direct instruction, which every filter lets through:
 * no round trip to the supervisor. Anything else (a path under the mount
 * point, a relative one, /proc, /dev/fd, "..") goes through the forward
 * instruction to the supervisor, as the call would have. The signal calls
 * are trapped so that SIGSYS is never blocked nor left to the program: the
 * kernel kills a process whose trapped call finds it so.
 *
 * Freestanding and position-independent: no libc, no relocations, no
 * writable data but the data page (stage.h). x86-64 only. */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>

#include "stage.h"

#define SIGSYS_NR   31
#define SIG_BIT(s)  (1ull << ((s)-1))
#define UNBLOCKABLE (SIG_BIT(SIGSYS_NR) | SIG_BIT(9) | SIG_BIT(19)) /* and KILL, STOP */
#define EINVAL_	    22
#define EFAULT_	    14
#define EEXIST_	    17
#define PATH_CHUNK  256
#define UC_GREGS    40	/* offsetof(ucontext_t, uc_mcontext.gregs) */
#define UC_SIGMASK  296 /* offsetof(ucontext_t, uc_sigmask) */
#define SI_ERRNO    4	/* offsetof(siginfo_t, si_errno): SECCOMP_RET_DATA */
#define SI_SYSCALL  24	/* offsetof(siginfo_t, si_syscall) */

enum { R8, R9, R10, R11, R12, R13, R14, R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP, RIP };

long stage_direct(long nr, long a, long b, long c, long d, long e, long f);
long stage_forward(long nr, long a, long b, long c, long d, long e, long f);
void stage_restorer(void);
void stage_handler(int sig, void *info, void *uc);
extern char stage_direct_ip[], stage_forward_ip[];

/* Both take the call's number and six arguments in the C order and move
 * them to the syscall registers. */
__asm__(".section .stagegadgets, \"ax\"\n"
	"stage_direct:\n"
	"	mov %rdi, %rax\n mov %rsi, %rdi\n mov %rdx, %rsi\n mov %rcx, %rdx\n"
	"	mov %r8, %r10\n mov %r9, %r8\n mov 8(%rsp), %r9\n"
	"	syscall\n"
	"stage_direct_ip:\n"
	"	ret\n"
	"stage_forward:\n"
	"	mov %rdi, %rax\n mov %rsi, %rdi\n mov %rdx, %rsi\n mov %rcx, %rdx\n"
	"	mov %r8, %r10\n mov %r9, %r8\n mov 8(%rsp), %r9\n"
	"	syscall\n"
	"stage_forward_ip:\n"
	"	ret\n"
	".text\n"
	"stage_restorer:\n"
	"	mov $15, %eax\n" /* rt_sigreturn */
	"	syscall\n");

__attribute__((section(".stagehead"), used)) struct stage_head stage_head = {
    .magic = STAGE_MAGIC,
    .handler = (uint64_t)(uintptr_t)stage_handler,
    .restorer = (uint64_t)(uintptr_t)stage_restorer,
    .direct_ip = (uint64_t)(uintptr_t)stage_direct_ip,
    .forward_ip = (uint64_t)(uintptr_t)stage_forward_ip,
};

static const struct stage_head *head(void)
{
	const struct stage_head *h;

	__asm__("lea stage_head(%%rip), %0" : "=r"(h));
	return h;
}

static struct stage_data *data(void)
{
	return (struct stage_data *)((uintptr_t)head() + STAGE_DATA);
}

static void copy(void *to, const void *from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((char *)to)[i] = ((const char *)from)[i];
}

struct iov {
	const void *base;
	size_t len;
};

/* The program's memory is copied through the kernel, so that a bad pointer
 * is an error (EFAULT), not a fault in the handler. The bytes copied. */
static long user_copy(int nr, void *ours, const void *theirs, size_t len)
{
	struct iov local = {ours, len}, remote = {theirs, len};
	long pid = stage_direct(__NR_getpid, 0, 0, 0, 0, 0, 0);

	return stage_direct(nr, pid, (long)&local, 1, (long)&remote, 1, 0);
}

static int copy_in(void *to, const void *from, size_t len)
{
	return user_copy(__NR_process_vm_readv, to, from, len) == (long)len ? 0 : -EFAULT_;
}

static int copy_out(void *to, const void *from, size_t len)
{
	long n = user_copy(__NR_process_vm_writev, (void *)from, to, len);

	return n == (long)len ? 0 : -EFAULT_;
}

/* The start of a path: 0 if it ends within the first PATH_CHUNK bytes,
 * read no further than its page (the next may be unmapped). */
static int read_path(const char *path, char buf[PATH_CHUNK])
{
	size_t len = 4096 - ((uintptr_t)path & 4095);
	long n = user_copy(__NR_process_vm_readv, buf, path, len < PATH_CHUNK ? len : PATH_CHUNK);

	for (long i = 0; i < n; i++)
		if (!buf[i])
			return 0;
	return -EFAULT_;
}

static int is_component(const char *p, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != name[i])
			return 0;
	return p[len] == '/' || p[len] == '\0';
}

/* /etc/mtab, which the supervisor opens itself when it links to /proc. */
static int is_mtab(const char *p)
{
	return is_component(p, "etc", 3) && is_component(p + 4, "mtab", 4) && !p[8];
}

/* /dev/fd/..., the supervisor's link to the program's own fds (as /proc's). */
static int is_dev_fd(const char *p)
{
	return is_component(p, "dev", 3) && is_component(p + 4, "fd", 2);
}

/* What the supervisor's walk lets the kernel resolve as it is: an absolute
 * path whose first name is not the mount point's, nor /proc's, not under
 * /dev/fd (the supervisor's magic links), with no "..", and not /etc/mtab. */
static int host_path(const struct stage_head *h, const char *p)
{
	const char *m = h->mount;
	size_t first = 0;

	if (p[0] != '/')
		return 0;
	while (*p == '/')
		p++;
	while (*m == '/')
		m++;
	while (m[first] && m[first] != '/')
		first++;
	if (!*p || is_component(p, m, first) || is_component(p, "proc", 4) || is_dev_fd(p) ||
	    is_mtab(p))
		return 0;
	for (const char *s = p; *s; s++)
		if ((s == p || s[-1] == '/') && s[0] == '.' && s[1] == '.' &&
		    (!s[2] || s[2] == '/'))
			return 0;
	return 1;
}

/* The path argument of a call the stage may answer, or NULL. */
static const char *path_of(int nr, const long *g)
{
	switch (nr) {
	case __NR_newfstatat:
	case __NR_statx:
	case __NR_faccessat:
	case __NR_faccessat2:
	case __NR_readlinkat:
	case __NR_openat:
		return (const char *)g[RSI];
	case __NR_stat:
	case __NR_lstat:
	case __NR_access:
	case __NR_readlink:
	case __NR_open:
		return (const char *)g[RDI];
	}
	return NULL;
}

/* rt_sigprocmask in the handler works on the mask rt_sigreturn puts back. */
static long sigprocmask_virtual(void *uc, long how, const uint64_t *set, uint64_t *old, long size)
{
	uint64_t *mask = (uint64_t *)((char *)uc + UC_SIGMASK), want = 0;

	if (size != 8)
		return -EINVAL_;
	if (set && copy_in(&want, set, sizeof(want)) < 0)
		return -EFAULT_;
	if (set && how == 0)
		want |= *mask;
	else if (set && how == 1)
		want = *mask & ~want;
	else if (set && how != 2)
		return -EINVAL_;
	if (old && copy_out(old, mask, sizeof(*old)) < 0)
		return -EFAULT_;
	if (set)
		*mask = want & ~UNBLOCKABLE;
	return 0;
}

/* The program's own SIGSYS action, all zero (SIG_DFL) until it sets one. */
static void sigsys_action_get(uint64_t k[4])
{
	if (copy_in(k, data()->sigsys_action, 4 * sizeof(*k)) < 0)
		for (int i = 0; i < 4; i++)
			k[i] = 0;
}

static int sigsys_action_set(const uint64_t k[4])
{
	long rc = stage_direct(__NR_mmap, (long)data(), 4096, 3 /* PROT_READ|PROT_WRITE */,
			       0x100022 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE */, -1, 0);

	if (rc < 0 && rc != -EEXIST_)
		return (int)rc;
	copy(data()->sigsys_action, k, 4 * sizeof(*k));
	return 0;
}

/* SIGSYS stays ours: the program's action for it is kept aside. Another
 * signal's handler never blocks it. */
static long sigaction_virtual(long sig, const uint64_t *act, uint64_t *oact, long size)
{
	uint64_t k[4], old[4];

	if (size != 8)
		return -EINVAL_;
	if (act && copy_in(k, act, sizeof(k)) < 0)
		return -EFAULT_;
	if (sig == SIGSYS_NR) {
		sigsys_action_get(old);
		if (oact && copy_out(oact, old, sizeof(old)) < 0)
			return -EFAULT_;
		return act ? sigsys_action_set(k) : 0;
	}
	if (!act)
		return stage_direct(__NR_rt_sigaction, sig, 0, (long)oact, size, 0, 0);
	k[3] &= ~SIG_BIT(SIGSYS_NR);
	return stage_direct(__NR_rt_sigaction, sig, (long)k, (long)oact, size, 0, 0);
}

/* A wait under a mask of its own (sigsuspend, ppoll, pselect6,
 * epoll_pwait(2)): made with SIGSYS taken out of it, so that a handler
 * that runs meanwhile may make a trapped call. `arg` is the mask's. */
static long masked_wait(int nr, const long *g, int arg)
{
	static const int regs[] = {RDI, RSI, RDX, R10, R8, R9};
	long a[6];
	uint64_t set;
	struct iov holder; /* pselect6's {mask, size} */

	for (int i = 0; i < 6; i++)
		a[i] = g[regs[i]];
	if (nr == __NR_pselect6) {
		if (copy_in(&holder, (const void *)a[arg], sizeof(holder)) < 0)
			return -EFAULT_;
		if (holder.base && copy_in(&set, holder.base, sizeof(set)) < 0)
			return -EFAULT_;
		if (holder.base)
			holder.base = &set;
		a[arg] = (long)&holder;
	} else {
		if (copy_in(&set, (const void *)a[arg], sizeof(set)) < 0)
			return -EFAULT_;
		a[arg] = (long)&set;
	}
	set &= ~SIG_BIT(SIGSYS_NR);
	return stage_direct(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Which argument of a wait is its mask, or -1. */
static int mask_arg(int nr)
{
	switch (nr) {
	case __NR_rt_sigsuspend:
		return 0;
	case __NR_ppoll:
		return 3;
	case __NR_epoll_pwait:
	case __NR_epoll_pwait2:
		return 4;
	case __NR_pselect6:
		return 5;
	}
	return -1;
}

void stage_handler(int sig, void *info, void *uc)
{
	long *g = (long *)((char *)uc + UC_GREGS);
	int nr = *(int *)((char *)info + SI_SYSCALL);
	char buf[PATH_CHUNK];
	const char *path;

	(void)sig;
	if (*(int *)((char *)info + SI_ERRNO) != STAGE_TRAP_DATA)
		return; /* not our filter's: nothing of ours to answer */
	if (nr == __NR_rt_sigprocmask) {
		g[RAX] = sigprocmask_virtual(uc, g[RDI], (const uint64_t *)g[RSI],
					     (uint64_t *)g[RDX], g[R10]);
		return;
	}
	if (nr == __NR_rt_sigaction) {
		g[RAX] =
		    sigaction_virtual(g[RDI], (const uint64_t *)g[RSI], (uint64_t *)g[RDX], g[R10]);
		return;
	}
	if (mask_arg(nr) >= 0) {
		g[RAX] = masked_wait(nr, g, mask_arg(nr));
		return;
	}
	path = path_of(nr, g);
	if (path && read_path(path, buf) == 0 && host_path(head(), buf))
		g[RAX] = stage_direct(nr, g[RDI], g[RSI], g[RDX], g[R10], g[R8], g[R9]);
	else
		g[RAX] = stage_forward(nr, g[RDI], g[RSI], g[RDX], g[R10], g[R8], g[R9]);
}
