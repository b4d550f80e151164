/* Directories, as fs/coda/dir.c: name lookup through the name cache,
 * permission checks through the access cache, and getdents64 served from the
 * venus_dirent container. */
#ifndef CODA_DIR_H
#define CODA_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coda_wire.h"

struct call;
struct coda_file;

/* -ENOENT when there is no such name (cached as the kernel's negative dentry). */
int coda_lookup(struct call *c, const struct CodaFid *dir, const char *name, size_t len,
		struct CodaFid *fid, int *vtype);

/* mask: C_A_R_OK | C_A_W_OK | C_A_X_OK, for the caller's fsuid. */
int coda_permission(struct call *c, const struct CodaFid *fid, int mask);

/* Namespace changes, as fs/coda/dir.c makes them: the venus call, then the
 * caches brought up to date so that the next lookup and stat are right. */
int coda_create(struct call *c, const struct CodaFid *dir, const char *name, int excl, mode_t mode,
		struct CodaFid *fid);
int coda_mkdir(struct call *c, const struct CodaFid *dir, const char *name, mode_t mode);
int coda_symlink(struct call *c, const struct CodaFid *dir, const char *name, const char *target);
int coda_link(struct call *c, const struct CodaFid *fid, const struct CodaFid *dir,
	      const char *name);
int coda_unlink(struct call *c, const struct CodaFid *dir, const char *name,
		const struct CodaFid *victim);
int coda_rmdir(struct call *c, const struct CodaFid *dir, const char *name,
	       const struct CodaFid *victim);
int coda_rename(struct call *c, const struct CodaFid *from_dir, const char *from,
		const struct CodaFid *moved, const struct CodaFid *to_dir, const char *to,
		const struct CodaFid *replaced);

/* getdents64 on an open /coda directory: fills up to count bytes of linux
 * dirents at addr in the target; returns the bytes written or -errno. */
long coda_getdents64(struct call *c, struct coda_file *f, uint64_t addr, size_t count);

#endif
