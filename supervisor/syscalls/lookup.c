/* Where a path walk starts for the calling process, as fs/namei.c's
 * path_init: its root, its cwd or a dirfd, and the /proc/self/fd/N magic
 * links that name an open /coda file, which only we know. The walk itself
 * is the Coda module's (coda_walk). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdtable.h"
#include "host.h"
#include "trap/trap.h"
#include "vfs.h"

/* The target of the caller's /proc/PID/`what` link (its cwd, or an fd). */
static int read_proc_link(struct call *c, const char *what, char *buf)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%u/%s", c->n->pid, what);
	n = readlink(link, buf, PATH_MAX - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (!call_valid(c))
		return -ESRCH;
	return buf[0] == '/' ? 0 : -ENOTDIR;
}

static void from_file(struct walk_start *from, const struct coda_file *f)
{
	*from = (struct walk_start){WALK_CODA, f->path, f->fid, f->vtype};
}

/* The start of a relative name: 0 to walk, NAMEI_CONTINUE when the kernel
 * can resolve it as it is, or -errno. buf holds a host start's path. */
static int start_relative(struct call *c, long dirfd, const char *name, struct walk_start *from,
			  char buf[PATH_MAX])
{
	struct fs_state *fs = proc_fs(c->proc);
	struct coda_file *f;
	char what[32];

	if ((int)dirfd == AT_FDCWD) {
		if (fs->kind == CWD_CODA) {
			*from = (struct walk_start){WALK_CODA, fs->path, fs->fid, C_VDIR};
			return 0;
		}
		if (fs->kind == CWD_EMULATED) {
			*from = (struct walk_start){.from = WALK_EMULATED, .path = fs->path};
			return 0;
		}
		snprintf(what, sizeof(what), "cwd");
	} else {
		f = coda_file_lookup(c, dirfd);
		if (f) {
			from_file(from, f);
			return *name && f->vtype != C_VDIR ? -ENOTDIR : 0;
		}
		snprintf(what, sizeof(what), "fd/%d", (int)dirfd);
	}
	if (!*name || !coda_may_reach_mount(&call_sup(c)->sb, name))
		return NAMEI_CONTINUE;
	/* A bad fd, or not a directory: the kernel says which. */
	if (read_proc_link(c, what, buf) < 0)
		return NAMEI_CONTINUE;
	*from = (struct walk_start){.from = WALK_HOST, .path = buf};
	return 0;
}

/* Skips `prefix` at *p; true if it was there. */
static bool skip(const char **p, const char *prefix)
{
	size_t len = strlen(prefix);

	if (strncmp(*p, prefix, len))
		return false;
	*p += len;
	return true;
}

/* The directory of the caller's own fd table in /proc: self, thread-self,
 * its tid or tgid, and /dev/fd (a symlink to /proc/self/fd). Every
 * absolute path comes here, so a number is read, not printed. */
static bool skip_own_fd_dir(struct call *c, const char **p)
{
	const char *q = *p;
	char *end;
	long pid;

	if (skip(p, "/dev/fd/") || skip(p, "/proc/self/fd/") || skip(p, "/proc/thread-self/fd/"))
		return true;
	if (strncmp(q, "/proc/", 6) || q[6] < '1' || q[6] > '9')
		return false;
	pid = strtol(q + 6, &end, 10);
	if (strncmp(end, "/fd/", 4) || (pid != c->proc->tgid && pid != c->proc->tid))
		return false;
	*p = end + 4;
	return true;
}

struct coda_file *vfs_magic_link(struct call *c, const char *name, const char **rest)
{
	const char *p = name;
	char *end;
	long fd;

	if (!skip_own_fd_dir(c, &p) || *p < '0' || *p > '9')
		return NULL;
	fd = strtol(p, &end, 10);
	if (*end && *end != '/')
		return NULL;
	*rest = end;
	return coda_file_lookup(c, fd);
}

/* A host path that lost its trailing "/" or "." in the walk: the kernel
 * would still have refused a non-directory there, looking as the caller. */
static int check_host_dir(struct call *c, const struct nameidata *nd)
{
	struct stat st;
	int rc;

	if (!nd->host_dir)
		return 0;
	rc = host_creds_override(c, false);
	if (rc < 0)
		return rc;
	rc = stat(nd->path, &st) == 0 && !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	host_creds_revert(c);
	return rc;
}

static int walk(struct call *c, const struct walk_start *from, const char *name, int flags,
		struct nameidata *nd)
{
	return coda_walk(call_coda_req(c), from, name, flags, nd) ?: check_host_dir(c, nd);
}

int vfs_lookup(struct call *c, long dirfd, const char *name, int flags, struct nameidata *nd)
{
	struct walk_start from = {.from = WALK_ROOT};
	char host[PATH_MAX];
	const char *rest;
	struct coda_file *f;
	int rc;

	if (!*name && !(flags & LOOKUP_EMPTY))
		return -ENOENT;
	if (name[0] == '/') {
		/* /proc/self/fd/N of a /coda fd: the kernel follows such a
		 * magic link to the open object itself (not the link alone). */
		f = vfs_magic_link(c, name, &rest);
		if (f && (*rest || (flags & LOOKUP_FOLLOW))) {
			from_file(&from, f);
			name = rest;
		}
		return walk(c, &from, name, flags, nd);
	}
	rc = start_relative(c, dirfd, name, &from, host);
	if (rc == NAMEI_CONTINUE) {
		memset(nd, 0, offsetof(struct nameidata, path));
		nd->kind = NAMEI_CONTINUE;
		snprintf(nd->path, sizeof(nd->path), "%s", name);
		return 0;
	}
	return rc < 0 ? rc : walk(c, &from, name, flags, nd);
}
