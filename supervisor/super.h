/* The supervisor's context: everything one run of coda-exec owns. There is no
 * other mutable state; every function reaches what it needs from here. */
#ifndef CODA_SUPER_H
#define CODA_SUPER_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "coda_wire.h"
#include "syscalls/hosted.h"
#include "coda/coda.h"
#include "syscalls/fdtable.h"
#include "trap/task.h"

struct proc;
struct fd_wait;

struct options {
	const char *mount;  /* mount point, absolute and normalised */
	const char *volume; /* directory the embedded venus serves */
	const char *cache;  /* venus cache directory */
	bool verbose;
	bool read_only;		   /* the volume is served read-only (EROFS) */
	int timeout_s;		   /* upcall timeout, as the kernel's coda_timeout */
	char **argv;		   /* the command */
	const char *venus_cmd;	   /* a Coda venus to host, or NULL */
	const char *venus_devices; /* its device paths, or NULL */
	bool open_by_path;	   /* CODA_OPEN_BY_PATH, not _BY_FD (bench/ compares them) */
	char *mount_buf, *volume_buf, *cache_buf; /* what we allocated of the above */
};

struct sup {
	struct options opt;
	int epfd;
	int listener; /* seccomp user-notification fd of the target */
	int sigfd;
	struct coda_sb sb;
	struct coda_sched sched;  /* how the Coda module's callers run: as tasks */
	struct proc *procs;	  /* by tid */
	struct fd_wait *fd_waits; /* blocking calls done on targets' behalf */
	struct file_memos file_memos;
	bool borrow_fds;   /* pidfd_getfd is denied here: fds are borrowed (ptrace_call.h) */
	bool coda_fd_sent; /* (then) a target has sent a /coda fd over a socket */
	bool trap_forks;   /* /proc lists no children here: every fork is trapped */
	struct task_pool tasks;
	pid_t target;
	int target_status;
	bool target_exited;
	int forwarded_signal; /* the last one passed on to the command */
	bool tree_gone;	      /* no task is left under the target's filter */
	pid_t venus_pid;
	struct hosted_venus hosted; /* --venus-cmd: a stock venus we host */
	pid_t self_pid;
	int opath_anchor; /* what O_PATH fds of /coda objects refer to */
	int self_exe;	  /* our own program: it runs exec plans in targets */
};

#endif
