/* clone of a process that shares its parent's cwd or fd table (CLONE_FS,
 * CLONE_FILES): seen before it runs, so that the child shares ours too, as
 * the kernel's copy_fs_struct and dup_fd give it. Threads are not trapped:
 * they share their leader's. Nor, where /proc lists a task's children, are
 * plain forks and vforks: a new process copies its parent's state when first
 * seen (trap.h, proc.c); elsewhere they are recorded here as the clone is. And
 * unshare. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "trap/trap.h"
#include "syscalls.h"

void sys_fork(struct call *c)
{
	long nr = c->n->data.nr;
	unsigned long flags = nr == SYS_clone	? (unsigned long)call_arg(c, 0)
			      : nr == SYS_vfork ? CLONE_VM | CLONE_VFORK
						: 0;
	int rc = proc_note_fork(c->trap, c->proc, flags);

	if (rc == 0 && (flags & (CLONE_FS | CLONE_FILES)) && !(flags & CLONE_VM))
		stage_untold(c);
	if (rc < 0)
		call_return(c, rc);
	else
		call_continue(c);
}

/* unshare(CLONE_FS / CLONE_FILES) gives the caller its own copy of what it
 * shared with its threads (or CLONE_VM siblings), as the kernel does. */
void sys_unshare(struct call *c)
{
	int rc = proc_unshare(c->trap, c->proc, (unsigned long)call_arg(c, 0));

	if (rc < 0)
		call_return(c, rc);
	else
		call_continue(c);
}
