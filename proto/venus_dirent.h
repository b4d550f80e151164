/* Directory containers: the records of struct venus_dirent that a venus writes
 * into a directory's container file and the Coda module reads back for
 * getdents. The layout is the one of <linux/coda.h> (DIRSIZ-sized records). */
#ifndef CODA_VENUS_DIRENT_H
#define CODA_VENUS_DIRENT_H

#include "coda_wire.h"

struct venus_dirent_view {
	uint32_t ino;
	uint8_t type; /* CDT_* */
	uint8_t namlen;
	uint16_t reclen;
	const char *name; /* NUL-terminated, namlen bytes, no '/' */
};

/* Bytes one record for a name of this length takes. */
size_t venus_dirent_size(size_t namlen);

/* Writes one record at buf; returns its size, or -ENAMETOOLONG / -ENOSPC. */
int venus_dirent_encode(void *buf, size_t cap, uint32_t ino, uint8_t type, const char *name,
			size_t namlen);

/* Reads the record at *off of a container image of len bytes and moves *off
 * past it. Returns 1 for a live entry, 0 at the end, 2 for an empty slot
 * (d_fileno 0, skipped as the kernel does), -EIO for a malformed record. */
int venus_dirent_decode(const void *buf, size_t len, size_t *off, struct venus_dirent_view *out);

#endif
