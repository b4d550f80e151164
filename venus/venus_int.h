/* Internals of the embedded venus, shared by its files and nothing else.
 *
 * One struct venus holds all mutable state; every function takes it. Errors
 * travel as negative errno values and become a reply's positive result only
 * at the dispatcher, as in venus and the kernel's fs/coda. */
#ifndef CODA_VENUS_INT_H
#define CODA_VENUS_INT_H

#include <sys/stat.h>
#include <uthash.h>

#include "msg.h"
#include "venus.h"

/* opaque[0] of every fid we hand out: no realms here, but keep the slot fixed. */
#define VENUS_REALM 0x7f000001u

/* A cnode, as much of one as the read path needs. */
struct fid_entry {
	struct CodaFid fid; /* hash key */
	char *path;	    /* backing object relative to the volume root; "." is the root */
	unsigned int opens; /* CODA_OPEN_* not yet matched by CODA_CLOSE */
	UT_hash_handle hh;
};

struct uid_groups; /* access.c */

struct venus {
	const struct venus_config *cfg;
	int vol_fd;	  /* O_PATH fd of the volume root: every backing path is relative to it */
	int cache_fd;	  /* the cache directory, holding one container per fid */
	char *cache_path; /* absolute, for CODA_OPEN_BY_PATH replies */
	unsigned long tmp_seq;
	struct fid_entry *fids;
	struct fid_entry *root;
	struct uid_groups *groups;
	struct coda_msg in, out;
};

/* fid.c: the fid table and the backing objects behind it. */
int fid_init(struct venus *v);
void fid_fini(struct venus *v);
void fid_make(const struct stat *st, struct CodaFid *fid);
struct fid_entry *fid_find(struct venus *v, const struct CodaFid *fid);
void fid_format(const struct CodaFid *fid, char *buf, size_t len);
int fid_stat(struct venus *v, const struct CodaFid *fid, struct fid_entry **ep, struct stat *st);
int fid_child(struct venus *v, struct fid_entry *dir, const char *name, struct fid_entry **ep,
	      struct stat *st);
bool fid_matches(const struct fid_entry *e, const struct stat *st);
#define FID_STR_LEN 40

/* attr.c: backing attributes in Coda's terms. */
int attr_vtype(mode_t mode);
void attr_fill(const struct stat *st, struct coda_vattr *va);

/* access.c: mode-bit permission checks for the calling uid. */
int access_check(struct venus *v, uid_t uid, const struct stat *st, int mask);
void access_fini(struct venus *v);

/* container.c: whole-file copies handed to the supervisor. */
int container_init(struct venus *v);
int container_open(struct venus *v, struct fid_entry *e, const struct stat *st, int *fdp);
void container_name(const struct CodaFid *fid, char *buf, size_t len);

/* vnops.c: one handler per upcall; reply already initialised for success. */
typedef int (*vnop_fn)(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_root(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_lookup(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_getattr(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_vget(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_access(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_open_by_fd(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_open_by_path(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_close(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_readlink(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_statfs(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_access_intent(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_rofs(struct venus *v, const struct coda_msg *in, struct coda_msg *out);

#endif
