/* The client modify log: stores a disconnected venus (cfg->defer_stores)
 * has not made yet, as Coda's CML holds them until reintegration.
 *
 * The last close of a write session keeps its container in the cache as
 * cml.FID, owned 0:65534 with mode 0600 as stock venus makes its cache
 * files, and appends an entry naming it to the CML file. Opens, attributes
 * and later sessions of the fid are served from the kept container. At
 * start each logged container is checked as stock venus's ValidContainer
 * (coda-src/venus/fso_cachefile.cc) checks every cache file, and truncated
 * if it fails: a host that loses the owner loses the data, as stock venus
 * would. A venus started without defer_stores then stores every entry.
 *
 * An entry is "FID CONTAINER PATH", the path from the volume root, ended
 * by a NUL and a newline: a path may hold any byte but NUL. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "venus_int.h"

#define KEPT_UID  0
#define KEPT_GID  65534 /* stock venus's cache files: root, group nogroup */
#define KEPT_MODE 0600
#define ENTRY_MAX (FID_STR_LEN + 64 + PATH_MAX + 4)

/* One entry in buf; its length, or -ENAMETOOLONG. */
static int entry_format(const struct fid_entry *e, char *buf, size_t len)
{
	char fid[FID_STR_LEN];
	int n;

	fid_format(&e->fid, fid, sizeof(fid));
	n = snprintf(buf, len, "%s %s %s%c\n", fid, e->kept, e->path, '\0');
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* One write(2) each: an entry is appended whole or not at all. */
static int entry_write(int fd, const struct fid_entry *e)
{
	char buf[ENTRY_MAX];
	int n = entry_format(e, buf, sizeof(buf));
	ssize_t w;

	if (n < 0)
		return n;
	w = write(fd, buf, (size_t)n);
	if (w < 0)
		return -errno;
	return w == n ? 0 : -EIO;
}

static int cml_append(struct venus *v, const struct fid_entry *e)
{
	int fd = openat(v->cache_fd, CML_NAME, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	int err;

	if (fd < 0)
		return -errno;
	err = entry_write(fd, e);
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

static int entries_write(struct venus *v, int fd)
{
	struct fid_entry *e, *tmp;
	int err;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		if (!e->kept || !e->path)
			continue;
		err = entry_write(fd, e);
		if (err)
			return err;
	}
	return 0;
}

/* The log made anew from the kept containers, by rename; none: no log. */
static int cml_rewrite(struct venus *v)
{
	char tmp[64];
	int fd, err;

	if (!v->kept)
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
	return err;
}

static void cml_rewrite_or_say(struct venus *v)
{
	int err = cml_rewrite(v);

	if (err)
		fprintf(stderr, "venus: rewriting the " CML_NAME ": %s\n", strerror(-err));
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
		fprintf(stderr, "venus: chown of a kept container to %d:%d: %s\n", KEPT_UID,
			KEPT_GID, strerror(errno));
		v->chown_warned = true;
	}
	if (fchmod(fd, KEPT_MODE) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* The last close of a write session, disconnected: the container is kept
 * under the fid's name, replacing an older kept one by rename (a reader may
 * hold it), and logged once. On failure the write container stays, and the
 * next session's close tries again. */
int cml_keep(struct venus *v, struct fid_entry *e)
{
	char hex[64], name[64 + sizeof(CML_PREFIX)];
	char *kept = e->kept;
	int err;

	container_name(&e->fid, hex, sizeof(hex));
	snprintf(name, sizeof(name), CML_PREFIX "%s", hex);
	err = kept_own(v, e->wc);
	if (err)
		return err;
	if (!kept) {
		kept = e->kept = strdup(name);
		if (!kept)
			return -ENOMEM;
		err = cml_append(v, e);
		if (err) {
			free(kept);
			e->kept = NULL;
			return err;
		}
		v->kept++;
	}
	if (renameat(v->cache_fd, e->wc, v->cache_fd, kept) < 0)
		return -errno;
	free(e->wc);
	e->wc = NULL;
	return 0;
}

/* e's entry leaves the log (at its next rewrite). */
static void kept_release(struct venus *v, struct fid_entry *e)
{
	free(e->kept);
	e->kept = NULL;
	v->kept--;
}

/* The object is gone, and its unsent store with it. */
void cml_forget(struct venus *v, struct fid_entry *e)
{
	if (!e->kept)
		return;
	unlinkat(v->cache_fd, e->kept, 0);
	kept_release(v, e);
	cml_rewrite_or_say(v);
}

/* A rename moved paths that entries name. */
void cml_paths_changed(struct venus *v)
{
	if (v->kept)
		cml_rewrite_or_say(v);
}

/* ValidContainer's test. By path, as venus stats its cache files, so that a
 * hosting supervisor's recorded owner is what is seen; truncated by path
 * too, as no write session holds it yet. */
static int kept_check(struct venus *v, const char *name)
{
	char path[64 + NAME_MAX];
	struct stat st;

	if (fstatat(v->cache_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_uid == KEPT_UID && st.st_gid == KEPT_GID && (st.st_mode & 07777) == KEPT_MODE)
		return 0;
	fprintf(stderr,
		"venus: container %s fails the owner check (uid %u gid %u mode %04o): "
		"truncated\n",
		name, (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", v->cache_fd, name);
	if (truncate(path, 0) < 0)
		return -errno;
	return kept_own(v, name); /* a valid cache file again, as venus's Reset */
}

struct cml_entry {
	struct CodaFid fid;
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
	for (int i = 0; i < 4; i++)
		ce->fid.opaque[i] = o[i];
	ce->name = name;
	ce->path = path;
	return 0;
}

/* The fid of the logged object, which is unchanged since it was not stored:
 * its fid is made from the same inode again. */
static int entry_bind(struct venus *v, const struct cml_entry *ce, struct fid_entry **ep)
{
	struct stat st;
	char *path;
	int err;

	if (fstatat(v->vol_fd, ce->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	path = strdup(ce->path);
	if (!path)
		return -ENOMEM;
	err = fid_enter(v, &st, path, ep);
	if (err)
		return err;
	return coda_fid_eq(&(*ep)->fid, &ce->fid) ? 0 : -ESTALE;
}

static void entry_load(struct venus *v, const struct cml_entry *ce)
{
	struct fid_entry *e;
	int err = kept_check(v, ce->name);

	if (!err)
		err = entry_bind(v, ce, &e);
	if (!err && e->kept)
		return; /* logged twice: a close whose rename failed */
	if (!err) {
		e->kept = strdup(ce->name);
		err = e->kept ? 0 : -ENOMEM;
	}
	if (err) {
		fprintf(stderr,
			"venus: " CML_NAME " entry %s for %s: %s: its unsent store is lost\n",
			ce->name, ce->path, strerror(-err));
		unlinkat(v->cache_fd, ce->name, 0);
		return;
	}
	v->kept++;
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

/* Every whole entry; a last one a killed venus left half-written is not. */
static void entries_load(struct venus *v, char *buf, size_t len)
{
	char *p = buf, *end = buf + len;

	while (p < end) {
		char *nul = memchr(p, '\0', (size_t)(end - p));
		struct cml_entry ce;

		if (!nul)
			break;
		if (entry_parse(p, &ce) == 0)
			entry_load(v, &ce);
		else
			fprintf(stderr, "venus: " CML_NAME ": a malformed entry is skipped\n");
		p = nul + 1;
		if (p < end && *p == '\n')
			p++;
	}
}

/* Connected again: each kept container is stored, then becomes the read
 * container as a write session's does. Only the kept objects and the root
 * are known yet, all of whose inodes are in use: no store drops an entry. */
static void cml_reintegrate(struct venus *v)
{
	struct fid_entry *e, *tmp;
	char name[64];
	int err;

	HASH_ITER(hh, v->fids, e, tmp)
	{
		if (!e->kept)
			continue;
		err = store_container(v, e, e->kept, true);
		if (err) {
			fprintf(stderr, "venus: reintegrating %s: %s: still logged\n", e->path,
				strerror(-err));
			continue;
		}
		container_name(&e->fid, name, sizeof(name));
		if (renameat(v->cache_fd, e->kept, v->cache_fd, name) < 0)
			unlinkat(v->cache_fd, e->kept, 0); /* the next read open refills */
		kept_release(v, e);
	}
}

int cml_start(struct venus *v)
{
	size_t len = 0;
	char *buf;
	int err = cml_read(v, &buf, &len);

	if (err || !buf)
		return err;
	entries_load(v, buf, len);
	free(buf);
	if (!v->cfg->defer_stores && !v->cfg->read_only)
		cml_reintegrate(v);
	return cml_rewrite(v);
}
