/* The test venus: the embedded venus's serving behind the device interface
 * of a stock Coda venus, so that hosting an unmodified venus can be tested
 * without the Coda sources. */
#ifndef CODA_TESTVENUS_H
#define CODA_TESTVENUS_H

#include <signal.h>

#include "venus.h"

/* A downcall to write once the reply to upcall number `after` has gone. */
struct tv_downcall {
	unsigned long after;
	uint32_t opcode;
};

#define TV_MAX_DOWNCALLS 32

struct tv {
	const char *device;	/* -k; NULL: /dev/cfs0, then /dev/coda/0 */
	const char *mountpoint; /* -mountpoint */
	struct venus_config cfg;
	struct tv_downcall downcalls[TV_MAX_DOWNCALLS];
	unsigned int ndowncalls;
	int devfd;
	unsigned long upcalls; /* read so far */
	struct venus *venus;
	struct coda_msg in, out;
};

/* Set by the signal handlers (main.c), taken by the loop. */
struct tv_signals {
	volatile sig_atomic_t *mounted;	  /* SIGUSR1: the mount(2) of our grandchild worked */
	volatile sig_atomic_t *flush_req; /* SIGUSR2: write a CODA_FLUSH */
};

/* device.c: start-up as stock venus makes it. 0 or negative errno (logged).
 * The probe (open, CODA_FLUSH, close) comes first: is there a device at all?
 * The open keeps it, after the kernel's protocol version and a CODA_FLUSH. */
int tv_device_probe(struct tv *t);
int tv_device_open(struct tv *t);
int tv_mount(struct tv *t);

/* loop.c: serves the device until SIGTERM or its end. An exit status. */
int tv_loop(struct tv *t, const struct tv_signals *sig);
int tv_downcall_parse(const char *arg, struct tv_downcall *d);

#endif
