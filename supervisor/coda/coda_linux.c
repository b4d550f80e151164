/* Conversions between the Coda protocol's forms and Linux's, as the
 * kernel's fs/coda/coda_linux.c: vnode types, attributes, open flags;
 * and reopening an fd through /proc, which only Linux has. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "coda.h"
#include "coda_linux.h"

/* What Linux reports as the Coda file system's magic number. */
#define CODA_SUPER_MAGIC 0x73757245
/* statfs's f_flags are set (include/linux/statfs.h; not in the C library). */
#define ST_VALID 0x0020

mode_t coda_vtype_to_mode(long vtype)
{
	switch (vtype) {
	case C_VREG:
		return S_IFREG;
	case C_VDIR:
		return S_IFDIR;
	case C_VLNK:
		return S_IFLNK;
	case C_VCHR:
		return S_IFCHR;
	case C_VBLK:
		return S_IFBLK;
	case C_VSOCK:
		return S_IFSOCK;
	case C_VFIFO:
		return S_IFIFO;
	}
	return 0;
}

void coda_vattr_unset(struct coda_vattr *attr)
{
	memset(attr, 0xff, sizeof(*attr));
	attr->va_type = C_VNON;
	attr->va_flags = 0;
}

/* The Coda open flags of an open(2), as the kernel's coda_flags_to_cflags. */
int coda_flags_to_cflags(int flags)
{
	int cflags = 0;

	if ((flags & O_ACCMODE) != O_WRONLY)
		cflags |= C_O_READ;
	if ((flags & O_ACCMODE) != O_RDONLY)
		cflags |= C_O_WRITE;
	if (flags & O_TRUNC)
		cflags |= C_O_TRUNC | C_O_WRITE;
	/* As coda_open(): O_CREAT goes to venus, O_EXCL (done by the create)
	 * does not. */
	if (flags & O_CREAT)
		cflags |= C_O_CREAT;
	return cflags;
}

/* The inode number is the fid's, as coda_iget sets it, not venus's
 * va_fileid (stock venus makes them the same). */
void coda_attr_to_stat(const struct coda_sb *sb, const struct CodaFid *fid,
		       const struct coda_vattr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = sb->dev;
	st->st_ino = coda_fid_ino(fid);
	st->st_mode = coda_vtype_to_mode(a->va_type) | (a->va_mode & 07777);
	st->st_nlink = (nlink_t)a->va_nlink;
	st->st_uid = a->va_uid;
	st->st_gid = a->va_gid;
	st->st_rdev = (dev_t)a->va_rdev;
	st->st_size = (off_t)a->va_size;
	st->st_blksize = a->va_blocksize > 0 ? a->va_blocksize : 4096;
	st->st_blocks = (blkcnt_t)((a->va_bytes + 511) / 512);
	st->st_atim.tv_sec = a->va_atime.tv_sec;
	st->st_atim.tv_nsec = a->va_atime.tv_nsec;
	st->st_mtim.tv_sec = a->va_mtime.tv_sec;
	st->st_mtim.tv_nsec = a->va_mtime.tv_nsec;
	st->st_ctim.tv_sec = a->va_ctime.tv_sec;
	st->st_ctim.tv_nsec = a->va_ctime.tv_nsec;
}

void coda_attr_to_statx(const struct coda_sb *sb, const struct CodaFid *fid,
			const struct coda_vattr *a, struct statx *stx)
{
	struct stat st;

	coda_attr_to_stat(sb, fid, a, &st);
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st.st_blksize;
	stx->stx_nlink = (uint32_t)st.st_nlink;
	stx->stx_uid = st.st_uid;
	stx->stx_gid = st.st_gid;
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_ino = st.st_ino;
	stx->stx_size = (uint64_t)st.st_size;
	stx->stx_blocks = (uint64_t)st.st_blocks;
	stx->stx_atime.tv_sec = st.st_atim.tv_sec;
	stx->stx_atime.tv_nsec = (uint32_t)st.st_atim.tv_nsec;
	stx->stx_mtime.tv_sec = st.st_mtim.tv_sec;
	stx->stx_mtime.tv_nsec = (uint32_t)st.st_mtim.tv_nsec;
	stx->stx_ctime.tv_sec = st.st_ctim.tv_sec;
	stx->stx_ctime.tv_nsec = (uint32_t)st.st_ctim.tv_nsec;
	stx->stx_rdev_major = major(st.st_rdev);
	stx->stx_rdev_minor = minor(st.st_rdev);
	stx->stx_dev_major = major(st.st_dev);
	stx->stx_dev_minor = minor(st.st_dev);
}

void coda_statfs_to_statfs(const struct coda_statfs *cs, struct statfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_type = CODA_SUPER_MAGIC;
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_blocks = (fsblkcnt_t)(cs->f_blocks > 0 ? cs->f_blocks : 0);
	st->f_bfree = (fsblkcnt_t)(cs->f_bfree > 0 ? cs->f_bfree : 0);
	st->f_bavail = (fsblkcnt_t)(cs->f_bavail > 0 ? cs->f_bavail : 0);
	st->f_files = (fsfilcnt_t)(cs->f_files > 0 ? cs->f_files : 0);
	st->f_ffree = (fsfilcnt_t)(cs->f_ffree > 0 ? cs->f_ffree : 0);
	st->f_namelen = CODA_MAXNAMLEN;
	/* As the kernel's for the rw,relatime mount that mtab.c lists. */
	st->f_flags = ST_VALID | ST_RELATIME;
}

/* Linux's way to a new open file of what an fd is open on. */
int coda_reopen(int fd, int flags)
{
	char path[64];
	int got;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	got = open(path, flags | O_CLOEXEC);
	return got < 0 ? -errno : got;
}
