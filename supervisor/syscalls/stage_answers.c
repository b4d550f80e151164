/* What the first stage answers without us (stage/stage.h, trap/stage.c):
 * our stat answers on the volume, kept in its tables under the path as the
 * program wrote it; the cwd it resolves relative names from, told at every
 * chdir and exec; and the flush whenever the Coda module's caches let go
 * of anything, so that it never answers what we would not. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "coda/coda.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "current.h"
#include "fdtable.h"
#include "stage_answers.h"

static void caches_changed(void *trap)
{
	stage_tables_flush(trap);
}

int stage_answers_init(struct sup *s)
{
	int rc;

	if (!s->trap.stage.on)
		return 0;
	rc = stage_tables_init(&s->trap);
	if (rc < 0) {
		/* The stage still answers host paths; the volume's go to us. */
		if (s->opt.verbose)
			fprintf(s->log ? s->log : stderr,
				"coda-exec: no tables for the first stage: %s\n", strerror(-rc));
		return 0;
	}
	s->sb.caches.changed = caches_changed;
	s->sb.caches.changed_arg = &s->trap;
	return 0;
}

const uint32_t *stage_cwd(struct call *c)
{
	const struct fs_state *fs = proc_fs(c->proc);

	return fs->kind == CWD_CODA ? fs->fid.opaque : NULL;
}

void stage_cwd_changed(struct call *c)
{
	stage_tell_cwd(c, stage_cwd(c));
}

/* Where the caller's relative name from dirfd starts, if in the volume: a
 * directory, or for "" any object. */
static const uint32_t *start_of(struct call *c, long dirfd, const char *name)
{
	struct coda_file *f;

	if ((int)dirfd == AT_FDCWD)
		return *name ? stage_cwd(c) : NULL;
	f = coda_file_lookup(c, dirfd);
	return f && (f->vtype == C_VDIR || !*name) ? f->fid.opaque : NULL;
}

/* Whether the caller's answers may be kept: the stage is on (the caches
 * tell it of their changes), and the call is the command's own, as itself. */
static bool keepable(struct call *c)
{
	return call_sup(c)->sb.caches.changed && c->uid_override < 0 &&
	       c->listener == c->trap->listener;
}

/* The answer to the caller's stat of `name`, kept (st NULL: ENOENT). */
static void keep(struct call *c, uint32_t gen, long dirfd, const char *name, int at_flags,
		 const struct stat *st, const struct statx *stx)
{
	struct creds cred;

	if (proc_creds(c->proc, &cred) < 0)
		return;
	stage_tables_put(c->trap, gen, cred.fsuid, name[0] == '/' ? NULL : start_of(c, dirfd, name),
			 !(at_flags & AT_SYMLINK_NOFOLLOW), name, st, stx);
}

void stage_keep_stat(struct call *c, uint32_t gen, long dirfd, const char *name, int at_flags,
		     const struct CodaFid *fid, const struct coda_vattr *attr)
{
	struct coda_sb *sb = &call_sup(c)->sb;
	struct statx stx;
	struct stat st;

	if (!keepable(c) || release_writing(sb, fid))
		return;
	coda_attr_to_stat(sb, fid, attr, &st);
	coda_attr_to_statx(sb, fid, attr, &stx);
	keep(c, gen, dirfd, name, at_flags, &st, &stx);
}

void stage_keep_missing(struct call *c, uint32_t gen, long dirfd, const char *name, int at_flags,
			const struct nameidata *nd)
{
	/* Only while the Coda caches hold it missing: whatever makes the
	 * name drops that, and so flushes the tables. */
	if (keepable(c) && nd->named && coda_name_missing(&call_sup(c)->sb, &nd->parent, nd->last))
		keep(c, gen, dirfd, name, at_flags, NULL, NULL);
}
