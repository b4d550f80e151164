/* The upcalls that change names: create, mkdir, symlink, link, remove,
 * rmdir, rename.
 *
 * Each checks what the kernel's namei and may_create/may_delete would check
 * for the caller's uid, in the same order (a name that exists is EEXIST even
 * for a caller who may not write the directory), does the one backing call,
 * and keeps the fid table and the directory generations in step with it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

int name_check(const char *name)
{
	if (!name[0])
		return -ENOENT;
	if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	/* Reserved for the store's temp files, which nobody may see. */
	if (strncmp(name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX)) == 0)
		return -EPERM;
	return 0;
}

/* New objects belong to the caller when venus may give them away (it runs as
 * root); their group is then the directory's if it is set-group-ID, else
 * ours, as the kernel's inode_init_owner does. Otherwise they stay ours. */
static gid_t owner_gid(const struct venus *v, const struct stat *dir)
{
	return (dir->st_mode & S_ISGID) ? dir->st_gid : v->egid;
}

void owner_set(struct venus *v, const char *path, uid_t uid, const struct stat *dir)
{
	if (v->euid != 0)
		return;
	/* Best effort: a volume that refuses chown still has the object. */
	(void)beneath_chown(v, path, uid, owner_gid(v, dir));
}

/* One name in one directory, as an upcall gives them. */
struct dirop {
	struct fid_entry *dir;
	struct stat dst; /* the directory */
	const char *name;
	char *path;	/* of the name, relative to the volume root */
	struct stat st; /* of the object at path, when `exists` */
	bool exists;
};

/* The directory and the name of an upcall that changes a name. */
static int dirop_begin(struct venus *v, const struct coda_msg *in, const struct CodaFid *fid,
		       int name_off, struct dirop *op)
{
	int err;

	memset(op, 0, sizeof(*op));
	err = coda_msg_get_string(in, name_off, NAME_MAX, &op->name);
	if (err)
		return err;
	err = fid_dir(v, fid, &op->dir, &op->dst);
	if (err)
		return err;
	/* "." and ".." by their kernel errors before the general check. */
	err = name_check(op->name);
	if (err)
		return err;
	op->path = fid_path_join(op->dir->path, op->name);
	if (!op->path)
		return -ENOMEM;
	if (strlen(op->path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Whether op's name exists, and its stat. Looked up in the very directory
 * the fid names: what is made in op->path is made there. */
static int dirop_look(struct venus *v, struct dirop *op)
{
	int err = beneath_stat_in(v, op->dir, op->name, &op->st);

	op->exists = !err;
	return err == -ENOENT ? 0 : err;
}

static int dirop_start(struct venus *v, const struct coda_msg *in, const struct CodaFid *fid,
		       int name_off, struct dirop *op)
{
	int err = dirop_begin(v, in, fid, name_off, op);

	return err ? err : dirop_look(v, op);
}

static void dirop_end(struct dirop *op)
{
	free(op->path);
}

/* The directory's listing changed under venus's hands. */
static void dirop_changed(struct dirop *op)
{
	fid_listing_changed(op->dir);
}

/* The checks before a new name: it must not exist, the caller must be able
 * to write and search the directory. */
static int may_create(struct venus *v, uid_t uid, struct dirop *op)
{
	if (op->exists)
		return -EEXIST;
	return access_check(v, uid, &op->dst, C_A_W_OK | C_A_X_OK);
}

/* Enters the object at op->path, whose stat is st, made just now by venus
 * (attr_made) or not; its fid and attributes in fid/va unless fid is NULL. */
static int enter_object(struct venus *v, struct dirop *op, struct stat *st, bool made,
			struct CodaFid *fid, struct coda_vattr *va)
{
	struct fid_entry *e;
	char *path = strdup(op->path);
	int err;

	if (!path)
		return -ENOMEM;
	err = fid_enter(v, st, path, &e);
	if (err)
		return err;
	if (made)
		attr_made(e, st);
	if (fid) {
		*fid = e->fid;
		attr_entry(v, e, st, va);
	}
	return 0;
}

/* The object at op->path, entered as enter_object does. */
static int enter_at_path(struct venus *v, struct dirop *op, bool made, struct CodaFid *fid,
			 struct coda_vattr *va)
{
	struct stat st;
	int err = beneath_stat(v, op->path, &st);

	return err ? err : enter_object(v, op, &st, made, fid, va);
}

/* Gives the new file open at fd its owner (owner_set) and mode; its stat
 * then in *st. Through the fd: one call each, and only where the file does
 * not have them already. */
static int file_made(const struct venus *v, int fd, uid_t uid, const struct stat *dir, mode_t mode,
		     struct stat *st)
{
	gid_t gid = owner_gid(v, dir);
	bool changed = false;

	if (fstat(fd, st) < 0)
		return -errno;
	/* Best effort, as owner_set; the owner first, as a chown clears
	 * set-id bits. */
	if (v->euid == 0 && (st->st_uid != uid || st->st_gid != gid))
		changed = fchown(fd, uid, gid) == 0;
	if ((st->st_mode & 07777) != mode) {
		if (fchmod(fd, mode) < 0)
			return -errno;
		changed = true;
	}
	return changed && fstat(fd, st) < 0 ? -errno : 0;
}

/* open(O_CREAT) of an existing name opens it, unless O_EXCL. */
static int create_existing(struct venus *v, const struct coda_create_in *req, struct dirop *op,
			   struct coda_msg *out)
{
	if (req->excl)
		return -EEXIST;
	if (S_ISDIR(op->st.st_mode))
		return -EISDIR;
	return enter_object(v, op, &op->st, false, &out->out.coda_create.VFid,
			    &out->out.coda_create.attr);
}

/* The name is looked at only when the create cannot be made (may_create's
 * EEXIST comes before its EACCES): a new file costs no stat of its name. */
int vn_create(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_create_in *req = &in->in.coda_create;
	struct dirop op;
	struct stat st;
	int fd, err;

	err = dirop_begin(v, in, &req->VFid, req->name, &op);
	if (err)
		goto out;
	err = access_check(v, in->ih.uid, &op.dst, C_A_W_OK | C_A_X_OK);
	fd = err ? err : beneath_open(v, op.path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		int looked = dirop_look(v, &op);

		err = looked ? looked : op.exists ? create_existing(v, req, &op, out) : fd;
		goto out;
	}
	dirop_changed(&op);
	/* The caller's umask is applied already; ours must not be again. */
	err = file_made(v, fd, in->ih.uid, &op.dst, (mode_t)req->mode & 07777, &st);
	close(fd);
	if (!err)
		err = enter_object(v, &op, &st, true, &out->out.coda_create.VFid,
				   &out->out.coda_create.attr);
	if (err)
		beneath_unlink(v, op.path, 0);
out:
	dirop_end(&op);
	return err;
}

int vn_mkdir(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_mkdir_in *req = &in->in.coda_mkdir;
	mode_t mode = req->attr.va_mode & 07777;
	struct dirop op;
	int err;

	err = dirop_start(v, in, &req->VFid, req->name, &op);
	if (!err)
		err = may_create(v, in->ih.uid, &op);
	if (err)
		goto out;
	err = beneath_mkdir(v, op.path, 0700);
	if (err)
		goto out;
	dirop_changed(&op);
	owner_set(v, op.path, in->ih.uid, &op.dst);
	/* A directory in a set-group-ID directory inherits the bit. */
	if (op.dst.st_mode & S_ISGID)
		mode |= S_ISGID;
	err = beneath_chmod(v, op.path, mode);
	if (!err)
		err = enter_at_path(v, &op, true, &out->out.coda_mkdir.VFid,
				    &out->out.coda_mkdir.attr);
	if (err)
		beneath_unlink(v, op.path, AT_REMOVEDIR);
out:
	dirop_end(&op);
	return err;
}

int vn_symlink(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_symlink_in *req = &in->in.coda_symlink;
	const char *target;
	struct dirop op;
	int err;

	(void)out;
	err = coda_msg_get_string(in, req->srcname, PATH_MAX - 1, &target);
	if (!err)
		err = dirop_start(v, in, &req->VFid, req->tname, &op);
	else
		memset(&op, 0, sizeof(op));
	if (!err)
		err = may_create(v, in->ih.uid, &op);
	if (err)
		goto out;
	err = beneath_symlink(v, target, op.path);
	if (err)
		goto out;
	dirop_changed(&op);
	owner_set(v, op.path, in->ih.uid, &op.dst);
	enter_at_path(v, &op, true, NULL, NULL);
out:
	dirop_end(&op);
	return err;
}

int vn_link(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_link_in *req = &in->in.coda_link;
	struct fid_entry *src;
	struct stat sst;
	struct dirop op;
	int err;

	(void)out;
	memset(&op, 0, sizeof(op));
	err = fid_stat(v, &req->sourceFid, &src, &sst);
	if (err)
		return err;
	err = dirop_start(v, in, &req->destFid, req->tname, &op);
	if (!err)
		err = may_create(v, in->ih.uid, &op);
	if (!err && S_ISDIR(sst.st_mode))
		err = -EPERM; /* no hard links to directories */
	if (err)
		goto out;
	/* EXDEV when the two lie on different backing file systems. */
	err = beneath_link(v, src->path, op.path);
	if (err)
		goto out;
	/* Remembered so that the fid keeps a name when the first one goes
	 * (a temp file linked to its final name, then unlinked: git). */
	if (!fid_x(src)->alt_path && fid_extra(src))
		src->x->alt_path = strdup(op.path);
	dirop_changed(&op);
out:
	dirop_end(&op);
	return err;
}

/* The object at op->path has lost that name. */
static void name_gone(struct venus *v, struct dirop *op)
{
	struct fid_entry *e = fid_by_inode(v, &op->st);
	char *alt;

	if (!e)
		return;
	alt = fid_x(e)->alt_path;
	if (S_ISDIR(op->st.st_mode) || op->st.st_nlink <= 1) {
		fid_drop(v, e);
		return;
	}
	if (alt && strcmp(alt, op->path) == 0) {
		free(alt);
		e->x->alt_path = NULL;
	} else if (e->path && strcmp(e->path, op->path) == 0) {
		/* Other names remain: the one a LINK made, if we have it; else
		 * the fid cannot be reached until a LOOKUP finds one. */
		fid_set_path(e, alt);
		if (alt)
			e->x->alt_path = NULL;
		cml_paths_changed(v);
	}
	fid_extra_trim(e);
}

int vn_remove(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_remove_in *req = &in->in.coda_remove;
	struct dirop op;
	int err;

	(void)out;
	err = dirop_start(v, in, &req->VFid, req->name, &op);
	if (err)
		goto out;
	if (!op.exists)
		err = -ENOENT;
	else if (S_ISDIR(op.st.st_mode))
		err = -EISDIR;
	else
		err = access_may_delete(v, in->ih.uid, &op.dst, &op.st);
	if (err)
		goto out;
	err = beneath_unlink(v, op.path, 0);
	if (err)
		goto out;
	dirop_changed(&op);
	name_gone(v, &op);
out:
	dirop_end(&op);
	return err;
}

/* Store temp files a crash left in a directory that looks empty otherwise:
 * they must not stop its removal. */
static void rmdir_leftovers(struct venus *v, const char *path)
{
	static const char *const prefixes[] = {STORE_TMP_PREFIX, NULL};
	const char *name;
	int at = beneath_at(v, path, &name);

	if (at >= 0)
		tmp_sweep(at, name, prefixes);
}

int vn_rmdir(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_rmdir_in *req = &in->in.coda_rmdir;
	struct dirop op;
	int err;

	(void)out;
	err = dirop_start(v, in, &req->VFid, req->name, &op);
	if (err == -EINVAL && op.name && strcmp(op.name, "..") == 0)
		err = -ENOTEMPTY; /* as the kernel's do_rmdir says it */
	if (err)
		goto out;
	if (!op.exists)
		err = -ENOENT;
	else if (!S_ISDIR(op.st.st_mode))
		err = -ENOTDIR;
	else
		err = access_may_delete(v, in->ih.uid, &op.dst, &op.st);
	if (err)
		goto out;
	err = beneath_unlink(v, op.path, AT_REMOVEDIR);
	if (err == -ENOTEMPTY) {
		rmdir_leftovers(v, op.path);
		err = beneath_unlink(v, op.path, AT_REMOVEDIR);
	}
	if (err)
		goto out;
	dirop_changed(&op);
	name_gone(v, &op);
out:
	dirop_end(&op);
	return err;
}

/* rename(2) on the backing volume, replacing the destination as it does,
 * with the kernel's checks: may_delete in both directories (may_create when
 * the destination is new), and write permission on a directory that moves
 * to another parent, whose ".." changes. */
int vn_rename(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct coda_rename_in *req = &in->in.coda_rename;
	uid_t uid = in->ih.uid;
	struct dirop from, to;
	struct fid_entry *moved;
	int err;

	(void)out;
	memset(&to, 0, sizeof(to));
	err = dirop_start(v, in, &req->sourceFid, req->srcname, &from);
	if (!err)
		err = dirop_start(v, in, &req->destFid, req->destname, &to);
	if (!err && !from.exists)
		err = -ENOENT;
	if (err)
		goto out;
	/* Two names of one inode: rename(2) does nothing and succeeds. */
	if (to.exists && to.st.st_dev == from.st.st_dev && to.st.st_ino == from.st.st_ino)
		goto out;
	err = access_may_delete(v, uid, &from.dst, &from.st);
	if (!err && to.exists)
		err = access_may_delete(v, uid, &to.dst, &to.st);
	else if (!err)
		err = access_check(v, uid, &to.dst, C_A_W_OK | C_A_X_OK);
	if (!err && S_ISDIR(from.st.st_mode) && from.dir != to.dir)
		err = access_check(v, uid, &from.st, C_A_W_OK);
	if (err)
		goto out;
	/* EXDEV, ENOTEMPTY, EISDIR, ENOTDIR and EINVAL (a directory into
	 * itself) come from the backing call, as the kernel gives them. */
	err = beneath_rename(v, from.path, to.path);
	if (err)
		goto out;
	dirop_changed(&from);
	dirop_changed(&to);
	if (to.exists)
		name_gone(v, &to);
	moved = fid_by_inode(v, &from.st);
	if (moved && S_ISDIR(from.st.st_mode))
		fid_listing_changed(moved); /* its ".." is another directory now */
	err = fid_moved(v, from.path, to.path);
	cml_paths_changed(v);
out:
	dirop_end(&from);
	dirop_end(&to);
	return err;
}
