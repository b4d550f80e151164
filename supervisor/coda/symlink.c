#include "symlink.h"
#include "trap/call.h"
#include "super.h"
#include "upcall.h"

ssize_t coda_readlink(struct call *c, const struct CodaFid *fid, char *buf, size_t cap)
{
	struct coda_caches *caches = &c->sup->sb.caches;
	struct coda_caller who;
	ssize_t n = cache_link_get(caches, fid, buf, cap);
	int rc;

	if (n >= 0)
		return n;
	rc = call_caller(c, &who);
	if (rc < 0)
		return rc;
	n = venus_readlink(c->task, &who, fid, buf, cap);
	if (n >= 0)
		cache_link_put(caches, fid, buf, (size_t)n);
	return n;
}
