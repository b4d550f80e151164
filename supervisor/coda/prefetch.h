/* Directory read-ahead: a program that lists a directory and then looks up
 * its names one after another (find -ls, ls -l, tar c) would wait for a
 * LOOKUP and a GETATTR round trip per name. Once it has looked up two names
 * in listing order that were not cached, the next ones are asked of venus a
 * few at a time, ahead of the program, by waiters of their own: venus finds
 * several upcalls waiting each time it wakes, and the program finds the
 * answers cached. Each object still costs one LOOKUP and one GETATTR, as
 * with the kernel; only their timing differs. */
#ifndef CODA_PREFETCH_H
#define CODA_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "coda.h"

struct pf_name;

/* What read-ahead does for one name of dir, as who: the LOOKUP and GETATTR
 * the program's own walk and stat would make. */
typedef void (*prefetch_fn)(struct coda_req *r, const struct coda_caller *who,
			    const struct CodaFid *dir, const char *name, size_t len);

/* A listing of dir was read from its start (image: its venus_dirent
 * container); fetch reads ahead in it. */
void prefetch_listed(struct coda_sb *sb, const struct CodaFid *dir, const char *image, size_t len,
		     prefetch_fn fetch);

/* A cached name of dir was looked up: read further ahead if the program
 * nears the end of what was asked; wait for the name's GETATTR if it is
 * under way. */
void prefetch_hit(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len);

/* Before a LOOKUP of a name of dir that is not cached. If read-ahead has it
 * under way, sleeps until it is answered and returns NULL (the caches hold
 * the answer). Otherwise returns the name claimed for the caller's own
 * upcall (NULL if it is in no listing), to be given to prefetch_release. */
struct pf_name *prefetch_claim(struct coda_req *r, const struct coda_caller *who,
			       const struct CodaFid *dir, const char *name, size_t len);
void prefetch_release(struct coda_sb *sb, struct pf_name *pn);

/* From psdev_expire: a caller waiting for read-ahead's upcall that has been
 * interrupted is woken, to go on by itself. */
void prefetch_expire(struct coda_sb *sb, int64_t now_ms);

void prefetch_destroy(struct coda_sb *sb);

#endif
