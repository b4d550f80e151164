/* getdents64 and getdents on /coda directory fds. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "coda/coda.h"
#include "fdtable.h"
#include "syscalls.h"
#include "vfs.h"

/* The records read, written to the target's buffer: their size or -errno. */
static long getdents64(struct call *c, struct coda_file *f, uint64_t addr, size_t count)
{
	char *buf;
	long n;

	if (count > 1 << 20)
		count = 1 << 20;
	buf = malloc(count);
	if (!buf)
		return -ENOMEM;
	n = coda_dir_readdir(call_coda_req(c), f, buf, count);
	if (n > 0) {
		int rc = call_write(c, addr, buf, (size_t)n);

		if (rc < 0)
			n = rc;
	}
	free(buf);
	return n;
}

void sys_getdents64(struct call *c)
{
	struct coda_file *f = vfs_open_file(c, (long)call_arg(c, 0));
	off_t before;
	long n;

	if (!f)
		return;
	before = f->host_fd >= 0 ? lseek(f->host_fd, 0, SEEK_CUR) : -1;
	n = getdents64(c, f, call_arg(c, 1), (size_t)(unsigned)call_arg(c, 2));
	call_return(c, n);
	/* A call that failed, or that the target missed (a signal) and will
	 * make again, goes on from where it was. */
	if ((n < 0 || c->abandoned) && before >= 0)
		lseek(f->host_fd, before, SEEK_SET);
}

/* The old getdents has no d_type slot of its own and no user on x86-64 that
 * glibc or musl builds still make; say so rather than guess. */
void sys_getdents(struct call *c)
{
	if (!coda_file_lookup(c, (long)call_arg(c, 0)))
		call_continue(c);
	else
		call_return(c, -ENOSYS);
}
