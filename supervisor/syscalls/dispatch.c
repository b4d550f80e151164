/* The system-call layer's entry: each trapped call to its handler, and the
 * ties between the trap, the Coda module and this layer (syscalls_init). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exec.h"
#include "fdtable.h"
#include "handlers.h"
#include "host.h"
#include "syscalls.h"
#include "stage_answers.h"
#include "trap/trap.h"
#include "vfs.h"

/* Every call the filter traps goes to its handler. */
static void dispatch(struct call *c)
{
	switch (c->n->data.nr) {
#define TRAP(name, handler, rule) DISPATCH_CASE(name, handler)
#define REFUSE(name, err)
#include "trapped_calls.def"
#undef TRAP
#undef REFUSE
	}
	/* Not in the list, so never trapped by our filter: the kernel's. */
	call_continue(c);
}

/* A call of the command's tree: first what an exec of its left to undo. */
static void serve(struct call *c)
{
	coda_exec_undo(c);
	dispatch(c);
}

/* Venus, and the shell that started a hosted one: ours, not the command's. */
static bool helper(const struct trap *t, pid_t pid)
{
	const struct sup *s = sup_of((struct trap *)t);

	return pid == s->venus_pid || pid == s->hosted.pid;
}

static void exited(struct proc *p)
{
	coda_exec_undo_exit(&p->undo);
}

static int expire(struct trap *t)
{
	return psdev_expire(&sup_of(t)->sb);
}

/* The embedded venus of our own speaks only when spoken to (a hosted one,
 * or a server passing on other jobs' changes, sends downcalls of its own),
 * and a writer's last close comes through inotify: with none watched and
 * the command there, only its calls and our signals can need the loop. */
static bool quiet(struct trap *t)
{
	const struct sup *s = sup_of(t);

	return !s->hosted.cmd && !s->opt.attach && !s->target_exited && !s->sb.vc.dead &&
	       !release_watching(&s->sb);
}

static bool answer_due(struct trap *t)
{
	return psdev_answer_due(&sup_of(t)->sb);
}

static const struct trap_ops ops = {
    .serve = serve,
    .helper = helper,
    .exited = exited,
    .shared =
	{
	    [PROC_FS] = {CLONE_FS, vfs_fs_copy, vfs_fs_free},
	    [PROC_FILES] = {CLONE_FILES, fdtable_copy, fdtable_free},
	},
    .expire = expire,
    .quiet = quiet,
    .answer_due = answer_due,
};

static void venus_readable(struct trap *t, pid_t pid, uint32_t events)
{
	struct sup *s = sup_of(t);

	(void)pid;
	(void)events;
	psdev_readable(&s->sb);
	if (s->sb.vc.dead)
		loop_remove(t, s->sb.vc.chan);
}

static void releases_readable(struct trap *t, pid_t pid, uint32_t events)
{
	(void)pid;
	(void)events;
	release_readable(&sup_of(t)->sb);
}

static void venus_listener_ready(struct trap *t, pid_t pid, uint32_t events)
{
	struct sup *s = sup_of(t);

	(void)pid;
	if (events & EPOLLIN)
		loop_serve_listener(t, s->hosted.listener, hosted_serve);
	else if (events & (EPOLLHUP | EPOLLERR))
		loop_remove(t, s->hosted.listener);
}

static void venus_too_late(struct trap *t, pid_t pid, uint32_t events)
{
	struct sup *s = sup_of(t);

	(void)pid;
	(void)events;
	s->hosted.too_late = true;
	loop_remove(t, s->hosted.timer);
}

static void venus_gone(struct trap *t, pid_t pid, uint32_t events)
{
	(void)pid;
	(void)events;
	hosted_venus_exited(sup_of(t));
}

int syscalls_init(struct sup *s)
{
	int rc = trap_init(&s->trap, &ops);

	vfs_sched_init(s);
	if (!rc)
		rc = coda_sb_init(&s->sb, &s->sched);
	if (!rc)
		rc = stage_answers_init(s);
	if (!rc)
		rc = loop_add(&s->trap, s->sb.release.inotify_fd, EV_INOTIFY, 0);
	loop_on(&s->trap, EV_VENUS, venus_readable);
	loop_on(&s->trap, EV_INOTIFY, releases_readable);
	loop_on(&s->trap, EV_VENUS_LISTENER, venus_listener_ready);
	loop_on(&s->trap, EV_TIMER, venus_too_late);
	loop_on(&s->trap, EV_VENUS_PIDFD, venus_gone);
	s->opath_anchor = memfd_create("coda-exec O_PATH", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (!rc && s->opath_anchor < 0)
		rc = -errno;
	/* Sealed: the write-only fds of it that O_PATH opens hand out
	 * (open.c) can never change it. */
	if (!rc && fcntl(s->opath_anchor, F_ADD_SEALS,
			 F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		rc = -errno;
	s->self_exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (!rc && s->self_exe < 0)
		rc = -errno;
	return rc;
}

void syscalls_destroy(struct sup *s)
{
	trap_destroy(&s->trap);
	fdtable_memos_free(&s->file_memos);
	coda_sb_destroy(&s->sb);
	if (s->opath_anchor >= 0)
		close(s->opath_anchor);
	if (s->self_exe >= 0)
		close(s->self_exe);
	host_creds_destroy(s);
}
