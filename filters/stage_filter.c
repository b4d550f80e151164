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

#include "stage_filter.h"
#include "stage/stage.h"

#define LD(field)     BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define LD_HI(field)  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field) + 4)
#define IS(k, t, f)   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define RET(action)   BPF_STMT(BPF_RET | BPF_K, (action))
#define STAGE_IP(off) ((uint32_t)(STAGE_ADDR + (off)))

/* Trapped to the stage: the host path calls it may answer, and the signal
 * calls that must never block nor take SIGSYS. (Each call's jump goes past
 * the rest of the list and the ALLOW, to the TRAP.) */
static const struct sock_filter stage_filter[] = {
    LD(arch),
    IS(AUDIT_ARCH_X86_64, 1, 0),
    RET(SECCOMP_RET_ALLOW),
    LD_HI(instruction_pointer),
    IS((uint32_t)(STAGE_ADDR >> 32), 0, 4),
    LD(instruction_pointer),
    IS(STAGE_IP(STAGE_DIRECT_IP_OFF), 1, 0),
    IS(STAGE_IP(STAGE_FORWARD_IP_OFF), 0, 1),
    RET(SECCOMP_RET_ALLOW),
    LD(nr),
    IS(SYS_newfstatat, 13, 0),
    IS(SYS_statx, 12, 0),
    IS(SYS_faccessat, 11, 0),
    IS(SYS_faccessat2, 10, 0),
    IS(SYS_readlinkat, 9, 0),
    IS(SYS_stat, 8, 0),
    IS(SYS_lstat, 7, 0),
    IS(SYS_access, 6, 0),
    IS(SYS_readlink, 5, 0),
    IS(SYS_open, 4, 0),
    IS(SYS_openat, 3, 0),
    IS(SYS_rt_sigprocmask, 2, 0),
    IS(SYS_rt_sigaction, 1, 0),
    RET(SECCOMP_RET_ALLOW),
    RET(SECCOMP_RET_TRAP | STAGE_TRAP_DATA),
};

const struct sock_filter *filter_stage(size_t *len)
{
	*len = sizeof(stage_filter) / sizeof(stage_filter[0]);
	return stage_filter;
}
