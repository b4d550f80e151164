/* The /coda part of a target's fd table: which band fds hold which /coda
 * file. Kept exact by trapping every call that can close or replace a band
 * fd (close, close_range, dup2, dup3); only exec closes fds unseen (its
 * close-on-exec ones), so after an exec each slot is checked once in /proc. */
#ifndef CODA_FDTABLE_H
#define CODA_FDTABLE_H

#include <stdbool.h>

#include "coda/coda.h"
#include "fd_band.h"

struct call;
struct coda_file;

struct files_state {
	int refs;
	struct coda_file *slot[CODA_FD_BAND_SIZE];
	bool unverified[CODA_FD_BAND_SIZE]; /* set by exec: may have been closed */
	int hint[2]; /* where the next search starts in each half: files, dirs */
};

struct files_state *fdtable_new(void);
struct files_state *fdtable_copy(const struct files_state *from); /* fork */
void fdtable_put(struct files_state *files);

/* The /coda file at target fd `fd`, or NULL. */
struct coda_file *fdtable_lookup(struct call *c, struct files_state *files, long fd);

/* A free band fd for an object of this vnode type, or -EMFILE. */
int fdtable_alloc(struct call *c, struct files_state *files, int vtype);

void fdtable_set(struct files_state *files, int fd, struct coda_file *f);

/* The target closes fd: the slot is free. */
void fdtable_close(struct files_state *files, long fd);

/* Does files have a /coda file at an fd in [first, last]? */
bool fdtable_holds_any(const struct files_state *files, long first, long last);

/* A call that may close or replace the fds first..last (close_range, dup2
 * onto a band fd, exec): believe those slots only after a look in /proc. */
void fdtable_suspect(struct files_state *files, long first, long last);

/* What the /coda files put into bands lately were, by container: an fd in
 * flight over a Unix socket outlives its sender's fd and record, and its
 * receiver must still learn what it is. The newest first. */
#define FILE_MEMOS 256
struct file_memo {
	struct CodaFid fid;
	int vtype;
	int flags;
	dev_t cdev;
	ino_t cino;
	char *path; /* NULL: a free entry */
};
struct file_memos {
	struct file_memo ring[FILE_MEMOS];
	unsigned next;
};

/* A new record of the object a memo names, opened as `container`; NULL when
 * no memo names that container. */
struct coda_file *fdtable_recall(struct file_memos *m, int container);
void fdtable_memos_free(struct file_memos *m);

/* The /coda file behind the caller's fd `fd`, or NULL when it is not one. */
struct coda_file *coda_file_lookup(struct call *c, long fd);

/* Puts the open file src (of f) into the target as its call's result: at
 * newfd (as dup2 does), or in the band when newfd < 0. Returns the target's
 * fd or -errno. */
int fdtable_install(struct call *c, struct coda_file *f, int src, int newfd, bool cloexec);

/* The same, adding the fd to the target (in the band) without answering its
 * call: one of several fds a call hands over (recvmsg). */
int fdtable_add(struct call *c, struct coda_file *f, int src, bool cloexec);

#endif
