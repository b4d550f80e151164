/* Attributes: what lstat says about a backing object, in struct coda_vattr.
 *
 * The end-to-end tests compare ls -lR, du and find output under the mount
 * with the plain directory, so every field is the backing value unchanged,
 * but for the file number (see attr_fill) and the ctime a store leaves (see
 * attr_keep_ctime). */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include "venus.h"
#include "venus_int.h"

int attr_vtype(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return C_VREG;
	case S_IFDIR:
		return C_VDIR;
	case S_IFLNK:
		return C_VLNK;
	case S_IFBLK:
		return C_VBLK;
	case S_IFCHR:
		return C_VCHR;
	case S_IFSOCK:
		return C_VSOCK;
	case S_IFIFO:
		return C_VFIFO;
	default:
		return C_VNON;
	}
}

static void attr_time(struct coda_timespec *ct, const struct timespec *ts)
{
	ct->tv_sec = ts->tv_sec;
	ct->tv_nsec = ts->tv_nsec;
}

void attr_fill(const struct stat *st, const struct CodaFid *fid, struct coda_vattr *va)
{
	memset(va, 0, sizeof(*va));
	va->va_type = attr_vtype(st->st_mode);
	/* Permission bits only: the type travels in va_type. */
	va->va_mode = (u_short)(st->st_mode & 07777);
	/* va_nlink is a short: a directory with more links saturates. */
	va->va_nlink = st->st_nlink > SHRT_MAX ? SHRT_MAX : (short)st->st_nlink;
	va->va_uid = st->st_uid;
	va->va_gid = st->st_gid;
	/* The file's number is its fid's, not the backing inode's: a store
	 * replaces the backing file, and tar and sqlite compare st_ino. */
	va->va_fileid = (long)coda_fid_ino(fid);
	va->va_size = (u_quad_t)st->st_size;
	va->va_blocksize = st->st_blksize;
	attr_time(&va->va_atime, &st->st_atim);
	attr_time(&va->va_mtime, &st->st_mtim);
	attr_time(&va->va_ctime, &st->st_ctim);
	va->va_rdev = (cdev_t)st->st_rdev;
	va->va_bytes = (u_quad_t)st->st_blocks * 512;
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/* The ctime of e, whose backing object is st: the one kept at a store for
 * as long as the backing object has the ctime that store left it. */
static struct timespec attr_ctime(const struct fid_entry *e, const struct stat *st)
{
	const struct fid_extra *x = fid_x(e);

	if (x->ctime_kept && ts_cmp(&x->ctime_left, &st->st_ctim) == 0)
		return x->ctime_shown;
	return st->st_ctim;
}

/* venus has just changed the backing object of e, which was `before`, in a
 * way a local file system would not (a store's rename over a file, its temp
 * file in a directory): no one can set a ctime, so the one shown stays what
 * it was, or becomes `changed` if that is later, until the object changes
 * again. */
void attr_keep_ctime(struct venus *v, struct fid_entry *e, const struct stat *before,
		     const struct timespec *changed)
{
	struct stat now;

	if (!e)
		return;
	if (!e->path || beneath_stat(v, e->path, &now) != 0) {
		if (e->x)
			e->x->ctime_kept = false;
		return;
	}
	attr_keep_ctime_now(e, before, changed, &now);
}

void attr_keep_ctime_now(struct fid_entry *e, const struct stat *before,
			 const struct timespec *changed, const struct stat *now)
{
	struct timespec shown = attr_ctime(e, before);
	struct fid_extra *x;

	if (changed && ts_cmp(changed, &shown) > 0)
		shown = *changed;
	if (!fid_matches(e, now)) {
		if (e->x)
			e->x->ctime_kept = false;
		return;
	}
	x = fid_extra(e);
	if (!x)
		return; /* the backing ctime shows */
	x->ctime_kept = true;
	x->ctime_left = now->st_ctim;
	x->ctime_shown = shown;
}

/* A store of container cst over the backing file that was `before`: the
 * file changed when its container last did, as a local file changes at
 * each write, unless the session wrote nothing (the container still has
 * the backing mtime, as wc_attr judges). */
void attr_stored(struct venus *v, struct fid_entry *e, const struct stat *before,
		 const struct stat *cst)
{
	bool wrote = ts_cmp(&cst->st_mtim, &before->st_mtim) != 0;

	attr_keep_ctime(v, e, before, wrote ? &cst->st_ctim : NULL);
}

/* venus has just made e, now st, in steps (create, chown, chmod) that a
 * kernel takes as one: its ctime is the moment it was made. */
void attr_made(struct fid_entry *e, const struct stat *st)
{
	struct stat made = *st;

	if (ts_cmp(&st->st_ctim, &st->st_mtim) == 0)
		return; /* made in one step of the clock */
	made.st_ctim = st->st_mtim;
	attr_keep_ctime_now(e, &made, NULL, st);
}

void attr_entry(struct venus *v, struct fid_entry *e, struct stat *st, struct coda_vattr *va)
{
	st->st_ctim = attr_ctime(e, st);
	wc_attr(v, e, st);
	attr_fill(st, &e->fid, va);
}
