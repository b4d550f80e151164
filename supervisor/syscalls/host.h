/* Host calls done on the target's behalf: when a path walked through /coda
 * comes out on the host, the target's own string would resolve elsewhere,
 * so the supervisor makes the call with the path it resolved. */
#ifndef CODA_HOST_H
#define CODA_HOST_H

#include <sys/types.h>

struct call;

void host_open(struct call *c, const char *path, int flags, mode_t mode);

#endif
