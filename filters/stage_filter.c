/* The first stage's filter (stage/stage.h), installed in the command by the
 * supervisor once, through the stage's direct instruction, and inherited:
 * the calls the stage answers become a SIGSYS to its handler, unless they
 * come from its own two instructions. Raw BPF: libseccomp has no rule on
 * the instruction pointer. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "fd_band.h"
#include "stage_filter.h"
#include "stage/stage.h"

#define FIELD(f)    offsetof(struct seccomp_data, f)
#define LD(off)	    ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off)))
#define IS(k, t, f) ((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f)))
#define GE(k, t, f) ((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (k), (t), (f)))
#define RET(action) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (action)))
#define STAGE_IP(o) ((uint32_t)(STAGE_ADDR + (o)))
#define COUNT(a)    (sizeof(a) / sizeof((a)[0]))
#define PREFIX_LEN  10 /* what filter_stage() puts before the call rules */
#define MASKED_LEN  5  /* instructions per call trapped only with a mask */
#define BAND_LEN    4  /* fstat's: trapped only on an fd of the fd band */

/* The host path calls the stage may answer, and the signal calls that must
 * never block SIGSYS nor take it. */
static const int always[] = {
    SYS_newfstatat, SYS_statx,		SYS_faccessat,	  SYS_faccessat2,    SYS_readlinkat,
    SYS_stat,	    SYS_lstat,		SYS_access,	  SYS_readlink,	     SYS_open,
    SYS_openat,	    SYS_rt_sigprocmask, SYS_rt_sigaction, SYS_rt_sigsuspend,
};

/* The waits that take a signal mask for their time, trapped when they are
 * given one (argument `arg`), so that it never blocks SIGSYS either. */
static const struct {
	int nr, arg;
} masked[] = {
    {SYS_ppoll, 3},
    {SYS_pselect6, 5},
    {SYS_epoll_pwait, 4},
    {SYS_epoll_pwait2, 4},
};

#define FILTER_LEN (PREFIX_LEN + COUNT(always) + MASKED_LEN * COUNT(masked) + BAND_LEN + 2)

/* Jump offset from instruction `at` to `to` (BPF jumps go forward). */
static unsigned char to(size_t at, size_t to)
{
	return (unsigned char)(to - at - 1);
}

size_t filter_stage(struct sock_filter f[FILTER_STAGE_MAX])
{
	const size_t allow = FILTER_LEN - 2, trap = FILTER_LEN - 1;
	size_t n = 0;

	_Static_assert(FILTER_LEN <= FILTER_STAGE_MAX, "FILTER_STAGE_MAX is too small");
	f[n++] = LD(FIELD(arch));
	f[n++] = IS(AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = RET(SECCOMP_RET_ALLOW); /* another ABI: the command's filter decides */
	f[n++] = LD(FIELD(instruction_pointer) + 4);
	f[n++] = IS((uint32_t)(STAGE_ADDR >> 32), 0, 4);
	f[n++] = LD(FIELD(instruction_pointer));
	f[n++] = IS(STAGE_IP(STAGE_DIRECT_IP_OFF), 1, 0);
	f[n++] = IS(STAGE_IP(STAGE_FORWARD_IP_OFF), 0, 1);
	f[n++] = RET(SECCOMP_RET_ALLOW); /* the stage's own calls */
	f[n++] = LD(FIELD(nr));
	for (size_t i = 0; i < COUNT(always); i++, n++)
		f[n] = IS((uint32_t)always[i], to(n, trap), 0);
	for (size_t i = 0; i < COUNT(masked); i++) {
		f[n] = IS((uint32_t)masked[i].nr, 0, MASKED_LEN - 1);
		n++;
		f[n++] = LD(FIELD(args[masked[i].arg]));
		f[n] = IS(0, 0, to(n, trap));
		n++;
		f[n++] = LD(FIELD(args[masked[i].arg]) + 4);
		f[n] = IS(0, to(n, allow), to(n, trap));
		n++;
	}
	/* fstat of a /coda fd, whose attributes the stage may have. */
	f[n] = IS(SYS_fstat, 0, BAND_LEN - 1);
	n++;
	f[n++] = LD(FIELD(args[0]));
	f[n] = GE(CODA_FD_BAND_LO, 0, to(n, allow));
	n++;
	f[n] = GE(CODA_FD_BAND_HI, to(n, allow), to(n, trap));
	n++;
	f[n++] = RET(SECCOMP_RET_ALLOW);
	f[n++] = RET(SECCOMP_RET_TRAP | STAGE_TRAP_DATA);
	return n;
}
