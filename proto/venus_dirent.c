#include <errno.h>

#include "venus_dirent.h"

#define DIRENT_HDR offsetof(struct venus_dirent, d_name)

size_t venus_dirent_size(size_t namlen)
{
	return DIRENT_HDR + ((namlen + 1 + 3) & ~(size_t)3);
}

int venus_dirent_encode(void *buf, size_t cap, uint32_t ino, uint8_t type, const char *name,
			size_t namlen)
{
	struct venus_dirent d;
	size_t size = venus_dirent_size(namlen);

	if (namlen == 0 || namlen > CODA_MAXNAMLEN)
		return -ENAMETOOLONG;
	if (size > cap)
		return -ENOSPC;
	memset(&d, 0, sizeof(d));
	d.d_fileno = ino;
	d.d_reclen = (uint16_t)size;
	d.d_type = type;
	d.d_namlen = (uint8_t)namlen;
	memcpy(d.d_name, name, namlen);
	memcpy(buf, &d, size);
	return (int)size;
}

int venus_dirent_decode(const void *buf, size_t len, size_t *off, struct venus_dirent_view *out)
{
	const char *rec;
	struct venus_dirent hdr;
	size_t left;

	if (*off >= len)
		return 0;
	left = len - *off;
	if (left < DIRENT_HDR)
		return -EIO;
	rec = (const char *)buf + *off;
	memcpy(&hdr, rec, DIRENT_HDR);
	if (hdr.d_reclen < DIRENT_HDR || hdr.d_reclen > left)
		return -EIO;
	*off += hdr.d_reclen;
	if (hdr.d_fileno == 0)
		return 2;
	if (hdr.d_namlen == 0 || DIRENT_HDR + hdr.d_namlen + 1u > hdr.d_reclen)
		return -EIO;
	out->name = rec + DIRENT_HDR;
	if (memchr(out->name, '\0', hdr.d_namlen) || memchr(out->name, '/', hdr.d_namlen) ||
	    out->name[hdr.d_namlen] != '\0')
		return -EIO;
	out->ino = hdr.d_fileno;
	out->type = hdr.d_type;
	out->namlen = hdr.d_namlen;
	out->reclen = hdr.d_reclen;
	return 1;
}
