/* Starting the two other processes of a run: the embedded venus and the
 * target command under its filter. */
#ifndef CODA_LAUNCH_H
#define CODA_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>

struct sup;

/* Starts the embedded venus program behind a new channel (s->vc.chan,
 * s->venus_pid); its path in prog (cap bytes), also on failure. */
int launch_venus(struct sup *s, char *prog, size_t cap);

/* Forks a child that runs child_main(s, sock), which sends one fd back over
 * sock (a filtered child: its seccomp listener) and does not return. The
 * child's pid, the fd in *fd, and in *word (unless NULL) the result field of
 * the message that brought it (host_for_server: venus's pid); -ECHILD if it
 * ended without sending one (it said why), or -errno. */
pid_t launch_fork(struct sup *s, void (*child_main)(struct sup *s, int sock), int *fd,
		  int32_t *word);

/* Forks the command with the filter installed; sets s->trap.target and
 * s->trap.listener. On failure prints why and returns a negative errno. */
int launch_target(struct sup *s);

/* Forks the --venus-cmd venus under its filter (s->hosted.listener), with
 * the channel it will find behind its device (s->vc.chan, s->venus_pid). */
int launch_hosted_venus(struct sup *s);

/* Closes the channel and waits (briefly) for venus to leave; then kills it
 * (a hosted venus: the process group --venus-cmd started in). See
 * hosted_stop() for the orderly end of a hosted venus, which comes first. */
void stop_venus(struct sup *s);

#endif
