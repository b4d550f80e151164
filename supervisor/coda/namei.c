/* The path walk, as fs/namei.c walks a path for the kernel: component by
 * component from where the caller starts, through the mount point in
 * either direction, following symlinks inside the volume. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "coda.h"

#define MAX_SYMLINKS 40 /* as the kernel's MAXSYMLINKS */

struct walk {
	struct coda_req *r;
	int flags;
	bool in_coda;
	bool touched; /* passed through the mount: the target's string is no use */
	bool missing;
	bool named;    /* the last step was a name (not "." or ".."): parent and last are set */
	int dots;      /* the last step was "." (1) or ".." (2) */
	bool trailing; /* a "/" followed the last name */
	bool host_dir; /* the host path ended in "/" or "."; must be a directory */
	bool unasked;  /* the last name: missing unasked (LOOKUP_EXCL) */
	int links;
	struct CodaFid fid;
	struct CodaFid parent;
	int vtype;
	size_t len;
	char *path; /* the result's absolute path, built in place (nd->path) */
	char last[CODA_MAXNAMLEN + 1];
	const char *rest;	   /* what is left to walk: the caller's name, or spliced */
	int spliced_last;	   /* which of spliced holds rest (after a symlink) */
	char spliced[2][PATH_MAX]; /* a symlink's target before the rest */
};

static bool is_dot(const char *s, size_t len)
{
	return len == 1 && s[0] == '.';
}

static bool is_dotdot(const char *s, size_t len)
{
	return len == 2 && s[0] == '.' && s[1] == '.';
}

static const char *mount_point(const struct walk *w, size_t *len)
{
	*len = w->r->sb->mnt_len;
	return w->r->sb->mnt;
}

bool coda_path_in_mount(const struct coda_sb *sb, const char *path)
{
	return strncmp(path, sb->mnt, sb->mnt_len) == 0 &&
	       (path[sb->mnt_len] == '\0' || path[sb->mnt_len] == '/');
}

/* Could this path, walked from some host directory, be the mount point or
 * below it? Only through ".." or a name that is a component of the mount
 * point; anything else the kernel can resolve as it stands. */
bool coda_may_reach_mount(const struct coda_sb *sb, const char *name)
{
	const char *m = sb->mnt;
	const char *p = name;

	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);

		if (is_dotdot(p, len))
			return true;
		p = *end ? end + 1 : end;
	}
	while (name[0] == '.' && name[1] == '/') /* "./coda" is "coda" */
		name += strspn(name + 1, "/") + 1;
	for (const char *q = m + 1; *q;) {
		const char *end = strchrnul(q, '/');
		size_t len = (size_t)(end - q);
		size_t nlen = strcspn(name, "/");

		if (len == nlen && memcmp(q, name, len) == 0)
			return true;
		q = *end ? end + 1 : end;
	}
	return false;
}

static bool has_dotdot(const char *p)
{
	while (*p) {
		size_t len = strcspn(p, "/");

		if (is_dotdot(p, len))
			return true;
		p += len;
		while (*p == '/')
			p++;
	}
	return false;
}

/* Every walk sets its path at least once: a copy, not a printf. */
static void path_set(struct walk *w, const char *path)
{
	size_t len = strlen(path);

	if (len >= CODA_PATH_MAX)
		len = CODA_PATH_MAX - 1;
	memcpy(w->path, path, len);
	w->path[len] = '\0';
	w->len = len;
}

static int path_push(struct walk *w, const char *name, size_t len)
{
	size_t sep = w->len > 1 ? 1 : 0;

	if (w->len + sep + len >= CODA_PATH_MAX)
		return -ENAMETOOLONG;
	if (sep)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, len);
	w->len += len;
	w->path[w->len] = '\0';
	return 0;
}

static void path_pop(struct walk *w)
{
	while (w->len > 1 && w->path[w->len - 1] != '/')
		w->len--;
	if (w->len > 1)
		w->len--;
	w->path[w->len] = '\0';
}

/* Is the host path walked so far the mount point or one of its ancestors? */
static bool on_way_to_mount(const struct walk *w)
{
	size_t mlen;
	const char *m = mount_point(w, &mlen);

	if (w->len == 1)
		return true;
	return strncmp(m, w->path, w->len) == 0 && (m[w->len] == '/' || m[w->len] == '\0');
}

static int enter_root(struct walk *w)
{
	size_t mlen;
	int rc = coda_root(w->r, &w->fid);

	if (rc < 0)
		return rc;
	path_set(w, mount_point(w, &mlen));
	w->in_coda = true;
	w->touched = true;
	w->vtype = C_VDIR;
	return 0;
}

/* The fid of the canonical path in w->path, walked from the root (every step
 * normally a name cache hit). Used for "..", since we keep no parent links. */
static int walk_canonical(struct walk *w)
{
	char target[CODA_PATH_MAX];
	size_t mlen;
	const char *p;
	int rc;

	mount_point(w, &mlen);
	memcpy(target, w->path, w->len + 1);
	rc = enter_root(w);
	for (p = target + mlen; !rc && *p;) {
		struct CodaFid next; /* not &w->fid: lookup caches the answer under *dir */
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		rc = coda_lookup(w->r, &w->fid, p, len, &next, &w->vtype);
		if (!rc)
			w->fid = next;
		if (!rc && w->vtype != C_VDIR)
			rc = -ENOENT; /* renamed under us: the kernel says ENOENT */
		if (!rc)
			rc = path_push(w, p, len);
		p += len;
	}
	return rc;
}

static int host_step(struct walk *w, const char *name, size_t len)
{
	size_t mlen;
	int rc = 0;

	if (is_dot(name, len))
		return 0;
	if (is_dotdot(name, len)) {
		path_pop(w);
		return 0;
	}
	rc = path_push(w, name, len);
	if (!rc && w->len == w->r->sb->mnt_len && !strcmp(w->path, mount_point(w, &mlen)))
		rc = enter_root(w);
	return rc;
}

/* Puts the symlink target in front of what is left of the path. */
static int splice_link(struct walk *w, const char *target, size_t tlen, const char *rest,
		       bool trailing)
{
	/* rest may be in the buffer spliced last: the other one takes both. */
	char *to = w->spliced[w->spliced_last ^= 1];
	int n = snprintf(to, PATH_MAX, "%.*s%s%s", (int)tlen, target,
			 *rest ? "/" : (trailing ? "/" : ""), rest);

	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	w->rest = to;
	if (target[0] == '/') {
		w->in_coda = false;
		path_set(w, "/");
	}
	return 0;
}

static int follow_link(struct walk *w, const struct CodaFid *fid, const char *rest, bool trailing)
{
	char target[PATH_MAX];
	ssize_t n;

	if (w->flags & LOOKUP_NO_SYMLINKS)
		return -ELOOP;
	if (++w->links > MAX_SYMLINKS)
		return -ELOOP;
	n = coda_get_link(w->r, fid, target, sizeof(target) - 1);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENOENT;
	return splice_link(w, target, (size_t)n, rest, trailing);
}

static int leave_mount(struct walk *w)
{
	size_t mlen;

	path_set(w, mount_point(w, &mlen));
	path_pop(w);
	w->in_coda = false;
	return 0;
}

/* One step inside the volume. Returns 1 when the walk restarted on a
 * symlink's target (w->rest replaced), 0 to go on, or -errno. */
static int coda_step(struct walk *w, const char *name, size_t len, const char *rest, bool last,
		     bool trailing)
{
	struct CodaFid fid;
	int vtype, rc;

	if (w->vtype != C_VDIR)
		return -ENOTDIR;
	rc = coda_permission(w->r, &w->fid, C_A_X_OK);
	if (rc < 0)
		return rc;
	w->named = w->trailing = false;
	w->dots = !last ? 0 : is_dot(name, len) ? 1 : is_dotdot(name, len) ? 2 : 0;
	if (is_dot(name, len))
		return 0;
	if (is_dotdot(name, len)) {
		if (coda_path_in_mount(w->r->sb, w->path) && w->len == w->r->sb->mnt_len)
			return leave_mount(w);
		path_pop(w);
		return walk_canonical(w);
	}
	if (len > CODA_MAXNAMLEN)
		return -ENAMETOOLONG;
	/* open_last_lookups(): O_CREAT of "name/" is refused before the lookup */
	if (last && trailing && (w->flags & LOOKUP_CREATE))
		return -EISDIR;
	if (last && (w->flags & LOOKUP_EXCL))
		rc = coda_lookup_excl(w->r, &w->fid, name, len, &fid, &vtype, &w->unasked);
	else
		rc = coda_lookup(w->r, &w->fid, name, len, &fid, &vtype);
	if (last) {
		/* Calls that change the namespace need the parent and the name. */
		w->named = true;
		w->trailing = trailing;
		w->parent = w->fid;
		memcpy(w->last, name, len);
		w->last[len] = '\0';
	}
	if (rc == -ENOENT && last) {
		w->missing = true;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (last && (w->flags & LOOKUP_NAME))
		trailing = false; /* the name itself, whatever it is */
	if (vtype == C_VLNK && (!last || trailing || (w->flags & LOOKUP_FOLLOW))) {
		rc = follow_link(w, &fid, rest, trailing);
		return rc < 0 ? rc : 1;
	}
	rc = path_push(w, name, len);
	if (rc < 0)
		return rc;
	w->fid = fid;
	w->vtype = vtype;
	if (last && trailing && vtype != C_VDIR)
		return -ENOTDIR;
	return 0;
}

/* Walks w->rest. Returns NAMEI_* or -errno. */
static int walk_rest(struct walk *w)
{
	const char *p = w->rest;

	for (;;) {
		const char *name;
		size_t len;
		bool trailing, last;
		int rc;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		len = strcspn(p, "/");
		p += len;
		trailing = *p == '/';
		while (*p == '/')
			p++;
		last = *p == '\0';
		if (!w->in_coda) {
			/* "x/" and "x/." must be directories, wherever x is. */
			w->host_dir =
			    last && (trailing || is_dot(name, len) || is_dotdot(name, len));
			rc = host_step(w, name, len);
			if (rc < 0)
				return rc;
			if (!w->in_coda && !w->touched && !on_way_to_mount(w) && !has_dotdot(p))
				return NAMEI_CONTINUE;
			continue;
		}
		if (w->missing)
			return -ENOENT;
		rc = coda_step(w, name, len, p, last, trailing);
		if (rc < 0)
			return rc;
		if (rc == 1)
			p = w->rest;
	}
	if (!w->in_coda)
		return w->touched ? NAMEI_HOST : NAMEI_CONTINUE;
	return NAMEI_CODA;
}

static void start_coda(struct walk *w, const char *path, const struct CodaFid *fid, int vtype)
{
	path_set(w, path);
	w->in_coda = true;
	w->touched = true;
	w->fid = *fid;
	w->vtype = vtype;
}

static void start(struct walk *w, const struct walk_start *from)
{
	switch (from->from) {
	case WALK_ROOT:
		path_set(w, "/");
		break;
	case WALK_EMULATED:
		w->touched = true;
		/* fall through */
	case WALK_HOST:
		path_set(w, from->path);
		break;
	case WALK_CODA:
		start_coda(w, from->path, &from->fid, from->vtype);
		break;
	}
}

static int finish(struct walk *w, int kind, struct nameidata *nd)
{
	if (kind < 0)
		return kind;
	nd->kind = (enum namei_kind)kind;
	nd->host_dir = kind == NAMEI_HOST && w->host_dir;
	nd->missing = w->missing;
	nd->fid = w->fid;
	nd->vtype = w->vtype;
	memcpy(nd->last, w->last, sizeof(nd->last));
	nd->named = w->named;
	nd->dots = w->dots;
	nd->trailing = w->trailing;
	nd->unasked = w->missing && w->unasked;
	nd->parent = w->parent;
	if (kind == NAMEI_CODA && !w->missing && (w->flags & LOOKUP_DIRECTORY) &&
	    w->vtype != C_VDIR)
		return -ENOTDIR;
	return 0;
}

int coda_walk(struct coda_req *r, const struct walk_start *from, const char *name, int flags,
	      struct nameidata *nd)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w) - sizeof(w.spliced));
	memset(nd, 0, offsetof(struct nameidata, path));
	nd->path[0] = '\0';
	w.r = r;
	w.flags = flags;
	w.path = nd->path;
	w.rest = name;
	start(&w, from);
	rc = walk_rest(&w);
	if (rc == NAMEI_CONTINUE && w.touched)
		rc = NAMEI_HOST;
	rc = finish(&w, rc, nd);
	if (!rc && nd->kind == NAMEI_CONTINUE)
		snprintf(nd->path, sizeof(nd->path), "%s", name);
	return rc;
}

/* What rmdir and unlink say of a path ending in "." or "..", or of the
 * volume root, which have no entry of their own to remove. */
static int unnamed_remove_error(const struct nameidata *nd, bool dir)
{
	if (!dir)
		return nd->vtype == C_VDIR ? -EISDIR : -ENOENT;
	if (nd->dots == 1)
		return -EINVAL;
	return nd->dots == 2 ? -ENOTEMPTY : -EBUSY;
}

int coda_may_remove(const struct nameidata *nd, bool dir)
{
	if (nd->missing)
		return -ENOENT;
	if (!nd->named)
		return unnamed_remove_error(nd, dir);
	if (dir && nd->vtype != C_VDIR)
		return -ENOTDIR;
	if (!dir && nd->vtype == C_VDIR)
		return -EISDIR;
	/* unlink("name/") of what is not a directory: do_unlinkat's "slashes" */
	return !dir && nd->trailing ? -ENOTDIR : 0;
}

int coda_may_open(struct coda_req *r, const struct nameidata *nd, int flags)
{
	bool writing = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	int mask = 0;

	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (nd->vtype == C_VLNK && !(flags & O_PATH))
		return -ELOOP;
	if (nd->vtype == C_VDIR && (writing || (flags & O_CREAT)))
		return -EISDIR;
	if (flags & O_PATH)
		return 0;
	if ((flags & O_ACCMODE) != O_WRONLY)
		mask |= C_A_R_OK;
	if (writing)
		mask |= C_A_W_OK;
	return coda_permission(r, &nd->fid, mask);
}

static bool is_below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

/* do_renameat2()'s checks, in its order, then vfs_rename()'s. */
int coda_may_rename(const struct nameidata *a, const struct nameidata *b, unsigned flags)
{
	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT: see README */
	if (!a->named)
		return -EBUSY;
	if (!b->named)
		return flags & RENAME_NOREPLACE ? -EEXIST : -EBUSY;
	if (a->missing)
		return -ENOENT;
	if (!b->missing && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (a->vtype != C_VDIR && (a->trailing || b->trailing))
		return -ENOTDIR;
	if (a->vtype == C_VDIR && is_below(b->path, a->path))
		return -EINVAL; /* into itself */
	if (!b->missing && is_below(a->path, b->path))
		return -ENOTEMPTY; /* over an ancestor of itself */
	if (!b->missing && a->vtype == C_VDIR && b->vtype != C_VDIR)
		return -ENOTDIR;
	if (!b->missing && a->vtype != C_VDIR && b->vtype == C_VDIR)
		return -EISDIR;
	return 0;
}

int coda_open_lookup_flags(int flags)
{
	int lf = 0;

	if (!(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL)))
		lf |= LOOKUP_FOLLOW;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		lf |= LOOKUP_EXCL;
	if (flags & O_DIRECTORY)
		lf |= LOOKUP_DIRECTORY;
	if (flags & O_CREAT)
		lf |= LOOKUP_CREATE;
	return lf;
}
