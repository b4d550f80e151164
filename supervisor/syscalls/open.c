/* open, openat, openat2, creat. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coda/coda.h"
#include "fdtable.h"
#include "host.h"
#include "mtab.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "vfs.h"

/* The open flags openat2 accepts, in the kernel's spelling (its O_LARGEFILE
 * is 0100000 even where libc defines it as 0). */
#define OPENAT2_VALID_FLAGS                                                                        \
	((uint64_t)(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |    \
		    O_DSYNC | O_ASYNC | O_DIRECT | 0100000 | O_DIRECTORY | O_NOFOLLOW |            \
		    O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE))
#define OPENAT2_VALID_RESOLVE                                                                      \
	(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |         \
	 RESOLVE_IN_ROOT | RESOLVE_CACHED)
#define O_PATH_ALLOWED (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)
/* The kernel's __O_TMPFILE (libc's O_TMPFILE includes O_DIRECTORY) */
#define O_TMPFILE_ONLY (O_TMPFILE & ~O_DIRECTORY)

/* build_open_how(): what open, openat and creat keep of their flags and
 * mode, which then pass the checks openat2's pass. */
static struct open_how open_how_of(int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (unsigned)flags & OPENAT2_VALID_FLAGS,
	    .mode = mode & 07777,
	};

	if (how.flags & O_PATH)
		how.flags &= O_PATH_ALLOWED;
	if (!(how.flags & (O_CREAT | O_TMPFILE_ONLY)))
		how.mode = 0;
	return how;
}

/* struct open_how as the kernel takes it (copy_struct_from_user): a larger
 * struct is fine if the bytes we do not know are zero. */
static int read_open_how(struct call *c, uint64_t addr, size_t size, struct open_how *how)
{
	char tail[256];
	int rc;

	if (size < sizeof(*how))
		return -EINVAL;
	if (size > 4096)
		return -E2BIG;
	rc = call_read(c, addr, how, sizeof(*how));
	for (size_t off = sizeof(*how); !rc && off < size; off += sizeof(tail)) {
		size_t n = size - off < sizeof(tail) ? size - off : sizeof(tail);

		rc = call_read(c, addr + off, tail, n);
		for (size_t i = 0; !rc && i < n; i++)
			if (tail[i])
				rc = -E2BIG;
	}
	return rc;
}

/* build_open_flags()'s checks of an open_how, in its order. */
static int check_open_how(const struct open_how *how)
{
	uint64_t flags = how->flags;

	if (flags & ~OPENAT2_VALID_FLAGS)
		return -EINVAL;
	if (how->resolve & ~(uint64_t)OPENAT2_VALID_RESOLVE)
		return -EINVAL;
	if ((how->resolve & RESOLVE_BENEATH) && (how->resolve & RESOLVE_IN_ROOT))
		return -EINVAL;
	if (flags & (O_CREAT | O_TMPFILE_ONLY)) {
		if (how->mode & ~(uint64_t)07777)
			return -EINVAL;
	} else if (how->mode) {
		return -EINVAL;
	}
	/* O_CREAT|O_DIRECTORY made regular files once (Linux 6.4) */
	if ((flags & (O_DIRECTORY | O_CREAT)) == (O_DIRECTORY | O_CREAT))
		return -EINVAL;
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		if ((flags & O_ACCMODE) == O_RDONLY)
			return -EINVAL;
	} else if (flags & O_TMPFILE_ONLY) {
		return -EINVAL;
	}
	if ((flags & O_PATH) && (flags & ~(uint64_t)O_PATH_ALLOWED))
		return -EINVAL;
	return 0;
}

static int open_lookup_flags(const struct open_how *how)
{
	return coda_open_lookup_flags((int)how->flags) |
	       (how->resolve & RESOLVE_NO_SYMLINKS ? LOOKUP_NO_SYMLINKS : 0);
}

/* O_CREAT of a missing name: CODA_CREATE, and nd becomes the new file. */
static int create_for_open(struct call *c, struct nameidata *nd, int flags, mode_t mode)
{
	mode_t perm;
	int rc = vfs_create_mode(c, mode, &perm);

	return rc ?: coda_create_named(call_coda_req(c), nd, !!(flags & O_EXCL), perm);
}

/* The checks a kernel open makes, in its order; creates a missing file for
 * O_CREAT. A file it has just created is opened without permission checks,
 * as the kernel does (a new mode 0444 file still opens for writing). */
static int may_open_or_create(struct call *c, struct nameidata *nd, int flags, mode_t mode)
{
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return nd->missing ? -ENOENT : -EOPNOTSUPP; /* Coda has no tmpfile */
	if (nd->missing) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		return create_for_open(c, nd, flags, mode);
	}
	return coda_may_open(call_coda_req(c), nd, flags);
}

/* O_PATH opens nothing in the kernel, so venus is not asked: the target gets
 * an fd of the supervisor's empty anchor file, and every call it can make
 * with it (fstat, *at, readlinkat "", fchdir) is answered from the record.
 * ADDFD cannot pass a real O_PATH file; a write-only one makes read(2) fail
 * with EBADF by itself, as on O_PATH, and the anchor is sealed against
 * writes (dispatch.c). */
static int open_path_only(struct call *c, const struct nameidata *nd, int flags)
{
	int handle = coda_reopen(call_sup(c)->opath_anchor, O_WRONLY), rc;
	struct coda_file *f;

	if (handle < 0)
		return handle;
	f = coda_file_new(&nd->fid, nd->vtype, nd->path, flags, handle, true);
	if (!f) {
		close(handle);
		return -ENOMEM;
	}
	rc = fdtable_install(c, f, f->host_fd, -1, flags & O_CLOEXEC);
	coda_file_put(f);
	return rc;
}

/* CODA_OPEN, and the open file venus passed goes into the target's band. */
static int open_coda(struct call *c, const struct nameidata *nd, int flags)
{
	struct coda_file *f;
	int src, rc;

	if (flags & O_PATH)
		return open_path_only(c, nd, flags);
	rc = coda_file_open(call_coda_req(c), &nd->fid, nd->vtype, nd->path, flags, &f, &src);
	if (rc < 0)
		return rc;
	rc = fdtable_install(c, f, src, -1, flags & O_CLOEXEC);
	coda_file_close_src(f, src);
	coda_file_put(f);
	return rc;
}

static void do_open(struct call *c, long dirfd, int path_arg, const struct open_how *how)
{
	int flags = (int)how->flags;
	mode_t mode = (mode_t)how->mode;
	struct nameidata nd;
	int rc = check_open_how(how);
	bool created;

	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	if (!vfs_resolve(c, dirfd, path_arg, open_lookup_flags(how), &nd))
		return;
	if (nd.kind != NAMEI_CODA && mtab_open(c, nd.path, flags))
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
	created = nd.missing;
	rc = may_open_or_create(c, &nd, flags, mode);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	/* As the kernel's do_open, no O_TRUNC for a file just made: its times
	 * stay those of its creation. */
	if (created)
		flags &= ~O_TRUNC;
	rc = open_coda(c, &nd, flags);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}

void sys_open(struct call *c)
{
	struct open_how how = open_how_of((int)call_arg(c, 1), (mode_t)call_arg(c, 2));

	do_open(c, AT_FDCWD, 0, &how);
}

void sys_openat(struct call *c)
{
	struct open_how how = open_how_of((int)call_arg(c, 2), (mode_t)call_arg(c, 3));

	do_open(c, (long)call_arg(c, 0), 1, &how);
}

void sys_creat(struct call *c)
{
	struct open_how how = open_how_of(O_CREAT | O_WRONLY | O_TRUNC, (mode_t)call_arg(c, 1));

	do_open(c, AT_FDCWD, 0, &how);
}

void sys_openat2(struct call *c)
{
	struct open_how how = {0};
	int rc = read_open_how(c, call_arg(c, 2), (size_t)call_arg(c, 3), &how);

	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	/* Only RESOLVE_NO_SYMLINKS means anything inside the volume; the other
	 * RESOLVE_* rules are for the host and are left to the kernel. */
	do_open(c, (long)call_arg(c, 0), 1, &how);
}
