/* execve and execveat, and the credential calls. */
#include <errno.h>
#include <fcntl.h>

#include "exec.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "stage_answers.h"
#include "fdtable.h"
#include "vfs.h"

/* A host program runs untouched; a /coda one through an exec plan (exec.h). */
static void do_exec(struct call *c, long dirfd, int path_arg, int at_flags)
{
	struct nameidata nd;
	int lf = at_flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW;
	char first;

	if (at_flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	if (!vfs_resolve(c, dirfd, path_arg, lf, &nd))
		return;
	if (nd.kind == NAMEI_CONTINUE) {
		/* Its close-on-exec fds go if it succeeds, unseen by us, and its
		 * capabilities are made anew. */
		int rc = stage_seize(c, stage_cwd(c));

		if (rc < 0) {
			call_return(c, rc);
			return;
		}
		fdtable_suspect(proc_files(c->proc), CODA_FD_BAND_LO, CODA_FD_BAND_HI - 1);
		proc_creds_changed(c->proc);
		call_continue(c);
	} else if (nd.kind == NAMEI_HOST) {
		call_return(c, -EACCES);
	} else if (!nd.missing && nd.vtype == C_VLNK) {
		/* AT_SYMLINK_NOFOLLOW, or "" on an O_PATH symlink: may_open()'s ELOOP */
		call_return(c, -ELOOP);
	} else {
		first = '\0';
		if (call_arg(c, path_arg))
			call_read(c, call_arg(c, path_arg), &first, 1);
		coda_exec(c, &nd, path_arg, dirfd, (at_flags & AT_EMPTY_PATH) && !first);
	}
}

void sys_execve(struct call *c)
{
	do_exec(c, AT_FDCWD, 0, 0);
}

void sys_execveat(struct call *c)
{
	do_exec(c, (long)call_arg(c, 0), 1, (int)call_arg(c, 4));
}

/* set*id, capset, umask: the kernel does it; we only forget the
 * credentials we knew. */
void sys_setcred(struct call *c)
{
	proc_creds_changed(c->proc);
	call_continue(c);
}
