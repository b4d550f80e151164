/* Conversions used inside the module (the others are in coda.h). */
#ifndef CODA_CODA_LINUX_H
#define CODA_CODA_LINUX_H

/* The Coda open flags of an open(2), as the kernel's coda_flags_to_cflags. */
int coda_flags_to_cflags(int flags);

#endif
