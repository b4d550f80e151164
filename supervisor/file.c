#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdtable.h"
#include "file.h"
#include "notify.h"
#include "proc.h"
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
	free(f->path);
	free(f);
}

struct coda_file *coda_file_lookup(struct call *c, long fd)
{
	return fdtable_lookup(c, c->proc->files, fd);
}

static struct coda_file *file_new(const struct CodaFid *fid, int vtype, const char *path, int flags,
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
	f->host_fd = fcntl(container, F_DUPFD_CLOEXEC, 3);
	if (!f->path || f->host_fd < 0 || fstat(container, &st) < 0)
		goto fail;
	f->cdev = st.st_dev;
	f->cino = st.st_ino;
	return f;
fail:
	coda_file_put(f);
	return NULL;
}

int coda_file_install(struct call *c, struct coda_file *f, int newfd, bool cloexec)
{
	struct files_state *files = c->proc->files;
	int fd = -EMFILE;

	if (newfd < 0) {
		int slot = fdtable_alloc(c, files, f->vtype);

		if (slot >= 0)
			fd = call_inject_fd(c, f->host_fd, slot, cloexec);
		/* Band full, or above the target's RLIMIT_NOFILE: its lowest free
		 * fd, where fd calls are not seen (see README). */
		if (fd < 0 && !c->answered)
			fd = call_inject_fd(c, f->host_fd, -1, cloexec);
	} else {
		fd = call_inject_fd(c, f->host_fd, newfd, cloexec);
	}
	if (fd >= 0 && coda_fd_in_band(fd))
		fdtable_set(files, fd, f);
	return fd;
}

/* The open file is venus's; give it the status flags the target asked for,
 * as its own open would have (F_GETFL shows them, O_NONBLOCK and O_APPEND
 * act on them). A directory keeps O_NOATIME: venus stamps its containers'
 * times, and our reads of it must not move them. */
static void set_status_flags(struct coda_file *f, int flags)
{
	int wanted = flags & (O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_ASYNC);

	if (f->vtype == C_VDIR)
		wanted |= O_NOATIME;
	if (fcntl(f->host_fd, F_SETFL, wanted) < 0)
		fcntl(f->host_fd, F_SETFL, wanted & ~O_DIRECT); /* not on every fs */
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
	f = file_new(fid, vtype, path, flags, handle);
	close(handle);
	rc = f ? coda_file_install(c, f, -1, flags & O_CLOEXEC) : -ENOMEM;
	if (f)
		coda_file_put(f);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}

void coda_open(struct call *c, const struct CodaFid *fid, int vtype, const char *path, int flags)
{
	struct coda_caller who;
	struct coda_file *f;
	int container, rc;

	if (flags & O_PATH) {
		coda_open_path(c, fid, vtype, path, flags);
		return;
	}
	rc = call_caller(c, &who);
	if (!rc)
		rc = venus_open(c->task, &who, fid, C_O_READ, &container);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	f = file_new(fid, vtype, path, flags, container);
	close(container);
	if (f)
		set_status_flags(f, flags);
	rc = f ? coda_file_install(c, f, -1, flags & O_CLOEXEC) : -ENOMEM;
	if (f)
		coda_file_put(f);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}
