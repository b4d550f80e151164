/* Containers: the whole-file copies that opens are served from.
 *
 * One container per fid in the cache directory, named by the fid in hex. A
 * container is current when its stamp matches the backing object: size and
 * mtime for a file, mtime and ctime (kept in the container's mtime and
 * atime) for a directory. A stale container is never rewritten in place,
 * since a target may still have the old one open: a new file is filled and
 * renamed over the old name (Coda's recycle by unlink + create).
 *
 * Temp files carry the pid of the venus that made them, so a later venus on
 * the same cache (or volume) can tell a crash's leftovers from the files of
 * a venus still running there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>

#include "proto/venus_dirent.h"
#include "proto/lease.h"
#include "venus.h"
#include "venus_int.h"

#define CONTAINER_NAME_LEN 33

void container_name(const struct CodaFid *fid, char *buf, size_t len)
{
	snprintf(buf, len, "%08x%08x%08x%08x", fid->opaque[0], fid->opaque[1], fid->opaque[2],
		 fid->opaque[3]);
}

bool pid_named_gone(const char *s, char until)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno || pid <= 0 || end == s || *end != until || pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Whether `name` is a temp file (prefix.PID.SEQ) whose venus has gone. */
bool tmp_stale(const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);

	return strncmp(name, prefix, plen) == 0 && pid_named_gone(name + plen, '.');
}

/* Removes from directory `path` (relative to `at`) the temp files of a dead
 * venus whose names start with one of `prefixes` (NULL-terminated). */
void tmp_sweep(int at, const char *path, const char *const *prefixes)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		for (const char *const *p = prefixes; *p; p++)
			if (tmp_stale(de->d_name, *p)) {
				unlinkat(dirfd(d), de->d_name, 0);
				break;
			}
	closedir(d);
}

/* Fills that a killed venus never finished: nobody was given them. (What
 * it never stored is logged, and cml.c keeps it.) */
static void cache_sweep(struct venus *v)
{
	static const char *const prefixes[] = {".new.", NULL};

	tmp_sweep(v->cache_fd, ".", prefixes);
}

int container_init(struct venus *v)
{
	if (mkdir(v->cfg->cache, 0700) < 0 && errno != EEXIST)
		return -errno;
	v->cache_fd = open(v->cfg->cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->cache_fd < 0)
		return -errno;
	v->cache_path = realpath(v->cfg->cache, NULL);
	if (!v->cache_path)
		return -errno;
	v->sweep = runs_start(v);
	if (v->sweep)
		cache_sweep(v);
	return 0;
}

/* The object is gone: so is its container (open fds keep their copy). */
void container_drop(struct venus *v, const struct CodaFid *fid)
{
	char name[CONTAINER_NAME_LEN];

	container_name(fid, name, sizeof(name));
	unlinkat(v->cache_fd, name, 0);
}

static bool ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool file_current(const struct stat *c, const struct stat *b)
{
	return S_ISREG(c->st_mode) && c->st_size == b->st_size && ts_eq(&c->st_mtim, &b->st_mtim);
}

static bool dir_current(const struct stat *c, const struct stat *b)
{
	return S_ISREG(c->st_mode) && ts_eq(&c->st_mtim, &b->st_mtim) &&
	       ts_eq(&c->st_atim, &b->st_ctim);
}

int open_noatime(int at, const char *path, int flags)
{
	int fd = openat(at, path, flags | O_RDONLY | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(at, path, flags | O_RDONLY);
	return fd < 0 ? -errno : fd;
}

/* Opens a container read-only. O_NOATIME where we may (we own the cache):
 * a directory container's atime is its stamp and reads must not move it. */
static int container_reopen(struct venus *v, const char *name)
{
	return open_noatime(v->cache_fd, name, O_NOFOLLOW | O_CLOEXEC);
}

/* The existing container if it is current by `current`; -ESTALE if it is
 * not, else why it cannot be opened (-ENOENT: there is none). Any failure
 * means "make a new one". */
static int container_reuse(struct venus *v, const char *name, const struct stat *backing,
			   bool (*current)(const struct stat *, const struct stat *))
{
	struct stat cst;
	int fd = container_reopen(v, name);

	if (fd < 0)
		return fd;
	if (fstat(fd, &cst) < 0 || !current(&cst, backing)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int cache_file_create(struct venus *v, const char *name, int access)
{
	int fd =
	    openat(v->cache_fd, name, access | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

int cache_file_new(struct venus *v, const char *name)
{
	int fd = spare_take(v, name);

	return fd == -ENOENT ? cache_file_create(v, name, O_RDWR) : fd;
}

void tmp_name_of(const struct venus *v, const char *prefix, unsigned long seq, char *buf,
		 size_t len)
{
	snprintf(buf, len, "%s%ld.%lu", prefix, (long)v->pid, seq);
}

unsigned long tmp_name(struct venus *v, const char *prefix, char *buf, size_t len)
{
	unsigned long seq = v->tmp_seq++;

	tmp_name_of(v, prefix, seq, buf, len);
	return seq;
}

int cache_tmp_create(struct venus *v, const char *prefix, char *name, size_t len)
{
	tmp_name(v, prefix, name, len);
	return cache_file_new(v, name);
}

/* Stamps the filled temp file, puts it in place of any old container and
 * returns a read-only fd of it. Takes tmpfd. */
static int container_commit(struct venus *v, int tmpfd, const char *tmpname, const char *name,
			    const struct timespec *atime, const struct timespec *mtime)
{
	struct timespec times[2] = {*atime, *mtime};
	int fd, err = 0;

	if (futimens(tmpfd, times) < 0)
		err = -errno;
	close(tmpfd);
	if (err)
		goto fail;
	/* Opened before the rename so the fd is this container, whatever
	 * happens to the name afterwards. */
	fd = container_reopen(v, tmpname);
	if (fd < 0) {
		err = fd;
		goto fail;
	}
	if (strcmp(tmpname, name) != 0 && renameat(v->cache_fd, tmpname, v->cache_fd, name) < 0) {
		err = -errno;
		close(fd);
		goto fail;
	}
	return fd;
fail:
	unlinkat(v->cache_fd, tmpname, 0);
	return err;
}

static int write_all_at(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static bool copy_unsupported(int err)
{
	return err == -EXDEV || err == -EINVAL || err == -ENOSYS || err == -EOPNOTSUPP ||
	       err == -EPERM;
}

static int copy_by_hand(int src, int dst, off_t off, off_t len)
{
	char buf[65536];

	while (len > 0) {
		ssize_t n =
		    pread(src, buf, len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf), off);
		int err;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0; /* shrunk meanwhile: the size is set after */
		err = write_all_at(dst, buf, (size_t)n, off);
		if (err)
			return err;
		off += n;
		len -= n;
	}
	return 0;
}

/* len bytes at off, in the kernel where it can. */
static int copy_segment(int src, int dst, off_t off, off_t len)
{
	while (len > 0) {
		loff_t in = off, out = off;
		ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && copy_unsupported(-errno))
			return copy_by_hand(src, dst, off, len);
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		off += n;
		len -= n;
	}
	return 0;
}

/* The next data segment at or after *off, as [*off, *end); false at EOF.
 * A file system without SEEK_DATA is all data. */
static bool next_data(int src, off_t size, off_t *off, off_t *end)
{
	off_t data = lseek(src, *off, SEEK_DATA), hole;

	if (data < 0 && errno == ENXIO)
		return false;
	if (data < 0)
		data = *off;
	hole = lseek(src, data, SEEK_HOLE);
	*off = data;
	*end = hole < 0 || hole > size ? size : hole;
	return data < size;
}

/* The data segments of src into dst, holes left as holes, so that copying
 * a sparse file costs its data, not its size. A file with as many blocks as
 * bytes has no holes: it is copied in one go, with no seeks, and dst, fresh
 * and empty, needs no truncate (should src have shrunk meanwhile, the
 * shorter copy is stale by its size, and refilled at the next open). */
static int copy_sparse(int src, int dst)
{
	struct stat st;
	off_t off = 0, end;
	int err;

	if (fstat(src, &st) < 0)
		return -errno;
	if (st.st_blocks * 512 >= st.st_size)
		return copy_segment(src, dst, 0, st.st_size);
	while (off < st.st_size && next_data(src, st.st_size, &off, &end)) {
		err = copy_segment(src, dst, off, end - off);
		if (err)
			return err;
		off = end;
	}
	return ftruncate(dst, st.st_size) < 0 ? -errno : 0;
}

/* Cheapest first: share the extents, else copy the data in the kernel or
 * by hand. dst is empty. A file system that cannot share extents is not
 * asked again. */
int container_copy(struct venus *v, int src, int dst)
{
	if (!v->no_clone) {
		if (ioctl(dst, FICLONE, src) == 0)
			return 0;
		v->no_clone =
		    errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY;
	}
	return copy_sparse(src, dst);
}

/* Opens the backing object of e and checks it is still the one e names. */
static int backing_open(struct venus *v, struct fid_entry *e, int flags, struct stat *st)
{
	int fd = beneath_open(v, e->path, flags, 0);

	if (fd < 0)
		return fd == -ELOOP ? -ENOENT : fd;
	if (fstat(fd, st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!fid_matches(e, st)) {
		close(fd);
		return -ENOENT; /* replaced since the caller's lstat */
	}
	return fd;
}

/* Fills a new container for e under `name`: straight under that name when
 * there is none (no open file can have one that does not exist, and until
 * it is stamped its mtime says it is not current), else in a temp file
 * renamed over the stale one, which targets may still have open. */
static int fill_container(struct venus *v, int src, const struct stat *st, const char *name,
			  bool exists)
{
	char tmpname[64];
	int tmp, err;

	if (exists) {
		tmp = cache_tmp_create(v, ".new.", tmpname, sizeof(tmpname));
	} else {
		snprintf(tmpname, sizeof(tmpname), "%s", name);
		tmp = cache_file_new(v, name);
	}
	if (tmp < 0)
		return tmp;
	err = container_copy(v, src, tmp);
	if (err) {
		close(tmp);
		unlinkat(v->cache_fd, tmpname, 0);
		return err;
	}
	/* Stamped with the mtime seen before copying: a change during the copy
	 * leaves the stamp behind the backing file and the next open refills. */
	return container_commit(v, tmp, tmpname, name, &st->st_atim, &st->st_mtim);
}

static int file_container(struct venus *v, struct fid_entry *e, const char *name,
			  const struct stat *seen)
{
	struct stat st;
	int src, fd;

	/* The common case opens no backing file: a container that matches what
	 * the caller's fstatat just saw is current. */
	fd = container_reuse(v, name, seen, file_current);
	if (fd >= 0)
		return fd;
	/* O_NONBLOCK: should the name have become a fifo, do not hang on it. */
	src = backing_open(v, e, O_RDONLY | O_NONBLOCK, &st);
	if (src < 0)
		return src;
	if (!S_ISREG(st.st_mode)) {
		close(src);
		return -ENOENT;
	}
	fd = fill_container(v, src, &st, name, fd != -ENOENT);
	close(src);
	return fd;
}

/* Whether anything holds the container open for writing: the kernel grants
 * a read lease only when nothing does (venus owns its containers, as a
 * lease asks). A lease that cannot be had counts as a writer. */
bool container_written(int fd)
{
	return lease_free(fd, F_RDLCK) != 1;
}

/* Whether nobody but the caller (through fd) has the container open: the
 * kernel grants a write lease only then. */
bool container_alone(int fd)
{
	return lease_free(fd, F_WRLCK) == 1;
}

/* The fid's read container, if current, renamed to `name` for a write
 * session: the open files of it are the session's file from now on. Not
 * one that anything may still write: a writer whose session has ended (its
 * CODA_CLOSE came while it kept the file, as a client of --serve may) must
 * not write into the next session's store. */
int container_take(struct venus *v, struct fid_entry *e, const struct stat *st, const char *name)
{
	char cname[CONTAINER_NAME_LEN];
	struct stat cst;
	int fd, err = -ENOENT;

	container_name(&e->fid, cname, sizeof(cname));
	fd = container_reopen(v, cname);
	if (fd < 0)
		return fd;
	if (fstat(fd, &cst) == 0 && file_current(&cst, st) && !container_written(fd))
		err = renameat(v->cache_fd, cname, v->cache_fd, name) < 0 ? -errno : 0;
	close(fd);
	return err;
}

struct dirbuf {
	char *buf;
	size_t len, cap;
};

static int dirbuf_add(struct dirbuf *b, uint32_t ino, uint8_t type, const char *name)
{
	size_t namlen = strlen(name);
	size_t need = venus_dirent_size(namlen);
	int n;

	if (b->cap - b->len < need) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *p = realloc(b->buf, cap);

		if (!p)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	n = venus_dirent_encode(b->buf + b->len, b->cap - b->len, ino, type, name, namlen);
	if (n < 0)
		return n;
	b->len += (size_t)n;
	return 0;
}

static uint8_t dirent_type(DIR *d, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type;
	/* Some file systems leave it to us; DT_* equals CDT_*. */
	if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	return (uint8_t)IFTODT(st.st_mode);
}

/* Every entry of the directory, "." and ".." included, in readdir order,
 * but for our store temp files; those a crash left behind are removed. */
static int dir_read(struct venus *v, struct fid_entry *e, int dfd, struct dirbuf *b)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int err = 0;

	if (!d) {
		err = -errno;
		close(dfd);
		return err;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			err = -errno;
			break;
		}
		if (strncmp(de->d_name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX)) == 0) {
			if (tmp_stale(de->d_name, STORE_TMP_PREFIX))
				unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		err = dirbuf_add(b, fid_child_number(v, e, de->d_name, de->d_ino),
				 dirent_type(d, de), de->d_name);
		if (err)
			break;
	}
	closedir(d);
	return err;
}

static int dir_container(struct venus *v, struct fid_entry *e, const char *name)
{
	struct fid_extra *x = fid_extra(e); /* NULL: built, not remembered */
	unsigned long gen = x ? x->gen : 0;
	struct dirbuf b = {0};
	char tmpname[64];
	struct stat st;
	int dfd, tmp, fd, err;

	dfd = backing_open(v, e, O_RDONLY | O_DIRECTORY, &st);
	if (dfd < 0)
		return dfd == -ENOTDIR ? -ENOENT : dfd;
	fd = x && gen == x->gen_built ? container_reuse(v, name, &st, dir_current) : -ENOENT;
	if (fd >= 0) {
		close(dfd);
		return fd;
	}
	err = dir_read(v, e, dfd, &b);
	if (err)
		goto out;
	tmp = cache_tmp_create(v, ".new.", tmpname, sizeof(tmpname));
	if (tmp < 0) {
		err = tmp;
		goto out;
	}
	err = write_all_at(tmp, b.buf, b.len, 0);
	if (err) {
		close(tmp);
		unlinkat(v->cache_fd, tmpname, 0);
		goto out;
	}
	/* The stamp: mtime for mtime, atime for the directory's ctime. */
	err = container_commit(v, tmp, tmpname, name, &st.st_ctim, &st.st_mtim);
	if (err >= 0 && x)
		x->gen_built = gen;
out:
	free(b.buf);
	return err;
}

int container_open(struct venus *v, struct fid_entry *e, const struct stat *st, int *fdp)
{
	char name[CONTAINER_NAME_LEN];
	int fd;

	container_name(&e->fid, name, sizeof(name));
	if (S_ISREG(st->st_mode) && fid_x(e)->dirty)
		fd = container_reopen(v, e->x->dirty); /* not stored yet: it is the file */
	else if (S_ISREG(st->st_mode))
		fd = file_container(v, e, name, st);
	else if (S_ISDIR(st->st_mode))
		fd = dir_container(v, e, name);
	else
		return -EOPNOTSUPP; /* special files are opened by the kernel itself */
	if (fd < 0)
		return fd;
	*fdp = fd;
	return 0;
}
