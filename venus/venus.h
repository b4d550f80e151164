/* The embedded venus: a Coda cache manager serving a local directory as a
 * volume, over the same message channel a hosted Coda venus uses. */
#ifndef CODA_VENUS_H
#define CODA_VENUS_H

#include <stdbool.h>

struct venus_config {
	const char *volume; /* directory served as the volume root */
	const char *cache;  /* directory holding the container files */
	bool verbose;	    /* log each upcall to stderr */
	bool read_only;	    /* every mutating call and every write open: EROFS */
	/* For crash tests only: when set, called at each numbered step of a
	 * store (1: temp file created, 2: half the bytes copied, 3: synced,
	 * before the rename). NULL in coda-exec. */
	void (*store_hook)(int step);
};

/* Serves upcalls read from `chan` until the peer closes it. Returns an exit
 * status: 0 after an orderly end, 1 after a fatal error (reported on stderr). */
int venus_run(int chan, const struct venus_config *cfg);

#endif
