/* uthash built with HASH_NONFATAL_OOM (meson.build): an add that cannot
 * allocate leaves the element out instead of exiting the program, and
 * says so by clearing the element's table. Shared by every part. */
#ifndef CODA_PROTO_HASH_H
#define CODA_PROTO_HASH_H

#include <uthash.h>

/* Whether the HASH_ADD of elt through its handle hh just made it in. */
#define HASH_ADDED(hh, elt) ((elt)->hh.tbl != NULL)

#endif
