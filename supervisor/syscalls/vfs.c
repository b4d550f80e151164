#include <errno.h>
#include <fcntl.h>

#include "coda/coda.h"
#include "trap/trap.h"
#include "fdtable.h"
#include "vfs.h"

int vfs_namei(struct call *c, long dirfd, int arg, int flags, char name[PATH_MAX],
	      struct nameidata *nd)
{
	uint64_t addr = call_arg(c, arg);
	int rc = 0;

	if (addr == 0 && (flags & LOOKUP_EMPTY))
		name[0] = '\0';
	else
		rc = call_read_path(c, addr, name);
	return rc ?: vfs_lookup(c, dirfd, name, flags, nd);
}

bool vfs_resolve(struct call *c, long dirfd, int arg, int flags, struct nameidata *nd)
{
	char name[PATH_MAX];
	int rc = vfs_namei(c, dirfd, arg, flags, name, nd);

	if (rc < 0) {
		call_return(c, rc);
		return false;
	}
	return true;
}

bool vfs_resolve_coda(struct call *c, long dirfd, int arg, int flags, struct nameidata *nd)
{
	if (!vfs_resolve(c, dirfd, arg, flags, nd))
		return false;
	if (nd->kind == NAMEI_CONTINUE)
		call_continue(c);
	else if (nd->kind == NAMEI_HOST)
		call_return(c, -EOPNOTSUPP);
	return nd->kind == NAMEI_CODA;
}

bool vfs_exists(struct call *c, const struct nameidata *nd)
{
	if (nd->missing) {
		call_return(c, -ENOENT);
		return false;
	}
	return true;
}

struct coda_file *vfs_open_file(struct call *c, long fd)
{
	struct coda_file *f = coda_file_lookup(c, fd);

	if (!f)
		call_continue(c);
	else if (f->flags & O_PATH)
		call_return(c, -EBADF);
	else
		return f;
	return NULL;
}

int vfs_may_create(const struct nameidata *nd)
{
	if (!nd->missing)
		return -EEXIST;
	return nd->trailing ? -ENOENT : 0;
}

/* The mode a new file gets: the VFS applies the umask before the file
 * system sees it. */
int vfs_create_mode(struct call *c, mode_t mode, mode_t *out)
{
	struct creds cred;
	int rc = proc_creds(c->proc, &cred);

	if (rc < 0)
		return rc;
	*out = mode & ~cred.umask & 07777;
	return 0;
}
