/* The seccomp filter of a target: which syscalls the supervisor sees. */
#ifndef CODA_FILTER_H
#define CODA_FILTER_H

#include <sys/socket.h>

/* Installs the target filter on the calling thread (NO_NEW_PRIVS set here).
 * Returns the listener fd, or a negative errno. */
int filter_install_target(void);
/* The same, and sendmsg and sendmmsg trapped too, but for a sendmsg with
 * exactly FILTER_UNTRAPPED_SEND_FLAGS: the new filter's listener going to
 * the supervisor (nobody could answer that send yet) and the sends the
 * supervisor makes a stopped thread run (ptrace_call.h). MSG_CONFIRM means
 * nothing on a Unix socket, and no program sends with it there. */
int filter_install_target_tracking_sends(void);
#define FILTER_UNTRAPPED_SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CONFIRM)

#endif
