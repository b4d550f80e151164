/* execve and execveat, and the credential calls. */
#include <errno.h>
#include <fcntl.h>

#include "proc.h"
#include "syscalls.h"
#include "vfs.h"

/* Running a program stored in /coda needs the kernel to open it by a path it
 * can see; that comes with the process-tree work (see README). Until then
 * such an exec fails cleanly, and every other exec runs untouched. */
static void do_exec(struct call *c, long dirfd, int path_arg, int at_flags)
{
	struct nameidata nd;
	int lf = at_flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW;

	if (at_flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	if (!vfs_resolve(c, dirfd, path_arg, lf, &nd))
		return;
	if (nd.kind == NAMEI_CONTINUE) {
		/* Its close-on-exec fds go if it succeeds, unseen by us. */
		fdtable_suspect(c->proc->files, CODA_FD_BAND_LO, CODA_FD_BAND_HI - 1);
		call_continue(c);
	} else if (nd.kind == NAMEI_CODA && nd.missing)
		call_return(c, -ENOENT);
	else
		call_return(c, -EACCES);
}

void sys_execve(struct call *c)
{
	do_exec(c, AT_FDCWD, 0, 0);
}

void sys_execveat(struct call *c)
{
	do_exec(c, (long)call_arg(c, 0), 1, (int)call_arg(c, 4));
}

/* set*id: the kernel does it; we only forget the credentials we knew. */
void sys_setcred(struct call *c)
{
	proc_creds_changed(c->proc);
	call_continue(c);
}
