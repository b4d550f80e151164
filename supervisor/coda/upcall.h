/* The venus calls, one function each, as fs/coda/upcall.c: build the message,
 * send it, check the reply. Each returns 0 or a negative errno. */
#ifndef CODA_UPCALL_H
#define CODA_UPCALL_H

#include <stddef.h>
#include <sys/types.h>

#include "coda.h"

int venus_root(struct coda_req *r, const struct coda_caller *who, struct CodaFid *fid);
int venus_getattr(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		  struct coda_vattr *attr);
/* What the embedded venus puts after its LOOKUP reply (proto/coda_wire.h):
 * the object's attributes and the caller's rights on it. */
struct lookup_tail {
	bool present;
	struct coda_vattr attr;
	int rights;
};

int venus_lookup(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		 const char *name, size_t len, struct CodaFid *fid, int *vtype,
		 struct lookup_tail *tail);
int venus_access(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		 int mask);
/* The container fd venus passed (ours to close). */
/* CODA_OPEN_BY_FD: the open file in *fd, and where the container is in
 * *path (malloc'd) when venus says so after its reply (the embedded venus,
 * struct coda_open_by_fd_path_out), else NULL. */
int venus_open(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
	       int cflags, int *fd, char **path);
/* The container's path as venus names it (relative to venus's cwd, or
 * absolute), NUL-terminated in path. */
int venus_open_by_path(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		       int cflags, char *path, size_t cap);
int venus_close(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		int cflags);
/* Fills buf (not NUL-terminated) and returns the length. */
ssize_t venus_readlink(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		       char *buf, size_t cap);
int venus_statfs(struct coda_req *r, const struct coda_caller *who, struct coda_statfs *st);

int venus_create(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		 const char *name, size_t len, int excl, int mode, struct CodaFid *fid,
		 struct coda_vattr *attr);
int venus_mkdir(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		const char *name, size_t len, int mode, struct CodaFid *fid,
		struct coda_vattr *attr);
int venus_remove(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		 const char *name, size_t len);
int venus_rmdir(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		const char *name, size_t len);
int venus_rename(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *from_dir,
		 const char *from, size_t from_len, const struct CodaFid *to_dir, const char *to,
		 size_t to_len);
int venus_link(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
	       const struct CodaFid *dir, const char *name, size_t len);
int venus_symlink(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		  const char *name, size_t len, const char *target, size_t target_len);
int venus_setattr(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		  const struct coda_vattr *attr);
int venus_fsync(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid);

#endif
