/*
 * edgecalls HOSTDIR: every trapped path call on the names whose answer the
 * kernel decides from the name alone (a trailing slash on a file, a
 * directory, a missing name, and symlinks to a file, to a directory and to
 * nothing), and every trapped fd call and *at call on fds that are not what
 * the call wants (closed, negative, AT_FDCWD, host files and directories,
 * O_PATH fds, /coda files where a directory is expected).  Calls are made
 * with syscall(2), so that libc checks nothing first.
 *
 * The tree is made in the cwd (a plain directory natively, /coda under
 * coda-exec), and host objects in HOSTDIR (outside the volume).  One line is
 * printed per call, "call (fd, "name") -> result", where the result is
 * "-1 ERRNO", "fd" for a new fd (closed again), "n" for a byte count of a
 * directory listing, or the return value.  After a call that changed
 * anything the tree is made again, so every call sees the same tree.
 * Nothing printed depends on where the tree is, fd numbers or inode numbers:
 * the output under coda-exec must equal the kernel's.
 *
 * Used by the write suite (trapped_calls_on_edge_names_and_fds_match_the_kernel).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* What a call is given: a dirfd (or fd), a name, and the directory where
 * a new name on the same side of the mount goes (linkat with ""). */
struct run {
	int fd;
	const char *p;
	const char *home;
};

enum { AT = 1, EMPTY = 2, FD = 4, MUT = 8, NOCREATE = 16, COUNT = 32, TWO = 64, WALKERR = 128 };

struct pcall {
	const char *name;
	long nr;
	long (*fn)(const struct pcall *k, const struct run *r);
	long arg;
	/* AT: takes a dirfd; EMPTY: also "" with AT_EMPTY_PATH; FD: returns an
	 * fd; MUT: may change the tree; NOCREATE: not on "missing"; TWO: its
	 * other path is relative to the same dirfd; WALKERR: only on names
	 * whose walk fails (on a /coda object the call is EOPNOTSUPP, see the
	 * README) */
	unsigned how;
};

static char *const argv_[] = {"x", NULL};
static char *const envp_[] = {NULL};

static void die(const char *what)
{
	fprintf(stderr, "edgecalls: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ------------------------------------------------------------ the tree */

static void join(char *out, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		die(dir);
	}
}

/* One object of the tree: its path ("T/..." in the cwd, "H/..." in
 * HOSTDIR), type, and a symlink's target. Parents come before children. */
struct node {
	const char *path;
	char type;
	const char *target;
};

static const struct node tree[] = {
    {"T/file", 'f', NULL},	  {"T/sub", 'f', NULL},	       {"T/dir", 'd', NULL},
    {"T/dir/sub", 'f', NULL},	  {"T/dir/subdir", 'd', NULL}, {"T/subdir", 'd', NULL},
    {"T/lnfile", 'l', "file"},	  {"T/lndir", 'l', "dir"},     {"T/dangling", 'l', "nowhere"},
    {"H/hfile", 'f', NULL},	  {"H/hdir", 'd', NULL},       {"H/hdir/sub", 'f', NULL},
    {"H/hdir/subdir", 'd', NULL},
};

/* Every name a call may leave beside the tree, and where. */
static const char *const extra_dirs[] = {"T", "T/dir", "H", "H/hdir"};
static const char *const extra_names[] = {"new", "missing", "nowhere", "nothere"};

static void node_path(char *out, const char *host, const char *path)
{
	join(out, path[0] == 'H' ? host : ".", path[1] ? path + 2 : "");
}

static void remove_any(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			die(path);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			die(path);
		return;
	}
	if (chmod(path, 0755) < 0 || !(d = opendir(path)))
		die(path);
	while ((e = readdir(d))) {
		char child[PATH_MAX];

		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			join(child, path, e->d_name);
			remove_any(child);
		}
	}
	closedir(d);
	if (rmdir(path) < 0)
		die(path);
}

static bool intact(const char *path, const struct node *n)
{
	char buf[PATH_MAX];
	struct stat st;
	ssize_t len;

	if (lstat(path, &st) < 0)
		return false;
	switch (n->type) {
	case 'f':
		return S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_size == 5;
	case 'd':
		return S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755;
	}
	len = readlink(path, buf, sizeof(buf));
	return len == (ssize_t)strlen(n->target) && !memcmp(buf, n->target, (size_t)len);
}

static void make_node(const char *path, const struct node *n)
{
	int fd;

	switch (n->type) {
	case 'f':
		fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0 || write(fd, "data\n", 5) != 5 || close(fd) < 0)
			die(path);
		return;
	case 'd':
		if (mkdir(path, 0755) < 0)
			die(path);
		return;
	}
	if (symlink(n->target, path) < 0)
		die(path);
}

/* The tree in the cwd: file, sub (files), dir (holding sub and subdir),
 * subdir (empty), lnfile -> file, lndir -> dir, dangling -> nowhere; and in
 * HOSTDIR: hfile, hdir (holding sub and subdir). What a call changed is put
 * back, and what it made is removed. */
static void make_tree(const char *host)
{
	char path[PATH_MAX], dir[PATH_MAX];

	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
		node_path(path, host, tree[i].path);
		if (!intact(path, &tree[i])) {
			remove_any(path);
			make_node(path, &tree[i]);
		}
	}
	for (size_t i = 0; i < sizeof(extra_dirs) / sizeof(extra_dirs[0]); i++) {
		for (size_t k = 0; k < sizeof(extra_names) / sizeof(extra_names[0]); k++) {
			node_path(dir, host, extra_dirs[i]);
			join(path, dir, extra_names[k]);
			remove_any(path);
		}
	}
}

/* ------------------------------------------------------- path calls */

/* Each makes syscall k->nr with the name (and the dirfd for *at calls) in
 * one shape of arguments; k->arg is the flags or mode argument. */

static long c_name(const struct pcall *k, const struct run *r)
{
	return syscall(k->nr, r->p, k->arg, 0644);
}

static long c_at(const struct pcall *k, const struct run *r)
{
	return syscall(k->nr, r->fd, r->p, k->arg, 0644);
}

/* ... with a result buffer: stat, lstat, statfs (statfs fits in stat) */
static long c_name_buf(const struct pcall *k, const struct run *r)
{
	struct stat st;

	return syscall(k->nr, r->p, &st);
}

static long c_at_buf(const struct pcall *k, const struct run *r)
{
	struct stat st;

	return syscall(k->nr, r->fd, r->p, &st, k->arg);
}

static long c_statx(const struct pcall *k, const struct run *r)
{
	struct statx stx;

	return syscall(k->nr, r->fd, r->p, k->arg, STATX_BASIC_STATS, &stx);
}

/* faccessat2, fchmodat2, utimensat, futimesat: (fd, name, mode/times, flags) */
static long c_at_mode_flags(const struct pcall *k, const struct run *r)
{
	long mode = k->nr == SYS_faccessat2 ? R_OK : k->nr == SYS_fchmodat2 ? 0755 : 0;

	return syscall(k->nr, r->fd, r->p, mode, k->arg);
}

static long c_openat2(const struct pcall *k, const struct run *r)
{
	struct open_how how = {.flags = (unsigned long)k->arg};

	if (k->arg & O_CREAT)
		how.mode = 0644;
	return syscall(k->nr, r->fd, r->p, &how, sizeof(how));
}

static long c_readlink(const struct pcall *k, const struct run *r)
{
	char buf[PATH_MAX];

	if (k->nr == SYS_readlink)
		return syscall(k->nr, r->p, buf, sizeof(buf));
	return syscall(k->nr, r->fd, r->p, buf, sizeof(buf));
}

/* rename and link name the edge case on one side: "from" (to "new"), or
 * "to" (from "sub", a file, or "subdir", an empty directory); renameat2 and
 * linkat take k->arg as flags. */
static long c_from(const struct pcall *k, const struct run *r)
{
	char to[PATH_MAX];

	if (k->nr == SYS_rename || k->nr == SYS_link)
		return syscall(k->nr, r->p, "new");
	if (!*r->p && (k->arg & AT_EMPTY_PATH)) {
		/* the new name in the directory of the fd's own side */
		join(to, r->home, "new");
		return syscall(k->nr, r->fd, r->p, AT_FDCWD, to, k->arg);
	}
	return syscall(k->nr, r->fd, r->p, r->fd, "new", k->arg);
}

static long c_to(const struct pcall *k, const struct run *r)
{
	if (k->nr == SYS_rename || k->nr == SYS_link)
		return syscall(k->nr, "sub", r->p);
	return syscall(k->nr, r->fd, "sub", r->fd, r->p, k->arg);
}

static long c_dir_to(const struct pcall *k, const struct run *r)
{
	if (k->nr == SYS_rename)
		return syscall(k->nr, "subdir", r->p);
	return syscall(k->nr, r->fd, "subdir", r->fd, r->p, k->arg);
}

static long c_symlink(const struct pcall *k, const struct run *r)
{
	if (k->nr == SYS_symlink)
		return syscall(k->nr, "target", r->p);
	return syscall(k->nr, "target", r->fd, r->p);
}

static long c_chown(const struct pcall *k, const struct run *r)
{
	if (k->nr == SYS_fchownat)
		return syscall(k->nr, r->fd, r->p, getuid(), getgid(), k->arg);
	return syscall(k->nr, r->p, getuid(), getgid());
}

static long c_xattr(const struct pcall *k, const struct run *r)
{
	char buf[256];

	switch (k->nr) {
	case SYS_getxattr:
	case SYS_lgetxattr:
		return syscall(k->nr, r->p, "user.x", buf, sizeof(buf));
	case SYS_listxattr:
	case SYS_llistxattr:
		return syscall(k->nr, r->p, buf, sizeof(buf));
	case SYS_setxattr:
	case SYS_lsetxattr:
		return syscall(k->nr, r->p, "user.x", "v", 1, 0);
	}
	return syscall(k->nr, r->p, "user.x");
}

/* Calls on a new fd (an inotify instance, a Unix socket), closed after. */
static long c_on_new_fd(const struct pcall *k, const struct run *r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, e;
	long rc;

	if (k->nr == SYS_inotify_add_watch)
		fd = inotify_init1(IN_CLOEXEC);
	else
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("new fd");
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", r->p);
	if (k->nr == SYS_inotify_add_watch)
		rc = syscall(k->nr, fd, r->p, IN_ALL_EVENTS);
	else
		rc = syscall(k->nr, fd, &sun, sizeof(sun));
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static long c_handle(const struct pcall *k, const struct run *r)
{
	union {
		struct file_handle fh;
		char room[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h = {.fh.handle_bytes = MAX_HANDLE_SZ};
	int mnt;

	return syscall(k->nr, r->fd, r->p, &h.fh, &mnt, k->arg);
}

/* Nothing in the tree may be executed (mode 0644, directories): these fail. */
static long c_exec(const struct pcall *k, const struct run *r)
{
	if (k->nr == SYS_execve)
		return syscall(k->nr, r->p, argv_, envp_);
	return syscall(k->nr, r->fd, r->p, argv_, envp_, k->arg);
}

#define CREATING (O_WRONLY | O_CREAT)

static const struct pcall path_calls[] = {
    {"open O_RDONLY", SYS_open, c_name, O_RDONLY, FD},
    {"open O_WRONLY", SYS_open, c_name, O_WRONLY, FD | MUT},
    {"open O_RDWR", SYS_open, c_name, O_RDWR, FD | MUT},
    {"open O_WRONLY|O_CREAT", SYS_open, c_name, CREATING, FD | MUT},
    {"open O_WRONLY|O_CREAT|O_EXCL", SYS_open, c_name, CREATING | O_EXCL, FD | MUT},
    {"open O_RDONLY|O_CREAT", SYS_open, c_name, O_RDONLY | O_CREAT, FD | MUT},
    {"open O_WRONLY|O_CREAT|O_NOFOLLOW", SYS_open, c_name, CREATING | O_NOFOLLOW, FD | MUT},
    {"open O_RDONLY|O_DIRECTORY", SYS_open, c_name, O_RDONLY | O_DIRECTORY, FD},
    {"open O_CREAT|O_DIRECTORY", SYS_open, c_name, O_CREAT | O_DIRECTORY, FD | MUT},
    {"open O_WRONLY|O_TRUNC", SYS_open, c_name, O_WRONLY | O_TRUNC, FD | MUT},
    {"open O_RDONLY|O_NOFOLLOW", SYS_open, c_name, O_RDONLY | O_NOFOLLOW, FD},
    {"open O_PATH", SYS_open, c_name, O_PATH, FD},
    {"open O_PATH|O_NOFOLLOW", SYS_open, c_name, O_PATH | O_NOFOLLOW, FD},
    {"open O_PATH|O_DIRECTORY", SYS_open, c_name, O_PATH | O_DIRECTORY, FD},
    {"open O_PATH|O_CREAT", SYS_open, c_name, O_PATH | O_CREAT, FD | MUT},
    {"openat O_RDONLY", SYS_openat, c_at, O_RDONLY, AT | FD},
    {"openat O_WRONLY|O_CREAT", SYS_openat, c_at, CREATING, AT | FD | MUT},
    {"openat O_RDONLY|O_DIRECTORY", SYS_openat, c_at, O_RDONLY | O_DIRECTORY, AT | FD},
    {"openat O_PATH", SYS_openat, c_at, O_PATH, AT | FD},
    {"openat2 O_RDONLY", SYS_openat2, c_openat2, O_RDONLY, AT | FD},
    {"openat2 O_WRONLY|O_CREAT", SYS_openat2, c_openat2, CREATING, AT | FD | MUT},
    {"openat2 O_WRONLY|O_CREAT|O_EXCL", SYS_openat2, c_openat2, CREATING | O_EXCL, AT | FD | MUT},
    {"openat2 O_RDONLY|O_DIRECTORY", SYS_openat2, c_openat2, O_RDONLY | O_DIRECTORY, AT | FD},
    {"creat", SYS_creat, c_name, 0644, FD | MUT},
    {"stat", SYS_stat, c_name_buf, 0, 0},
    {"lstat", SYS_lstat, c_name_buf, 0, 0},
    {"newfstatat", SYS_newfstatat, c_at_buf, 0, AT | EMPTY},
    {"newfstatat AT_SYMLINK_NOFOLLOW", SYS_newfstatat, c_at_buf, AT_SYMLINK_NOFOLLOW, AT | EMPTY},
    {"statx", SYS_statx, c_statx, 0, AT | EMPTY},
    {"statx AT_SYMLINK_NOFOLLOW", SYS_statx, c_statx, AT_SYMLINK_NOFOLLOW, AT | EMPTY},
    {"access F_OK", SYS_access, c_name, F_OK, 0},
    {"access W_OK", SYS_access, c_name, W_OK, 0},
    {"faccessat X_OK", SYS_faccessat, c_at, X_OK, AT},
    {"faccessat2", SYS_faccessat2, c_at_mode_flags, 0, AT | EMPTY},
    {"faccessat2 AT_SYMLINK_NOFOLLOW", SYS_faccessat2, c_at_mode_flags, AT_SYMLINK_NOFOLLOW,
     AT | EMPTY},
    {"readlink", SYS_readlink, c_readlink, 0, 0},
    {"readlinkat", SYS_readlinkat, c_readlink, 0, AT | EMPTY},
    {"mkdir", SYS_mkdir, c_name, 0755, MUT},
    {"mkdirat", SYS_mkdirat, c_at, 0755, AT | MUT},
    {"rmdir", SYS_rmdir, c_name, 0, MUT},
    {"unlink", SYS_unlink, c_name, 0, MUT},
    {"unlinkat", SYS_unlinkat, c_at, 0, AT | MUT},
    {"unlinkat AT_REMOVEDIR", SYS_unlinkat, c_at, AT_REMOVEDIR, AT | MUT},
    {"rename NAME->new", SYS_rename, c_from, 0, TWO | MUT},
    {"rename sub->NAME", SYS_rename, c_to, 0, TWO | MUT},
    {"rename subdir->NAME", SYS_rename, c_dir_to, 0, TWO | MUT},
    {"renameat NAME->new", SYS_renameat, c_from, 0, TWO | AT | MUT},
    {"renameat sub->NAME", SYS_renameat, c_to, 0, TWO | AT | MUT},
    {"renameat subdir->NAME", SYS_renameat, c_dir_to, 0, TWO | AT | MUT},
    {"renameat2 NOREPLACE NAME->new", SYS_renameat2, c_from, RENAME_NOREPLACE, TWO | AT | MUT},
    {"renameat2 NOREPLACE sub->NAME", SYS_renameat2, c_to, RENAME_NOREPLACE, TWO | AT | MUT},
    {"link NAME->new", SYS_link, c_from, 0, TWO | MUT},
    {"link sub->NAME", SYS_link, c_to, 0, TWO | MUT},
    {"linkat NAME->new", SYS_linkat, c_from, 0, TWO | AT | MUT},
    {"linkat AT_SYMLINK_FOLLOW NAME->new", SYS_linkat, c_from, AT_SYMLINK_FOLLOW, TWO | AT | MUT},
    {"linkat AT_EMPTY_PATH NAME->new", SYS_linkat, c_from, AT_EMPTY_PATH, TWO | AT | EMPTY | MUT},
    {"linkat sub->NAME", SYS_linkat, c_to, 0, TWO | AT | MUT},
    {"symlink", SYS_symlink, c_symlink, 0, MUT},
    {"symlinkat", SYS_symlinkat, c_symlink, 0, AT | MUT},
    {"chmod", SYS_chmod, c_name, 0755, MUT},
    {"fchmodat", SYS_fchmodat, c_at, 0755, AT | MUT},
    {"fchmodat2", SYS_fchmodat2, c_at_mode_flags, 0, AT | EMPTY | MUT},
    {"fchmodat2 AT_SYMLINK_NOFOLLOW", SYS_fchmodat2, c_at_mode_flags, AT_SYMLINK_NOFOLLOW,
     AT | EMPTY | MUT},
    {"chown", SYS_chown, c_chown, 0, MUT},
    {"lchown", SYS_lchown, c_chown, 0, MUT},
    {"fchownat", SYS_fchownat, c_chown, 0, AT | EMPTY | MUT},
    {"fchownat AT_SYMLINK_NOFOLLOW", SYS_fchownat, c_chown, AT_SYMLINK_NOFOLLOW, AT | EMPTY | MUT},
    {"truncate", SYS_truncate, c_name, 0, MUT},
    {"utime", SYS_utime, c_name, 0, MUT},
    {"utimes", SYS_utimes, c_name, 0, MUT},
    {"futimesat", SYS_futimesat, c_at_mode_flags, 0, AT | MUT},
    {"utimensat", SYS_utimensat, c_at_mode_flags, 0, AT | EMPTY | MUT},
    {"utimensat AT_SYMLINK_NOFOLLOW", SYS_utimensat, c_at_mode_flags, AT_SYMLINK_NOFOLLOW,
     AT | EMPTY | MUT},
    {"chdir", SYS_chdir, c_name, 0, 0},
    {"statfs", SYS_statfs, c_name_buf, 0, 0},
    /* a fifo made in the volume is a documented difference (EIO) */
    {"mknod S_IFIFO", SYS_mknod, c_name, S_IFIFO | 0644, MUT | NOCREATE},
    {"mknodat S_IFIFO", SYS_mknodat, c_at, S_IFIFO | 0644, AT | MUT | NOCREATE},
    {"execve", SYS_execve, c_exec, 0, 0},
    {"execveat", SYS_execveat, c_exec, 0, AT | EMPTY},
    {"getxattr", SYS_getxattr, c_xattr, 0, WALKERR},
    {"lgetxattr", SYS_lgetxattr, c_xattr, 0, WALKERR},
    {"listxattr", SYS_listxattr, c_xattr, 0, WALKERR},
    {"llistxattr", SYS_llistxattr, c_xattr, 0, WALKERR},
    {"setxattr", SYS_setxattr, c_xattr, 0, WALKERR},
    {"lsetxattr", SYS_lsetxattr, c_xattr, 0, WALKERR},
    {"removexattr", SYS_removexattr, c_xattr, 0, WALKERR},
    {"lremovexattr", SYS_lremovexattr, c_xattr, 0, WALKERR},
    {"inotify_add_watch", SYS_inotify_add_watch, c_on_new_fd, 0, WALKERR},
    {"chroot", SYS_chroot, c_name, 0, WALKERR},
    {"name_to_handle_at", SYS_name_to_handle_at, c_handle, 0, AT | WALKERR},
    /* a socket made in the volume is a documented difference (EIO) */
    {"bind", SYS_bind, c_on_new_fd, 0, MUT | NOCREATE},
    {"connect", SYS_connect, c_on_new_fd, 0, 0},
};

/* Each flag of an AT_EMPTY_PATH form: the call's own flag plus it. */
static long empty_flags(const struct pcall *k)
{
	if (k->nr == SYS_readlinkat || k->nr == SYS_linkat)
		return k->arg;
	return k->arg | AT_EMPTY_PATH;
}

/* --------------------------------------------------------- fd calls */

struct fcall {
	const char *name;
	long (*fn)(const struct fcall *k, int fd);
	long arg;
	unsigned how;
};

static long f_fstat(const struct fcall *k, int fd)
{
	struct stat st;

	(void)k;
	return syscall(SYS_fstat, fd, &st);
}

static long f_fstatfs(const struct fcall *k, int fd)
{
	struct statfs st;

	(void)k;
	return syscall(SYS_fstatfs, fd, &st);
}

static long f_fchdir(const struct fcall *k, int fd)
{
	(void)k;
	return syscall(SYS_fchdir, fd);
}

static long f_getdents64(const struct fcall *k, int fd)
{
	char buf[4096];

	(void)k;
	return syscall(SYS_getdents64, fd, buf, sizeof(buf));
}

static long f_read(const struct fcall *k, int fd)
{
	char c;

	(void)k;
	return syscall(SYS_read, fd, &c, 1);
}

static long f_dup(const struct fcall *k, int fd)
{
	(void)k;
	return syscall(SYS_dup, fd);
}

/* arg: the new fd, or -1000 for the fd itself */
static long f_dup2(const struct fcall *k, int fd)
{
	return syscall(SYS_dup2, fd, k->arg == -1000 ? fd : k->arg);
}

static long f_dup3(const struct fcall *k, int fd)
{
	return syscall(SYS_dup3, fd, k->arg == -1000 ? fd : 711, k->arg == -1000 ? 0 : k->arg);
}

static long f_dupfd(const struct fcall *k, int fd)
{
	return syscall(SYS_fcntl, fd, F_DUPFD, k->arg);
}

static long f_dupfd_cloexec(const struct fcall *k, int fd)
{
	return syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, k->arg);
}

static long f_fchmod(const struct fcall *k, int fd)
{
	(void)k;
	return syscall(SYS_fchmod, fd, 0755);
}

static long f_fchown(const struct fcall *k, int fd)
{
	(void)k;
	return syscall(SYS_fchown, fd, getuid(), getgid());
}

static long f_ftruncate(const struct fcall *k, int fd)
{
	(void)k;
	return syscall(SYS_ftruncate, fd, 0L);
}

static long f_fsync(const struct fcall *k, int fd)
{
	return syscall(k->arg ? SYS_fdatasync : SYS_fsync, fd);
}

static long f_close(const struct fcall *k, int fd)
{
	(void)k;
	return syscall(SYS_close, fd);
}

/* how: FD (the result is a new fd), COUNT (a listing's size), MUT */
static const struct fcall fd_calls[] = {
    {"fstat", f_fstat, 0, 0},
    {"fstatfs", f_fstatfs, 0, 0},
    {"fchdir", f_fchdir, 0, 0},
    {"getdents64", f_getdents64, 0, COUNT},
    {"read", f_read, 0, 0},
    {"dup", f_dup, 0, FD},
    {"dup2 to 91", f_dup2, 91, FD},
    {"dup2 to 710", f_dup2, 710, FD},
    {"dup2 to -1", f_dup2, -1, FD},
    {"dup2 to itself", f_dup2, -1000, FD},
    {"dup3 to 711 O_CLOEXEC", f_dup3, O_CLOEXEC, FD},
    {"dup3 to 711 bad flags", f_dup3, O_RDWR, FD},
    {"dup3 to itself", f_dup3, -1000, FD},
    {"fcntl F_DUPFD 0", f_dupfd, 0, FD},
    {"fcntl F_DUPFD_CLOEXEC 600", f_dupfd_cloexec, 600, FD},
    {"fcntl F_DUPFD -1", f_dupfd, -1, FD},
    {"fchmod", f_fchmod, 0, MUT},
    {"fchown", f_fchown, 0, MUT},
    {"ftruncate", f_ftruncate, 0, MUT},
    {"fsync", f_fsync, 0, 0},
    {"fdatasync", f_fsync, 1, 0},
    {"close", f_close, 0, 0},
};

/* ---------------------------------------------------------- fd kinds */

struct fdkind {
	const char *name;
	int fd;		  /* a fixed number, or -1000 to open `path` */
	const char *path; /* relative to the tree, or "HOST/..." */
	int flags;
	bool host; /* on the host side of the mount */
};

static const struct fdkind fd_kinds[] = {
    {"closed", 90, NULL, 0, false},
    {"closed band dir", 700, NULL, 0, false},
    {"closed band file", 1000, NULL, 0, false},
    {"-1", -1, NULL, 0, false},
    {"-5", -5, NULL, 0, false},
    {"AT_FDCWD", AT_FDCWD, NULL, 0, false},
    {"host file", -1000, "HOST/hfile", O_RDONLY, true},
    {"host dir", -1000, "HOST/hdir", O_RDONLY | O_DIRECTORY, true},
    {"host O_PATH file", -1000, "HOST/hfile", O_PATH, true},
    {"file", -1000, "file", O_RDONLY, false},
    {"file O_WRONLY", -1000, "file", O_WRONLY, false},
    {"dir", -1000, "dir", O_RDONLY | O_DIRECTORY, false},
    {"O_PATH file", -1000, "file", O_PATH, false},
    {"O_PATH dir", -1000, "dir", O_PATH, false},
    {"O_PATH symlink", -1000, "lnfile", O_PATH | O_NOFOLLOW, false},
};

struct ctx {
	const char *host;
	char abs[PATH_MAX]; /* the tree's absolute path */
	int root;	    /* the tree, to come back to after a chdir */
};

static int kind_open(const struct ctx *x, const struct fdkind *d)
{
	char path[PATH_MAX];
	int fd;

	if (d->fd != -1000)
		return d->fd;
	if (!strncmp(d->path, "HOST/", 5))
		join(path, x->host, d->path + 5);
	else
		join(path, ".", d->path);
	fd = open(path, d->flags);
	if (fd < 0)
		die(path);
	return fd;
}

static void kind_close(const struct fdkind *d, int fd)
{
	if (d->fd == -1000 && fd >= 0)
		close(fd);
}

/* --------------------------------------------------------- reporting */

static void report(const char *what, long rc, unsigned how)
{
	if (rc < 0) {
		const char *e = strerrorname_np(errno);

		printf("%s -> -1 %s\n", what, e ? e : "E?");
	} else if (how & FD) {
		printf("%s -> fd\n", what);
	} else if (how & COUNT) {
		printf("%s -> %s\n", what, rc ? "n" : "0");
	} else {
		printf("%s -> %ld\n", what, rc);
	}
}

/* After a call: its new fd and the kind's fd closed, the cwd back, the tree
 * again if the call may have changed it. */
static void after(const struct ctx *x, const struct fdkind *d, int fd, long rc, unsigned how)
{
	if (rc >= 0 && (how & FD) && rc != fd)
		close((int)rc);
	kind_close(d, fd);
	if (fchdir(x->root) < 0)
		die("fchdir back");
	if (rc >= 0 && (how & MUT))
		make_tree(x->host);
}

/* k on `name` (printed as `label`) relative to an fd of kind d (NULL: the
 * cwd, by a call that takes no dirfd). */
static void run_path_call(const struct ctx *x, const struct pcall *k, const struct fdkind *d,
			  const char *name, const char *label)
{
	static const struct fdkind cwd = {"AT_FDCWD", AT_FDCWD, NULL, 0, false};
	const struct fdkind *dk = d ? d : &cwd;
	int fd = kind_open(x, dk);
	struct run r = {fd, name, dk->host ? x->host : "."};
	char what[256];
	long rc;

	if (d)
		snprintf(what, sizeof(what), "%s (%s, \"%s\")", k->name, d->name, label);
	else
		snprintf(what, sizeof(what), "%s (\"%s\")", k->name, label);
	rc = k->fn(k, &r);
	report(what, rc, k->how);
	after(x, dk, fd, rc, k->how);
}

/* The names of the tree, with and without a trailing slash, from the cwd. */
static const char *const names[] = {
    "file/", "dir/", "missing/", "lnfile/", "lndir/", "dangling/",
    "file",  "dir",  "missing",	 "lnfile",  "lndir",  "dangling",
};

/* Names relative to a dirfd ($TREE: the tree's absolute path). */
static const char *const at_names[] = {"sub", "sub/", "nothere/", "$TREE/sub"};

/* Does name fail to resolve to an object? (for WALKERR calls) */
static bool walk_fails(const char *name)
{
	static const char *const bad[] = {"file/",   "missing/", "lnfile/", "dangling/",
					  "missing", "sub/",	 "nothere/"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!strcmp(name, bad[i]))
			return true;
	return false;
}

#define N_KINDS (sizeof(fd_kinds) / sizeof(fd_kinds[0]))

static const struct fdkind *kind(const char *name)
{
	for (size_t d = 0; d < N_KINDS; d++)
		if (!strcmp(fd_kinds[d].name, name))
			return &fd_kinds[d];
	abort();
}

static void path_cases(const struct ctx *x)
{
	char abs_sub[PATH_MAX];

	join(abs_sub, x->abs, "sub");
	for (size_t i = 0; i < sizeof(path_calls) / sizeof(path_calls[0]); i++) {
		const struct pcall *k = &path_calls[i];

		for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
			if ((k->how & NOCREATE) && !strcmp(names[n], "missing"))
				continue;
			if ((k->how & WALKERR) && !walk_fails(names[n]))
				continue;
			run_path_call(x, k, k->how & AT ? kind("AT_FDCWD") : NULL, names[n],
				      names[n]);
		}
		if (!(k->how & AT))
			continue;
		for (size_t d = 0; d < N_KINDS; d++) {
			if (fd_kinds[d].fd == AT_FDCWD)
				continue;
			for (size_t n = 0; n < sizeof(at_names) / sizeof(at_names[0]); n++) {
				bool abs = at_names[n][0] == '$';

				/* From a host dir to the tree crosses the mount: a
				 * kernel Coda mount says EXDEV too. */
				if (abs && (k->how & TWO) && !strcmp(fd_kinds[d].name, "host dir"))
					continue;
				if ((k->how & WALKERR) && !walk_fails(at_names[n]))
					continue;
				run_path_call(x, k, &fd_kinds[d], abs ? abs_sub : at_names[n],
					      at_names[n]);
			}
		}
	}
}

/* "" with AT_EMPTY_PATH: the fd itself. */
static void empty_path_cases(const struct ctx *x)
{
	for (size_t i = 0; i < sizeof(path_calls) / sizeof(path_calls[0]); i++) {
		struct pcall k = path_calls[i];
		char name[128];

		if (!(k.how & EMPTY))
			continue;
		k.arg = empty_flags(&path_calls[i]);
		snprintf(name, sizeof(name), "%s%s", k.name,
			 k.arg & AT_EMPTY_PATH ? " AT_EMPTY_PATH" : "");
		k.name = name;
		for (size_t d = 0; d < N_KINDS; d++)
			run_path_call(x, &k, &fd_kinds[d], "", "");
	}
}

static void fd_cases(const struct ctx *x)
{
	for (size_t i = 0; i < sizeof(fd_calls) / sizeof(fd_calls[0]); i++) {
		const struct fcall *k = &fd_calls[i];

		for (size_t d = 0; d < N_KINDS; d++) {
			const struct fdkind *dk = &fd_kinds[d];
			int fd = kind_open(x, dk);
			char what[256];
			long rc;

			snprintf(what, sizeof(what), "%s (%s)", k->name, dk->name);
			rc = k->fn(k, fd);
			report(what, rc, k->how);
			if (k->fn == f_close && rc == 0)
				fd = -1; /* gone: not closed again */
			after(x, dk, fd, rc, k->how);
		}
	}
}

int main(int argc, char **argv)
{
	struct ctx x;

	if (argc != 2) {
		fprintf(stderr, "usage: edgecalls HOSTDIR\n");
		return 2;
	}
	x.host = argv[1];
	if (!getcwd(x.abs, sizeof(x.abs)))
		die("getcwd");
	x.root = open(".", O_RDONLY | O_DIRECTORY);
	if (x.root < 0)
		die(".");
	for (size_t d = 0; d < sizeof(fd_kinds) / sizeof(fd_kinds[0]); d++)
		if (fd_kinds[d].fd >= 0 && fcntl(fd_kinds[d].fd, F_GETFD) >= 0) {
			fprintf(stderr, "edgecalls: fd %d is open\n", fd_kinds[d].fd);
			return 2;
		}
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_tree(x.host);
	path_cases(&x);
	empty_path_cases(&x);
	fd_cases(&x);
	return 0;
}
