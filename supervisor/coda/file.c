#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syscalls/fdtable.h"
#include "file.h"
#include "trap/call.h"
#include "trap/proc.h"
#include "release.h"
#include "super.h"
#include "upcall.h"

struct coda_file *coda_file_get(struct coda_file *f)
{
	f->refs++;
	return f;
}

void coda_file_put(struct coda_file *f)
{
	if (--f->refs > 0)
		return;
	if (f->host_fd >= 0)
		close(f->host_fd);
	if (f->venus_reader)
		release_reader(f->sup, &f->fid, &f->who, f->cflags);
	free(f->path);
	free(f);
}

struct coda_file *coda_file_lookup(struct call *c, long fd)
{
	return fdtable_lookup(c, c->proc->files, fd);
}

/* A writer's open file is not kept: its last release must reach inotify. */
static bool keeps_copy(int flags)
{
	return (flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH);
}

struct coda_file *coda_file_new(const struct CodaFid *fid, int vtype, const char *path, int flags,
				int container)
{
	struct coda_file *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f)
		return NULL;
	f->refs = 1;
	f->fid = *fid;
	f->vtype = vtype;
	f->flags = flags;
	f->path = strdup(path);
	/* Our copy shares the target's open file: a directory's position is its
	 * readdir cursor, and dup of the target's fd hands out this file again. */
	f->host_fd = keeps_copy(flags) ? fcntl(container, F_DUPFD_CLOEXEC, 3) : -1;
	if (!f->path || (keeps_copy(flags) && f->host_fd < 0) || fstat(container, &st) < 0)
		goto fail;
	f->cdev = st.st_dev;
	f->cino = st.st_ino;
	return f;
fail:
	coda_file_put(f);
	return NULL;
}

static void remember(struct coda_file_memos *m, const struct coda_file *f)
{
	struct coda_file_memo *e = &m->ring[m->next++ % CODA_FILE_MEMOS];
	char *path = strdup(f->path);

	if (!path)
		return;
	free(e->path);
	*e = (struct coda_file_memo){f->fid, f->vtype, f->flags, f->cdev, f->cino, path};
}

struct coda_file *coda_file_recall(struct coda_file_memos *m, int container)
{
	struct stat st;

	if (fstat(container, &st) < 0)
		return NULL;
	/* O_PATH records share one anchor file: a memo cannot tell them apart. */
	for (unsigned k = 1; k <= CODA_FILE_MEMOS; k++) {
		const struct coda_file_memo *e = &m->ring[(m->next - k) % CODA_FILE_MEMOS];

		if (e->path && e->cdev == st.st_dev && e->cino == st.st_ino && !(e->flags & O_PATH))
			return coda_file_new(&e->fid, e->vtype, e->path, e->flags, container);
	}
	return NULL;
}

void coda_file_memos_free(struct coda_file_memos *m)
{
	for (unsigned i = 0; i < CODA_FILE_MEMOS; i++)
		free(m->ring[i].path);
}

/* The call's answer (SEND) when `answer`, else one more fd of the call's. */
static int add_fd(struct call *c, int src, int newfd, bool cloexec, bool answer)
{
	return answer ? call_inject_fd(c, src, newfd, cloexec)
		      : call_add_fd(c, src, newfd, cloexec);
}

static int install(struct call *c, struct coda_file *f, int src, int newfd, bool cloexec,
		   bool answer)
{
	struct files_state *files = c->proc->files;
	int fd = -EMFILE;

	if (newfd < 0) {
		/* O_PATH goes with the directories, whose reads are trapped:
		 * read(2) on it is EBADF, not the anchor's EOF */
		int slot = fdtable_alloc(c, files, f->flags & O_PATH ? C_VDIR : f->vtype);

		if (slot >= 0)
			fd = add_fd(c, src, slot, cloexec, answer);
		/* Band full, or above the target's RLIMIT_NOFILE: its lowest free
		 * fd, where fd calls are not seen (see README). */
		if (fd < 0 && !c->answered)
			fd = add_fd(c, src, -1, cloexec, answer);
	} else {
		fd = add_fd(c, src, newfd, cloexec, answer);
	}
	if (fd >= 0 && coda_fd_in_band(fd)) {
		fdtable_set(files, fd, f);
		remember(&c->sup->file_memos, f);
	}
	return fd;
}

int coda_file_install(struct call *c, struct coda_file *f, int src, int newfd, bool cloexec)
{
	return install(c, f, src, newfd, cloexec, true);
}

int coda_file_add(struct call *c, struct coda_file *f, int src, bool cloexec)
{
	return install(c, f, src, -1, cloexec, false);
}

/* The open file is venus's; give it the status flags the target asked for,
 * as its own open would have (F_GETFL shows them, O_NONBLOCK and O_APPEND
 * act on them). A directory keeps O_NOATIME: venus stamps its containers'
 * times, and our reads of it must not move them. */
static void set_status_flags(int container, int vtype, int flags)
{
	int wanted = flags & (O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_ASYNC);

	if (vtype == C_VDIR)
		wanted |= O_NOATIME;
	if (fcntl(container, F_SETFL, wanted) < 0)
		fcntl(container, F_SETFL, wanted & ~O_DIRECT); /* not on every fs */
}

/* O_PATH opens nothing in the kernel, so venus is not asked: the target gets
 * an fd of the supervisor's empty anchor file, and every call it can make
 * with it (fstat, *at, readlinkat "", fchdir) is answered from the record.
 * (ADDFD cannot pass a real O_PATH file: read(2) on it gives EOF, not EBADF.) */
static int opath_handle(struct call *c)
{
	char anchor[64];

	snprintf(anchor, sizeof(anchor), "/proc/self/fd/%d", c->sup->opath_anchor);
	return open(anchor, O_RDONLY | O_CLOEXEC);
}

static void coda_open_path(struct call *c, const struct CodaFid *fid, int vtype, const char *path,
			   int flags)
{
	int handle = opath_handle(c);
	struct coda_file *f;
	int rc;

	if (handle < 0) {
		call_return(c, -errno);
		return;
	}
	f = coda_file_new(fid, vtype, path, flags, handle);
	close(handle);
	rc = f ? coda_file_install(c, f, f->host_fd, -1, flags & O_CLOEXEC) : -ENOMEM;
	if (f)
		coda_file_put(f);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}

/* The Coda open flags of an open(2), as the kernel's coda_flags_to_cflags. */
static int open_cflags(int flags)
{
	int cflags = 0;

	if ((flags & O_ACCMODE) != O_WRONLY)
		cflags |= C_O_READ;
	if ((flags & O_ACCMODE) != O_RDONLY)
		cflags |= C_O_WRITE;
	if (flags & O_TRUNC)
		cflags |= C_O_TRUNC | C_O_WRITE;
	/* As coda_open(): O_CREAT goes to venus, O_EXCL (done by the create)
	 * does not. */
	if (flags & O_CREAT)
		cflags |= C_O_CREAT;
	return cflags;
}

/* A writer's own open file of the container, with the target's flags: venus
 * passes it read-only (its copy may be closed after the target's, and only
 * the target's may look like a last release to inotify). */
static int open_for_writing(int container, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", container);
	fd = open(path,
		  (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_SYNC | O_DSYNC)) |
		      O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Answers the open with the container venus passed: a reader's through our
 * copy, a writer's through an open file of its own, watched by inotify. */
static int install_container(struct call *c, const struct coda_caller *who,
			     const struct CodaFid *fid, int vtype, const char *path, int flags,
			     int cflags, int container)
{
	struct coda_file *f;
	int rc = 0, src = container;

	if (cflags & C_O_WRITE) {
		src = open_for_writing(container, flags);
		if (src < 0)
			return src;
		rc = release_watch(c, src, fid, cflags);
	}
	f = rc < 0 ? NULL : coda_file_new(fid, vtype, path, flags, src);
	if (f && !(cflags & C_O_WRITE)) {
		f->sup = c->sup;
		f->venus_reader = true;
		f->who = *who;
		f->cflags = cflags;
	}
	if (f) {
		set_status_flags(src, vtype, flags);
		rc = coda_file_install(c, f, src, -1, flags & O_CLOEXEC);
		coda_file_put(f);
	} else if (!rc) {
		rc = -ENOMEM;
	}
	/* A writer not installed is released here: inotify turns it into the
	 * CODA_CLOSE that balances the open. */
	if (src != container)
		close(src);
	return rc;
}

/* CODA_OPEN_BY_PATH: venus names the container and we open it ourselves, by
 * venus's cwd if the name is relative (a hosted venus). The embedded venus
 * names it absolutely. */
static int open_by_path(struct call *c, const struct coda_caller *who, const struct CodaFid *fid,
			int cflags, int *fd)
{
	char name[PATH_MAX], full[PATH_MAX + 32];
	int rc = venus_open_by_path(c->task, who, fid, cflags, name, sizeof(name));

	if (rc < 0)
		return rc;
	if (name[0] == '/')
		snprintf(full, sizeof(full), "%s", name);
	else
		snprintf(full, sizeof(full), "/proc/%d/cwd/%s", c->sup->venus_pid, name);
	*fd = open(full, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

void coda_open(struct call *c, const struct CodaFid *fid, int vtype, const char *path, int flags)
{
	int cflags = open_cflags(flags);
	struct coda_caller who;
	int container, rc;

	if (flags & O_PATH) {
		coda_open_path(c, fid, vtype, path, flags);
		return;
	}
	/* Stores of earlier writers first: opens after a store see it. */
	release_sync(c, fid);
	rc = call_caller(c, &who);
	if (!rc && c->sup->opt.open_by_path)
		rc = open_by_path(c, &who, fid, cflags, &container);
	else if (!rc)
		rc = venus_open(c->task, &who, fid, cflags, &container);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	rc = install_container(c, &who, fid, vtype, path, flags, cflags, container);
	close(container);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}
