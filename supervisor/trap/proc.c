#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/hash.h"
#include "trap.h"

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
	struct groups *groups; /* wanted: the supplementary groups, or NULL */
};

/* The value of the status line `line` if it is field `name`, else NULL. */
static const char *field(const char *line, const char *name)
{
	size_t n = strlen(name);

	return strncmp(line, name, n) == 0 && line[n] == ':' ? line + n + 1 : NULL;
}

/* The number at *p (leading blanks skipped), in `base`, at most max: false
 * when there is none. *p moves past it. */
static bool next_number(const char **p, int base, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(*p, &end, base);
	if (end == *p || errno || *out > max)
		return false;
	*p = end;
	return true;
}

static bool first_int(const char *value, int *out)
{
	unsigned long long v;

	if (!next_number(&value, 10, INT_MAX, &v))
		return false;
	*out = (int)v;
	return true;
}

/* The four ids of a "Uid:" or "Gid:" line: real, effective, saved, fs. */
static bool four_ids(const char *value, unsigned id[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned long long v;

		if (!next_number(&value, 10, UINT_MAX, &v))
			return false;
		id[i] = (unsigned)v;
	}
	return true;
}

/* The gids of a "Groups:" line (NGROUPS_MAX at most). */
static int read_groups(const char *list, struct groups *g)
{
	size_t max = strlen(list) / 2 + 1; /* each gid is a digit and a blank at least */
	const char *p = list;
	char *end;

	g->n = 0;
	g->list = calloc(max, sizeof(*g->list));
	if (!g->list)
		return -ENOMEM;
	for (unsigned long gid = strtoul(p, &end, 10); end != p; gid = strtoul(p, &end, 10)) {
		g->list[g->n++] = (gid_t)gid;
		p = end;
	}
	return 0;
}

/* The signal and capability masks a status line may hold. */
static unsigned long long *mask_of(const char *line, struct status_info *info, const char **value)
{
	static const char *const names[] = {"SigPnd", "ShdPnd", "SigBlk",
					    "SigCgt", "CapPrm", "CapEff"};
	unsigned long long *masks[] = {&info->pending, &info->shared_pending, &info->blocked,
				       &info->caught,  &info->cred.cap_prm,   &info->cred.cap_eff};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((*value = field(line, names[i])))
			return masks[i];
	return NULL;
}

/* One line of the status file: a field by its name, its value parsed with
 * strtol (a status file has some sixty lines; this runs for each new task). */
static void read_status_line(const char *line, struct status_info *info, int *found)
{
	unsigned long long v, *mask;
	const char *value;
	unsigned id[4];

	if ((value = field(line, "Tgid"))) {
		if (first_int(value, &info->tgid))
			*found |= 1;
	} else if ((value = field(line, "PPid"))) {
		if (first_int(value, &info->ppid))
			*found |= 2;
	} else if ((value = field(line, "NSpgid"))) {
		if (first_int(value, &info->cred.pgid))
			*found |= 16;
	} else if ((value = field(line, "Threads"))) {
		first_int(value, &info->threads);
	} else if ((value = field(line, "Umask"))) {
		if (next_number(&value, 8, 07777, &v))
			info->cred.umask = (mode_t)v;
	} else if ((value = field(line, "Uid"))) {
		if (four_ids(value, id)) {
			info->cred.ruid = id[0], info->cred.euid = id[1], info->cred.fsuid = id[3];
			*found |= 4;
		}
	} else if ((value = field(line, "Gid"))) {
		if (four_ids(value, id)) {
			info->cred.rgid = id[0], info->cred.egid = id[1], info->cred.fsgid = id[3];
			*found |= 8;
		}
	} else if ((value = field(line, "Groups"))) {
		if (info->groups && !info->groups->list && read_groups(value, info->groups) == 0)
			*found |= 32;
	} else if ((mask = mask_of(line, info, &value))) {
		next_number(&value, 16, ULLONG_MAX, mask);
	}
}

static int read_status(pid_t tid, struct status_info *info)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* A line at a time, however long: Groups may list 65,536 gids. */
	while (getline(&line, &cap, f) > 0)
		read_status_line(line, info, &found);
	free(line);
	fclose(f);
	if ((found & 15) != 15 || (info->groups && !(found & 32))) {
		if (info->groups) {
			free(info->groups->list);
			info->groups->list = NULL;
		}
		return -ESRCH;
	}
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

/* The pids of a children list into out, up to max of them; how many. */
static int parse_children(char *list, ssize_t len, pid_t *out, int max)
{
	char *p, *end;
	int n = 0;

	list[len > 0 ? len : 0] = '\0';
	for (p = list; n < max; p = end) {
		long child = strtol(p, &end, 10);

		if (end == p)
			break;
		out[n++] = (pid_t)child;
	}
	return n;
}

/* The children /proc/TGID/task/TID/children lists, up to max of them into
 * out; how many. */
static int read_children(pid_t tgid, pid_t tid, pid_t *out, int max)
{
	char path[64], list[8192];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", tgid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, list, sizeof(list) - 1);
	close(fd);
	return parse_children(list, len, out, max);
}

/* The children of task p, as read_children, from the list of the task that
 * asked last, kept open: this runs at every close of a /coda fd, and a seq
 * file read again at offset 0 is listed afresh, one pread instead of an
 * open, a read and a close. Forgotten when p is freed (proc_free), so a
 * reused tid never reads a dead task's (empty) list. */
static int read_children_of(struct trap *s, struct proc *p, pid_t *out, int max)
{
	struct children_list *c = &s->children;
	char path[64], list[8192];

	if (c->owner != p) {
		if (c->fd >= 0)
			close(c->fd);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", p->tgid, p->tid);
		c->fd = open(path, O_RDONLY | O_CLOEXEC);
		c->owner = c->fd >= 0 ? p : NULL;
		if (c->fd < 0)
			return 0;
	}
	return parse_children(list, pread(c->fd, list, sizeof(list) - 1, 0), out, max);
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

/* What a reference to shared state costs to drop: its last frees it. */
static void shared_put(struct trap *t, int i, struct proc_shared *sh)
{
	if (sh && --sh->refs == 0)
		t->ops->shared[i].free(sh);
}

static void shared_put_all(struct trap *t, struct proc_shared **sh)
{
	for (int i = 0; i < PROC_SHARED; i++)
		shared_put(t, i, sh[i]);
}

static struct proc_shared *shared_get(struct proc_shared *sh)
{
	sh->refs++;
	return sh;
}

/* What fork does: the child gets copies, not shares (but for what clone's
 * flags share). 0, or -ENOMEM with what was made dropped. */
static int shared_copy_all(struct trap *t, struct proc_shared **to, struct proc_shared *const *from,
			   unsigned long clone_flags, bool stale)
{
	for (int i = 0; i < PROC_SHARED; i++) {
		const struct proc_shared_ops *ops = &t->ops->shared[i];

		if (from && (clone_flags & ops->clone_flag))
			to[i] = shared_get(from[i]);
		else
			to[i] = ops->copy(from ? from[i] : NULL, stale);
		if (!to[i]) {
			while (i-- > 0)
				shared_put(t, i, to[i]);
			return -ENOMEM;
		}
	}
	return 0;
}

static void fork_records_free(struct trap *t, struct fork_record *r)
{
	while (r) {
		struct fork_record *next = r->next;

		shared_put_all(t, r->shared);
		free(r);
		r = next;
	}
}

static void proc_free(struct trap *s, struct proc *p)
{
	if (!p->exited)
		HASH_DEL(s->procs, p);
	fork_records_free(s, p->forks);
	lent_fd_drop(&p->lent);
	shared_put_all(s, p->shared);
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (s->children.owner == p) {
		close(s->children.fd);
		s->children = (struct children_list){.fd = -1};
	}
	free(p->groups.list);
	free(p);
}

static struct proc *proc_find(struct trap *s, pid_t tid)
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

static void drop_oldest_forks(struct trap *t, struct fork_record *r)
{
	for (int n = 1; r; r = r->next, n++) {
		if (n == MAX_PENDING_FORKS) {
			fork_records_free(t, r->next);
			r->next = NULL;
			return;
		}
	}
}

int proc_note_fork(struct trap *t, struct proc *p, unsigned long flags)
{
	struct fork_record *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->last_pid = last_pid();
	if (shared_copy_all(t, r->shared, p->shared, flags, false) < 0) {
		free(r);
		return -ENOMEM;
	}
	r->next = p->forks;
	p->forks = r;
	drop_oldest_forks(t, r);
	return 0;
}

int proc_unshare(struct trap *t, struct proc *p, unsigned long flags)
{
	/* CLONE_NEWNS implies CLONE_FS, as in the kernel's unshare. */
	if (flags & CLONE_NEWNS)
		flags |= CLONE_FS;
	for (int i = 0; i < PROC_SHARED; i++) {
		const struct proc_shared_ops *ops = &t->ops->shared[i];
		struct proc_shared *own;

		if (!(flags & ops->clone_flag) || p->shared[i]->refs == 1)
			continue;
		own = ops->copy(p->shared[i], false);
		if (!own)
			return -ENOMEM;
		shared_put(t, i, p->shared[i]);
		p->shared[i] = own;
	}
	return 0;
}

/* The fork of process ppid that made child tid: of its threads' pending
 * forks, the one whose last pid is the highest below tid. Unlinked. */
static struct fork_record *take_fork_record(struct trap *s, pid_t ppid, pid_t tid)
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

static struct proc *proc_lookup_depth(struct trap *s, pid_t tid, int depth, struct proc *orphan_of);

/* A thread shares its leader's fs and files; a process starts with what its
 * parent had at the fork, or else with a copy of what its parent has now (an
 * orphan: what the parent it lost had last). */
static int proc_attach_state(struct trap *s, struct proc *p, const struct status_info *info,
			     int depth, struct proc *orphan_of)
{
	struct proc *from = NULL;
	struct fork_record *r;

	if (info->tgid != p->tid) {
		from = proc_lookup_depth(s, info->tgid, depth + 1, NULL);
		if (from)
			return shared_copy_all(s, p->shared, from->shared, ~0UL, false);
	} else if (info->ppid == s->self_pid) {
		from = orphan_of;
	} else if (info->ppid > 1) {
		from = proc_lookup_depth(s, info->ppid, depth + 1, NULL);
		r = from ? take_fork_record(s, info->ppid, p->tid) : NULL;
		if (r) {
			memcpy(p->shared, r->shared, sizeof(p->shared));
			memset(r->shared, 0, sizeof(r->shared));
			r->next = NULL;
			fork_records_free(s, r);
			return 0;
		}
	}
	/* No record of its fork: a copy of what its parent has now, which may
	 * be more than it had then. */
	return shared_copy_all(s, p->shared, from ? from->shared : NULL, 0, true);
}

static void proc_watch_exit(struct trap *s, struct proc *p)
{
	p->pidfd = (int)syscall(SYS_pidfd_open, p->tid, 0);
	if (p->pidfd >= 0 && loop_add(s, p->pidfd, EV_PIDFD, p->tid) < 0) {
		close(p->pidfd);
		p->pidfd = -1;
	}
}

/* Handles the exits of the tree's processes that the loop has not seen yet:
 * their orphans are adopted with their state first (proc_exit). */
static void exits_seen_now(struct trap *s)
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

static struct proc *proc_lookup_depth(struct trap *s, pid_t tid, int depth, struct proc *orphan_of)
{
	struct status_info info = {0};
	struct proc *p = proc_find(s, tid);

	int rc;

	if (p || depth > MAX_ANCESTRY)
		return p;
	rc = read_status(tid, &info);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	/* An orphan of ours: the process it lost may have exited just now,
	 * unseen yet by the loop, and it is the one to copy. */
	if (info.ppid == s->self_pid && info.tgid == tid && tid != s->target && !orphan_of) {
		exits_seen_now(s);
		p = proc_find(s, tid);
		if (p)
			return p;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->tid = tid;
	p->tgid = info.tgid;
	p->pidfd = -1;
	p->cred = info.cred;
	rc = proc_attach_state(s, p, &info, depth, orphan_of);
	if (rc < 0) {
		free(p);
		errno = -rc;
		return NULL;
	}
	HASH_ADD_INT(s->procs, tid, p);
	if (!HASH_ADDED(hh, p)) {
		shared_put_all(s, p->shared);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	if (p->tid == p->tgid)
		proc_watch_exit(s, p);
	return p;
}

int proc_our_children(const struct trap *s, pid_t *out, int max)
{
	int n = read_children(s->self_pid, s->self_pid, out, max), kept = 0;

	/* Not venus, nor a hosted venus that forked itself into the
	 * background and was reparented to us: those are stopped in order. */
	for (int i = 0; i < n; i++)
		if (!s->ops->helper || !s->ops->helper(s, out[i]))
			out[kept++] = out[i];
	return kept;
}

bool proc_known(struct trap *s, pid_t tid)
{
	return proc_find(s, tid) != NULL;
}

struct proc *proc_get(struct trap *s, pid_t tid)
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
	free(p->groups.list);
	p->groups = (struct groups){0};
}

int proc_creds_groups(struct proc *p, struct creds *out, const struct groups **groups)
{
	if (!p->cred.valid || !p->groups.list) {
		struct groups fresh;
		struct creds cred;
		int rc = proc_creds_now(p->tid, &cred, &fresh);

		if (rc < 0)
			return rc;
		free(p->groups.list);
		p->groups = fresh;
		p->cred = cred;
	}
	*out = p->cred;
	*groups = &p->groups;
	return 0;
}

int proc_creds_now(pid_t tid, struct creds *cred, struct groups *groups)
{
	struct status_info info = {.groups = groups};
	int rc;

	groups->list = NULL;
	rc = read_status(tid, &info);
	*cred = info.cred;
	return rc;
}

void proc_hold(struct proc *p)
{
	p->users++;
}

void proc_release(struct trap *s, struct proc *p)
{
	if (--p->users == 0 && p->exited)
		proc_free(s, p);
}

/* Our children (we are the subreaper of the tree) that no trapped call has
 * shown yet: orphans of a process that has just exited, which had its state
 * at their fork or later. They get what it has. */
static void adopt_orphans(struct trap *s, struct proc *gone)
{
	pid_t child[MAX_ORPHANS];
	int n = proc_our_children(s, child, MAX_ORPHANS);

	for (int i = 0; i < n; i++)
		if (child[i] != s->target && !proc_find(s, child[i]))
			proc_lookup_depth(s, child[i], 0, gone);
}

void proc_exit(struct trap *s, pid_t tgid)
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
		if (s->ops->exited)
			s->ops->exited(p);
		if (p->users) {
			/* Out of the table now, so a reused tid starts afresh. */
			HASH_DEL(s->procs, p);
			p->exited = true;
			continue;
		}
		proc_free(s, p);
	}
}

void proc_table_destroy(struct trap *s)
{
	struct proc *p, *tmp;

	HASH_ITER(hh, s->procs, p, tmp)
	proc_free(s, p);
}

/* Adopts the children among n that are not known yet. */
static void adopt(struct trap *s, const pid_t *child, int n)
{
	for (int i = 0; i < n; i++)
		if (!proc_find(s, child[i]))
			proc_get(s, child[i]);
}

/* The children of the calling thread and of its leader: where forks come
 * from. (Listing every thread's would cost a directory read per close.) */
void proc_adopt_children(struct trap *s, struct proc *p)
{
	pid_t child[MAX_ORPHANS];

	adopt(s, child, read_children_of(s, p, child, MAX_ORPHANS));
	if (p->tid != p->tgid)
		adopt(s, child, read_children(p->tgid, p->tgid, child, MAX_ORPHANS));
}

bool proc_children_listed(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
	return access(path, R_OK) == 0;
}

#define MAX_LEFTOVERS 1024

void proc_signal_tree(struct trap *t, int sig)
{
	pid_t children[MAX_LEFTOVERS];
	int n = proc_our_children(t, children, MAX_LEFTOVERS);
	struct proc *p, *tmp;

	HASH_ITER(hh, t->procs, p, tmp)
	{
		if (p->pidfd >= 0 && p->tid != t->target)
			syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
	}
	for (int i = 0; i < n; i++)
		if (children[i] != t->target && !proc_known(t, children[i]))
			kill(children[i], sig); /* a zombie of ours until reaped: no other pid */
}

void proc_reap_tree(struct trap *t)
{
	pid_t children[MAX_LEFTOVERS];
	int n = proc_our_children(t, children, MAX_LEFTOVERS);

	for (int i = 0; i < n; i++)
		waitpid(children[i], NULL, 0);
}

void lent_fd_drop(struct lent_fd *l)
{
	if (l->held && l->sock >= 0)
		close(l->sock);
	l->held = false;
}
