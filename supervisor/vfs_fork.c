/* fork, vfork, clone and clone3, and unshare: seen before they run, so that the child
 * starts with its parent's cwd and /coda fds as they were at the fork
 * (copied, or shared with CLONE_FS / CLONE_FILES), as the kernel's
 * copy_fs_struct and dup_fd give it. New threads are not trapped for
 * clone, and are let through for clone3: they share their leader's. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "proc.h"
#include "syscalls.h"
#include "notify.h"

/* The flags of a clone3: the first field of its struct clone_args. */
static int clone3_flags(struct call *c, uint64_t *flags)
{
	if (call_arg(c, 1) < sizeof(*flags))
		return -EINVAL;
	return call_read(c, call_arg(c, 0), flags, sizeof(*flags));
}

void sys_fork(struct call *c)
{
	long nr = c->n->data.nr;
	uint64_t flags = 0;
	int rc = 0;

	if (nr == SYS_clone)
		flags = call_arg(c, 0);
	else if (nr == SYS_vfork)
		flags = CLONE_VM | CLONE_VFORK;
	else if (nr == SYS_clone3 && clone3_flags(c, &flags) < 0)
		flags = CLONE_THREAD; /* the kernel gives the error */
	if (!(flags & CLONE_THREAD))
		rc = proc_note_fork(c->proc, (unsigned long)flags);
	if (rc < 0)
		call_return(c, rc);
	else
		call_continue(c);
}

/* unshare(CLONE_FS / CLONE_FILES) gives the caller its own copy of what it
 * shared with its threads (or CLONE_VM siblings), as the kernel does. */
void sys_unshare(struct call *c)
{
	int rc = proc_unshare(c->proc, (unsigned long)call_arg(c, 0));

	if (rc < 0)
		call_return(c, rc);
	else
		call_continue(c);
}
