/* mkdir, mknod, symlink, unlink, rmdir, rename, link: the calls that change
 * the namespace, with the kernel's checks in its order before venus is
 * asked. Calls naming two paths need both in the volume, or both outside
 * (EXDEV otherwise, so that mv falls back to copying). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "dir.h"
#include "super.h"
#include "syscalls.h"
#include "vfs.h"

static void do_mkdir(struct call *c, long dirfd, int arg, mode_t mode)
{
	struct nameidata nd;
	mode_t perm;
	int rc;

	if (!vfs_resolve_coda(c, dirfd, arg, 0, &nd))
		return;
	if (!nd.missing) {
		call_return(c, -EEXIST);
		return;
	}
	rc = vfs_create_mode(c, mode & (07777), &perm);
	if (!rc)
		rc = coda_mkdir(c, &nd.parent, nd.last, perm);
	call_return(c, rc);
}

void sys_mkdir(struct call *c)
{
	if (c->n->data.nr == SYS_mkdirat)
		do_mkdir(c, (long)call_arg(c, 0), 1, (mode_t)call_arg(c, 2));
	else
		do_mkdir(c, AT_FDCWD, 0, (mode_t)call_arg(c, 1));
}

/* Coda has no device nodes, fifos or sockets: the kernel's coda module
 * answers mknod with EIO (CODA_EIO_ERROR). */
void sys_mknod(struct call *c)
{
	struct nameidata nd;

	if (c->n->data.nr == SYS_mknodat) {
		if (!vfs_resolve_coda(c, (long)call_arg(c, 0), 1, 0, &nd))
			return;
	} else if (!vfs_resolve_coda(c, AT_FDCWD, 0, 0, &nd)) {
		return;
	}
	if (!nd.missing)
		call_return(c, -EEXIST);
	else
		call_return(c, c->sup->opt.read_only ? -EROFS : -EIO);
}

void sys_symlink(struct call *c)
{
	bool at = c->n->data.nr == SYS_symlinkat;
	char target[PATH_MAX];
	struct nameidata nd;
	int rc = call_read_path(c, call_arg(c, 0), target);

	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	if (!vfs_resolve_coda(c, at ? (long)call_arg(c, 1) : AT_FDCWD, at ? 2 : 1, 0, &nd))
		return;
	if (!nd.missing)
		rc = -EEXIST;
	else if (!*target)
		rc = -ENOENT;
	else
		rc = coda_symlink(c, &nd.parent, nd.last, target);
	call_return(c, rc);
}

/* What rmdir and unlink say of a path ending in "." or "..", or of the
 * volume root, which have no entry of their own to remove. */
static int unnamed_remove_error(const struct nameidata *nd, bool dir)
{
	if (!dir)
		return nd->vtype == C_VDIR ? -EISDIR : -ENOENT;
	if (nd->dots == 1)
		return -EINVAL;
	return nd->dots == 2 ? -ENOTEMPTY : -EBUSY;
}

static int may_remove(const struct nameidata *nd, bool dir)
{
	if (nd->missing)
		return -ENOENT;
	if (!nd->named)
		return unnamed_remove_error(nd, dir);
	if (dir && nd->vtype != C_VDIR)
		return -ENOTDIR;
	if (!dir && nd->vtype == C_VDIR)
		return -EISDIR;
	return 0;
}

static void do_remove(struct call *c, long dirfd, int arg, bool dir)
{
	struct nameidata nd;
	int rc;

	if (!vfs_resolve_coda(c, dirfd, arg, 0, &nd))
		return;
	rc = may_remove(&nd, dir);
	if (!rc && dir)
		rc = coda_rmdir(c, &nd.parent, nd.last, &nd.fid);
	else if (!rc)
		rc = coda_unlink(c, &nd.parent, nd.last, &nd.fid);
	call_return(c, rc);
}

void sys_unlink(struct call *c)
{
	switch (c->n->data.nr) {
	case SYS_unlinkat:
		if (call_arg(c, 2) & ~(uint64_t)AT_REMOVEDIR) {
			call_return(c, -EINVAL);
			return;
		}
		do_remove(c, (long)call_arg(c, 0), 1, call_arg(c, 2) & AT_REMOVEDIR);
		return;
	case SYS_rmdir:
		do_remove(c, AT_FDCWD, 0, true);
		return;
	}
	do_remove(c, AT_FDCWD, 0, false);
}

struct two_paths {
	struct nameidata from, to;
};

/* Resolves both paths; answers and returns false unless both are in the
 * volume. */
static bool resolve_two(struct call *c, long from_dirfd, int from_arg, int from_flags,
			long to_dirfd, int to_arg, struct two_paths *p)
{
	if (!vfs_resolve(c, from_dirfd, from_arg, from_flags, &p->from) ||
	    !vfs_resolve(c, to_dirfd, to_arg, 0, &p->to))
		return false;
	if (p->from.kind == NAMEI_CONTINUE && p->to.kind == NAMEI_CONTINUE)
		call_continue(c);
	else if ((p->from.kind == NAMEI_CODA) != (p->to.kind == NAMEI_CODA))
		call_return(c, -EXDEV);
	else if (p->from.kind != NAMEI_CODA)
		call_return(c, -EOPNOTSUPP); /* host paths reached through /coda */
	return p->from.kind == NAMEI_CODA && p->to.kind == NAMEI_CODA;
}

static bool is_below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

static int may_rename(const struct two_paths *p, unsigned flags)
{
	const struct nameidata *a = &p->from, *b = &p->to;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT: see README */
	if (a->missing)
		return -ENOENT;
	if (!a->named || !b->named)
		return -EBUSY;
	if (!b->missing && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (a->vtype == C_VDIR && is_below(b->path, a->path))
		return -EINVAL; /* into itself */
	if (!b->missing && a->vtype == C_VDIR && b->vtype != C_VDIR)
		return -ENOTDIR;
	if (!b->missing && a->vtype != C_VDIR && b->vtype == C_VDIR)
		return -EISDIR;
	return 0;
}

static void do_rename(struct call *c, long from_dirfd, int from_arg, long to_dirfd, int to_arg,
		      unsigned flags)
{
	struct two_paths p;
	int rc;

	if (!resolve_two(c, from_dirfd, from_arg, 0, to_dirfd, to_arg, &p))
		return;
	rc = may_rename(&p, flags);
	if (!rc && !p.to.missing && coda_fid_eq(&p.from.fid, &p.to.fid))
		rc = 1; /* two names of one file: rename does nothing */
	if (!rc)
		rc = coda_rename(c, &p.from.parent, p.from.last, &p.from.fid, &p.to.parent,
				 p.to.last, p.to.missing ? NULL : &p.to.fid);
	call_return(c, rc > 0 ? 0 : rc);
}

void sys_rename(struct call *c)
{
	switch (c->n->data.nr) {
	case SYS_renameat:
		do_rename(c, (long)call_arg(c, 0), 1, (long)call_arg(c, 2), 3, 0);
		return;
	case SYS_renameat2:
		do_rename(c, (long)call_arg(c, 0), 1, (long)call_arg(c, 2), 3,
			  (unsigned)call_arg(c, 4));
		return;
	}
	do_rename(c, AT_FDCWD, 0, AT_FDCWD, 1, 0);
}

static void do_link(struct call *c, long from_dirfd, int from_arg, long to_dirfd, int to_arg,
		    int at_flags)
{
	int lf = (at_flags & AT_SYMLINK_FOLLOW ? LOOKUP_FOLLOW : 0) |
		 (at_flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0);
	struct two_paths p;
	int rc;

	if (at_flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
		call_return(c, -EINVAL);
		return;
	}
	if (!resolve_two(c, from_dirfd, from_arg, lf, to_dirfd, to_arg, &p))
		return;
	if (p.from.missing)
		rc = -ENOENT;
	else if (!p.to.missing)
		rc = -EEXIST;
	else if (p.from.vtype == C_VDIR)
		rc = -EPERM;
	else
		rc = coda_link(c, &p.from.fid, &p.to.parent, p.to.last);
	call_return(c, rc);
}

void sys_link(struct call *c)
{
	if (c->n->data.nr == SYS_linkat)
		do_link(c, (long)call_arg(c, 0), 1, (long)call_arg(c, 2), 3, (int)call_arg(c, 4));
	else
		do_link(c, AT_FDCWD, 0, AT_FDCWD, 1, 0);
}
