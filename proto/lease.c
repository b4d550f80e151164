#include <errno.h>
#include <fcntl.h>
#include <signal.h>

#include "lease.h"

int lease_free(int fd, int type)
{
	if (fcntl(fd, F_SETSIG, SIGURG) < 0)
		return -1;
	if (fcntl(fd, F_SETLEASE, type) < 0)
		return errno == EAGAIN ? 0 : -1;
	fcntl(fd, F_SETLEASE, F_UNLCK);
	return 1;
}
