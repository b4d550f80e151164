#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtable.h"
#include "coda/coda.h"
#include "trap/trap.h"
#include "current.h"

static struct files_state *fdtable_new(void)
{
	struct files_state *files = calloc(1, sizeof(*files));

	if (files) {
		files->shared.refs = 1;
		files->hint = CODA_FD_BAND_SIZE - 1;
	}
	return files;
}

static struct files_state *files_of(const struct proc_shared *shared)
{
	return (struct files_state *)shared;
}

static void drop(struct files_state *files, int i)
{
	if (files->slot[i])
		coda_file_put(files->slot[i]);
	files->slot[i] = NULL;
	files->unverified[i] = false;
}

struct proc_shared *fdtable_copy(const struct proc_shared *shared, bool stale)
{
	const struct files_state *from = files_of(shared);
	struct files_state *files = fdtable_new();

	if (!files || !from)
		return files ? &files->shared : NULL;
	for (int i = 0; i < CODA_FD_BAND_SIZE; i++) {
		files->slot[i] = from->slot[i] ? coda_file_get(from->slot[i]) : NULL;
		files->unverified[i] = from->unverified[i];
	}
	files->hint = from->hint;
	/* Its parent may have opened more since the fork: each /coda fd is
	 * believed once /proc shows that the child holds it. */
	if (stale)
		fdtable_suspect(files, CODA_FD_BAND_LO, CODA_FD_BAND_HI - 1);
	return &files->shared;
}

void fdtable_free(struct proc_shared *shared)
{
	struct files_state *files = files_of(shared);

	for (int i = 0; i < CODA_FD_BAND_SIZE; i++)
		drop(files, i);
	free(files);
}

static void proc_fd_path(const struct call *c, int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%u/fd/%d", c->n->pid, fd);
}

/* Does the target's fd still refer to this container? */
static bool target_holds(struct call *c, int fd, const struct coda_file *f)
{
	char path[64];
	struct stat st;

	proc_fd_path(c, fd, path, sizeof(path));
	return stat(path, &st) == 0 && st.st_dev == f->cdev && st.st_ino == f->cino;
}

/* kcmp says EBADF for an fd not open, in one call without a walk of /proc;
 * /proc/PID/fd where kcmp is not built in or not allowed. */
static bool target_fd_free(struct call *c, int fd)
{
	pid_t pid = (pid_t)c->n->pid;
	char path[64];
	struct stat st;

	if (syscall(SYS_kcmp, pid, pid, KCMP_FILE, fd, fd) == 0)
		return false;
	if (errno == EBADF)
		return true;
	proc_fd_path(c, fd, path, sizeof(path));
	return lstat(path, &st) < 0 && errno == ENOENT;
}

/* After an exec, a slot is believed only once /proc confirms it. */
static bool slot_valid(struct call *c, struct files_state *files, int i)
{
	if (!files->slot[i])
		return false;
	if (files->unverified[i]) {
		if (!target_holds(c, CODA_FD_BAND_LO + i, files->slot[i])) {
			drop(files, i);
			return false;
		}
		files->unverified[i] = false;
	}
	return true;
}

struct coda_file *fdtable_lookup(struct call *c, struct files_state *files, long fd)
{
	int i = (int)fd - CODA_FD_BAND_LO;

	if (!coda_fd_in_band(fd) || !slot_valid(c, files, i))
		return NULL;
	return files->slot[i];
}

/* Searched downwards from the top of the band, so that the target's own
 * lowest-free allocations never meet ours. A slot we do not hold may still
 * be taken by an fd of the target's own: kcmp or /proc says. */
int fdtable_alloc(struct call *c, struct files_state *files)
{
	for (int k = 0; k < CODA_FD_BAND_SIZE; k++) {
		int i = (files->hint - k + CODA_FD_BAND_SIZE) % CODA_FD_BAND_SIZE;

		if (slot_valid(c, files, i) || !target_fd_free(c, CODA_FD_BAND_LO + i))
			continue;
		files->hint = (i - 1 + CODA_FD_BAND_SIZE) % CODA_FD_BAND_SIZE;
		return CODA_FD_BAND_LO + i;
	}
	return -EMFILE;
}

void fdtable_set(struct files_state *files, int fd, struct coda_file *f)
{
	int i = fd - CODA_FD_BAND_LO;

	drop(files, i);
	files->slot[i] = coda_file_get(f);
}

void fdtable_close(struct files_state *files, long fd)
{
	if (coda_fd_in_band(fd))
		drop(files, (int)(fd - CODA_FD_BAND_LO));
}

bool fdtable_holds_any(const struct files_state *files, long first, long last)
{
	if (first < CODA_FD_BAND_LO)
		first = CODA_FD_BAND_LO;
	if (last >= CODA_FD_BAND_HI)
		last = CODA_FD_BAND_HI - 1;
	for (long fd = first; fd <= last; fd++)
		if (files->slot[fd - CODA_FD_BAND_LO])
			return true;
	return false;
}

void fdtable_suspect(struct files_state *files, long first, long last)
{
	if (first < CODA_FD_BAND_LO)
		first = CODA_FD_BAND_LO;
	if (last >= CODA_FD_BAND_HI)
		last = CODA_FD_BAND_HI - 1;
	for (long fd = first; fd <= last; fd++) {
		int i = (int)(fd - CODA_FD_BAND_LO);

		files->unverified[i] = files->slot[i] != NULL;
	}
}

struct coda_file *coda_file_lookup(struct call *c, long fd)
{
	return fdtable_lookup(c, proc_files(c->proc), fd);
}

static void memo_clear(struct file_memo *e)
{
	if (e->path && e->dir_file >= 0)
		close(e->dir_file);
	if (e->path && e->dir_container >= 0)
		close(e->dir_container);
	free(e->path);
	e->path = NULL;
}

static void remember(struct file_memos *m, const struct coda_file *f)
{
	struct file_memo *e = &m->ring[m->next++ % FILE_MEMOS];
	bool dir = f->container >= 0 && f->host_fd >= 0;
	char *path = strdup(f->path);

	memo_clear(e);
	if (!path)
		return;
	*e = (struct file_memo){f->fid, f->vtype, f->flags, f->cdev, f->cino, path, -1, -1};
	if (dir) {
		e->dir_file = fcntl(f->host_fd, F_DUPFD_CLOEXEC, 3);
		e->dir_container = fcntl(f->container, F_DUPFD_CLOEXEC, 3);
	}
}

/* Status flags live in the open file: O_NONBLOCK set through one shows
 * through the other (and changes nothing for a regular file or a
 * directory, which every /coda open file is). No kcmp: container profiles
 * deny it. */
bool fdtable_same_open_file(int a, int b)
{
	int fa = fcntl(a, F_GETFL), fb;

	if (fa < 0 || fcntl(a, F_SETFL, fa ^ O_NONBLOCK) < 0)
		return false;
	fb = fcntl(b, F_GETFL);
	fcntl(a, F_SETFL, fa);
	return fb >= 0 && ((fb ^ fa) & O_NONBLOCK);
}

/* A directory: the memo of the same open file, with a copy of its
 * container. O_PATH records share one anchor file: no memo names them. */
static bool memo_names(const struct file_memo *e, int fd, const struct stat *st)
{
	if (!e->path || e->cdev != st->st_dev || e->cino != st->st_ino || (e->flags & O_PATH))
		return false;
	if (e->vtype != C_VDIR)
		return true;
	return e->dir_file >= 0 && e->dir_container >= 0 && fdtable_same_open_file(fd, e->dir_file);
}

struct coda_file *fdtable_recall(struct file_memos *m, int file)
{
	struct coda_file *f;
	struct stat st;

	if (fstat(file, &st) < 0)
		return NULL;
	for (unsigned k = 1; k <= FILE_MEMOS; k++) {
		const struct file_memo *e = &m->ring[(m->next - k) % FILE_MEMOS];

		if (!memo_names(e, file, &st))
			continue;
		f = coda_file_new(&e->fid, e->vtype, e->path, e->flags, file, false);
		if (f && e->vtype == C_VDIR) {
			f->container = fcntl(e->dir_container, F_DUPFD_CLOEXEC, 3);
			if (f->container < 0) {
				coda_file_put(f);
				f = NULL;
			}
		}
		return f;
	}
	return NULL;
}

void fdtable_memos_free(struct file_memos *m)
{
	for (unsigned i = 0; i < FILE_MEMOS; i++)
		memo_clear(&m->ring[i]);
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
	struct files_state *files = proc_files(c->proc);
	int fd = -EMFILE;

	/* The target may run on as soon as the fd is in: its stage must not
	 * take newfd for what it was. */
	if (newfd >= 0)
		stage_forget_fds(c, newfd, newfd);
	if (newfd < 0) {
		int slot = fdtable_alloc(c, files);

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
		remember(&call_sup(c)->file_memos, f);
		stage_tell_fd(c, fd, f->fid.opaque);
	}
	return fd;
}

int fdtable_install(struct call *c, struct coda_file *f, int src, int newfd, bool cloexec)
{
	return install(c, f, src, newfd, cloexec, true);
}

int fdtable_add(struct call *c, struct coda_file *f, int src, bool cloexec)
{
	return install(c, f, src, -1, cloexec, false);
}
