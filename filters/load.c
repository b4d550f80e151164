/* Loading a filter built with libseccomp, with a listener for the supervisor. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "load.h"

/* The filter as BPF, through a memfd: this libseccomp cannot load it with
 * the flag we want. The caller frees prog->filter. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("coda-exec-filter", MFD_CLOEXEC);
	off_t size;
	int rc;

	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd);
	size = rc ? 0 : lseek(fd, 0, SEEK_END);
	if (!rc && (size <= 0 || size % sizeof(struct sock_filter)))
		rc = -EINVAL;
	prog->filter = rc ? NULL : malloc((size_t)size);
	if (!rc && !prog->filter)
		rc = -ENOMEM;
	if (!rc && pread(fd, prog->filter, (size_t)size, 0) != size)
		rc = -EIO;
	prog->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	close(fd);
	if (rc) {
		free(prog->filter);
		prog->filter = NULL;
	}
	return rc;
}

/* Loads prog and returns its listener. Once the supervisor has taken a call,
 * only a fatal signal may end the target's wait (WAIT_KILLABLE_RECV): as the
 * kernel's Coda module blocks signals during an upcall, a signal handler then
 * runs after the call, which is neither done twice by a restart nor lost.
 * Kernels before 5.19 lack the flag and get the plain interruptible wait. */
static int load_with_listener(struct sock_fprog *prog)
{
	unsigned long flags =
	    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);

	if (fd < 0 && errno == EINVAL) {
		flags &= ~(unsigned long)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
	}
	/* Only one listener may sit in a task's filter stack. */
	if (fd < 0)
		return errno == EBUSY ? -EBUSY : -errno;
	return (int)fd;
}

/* Puts in front of prog: a call whose instruction pointer is ip is allowed.
 * (libseccomp has no rule on the instruction pointer.) */
static int allow_ip_first(struct sock_fprog *prog, uint64_t ip)
{
	const unsigned ip_lo = offsetof(struct seccomp_data, instruction_pointer);
	struct sock_filter head[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_lo + 4),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0, 3),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_lo),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	size_t n = sizeof(head) / sizeof(head[0]);
	struct sock_filter *all = malloc((prog->len + n) * sizeof(*all));

	if (!all)
		return -ENOMEM;
	memcpy(all, head, sizeof(head));
	memcpy(all + n, prog->filter, prog->len * sizeof(*all));
	free(prog->filter);
	prog->filter = all;
	prog->len = (unsigned short)(prog->len + n);
	return 0;
}

int filter_load(int (*build_rules)(scmp_filter_ctx ctx, unsigned flags), unsigned flags)
{
	return filter_load_allowing(build_rules, flags, 0);
}

int filter_load_allowing(int (*build_rules)(scmp_filter_ctx ctx, unsigned flags), unsigned flags,
			 uint64_t allow_ip)
{
	struct sock_fprog prog = {0};
	scmp_filter_ctx ctx;
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Calls of another ABI (int 0x80) would bypass every rule: refuse them. */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
	if (!rc)
		rc = build_rules(ctx, flags);
	if (!rc)
		rc = export_bpf(ctx, &prog);
	seccomp_release(ctx);
	if (!rc && allow_ip)
		rc = allow_ip_first(&prog, allow_ip);
	if (rc) {
		free(prog.filter);
		return rc;
	}
	rc = load_with_listener(&prog);
	free(prog.filter);
	return rc;
}
