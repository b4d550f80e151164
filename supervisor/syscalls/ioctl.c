/* ioctl on a /coda fd. The kernel's Coda files have no ioctl of their own,
 * so only the VFS's generic ones work on them (do_vfs_ioctl). Here the fd is
 * venus's container: the generic calls about the fd, the open file or the
 * data act on it as they would on the Coda file, while those that would reach
 * the container's inode or its file system (flags such as immutable, which
 * would stop venus from ever replacing or removing it; FIFREEZE of the cache's
 * file system; clones and extent maps) get the answer a Coda file gives. */
#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "coda/coda.h"
#include "syscalls.h"
#include "fdtable.h"
#include "vfs.h"

/* What do_vfs_ioctl does for a Coda file that the container can do as well. */
static bool acts_on_fd_or_data(unsigned int cmd, bool dir)
{
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
	case FIONBIO:
	case FIOASYNC:
	case FIOQSIZE:
	case FIGETBSZ:
		return true;
	case FIONREAD:
		return !dir; /* the bytes left to read, as read(2) would find them */
	}
	return false;
}

/* The kernel's answer for a Coda file: no fiemap, freeze, clone or dedupe
 * operations, no bmap, and ENOTTY for everything else (no unlocked_ioctl,
 * no fileattr_get). */
static int coda_answer(unsigned int cmd)
{
	switch (cmd) {
	case FIFREEZE:
	case FITHAW:
	case FS_IOC_FIEMAP:
	case FICLONE:
	case FICLONERANGE:
	case FIDEDUPERANGE:
		return -EOPNOTSUPP;
	case FIBMAP:
		return -EINVAL;
	}
	return -ENOTTY;
}

void sys_ioctl(struct call *c)
{
	struct coda_file *f = coda_file_lookup(c, (long)call_arg(c, 0));
	unsigned int cmd = (unsigned int)call_arg(c, 1);

	if (!f || acts_on_fd_or_data(cmd, f->vtype == C_VDIR))
		call_continue(c);
	else
		call_return(c, coda_answer(cmd));
}
