/* Open files, as fs/coda/file.c: CODA_OPEN hands over venus's container,
 * which the caller reads, writes and maps directly; the last release of a
 * reader is a CODA_CLOSE, a writer's comes through release.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coda.h"
#include "cache.h"
#include "coda_linux.h"
#include "keep.h"
#include "psdev.h"
#include "release.h"
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
	if (f->sb)
		keep_release(f);
	if (f->host_fd >= 0)
		close(f->host_fd);
	if (f->container >= 0)
		close(f->container);
	if (f->venus_reader)
		release_reader(f->sb, &f->fid, &f->who, f->cflags);
	free(f->image);
	free(f->path);
	free(f->container_path);
	free(f);
}

/* A writer's open file is not kept: its last release must reach inotify. */
static bool keeps_copy(int flags)
{
	return (flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH);
}

struct coda_file *coda_file_new(const struct CodaFid *fid, int vtype, const char *path, int flags,
				int container, bool take)
{
	struct coda_file *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f)
		return NULL;
	f->refs = 1;
	f->container = -1;
	f->fid = *fid;
	f->vtype = vtype;
	f->flags = flags;
	f->path = strdup(path);
	/* Our copy shares the target's open file: a directory's position is its
	 * readdir cursor, and dup of the target's fd hands out this file again. */
	f->host_fd = !keeps_copy(flags) ? -1
		     : take		? container
					: fcntl(container, F_DUPFD_CLOEXEC, 3);
	if (!f->path || (keeps_copy(flags) && f->host_fd < 0) || fstat(container, &st) < 0)
		goto fail;
	f->cdev = st.st_dev;
	f->cino = st.st_ino;
	return f;
fail:
	if (take && f->host_fd == container)
		f->host_fd = -1; /* still the caller's */
	coda_file_put(f);
	return NULL;
}

void coda_file_close_src(const struct coda_file *f, int src)
{
	if (src != f->host_fd)
		close(src);
}

/* The open file is venus's; give it the status flags the target asked for,
 * as its own open would have (F_GETFL shows them, O_NONBLOCK and O_APPEND
 * act on them). */
static void set_status_flags(int container, int flags)
{
	int wanted = flags & (O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_ASYNC);

	if (fcntl(container, F_SETFL, wanted) < 0)
		fcntl(container, F_SETFL, wanted & ~O_DIRECT); /* not on every fs */
}

/* A directory's open file: a new open file of the mount's empty directory
 * (inode.c), whose position is the readdir cursor; the container stays
 * ours. Its reads keep O_NOATIME: venus stamps its containers' times. */
static int open_dir_stub(struct coda_sb *sb, int container, int flags)
{
	int fd =
	    coda_reopen(sb->dir_stub, O_RDONLY | O_DIRECTORY | (flags & (O_NONBLOCK | O_ASYNC)));

	if (fd >= 0)
		fcntl(container, F_SETFL, O_NOATIME);
	return fd;
}

/* A writer's own open file of the container, with the target's flags: venus
 * passes it read-only (its copy may be closed after the target's, and only
 * the target's may look like a last release to inotify). */
static int open_for_writing(int container, int flags)
{
	return coda_reopen(
	    container, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_SYNC | O_DSYNC));
}

/* The open file the caller gets: a reader's is the container, a writer's
 * an open file of its own, watched for its last release. A reader's
 * container venus opened (not a kept one) is closed with venus at the
 * record's last release. */
static int make_file(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		     int vtype, const char *path, int flags, int cflags, int container,
		     bool venus_opened, struct coda_file **fp, int *src)
{
	struct coda_file *f;
	int rc = 0;

	*src = container;
	if (vtype == C_VDIR) {
		*src = open_dir_stub(r->sb, container, flags);
		if (*src < 0)
			return *src;
	} else if (cflags & C_O_WRITE) {
		*src = open_for_writing(container, flags);
		if (*src < 0)
			return *src;
		rc = release_watch(r, *src, fid, cflags);
	}
	f = rc < 0 ? NULL
		   : coda_file_new(fid, vtype, path, flags, *src,
				   vtype == C_VDIR || *src == container);
	if (!f) {
		/* A writer never handed over is released here: inotify turns
		 * it into the CODA_CLOSE that balances the open. */
		if (*src != container)
			close(*src);
		return rc < 0 ? rc : -ENOMEM;
	}
	f->sb = r->sb;
	if (!(cflags & C_O_WRITE) && venus_opened) {
		f->venus_reader = true;
		f->who = *who;
		f->cflags = cflags;
	}
	if (vtype == C_VDIR)
		f->container = container;
	else
		set_status_flags(*src, flags);
	*fp = f;
	return 0;
}

/* CODA_OPEN_BY_PATH: venus names the container and we open it ourselves, by
 * venus's cwd if the name is relative (a hosted venus). The embedded venus
 * names it absolutely; that name is the container's in *cpath. */
static int open_by_path(struct coda_req *r, const struct coda_caller *who,
			const struct CodaFid *fid, int cflags, int *fd, char **cpath)
{
	char name[PATH_MAX], full[PATH_MAX + 32];
	int rc = venus_open_by_path(r, who, fid, cflags, name, sizeof(name));

	if (rc < 0)
		return rc;
	if (name[0] == '/')
		snprintf(full, sizeof(full), "%s", name);
	else
		snprintf(full, sizeof(full), "/proc/%d/cwd/%s", r->sb->vc.venus_pid, name);
	*fd = open(full, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	*cpath = name[0] == '/' ? strdup(full) : NULL;
	return 0;
}

/* CODA_OPEN, or for a reader the container kept of an earlier open: 1
 * when kept, 0 when venus opened it (and *cpath is where the container is,
 * if venus said: malloc'd, or NULL), or -errno. */
static int open_container(struct coda_req *r, const struct coda_caller *who,
			  const struct CodaFid *fid, int vtype, int cflags, uint32_t version,
			  int *container, char **cpath)
{
	if (cflags & C_O_WRITE)
		keep_forget(r->sb, fid);
	else if (cflags == C_O_READ && !release_writing(r->sb, fid))
		*container = keep_take(r->sb, fid, vtype, version);
	if (*container >= 0)
		return 1;
	if (r->sb->open_by_path)
		return open_by_path(r, who, fid, cflags, container, cpath);
	return venus_open(r, who, fid, cflags, container, cpath);
}

int coda_file_open(struct coda_req *r, const struct CodaFid *fid, int vtype, const char *path,
		   int flags, struct coda_file **fp, int *src)
{
	int cflags = coda_flags_to_cflags(flags);
	int container = -1, rc;
	struct coda_caller who;
	char *cpath = NULL;
	uint32_t version;

	/* Stores of earlier writers first: opens after a store see it. */
	release_sync(r, fid);
	rc = coda_caller(r, &who);
	/* Before the open: attributes that change while it is out are newer
	 * than its container may be. */
	version = cache_attr_version(&r->sb->caches, fid);
	if (!rc)
		rc = open_container(r, &who, fid, vtype, cflags, version, &container, &cpath);
	if (rc < 0)
		return rc;
	keep_make_room(r->sb, container);
	rc = make_file(r, &who, fid, vtype, path, flags, cflags, container, rc == 0, fp, src);
	if (rc == 0) {
		(*fp)->attr_version = version;
		keep_make_room(r->sb, *src);
		if (vtype == C_VREG && cflags == C_O_READ) {
			(*fp)->container_path = cpath; /* for keep.c */
			cpath = NULL;
		}
	}
	free(cpath);
	/* A writer's own open file holds the container now; a directory's
	 * record keeps it. */
	if (rc < 0 || (*src != container && (*fp)->container != container))
		close(container);
	return rc;
}

/* The attributes stay, as the kernel's coda_fsync leaves the inode alone:
 * while the file is written its size and times are the container's, and
 * an unlinked open file has no name left to ask venus about. */
int coda_fsync(struct coda_req *r, const struct CodaFid *fid)
{
	struct coda_caller who;
	int rc;

	release_sync(r, fid);
	rc = coda_caller(r, &who);

	if (!rc)
		rc = venus_fsync(r, &who, fid);
	return rc;
}
