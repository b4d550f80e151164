/* The supervisor's caches of what venus said, as the kernel keeps them in its
 * dcache, inodes and fs/coda/cache.c: names (positive and negative), object
 * attributes, symlink targets and access rights per user. All of it stays
 * valid until venus says otherwise with a downcall. */
#ifndef CODA_CACHE_H
#define CODA_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "coda.h"

/* Name cache: 1 hit (fid/vtype set; vtype C_VNON for a cached "no such
 * entry"), 0 miss. */
int cache_name_get(struct coda_caches *c, const struct CodaFid *dir, const char *name, size_t len,
		   struct CodaFid *fid, int *vtype);
void cache_name_put(struct coda_caches *c, const struct CodaFid *dir, const char *name, size_t len,
		    const struct CodaFid *fid, int vtype);

/* Forgets what is known of fid's attributes and link target (the kernel's
 * C_VATTR: its access rights stay, as the kernel's do). */
void cache_attr_drop(struct coda_caches *c, const struct CodaFid *fid);

void cache_name_drop(struct coda_caches *c, const struct CodaFid *dir, const char *name,
		     size_t len);

bool cache_attr_get(struct coda_caches *c, const struct CodaFid *fid, struct coda_vattr *attr);
void cache_attr_put(struct coda_caches *c, const struct CodaFid *fid,
		    const struct coda_vattr *attr);
/* Which put made fid's cached attributes, never the same twice (keep.h);
 * 0 when none are cached. */
uint32_t cache_attr_version(struct coda_caches *c, const struct CodaFid *fid);

/* Access cache: the rights (C_A_* bits) known granted to uid on fid. */
bool cache_access_ok(struct coda_caches *c, const struct CodaFid *fid, uid_t uid, int mask);
void cache_access_grant(struct coda_caches *c, const struct CodaFid *fid, uid_t uid, int mask);
/* Forgets every user's rights on fid (coda_cache_clear_inode). */
void cache_access_drop(struct coda_caches *c, const struct CodaFid *fid);

/* Symlink targets: the length, or -1 when not cached. */
ssize_t cache_link_get(struct coda_caches *c, const struct CodaFid *fid, char *buf, size_t cap);
void cache_link_put(struct coda_caches *c, const struct CodaFid *fid, const char *target,
		    size_t len);

void cache_flush(struct coda_caches *c);

/* Something kept may no longer hold: tells c->changed. */
void cache_changed(struct coda_caches *c);

/* What a downcall made stale of the objects themselves: nothing, the one
 * at *fid, or every one. */
enum coda_stale { CODA_STALE_NONE, CODA_STALE_FID, CODA_STALE_ALL };

/* A downcall from venus (CODA_FLUSH, PURGEUSER, ZAPFILE, ZAPDIR, PURGEFID,
 * REPLACE), applied with the kernel's semantics; what it made stale. */
enum coda_stale coda_cache_downcall(struct coda_caches *c, const struct coda_msg *m,
				    struct CodaFid *fid);

#endif
