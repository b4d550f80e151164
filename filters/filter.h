/* The seccomp filter of a target: which syscalls the supervisor sees. */
#ifndef CODA_FILTER_H
#define CODA_FILTER_H

/* Installs the target filter on the calling thread (NO_NEW_PRIVS set here).
 * Returns the listener fd, or a negative errno. */
int filter_install_target(void);

#endif
