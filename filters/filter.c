#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include "fd_band.h"
#include "filter.h"
#include "load.h"

/* Every call that names a path: the supervisor decides whether it is in the
 * mount. Write calls are trapped too, so a /coda path never reaches the host. */
static const char *const path_calls[] = {
    "open",	     "openat",
    "openat2",	     "creat",
    "stat",	     "lstat",
    "access",	     "faccessat",
    "faccessat2",    "readlink",
    "readlinkat",    "statfs",
    "chdir",	     "fchdir",
    "getcwd",	     "execve",
    "execveat",	     "mkdir",
    "mkdirat",	     "rmdir",
    "unlink",	     "unlinkat",
    "rename",	     "renameat",
    "renameat2",     "link",
    "linkat",	     "symlink",
    "symlinkat",     "chmod",
    "fchmodat",	     "chown",
    "lchown",	     "fchownat",
    "utime",	     "utimes",
    "utimensat",     "futimesat",
    "truncate",	     "mknod",
    "mknodat",	     "setxattr",
    "lsetxattr",     "getxattr",
    "lgetxattr",     "listxattr",
    "llistxattr",    "removexattr",
    "lremovexattr",  "inotify_add_watch",
    "chroot",	     "bind",
    "connect",	     "name_to_handle_at",
    "fanotify_mark",
};

/* Calls on an fd: trapped only for fds in the band, where /coda files live. */
static const char *const band_fd_calls[] = {
    "fstat",  "fstatfs", "getdents",  "getdents64", "dup",	 "dup2",      "dup3",
    "fchmod", "fchown",	 "ftruncate", "fsync",	    "fdatasync", "fsetxattr", "fremovexattr",
};

/* Calls that change credentials or the umask: seen so the supervisor re-reads them. */
static const char *const cred_calls[] = {
    "setuid",	 "setgid",   "setreuid", "setregid",  "setresuid",
    "setresgid", "setfsuid", "setfsgid", "setgroups", "umask",
};

static int add_band_fd_calls(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < sizeof(band_fd_calls) / sizeof(band_fd_calls[0]); i++) {
		int nr = seccomp_syscall_resolve_name(band_fd_calls[i]);
		int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
					  SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO));

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ioctl on a band fd, but for isatty's TCGETS (each text open of Python and
 * stdio asks it): the container answers that one as a Coda file does. */
static int add_band_ioctl(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name("ioctl"), 2,
				SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO),
				SCMP_A1(SCMP_CMP_NE, TCGETS));
}

/* newfstatat and statx are how glibc and others implement fstat: with
 * AT_EMPTY_PATH on an fd below the band they cannot name a /coda object (a
 * /coda dirfd is in the band; AT_FDCWD is negative, so it compares above). */
static int add_stat_at(scmp_filter_ctx ctx, const char *name, unsigned flags_arg)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
			      SCMP_CMP(flags_arg, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));
	if (rc < 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1, SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO));
}

/* Calls that close or replace a band fd keep the supervisor's table exact. */
static int add_band_closers(scmp_filter_ctx ctx)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name("close"), 1,
				  SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO));

	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY,
				      seccomp_syscall_resolve_name("close_range"), 1,
				      SCMP_A1(SCMP_CMP_GE, CODA_FD_BAND_LO));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name("dup2"), 1,
				      SCMP_A1(SCMP_CMP_GE, CODA_FD_BAND_LO));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name("dup3"), 1,
				      SCMP_A1(SCMP_CMP_GE, CODA_FD_BAND_LO));
	return rc;
}

/* Reads of a /coda directory fd: EISDIR, never the container's bytes. */
static int add_dir_reads(scmp_filter_ctx ctx)
{
	static const char *const reads[] = {"read", "readv", "pread64", "preadv", "preadv2"};

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		int rc = seccomp_rule_add(
		    ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(reads[i]), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CODA_FD_HALF_MASK, CODA_FD_DIR_LO));

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A copy of a /coda fd must be a /coda fd too. */
static int add_fcntl_dup(scmp_filter_ctx ctx)
{
	int nr = seccomp_syscall_resolve_name("fcntl");
	int rc =
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 2, SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO),
			     SCMP_A1(SCMP_CMP_EQ, F_DUPFD));

	if (rc < 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 2, SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO),
				SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC));
}

/* New processes that share their parent's cwd or fd table (CLONE_FS,
 * CLONE_FILES), so the supervisor can share them too. A plain fork or vfork
 * is not trapped (but with all): its child copies what its parent has when
 * first seen, and a parent's children are first adopted that way before it
 * changes what they would copy (proc_adopt_children). A trapped fork could
 * fail with EINTR: a signal that comes before the supervisor has read the
 * call ends its wait, and a shell's SIGCHLD handler has no SA_RESTART.
 * clone3 keeps its flags in memory, where a filter cannot look: it fails
 * with ENOSYS, and the C library falls back to clone, as under Docker's
 * default profile. */
static int add_forks(scmp_filter_ctx ctx, bool all)
{
	static const unsigned long shared[] = {CLONE_FS, CLONE_FILES};
	int nr = seccomp_syscall_resolve_name("clone");
	int rc = 0;

	if (all) {
		rc = filter_notify_all(ctx, (const char *const[]){"fork", "vfork"}, 2);
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	} else {
		for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]) && !rc; i++)
			rc = seccomp_rule_add(
			    ctx, SCMP_ACT_NOTIFY, nr, 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | shared[i], shared[i]));
	}
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				      seccomp_syscall_resolve_name("clone3"), 0);
	return rc;
}

/* unshare of the cwd or the fd table: the caller's copy becomes its own. */
static int add_unshare(scmp_filter_ctx ctx)
{
	static const unsigned long flags[] = {CLONE_FS, CLONE_FILES, CLONE_NEWNS};
	int nr = seccomp_syscall_resolve_name("unshare");

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
					  SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Where fds must be borrowed to receive (ptrace_call.h), the sends show when
 * that may be needed: only once a /coda fd has been sent. */
static int add_sends(scmp_filter_ctx ctx)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name("sendmsg"), 1,
				  SCMP_A2(SCMP_CMP_NE, FILTER_UNTRAPPED_SEND_FLAGS));

	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY,
				      seccomp_syscall_resolve_name("sendmmsg"), 0);
	return rc;
}

static int build_rules(scmp_filter_ctx ctx, unsigned flags)
{
	int rc;

	rc = filter_notify_all(ctx, path_calls, sizeof(path_calls) / sizeof(path_calls[0]));
	if (!rc)
		rc = filter_notify_all(ctx, cred_calls, sizeof(cred_calls) / sizeof(cred_calls[0]));
	if (!rc)
		rc = add_band_fd_calls(ctx);
	if (!rc)
		rc = add_band_ioctl(ctx);
	if (!rc)
		rc = add_stat_at(ctx, "newfstatat", 3);
	if (!rc)
		rc = add_stat_at(ctx, "statx", 2);
	if (!rc)
		rc = add_fcntl_dup(ctx);
	if (!rc)
		rc = add_dir_reads(ctx);
	if (!rc)
		rc = add_band_closers(ctx);
	if (!rc)
		rc = add_forks(ctx, flags & FILTER_TRAP_FORKS);
	if (!rc)
		rc = add_unshare(ctx);
	/* fds passed over a Unix socket: a /coda one must land in the band. */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name("recvmsg"),
				      0);
	/* fchmodat2 (Linux 6.6) is unknown to this libseccomp: add it by number. */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, 452, 0);
	/* io_uring reaches paths without a trappable syscall: programs fall back. */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				      seccomp_syscall_resolve_name("io_uring_setup"), 0);
	if (!rc && (flags & FILTER_TRACK_SENDS))
		rc = add_sends(ctx);
	return rc;
}

int filter_install_target(unsigned flags)
{
	return filter_load(build_rules, flags);
}
