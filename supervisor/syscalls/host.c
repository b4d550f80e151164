#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "host.h"
#include "trap/trap.h"

void host_open(struct call *c, const char *path, int flags, mode_t mode)
{
	int fd = open(path, (flags & ~O_CLOEXEC) | O_CLOEXEC, mode);
	int rc;

	if (fd < 0) {
		call_return(c, -errno);
		return;
	}
	rc = call_inject_fd(c, fd, -1, flags & O_CLOEXEC);
	close(fd);
	if (rc < 0 && !c->answered)
		call_return(c, rc);
}
