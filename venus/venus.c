/* The embedded venus: its life cycle and the dispatch of upcalls.
 *
 * One upcall at a time, one reply each, as venus's worker would give them;
 * nothing that arrives may crash it or stop it serving. How messages travel
 * (the embedded channel, a stock-like device) is the caller's business. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "venus.h"
#include "venus_int.h"

struct vnop {
	vnop_fn fn;
	bool has_fid; /* a CodaFid follows the header (only used for logging) */
	bool mutates; /* EROFS on a read-only volume */
};

/* Everything not listed here gets EOPNOTSUPP. CODA_FSYNC and CODA_STORE do
 * not mutate by themselves: on a read-only volume there is never a write
 * session to store, and fsync(2) of a read-only file succeeds. */
static const struct vnop vnops[CODA_NCALLS] = {
    [CODA_ROOT] = {vn_root, false},
    [CODA_LOOKUP] = {vn_lookup, true},
    [CODA_GETATTR] = {vn_getattr, true},
    [CODA_VGET] = {vn_vget, true},
    [CODA_ACCESS] = {vn_access, true},
    [CODA_OPEN_BY_FD] = {vn_open_by_fd, true},
    [CODA_OPEN_BY_PATH] = {vn_open_by_path, true},
    [CODA_CLOSE] = {vn_close, true},
    [CODA_READLINK] = {vn_readlink, true},
    [CODA_STATFS] = {vn_statfs, false},
    [CODA_ACCESS_INTENT] = {vn_access_intent, true},
    [CODA_CREATE] = {vn_create, true, true},
    [CODA_MKDIR] = {vn_mkdir, true, true},
    [CODA_REMOVE] = {vn_remove, true, true},
    [CODA_RMDIR] = {vn_rmdir, true, true},
    [CODA_RENAME] = {vn_rename, true, true},
    [CODA_LINK] = {vn_link, true, true},
    [CODA_SYMLINK] = {vn_symlink, true, true},
    [CODA_SETATTR] = {vn_setattr, true, true},
    [CODA_STORE] = {vn_store, true},
    [CODA_FSYNC] = {vn_fsync, true},
};

static const struct vnop *vnop_of(uint32_t opcode)
{
	if (opcode >= CODA_NCALLS || !vnops[opcode].fn)
		return NULL;
	return &vnops[opcode];
}

static void log_upcall(struct venus *v, const struct coda_msg *in, int err)
{
	char what[CODA_DESCRIBE_LEN];

	if (!v->cfg->verbose)
		return;
	coda_msg_describe(in, false, what, sizeof(what));
	fprintf(v->cfg->log ? v->cfg->log : stderr, "venus: %s%s -> %d\n",
		coda_opcode_name(in->ih.opcode), what, -err);
}

/* Builds the reply to `in` in `out`; the reply may carry an fd. */
static void dispatch(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	const struct vnop *op = NULL;
	int err;

	beneath_new_upcall(v);
	err = coda_msg_check_upcall(in);
	if (!err) {
		op = vnop_of(in->ih.opcode);
		err = op ? 0 : -EOPNOTSUPP;
	}
	if (!err && op->mutates && v->cfg->read_only)
		err = -EROFS;
	if (!err)
		err = coda_msg_check_upcall_args(in);
	if (!err) {
		coda_msg_reply(out, &in->ih, 0);
		err = op->fn(v, in, out);
	}
	if (err) {
		if (out->fd >= 0)
			close(out->fd);
		coda_msg_reply(out, &in->ih, err);
	}
	log_upcall(v, in, err);
}

static bool is_open(uint32_t opcode)
{
	return opcode == CODA_OPEN_BY_FD || opcode == CODA_OPEN_BY_PATH;
}

static void remember_open(struct venus *v, const struct coda_msg *in, const struct coda_msg *out)
{
	struct recent_open *r = &v->recent_opens[in->ih.unique % RECENT_OPENS];

	if (!is_open(in->ih.opcode) || out->oh.result != 0)
		return;
	r->unique = in->ih.unique;
	r->fid = in->in.coda_open_by_fd.VFid;
	r->flags = in->in.coda_open_by_fd.flags;
}

/* The caller of `unique` gave up (CODA_SIGNAL). We answer every upcall before
 * reading the next, so its reply went out already and was dropped: an open is
 * undone, as stock venus's worker aborts an interrupted open with a close. */
static void undo_interrupted(struct venus *v, uint32_t unique)
{
	struct recent_open *r = &v->recent_opens[unique % RECENT_OPENS];
	struct coda_msg close_in, close_out;
	struct coda_caller nobody = {0, 0, 0};

	if (!unique || r->unique != unique)
		return;
	coda_msg_upcall(&close_in, CODA_CLOSE, &nobody);
	close_in.in.coda_close.VFid = r->fid;
	close_in.in.coda_close.flags = r->flags;
	r->unique = 0;
	close_out.fd = -1;
	dispatch(v, &close_in, &close_out);
}

int venus_serve(struct venus *v, const struct coda_msg *in, struct coda_msg *out)
{
	out->fd = -1;
	out->len = 0;
	if (in->len < sizeof(struct coda_in_hdr)) {
		fprintf(stderr,
			"coda-venus: an upcall of %zu bytes: shorter than a header to reply to: "
			"dropped\n",
			in->len);
		return 0;
	}
	if (in->ih.opcode == CODA_SIGNAL) {
		log_upcall(v, in, 0);
		undo_interrupted(v, in->ih.unique);
		return 0; /* no reply, as to any interrupted upcall */
	}
	dispatch(v, in, out);
	remember_open(v, in, out);
	return 1;
}

bool venus_upcall_fid(const struct coda_msg *in, struct CodaFid *fid)
{
	const struct vnop *op;

	if (in->len < sizeof(struct coda_in_hdr) + sizeof(struct CodaFid))
		return false;
	op = vnop_of(in->ih.opcode);
	if (!op || !op->has_fid)
		return false;
	/* Every upcall with a fid has it first after the header. */
	*fid = in->in.coda_getattr.VFid;
	return true;
}

void venus_destroy(struct venus *v)
{
	if (!v)
		return;
	cml_stop(v);
	if (v->cache_fd >= 0)
		spare_fini(v);
	fid_fini(v);
	access_fini(v);
	if (v->cache_fd >= 0) {
		runs_stop(v);
		close(v->cache_fd);
	}
	free(v->cache_path);
	free(v);
}

int venus_new(const struct venus_config *cfg, struct venus **vp)
{
	struct venus *v = calloc(1, sizeof(*v));
	int err;

	*vp = NULL;
	if (!v) {
		fprintf(stderr, "coda-venus: starting: out of memory\n");
		return -ENOMEM;
	}
	v->cfg = cfg;
	v->pid = getpid();
	v->euid = geteuid();
	v->egid = getegid();
	v->vol_fd = -1;
	v->proc_fd = -1;
	v->cache_fd = -1;
	v->cml_fd = -1;
	err = fid_init(v);
	if (err) {
		fprintf(stderr, "coda-venus: volume %s: %s\n", cfg->volume, strerror(-err));
		venus_destroy(v);
		return err;
	}
	err = container_init(v);
	if (err) {
		fprintf(stderr, "coda-venus: cache %s: %s\n", cfg->cache, strerror(-err));
		venus_destroy(v);
		return err;
	}
	err = cml_start(v);
	if (err) {
		fprintf(stderr, "coda-venus: cache %s: " CML_NAME ": %s\n", cfg->cache,
			strerror(-err));
		venus_destroy(v);
		return err;
	}
	*vp = v;
	return 0;
}
