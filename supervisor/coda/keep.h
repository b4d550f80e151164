/* Readers' containers kept past their last release, as the kernel keeps a
 * closed file's pages: the next read-only open of the fid, while the
 * attributes it was opened under are still the cached ones, is a new open
 * file of the kept container, with no CODA_OPEN (and so no CODA_CLOSE).
 *
 * Only for a venus that never rewrites a container in place (the embedded
 * one: a stale container is replaced by a new file, and its CODA_CLOSE
 * has been sent as always), so that a kept container holds exactly what
 * venus handed over. Whatever changes the object changes or drops its
 * cached attributes (a store, a setattr, a namespace change in a
 * directory, a downcall), and with them the kept container's use. */
#ifndef CODA_KEEP_H
#define CODA_KEEP_H

#include <stdint.h>

#include "cache.h"
#include "coda.h"

void keep_destroy(struct coda_sb *sb);

/* For a read-only open of fid, of type vtype, whose attributes are cached
 * as version (cache_attr_version): a new open file of the kept container,
 * as venus would hand it (a file's own, at offset 0; a directory's, read
 * by pread), or -1 when none is kept that is still current. */
int keep_take(struct coda_sb *sb, const struct CodaFid *fid, int vtype, uint32_t version);

/* The last release of f, a reader's: its container is kept if the
 * attributes it was opened under are still the cached ones. */
void keep_release(struct coda_file *f);

/* fd was just taken for an open file: if it is numbered high enough to
 * say that fds run short, the least recently used container kept goes. */
void keep_make_room(struct coda_sb *sb, int fd);

/* Drops what is kept of fid: a writer opens it (venus links a container
 * it stores into the volume only while nobody else holds it). */
void keep_forget(struct coda_sb *sb, const struct CodaFid *fid);

/* What a downcall made stale (coda_cache_downcall) is closed now, not at
 * the next open. */
void keep_stale(struct coda_sb *sb, enum coda_stale stale, const struct CodaFid *fid);

#endif
