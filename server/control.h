/* Control messages a client sends the server itself, never relayed: a bare
 * coda_in_hdr with one of these opcodes (outside Coda's), answered with a
 * coda_out_hdr. HELLO: is the server serving? STOP: stop (the server's own
 * uid or root only). */
#ifndef CODA_SERVER_CONTROL_H
#define CODA_SERVER_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/coda.h>

#define CODA_SERVER_HELLO 0x43580001u
#define CODA_SERVER_STOP  0x43580002u

/* HELLO's answer: the header, then venus's pid (0: not known), so that a
 * job can tell a venus that works from one that is stuck by its
 * scheduling, as the Coda module does for a venus of its own (psdev.c):
 * through the server it sees only replies. Then the job's uid as the
 * server knows it (SO_PEERCRED), with the memfd of that uid's table of
 * answers (proto/shtable.h) passed by SCM_RIGHTS, if it has one; then
 * what the server's venus is (CODA_SERVER_*; an older server's answer
 * ends before, and says nothing). */
struct coda_server_hello_out {
	struct coda_out_hdr oh;
	int32_t venus_pid;
	uint32_t uid;
	uint32_t venus_flags;
};

/* Venus never rewrites a container in place (the embedded one): a job may
 * keep readers' containers (supervisor/coda/keep.h). */
#define CODA_SERVER_FIXED_CONTAINERS 0x1u

static inline bool coda_server_control(uint32_t opcode)
{
	return opcode == CODA_SERVER_HELLO || opcode == CODA_SERVER_STOP;
}

#endif
