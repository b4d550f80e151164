/* What the first stage answers without us (stage_answers.c). */
#ifndef CODA_STAGE_ANSWERS_H
#define CODA_STAGE_ANSWERS_H

#include <stdint.h>

#include "coda/coda.h"
#include "trap/trap.h"

struct sup;

/* With --stage: its tables, flushed whenever the Coda module's caches let
 * go of anything. 0 (without tables, the stage answers host paths only). */
int stage_answers_init(struct sup *s);

/* The fid of the caller's cwd if it is in the volume, or NULL. */
const uint32_t *stage_cwd(struct call *c);

/* The caller's cwd has changed: its stage is told. */
void stage_cwd_changed(struct call *c);

/* The caller's stat of `name` (from dirfd, with at_flags) found attr on
 * fid: kept for the stage, unless a flush came since gen was read
 * (stage_tables_gen) or the answer is not one for all of the caller's
 * uid (a file being written, a hosted venus's call). */
void stage_keep_stat(struct call *c, uint32_t gen, long dirfd, const char *name, int at_flags,
		     const struct CodaFid *fid, const struct coda_vattr *attr);

/* The same for a stat that found the name missing (ENOENT) where nd says. */
void stage_keep_missing(struct call *c, uint32_t gen, long dirfd, const char *name, int at_flags,
			const struct nameidata *nd);

#endif
