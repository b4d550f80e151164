/* The upcalls of the read path, one handler each.
 *
 * A handler gets the checked upcall and a reply already set up for success;
 * it fills in the reply or returns a negative errno, which the dispatcher
 * turns into an error reply. The calls that change names are in
 * namespace.c, CODA_SETATTR in setattr.c, write sessions in store.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

int vn_root(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	(void)in;
	out->out.coda_root.VFid = v->root->fid;
	return 0;
}

int vn_lookup(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	struct fid_entry *dir, *e;
	struct coda_vattr va;
	struct stat st;
	const char *name;
	int32_t rights;
	int err;

	err = coda_msg_get_string(in, in->in.coda_lookup.name, CODA_MAXNAMLEN, &name);
	if (err)
		return err;
	err = fid_dir(v, &in->in.coda_lookup.VFid, &dir, NULL);
	if (err)
		return err;
	err = fid_child(v, dir, name, &e, &st);
	if (err)
		return err;
	out->out.coda_lookup.VFid = e->fid;
	out->out.coda_lookup.vtype = attr_vtype(st.st_mode);
	/* The attributes and the caller's rights too (proto/coda_wire.h):
	 * fid_child has read what both need. */
	attr_entry(v, e, &st, &va);
	memcpy(out->raw + offsetof(struct coda_lookup_attr_out, attr), &va, sizeof(va));
	rights = access_rights(v, in->ih.uid, &st);
	memcpy(out->raw + offsetof(struct coda_lookup_attr_out, rights), &rights, sizeof(rights));
	out->len = sizeof(struct coda_lookup_attr_out);
	return 0;
}

int vn_getattr(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	struct fid_entry *e;
	struct stat st;
	int err = fid_stat(v, &in->in.coda_getattr.VFid, &e, &st);

	if (err)
		return err;
	attr_entry(v, e, &st, &out->out.coda_getattr.attr);
	return 0;
}

int vn_vget(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	struct fid_entry *e;
	struct stat st;
	int err = fid_stat(v, &in->in.coda_vget.VFid, &e, &st);

	if (err)
		return err;
	out->out.coda_vget.VFid = e->fid;
	out->out.coda_vget.vtype = attr_vtype(st.st_mode);
	return 0;
}

int vn_access(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	struct fid_entry *e;
	struct stat st;
	int err = fid_stat(v, &in->in.coda_access.VFid, &e, &st);

	(void)out;
	if (err)
		return err;
	return access_check(v, in->ih.uid, &st, in->in.coda_access.flags);
}

/* Opens that change the object get the write container. O_TRUNC without
 * write access is one of them: Linux truncates anyway. */
static bool open_writes(int flags)
{
	return flags & (C_O_WRITE | C_O_TRUNC);
}

/* A container of fid, counted as open, in *fdp: the write container (read-
 * write) for a write open, else the read container (read-only). */
static int open_container(struct venus *v, const struct CodaFid *fid, int flags,
			  struct fid_entry **ep, int *fdp)
{
	struct stat st;
	int err;

	if (open_writes(flags) && v->cfg->read_only)
		return -EROFS;
	err = fid_stat(v, fid, ep, &st);
	if (err)
		return err;
	if (!fid_extra(*ep))
		return -ENOMEM;
	if (open_writes(flags))
		err = wc_open(v, *ep, &st, flags, fdp);
	else
		err = container_open(v, *ep, &st, fdp);
	if (err) {
		fid_extra_trim(*ep);
		return err;
	}
	(*ep)->x->opens++;
	return 0;
}

/* The absolute path of the container open_container opened (a dirty
 * file's, or the read container) in buf: its length, or -ENAMETOOLONG. */
static int opened_container_path(struct venus *v, const struct fid_entry *e, char *buf, size_t len)
{
	char name[64];
	const char *cname = fid_x(e)->dirty;
	int n;

	if (!cname) {
		container_name(&e->fid, name, sizeof(name));
		cname = name;
	}
	n = snprintf(buf, len, "%s/%s", v->cache_path, cname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* That path after the reply (struct coda_open_by_fd_path_out); none if it
 * does not fit. */
static void put_container_path(struct venus *v, const struct fid_entry *e, struct coda_msg *out)
{
	size_t at = sizeof(struct coda_open_by_fd_out);
	int n = opened_container_path(v, e, out->raw + at, sizeof(out->raw) - at);

	if (n > 0)
		out->len = at + (size_t)n + 1;
}

int vn_open_by_fd(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_open_by_fd_in *req = &in->in.coda_open_by_fd;
	struct fid_entry *e;
	int fd, err;

	err = open_container(v, &req->VFid, req->flags, &e, &fd);
	if (err)
		return err;
	/* Our own fd number, as venus writes it; the fd itself rides along
	 * with SCM_RIGHTS and the dispatcher closes our copy once sent. */
	out->out.coda_open_by_fd.fd = fd;
	out->fd = fd;
	put_container_path(v, e, out);
	return 0;
}

int vn_open_by_path(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_open_by_path_in *req = &in->in.coda_open_by_path;
	char path[PATH_MAX];
	struct fid_entry *e;
	int fd, err, n;

	err = open_container(v, &req->VFid, req->flags, &e, &fd);
	if (err)
		return err;
	close(fd); /* the caller opens the path itself */
	n = opened_container_path(v, e, path, sizeof(path));
	err =
	    n < 0 ? n : coda_msg_put_string(out, &out->out.coda_open_by_path.path, path, (size_t)n);
	if (err) {
		e->x->opens--;
		if (open_writes(req->flags))
			wc_close(v, e); /* as the close of an open nobody took */
		fid_extra_trim(e);
	}
	return err;
}

/* CODA_CLOSE carries the flags of its open: the last write close stores. */
int vn_close(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_close_in *req = &in->in.coda_close;
	struct fid_entry *e = fid_find(v, &req->VFid);
	int err = 0;

	(void)out;
	/* A close we cannot match (forgotten fid, double close) changes nothing. */
	if (!e || !fid_x(e)->opens || (open_writes(req->flags) && !e->x->writers))
		return -EBADF;
	e->x->opens--;
	if (open_writes(req->flags))
		err = wc_close(v, e);
	if (!fid_gone(e))
		fid_extra_trim(e);
	else if (!e->x->opens && !e->x->writers)
		fid_drop(v, e); /* removed while open: now it can go */
	return err;
}

/* fsync(2): the write session's bytes reach the volume, durably, now; the
 * session stays open. (A store on close is atomic against any crash of a
 * process, by rename; it is made durable against power loss only when the
 * target asks with fsync, as a kernel file system does.) */
int vn_fsync(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	struct fid_entry *e = fid_find(v, &in->in.coda_fsync.VFid);

	(void)out;
	if (!e)
		return -ENOENT;
	return wc_store(v, e, true);
}

int vn_store(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	struct fid_entry *e = fid_find(v, &in->in.coda_store.VFid);

	(void)out;
	if (!e)
		return -ENOENT;
	return wc_store(v, e, true);
}

int vn_readlink(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	char buf[PATH_MAX];
	struct fid_entry *e;
	struct stat st;
	ssize_t n;
	int err;

	err = fid_stat(v, &in->in.coda_readlink.VFid, &e, &st);
	if (err)
		return err;
	if (!S_ISLNK(st.st_mode))
		return -EINVAL;
	n = beneath_readlink(v, e->path, buf, sizeof(buf));
	if (n < 0)
		return n == -EINVAL ? -ENOENT : (int)n; /* replaced since the lstat */
	if ((size_t)n == sizeof(buf))
		return -ENAMETOOLONG;
	out->out.coda_readlink.count = (int)n;
	return coda_msg_put_data(out, &out->out.coda_readlink.data, buf, (size_t)n);
}

/* A block count in the 4096-byte units the kernel's coda_statfs assumes. */
static int32_t statfs_blocks(unsigned long long count, unsigned long frsize)
{
	unsigned __int128 bytes = (unsigned __int128)count * frsize;
	unsigned __int128 blocks = bytes / 4096;

	return blocks > INT32_MAX ? INT32_MAX : (int32_t)blocks;
}

static int32_t statfs_clamp(unsigned long long n)
{
	return n > INT32_MAX ? INT32_MAX : (int32_t)n;
}

int vn_statfs(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	struct coda_statfs *s = &out->out.coda_statfs.stat;
	struct statvfs sv;
	unsigned long frsize;

	(void)in;
	if (fstatvfs(v->vol_fd, &sv) < 0)
		return -errno;
	frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
	s->f_blocks = statfs_blocks(sv.f_blocks, frsize);
	s->f_bfree = statfs_blocks(sv.f_bfree, frsize);
	s->f_bavail = statfs_blocks(sv.f_bavail, frsize);
	s->f_files = statfs_clamp(sv.f_files);
	s->f_ffree = statfs_clamp(sv.f_ffree);
	return 0;
}

int vn_access_intent(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	/* Containers are whole files: there is nothing to fetch or lock ahead. */
	(void)v;
	(void)in;
	(void)out;
	return 0;
}
