/* stat, lstat, newfstatat, statx, fstat, statfs, fstatfs. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "coda/coda.h"
#include "syscalls.h"
#include "fdtable.h"
#include "host.h"
#include "stage_answers.h"
#include "vfs.h"

enum stat_kind { STAT_STAT, STAT_STATX };

/* fid's attributes, as the call asks for them, written to buf; in *attr. */
static int write_coda_stat(struct call *c, const struct CodaFid *fid, enum stat_kind kind,
			   uint64_t buf, struct coda_vattr *attr)
{
	int rc = coda_getattr(call_coda_req(c), fid, attr);

	if (rc < 0)
		return rc;
	if (kind == STAT_STATX) {
		struct statx stx;

		coda_attr_to_statx(&call_sup(c)->sb, fid, attr, &stx);
		return call_write(c, buf, &stx, sizeof(stx));
	} else {
		struct stat st;

		coda_attr_to_stat(&call_sup(c)->sb, fid, attr, &st);
		return call_write(c, buf, &st, sizeof(st));
	}
}

static int write_host_stat(struct call *c, const char *path, int at_flags, enum stat_kind kind,
			   uint64_t buf)
{
	struct statx stx;
	struct stat st;
	int rc = host_creds_override(c, false);

	if (rc < 0)
		return rc;
	if (kind == STAT_STATX)
		rc = statx(AT_FDCWD, path, at_flags, (unsigned)call_arg(c, 3), &stx);
	else
		rc = fstatat(AT_FDCWD, path, &st, at_flags);
	host_creds_revert(c);
	if (rc < 0)
		return -errno;
	if (kind == STAT_STATX)
		return call_write(c, buf, &stx, sizeof(stx));
	return call_write(c, buf, &st, sizeof(st));
}

static void do_stat(struct call *c, long dirfd, int path_arg, int at_flags, enum stat_kind kind,
		    uint64_t buf)
{
	uint32_t gen = stage_tables_gen(c->trap);
	struct coda_vattr attr;
	struct nameidata nd;
	char name[PATH_MAX];
	int lf = 0, rc;

	if (!(at_flags & AT_SYMLINK_NOFOLLOW))
		lf |= LOOKUP_FOLLOW;
	if (at_flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	rc = vfs_namei(c, dirfd, path_arg, lf, name, &nd);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	switch (nd.kind) {
	case NAMEI_CONTINUE:
		call_continue(c);
		return;
	case NAMEI_HOST:
		call_return(c,
			    write_host_stat(c, nd.path, at_flags & AT_SYMLINK_NOFOLLOW, kind, buf));
		return;
	case NAMEI_CODA:
		break;
	}
	if (nd.missing) {
		stage_keep_missing(c, gen, dirfd, name, at_flags, &nd);
		call_return(c, -ENOENT);
		return;
	}
	rc = write_coda_stat(c, &nd.fid, kind, buf, &attr);
	if (!rc) /* before the answer, which may be followed at once by the next */
		stage_keep_stat(c, gen, dirfd, name, at_flags, &nd.fid, &attr);
	call_return(c, rc);
}

void sys_stat(struct call *c)
{
	do_stat(c, AT_FDCWD, 0, 0, STAT_STAT, call_arg(c, 1));
}

void sys_lstat(struct call *c)
{
	do_stat(c, AT_FDCWD, 0, AT_SYMLINK_NOFOLLOW, STAT_STAT, call_arg(c, 1));
}

/* The flags the kernel takes. It checks them after copying the path and
 * before walking it; here they are checked first, which differs only for a
 * call with a bad path and bad flags (EINVAL instead of EFAULT). */
#define STAT_VALID_FLAGS (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)

void sys_newfstatat(struct call *c)
{
	int flags = (int)call_arg(c, 3);

	if (flags & ~STAT_VALID_FLAGS) {
		call_return(c, -EINVAL);
		return;
	}
	do_stat(c, (long)call_arg(c, 0), 1, flags, STAT_STAT, call_arg(c, 2));
}

void sys_statx(struct call *c)
{
	int flags = (int)call_arg(c, 2);
	unsigned mask = (unsigned)call_arg(c, 3);

	if ((flags & ~(STAT_VALID_FLAGS | AT_STATX_SYNC_TYPE)) ||
	    (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED)) {
		call_return(c, -EINVAL);
		return;
	}
	do_stat(c, (long)call_arg(c, 0), 1, flags, STAT_STATX, call_arg(c, 4));
}

void sys_fstat(struct call *c)
{
	uint32_t gen = stage_tables_gen(c->trap);
	long fd = (long)call_arg(c, 0);
	struct coda_file *f = coda_file_lookup(c, fd);
	struct coda_vattr attr;
	struct CodaFid fid;
	int rc;

	if (!f) {
		call_continue(c);
		return;
	}
	fid = f->fid; /* f may go while we wait for venus */
	rc = write_coda_stat(c, &fid, STAT_STAT, call_arg(c, 1), &attr);
	if (!rc)
		stage_keep_stat(c, gen, fd, "", AT_EMPTY_PATH, &fid, &attr);
	call_return(c, rc);
}

static int write_coda_statfs(struct call *c, uint64_t buf)
{
	struct coda_statfs cs;
	struct statfs st;
	int rc = coda_statfs(call_coda_req(c), &cs);

	if (rc < 0)
		return rc;
	coda_statfs_to_statfs(&cs, &st);
	return call_write(c, buf, &st, sizeof(st));
}

static int write_host_statfs(struct call *c, const char *path, uint64_t buf)
{
	struct statfs st;
	int rc = host_creds_override(c, false);

	if (rc < 0)
		return rc;
	rc = statfs(path, &st);
	host_creds_revert(c);
	return rc < 0 ? -errno : call_write(c, buf, &st, sizeof(st));
}

void sys_statfs(struct call *c)
{
	struct nameidata nd;

	if (!vfs_resolve(c, AT_FDCWD, 0, LOOKUP_FOLLOW, &nd))
		return;
	switch (nd.kind) {
	case NAMEI_CONTINUE:
		call_continue(c);
		return;
	case NAMEI_HOST:
		call_return(c, write_host_statfs(c, nd.path, call_arg(c, 1)));
		return;
	case NAMEI_CODA:
		break;
	}
	if (vfs_exists(c, &nd))
		call_return(c, write_coda_statfs(c, call_arg(c, 1)));
}

void sys_fstatfs(struct call *c)
{
	if (!coda_file_lookup(c, (long)call_arg(c, 0))) {
		call_continue(c);
		return;
	}
	call_return(c, write_coda_statfs(c, call_arg(c, 1)));
}
