/* access, faccessat, faccessat2, readlink, readlinkat, and the path calls that
 * a Coda mount does not support (xattrs, inotify, file handles, chroot). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coda/coda.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "fdtable.h"
#include "host.h"
#include "vfs.h"

static int coda_access(struct call *c, const struct nameidata *nd, int mode, int at_flags)
{
	struct creds cred;
	int mask = 0, rc;

	/* access() checks with the real uid, unless AT_EACCESS says otherwise. */
	rc = proc_creds(c->proc, &cred);
	if (rc < 0)
		return rc;
	if (!(at_flags & AT_EACCESS))
		c->uid_override = (int64_t)cred.ruid;
	if (mode & R_OK)
		mask |= C_A_R_OK;
	if (mode & X_OK)
		mask |= C_A_X_OK;
	if (mode & W_OK) {
		/* as do_faccessat(): a read-only mount says so first */
		if (call_sup(c)->opt.read_only)
			return -EROFS;
		mask |= C_A_W_OK;
	}
	return coda_permission(call_coda_req(c), &nd->fid, mask);
}

static void do_access(struct call *c, long dirfd, int path_arg, int mode, int at_flags)
{
	struct nameidata nd;
	int lf = at_flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW;

	/* checked before the path is even read, as do_faccessat() does */
	if ((mode & ~(R_OK | W_OK | X_OK)) ||
	    (at_flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))) {
		call_return(c, -EINVAL);
		return;
	}
	/* AT_EMPTY_PATH allows "", not NULL (that is for stat and statx) */
	if (call_arg(c, path_arg) == 0) {
		call_return(c, -EFAULT);
		return;
	}
	if (at_flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	if (!vfs_resolve(c, dirfd, path_arg, lf, &nd))
		return;
	switch (nd.kind) {
	case NAMEI_CONTINUE:
		call_continue(c);
		return;
	case NAMEI_HOST:
		call_return(c, host_access(c, nd.path, mode, at_flags & ~AT_EMPTY_PATH));
		return;
	case NAMEI_CODA:
		break;
	}
	if (vfs_exists(c, &nd))
		call_return(c, coda_access(c, &nd, mode, at_flags));
}

void sys_access(struct call *c)
{
	do_access(c, AT_FDCWD, 0, (int)call_arg(c, 1), 0);
}

void sys_faccessat(struct call *c)
{
	do_access(c, (long)call_arg(c, 0), 1, (int)call_arg(c, 2), 0);
}

void sys_faccessat2(struct call *c)
{
	do_access(c, (long)call_arg(c, 0), 1, (int)call_arg(c, 2), (int)call_arg(c, 3));
}

/* An empty path names dirfd itself, which must then be a symlink (opened
 * O_PATH|O_NOFOLLOW); anything else is ENOENT, as in the kernel. */
static long coda_readlink_to(struct call *c, const struct nameidata *nd, bool empty, uint64_t buf,
			     size_t size)
{
	char target[PATH_MAX];
	ssize_t n;
	int rc;

	if (nd->vtype != C_VLNK)
		return empty ? -ENOENT : -EINVAL;
	n = coda_get_link(call_coda_req(c), &nd->fid, target, sizeof(target));
	if (n < 0)
		return n;
	if ((size_t)n > size)
		n = (ssize_t)size;
	rc = call_write(c, buf, target, (size_t)n);
	return rc < 0 ? rc : n;
}

/* readlink("/proc/self/fd/N") of a /coda fd names the object as the kernel
 * would: by its /coda path, not the container's. Returns true if it applied
 * (*result: the length written, or -errno). */
static bool magic_link_target(struct call *c, const char *name, uint64_t buf, long size,
			      ssize_t *result)
{
	const char *rest;
	struct coda_file *f = vfs_magic_link(c, name, &rest);
	size_t len;
	int rc;

	if (!f || *rest)
		return false;
	len = strlen(f->path);
	if (len > (size_t)size)
		len = (size_t)size;
	rc = call_write(c, buf, f->path, len);
	*result = rc < 0 ? rc : (ssize_t)len;
	return true;
}

pid_t vfs_proc_owner(struct call *c, const char *name, const char *file)
{
	char who[16];
	unsigned tid;
	int end = 0;

	if (strncmp(name, "/proc/", 6))
		return 0;
	if (sscanf(name, "/proc/%15[^/]/task/%u/%n", who, &tid, &end) == 2 && end &&
	    !strcmp(name + end, file))
		return (pid_t)tid;
	end = 0;
	if (sscanf(name, "/proc/%15[^/]/%n", who, &end) != 1 || !end || strcmp(name + end, file))
		return 0;
	if (!strcmp(who, "self"))
		return c->proc->tgid;
	if (!strcmp(who, "thread-self"))
		return c->proc->tid;
	return who[strspn(who, "0123456789")] ? 0 : (pid_t)atoi(who);
}

/* A /coda program runs from a memfd named by its path (exec.c): its exe link
 * reads "/memfd:/coda/... (deleted)", and is answered with that path, as a
 * kernel mount would name it. Returns true if it applied (*result: the
 * length written, or -errno). */
static bool exe_link_target(struct call *c, const char *name, uint64_t buf, long size,
			    ssize_t *result)
{
	static const char memfd[] = "/memfd:", deleted[] = " (deleted)";
	const char *mnt = call_sup(c)->sb.mnt;
	pid_t owner = vfs_proc_owner(c, name, "exe");
	char link[64], target[PATH_MAX];
	size_t len, mlen = strlen(mnt);
	ssize_t n;
	int rc;

	if (owner <= 0)
		return false;
	snprintf(link, sizeof(link), "/proc/%d/exe", owner);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < (ssize_t)(sizeof(memfd) + sizeof(deleted)))
		return false;
	target[n] = '\0';
	len = (size_t)n - (sizeof(memfd) - 1) - (sizeof(deleted) - 1);
	if (strncmp(target, memfd, sizeof(memfd) - 1) ||
	    strcmp(target + n - (sizeof(deleted) - 1), deleted) ||
	    strncmp(target + sizeof(memfd) - 1, mnt, mlen) ||
	    target[sizeof(memfd) - 1 + mlen] != '/')
		return false;
	if (len > (size_t)size)
		len = (size_t)size;
	rc = call_write(c, buf, target + sizeof(memfd) - 1, len);
	*result = rc < 0 ? rc : (ssize_t)len;
	return true;
}

static void do_readlink(struct call *c, long dirfd, int path_arg, uint64_t buf, long size)
{
	struct nameidata nd;
	char name[PATH_MAX];
	char target[PATH_MAX];
	ssize_t n;
	int rc;

	if (size <= 0) {
		call_return(c, -EINVAL);
		return;
	}
	/* read here, not by vfs_resolve: NULL is EFAULT, and "" matters below */
	rc = call_read_path(c, call_arg(c, path_arg), name);
	if (!rc && name[0] == '/' &&
	    (magic_link_target(c, name, buf, size, &n) ||
	     exe_link_target(c, name, buf, size, &n))) {
		call_return(c, n);
		return;
	}
	if (!rc)
		rc = vfs_lookup(c, dirfd, name, LOOKUP_EMPTY, &nd);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	switch (nd.kind) {
	case NAMEI_CONTINUE:
		call_continue(c);
		return;
	case NAMEI_HOST:
		rc = host_creds_override(c, false);
		if (rc < 0) {
			call_return(c, rc);
			return;
		}
		n = readlink(nd.path, target, sizeof(target));
		host_creds_revert(c);
		if (n < 0) {
			call_return(c, errno == EINVAL && !name[0] ? -ENOENT : -errno);
			return;
		}
		n = n < size ? n : size;
		rc = call_write(c, buf, target, (size_t)n);
		call_return(c, rc < 0 ? rc : n);
		return;
	case NAMEI_CODA:
		break;
	}
	if (vfs_exists(c, &nd))
		call_return(c, coda_readlink_to(c, &nd, !name[0], buf, (size_t)size));
}

void sys_readlink(struct call *c)
{
	do_readlink(c, AT_FDCWD, 0, call_arg(c, 1), (long)call_arg(c, 2));
}

void sys_readlinkat(struct call *c)
{
	do_readlink(c, (long)call_arg(c, 0), 1, call_arg(c, 2), (long)call_arg(c, 3));
}

/* Path calls a Coda mount answers with EOPNOTSUPP (no xattr handlers, no
 * file handles, no change notification from venus). Elsewhere: untouched. */
static void unsupported_on_coda(struct call *c, long dirfd, int path_arg, int lf)
{
	struct nameidata nd;

	if (!vfs_resolve(c, dirfd, path_arg, lf, &nd))
		return;
	if (nd.kind == NAMEI_CONTINUE)
		call_continue(c);
	else if (nd.kind == NAMEI_CODA && nd.missing)
		call_return(c, -ENOENT);
	else
		call_return(c, -EOPNOTSUPP);
}

void sys_getxattr(struct call *c)
{
	bool follow = c->n->data.nr == SYS_getxattr;

	unsupported_on_coda(c, AT_FDCWD, 0, follow ? LOOKUP_FOLLOW : 0);
}

void sys_listxattr(struct call *c)
{
	bool follow = c->n->data.nr == SYS_listxattr;

	unsupported_on_coda(c, AT_FDCWD, 0, follow ? LOOKUP_FOLLOW : 0);
}

/* fanotify_mark(fd, flags, mask, dirfd, path): venus sends no change
 * notifications, so a mark on a /coda object would never fire. With no
 * path, dirfd itself is the object. */
static void fanotify_mark_on_coda(struct call *c)
{
	long dirfd = (long)call_arg(c, 3);

	if (call_arg(c, 4) == 0) {
		if (coda_file_lookup(c, dirfd))
			call_return(c, -EOPNOTSUPP);
		else
			call_continue(c);
		return;
	}
	unsupported_on_coda(c, dirfd, 4, call_arg(c, 1) & FAN_MARK_DONT_FOLLOW ? 0 : LOOKUP_FOLLOW);
}

void sys_unsupported_on_coda(struct call *c)
{
	switch (c->n->data.nr) {
	case SYS_inotify_add_watch:
		unsupported_on_coda(c, AT_FDCWD, 1, LOOKUP_FOLLOW);
		break;
	case SYS_name_to_handle_at:
		unsupported_on_coda(c, (long)call_arg(c, 0), 1, LOOKUP_EMPTY);
		break;
	case SYS_fanotify_mark:
		fanotify_mark_on_coda(c);
		break;
	default: /* chroot */
		unsupported_on_coda(c, AT_FDCWD, 0, LOOKUP_FOLLOW);
		break;
	}
}
