/* The embedded venus: a Coda cache manager serving a local directory as a
 * volume. The serving is here; the transport is the caller's: venus_run()
 * is the embedded channel, tests/testvenus a stock-like device shell. */
#ifndef CODA_VENUS_H
#define CODA_VENUS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "proto/msg.h"

struct venus_config {
	const char *volume; /* directory served as the volume root */
	const char *cache;  /* directory holding the container files */
	bool verbose;	    /* log each upcall to stderr, or to log */
	FILE *log;	    /* where verbose lines go, if not stderr */
	bool read_only;	    /* every mutating call and every write open: EROFS */
	/* A disconnected client, for restart tests (tests/testvenus
	 * -write-disconnected): the last write close keeps the container in
	 * the cache and logs it in the CML (cml.c) instead of storing it; a
	 * venus started without it stores what is logged. false in coda-exec. */
	bool defer_stores;
	/* For crash tests only: when set, called at each numbered step of a
	 * store (1: temp file created, 2: half the bytes copied, 3: synced,
	 * before the rename). NULL in coda-exec. */
	void (*store_hook)(int step);
	/* How many times venus looks at a kept directory's path (a readlink)
	 * before it watches the directories above instead (dir_watch.c); 0:
	 * WATCH_AFTER. Tests set 1, to watch from the first look on. */
	unsigned int watch_after;
};

struct venus;

/* A venus serving cfg->volume, caching in cfg->cache; cfg must outlive it.
 * 0, or a negative errno with the reason already on stderr. */
int venus_new(const struct venus_config *cfg, struct venus **vp);

/* Serves one upcall message as it was received (in->fd is ignored: no
 * upcall hands venus an fd). Returns 1 with the reply in *out, or 0 when no
 * reply is due (CODA_SIGNAL, a message without a whole header). out->fd is
 * our container fd to hand over with the reply, or -1; the caller closes it
 * once the reply has gone, or will never go. */
int venus_serve(struct venus *v, const struct coda_msg *in, struct coda_msg *out);

/* The Coda attributes of an object as stat shows it (its file number from
 * fid), as GETATTR replies carry them. */
void attr_fill(const struct stat *st, const struct CodaFid *fid, struct coda_vattr *va);

/* The fid an upcall is about, if its opcode carries one. */
bool venus_upcall_fid(const struct coda_msg *in, struct CodaFid *fid);

void venus_destroy(struct venus *v);

/* Serves upcalls read from `chan` until the peer closes it. Returns an exit
 * status: 0 after an orderly end, 1 after a fatal error (reported on stderr). */
int venus_run(int chan, const struct venus_config *cfg);

#endif
