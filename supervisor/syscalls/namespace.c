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
#include <unistd.h>

#include "coda/coda.h"
#include "host.h"
#include "syscalls.h"
#include "vfs.h"

static void do_mkdir(struct call *c, long dirfd, int arg, mode_t mode)
{
	struct nameidata nd;
	mode_t perm;
	int rc;

	/* filename_create(LOOKUP_DIRECTORY): "name/" is fine */
	if (!vfs_resolve_coda(c, dirfd, arg, LOOKUP_NAME, &nd))
		return;
	if (!nd.missing) {
		call_return(c, -EEXIST);
		return;
	}
	rc = vfs_create_mode(c, mode & (07777), &perm);
	if (!rc)
		rc = coda_dir_mkdir(call_coda_req(c), &nd.parent, nd.last, perm);
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
	int rc;

	if (c->n->data.nr == SYS_mknodat) {
		if (!vfs_resolve_coda(c, (long)call_arg(c, 0), 1, LOOKUP_NAME, &nd))
			return;
	} else if (!vfs_resolve_coda(c, AT_FDCWD, 0, LOOKUP_NAME, &nd)) {
		return;
	}
	rc = vfs_may_create(&nd);
	call_return(c, rc ?: call_sup(c)->opt.read_only ? -EROFS : -EIO);
}

void sys_symlink(struct call *c)
{
	bool at = c->n->data.nr == SYS_symlinkat;
	char target[PATH_MAX];
	struct nameidata nd;
	int rc = call_read_path(c, call_arg(c, 0), target);

	/* the target is read, and an empty one refused, before the new name */
	if (!rc && !*target)
		rc = -ENOENT;
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	if (!vfs_resolve_coda(c, at ? (long)call_arg(c, 1) : AT_FDCWD, at ? 2 : 1, LOOKUP_NAME,
			      &nd))
		return;
	rc = vfs_may_create(&nd);
	call_return(c, rc ?: coda_symlink(call_coda_req(c), &nd.parent, nd.last, target));
}

static void do_remove(struct call *c, long dirfd, int arg, bool dir)
{
	struct nameidata nd;
	int rc;

	if (!vfs_resolve_coda(c, dirfd, arg, LOOKUP_NAME, &nd))
		return;
	rc = coda_may_remove(&nd, dir);
	if (!rc && dir)
		rc = coda_rmdir(call_coda_req(c), &nd.parent, nd.last, &nd.fid);
	else if (!rc)
		rc = coda_dir_unlink(call_coda_req(c), &nd.parent, nd.last, &nd.fid);
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

/* One path of a rename or link, as the target gave it, and resolved. */
struct side {
	long dirfd;
	int arg;
	int flags;
	enum { CHECK_PARENT, CHECK_NEW, CHECK_OBJECT } check; /* what the kernel looks up */
	char name[PATH_MAX];
	struct nameidata nd;
};

struct two_paths {
	struct side from, to;
};

/* The directory a host name starts from, opened O_PATH by the supervisor
 * through /proc: -EBADF if the target has no such fd. */
static int host_base(struct call *c, const struct side *s)
{
	char base[64];
	struct stat st;
	int fd;

	if (s->name[0] == '/')
		snprintf(base, sizeof(base), "/");
	else if ((int)s->dirfd == AT_FDCWD)
		snprintf(base, sizeof(base), "/proc/%u/cwd", c->n->pid);
	else
		snprintf(base, sizeof(base), "/proc/%u/fd/%d", c->n->pid, (int)s->dirfd);
	fd = open(base, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -EBADF;
	if (s->name[0] && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

/* The walk to the parent of a host name (filename_parentat()), and for a
 * new name filename_create()'s EEXIST, or ENOENT for "missing/". */
static int host_name_error(int base, const char *name, bool creating)
{
	char path[PATH_MAX];
	size_t len = strlen(name);
	bool trailing = false;
	struct stat st;
	char *last;

	while (len > 1 && name[len - 1] == '/') {
		len--;
		trailing = true;
	}
	memcpy(path, name, len);
	path[len] = '\0';
	last = strrchr(path, '/');
	if (last) {
		char saved = last[1];

		last[1] = '\0';
		if (fstatat(base, path, &st, 0) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		last[1] = saved;
	}
	if (!creating)
		return 0;
	if (fstatat(base, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	return errno == ENOENT && trailing ? -ENOENT : 0;
}

/* What the kernel says of a host path of a rename or link before it sees
 * that the call crosses the mount (EXDEV): a bad dirfd, a bad walk, and for
 * link a missing old or an existing new name. The supervisor looks, with
 * the caller's credentials. */
static int host_side_error(struct call *c, const struct side *s)
{
	int base = host_base(c, s);
	int rc;

	if (base < 0)
		return base;
	rc = host_creds_override(c, false);
	if (rc < 0) {
		close(base);
		return rc;
	}
	if (s->check == CHECK_OBJECT) {
		int at = (s->flags & LOOKUP_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW) |
			 (s->flags & LOOKUP_EMPTY ? AT_EMPTY_PATH : 0);
		struct stat st;

		rc = fstatat(base, s->name, &st, at) < 0 ? -errno : 0;
	} else {
		rc = host_name_error(base, s->name, s->check == CHECK_NEW);
	}
	host_creds_revert(c);
	close(base);
	return rc;
}

/* The errors of one side that come before the other side's, or EXDEV. */
static int side_error(struct call *c, const struct side *s)
{
	if (s->nd.kind == NAMEI_CONTINUE)
		return host_side_error(c, s);
	if (s->nd.kind != NAMEI_CODA)
		return 0;
	if (s->check == CHECK_OBJECT)
		return s->nd.missing ? -ENOENT : 0;
	return s->check == CHECK_NEW ? vfs_may_create(&s->nd) : 0;
}

/* Resolves both paths; answers and returns false unless both are in the
 * volume. Where one is and the other is not, each side's own errors come
 * first, in the kernel's order, then EXDEV. */
static bool resolve_two(struct call *c, struct two_paths *p)
{
	struct side *a = &p->from, *b = &p->to;
	int rc = vfs_namei(c, a->dirfd, a->arg, a->flags, a->name, &a->nd);

	if (!rc) {
		rc = vfs_namei(c, b->dirfd, b->arg, b->flags, b->name, &b->nd);
		if (rc < 0)
			rc = side_error(c, a) ?: rc;
	}
	if (rc < 0)
		call_return(c, rc);
	else if (a->nd.kind == NAMEI_CONTINUE && b->nd.kind == NAMEI_CONTINUE)
		call_continue(c);
	else if ((a->nd.kind == NAMEI_CODA) != (b->nd.kind == NAMEI_CODA))
		call_return(c, side_error(c, a) ?: side_error(c, b) ?: -EXDEV);
	else if (a->nd.kind != NAMEI_CODA)
		call_return(c, -EOPNOTSUPP); /* host paths reached through /coda */
	return !rc && a->nd.kind == NAMEI_CODA && b->nd.kind == NAMEI_CODA;
}

static void do_rename(struct call *c, long from_dirfd, int from_arg, long to_dirfd, int to_arg,
		      unsigned flags)
{
	struct two_paths p = {
	    .from = {from_dirfd, from_arg, LOOKUP_NAME, CHECK_PARENT},
	    .to = {to_dirfd, to_arg, LOOKUP_NAME, CHECK_PARENT},
	};
	const struct nameidata *a = &p.from.nd, *b = &p.to.nd;
	int rc;

	if (!resolve_two(c, &p))
		return;
	rc = coda_may_rename(a, b, flags);
	if (!rc && !b->missing && coda_fid_eq(&a->fid, &b->fid))
		rc = 1; /* two names of one file: rename does nothing */
	if (!rc)
		rc = coda_dir_rename(call_coda_req(c), &a->parent, a->last, &a->fid, &b->parent,
				     b->last, b->missing ? NULL : &b->fid);
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
	struct two_paths p = {
	    .from = {from_dirfd, from_arg, lf, CHECK_OBJECT},
	    .to = {to_dirfd, to_arg, LOOKUP_NAME, CHECK_NEW},
	};
	int rc;

	if (at_flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
		call_return(c, -EINVAL);
		return;
	}
	if (!resolve_two(c, &p))
		return;
	rc = side_error(c, &p.from) ?: side_error(c, &p.to);
	if (!rc && p.from.nd.vtype == C_VDIR)
		rc = -EPERM;
	if (!rc)
		rc = coda_link(call_coda_req(c), &p.from.nd.fid, &p.to.nd.parent, p.to.nd.last);
	call_return(c, rc);
}

void sys_link(struct call *c)
{
	if (c->n->data.nr == SYS_linkat)
		do_link(c, (long)call_arg(c, 0), 1, (long)call_arg(c, 2), 3, (int)call_arg(c, 4));
	else
		do_link(c, AT_FDCWD, 0, AT_FDCWD, 1, 0);
}
