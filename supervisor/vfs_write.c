/* The calls that change the namespace or attributes. The volume is read-only
 * until the write path lands: on /coda they fail as on a read-only mount
 * (EROFS, EEXIST, ENOENT, EXDEV across the mount boundary, in the kernel's
 * order); on the host they run untouched. */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include "file.h"
#include "syscalls.h"
#include "vfs.h"

struct path_arg {
	long dirfd;
	int arg;
	int lookup;
};

/* Where the path of a single-path modifying call is, and whether it follows. */
static struct path_arg modify_path(struct call *c)
{
	long nr = c->n->data.nr;
	long dirfd = (long)call_arg(c, 0);

	switch (nr) {
	case SYS_unlinkat:
	case SYS_futimesat:
		return (struct path_arg){dirfd, 1, 0};
	case SYS_fchmodat:
	case 452: /* fchmodat2 */
		return (struct path_arg){
		    dirfd, 1,
		    nr == 452 && (call_arg(c, 3) & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW};
	case SYS_fchownat:
		return (struct path_arg){
		    dirfd, 1, (call_arg(c, 4) & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW};
	case SYS_unlink:
	case SYS_rmdir:
	case SYS_lchown:
	case SYS_lsetxattr:
	case SYS_lremovexattr:
		return (struct path_arg){AT_FDCWD, 0, 0};
	}
	/* chmod, chown, truncate, setxattr, removexattr, utime, utimes */
	return (struct path_arg){AT_FDCWD, 0, LOOKUP_FOLLOW};
}

static void answer_modify(struct call *c, const struct nameidata *nd, bool creating)
{
	switch (nd->kind) {
	case NAMEI_CONTINUE:
		call_continue(c);
		return;
	case NAMEI_HOST:
		/* A host path reached through /coda: not done on the target's
		 * behalf yet (see README). */
		call_return(c, -EOPNOTSUPP);
		return;
	case NAMEI_CODA:
		break;
	}
	if (creating)
		call_return(c, nd->missing ? -EROFS : -EEXIST);
	else
		call_return(c, nd->missing ? -ENOENT : -EROFS);
}

void sys_modify(struct call *c)
{
	struct path_arg p = modify_path(c);
	struct nameidata nd;

	if (vfs_resolve(c, p.dirfd, p.arg, p.lookup, &nd))
		answer_modify(c, &nd, false);
}

void sys_create(struct call *c)
{
	struct path_arg p = {AT_FDCWD, 0, 0};
	struct nameidata nd;

	switch (c->n->data.nr) {
	case SYS_mkdirat:
	case SYS_mknodat:
		p = (struct path_arg){(long)call_arg(c, 0), 1, 0};
		break;
	case SYS_symlink:
		p.arg = 1;
		break;
	case SYS_symlinkat:
		p = (struct path_arg){(long)call_arg(c, 1), 2, 0};
		break;
	}
	if (vfs_resolve(c, p.dirfd, p.arg, p.lookup, &nd))
		answer_modify(c, &nd, true);
}

void sys_two_paths(struct call *c)
{
	struct path_arg from = {AT_FDCWD, 0, 0}, to = {AT_FDCWD, 1, 0};
	struct nameidata a, b;

	if (c->n->data.nr != SYS_rename && c->n->data.nr != SYS_link) {
		from = (struct path_arg){(long)call_arg(c, 0), 1, 0};
		to = (struct path_arg){(long)call_arg(c, 2), 3, 0};
	}
	if (!vfs_resolve(c, from.dirfd, from.arg, from.lookup, &a) ||
	    !vfs_resolve(c, to.dirfd, to.arg, to.lookup, &b))
		return;
	if (a.kind == NAMEI_CONTINUE && b.kind == NAMEI_CONTINUE)
		call_continue(c);
	else if ((a.kind == NAMEI_CODA) != (b.kind == NAMEI_CODA))
		call_return(c, -EXDEV);
	else if (a.kind == NAMEI_CODA)
		call_return(c, -EROFS);
	else
		call_return(c, -EOPNOTSUPP);
}

void sys_utimensat(struct call *c)
{
	struct nameidata nd;
	int flags = (int)call_arg(c, 3);

	if (call_arg(c, 1) == 0) {
		/* futimens(): the dirfd is the file. */
		if (coda_file_lookup(c, (long)call_arg(c, 0)))
			call_return(c, -EROFS);
		else
			call_continue(c);
		return;
	}
	if (vfs_resolve(c, (long)call_arg(c, 0), 1,
			(flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW) |
			    (flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0),
			&nd))
		answer_modify(c, &nd, false);
}
