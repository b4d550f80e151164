#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir.h"
#include "file.h"
#include "notify.h"
#include "super.h"
#include "upcall.h"
#include "venus_dirent.h"

int coda_lookup(struct call *c, const struct CodaFid *dir, const char *name, size_t len,
		struct CodaFid *fid, int *vtype)
{
	struct coda_caches *caches = &c->sup->sb.caches;
	struct coda_caller who;
	int rc;

	if (len > CODA_MAXNAMLEN)
		return -ENAMETOOLONG;
	if (cache_name_get(caches, dir, name, len, fid, vtype))
		return *vtype == C_VNON ? -ENOENT : 0;
	rc = call_caller(c, &who);
	if (!rc)
		rc = venus_lookup(c->task, &who, dir, name, len, fid, vtype);
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
	return 0;
}

int coda_permission(struct call *c, const struct CodaFid *fid, int mask)
{
	struct coda_caches *caches = &c->sup->sb.caches;
	struct coda_caller who;
	int rc;

	if (!mask)
		return 0;
	rc = call_caller(c, &who);
	if (rc < 0)
		return rc;
	if (cache_access_ok(caches, fid, who.uid, mask))
		return 0;
	rc = venus_access(c->task, &who, fid, mask);
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

/* Converts records of the container image from *pos on into buf; stops at
 * the first that does not fit. A non-zero dotdot_ino replaces the inode of
 * "..", which venus cannot know for the volume root. Returns bytes filled,
 * or -EIO. */
static long fill_dirents(const char *image, size_t len, size_t *pos, char *buf, size_t count,
			 uint64_t dotdot_ino)
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
		d->d_ino = v.ino;
		if (dotdot_ino && v.namlen == 2 && v.name[0] == '.' && v.name[1] == '.')
			d->d_ino = dotdot_ino;
		d->d_off = (int64_t)next;
		d->d_reclen = (unsigned short)size;
		d->d_type = v.type;
		memcpy(d->d_name, v.name, v.namlen);
		used += size;
		*pos = next;
	}
	return (long)used;
}

/* The container's offset is the target's directory position: it shares the
 * open file with our copy, so lseek and rewinddir need no trap. */
long coda_getdents64(struct call *c, struct coda_file *f, uint64_t addr, size_t count)
{
	const struct coda_sb *sb = &c->sup->sb;
	uint64_t dotdot;
	struct stat st;
	char *image, *buf;
	off_t off;
	size_t pos;
	long n;
	int rc = 0;

	if (f->vtype != C_VDIR || f->host_fd < 0)
		return -ENOTDIR;
	off = lseek(f->host_fd, 0, SEEK_CUR);
	if (off < 0 || fstat(f->host_fd, &st) < 0)
		return -EIO;
	if (off >= st.st_size || st.st_size == 0)
		return 0;
	if (count > 1 << 20)
		count = 1 << 20;
	image = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, f->host_fd, 0);
	if (image == MAP_FAILED)
		return -EIO;
	buf = malloc(count);
	pos = (size_t)off;
	dotdot = sb->root_valid && coda_fid_eq(&f->fid, &sb->root) ? sb->mnt_parent_ino : 0;
	n = buf ? fill_dirents(image, (size_t)st.st_size, &pos, buf, count, dotdot) : -ENOMEM;
	munmap(image, (size_t)st.st_size);
	if (n == 0 && pos < (size_t)st.st_size)
		n = -EINVAL; /* not even one entry fits */
	if (n > 0)
		rc = call_write(c, addr, buf, (size_t)n);
	free(buf);
	if (rc < 0)
		return rc;
	if (n >= 0 && lseek(f->host_fd, (off_t)pos, SEEK_SET) < 0)
		return -EIO;
	return n;
}
