/* Loading a filter built with libseccomp, with a listener for the supervisor. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
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

int filter_load(int (*build_rules)(scmp_filter_ctx ctx, unsigned flags), unsigned flags)
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
	if (rc)
		return rc;
	rc = load_with_listener(&prog);
	free(prog.filter);
	return rc;
}
