/* The Linux Coda protocol (kernel version 5) as it crosses our message channel.
 *
 * <linux/coda.h> is the authority; this header only makes it includable from
 * user space (it pulls in <linux/time.h>, which clashes with glibc's timeval)
 * and adds the small helpers both ends share. */
#ifndef CODA_WIRE_H
#define CODA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <linux/posix_types.h>
#define _LINUX_TIME_H
#include <linux/coda.h>

/* Largest message either side sends: an upcall or reply plus its inline data. */
#define CODA_MSG_MAX VC_MAXMSGSIZE

static inline bool coda_fid_eq(const struct CodaFid *a, const struct CodaFid *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The inode number a kernel mount gives the object of a fid (coda_iget
 * hashes the fid with coda_f2i); stock venus puts the same number in
 * va_fileid and in every directory entry's d_fileno. */
static inline uint32_t coda_fid_ino(const struct CodaFid *fid)
{
	return coda_f2i(fid);
}

/* The embedded venus's reply to CODA_LOOKUP: the kernel's, followed by the
 * object's attributes, which it has just read anyway, and the rights the
 * caller has on the object (C_A_R_OK, C_A_W_OK, C_A_X_OK: each bit that
 * CODA_ACCESS would grant it alone), so that a first touch is one round trip
 * instead of a LOOKUP, a GETATTR and an ACCESS. Stock venus sends the
 * kernel's reply alone, and a reply of any other length is read as the
 * kernel reads it. Nobody keeps this tail for later (server/) but as the
 * answer to the same LOOKUP: only the object's own downcalls tell when
 * attributes or rights change. */
struct coda_lookup_attr_out {
	struct coda_lookup_out lookup;
	struct coda_vattr attr;
	int32_t rights;
};

/* The embedded venus's reply to CODA_OPEN_BY_FD: the kernel's, followed by
 * the container's absolute path, NUL-terminated, so that a reader's
 * container kept past its close can be opened again by that name rather
 * than through /proc/self/fd, a third of the cost (supervisor/coda/keep.c;
 * checked there to be the same inode). Stock venus sends the kernel's reply
 * alone; a reply with no tail or a bad one is read as the kernel reads it. */
struct coda_open_by_fd_path_out {
	struct coda_open_by_fd_out open;
	char path[];
};

/* Identifies the sender of an upcall, as the kernel fills coda_in_hdr. */
struct coda_caller {
	pid_t pid;
	pid_t pgid;
	uid_t uid;
};

#endif
