/* Loading a seccomp filter whose notifications go to the supervisor. */
#ifndef CODA_FILTER_LOAD_H
#define CODA_FILTER_LOAD_H

#include <seccomp.h>
#include <stdint.h>

/* Sets NO_NEW_PRIVS, builds the rules with build_rules(ctx, flags)
 * (default: allow; calls of another ABI: ENOSYS), loads them on the calling
 * thread and returns the listener fd, or a negative errno (-EBUSY: the
 * thread already has a listener in its filter stack). */
int filter_load(int (*build_rules)(scmp_filter_ctx ctx, unsigned flags), unsigned flags);
/* The same, with every call made from the instruction that returns to
 * allow_ip let through before any rule is looked at (0: none). */
int filter_load_allowing(int (*build_rules)(scmp_filter_ctx ctx, unsigned flags), unsigned flags,
			 uint64_t allow_ip);

#endif
