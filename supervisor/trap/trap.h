/* The trap: what seccomp user notification and ptrace give us over the
 * command's process tree, and nothing of Coda. The listener's notifications
 * become calls (struct call: read the arguments and the target's memory,
 * answer once: a result, an error, "continue" or an injected fd), each
 * served by a task with a stack of its own so that it can sleep while the
 * event loop goes on; the per-process table keeps what tasks share as
 * clone(2) says; ptrace does what seccomp alone cannot. The layers above
 * (syscalls/) say how to serve a call and what they keep per process
 * (struct trap_ops); the trap calls up only through that. */
#ifndef CODA_TRAP_H
#define CODA_TRAP_H

#include <limits.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#if defined(__x86_64__)
#include <sys/user.h>
#endif
#include <time.h>
#include <ucontext.h>
#include <uthash.h>

#include "proto/latency.h"

struct trap;
struct task;
struct call;
struct proc;
struct fd_wait;
struct deferred_spawn;

/* ---- Tasks (task.c) ---- */

typedef void (*task_fn)(struct task *t);

struct task {
	ucontext_t ctx; /* used once, to start on its own stack */
	sigjmp_buf env;
	void *stack;
	struct trap *trap;
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
int task_spawn(struct trap *t, task_fn fn, const struct seccomp_notif *notif, void *arg);

/* Called by a task: gives the CPU back to the event loop until task_wake(). */
void task_sleep(struct task *t);

/* Called by the event loop: runs t until it sleeps again or finishes. Called
 * by a task: as task_wake_later(). */
void task_wake(struct task *t);

/* Wakes t from wherever: a task must never run another itself (the switch
 * back to the loop would land in the waker instead), so t is queued for the
 * loop, which calls task_run_ready() after every event. */
void task_wake_later(struct task *t);
void task_run_ready(struct trap *t);

void task_pool_destroy(struct task_pool *pool);

/* ---- Calls (call.c, memory.c) ---- */

struct call {
	struct trap *trap;
	struct task *task;
	const struct seccomp_notif *n;
	int listener; /* the seccomp listener the call came from */
	struct proc *proc;
	int64_t uid_override; /* the uid upcalls carry instead of fsuid, or -1 */
	int64_t recv_ns;      /* --stats: when its notification came, or 0 */
	bool answered;
	bool abandoned; /* the target left the call (killed) before our answer */
};

static inline uint64_t call_arg(const struct call *c, int i)
{
	return c->n->data.args[i];
}

void call_return(struct call *c, long result); /* >= 0, or -errno */
void call_continue(struct call *c);

/* Injects srcfd into the target as its call's result: at band slot `newfd`
 * (SETFD) or the lowest free fd (newfd < 0). Returns the fd number in the
 * target, or -errno (the call is then still unanswered). */
int call_inject_fd(struct call *c, int srcfd, int newfd, bool cloexec);

/* Adds srcfd to the target without answering the call: at newfd (replacing
 * what is there), or the lowest free fd when newfd < 0. The fd or -errno. */
int call_add_fd(struct call *c, int srcfd, int newfd, bool cloexec);

/* ---- A thread kept on our CPU across an ADDFD (affinity.c) ---- */

struct affinity_hold {
	pid_t tid;
	bool held;
	cpu_set_t own; /* the thread's own CPUs, to put back */
};

/* Allows thread tid the CPU we run on alone, if it may be changed. */
void affinity_hold(struct affinity_hold *h, pid_t tid);
/* Gives it its own CPUs back. */
void affinity_release(struct affinity_hold *h);

/* Is the target still waiting in this call? (Checked after every lookup in
 * /proc that names the target by pid.) */
bool call_valid(struct call *c);
/* The same for notification id of listener (not ENOENT). */
bool call_id_valid(int listener, uint64_t id);

/* Target memory. A path is read once, up to its NUL: -EFAULT for a bad
 * pointer, -ENAMETOOLONG when it has PATH_MAX bytes or more, as the kernel. */
int call_read_path(struct call *c, uint64_t addr, char buf[PATH_MAX]);
int call_read(struct call *c, uint64_t addr, void *buf, size_t len);
int call_write(struct call *c, uint64_t addr, const void *buf, size_t len);
/* A string of up to cap bytes, NUL included: its length or -errno. */
long call_read_string(struct call *c, uint64_t addr, char *buf, size_t cap);
/* Writes read-only pages too (/proc/PID/mem); of any process we may trace. */
int call_write_force(struct call *c, uint64_t addr, const void *buf, size_t len);
int mem_write_force(pid_t pid, uint64_t addr, const void *buf, size_t len);

/* Is the call task t serves to end now: its caller killed, or a SIGINT
 * waiting for it? For the venus channel's checks of held calls. */
bool call_task_interrupted(struct trap *tr, struct task *t);

/* Serves one notification (the body of a syscall task). */
void call_serve(struct task *t);

/* ---- ptrace (ptrace_call.c) ---- */

/* What a borrow left for the call it restarted. */
struct lent_fd {
	bool held;
	int fd;	  /* the target's fd number */
	int sock; /* ours of it, or -errno when it could not be got */
};

/* Stops c's thread, has it send its fd `fd` to us, and answers c so that the
 * thread makes the same call again when it goes on; that call finds what we
 * got in its task's `lent`. 0 when c is answered so, else -errno with c
 * unanswered and the thread untouched (no ptrace here, or it is traced). */
int fd_borrow(struct call *c, int fd);

/* The fd a borrow got for c's repeated call, if c is that call: true and
 * *sock (ours, or -errno) then. Anything else lent is dropped. */
bool fd_borrowed(struct call *c, int fd, int *sock);

void lent_fd_drop(struct lent_fd *l);

/* Answers c so that its thread makes the same call again, but with its
 * argument `arg` (0-5) set to `value`. 0, or -errno with c unanswered and
 * the thread untouched (no ptrace here, or it is traced). */
int call_restart_with_arg(struct call *c, int arg, uint64_t value);

#if defined(__x86_64__)
/* Sets r so that the thread makes syscall nr, with arguments a, from the
 * syscall instruction at ip, and no restart of the call it stopped in. */
void ptrace_regs_syscall(struct user_regs_struct *r, uint64_t ip, long nr, const uint64_t a[6]);
#endif

/* Thread tid, if it waits in a recvmsg the kernel does (one let through
 * untrapped), is made to make the call again from the start: trapped again.
 * It does not see it happen (a wait SO_RCVTIMEO bounds starts over). */
void fd_borrow_kick(pid_t tid);

/* Is pidfd_getfd denied to us (so that fds must be borrowed)? */
bool fd_borrow_needed(void);

/* ---- Processes (proc.c) ---- */

/* What the layers above keep per process that tasks share as clone(2)'s
 * CLONE_FS and CLONE_FILES say (the cwd, the fd table): the trap counts the
 * references and hands them on at clone, fork and unshare; they make the
 * copies and free them (struct trap_ops). Their struct starts with this. */
struct proc_shared {
	int refs;
};
enum { PROC_FS, PROC_FILES, PROC_SHARED };

struct creds {
	bool valid;
	pid_t pgid;   /* re-read with the credentials; upcalls carry it */
	mode_t umask; /* applied to the modes of new objects, as the VFS does */
	uid_t ruid, euid, fsuid;
	gid_t rgid, egid, fsgid;
	unsigned long long cap_prm, cap_eff; /* capabilities, bits 1 << CAP_* */
};

/* A task's supplementary groups. */
struct groups {
	int n;
	gid_t *list; /* the caller frees it */
};

/* Bytes the layers above overwrote in a task's memory (an exec of a /coda
 * program rewrites the caller's path), to be put back (trap_ops.exited). */
struct exec_undo {
	uint64_t addr;
	size_t len;		   /* 0: nothing to undo */
	unsigned char bytes[32];   /* what was there */
	unsigned char written[32]; /* what we put there */
	uint64_t mark_addr, mark;  /* tells the caller's memory from a new program's */
	pid_t parent;		   /* shares that memory (vfork), or 0 */
};

/* A fork, clone or vfork seen before it ran: what its child starts with. */
struct fork_record {
	struct fork_record *next;
	pid_t last_pid; /* the namespace's last pid then: the child's is above */
	struct proc_shared *shared[PROC_SHARED];
};

struct proc {
	pid_t tid;
	pid_t tgid;
	int pidfd; /* thread-group leaders: tells us when the process is gone */
	struct proc_shared *shared[PROC_SHARED];
	struct creds cred;
	struct groups groups; /* with cred, once host calls have wanted them */
	struct exec_undo undo;
	struct fork_record *forks; /* newest first; children not seen yet */
	struct lent_fd lent;	   /* a borrowed fd for the call it restarted */
	bool in_kernel_recvmsg;	   /* its last trapped call: a recvmsg let through */
	int users;		   /* calls being served: they hold pointers into us */
	bool exited;		   /* gone, freed when the last user lets go */
	UT_hash_handle hh;
};

/* Our children but the program's own (trap_ops.helper): the command, and
 * the orphans of its tree (we are its subreaper). Up to max of them into
 * out; how many. */
int proc_our_children(const struct trap *t, pid_t *out, int max);

/* Has task tid made a trapped call (or been adopted)? */
bool proc_known(struct trap *t, pid_t tid);

/* The state of task tid, created on first sight. NULL if it is gone (or
 * /proc is hidden from us), or if we have no memory or no fd free for it,
 * errno saying which. */
struct proc *proc_get(struct trap *t, pid_t tid);

/* A call being served holds its task's state, so that an exit seen meanwhile
 * does not free it under the call's feet. */
void proc_hold(struct proc *p);
void proc_release(struct trap *t, struct proc *p);

/* p is about to clone a process sharing its cwd or fd table (clone flags):
 * its child, when first seen, gets p's cwd and /coda fds as they are now,
 * shared where CLONE_FS / CLONE_FILES say, whatever p does meanwhile. */
int proc_note_fork(struct trap *t, struct proc *p, unsigned long flags);

/* p unshares its cwd or fd table (unshare(2) flags) from the tasks it shared
 * them with: it gets a copy of its own. */
int proc_unshare(struct trap *t, struct proc *p, unsigned long flags);

/* Credentials as they are now (re-read after a set*id call). */
int proc_creds(struct proc *p, struct creds *out);
void proc_creds_changed(struct proc *p);

/* Credentials with the supplementary groups: what the kernel would check a
 * host call of p's with. Kept until a set*id, capset or exec call. */
int proc_creds_groups(struct proc *p, struct creds *out, const struct groups **groups);
/* The same of task tid, read afresh (groups->list: the caller frees it). */
int proc_creds_now(pid_t tid, struct creds *cred, struct groups *groups);

/* Is a SIGINT waiting for task tid that the kernel's Coda module lets end an
 * upcall (fs/coda/upcall.c leaves only SIGINT, SIGKILL and SIGSTOP open)? */
bool proc_sigint_pending(pid_t tid);

/* Is a signal the caller does not block waiting to be delivered to task
 * tid (so that a blocking call of its must end now)? */
bool proc_signal_pending(pid_t tid);

/* The call task tid is in and its stack pointer, from /proc/TID/syscall
 * (nr -1: in none); -ESRCH if it is gone. A task the supervisor has just
 * let go, or woken to take an fd (ADDFD), runs on its way back to its wait,
 * and /proc says which call it is in only once it sleeps: it is given up to
 * 50 ms for that. */
int proc_syscall(pid_t tid, long *nr, uint64_t *sp);

/* The parent of task tid, or -errno. */
pid_t proc_parent(pid_t tid);

/* The process (thread group) of task tid, or -errno. */
pid_t proc_tgid(pid_t tid);

/* The process tgid has exited: forget it and its threads. */
void proc_exit(struct trap *t, pid_t tgid);

void proc_table_destroy(struct trap *t);

/* What is left of the tree: every process we know of that is still there,
 * and our children (its orphans) that made no trapped call yet, get sig. */
void proc_signal_tree(struct trap *t, int sig);
/* No task is left under the filter: what is left of the tree among our
 * children is dead, and is reaped now rather than left to init. */
void proc_reap_tree(struct trap *t);

/* p is about to change its cwd or close a /coda fd: its children not seen
 * yet (forks are not trapped) are first given what p has now, which is what
 * they had at the fork. Those of p's thread and of its leader: a child of
 * another thread copies what the process has when it is first seen. */
void proc_adopt_children(struct trap *t, struct proc *p);

/* Does /proc list a task's children here (CONFIG_PROC_CHILDREN)? */
bool proc_children_listed(void);

/* ---- The event loop (loop.c) ---- */

/* What an fd in the event set is: the trap's own kinds, then the layers
 * above's, each served by the handler set for it (loop_on). */
enum ev_kind {
	EV_LISTENER = 1, /* the command's seccomp listener */
	EV_PIDFD,	 /* a process of the tree has exited */
	EV_FDWAIT,	 /* an fd a held call waits for is ready */
	EV_ABOVE,	 /* the first kind of the layers above */
	EV_KINDS = 16
};

/* Serves an event of a kind (pid: given at loop_add). */
typedef void (*loop_handler)(struct trap *t, pid_t pid, uint32_t events);
void loop_on(struct trap *t, int kind, loop_handler fn);

/* A deadline kept: called before each wait, the ms until it is due, or -1
 * for none. 0 or -ENOSPC. */
typedef int (*loop_deadline)(struct trap *t);
#define LOOP_DEADLINES 4
int loop_on_deadline(struct trap *t, loop_deadline fn);

/* How often a call held for a target (an upcall, a blocking receive) is
 * checked for a signal that ends it: the kernel learns of one at once, we
 * only by asking /proc. */
#define LOOP_SIGNAL_CHECK_MS 10

/* The monotonic clock in ms: the deadlines of held calls. */
static inline int64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Asks the kernel to wake targets synchronously (Linux 6.6+), if it can. */
void loop_tune_listener(struct trap *t);

int loop_add(struct trap *t, int fd, int kind, pid_t pid);
/* Once: the fd is dropped from the set after its first event is served. */
int loop_add_oneshot(struct trap *t, int fd, int kind, pid_t pid);
void loop_remove(struct trap *t, int fd);

/* Serves events until done(t) is true (checked after each round). 0, or -1
 * when the loop itself failed (said on stderr). */
int loop_run_until(struct trap *t, bool (*done)(struct trap *t));

/* A notification is waiting on `listener` (the command's, or a hosted
 * venus's): received, and served by a task running serve. */
void loop_serve_listener(struct trap *t, int listener, task_fn serve);

/* ---- Held calls (fdwait.c) ---- */

/* The kernel's "restart if SA_RESTART" result (include/linux/errno.h, not in
 * the uapi): answered to a call, the kernel restarts it or says EINTR as the
 * caller's handler wants. */
#define ERESTARTSYS 512

/* Sleeps until fd is readable (0), a signal is pending for the caller
 * (-ERESTARTSYS, or -EINTR when timeout_ms is set, as sock_intr_errno()),
 * timeout_ms has passed (-EAGAIN; 0: none), or the caller was killed
 * (-EINTR). */
int fdwait_readable(struct call *c, int fd, int64_t timeout_ms);

/* Event-loop side: the wait of task tid is over (its fd is ready). */
void fdwait_ready(struct trap *t, pid_t tid);

/* Ends the waits whose deadline has passed or whose caller has a signal;
 * returns ms until the next check, or -1 when nothing waits. */
int fdwait_expire(struct trap *t);

/* ---- Our own signals (signals.c) ---- */

struct trap_signals {
	int rd, wr; /* the pipe of caught signals, or -1 */
	sigset_t set;
	volatile sig_atomic_t pending; /* caught since the loop last looked */
	volatile sig_atomic_t in_recv; /* the loop waits in RECV: jump out */
	sigjmp_buf recv_env;
	struct seccomp_notif recv_notif; /* what that RECV got */
};

/* The signals in set are caught from now on, each written to a pipe as a
 * struct signalfd_siginfo (ssi_signo, ssi_code, ssi_pid, ssi_uid): its read
 * end, for the caller to add to the event set, or -errno. */
int signals_init(struct trap *t, const sigset_t *set);
void signals_destroy(struct trap *t);
/* Around an ADDFD, and a fork: no signal of ours may interrupt it. */
void signals_block(struct trap *t, bool block);
/* In a child before exec: the handlers are ours, not its. */
void signals_child_reset(const struct trap *t);
/* The loop is about to wait on its event set, which shows every signal
 * caught until now. */
void signals_seen(struct trap *t);
/* The loop's idle wait: RECV on the listener until a notification (1, in
 * recv_notif) or a signal (0). */
int signals_recv_idle(struct trap *t);

/* ---- What --stats counts (stats.c) ---- */

/* The command's trapped calls by number (x86-64's are below 512; the
 * filter lets no other architecture's through), each from the receipt of
 * its notification to its answer, whatever the answer. */
#define TRAP_STATS_NRS 512
struct trap_stats {
	int64_t recv_ns; /* when the notification being served was received */
	uint32_t arch;	 /* AUDIT_ARCH_* of the calls counted */
	struct latency_hist calls[TRAP_STATS_NRS];
};

/* Counts the command's calls from now on (t->stats). 0 or -ENOMEM. */
int trap_stats_enable(struct trap *t);
/* c has been answered (call.c). */
void trap_stats_answered(struct call *c);
void trap_stats_free(struct trap *t);

/* ---- The trap's state ---- */

/* The children list of the task that looked last, kept open (proc.c). */
struct children_list {
	const struct proc *owner;
	int fd;
};

/* What the layers above tell the trap. */
struct proc_shared_ops {
	unsigned long clone_flag; /* CLONE_FS, CLONE_FILES: shared, not copied */
	/* A copy of from (NULL: a new process's own); stale: from is what the
	 * parent has now, not what it had at the fork (believe it only after a
	 * look). NULL when out of memory. */
	struct proc_shared *(*copy)(const struct proc_shared *from, bool stale);
	void (*free)(struct proc_shared *shared);
};

struct trap_ops {
	void (*serve)(struct call *c); /* one trapped call of the tree: answers it */
	/* Is this child of ours one of the program's own (venus, its shell),
	 * not the command's? */
	bool (*helper)(const struct trap *t, pid_t pid);
	/* Task p has exited: put back what it left in memory it shared. */
	void (*exited)(struct proc *p);
	struct proc_shared_ops shared[PROC_SHARED];
	/* The deadlines of the layers above: ms until the next, or -1. */
	int (*expire)(struct trap *t);
	/* Does nothing of theirs but the command's calls and our signals need
	 * the loop now (no writer watched, no venus that may speak first, the
	 * command still there)? The loop then waits in the listener itself. */
	bool (*quiet)(struct trap *t);
	/* Is an answer due within microseconds (an upcall in flight)? The
	 * loop then polls a while before it sleeps (loop.c). */
	bool (*answer_due)(struct trap *t);
};

/* The first stage (stage.c). */
struct stage_seized {
	pid_t tid, tgid; /* the exec stop comes as the tgid after a thread's exec */
	bool in_volume;	 /* its cwd is cwd, in the volume */
	uint32_t cwd[4];
};

struct stage_table_file;
struct stat;
struct statx;

struct trap_stage {
	bool on;       /* --stage, until the first exec shows ptrace cannot be had */
	bool filtered; /* the stage's filter is in the command, inherited */
	char mount[256];
	struct stage_seized *seized;
	size_t n, cap;
	/* Tables of stat answers (stage_table.c), in table_dir ("": none). */
	char table_dir[128];
	struct stage_table_file *tables;
	size_t ntables;
	uint32_t gen;	       /* flushes so far */
	uint32_t dir_seq;      /* the last count a directory was told under (even) */
	bool untold;	       /* a cwd or fd table is shared by two memories: none told */
	bool said_untraceable; /* an exec was refused, and we said why */
};

struct trap {
	const struct trap_ops *ops;
	int epfd;
	int listener;	      /* seccomp user-notification fd of the command */
	pid_t target;	      /* the command: the root of the tree */
	pid_t self_pid;	      /* us: the tree's subreaper */
	bool borrow_fds;      /* pidfd_getfd is denied here: fds are borrowed */
	bool trap_forks;      /* /proc lists no children here: every fork is trapped */
	bool tree_gone;	      /* no task is left under the filter */
	unsigned idle_served; /* calls served from the idle wait since events were looked at */
	struct proc *procs;   /* by tid */
	struct children_list children;
	struct trap_signals signals;
	struct fd_wait *fd_waits; /* blocking calls done on targets' behalf */
	struct trap_stats *stats; /* NULL unless counted */
	struct task_pool tasks;
	struct trap_stage stage;
	loop_handler handlers[EV_KINDS];
	loop_deadline deadlines[LOOP_DEADLINES];
};

/* The first stage. Before an execve is let through: seizes the caller so
 * that the new image stops at its start; 0, or -errno when the exec must be
 * refused (an image without the stage would die). cwd: the fid of the
 * caller's cwd if it is in the volume, or NULL. */
int stage_seize(struct call *c, const uint32_t cwd[4]);
/* The caller's cwd is now cwd, in the volume (NULL: elsewhere): told to
 * the stage of its program, for relative names (stage.h). Calls of the
 * command's tree only, as the rest below. */
void stage_tell_cwd(struct call *c, const uint32_t cwd[4]);
/* The caller's fd `fd` (of the fd band) is now the object fid of the
 * volume; its fds first..last may have closed. */
void stage_tell_fd(struct call *c, int fd, const uint32_t fid[4]);
void stage_forget_fds(struct call *c, long first, long last);
/* The caller is about to share its cwd or fd table with a process of a
 * memory of its own (clone CLONE_FS or CLONE_FILES without CLONE_VM),
 * which a stage cannot be told of: no stage is told either again. */
void stage_untold(struct call *c);

/* The tables of the stage's stat answers (stage_table.c): made in a new
 * directory under $TMPDIR; 0 or -errno. */
int stage_tables_init(struct trap *t);
void stage_tables_destroy(struct trap *t);
/* Flushes so far: an answer put with an older count is not kept. */
uint32_t stage_tables_gen(const struct trap *t);
/* Keeps the answer (as both structs; st NULL: ENOENT) to a stat of `path`
 * by fsuid uid, from the object of fid `start` if relative ("": that
 * object's own stat), following a last symlink or not, if the stage may
 * look it up (stage_path_len), and no flush came since gen was read. */
void stage_tables_put(struct trap *t, uint32_t gen, uid_t uid, const uint32_t start[4], bool follow,
		      const char *path, const struct stat *st, const struct statx *stx);
/* No answer kept so far counts any more. */
void stage_tables_flush(struct trap *t);
/* A ptrace stop that wait reported: true if it was a seized thread's, now
 * handled (the stage put in at an exec stop; the thread let go). */
bool stage_stopped(struct trap *t, pid_t pid, int status);
/* The stops of seized threads that no wait has reported yet. */
void stage_reap(struct trap *t);

/* The trap of this process, its event set created. 0 or -errno. */
int trap_init(struct trap *t, const struct trap_ops *ops);
void trap_destroy(struct trap *t);

#endif
