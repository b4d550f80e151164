/* The system-call layer: what the program gets from it. Each trapped call
 * of the command goes to one handler (handlers.h, by call family: open.c,
 * stat.c, namespace.c, ...), which reads its arguments through the trap,
 * resolves its paths (lookup.c, and the Coda module's walk) and answers it
 * with what the Coda module says; the fd table (fdtable.c) and exec (exec.c)
 * are kept here. A hosted venus's trapped calls are served here too
 * (hosted.c, fakeroot.c). */
#ifndef CODA_SYSCALLS_H
#define CODA_SYSCALLS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "coda/coda.h"
#include "filters/venus_filter.h"
#include "trap/trap.h"

struct sup;

struct options {
	const char *mount;  /* mount point, absolute and normalised */
	const char *volume; /* directory the embedded venus serves */
	const char *cache;  /* venus cache directory */
	bool verbose;
	bool stats;		   /* count upcalls and calls, print them at the end */
	bool trace;		   /* print each upcall and downcall as it happens */
	bool stage;		   /* --stage: the first stage in each image */
	const char *log;	   /* where --verbose and --stats write, or NULL: stderr */
	bool read_only;		   /* the volume is served read-only (EROFS) */
	int timeout_s;		   /* upcall timeout, as the kernel's coda_timeout */
	char **argv;		   /* the command */
	const char *venus_cmd;	   /* a Coda venus to host, or NULL */
	const char *venus_devices; /* its device paths, or NULL */
	bool open_by_path;	   /* CODA_OPEN_BY_PATH, not _BY_FD (bench/ compares them) */
	const char *serve;	   /* --serve: serve jobs on this socket, or NULL */
	const char *attach;	   /* --attach: the server whose venus the command uses */
	const char *stop;	   /* --stop: the server to stop */
	char *mount_buf, *volume_buf, *cache_buf; /* what we allocated of the above */
};

/* An unmodified Coda venus, hosted without the kernel module. It runs under
 * a seccomp filter of its own (filters/venus_filter.c) and every call that
 * would reach the kernel's Coda device comes here: the open of the device
 * gets an end of our channel (at VENUS_DEV_FD), the version ioctl is
 * answered, mount(2) of type coda succeeds and names the mount point, and
 * each write of a reply or downcall is read from venus's memory and taken
 * in as psdev_write() would, the container of a CODA_OPEN_BY_FD reply taken
 * from venus's fd table while the write is held (venus closes it as soon as
 * its write returns). Upcalls reach venus's reads through the channel.
 * What it would need root for is answered as fakeroot would (fakeroot.h). */
/* Where each open of the device also puts, in venus, the read end of the
 * lifeline and the supervisor's end of the channel (hosted_lifeline). */
#define VENUS_LIFELINE_FD (VENUS_DEV_FD + 1)
#define VENUS_PEER_FD	  (VENUS_DEV_FD + 2)

struct hosted_venus {
	const char *cmd;     /* --venus-cmd, or NULL: the embedded venus */
	const char *devices; /* --venus-device: the paths of its device */
	int listener;	     /* venus's seccomp listener */
	int venus_end;	     /* what each open of its device gets */
	int lifeline[2];     /* a pipe whose write end only we hold */
	pid_t pid;	     /* venus itself, the process that opened the device */
	int pidfd;	     /* its pidfd until it exits */
	bool exited;	     /* (its pidfd said so) */
	bool mounted;	     /* it has mounted (the mount point is in mnt) */
	int timer;	     /* fires when it has taken too long to mount */
	bool too_late;
	bool stopping; /* we asked it to leave (SIGTERM): its exit is expected */
	bool relay;    /* a --serve server takes its replies, not our Coda module */
	char mnt[PATH_MAX];
};

/* Venus is to end with us, even when we are killed, and even when a shell
 * has forked it, out of reach of our PR_SET_PDEATHSIG. Only the kernel can
 * do it then: the read end of a pipe whose write end only we hold goes to
 * venus with its device, owned by venus (F_SETOWN) and set to signal
 * SIGTERM when it becomes readable (O_ASYNC, F_SETSIG), which it does when
 * our write end closes, at our exit. Our end of the channel goes to venus
 * too: its device then never reads 0 bytes, as it would once we are gone,
 * on which stock venus spins and no longer heeds SIGTERM. 0 or -errno. */
int hosted_lifeline(struct hosted_venus *h);

/* The body of a task serving one of venus's trapped calls. */
void hosted_serve(struct task *t);

/* Does a seccomp filter we run under (a container's profile) answer mount(2)
 * itself? venus's mount would then fail before its own filter could trap
 * it: every filter runs, and an errno beats a user notification. The kernel
 * fails our probe with EFAULT (its mount point is no string); the errno a
 * filter gave instead, or 0. */
int hosted_mount_preempted(void);

/* Start-up is done: venus has mounted, or has gone. */
bool hosted_ready(struct trap *t);

/* Has venus exited? Its own process once its device open named it; until
 * then, the one --venus-cmd started. */
bool hosted_exited(const struct sup *s);

/* Venus's pidfd says it has exited: the channel is dead. */
void hosted_venus_exited(struct sup *s);

/* At the end: asks venus to leave (SIGTERM; stock venus then flushes its RVM
 * log, or the next start finds a dirty shutdown and loses its cache) and
 * serves its calls until it has, for at most `secs`, then kills it; then
 * asks the rest of its command line to leave (stop_venus kills it). Venus
 * first, by its own pid: it leaves the process group it was started in.
 * The channel stays open meanwhile: on a closed device venus loops, deaf to
 * SIGTERM. */
void hosted_stop(struct sup *s, int secs);

/* What the /coda files put into bands lately were, by container: an fd in
 * flight over a Unix socket outlives its sender's fd and record, and its
 * receiver must still learn what it is. The newest first. Every directory's
 * open file is of one empty directory (coda/file.c): a directory's memo
 * keeps a copy of its open file, to know it by, and of its container. */
#define FILE_MEMOS 256
struct file_memo {
	struct CodaFid fid;
	int vtype;
	int flags;
	dev_t cdev;
	ino_t cino;
	char *path;	   /* NULL: a free entry */
	int dir_file;	   /* a directory's open file, or -1 */
	int dir_container; /* and its container */
};
struct file_memos {
	struct file_memo ring[FILE_MEMOS];
	unsigned next;
};

/* Our own credentials, which each host call made for a target leaves for
 * the target's and takes back (host.c). */
struct host_self {
	bool switching;		       /* we hold capabilities: host calls switch */
	uint64_t permitted, effective; /* ours (bits 1 << CAP_*) */
	uid_t fsuid;
	gid_t fsgid;
	struct groups groups;
	mode_t umask;	    /* during a host call: ours */
	bool uid, gid, grp; /* during a host call: what was switched */
};

/* Started by root, once the command and venus have started: keeps only the
 * capabilities the supervisor needs, and from then on makes the host calls
 * of targets with their credentials. Started by anyone else: nothing
 * changes. 0 or -errno. */
int host_creds_drop_caps(struct sup *s);

/* The events the layers above the trap add to its loop. */
enum {
	EV_VENUS = EV_ABOVE, /* the venus channel */
	EV_SIGNAL,	     /* the program's signalfd */
	EV_INOTIFY,	     /* writers' last releases (the Coda module's release.c) */
	EV_VENUS_LISTENER,   /* a hosted venus's seccomp listener */
	EV_TIMER,	     /* a hosted venus has taken too long to mount */
	EV_VENUS_PIDFD,	     /* a hosted venus has exited */
};

/* One run of coda-exec: everything it owns. There is no other mutable
 * state; every function reaches what it needs from here. */
struct sup {
	struct options opt;
	struct trap trap;
	int sigfd;
	struct coda_sb sb;
	struct coda_sched sched; /* how the Coda module's callers run: as tasks */
	struct file_memos file_memos;
	bool coda_fd_sent; /* (then) a target has sent a /coda fd over a socket */
	int target_status;
	bool target_exited;
	int forwarded_signal; /* the last one passed on to the command */
	pid_t venus_pid;
	long venus_maxrss_kib;	    /* --stats: venus's peak RSS, once reaped */
	FILE *log;		    /* where --verbose and --stats write */
	struct hosted_venus hosted; /* --venus-cmd: a stock venus we host */
	bool fixed_containers;	    /* venus never rewrites one (coda/keep.h) */
	int opath_anchor;	    /* what O_PATH fds of /coda objects refer to */
	int self_exe;		    /* our own program: it runs exec plans in targets */
	struct host_self host;	    /* our credentials, against a target's */
	/* --serve with --venus-cmd: no command, only venus, hosted for the
	 * server (our parent), until it asks us to stop (a signal). */
	bool venus_only;
	bool stop_asked;
	int server_listener; /* the server's socket, not ours to hold */
};

/* The sup a trap is part of. */
static inline struct sup *sup_of(struct trap *t)
{
	return (struct sup *)((char *)t - offsetof(struct sup, trap));
}

/* Ties the layers together: the trap serves calls through the handlers,
 * the Coda module's callers run as trap tasks, the venus channel and the
 * writers' releases are served by the loop. 0 or -errno. */
int syscalls_init(struct sup *s);
void syscalls_destroy(struct sup *s);

/* exec of a /coda program runs coda-exec in the target with this option to
 * carry out the exec plan (exec.c). */
#define EXEC_PLAN_OPTION "--exec-plan"
/* In the target: runs the plan at `plan` (/dev/fd/N). Returns only on error,
 * with the exit status a shell would give. */
int exec_plan_run(const char *plan);

#endif
