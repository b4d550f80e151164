/* The first stage: a SIGSYS handler in each image of the command (stage.h).
 *
 * The stage's filter traps the path calls it can answer, unless they come
 * from one of its two syscall instructions. A call on a host path is made
 * here, through the direct instruction, which every filter lets through:
 * no round trip to the supervisor. A stat of the volume is answered from
 * the supervisor's table of its own answers (stage.h) when it is there.
 * Anything else (a path under the mount point, a relative one, /proc,
 * /dev/fd, "..") goes through the forward instruction to the supervisor,
 * as the call would have. The signal calls
 * are trapped so that SIGSYS is never blocked nor left to the program: the
 * kernel kills a process whose trapped call finds it so.
 *
 * Freestanding and position-independent: no libc, no relocations, no
 * writable data but the data page (stage.h). x86-64 only. */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/kcmp.h>
#include <linux/stat.h>

#include "stage.h"

#define SIGSYS_NR     31
#define SIG_BIT(s)    (1ull << ((s)-1))
#define UNBLOCKABLE   (SIG_BIT(SIGSYS_NR) | SIG_BIT(9) | SIG_BIT(19)) /* and KILL, STOP */
#define EINVAL_	      22
#define EFAULT_	      14
#define EEXIST_	      17
#define PATH_CHUNK    256
#define UC_GREGS      40  /* offsetof(ucontext_t, uc_mcontext.gregs) */
#define UC_SIGMASK    296 /* offsetof(ucontext_t, uc_sigmask) */
#define SI_ERRNO      4	  /* offsetof(siginfo_t, si_errno): SECCOMP_RET_DATA */
#define SI_SYSCALL    24  /* offsetof(siginfo_t, si_syscall) */
#define SA_RESETHAND_ 0x80000000u

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
 * is an error (EFAULT), not a fault in the handler: me is the calling
 * thread, whose tid names its memory. The bytes copied. */
static long user_copy(long me, int nr, void *ours, const void *theirs, size_t len)
{
	struct iov local = {ours, len}, remote = {theirs, len};

	return stage_direct(nr, me, (long)&local, 1, (long)&remote, 1, 0);
}

static int copy_in(long me, void *to, const void *from, size_t len)
{
	return user_copy(me, __NR_process_vm_readv, to, from, len) == (long)len ? 0 : -EFAULT_;
}

static int copy_out(long me, void *to, const void *from, size_t len)
{
	long n = user_copy(me, __NR_process_vm_writev, (void *)from, to, len);

	return n == (long)len ? 0 : -EFAULT_;
}

/* The start of a path: 0 if it ends within the first PATH_CHUNK bytes,
 * read no further than its page (the next may be unmapped). */
static int read_path(long me, const char *path, char buf[PATH_CHUNK])
{
	size_t len = 4096 - ((uintptr_t)path & 4095);
	long n =
	    user_copy(me, __NR_process_vm_readv, buf, path, len < PATH_CHUNK ? len : PATH_CHUNK);

	for (long i = 0; i < n; i++)
		if (!buf[i])
			return 0;
	return -EFAULT_;
}

/* What the supervisor's walk lets the kernel resolve as it is: an absolute
 * path whose first name is not the mount point's, nor /proc's, not under
 * /dev/fd (the supervisor's magic links), with no "..", and not /etc/mtab. */
static int host_path(const struct stage_head *h, const char *p)
{
	const char *m = stage_skip_slashes(h->mount);
	size_t first = 0;

	if (p[0] != '/')
		return 0;
	p = stage_skip_slashes(p);
	while (m[first] && m[first] != '/')
		first++;
	return *p && !stage_is_component(p, m, first) && !stage_own_name(p) && !stage_has_dotdot(p);
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

/* ---- Stat answers from the supervisor's table (stage.h) ---- */

#define STAT_FLAGS (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)
#define O_RDONLY_  0
#define O_CLOEXEC_ 02000000
#define MAP_TABLE  0x100001 /* MAP_SHARED|MAP_FIXED_NOREPLACE */
#define barrier()  __asm__ volatile("" ::: "memory")

/* A stat call, where its arguments are, made by thread me. */
struct stat_call {
	long me;
	long dirfd;
	int flags;
	int statx;
	void *buf;
};

/* The stat call nr is, with flags the supervisor would take (others get
 * its EINVAL): 1, or 0. */
static int stat_call_of(long me, int nr, const long *g, struct stat_call *s)
{
	switch (nr) {
	case __NR_stat:
	case __NR_lstat:
		*s = (struct stat_call){me, AT_FDCWD, nr == __NR_lstat ? AT_SYMLINK_NOFOLLOW : 0, 0,
					(void *)g[RSI]};
		return 1;
	case __NR_newfstatat:
		*s = (struct stat_call){me, g[RDI], (int)g[R10], 0, (void *)g[RDX]};
		return !(s->flags & ~STAT_FLAGS);
	case __NR_statx:
		*s = (struct stat_call){me, g[RDI], (int)g[RDX], 1, (void *)g[R8]};
		return !(s->flags & ~(STAT_FLAGS | AT_STATX_SYNC_TYPE)) &&
		       (s->flags & AT_STATX_SYNC_TYPE) != AT_STATX_SYNC_TYPE &&
		       !((unsigned)g[R10] & STATX__RESERVED);
	}
	return 0;
}

/* The fid of object d as the supervisor last told it, if this task shares
 * the cwd or fd table (kcmp `what`) of the task it told it for: 1, or 0. */
static int fid_of(long me, const volatile struct stage_obj *d, int what, uint32_t fid[4])
{
	uint32_t seq = d->seq;
	long tid;

	barrier();
	tid = d->tid;
	for (int i = 0; i < 4; i++)
		fid[i] = d->fid[i];
	barrier();
	if ((seq & 1) || d->seq != seq || !tid)
		return 0;
	return stage_direct(__NR_kcmp, me, tid, what, 0, 0, 0) == 0;
}

/* The object of fd (of the fd band), as a fid: 1, or 0 if not known. */
static int fd_fid(long me, long fd, uint32_t fid[4])
{
	long i = (long)(int)fd - STAGE_FD_LO;

	return i >= 0 && i < STAGE_FDS && fid_of(me, &data()->fd[i], KCMP_FILES, fid);
}

/* Where a relative name of call s starts, as a fid: 1, or 0 if not known. */
static int start_of(const struct stat_call *s, uint32_t fid[4])
{
	if ((int)s->dirfd == AT_FDCWD)
		return fid_of(s->me, &data()->cwd, KCMP_FS, fid);
	return fd_fid(s->me, s->dirfd, fid);
}

/* The key of a stat of path p (not a host path), if the table may hold
 * its answer: 1, or 0. */
static int table_key(const struct stat_call *s, const char *p, struct stage_key *k)
{
	int len = stage_path_len(p);

	for (int i = 0; i < 4; i++)
		k->start[i] = 0;
	if (len < 0 || (!len && (!(s->flags & AT_EMPTY_PATH) || (int)s->dirfd == AT_FDCWD)) ||
	    (p[0] != '/' && !start_of(s, k->start)))
		return 0;
	k->uid = (uint32_t)stage_direct(__NR_setfsuid, -1, 0, 0, 0, 0, 0);
	k->follow = len && !(s->flags & AT_SYMLINK_NOFOLLOW);
	k->len = (uint32_t)len;
	copy(k->path, p, (size_t)len);
	return 1;
}

static const volatile struct stage_table *table(void)
{
	return (const volatile struct stage_table *)STAGE_TABLE_ADDR;
}

/* Maps uid's table, the first time: 1 once it is there, or 0. */
static int table_map(long me, const struct stage_head *h, uint32_t uid)
{
	char path[sizeof(h->table_dir) + 12], digits[11];
	uint32_t n = 0, len = 0, magic;
	long fd, at;

	if (data()->table_mapped)
		return 1;
	if (!h->table_dir[0])
		return 0;
	while (h->table_dir[len] && len < sizeof(h->table_dir) - 1)
		path[len] = h->table_dir[len], len++;
	path[len++] = '/';
	do
		digits[n++] = (char)('0' + uid % 10);
	while ((uid /= 10));
	while (n)
		path[len++] = digits[--n];
	path[len] = '\0';
	fd = stage_direct(__NR_open, (long)path, O_RDONLY_ | O_CLOEXEC_, 0, 0, 0, 0);
	if (fd < 0)
		return 0;
	at = stage_direct(__NR_mmap, (long)STAGE_TABLE_ADDR, sizeof(struct stage_table),
			  1 /* PROT_READ */, MAP_TABLE, fd, 0);
	stage_direct(__NR_close, fd, 0, 0, 0, 0, 0);
	/* Another thread may have mapped it first: then its magic is there. */
	if (at != (long)STAGE_TABLE_ADDR &&
	    (at != -EEXIST_ || copy_in(me, &magic, (const void *)STAGE_TABLE_ADDR, 4) < 0 ||
	     magic != STAGE_TABLE_MAGIC))
		return 0;
	data()->table_mapped = 1;
	return 1;
}

static int key_is(const volatile struct stage_key *a, const struct stage_key *b)
{
	const volatile unsigned char *x = (const volatile unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	if (a->len != b->len)
		return 0;
	for (uint32_t i = 0; i < stage_key_size(b); i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

/* The table's answer for key k, copied to the caller's buffer: 0, -EFAULT,
 * -ENOENT, or 1 when the table has none. */
static long table_answer(const struct stage_head *h, const struct stat_call *s,
			 const struct stage_key *k)
{
	const volatile struct stage_table *t = table();
	uint32_t hash = stage_key_hash(k), first, gen, size = s->statx ? 256 : 144;
	unsigned char out[256];

	if (!table_map(s->me, h, k->uid) || t->magic != STAGE_TABLE_MAGIC || t->uid != k->uid)
		return 1;
	gen = t->gen;
	first = hash % STAGE_TABLE_SETS * STAGE_TABLE_WAYS;
	for (uint32_t w = 0; w < STAGE_TABLE_WAYS; w++) {
		const volatile struct stage_slot *slot = &t->slot[first + w];
		const volatile unsigned char *from = s->statx ? slot->statx : slot->stat;
		uint32_t seq = slot->seq;
		int32_t error;

		barrier();
		if ((seq & 1) || !slot->used || slot->gen != gen || slot->hash != hash ||
		    !key_is(&slot->key, k))
			continue;
		error = slot->error;
		for (uint32_t i = 0; i < size; i++)
			out[i] = from[i];
		barrier();
		if (slot->seq != seq)
			continue;
		return error ? -error : copy_out(s->me, s->buf, out, size);
	}
	return 1;
}

/* fstat of an fd of the fd band (the filter traps no other), answered
 * from the table as "" with AT_EMPTY_PATH: 0 or -errno in *rc, and 1; or 0
 * when it must be forwarded. */
static int fstat_from_table(long me, const long *g, long *rc)
{
	struct stat_call s = {me, g[RDI], AT_EMPTY_PATH, 0, (void *)g[RSI]};
	struct stage_key k;

	if (!table_key(&s, "", &k))
		return 0;
	*rc = table_answer(head(), &s, &k);
	return *rc <= 0;
}

/* A stat of path p (copied in) that is not a host path, answered from the
 * table: 0 or -errno in *rc, and 1; or 0 when it must be forwarded. */
static int stat_from_table(long me, int nr, const long *g, const char *p, long *rc)
{
	struct stat_call s;
	struct stage_key k;

	if (!stat_call_of(me, nr, g, &s) || !table_key(&s, p, &k))
		return 0;
	*rc = table_answer(head(), &s, &k);
	return *rc <= 0;
}

/* rt_sigprocmask in the handler works on the mask rt_sigreturn puts back. */
static long sigprocmask_virtual(long me, void *uc, long how, const uint64_t *set, uint64_t *old,
				long size)
{
	uint64_t *mask = (uint64_t *)((char *)uc + UC_SIGMASK), want = 0;

	if (size != 8)
		return -EINVAL_;
	if (set && copy_in(me, &want, set, sizeof(want)) < 0)
		return -EFAULT_;
	if (set && how == 0)
		want |= *mask;
	else if (set && how == 1)
		want = *mask & ~want;
	else if (set && how != 2)
		return -EINVAL_;
	if (old && copy_out(me, old, mask, sizeof(*old)) < 0)
		return -EFAULT_;
	if (set)
		*mask = want & ~UNBLOCKABLE;
	return 0;
}

/* The program's own SIGSYS action, all zero (SIG_DFL) until it sets one. */
static void sigsys_action_get(uint64_t k[4])
{
	copy(k, data()->sigsys_action, 4 * sizeof(*k));
}

static void sigsys_action_set(const uint64_t k[4])
{
	copy(data()->sigsys_action, k, 4 * sizeof(*k));
}

/* SIGSYS stays ours: the program's action for it is kept aside. Another
 * signal's handler never blocks it. */
static long sigaction_virtual(long me, long sig, const uint64_t *act, uint64_t *oact, long size)
{
	uint64_t k[4], old[4];

	if (size != 8)
		return -EINVAL_;
	if (act && copy_in(me, k, act, sizeof(k)) < 0)
		return -EFAULT_;
	if (sig == SIGSYS_NR) {
		sigsys_action_get(old);
		if (oact && copy_out(me, oact, old, sizeof(old)) < 0)
			return -EFAULT_;
		if (act)
			sigsys_action_set(k);
		return 0;
	}
	if (!act)
		return stage_direct(__NR_rt_sigaction, sig, 0, (long)oact, size, 0, 0);
	k[3] &= ~SIG_BIT(SIGSYS_NR);
	return stage_direct(__NR_rt_sigaction, sig, (long)k, (long)oact, size, 0, 0);
}

/* A wait under a mask of its own (sigsuspend, ppoll, pselect6,
 * epoll_pwait(2)): made with SIGSYS taken out of it, so that a handler
 * that runs meanwhile may make a trapped call. `arg` is the mask's. */
static long masked_wait(long me, int nr, const long *g, int arg)
{
	static const int regs[] = {RDI, RSI, RDX, R10, R8, R9};
	long a[6];
	uint64_t set;
	struct iov holder; /* pselect6's {mask, size} */

	for (int i = 0; i < 6; i++)
		a[i] = g[regs[i]];
	if (nr == __NR_pselect6) {
		if (copy_in(me, &holder, (const void *)a[arg], sizeof(holder)) < 0)
			return -EFAULT_;
		if (holder.base && copy_in(me, &set, holder.base, sizeof(set)) < 0)
			return -EFAULT_;
		if (holder.base)
			holder.base = &set;
		a[arg] = (long)&holder;
	} else {
		if (copy_in(me, &set, (const void *)a[arg], sizeof(set)) < 0)
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

/* A signal call, which the stage makes its own: 1 with its result in
 * g[RAX], or 0 for any other call. */
static int signal_call(long me, int nr, long *g, void *uc)
{
	if (nr == __NR_rt_sigprocmask)
		g[RAX] = sigprocmask_virtual(me, uc, g[RDI], (const uint64_t *)g[RSI],
					     (uint64_t *)g[RDX], g[R10]);
	else if (nr == __NR_rt_sigaction)
		g[RAX] = sigaction_virtual(me, g[RDI], (const uint64_t *)g[RSI], (uint64_t *)g[RDX],
					   g[R10]);
	else if (mask_arg(nr) >= 0)
		g[RAX] = masked_wait(me, nr, g, mask_arg(nr));
	else
		return 0;
	return 1;
}

/* A path call, or an fstat of the fd band: answered from the table, made
 * here on a host path, or forwarded to the supervisor. Its result. */
static long path_call(long me, int nr, const long *g)
{
	const char *path = path_of(nr, g);
	char buf[PATH_CHUNK];
	long rc;

	if (nr == __NR_fstat && fstat_from_table(me, g, &rc))
		return rc;
	if (path && read_path(me, path, buf) == 0) {
		if (host_path(head(), buf))
			return stage_direct(nr, g[RDI], g[RSI], g[RDX], g[R10], g[R8], g[R9]);
		if (stat_from_table(me, nr, g, buf, &rc))
			return rc;
	}
	return stage_forward(nr, g[RDI], g[RSI], g[RDX], g[R10], g[R8], g[R9]);
}

/* A SIGSYS of another filter (the program's own SECCOMP_RET_TRAP), taken as
 * the kernel takes it: the program's handler runs, or, where it has none
 * (default or ignored: seccomp forces the signal), the program dies of it. */
static void foreign_sigsys(int sig, void *info, void *uc)
{
	const uint64_t dfl[4] = {0, 0, 0, 0};
	uint64_t act[4];

	sigsys_action_get(act);
	/* A handler (neither SIG_DFL nor SIG_IGN), reset first if it asked. */
	if (act[0] > 1) {
		if (act[1] & SA_RESETHAND_)
			sigsys_action_set(dfl);
		((void (*)(int, void *, void *))(uintptr_t)act[0])(sig, info, uc);
		return;
	}
	stage_direct(__NR_rt_sigaction, SIGSYS_NR, (long)dfl, 0, 8, 0, 0);
	stage_direct(__NR_tgkill, stage_direct(__NR_getpid, 0, 0, 0, 0, 0, 0),
		     stage_direct(__NR_gettid, 0, 0, 0, 0, 0, 0), SIGSYS_NR, 0, 0, 0);
}

void stage_handler(int sig, void *info, void *uc)
{
	long *g = (long *)((char *)uc + UC_GREGS);
	int nr = *(int *)((char *)info + SI_SYSCALL);
	long me;

	if (*(int *)((char *)info + SI_ERRNO) != STAGE_TRAP_DATA) {
		foreign_sigsys(sig, info, uc);
		return;
	}
	/* Our thread: process_vm_readv and kcmp take a tid as well. */
	me = stage_direct(__NR_gettid, 0, 0, 0, 0, 0, 0);
	if (!signal_call(me, nr, g, uc))
		g[RAX] = path_call(me, nr, g);
}
