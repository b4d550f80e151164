/* The seccomp filter of a hosted Coda venus: the calls that would reach the
 * kernel's Coda device or need root go to the supervisor. */
#ifndef CODA_VENUS_FILTER_H
#define CODA_VENUS_FILTER_H

/* Venus's device fd: each open of the device puts our channel here, so that
 * the filter can trap write and ioctl on it alone. Below FD_SETSIZE: venus
 * select()s on it. */
#define VENUS_DEV_FD 1000

/* Installs the filter on the calling thread (NO_NEW_PRIVS set here).
 * Returns the listener fd, or a negative errno. */
int filter_install_venus(unsigned flags);

#endif
