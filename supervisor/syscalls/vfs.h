/* Helpers shared by the syscall handlers. */
#ifndef CODA_VFS_H
#define CODA_VFS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "coda/coda.h"
#include "current.h"
#include "syscalls.h"
#include "trap/trap.h"

/* The cwd as the trap shares and copies it (cwd.c). */
struct proc_shared *vfs_fs_copy(const struct proc_shared *from, bool stale);
void vfs_fs_free(struct proc_shared *shared);

/* Replaces the cwd of the caller (all tasks sharing its fs see it). */
void vfs_set_cwd(struct call *c, enum cwd_kind kind, const char *path, const struct CodaFid *fid);

/* The Coda module's callers run as trap tasks (coda_sched.c). */
void vfs_sched_init(struct sup *s);
/* The caller as an upcall names it: tid, process group, fsuid. */
int vfs_caller(struct call *c, struct coda_caller *who);

/* Resolves `name` relative to dirfd (AT_FDCWD: the cwd) for the caller, as
 * the kernel's path_init and walk: 0 with nd filled, or the kernel's -errno. */
int vfs_lookup(struct call *c, long dirfd, const char *name, int flags, struct nameidata *nd);

/* /proc/self/fd/N (and /dev/fd/N, /proc/PID/fd/N of the caller) naming a
 * /coda fd: that file, with *rest what follows N ("" or "/..."). */
struct coda_file *vfs_magic_link(struct call *c, const char *name, const char **rest);

/* Reads the path at argument `arg` into name and resolves it: 0, or the
 * kernel's -errno (the call is not answered). */
int vfs_namei(struct call *c, long dirfd, int arg, int flags, char name[PATH_MAX],
	      struct nameidata *nd);

/* Reads the path at argument `arg` and resolves it; answers the call and
 * returns false on any error. A NULL pointer counts as "" when `flags` has
 * LOOKUP_EMPTY (as Linux 6.11 allows for AT_EMPTY_PATH). */
bool vfs_resolve(struct call *c, long dirfd, int arg, int flags, struct nameidata *nd);

/* The object must exist: answers ENOENT and returns false if it does not. */
bool vfs_exists(struct call *c, const struct nameidata *nd);

/* Resolves like vfs_resolve and answers every outcome but a /coda one: the
 * kernel continues a host path, and a host path reached through /coda is
 * refused (EOPNOTSUPP: not done on the target's behalf yet, see README).
 * True when nd is in the volume and the caller must answer. */
bool vfs_resolve_coda(struct call *c, long dirfd, int arg, int flags, struct nameidata *nd);

/* The /coda file of target fd `fd`, for a call that needs an open file.
 * NULL when the call has been answered: any other fd is the kernel's
 * (continued), and an O_PATH one is EBADF, as fdget() refuses it. */
struct coda_file *vfs_open_file(struct call *c, long fd);

/* filename_create() for an object that is not a directory (nd resolved
 * with LOOKUP_NAME): the name must be new (EEXIST), and a new name with a
 * trailing "/" asked for a directory (ENOENT). */
int vfs_may_create(const struct nameidata *nd);

/* The task whose /proc file `file` name is (/proc/self/FILE,
 * /proc/thread-self/FILE, /proc/PID/FILE, /proc/PID/task/TID/FILE), or 0
 * for any other name. */
pid_t vfs_proc_owner(struct call *c, const char *name, const char *file);

/* The permission bits of a new object: mode less the caller's umask. */
int vfs_create_mode(struct call *c, mode_t mode, mode_t *out);

#endif
