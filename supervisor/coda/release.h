/* The last release of a file opened for writing, as fs/coda/file.c's
 * coda_release() sees it: close(2) is not trapped, so the container is
 * watched with inotify. IN_CLOSE_WRITE comes once per open file
 * description, on its final release: after every dup, fork and mmap of it
 * is gone. Each one becomes the CODA_CLOSE venus stores on.
 *
 * Until venus has that CLOSE, the container is the truth about the file:
 * stat shows its size and times, and a new open of the file waits for the
 * store (session semantics: opens after the store see the new data). */
#ifndef CODA_RELEASE_H
#define CODA_RELEASE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "coda.h"

int release_init(struct coda_sb *sb);
void release_destroy(struct coda_sb *sb);

/* Before the container of a write open goes to the caller: watch it. */
int release_watch(struct coda_req *r, int container, const struct CodaFid *fid, int cflags);

/* The last release of a reader's open: its CODA_CLOSE is sent by a waiter
 * of its own (venus counts opens, and holds on to what is open). */
void release_reader(struct coda_sb *sb, const struct CodaFid *fid, const struct coda_caller *who,
		    int cflags);

/* While fid is being written: the container's stat (size, times). */
bool release_container_stat(struct coda_sb *sb, const struct CodaFid *fid, struct stat *st);

#endif
