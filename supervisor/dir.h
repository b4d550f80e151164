/* Directories, as fs/coda/dir.c: name lookup through the name cache,
 * permission checks through the access cache, and getdents64 served from the
 * venus_dirent container. */
#ifndef CODA_DIR_H
#define CODA_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "coda_wire.h"

struct call;
struct coda_file;

/* -ENOENT when there is no such name (cached as the kernel's negative dentry). */
int coda_lookup(struct call *c, const struct CodaFid *dir, const char *name, size_t len,
		struct CodaFid *fid, int *vtype);

/* mask: C_A_R_OK | C_A_W_OK | C_A_X_OK, for the caller's fsuid. */
int coda_permission(struct call *c, const struct CodaFid *fid, int mask);

/* getdents64 on an open /coda directory: fills up to count bytes of linux
 * dirents at addr in the target; returns the bytes written or -errno. */
long coda_getdents64(struct call *c, struct coda_file *f, uint64_t addr, size_t count);

#endif
