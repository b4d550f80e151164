/* CODA_SETATTR: chown, chmod, truncate and utimes of a backing object.
 *
 * The kernel's coda_setattr asks venus without checking anything itself, so
 * the checks of the kernel's setattr_prepare are made here for the caller's
 * uid. A field not being set is all ones, as the kernel's coda_vattr starts.
 * Order: owner first (a chown clears set-id bits), then mode, size, and the
 * times last so that explicit times win over the truncate's. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

static bool is_owner(uid_t uid, const struct stat *st)
{
	return uid == 0 || uid == st->st_uid;
}

/* chown_ok and chgrp_ok: only root gives a file away; its owner may change
 * its group to one of its own groups. */
static int set_owner(struct venus *v, struct fid_entry *e, uid_t caller, const struct stat *st,
		     const struct coda_vattr *va)
{
	uid_t uid = va->va_uid == (vuid_t)-1 ? (uid_t)-1 : va->va_uid;
	gid_t gid = va->va_gid == (vgid_t)-1 ? (gid_t)-1 : va->va_gid;

	if (caller != 0) {
		if (uid != (uid_t)-1 && (caller != st->st_uid || uid != st->st_uid))
			return -EPERM;
		if (gid != (gid_t)-1 && gid != st->st_gid &&
		    (caller != st->st_uid || !access_in_group(v, caller, gid)))
			return -EPERM;
	}
	return beneath_chown(v, e->path, uid, gid);
}

static int set_mode(struct venus *v, struct fid_entry *e, uid_t caller, const struct stat *st,
		    mode_t mode)
{
	if (!is_owner(caller, st))
		return -EPERM;
	if (S_ISLNK(st->st_mode))
		return -EOPNOTSUPP; /* Linux has no mode on a symlink */
	/* Setting set-group-ID on a file of a group one is not in drops it. */
	if (caller != 0 && S_ISREG(st->st_mode) && !access_in_group(v, caller, st->st_gid))
		mode &= ~(mode_t)S_ISGID;
	return beneath_chmod(v, e->path, mode & 07777);
}

/* truncate(2): of the backing file and of an open write session's container,
 * which the session's store would otherwise bring back. */
static int set_size(struct venus *v, struct fid_entry *e, uid_t caller, const struct stat *st,
		    u_quad_t size)
{
	int fd, err;

	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (size > (u_quad_t)INT64_MAX)
		return -EINVAL;
	err = access_check(v, caller, st, C_A_W_OK);
	if (err)
		return err;
	fd = beneath_open(v, e->path, O_WRONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	err = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	close(fd);
	if (!err)
		err = wc_truncate(v, e, (off_t)size);
	return err;
}

static void time_of(const struct coda_timespec *ct, struct timespec *ts)
{
	if (ct->tv_sec == -1) {
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_OMIT;
		return;
	}
	ts->tv_sec = (time_t)ct->tv_sec;
	ts->tv_nsec = (long)ct->tv_nsec; /* UTIME_NOW and UTIME_OMIT pass as given */
}

static bool time_is_now(const struct timespec *ts)
{
	return ts->tv_nsec == UTIME_NOW || ts->tv_nsec == UTIME_OMIT;
}

/* utimes: to the current time for whoever may write the file; to any other
 * time only for its owner. A write session's container takes them too,
 * since its mtime is what the store will give the backing file. */
static int set_times(struct venus *v, struct fid_entry *e, uid_t caller, const struct stat *st,
		     const struct coda_vattr *va)
{
	struct timespec ts[2];
	int err;

	time_of(&va->va_atime, &ts[0]);
	time_of(&va->va_mtime, &ts[1]);
	if (!is_owner(caller, st)) {
		if (!time_is_now(&ts[0]) || !time_is_now(&ts[1]))
			return -EPERM;
		err = access_check(v, caller, st, C_A_W_OK);
		if (err)
			return err;
	}
	err = beneath_utimens(v, e->path, ts);
	if (err)
		return err;
	if (ts[1].tv_nsec == UTIME_NOW) {
		/* The container must carry the very time the backing file got. */
		struct stat now;

		if (beneath_stat(v, e->path, &now) == 0)
			ts[1] = now.st_mtim;
	}
	ts[0].tv_nsec = UTIME_OMIT;
	return wc_utimens(v, e, ts);
}

/* Whether fields after the owner are set: they are checked against the
 * owner the chown left. */
static bool setattr_more(const struct coda_vattr *va)
{
	return va->va_mode != (u_short)-1 || va->va_size != (u_quad_t)-1 ||
	       va->va_atime.tv_sec != -1 || va->va_mtime.tv_sec != -1;
}

int vn_setattr(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_vattr *va = &in->in.coda_setattr.attr;
	uid_t caller = in->ih.uid;
	struct fid_entry *e;
	struct stat st;
	int err;

	(void)out;
	err = fid_stat(v, &in->in.coda_setattr.VFid, &e, &st);
	if (err)
		return err;
	if (va->va_uid != (vuid_t)-1 || va->va_gid != (vgid_t)-1) {
		err = set_owner(v, e, caller, &st, va);
		if (err || !setattr_more(va))
			return err;
		err = beneath_stat(v, e->path, &st);
		if (err)
			return err;
	}
	if (va->va_mode != (u_short)-1) {
		err = set_mode(v, e, caller, &st, va->va_mode);
		if (err)
			return err;
	}
	if (va->va_size != (u_quad_t)-1) {
		err = set_size(v, e, caller, &st, va->va_size);
		if (err)
			return err;
	}
	if (va->va_atime.tv_sec != -1 || va->va_mtime.tv_sec != -1)
		err = set_times(v, e, caller, &st, va);
	return err;
}
