/* Conversions used inside the module (the others are in coda.h). */
#ifndef CODA_CODA_LINUX_H
#define CODA_CODA_LINUX_H

#include "coda.h"

/* The Coda open flags of an open(2), as the kernel's coda_flags_to_cflags. */
int coda_flags_to_cflags(int flags);

/* A GETATTR through the cache, for a caller named by who (a waiter working
 * for a program, as read-ahead's; NULL for r's own). */
int coda_getattr_as(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		    struct coda_vattr *attr);

#endif
