/* no_listener ERRNO COMMAND ARGS...: runs COMMAND as on a kernel without
 * seccomp user notification: seccomp(2) with SECCOMP_FILTER_FLAG_NEW_LISTENER
 * fails with ERRNO, EINVAL (what a kernel before 5.0 answers for a flag it
 * does not know) or ENOSYS (one without seccomp). Every other call goes
 * through. Exit 125 if the filter cannot be set. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int refuse_listeners(unsigned err)
{
	/* The flags are seccomp's second argument; their low word is enough. */
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0, 1),
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
	if (!err) {
		fprintf(stderr, "usage: no_listener EINVAL|ENOSYS COMMAND ARGS...\n");
		return 125;
	}
	rc = refuse_listeners(err);
	if (rc < 0) {
		fprintf(stderr, "no_listener: cannot set the filter: %s\n", strerror(-rc));
		return 125;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "no_listener: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
