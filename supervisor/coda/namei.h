/* Path resolution, as fs/namei.c walks a path for the kernel: component by
 * component from the root, the cwd or a dirfd, through the mount point in
 * either direction, following symlinks inside the volume. */
#ifndef CODA_NAMEI_H
#define CODA_NAMEI_H

#include <limits.h>
#include <stdbool.h>

#include "coda_wire.h"

/* The longest absolute path the supervisor keeps. A name given to the
 * kernel is limited to PATH_MAX, but a relative one walked from a deep cwd
 * makes a longer absolute path, which the kernel does not limit. */
#define CODA_PATH_MAX (4 * PATH_MAX)

struct call;
struct coda_file;

#define LOOKUP_FOLLOW	   0x1 /* follow a symlink in the last component */
#define LOOKUP_DIRECTORY   0x2 /* the result must be a directory */
#define LOOKUP_EMPTY	   0x4 /* AT_EMPTY_PATH: "" names the dirfd itself */
#define LOOKUP_NO_SYMLINKS 0x8 /* openat2 RESOLVE_NO_SYMLINKS */
/* The call acts on the last name itself (mkdir, unlink, rename, ...), as the
 * kernel's filename_parentat() callers do: a trailing slash neither follows
 * a symlink there nor requires a directory; nd.trailing tells the caller. */
#define LOOKUP_NAME   0x10
#define LOOKUP_CREATE 0x20 /* open's O_CREAT: a trailing slash is EISDIR */

enum namei_kind {
	NAMEI_CODA,	/* an object in the volume (or a missing last name) */
	NAMEI_HOST,	/* a host path that the target's own string would not
			 * reach: the call must be done on its behalf at `path` */
	NAMEI_CONTINUE, /* a host path the kernel resolves as it is */
};

struct nameidata {
	enum namei_kind kind;
	bool missing;		       /* NAMEI_CODA: the last name does not exist */
	struct CodaFid fid;	       /* the object (missing: its would-be parent) */
	int vtype;		       /* C_V* of the object */
	char path[CODA_PATH_MAX];      /* absolute path of the result (continued: the name) */
	char last[CODA_MAXNAMLEN + 1]; /* the last name (missing: the one not found) */
	bool named;		       /* NAMEI_CODA ended on a name: parent and last are set */
	struct CodaFid parent;	       /* the directory holding `last` */
	int dots;		       /* it ended on "." (1) or ".." (2) */
	bool trailing;		       /* a "/" followed the last name */
};

/* Resolves `name` relative to dirfd (AT_FDCWD: the cwd) for the calling task.
 * 0 with nd filled, or a negative errno as the kernel would give it. */
int coda_namei(struct call *c, long dirfd, const char *name, int flags, struct nameidata *nd);

/* /proc/self/fd/N (and /dev/fd/N, /proc/PID/fd/N of the caller) naming a
 * /coda fd: that file, with *rest what follows N ("" or "/..."). */
struct coda_file *coda_magic_link(struct call *c, const char *name, const char **rest);

/* Is `path` (absolute, normalised) the mount point or inside it? */
bool coda_path_in_mount(const struct call *c, const char *path);

#endif
