#include <errno.h>
#include <limits.h>

#include "msg.h"

struct opcode_info {
	const char *name;
	size_t in_size;
	size_t out_size;
};

#define OP(op, in, out) [op] = {#op, sizeof(struct in), sizeof(struct out)}

/* The fixed sizes of each call, for both directions. */
static const struct opcode_info opcodes[CODA_NCALLS] = {
    OP(CODA_ROOT, coda_root_in, coda_root_out),
    OP(CODA_OPEN_BY_FD, coda_open_by_fd_in, coda_open_by_fd_out),
    OP(CODA_OPEN, coda_open_in, coda_open_out),
    OP(CODA_CLOSE, coda_close_in, coda_close_out),
    OP(CODA_IOCTL, coda_ioctl_in, coda_ioctl_out),
    OP(CODA_GETATTR, coda_getattr_in, coda_getattr_out),
    OP(CODA_SETATTR, coda_setattr_in, coda_setattr_out),
    OP(CODA_ACCESS, coda_access_in, coda_access_out),
    OP(CODA_LOOKUP, coda_lookup_in, coda_lookup_out),
    OP(CODA_CREATE, coda_create_in, coda_create_out),
    OP(CODA_REMOVE, coda_remove_in, coda_remove_out),
    OP(CODA_LINK, coda_link_in, coda_link_out),
    OP(CODA_RENAME, coda_rename_in, coda_rename_out),
    OP(CODA_MKDIR, coda_mkdir_in, coda_mkdir_out),
    OP(CODA_RMDIR, coda_rmdir_in, coda_rmdir_out),
    OP(CODA_SYMLINK, coda_symlink_in, coda_symlink_out),
    OP(CODA_READLINK, coda_readlink_in, coda_readlink_out),
    OP(CODA_FSYNC, coda_fsync_in, coda_fsync_out),
    OP(CODA_VGET, coda_vget_in, coda_vget_out),
    [CODA_SIGNAL] = {"CODA_SIGNAL", sizeof(struct coda_in_hdr), sizeof(struct coda_out_hdr)},
    [CODA_REPLACE] = {"CODA_REPLACE", 0, sizeof(struct coda_replace_out)},
    [CODA_FLUSH] = {"CODA_FLUSH", 0, sizeof(struct coda_out_hdr)},
    [CODA_PURGEUSER] = {"CODA_PURGEUSER", 0, sizeof(struct coda_purgeuser_out)},
    [CODA_ZAPFILE] = {"CODA_ZAPFILE", 0, sizeof(struct coda_zapfile_out)},
    [CODA_ZAPDIR] = {"CODA_ZAPDIR", 0, sizeof(struct coda_zapdir_out)},
    [CODA_PURGEFID] = {"CODA_PURGEFID", 0, sizeof(struct coda_purgefid_out)},
    OP(CODA_OPEN_BY_PATH, coda_open_by_path_in, coda_open_by_path_out),
    OP(CODA_STATFS, coda_statfs_in, coda_statfs_out),
    OP(CODA_STORE, coda_store_in, coda_store_out),
    OP(CODA_RELEASE, coda_release_in, coda_release_out),
    OP(CODA_ACCESS_INTENT, coda_access_intent_in, coda_access_intent_out),
};

static const struct opcode_info *opcode_info(uint32_t opcode)
{
	if (opcode >= CODA_NCALLS || !opcodes[opcode].name)
		return NULL;
	return &opcodes[opcode];
}

size_t coda_upcall_size(uint32_t opcode)
{
	const struct opcode_info *info = opcode_info(opcode);

	return info ? info->in_size : 0;
}

size_t coda_reply_size(uint32_t opcode)
{
	const struct opcode_info *info = opcode_info(opcode);

	return info ? info->out_size : 0;
}

const char *coda_opcode_name(uint32_t opcode)
{
	const struct opcode_info *info = opcode_info(opcode);

	return info ? info->name : "CODA_UNKNOWN";
}

void coda_msg_upcall(struct coda_msg *m, uint32_t opcode, const struct coda_caller *caller)
{
	size_t size = coda_upcall_size(opcode);

	memset(m->raw, 0, size);
	m->len = size;
	m->fd = -1;
	m->ih.opcode = opcode;
	m->ih.pid = caller->pid;
	m->ih.pgid = caller->pgid;
	m->ih.uid = caller->uid;
}

void coda_msg_reply(struct coda_msg *m, const struct coda_in_hdr *req, int error)
{
	/* Read before clearing: req may point into m (a reply built in place). */
	uint32_t opcode = req->opcode, unique = req->unique;
	size_t size = error ? sizeof(struct coda_out_hdr) : coda_reply_size(opcode);

	if (size < sizeof(struct coda_out_hdr))
		size = sizeof(struct coda_out_hdr);
	memset(m->raw, 0, size);
	m->len = size;
	m->fd = -1;
	m->oh.opcode = opcode;
	m->oh.unique = unique;
	m->oh.result = (uint32_t)(error < 0 ? -error : error);
}

int coda_msg_put_data(struct coda_msg *m, caddr_t *field, const void *data, size_t len)
{
	if (len > sizeof(m->raw) - m->len)
		return -E2BIG;
	*field = (caddr_t)(uintptr_t)m->len;
	memcpy(m->raw + m->len, data, len);
	m->len += len;
	return 0;
}

int coda_msg_get_data(const struct coda_msg *m, caddr_t field, size_t len, const char **data)
{
	uintptr_t off = (uintptr_t)field;

	if (off < coda_reply_size(m->oh.opcode) || off > m->len || len > m->len - off)
		return -EIO;
	*data = m->raw + off;
	return 0;
}

int coda_msg_put_string(struct coda_msg *m, int *field, const char *s, size_t len)
{
	if (len + 1 > sizeof(m->raw) - m->len)
		return -ENAMETOOLONG;
	*field = (int)m->len;
	memcpy(m->raw + m->len, s, len);
	m->raw[m->len + len] = '\0';
	m->len += len + 1;
	return 0;
}

static int get_string_after(const struct coda_msg *m, size_t fixed, int off, size_t max,
			    const char **s)
{
	const char *start;
	size_t avail, n;

	if (off < 0 || (size_t)off < fixed || (size_t)off >= m->len)
		return -EINVAL;
	start = m->raw + off;
	avail = m->len - (size_t)off;
	n = strnlen(start, avail < max + 1 ? avail : max + 1);
	if (n == avail)
		return -EINVAL;
	if (n > max)
		return -ENAMETOOLONG;
	*s = start;
	return 0;
}

int coda_msg_get_string(const struct coda_msg *m, int off, size_t max, const char **s)
{
	return get_string_after(m, coda_upcall_size(m->ih.opcode), off, max, s);
}

int coda_msg_get_reply_string(const struct coda_msg *m, int off, size_t max, const char **s)
{
	return get_string_after(m, coda_reply_size(m->oh.opcode), off, max, s);
}

bool coda_is_downcall(uint32_t opcode)
{
	return opcode >= CODA_REPLACE && opcode <= CODA_PURGEFID;
}

bool coda_opcode_interruptible(uint32_t opcode)
{
	return opcode != CODA_CLOSE && opcode != CODA_STORE && opcode != CODA_RELEASE &&
	       opcode != CODA_ACCESS_INTENT;
}

/* A name of a directory entry at offset off: inside the message, ended by a
 * NUL, one component (no '/'). */
static int check_name(const struct coda_msg *m, int off)
{
	const char *name;
	int err = coda_msg_get_string(m, off, CODA_MAXNAMLEN, &name);

	if (!err && strchr(name, '/'))
		err = -EINVAL;
	return err;
}

int coda_msg_check_upcall_args(const struct coda_msg *m)
{
	const union inputArgs *in = &m->in;
	const char *target;
	int err;

	switch (m->ih.opcode) {
	case CODA_LOOKUP:
		return check_name(m, in->coda_lookup.name);
	case CODA_CREATE:
		return check_name(m, in->coda_create.name);
	case CODA_REMOVE:
		return check_name(m, in->coda_remove.name);
	case CODA_MKDIR:
		return check_name(m, in->coda_mkdir.name);
	case CODA_RMDIR:
		return check_name(m, in->coda_rmdir.name);
	case CODA_LINK:
		return check_name(m, in->coda_link.tname);
	case CODA_RENAME:
		err = check_name(m, in->coda_rename.srcname);
		return err ? err : check_name(m, in->coda_rename.destname);
	case CODA_SYMLINK:
		err = coda_msg_get_string(m, in->coda_symlink.srcname, PATH_MAX - 1, &target);
		return err ? err : check_name(m, in->coda_symlink.tname);
	case CODA_IOCTL:
		if (in->coda_ioctl.len == 0)
			return 0; /* no data: where it would be does not matter */
		if (in->coda_ioctl.len < 0 ||
		    (uintptr_t)in->coda_ioctl.data < coda_upcall_size(CODA_IOCTL) ||
		    (uintptr_t)in->coda_ioctl.data > m->len ||
		    (size_t)in->coda_ioctl.len > m->len - (uintptr_t)in->coda_ioctl.data)
			return -EINVAL;
		return 0;
	default:
		return 0;
	}
}

int coda_msg_check_upcall(const struct coda_msg *m)
{
	size_t fixed;

	if (m->len < sizeof(struct coda_in_hdr))
		return -EINVAL;
	fixed = coda_upcall_size(m->ih.opcode);
	if (!fixed)
		return -EOPNOTSUPP;
	if (m->len < fixed)
		return -EINVAL;
	return 0;
}

int coda_msg_check_reply(const struct coda_msg *m, uint32_t opcode)
{
	if (m->len < sizeof(struct coda_out_hdr) || m->oh.opcode != opcode)
		return -EIO;
	if (m->oh.result) {
		/* Venus errors are positive errno values; anything else is garbage. */
		if (m->oh.result > 4095)
			return -EIO;
		return -(int)m->oh.result;
	}
	if (m->len < coda_reply_size(opcode))
		return -EIO;
	return 0;
}
