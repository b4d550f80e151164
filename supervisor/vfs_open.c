/* open, openat, openat2, creat. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>

#include "dir.h"
#include "file.h"
#include "host.h"
#include "syscalls.h"
#include "vfs.h"

static int open_lookup_flags(int flags)
{
	int lf = 0;

	if (!(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL)))
		lf |= LOOKUP_FOLLOW;
	if (flags & O_DIRECTORY)
		lf |= LOOKUP_DIRECTORY;
	return lf;
}

/* The checks a kernel open makes of a read-only Coda mount, in its order. */
static int coda_may_open(struct call *c, const struct nameidata *nd, int flags)
{
	bool writing = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);

	if (nd->missing)
		return flags & O_CREAT ? -EROFS : -ENOENT;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (nd->vtype == C_VLNK && !(flags & O_PATH))
		return -ELOOP;
	if (nd->vtype == C_VDIR && (writing || (flags & O_CREAT)))
		return -EISDIR;
	if (writing)
		return -EROFS; /* the write path is not there yet */
	if (flags & O_PATH)
		return 0;
	return coda_permission(c, &nd->fid, C_A_R_OK);
}

static void do_open(struct call *c, long dirfd, int path_arg, int flags, mode_t mode,
		    uint64_t resolve)
{
	struct nameidata nd;
	int lf = open_lookup_flags(flags);
	int rc;

	if (resolve & RESOLVE_NO_SYMLINKS)
		lf |= LOOKUP_NO_SYMLINKS;
	if (!vfs_resolve(c, dirfd, path_arg, lf, &nd))
		return;
	switch (nd.kind) {
	case NAMEI_CONTINUE:
		call_continue(c);
		return;
	case NAMEI_HOST:
		host_open(c, nd.path, flags, mode);
		return;
	case NAMEI_CODA:
		break;
	}
	rc = coda_may_open(c, &nd, flags);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	coda_open(c, &nd.fid, nd.vtype, nd.path, flags);
}

void sys_open(struct call *c)
{
	do_open(c, AT_FDCWD, 0, (int)call_arg(c, 1), (mode_t)call_arg(c, 2), 0);
}

void sys_openat(struct call *c)
{
	do_open(c, (long)call_arg(c, 0), 1, (int)call_arg(c, 2), (mode_t)call_arg(c, 3), 0);
}

void sys_creat(struct call *c)
{
	do_open(c, AT_FDCWD, 0, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)call_arg(c, 1), 0);
}

void sys_openat2(struct call *c)
{
	struct open_how how = {0};
	size_t size = (size_t)call_arg(c, 3);
	int rc;

	if (size < sizeof(how)) {
		call_return(c, -EINVAL);
		return;
	}
	rc = call_read(c, call_arg(c, 2), &how, sizeof(how));
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	/* Only RESOLVE_NO_SYMLINKS means anything inside the volume; the other
	 * RESOLVE_* rules are for the host and are left to the kernel. */
	do_open(c, (long)call_arg(c, 0), 1, (int)how.flags, (mode_t)how.mode, how.resolve);
}
