/* Directories, as fs/coda/dir.c: name lookup through the name cache,
 * permission checks through the access cache, namespace changes, and
 * directory listings read from the venus_dirent container. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "coda.h"
#include "coda_linux.h"
#include "prefetch.h"
#include "psdev.h"
#include "release.h"
#include "upcall.h"
#include "proto/venus_dirent.h"

static int coda_lookup_as(struct coda_req *r, const struct coda_caller *who,
			  const struct CodaFid *dir, const char *name, size_t len,
			  struct CodaFid *fid, int *vtype)
{
	struct coda_caches *caches = &r->sb->caches;
	unsigned long drops = caches->attr_drops;
	struct lookup_tail tail;
	int rc;

	if (cache_name_get(caches, dir, name, len, fid, vtype))
		return *vtype == C_VNON ? -ENOENT : 0;
	rc = venus_lookup(r, who, dir, name, len, fid, vtype, &tail);
	if (rc == -ENOENT) {
		struct CodaFid none = {{0}};

		cache_name_put(caches, dir, name, len, &none, C_VNON);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (*vtype <= C_VNON || *vtype >= C_VBAD)
		return -EIO;
	cache_name_put(caches, dir, name, len, fid, *vtype);
	/* What GETATTR and ACCESS would answer now, as long as no writer's
	 * store is pending (getattr waits for it), nothing dropped attributes
	 * while the LOOKUP was out (a store or a downcall may have made these
	 * stale: a LOOKUP, unlike a GETATTR, waits for no store), and the type
	 * is one stat can show. */
	if (tail.present && caches->attr_drops == drops && tail.attr.va_type == *vtype &&
	    coda_vtype_to_mode(tail.attr.va_type) && !release_writing(r->sb, fid)) {
		cache_attr_put(caches, fid, &tail.attr);
		if (tail.rights)
			cache_access_grant(caches, fid, who->uid, tail.rights);
	}
	return 0;
}

/* Read-ahead's work for one name (prefetch.h). */
static void fetch_ahead(struct coda_req *r, const struct coda_caller *who,
			const struct CodaFid *dir, const char *name, size_t len)
{
	struct coda_vattr attr;
	struct CodaFid fid;
	int vtype;

	if (coda_lookup_as(r, who, dir, name, len, &fid, &vtype) == 0)
		coda_getattr_as(r, who, &fid, &attr);
}

/* What the caches say of name in dir, as the dcache would: 0, -ENOENT (a
 * negative entry) or -ENAMETOOLONG, or 1 when they do not know it. */
static int lookup_cached(struct coda_req *r, const struct CodaFid *dir, const char *name,
			 size_t len, struct CodaFid *fid, int *vtype)
{
	if (len > CODA_MAXNAMLEN)
		return -ENAMETOOLONG;
	if (!cache_name_get(&r->sb->caches, dir, name, len, fid, vtype))
		return 1;
	prefetch_hit(r, dir, name, len);
	return *vtype == C_VNON ? -ENOENT : 0;
}

int coda_lookup(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len,
		struct CodaFid *fid, int *vtype)
{
	struct coda_caller who;
	struct pf_name *pn;
	int rc = lookup_cached(r, dir, name, len, fid, vtype);

	if (rc <= 0)
		return rc;
	rc = coda_caller(r, &who);
	if (rc < 0)
		return rc;
	pn = prefetch_claim(r, &who, dir, name, len);
	rc = coda_lookup_as(r, &who, dir, name, len, fid, vtype);
	prefetch_release(r->sb, pn);
	return rc;
}

/* The kernel asks venus (LOOKUP) before an exclusive create; CODA_CREATE
 * with excl says EEXIST itself, and venus checks the name before the
 * caller's rights, as the kernel does, so the LOOKUP is one round trip of
 * a new file's few (tar x, git's lock files) that tells nothing more. */
int coda_lookup_excl(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len,
		     struct CodaFid *fid, int *vtype, bool *unasked)
{
	int rc = lookup_cached(r, dir, name, len, fid, vtype);

	*unasked = rc == 1;
	return *unasked ? -ENOENT : rc;
}

bool coda_name_missing(struct coda_sb *sb, const struct CodaFid *dir, const char *name)
{
	struct CodaFid fid;
	int vtype;

	return cache_name_get(&sb->caches, dir, name, strlen(name), &fid, &vtype) &&
	       vtype == C_VNON;
}

int coda_permission(struct coda_req *r, const struct CodaFid *fid, int mask)
{
	struct coda_caches *caches = &r->sb->caches;
	struct coda_caller who;
	int rc;

	if (!mask)
		return 0;
	rc = coda_caller(r, &who);
	if (rc < 0)
		return rc;
	if (cache_access_ok(caches, fid, who.uid, mask))
		return 0;
	rc = venus_access(r, &who, fid, mask);
	if (!rc)
		cache_access_grant(caches, fid, who.uid, mask);
	return rc;
}

/* One linux_dirent64, as getdents64 lays it out. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static size_t dirent64_size(size_t namlen)
{
	return (offsetof(struct linux_dirent64, d_name) + namlen + 1 + 7) & ~(size_t)7;
}

/* The number of "." and "..": as the kernel's dir_emit_dots, "." is the
 * directory's own inode number whatever venus wrote; a non-zero dotdot
 * replaces the number of "..", which venus cannot know for the volume root. */
struct dots {
	uint64_t dot, dotdot;
};

static uint64_t dirent_ino(const struct venus_dirent_view *v, const struct dots *dots)
{
	if (v->namlen == 1 && v->name[0] == '.')
		return dots->dot;
	if (dots->dotdot && v->namlen == 2 && v->name[0] == '.' && v->name[1] == '.')
		return dots->dotdot;
	return v->ino;
}

/* Converts records of the container image from *pos on into buf; stops at
 * the first that does not fit. Returns bytes filled, or -EIO. */
static long fill_dirents(const char *image, size_t len, size_t *pos, char *buf, size_t count,
			 const struct dots *dots)
{
	size_t used = 0;

	for (;;) {
		struct venus_dirent_view v;
		size_t next = *pos, size;
		struct linux_dirent64 *d;
		int rc = venus_dirent_decode(image, len, &next, &v);

		if (rc == 0)
			break;
		if (rc < 0)
			return used ? (long)used : rc;
		if (rc == 2) {
			*pos = next;
			continue;
		}
		size = dirent64_size(v.namlen);
		if (used + size > count)
			break;
		d = (struct linux_dirent64 *)(buf + used);
		memset(d, 0, size);
		d->d_ino = dirent_ino(&v, dots);
		d->d_off = (int64_t)next;
		d->d_reclen = (unsigned short)size;
		d->d_type = v.type;
		memcpy(d->d_name, v.name, v.namlen);
		used += size;
		*pos = next;
	}
	return (long)used;
}

/* The position of our copy of the caller's open file is the directory
 * position: the caller's fd shares the open file with it, so lseek and
 * rewinddir need no upcall. The records are the container's. */
/* The container's records, read whole into memory once per change of it:
 * a pread costs less than a mapping, whose unmap flushes the TLB of every
 * CPU the supervisor ran on. */
static int read_image(struct coda_file *f, const struct stat *st)
{
	size_t len = (size_t)st->st_size, got = 0;
	char *image;

	if (f->image && f->image_len == len && f->image_ino == st->st_ino &&
	    f->image_ctime.tv_sec == st->st_ctim.tv_sec &&
	    f->image_ctime.tv_nsec == st->st_ctim.tv_nsec)
		return 0;
	image = malloc(len);
	if (!image)
		return -ENOMEM;
	while (got < len) {
		ssize_t n = pread(f->container, image + got, len - got, (off_t)got);

		if (n <= 0) {
			free(image);
			return -EIO;
		}
		got += (size_t)n;
	}
	free(f->image);
	f->image = image;
	f->image_len = len;
	f->image_ino = st->st_ino;
	f->image_ctime = st->st_ctim;
	return 0;
}

long coda_dir_readdir(struct coda_req *r, struct coda_file *f, char *buf, size_t count)
{
	struct coda_sb *sb = r->sb;
	struct dots dots = {.dot = coda_fid_ino(&f->fid)};
	struct stat st;
	off_t off;
	size_t pos;
	long n;
	int rc;

	if (f->vtype != C_VDIR || f->host_fd < 0 || f->container < 0)
		return -ENOTDIR;
	off = lseek(f->host_fd, 0, SEEK_CUR);
	if (off < 0 || fstat(f->container, &st) < 0)
		return -EIO;
	if (off >= st.st_size || st.st_size == 0)
		return 0;
	rc = read_image(f, &st);
	if (rc < 0)
		return rc;
	pos = (size_t)off;
	if (sb->root_valid && coda_fid_eq(&f->fid, &sb->root))
		dots.dotdot = sb->mnt_parent_ino;
	if (off == 0)
		prefetch_listed(r->sb, &f->fid, f->image, f->image_len, fetch_ahead);
	n = fill_dirents(f->image, f->image_len, &pos, buf, count, &dots);
	if (n == 0 && pos < f->image_len)
		return -EINVAL; /* not even one entry fits */
	if (n >= 0 && lseek(f->host_fd, (off_t)pos, SEEK_SET) < 0)
		return -EIO;
	return n;
}

static void name_known(struct coda_req *r, const struct CodaFid *dir, const char *name,
		       const struct CodaFid *fid, int vtype)
{
	cache_name_put(&r->sb->caches, dir, name, strlen(name), fid, vtype);
}

static void name_gone(struct coda_req *r, const struct CodaFid *dir, const char *name)
{
	struct CodaFid none = {{0}};

	name_known(r, dir, name, &none, C_VNON);
}

static void attrs_changed(struct coda_req *r, const struct CodaFid *fid)
{
	if (fid)
		cache_attr_drop(&r->sb->caches, fid);
}

int coda_create(struct coda_req *r, const struct CodaFid *dir, const char *name, int excl,
		mode_t mode, struct CodaFid *fid)
{
	struct coda_caller who;
	struct coda_vattr attr;
	int rc = coda_caller(r, &who);

	if (!rc)
		rc = venus_create(r, &who, dir, name, strlen(name), excl, (int)mode, fid, &attr);
	if (rc < 0)
		return rc;
	name_known(r, dir, name, fid, C_VREG);
	attrs_changed(r, dir);
	if (coda_vtype_to_mode(attr.va_type))
		cache_attr_put(&r->sb->caches, fid, &attr);
	return 0;
}

int coda_dir_mkdir(struct coda_req *r, const struct CodaFid *dir, const char *name, mode_t mode)
{
	struct coda_caller who;
	struct coda_vattr attr;
	struct CodaFid fid;
	int rc = coda_caller(r, &who);

	if (!rc)
		rc = venus_mkdir(r, &who, dir, name, strlen(name), (int)mode, &fid, &attr);
	if (rc < 0)
		return rc;
	name_known(r, dir, name, &fid, C_VDIR);
	attrs_changed(r, dir);
	return 0;
}

int coda_symlink(struct coda_req *r, const struct CodaFid *dir, const char *name,
		 const char *target)
{
	struct coda_caller who;
	int rc = coda_caller(r, &who);

	if (!rc)
		rc = venus_symlink(r, &who, dir, name, strlen(name), target, strlen(target));
	if (rc < 0)
		return rc;
	/* No fid comes back: let the next lookup ask. */
	cache_name_drop(&r->sb->caches, dir, name, strlen(name));
	attrs_changed(r, dir);
	return 0;
}

int coda_link(struct coda_req *r, const struct CodaFid *fid, const struct CodaFid *dir,
	      const char *name)
{
	struct coda_caller who;
	int rc;

	/* A file closed by the target but not yet stored must be stored under
	 * the name venus knows before it gets another (git writes objects so). */
	release_sync(r, fid);
	rc = coda_caller(r, &who);

	if (!rc)
		rc = venus_link(r, &who, fid, dir, name, strlen(name));
	if (rc < 0)
		return rc;
	name_known(r, dir, name, fid, C_VREG);
	attrs_changed(r, dir);
	attrs_changed(r, fid); /* its link count */
	return 0;
}

/* An open file outlives its last name: its attributes stay, one link less,
 * as the kernel's coda_unlink drops the inode's link count (fstat of an fd
 * of an unlinked file works). */
static void link_dropped(struct coda_req *r, const struct CodaFid *victim, bool is_dir,
			 struct coda_vattr *attr)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	attr->va_nlink = is_dir || attr->va_nlink <= 1 ? 0 : attr->va_nlink - 1;
	attr->va_ctime.tv_sec = now.tv_sec;
	attr->va_ctime.tv_nsec = now.tv_nsec;
	cache_attr_put(&r->sb->caches, victim, attr);
}

/* unlink and rmdir: the same shape, one venus call each. */
static int remove_name(struct coda_req *r, bool is_dir, const struct CodaFid *dir, const char *name,
		       const struct CodaFid *victim)
{
	struct coda_vattr attr;
	struct coda_caller who;
	bool known;
	int rc;

	release_sync(r, victim);
	known = coda_getattr(r, victim, &attr) == 0;
	rc = coda_caller(r, &who);
	if (!rc && is_dir)
		rc = venus_rmdir(r, &who, dir, name, strlen(name));
	else if (!rc)
		rc = venus_remove(r, &who, dir, name, strlen(name));
	if (rc < 0)
		return rc;
	name_gone(r, dir, name);
	attrs_changed(r, dir);
	if (known)
		link_dropped(r, victim, is_dir, &attr);
	else
		attrs_changed(r, victim);
	return 0;
}

int coda_dir_unlink(struct coda_req *r, const struct CodaFid *dir, const char *name,
		    const struct CodaFid *victim)
{
	return remove_name(r, false, dir, name, victim);
}

int coda_rmdir(struct coda_req *r, const struct CodaFid *dir, const char *name,
	       const struct CodaFid *victim)
{
	return remove_name(r, true, dir, name, victim);
}

int coda_dir_rename(struct coda_req *r, const struct CodaFid *from_dir, const char *from,
		    const struct CodaFid *moved, const struct CodaFid *to_dir, const char *to,
		    const struct CodaFid *replaced)
{
	struct coda_caches *caches = &r->sb->caches;
	struct coda_caller who;
	int rc;

	release_sync(r, moved);
	if (replaced)
		release_sync(r, replaced);
	rc = coda_caller(r, &who);
	if (!rc)
		rc = venus_rename(r, &who, from_dir, from, strlen(from), to_dir, to, strlen(to));
	if (rc < 0)
		return rc;
	name_gone(r, from_dir, from);
	cache_name_drop(caches, to_dir, to, strlen(to));
	attrs_changed(r, from_dir);
	attrs_changed(r, to_dir);
	attrs_changed(r, moved);
	attrs_changed(r, replaced);
	return 0;
}

/* An error the kernel gives an exclusive create only once its lookup has
 * found the name missing (EACCES, EROFS, ENOSPC, ...), of a name nobody
 * looked up (nd->unasked): EEXIST if the name is there after all. */
static int create_error(struct coda_req *r, const struct nameidata *nd, int rc)
{
	struct CodaFid fid;
	int vtype;

	if (rc == -EEXIST || !nd->unasked)
		return rc;
	return coda_lookup(r, &nd->parent, nd->last, strlen(nd->last), &fid, &vtype) == 0 ? -EEXIST
											  : rc;
}

int coda_create_named(struct coda_req *r, struct nameidata *nd, bool excl, mode_t perm)
{
	size_t dir_len = strlen(nd->path);
	bool root = dir_len == 1;
	struct CodaFid fid;
	int rc;

	/* Its path is checked before it is made: an error after would leave
	 * a file the caller was told was not created. */
	if (dir_len + !root + strlen(nd->last) >= sizeof(nd->path))
		return create_error(r, nd, -ENAMETOOLONG);
	rc = coda_create(r, &nd->parent, nd->last, excl, S_IFREG | perm, &fid);
	if (rc < 0)
		return create_error(r, nd, rc);
	snprintf(nd->path + dir_len, sizeof(nd->path) - dir_len, "%s%s", root ? "" : "/", nd->last);
	nd->fid = fid;
	nd->vtype = C_VREG;
	nd->missing = false;
	return 0;
}
