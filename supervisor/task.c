#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "super.h"
#include "task.h"

/* Path buffers live on task stacks (a few of PATH_MAX each); pages never
 * touched are never backed, so a generous size costs nothing. */
#define TASK_STACK_SIZE (512 * 1024)

/* AddressSanitizer must be told of every stack switch, or it reports the
 * loop's and the tasks' stack frames as overflows of one another. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define ASAN_START(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define ASAN_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define ASAN_START(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define ASAN_FINISH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

static void task_entry(unsigned int hi, unsigned int lo)
{
	struct task *t = (struct task *)(((uintptr_t)hi << 32) | (uintptr_t)lo);

	struct task_pool *pool = &t->sup->tasks;

	ASAN_FINISH(t->asan_fake_stack, &pool->loop_stack, &pool->loop_stack_size);
	t->fn(t);
	t->finished = true;
	/* Back to the loop for good; the loop recycles this task. */
	ASAN_START(NULL, pool->loop_stack, pool->loop_stack_size);
	setcontext(&pool->loop_ctx);
}

static struct task *task_alloc(struct task_pool *pool)
{
	struct task *t = pool->free;

	if (t) {
		pool->free = t->next_free;
		return t;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->stack = mmap(NULL, TASK_STACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->stack == MAP_FAILED) {
		free(t);
		return NULL;
	}
	return t;
}

static void task_release(struct task_pool *pool, struct task *t)
{
	pool->live--;
	t->next_free = pool->free;
	pool->free = t;
}

static void switch_to(struct task_pool *pool, struct task *t)
{
	pool->current = t;
	ASAN_START(&pool->asan_fake_stack, t->stack, TASK_STACK_SIZE);
	swapcontext(&pool->loop_ctx, &t->ctx);
	ASAN_FINISH(pool->asan_fake_stack, NULL, NULL);
	pool->current = NULL;
	if (t->finished)
		task_release(pool, t);
}

/* Kept out of line: getcontext returns twice as far as the compiler knows. */
static void __attribute__((noinline)) task_prepare(struct task *t)
{
	uintptr_t p = (uintptr_t)t;

	getcontext(&t->ctx);
	t->ctx.uc_stack.ss_sp = t->stack;
	t->ctx.uc_stack.ss_size = TASK_STACK_SIZE;
	t->ctx.uc_link = NULL;
	makecontext(&t->ctx, (void (*)(void))task_entry, 2, (unsigned int)(p >> 32),
		    (unsigned int)p);
}

int task_spawn(struct sup *s, task_fn fn, const struct seccomp_notif *notif, void *arg)
{
	struct task_pool *pool = &s->tasks;
	struct task *t = task_alloc(pool);

	if (!t)
		return -ENOMEM;
	t->sup = s;
	t->fn = fn;
	t->arg = arg;
	t->finished = false;
	if (notif)
		t->notif = *notif;
	else
		memset(&t->notif, 0, sizeof(t->notif));
	task_prepare(t);
	pool->live++;
	switch_to(pool, t);
	return 0;
}

void task_sleep(struct task *t)
{
	struct task_pool *pool = &t->sup->tasks;

	ASAN_START(&t->asan_fake_stack, pool->loop_stack, pool->loop_stack_size);
	swapcontext(&t->ctx, &pool->loop_ctx);
	ASAN_FINISH(t->asan_fake_stack, NULL, NULL);
}

void task_wake(struct task *t)
{
	switch_to(&t->sup->tasks, t);
}

void task_pool_destroy(struct task_pool *pool)
{
	while (pool->free) {
		struct task *t = pool->free;

		pool->free = t->next_free;
		munmap(t->stack, TASK_STACK_SIZE);
		free(t);
	}
}
