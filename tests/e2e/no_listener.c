/* no_listener ERRNO COMMAND ARGS...: runs COMMAND as on a kernel without
 * seccomp user notification: seccomp(2) with SECCOMP_FILTER_FLAG_NEW_LISTENER
 * fails with ERRNO, EINVAL (what a kernel before 5.0 answers for a flag it
 * does not know) or ENOSYS (one without seccomp).
 *
 * no_listener NO_ADDFD_SEND COMMAND ARGS...: as on Linux 5.0 to 5.13, which
 * make a listener but know no SECCOMP_ADDFD_FLAG_SEND: the listener's ADDFD
 * ioctl fails with EINVAL.
 *
 * Every other call goes through. Exit 125 if the filter cannot be set. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Calls nr whose argument arg (its low word) is value, or with `any_bit`
 * has a bit of value set, fail with err. */
static int refuse(long nr, unsigned arg, unsigned value, int any_bit, unsigned err)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 8 * arg),
	    BPF_JUMP(BPF_JMP | (any_bit ? BPF_JSET : BPF_JEQ) | BPF_K, value, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned err = 0;
	int rc;

	if (argc >= 3 && !strcmp(argv[1], "EINVAL"))
		err = EINVAL;
	if (argc >= 3 && !strcmp(argv[1], "ENOSYS"))
		err = ENOSYS;
	if (err) /* the flags are seccomp's second argument */
		rc = refuse(SYS_seccomp, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER, 1, err);
	else if (argc >= 3 && !strcmp(argv[1], "NO_ADDFD_SEND"))
		rc = refuse(SYS_ioctl, 1, SECCOMP_IOCTL_NOTIF_ADDFD, 0, EINVAL);
	else {
		fprintf(stderr, "usage: no_listener EINVAL|ENOSYS|NO_ADDFD_SEND COMMAND ARGS...\n");
		return 125;
	}
	if (rc < 0) {
		fprintf(stderr, "no_listener: cannot set the filter: %s\n", strerror(-rc));
		return 125;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "no_listener: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
