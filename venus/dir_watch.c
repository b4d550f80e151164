/* Moves of the directories beneath.c keeps open, seen with inotify.
 *
 * A kept directory fd may be used while the directory is still at its path.
 * One readlink of its /proc/self/fd link tells that, and it costs a few
 * microseconds in every upcall. A directory leaves its path only when it or
 * one of its ancestors below the volume root is renamed or removed, and
 * each of those gives an IN_MOVE_SELF or IN_DELETE_SELF event on the one
 * that moved. So the chain of a kept directory is watched, the readlink
 * made once more after the watches are in place, and from then on the slot
 * is trusted until any event comes: one empty read per upcall instead of a
 * readlink per directory. The watches are on the inodes themselves (each
 * reached by ".." from the one below, and named by its /proc/self/fd link),
 * never on a path that could lead elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

/* Below this, the chain is not watched: the readlink stays. */
#define WATCH_DEPTH 32
/* Watches are dropped all at once beyond this (each holds an inode). */
#define WATCH_MAX 512

#define WATCH_EVENTS (IN_MOVE_SELF | IN_DELETE_SELF | IN_ONLYDIR)

void dir_watch_init(struct venus *v)
{
	struct stat st;

	v->watch.fd = -1;
	v->watch.gen = 1;
	if (fstat(v->vol_fd, &st) < 0)
		return;
	v->watch.root_dev = st.st_dev;
	v->watch.root_ino = st.st_ino;
	/* Without one (a user's 128 instances in use), every check is a
	 * readlink, as before. */
	v->watch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

void dir_watch_fini(struct venus *v)
{
	if (v->watch.fd >= 0)
		close(v->watch.fd);
	v->watch.fd = -1;
}

/* Any event at all (a move, a removal, a watch dropped, an overflow) ends
 * the trust in every slot. */
unsigned long dir_watch_gen(struct venus *v)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (v->watch.fd < 0)
		return 0;
	while (read(v->watch.fd, buf, sizeof(buf)) > 0)
		v->watch.gen++;
	return v->watch.gen;
}

/* Starts afresh when the watches have grown too many: every slot is
 * untrusted then, and watched again when next used. */
static int watch_room(struct venus *v)
{
	if (v->watch.count < WATCH_MAX)
		return 0;
	close(v->watch.fd);
	v->watch.gen++;
	v->watch.count = 0;
	v->watch.max_wd = 0;
	v->watch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return v->watch.fd < 0 ? -1 : 0;
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

/* The parent of directory fd, if it is not the volume root: 1 and *parent
 * (to close), 0 at the root, -1 on an error or past the volume. */
static int parent_of(struct venus *v, int fd, int *parent)
{
	struct stat st;
	int p = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (p < 0)
		return -1;
	if (fstat(p, &st) < 0) {
		close(p);
		return -1;
	}
	if (st.st_dev == v->watch.root_dev && st.st_ino == v->watch.root_ino) {
		close(p);
		return 0;
	}
	*parent = p;
	return 1;
}

unsigned long dir_watch_chain(struct venus *v, int fd)
{
	unsigned long gen;
	int at = fd, rc = -1;

	if (v->watch.fd < 0 || watch_room(v) < 0)
		return 0;
	gen = dir_watch_gen(v);
	for (int depth = 0; depth < WATCH_DEPTH; depth++) {
		int parent;

		if (watch_fd(v, at) < 0)
			break;
		rc = parent_of(v, at, &parent);
		if (at != fd)
			close(at);
		at = fd;
		if (rc <= 0)
			break;
		at = parent;
	}
	if (at != fd)
		close(at);
	return rc == 0 ? gen : 0;
}
