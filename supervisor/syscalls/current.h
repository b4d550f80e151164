/* What a handler reaches from its call: the run it belongs to, the caller's
 * cwd and fd table (which the trap keeps per process, shared as clone(2)
 * says), and the call as the Coda module's caller. */
#ifndef CODA_CURRENT_H
#define CODA_CURRENT_H

#include "coda/coda.h"
#include "syscalls.h"
#include "trap/trap.h"

struct files_state;

/* The run's state behind a call. */
static inline struct sup *call_sup(struct call *c)
{
	return sup_of(c->trap);
}

/* The call as the Coda module sees a caller: the mount, and the task that
 * sleeps while venus answers. Lives until the end of the enclosing block. */
#define call_coda_req(c)                                                                           \
	(&(struct coda_req){.sb = &call_sup(c)->sb, .waiter = (struct coda_waiter *)(c)->task})

/* Where a process's cwd is: what the kernel cannot hold while it is inside
 * /coda. Tasks share it as CLONE_FS says (the trap counts its users). */
enum cwd_kind {
	CWD_HOST,     /* the kernel's cwd is the real one */
	CWD_CODA,     /* inside the mount: ours alone */
	CWD_EMULATED, /* a host directory reached from /coda by "..": ours alone */
};

struct fs_state {
	struct proc_shared shared; /* first: the trap counts its users */
	enum cwd_kind kind;
	char path[CODA_PATH_MAX]; /* absolute, for CWD_CODA and CWD_EMULATED */
	struct CodaFid fid;	  /* CWD_CODA */
};

static inline struct fs_state *proc_fs(struct proc *p)
{
	return (struct fs_state *)p->shared[PROC_FS];
}

static inline struct files_state *proc_files(struct proc *p)
{
	return (struct files_state *)p->shared[PROC_FILES];
}

#endif
