/* Readers' containers kept past their last release (keep.h). */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/hash.h"
#include "cache.h"
#include "keep.h"

struct kept {
	struct CodaFid fid;
	int fd;		  /* our open file of the container */
	int vtype;	  /* C_VREG or C_VDIR */
	uint32_t version; /* the cached attributes it was opened under */
	char *path;	  /* a file's name in venus's cache, while it holds it; or NULL */
	dev_t dev;	  /* the container's, to know it there */
	ino_t ino;
	UT_hash_handle hh;
};

static void kept_free(struct keep_state *k, struct kept *e)
{
	HASH_DEL(k->by_fid, e);
	close(e->fd);
	free(e->path);
	free(e);
}

void keep_enable(struct coda_sb *sb, long fd_limit)
{
	sb->keep.max = fd_limit / 2 < KEEP_MAX ? (unsigned)(fd_limit / 2) : KEEP_MAX;
	sb->keep.fd_cap = fd_limit / 4 * 3 < INT_MAX ? (int)(fd_limit / 4 * 3) : INT_MAX;
}

void keep_destroy(struct coda_sb *sb)
{
	struct kept *e, *tmp;

	HASH_ITER(hh, sb->keep.by_fid, e, tmp)
	{
		kept_free(&sb->keep, e);
	}
}

void keep_forget(struct coda_sb *sb, const struct CodaFid *fid)
{
	struct kept *e;

	HASH_FIND(hh, sb->keep.by_fid, fid, sizeof(*fid), e);
	if (e)
		kept_free(&sb->keep, e);
}

/* The container opened again by its name in venus's cache, while that name
 * still holds it: a third of what a reopen through /proc/self/fd costs
 * (1.7 us against 0.5 on the project's machine, the inode check besides).
 * Once the name holds another file (a refill renamed over it) or none, the
 * name is forgotten. */
static int reopen_by_name(struct kept *e)
{
	struct stat st;
	int fd;

	if (!e->path)
		return -1;
	fd = open(e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == e->dev && st.st_ino == e->ino)
		return fd;
	if (fd >= 0)
		close(fd);
	free(e->path);
	e->path = NULL;
	return -1;
}

/* A new open file of e's container: a file's own (its offset and flags
 * are the caller's, as a new CODA_OPEN's would be), a directory's a dup
 * (readdir reads it by pread). */
static int reopen(struct kept *e)
{
	int fd;

	if (e->vtype == C_VDIR)
		return fcntl(e->fd, F_DUPFD_CLOEXEC, 3);
	fd = reopen_by_name(e);
	return fd >= 0 ? fd : coda_reopen(e->fd, O_RDONLY);
}

int keep_take(struct coda_sb *sb, const struct CodaFid *fid, int vtype, uint32_t version)
{
	struct kept *e;
	int fd;

	if (!version)
		return -1;
	HASH_FIND(hh, sb->keep.by_fid, fid, sizeof(*fid), e);
	if (!e)
		return -1;
	if (e->version != version || e->vtype != vtype) {
		kept_free(&sb->keep, e);
		return -1;
	}
	fd = reopen(e);
	if (fd < 0) {
		kept_free(&sb->keep, e);
		return -1;
	}
	/* The most recently used is dropped last. */
	HASH_DEL(sb->keep.by_fid, e);
	HASH_ADD(hh, sb->keep.by_fid, fid, sizeof(e->fid), e);
	if (!HASH_ADDED(hh, e)) {
		close(e->fd);
		free(e->path);
		free(e);
	}
	return fd;
}

/* fds are handed out lowest first: a high one says they run short, and
 * what is kept gives way to what is open, one for each fd taken above the
 * cap, so that the next is below it again. */
void keep_make_room(struct coda_sb *sb, int fd)
{
	if (fd >= sb->keep.fd_cap && sb->keep.by_fid)
		kept_free(&sb->keep, sb->keep.by_fid);
}

/* The open file a reader's record holds of its container, or NULL. */
static int *container_of(struct coda_file *f)
{
	if ((f->flags & (O_ACCMODE | O_PATH)) != O_RDONLY)
		return NULL;
	if (f->vtype == C_VDIR)
		return &f->container;
	return f->vtype == C_VREG ? &f->host_fd : NULL;
}

void keep_release(struct coda_file *f)
{
	struct keep_state *k = &f->sb->keep;
	int *fd = container_of(f);
	struct kept *e;

	if (!k->max || !fd || *fd < 0 || !f->attr_version ||
	    f->attr_version != cache_attr_version(&f->sb->caches, &f->fid))
		return;
	HASH_FIND(hh, k->by_fid, &f->fid, sizeof(f->fid), e);
	if (e && e->version == f->attr_version)
		return; /* one is kept already */
	if (e)
		kept_free(k, e);
	if (*fd >= k->fd_cap) {
		keep_make_room(f->sb, *fd);
		return;
	}
	if (HASH_COUNT(k->by_fid) >= k->max)
		kept_free(k, k->by_fid); /* the least recently used */
	e = malloc(sizeof(*e));
	if (!e)
		return;
	*e = (struct kept){.fid = f->fid,
			   .fd = *fd,
			   .vtype = f->vtype,
			   .version = f->attr_version,
			   .path = f->container_path,
			   .dev = f->cdev,
			   .ino = f->cino};
	HASH_ADD(hh, k->by_fid, fid, sizeof(e->fid), e);
	if (!HASH_ADDED(hh, e)) {
		free(e);
		return;
	}
	*fd = -1;
	f->container_path = NULL; /* the kept entry's now */
}

void keep_stale(struct coda_sb *sb, enum coda_stale stale, const struct CodaFid *fid)
{
	if (stale == CODA_STALE_ALL)
		keep_destroy(sb);
	else if (stale == CODA_STALE_FID)
		keep_forget(sb, fid);
}
