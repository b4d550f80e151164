#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "inode.h"
#include "trap/call.h"
#include "release.h"
#include "super.h"
#include "upcall.h"

/* What Linux reports as the Coda file system's magic number. */
#define CODA_SUPER_MAGIC 0x73757245
/* statfs's f_flags are set (include/linux/statfs.h; not in the C library). */
#define ST_VALID 0x0020

int coda_root(struct call *c, struct CodaFid *root)
{
	struct coda_sb *sb = &c->sup->sb;
	struct coda_caller who;
	int rc;

	if (sb->root_valid) {
		*root = sb->root;
		return 0;
	}
	rc = call_caller(c, &who);
	if (!rc)
		rc = venus_root(c->task, &who, &sb->root);
	if (rc < 0)
		return rc;
	sb->root_valid = true;
	*root = sb->root;
	return 0;
}

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

/* While a file is being written its container is the file, as the kernel's
 * coda_file_write_iter copies the host inode's size, and its times once it
 * has been written to: venus gives the container the file's mtime, and the
 * container's ctime is then only when venus made it. */
static void overlay_container(struct call *c, const struct CodaFid *fid, struct coda_vattr *attr)
{
	struct stat st;

	if (!release_container_stat(c->sup, fid, &st))
		return;
	attr->va_size = (u_quad_t)st.st_size;
	attr->va_bytes = (u_quad_t)st.st_blocks * 512;
	if (st.st_mtim.tv_sec == attr->va_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == attr->va_mtime.tv_nsec)
		return;
	attr->va_mtime.tv_sec = st.st_mtim.tv_sec;
	attr->va_mtime.tv_nsec = st.st_mtim.tv_nsec;
	attr->va_ctime.tv_sec = st.st_ctim.tv_sec;
	attr->va_ctime.tv_nsec = st.st_ctim.tv_nsec;
}

int coda_getattr(struct call *c, const struct CodaFid *fid, struct coda_vattr *attr)
{
	struct coda_caches *caches = &c->sup->sb.caches;
	struct coda_caller who;
	int rc;

	release_sync(c, fid);
	if (!cache_attr_get(caches, fid, attr)) {
		rc = call_caller(c, &who);
		if (!rc)
			rc = venus_getattr(c->task, &who, fid, attr);
		if (rc < 0)
			return rc;
		/* An object of no known type would be a lie in every stat. */
		if (!coda_vtype_to_mode(attr->va_type))
			return -EIO;
		cache_attr_put(caches, fid, attr);
	}
	overlay_container(c, fid, attr);
	return 0;
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

int coda_setattr(struct call *c, const struct CodaFid *fid, const struct coda_vattr *attr)
{
	struct coda_caller who;
	int rc;

	release_sync(c, fid);
	rc = call_caller(c, &who);

	if (!rc)
		rc = venus_setattr(c->task, &who, fid, attr);
	cache_attr_drop(&c->sup->sb.caches, fid);
	return rc;
}

/* The attributes stay, as the kernel's coda_fsync leaves the inode alone:
 * while the file is written its size and times are the container's, and
 * an unlinked open file has no name left to ask venus about. */
int coda_fsync(struct call *c, const struct CodaFid *fid)
{
	struct coda_caller who;
	int rc;

	release_sync(c, fid);
	rc = call_caller(c, &who);

	if (!rc)
		rc = venus_fsync(c->task, &who, fid);
	return rc;
}
