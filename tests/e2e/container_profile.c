/* container_profile COMMAND ARGS...: runs COMMAND under a seccomp filter that
 * denies pidfd_getfd and kcmp with EPERM, as the default profiles of Docker
 * and containerd do for a container without CAP_SYS_PTRACE; ptrace stays
 * allowed, as those profiles allow it from Linux 4.8. Everything the
 * command starts inherits the filter, so a whole suite run under it shows
 * that coda-exec needs neither call. Exit 125 if the filter cannot be set. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int deny_ptrace_calls(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SYS_pidfd_getfd, 0);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SYS_kcmp, 0);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

/* The filter must really be there: both calls now fail with EPERM. */
static int denied(long nr)
{
	return syscall(nr, getpid(), 0, 0, 0, 0) < 0 && errno == EPERM;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: container_profile COMMAND ARGS...\n");
		return 125;
	}
	rc = deny_ptrace_calls();
	if (rc < 0 || !denied(SYS_pidfd_getfd) || !denied(SYS_kcmp)) {
		fprintf(stderr, "container_profile: cannot deny pidfd_getfd and kcmp: %s\n",
			strerror(rc < 0 ? -rc : errno));
		return 125;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "container_profile: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
