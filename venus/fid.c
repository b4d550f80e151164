/* The fid table: which backing object each fid we handed out stands for.
 *
 * A fid is derived from the backing inode when the object is first seen
 * (realm, volume from st_dev, inode high, and a last word chosen so that the
 * kernel's inode number of the fid, coda_f2i, is the inode number itself
 * when it fits in 32 bits), so an unchanged object gets the same fid, and
 * the same st_ino, across runs too. Within a run the entry then follows its
 * object: a store re-keys it to the new inode, a rename moves its path (and
 * the paths below it). A fid whose path no longer leads to its inode has
 * been changed behind our back: it is forgotten and reported as ENOENT. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

static uint32_t volume_id(dev_t dev)
{
	uint64_t d = (uint64_t)dev;

	return (uint32_t)(d ^ (d >> 32));
}

/* coda_f2i is an xor of the four words: the last one can make it any value. */
static void fid_compose(struct CodaFid *fid, uint32_t volume, uint32_t high, uint32_t num)
{
	fid->opaque[0] = VENUS_REALM;
	fid->opaque[1] = volume;
	fid->opaque[2] = high;
	fid->opaque[3] = 0;
	fid->opaque[3] = num ^ coda_fid_ino(fid);
}

/* The inode number in 32 bits: itself when it fits. With the high word
 * beside it in the fid, the fid still names one inode. */
static uint32_t ino_fold(uint64_t ino)
{
	return (uint32_t)ino ^ (uint32_t)(ino >> 32);
}

void fid_make(const struct stat *st, struct CodaFid *fid)
{
	uint64_t ino = (uint64_t)st->st_ino;

	fid_compose(fid, volume_id(st->st_dev), (uint32_t)(ino >> 32), ino_fold(ino));
}

static void ino_key(const struct stat *st, struct fid_ino *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = (uint64_t)st->st_dev;
	k->ino = (uint64_t)st->st_ino;
}

bool fid_matches(const struct fid_entry *e, const struct stat *st)
{
	struct fid_ino k;

	ino_key(st, &k);
	return e->ino_hashed && memcmp(&k, &e->ikey, sizeof(k)) == 0;
}

struct fid_entry *fid_find(struct venus *v, const struct CodaFid *fid)
{
	struct fid_entry *e;

	HASH_FIND(hh, v->fids, fid, sizeof(*fid), e);
	return e;
}

static struct fid_entry *fid_by_number(struct venus *v, uint32_t num)
{
	struct fid_entry *e;

	HASH_FIND(hh_num, v->numbers, &num, sizeof(num), e);
	return e;
}

struct fid_entry *fid_by_inode(struct venus *v, const struct stat *st)
{
	struct fid_ino k;
	struct fid_entry *e;

	ino_key(st, &k);
	HASH_FIND(hh_ino, v->inodes, &k, sizeof(k), e);
	return e;
}

static void fid_unhash_ino(struct venus *v, struct fid_entry *e)
{
	if (e->ino_hashed)
		HASH_DELETE(hh_ino, v->inodes, e);
	e->ino_hashed = false;
}

static void fid_retire(struct venus *v, const struct CodaFid *fid)
{
	struct retired_fid *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->fid = *fid;
	HASH_ADD(hh, v->retired, fid, sizeof(r->fid), r);
}

static bool fid_retired(struct venus *v, const struct CodaFid *fid)
{
	struct retired_fid *r;

	HASH_FIND(hh, v->retired, fid, sizeof(*fid), r);
	return r != NULL;
}

static void fid_free(struct venus *v, struct fid_entry *e)
{
	fid_unhash_ino(v, e);
	fid_retire(v, &e->fid);
	HASH_DEL(v->fids, e);
	HASH_DELETE(hh_num, v->numbers, e);
	free(e->path);
	free(e->alt_path);
	free(e->dirty);
	free(e);
}

/* The object of e has gone. An entry still open stays, dead, until its last
 * CODA_CLOSE matches (a writer of a removed file writes into the void); the
 * others go now, and so does their container. */
void fid_drop(struct venus *v, struct fid_entry *e)
{
	/* The root stays: it is reached through vol_fd, never by name. */
	if (e == v->root)
		return;
	fid_unhash_ino(v, e);
	free(e->path);
	free(e->alt_path);
	e->path = NULL;
	e->alt_path = NULL;
	e->dead = true;
	if (e->opens || e->writers)
		return;
	wc_discard(v, e);
	container_drop(v, &e->fid);
	fid_free(v, e);
}

/* After a store the backing file is another inode: the fid follows it. */
void fid_rekey(struct venus *v, struct fid_entry *e, const struct stat *st)
{
	struct fid_entry *old = fid_by_inode(v, st);

	if (old && old != e)
		fid_drop(v, old); /* a forgotten object whose inode was reused */
	fid_unhash_ino(v, e);
	ino_key(st, &e->ikey);
	HASH_ADD(hh_ino, v->inodes, ikey, sizeof(e->ikey), e);
	e->ino_hashed = true;
}

static bool fid_taken(struct venus *v, const struct CodaFid *fid)
{
	return fid_find(v, fid) || fid_retired(v, fid);
}

/* Whether an object may be given fid_make's fid: no other has it, had it,
 * or has its number. */
static bool fid_usable(struct venus *v, const struct CodaFid *fid)
{
	uint32_t num = coda_fid_ino(fid);

	return num && !fid_by_number(v, num) && !fid_taken(v, fid);
}

/* The fid made from the inode, unless it was given before in this run (its
 * object was stored under a new inode, or removed, and the inode number came
 * back) or another object has its number (a folded 64-bit inode number, or
 * a stored file's): then one of ours, marked by the top bit of opaque[2],
 * which inode numbers below 2^63 never set. Its number is the inode's if no
 * object has it, else the highest free one: no two objects show one st_ino. */
static void fid_alloc(struct venus *v, const struct stat *st, struct CodaFid *fid)
{
	uint32_t num;

	fid_make(st, fid);
	if (fid_usable(v, fid))
		return;
	num = coda_fid_ino(fid);
	while (!num || fid_by_number(v, num))
		num = v->num_next--;
	do
		fid_compose(fid, fid->opaque[1], 0x80000000u | ++v->fid_seq, num);
	while (fid_taken(v, fid));
}

/* Whether e's path still leads to its object. */
static bool fid_path_works(struct venus *v, const struct fid_entry *e)
{
	struct stat st;

	return e->path && beneath_stat(v, e->path, &st) == 0 && fid_matches(e, &st);
}

/* Another name found for e's object: a hard link, or a rename made behind
 * our back. A path that still works stays, and the new name becomes the
 * spare: had a lookup of a link moved the fid to it, removing that link
 * would leave the fid no name while the file still had others. */
static void fid_name_found(struct venus *v, struct fid_entry *e, char *path)
{
	if (e == v->root || (e->path && strcmp(e->path, path) == 0)) {
		free(path);
	} else if (!fid_path_works(v, e)) {
		free(e->path);
		e->path = path;
	} else if (!e->alt_path) {
		e->alt_path = path;
	} else {
		free(path);
	}
}

/* Records the fid of the object found at `path`; takes path. */
int fid_enter(struct venus *v, const struct stat *st, char *path, struct fid_entry **ep)
{
	struct fid_entry *e = fid_by_inode(v, st);

	if (e) {
		fid_name_found(v, e, path);
		*ep = e;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(path);
		return -ENOMEM;
	}
	fid_alloc(v, st, &e->fid);
	e->path = path;
	/* A directory's first container of the run is built afresh: one left
	 * by an earlier run may predate a change made within its tick. */
	e->gen = 1;
	HASH_ADD(hh, v->fids, fid, sizeof(e->fid), e);
	e->num = coda_fid_ino(&e->fid);
	HASH_ADD(hh_num, v->numbers, num, sizeof(e->num), e);
	ino_key(st, &e->ikey);
	HASH_ADD(hh_ino, v->inodes, ikey, sizeof(e->ikey), e);
	e->ino_hashed = true;
	*ep = e;
	return 0;
}

/* *path, if it is `from` or below it, moved to `to`. */
static int path_moved(char **path, const char *from, size_t flen, const char *to)
{
	char *p;

	if (!*path || strncmp(*path, from, flen) != 0 ||
	    ((*path)[flen] != '\0' && (*path)[flen] != '/'))
		return 0;
	if (asprintf(&p, "%s%s", to, *path + flen) < 0)
		return -ENOMEM;
	free(*path);
	*path = p;
	return 0;
}

/* A rename moved `from` to `to`: every entry at or below it moves along,
 * by either of its names. */
int fid_moved(struct venus *v, const char *from, const char *to)
{
	size_t flen = strlen(from);
	struct fid_entry *e, *tmp;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		if (e == v->root)
			continue;
		if (path_moved(&e->path, from, flen, to) < 0 ||
		    path_moved(&e->alt_path, from, flen, to) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Venus changed the directory at path: its container is stale now. */
void fid_dir_changed(struct venus *v, const char *path)
{
	struct fid_entry *e;
	struct stat st;

	if (beneath_stat(v, path, &st) < 0)
		return;
	e = fid_by_inode(v, &st);
	if (e)
		e->gen++;
}

int fid_init(struct venus *v)
{
	struct stat st;
	char *path;
	int err;

	v->num_next = UINT32_MAX;
	v->vol_fd = open(v->cfg->volume, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->vol_fd < 0)
		return -errno;
	if (fstat(v->vol_fd, &st) < 0)
		return -errno;
	err = beneath_init(v);
	if (err)
		return err;
	path = strdup(".");
	if (!path)
		return -ENOMEM;
	err = fid_enter(v, &st, path, &v->root);
	return err;
}

void fid_fini(struct venus *v)
{
	struct fid_entry *e, *tmp;
	struct retired_fid *r, *rtmp;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		fid_free(v, e);
	}
	HASH_ITER(hh, v->retired, r, rtmp)
	{
		HASH_DEL(v->retired, r);
		free(r);
	}
	v->root = NULL;
	beneath_fini(v);
	if (v->vol_fd >= 0)
		close(v->vol_fd);
	v->vol_fd = -1;
}

int fid_stat(struct venus *v, const struct CodaFid *fid, struct fid_entry **ep, struct stat *st)
{
	struct fid_entry *e = fid_find(v, fid);
	int err;

	if (!e || e->dead || !e->path)
		return -ENOENT; /* gone, or a hard link's removed name was its only known one */
	err = beneath_stat(v, e->path, st);
	if (err) {
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

char *fid_path_parent(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, (size_t)(slash - path));
}

char *fid_path_join(const char *dir, const char *name)
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
	int err;

	if (!name[0] || strchr(name, '/'))
		return -EINVAL;
	if (strncmp(name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX)) == 0)
		return -ENOENT; /* a store under way, or one a crash left behind */
	if (!dir->path)
		return -ENOENT;
	if (strcmp(name, ".") == 0)
		path = strdup(dir->path);
	else if (strcmp(name, "..") == 0)
		path = fid_path_parent(dir->path); /* the root's parent is "." again */
	else
		path = fid_path_join(dir->path, name);
	if (!path)
		return -ENOMEM;
	if (strlen(path) >= PATH_MAX) {
		free(path);
		return -ENAMETOOLONG;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		err = beneath_stat(v, path, st);
	else
		err = beneath_stat_in(v, dir, name, st);
	if (err) {
		free(path);
		return err;
	}
	return fid_enter(v, st, path, ep);
}

/* The number a listing of dir shows for its entry `name` (inode d_ino): the
 * one GETATTR reports, of the fid the object has or will be given. Without
 * a stat where that is sure: the object is known by its inode, or will get
 * the fid made from it; else it is entered now. */
uint32_t fid_child_number(struct venus *v, struct fid_entry *dir, const char *name, uint64_t d_ino)
{
	struct stat st = {.st_dev = (dev_t)dir->ikey.dev, .st_ino = (ino_t)d_ino};
	struct fid_entry *e = NULL;
	struct CodaFid fid;
	int err;

	if (strcmp(name, ".") && strcmp(name, "..")) {
		e = fid_by_inode(v, &st);
		if (e)
			return e->num;
		fid_make(&st, &fid);
		if (fid_usable(v, &fid))
			return coda_fid_ino(&fid);
	}
	err = fid_child(v, dir, name, &e, &st);
	if (!err)
		return e->num;
	if (err == -ENOENT)
		return 0; /* gone since the readdir: an empty slot */
	/* Out of venus's reach (a path too long): no lookup finds it either. */
	return ino_fold(d_ino) ? ino_fold(d_ino) : 1;
}
