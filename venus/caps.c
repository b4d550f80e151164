/* What the embedded venus keeps of root's capabilities: started by root, it
 * serves a volume of any owner, so it keeps what reading, creating and
 * changing any file there takes (the access checks are its own, by each
 * caller's uid), and gives up the rest, the bounding set with it: venus
 * runs no program. Started by anyone else, it has nothing to give up. */
#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>

#include "venus.h"

int venus_keep_caps(void)
{
	if (capng_get_caps_process() < 0)
		return -EPERM;
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
		return 0;
	capng_clear(CAPNG_SELECT_BOTH);
	/* chown and chmod of what callers create and change, with set-id bits
	 * kept; reading and searching any directory; times and modes of files
	 * of any owner. */
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_CHOWN, CAP_DAC_OVERRIDE,
			  CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, -1) < 0)
		return -EINVAL;
	return capng_apply(CAPNG_SELECT_BOTH) < 0 ? -EPERM : 0;
}
