/* libcodaclient: the Coda module (coda/coda.h) in the calling process, with
 * a coda-exec --serve server's connection as its channel to venus. A caller
 * sleeps by running the loop itself: it waits for the connection (venus's
 * replies and downcalls) and for inotify (a writer's last release) until
 * its reply has woken it, as tests/unit/test_coda.c drives the module. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coda/coda.h"
#include "proto/hash.h"
#include "server/server.h"
#include "blocking.h"
#include "codaclient.h"

/* How long venus may make no progress before a call fails: twice
 * coda-exec's --timeout default, since a store may wait out a Coda
 * server's 30 s callback timeout and the library has no options. */
#define CLIENT_TIMEOUT_S 60

/* An fd the library handed out, and the module's record of its open. */
struct open_fd {
	int fd;
	struct coda_file *file;
	UT_hash_handle hh;
};

struct coda_dir {
	struct coda_file *file;
	char buf[4096];
	long len, pos;
	struct dirent ent;
};

/* The connection and the module's state: one per process. */
struct client {
	struct coda_sched sched;
	struct coda_sb sb;
	struct open_fd *fds;
};

static struct client *the_client;
static pthread_mutex_t client_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- The scheduler ---- */

/* One turn of the loop: a message from venus, a writer's release, or a
 * deadline. */
static void loop_once(struct coda_sb *sb)
{
	struct pollfd pfd[2] = {{.fd = sb->vc.chan, .events = POLLIN},
				{.fd = sb->release.inotify_fd, .events = POLLIN}};
	int next = psdev_expire(sb);

	if (poll(pfd, 2, next < 0 || next > 1000 ? 1000 : next) <= 0)
		return;
	if (pfd[0].revents)
		psdev_readable(sb);
	if (pfd[1].revents)
		release_readable(sb);
}

static void sleep_waiter(struct coda_waiter *w)
{
	while (!w->woken)
		loop_once(&the_client->sb);
	w->woken = false;
}

/* ---- The connection ---- */

/* The stores of writers already closed, whether by coda_close or not. */
static void run_releases(struct client *cl)
{
	release_readable(&cl->sb);
	while (release_pending(&cl->sb) && !cl->sb.vc.dead)
		loop_once(&cl->sb);
}

static void client_free(struct client *cl)
{
	struct open_fd *o, *tmp;

	run_releases(cl);
	HASH_ITER(hh, cl->fds, o, tmp)
	{
		HASH_DEL(cl->fds, o);
		coda_file_put(o->file);
		free(o);
	}
	if (cl->sb.vc.chan >= 0)
		close(cl->sb.vc.chan);
	coda_sb_destroy(&cl->sb);
	free(cl);
}

static int client_new(const char *socket, const char *mount, struct client **clp)
{
	struct client *cl;
	struct server_hello hello;
	int fd, rc;

	if (!socket)
		socket = getenv("CODA_SOCKET");
	if (!mount)
		mount = getenv("CODA_MOUNT") ?: "/coda";
	if (!socket)
		return -ENOTCONN;
	if (mount[0] != '/')
		return -EINVAL;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	blocking_sched_init(&cl->sched, sleep_waiter);
	rc = coda_sb_init(&cl->sb, &cl->sched);
	if (rc < 0) {
		free(cl);
		return rc;
	}
	coda_sb_mount(&cl->sb, mount);
	fd = server_attach(socket, CLIENT_TIMEOUT_S * 1000, &hello);
	if (fd < 0) {
		coda_sb_destroy(&cl->sb);
		free(cl);
		return fd;
	}
	psdev_init(&cl->sb.vc, fd, CLIENT_TIMEOUT_S);
	cl->sb.release.shared = true;
	if (hello.venus_pid > 0)
		cl->sb.vc.venus_pid = hello.venus_pid;
	(void)psdev_share(&cl->sb.vc, hello.table, hello.uid); /* without: slower */
	*clp = cl;
	return 0;
}

/* Takes the lock, and connects from the environment on first use. */
static int enter(void)
{
	int rc = 0;

	pthread_mutex_lock(&client_lock);
	if (!the_client)
		rc = client_new(NULL, NULL, &the_client);
	if (rc < 0)
		pthread_mutex_unlock(&client_lock);
	return rc;
}

/* Drops the lock; rc as libc returns it. */
static long leave(long rc)
{
	pthread_mutex_unlock(&client_lock);
	if (rc >= 0)
		return rc;
	errno = (int)-rc;
	return -1;
}

int coda_client_connect(const char *socket, const char *mount)
{
	struct client *cl;
	int rc = client_new(socket, mount, &cl);

	pthread_mutex_lock(&client_lock);
	if (rc == 0) {
		if (the_client)
			client_free(the_client);
		the_client = cl;
	}
	return (int)leave(rc);
}

void coda_client_disconnect(void)
{
	pthread_mutex_lock(&client_lock);
	if (the_client)
		client_free(the_client);
	the_client = NULL;
	pthread_mutex_unlock(&client_lock);
}

/* ---- Paths ---- */

/* Walks path from the root, or a relative one from the cwd. The stores
 * of writers closed since the last call come first: what follows sees
 * them. */
static int walk(const char *path, int flags, struct coda_req *r, struct nameidata *nd)
{
	char cwd[PATH_MAX];
	struct walk_start from = {.from = WALK_ROOT};

	run_releases(the_client);
	if (path[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		from = (struct walk_start){.from = WALK_HOST, .path = cwd};
	}
	return coda_walk(r, &from, path, flags, nd);
}

/* A request of the calling thread, which sleeps on w. */
static struct coda_req request(struct coda_waiter *w)
{
	*w = (struct coda_waiter){0};
	return (struct coda_req){.sb = &the_client->sb, .waiter = w};
}

/* rc of a libc call: 0 or -errno. */
static int host(int rc)
{
	return rc < 0 ? -errno : rc;
}

/* ---- Entry points ---- */

static int do_stat(const char *path, int flags, struct stat *st)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	struct coda_vattr attr;
	struct nameidata nd;
	int rc = walk(path, flags, &r, &nd);

	if (rc < 0)
		return rc;
	if (nd.kind != NAMEI_CODA)
		return host(fstatat(AT_FDCWD, nd.path, st,
				    flags & LOOKUP_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW));
	if (nd.missing)
		return -ENOENT;
	rc = coda_getattr(&r, &nd.fid, &attr);
	if (!rc)
		coda_attr_to_stat(r.sb, &nd.fid, &attr, st);
	return rc;
}

int coda_stat(const char *path, struct stat *st)
{
	int rc = enter();

	return rc < 0 ? (int)leave(rc) : (int)leave(do_stat(path, LOOKUP_FOLLOW, st));
}

int coda_lstat(const char *path, struct stat *st)
{
	int rc = enter();

	return rc < 0 ? (int)leave(rc) : (int)leave(do_stat(path, 0, st));
}

/* O_CREAT of a missing name, with the umask applied. */
static int create(struct coda_req *r, struct nameidata *nd, int flags, mode_t mode)
{
	mode_t mask = umask(0);

	umask(mask);
	return coda_create_named(r, nd, !!(flags & O_EXCL), mode & 07777 & ~mask);
}

/* The caller's fd of the open file src, recorded with f. */
static int hand_out(struct coda_file *f, int src, int flags)
{
	struct open_fd *o = calloc(1, sizeof(*o));
	int fd = o ? fcntl(src, flags & O_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, 0) : -1;

	if (fd < 0) {
		free(o);
		return o ? -errno : -ENOMEM;
	}
	o->fd = fd;
	o->file = f;
	HASH_ADD_INT(the_client->fds, fd, o);
	if (!HASH_ADDED(hh, o)) {
		close(fd);
		free(o);
		return -ENOMEM;
	}
	/* The library's own open file of a reader is src; a writer's goes, so
	 * that the caller's close is its last release. */
	coda_file_close_src(f, src);
	return fd;
}

static int do_open(const char *path, int flags, mode_t mode)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	struct nameidata nd;
	struct coda_file *f;
	int src, rc;

	if ((flags & O_TMPFILE) == O_TMPFILE || (flags & O_PATH))
		return -EOPNOTSUPP;
	rc = walk(path, coda_open_lookup_flags(flags), &r, &nd);
	if (rc < 0)
		return rc;
	if (nd.kind != NAMEI_CODA)
		return host(open(nd.path, flags, mode));
	if (nd.missing)
		rc = flags & O_CREAT ? create(&r, &nd, flags, mode) : -ENOENT;
	else
		rc = coda_may_open(&r, &nd, flags);
	if (!rc)
		rc = coda_file_open(&r, &nd.fid, nd.vtype, nd.path, flags, &f, &src);
	if (rc < 0)
		return rc;
	rc = hand_out(f, src, flags);
	if (rc < 0) {
		coda_file_close_src(f, src);
		coda_file_put(f);
	}
	return rc;
}

int coda_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	int rc;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	rc = enter();
	return rc < 0 ? (int)leave(rc) : (int)leave(do_open(path, flags, mode));
}

/* close(2); the last close of a writer's record is its store. */
static int do_close(int fd)
{
	struct open_fd *o;
	int rc;

	HASH_FIND_INT(the_client->fds, &fd, o);
	rc = host(close(fd));
	if (!o)
		return rc;
	HASH_DEL(the_client->fds, o);
	coda_file_put(o->file);
	free(o);
	run_releases(the_client);
	return rc;
}

int coda_close(int fd)
{
	int rc = enter();

	return rc < 0 ? (int)leave(rc) : (int)leave(do_close(fd));
}

/* A walk of a name the call acts on, in the volume: 1, 0 for a host path
 * (the caller makes the host call on nd->path), or -errno. */
static int walk_name(struct coda_req *r, const char *path, struct nameidata *nd)
{
	int rc = walk(path, LOOKUP_NAME, r, nd);

	return rc < 0 ? rc : nd->kind == NAMEI_CODA;
}

static int do_mkdir(const char *path, mode_t mode)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	struct nameidata nd;
	mode_t mask = umask(0);
	int rc;

	umask(mask);
	rc = walk_name(&r, path, &nd);
	if (rc == 0)
		return host(mkdir(nd.path, mode));
	if (rc > 0 && !nd.missing)
		rc = -EEXIST;
	else if (rc > 0)
		rc = coda_dir_mkdir(&r, &nd.parent, nd.last, mode & 07777 & ~mask);
	return rc;
}

int coda_mkdir(const char *path, mode_t mode)
{
	int rc = enter();

	return rc < 0 ? (int)leave(rc) : (int)leave(do_mkdir(path, mode));
}

static int do_unlink(const char *path)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	struct nameidata nd;
	int rc = walk_name(&r, path, &nd);

	if (rc == 0)
		return host(unlink(nd.path));
	if (rc > 0)
		rc = coda_may_remove(&nd, false);
	return rc ?: coda_dir_unlink(&r, &nd.parent, nd.last, &nd.fid);
}

int coda_unlink(const char *path)
{
	int rc = enter();

	return rc < 0 ? (int)leave(rc) : (int)leave(do_unlink(path));
}

static int do_rename(const char *from, const char *to)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	struct nameidata a, b;
	int in_a = walk_name(&r, from, &a), in_b = in_a < 0 ? in_a : walk_name(&r, to, &b);

	if (in_a < 0 || in_b < 0)
		return in_a < 0 ? in_a : in_b;
	if (!in_a && !in_b)
		return host(rename(a.path, b.path));
	if (in_a != in_b)
		return -EXDEV;
	in_a = coda_may_rename(&a, &b, 0);
	if (in_a || (!b.missing && coda_fid_eq(&a.fid, &b.fid)))
		return in_a; /* two names of one file: rename does nothing */
	return coda_dir_rename(&r, &a.parent, a.last, &a.fid, &b.parent, b.last,
			       b.missing ? NULL : &b.fid);
}

int coda_rename(const char *from, const char *to)
{
	int rc = enter();

	return rc < 0 ? (int)leave(rc) : (int)leave(do_rename(from, to));
}

static ssize_t do_readlink(const char *path, char *buf, size_t size)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	struct nameidata nd;
	int rc = walk(path, 0, &r, &nd);

	if (rc < 0)
		return rc;
	if (nd.kind != NAMEI_CODA)
		return host((int)readlink(nd.path, buf, size));
	if (nd.missing)
		return -ENOENT;
	if (nd.vtype != C_VLNK)
		return -EINVAL;
	return coda_get_link(&r, &nd.fid, buf, size);
}

ssize_t coda_readlink(const char *path, char *buf, size_t size)
{
	int rc = enter();

	return rc < 0 ? leave(rc) : leave(do_readlink(path, buf, size));
}

/* ---- Directories ---- */

static int do_opendir(const char *path, CODA_DIR **dirp)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	struct nameidata nd;
	CODA_DIR *dir;
	int src, rc = walk(path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &r, &nd);

	if (rc < 0)
		return rc;
	if (nd.kind != NAMEI_CODA)
		return -EXDEV; /* a host directory: opendir(3) it */
	if (nd.missing)
		return -ENOENT;
	dir = calloc(1, sizeof(*dir));
	if (!dir)
		return -ENOMEM;
	rc = coda_may_open(&r, &nd, O_RDONLY | O_DIRECTORY);
	if (!rc)
		rc = coda_file_open(&r, &nd.fid, nd.vtype, nd.path, O_RDONLY | O_DIRECTORY,
				    &dir->file, &src);
	if (rc < 0) {
		free(dir);
		return rc;
	}
	coda_file_close_src(dir->file, src);
	*dirp = dir;
	return 0;
}

CODA_DIR *coda_opendir(const char *path)
{
	CODA_DIR *dir = NULL;
	int rc = enter();

	if (rc == 0)
		rc = do_opendir(path, &dir);
	leave(rc);
	return rc < 0 ? NULL : dir;
}

/* The next linux_dirent64 record of venus's listing as a struct dirent, of
 * the same layout; NULL at the end. */
static int next_entry(CODA_DIR *dir, struct dirent **ent)
{
	struct coda_waiter w;
	struct coda_req r = request(&w);
	const struct dirent *rec;

	if (dir->pos >= dir->len) {
		dir->len = coda_dir_readdir(&r, dir->file, dir->buf, sizeof(dir->buf));
		dir->pos = 0;
		if (dir->len <= 0) {
			*ent = NULL;
			return dir->len < 0 ? (int)dir->len : 0;
		}
	}
	rec = (const struct dirent *)(dir->buf + dir->pos);
	dir->pos += rec->d_reclen;
	memcpy(&dir->ent, rec, rec->d_reclen);
	*ent = &dir->ent;
	return 0;
}

struct dirent *coda_readdir(CODA_DIR *dir)
{
	struct dirent *ent = NULL;
	int rc = enter();

	if (rc == 0)
		rc = next_entry(dir, &ent);
	leave(rc);
	return ent;
}

int coda_closedir(CODA_DIR *dir)
{
	int rc = enter();

	if (rc == 0)
		coda_file_put(dir->file);
	free(dir);
	return (int)leave(rc);
}
