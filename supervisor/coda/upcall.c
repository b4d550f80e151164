/* The venus calls, one function each, as fs/coda/upcall.c: build the
 * message, send it, check the reply. Each returns 0 or a negative errno. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coda_linux.h"
#include "psdev.h"
#include "upcall.h"

int venus_root(struct coda_req *r, const struct coda_caller *who, struct CodaFid *fid)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_ROOT, who);
	rc = coda_upcall(r, &m);
	if (!rc)
		*fid = m.out.coda_root.VFid;
	return rc;
}

int venus_getattr(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		  struct coda_vattr *attr)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_GETATTR, who);
	m.in.coda_getattr.VFid = *fid;
	rc = coda_upcall(r, &m);
	if (!rc)
		*attr = m.out.coda_getattr.attr;
	return rc;
}

int venus_lookup(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		 const char *name, size_t len, struct CodaFid *fid, int *vtype,
		 struct lookup_tail *tail)
{
	struct coda_msg m;
	int32_t rights;
	int rc;

	coda_msg_upcall(&m, CODA_LOOKUP, who);
	m.in.coda_lookup.VFid = *dir;
	m.in.coda_lookup.flags = CLU_CASE_SENSITIVE;
	rc = coda_msg_put_string(&m, &m.in.coda_lookup.name, name, len);
	if (!rc)
		rc = coda_upcall(r, &m);
	tail->present = false;
	if (rc)
		return rc;
	*fid = m.out.coda_lookup.VFid;
	*vtype = m.out.coda_lookup.vtype & ~CODA_NOCACHE;
	tail->present = m.len == sizeof(struct coda_lookup_attr_out) &&
			!(m.out.coda_lookup.vtype & CODA_NOCACHE);
	if (tail->present) {
		memcpy(&tail->attr, m.raw + offsetof(struct coda_lookup_attr_out, attr),
		       sizeof(tail->attr));
		memcpy(&rights, m.raw + offsetof(struct coda_lookup_attr_out, rights),
		       sizeof(rights));
		tail->rights = rights & (C_A_R_OK | C_A_W_OK | C_A_X_OK);
	}
	return 0;
}

int venus_access(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		 int mask)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ACCESS, who);
	m.in.coda_access.VFid = *fid;
	m.in.coda_access.flags = mask;
	return coda_upcall(r, &m);
}

/* The container's path after an embedded venus's reply, or NULL. */
static char *open_tail_path(const struct coda_msg *m)
{
	const char *p;

	if (m->len <= sizeof(struct coda_open_by_fd_out) ||
	    coda_msg_get_reply_string(m, (int)sizeof(struct coda_open_by_fd_out), PATH_MAX - 1,
				      &p) < 0 ||
	    p[0] != '/')
		return NULL;
	return strdup(p);
}

int venus_open(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
	       int cflags, int *fd, char **path)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_OPEN_BY_FD, who);
	m.in.coda_open_by_fd.VFid = *fid;
	m.in.coda_open_by_fd.flags = cflags;
	rc = coda_upcall(r, &m);
	if (rc < 0) {
		if (m.fd >= 0)
			close(m.fd);
		return rc;
	}
	if (m.fd == -EMFILE) {
		/* Granted, but we had no fd free for its file: the open that
		 * venus counts is closed again, and the caller's fails. */
		venus_close(r, who, fid, cflags);
		return -EMFILE;
	}
	if (m.fd < 0)
		return -EIO; /* venus said yes but passed no file */
	*fd = m.fd;
	*path = open_tail_path(&m);
	return 0;
}

int venus_open_by_path(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		       int cflags, char *path, size_t cap)
{
	struct coda_msg m;
	const char *p;
	int rc;

	coda_msg_upcall(&m, CODA_OPEN_BY_PATH, who);
	m.in.coda_open_by_path.VFid = *fid;
	m.in.coda_open_by_path.flags = cflags;
	rc = coda_upcall(r, &m);
	if (rc < 0)
		return rc;
	if (coda_msg_get_reply_string(&m, m.out.coda_open_by_path.path, cap - 1, &p) < 0)
		return -EIO;
	snprintf(path, cap, "%s", p);
	return 0;
}

int venus_close(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		int cflags)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_CLOSE, who);
	m.in.coda_close.VFid = *fid;
	m.in.coda_close.flags = cflags;
	return coda_upcall(r, &m);
}

ssize_t venus_readlink(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		       char *buf, size_t cap)
{
	struct coda_msg m;
	const char *data;
	int rc, count;

	coda_msg_upcall(&m, CODA_READLINK, who);
	m.in.coda_readlink.VFid = *fid;
	rc = coda_upcall(r, &m);
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

int venus_statfs(struct coda_req *r, const struct coda_caller *who, struct coda_statfs *st)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_STATFS, who);
	rc = coda_upcall(r, &m);
	if (!rc)
		*st = m.out.coda_statfs.stat;
	return rc;
}

int venus_create(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		 const char *name, size_t len, int excl, int mode, struct CodaFid *fid,
		 struct coda_vattr *attr)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_CREATE, who);
	m.in.coda_create.VFid = *dir;
	coda_vattr_unset(&m.in.coda_create.attr);
	m.in.coda_create.attr.va_mode = (u_short)mode;
	m.in.coda_create.excl = excl;
	m.in.coda_create.mode = mode;
	rc = coda_msg_put_string(&m, &m.in.coda_create.name, name, len);
	if (!rc)
		rc = coda_upcall(r, &m);
	if (!rc) {
		*fid = m.out.coda_create.VFid;
		*attr = m.out.coda_create.attr;
	}
	return rc;
}

int venus_mkdir(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		const char *name, size_t len, int mode, struct CodaFid *fid,
		struct coda_vattr *attr)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_MKDIR, who);
	m.in.coda_mkdir.VFid = *dir;
	coda_vattr_unset(&m.in.coda_mkdir.attr);
	m.in.coda_mkdir.attr.va_mode = (u_short)mode;
	rc = coda_msg_put_string(&m, &m.in.coda_mkdir.name, name, len);
	if (!rc)
		rc = coda_upcall(r, &m);
	if (!rc) {
		*fid = m.out.coda_mkdir.VFid;
		*attr = m.out.coda_mkdir.attr;
	}
	return rc;
}

/* REMOVE and RMDIR have the same shape: a directory and a name. */
static int dir_name_call(struct coda_req *r, const struct coda_caller *who, uint32_t opcode,
			 const struct CodaFid *dir, const char *name, size_t len)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, opcode, who);
	if (opcode == CODA_REMOVE) {
		m.in.coda_remove.VFid = *dir;
		rc = coda_msg_put_string(&m, &m.in.coda_remove.name, name, len);
	} else {
		m.in.coda_rmdir.VFid = *dir;
		rc = coda_msg_put_string(&m, &m.in.coda_rmdir.name, name, len);
	}
	return rc ? rc : coda_upcall(r, &m);
}

int venus_remove(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		 const char *name, size_t len)
{
	return dir_name_call(r, who, CODA_REMOVE, dir, name, len);
}

int venus_rmdir(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		const char *name, size_t len)
{
	return dir_name_call(r, who, CODA_RMDIR, dir, name, len);
}

int venus_rename(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *from_dir,
		 const char *from, size_t from_len, const struct CodaFid *to_dir, const char *to,
		 size_t to_len)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_RENAME, who);
	m.in.coda_rename.sourceFid = *from_dir;
	m.in.coda_rename.destFid = *to_dir;
	rc = coda_msg_put_string(&m, &m.in.coda_rename.srcname, from, from_len);
	if (!rc)
		rc = coda_msg_put_string(&m, &m.in.coda_rename.destname, to, to_len);
	return rc ? rc : coda_upcall(r, &m);
}

int venus_link(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
	       const struct CodaFid *dir, const char *name, size_t len)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_LINK, who);
	m.in.coda_link.sourceFid = *fid;
	m.in.coda_link.destFid = *dir;
	rc = coda_msg_put_string(&m, &m.in.coda_link.tname, name, len);
	return rc ? rc : coda_upcall(r, &m);
}

int venus_symlink(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *dir,
		  const char *name, size_t len, const char *target, size_t target_len)
{
	struct coda_msg m;
	int rc;

	coda_msg_upcall(&m, CODA_SYMLINK, who);
	m.in.coda_symlink.VFid = *dir;
	coda_vattr_unset(&m.in.coda_symlink.attr);
	m.in.coda_symlink.attr.va_mode = 0777;
	rc = coda_msg_put_string(&m, &m.in.coda_symlink.srcname, target, target_len);
	if (!rc)
		rc = coda_msg_put_string(&m, &m.in.coda_symlink.tname, name, len);
	return rc ? rc : coda_upcall(r, &m);
}

int venus_setattr(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid,
		  const struct coda_vattr *attr)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_SETATTR, who);
	m.in.coda_setattr.VFid = *fid;
	m.in.coda_setattr.attr = *attr;
	return coda_upcall(r, &m);
}

int venus_fsync(struct coda_req *r, const struct coda_caller *who, const struct CodaFid *fid)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_FSYNC, who);
	m.in.coda_fsync.VFid = *fid;
	return coda_upcall(r, &m);
}
