/* The client modify log: the stores venus has not made yet, as Coda's CML
 * holds them until reintegration.
 *
 * The first write open of a file logs its dirty container (cml.PID.SEQ,
 * store.c) here, before the target gets it; the entry goes when its bytes
 * are stored. So a venus killed with sessions open or closed but not
 * stored leaves them to the next venus on the cache, which stores every
 * entry at start (a store is atomic and can be made twice).
 *
 * A disconnected venus (cfg->defer_stores) stores nothing: the last close
 * of a session makes its container owned 0:65534 with mode 0600, as stock
 * venus makes its cache files, and opens, attributes and later sessions of
 * the fid are served from it. A disconnected start checks each logged
 * container as stock venus's ValidContainer (coda-src/venus/fso_cachefile.cc)
 * checks every cache file, and truncates it if it fails: a host that loses
 * the owner loses the data, as stock venus would.
 *
 * An entry is "FID CONTAINER PATH", the path from the volume root, ended
 * by a NUL and a newline: a path may hold any byte but NUL. An entry goes
 * by a record "- CONTAINER" appended after it: emptying the log or making
 * it anew at every store cost a block freed and allocated again, or a file
 * made and one deleted (the temp file renamed over the log). The log is
 * made anew, of its live entries, only once it has grown past CML_COMPACT:
 * emptied if there are none. A record "= CONTAINER INO" says that a store
 * is about to exchange the container, inode INO, with the backing file
 * (store.c): once it has, the container's name holds the old file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

#define KEPT_UID    0
#define KEPT_GID    65534 /* stock venus's cache files: root, group nogroup */
#define KEPT_MODE   0600
#define ENTRY_MAX   (CODA_FID_STR_LEN + 64 + PATH_MAX + 4)
#define DONE_MARK   "- "
#define MOVING_MARK "= "
#define CML_COMPACT 65536

/* One entry in buf; its length, or -ENAMETOOLONG. */
static int entry_format(const struct fid_entry *e, char *buf, size_t len)
{
	char fid[CODA_FID_STR_LEN];
	int n;

	coda_fid_format(&e->fid, fid, sizeof(fid));
	n = snprintf(buf, len, "%s %s %s%c\n", fid, fid_x(e)->dirty, e->path, '\0');
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* One write(2) each: a record is appended whole or not at all. */
static int record_write(int fd, const char *buf, int n)
{
	ssize_t w;

	if (n < 0)
		return n;
	w = write(fd, buf, (size_t)n);
	if (w < 0)
		return -errno;
	return w == n ? 0 : -EIO;
}

static int entry_write(int fd, const struct fid_entry *e)
{
	char buf[ENTRY_MAX];

	return record_write(fd, buf, entry_format(e, buf, sizeof(buf)));
}

/* The log stays open for appends, and stays there when its last entry
 * goes: a write session then costs no create and no unlink in the cache
 * directory. Its size is known from when it is opened on. */
static int cml_open(struct venus *v)
{
	struct stat st;

	if (v->cml_fd >= 0)
		return 0;
	v->cml_fd = openat(v->cache_fd, CML_NAME,
			   O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (v->cml_fd < 0)
		return -errno;
	v->cml_size = fstat(v->cml_fd, &st) == 0 ? st.st_size : CML_COMPACT;
	return 0;
}

static int cml_append(struct venus *v, const char *buf, int n)
{
	int err = cml_open(v);

	if (!err)
		err = record_write(v->cml_fd, buf, n);
	if (!err)
		v->cml_size += n;
	return err;
}

static void cml_close(struct venus *v)
{
	if (v->cml_fd >= 0)
		close(v->cml_fd);
	v->cml_fd = -1;
}

static int entries_write(struct venus *v, int fd)
{
	struct fid_entry *e, *tmp;
	int err;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		if (!fid_x(e)->dirty || !e->path)
			continue;
		err = entry_write(fd, e);
		if (err)
			return err;
	}
	return 0;
}

/* The log made anew from the dirty containers, by rename; none: the open
 * log emptied, or no log. */
static int cml_rewrite(struct venus *v)
{
	char tmp[64];
	int fd, err;

	if (!v->dirty && v->cml_fd >= 0) {
		v->cml_size = 0;
		return ftruncate(v->cml_fd, 0) < 0 ? -errno : 0;
	}
	if (!v->dirty)
		return unlinkat(v->cache_fd, CML_NAME, 0) < 0 && errno != ENOENT ? -errno : 0;
	fd = cache_tmp_create(v, ".new.", tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	err = entries_write(v, fd);
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(v->cache_fd, tmp, v->cache_fd, CML_NAME) < 0)
		err = -errno;
	if (err)
		unlinkat(v->cache_fd, tmp, 0);
	else
		cml_close(v); /* the next append opens the new log */
	return err;
}

static void cml_rewrite_or_say(struct venus *v)
{
	int err = cml_rewrite(v);

	if (err)
		fprintf(stderr, "coda-venus: rewriting the " CML_NAME ": %s\n", strerror(-err));
}

/* The owner and mode stock venus gives a cache file. Through an fd, as it
 * does: a hosting supervisor records the chown it may not make. */
static int kept_own(struct venus *v, const char *name)
{
	int fd = openat(v->cache_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fchown(fd, KEPT_UID, KEPT_GID) < 0 && !v->chown_warned) {
		/* Not fatal: the check at the next start truncates it. */
		fprintf(stderr, "coda-venus: chown of a kept container to %d:%d: %s\n", KEPT_UID,
			KEPT_GID, strerror(errno));
		v->chown_warned = true;
	}
	if (fchmod(fd, KEPT_MODE) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* e's container has just become dirty: logged before anyone writes it. */
int cml_log(struct venus *v, struct fid_entry *e)
{
	char buf[ENTRY_MAX];
	int err = cml_append(v, buf, entry_format(e, buf, sizeof(buf)));

	if (!err)
		v->dirty++;
	return err;
}

/* A dirty container was stored (or is gone): its entry leaves the log. */
void cml_drop(struct venus *v, const char *name)
{
	char buf[64 + NAME_MAX];
	int n = snprintf(buf, sizeof(buf), DONE_MARK "%s%c\n", name, '\0');

	v->dirty--;
	if (v->cml_size >= CML_COMPACT || n < 0 || (size_t)n >= sizeof(buf) ||
	    cml_append(v, buf, n) != 0)
		cml_rewrite_or_say(v);
}

int cml_moving(struct venus *v, const char *name, ino_t ino)
{
	char buf[64 + NAME_MAX];
	int n = snprintf(buf, sizeof(buf), MOVING_MARK "%s %ju%c\n", name, (uintmax_t)ino, '\0');

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return cml_append(v, buf, n);
}

/* The last close of a write session, disconnected: the container stays,
 * logged, with the owner and mode of a stock venus cache file. */
int cml_keep(struct venus *v, struct fid_entry *e)
{
	return kept_own(v, fid_x(e)->dirty);
}

/* The object is gone, and its unsent store with it: out of the log first,
 * as wc_clean does. */
void cml_forget(struct venus *v, struct fid_entry *e)
{
	char *dirty = fid_x(e)->dirty;

	if (!dirty)
		return;
	e->x->dirty = NULL;
	cml_drop(v, dirty);
	unlinkat(v->cache_fd, dirty, 0);
	free(dirty);
}

/* A rename moved paths that entries name. */
void cml_paths_changed(struct venus *v)
{
	if (v->dirty)
		cml_rewrite_or_say(v);
}

/* ValidContainer's test. By path, as venus stats its cache files, so that a
 * hosting supervisor's recorded owner is what is seen; truncated by path
 * too, as no write session holds it yet. */
static int kept_check(struct venus *v, const char *name)
{
	struct stat st;
	int err;

	if (fstatat(v->cache_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_uid == KEPT_UID && st.st_gid == KEPT_GID && (st.st_mode & 07777) == KEPT_MODE)
		return 0;
	fprintf(stderr,
		"coda-venus: container %s fails the owner check (uid %u gid %u mode %04o): "
		"truncated\n",
		name, (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
	err = cache_truncate(v, name, 0);
	if (err)
		return err;
	return kept_own(v, name); /* a valid cache file again, as venus's Reset */
}

/* The fid an entry names is the one of the run that logged it, for a
 * reader of the log: a later run finds the object by its path. */
struct cml_entry {
	const char *name, *path;
};

/* Splits the NUL-terminated record "FID CONTAINER PATH". */
static int entry_parse(char *rec, struct cml_entry *ce)
{
	char *name = strchr(rec, ' '), *path = name ? strchr(name + 1, ' ') : NULL;
	unsigned int o[4];
	int n = 0;

	if (!path)
		return -EINVAL;
	*name++ = '\0';
	*path++ = '\0';
	if (sscanf(rec, "%8x.%8x.%8x.%8x%n", &o[0], &o[1], &o[2], &o[3], &n) != 4 || rec[n])
		return -EINVAL;
	if (strncmp(name, CML_PREFIX, strlen(CML_PREFIX)) != 0 || strchr(name, '/') || !path[0] ||
	    path[0] == '/')
		return -EINVAL;
	ce->name = name;
	ce->path = path;
	return 0;
}

/* The logged object, found by its path: fids are made anew in every run. */
static int entry_bind(struct venus *v, const struct cml_entry *ce, struct fid_entry **ep)
{
	struct stat st;
	char *path;
	int err = beneath_stat(v, ce->path, &st);

	if (err)
		return err;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	path = strdup(ce->path);
	if (!path)
		return -ENOMEM;
	return fid_enter(v, &st, path, ep);
}

/* An entry of the log, whether no done record follows it, and the inode a
 * moving record after it names (0: none). */
struct cml_record {
	struct cml_entry ce;
	bool live;
	ino_t moving;
};

/* A venus stopped after its store made the container the backing file:
 * the entry is done. Linked (store.c, store_replace), the container is the
 * file; exchanged (store_exchange), the file is the inode the moving record
 * named, and the container's name holds the old file. */
static bool entry_stored(struct venus *v, const struct cml_record *r)
{
	struct stat cst, st;

	if (beneath_stat(v, r->ce.path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (r->moving && st.st_ino == r->moving)
		return true;
	if (fstatat(v->cache_fd, r->ce.name, &cst, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return cst.st_dev == st.st_dev && cst.st_ino == st.st_ino;
}

static void entry_load(struct venus *v, const struct cml_record *r)
{
	const struct cml_entry *ce = &r->ce;
	struct fid_entry *e;
	int err;

	if (entry_stored(v, r)) {
		unlinkat(v->cache_fd, ce->name, 0);
		return;
	}
	err = v->cfg->defer_stores ? kept_check(v, ce->name) : 0;

	if (!err)
		err = entry_bind(v, ce, &e);
	if (!err && fid_x(e)->dirty)
		err = -EEXIST; /* two entries for one file: which is newer is unknown */
	if (!err && fid_extra(e))
		e->x->dirty = strdup(ce->name);
	if (!err && !fid_x(e)->dirty)
		err = -ENOMEM;
	if (err) {
		fprintf(stderr,
			"coda-venus: " CML_NAME " entry %s for %s: %s: its unsent store is lost\n",
			ce->name, ce->path, strerror(-err));
		unlinkat(v->cache_fd, ce->name, 0);
		return;
	}
	v->dirty++;
}

/* The whole log, NUL-terminated, in *bufp; 0 and NULL if there is none. */
static int cml_read(struct venus *v, char **bufp, size_t *lenp)
{
	int fd = openat(v->cache_fd, CML_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int err = 0;

	*bufp = NULL;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		err = -ENOMEM;
	while (!err && len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n == 0)
			break;
		else if (n > 0)
			len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

struct cml_records {
	struct cml_record *r;
	size_t n, cap;
};

/* The last live entry of container `name`, or NULL. */
static struct cml_record *record_live(struct cml_records *rs, const char *name)
{
	for (size_t i = rs->n; i-- > 0;)
		if (rs->r[i].live && strcmp(rs->r[i].ce.name, name) == 0)
			return &rs->r[i];
	return NULL;
}

/* A done record: the last live entry of its container goes. */
static void record_done(struct cml_records *rs, const char *name)
{
	struct cml_record *r = record_live(rs, name);

	if (r)
		r->live = false;
}

/* A moving record, "CONTAINER INO": the inode its store puts in the volume. */
static void record_moving(struct cml_records *rs, char *rec)
{
	char *ino = strrchr(rec, ' '), *end;
	struct cml_record *r;
	unsigned long long n;

	if (!ino)
		return;
	*ino++ = '\0';
	n = strtoull(ino, &end, 10);
	r = *end ? NULL : record_live(rs, rec);
	if (r)
		r->moving = (ino_t)n;
}

static int record_entry(struct cml_records *rs, char *rec)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct cml_record *r = realloc(rs->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rs->r = r;
		rs->cap = cap;
	}
	if (entry_parse(rec, &rs->r[rs->n].ce) != 0) {
		fprintf(stderr, "coda-venus: " CML_NAME ": a malformed entry is skipped\n");
		return 0;
	}
	rs->r[rs->n].moving = 0;
	rs->r[rs->n++].live = true;
	return 0;
}

/* Every whole record; a last one a killed venus left half-written is not. */
static int records_read(char *buf, size_t len, struct cml_records *rs)
{
	char *p = buf, *end = buf + len;
	int err = 0;

	while (p < end && !err) {
		char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			break;
		if (strncmp(p, DONE_MARK, strlen(DONE_MARK)) == 0)
			record_done(rs, p + strlen(DONE_MARK));
		else if (strncmp(p, MOVING_MARK, strlen(MOVING_MARK)) == 0)
			record_moving(rs, p + strlen(MOVING_MARK));
		else
			err = record_entry(rs, p);
		p = nul + 1;
		if (p < end && *p == '\n')
			p++;
	}
	return err;
}

/* The entries no done record has followed, in the order they were logged. */
static int entries_load(struct venus *v, char *buf, size_t len)
{
	struct cml_records rs = {0};
	int err = records_read(buf, len, &rs);

	for (size_t i = 0; !err && i < rs.n; i++)
		if (rs.r[i].live)
			entry_load(v, &rs.r[i]);
	free(rs.r);
	return err;
}

/* Connected again: each dirty container is stored, then becomes the read
 * container as a write session's does. Only the logged objects and the
 * root are known yet, all of whose inodes are in use: no store drops an
 * entry. */
static void cml_reintegrate(struct venus *v)
{
	struct fid_entry *e, *tmp;
	int err;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		if (!fid_x(e)->dirty)
			continue;
		err = wc_store(v, e, true);
		if (err)
			fprintf(stderr, "coda-venus: reintegrating %s: %s: still logged\n", e->path,
				strerror(-err));
	}
}

static bool logged(struct venus *v, const char *name)
{
	struct fid_entry *e, *tmp;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		if (fid_x(e)->dirty && strcmp(fid_x(e)->dirty, name) == 0)
			return true;
	}
	return false;
}

/* Containers named cml.* that no entry names: made by a venus killed before
 * it logged them (nobody had them) or after it stored them. */
static void orphans_sweep(struct venus *v)
{
	int fd = openat(v->cache_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strncmp(de->d_name, CML_PREFIX, strlen(CML_PREFIX)) == 0 &&
		    !logged(v, de->d_name))
			unlinkat(v->cache_fd, de->d_name, 0);
	closedir(d);
}

/* An empty log is removed as venus stops: a cache with nothing unsent
 * holds none. */
void cml_stop(struct venus *v)
{
	cml_close(v);
	if (!v->dirty && v->cache_fd >= 0)
		unlinkat(v->cache_fd, CML_NAME, 0);
}

int cml_start(struct venus *v)
{
	size_t len = 0;
	char *buf;
	int err = cml_read(v, &buf, &len);

	if (err)
		return err;
	if (buf)
		err = entries_load(v, buf, len);
	free(buf);
	if (err)
		return err;
	if (v->sweep) {
		orphans_sweep(v);
		runs_swept(v);
	}
	if (!buf)
		return 0;
	if (!v->cfg->defer_stores && !v->cfg->read_only)
		cml_reintegrate(v);
	/* Of the live entries alone, or gone if there are none. */
	cml_close(v);
	return cml_rewrite(v);
}
