/* Capabilities as masks of bits (1 << CAP_*): what a program started by
 * root keeps of them, and which of those are in effect. */
#ifndef CODA_CAPS_H
#define CODA_CAPS_H

#include <linux/capability.h>
#include <stdint.h>

#define CAPS_BIT(cap) (1ULL << (cap))

/* What making, reading and changing files of any owner takes: chown, and
 * chmod with the set-id bits kept; reading and searching any directory;
 * times and modes of files of any owner. */
#define CAPS_FILES                                                                                 \
	(CAPS_BIT(CAP_CHOWN) | CAPS_BIT(CAP_DAC_OVERRIDE) | CAPS_BIT(CAP_DAC_READ_SEARCH) |        \
	 CAPS_BIT(CAP_FOWNER) | CAPS_BIT(CAP_FSETID))

/* Keeps, of the capabilities we have, those of `permitted`, the ones of
 * `effective` in effect, and gives up every other and the bounding set
 * (libcap-ng). Started with none (by anyone but root), changes nothing.
 * 0 or -errno. */
int caps_keep(uint64_t permitted, uint64_t effective);

/* Our permitted and effective sets. 0 or -errno. */
int caps_get(uint64_t *permitted, uint64_t *effective);

/* Puts `effective`, a part of our permitted set `permitted`, in effect
 * (capset(2), for this thread). 0 or -errno. */
int caps_set_effective(uint64_t permitted, uint64_t effective);

#endif
