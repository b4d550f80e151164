#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "proto/hash.h"

/* Entries one table keeps (names; objects' attributes, rights and link
 * targets): about 3.5 MiB of names and 7 MiB of objects at most. */
#define CACHE_MAX_PER_TABLE 32768

/* The key of a name: its directory's fid and the name's bytes, laid out
 * alike in a lookup's key on the stack and in an entry, which allocates
 * only the name's length. */
struct name_key {
	struct CodaFid dir;
	char name[CODA_MAXNAMLEN + 1];
};

struct name_entry {
	UT_hash_handle hh;
	struct CodaFid fid;
	int vtype;
	struct CodaFid dir; /* the key starts here: dir, then name */
	char name[];
};

/* What a cached attribute keeps of a coda_vattr: every field a stat or a
 * permission check reads, packed (the type is a known vtype, or it is not
 * cached). va_gen, va_flags and va_filerev, which nothing reads, come back
 * 0: kept, they would make an entry a quarter bigger. Nanoseconds, the
 * block size and rdev are kept in 32 bits, which hold every value a kernel
 * gives; an attribute whose values do not fit is not cached (attr_fits),
 * so a cached answer is always venus's own. */
struct attr_kept {
	int64_t atime_sec, mtime_sec, ctime_sec;
	long fileid;
	u_quad_t size, bytes;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec;
	uint32_t blocksize, rdev;
	vuid_t uid;
	vgid_t gid;
	u_short mode;
	short nlink;
	unsigned char type;
};

/* The rights a few users were granted: the kernel keeps one user's per
 * inode; a handful serves a job whose processes change uid. */
#define ACCESS_USERS 4

/* What is known of one object, as the kernel keeps it in the inode and its
 * coda_inode_info: the attributes (C_VATTR), the rights of a few users
 * (c_cached_perm) and a symlink's target (its page). One entry, one hash
 * handle, per object; an entry that holds none of them goes. */
struct cnode_entry {
	UT_hash_handle hh;
	struct CodaFid fid;
	struct attr_kept attr;
	uint32_t version; /* which put made attr (cache_attr_version); 0: none */
	unsigned next;	  /* the rights slot a new user takes */
	struct {
		uid_t uid;
		int granted; /* 0: a free slot */
	} user[ACCESS_USERS];
	char *link; /* NULL: not kept */
	size_t link_len;
};

static size_t name_keylen(size_t len)
{
	return sizeof(struct CodaFid) + len;
}

static void cnode_free(struct cnode_entry *e)
{
	free(e->link);
	free(e);
}

/* Adds entry e to table `head` under its key. A full table loses its oldest
 * entry first, as the kernel's dcache and inode cache shrink (what is wanted
 * again is asked again), so that memory stays bounded however many objects a
 * run walks. An entry the table has no memory for is released and e set
 * NULL: what is not cached is asked again too. */
#define CACHE_ADD(c, head, key, keylen, e, release)                                                \
	do {                                                                                       \
		if (HASH_COUNT(head) >= CACHE_MAX_PER_TABLE) {                                     \
			__typeof__(head) oldest_ = (head);                                         \
			HASH_DEL(head, oldest_);                                                   \
			release(oldest_);                                                          \
			(c)->count--;                                                              \
		}                                                                                  \
		HASH_ADD_KEYPTR(hh, head, key, keylen, e);                                         \
		if (HASH_ADDED(hh, e)) {                                                           \
			(c)->count++;                                                              \
		} else {                                                                           \
			release(e);                                                                \
			(e) = NULL;                                                                \
		}                                                                                  \
	} while (0)

int cache_name_get(struct coda_caches *c, const struct CodaFid *dir, const char *name, size_t len,
		   struct CodaFid *fid, int *vtype)
{
	struct name_key key;
	struct name_entry *e;

	key.dir = *dir;
	memcpy(key.name, name, len);
	HASH_FIND(hh, c->names, &key, name_keylen(len), e);
	if (!e)
		return 0;
	*fid = e->fid;
	*vtype = e->vtype;
	return 1;
}

void cache_changed(struct coda_caches *c)
{
	if (c->changed)
		c->changed(c->changed_arg);
}

static void drop_name(struct coda_caches *c, const struct name_key *key, size_t len)
{
	struct name_entry *old;

	HASH_FIND(hh, c->names, key, name_keylen(len), old);
	if (old) {
		HASH_DEL(c->names, old);
		free(old);
		c->count--;
		cache_changed(c);
	}
}

void cache_name_drop(struct coda_caches *c, const struct CodaFid *dir, const char *name, size_t len)
{
	struct name_key key;

	key.dir = *dir;
	memcpy(key.name, name, len);
	drop_name(c, &key, len);
}

void cache_name_put(struct coda_caches *c, const struct CodaFid *dir, const char *name, size_t len,
		    const struct CodaFid *fid, int vtype)
{
	struct name_key key;
	struct name_entry *e;

	key.dir = *dir;
	memcpy(key.name, name, len);
	drop_name(c, &key, len);
	e = malloc(sizeof(*e) + len);
	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->fid = *fid;
	e->vtype = vtype;
	e->dir = *dir;
	memcpy(e->name, name, len);
	CACHE_ADD(c, c->names, &e->dir, name_keylen(len), e, free);
}

static bool fits_32(unsigned long v)
{
	return v <= UINT32_MAX;
}

static bool attr_fits(const struct coda_vattr *a)
{
	return fits_32((unsigned long)a->va_atime.tv_nsec) &&
	       fits_32((unsigned long)a->va_mtime.tv_nsec) &&
	       fits_32((unsigned long)a->va_ctime.tv_nsec) &&
	       fits_32((unsigned long)a->va_blocksize) && fits_32(a->va_rdev);
}

static void attr_pack(struct attr_kept *k, const struct coda_vattr *a)
{
	k->atime_sec = a->va_atime.tv_sec;
	k->mtime_sec = a->va_mtime.tv_sec;
	k->ctime_sec = a->va_ctime.tv_sec;
	k->atime_nsec = (uint32_t)a->va_atime.tv_nsec;
	k->mtime_nsec = (uint32_t)a->va_mtime.tv_nsec;
	k->ctime_nsec = (uint32_t)a->va_ctime.tv_nsec;
	k->fileid = a->va_fileid;
	k->blocksize = (uint32_t)a->va_blocksize;
	k->size = a->va_size;
	k->bytes = a->va_bytes;
	k->rdev = (uint32_t)a->va_rdev;
	k->uid = a->va_uid;
	k->gid = a->va_gid;
	k->mode = a->va_mode;
	k->nlink = a->va_nlink;
	k->type = (unsigned char)a->va_type;
}

static void attr_unpack(struct coda_vattr *a, const struct attr_kept *k)
{
	memset(a, 0, sizeof(*a));
	a->va_atime = (struct coda_timespec){k->atime_sec, k->atime_nsec};
	a->va_mtime = (struct coda_timespec){k->mtime_sec, k->mtime_nsec};
	a->va_ctime = (struct coda_timespec){k->ctime_sec, k->ctime_nsec};
	a->va_fileid = k->fileid;
	a->va_blocksize = k->blocksize;
	a->va_size = k->size;
	a->va_bytes = k->bytes;
	a->va_rdev = k->rdev;
	a->va_uid = k->uid;
	a->va_gid = k->gid;
	a->va_mode = k->mode;
	a->va_nlink = k->nlink;
	a->va_type = k->type;
}

static struct cnode_entry *cnode_find(struct coda_caches *c, const struct CodaFid *fid)
{
	struct cnode_entry *e;

	HASH_FIND(hh, c->cnodes, fid, sizeof(*fid), e);
	return e;
}

/* fid's entry, made empty if there was none; NULL without memory. */
static struct cnode_entry *cnode_get(struct coda_caches *c, const struct CodaFid *fid)
{
	struct cnode_entry *e = cnode_find(c, fid);

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fid = *fid;
	CACHE_ADD(c, c->cnodes, &e->fid, sizeof(e->fid), e, cnode_free);
	return e;
}

static bool cnode_holds_rights(const struct cnode_entry *e)
{
	for (int i = 0; i < ACCESS_USERS; i++)
		if (e->user[i].granted)
			return true;
	return false;
}

/* e goes once it holds nothing. */
static void cnode_trim(struct coda_caches *c, struct cnode_entry *e)
{
	if (e->version || e->link || cnode_holds_rights(e))
		return;
	HASH_DEL(c->cnodes, e);
	cnode_free(e);
	c->count--;
}

static void attr_forget(struct coda_caches *c, struct cnode_entry *e)
{
	e->version = 0;
	free(e->link);
	e->link = NULL;
	cnode_trim(c, e);
}

bool cache_attr_get(struct coda_caches *c, const struct CodaFid *fid, struct coda_vattr *attr)
{
	struct cnode_entry *e = cnode_find(c, fid);

	if (!e || !e->version)
		return false;
	attr_unpack(attr, &e->attr);
	return true;
}

void cache_attr_put(struct coda_caches *c, const struct CodaFid *fid, const struct coda_vattr *attr)
{
	struct cnode_entry *e = cnode_find(c, fid);
	struct attr_kept now;

	if (!attr_fits(attr)) {
		if (e && e->version) {
			e->version = 0;
			cnode_trim(c, e);
			cache_changed(c);
		}
		return;
	}
	if (!e)
		e = cnode_get(c, fid);
	if (!e)
		return;
	memset(&now, 0, sizeof(now));
	attr_pack(&now, attr);
	if (e->version && memcmp(&now, &e->attr, sizeof(now)))
		cache_changed(c);
	e->attr = now;
	/* 0 is no version: after a wrap, the count starts again at 1. */
	e->version = ++c->attr_versions ?: ++c->attr_versions;
}

uint32_t cache_attr_version(struct coda_caches *c, const struct CodaFid *fid)
{
	struct cnode_entry *e = cnode_find(c, fid);

	return e ? e->version : 0;
}

static int access_slot(const struct cnode_entry *e, uid_t uid)
{
	for (int i = 0; i < ACCESS_USERS; i++)
		if (e->user[i].granted && e->user[i].uid == uid)
			return i;
	return -1;
}

bool cache_access_ok(struct coda_caches *c, const struct CodaFid *fid, uid_t uid, int mask)
{
	struct cnode_entry *e = cnode_find(c, fid);
	int i = e ? access_slot(e, uid) : -1;

	return i >= 0 && (e->user[i].granted & mask) == mask;
}

void cache_access_grant(struct coda_caches *c, const struct CodaFid *fid, uid_t uid, int mask)
{
	struct cnode_entry *e;
	int i;

	if (!mask)
		return;
	e = cnode_get(c, fid);
	if (!e)
		return;
	i = access_slot(e, uid);
	if (i < 0) {
		i = (int)(e->next++ % ACCESS_USERS);
		e->user[i].uid = uid;
		e->user[i].granted = 0;
	}
	e->user[i].granted |= mask;
}

/* Every user's rights on e. Whether it held any. */
static bool access_forget(struct coda_caches *c, struct cnode_entry *e)
{
	bool held = cnode_holds_rights(e);

	memset(e->user, 0, sizeof(e->user));
	cnode_trim(c, e);
	return held;
}

void cache_access_drop(struct coda_caches *c, const struct CodaFid *fid)
{
	struct cnode_entry *e = cnode_find(c, fid);

	if (e && access_forget(c, e))
		cache_changed(c);
}

ssize_t cache_link_get(struct coda_caches *c, const struct CodaFid *fid, char *buf, size_t cap)
{
	struct cnode_entry *e = cnode_find(c, fid);

	if (!e || !e->link || e->link_len > cap)
		return -1;
	memcpy(buf, e->link, e->link_len);
	return (ssize_t)e->link_len;
}

void cache_link_put(struct coda_caches *c, const struct CodaFid *fid, const char *target,
		    size_t len)
{
	struct cnode_entry *e = cnode_get(c, fid);

	if (!e || e->link)
		return;
	e->link = malloc(len ? len : 1);
	if (!e->link) {
		cnode_trim(c, e);
		return;
	}
	memcpy(e->link, target, len);
	e->link_len = len;
}

void cache_attr_drop(struct coda_caches *c, const struct CodaFid *fid)
{
	struct cnode_entry *e = cnode_find(c, fid);

	c->attr_drops++;
	cache_changed(c);
	if (e)
		attr_forget(c, e);
}

/* Drops the names in directory `dir`, and with `also_target` the names that
 * lead to it, so the next lookup asks venus. */
static void drop_names(struct coda_caches *c, const struct CodaFid *dir, bool also_target)
{
	struct name_entry *e, *tmp;

	HASH_ITER(hh, c->names, e, tmp)
	{
		if (coda_fid_eq(&e->dir, dir) || (also_target && coda_fid_eq(&e->fid, dir))) {
			HASH_DEL(c->names, e);
			free(e);
			c->count--;
		}
	}
	cache_changed(c);
}

/* Every user's access rights, as the kernel's coda_cache_clear_all(). */
static void drop_all_access(struct coda_caches *c)
{
	struct cnode_entry *e, *tmp;

	HASH_ITER(hh, c->cnodes, e, tmp)
	{
		access_forget(c, e);
	}
	cache_changed(c);
}

void cache_flush(struct coda_caches *c)
{
	struct name_entry *n, *ntmp;
	struct cnode_entry *e, *etmp;

	c->attr_drops++;
	cache_changed(c);
	HASH_ITER(hh, c->names, n, ntmp)
	{
		HASH_DEL(c->names, n);
		free(n);
	}
	HASH_ITER(hh, c->cnodes, e, etmp)
	{
		HASH_DEL(c->cnodes, e);
		cnode_free(e);
	}
	c->count = 0;
}

enum coda_stale coda_cache_downcall(struct coda_caches *c, const struct coda_msg *m,
				    struct CodaFid *fid)
{
	if (m->len < coda_reply_size(m->oh.opcode))
		return CODA_STALE_NONE;
	switch (m->oh.opcode) {
	case CODA_FLUSH:
	case CODA_REPLACE: /* fids change under every name: ask again */
		cache_flush(c);
		return CODA_STALE_ALL;
	case CODA_PURGEUSER: /* a user's tokens went: rights, not names */
		drop_all_access(c);
		return CODA_STALE_NONE;
	case CODA_ZAPFILE:
		*fid = m->out.coda_zapfile.CodaFid;
		cache_attr_drop(c, fid);
		return CODA_STALE_FID;
	case CODA_ZAPDIR:
		*fid = m->out.coda_zapdir.CodaFid;
		cache_attr_drop(c, fid);
		drop_names(c, fid, false);
		return CODA_STALE_FID;
	case CODA_PURGEFID: /* the kernel's inode goes, and its rights with it */
		*fid = m->out.coda_purgefid.CodaFid;
		cache_attr_drop(c, fid);
		cache_access_drop(c, fid);
		drop_names(c, fid, true);
		return CODA_STALE_FID;
	}
	return CODA_STALE_NONE;
}
