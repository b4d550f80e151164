/* Coda objects and their attributes, as fs/coda/inode.c and coda_linux.c:
 * the root fid, getattr through the attribute cache, and the conversions of
 * struct coda_vattr into what stat, statx and statfs return. */
#ifndef CODA_INODE_H
#define CODA_INODE_H

#include <sys/stat.h>
#include <sys/statfs.h>

#include "coda_wire.h"

struct call;
struct coda_sb;

int coda_root(struct call *c, struct CodaFid *root);
int coda_getattr(struct call *c, const struct CodaFid *fid, struct coda_vattr *attr);

/* CODA_SETATTR of the fields set in attr (the others all ones), then the
 * cached attributes forgotten; and CODA_FSYNC. */
int coda_setattr(struct call *c, const struct CodaFid *fid, const struct coda_vattr *attr);
int coda_fsync(struct call *c, const struct CodaFid *fid);

/* The S_IF* type of a vnode type, 0 if it is not one. */
mode_t coda_vtype_to_mode(long vtype);

void coda_attr_to_stat(const struct coda_sb *sb, const struct CodaFid *fid,
		       const struct coda_vattr *a, struct stat *st);
void coda_attr_to_statx(const struct coda_sb *sb, const struct CodaFid *fid,
			const struct coda_vattr *a, struct statx *stx);
void coda_statfs_to_statfs(const struct coda_statfs *cs, struct statfs *st);

#endif
