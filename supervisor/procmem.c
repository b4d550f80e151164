/* Target memory, read and written with process_vm_readv/writev: one copy, no
 * ptrace stop. Paths are read page by page so that a string ending just
 * before an unmapped page is read whole, as the kernel's strncpy_from_user. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "notify.h"

static int read_some(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EFAULT;
	return (int)n;
}

int call_read(struct call *c, uint64_t addr, void *buf, size_t len)
{
	int n = read_some((pid_t)c->n->pid, addr, buf, len);

	if (n < 0)
		return n;
	return (size_t)n == len ? 0 : -EFAULT;
}

int call_write(struct call *c, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {.iov_base = (void *)buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = process_vm_writev((pid_t)c->n->pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EFAULT;
	return (size_t)n == len ? 0 : -EFAULT;
}

int call_read_path(struct call *c, uint64_t addr, char buf[PATH_MAX])
{
	size_t got = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (addr == 0)
		return -EFAULT;
	while (got < PATH_MAX) {
		size_t to_page = (size_t)page - ((addr + got) & (uint64_t)(page - 1));
		size_t want = to_page < PATH_MAX - got ? to_page : PATH_MAX - got;
		int n = read_some((pid_t)c->n->pid, addr + got, buf + got, want);
		char *nul;

		if (n <= 0)
			return n < 0 ? n : -EFAULT;
		nul = memchr(buf + got, '\0', (size_t)n);
		if (nul)
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}
