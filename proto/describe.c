#include <stdio.h>
#include <string.h>

#include "describe.h"
#include "latency.h"

/* Where an upcall keeps the fids and the names it is about: offsets into
 * union inputArgs, 0 for none. */
struct layout {
	size_t fid, name, fid2, name2;
};

#define IN(op, field) offsetof(struct op, field)

static const struct layout upcalls[CODA_NCALLS] = {
    [CODA_GETATTR] = {IN(coda_getattr_in, VFid), 0, 0, 0},
    [CODA_SETATTR] = {IN(coda_setattr_in, VFid), 0, 0, 0},
    [CODA_ACCESS] = {IN(coda_access_in, VFid), 0, 0, 0},
    [CODA_LOOKUP] = {IN(coda_lookup_in, VFid), IN(coda_lookup_in, name), 0, 0},
    [CODA_CREATE] = {IN(coda_create_in, VFid), IN(coda_create_in, name), 0, 0},
    [CODA_REMOVE] = {IN(coda_remove_in, VFid), IN(coda_remove_in, name), 0, 0},
    [CODA_LINK] = {IN(coda_link_in, sourceFid), 0, IN(coda_link_in, destFid),
		   IN(coda_link_in, tname)},
    [CODA_RENAME] = {IN(coda_rename_in, sourceFid), IN(coda_rename_in, srcname),
		     IN(coda_rename_in, destFid), IN(coda_rename_in, destname)},
    [CODA_MKDIR] = {IN(coda_mkdir_in, VFid), IN(coda_mkdir_in, name), 0, 0},
    [CODA_RMDIR] = {IN(coda_rmdir_in, VFid), IN(coda_rmdir_in, name), 0, 0},
    [CODA_SYMLINK] = {IN(coda_symlink_in, VFid), IN(coda_symlink_in, tname), 0, 0},
    [CODA_READLINK] = {IN(coda_readlink_in, VFid), 0, 0, 0},
    [CODA_OPEN] = {IN(coda_open_in, VFid), 0, 0, 0},
    [CODA_OPEN_BY_FD] = {IN(coda_open_by_fd_in, VFid), 0, 0, 0},
    [CODA_OPEN_BY_PATH] = {IN(coda_open_by_path_in, VFid), 0, 0, 0},
    [CODA_CLOSE] = {IN(coda_close_in, VFid), 0, 0, 0},
    [CODA_IOCTL] = {IN(coda_ioctl_in, VFid), 0, 0, 0},
    [CODA_FSYNC] = {IN(coda_fsync_in, VFid), 0, 0, 0},
    [CODA_STORE] = {IN(coda_store_in, VFid), 0, 0, 0},
    [CODA_RELEASE] = {IN(coda_release_in, VFid), 0, 0, 0},
    [CODA_ZAPFILE] = {offsetof(struct coda_zapfile_out, CodaFid), 0, 0, 0},
    [CODA_ZAPDIR] = {offsetof(struct coda_zapdir_out, CodaFid), 0, 0, 0},
    [CODA_PURGEFID] = {offsetof(struct coda_purgefid_out, CodaFid), 0, 0, 0},
    [CODA_REPLACE] = {offsetof(struct coda_replace_out, OldFid), 0,
		      offsetof(struct coda_replace_out, NewFid), 0},
};

void coda_fid_format(const struct CodaFid *fid, char *buf, size_t len)
{
	snprintf(buf, len, "%08x.%08x.%08x.%08x", fid->opaque[0], fid->opaque[1], fid->opaque[2],
		 fid->opaque[3]);
}

/* The fid at off, if it lies wholly inside m. */
static bool fid_at(const struct coda_msg *m, size_t off, struct CodaFid *fid)
{
	if (!off || off + sizeof(*fid) > m->len)
		return false;
	memcpy(fid, m->raw + off, sizeof(*fid));
	return true;
}

/* Appends " key=fid" if the fid at off lies wholly inside m. */
static size_t put_fid(const struct coda_msg *m, size_t off, const char *key, char *buf, size_t len)
{
	struct CodaFid fid;
	char s[CODA_FID_STR_LEN];
	int n;

	if (!fid_at(m, off, &fid))
		return 0;
	coda_fid_format(&fid, s, sizeof(s));
	n = snprintf(buf, len, " %s=%s", key, s);
	return n < 0 ? 0 : (size_t)n;
}

int coda_msg_upcall_fids(const struct coda_msg *m, struct CodaFid fids[2])
{
	const struct layout *l;
	int n = 0;

	if (m->len < sizeof(m->ih) || m->ih.opcode >= CODA_NCALLS || coda_is_downcall(m->ih.opcode))
		return 0;
	l = &upcalls[m->ih.opcode];
	n += fid_at(m, l->fid, &fids[n]);
	n += fid_at(m, l->fid2, &fids[n]);
	return n;
}

bool coda_msg_reply_fid(const struct coda_msg *m, uint32_t opcode, struct CodaFid *fid)
{
	switch (opcode) {
	case CODA_ROOT:
		return fid_at(m, offsetof(struct coda_root_out, VFid), fid);
	case CODA_LOOKUP:
		return fid_at(m, offsetof(struct coda_lookup_out, VFid), fid);
	case CODA_CREATE:
		return fid_at(m, offsetof(struct coda_create_out, VFid), fid);
	case CODA_MKDIR:
		return fid_at(m, offsetof(struct coda_mkdir_out, VFid), fid);
	case CODA_VGET:
		return fid_at(m, offsetof(struct coda_vget_out, VFid), fid);
	}
	return false;
}

/* Appends " key=name" for the name whose offset is stored at off. */
static size_t put_name(const struct coda_msg *m, size_t off, const char *key, char *buf, size_t len)
{
	const char *name;
	int at, n;

	if (!off || off + sizeof(at) > m->len)
		return 0;
	memcpy(&at, m->raw + off, sizeof(at));
	if (coda_msg_get_string(m, at, CODA_MAXNAMLEN, &name) != 0)
		name = "(bad)";
	n = snprintf(buf, len, " %s=%s", key, name);
	return n < 0 ? 0 : (size_t)n;
}

void coda_msg_describe(const struct coda_msg *m, bool downcall, char *buf, size_t len)
{
	uint32_t opcode = downcall ? m->oh.opcode : m->ih.opcode;
	const struct layout *l;
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	if (opcode >= CODA_NCALLS || !len)
		return;
	l = &upcalls[opcode];
	at += put_fid(m, l->fid, "fid", buf + at, len - at);
	if (at < len)
		at += put_name(m, l->name, "name", buf + at, len - at);
	if (at < len)
		at += put_fid(m, l->fid2, downcall ? "new" : "fid2", buf + at, len - at);
	if (at < len)
		put_name(m, l->name2, "name2", buf + at, len - at);
}

/* The opcode as codacon names it, without the CODA_ prefix. */
static const char *short_name(uint32_t opcode)
{
	const char *name = coda_opcode_name(opcode);

	return strncmp(name, "CODA_", 5) ? name : name + 5;
}

void coda_trace_format(const struct coda_msg *m, char *buf, size_t len)
{
	char what[CODA_DESCRIBE_LEN];

	coda_msg_describe(m, false, what, sizeof(what));
	snprintf(buf, len, "upcall %u %s uid=%u pid=%d%s", m->ih.unique, short_name(m->ih.opcode),
		 m->ih.uid, m->ih.pid, what);
}

void coda_trace_answer(FILE *log, const char *who, const char *line, int err, int64_t sent_ns)
{
	const char *name = err ? strerrorname_np(err) : "0";

	fprintf(log, "coda-exec: trace: %s%s%s -> %s (%.1f us)\n", who ? who : "", who ? " " : "",
		line, name ? name : "?", (double)(latency_now_ns() - sent_ns) / 1000.0);
}

void coda_trace_downcall(FILE *log, const char *who, const struct coda_msg *m)
{
	char what[CODA_DESCRIBE_LEN];

	coda_msg_describe(m, true, what, sizeof(what));
	fprintf(log, "coda-exec: trace: %s%sdowncall %s%s\n", who ? who : "", who ? " " : "",
		short_name(m->oh.opcode), what);
}

void coda_trace_signal(FILE *log, const char *who, uint32_t unique)
{
	fprintf(log, "coda-exec: trace: %s%supcall %u SIGNAL (its caller has gone)\n",
		who ? who : "", who ? " " : "", unique);
}
