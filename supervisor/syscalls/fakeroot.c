#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fakeroot.h"
#include "host.h"
#include "trap/trap.h"

#define OWNER_XATTR "user.coda-exec.owner"

/* The call's object as a path we can use: the target's own fd, cwd or dirfd
 * through /proc, so that it resolves as it would for venus; its /proc/self
 * and /dev/fd are venus's, not ours. */
static int venus_path(struct call *c, long dirfd, int path_arg, char *out, size_t cap)
{
	pid_t pid = (pid_t)c->n->pid;
	char path[PATH_MAX];
	int rc;

	if (path_arg < 0) {
		snprintf(out, cap, "/proc/%d/fd/%ld", pid, dirfd);
		return 0;
	}
	rc = call_read_path(c, call_arg(c, path_arg), path);
	if (rc < 0)
		return rc;
	if (!strncmp(path, "/proc/self/", 11))
		rc = snprintf(out, cap, "/proc/%d/%s", pid, path + 11);
	else if (!strncmp(path, "/proc/thread-self/", 18))
		rc = snprintf(out, cap, "/proc/%d/task/%d/%s", pid, pid, path + 18);
	else if (!strncmp(path, "/dev/fd/", 8))
		rc = snprintf(out, cap, "/proc/%d/fd/%s", pid, path + 8);
	else if (path[0] == '/')
		rc = snprintf(out, cap, "%s", path);
	else if (dirfd == AT_FDCWD)
		rc = snprintf(out, cap, "/proc/%d/cwd/%s", pid, path);
	else
		rc = snprintf(out, cap, "/proc/%d/fd/%ld/%s", pid, dirfd, path);
	return (size_t)rc < cap ? 0 : -ENAMETOOLONG;
}

static int read_owner(const char *path, bool follow, uid_t *uid, gid_t *gid)
{
	char buf[64];
	unsigned u, g;
	ssize_t n = follow ? getxattr(path, OWNER_XATTR, buf, sizeof(buf) - 1)
			   : lgetxattr(path, OWNER_XATTR, buf, sizeof(buf) - 1);

	if (n <= 0)
		return -ENODATA;
	buf[n] = '\0';
	if (sscanf(buf, "%u:%u", &u, &g) != 2)
		return -ENODATA;
	*uid = u;
	*gid = g;
	return 0;
}

/* The owner after chown(uid, gid), where -1 keeps a part. */
static int record_owner(const char *path, bool follow, uid_t uid, gid_t gid)
{
	struct stat st;
	uid_t ou;
	gid_t og;
	char buf[64];
	int n;

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return -errno;
	ou = st.st_uid;
	og = st.st_gid;
	read_owner(path, follow, &ou, &og);
	n = snprintf(buf, sizeof(buf), "%u:%u", uid == (uid_t)-1 ? ou : uid,
		     gid == (gid_t)-1 ? og : gid);
	if ((follow ? setxattr(path, OWNER_XATTR, buf, (size_t)n, 0)
		    : lsetxattr(path, OWNER_XATTR, buf, (size_t)n, 0)) < 0)
		return -errno;
	return 0;
}

/* A chown that would need root is recorded instead, as fakeroot does. One
 * that may really be made (venus run as root) is made. */
static int do_chown(const char *path, bool follow, uid_t uid, gid_t gid)
{
	int rc = follow ? chown(path, uid, gid) : lchown(path, uid, gid);

	if (rc == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	rc = record_owner(path, follow, uid, gid);
	/* A file system without user xattrs: venus's own chown is ignored by
	 * venus where it may fail, so the answer is success all the same. */
	return rc == -ENOTSUP || rc == -EPERM ? 0 : rc;
}

void fakeroot_chown(struct call *c)
{
	char path[PATH_MAX + 64];
	long dirfd = AT_FDCWD;
	int path_arg = 0, id_arg = 1, flags = 0, rc;
	bool follow;

	switch (c->n->data.nr) {
	case SYS_fchown:
		dirfd = (int)call_arg(c, 0);
		path_arg = -1;
		break;
	case SYS_lchown:
		flags = AT_SYMLINK_NOFOLLOW;
		break;
	case SYS_fchownat:
		dirfd = (int)call_arg(c, 0);
		path_arg = 1;
		id_arg = 2;
		flags = (int)call_arg(c, 4);
		break;
	}
	follow = !(flags & AT_SYMLINK_NOFOLLOW);
	rc = venus_path(c, dirfd, path_arg, path, sizeof(path));
	if (!rc)
		rc = host_creds_override(c, false);
	if (!rc) {
		rc = do_chown(path, follow, (uid_t)call_arg(c, id_arg),
			      (gid_t)call_arg(c, id_arg + 1));
		host_creds_revert(c);
	}
	call_return(c, rc);
}

/* The call's object, how it names it, and where its answer goes. */
struct stat_call {
	long dirfd;
	int path_arg; /* -1: the fd itself */
	int flags;
	uint64_t buf;
	bool is_statx;
	unsigned mask;
};

static void decode_stat(struct call *c, struct stat_call *sc)
{
	*sc = (struct stat_call){.dirfd = AT_FDCWD, .path_arg = 0, .buf = call_arg(c, 1)};
	switch (c->n->data.nr) {
	case SYS_lstat:
		sc->flags = AT_SYMLINK_NOFOLLOW;
		break;
	case SYS_fstat:
		sc->dirfd = (int)call_arg(c, 0);
		sc->path_arg = -1;
		break;
	case SYS_newfstatat:
		sc->dirfd = (int)call_arg(c, 0);
		sc->path_arg = 1;
		sc->buf = call_arg(c, 2);
		sc->flags = (int)call_arg(c, 3);
		break;
	case SYS_statx:
		sc->dirfd = (int)call_arg(c, 0);
		sc->path_arg = 1;
		sc->flags = (int)call_arg(c, 2);
		sc->mask = (unsigned)call_arg(c, 3);
		sc->buf = call_arg(c, 4);
		sc->is_statx = true;
		break;
	}
}

/* An empty path with AT_EMPTY_PATH names the dirfd itself, as fstat. */
static int stat_path(struct call *c, struct stat_call *sc, char *out, size_t cap)
{
	char first;

	if (sc->path_arg >= 0 && (sc->flags & AT_EMPTY_PATH) &&
	    call_read(c, call_arg(c, sc->path_arg), &first, 1) == 0 && first == '\0')
		sc->path_arg = -1;
	return venus_path(c, sc->dirfd, sc->path_arg, out, cap);
}

static int write_as_stat(struct call *c, uint64_t buf, const struct statx *x)
{
	struct stat st = {
	    .st_dev = makedev(x->stx_dev_major, x->stx_dev_minor),
	    .st_ino = x->stx_ino,
	    .st_nlink = x->stx_nlink,
	    .st_mode = x->stx_mode,
	    .st_uid = x->stx_uid,
	    .st_gid = x->stx_gid,
	    .st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor),
	    .st_size = (off_t)x->stx_size,
	    .st_blksize = x->stx_blksize,
	    .st_blocks = (blkcnt_t)x->stx_blocks,
	    .st_atim = {x->stx_atime.tv_sec, x->stx_atime.tv_nsec},
	    .st_mtim = {x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec},
	    .st_ctim = {x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec},
	};

	return call_write(c, buf, &st, sizeof(st));
}

void fakeroot_stat(struct call *c)
{
	char path[PATH_MAX + 64];
	struct stat_call sc;
	struct statx stx;
	uid_t uid;
	gid_t gid;
	int at, rc;

	decode_stat(c, &sc);
	rc = stat_path(c, &sc, path, sizeof(path));
	at = sc.flags & (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE);
	if (!rc)
		rc = host_creds_override(c, false);
	if (!rc) {
		if (statx(AT_FDCWD, path, at, sc.is_statx ? sc.mask : STATX_BASIC_STATS, &stx) < 0)
			rc = -errno;
		else if (read_owner(path, !(at & AT_SYMLINK_NOFOLLOW), &uid, &gid) == 0)
			stx.stx_uid = uid, stx.stx_gid = gid;
		host_creds_revert(c);
	}
	if (!rc) {
		rc = sc.is_statx ? call_write(c, sc.buf, &stx, sizeof(stx))
				 : write_as_stat(c, sc.buf, &stx);
	}
	call_return(c, rc);
}
