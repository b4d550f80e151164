/* The seccomp filter of a target: which syscalls the supervisor sees. */
#ifndef CODA_FILTER_H
#define CODA_FILTER_H

#include <sys/socket.h>
#include <linux/seccomp.h>

/* The listener's wake-up flag (Linux 6.6), not in bookworm's headers; it is
 * passed by value. The target and the bench's floor set it alike. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

enum filter_flags {
	/* sendmsg and sendmmsg trapped too, but for a sendmsg with exactly
	 * FILTER_UNTRAPPED_SEND_FLAGS: the new filter's listener going to the
	 * supervisor (nobody could answer that send yet) and the sends the
	 * supervisor makes a stopped thread run (supervisor/trap/ptrace_call.c). MSG_CONFIRM
	 * means nothing on a Unix socket, and no program sends with it there. */
	FILTER_TRACK_SENDS = 1 << 0,
	/* Every fork trapped, not only those that share a cwd or fd table:
	 * where /proc cannot list a process's children (proc_adopt_children). */
	FILTER_TRAP_FORKS = 1 << 1,
	/* Calls from the first stage's direct instruction (stage/stage.h)
	 * let through: the stage has decided they need no supervisor. */
	FILTER_STAGE = 1 << 2,
};

/* Installs the target filter on the calling thread (NO_NEW_PRIVS set here).
 * Returns the listener fd, or a negative errno. */
int filter_install_target(unsigned flags);
#define FILTER_UNTRAPPED_SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CONFIRM)

#endif
