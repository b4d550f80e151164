/* Attributes: what lstat says about a backing object, in struct coda_vattr.
 *
 * The end-to-end tests compare ls -lR, du and find output under the mount
 * with the plain directory, so every field is the backing value unchanged,
 * but for the file number (see attr_fill). */
#include <limits.h>

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
