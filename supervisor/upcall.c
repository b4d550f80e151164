#include <errno.h>
#include <unistd.h>

#include "psdev.h"
#include "upcall.h"

int venus_root(struct task *t, const struct coda_caller *who, struct CodaFid *fid)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_ROOT, who);
	rc = coda_upcall(t, &m);
	if (!rc)
		*fid = m.out.coda_root.VFid;
	return rc;
}

int venus_getattr(struct task *t, const struct coda_caller *who, const struct CodaFid *fid,
		  struct coda_vattr *attr)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_GETATTR, who);
	m.in.coda_getattr.VFid = *fid;
	rc = coda_upcall(t, &m);
	if (!rc)
		*attr = m.out.coda_getattr.attr;
	return rc;
}

int venus_lookup(struct task *t, const struct coda_caller *who, const struct CodaFid *dir,
		 const char *name, size_t len, struct CodaFid *fid, int *vtype)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_LOOKUP, who);
	m.in.coda_lookup.VFid = *dir;
	m.in.coda_lookup.flags = CLU_CASE_SENSITIVE;
	rc = coda_msg_put_string(&m, &m.in.coda_lookup.name, name, len);
	if (!rc)
		rc = coda_upcall(t, &m);
	if (!rc) {
		*fid = m.out.coda_lookup.VFid;
		*vtype = m.out.coda_lookup.vtype & ~CODA_NOCACHE;
	}
	return rc;
}

int venus_access(struct task *t, const struct coda_caller *who, const struct CodaFid *fid, int mask)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ACCESS, who);
	m.in.coda_access.VFid = *fid;
	m.in.coda_access.flags = mask;
	return coda_upcall(t, &m);
}

int venus_open(struct task *t, const struct coda_caller *who, const struct CodaFid *fid, int cflags,
	       int *fd)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_OPEN_BY_FD, who);
	m.in.coda_open_by_fd.VFid = *fid;
	m.in.coda_open_by_fd.flags = cflags;
	rc = coda_upcall(t, &m);
	if (rc < 0) {
		if (m.fd >= 0)
			close(m.fd);
		return rc;
	}
	if (m.fd < 0)
		return -EIO; /* venus said yes but passed no file */
	*fd = m.fd;
	return 0;
}

int venus_close(struct task *t, const struct coda_caller *who, const struct CodaFid *fid,
		int cflags)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_CLOSE, who);
	m.in.coda_close.VFid = *fid;
	m.in.coda_close.flags = cflags;
	return coda_upcall(t, &m);
}

ssize_t venus_readlink(struct task *t, const struct coda_caller *who, const struct CodaFid *fid,
		       char *buf, size_t cap)
{
	struct coda_msg m;
	const char *data;
	int rc, count;

	coda_msg_upcall(&m, CODA_READLINK, who);
	m.in.coda_readlink.VFid = *fid;
	rc = coda_upcall(t, &m);
	if (rc < 0)
		return rc;
	count = m.out.coda_readlink.count;
	if (count < 0 || (size_t)count > cap)
		return -EIO;
	rc = coda_msg_get_data(&m, m.out.coda_readlink.data, (size_t)count, &data);
	if (rc < 0)
		return rc;
	memcpy(buf, data, (size_t)count);
	return count;
}

int venus_statfs(struct task *t, const struct coda_caller *who, struct coda_statfs *st)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_STATFS, who);
	rc = coda_upcall(t, &m);
	if (!rc)
		*st = m.out.coda_statfs.stat;
	return rc;
}
