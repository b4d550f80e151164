/* Symbolic links, as fs/coda/symlink.c: targets read through the cache. */
#ifndef CODA_SYMLINK_H
#define CODA_SYMLINK_H

#include <sys/types.h>

#include "coda_wire.h"

struct call;

/* Fills buf with the target (not NUL-terminated); returns its length. */
ssize_t coda_readlink(struct call *c, const struct CodaFid *fid, char *buf, size_t cap);

#endif
