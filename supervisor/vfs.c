#include <errno.h>

#include "vfs.h"

bool vfs_resolve(struct call *c, long dirfd, int arg, int flags, struct nameidata *nd)
{
	char name[PATH_MAX];
	uint64_t addr = call_arg(c, arg);
	int rc = 0;

	if (addr == 0 && (flags & LOOKUP_EMPTY))
		name[0] = '\0';
	else
		rc = call_read_path(c, addr, name);
	if (!rc)
		rc = coda_namei(c, dirfd, name, flags, nd);
	if (rc < 0) {
		call_return(c, rc);
		return false;
	}
	return true;
}

bool vfs_exists(struct call *c, const struct nameidata *nd)
{
	if (nd->missing) {
		call_return(c, -ENOENT);
		return false;
	}
	return true;
}
