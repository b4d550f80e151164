#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls/exec.h"
#include "loop.h"
#include "proc.h"
#include "super.h"

/* How far up the process tree a new process looks for state to inherit. */
#define MAX_ANCESTRY 64

/* Forks of one task whose children were not seen yet: the oldest go first
 * (children that exited unseen, or forks that failed). */
#define MAX_PENDING_FORKS 32

struct status_info {
	pid_t tgid;
	pid_t ppid;
	struct creds cred;
	unsigned long long pending, shared_pending, blocked, caught; /* signal masks */
	int threads;
};

static bool read_sigmask(const char *line, const char *name, unsigned long long *mask)
{
	size_t n = strlen(name);

	return strncmp(line, name, n) == 0 && sscanf(line + n, "%llx", mask) == 1;
}

static int read_status(pid_t tid, struct status_info *info)
{
	char path[64], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned a, b, c, d;

		if (sscanf(line, "Tgid: %d", &info->tgid) == 1)
			found |= 1;
		else if (sscanf(line, "PPid: %d", &info->ppid) == 1)
			found |= 2;
		else if (sscanf(line, "NSpgid: %d", &info->cred.pgid) == 1)
			found |= 16;
		else if (sscanf(line, "Threads: %d", &info->threads) == 1)
			continue;
		else if (sscanf(line, "Umask: %o", &a) == 1)
			info->cred.umask = (mode_t)a;
		else if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4) {
			info->cred.ruid = a, info->cred.euid = b, info->cred.fsuid = d;
			found |= 4;
		} else if (sscanf(line, "Gid: %u %u %u %u", &a, &b, &c, &d) == 4) {
			info->cred.rgid = a, info->cred.egid = b, info->cred.fsgid = d;
			found |= 8;
		} else if (!read_sigmask(line, "SigPnd:", &info->pending) &&
			   !read_sigmask(line, "ShdPnd:", &info->shared_pending) &&
			   !read_sigmask(line, "SigBlk:", &info->blocked))
			read_sigmask(line, "SigCgt:", &info->caught);
	}
	fclose(f);
	if ((found & 15) != 15)
		return -ESRCH;
	if (!(found & 16))
		info->cred.pgid = info->tgid;
	info->cred.valid = true;
	return 0;
}

bool proc_signal_pending(pid_t tid)
{
	struct status_info info = {0};

	if (read_status(tid, &info) < 0)
		return false;
	/* A process-wide signal may go to another thread, which is where it
	 * is handled then: only the caller's own, or a lone thread's. */
	return (info.pending & ~info.blocked) ||
	       (info.threads == 1 && (info.shared_pending & ~info.blocked));
}

bool proc_sigint_pending(pid_t tid)
{
	struct status_info info = {0};
	unsigned long long sigint = 1ULL << (SIGINT - 1);

	if (read_status(tid, &info) < 0)
		return false;
	/* Blocked or caught: coda_block_signals unblocks SIGINT for the upcall
	 * whatever the caller's mask, and a default SIGINT is fatal (seen by
	 * the caller leaving its call instead). */
	return ((info.pending | info.shared_pending) & sigint) &&
	       ((info.blocked | info.caught) & sigint);
}

#define MAX_ORPHANS	  1024
#define SYSCALL_SETTLE_US 50000
#define SYSCALL_POLL_US	  200

/* The children /proc/TGID/task/TID/children lists, up to max of them into
 * out (read with plain read(2): this runs at every close of a /coda fd);
 * how many. */
static int read_children(pid_t tgid, pid_t tid, pid_t *out, int max)
{
	char path[64], list[8192], *p, *end;
	ssize_t len;
	int fd, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", tgid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, list, sizeof(list) - 1);
	close(fd);
	list[len > 0 ? len : 0] = '\0';
	for (p = list; n < max; p = end) {
		long child = strtol(p, &end, 10);

		if (end == p)
			break;
		out[n++] = (pid_t)child;
	}
	return n;
}

/* One look at /proc/TID/syscall: -EAGAIN while the task runs. */
static int read_syscall(pid_t tid, long *nr, uint64_t *sp)
{
	char path[64], line[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	line[n > 0 ? n : 0] = '\0';
	if (!strncmp(line, "running", 7))
		return -EAGAIN;
	if (sscanf(line, "%ld", nr) != 1)
		return -ESRCH;
	*sp = 0;
	if (*nr >= 0 && sscanf(line, "%*d %*x %*x %*x %*x %*x %*x %" SCNx64, sp) != 1)
		return -ESRCH;
	return 0;
}

int proc_syscall(pid_t tid, long *nr, uint64_t *sp)
{
	for (int waited = 0;; waited += SYSCALL_POLL_US) {
		int rc = read_syscall(tid, nr, sp);

		if (rc != -EAGAIN || waited >= SYSCALL_SETTLE_US)
			return rc == -EAGAIN ? -ESRCH : rc;
		usleep(SYSCALL_POLL_US);
	}
}

pid_t proc_parent(pid_t tid)
{
	struct status_info info = {0};
	int rc = read_status(tid, &info);

	return rc < 0 ? rc : info.ppid;
}

pid_t proc_tgid(pid_t tid)
{
	struct status_info info = {0};
	int rc = read_status(tid, &info);

	return rc < 0 ? rc : info.tgid;
}

static struct fs_state *fs_new(void)
{
	struct fs_state *fs = calloc(1, sizeof(*fs));

	if (fs) {
		fs->refs = 1;
		fs->kind = CWD_HOST;
	}
	return fs;
}

/* What fork does: the child gets copies, not shares. */
static struct fs_state *fs_copy(const struct fs_state *from)
{
	struct fs_state *fs = fs_new();

	if (fs && from) {
		fs->kind = from->kind;
		memcpy(fs->path, from->path, sizeof(fs->path));
		fs->fid = from->fid;
	}
	return fs;
}

static void fs_put(struct fs_state *fs)
{
	if (fs && --fs->refs == 0)
		free(fs);
}

static void fork_records_free(struct fork_record *r)
{
	while (r) {
		struct fork_record *next = r->next;

		fs_put(r->fs);
		fdtable_put(r->files);
		free(r);
		r = next;
	}
}

static void proc_free(struct sup *s, struct proc *p)
{
	if (!p->exited)
		HASH_DEL(s->procs, p);
	fork_records_free(p->forks);
	lent_fd_drop(&p->lent);
	fs_put(p->fs);
	fdtable_put(p->files);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p);
}

static struct proc *proc_find(struct sup *s, pid_t tid)
{
	struct proc *p;

	HASH_FIND_INT(s->procs, &tid, p);
	return p;
}

/* The last pid handed out in our pid namespace (0 if unknown). */
static pid_t last_pid(void)
{
	pid_t pid = 0;
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "re");

	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

static void drop_oldest_forks(struct fork_record *r)
{
	for (int n = 1; r; r = r->next, n++) {
		if (n == MAX_PENDING_FORKS) {
			fork_records_free(r->next);
			r->next = NULL;
			return;
		}
	}
}

int proc_note_fork(struct proc *p, unsigned long flags)
{
	struct fork_record *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->last_pid = last_pid();
	if (flags & CLONE_FS) {
		r->fs = p->fs;
		r->fs->refs++;
	} else {
		r->fs = fs_copy(p->fs);
	}
	if (flags & CLONE_FILES) {
		r->files = p->files;
		r->files->refs++;
	} else {
		r->files = fdtable_copy(p->files);
	}
	if (!r->fs || !r->files) {
		fork_records_free(r);
		return -ENOMEM;
	}
	r->next = p->forks;
	p->forks = r;
	drop_oldest_forks(r);
	return 0;
}

int proc_unshare(struct proc *p, unsigned long flags)
{
	/* CLONE_NEWNS implies CLONE_FS, as in the kernel's unshare. */
	if ((flags & (CLONE_FS | CLONE_NEWNS)) && p->fs->refs > 1) {
		struct fs_state *own = fs_copy(p->fs);

		if (!own)
			return -ENOMEM;
		fs_put(p->fs);
		p->fs = own;
	}
	if ((flags & CLONE_FILES) && p->files->refs > 1) {
		struct files_state *own = fdtable_copy(p->files);

		if (!own)
			return -ENOMEM;
		fdtable_put(p->files);
		p->files = own;
	}
	return 0;
}

/* The fork of process ppid that made child tid: of its threads' pending
 * forks, the one whose last pid is the highest below tid. Unlinked. */
static struct fork_record *take_fork_record(struct sup *s, pid_t ppid, pid_t tid)
{
	struct fork_record **best = NULL, **rp;
	struct proc *p, *tmp;

	HASH_ITER(hh, s->procs, p, tmp)
	{
		if (p->tgid != ppid)
			continue;
		for (rp = &p->forks; *rp; rp = &(*rp)->next) {
			if ((*rp)->last_pid < tid && (!best || (*rp)->last_pid > (*best)->last_pid))
				best = rp;
		}
	}
	if (best) {
		struct fork_record *r = *best;

		*best = r->next;
		return r;
	}
	return NULL;
}

static struct proc *proc_lookup_depth(struct sup *s, pid_t tid, int depth, struct proc *orphan_of);

/* A thread shares its leader's fs and files; a process starts with what its
 * parent had at the fork, or else with a copy of what its parent has now (an
 * orphan: what the parent it lost had last). */
static int proc_attach_state(struct sup *s, struct proc *p, const struct status_info *info,
			     int depth, struct proc *orphan_of)
{
	struct proc *from = NULL;
	struct fork_record *r;

	if (info->tgid != p->tid) {
		from = proc_lookup_depth(s, info->tgid, depth + 1, NULL);
		if (from) {
			p->fs = from->fs;
			p->files = from->files;
			p->fs->refs++;
			p->files->refs++;
			return 0;
		}
	} else if (info->ppid == s->self_pid) {
		from = orphan_of;
	} else if (info->ppid > 1) {
		from = proc_lookup_depth(s, info->ppid, depth + 1, NULL);
		r = from ? take_fork_record(s, info->ppid, p->tid) : NULL;
		if (r) {
			p->fs = r->fs;
			p->files = r->files;
			r->fs = NULL;
			r->files = NULL;
			r->next = NULL;
			fork_records_free(r);
			return 0;
		}
	}
	p->fs = fs_copy(from ? from->fs : NULL);
	p->files = fdtable_copy(from ? from->files : NULL);
	if (!p->fs || !p->files)
		return -ENOMEM;
	/* Its parent may have opened more since the fork: each /coda fd is
	 * believed once /proc shows that the child holds it. */
	fdtable_suspect(p->files, CODA_FD_BAND_LO, CODA_FD_BAND_HI - 1);
	return 0;
}

static void proc_watch_exit(struct sup *s, struct proc *p)
{
	p->pidfd = (int)syscall(SYS_pidfd_open, p->tid, 0);
	if (p->pidfd >= 0 && loop_add(s, p->pidfd, EV_PIDFD, p->tid) < 0) {
		close(p->pidfd);
		p->pidfd = -1;
	}
}

/* Handles the exits of the tree's processes that the loop has not seen yet:
 * their orphans are adopted with their state first (proc_exit). */
static void exits_seen_now(struct sup *s)
{
	size_t n = HASH_COUNT(s->procs), k = 0;
	struct pollfd *pfd = calloc(n + 1, sizeof(*pfd));
	pid_t *tgid = calloc(n + 1, sizeof(*tgid));
	struct proc *p, *tmp;

	HASH_ITER(hh, s->procs, p, tmp)
	{
		if (pfd && tgid && p->pidfd >= 0) {
			tgid[k] = p->tgid;
			pfd[k++] = (struct pollfd){.fd = p->pidfd, .events = POLLIN};
		}
	}
	if (k && poll(pfd, (nfds_t)k, 0) > 0)
		for (size_t i = 0; i < k; i++)
			if (pfd[i].revents & POLLIN)
				proc_exit(s, tgid[i]);
	free(pfd);
	free(tgid);
}

static struct proc *proc_lookup_depth(struct sup *s, pid_t tid, int depth, struct proc *orphan_of)
{
	struct status_info info = {0};
	struct proc *p = proc_find(s, tid);

	if (p || depth > MAX_ANCESTRY)
		return p;
	if (read_status(tid, &info) < 0)
		return NULL;
	/* An orphan of ours: the process it lost may have exited just now,
	 * unseen yet by the loop, and it is the one to copy. */
	if (info.ppid == s->self_pid && info.tgid == tid && tid != s->target && !orphan_of) {
		exits_seen_now(s);
		p = proc_find(s, tid);
		if (p)
			return p;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tid = tid;
	p->tgid = info.tgid;
	p->pidfd = -1;
	p->cred = info.cred;
	if (proc_attach_state(s, p, &info, depth, orphan_of) < 0) {
		fs_put(p->fs);
		fdtable_put(p->files);
		free(p);
		return NULL;
	}
	HASH_ADD_INT(s->procs, tid, p);
	if (p->tid == p->tgid)
		proc_watch_exit(s, p);
	return p;
}

int proc_our_children(const struct sup *s, pid_t *out, int max)
{
	int n = read_children(s->self_pid, s->self_pid, out, max), kept = 0;

	/* Not venus, nor a hosted venus that forked itself into the
	 * background and was reparented to us: it is stopped in order. */
	for (int i = 0; i < n; i++)
		if (out[i] != s->venus_pid && out[i] != s->hosted.pid)
			out[kept++] = out[i];
	return kept;
}

bool proc_known(struct sup *s, pid_t tid)
{
	return proc_find(s, tid) != NULL;
}

struct proc *proc_get(struct sup *s, pid_t tid)
{
	return proc_lookup_depth(s, tid, 0, NULL);
}

int proc_creds(struct proc *p, struct creds *out)
{
	if (!p->cred.valid) {
		struct status_info info = {0};
		int rc = read_status(p->tid, &info);

		if (rc < 0)
			return rc;
		p->cred = info.cred;
	}
	*out = p->cred;
	return 0;
}

void proc_creds_changed(struct proc *p)
{
	p->cred.valid = false;
}

void proc_hold(struct proc *p)
{
	p->users++;
}

void proc_release(struct sup *s, struct proc *p)
{
	if (--p->users == 0 && p->exited)
		proc_free(s, p);
}

/* Our children (we are the subreaper of the tree) that no trapped call has
 * shown yet: orphans of a process that has just exited, which had its state
 * at their fork or later. They get what it has. */
static void adopt_orphans(struct sup *s, struct proc *gone)
{
	pid_t child[MAX_ORPHANS];
	int n = proc_our_children(s, child, MAX_ORPHANS);

	for (int i = 0; i < n; i++)
		if (child[i] != s->target && !proc_find(s, child[i]))
			proc_lookup_depth(s, child[i], 0, gone);
}

void proc_exit(struct sup *s, pid_t tgid)
{
	struct proc *p = proc_find(s, tgid), *tmp;

	if (p)
		adopt_orphans(s, p);
	HASH_ITER(hh, s->procs, p, tmp)
	{
		if (p->tgid != tgid)
			continue;
		if (p->pidfd >= 0) {
			close(p->pidfd);
			p->pidfd = -1;
		}
		coda_exec_undo_exit(&p->undo);
		if (p->users) {
			/* Out of the table now, so a reused tid starts afresh. */
			HASH_DEL(s->procs, p);
			p->exited = true;
			continue;
		}
		proc_free(s, p);
	}
}

void proc_table_destroy(struct sup *s)
{
	struct proc *p, *tmp;

	HASH_ITER(hh, s->procs, p, tmp)
	proc_free(s, p);
}

/* Adopts the children that /proc/TGID/task/TID/children lists. */
static void adopt_children_of(struct sup *s, pid_t tgid, pid_t tid)
{
	pid_t child[MAX_ORPHANS];
	int n = read_children(tgid, tid, child, MAX_ORPHANS);

	for (int i = 0; i < n; i++)
		if (!proc_find(s, child[i]))
			proc_get(s, child[i]);
}

/* The children of the calling thread and of its leader: where forks come
 * from. (Listing every thread's would cost a directory read per close.) */
void proc_adopt_children(struct sup *s, struct proc *p)
{
	adopt_children_of(s, p->tgid, p->tid);
	if (p->tid != p->tgid)
		adopt_children_of(s, p->tgid, p->tgid);
}

bool proc_children_listed(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
	return access(path, R_OK) == 0;
}

void proc_set_cwd(struct sup *s, struct proc *p, enum cwd_kind kind, const char *path,
		  const struct CodaFid *fid)
{
	struct fs_state *fs = p->fs;

	proc_adopt_children(s, p);

	fs->kind = kind;
	if (path)
		snprintf(fs->path, sizeof(fs->path), "%s", path);
	else
		fs->path[0] = '\0';
	if (fid)
		fs->fid = *fid;
	else
		memset(&fs->fid, 0, sizeof(fs->fid));
}
