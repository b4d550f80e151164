/* Internals of the embedded venus, shared by its files and nothing else.
 *
 * One struct venus holds all mutable state; every function takes it. Errors
 * travel as negative errno values and become a reply's positive result only
 * at the dispatcher, as in venus and the kernel's fs/coda. */
#ifndef CODA_VENUS_INT_H
#define CODA_VENUS_INT_H

#include <sys/stat.h>
#include <uthash.h>

#include "proto/describe.h"
#include "proto/msg.h"

/* opaque[0] of every fid we hand out: no realms here, but keep the slot fixed. */
#define VENUS_REALM 0x7f000001u

/* Names venus itself puts in the volume (store.c's temp files): never shown. */
#define STORE_TMP_PREFIX ".coda-store."

/* The backing inode a fid stands for; all zero once the object is gone. */
struct fid_ino {
	uint64_t dev, ino;
};

/* What few cnodes need: open ones, written ones, linked ones, listed
 * directories. Allocated when first needed (fid_extra) and freed once it
 * holds nothing again (fid_extra_trim), so that a walk's many objects cost
 * only their struct fid_entry. */
struct fid_extra {
	char *alt_path;	      /* another name made by CODA_LINK, for when path goes */
	unsigned int opens;   /* CODA_OPEN_* not yet matched by CODA_CLOSE */
	unsigned int writers; /* of those, opens for write */
	/* The container holding bytes the volume may not have yet: the open
	 * write session's, or a closed one's not stored yet (a failed or a
	 * deferred store). Logged in the CML from the first write open on, so
	 * that a killed venus leaves it to the next. NULL: none. */
	char *dirty;
	/* Directories: bumped on every change venus makes, so a change within
	 * one timestamp tick still makes the directory container stale. A
	 * directory with no extra has had no container built in this run. */
	unsigned long gen, gen_built;
	/* After a store, the ctime shown while the backing file still has the
	 * ctime the store left it (attr_keep_ctime). */
	bool ctime_kept;
	struct timespec ctime_left, ctime_shown;
};

/* A cnode. The fid is made from the backing inode when first seen and then
 * kept: a store gives the backing file a new inode and a rename a new path,
 * and both are followed here, so a fid names one object for the whole run.
 * The one table it is in is by fid; it is found by inode and by number
 * through the fid those make (fid.c), so it carries one hash handle. */
struct fid_entry {
	UT_hash_handle hh;
	struct CodaFid fid;  /* hash key */
	struct fid_ino ikey; /* zero: gone, kept only until its last CODA_CLOSE */
	char *path;	     /* relative to the volume root; "." is the root; NULL: unknown */
	struct fid_extra *x; /* NULL: all of it zero */
	char path_in[];	     /* the first path, in the entry's own allocation */
};

/* An entry found by a key that does not make its fid (fid.c): by inode
 * when fid_make of its inode is not its fid (a store re-keyed it, or that
 * fid was taken), by number when its fid is not the number's own. */
struct fid_alias {
	UT_hash_handle hh;
	struct fid_ino key; /* a number is {0, number} */
	struct fid_entry *e;
};

/* A fid whose object is gone: never given to another object in this run,
 * as Coda fids are never reused (the supervisor may still cache it). */
struct retired_fid {
	struct CodaFid fid;
	UT_hash_handle hh;
};

struct uid_groups; /* access.c */

/* Opens answered lately, by unique (unique % RECENT_OPENS): a CODA_SIGNAL for
 * one says its caller never took the file, and the open is undone. */
#define RECENT_OPENS 1024
struct recent_open {
	uint32_t unique; /* 0: free */
	struct CodaFid fid;
	int flags;
};

/* A directory kept open by beneath.c. */
#define BENEATH_SLOTS 4
struct beneath_slot {
	char *shown; /* where its fd was: vol_shown and the path from the root; NULL: free */
	size_t len;  /* of shown */
	int fd;	     /* O_PATH, resolved beneath vol_fd */
	struct fid_ino key;
	unsigned long used;    /* parents_used when last handed out */
	unsigned long seen;    /* the beneath_epoch in which it was last seen at its path */
	unsigned long trusted; /* the watch generation it is trusted in (dir_watch.c); 0: none */
};

/* Watches on the directories above kept ones (dir_watch.c). */
struct dir_watch {
	int fd;		   /* inotify; -1: none, every check is a readlink */
	unsigned long gen; /* moves seen so far: a slot trusted in an older one is not */
	dev_t root_dev;	   /* the volume root, where a chain ends */
	ino_t root_ino;
	int min_wd, max_wd;	 /* the watch descriptors given since the last drop */
	unsigned int count;	 /* watches placed since the fd was made */
	unsigned int looks_left; /* readlinks before watching; 0: never */
};

struct venus_config;

/* Empty files kept for the cache's next new file (spare.c). */
#define SPARES 16

struct venus {
	const struct venus_config *cfg;
	pid_t pid; /* ours, in the names of our temp files */
	uid_t euid;
	gid_t egid;
	int vol_fd; /* O_PATH fd of the volume root: every backing path is relative to it */
	struct beneath_slot parents[BENEATH_SLOTS];
	unsigned long parents_used;
	/* Moves with each upcall, and each rename or rmdir of venus's own. */
	unsigned long beneath_epoch;
	int proc_fd; /* /proc/self/fd, where a kept fd shows where it is; -1: none */
	struct dir_watch watch;
	char *vol_shown; /* the volume root there, ending in '/'; "": unknown */
	size_t vol_shown_len;
	int cache_fd;	   /* the cache directory, holding one container per fid */
	char *cache_path;  /* absolute, for CODA_OPEN_BY_PATH replies */
	bool run_recorded; /* our record is in the cache's runs/ (runs.c) */
	bool sweep;	   /* a venus before us was killed: its leftovers go */
	unsigned long tmp_seq;
	struct fid_entry *fids;
	struct fid_alias *inodes;  /* the few entries fid_make of their inode misses */
	struct fid_alias *numbers; /* the few entries whose fid is not their number's own */
	uint32_t vol_id;	   /* the volume root's volume word, of numbers' own fids */
	struct retired_fid *retired;
	uint32_t fid_seq;  /* for fids whose inode-made value is taken */
	uint32_t num_next; /* for numbers whose inode-made value is taken */
	struct fid_entry *root;
	struct uid_groups *groups;
	struct recent_open recent_opens[RECENT_OPENS];
	unsigned int dirty; /* fids with a dirty container: entries of the CML */
	int cml_fd;	    /* the CML, open for appends; -1: not open */
	off_t cml_size;	    /* its size, while open */
	bool chown_warned;  /* a kept container's chown failed, and we said so */
	bool no_clone;	    /* the cache's file system cannot share extents (FICLONE) */
	unsigned long spare_seq[SPARES]; /* the spares', as in their names */
	unsigned int spares;
};

/* fid.c: the fid table and the backing objects behind it. */
int fid_init(struct venus *v);
void fid_fini(struct venus *v);
void fid_make(const struct stat *st, struct CodaFid *fid);
struct fid_entry *fid_find(struct venus *v, const struct CodaFid *fid);
int fid_stat(struct venus *v, const struct CodaFid *fid, struct fid_entry **ep, struct stat *st);
/* The entry of directory fid, checked as fid_stat checks an object: -ENOENT
 * (and forgotten) when another object has its path, -ENOTDIR when it is
 * not a directory. Its stat in *st, unless st is NULL. */
int fid_dir(struct venus *v, const struct CodaFid *fid, struct fid_entry **ep, struct stat *st);
int fid_child(struct venus *v, struct fid_entry *dir, const char *name, struct fid_entry **ep,
	      struct stat *st);
uint32_t fid_child_number(struct venus *v, struct fid_entry *dir, const char *name, uint64_t d_ino);
bool fid_matches(const struct fid_entry *e, const struct stat *st);
struct fid_entry *fid_by_inode(struct venus *v, const struct stat *st);
int fid_enter(struct venus *v, const struct stat *st, char *path, struct fid_entry **ep);
void fid_drop(struct venus *v, struct fid_entry *e);
void fid_set_path(struct fid_entry *e, char *path);
int fid_rekey(struct venus *v, struct fid_entry *e, const struct stat *st);
bool fid_gone(const struct fid_entry *e);
/* The rare state of e: fid_x to read it (all zero if none), fid_extra to
 * change it (NULL: out of memory), fid_extra_trim once it may be empty. */
extern const struct fid_extra fid_extra_none;
static inline const struct fid_extra *fid_x(const struct fid_entry *e)
{
	return e->x ? e->x : &fid_extra_none;
}
struct fid_extra *fid_extra(struct fid_entry *e);
void fid_extra_trim(struct fid_entry *e);
int fid_moved(struct venus *v, const char *from, const char *to);
/* Venus changed the directory e: its container is stale now. */
void fid_listing_changed(struct fid_entry *e);
char *fid_path_join(const char *dir, const char *name);
char *fid_path_parent(const char *path);

/* beneath.c: the backing object at a path from the volume root, reached
 * beneath it (a symlink or ".." that leaves it: -ENOENT, as for a name
 * gone), the last component never followed. Results are 0, an fd or a
 * length, or -errno. beneath_at gives the directory fd (borrowed) in which
 * the last component, *name, is to be found. */
int beneath_init(struct venus *v);
void beneath_fini(struct venus *v);
/* A new upcall: each kept directory is checked at its path again. */
void beneath_new_upcall(struct venus *v);

/* dir_watch.c: trust in a kept directory's path, until a move. */
void dir_watch_init(struct venus *v);
void dir_watch_fini(struct venus *v);
/* Reads the events come so far: the current generation, 0 without inotify. */
unsigned long dir_watch_gen(struct venus *v);
/* Watches every directory above directory fd, up to the volume root. The
 * generation before they were placed (the slot is trusted in it if no
 * event has come once its path is checked again), or 0. */
unsigned long dir_watch_chain(struct venus *v, int fd);
int beneath_at(struct venus *v, const char *path, const char **name);
int beneath_stat(struct venus *v, const char *path, struct stat *st);
/* name in the directory of fid dir, which must be the directory found at
 * dir's path (else -ENOENT): what is made there is made in dir. */
int beneath_stat_in(struct venus *v, const struct fid_entry *dir, const char *name,
		    struct stat *st);
/* The fd kept for directory fid dir (borrowed) if it is, now, the one at
 * dir's path and dir's inode: then beneath_stat_in in dir looks at no path
 * again in this upcall. -1 when unsure (not kept yet): ask fid_stat. */
int beneath_dir_kept(struct venus *v, const struct fid_entry *dir);
int beneath_open(struct venus *v, const char *path, int flags, mode_t mode);
/* The directory that path's last component lies in, opened anew with flags
 * through the fd kept for it: no walk from the directory above it. */
int beneath_parent_open(struct venus *v, const char *path, int flags);
int beneath_mkdir(struct venus *v, const char *path, mode_t mode);
int beneath_symlink(struct venus *v, const char *target, const char *path);
int beneath_chown(struct venus *v, const char *path, uid_t uid, gid_t gid);
int beneath_chmod(struct venus *v, const char *path, mode_t mode);
int beneath_utimens(struct venus *v, const char *path, const struct timespec ts[2]);
ssize_t beneath_readlink(struct venus *v, const char *path, char *buf, size_t len);
int beneath_link(struct venus *v, const char *from, const char *to);
int beneath_rename(struct venus *v, const char *from, const char *to);
int beneath_unlink(struct venus *v, const char *path, int flags);

/* attr.c: backing attributes in Coda's terms. */
int attr_vtype(mode_t mode);
/* GETATTR's answer for e, whose backing object is st (the ctime a store
 * left, and an open write session, show as on a local file). */
void attr_entry(struct venus *v, struct fid_entry *e, struct stat *st, struct coda_vattr *va);
void attr_keep_ctime(struct venus *v, struct fid_entry *e, const struct stat *before,
		     const struct timespec *changed);
/* attr_keep_ctime, with the object's stat after the change at hand. */
void attr_keep_ctime_now(struct fid_entry *e, const struct stat *before,
			 const struct timespec *changed, const struct stat *now);
void attr_stored(struct venus *v, struct fid_entry *e, const struct stat *before,
		 const struct stat *cst);
void attr_made(struct fid_entry *e, const struct stat *st);

/* access.c: mode-bit permission checks for the calling uid. */
int access_check(struct venus *v, uid_t uid, const struct stat *st, int mask);
int32_t access_rights(struct venus *v, uid_t uid, const struct stat *st);
bool access_in_group(struct venus *v, uid_t uid, gid_t gid);
int access_may_delete(struct venus *v, uid_t uid, const struct stat *dir,
		      const struct stat *victim);
void access_fini(struct venus *v);

/* container.c: whole-file copies handed to the supervisor. */
int container_init(struct venus *v);
int container_open(struct venus *v, struct fid_entry *e, const struct stat *st, int *fdp);
void container_name(const struct CodaFid *fid, char *buf, size_t len);
int container_copy(struct venus *v, int src, int dst);
/* st: the backing file, as the upcall found it. */
int container_take(struct venus *v, struct fid_entry *e, const struct stat *st, const char *name);
/* Whether anything may hold container fd open for writing (it refuses a
 * read lease). */
bool container_written(int fd);
bool container_alone(int fd);
/* openat read-only, with O_NOATIME where we may (the owner, or root). */
int open_noatime(int at, const char *path, int flags);
void container_drop(struct venus *v, const struct CodaFid *fid);
/* A name for a temp file of ours, prefix.PID.SEQ, in buf; tmp_name takes
 * the next SEQ and returns it. */
void tmp_name_of(const struct venus *v, const char *prefix, unsigned long seq, char *buf,
		 size_t len);
unsigned long tmp_name(struct venus *v, const char *prefix, char *buf, size_t len);
int cache_tmp_create(struct venus *v, const char *prefix, char *name, size_t len);
/* A new empty file `name` in the cache, open read-write: a spare if any
 * (cache_file_new), or made now (cache_file_create, open for `access`,
 * O_RDWR or O_RDONLY). */
int cache_file_new(struct venus *v, const char *name);
int cache_file_create(struct venus *v, const char *name, int access);
/* Whether s starts with the pid of a process gone (not ours), followed by
 * the character until: a venus that left its name on a file. */
bool pid_named_gone(const char *s, char until);
bool tmp_stale(const char *name, const char *prefix);
void tmp_sweep(int at, const char *path, const char *const *prefixes);

/* runs.c: the venuses running on the cache, each recorded from its start
 * to its clean stop. runs_start records ours, and says whether the cache
 * must be swept of what a killed one left; runs_swept forgets the killed
 * ones' records once it has been. */
bool runs_start(struct venus *v);
void runs_swept(struct venus *v);
void runs_stop(struct venus *v);

/* store.c: write sessions and the store of their bytes to the volume. */
int wc_open(struct venus *v, struct fid_entry *e, const struct stat *st, int flags, int *fdp);
int wc_close(struct venus *v, struct fid_entry *e);
int wc_store(struct venus *v, struct fid_entry *e, bool durable);
void wc_attr(struct venus *v, struct fid_entry *e, struct stat *st);
int wc_truncate(struct venus *v, struct fid_entry *e, off_t size);
int cache_truncate(struct venus *v, const char *name, off_t size);
int wc_utimens(struct venus *v, struct fid_entry *e, const struct timespec times[2]);
void wc_discard(struct venus *v, struct fid_entry *e);
int store_container(struct venus *v, struct fid_entry *e, const char *name, bool durable,
		    bool may_link, struct stat *st, struct stat *cst);

/* spare.c: empty old backing files, kept to become the next containers. */
/* The file at name in dfd, a backing file a store has just exchanged away
 * (into the cache, under a container name of ours, which it keeps): kept
 * if it fits, else removed. 0, or -errno if it could be neither. */
int spare_put(struct venus *v, int dfd, const char *name);
/* A spare, renamed to `name` in the cache and open read-write; -ENOENT:
 * there is none. */
int spare_take(struct venus *v, const char *name);
/* A spare as a write session's container, under its own name, which is
 * put in name (len bytes); open for `access` (O_RDWR or O_RDONLY).
 * -ENOENT: there is none. */
int spare_adopt(struct venus *v, char *name, size_t len, int access);
void spare_fini(struct venus *v);

/* cml.c: the client modify log, of the dirty containers. */
int cml_log(struct venus *v, struct fid_entry *e);
void cml_drop(struct venus *v, const char *name);
/* Logged before a store exchanges container `name`, inode ino, with the
 * backing file (store.c): afterwards the name holds the old file. */
int cml_moving(struct venus *v, const char *name, ino_t ino);
int cml_keep(struct venus *v, struct fid_entry *e);
void cml_forget(struct venus *v, struct fid_entry *e);
void cml_paths_changed(struct venus *v);
int cml_start(struct venus *v);
void cml_stop(struct venus *v);
#define CML_NAME   "CML"
#define CML_PREFIX "cml."

/* namespace.c: names in a directory, checked as the kernel's namei does. */
int name_check(const char *name);
void owner_set(struct venus *v, const char *path, uid_t uid, const struct stat *dir);

/* vnops.c: one handler per upcall; reply already initialised for success. */
typedef int (*vnop_fn)(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_root(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_lookup(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_getattr(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_vget(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_access(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_open_by_fd(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_open_by_path(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_close(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_readlink(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_statfs(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_access_intent(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_fsync(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_store(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_create(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_mkdir(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_remove(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_rmdir(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_rename(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_link(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_symlink(struct venus *v, const struct coda_msg *in, struct coda_msg *out);
int vn_setattr(struct venus *v, const struct coda_msg *in, struct coda_msg *out);

#endif
