#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void proc_fd_path(const struct call *c, int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%u/fd/%d", c->n->pid, fd);
}

/* Does the target's fd still refer to this container? It may have been
 * closed (not trapped) and the number reused by dup2. */
static bool target_holds(struct call *c, int fd, const struct coda_file *f)
{
	char path[64];
	struct stat st;

	proc_fd_path(c, fd, path, sizeof(path));
	return stat(path, &st) == 0 && st.st_dev == f->cdev && st.st_ino == f->cino;
}

static bool target_fd_free(struct call *c, int fd)
{
	char path[64];
	struct stat st;

	proc_fd_path(c, fd, path, sizeof(path));
	return lstat(path, &st) < 0 && errno == ENOENT;
}

struct coda_file *coda_file_lookup(struct call *c, long fd)
{
	struct files_state *files = c->proc->files;
	struct coda_file *f;
	int i;

	if (!coda_fd_in_band(fd))
		return NULL;
	i = (int)fd - CODA_FD_BAND_LO;
	f = files->slot[i];
	if (!f)
		return NULL;
	if (!target_holds(c, (int)fd, f)) {
		coda_file_put(f);
		files->slot[i] = NULL;
		return NULL;
	}
	return f;
}

/* A free slot in the half of the band for this type, searched downwards
 * from the top so that the target's own lowest-free allocations never meet
 * ours. -EMFILE when that half is full. */
static int band_alloc(struct call *c, struct files_state *files, int vtype)
{
	int base = (vtype == C_VDIR ? CODA_FD_DIR_LO : CODA_FD_FILE_LO) - CODA_FD_BAND_LO;
	int *hint = &files->hint[vtype == C_VDIR];

	for (int k = 0; k < CODA_FD_HALF_SIZE; k++) {
		int i = base + (*hint - k + CODA_FD_HALF_SIZE) % CODA_FD_HALF_SIZE;
		int fd = CODA_FD_BAND_LO + i;

		if (files->slot[i]) {
			if (target_holds(c, fd, files->slot[i]))
				continue;
			coda_file_put(files->slot[i]);
			files->slot[i] = NULL;
		}
		if (target_fd_free(c, fd)) {
			*hint = (i - base - 1 + CODA_FD_HALF_SIZE) % CODA_FD_HALF_SIZE;
			return i;
		}
	}
	return -EMFILE;
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

static void band_set(struct files_state *files, int fd, struct coda_file *f)
{
	int i = fd - CODA_FD_BAND_LO;

	if (files->slot[i])
		coda_file_put(files->slot[i]);
	files->slot[i] = coda_file_get(f);
}

int coda_file_install(struct call *c, struct coda_file *f, int newfd, bool cloexec)
{
	struct files_state *files = c->proc->files;
	int fd = -EMFILE;

	if (newfd < 0) {
		int slot = band_alloc(c, files, f->vtype);

		if (slot >= 0)
			fd = call_inject_fd(c, f->host_fd, CODA_FD_BAND_LO + slot, cloexec);
		/* Band full, or above the target's RLIMIT_NOFILE: its lowest free
		 * fd, where fd calls are not seen (see README). */
		if (fd < 0 && !c->answered)
			fd = call_inject_fd(c, f->host_fd, -1, cloexec);
	} else {
		fd = call_inject_fd(c, f->host_fd, newfd, cloexec);
	}
	if (fd >= 0 && coda_fd_in_band(fd))
		band_set(files, fd, f);
	return fd;
}

void coda_open(struct call *c, const struct CodaFid *fid, int vtype, const char *path, int flags)
{
	struct coda_caller who;
	struct coda_file *f;
	int container, rc;

	rc = call_caller(c, &who);
	if (!rc)
		rc = venus_open(c->task, &who, fid, C_O_READ, &container);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	f = file_new(fid, vtype, path, flags, container);
	close(container);
	rc = f ? coda_file_install(c, f, -1, flags & O_CLOEXEC) : -ENOMEM;
	if (f)
		coda_file_put(f);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}
