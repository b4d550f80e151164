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

struct coda_file *coda_file_get(struct coda_file *f);
void coda_file_put(struct coda_file *f);

/* Opens the object at fid (path for later getcwd) for the target with its
 * flags and injects it into the band; answers the call. */
void coda_open(struct call *c, const struct CodaFid *fid, int vtype, const char *path, int flags);

/* Puts the open file src (of f) into the target as its call's result: at
 * newfd (as dup2 does), or in the band when newfd < 0. Returns the target's
 * fd or -errno. */
int coda_file_install(struct call *c, struct coda_file *f, int src, int newfd, bool cloexec);

/* The /coda file behind target fd `fd`, or NULL when it is not one. */
struct coda_file *coda_file_lookup(struct call *c, long fd);

#endif
