/* Helpers shared by the syscall handlers. */
#ifndef CODA_VFS_H
#define CODA_VFS_H

#include <limits.h>
#include <stdbool.h>

#include "namei.h"
#include "notify.h"

/* Reads the path at argument `arg` and resolves it; answers the call and
 * returns false on any error. A NULL pointer counts as "" when `flags` has
 * LOOKUP_EMPTY (as Linux 6.11 allows for AT_EMPTY_PATH). */
bool vfs_resolve(struct call *c, long dirfd, int arg, int flags, struct nameidata *nd);

/* The object must exist: answers ENOENT and returns false if it does not. */
bool vfs_exists(struct call *c, const struct nameidata *nd);

#endif
