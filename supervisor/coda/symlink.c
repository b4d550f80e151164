/* Symbolic links, as fs/coda/symlink.c: targets read through the cache. */
#include "cache.h"
#include "coda.h"
#include "psdev.h"
#include "upcall.h"

ssize_t coda_get_link(struct coda_req *r, const struct CodaFid *fid, char *buf, size_t cap)
{
	struct coda_caches *caches = &r->sb->caches;
	struct coda_caller who;
	ssize_t n = cache_link_get(caches, fid, buf, cap);
	int rc;

	if (n >= 0)
		return n;
	rc = coda_caller(r, &who);
	if (rc < 0)
		return rc;
	n = venus_readlink(r, &who, fid, buf, cap);
	if (n >= 0)
		cache_link_put(caches, fid, buf, (size_t)n);
	return n;
}
