/* Moves of the directories beneath.c keeps open, seen with inotify.
 *
 * A kept directory fd may be used while the directory is still at its path.
 * One readlink of its /proc/self/fd link tells that, and it costs a few
 * microseconds in every upcall. A directory leaves its path only when it or
 * one of its ancestors below the volume root is renamed, removed, or has
 * another renamed over it, and each of those is an event, flagged
 * IN_ISDIR, in the directory that held the name: IN_MOVED_FROM, IN_DELETE,
 * IN_MOVED_TO. (Not IN_DELETE_SELF on the directory itself: that comes
 * only once its last reference is gone, and the kept fd is one.) So every
 * directory above a kept one, up to the volume root, is watched, the
 * readlink made once more after the watches are in place, and from then
 * on the slot is trusted until a directory's name changes anywhere so
 * watched: one read per upcall instead of a readlink per directory. The
 * events of files (a store's renames) are read and let pass. The watches
 * are on the inodes themselves (each reached by ".." from the one below,
 * and named by its /proc/self/fd link), never on a path that could lead
 * elsewhere.
 *
 * Watches cost at the end: the last close of an inotify fd that has held
 * any waits for the kernel to free them (an SRCU grace period), and venus's
 * exit, which coda-exec waits for, with it: 10-20 ms on this project's VM,
 * where a `cat` of a /coda file takes 7 ms in all. That is the price of
 * 4,000 readlinks or so, so venus watches only once it has made
 * WATCH_AFTER of them: a short job never pays for watches, a long one
 * (a `tar x` of 5,000 files makes 30,000 looks) saves many times it. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

/* Looks at kept directories' paths before they are watched instead. */
#define WATCH_AFTER 4096
/* Below this, the chain is not watched: the readlink stays. */
#define WATCH_DEPTH 32
/* Watches are dropped all at once beyond this (each holds an inode). */
#define WATCH_MAX 512

#define WATCH_EVENTS (IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR)

void dir_watch_init(struct venus *v)
{
	struct stat st;

	v->watch.fd = -1;
	v->watch.gen = 1;
	v->watch.min_wd = 1;
	v->watch.looks_left = v->cfg->watch_after ? v->cfg->watch_after : WATCH_AFTER;
	if (fstat(v->vol_fd, &st) < 0) {
		v->watch.looks_left = 0; /* never: no root to end a chain at */
		return;
	}
	v->watch.root_dev = st.st_dev;
	v->watch.root_ino = st.st_ino;
}

/* Whether venus watches now: once it has looked WATCH_AFTER times. Without
 * an inotify fd (a user's 128 instances in use), every check stays a
 * readlink. */
static bool watching(struct venus *v)
{
	if (v->watch.fd >= 0)
		return true;
	if (v->watch.looks_left == 0 || --v->watch.looks_left > 0)
		return false;
	v->watch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return v->watch.fd >= 0;
}

void dir_watch_fini(struct venus *v)
{
	if (v->watch.fd >= 0)
		close(v->watch.fd);
	v->watch.fd = -1;
}

/* Whether the events in buf (n bytes) move a directory's name, or may have
 * (a watch dropped, events lost, a file system unmounted). */
static bool names_moved(const char *buf, ssize_t n)
{
	for (const char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *)p;

		if (ev->mask & (IN_ISDIR | IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT))
			return true;
		p += sizeof(*ev) + ev->len;
	}
	return false;
}

unsigned long dir_watch_gen(struct venus *v)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	if (v->watch.fd < 0)
		return 0;
	while ((n = read(v->watch.fd, buf, sizeof(buf))) > 0)
		if (names_moved(buf, n))
			v->watch.gen++;
	return v->watch.gen;
}

/* Starts afresh when the watches have grown too many: they are removed
 * one by one (which frees them later, where a close of the fd would wait
 * for that), every slot is untrusted then, and watched again when next
 * used. */
static void watch_room(struct venus *v)
{
	if (v->watch.count < WATCH_MAX)
		return;
	for (int wd = v->watch.min_wd; wd <= v->watch.max_wd; wd++)
		inotify_rm_watch(v->watch.fd, wd);
	v->watch.min_wd = v->watch.max_wd + 1;
	v->watch.count = 0;
	v->watch.gen++;
}

static int watch_fd(struct venus *v, int fd)
{
	char link[32];
	int wd;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(v->watch.fd, link, WATCH_EVENTS);
	if (wd < 0)
		return -1;
	if (wd > v->watch.max_wd) {
		v->watch.max_wd = wd;
		v->watch.count++;
	}
	return 0;
}

/* The parent of directory fd: an fd of it, or -1. *root: it is the
 * volume root. */
static int parent_of(struct venus *v, int fd, bool *root)
{
	struct stat st;
	int p = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (p < 0)
		return -1;
	if (fstat(p, &st) < 0) {
		close(p);
		return -1;
	}
	*root = st.st_dev == v->watch.root_dev && st.st_ino == v->watch.root_ino;
	return p;
}

unsigned long dir_watch_chain(struct venus *v, int fd)
{
	unsigned long gen;
	bool root = false, watched = true;
	int at = fd;

	if (!watching(v))
		return 0;
	watch_room(v);
	gen = dir_watch_gen(v);
	for (int depth = 0; depth < WATCH_DEPTH && watched && !root; depth++) {
		int parent = parent_of(v, at, &root);

		if (at != fd)
			close(at);
		at = parent;
		if (at < 0)
			return 0;
		watched = watch_fd(v, at) == 0;
	}
	if (at != fd)
		close(at);
	return watched && root ? gen : 0;
}
