/* The main loop on the device, as stock venus's: wait in select, read one
 * upcall per read(2), write one reply per write(2). A CODA_OPEN_BY_FD reply
 * names our own fd of the container, closed as soon as the write returns:
 * whoever reads the device must take it while the write is in flight. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "testvenus.h"

static const struct {
	const char *name;
	uint32_t opcode;
} downcall_names[] = {
    {"flush", CODA_FLUSH},	 {"zapfile", CODA_ZAPFILE},	{"zapdir", CODA_ZAPDIR},
    {"purgefid", CODA_PURGEFID}, {"purgeuser", CODA_PURGEUSER}, {"replace", CODA_REPLACE},
};

/* "N:OP": after the reply to the Nth upcall read (from 1), downcall OP. */
int tv_downcall_parse(const char *arg, struct tv_downcall *d)
{
	const char *colon = strchr(arg, ':');
	char *end;

	if (!colon)
		return -EINVAL;
	errno = 0;
	d->after = strtoul(arg, &end, 10);
	if (errno || end != colon || end == arg || !d->after)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(downcall_names) / sizeof(downcall_names[0]); i++) {
		if (!strcmp(colon + 1, downcall_names[i].name)) {
			d->opcode = downcall_names[i].opcode;
			return 0;
		}
	}
	return -EINVAL;
}

/* Never open in the test venus (its device is at a low fd, as stock venus's). */
#define BAD_FD 987

static int write_msg(struct tv *t, const struct coda_msg *m)
{
	ssize_t n = write(t->devfd, m->raw, m->len);

	if (n < 0)
		return -errno;
	return (size_t)n == m->len ? 0 : -EIO;
}

/* A downcall about the fid (and caller) of upcall `in`. The kernel's
 * CODA_REPLACE renames a fid; here it names the same fid twice, which the
 * kernel accepts as a no-op rename, enough to exercise the path. */
static int downcall(struct tv *t, uint32_t opcode, const struct coda_msg *in)
{
	struct coda_in_hdr hdr = {.opcode = opcode};
	struct coda_msg d;
	struct CodaFid fid;
	bool has_fid = venus_upcall_fid(in, &fid);

	coda_msg_reply(&d, &hdr, 0);
	switch (opcode) {
	case CODA_FLUSH:
		break;
	case CODA_PURGEUSER:
		d.out.coda_purgeuser.uid = in->ih.uid;
		break;
	case CODA_REPLACE:
		if (!has_fid)
			return -EINVAL;
		d.out.coda_replace.OldFid = fid;
		d.out.coda_replace.NewFid = fid;
		break;
	default: /* ZAPFILE, ZAPDIR, PURGEFID: a fid right after the header */
		if (!has_fid)
			return -EINVAL;
		d.out.coda_zapfile.CodaFid = fid;
		break;
	}
	return write_msg(t, &d);
}

static void downcalls_due(struct tv *t)
{
	for (unsigned int i = 0; i < t->ndowncalls; i++) {
		const struct tv_downcall *d = &t->downcalls[i];
		int err;

		if (d->after != t->upcalls)
			continue;
		err = downcall(t, d->opcode, &t->in);
		fprintf(stderr, "testvenus: %s after upcall %lu: %s\n", coda_opcode_name(d->opcode),
			d->after,
			err == -EINVAL ? "not sent, that upcall has no fid"
			: err	       ? strerror(-err)
				       : "sent");
	}
}

/* A device that has gone away reads 0 bytes. Stock venus's ReadUpcallMsg
 * logs "Failed to read upcall" and returns, and its select finds the device
 * readable again: it spins, and its SIGTERM handler, which logs too, then
 * hangs on the log's lock. So we keep reading, deaf to SIGTERM from then
 * on (logged once: stock venus logs each time). */
static int device_gone(struct tv *t)
{
	struct sigaction ignore = {.sa_handler = SIG_IGN};

	if (t->device_gone)
		return 0;
	t->device_gone = true;
	fprintf(stderr, "testvenus: Failed to read upcall: end of %s\n", t->device);
	return sigaction(SIGTERM, &ignore, NULL) < 0 ? -errno : 0;
}

/* One read, one reply. Only a failed read is an error: a reply that cannot
 * be written is logged, and the next read tells whether the reader is gone. */
static int serve_one(struct tv *t)
{
	ssize_t n = read(t->devfd, t->in.raw, CODA_MSG_MAX);
	int err;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return device_gone(t);
	t->in.len = (size_t)n;
	t->in.fd = -1;
	t->upcalls++;
	if (t->cfg.verbose && t->in.len >= sizeof(struct coda_in_hdr))
		fprintf(stderr, "testvenus: upcall %lu: %s uid=%u\n", t->upcalls,
			coda_opcode_name(t->in.ih.opcode), t->in.ih.uid);
	else if (t->cfg.verbose)
		fprintf(stderr, "testvenus: upcall %lu: (no header)\n", t->upcalls);
	if (tv_pioctl_serve(t, &t->in, &t->out) || venus_serve(t->venus, &t->in, &t->out)) {
		if (t->bad_open_fd && t->out.oh.opcode == CODA_OPEN_BY_FD && !t->out.oh.result)
			t->out.out.coda_open_by_fd.fd = BAD_FD;
		/* Stock venus answers a LOOKUP as the kernel asks, without the
		 * embedded venus's attributes (proto/coda_wire.h). */
		if (t->out.oh.opcode == CODA_LOOKUP && t->out.len > sizeof(struct coda_lookup_out))
			t->out.len = sizeof(struct coda_lookup_out);
		err = write_msg(t, &t->out);
		if (t->out.fd >= 0 && close(t->out.fd) < 0)
			fprintf(stderr, "testvenus: close container: %s\n", strerror(errno));
		t->out.fd = -1;
		if (err)
			fprintf(stderr, "testvenus: write of the %s reply: %s\n",
				coda_opcode_name(t->in.ih.opcode), strerror(-err));
	}
	downcalls_due(t);
	return 0;
}

static void take_signals(struct tv *t, const struct tv_signals *sig)
{
	int err;

	if (*sig->mounted) {
		*sig->mounted = 0;
		if (t->cfg.verbose)
			fprintf(stderr, "testvenus: mounted at %s\n", t->mountpoint);
	}
	if (*sig->flush_req) {
		*sig->flush_req = 0;
		err = downcall(t, CODA_FLUSH, &t->in);
		fprintf(stderr, "testvenus: CODA_FLUSH on SIGUSR2: %s\n",
			err ? strerror(-err) : "sent");
	}
}

int tv_loop(struct tv *t, const struct tv_signals *sig)
{
	sigset_t open_mask;

	/* Signals are taken only inside pselect, so none lands mid-reply. */
	if (sigprocmask(SIG_SETMASK, NULL, &open_mask) < 0) {
		fprintf(stderr, "testvenus: sigprocmask: %s\n", strerror(errno));
		return 1;
	}
	sigdelset(&open_mask, SIGUSR1);
	sigdelset(&open_mask, SIGUSR2);
	for (;;) {
		fd_set rd;
		int err;

		FD_ZERO(&rd);
		FD_SET(t->devfd, &rd);
		if (pselect(t->devfd + 1, &rd, NULL, NULL, NULL, &open_mask) < 0) {
			if (errno != EINTR) {
				fprintf(stderr, "testvenus: select: %s\n", strerror(errno));
				return 1;
			}
			take_signals(t, sig);
			continue;
		}
		err = serve_one(t);
		if (err) {
			fprintf(stderr, "testvenus: read of %s: %s\n", t->device, strerror(-err));
			return 1;
		}
	}
}
