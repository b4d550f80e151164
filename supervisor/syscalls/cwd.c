/* chdir, fchdir, getcwd. Inside /coda the cwd cannot be the kernel's (there
 * is no such directory on the host), so the supervisor keeps it and answers
 * getcwd; every relative path is then resolved here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coda/coda.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "stage_answers.h"
#include "fdtable.h"
#include "host.h"
#include "vfs.h"

static int coda_may_chdir(struct call *c, const struct nameidata *nd)
{
	if (nd->missing)
		return -ENOENT;
	if (nd->vtype != C_VDIR)
		return -ENOTDIR;
	return coda_permission(call_coda_req(c), &nd->fid, C_A_X_OK);
}

/* Would the kernel let the target chdir there (dir "" is dir itself)?
 * Checked before we let it, so that our idea of its cwd never goes wrong
 * on a failing chdir. */
static void chdir_continue(struct call *c, int dir, const char *path)
{
	int rc = 0;

	if (proc_fs(c->proc)->kind != CWD_HOST) {
		rc = host_may_chdir(c, dir, path);
		if (!rc)
			vfs_set_cwd(c, CWD_HOST, NULL, NULL);
	}
	if (rc < 0)
		call_return(c, rc);
	else
		call_continue(c);
}

void sys_chdir(struct call *c)
{
	char name[PATH_MAX];
	struct nameidata nd;
	int rc = call_read_path(c, call_arg(c, 0), name);

	if (!rc)
		rc = vfs_lookup(c, AT_FDCWD, name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &nd);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	switch (nd.kind) {
	case NAMEI_CONTINUE:
		chdir_continue(c, AT_FDCWD, name);
		return;
	case NAMEI_HOST:
		rc = host_may_chdir(c, AT_FDCWD, nd.path);
		if (!rc)
			vfs_set_cwd(c, CWD_EMULATED, nd.path, NULL);
		call_return(c, rc);
		return;
	case NAMEI_CODA:
		break;
	}
	rc = coda_may_chdir(c, &nd);
	if (!rc)
		vfs_set_cwd(c, CWD_CODA, nd.path, &nd.fid);
	call_return(c, rc);
}

void sys_fchdir(struct call *c)
{
	long fd = (long)call_arg(c, 0);
	struct coda_file *f = coda_file_lookup(c, fd);
	char path[64];
	int dir;

	if (f) {
		int rc = f->vtype == C_VDIR ? 0 : -ENOTDIR;

		if (!rc)
			vfs_set_cwd(c, CWD_CODA, f->path, &f->fid);
		call_return(c, rc);
		return;
	}
	if (proc_fs(c->proc)->kind == CWD_HOST) {
		call_continue(c);
		return;
	}
	/* fchdir takes an unsigned fd; one not open has no link in /proc. The
	 * link is ours to follow; the directory is checked as the caller's. */
	snprintf(path, sizeof(path), "/proc/%u/fd/%u", c->n->pid, (unsigned)fd);
	dir = open(path, O_PATH | O_CLOEXEC);
	if (dir < 0) {
		call_return(c, errno == ENOENT ? -EBADF : -ENOTDIR);
		return;
	}
	chdir_continue(c, dir, "");
	close(dir);
}

void sys_getcwd(struct call *c)
{
	struct fs_state *fs = proc_fs(c->proc);
	size_t len, size = (size_t)call_arg(c, 1);
	int rc;

	if (fs->kind == CWD_HOST) {
		call_continue(c);
		return;
	}
	len = strlen(fs->path) + 1;
	if (size < len) {
		call_return(c, -ERANGE);
		return;
	}
	rc = call_write(c, call_arg(c, 0), fs->path, len);
	call_return(c, rc < 0 ? rc : (long)len);
}

/* What fork does: the child gets a copy of the cwd (a new process's own:
 * the kernel's, where the command started). */
struct proc_shared *vfs_fs_copy(const struct proc_shared *shared, bool stale)
{
	const struct fs_state *from = (const struct fs_state *)shared;
	struct fs_state *fs = calloc(1, sizeof(*fs));

	(void)stale; /* a cwd is what it is: no fd to look for */
	if (!fs)
		return NULL;
	fs->shared.refs = 1;
	fs->kind = CWD_HOST;
	if (from) {
		fs->kind = from->kind;
		memcpy(fs->path, from->path, sizeof(fs->path));
		fs->fid = from->fid;
	}
	return &fs->shared;
}

void vfs_fs_free(struct proc_shared *shared)
{
	free(shared);
}

void vfs_set_cwd(struct call *c, enum cwd_kind kind, const char *path, const struct CodaFid *fid)
{
	struct fs_state *fs = proc_fs(c->proc);

	/* Children not seen yet had the old cwd at their fork. */
	proc_adopt_children(c->trap, c->proc);
	fs->kind = kind;
	if (path)
		snprintf(fs->path, sizeof(fs->path), "%s", path);
	else
		fs->path[0] = '\0';
	if (fid)
		fs->fid = *fid;
	else
		memset(&fs->fid, 0, sizeof(fs->fid));
	stage_cwd_changed(c);
}
