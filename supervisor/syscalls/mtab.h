/* The mount tables with the Coda mount in them (mtab.c). */
#ifndef CODA_MTAB_H
#define CODA_MTAB_H

#include <stdbool.h>

struct call;

/* An open for reading of a mount table (`name` as the caller gave it, or
 * as it resolved): answers it with a copy that lists the Coda mount too,
 * and returns true; false for any other name, or if the table cannot be
 * read (the kernel then answers). */
bool mtab_open(struct call *c, const char *name, int flags);

#endif
