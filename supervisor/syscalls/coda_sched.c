/* How the Coda module's callers run here: each is a task of the trap (a
 * trapped call's, or one of its own for a CODA_CLOSE nobody waits for),
 * which sleeps while its upcall is out as a process sleeps in the kernel's
 * coda_upcall(). */
#include <errno.h>
#include <stdlib.h>

#include "syscalls.h"
#include "trap/trap.h"
#include "vfs.h"

int vfs_caller(struct call *c, struct coda_caller *who)
{
	struct creds cred;
	int rc = proc_creds(c->proc, &cred);

	if (rc < 0)
		return rc;
	who->pid = c->proc->tid;
	who->pgid = cred.pgid;
	who->uid = c->uid_override >= 0 ? (uid_t)c->uid_override : cred.fsuid;
	return 0;
}

static struct task *task_of(struct coda_waiter *w)
{
	return (struct task *)w;
}

static void sleep_task(struct coda_waiter *w)
{
	task_sleep(task_of(w));
}

static void wake_task(struct coda_waiter *w)
{
	task_wake(task_of(w));
}

static void wake_task_later(struct coda_waiter *w)
{
	task_wake_later(task_of(w));
}

static bool task_interrupted(struct coda_waiter *w)
{
	struct task *t = task_of(w);

	return call_task_interrupted(t->trap, t);
}

static int task_caller(struct coda_waiter *w, struct coda_caller *who)
{
	struct task *t = task_of(w);

	return t->call ? vfs_caller(t->call, who) : -ESRCH;
}

struct spawned {
	void (*fn)(struct coda_waiter *w, void *arg);
	void *arg;
};

static void run_spawned(struct task *t)
{
	struct spawned sp = *(struct spawned *)t->arg;

	free(t->arg);
	sp.fn((struct coda_waiter *)t, sp.arg);
}

static int spawn_task(void *ctx, void (*fn)(struct coda_waiter *w, void *arg), void *arg)
{
	struct spawned *sp = malloc(sizeof(*sp));
	int rc;

	if (!sp)
		return -ENOMEM;
	*sp = (struct spawned){fn, arg};
	rc = task_spawn(&((struct sup *)ctx)->trap, run_spawned, NULL, sp);
	if (rc < 0)
		free(sp);
	return rc;
}

void vfs_sched_init(struct sup *s)
{
	s->sched = (struct coda_sched){
	    .sleep = sleep_task,
	    .wake = wake_task,
	    .wake_later = wake_task_later,
	    .interrupted = task_interrupted,
	    .caller = task_caller,
	    .spawn = spawn_task,
	    .ctx = s,
	};
}
