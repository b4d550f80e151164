/* Host calls done on the target's behalf: when a path walked through /coda
 * comes out on the host, the target's own string would resolve elsewhere,
 * so the supervisor makes the call with the path it resolved, and with the
 * credentials the kernel would check the target's own call with. */
#ifndef CODA_HOST_H
#define CODA_HOST_H

#include <stdbool.h>
#include <sys/types.h>

struct call;
struct sup;

/* Until host_creds_revert, the host calls we make are checked as the
 * caller's own would be: with its fsuid, fsgid, supplementary groups and
 * effective capabilities (those of them we hold), or with access(2)'s
 * (its real uid and gid, and with a real uid 0 its permitted capabilities)
 * when `real`; and they create with its umask. Nothing may come between
 * the two that lets another task run. 0, or -errno with nothing changed. */
int host_creds_override(struct call *c, bool real);
/* Ours again, errno kept. */
void host_creds_revert(struct call *c);

/* Frees what host_creds_drop_caps (syscalls.h) kept. */
void host_creds_destroy(struct sup *s);

void host_open(struct call *c, const char *path, int flags, mode_t mode);

/* faccessat(2) of path as the caller (at_flags: AT_EACCESS,
 * AT_SYMLINK_NOFOLLOW). 0 or -errno. */
int host_access(struct call *c, const char *path, int mode, int at_flags);

/* Would the kernel let the caller chdir to path, relative to dir (an fd,
 * or AT_FDCWD; "" is dir itself)? 0 or -errno. */
int host_may_chdir(struct call *c, int dir, const char *path);

#endif
