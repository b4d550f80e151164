/* Target memory, read and written with process_vm_readv/writev: one copy, no
 * ptrace stop. Paths are read page by page so that a string ending just
 * before an unmapped page is read whole, as the kernel's strncpy_from_user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "trap.h"

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

static int write_some(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {.iov_base = (void *)buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EFAULT;
	return (size_t)n == len ? 0 : -EFAULT;
}

int call_write(struct call *c, uint64_t addr, const void *buf, size_t len)
{
	return write_some((pid_t)c->n->pid, addr, buf, len);
}

/* Most paths are short, and a read's cost grows with its length (the
 * rest of a page costs about 0.25 us more on this project's VM): the
 * first read takes this much, the next ones up to a page's end. */
#define STRING_FIRST_READ 256

/* A NUL-terminated string of at most cap bytes (NUL included): its length,
 * -EFAULT, or -ENAMETOOLONG when no NUL comes within cap. */
long call_read_string(struct call *c, uint64_t addr, char *buf, size_t cap)
{
	size_t got = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (addr == 0)
		return -EFAULT;
	while (got < cap) {
		size_t to_page = (size_t)page - ((addr + got) & (uint64_t)(page - 1));
		size_t want = to_page < cap - got ? to_page : cap - got;
		char *nul;
		int n;

		if (got == 0 && want > STRING_FIRST_READ)
			want = STRING_FIRST_READ;
		n = read_some((pid_t)c->n->pid, addr + got, buf + got, want);
		if (n <= 0)
			return n < 0 ? n : -EFAULT;
		nul = memchr(buf + got, '\0', (size_t)n);
		if (nul)
			return (long)(nul - buf);
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

int call_read_path(struct call *c, uint64_t addr, char buf[PATH_MAX])
{
	long n = call_read_string(c, addr, buf, PATH_MAX);

	return n < 0 ? (int)n : 0;
}

/* Through /proc/PID/mem when the page is read-only (a string literal in
 * .rodata): it writes as a debugger's poke does. */
int mem_write_force(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd, rc = write_some(pid, addr, buf, len);

	if (rc != -EFAULT)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, buf, len, (off_t)addr);
	rc = n < 0 ? -errno : (size_t)n == len ? 0 : -EFAULT;
	close(fd);
	return rc;
}

int call_write_force(struct call *c, uint64_t addr, const void *buf, size_t len)
{
	return mem_write_force((pid_t)c->n->pid, addr, buf, len);
}
