/* The /coda part of a target's fd table: which band fds hold which /coda
 * file. Kept exact by trapping every call that can close or replace a band
 * fd (close, close_range, dup2, dup3); only exec closes fds unseen (its
 * close-on-exec ones), so after an exec each slot is checked once in /proc. */
#ifndef CODA_FDTABLE_H
#define CODA_FDTABLE_H

#include <stdbool.h>

#include "filters/fd_band.h"
#include "syscalls.h"

struct call;
struct coda_file;

struct files_state {
	struct proc_shared shared; /* first: the trap counts its users */
	struct coda_file *slot[CODA_FD_BAND_SIZE];
	bool unverified[CODA_FD_BAND_SIZE]; /* set by exec: may have been closed */
	int hint;			    /* where the next search starts */
};

/* The fd table as the trap shares and copies it (struct trap_ops). */
struct proc_shared *fdtable_copy(const struct proc_shared *from, bool stale);
void fdtable_free(struct proc_shared *shared);

/* The /coda file at target fd `fd`, or NULL. */
struct coda_file *fdtable_lookup(struct call *c, struct files_state *files, long fd);

/* A free band fd, or -EMFILE. */
int fdtable_alloc(struct call *c, struct files_state *files);

void fdtable_set(struct files_state *files, int fd, struct coda_file *f);

/* The target closes fd: the slot is free. */
void fdtable_close(struct files_state *files, long fd);

/* Does files have a /coda file at an fd in [first, last]? */
bool fdtable_holds_any(const struct files_state *files, long first, long last);

/* A call that may close or replace the fds first..last (close_range, dup2
 * onto a band fd, exec): believe those slots only after a look in /proc. */
void fdtable_suspect(struct files_state *files, long first, long last);

/* Is our fd `a` the same open file as our fd `b`? */
bool fdtable_same_open_file(int a, int b);

/* A new record of the object a memo names, whose open file `file` is (a
 * file's container, or a directory's own); NULL when no memo names it. */
struct coda_file *fdtable_recall(struct file_memos *m, int file);
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
