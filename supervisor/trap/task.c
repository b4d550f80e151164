/* glibc's longjmp checks refuse a jump to another stack; ours are meant to. */
#undef _FORTIFY_SOURCE

#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "trap.h"

/* Path buffers live on task stacks (a few of PATH_MAX each); pages never
 * touched are never backed, so a generous size costs nothing. */
#define TASK_STACK_SIZE (512 * 1024)

/* AddressSanitizer must be told of every stack switch, or it reports the
 * loop's and the tasks' stack frames as overflows of one another. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define ASAN_START(save, bottom, size)	__sanitizer_start_switch_fiber(save, bottom, size)
#define ASAN_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define ASAN_START(save, bottom, size)	((void)(save), (void)(bottom), (void)(size))
#define ASAN_FINISH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

/* Switching is sigsetjmp/siglongjmp without the signal mask: swapcontext
 * would cost two rt_sigprocmask calls on every switch. A ucontext is used
 * once per task, to start it on its own stack. */
static void task_to_loop(struct task *t)
{
	struct task_pool *pool = &t->trap->tasks;

	if (sigsetjmp(t->env, 0) == 0) {
		ASAN_START(&t->asan_fake_stack, pool->loop_stack, pool->loop_stack_size);
		siglongjmp(pool->loop_env, 1);
	}
	ASAN_FINISH(t->asan_fake_stack, NULL, NULL);
}

/* Every task runs this loop for its whole life: one call served per turn. */
static void task_main(unsigned int hi, unsigned int lo)
{
	struct task *t = (struct task *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
	struct task_pool *pool = &t->trap->tasks;

	ASAN_FINISH(NULL, &pool->loop_stack, &pool->loop_stack_size);
	if (sigsetjmp(t->env, 0) == 0) {
		ASAN_START(&t->asan_fake_stack, pool->loop_stack, pool->loop_stack_size);
		setcontext(&pool->boot_ctx);
	}
	ASAN_FINISH(t->asan_fake_stack, NULL, NULL);
	for (;;) {
		t->fn(t);
		t->finished = true;
		task_to_loop(t); /* returns when the task is given its next call */
	}
}

/* Kept out of line: getcontext returns twice as far as the compiler knows. */
static int __attribute__((noinline)) task_boot(struct task_pool *pool, struct task *t)
{
	uintptr_t p = (uintptr_t)t;

	if (getcontext(&t->ctx) < 0)
		return -errno;
	t->ctx.uc_stack.ss_sp = t->stack;
	t->ctx.uc_stack.ss_size = TASK_STACK_SIZE;
	t->ctx.uc_link = NULL;
	makecontext(&t->ctx, (void (*)(void))task_main, 2, (unsigned int)(p >> 32),
		    (unsigned int)p);
	ASAN_START(&pool->asan_fake_stack, t->stack, TASK_STACK_SIZE);
	if (swapcontext(&pool->boot_ctx, &t->ctx) < 0)
		return -errno;
	ASAN_FINISH(pool->asan_fake_stack, NULL, NULL);
	return 0;
}

static struct task *task_alloc(struct trap *s)
{
	struct task_pool *pool = &s->tasks;
	struct task *t = pool->free;

	if (t) {
		pool->free = t->next_free;
		return t;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->trap = s;
	t->stack = mmap(NULL, TASK_STACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->stack == MAP_FAILED || task_boot(pool, t) < 0) {
		if (t->stack != MAP_FAILED)
			munmap(t->stack, TASK_STACK_SIZE);
		free(t);
		return NULL;
	}
	return t;
}

static void switch_to(struct task_pool *pool, struct task *t)
{
	pool->current = t;
	if (sigsetjmp(pool->loop_env, 0) == 0) {
		ASAN_START(&pool->asan_fake_stack, t->stack, TASK_STACK_SIZE);
		siglongjmp(t->env, 1);
	}
	ASAN_FINISH(pool->asan_fake_stack, NULL, NULL);
	pool->current = NULL;
	if (t->finished) {
		pool->live--;
		t->next_free = pool->free;
		pool->free = t;
	}
}

static struct task *task_prepare(struct trap *s, task_fn fn, const struct seccomp_notif *notif,
				 void *arg)
{
	struct task *t = task_alloc(s);

	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	t->finished = false;
	if (notif)
		t->notif = *notif;
	else
		memset(&t->notif, 0, sizeof(t->notif));
	s->tasks.live++;
	return t;
}

struct deferred_spawn {
	task_fn fn;
	void *arg;
	bool has_notif;
	struct seccomp_notif notif;
	struct deferred_spawn *next;
};

static int defer_spawn(struct task_pool *pool, task_fn fn, const struct seccomp_notif *notif,
		       void *arg)
{
	struct deferred_spawn *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->fn = fn;
	d->arg = arg;
	d->has_notif = notif != NULL;
	if (notif)
		d->notif = *notif;
	d->next = pool->deferred;
	pool->deferred = d;
	return 0;
}

int task_spawn(struct trap *s, task_fn fn, const struct seccomp_notif *notif, void *arg)
{
	struct task *t;

	if (s->tasks.current)
		return defer_spawn(&s->tasks, fn, notif, arg);
	t = task_prepare(s, fn, notif, arg);
	if (!t)
		return -ENOMEM;
	switch_to(&s->tasks, t);
	return 0;
}

static void spawn_deferred(struct trap *s)
{
	struct task_pool *pool = &s->tasks;

	while (pool->deferred) {
		struct deferred_spawn *d = pool->deferred;

		pool->deferred = d->next;
		if (task_spawn(s, d->fn, d->has_notif ? &d->notif : NULL, d->arg) < 0)
			fprintf(stderr, "coda-exec: out of memory: a deferred task is lost\n");
		free(d);
	}
}

void task_sleep(struct task *t)
{
	task_to_loop(t);
}

void task_wake(struct task *t)
{
	/* From a task (a hosted venus's reply comes in one), the loop runs it. */
	if (t->trap->tasks.current)
		task_wake_later(t);
	else
		switch_to(&t->trap->tasks, t);
}

void task_wake_later(struct task *t)
{
	struct task_pool *pool = &t->trap->tasks;

	t->next_ready = pool->ready;
	pool->ready = t;
}

void task_run_ready(struct trap *s)
{
	struct task_pool *pool = &s->tasks;

	for (;;) {
		struct task *t;

		spawn_deferred(s);
		t = pool->ready;
		if (!t)
			return;
		pool->ready = t->next_ready;
		task_wake(t);
	}
}

void task_pool_destroy(struct task_pool *pool)
{
	while (pool->deferred) {
		struct deferred_spawn *d = pool->deferred;

		pool->deferred = d->next;
		free(d);
	}
	while (pool->free) {
		struct task *t = pool->free;

		pool->free = t->next_free;
		munmap(t->stack, TASK_STACK_SIZE);
		free(t);
	}
}
