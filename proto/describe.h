/* What a Coda message names, for a line of a log: its fids and names.
 * Both ends use it (venus's -v lines, the supervisor's --trace). Nothing in
 * the message is trusted: a field outside it is left out, a bad name shown
 * as "(bad)". */
#ifndef CODA_DESCRIBE_H
#define CODA_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

/* A fid as venus and the kernel print one: four 32-bit words in hex. */
#define CODA_FID_STR_LEN 40
void coda_fid_format(const struct CodaFid *fid, char *buf, size_t len);

/* Room for the longest description: two fids and two names. */
#define CODA_DESCRIBE_LEN (2 * (CODA_FID_STR_LEN + CODA_MAXNAMLEN + 8))

/* " fid=F name=N ..." for an upcall (the objects and names it is about), or
 * for a downcall from venus; "" for one that names none. */
void coda_msg_describe(const struct coda_msg *m, bool downcall, char *buf, size_t len);

#endif
