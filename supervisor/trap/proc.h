/* What the supervisor knows of each target task: the cwd (which the kernel
 * cannot hold while it is inside /coda), the /coda files in its fd table and
 * its credentials. Threads share them as CLONE_FS / CLONE_FILES do; a new
 * process starts with a copy of its parent's, as fork does. */
#ifndef CODA_PROC_H
#define CODA_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "coda_wire.h"
#include "ptrace_call.h"
#include "syscalls/fdtable.h"
#include "coda/coda.h"

struct sup;

enum cwd_kind {
	CWD_HOST,     /* the kernel's cwd is the real one */
	CWD_CODA,     /* inside the mount: ours alone */
	CWD_EMULATED, /* a host directory reached from /coda by "..": ours alone */
};

struct fs_state {
	int refs;
	enum cwd_kind kind;
	char path[CODA_PATH_MAX]; /* absolute, for CWD_CODA and CWD_EMULATED */
	struct CodaFid fid;	  /* CWD_CODA */
};

struct creds {
	bool valid;
	pid_t pgid;   /* re-read with the credentials; upcalls carry it */
	mode_t umask; /* applied to the modes of new objects, as the VFS does */
	uid_t ruid, euid, fsuid;
	gid_t rgid, egid, fsgid;
};

/* Bytes an exec of a /coda program overwrote in the caller (exec.c). */
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
	struct fs_state *fs;
	struct files_state *files;
};

struct proc {
	pid_t tid;
	pid_t tgid;
	int pidfd; /* thread-group leaders: tells us when the process is gone */
	struct fs_state *fs;
	struct files_state *files;
	struct creds cred;
	struct exec_undo undo;
	struct fork_record *forks; /* newest first; children not seen yet */
	struct lent_fd lent;	   /* a borrowed fd for the call it restarted */
	bool in_kernel_recvmsg;	   /* its last trapped call: a recvmsg let through */
	int users;		   /* calls being served: they hold pointers into us */
	bool exited;		   /* gone, freed when the last user lets go */
	UT_hash_handle hh;
};

/* Our children but venus: the command, and the orphans of its tree (we are
 * its subreaper). Up to max of them into out; how many. */
int proc_our_children(const struct sup *s, pid_t *out, int max);

/* Has task tid made a trapped call (or been adopted)? */
bool proc_known(struct sup *s, pid_t tid);

/* The state of task tid, created on first sight. NULL if it is gone. */
struct proc *proc_get(struct sup *s, pid_t tid);

/* A call being served holds its task's state, so that an exit seen meanwhile
 * does not free it under the call's feet. */
void proc_hold(struct proc *p);
void proc_release(struct sup *s, struct proc *p);

/* p is about to clone a process sharing its cwd or fd table (clone flags):
 * its child, when first seen, gets p's cwd and /coda fds as they are now,
 * shared where CLONE_FS / CLONE_FILES say, whatever p does meanwhile. */
int proc_note_fork(struct proc *p, unsigned long flags);

/* p unshares its cwd or fd table (unshare(2) flags) from the tasks it shared
 * them with: it gets a copy of its own. */
int proc_unshare(struct proc *p, unsigned long flags);

/* Credentials as they are now (re-read after a set*id call). */
int proc_creds(struct proc *p, struct creds *out);
void proc_creds_changed(struct proc *p);

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
void proc_exit(struct sup *s, pid_t tgid);

void proc_table_destroy(struct sup *s);

/* p is about to change its cwd or close a /coda fd: its children not seen
 * yet (forks are not trapped) are first given what p has now, which is what
 * they had at the fork. Those of p's thread and of its leader: a child of
 * another thread copies what the process has when it is first seen. */
void proc_adopt_children(struct sup *s, struct proc *p);

/* Does /proc list a task's children here (CONFIG_PROC_CHILDREN)? */
bool proc_children_listed(void);

/* Replaces the cwd of p (all tasks sharing its fs see it). */
void proc_set_cwd(struct sup *s, struct proc *p, enum cwd_kind kind, const char *path,
		  const struct CodaFid *fid);

#endif
