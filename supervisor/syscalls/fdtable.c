#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fdtable.h"
#include "coda/file.h"
#include "trap/call.h"

struct files_state *fdtable_new(void)
{
	struct files_state *files = calloc(1, sizeof(*files));

	if (files) {
		files->refs = 1;
		files->hint[0] = files->hint[1] = CODA_FD_HALF_SIZE - 1;
	}
	return files;
}

struct files_state *fdtable_copy(const struct files_state *from)
{
	struct files_state *files = fdtable_new();

	if (!files || !from)
		return files;
	for (int i = 0; i < CODA_FD_BAND_SIZE; i++) {
		files->slot[i] = from->slot[i] ? coda_file_get(from->slot[i]) : NULL;
		files->unverified[i] = from->unverified[i];
	}
	memcpy(files->hint, from->hint, sizeof(files->hint));
	return files;
}

static void drop(struct files_state *files, int i)
{
	if (files->slot[i])
		coda_file_put(files->slot[i]);
	files->slot[i] = NULL;
	files->unverified[i] = false;
}

void fdtable_put(struct files_state *files)
{
	if (!files || --files->refs > 0)
		return;
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

static bool target_fd_free(struct call *c, int fd)
{
	char path[64];
	struct stat st;

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

/* Searched downwards from the top of the half, so that the target's own
 * lowest-free allocations never meet ours. A slot we do not hold may still
 * be taken by an fd of the target's own: /proc says. */
int fdtable_alloc(struct call *c, struct files_state *files, int vtype)
{
	int base = (vtype == C_VDIR ? CODA_FD_DIR_LO : CODA_FD_FILE_LO) - CODA_FD_BAND_LO;
	int *hint = &files->hint[vtype == C_VDIR];

	for (int k = 0; k < CODA_FD_HALF_SIZE; k++) {
		int i = base + (*hint - k + CODA_FD_HALF_SIZE) % CODA_FD_HALF_SIZE;
		int fd = CODA_FD_BAND_LO + i;

		if (slot_valid(c, files, i) || !target_fd_free(c, fd))
			continue;
		*hint = (i - base - 1 + CODA_FD_HALF_SIZE) % CODA_FD_HALF_SIZE;
		return fd;
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
