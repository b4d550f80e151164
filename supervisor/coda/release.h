/* The last release of a file opened for writing, as fs/coda/file.c's
 * coda_release() sees it: the supervisor does not trap close(2), so it
 * watches the container with inotify. IN_CLOSE_WRITE comes once per open
 * file description, on its final release: after every dup, fork and mmap
 * of it is gone. Each one becomes the CODA_CLOSE venus stores on.
 *
 * Until venus has that CLOSE, the container is the truth about the file:
 * stat shows its size and times, and a new open of the file waits for the
 * store (session semantics: opens after the store see the new data). */
#ifndef CODA_RELEASE_H
#define CODA_RELEASE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "coda_wire.h"

struct call;
struct sup;
struct writer;

struct release_state {
	int inotify_fd;
	struct writer *by_wd;
	unsigned active;	/* writers not yet closed with venus */
	unsigned reader_closes; /* readers' CODA_CLOSEs under way */
};

int release_init(struct sup *s);

/* Before the container of a write open is injected: watch it. 0 or -errno. */
int release_watch(struct call *c, int container, const struct CodaFid *fid, int cflags);

/* The last release of a reader's open: its CODA_CLOSE is sent by a task of
 * its own (venus counts opens, and holds on to what is open). */
void release_reader(struct sup *s, const struct CodaFid *fid, const struct coda_caller *who,
		    int cflags);

/* A hosted venus passed its own writable open of this container (a write
 * CODA_OPEN_BY_FD): the close event of its release, which follows, is not
 * the target's. Called while venus still holds it. 0 or -errno. */
int release_expect_venus_close(struct sup *s, int container, const struct CodaFid *fid, int cflags,
			       const struct coda_caller *who);

/* The event loop: IN_CLOSE_WRITE events are waiting. */
void release_readable(struct sup *s);

/* Called by a task about to use fid: takes in every close already done by
 * the target and waits until venus has them (the kernel's close(2) returns
 * only after CODA_CLOSE). */
void release_sync(struct call *c, const struct CodaFid *fid);

/* After the command has exited: takes in the closes already done and
 * returns whether CODA_CLOSE upcalls are still under way (the loop must go
 * on until venus has stored them). */
bool release_pending(struct sup *s);

/* While fid is being written: the container's stat (size, times). */
bool release_container_stat(struct sup *s, const struct CodaFid *fid, struct stat *st);

#endif
