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

/* A virtual pioctl file (pioctl.c), looked up by its owner. */
struct tv_pioctl {
	bool used;
	struct CodaFid fid;
	uid_t owner;
	int opens;
};

#define TV_MAX_PIOCTLS 16

struct tv {
	const char *device;	/* -k; NULL: /dev/cfs0, then /dev/coda/0 */
	const char *mountpoint; /* -mountpoint */
	struct venus_config cfg;
	struct tv_downcall downcalls[TV_MAX_DOWNCALLS];
	unsigned int ndowncalls;
	int devfd;
	unsigned long upcalls; /* read so far */
	bool bad_open_fd;      /* -bad-open-fd: open replies name an fd not open */
	bool device_gone;      /* a read has returned 0: we spin, deaf to SIGTERM */
	struct venus *venus;
	struct tv_pioctl pioctls[TV_MAX_PIOCTLS];
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

/* pioctl.c: answers in out an upcall about a virtual pioctl file (true), or
 * leaves it to the venus (false). */
bool tv_pioctl_serve(struct tv *t, const struct coda_msg *in, struct coda_msg *out);

/* loop.c: serves the device until SIGTERM. An exit status. */
int tv_loop(struct tv *t, const struct tv_signals *sig);
int tv_downcall_parse(const char *arg, struct tv_downcall *d);

#endif
