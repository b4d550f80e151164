/* Host calls made for a target, and the credentials they are made with.
 * The supervisor started by root keeps capabilities a target may not have
 * (host_creds_drop_caps): each host call it makes for a target is made with
 * the target's credentials, switched for this thread around the call
 * (setfsuid, setfsgid and setgroups take no other thread along). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "current.h"
#include "host.h"
#include "proto/caps.h"
#include "syscalls.h"
#include "trap/trap.h"

/* What the supervisor keeps of root's capabilities once the command and
 * venus have started: the file capabilities, to make a root target's host
 * calls (and a hosted venus's chowns) as its own; setuid and setgid, to
 * take a target's ids for them; sys_ptrace, to read, write and borrow from
 * targets of any uid and capabilities (process_vm_readv, /proc/PID/fd,
 * pidfd_getfd, ptrace); kill, to signal a tree whose processes have changed
 * their uid; sys_nice, to keep a target of more capabilities than ours on
 * our CPU across an ADDFD (trap/affinity.c). Only the last three are in
 * effect between host calls. */
#define CAPS_SETID     (CAPS_BIT(CAP_SETUID) | CAPS_BIT(CAP_SETGID))
#define CAPS_IN_EFFECT (CAPS_BIT(CAP_SYS_PTRACE) | CAPS_BIT(CAP_KILL) | CAPS_BIT(CAP_SYS_NICE))
#define CAPS_KEPT      (CAPS_FILES | CAPS_SETID | CAPS_IN_EFFECT)

static int read_groups(struct groups *g)
{
	int n = getgroups(0, NULL);

	if (n < 0)
		return -errno;
	g->list = calloc((size_t)n + 1, sizeof(*g->list));
	if (!g->list)
		return -ENOMEM;
	g->n = getgroups(n, g->list);
	return g->n < 0 ? -errno : 0;
}

int host_creds_drop_caps(struct sup *s)
{
	struct host_self *h = &s->host;
	int rc = caps_keep(CAPS_KEPT, CAPS_IN_EFFECT);

	if (!rc)
		rc = caps_get(&h->permitted, &h->effective);
	if (rc < 0 || !h->permitted)
		return rc;
	h->fsuid = geteuid();
	h->fsgid = getegid();
	rc = read_groups(&h->groups);
	h->switching = !rc;
	return rc;
}

void host_creds_destroy(struct sup *s)
{
	free(s->host.groups.list);
}

/* setfsuid and setfsgid say nothing of failure: the id is read back. */
static int set_fsuid(uid_t uid)
{
	setfsuid(uid);
	return (uid_t)setfsuid((uid_t)-1) == uid ? 0 : -EPERM;
}

static int set_fsgid(gid_t gid)
{
	setfsgid(gid);
	return (gid_t)setfsgid((gid_t)-1) == gid ? 0 : -EPERM;
}

/* The raw call: glibc's would change every thread's groups. */
static int set_groups(const struct groups *g)
{
	return syscall(SYS_setgroups, (size_t)g->n, g->list) < 0 ? -errno : 0;
}

static bool same_groups(const struct groups *a, const struct groups *b)
{
	return a->n == b->n && !memcmp(a->list, b->list, (size_t)a->n * sizeof(*a->list));
}

/* Takes the target's ids and capabilities. Only what differs from ours is
 * switched (setid capabilities needed for it only then); the capabilities
 * come last, as a change of fsuid from or to 0 changes the file ones. */
static int become(struct host_self *h, const struct creds *cred, const struct groups *groups,
		  bool real)
{
	uid_t uid = real ? cred->ruid : cred->fsuid;
	gid_t gid = real ? cred->rgid : cred->fsgid;
	/* do_faccessat(): a real uid of 0 checks with the permitted set */
	uint64_t caps = real ? (cred->ruid == 0 ? cred->cap_prm : 0) : cred->cap_eff;
	int rc = 0;

	h->uid = uid != h->fsuid;
	h->gid = gid != h->fsgid;
	h->grp = !same_groups(groups, &h->groups);
	if (h->uid || h->gid || h->grp)
		rc = caps_set_effective(h->permitted, h->effective | (h->permitted & CAPS_SETID));
	if (!rc && h->grp)
		rc = set_groups(groups);
	if (!rc && h->gid)
		rc = set_fsgid(gid);
	if (!rc && h->uid)
		rc = set_fsuid(uid);
	return rc ?: caps_set_effective(h->permitted, caps & h->permitted);
}

/* Our own again: in the reverse order, with the setid capabilities first. */
static int unbecome(struct host_self *h)
{
	int rc = 0;

	if (h->uid || h->gid || h->grp)
		rc = caps_set_effective(h->permitted, h->effective | (h->permitted & CAPS_SETID));
	if (!rc && h->uid)
		rc = set_fsuid(h->fsuid);
	if (!rc && h->gid)
		rc = set_fsgid(h->fsgid);
	if (!rc && h->grp)
		rc = set_groups(&h->groups);
	return rc ?: caps_set_effective(h->permitted, h->effective);
}

int host_creds_override(struct call *c, bool real)
{
	struct host_self *h = &call_sup(c)->host;
	struct groups fresh = {0};
	const struct groups *groups = &fresh;
	struct creds cred;
	/* A hosted venus's calls have no process state to keep them in. */
	int rc = c->proc ? proc_creds_groups(c->proc, &cred, &groups)
			 : proc_creds_now((pid_t)c->n->pid, &cred, &fresh);

	if (rc < 0)
		return rc;
	h->umask = umask(cred.umask);
	if (h->switching) {
		rc = become(h, &cred, groups, real);
		if (rc < 0)
			host_creds_revert(c);
	}
	free(fresh.list);
	return rc;
}

void host_creds_revert(struct call *c)
{
	struct host_self *h = &call_sup(c)->host;
	int err = errno, rc;

	umask(h->umask);
	rc = h->switching ? unbecome(h) : 0;
	if (rc < 0) {
		/* Going on with a target's credentials is no option. */
		fprintf(stderr, "coda-exec: cannot take back its own credentials: %s\n",
			strerror(-rc));
		abort();
	}
	errno = err;
}

void host_open(struct call *c, const char *path, int flags, mode_t mode)
{
	int fd, rc = host_creds_override(c, false);

	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	fd = open(path, (flags & ~O_CLOEXEC) | O_CLOEXEC, mode);
	host_creds_revert(c);
	if (fd < 0) {
		call_return(c, -errno);
		return;
	}
	rc = call_inject_fd(c, fd, -1, flags & O_CLOEXEC);
	close(fd);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}

int host_access(struct call *c, const char *path, int mode, int at_flags)
{
	int rc = host_creds_override(c, !(at_flags & AT_EACCESS));

	if (rc < 0)
		return rc;
	/* AT_EACCESS: with the ids now in effect, which are the caller's real
	 * ones where access(2) wants them (unless ours are the caller's). */
	if (call_sup(c)->host.switching)
		at_flags |= AT_EACCESS;
	rc = faccessat(AT_FDCWD, path, mode, at_flags) < 0 ? -errno : 0;
	host_creds_revert(c);
	return rc;
}

int host_may_chdir(struct call *c, int dir, const char *path)
{
	struct stat st;
	int rc = host_creds_override(c, false);

	if (rc < 0)
		return rc;
	if (fstatat(dir, path, &st, AT_EMPTY_PATH) < 0)
		rc = -errno;
	else if (!S_ISDIR(st.st_mode))
		rc = -ENOTDIR;
	else if (faccessat(dir, path, X_OK, AT_EACCESS | AT_EMPTY_PATH) < 0)
		rc = -errno;
	host_creds_revert(c);
	return rc;
}
