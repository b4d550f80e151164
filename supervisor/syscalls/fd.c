/* dup, dup2, dup3 and fcntl(F_DUPFD*) of /coda fds: the copy must be a /coda
 * fd too (same open file, same object), which the kernel cannot know, so the
 * supervisor installs it. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include "filters/fd_band.h"
#include "coda/coda.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "fdtable.h"
#include "vfs.h"

static void dup_coda(struct call *c, struct coda_file *f, int newfd, bool cloexec)
{
	int fd = fdtable_install(c, f, f->host_fd, newfd, cloexec);

	if (fd < 0 && !c->answered)
		call_return(c, fd);
}

/* A /coda fd in [first, last] is about to go: children forked before, not
 * seen yet, must still find it in theirs. */
static void before_band_closes(struct call *c, long first, long last)
{
	if (fdtable_holds_any(proc_files(c->proc), first, last))
		proc_adopt_children(c->trap, c->proc);
}

void sys_dup(struct call *c)
{
	long oldfd = (long)call_arg(c, 0);
	struct coda_file *f = coda_file_lookup(c, oldfd);
	long nr = c->n->data.nr;
	long newfd = nr == SYS_dup ? -1 : (long)call_arg(c, 1);
	int flags = nr == SYS_dup3 ? (int)call_arg(c, 2) : 0;

	if (nr != SYS_dup && newfd != oldfd)
		before_band_closes(c, newfd, newfd);
	if (!f || f->host_fd < 0) {
		/* Not ours to copy (or a writer's, which the kernel copies: the
		 * copy then is not seen as a /coda fd), but it may land on one of
		 * our slots. */
		if (nr != SYS_dup) {
			fdtable_suspect(proc_files(c->proc), newfd, newfd);
			stage_forget_fds(c, newfd, newfd);
		}
		call_continue(c);
		return;
	}
	if (newfd == oldfd) {
		/* dup2 to itself is a no-op; dup3 refuses it. */
		call_return(c, nr == SYS_dup3 ? -EINVAL : newfd);
		return;
	}
	if (flags & ~O_CLOEXEC || (nr != SYS_dup && (newfd < 0 || newfd > INT32_MAX))) {
		call_return(c, nr == SYS_dup3 && (flags & ~O_CLOEXEC) ? -EINVAL : -EBADF);
		return;
	}
	dup_coda(c, f, (int)newfd, flags & O_CLOEXEC);
}

/* fcntl(fd, F_DUPFD[_CLOEXEC], min): the copy goes in the band, which lies
 * above any `min` a program asks for in practice; a larger one is left to
 * the kernel (the copy is then not seen as a /coda fd), and so is a
 * negative one, which the kernel takes as unsigned: EINVAL. */
void sys_fcntl_dup(struct call *c)
{
	struct coda_file *f = coda_file_lookup(c, (long)call_arg(c, 0));
	uint64_t min = call_arg(c, 2);

	if (!f || f->host_fd < 0 || min > CODA_FD_BAND_LO) {
		call_continue(c);
		return;
	}
	dup_coda(c, f, -1, call_arg(c, 1) == F_DUPFD_CLOEXEC);
}

void sys_close(struct call *c)
{
	long fd = (long)call_arg(c, 0);

	before_band_closes(c, fd, fd);
	fdtable_close(proc_files(c->proc), fd);
	stage_forget_fds(c, fd, fd);
	call_continue(c);
}

void sys_close_range(struct call *c)
{
	unsigned int first = (unsigned int)call_arg(c, 0), last = (unsigned int)call_arg(c, 1);

	/* CLOSE_RANGE_UNSHARE gives the task a table of its own first. */
	if (call_arg(c, 2) & CLOSE_RANGE_UNSHARE) {
		int rc = proc_unshare(c->trap, c->proc, CLONE_FILES);

		if (rc < 0) {
			call_return(c, rc);
			return;
		}
	}
	/* What the stage was told of this table is of fds it holds. */
	if (fdtable_holds_any(proc_files(c->proc), first, last))
		stage_forget_fds(c, first, last);
	before_band_closes(c, first, last);
	fdtable_suspect(proc_files(c->proc), first, last);
	call_continue(c);
}
