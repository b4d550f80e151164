#include <cap-ng.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

int caps_keep(uint64_t permitted, uint64_t effective)
{
	uint64_t have = 0;

	if (capng_get_caps_process() < 0)
		return -EPERM;
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
		return 0;
	for (int cap = 0; cap < 64; cap++)
		if ((permitted & CAPS_BIT(cap)) && capng_have_capability(CAPNG_PERMITTED, cap))
			have |= CAPS_BIT(cap);
	capng_clear(CAPNG_SELECT_BOTH);
	for (int cap = 0; cap < 64; cap++) {
		unsigned type = CAPNG_PERMITTED | (effective & CAPS_BIT(cap) ? CAPNG_EFFECTIVE : 0);

		if ((have & CAPS_BIT(cap)) && capng_update(CAPNG_ADD, type, cap) < 0)
			return -EINVAL;
	}
	return capng_apply(CAPNG_SELECT_BOTH) < 0 ? -EPERM : 0;
}

int caps_get(uint64_t *permitted, uint64_t *effective)
{
	struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &head, data) < 0)
		return -errno;
	*permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
	*effective = data[0].effective | (uint64_t)data[1].effective << 32;
	return 0;
}

int caps_set_effective(uint64_t permitted, uint64_t effective)
{
	struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
	    {(uint32_t)effective, (uint32_t)permitted, 0},
	    {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), 0},
	};

	return syscall(SYS_capset, &head, data) < 0 ? -errno : 0;
}
