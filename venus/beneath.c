/* Every backing object venus touches is reached beneath the volume root.
 *
 * A fid keeps its object's path from the volume root, and anyone who may
 * write the volume directory can turn a directory on that path into a
 * symlink behind venus's back: a path followed as it stands could lead a
 * venus started by root anywhere on the host. So each call here takes a
 * path, opens the directory it lies in with openat2 RESOLVE_BENEATH (no
 * symlink or ".." that leaves the volume, no magic link), and does its one
 * operation on the last component in that directory without following it.
 * A top-level name lies in the volume root itself, vol_fd.
 *
 * The directories resolved last stay open (BENEATH_SLOTS of them, the least
 * recently used one making room), so that a run of lookups in one directory
 * opens none. An fd follows its directory wherever it goes, renamed or moved
 * out of the volume, so a kept one is used only while the kernel still
 * shows it at its path (its /proc/self/fd link, one readlink), else the
 * path is resolved again: it reaches what a fresh openat2 would. That is
 * checked once in each upcall (a check is a moment's truth however often
 * it is made), and again after a rename or rmdir of venus's own; a kept fd
 * whose directories above are watched (dir_watch.c) is checked by the
 * absence of any directory's move since, with no readlink. An fd
 * handed out stays open until BENEATH_SLOTS - 1 more directories have been
 * resolved. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

/* A path that leads out of the volume: its object is gone from it. */
static int escaped(struct venus *v, const char *dir)
{
	if (v->cfg->verbose)
		fprintf(v->cfg->log ? v->cfg->log : stderr,
			"coda-venus: %s leads out of the volume: taken as gone\n", dir);
	return -ENOENT;
}

/* The directory at path `dir` from the volume root, opened beneath it: a
 * symlink on the way is followed only while it stays in the volume. */
static int dir_resolve(struct venus *v, const char *dir)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, v->vol_fd, dir, &how, sizeof(how));

	if (fd >= 0)
		return (int)fd;
	if (errno == EXDEV)
		return escaped(v, dir);
	return errno == ELOOP ? -ENOENT : -errno; /* symlinks in a loop */
}

/* Where the kernel shows fd now (its /proc/self/fd link), in buf; its
 * length, or -1 (then a kept fd is never trusted). */
static ssize_t fd_where(struct venus *v, int fd, char *buf, size_t len)
{
	char name[16];

	if (v->proc_fd < 0)
		return -1;
	snprintf(name, sizeof(name), "%d", fd);
	return readlinkat(v->proc_fd, name, buf, len);
}

/* The volume root as the kernel shows it, ending in '/': a kept fd's path
 * is this and the directory's path from the root. */
int beneath_init(struct venus *v)
{
	char buf[PATH_MAX];
	ssize_t n;

	v->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	dir_watch_init(v);
	n = fd_where(v, v->vol_fd, buf, sizeof(buf) - 1);
	if (n <= 0 || (size_t)n >= sizeof(buf) - 1)
		n = 0; /* no /proc, or too long: every fd resolved afresh */
	if (n > 0 && buf[n - 1] != '/')
		buf[n++] = '/';
	v->vol_shown = strndup(buf, (size_t)n);
	if (!v->vol_shown)
		return -ENOMEM;
	v->vol_shown_len = (size_t)n;
	return 0;
}

static void slot_clear(struct beneath_slot *s)
{
	if (s->shown)
		close(s->fd);
	free(s->shown);
	s->shown = NULL;
}

void beneath_fini(struct venus *v)
{
	for (int i = 0; i < BENEATH_SLOTS; i++)
		slot_clear(&v->parents[i]);
	if (v->proc_fd >= 0)
		close(v->proc_fd);
	v->proc_fd = -1;
	dir_watch_fini(v);
	free(v->vol_shown);
	v->vol_shown = NULL;
}

static bool slot_is(struct venus *v, const struct beneath_slot *s, const char *dir, size_t len)
{
	return s->shown && s->len == v->vol_shown_len + len &&
	       memcmp(s->shown + v->vol_shown_len, dir, len) == 0;
}

/* Whether the kernel still shows the slot's directory at its path: not
 * renamed, moved out of the volume or removed since it was resolved. */
static bool slot_current(struct venus *v, const struct beneath_slot *s)
{
	char buf[PATH_MAX];
	ssize_t n = fd_where(v, s->fd, buf, sizeof(buf));

	return v->vol_shown_len && n >= 0 && (size_t)n == s->len &&
	       memcmp(buf, s->shown, s->len) == 0;
}

/* Whether the slot's directory is still at its path: trusted while no
 * directory has moved since those above it were watched, else looked at,
 * and those watched before that look so that the next needs none. */
static bool slot_still_there(struct venus *v, struct beneath_slot *s)
{
	unsigned long gen;

	if (s->trusted && s->trusted == v->watch.gen)
		return true;
	gen = dir_watch_chain(v, s->fd);
	if (!slot_current(v, s))
		return false;
	s->trusted = gen && dir_watch_gen(v) == gen ? gen : 0;
	return true;
}

/* The slot of directory dir (len bytes), else the one to reuse for it. */
static struct beneath_slot *slot_for(struct venus *v, const char *dir, size_t len)
{
	struct beneath_slot *s, *lru = &v->parents[0];

	for (int i = 0; i < BENEATH_SLOTS; i++) {
		s = &v->parents[i];
		if (slot_is(v, s, dir, len))
			return s;
		if (!s->shown || (lru->shown && s->used < lru->used))
			lru = s;
	}
	return lru;
}

/* Fills slot s with directory dir (len bytes), resolved now. */
static int slot_fill(struct venus *v, struct beneath_slot *s, const char *dir, size_t len)
{
	struct stat st;
	char *shown;
	int fd;

	slot_clear(s);
	if (asprintf(&shown, "%s%.*s", v->vol_shown, (int)len, dir) < 0)
		return -ENOMEM;
	fd = dir_resolve(v, shown + v->vol_shown_len);
	if (fd >= 0 && fstat(fd, &st) < 0) {
		close(fd);
		fd = -errno;
	}
	if (fd < 0) {
		free(shown);
		return fd;
	}
	s->shown = shown;
	s->len = v->vol_shown_len + len;
	s->fd = fd;
	s->key = (struct fid_ino){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};
	s->trusted = 0;
	return 0;
}

/* s was seen at its path in this upcall, and used now. */
static void slot_touch(struct venus *v, struct beneath_slot *s)
{
	s->seen = v->beneath_epoch;
	s->used = ++v->parents_used;
}

/* The slot of directory dir (len bytes) if it holds it and has seen it at
 * its path in this upcall (looked at once per upcall), marked used; else
 * NULL, and *spare is the slot to fill. */
static struct beneath_slot *slot_seen(struct venus *v, const char *dir, size_t len,
				      struct beneath_slot **spare)
{
	struct beneath_slot *s = slot_for(v, dir, len);

	*spare = s;
	if (!slot_is(v, s, dir, len) || (s->seen != v->beneath_epoch && !slot_still_there(v, s)))
		return NULL;
	slot_touch(v, s);
	return s;
}

/* An fd of directory dir (len bytes); when key is given, the directory
 * must be that inode (-ENOENT: another has its name now). Borrowed. */
static int dir_fd(struct venus *v, const char *dir, size_t len, const struct fid_ino *key)
{
	struct beneath_slot *spare, *s = slot_seen(v, dir, len, &spare);
	int err;

	if (!s) {
		s = spare;
		err = slot_fill(v, s, dir, len);
		if (err)
			return err;
		slot_touch(v, s);
	}
	if (key && memcmp(key, &s->key, sizeof(*key)) != 0)
		return -ENOENT;
	return s->fd;
}

/* ".." last would step above the directory it is found in. */
static int last_checked(struct venus *v, const char *name, const char *path)
{
	return strcmp(name, "..") == 0 ? escaped(v, path) : 0;
}

void beneath_new_upcall(struct venus *v)
{
	v->beneath_epoch++;
	dir_watch_gen(v);
}

int beneath_at(struct venus *v, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	int err;

	*name = slash ? slash + 1 : path;
	err = last_checked(v, *name, path);
	if (err)
		return err;
	if (!slash)
		return v->vol_fd;
	return dir_fd(v, path, (size_t)(slash - path), NULL);
}

/* An fd of the directory of fid dir itself: the directory at its path may
 * be another one now. */
static int dir_of(struct venus *v, const struct fid_entry *dir)
{
	if (dir == v->root)
		return v->vol_fd;
	if (!dir->path)
		return -ENOENT;
	return dir_fd(v, dir->path, strlen(dir->path), &dir->ikey);
}

/* Only a kept directory, seen at its very path (fd_where names no symlink):
 * what a stat of that path, not followed, would find. Anything else is left
 * to that stat. */
int beneath_dir_kept(struct venus *v, const struct fid_entry *dir)
{
	struct beneath_slot *s, *spare;

	if (dir == v->root)
		return v->vol_fd;
	if (!dir->path)
		return -1;
	s = slot_seen(v, dir->path, strlen(dir->path), &spare);
	return s && memcmp(&dir->ikey, &s->key, sizeof(s->key)) == 0 ? s->fd : -1;
}

/* The result of a call that sets errno: 0 or -errno. */
static int sys_result(int r)
{
	return r < 0 ? -errno : 0;
}

int beneath_stat(struct venus *v, const char *path, struct stat *st)
{
	const char *name;
	int at = beneath_at(v, path, &name);

	return at < 0 ? at : sys_result(fstatat(at, name, st, AT_SYMLINK_NOFOLLOW));
}

int beneath_stat_in(struct venus *v, const struct fid_entry *dir, const char *name, struct stat *st)
{
	int at = last_checked(v, name, name);

	if (!at)
		at = dir_of(v, dir);
	return at < 0 ? at : sys_result(fstatat(at, name, st, AT_SYMLINK_NOFOLLOW));
}

int beneath_open(struct venus *v, const char *path, int flags, mode_t mode)
{
	const char *name;
	int at = beneath_at(v, path, &name), fd;

	if (at < 0)
		return at;
	fd = openat(at, name, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

int beneath_parent_open(struct venus *v, const char *path, int flags)
{
	const char *name;
	int at = beneath_at(v, path, &name), fd;

	if (at < 0)
		return at;
	fd = openat(at, ".", flags | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int beneath_mkdir(struct venus *v, const char *path, mode_t mode)
{
	const char *name;
	int at = beneath_at(v, path, &name);

	return at < 0 ? at : sys_result(mkdirat(at, name, mode));
}

int beneath_symlink(struct venus *v, const char *target, const char *path)
{
	const char *name;
	int at = beneath_at(v, path, &name);

	return at < 0 ? at : sys_result(symlinkat(target, at, name));
}

int beneath_chown(struct venus *v, const char *path, uid_t uid, gid_t gid)
{
	const char *name;
	int at = beneath_at(v, path, &name);

	return at < 0 ? at : sys_result(fchownat(at, name, uid, gid, AT_SYMLINK_NOFOLLOW));
}

/* fchmodat2 (Linux 6.6) takes AT_SYMLINK_NOFOLLOW in one call, where
 * glibc's fchmodat makes four: an O_PATH open, an fstat, a chmod through
 * /proc and a close. Its number is the one every architecture has for the
 * calls added since 5.1, but for alpha, ia64 and mips. */
#if !defined(SYS_fchmodat2) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_fchmodat2 452
#endif

static int chmod_nofollow(int at, const char *name, mode_t mode)
{
#ifdef SYS_fchmodat2
	if (syscall(SYS_fchmodat2, at, name, mode, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	/* An older kernel, or a seccomp profile that does not know the call
	 * (EPERM, as Docker's): glibc's way says what is true. */
	if (errno != ENOSYS && errno != EPERM)
		return -errno;
#endif
	return sys_result(fchmodat(at, name, mode, AT_SYMLINK_NOFOLLOW));
}

/* A symlink has no mode on Linux: EOPNOTSUPP, never its target's. */
int beneath_chmod(struct venus *v, const char *path, mode_t mode)
{
	const char *name;
	int at = beneath_at(v, path, &name);

	return at < 0 ? at : chmod_nofollow(at, name, mode);
}

int beneath_utimens(struct venus *v, const char *path, const struct timespec ts[2])
{
	const char *name;
	int at = beneath_at(v, path, &name);

	return at < 0 ? at : sys_result(utimensat(at, name, ts, AT_SYMLINK_NOFOLLOW));
}

ssize_t beneath_readlink(struct venus *v, const char *path, char *buf, size_t len)
{
	const char *name;
	int at = beneath_at(v, path, &name);
	ssize_t n;

	if (at < 0)
		return at;
	n = readlinkat(at, name, buf, len);
	return n < 0 ? -errno : n;
}

static int link_names(int fat, const char *fname, int tat, const char *tname)
{
	return linkat(fat, fname, tat, tname, 0);
}

/* A call on two names, each in its directory: the first fd survives the
 * second's resolving. */
static int beneath_two(struct venus *v, const char *from, const char *to,
		       int (*call)(int, const char *, int, const char *))
{
	const char *fname, *tname;
	int fat = beneath_at(v, from, &fname), tat;

	if (fat < 0)
		return fat;
	tat = beneath_at(v, to, &tname);
	return tat < 0 ? tat : sys_result(call(fat, fname, tat, tname));
}

int beneath_link(struct venus *v, const char *from, const char *to)
{
	return beneath_two(v, from, to, link_names);
}

int beneath_rename(struct venus *v, const char *from, const char *to)
{
	int err = beneath_two(v, from, to, renameat);

	beneath_new_upcall(v); /* a kept directory may have moved */
	return err;
}

int beneath_unlink(struct venus *v, const char *path, int flags)
{
	const char *name;
	int at = beneath_at(v, path, &name);

	if (flags & AT_REMOVEDIR)
		beneath_new_upcall(v); /* a kept directory may be gone */
	return at < 0 ? at : sys_result(unlinkat(at, name, flags));
}
