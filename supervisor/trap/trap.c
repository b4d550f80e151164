/* The trap put together: its event loop, with the exits of the tree's
 * processes and the waits of held calls served by their own parts. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "trap.h"

static void process_exited(struct trap *t, pid_t tgid, uint32_t events)
{
	(void)events;
	proc_exit(t, tgid);
}

static void wait_over(struct trap *t, pid_t tid, uint32_t events)
{
	(void)events;
	fdwait_ready(t, tid);
}

int trap_init(struct trap *t, const struct trap_ops *ops)
{
	t->ops = ops;
	t->listener = -1;
	t->target = -1;
	t->children.fd = -1;
	t->signals.rd = t->signals.wr = -1;
	t->self_pid = getpid();
	t->borrow_fds = fd_borrow_needed();
	t->trap_forks = !proc_children_listed();
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		return -errno;
	loop_on(t, EV_PIDFD, process_exited);
	loop_on(t, EV_FDWAIT, wait_over);
	loop_on_deadline(t, fdwait_expire);
	return ops->expire ? loop_on_deadline(t, ops->expire) : 0;
}

void trap_destroy(struct trap *t)
{
	proc_table_destroy(t);
	signals_destroy(t);
	task_pool_destroy(&t->tasks);
	trap_stats_free(t);
	free(t->stage.seized);
	t->stage.seized = NULL;
	stage_tables_destroy(t);
	if (t->epfd >= 0)
		close(t->epfd);
	t->epfd = -1;
}
