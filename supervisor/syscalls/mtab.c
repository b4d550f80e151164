/* The mount tables a process reads (/proc/self/mountinfo, /proc/mounts and
 * their other names), with the Coda mount in them as a kernel mount puts
 * it: df, findmnt and mount find the mount's type there, by its st_dev. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mtab.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "vfs.h"

/* /etc/mtab, where it is the link to /proc/mounts that systemd and Debian
 * make; a file of its own is left alone. */
static bool mtab_is_proc_link(void)
{
	char target[64];
	ssize_t n = readlink("/etc/mtab", target, sizeof(target) - 1);

	if (n < 0)
		return false;
	target[n] = '\0';
	return strstr(target, "proc/") && !strcmp(target + n - strlen("/mounts"), "/mounts");
}

/* The task whose table `name` is, and which table (info: mountinfo). */
static pid_t mtab_owner(struct call *c, const char *name, int flags, bool *info)
{
	pid_t pid;

	*info = false;
	if (!strcmp(name, "/proc/mounts") ||
	    (!strcmp(name, "/etc/mtab") && !(flags & O_NOFOLLOW) && mtab_is_proc_link()))
		return c->proc->tgid;
	pid = vfs_proc_owner(c, name, "mounts");
	if (pid)
		return pid;
	*info = true;
	return vfs_proc_owner(c, name, "mountinfo");
}

/* The whole of a /proc file (they say 0 for their size). */
static int slurp(const char *path, char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *p = realloc(buf, cap ? cap * 2 : 16384);

			if (!p) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = p;
			cap = cap ? cap * 2 : 16384;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			close(fd);
			return (int)n;
		}
		if (n == 0) {
			close(fd);
			*bufp = buf;
			*lenp = len;
			return 0;
		}
		len += (size_t)n;
	}
}

/* The mount point as the tables spell it: space, tab, newline and
 * backslash in octal. */
static void escape_path(const char *path, char *out, size_t size)
{
	size_t o = 0;

	for (; *path && o + 5 < size; path++) {
		if (strchr(" \t\n\\", *path))
			o += (size_t)snprintf(out + o, size - o, "\\%03o", (unsigned char)*path);
		else
			out[o++] = *path;
	}
	out[o] = '\0';
}

/* Whether mount point `mp` (escaped) holds `path` (escaped), and how long
 * a prefix it is. */
static size_t holds(const char *mp, size_t mlen, const char *path)
{
	if (mlen == 1 && mp[0] == '/')
		return 1;
	if (strncmp(path, mp, mlen) || (path[mlen] != '/' && path[mlen]))
		return 0;
	return mlen;
}

/* The mount's mountinfo line: the next free mount id, and as parent the
 * mount its mount point lies on. */
static int info_line(const struct coda_sb *sb, const char *table, size_t len, const char *mnt,
		     char **line)
{
	long max_id = 0, parent = 0;
	size_t best = 0;

	for (const char *p = table; p < table + len;) {
		const char *eol = memchr(p, '\n', (size_t)(table + len - p));
		char mp[PATH_MAX];
		long id, pid;
		size_t l;

		if (sscanf(p, "%ld %ld %*s %*s %4095s", &id, &pid, mp) == 3) {
			if (id > max_id)
				max_id = id;
			l = holds(mp, strlen(mp), mnt);
			if (l && l >= best) {
				best = l;
				parent = id;
			}
		}
		p = eol ? eol + 1 : table + len;
	}
	return asprintf(line, "%ld %ld %u:%u / %s rw,relatime - coda coda rw\n", max_id + 1, parent,
			major(sb->dev), minor(sb->dev), mnt);
}

/* A read-only file holding the task's table and the Coda mount's line. */
static int mtab_file(struct call *c, pid_t pid, bool info)
{
	const struct coda_sb *sb = &call_sup(c)->sb;
	char path[64], mnt[4 * PATH_MAX];
	char *table = NULL, *line;
	size_t len = 0;
	int fd, ro, n, rc;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, info ? "mountinfo" : "mounts");
	rc = slurp(path, &table, &len);
	if (rc < 0)
		return rc;
	escape_path(sb->mnt, mnt, sizeof(mnt));
	if (info)
		n = info_line(sb, table, len, mnt, &line);
	else
		n = asprintf(&line, "coda %s coda rw,relatime 0 0\n", mnt);
	fd = n < 0 ? -1 : memfd_create(info ? "mountinfo" : "mounts", MFD_CLOEXEC);
	rc = n < 0 ? -ENOMEM : fd < 0 ? -errno : 0;
	if (!rc && (write(fd, table, len) != (ssize_t)len || write(fd, line, (size_t)n) != n))
		rc = -EIO;
	free(table);
	if (n >= 0)
		free(line);
	/* The target's copy is read-only, as the table is. */
	if (!rc) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ro = open(path, O_RDONLY | O_CLOEXEC);
		rc = ro < 0 ? -errno : ro;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

bool mtab_open(struct call *c, const char *name, int flags)
{
	bool info;
	pid_t pid;
	int fd, rc;

	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_PATH | O_DIRECTORY | O_CREAT)))
		return false;
	pid = mtab_owner(c, name, flags, &info);
	if (pid <= 0)
		return false;
	fd = mtab_file(c, pid, info);
	if (fd < 0)
		return false; /* no such task, say: the kernel says so */
	rc = call_inject_fd(c, fd, -1, flags & O_CLOEXEC);
	close(fd);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
	return true;
}
