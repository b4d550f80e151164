/* Spares: empty files kept for the cache's next new file.
 *
 * A store puts the written container in place of the backing file, and the
 * old backing file goes. Most often it is the empty file a CODA_CREATE made
 * a moment before (tar x, cp, a compiler's output). On ext4 that delete is
 * what a new file costs most: its inode allocator skips every inode deleted
 * in the last minutes (recently_deleted), so each create in a run of them
 * scans past all the deletes before it, and a store deleting one inode for
 * every new file makes a tar x quadratic. So the store exchanges an empty
 * backing file with the container (RENAME_EXCHANGE) instead of renaming
 * over it, the old file is moved into the cache, and the next container is
 * made of it: a new file costs one inode, as it does natively, and deletes
 * none.
 *
 * Only a file nobody could tell from a new one is kept: a regular file,
 * empty, with one link, ours, with no extended attributes (an ACL, a
 * label), and open nowhere (a program that holds it must never see it
 * become another file). Whoever takes one gives it its times, as it does
 * a new file's.
 *
 * A spare is named as a write session's container (cml.PID.SEQ), so that
 * the next new file's session takes it as it is, with no rename; one that
 * a venus leaves is a container no log entry names, which the next venus
 * removes (cml.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

/* Whether the file open at fd may become a spare; given the cache's mode. */
static bool spare_fit(const struct venus *v, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0 || st.st_nlink != 1 ||
	    st.st_uid != v->euid)
		return false;
	if (flistxattr(fd, NULL, 0) != 0 || !container_alone(fd))
		return false;
	return (st.st_mode & 07777) == 0600 || fchmod(fd, 0600) == 0;
}

/* Whether `name` in dfd is a container name of this venus's (tmp_name_of)
 * in the cache, and its SEQ then in *seq: a spare may keep it. */
static bool own_name(const struct venus *v, int dfd, const char *name, unsigned long *seq)
{
	char prefix[64];
	size_t len;
	char *end;

	if (dfd != v->cache_fd)
		return false;
	tmp_name_of(v, CML_PREFIX, 0, prefix, sizeof(prefix));
	len = strlen(prefix) - 1; /* up to the SEQ */
	if (strncmp(name, prefix, len) != 0 || name[len] < '0' || name[len] > '9')
		return false;
	*seq = strtoul(name + len, &end, 10);
	return *end == '\0';
}

/* The spare's name in the cache: its own if it is one of ours, else a new
 * one it is renamed to; its SEQ in *seq. */
static bool spare_name(struct venus *v, int dfd, const char *name, unsigned long *seq)
{
	char spare[64];

	if (own_name(v, dfd, name, seq))
		return true;
	*seq = tmp_name(v, CML_PREFIX, spare, sizeof(spare));
	return renameat(dfd, name, v->cache_fd, spare) == 0;
}

int spare_put(struct venus *v, int dfd, const char *name)
{
	unsigned long seq;
	bool kept = false;
	int fd = -1;

	if (v->spares < SPARES)
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		kept = spare_fit(v, fd) && spare_name(v, dfd, name, &seq);
		if (kept)
			v->spare_seq[v->spares++] = seq;
		close(fd);
	}
	if (kept)
		return 0;
	return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

int spare_adopt(struct venus *v, char *name, size_t len, int access)
{
	int fd;

	while (v->spares) {
		tmp_name_of(v, CML_PREFIX, v->spare_seq[--v->spares], name, len);
		fd = openat(v->cache_fd, name, access | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

int spare_take(struct venus *v, const char *name)
{
	char spare[64];
	int fd = spare_adopt(v, spare, sizeof(spare), O_RDWR);

	if (fd < 0 || renameat2(v->cache_fd, spare, v->cache_fd, name, RENAME_NOREPLACE) == 0)
		return fd;
	close(fd);
	unlinkat(v->cache_fd, spare, 0);
	return -ENOENT; /* the caller makes one, and says why it cannot */
}

void spare_fini(struct venus *v)
{
	char spare[64];

	while (v->spares) {
		tmp_name_of(v, CML_PREFIX, v->spare_seq[--v->spares], spare, sizeof(spare));
		unlinkat(v->cache_fd, spare, 0);
	}
}
