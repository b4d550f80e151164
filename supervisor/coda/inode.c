/* The mount and its objects' attributes, as fs/coda/inode.c: the super
 * block (its root fid, statfs) and getattr/setattr through the cache. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cache.h"
#include "coda.h"
#include "coda_linux.h"
#include "keep.h"
#include "prefetch.h"
#include "proto/shtable.h"
#include "psdev.h"
#include "release.h"
#include "stats.h"
#include "upcall.h"

/* The inode of the mount point's parent, for ".." in the root's listing. */
static ino_t mount_parent_ino(const char *mnt)
{
	char parent[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(parent, sizeof(parent), "%s", mnt);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return stat(parent, &st) == 0 ? st.st_ino : 0;
}

/* A directory, empty and removed, of which every /coda directory's fd is an
 * open file: read(2) on it fails with EISDIR and mmap with ENODEV by
 * themselves, as on a directory of a mount, so the filter need not trap
 * them, and its position is the readdir cursor (file.c, dir.c). */
static int dir_stub_make(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd, err;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/coda-exec-dir.XXXXXX", tmp);
	if (!mkdtemp(path)) {
		err = errno;
		fprintf(stderr,
			"coda-exec: cannot make a directory in %s for the fds of /coda "
			"directories: %s (set TMPDIR to a writable directory)\n",
			tmp, strerror(err));
		return -err;
	}
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	err = errno;
	rmdir(path);
	return fd < 0 ? -err : fd;
}

int coda_sb_init(struct coda_sb *sb, const struct coda_sched *sched)
{
	sb->sched = sched;
	sb->vc.chan = -1;
	sb->log = stderr;
	sb->dir_stub = dir_stub_make();
	if (sb->dir_stub < 0)
		return sb->dir_stub;
	return release_init(sb);
}

void coda_sb_mount(struct coda_sb *sb, const char *mnt)
{
	snprintf(sb->mnt, sizeof(sb->mnt), "%s", mnt);
	sb->mnt_len = strlen(sb->mnt);
	/* An anonymous device number of our own, as the kernel gives a mount. */
	sb->dev = makedev(0, 0xc0da);
	sb->mnt_parent_ino = mount_parent_ino(sb->mnt);
}

void coda_sb_destroy(struct coda_sb *sb)
{
	prefetch_destroy(sb);
	release_destroy(sb);
	keep_destroy(sb);
	cache_flush(&sb->caches);
	coda_stats_free(sb);
	shtable_unmap(sb->vc.shared);
	sb->vc.shared = NULL;
	if (sb->dir_stub >= 0)
		close(sb->dir_stub);
	sb->dir_stub = -1;
}

int coda_root(struct coda_req *r, struct CodaFid *root)
{
	struct coda_sb *sb = r->sb;
	struct coda_caller who;
	int rc;

	if (sb->root_valid) {
		*root = sb->root;
		return 0;
	}
	rc = coda_caller(r, &who);
	if (!rc)
		rc = venus_root(r, &who, &sb->root);
	if (rc < 0)
		return rc;
	sb->root_valid = true;
	*root = sb->root;
	return 0;
}

/* While a file is being written its container is the file, as the kernel's
 * coda_file_write_iter copies the host inode's size, and its times once it
 * has been written to: venus gives the container the file's mtime, and the
 * container's ctime is then only when venus made it. */
static void overlay_container(struct coda_req *r, const struct CodaFid *fid,
			      struct coda_vattr *attr)
{
	struct stat st;

	if (!release_container_stat(r->sb, fid, &st))
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

int coda_getattr_as(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		    struct coda_vattr *attr)
{
	struct coda_caches *caches = &r->sb->caches;
	struct coda_caller me;
	int rc;

	release_sync(r, fid);
	if (!cache_attr_get(caches, fid, attr)) {
		if (!who) {
			rc = coda_caller(r, &me);
			if (rc < 0)
				return rc;
			who = &me;
		}
		rc = venus_getattr(r, who, fid, attr);
		if (rc < 0)
			return rc;
		/* An object of no known type would be a lie in every stat. */
		if (!coda_vtype_to_mode(attr->va_type))
			return -EIO;
		cache_attr_put(caches, fid, attr);
	}
	overlay_container(r, fid, attr);
	return 0;
}

int coda_getattr(struct coda_req *r, const struct CodaFid *fid, struct coda_vattr *attr)
{
	return coda_getattr_as(r, NULL, fid, attr);
}

int coda_setattr(struct coda_req *r, const struct CodaFid *fid, const struct coda_vattr *attr)
{
	struct coda_caller who;
	int rc;

	release_sync(r, fid);
	rc = coda_caller(r, &who);

	if (!rc)
		rc = venus_setattr(r, &who, fid, attr);
	/* As coda_setattr: a new mode or owner may change the rights too. */
	cache_attr_drop(&r->sb->caches, fid);
	cache_access_drop(&r->sb->caches, fid);
	return rc;
}

int coda_statfs(struct coda_req *r, struct coda_statfs *st)
{
	struct coda_caller who;
	int rc = coda_caller(r, &who);

	return rc ? rc : venus_statfs(r, &who, st);
}
