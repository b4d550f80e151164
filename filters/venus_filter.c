#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "load.h"
#include "venus_filter.h"

#define TRAP_ALWAYS false
#define TRAP_DEVICE true

#define TRAP(name, handler, rule) {SYS_##name, TRAP_##rule},
static const struct {
	int nr;
	bool device; /* trapped on the device fd alone */
} traps[] = {
#include "venus_calls.def"
};
#undef TRAP

static int build_venus_rules(scmp_filter_ctx ctx, unsigned flags)
{
	(void)flags; /* none of the target's apply */
	for (size_t i = 0; i < sizeof(traps) / sizeof(traps[0]); i++) {
		int rc = traps[i].device ? seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, traps[i].nr, 1,
							    SCMP_A0(SCMP_CMP_EQ, VENUS_DEV_FD))
					 : seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, traps[i].nr, 0);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int filter_install_venus(unsigned flags)
{
	return filter_load(build_venus_rules, flags);
}
