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
	stage_tell_cwd(c->trap, c->proc->tid, stage_cwd(c));
}

void stage_keep_stat(struct call *c, uint32_t gen, long dirfd, const char *name, int at_flags,
		     const struct CodaFid *fid, const struct coda_vattr *attr)
{
	struct coda_sb *sb = &call_sup(c)->sb;
	struct creds cred;
	struct statx stx;
	struct stat st;

	/* Answered as another uid, or by a hosted venus's call: not kept. */
	if (!sb->caches.changed || c->uid_override >= 0 || c->listener != c->trap->listener)
		return;
	if ((name[0] != '/' && (int)dirfd != AT_FDCWD) || release_writing(sb, fid) ||
	    proc_creds(c->proc, &cred) < 0)
		return;
	coda_attr_to_stat(sb, fid, attr, &st);
	coda_attr_to_statx(sb, fid, attr, &stx);
	stage_tables_put(c->trap, gen, cred.fsuid, stage_cwd(c), !(at_flags & AT_SYMLINK_NOFOLLOW),
			 name, &st, &stx);
}
