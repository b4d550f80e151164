/* The Coda module: what the kernel's fs/coda and the VFS's path walk do for
 * one mount, with venus at the other end of a message channel. It knows
 * nothing of seccomp, of processes or of their memory: a caller comes as a
 * struct coda_req (the mount, who is asking, and how that caller sleeps
 * while venus answers), and what it gets back is Coda fids, attributes,
 * names and open container files. The system-call layer (syscalls/) turns
 * trapped calls into these calls; the trap beneath runs them as tasks.
 *
 * The files are named as the kernel's: psdev.c (the channel), upcall.c (one
 * function per venus call), cache.c (names, attributes, access rights, link
 * targets), dir.c, file.c, inode.c, symlink.c, coda_linux.c (conversions),
 * namei.c (the path walk), release.c (the last close of a writer, which
 * the kernel sees in coda_release) and keep.c (readers' containers kept
 * past their last release). */
#ifndef CODA_CODA_H
#define CODA_CODA_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include "proto/coda_wire.h"
#include "proto/latency.h"
#include "proto/msg.h"

/* Whoever sleeps while its upcall is out: opaque to the module (the trap's
 * task). */
struct coda_waiter;

/* What the module needs of whatever runs it, as fs/coda needs the kernel's
 * scheduler: a caller sleeps until its reply has come; work nobody waits
 * for (a CODA_CLOSE after a last release) runs as a waiter of its own. */
struct coda_sched {
	void (*sleep)(struct coda_waiter *w);	   /* until a wake */
	void (*wake)(struct coda_waiter *w);	   /* from outside any waiter */
	void (*wake_later)(struct coda_waiter *w); /* from a waiter */
	/* Is w's caller killed, or has a SIGINT come for it? */
	bool (*interrupted)(struct coda_waiter *w);
	/* The caller as an upcall names it: pid, process group, fsuid. */
	int (*caller)(struct coda_waiter *w, struct coda_caller *who);
	/* Runs fn(w, arg) as a waiter of its own. 0 or -errno. */
	int (*spawn)(void *ctx, void (*fn)(struct coda_waiter *w, void *arg), void *arg);
	void *ctx;
};

struct name_entry;
struct cnode_entry;

/* What venus said, as the kernel keeps it in its dcache, its inodes and
 * fs/coda/cache.c: names (positive and negative), attributes, symlink
 * targets and access rights per user, valid until a downcall says not. */
struct coda_caches {
	struct name_entry *names;
	struct cnode_entry *cnodes; /* attributes, rights and link targets, by fid */
	unsigned count;
	/* Attribute drops so far: answers asked for before one may be stale. */
	unsigned long attr_drops;
	uint32_t attr_versions; /* attribute puts so far */
	/* Told whenever an answer kept here may no longer hold (a drop, a
	 * change, a new writer), so that copies made elsewhere go too. */
	void (*changed)(void *arg);
	void *changed_arg;
};

struct upc_req;
struct shtable;

/* What the channel carried, by opcode, for --stats (stats.c): upcalls sent
 * and the latency of those answered, from their write to the read of their
 * reply (CODA_SIGNAL has none), downcalls, and upcalls answered from a
 * server's shared table with no message. */
struct coda_stats {
	uint64_t sent[CODA_NCALLS];
	struct latency_hist replied[CODA_NCALLS];
	uint64_t downcalls[CODA_NCALLS];
	uint64_t shared[CODA_NCALLS];
};

/* The channel to venus, as the kernel's struct venus_comm. */
struct venus_comm {
	int chan;		 /* our end of the message channel, -1 once closed */
	bool dead;		 /* venus closed the channel: every call now fails */
	bool quiet;		 /* its end is expected: say nothing when it comes */
	pid_t venus_pid;	 /* whose scheduling counts as progress, and whose
				  * cwd a relative CODA_OPEN_BY_PATH name is in */
	uint32_t seq;		 /* last unique handed out */
	int timeout_ms;		 /* how long venus may make no progress at all */
	int64_t progress_ms;	 /* when venus last answered, or was seen working */
	int64_t sample_ms;	 /* when its scheduling count was last read */
	unsigned long long runs; /* how often it had been scheduled then */
	struct upc_req *pending; /* sent, waiting for a reply, by unique */
	/* A --serve server's answers of our uid (proto/shtable.h), or NULL. */
	const struct shtable *shared;
	uint32_t shared_uid; /* our uid as the server knows it */

	/* What it carried, if counted (NULL: not). */
	struct coda_stats *stats;
};

struct writer;

/* Writers' open files, watched for their last release (release.c). */
struct release_state {
	int inotify_fd;
	struct writer *by_wd;
	unsigned active;	/* writers not yet closed with venus */
	unsigned reader_closes; /* readers' CODA_CLOSEs under way */
	bool shared;		/* other jobs of a server write the containers too */
};

struct kept;

/* Readers' containers kept past their last release (keep.c), by fid, the
 * least recently used first. */
struct keep_state {
	struct kept *by_fid;
	unsigned max; /* 0: none is kept (a venus that may rewrite them) */
	int fd_cap;   /* an fd numbered this high is not kept: fds run short */
};

struct listing;
struct pf_wait;

/* Directory read-ahead (prefetch.c): the listing it follows, and the
 * callers that wait for one of its upcalls, checked for signals as psdev
 * checks the callers of their own. */
struct prefetch_state {
	struct listing *listing;
	struct pf_wait *waiting;
	int64_t check_ms; /* when the waiting are next checked */
};

/* The mount, as the kernel's super_block and coda_sb_info. */
struct coda_sb {
	char mnt[PATH_MAX];
	size_t mnt_len;
	bool root_valid;
	struct CodaFid root;
	dev_t dev;	      /* st_dev reported for every object in the mount */
	ino_t mnt_parent_ino; /* the host directory holding the mount point */
	bool verbose;
	bool trace;	   /* --trace: each upcall and downcall as it happens */
	FILE *log;	   /* where verbose and trace lines go (stderr unless set) */
	bool open_by_path; /* CODA_OPEN_BY_PATH, not _BY_FD (bench/ compares them) */
	/* An O_PATH fd of an empty directory, already removed: a /coda
	 * directory's fd is an open file of it (file.c). */
	int dir_stub;
	struct coda_caches caches;
	struct venus_comm vc;
	struct release_state release;
	struct keep_state keep;
	struct prefetch_state prefetch;
	const struct coda_sched *sched;
};

/* One caller's request: the mount, and who asks (the kernel's current). */
struct coda_req {
	struct coda_sb *sb;
	struct coda_waiter *waiter;
};

/* The module's state, its callers run by sched. 0 or -errno. */
int coda_sb_init(struct coda_sb *sb, const struct coda_sched *sched);
/* The mount point: `mnt` (absolute, normalised). */
void coda_sb_mount(struct coda_sb *sb, const char *mnt);
void coda_sb_destroy(struct coda_sb *sb);
/* keep.c: readers' containers are kept past their last release from now
 * on, for a venus that never rewrites a container in place: at most half
 * of fd_limit (our RLIMIT_NOFILE), and fewer once our fds come near it,
 * and at most KEEP_MAX: 16,384 fds, about 4 MiB of the kernel's memory and
 * 1 MiB of ours. */
#define KEEP_MAX 16384
void keep_enable(struct coda_sb *sb, long fd_limit);
/* Counts what the channel carries from now on (sb->vc.stats). 0 or -ENOMEM. */
int coda_stats_enable(struct coda_sb *sb);

/* psdev.c: the channel. */
void psdev_init(struct venus_comm *vc, int chan, int timeout_s);
/* The channel is a --serve server's connection, which handed us the
 * memfd table of its answers for uid: LOOKUP, GETATTR and ACCESS are
 * answered from it when it has them. Takes table (-1: none). 0 or -errno. */
int psdev_share(struct venus_comm *vc, int table, uint32_t uid);
/* A message is waiting on the channel. */
void psdev_readable(struct coda_sb *sb);
/* Upcalls are in flight: their replies are due soon. */
bool psdev_answer_due(const struct coda_sb *sb);
/* A message from venus however it came (the channel, or a hosted venus's
 * write on its device): a reply wakes its caller, a downcall reaches the
 * caches. Takes in->fd. */
void psdev_deliver(struct coda_sb *sb, struct coda_msg *in);
/* The upcall still waiting for the reply `unique`, or NULL. */
const struct coda_msg *psdev_upcall_of(struct coda_sb *sb, uint32_t unique);
/* Fails the calls whose time is up or whose caller was interrupted, telling
 * venus (CODA_SIGNAL); returns ms until the next check or -1. */
int psdev_expire(struct coda_sb *sb);
/* The channel is gone: fail every pending call and refuse new ones. */
void psdev_venus_gone(struct coda_sb *sb);

/* inode.c */
int coda_root(struct coda_req *r, struct CodaFid *root);
int coda_getattr(struct coda_req *r, const struct CodaFid *fid, struct coda_vattr *attr);
/* CODA_SETATTR of the fields set in attr (the others all ones), then the
 * cached attributes forgotten. */
int coda_setattr(struct coda_req *r, const struct CodaFid *fid, const struct coda_vattr *attr);
int coda_statfs(struct coda_req *r, struct coda_statfs *st);

/* dir.c. -ENOENT when there is no such name (cached as a negative dentry). */
int coda_lookup(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len,
		struct CodaFid *fid, int *vtype);
/* coda_lookup for an exclusive create (LOOKUP_EXCL): a name the caches do
 * not know is -ENOENT with *unasked set, and no LOOKUP made. */
int coda_lookup_excl(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len,
		     struct CodaFid *fid, int *vtype, bool *unasked);
/* Is `name` in dir known missing (venus said so, and nothing since)? */
bool coda_name_missing(struct coda_sb *sb, const struct CodaFid *dir, const char *name);
/* mask: C_A_R_OK | C_A_W_OK | C_A_X_OK, for the caller's fsuid. */
int coda_permission(struct coda_req *r, const struct CodaFid *fid, int mask);
/* Namespace changes: the venus call, then the caches brought up to date so
 * that the next lookup and stat are right. */
int coda_create(struct coda_req *r, const struct CodaFid *dir, const char *name, int excl,
		mode_t mode, struct CodaFid *fid);
int coda_dir_mkdir(struct coda_req *r, const struct CodaFid *dir, const char *name, mode_t mode);
int coda_symlink(struct coda_req *r, const struct CodaFid *dir, const char *name,
		 const char *target);
int coda_link(struct coda_req *r, const struct CodaFid *fid, const struct CodaFid *dir,
	      const char *name);
int coda_dir_unlink(struct coda_req *r, const struct CodaFid *dir, const char *name,
		    const struct CodaFid *victim);
int coda_rmdir(struct coda_req *r, const struct CodaFid *dir, const char *name,
	       const struct CodaFid *victim);
int coda_dir_rename(struct coda_req *r, const struct CodaFid *from_dir, const char *from,
		    const struct CodaFid *moved, const struct CodaFid *to_dir, const char *to,
		    const struct CodaFid *replaced);

/* symlink.c: fills buf with the target (not NUL-terminated); its length. */
ssize_t coda_get_link(struct coda_req *r, const struct CodaFid *fid, char *buf, size_t cap);

/* An open /coda file: the record of what the caller has open, shared by
 * every fd of it (refs), as the kernel's struct file of a Coda inode. */
struct coda_file {
	int refs;
	struct CodaFid fid;
	int vtype;
	int flags;     /* the open flags */
	int host_fd;   /* our copy of the open file (shared offset), or -1 */
	int container; /* a directory's container, which readdir reads, or -1 */
	/* A directory's container as readdir last read it, and its inode,
	 * size and ctime then: read again only once a write changed it (ctime
	 * moves with every write and no one can set it back). */
	char *image;
	size_t image_len;
	struct timespec image_ctime;
	ino_t image_ino;
	dev_t cdev; /* the container, to recognise the open file later */
	ino_t cino;
	char *path; /* absolute path of the object, for getcwd after fchdir */
	/* Where venus keeps a reader's container, as its reply said (coda/keep.c
	 * reopens a kept one by this name), or NULL. */
	char *container_path;
	/* A reader's open of venus: its last release is a CODA_CLOSE, as
	 * coda_release() sends (writers' go through release.c). */
	struct coda_sb *sb;
	bool venus_reader;
	struct coda_caller who;
	int cflags;
	uint32_t attr_version; /* the cached attributes it was opened under, or 0 */
};

/* file.c. CODA_OPEN of fid for an open(2) with flags, as coda_open(): the
 * record (path for later getcwd) in *fp and the open file to hand the
 * caller in *src (ours to close with coda_file_close_src): a reader's container itself, a writer's
 * own open of it, whose last release becomes the CODA_CLOSE venus stores
 * on. Not for O_PATH, which opens nothing. 0 or -errno. */
int coda_file_open(struct coda_req *r, const struct CodaFid *fid, int vtype, const char *path,
		   int flags, struct coda_file **fp, int *src);
/* A record of the object at fid opened with flags as the open file
 * `container`, of which it keeps a copy where it needs one: container
 * itself when `take` (on success only; coda_file_close_src then leaves it
 * alone), else a dup. */
struct coda_file *coda_file_new(const struct CodaFid *fid, int vtype, const char *path, int flags,
				int container, bool take);
/* Closes src, the fd just handed to the caller, unless it is f's own copy. */
void coda_file_close_src(const struct coda_file *f, int src);
struct coda_file *coda_file_get(struct coda_file *f);
void coda_file_put(struct coda_file *f);
/* CODA_FSYNC. The attributes stay (see file.c). */
int coda_fsync(struct coda_req *r, const struct CodaFid *fid);
/* getdents64 of an open directory: fills buf with up to count bytes of
 * linux_dirent64 records from its position on; the bytes or -errno. */
long coda_dir_readdir(struct coda_req *r, struct coda_file *f, char *buf, size_t count);

/* release.c, the loop's side: close events are waiting. */
void release_readable(struct coda_sb *sb);
/* Takes in the closes already done and says whether CODA_CLOSE upcalls
 * are still under way (the data would be lost if we left now). */
bool release_pending(struct coda_sb *sb);
/* Every task that could hold a write open has gone: the opens no close
 * event has released (another job of a server still wrote the container)
 * are released now. */
void release_all(struct coda_sb *sb);
/* Is a writer's container watched, or a CODA_CLOSE under way? */
bool release_watching(const struct coda_sb *sb);
/* fid has a writer: open, or closed with its store not yet made (its
 * size and times are then the container's, not what the cache holds). */
bool release_writing(struct coda_sb *sb, const struct CodaFid *fid);
/* Stores of earlier writers of fid first: what comes next sees them. */
void release_sync(struct coda_req *r, const struct CodaFid *fid);
/* A hosted venus passed its own writable open of this container (a write
 * CODA_OPEN_BY_FD): the close event of its release, which follows, is not
 * a writer's. Called while venus still holds it. 0 or -errno. */
int release_expect_venus_close(struct coda_sb *sb, int container, const struct CodaFid *fid,
			       int cflags, const struct coda_caller *who);

/* coda_linux.c: conversions, and a new open file (close-on-exec) of what
 * our fd is open on, through /proc/self/fd, with flags: fd or -errno. */
int coda_reopen(int fd, int flags);
mode_t coda_vtype_to_mode(long vtype); /* the S_IF* type, 0 if none */
/* A vattr with every field "not set" (all ones), as the kernel starts one. */
void coda_vattr_unset(struct coda_vattr *attr);
void coda_attr_to_stat(const struct coda_sb *sb, const struct CodaFid *fid,
		       const struct coda_vattr *a, struct stat *st);
void coda_attr_to_statx(const struct coda_sb *sb, const struct CodaFid *fid,
			const struct coda_vattr *a, struct statx *stx);
void coda_statfs_to_statfs(const struct coda_statfs *cs, struct statfs *st);

/* namei.c: the path walk, as fs/namei.c walks for the kernel: component by
 * component, through the mount point in either direction, following
 * symlinks inside the volume. */

/* The longest absolute path kept. A name given to the kernel is limited to
 * PATH_MAX, but a relative one walked from a deep cwd makes a longer
 * absolute path, which the kernel does not limit. */
#define CODA_PATH_MAX (4 * PATH_MAX)

#define LOOKUP_FOLLOW	   0x1 /* follow a symlink in the last component */
#define LOOKUP_DIRECTORY   0x2 /* the result must be a directory */
#define LOOKUP_EMPTY	   0x4 /* AT_EMPTY_PATH: "" names the dirfd itself */
#define LOOKUP_NO_SYMLINKS 0x8 /* openat2 RESOLVE_NO_SYMLINKS */
/* The call acts on the last name itself (mkdir, unlink, rename, ...), as the
 * kernel's filename_parentat() callers do: a trailing slash neither follows
 * a symlink there nor requires a directory; nd.trailing tells the caller. */
#define LOOKUP_NAME   0x10
#define LOOKUP_CREATE 0x20 /* open's O_CREAT: a trailing slash is EISDIR */
/* open's O_CREAT|O_EXCL: a last name the caches do not know is taken as
 * missing with no LOOKUP (nd.unasked), and CODA_CREATE finds out. */
#define LOOKUP_EXCL 0x40

enum namei_kind {
	NAMEI_CODA,	/* an object in the volume (or a missing last name) */
	NAMEI_HOST,	/* a host path that the caller's own string would not
			 * reach: the call must be done on its behalf at `path` */
	NAMEI_CONTINUE, /* a host path the kernel resolves as it is */
};

struct nameidata {
	enum namei_kind kind;
	bool missing;		       /* NAMEI_CODA: the last name does not exist */
	struct CodaFid fid;	       /* the object (missing: its would-be parent) */
	int vtype;		       /* C_V* of the object */
	char path[CODA_PATH_MAX];      /* absolute path of the result (continued: the name) */
	char last[CODA_MAXNAMLEN + 1]; /* the last name (missing: the one not found) */
	bool named;		       /* NAMEI_CODA ended on a name: parent and last are set */
	struct CodaFid parent;	       /* the directory holding `last` */
	int dots;		       /* it ended on "." (1) or ".." (2) */
	bool trailing;		       /* a "/" followed the last name */
	bool host_dir; /* NAMEI_HOST: the path lost a trailing "/" or "."; a directory only */
	bool unasked;  /* missing as far as the caches know: venus was not asked (LOOKUP_EXCL) */
};

/* Where a walk starts: the caller's root, a host directory (emulated: one
 * the caller's own string would not reach, as a cwd under a host path
 * reached through the volume), or an object of the volume. */
enum walk_from { WALK_ROOT, WALK_HOST, WALK_EMULATED, WALK_CODA };
struct walk_start {
	enum walk_from from;
	const char *path; /* absolute; not for WALK_ROOT */
	struct CodaFid fid;
	int vtype;
};

/* Walks `name` from `start`. 0 with nd filled, or the kernel's -errno. */
int coda_walk(struct coda_req *r, const struct walk_start *start, const char *name, int flags,
	      struct nameidata *nd);
/* The kernel's checks, in its order, before an unlink (dir: rmdir) of the
 * object a LOOKUP_NAME walk found, as may_delete() and do_unlinkat(). */
int coda_may_remove(const struct nameidata *nd, bool dir);
/* do_renameat2()'s checks of a rename of a to b (both LOOKUP_NAME walks in
 * the volume), in its order, then vfs_rename()'s; flags: RENAME_NOREPLACE. */
int coda_may_rename(const struct nameidata *a, const struct nameidata *b, unsigned flags);
/* The walk flags of an open(2) with flags (O_NOFOLLOW, O_CREAT|O_EXCL,
 * O_DIRECTORY, O_CREAT), as build_open_flags(). */
int coda_open_lookup_flags(int flags);
/* An open's O_CREAT of the missing name nd walked to (LOOKUP_CREATE):
 * CODA_CREATE of a file with perm (umask applied), and nd becomes it. */
int coda_create_named(struct coda_req *r, struct nameidata *nd, bool excl, mode_t perm);
/* The checks a kernel open makes of an object that exists, as may_open():
 * O_EXCL, a symlink, a directory opened for writing, the access rights. */
int coda_may_open(struct coda_req *r, const struct nameidata *nd, int flags);
/* Could `name`, walked from some host directory, reach the mount? If not,
 * the kernel can resolve it as it stands. */
bool coda_may_reach_mount(const struct coda_sb *sb, const char *name);
/* Is `path` (absolute, normalised) the mount point or inside it? */
bool coda_path_in_mount(const struct coda_sb *sb, const char *path);

#endif
