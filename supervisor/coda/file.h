/* Open /coda files, as fs/coda/file.c: the container venus hands over is
 * injected into the target; the supervisor keeps what it needs to answer fd
 * calls on it (fstat, getdents64, fchdir, *at calls). */
#ifndef CODA_FILE_H
#define CODA_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "coda_wire.h"

struct call;

struct coda_file {
	int refs;
	struct CodaFid fid;
	int vtype;
	int flags;   /* the target's open flags */
	int host_fd; /* our copy of the target's open file (shared offset) */
	dev_t cdev;  /* the container, to recognise the target's fd later */
	ino_t cino;
	char *path; /* absolute path of the object, for getcwd after fchdir */
	/* A reader's open of venus: its last release is a CODA_CLOSE, as
	 * coda_release() sends (writers' go through release.c). */
	struct sup *sup;
	bool venus_reader;
	struct coda_caller who;
	int cflags;
};

/* What the /coda files put into bands lately were, by container: an fd in
 * flight over a Unix socket outlives its sender's fd and record, and its
 * receiver must still learn what it is. The newest first. */
#define CODA_FILE_MEMOS 256
struct coda_file_memo {
	struct CodaFid fid;
	int vtype;
	int flags;
	dev_t cdev;
	ino_t cino;
	char *path; /* NULL: a free entry */
};
struct coda_file_memos {
	struct coda_file_memo ring[CODA_FILE_MEMOS];
	unsigned next;
};

/* A new record of the object a memo names, opened as `container`; NULL when
 * no memo names that container. */
struct coda_file *coda_file_recall(struct coda_file_memos *m, int container);
void coda_file_memos_free(struct coda_file_memos *m);

struct coda_file *coda_file_get(struct coda_file *f);
void coda_file_put(struct coda_file *f);

/* Opens the object at fid (path for later getcwd) for the target with its
 * flags and injects it into the band; answers the call. */
void coda_open(struct call *c, const struct CodaFid *fid, int vtype, const char *path, int flags);

/* Puts the open file src (of f) into the target as its call's result: at
 * newfd (as dup2 does), or in the band when newfd < 0. Returns the target's
 * fd or -errno. */
int coda_file_install(struct call *c, struct coda_file *f, int src, int newfd, bool cloexec);

/* The same, adding the fd to the target (in the band) without answering its
 * call: one of several fds a call hands over (recvmsg). */
int coda_file_add(struct call *c, struct coda_file *f, int src, bool cloexec);

/* A record of the object at fid (path for getcwd) opened with flags as the
 * open file `container`, of which it keeps a copy where it needs one. */
struct coda_file *coda_file_new(const struct CodaFid *fid, int vtype, const char *path, int flags,
				int container);

/* The /coda file behind target fd `fd`, or NULL when it is not one. */
struct coda_file *coda_file_lookup(struct call *c, long fd);

#endif
