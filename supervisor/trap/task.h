/* Tasks: each trapped syscall is served by a task with a stack of its own, so
 * that it can sleep on a venus upcall the way a process sleeps in the kernel's
 * coda_upcall(), while the event loop goes on serving every other call. */
#ifndef CODA_TASK_H
#define CODA_TASK_H

#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <ucontext.h>

struct sup;
struct task;
struct deferred_spawn;

typedef void (*task_fn)(struct task *t);

struct task {
	ucontext_t ctx; /* used once, to start on its own stack */
	sigjmp_buf env;
	void *stack;
	struct sup *sup;
	task_fn fn;
	struct seccomp_notif notif; /* the call this task serves, if any */
	void *arg;
	struct call *call; /* the trapped call it serves, while it does */
	bool finished;
	struct task *next_free;
	struct task *next_ready;
	void *asan_fake_stack;
};

struct task_pool {
	ucontext_t boot_ctx;
	sigjmp_buf loop_env;
	struct task *current;
	struct task *free;
	unsigned live;
	struct task *ready;		 /* woken from a task: run by the loop next */
	struct deferred_spawn *deferred; /* spawned from a task: started by the loop */
	void *asan_fake_stack;
	const void *loop_stack; /* the loop's stack, as AddressSanitizer saw it */
	size_t loop_stack_size;
};

/* Creates a task running fn(t) and runs it until it finishes or sleeps.
 * From a task, the loop creates and runs it next (a task's stack is started
 * from the loop's). `notif` (may be NULL) is copied into the task. 0 or
 * -ENOMEM. */
int task_spawn(struct sup *s, task_fn fn, const struct seccomp_notif *notif, void *arg);

/* Called by a task: gives the CPU back to the event loop until task_wake(). */
void task_sleep(struct task *t);

/* Called by the event loop: runs t until it sleeps again or finishes. Called
 * by a task: as task_wake_later(). */
void task_wake(struct task *t);

/* Wakes t from wherever: a task must never run another itself (the switch
 * back to the loop would land in the waker instead), so t is queued for the
 * loop, which calls task_run_ready() after every event. */
void task_wake_later(struct task *t);
void task_run_ready(struct sup *s);

void task_pool_destroy(struct task_pool *pool);

#endif
