#include <seccomp.h>

#include "load.h"
#include "venus_filter.h"

/* Opens (one of them is the device's), mount and umount, and the calls whose
 * answers fakeroot would change: the owner venus sets on and reads from its
 * cache files. */
static const char *const venus_calls[] = {
    "open",  "openat",	   "openat2", "mount", "umount2", "stat",   "lstat",
    "fstat", "newfstatat", "statx",   "chown", "fchown",  "lchown", "fchownat",
};

/* Replies and downcalls are written to the device; its version is asked. */
static int add_device_calls(scmp_filter_ctx ctx)
{
	static const char *const calls[] = {"write", "writev", "ioctl"};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int rc =
		    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(calls[i]),
				     1, SCMP_A0(SCMP_CMP_EQ, VENUS_DEV_FD));

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int build_venus_rules(scmp_filter_ctx ctx, unsigned flags)
{
	(void)flags; /* none of the target's apply */
	int rc = filter_notify_all(ctx, venus_calls, sizeof(venus_calls) / sizeof(venus_calls[0]));

	return rc ? rc : add_device_calls(ctx);
}

int filter_install_venus(unsigned flags)
{
	return filter_load(build_venus_rules, flags);
}
