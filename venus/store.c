/* Write sessions and the store: Coda's session semantics, on one
 * container per file.
 *
 * As on a kernel mount, every open of a file shares one container: a write
 * open takes the fid's current read container (or fills one) and writes
 * into it in place, so readers that hold it, and every open made while the
 * session lasts, see the writers' bytes. Its first write open moves the
 * container to a name of its own (cml.PID.SEQ) and logs it in the client
 * modify log (cml.c): from then on it holds bytes the volume may not have,
 * and the name is the session's until its store, which reads it.
 * A client of --serve may keep its copy of a container past the CODA_CLOSE
 * venus gets (the design note: venus cannot trust a library to report its
 * last close), so a container gets new bytes only within a write session
 * of its own: an O_TRUNC open starts the session in a new container, and
 * so does a write open of one something still holds for writing
 * (container_take); a refill is a new file renamed over the old.
 * The last writer's CODA_CLOSE (and every CODA_FSYNC or CODA_STORE) stores:
 * the backing file is made to hold exactly the container's bytes,
 * atomically, by a temp file renamed over it: the container itself, linked
 * into the volume, when nobody else holds it (store_container), else a
 * copy; or, over an empty backing file, the container exchanged with it
 * (store_exchange). The entry then leaves the log and the container is the
 * read container again, or, linked or exchanged, the backing file. A venus
 * killed before that leaves the entry, and the next venus on the cache
 * stores it, or takes it for stored where the exchange was made.
 * With cfg->defer_stores the last close keeps the container logged instead,
 * and it stands for the file until a later venus stores it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

static void store_step(const struct venus *v, int step)
{
	if (v->cfg->store_hook)
		v->cfg->store_hook(step);
}

static int wc_reopen(struct venus *v, const char *name, int flags)
{
	int fd = openat(v->cache_fd, name, flags | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Fills a new container with the bytes of the backing file, st as the
 * upcall found it, holes kept. The backing file is read only when there is
 * something to copy: a caller may write a file it may not read (mode 0200,
 * or O_CREAT with mode 0), as on a kernel mount. It gets the backing file's
 * times, so a session that writes nothing stores the same mtime back; any
 * write moves its mtime on. An empty one (O_TRUNC) gets the time of now,
 * which a store of it gives the backing file. */
static int wc_fill(struct venus *v, struct fid_entry *e, const struct stat *st, int fd, bool trunc)
{
	const char *name;
	int src, err = 0;

	if (trunc)
		return futimens(fd, NULL) < 0 ? -errno : 0;
	if (st->st_size > 0) {
		/* Copying is no read of the file: its atime stays. */
		src = beneath_at(v, e->path, &name);
		if (src >= 0)
			src = open_noatime(src, name, O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (src < 0)
			return src;
		err = container_copy(v, src, fd);
		close(src);
	}
	if (!err && futimens(fd, (struct timespec[2]){st->st_atim, st->st_mtim}) < 0)
		err = -errno;
	return err;
}

/* Fills the new container fd, made under `name`, and closes it, or with
 * keep gives it to *keep once filled; removed again if it cannot be
 * filled. */
static int wc_fill_new(struct venus *v, struct fid_entry *e, const struct stat *st, bool trunc,
		       int fd, const char *name, int *keep)
{
	int err = wc_fill(v, e, st, fd, trunc);

	if (keep && !err)
		*keep = fd;
	else
		close(fd);
	if (err)
		unlinkat(v->cache_fd, name, 0);
	return err;
}

/* A freshly filled container in place of the one logged as `name`: filled
 * under a temp name, so that the log never names a half-filled file. */
static int wc_create(struct venus *v, struct fid_entry *e, const struct stat *st, bool trunc,
		     const char *name)
{
	char tmp[64];
	int fd = cache_tmp_create(v, ".new.", tmp, sizeof(tmp)), err;

	if (fd < 0)
		return fd;
	err = wc_fill_new(v, e, st, trunc, fd, tmp, NULL);
	if (!err && renameat(v->cache_fd, tmp, v->cache_fd, name) < 0) {
		err = -errno;
		unlinkat(v->cache_fd, tmp, 0);
	}
	return err;
}

/* The session's container under `name`: the read container itself when it
 * is current (readers holding it then see the writes, as on a kernel
 * mount), else a new one. O_TRUNC starts a new, empty one: the readers'
 * bytes stay theirs, since venus cannot know when a client of --serve has
 * really closed its copy (the design note's recycling by unlink and
 * create). `name` (len bytes) is new and not logged yet, so a new
 * container is made under it directly, or a spare kept under a name of the
 * same kind becomes it and `name` becomes that: a venus killed while
 * filling it leaves a container no entry names, which the next one removes
 * (cml.c). A new one that stays empty (nothing to copy into it) is opened
 * read-only from the start, and kept open in *fdp for the reply; else
 * *fdp is -1. */
static int wc_take(struct venus *v, struct fid_entry *e, const struct stat *st, bool trunc,
		   char *name, size_t len, int *fdp)
{
	bool empty = trunc || st->st_size == 0;
	int access = empty ? O_RDONLY : O_RDWR;
	int fd;

	*fdp = -1;
	/* An empty file's read container has nothing to spare a copy of: it
	 * is taken only for the readers that hold it (they share the
	 * session's container, as on a kernel mount). */
	if (!trunc && (st->st_size > 0 || fid_x(e)->opens) && container_take(v, e, st, name) == 0)
		return 0;
	/* A spare is taken under its own name, which becomes the session's. */
	fd = spare_adopt(v, name, len, access);
	if (fd == -ENOENT)
		fd = cache_file_create(v, name, access);
	if (fd < 0)
		return fd;
	return wc_fill_new(v, e, st, trunc, fd, name, empty ? fdp : NULL);
}

/* The first write open of a file not dirty yet: its container, logged; a
 * read-only fd of it in *fdp, or -1, as wc_take gives. */
static int wc_begin(struct venus *v, struct fid_entry *e, const struct stat *st, bool trunc,
		    int *fdp)
{
	struct fid_extra *x = fid_extra(e);
	char name[64];
	int err;

	*fdp = -1;
	if (!x)
		return -ENOMEM;
	tmp_name(v, CML_PREFIX, name, sizeof(name));
	err = wc_take(v, e, st, trunc, name, sizeof(name), fdp);
	if (err)
		return err;
	x->dirty = strdup(name);
	err = x->dirty ? cml_log(v, e) : -ENOMEM;
	if (err) {
		free(x->dirty);
		x->dirty = NULL;
		unlinkat(v->cache_fd, name, 0);
		if (*fdp >= 0)
			close(*fdp);
		*fdp = -1;
	}
	return err;
}

/* A closed session's container, not stored yet, taken by a new session: a
 * copy of it if anything may still write it (a writer that kept its file
 * past its CODA_CLOSE, as a client of --serve may), so that such writes
 * never reach this session's store. */
static int wc_retake(struct venus *v, struct fid_entry *e)
{
	int src = wc_reopen(v, e->x->dirty, O_RDONLY), dst, err;
	char tmp[64];
	struct stat st;

	if (src < 0)
		return src;
	if (!container_written(src)) {
		close(src);
		return 0;
	}
	dst = cache_tmp_create(v, ".new.", tmp, sizeof(tmp));
	err = dst < 0 ? dst : container_copy(v, src, dst);
	if (!err && (fstat(src, &st) < 0 ||
		     futimens(dst, (struct timespec[2]){st.st_atim, st.st_mtim}) < 0))
		err = -errno;
	close(src);
	if (dst < 0)
		return err;
	close(dst);
	if (!err && renameat(v->cache_fd, tmp, v->cache_fd, e->x->dirty) < 0)
		err = -errno;
	if (err)
		unlinkat(v->cache_fd, tmp, 0);
	return err;
}

int wc_open(struct venus *v, struct fid_entry *e, const struct stat *st, int flags, int *fdp)
{
	bool trunc = flags & C_O_TRUNC;
	int fd = -1, err;

	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EOPNOTSUPP; /* special files are opened by the kernel itself */
	/* O_TRUNC of a file being written truncates the session's container,
	 * which its writers share, as it would on a local file system; of a
	 * file not stored yet but closed (kept, or its store failed), a new
	 * one takes the logged name, as a copy does for a write open of it
	 * that anything may still write. */
	if (!fid_x(e)->dirty)
		err = wc_begin(v, e, st, trunc, &fd);
	else if (trunc && !e->x->writers)
		err = wc_create(v, e, st, true, e->x->dirty);
	else if (!e->x->writers)
		err = wc_retake(v, e);
	else
		err = trunc ? wc_truncate(v, e, 0) : 0;
	if (err)
		return err;
	/* Passed read-only: the supervisor opens the container for writing
	 * itself. Our own fd is closed after the reply is sent, perhaps after
	 * the target's: were it writable, its close would look like the
	 * target's last release (inotify IN_CLOSE_WRITE) and come too late. */
	if (fd < 0)
		fd = wc_reopen(v, e->x->dirty, O_RDONLY);
	if (fd < 0)
		return fd;
	e->x->writers++;
	*fdp = fd;
	return 0;
}

/* The object is gone, and its unstored bytes with it. */
void wc_discard(struct venus *v, struct fid_entry *e)
{
	if (!fid_x(e)->dirty)
		return;
	e->x->writers = 0;
	cml_forget(v, e);
}

/* Writes the whole of src into dst (both at offset 0), syncs and stamps it. */
static int store_fill(struct venus *v, int src, int dst, const struct timespec times[2],
		      bool durable)
{
	int err = container_copy(v, src, dst);

	if (err)
		return err;
	store_step(v, 2);
	if (futimens(dst, times) < 0)
		return -errno;
	if (durable && fsync(dst) < 0)
		return -errno;
	return 0;
}

/* A file with hard links must stay one inode, so it is rewritten where it
 * is. This is NOT atomic: a crash during it leaves the file truncated or
 * part-written. */
static int store_in_place(struct venus *v, struct fid_entry *e, int src, bool durable,
			  const struct timespec times[2])
{
	struct stat st;
	int fd, err = 0;

	fd = beneath_open(v, e->path, O_WRONLY, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!fid_matches(e, &st))
		err = -ENOENT;
	else if (ftruncate(fd, 0) < 0)
		err = -errno;
	if (!err)
		err = store_fill(v, src, fd, times, durable);
	close(fd);
	return err;
}

/* The temp file `tmp` in dfd: a new file filled with the container's
 * bytes, given the backing file's owner and mode and synced; its stat in
 * *nst. Removed again on failure. */
static int tmp_filled(struct venus *v, int dfd, const char *tmp, int src, bool durable,
		      const struct stat *st, const struct timespec times[2], struct stat *nst)
{
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int err = 0;

	if (fd < 0)
		return -errno;
	store_step(v, 1);
	/* Owner before mode: a chown clears the set-id bits. */
	if (fchown(fd, st->st_uid, st->st_gid) < 0)
		err = -errno;
	if (!err && fchmod(fd, st->st_mode & 07777) < 0)
		err = -errno;
	if (!err)
		err = store_fill(v, src, fd, times, durable);
	if (!err && fstat(fd, &nst[0]) < 0)
		err = -errno;
	close(fd);
	if (err)
		unlinkat(dfd, tmp, 0);
	return err;
}

/* The container, open at src (and cst, if known), given the backing file's
 * owner, mode and times (and synced if durable), as the backing file it is
 * to become; its stat then in *nst. The owner only where it differs: the
 * mode that follows clears what a chown would. */
static int container_stamp(struct venus *v, int src, const struct stat *cst, bool durable,
			   const struct stat *st, const struct timespec times[2], struct stat *nst)
{
	bool owned = cst && cst->st_uid == st->st_uid && cst->st_gid == st->st_gid;

	if ((!owned && fchown(src, st->st_uid, st->st_gid) < 0) ||
	    fchmod(src, st->st_mode & 07777) < 0)
		return -errno;
	store_step(v, 2);
	if (futimens(src, times) < 0 || (durable && fsync(src) < 0) || fstat(src, nst) < 0)
		return -errno;
	return 0;
}

/* The temp file `tmp` in dfd: the container itself, linked there and given
 * the backing file's owner, mode and times, so that nothing is copied and
 * no inode made. Removed again on failure (-EXDEV: the cache is on another
 * file system). */
static int tmp_linked(struct venus *v, int dfd, const char *tmp, const char *name, int src,
		      bool durable, const struct stat *st, const struct timespec times[2],
		      struct stat *nst)
{
	int err;

	if (linkat(v->cache_fd, name, dfd, tmp, 0) < 0)
		return -errno;
	store_step(v, 1);
	err = container_stamp(v, src, NULL, durable, st, times, nst);
	if (err)
		unlinkat(dfd, tmp, 0);
	return err;
}

/* Renames temp file tmp over the backing file base in dfd, which was st.
 * An empty one is exchanged with it instead and kept as a spare (spare.c).
 * Not one with bytes: ext4 writes a file renamed over another out at once
 * (auto_da_alloc), so that a power loss leaves the old bytes or the new,
 * and takes no such care of an exchange. */
static int tmp_rename(struct venus *v, int dfd, const char *tmp, const char *base,
		      const struct stat *st)
{
	int err;

	if (st->st_size != 0 || renameat2(dfd, tmp, dfd, base, RENAME_EXCHANGE) < 0)
		return renameat(dfd, tmp, dfd, base) < 0 ? -errno : 0;
	err = spare_put(v, dfd, tmp);
	if (err)
		/* Not a file (a directory put there behind our back): back
		 * again, and fail as a rename over it would have. */
		renameat2(dfd, tmp, dfd, base, RENAME_EXCHANGE);
	return err;
}

/* The directory dfd, which was dst before a store's temp file came and went
 * in it: its times as they were, and so the ctime shown, and its listing
 * made anew (the file's entry has a new inode number). */
static void dir_restore(struct venus *v, int dfd, const struct stat *dst)
{
	struct fid_entry *dir = fid_by_inode(v, dst);
	struct stat now;

	/* By AT_EMPTY_PATH, which an O_PATH fd takes too (futimens does not). */
	utimensat(dfd, "", (struct timespec[2]){dst->st_atim, dst->st_mtim}, AT_EMPTY_PATH);
	if (!dir)
		return;
	if (fstat(dfd, &now) == 0)
		attr_keep_ctime_now(dir, dst, NULL, &now);
	fid_listing_changed(dir);
}

/* The atomic store: a temp file beside the backing file, holding the
 * container's bytes with the backing file's owner and mode, renamed over
 * it. A crash at any point leaves the old file or the new one; the temp
 * file it may leave is hidden from listings and removed by the next venus
 * that lists the directory. With by_link the temp file is the container
 * (tmp_linked), else a copy. -EPERM or -EACCES: not possible here (owner
 * we may not give, directory we may not write); the caller stores in place
 * instead. */
static int store_replace(struct venus *v, struct fid_entry *e, int src, const char *name,
			 bool by_link, bool durable, const struct stat *st,
			 const struct timespec times[2])
{
	const char *base = strrchr(e->path, '/');
	char tmp[64];
	struct stat nst, dst;
	int dfd, err = 0;

	base = base ? base + 1 : e->path;
	dfd = beneath_parent_open(v, e->path, O_RDONLY);
	if (dfd == -EACCES)
		dfd = beneath_parent_open(v, e->path, O_PATH);
	if (dfd < 0)
		return dfd;
	/* Writing a file does not change its directory on a kernel mount: the
	 * temp file and the rename must not show in the directory's times. */
	if (fstat(dfd, &dst) < 0) {
		err = -errno;
		goto out;
	}
	tmp_name(v, STORE_TMP_PREFIX, tmp, sizeof(tmp));
	err = by_link ? tmp_linked(v, dfd, tmp, name, src, durable, st, times, &nst)
		      : tmp_filled(v, dfd, tmp, src, durable, st, times, &nst);
	if (err)
		goto out;
	store_step(v, 3);
	err = tmp_rename(v, dfd, tmp, base, st);
	if (err) {
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	store_step(v, 4);
	dir_restore(v, dfd, &dst);
	if (durable)
		fsync(dfd); /* the rename itself durable; O_PATH fds cannot, harmlessly */
	err = fid_rekey(v, e, &nst);
out:
	close(dfd);
	return err;
}

/* The store of a file whose backing file is empty, most often one a
 * CODA_CREATE has just made: the container and the backing file trade
 * places, between the cache and the volume directory, in one
 * RENAME_EXCHANGE. The volume has the new bytes at once and whole, as from
 * store_replace, and the old file, now under the container's name, becomes
 * a spare (spare.c): one rename where store_replace makes a link, an
 * exchange, a rename out of the volume directory and an unlink. A venus
 * killed after the exchange must not store that old file over the new
 * one, so the log first names the inode the exchange puts in the volume
 * (cml_moving), and the next venus takes such an entry for stored.
 * -errno: nothing stored, the caller stores otherwise. */
static int store_exchange(struct venus *v, struct fid_entry *e, int src, const char *name,
			  const struct stat *st, const struct stat *cst,
			  const struct timespec times[2])
{
	struct stat nst, dst;
	const char *base;
	/* The directory's kept fd itself (O_PATH: a stat, the exchange and
	 * dir_restore need no more), not one of our own: nothing here makes
	 * beneath.c look at another directory before we are done with it. */
	int dfd = beneath_at(v, e->path, &base), err;

	if (dfd < 0)
		return dfd;
	err = fstat(dfd, &dst) < 0 ? -errno : 0;
	store_step(v, 1);
	if (!err)
		err = container_stamp(v, src, cst, false, st, times, &nst);
	if (!err)
		err = cml_moving(v, name, nst.st_ino);
	store_step(v, 3);
	if (!err && renameat2(v->cache_fd, name, dfd, base, RENAME_EXCHANGE) < 0)
		err = -errno;
	/* Not a file that went (a directory put there behind our back): back
	 * again, and fail as a rename over it would have. */
	if (!err && (err = spare_put(v, v->cache_fd, name)) != 0)
		renameat2(v->cache_fd, name, dfd, base, RENAME_EXCHANGE);
	if (!err) {
		store_step(v, 4);
		dir_restore(v, dfd, &dst);
		/* Stored whatever comes of this: venus forgets an object it
		 * cannot find by its new inode (no memory), and looks again. */
		fid_rekey(v, e, &nst);
	}
	return err;
}

/* Whether the container may become the backing file itself: no other name
 * has it, and nobody else has it open. A writer that kept it past its
 * CODA_CLOSE (as a client of --serve may) would write the volume; a reader
 * (tail -f) must go on seeing the file's next write session, which takes
 * the read container in place. */
static bool linkable(int src, const struct stat *cst, bool may_link)
{
	return may_link && cst->st_nlink == 1 && container_alone(src);
}

/* Whether a container that may become the backing file (linkable) may
 * trade places with it (store_exchange): the backing file is empty, on the
 * same file system, and the store need not be durable (an exchange is not
 * written out as a rename over a file is, see tmp_rename). */
static bool exchangeable(const struct stat *st, const struct stat *cst, bool durable)
{
	return st->st_size == 0 && !durable && cst->st_dev == st->st_dev;
}

enum stored { STORED_COPY, STORED_LINKED, STORED_EXCHANGED };

/* Makes the backing file of e hold exactly the bytes of container `name`:
 * STORED_COPY, or STORED_LINKED when the container has become the backing
 * file (may_link: no session holds it) and STORED_EXCHANGED when, besides,
 * the old backing file has become a spare under its name, or -errno. The
 * backing file as it was before, and the container, in *st and *cst. */
int store_container(struct venus *v, struct fid_entry *e, const char *name, bool durable,
		    bool may_link, struct stat *st, struct stat *cst)
{
	enum stored stored = STORED_COPY;
	struct timespec times[2];
	int src, err;

	if (!e->path)
		return -ENOENT;
	err = beneath_stat(v, e->path, st);
	if (err)
		return err;
	if (!fid_matches(e, st) || !S_ISREG(st->st_mode))
		return -ENOENT; /* replaced behind our back: nowhere to store */
	src = wc_reopen(v, name, O_RDONLY);
	if (src < 0)
		return src;
	if (fstat(src, cst) < 0) {
		err = -errno;
		close(src);
		return err;
	}
	/* The backing file keeps its atime and takes the container's mtime,
	 * which is then the read container's stamp too. */
	times[0] = st->st_atim;
	times[1] = cst->st_mtim;

	if (st->st_nlink > 1) {
		err = store_in_place(v, e, src, durable, times);
	} else {
		bool link = linkable(src, cst, may_link);

		err = -EXDEV;
		if (link && exchangeable(st, cst, durable)) {
			err = store_exchange(v, e, src, name, st, cst, times);
			stored = STORED_EXCHANGED;
		}
		if (err && link) {
			err = store_replace(v, e, src, name, true, durable, st, times);
			stored = STORED_LINKED;
		}
		if (err) {
			err = store_replace(v, e, src, name, false, durable, st, times);
			stored = STORED_COPY;
		}
		if (err == -EPERM || err == -EACCES)
			err = store_in_place(v, e, src, durable, times);
	}
	close(src);
	return err ? err : (int)stored;
}

/* Stored: the entry leaves the log first, then the container becomes the
 * read container (recycled by rename, never rewritten: a reader may hold
 * the old one), or, when it has become the backing file, its name in the
 * cache goes (linked) or is a spare's already (exchanged), with any older
 * read container, and the next read open fills a new one. Killed in
 * between, the next venus finds a container no entry names and removes it;
 * the volume has its bytes. */
static void wc_clean(struct venus *v, struct fid_entry *e, enum stored stored)
{
	char name[64], *dirty = e->x->dirty;

	e->x->dirty = NULL;
	cml_drop(v, dirty);
	container_name(&e->fid, name, sizeof(name));
	if (stored != STORED_COPY) {
		unlinkat(v->cache_fd, name, 0);
		if (stored == STORED_LINKED)
			unlinkat(v->cache_fd, dirty, 0);
	} else if (renameat(v->cache_fd, dirty, v->cache_fd, name) < 0) {
		unlinkat(v->cache_fd, dirty, 0); /* the next read open refills */
	}
	free(dirty);
}

int wc_store(struct venus *v, struct fid_entry *e, bool durable)
{
	struct stat before, cst;
	int rc;

	if (!fid_x(e)->dirty || fid_gone(e))
		return 0; /* nothing written, or nowhere left to store it */
	if (v->cfg->defer_stores)
		return 0; /* disconnected: the log keeps it */
	rc = store_container(v, e, e->x->dirty, durable, !e->x->writers, &before, &cst);
	if (rc < 0)
		return rc;
	if (!e->x->writers)
		wc_clean(v, e, (enum stored)rc);
	/* After wc_clean: the unlink of a linked container's cache name moves
	 * the file's ctime too, as no local file system would. One look at
	 * the file then keeps the ctime the store left shown. */
	attr_stored(v, e, &before, &cst);
	return 0;
}

int wc_close(struct venus *v, struct fid_entry *e)
{
	if (!fid_x(e)->writers)
		return -EBADF;
	if (--e->x->writers)
		return 0;
	if (fid_gone(e) || !e->path) {
		wc_discard(v, e); /* removed while written: nothing to store to */
		return 0;
	}
	if (v->cfg->defer_stores)
		return cml_keep(v, e);
	/* On failure it stays dirty and logged: the next close, or the next
	 * venus, stores it. */
	return wc_store(v, e, false);
}

/* What GETATTR shows while a write session is open, or its bytes are kept
 * unstored: the container's size, and its times once it has been written
 * to, as a local file would. */
void wc_attr(struct venus *v, struct fid_entry *e, struct stat *st)
{
	const char *name = fid_x(e)->dirty;
	struct stat cst;

	if (!name || fstatat(v->cache_fd, name, &cst, 0) < 0)
		return;
	st->st_size = cst.st_size;
	st->st_blocks = cst.st_blocks;
	if (cst.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	    cst.st_mtim.tv_nsec != st->st_mtim.tv_nsec) {
		st->st_mtim = cst.st_mtim;
		st->st_ctim = cst.st_ctim;
	}
}

/* By path, not through an fd of our own: the supervisor takes the last
 * release of a write container (inotify IN_CLOSE_WRITE) for the target's,
 * so venus must never close a writable fd of one while it is in use. */
int cache_truncate(struct venus *v, const char *name, off_t size)
{
	char path[64 + NAME_MAX];

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", v->cache_fd, name);
	return truncate(path, size) < 0 ? -errno : 0;
}

int wc_truncate(struct venus *v, struct fid_entry *e, off_t size)
{
	const char *name = fid_x(e)->dirty;

	return name ? cache_truncate(v, name, size) : 0;
}

int wc_utimens(struct venus *v, struct fid_entry *e, const struct timespec times[2])
{
	const char *name = fid_x(e)->dirty;

	if (!name)
		return 0;
	return utimensat(v->cache_fd, name, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}
