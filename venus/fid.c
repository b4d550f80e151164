/* The fid table: which backing object each fid we handed out stands for.
 *
 * A fid is derived from the backing inode when the object is first seen
 * (realm, volume from st_dev, inode high, and a last word chosen so that the
 * kernel's inode number of the fid, coda_f2i, is the inode number itself
 * when it fits in 32 bits), so an unchanged object gets the same fid, and
 * the same st_ino, across runs too. Within a run the entry then follows its
 * object: a store re-keys it to the new inode, a rename moves its path (and
 * the paths below it). A fid whose path no longer leads to its inode has
 * been changed behind our back: it is forgotten and reported as ENOENT.
 *
 * Entries are in one table, by fid. Most are found by inode and by number
 * through the fid those make: fid_make of the inode, and the number's own
 * fid (the volume root's volume word, high word 0, as fid_make gives a
 * 32-bit inode of the root's file system). The few that a store re-keyed,
 * or that were given another fid or number, are in a side table for each
 * key they are not found by that way. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto/hash.h"
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

static void fid_of_inode(const struct fid_ino *k, struct CodaFid *fid)
{
	fid_compose(fid, volume_id((dev_t)k->dev), (uint32_t)(k->ino >> 32), ino_fold(k->ino));
}

static void ino_key(const struct stat *st, struct fid_ino *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = (uint64_t)st->st_dev;
	k->ino = (uint64_t)st->st_ino;
}

void fid_make(const struct stat *st, struct CodaFid *fid)
{
	struct fid_ino k;

	ino_key(st, &k);
	fid_of_inode(&k, fid);
}

/* The fid a number is found by: the one fid_make gives that inode number
 * on the volume root's file system. */
static void number_fid(struct venus *v, uint32_t num, struct CodaFid *fid)
{
	fid_compose(fid, v->vol_id, 0, num);
}

static bool ikey_eq(const struct fid_ino *a, const struct fid_ino *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool fid_gone(const struct fid_entry *e)
{
	static const struct fid_ino none;

	return ikey_eq(&e->ikey, &none);
}

bool fid_matches(const struct fid_entry *e, const struct stat *st)
{
	struct fid_ino k;

	ino_key(st, &k);
	return ikey_eq(&k, &e->ikey);
}

/* Whether e is found by its inode through fid_make, not by an alias. */
static bool fid_inode_made(const struct fid_entry *e)
{
	struct CodaFid fid;

	fid_of_inode(&e->ikey, &fid);
	return coda_fid_eq(&fid, &e->fid);
}

/* Whether e is found by its number through the number's own fid. */
static bool fid_number_own(struct venus *v, const struct fid_entry *e)
{
	struct CodaFid fid;

	number_fid(v, coda_fid_ino(&e->fid), &fid);
	return coda_fid_eq(&fid, &e->fid);
}

static void number_key(const struct fid_entry *e, struct fid_ino *k)
{
	memset(k, 0, sizeof(*k));
	k->ino = coda_fid_ino(&e->fid);
}

static struct fid_entry *alias_find(struct fid_alias *table, const struct fid_ino *key)
{
	struct fid_alias *a;

	HASH_FIND(hh, table, key, sizeof(*key), a);
	return a ? a->e : NULL;
}

static int alias_add(struct fid_alias **table, const struct fid_ino *key, struct fid_entry *e)
{
	struct fid_alias *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->key = *key;
	a->e = e;
	HASH_ADD(hh, *table, key, sizeof(a->key), a);
	if (!HASH_ADDED(hh, a)) {
		free(a);
		return -ENOMEM;
	}
	return 0;
}

static void alias_del(struct fid_alias **table, const struct fid_ino *key)
{
	struct fid_alias *a;

	HASH_FIND(hh, *table, key, sizeof(*key), a);
	if (!a)
		return;
	HASH_DEL(*table, a);
	free(a);
}

struct fid_entry *fid_find(struct venus *v, const struct CodaFid *fid)
{
	struct fid_entry *e;

	HASH_FIND(hh, v->fids, fid, sizeof(*fid), e);
	return e;
}

static struct fid_entry *fid_by_number(struct venus *v, uint32_t num)
{
	struct fid_ino k = {.ino = num};
	struct CodaFid fid;
	struct fid_entry *e;

	number_fid(v, num, &fid);
	e = fid_find(v, &fid);
	return e ? e : alias_find(v->numbers, &k);
}

struct fid_entry *fid_by_inode(struct venus *v, const struct stat *st)
{
	struct fid_ino k;
	struct CodaFid fid;
	struct fid_entry *e;

	ino_key(st, &k);
	fid_of_inode(&k, &fid);
	e = fid_find(v, &fid);
	return e && ikey_eq(&e->ikey, &k) ? e : alias_find(v->inodes, &k);
}

/* e is found by the inode of st from now on. */
static int fid_hash_ino(struct venus *v, struct fid_entry *e, const struct stat *st)
{
	int err;

	ino_key(st, &e->ikey);
	if (fid_inode_made(e))
		return 0;
	err = alias_add(&v->inodes, &e->ikey, e);
	if (err)
		memset(&e->ikey, 0, sizeof(e->ikey));
	return err;
}

/* e is found by no inode: gone. */
static void fid_unhash_ino(struct venus *v, struct fid_entry *e)
{
	if (fid_gone(e))
		return;
	if (!fid_inode_made(e))
		alias_del(&v->inodes, &e->ikey);
	memset(&e->ikey, 0, sizeof(e->ikey));
}

static void fid_unhash_number(struct venus *v, struct fid_entry *e)
{
	struct fid_ino k;

	number_key(e, &k);
	if (!fid_number_own(v, e))
		alias_del(&v->numbers, &k);
}

const struct fid_extra fid_extra_none;

struct fid_extra *fid_extra(struct fid_entry *e)
{
	if (!e->x) {
		e->x = calloc(1, sizeof(*e->x));
		/* A directory's first container of the run is built afresh:
		 * one left by an earlier run may predate a change made within
		 * its tick. */
		if (e->x)
			e->x->gen = 1;
	}
	return e->x;
}

static void fid_extra_free(struct fid_entry *e)
{
	if (!e->x)
		return;
	free(e->x->alt_path);
	free(e->x->dirty);
	free(e->x);
	e->x = NULL;
}

/* A directory keeps the generation its container was built at. */
void fid_extra_trim(struct fid_entry *e)
{
	const struct fid_extra *x = e->x;

	if (x && !x->alt_path && !x->opens && !x->writers && !x->dirty && !x->gen_built &&
	    !x->ctime_kept)
		fid_extra_free(e);
}

static void fid_retire(struct venus *v, const struct CodaFid *fid)
{
	struct retired_fid *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->fid = *fid;
	HASH_ADD(hh, v->retired, fid, sizeof(r->fid), r);
	if (!HASH_ADDED(hh, r))
		free(r);
}

static bool fid_retired(struct venus *v, const struct CodaFid *fid)
{
	struct retired_fid *r;

	HASH_FIND(hh, v->retired, fid, sizeof(*fid), r);
	return r != NULL;
}

static void fid_path_free(struct fid_entry *e)
{
	if (e->path != e->path_in)
		free(e->path);
}

/* e is at path (taken; NULL: unknown) from now on. */
void fid_set_path(struct fid_entry *e, char *path)
{
	fid_path_free(e);
	e->path = path;
}

static void fid_free(struct venus *v, struct fid_entry *e)
{
	fid_unhash_ino(v, e);
	fid_unhash_number(v, e);
	HASH_DEL(v->fids, e);
	fid_path_free(e);
	fid_extra_free(e);
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
	fid_set_path(e, NULL);
	if (e->x) {
		free(e->x->alt_path);
		e->x->alt_path = NULL;
	}
	if (fid_x(e)->opens || fid_x(e)->writers)
		return;
	wc_discard(v, e);
	container_drop(v, &e->fid);
	fid_retire(v, &e->fid);
	fid_free(v, e);
}

/* After a store the backing file is another inode: the fid follows it.
 * -ENOMEM leaves e found by no inode, as a gone object. */
int fid_rekey(struct venus *v, struct fid_entry *e, const struct stat *st)
{
	struct fid_entry *old = fid_by_inode(v, st);

	if (old && old != e)
		fid_drop(v, old); /* a forgotten object whose inode was reused */
	fid_unhash_ino(v, e);
	return fid_hash_ino(v, e, st);
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
		fid_set_path(e, path);
	} else if (!fid_x(e)->alt_path && fid_extra(e)) {
		e->x->alt_path = path;
	} else {
		free(path);
	}
}

/* e, found by its inode, joins v's fids; -ENOMEM leaves it found by none. */
static int fid_add(struct venus *v, struct fid_entry *e)
{
	HASH_ADD(hh, v->fids, fid, sizeof(e->fid), e);
	if (HASH_ADDED(hh, e))
		return 0;
	fid_unhash_ino(v, e);
	return -ENOMEM;
}

/* Records the fid of the object found at `path`; takes path. */
int fid_enter(struct venus *v, const struct stat *st, char *path, struct fid_entry **ep)
{
	struct fid_entry *e = fid_by_inode(v, st);
	struct fid_ino k;
	int err = 0;

	if (e) {
		fid_name_found(v, e, path);
		*ep = e;
		return 0;
	}
	e = calloc(1, sizeof(*e) + strlen(path) + 1);
	if (!e) {
		free(path);
		return -ENOMEM;
	}
	strcpy(e->path_in, path);
	free(path);
	fid_alloc(v, st, &e->fid);
	number_key(e, &k);
	if (!fid_number_own(v, e))
		err = alias_add(&v->numbers, &k, e);
	if (!err) {
		err = fid_hash_ino(v, e, st);
		if (!err)
			err = fid_add(v, e);
		if (err)
			fid_unhash_number(v, e);
	}
	if (err) {
		free(e);
		return err;
	}
	e->path = e->path_in;
	*ep = e;
	return 0;
}

/* path, if it is `from` or below it, moved to `to`: in *moved, else NULL. */
static int path_moved(const char *path, const char *from, size_t flen, const char *to, char **moved)
{
	*moved = NULL;
	if (!path || strncmp(path, from, flen) != 0 || (path[flen] != '\0' && path[flen] != '/'))
		return 0;
	if (asprintf(moved, "%s%s", to, path + flen) < 0) {
		*moved = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* A rename moved `from` to `to`: every entry at or below it moves along,
 * by either of its names. */
int fid_moved(struct venus *v, const char *from, const char *to)
{
	size_t flen = strlen(from);
	struct fid_entry *e, *tmp;
	char *path, *alt;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		if (e == v->root)
			continue;
		if (path_moved(e->path, from, flen, to, &path) < 0 ||
		    path_moved(fid_x(e)->alt_path, from, flen, to, &alt) < 0) {
			free(path);
			return -ENOMEM;
		}
		if (path)
			fid_set_path(e, path);
		if (alt) {
			free(e->x->alt_path);
			e->x->alt_path = alt;
		}
	}
	return 0;
}

/* Venus changed the directory at path: its container is stale now. */
void fid_listing_changed(struct fid_entry *e)
{
	/* Without an extra, no container of it was built in this run. */
	if (e->x)
		e->x->gen++;
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
	v->vol_id = volume_id(st.st_dev);
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

	/* Not retired: the run is over, and no fid is given out again. */
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

	if (!e || fid_gone(e) || !e->path)
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

/* Through the directory's own kept fd, whose inode and place are checked
 * (one look at where it is per upcall), rather than a stat of its path from
 * its parent's: the lookup, creation or removal in it that follows then
 * needs no other look. */
int fid_dir(struct venus *v, const struct CodaFid *fid, struct fid_entry **ep, struct stat *st)
{
	struct fid_entry *e = fid_find(v, fid);
	int fd = e && !fid_gone(e) && e->path ? beneath_dir_kept(v, e) : -1;
	struct stat own;
	int err;

	if (fd >= 0 && (!st || fstat(fd, st) == 0)) {
		*ep = e;
		return 0;
	}
	if (!st)
		st = &own;
	err = fid_stat(v, fid, ep, st);
	return err ? err : S_ISDIR(st->st_mode) ? 0 : -ENOTDIR;
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
			return coda_fid_ino(&e->fid);
		fid_make(&st, &fid);
		if (fid_usable(v, &fid))
			return coda_fid_ino(&fid);
	}
	err = fid_child(v, dir, name, &e, &st);
	if (!err)
		return coda_fid_ino(&e->fid);
	if (err == -ENOENT)
		return 0; /* gone since the readdir: an empty slot */
	/* Out of venus's reach (a path too long): no lookup finds it either. */
	return ino_fold(d_ino) ? ino_fold(d_ino) : 1;
}
