#include <stdlib.h>
#include <uthash.h>

#include "cache.h"

/* Past this many entries everything is dropped: venus is asked again. */
#define CACHE_MAX_ENTRIES 262144

struct name_key {
	struct CodaFid dir;
	char name[CODA_MAXNAMLEN + 1];
};

struct name_entry {
	struct name_key key;
	struct CodaFid fid;
	int vtype;
	UT_hash_handle hh;
};

struct attr_entry {
	struct CodaFid fid;
	struct coda_vattr attr;
	UT_hash_handle hh;
};

struct access_key {
	struct CodaFid fid;
	uid_t uid;
};

struct access_entry {
	struct access_key key;
	int granted;
	UT_hash_handle hh;
};

struct link_entry {
	struct CodaFid fid;
	size_t len;
	char *target;
	UT_hash_handle hh;
};

static size_t name_keylen(size_t len)
{
	return offsetof(struct name_key, name) + len;
}

/* Called before an entry is added, so a flush never frees the new one. */
static void make_room(struct coda_caches *c)
{
	if (c->count >= CACHE_MAX_ENTRIES)
		cache_flush(c);
	c->count++;
}

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

static void drop_name(struct coda_caches *c, const struct name_key *key, size_t len)
{
	struct name_entry *old;

	HASH_FIND(hh, c->names, key, name_keylen(len), old);
	if (old) {
		HASH_DEL(c->names, old);
		free(old);
		c->count--;
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
	struct name_entry *e;

	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->key.dir = *dir;
	memcpy(e->key.name, name, len);
	e->fid = *fid;
	e->vtype = vtype;
	drop_name(c, &e->key, len);
	make_room(c);
	HASH_ADD_KEYPTR(hh, c->names, &e->key, name_keylen(len), e);
}

bool cache_attr_get(struct coda_caches *c, const struct CodaFid *fid, struct coda_vattr *attr)
{
	struct attr_entry *e;

	HASH_FIND(hh, c->attrs, fid, sizeof(*fid), e);
	if (!e)
		return false;
	*attr = e->attr;
	return true;
}

void cache_attr_put(struct coda_caches *c, const struct CodaFid *fid, const struct coda_vattr *attr)
{
	struct attr_entry *e;

	HASH_FIND(hh, c->attrs, fid, sizeof(*fid), e);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->fid = *fid;
		make_room(c);
		HASH_ADD(hh, c->attrs, fid, sizeof(e->fid), e);
	}
	e->attr = *attr;
}

static struct access_entry *access_find(struct coda_caches *c, const struct CodaFid *fid, uid_t uid)
{
	struct access_key key;
	struct access_entry *e;

	memset(&key, 0, sizeof(key));
	key.fid = *fid;
	key.uid = uid;
	HASH_FIND(hh, c->access, &key, sizeof(key), e);
	return e;
}

bool cache_access_ok(struct coda_caches *c, const struct CodaFid *fid, uid_t uid, int mask)
{
	struct access_entry *e = access_find(c, fid, uid);

	return e && (e->granted & mask) == mask;
}

void cache_access_grant(struct coda_caches *c, const struct CodaFid *fid, uid_t uid, int mask)
{
	struct access_entry *e = access_find(c, fid, uid);

	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->key.fid = *fid;
		e->key.uid = uid;
		make_room(c);
		HASH_ADD(hh, c->access, key, sizeof(e->key), e);
	}
	e->granted |= mask;
}

ssize_t cache_link_get(struct coda_caches *c, const struct CodaFid *fid, char *buf, size_t cap)
{
	struct link_entry *e;

	HASH_FIND(hh, c->links, fid, sizeof(*fid), e);
	if (!e || e->len > cap)
		return -1;
	memcpy(buf, e->target, e->len);
	return (ssize_t)e->len;
}

void cache_link_put(struct coda_caches *c, const struct CodaFid *fid, const char *target,
		    size_t len)
{
	struct link_entry *e;

	HASH_FIND(hh, c->links, fid, sizeof(*fid), e);
	if (e)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->target = malloc(len ? len : 1);
	if (!e->target) {
		free(e);
		return;
	}
	memcpy(e->target, target, len);
	e->len = len;
	e->fid = *fid;
	make_room(c);
	HASH_ADD(hh, c->links, fid, sizeof(e->fid), e);
}

void cache_attr_drop(struct coda_caches *c, const struct CodaFid *fid)
{
	struct attr_entry *a;
	struct link_entry *l;
	struct access_entry *e, *tmp;

	HASH_FIND(hh, c->attrs, fid, sizeof(*fid), a);
	if (a) {
		HASH_DEL(c->attrs, a);
		free(a);
	}
	HASH_FIND(hh, c->links, fid, sizeof(*fid), l);
	if (l) {
		HASH_DEL(c->links, l);
		free(l->target);
		free(l);
	}
	HASH_ITER(hh, c->access, e, tmp)
	{
		if (coda_fid_eq(&e->key.fid, fid)) {
			HASH_DEL(c->access, e);
			free(e);
		}
	}
}

/* Drops the names in directory `dir`, and with `also_target` the names that
 * lead to it, so the next lookup asks venus. */
static void drop_names(struct coda_caches *c, const struct CodaFid *dir, bool also_target)
{
	struct name_entry *e, *tmp;

	HASH_ITER(hh, c->names, e, tmp)
	{
		if (coda_fid_eq(&e->key.dir, dir) || (also_target && coda_fid_eq(&e->fid, dir))) {
			HASH_DEL(c->names, e);
			free(e);
		}
	}
}

/* Every user's access rights, as the kernel's coda_cache_clear_all(). */
static void drop_all_access(struct coda_caches *c)
{
	struct access_entry *e, *etmp;

	HASH_ITER(hh, c->access, e, etmp)
	{
		HASH_DEL(c->access, e);
		free(e);
	}
}

void cache_flush(struct coda_caches *c)
{
	struct name_entry *n, *ntmp;
	struct attr_entry *a, *atmp;
	struct link_entry *l, *ltmp;

	HASH_ITER(hh, c->names, n, ntmp)
	{
		HASH_DEL(c->names, n);
		free(n);
	}
	HASH_ITER(hh, c->attrs, a, atmp)
	{
		HASH_DEL(c->attrs, a);
		free(a);
	}
	drop_all_access(c);
	HASH_ITER(hh, c->links, l, ltmp)
	{
		HASH_DEL(c->links, l);
		free(l->target);
		free(l);
	}
	c->count = 0;
}

void coda_cache_downcall(struct coda_caches *c, const struct coda_msg *m)
{
	if (m->len < coda_reply_size(m->oh.opcode))
		return;
	switch (m->oh.opcode) {
	case CODA_FLUSH:
	case CODA_REPLACE: /* fids change under every name: ask again */
		cache_flush(c);
		break;
	case CODA_PURGEUSER: /* a user's tokens went: rights, not names */
		drop_all_access(c);
		break;
	case CODA_ZAPFILE:
		cache_attr_drop(c, &m->out.coda_zapfile.CodaFid);
		break;
	case CODA_ZAPDIR:
		cache_attr_drop(c, &m->out.coda_zapdir.CodaFid);
		drop_names(c, &m->out.coda_zapdir.CodaFid, false);
		break;
	case CODA_PURGEFID:
		cache_attr_drop(c, &m->out.coda_purgefid.CodaFid);
		drop_names(c, &m->out.coda_purgefid.CodaFid, true);
		break;
	}
}
