/* The fid table: which backing object each fid we handed out stands for.
 *
 * A fid is derived from the backing inode (realm, volume from st_dev, inode
 * low, inode high), so the same object always gets the same fid, across runs
 * too, and the table is only a cache of where to find it: a fid whose path
 * no longer leads to that inode is forgotten and reported as ENOENT. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "venus_int.h"

static uint32_t volume_id(dev_t dev)
{
	uint64_t d = (uint64_t)dev;

	return (uint32_t)(d ^ (d >> 32));
}

void fid_make(const struct stat *st, struct CodaFid *fid)
{
	uint64_t ino = (uint64_t)st->st_ino;

	fid->opaque[0] = VENUS_REALM;
	fid->opaque[1] = volume_id(st->st_dev);
	fid->opaque[2] = (uint32_t)ino;
	fid->opaque[3] = (uint32_t)(ino >> 32);
}

void fid_format(const struct CodaFid *fid, char *buf, size_t len)
{
	snprintf(buf, len, "%08x.%08x.%08x.%08x", fid->opaque[0], fid->opaque[1], fid->opaque[2],
		 fid->opaque[3]);
}

bool fid_matches(const struct fid_entry *e, const struct stat *st)
{
	struct CodaFid fid;

	fid_make(st, &fid);
	return coda_fid_eq(&fid, &e->fid);
}

struct fid_entry *fid_find(struct venus *v, const struct CodaFid *fid)
{
	struct fid_entry *e;

	HASH_FIND(hh, v->fids, fid, sizeof(*fid), e);
	return e;
}

static void fid_drop(struct venus *v, struct fid_entry *e)
{
	/* The root stays: it is reached through vol_fd, never by name. */
	if (e == v->root)
		return;
	HASH_DEL(v->fids, e);
	free(e->path);
	free(e);
}

/* Records (or re-points) the fid of the object found at `path`; takes path. */
static int fid_enter(struct venus *v, const struct stat *st, char *path, struct fid_entry **ep)
{
	struct CodaFid fid;
	struct fid_entry *e;

	fid_make(st, &fid);
	e = fid_find(v, &fid);
	if (e) {
		/* Same inode under a new name (a hard link, or a rename): the
		 * latest name found is as good as any and known to work. */
		if (e != v->root) {
			free(e->path);
			e->path = path;
		} else {
			free(path);
		}
		*ep = e;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(path);
		return -ENOMEM;
	}
	e->fid = fid;
	e->path = path;
	HASH_ADD(hh, v->fids, fid, sizeof(e->fid), e);
	*ep = e;
	return 0;
}

int fid_init(struct venus *v)
{
	struct stat st;
	char *path;
	int err;

	v->vol_fd = open(v->cfg->volume, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->vol_fd < 0)
		return -errno;
	if (fstat(v->vol_fd, &st) < 0)
		return -errno;
	path = strdup(".");
	if (!path)
		return -ENOMEM;
	err = fid_enter(v, &st, path, &v->root);
	return err;
}

void fid_fini(struct venus *v)
{
	struct fid_entry *e, *tmp;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		HASH_DEL(v->fids, e);
		free(e->path);
		free(e);
	}
	v->root = NULL;
	if (v->vol_fd >= 0)
		close(v->vol_fd);
	v->vol_fd = -1;
}

int fid_stat(struct venus *v, const struct CodaFid *fid, struct fid_entry **ep, struct stat *st)
{
	struct fid_entry *e = fid_find(v, fid);

	if (!e)
		return -ENOENT;
	if (fstatat(v->vol_fd, e->path, st, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = -errno;

		if (err != -ENOENT && err != -ENOTDIR)
			return err;
		fid_drop(v, e);
		return -ENOENT;
	}
	if (!fid_matches(e, st)) {
		/* Something else lives at that name now: ours has gone. */
		fid_drop(v, e);
		return -ENOENT;
	}
	*ep = e;
	return 0;
}

static char *path_parent(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, (size_t)(slash - path));
}

static char *path_join(const char *dir, const char *name)
{
	char *p;

	if (strcmp(dir, ".") == 0)
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

int fid_child(struct venus *v, struct fid_entry *dir, const char *name, struct fid_entry **ep,
	      struct stat *st)
{
	char *path;

	if (!name[0] || strchr(name, '/'))
		return -EINVAL;
	if (strcmp(name, ".") == 0)
		path = strdup(dir->path);
	else if (strcmp(name, "..") == 0)
		path = path_parent(dir->path); /* the root's parent is "." again */
	else
		path = path_join(dir->path, name);
	if (!path)
		return -ENOMEM;
	if (strlen(path) >= PATH_MAX) {
		free(path);
		return -ENAMETOOLONG;
	}
	if (fstatat(v->vol_fd, path, st, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = -errno;

		free(path);
		return err;
	}
	return fid_enter(v, st, path, ep);
}
