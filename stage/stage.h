/* The first stage: what the supervisor and the blob it puts into each image
 * of the command share. The blob starts with a struct stage_head; the
 * supervisor fills in the mount point when it puts it in. Freestanding:
 * included by the blob, which has no libc. */
#ifndef CODA_STAGE_H
#define CODA_STAGE_H

#include <stdint.h>

/* Where the blob is mapped in every image, so that the filter, installed
 * once and inherited, knows its instructions: far from where Linux puts
 * programs (0x55.., 0x40..), their libraries and stacks (0x7f..). */
#define STAGE_ADDR  0x3f0000000000ull
#define STAGE_LEN   0x3000ull		/* the blob's mapping, read and execute */
#define STAGE_DATA  0x3000ull		/* its data page's offset, mapped when first needed */
#define STAGE_MAGIC 0x31454741545343ull /* "CSTAGE1" */
/* Where the direct syscall instruction returns to, in the blob: the filters
 * let through what comes from STAGE_ADDR + this. The linker script puts the
 * instruction there; embed.py checks it did. */
#define STAGE_DIRECT_IP_OFF  0x419
#define STAGE_FORWARD_IP_OFF 0x433
/* SECCOMP_RET_DATA of the stage filter's SIGSYS: a SIGSYS with another
 * value is not ours. */
#define STAGE_TRAP_DATA 0x5c

struct stage_head {
	uint64_t magic;
	/* Offsets in the blob, set at link time. */
	uint64_t handler, restorer;
	uint64_t direct_ip, forward_ip; /* the address just after each syscall */
	/* Filled in by the supervisor, which the calls it makes the stopped
	 * thread run point to: the SIGSYS action (kernel layout) and the
	 * filter (a struct sock_fprog, then the program). */
	uint32_t mount_len;
	char mount[256];
	uint64_t action[4];
	uint64_t fprog[2];
	uint64_t filter[64];
};

/* The stage's data page (STAGE_ADDR + STAGE_DATA), which the stage maps
 * when a program first sets its SIGSYS action: private, so copied at fork
 * and shared by threads, as a process's signal actions are. */
struct stage_data {
	uint64_t sigsys_action[4]; /* the program's own SIGSYS action (kernel layout) */
};

#endif
