/* Stock venus's virtual pioctl files, through which cfs, clog and ctokens
 * talk to it: a tool looks up "...PIOCTL.<hex>" (venus makes the object on
 * that lookup), writes its request into it, closes it, and opens it again to
 * read the answer, which venus makes at that open; the last close of the
 * reading open drops the object. Only the user who looked it up may use it.
 *
 * The request, as the tools' pioctl() writes it: "CMD\nPATHLEN\nFOLLOW\n
 * INSIZE\nOUTSIZE\n", a NUL, the path, the in-data. The answer: "CODE\nSIZE\n",
 * a NUL, SIZE bytes of out-data. The test venus knows one command, TV_ECHO,
 * whose out-data is "uid U: PATH: IN"; any other gets EINVAL. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testvenus.h"

#define PIOCTL_PREFIX "...PIOCTL."
#define TV_ECHO	      1
#define MAX_REQUEST   8192

/* Virtual fids: a volume of their own, unlike any fid of the volume's. */
#define PIOCTL_VOLUME 0x7ffffffaU

static bool is_pioctl_fid(const struct CodaFid *fid)
{
	return fid->opaque[0] == PIOCTL_VOLUME;
}

static struct tv_pioctl *find(struct tv *t, const struct CodaFid *fid)
{
	for (int i = 0; i < TV_MAX_PIOCTLS; i++)
		if (t->pioctls[i].used && coda_fid_eq(&t->pioctls[i].fid, fid))
			return &t->pioctls[i];
	return NULL;
}

static void container_path(const struct tv *t, const struct tv_pioctl *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pioctl.%08x", t->cfg.cache, p->fid.opaque[3]);
}

static int lookup(struct tv *t, const struct coda_msg *in, const char *name, struct coda_msg *out)
{
	struct CodaFid fid = {{PIOCTL_VOLUME, 0, 0xfffffffa, 0}};
	struct tv_pioctl *p;

	fid.opaque[3] = (uint32_t)strtoul(name + strlen(PIOCTL_PREFIX), NULL, 16);
	p = find(t, &fid);
	for (int i = 0; !p && i < TV_MAX_PIOCTLS; i++) {
		if (!t->pioctls[i].used) {
			p = &t->pioctls[i];
			*p = (struct tv_pioctl){.used = true, .fid = fid, .owner = in->ih.uid};
		}
	}
	if (!p)
		return -ENFILE;
	if (p->owner != in->ih.uid)
		return -EACCES;
	out->out.coda_lookup.VFid = fid;
	out->out.coda_lookup.vtype = C_VREG;
	return 0;
}

static int getattr(struct tv *t, struct tv_pioctl *p, struct coda_msg *out)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	container_path(t, p, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	st.st_uid = p->owner;
	st.st_mode = S_IFREG | 0600;
	attr_fill(&st, &p->fid, &out->out.coda_getattr.attr);
	return 0;
}

/* The request in the container, as far as it goes: cmd, path and in-data. */
static int read_request(const char *buf, size_t len, unsigned *cmd, const char **path,
			unsigned *plen, const char **data, unsigned *dlen)
{
	unsigned follow, out_size;
	int head = 0;

	if (sscanf(buf, "%u\n%u\n%u\n%u\n%u\n%n", cmd, plen, &follow, dlen, &out_size, &head) !=
		5 ||
	    !head || (size_t)head + 1 + *plen + *dlen > len)
		return -EINVAL;
	*path = buf + head + 1;
	*data = *path + *plen;
	return 0;
}

/* Runs the request written into the container and puts the answer there. */
static int answer(struct tv *t, struct tv_pioctl *p)
{
	char path[PATH_MAX], req[MAX_REQUEST + 1], out[MAX_REQUEST + 64], head[64];
	const char *rpath, *data;
	unsigned cmd, plen, dlen;
	int fd, n, code = 0, hlen;
	ssize_t len;

	container_path(t, p, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = pread(fd, req, MAX_REQUEST, 0);
	req[len < 0 ? 0 : len] = '\0';
	if (len < 0 || read_request(req, (size_t)len, &cmd, &rpath, &plen, &data, &dlen) < 0)
		code = EINVAL;
	else if (cmd != TV_ECHO)
		code = EINVAL;
	n = code ? 0
		 : snprintf(out, sizeof(out), "uid %u: %.*s: %.*s", p->owner, (int)plen, rpath,
			    (int)dlen, data);
	hlen = snprintf(head, sizeof(head), "%d\n%d\n%c", code, n, '\0');
	if (ftruncate(fd, 0) < 0 || pwrite(fd, head, (size_t)hlen, 0) != hlen ||
	    pwrite(fd, out, (size_t)n, hlen) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* A container of the object for the open, as stock venus's: the request is
 * written into it, and a reading open finds the answer there. */
static int open_container(struct tv *t, struct tv_pioctl *p, int cflags, int *fdp)
{
	char path[PATH_MAX];
	int err = 0;

	container_path(t, p, path, sizeof(path));
	if (!(cflags & C_O_WRITE))
		err = answer(t, p);
	if (err)
		return err;
	*fdp = open(path,
		    (cflags & C_O_WRITE ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC |
			(cflags & C_O_TRUNC ? O_TRUNC : 0),
		    0600);
	if (*fdp < 0)
		return -errno;
	p->opens++;
	return 0;
}

static int open_by_path(struct tv *t, struct tv_pioctl *p, const struct coda_msg *in,
			struct coda_msg *out)
{
	char path[PATH_MAX];
	int fd, err = open_container(t, p, in->in.coda_open_by_path.flags, &fd);

	if (err)
		return err;
	close(fd); /* the caller opens the path itself */
	container_path(t, p, path, sizeof(path));
	return coda_msg_put_string(out, &out->out.coda_open_by_path.path, path, strlen(path));
}

/* The last close of a reading open drops the object, as stock venus's
 * fsobj::Release kills a pioctl file. */
static int close_object(struct tv *t, struct tv_pioctl *p, int cflags)
{
	char path[PATH_MAX];

	if (p->opens > 0)
		p->opens--;
	if ((cflags & C_O_WRITE) || p->opens)
		return 0;
	container_path(t, p, path, sizeof(path));
	unlink(path);
	p->used = false;
	return 0;
}

static int serve_object(struct tv *t, struct tv_pioctl *p, const struct coda_msg *in,
			struct coda_msg *out)
{
	int fd, err;

	switch (in->ih.opcode) {
	case CODA_GETATTR:
		return getattr(t, p, out);
	case CODA_ACCESS:
		return in->ih.uid == p->owner ? 0 : -EACCES;
	case CODA_OPEN_BY_FD:
		err = open_container(t, p, in->in.coda_open_by_fd.flags, &fd);
		if (!err) {
			out->out.coda_open_by_fd.fd = fd;
			out->fd = fd;
		}
		return err;
	case CODA_OPEN_BY_PATH:
		return open_by_path(t, p, in, out);
	case CODA_CLOSE:
		return close_object(t, p, in->in.coda_close.flags);
	case CODA_STORE:
	case CODA_FSYNC:
	case CODA_SETATTR:
		return 0; /* the container is the object: nothing to store */
	default:
		return -EOPNOTSUPP;
	}
}

bool tv_pioctl_serve(struct tv *t, const struct coda_msg *in, struct coda_msg *out)
{
	struct CodaFid fid;
	const char *name;
	struct tv_pioctl *p;
	int err;

	out->fd = -1;
	if (in->len < sizeof(struct coda_in_hdr) || coda_msg_check_upcall(in) < 0)
		return false;
	coda_msg_reply(out, &in->ih, 0);
	if (in->ih.opcode == CODA_LOOKUP &&
	    coda_msg_get_string(in, in->in.coda_lookup.name, CODA_MAXNAMLEN, &name) == 0 &&
	    !strncmp(name, PIOCTL_PREFIX, strlen(PIOCTL_PREFIX)))
		err = lookup(t, in, name, out);
	else if (venus_upcall_fid(in, &fid) && is_pioctl_fid(&fid))
		err = (p = find(t, &fid)) ? serve_object(t, p, in, out) : -ENOENT;
	else
		return false;
	if (err) {
		if (out->fd >= 0)
			close(out->fd);
		coda_msg_reply(out, &in->ih, err);
		out->fd = -1;
	}
	return true;
}
