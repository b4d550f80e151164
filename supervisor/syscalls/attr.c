/* chmod, chown, truncate, utimes and their fd forms, fsync, and the xattr
 * calls: attribute changes go to venus (CODA_SETATTR), not to the container,
 * so that they reach the volume, as fs/coda/inode.c's coda_setattr does. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <utime.h>

#include "coda/coda.h"
#include "syscalls.h"
#include "vfs.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* Applies attr to the object at a path argument. */
static void setattr_path(struct call *c, long dirfd, int arg, int lf, struct coda_vattr *attr)
{
	struct nameidata nd;

	if (!vfs_resolve_coda(c, dirfd, arg, lf, &nd) || !vfs_exists(c, &nd))
		return;
	call_return(c, coda_setattr(call_coda_req(c), &nd.fid, attr));
}

/* Applies attr to the object of a /coda fd; other fds are the kernel's. */
static void setattr_fd(struct call *c, long fd, struct coda_vattr *attr)
{
	struct coda_file *f = vfs_open_file(c, fd);
	struct CodaFid fid;

	if (!f)
		return;
	fid = f->fid;
	call_return(c, coda_setattr(call_coda_req(c), &fid, attr));
}

static int at_lookup(int at_flags)
{
	return (at_flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW) |
	       (at_flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0);
}

void sys_chmod(struct call *c)
{
	struct coda_vattr attr;
	long nr = c->n->data.nr;
	int at_flags = nr == SYS_fchmodat2 ? (int)call_arg(c, 3) : 0;

	coda_vattr_unset(&attr);
	if (nr == SYS_fchmod) {
		attr.va_mode = (u_short)(call_arg(c, 1) & 07777);
		setattr_fd(c, (long)call_arg(c, 0), &attr);
	} else if (nr == SYS_chmod) {
		attr.va_mode = (u_short)(call_arg(c, 1) & 07777);
		setattr_path(c, AT_FDCWD, 0, LOOKUP_FOLLOW, &attr);
	} else if (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
		call_return(c, -EINVAL);
	} else {
		attr.va_mode = (u_short)(call_arg(c, 2) & 07777);
		setattr_path(c, (long)call_arg(c, 0), 1, at_lookup(at_flags), &attr);
	}
}

void sys_chown(struct call *c)
{
	struct coda_vattr attr;
	long nr = c->n->data.nr;
	int first = nr == SYS_fchownat ? 2 : 1;

	coda_vattr_unset(&attr);
	attr.va_uid = (vuid_t)call_arg(c, first);
	attr.va_gid = (vgid_t)call_arg(c, first + 1);
	switch (nr) {
	case SYS_fchown:
		setattr_fd(c, (long)call_arg(c, 0), &attr);
		return;
	case SYS_fchownat:
		if (call_arg(c, 4) & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
			call_return(c, -EINVAL);
			return;
		}
		setattr_path(c, (long)call_arg(c, 0), 1, at_lookup((int)call_arg(c, 4)), &attr);
		return;
	}
	setattr_path(c, AT_FDCWD, 0, nr == SYS_lchown ? 0 : LOOKUP_FOLLOW, &attr);
}

void sys_truncate(struct call *c)
{
	struct coda_vattr attr;
	struct nameidata nd;
	long length = (long)call_arg(c, 1);
	int rc;

	if (length < 0) {
		call_return(c, -EINVAL);
		return;
	}
	coda_vattr_unset(&attr);
	attr.va_size = (u_quad_t)length;
	if (c->n->data.nr == SYS_ftruncate) {
		/* The fd is the container: a writer's truncates the data venus
		 * stores on its last close (no permission check, as for any
		 * fd open for writing), and a reader's fails in the kernel. */
		if (vfs_open_file(c, (long)call_arg(c, 0)))
			call_continue(c);
		return;
	}
	if (!vfs_resolve_coda(c, AT_FDCWD, 0, LOOKUP_FOLLOW, &nd) || !vfs_exists(c, &nd))
		return;
	if (nd.vtype == C_VDIR)
		rc = -EISDIR;
	else
		rc = coda_permission(call_coda_req(c), &nd.fid, C_A_W_OK);
	call_return(c, rc < 0 ? rc : coda_setattr(call_coda_req(c), &nd.fid, &attr));
}

/* One time of a utimensat: UTIME_NOW is the current time, as the VFS makes
 * it; UTIME_OMIT leaves the field unset. */
static void set_time(struct coda_timespec *out, const struct timespec *in,
		     const struct timespec *now)
{
	if (in->tv_nsec == UTIME_OMIT)
		return;
	if (in->tv_nsec == UTIME_NOW)
		in = now;
	out->tv_sec = in->tv_sec;
	out->tv_nsec = in->tv_nsec;
}

/* Reads the times argument of utime, utimes, futimesat or utimensat into
 * two timespecs (NULL: both now). */
static int read_times(struct call *c, long nr, uint64_t addr, struct timespec ts[2])
{
	int rc = 0;

	if (!addr) {
		ts[0].tv_nsec = ts[1].tv_nsec = UTIME_NOW;
	} else if (nr == SYS_utimensat) {
		rc = call_read(c, addr, ts, 2 * sizeof(ts[0]));
		for (int i = 0; !rc && i < 2; i++)
			if ((ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000) &&
			    ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT)
				rc = -EINVAL;
	} else if (nr == SYS_utime) {
		struct utimbuf ub;

		rc = call_read(c, addr, &ub, sizeof(ub));
		ts[0] = (struct timespec){ub.actime, 0};
		ts[1] = (struct timespec){ub.modtime, 0};
	} else {
		struct timeval tv[2];

		rc = call_read(c, addr, tv, sizeof(tv));
		for (int i = 0; !rc && i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				rc = -EINVAL;
			ts[i] = (struct timespec){tv[i].tv_sec, tv[i].tv_usec * 1000};
		}
	}
	return rc;
}

void sys_utimes(struct call *c)
{
	long nr = c->n->data.nr;
	bool at = nr == SYS_utimensat || nr == SYS_futimesat;
	int at_flags = nr == SYS_utimensat ? (int)call_arg(c, 3) : 0;
	struct timespec ts[2], now;
	struct coda_vattr attr;
	int rc;

	if (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
		call_return(c, -EINVAL);
		return;
	}
	rc = read_times(c, nr, call_arg(c, at ? 2 : 1), ts);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	coda_vattr_unset(&attr);
	set_time(&attr.va_atime, &ts[0], &now);
	set_time(&attr.va_mtime, &ts[1], &now);
	if (nr == SYS_utimensat && !call_arg(c, 1))
		setattr_fd(c, (long)call_arg(c, 0), &attr); /* futimens() */
	else if (at)
		setattr_path(c, (long)call_arg(c, 0), 1, at_lookup(at_flags), &attr);
	else
		setattr_path(c, AT_FDCWD, 0, LOOKUP_FOLLOW, &attr);
}

/* fsync and fdatasync of a /coda fd: venus stores what has been written. */
void sys_fsync(struct call *c)
{
	struct coda_file *f = vfs_open_file(c, (long)call_arg(c, 0));
	struct CodaFid fid;

	if (!f)
		return;
	fid = f->fid;
	call_return(c, coda_fsync(call_coda_req(c), &fid));
}

/* xattr changes: Coda has none (EOPNOTSUPP), as the kernel's module; on a
 * read-only mount the kernel says EROFS first. */
void sys_setxattr(struct call *c)
{
	long nr = c->n->data.nr;
	int err = call_sup(c)->opt.read_only ? -EROFS : -EOPNOTSUPP;
	struct nameidata nd;

	if (nr == SYS_fsetxattr || nr == SYS_fremovexattr) {
		if (vfs_open_file(c, (long)call_arg(c, 0)))
			call_return(c, err);
		return;
	}
	if (vfs_resolve_coda(c, AT_FDCWD, 0,
			     nr == SYS_setxattr || nr == SYS_removexattr ? LOOKUP_FOLLOW : 0,
			     &nd) &&
	    vfs_exists(c, &nd))
		call_return(c, err);
}
