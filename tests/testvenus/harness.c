/* testvenus-harness: checks tests/testvenus on its own, playing the parts
 * of the kernel that the hosting supervisor plays for a stock venus.
 *
 * testvenus runs under a seccomp notify filter: its open of /dev/cfs0 gets
 * our channel end at a pinned fd, CIOC_KERNEL_VERSION is answered, mount(2)
 * succeeds, and each write(2) on the device is read from its memory while
 * held (the container of a CODA_OPEN_BY_FD reply is taken from /proc then).
 * Upcalls go down the channel and testvenus reads them itself.
 *
 *   testvenus-harness TESTVENUS */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "channel.h"
#include "../unit/scratch.h"

#define DEVFD 100 /* where the device end is pinned in testvenus */
#define HELLO "hello, hosted venus\n"
#define MAXQ  8

static const struct coda_caller me = {.pid = 1, .pgid = 1, .uid = 0};

struct harness {
	int listener, chan, peer; /* peer: the end injected as the device */
	pid_t venus;
	char trace[512];	 /* the calls seen, in order */
	struct coda_msg q[MAXQ]; /* messages testvenus wrote on the device */
	unsigned int nq;
	char mountpoint[PATH_MAX];
};

static void __attribute__((noreturn)) fail(const char *what)
{
	fprintf(stderr, "testvenus-harness: FAIL: %s\n", what);
	exit(1);
}

static void note(struct harness *h, const char *call)
{
	size_t len = strlen(h->trace);

	snprintf(h->trace + len, sizeof(h->trace) - len, "%s%s", len ? " " : "", call);
}

static ssize_t peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

static int peek_string(pid_t pid, uint64_t addr, char *buf, size_t len)
{
	ssize_t n = peek(pid, addr, buf, len - 1);

	if (n <= 0)
		return -EFAULT;
	buf[n] = '\0';
	return 0;
}

static bool is_device(struct seccomp_notif *req)
{
	int nr = req->data.nr;
	uint64_t addr =
	    nr == seccomp_syscall_resolve_name("open") ? req->data.args[0] : req->data.args[1];
	char path[PATH_MAX];

	return peek_string(req->pid, addr, path, sizeof(path)) == 0 && !strcmp(path, "/dev/cfs0");
}

static void on_open(struct harness *h, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	struct seccomp_notif_addfd addfd = {.id = req->id,
					    .flags =
						SECCOMP_ADDFD_FLAG_SETFD | SECCOMP_ADDFD_FLAG_SEND,
					    .srcfd = (uint32_t)h->peer,
					    .newfd = DEVFD};

	if (!is_device(req)) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		return;
	}
	note(h, "open");
	if (ioctl(h->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0)
		fail("ADDFD of the device");
	resp->id = 0; /* answered by the ADDFD */
}

static void on_ioctl(struct harness *h, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	int version = 5;
	struct iovec local = {.iov_base = &version, .iov_len = sizeof(version)};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)req->data.args[2],
			       .iov_len = sizeof(version)};

	if (req->data.args[0] != DEVFD || req->data.args[1] != CIOC_KERNEL_VERSION) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		return;
	}
	note(h, "ioctl");
	if (process_vm_writev(req->pid, &local, 1, &remote, 1, 0) != sizeof(version))
		fail("writing the kernel version");
}

static void on_mount(struct harness *h, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	struct {
		int version, fd;
	} data;
	char type[16];

	note(h, "mount");
	if (peek_string(req->pid, req->data.args[2], type, sizeof(type)) || strcmp(type, "coda") ||
	    peek_string(req->pid, req->data.args[1], h->mountpoint, sizeof(h->mountpoint)) ||
	    peek(req->pid, req->data.args[4], &data, sizeof(data)) != sizeof(data))
		fail("mount arguments");
	if (data.version != 1 || data.fd != DEVFD || req->data.args[3] != 0xc0ed0406)
		fail("mount data");
	(void)resp; /* success */
}

/* A message written on the device, taken while the write is held. */
static void on_write(struct harness *h, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	struct coda_msg *m = &h->q[h->nq];
	size_t len = req->data.args[2];
	char name[64];

	if (h->nq == MAXQ || len > CODA_MSG_MAX)
		fail("too many or too long messages written");
	if (peek(req->pid, req->data.args[1], m->raw, len) != (ssize_t)len)
		fail("reading a written message");
	m->len = len;
	m->fd = -1;
	if (len >= sizeof(struct coda_open_by_fd_out) && m->oh.opcode == CODA_OPEN_BY_FD &&
	    !m->oh.result) {
		snprintf(name, sizeof(name), "/proc/%d/fd/%d", req->pid, m->out.coda_open_by_fd.fd);
		m->fd = open(name, O_RDONLY | O_CLOEXEC);
		if (m->fd < 0)
			fail("taking the container from /proc while the write is held");
	}
	snprintf(name, sizeof(name), "write:%s",
		 len >= sizeof(struct coda_out_hdr) ? coda_opcode_name(m->oh.opcode) : "short");
	note(h, name);
	h->nq++;
	resp->val = (int64_t)len;
}

/* Serves one notification; false once testvenus and its children are gone. */
static bool handle(struct harness *h, int ms)
{
	struct pollfd p = {.fd = h->listener, .events = POLLIN};
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int nr, n = poll(&p, 1, ms);

	if (n == 0)
		fail("testvenus made no call in time");
	if (n < 0 || (p.revents & (POLLHUP | POLLERR)))
		return false;
	if (seccomp_notify_alloc(&req, &resp) < 0)
		fail("seccomp_notify_alloc");
	if (seccomp_notify_receive(h->listener, req) < 0) {
		seccomp_notify_free(req, resp);
		return true; /* the caller was killed meanwhile */
	}
	resp->id = req->id;
	nr = req->data.nr;
	if (nr == seccomp_syscall_resolve_name("ioctl"))
		on_ioctl(h, req, resp);
	else if (nr == seccomp_syscall_resolve_name("mount"))
		on_mount(h, req, resp);
	else if (nr == seccomp_syscall_resolve_name("write"))
		on_write(h, req, resp);
	else
		on_open(h, req, resp);
	if (resp->id)
		seccomp_notify_respond(h->listener, resp);
	seccomp_notify_free(req, resp);
	return true;
}

/* The next message testvenus writes. */
static void next(struct harness *h, struct coda_msg *m)
{
	while (!h->nq)
		if (!handle(h, 5000))
			fail("testvenus is gone");
	*m = h->q[0];
	memmove(&h->q[0], &h->q[1], --h->nq * sizeof(h->q[0]));
}

static void upcall(struct harness *h, struct coda_msg *m, uint32_t unique)
{
	m->ih.unique = unique;
	if (chan_send(h->chan, m) < 0)
		fail("sending an upcall");
}

/* Sends the upcall in *m and replaces it by the reply. */
static int call(struct harness *h, struct coda_msg *m)
{
	uint32_t opcode = m->ih.opcode, unique = m->ih.unique;

	upcall(h, m, unique);
	next(h, m);
	if (m->oh.opcode != opcode || m->oh.unique != unique)
		fail("a reply to another upcall");
	return coda_msg_check_reply(m, opcode);
}

/* The child: filter, listener to the parent, exec of testvenus. */
static void __attribute__((noreturn)) start(int sock, char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct coda_msg m = {.len = 1, .fd = -1};

	/* A failed check ends us with testvenus's device: it would spin on it. */
	if (!ctx || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(open), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(openat), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mount), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(write), 1,
			     SCMP_A0(SCMP_CMP_EQ, DEVFD)) < 0 ||
	    seccomp_load(ctx) < 0)
		_exit(125);
	m.fd = seccomp_notify_fd(ctx);
	m.raw[0] = 0;
	if (m.fd < 0 || chan_send(sock, &m) < 0)
		_exit(125);
	close(m.fd);
	close(sock);
	execv(argv[0], argv);
	_exit(127);
}

static void make_volume(char base[64], char vol[128], char cache[128])
{
	char p[PATH_MAX];
	int fd;

	snprintf(base, 64, "/tmp/testvenus-harness-XXXXXX");
	if (!mkdtemp(base))
		fail("mkdtemp");
	snprintf(vol, 128, "%s/vol", base);
	snprintf(cache, 128, "%s/cache", base);
	snprintf(p, sizeof(p), "%s/hello.txt", vol);
	if (mkdir(vol, 0755) < 0)
		fail("mkdir volume");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, HELLO, strlen(HELLO)) != (ssize_t)strlen(HELLO) || close(fd) < 0)
		fail("writing the volume");
}

static void launch(struct harness *h, const char *testvenus, char *vol, char *cache)
{
	char *argv[] = {(char *)testvenus, "-mountpoint", "/coda-harness",   "-volume",	  vol,
			"-cache",	   cache,	  "-downcall-after", "2:zapfile", NULL};
	int ch[2], ctl[2];
	struct coda_msg m;

	if (chan_pair(ch) < 0 || chan_pair(ctl) < 0)
		fail("socketpair");
	h->chan = ch[0];
	h->peer = ch[1];
	h->venus = fork();
	if (h->venus < 0)
		fail("fork");
	if (h->venus == 0) {
		close(ctl[0]);
		start(ctl[1], argv);
	}
	close(ctl[1]);
	while (chan_recv(ctl[0], &m) == -EAGAIN)
		poll(&(struct pollfd){.fd = ctl[0], .events = POLLIN}, 1, 5000);
	if (m.fd < 0)
		fail("no listener from the child");
	h->listener = m.fd;
	close(ctl[0]);
}

/* Open, flush, close; open, version, flush; mount from a grandchild. */
static void check_startup(struct harness *h)
{
	static const char want[] = "open write:CODA_FLUSH open ioctl write:CODA_FLUSH mount";
	struct coda_msg m;

	next(h, &m);
	next(h, &m);
	while (!strstr(h->trace, "mount"))
		if (!handle(h, 5000))
			fail("testvenus died during start-up");
	if (strcmp(h->trace, want)) {
		fprintf(stderr, "testvenus-harness: start-up was: %s\n", h->trace);
		fail("start-up order");
	}
	if (strcmp(h->mountpoint, "/coda-harness"))
		fail("mount point");
}

static struct CodaFid lookup(struct harness *h, const struct CodaFid *dir, const char *name)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.ih.unique = 2;
	m.in.coda_lookup.VFid = *dir;
	if (coda_msg_put_string(&m, &m.in.coda_lookup.name, name, strlen(name)) < 0 || call(h, &m))
		fail("CODA_LOOKUP");
	return m.out.coda_lookup.VFid;
}

/* The container of an OPEN_BY_FD reply was taken while the write was held;
 * testvenus's own fd of it is gone after the write. */
static void check_open_by_fd(struct harness *h, const struct CodaFid *fid)
{
	struct coda_msg m;
	char buf[64] = "", name[64];
	int fd;

	coda_msg_upcall(&m, CODA_OPEN_BY_FD, &me);
	m.ih.unique = 3;
	m.in.coda_open_by_fd.VFid = *fid;
	m.in.coda_open_by_fd.flags = C_O_READ;
	if (call(h, &m) || m.fd < 0)
		fail("CODA_OPEN_BY_FD");
	if (pread(m.fd, buf, sizeof(buf), 0) != (ssize_t)strlen(HELLO) || strcmp(buf, HELLO))
		fail("container contents");
	close(m.fd);
	fd = m.out.coda_open_by_fd.fd;
	coda_msg_upcall(&m, CODA_CLOSE, &me);
	m.ih.unique = 4;
	m.in.coda_close.VFid = *fid;
	m.in.coda_close.flags = C_O_READ;
	if (call(h, &m))
		fail("CODA_CLOSE");
	snprintf(name, sizeof(name), "/proc/%d/fd/%d", h->venus, fd);
	if (access(name, F_OK) == 0)
		fail("testvenus kept its container fd after the write");
}

static void check_open_by_path(struct harness *h, const struct CodaFid *fid, const char *cache)
{
	struct coda_msg m;
	const char *path;

	coda_msg_upcall(&m, CODA_OPEN_BY_PATH, &me);
	m.ih.unique = 5;
	m.in.coda_open_by_path.VFid = *fid;
	m.in.coda_open_by_path.flags = C_O_READ;
	if (call(h, &m) ||
	    coda_msg_get_reply_string(&m, m.out.coda_open_by_path.path, PATH_MAX, &path) ||
	    strncmp(path, cache, strlen(cache)))
		fail("CODA_OPEN_BY_PATH");
}

/* Bad input: dropped or answered with an error, never a crash. */
static void check_bad_input(struct harness *h)
{
	struct coda_msg m;

	memset(m.raw, 0xff, 10);
	m.len = 10; /* no whole header: dropped */
	m.fd = -1;
	if (chan_send(h->chan, &m) < 0)
		fail("sending a short upcall");
	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.ih.unique = 6;
	m.in.coda_lookup.name = 1 << 20; /* far outside the message */
	if (!call(h, &m))
		fail("a LOOKUP with a bad name offset succeeded");
	coda_msg_upcall(&m, CODA_SIGNAL, &me);
	upcall(h, &m, 6); /* no reply due */
	coda_msg_upcall(&m, CODA_STATFS, &me);
	m.ih.unique = 7;
	if (call(h, &m))
		fail("CODA_STATFS after bad input");
}

/* SIGUSR2: a CODA_FLUSH. SIGTERM: exit 1, nothing more on the device. */
static void check_signals(struct harness *h)
{
	struct coda_msg m;
	int status;

	kill(h->venus, SIGUSR2);
	next(h, &m);
	if (m.len != sizeof(struct coda_out_hdr) || m.oh.opcode != CODA_FLUSH)
		fail("SIGUSR2 gave no CODA_FLUSH");
	kill(h->venus, SIGTERM);
	while (handle(h, 5000))
		if (h->nq)
			fail("testvenus wrote on the device after SIGTERM");
	if (waitpid(h->venus, &status, 0) != h->venus || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 1)
		fail("SIGTERM: exit status 1");
}

int main(int argc, char **argv)
{
	char base[64], vol[128], cache[128];
	struct harness h = {.listener = -1};
	struct CodaFid root, hello;
	struct coda_msg m;

	if (argc != 2) {
		fprintf(stderr, "usage: testvenus-harness TESTVENUS\n");
		return 2;
	}
	make_volume(base, vol, cache);
	launch(&h, argv[1], vol, cache);
	check_startup(&h);
	coda_msg_upcall(&m, CODA_ROOT, &me);
	m.ih.unique = 1;
	if (call(&h, &m))
		fail("CODA_ROOT");
	root = m.out.coda_root.VFid;
	hello = lookup(&h, &root, "hello.txt");
	/* -downcall-after 2:zapfile: about the fid of upcall 2, the LOOKUP's. */
	next(&h, &m);
	if (m.oh.opcode != CODA_ZAPFILE || !coda_fid_eq(&m.out.coda_zapfile.CodaFid, &root))
		fail("no CODA_ZAPFILE after upcall 2");
	check_open_by_fd(&h, &hello);
	check_open_by_path(&h, &hello, cache);
	check_bad_input(&h);
	check_signals(&h);
	scratch_remove(base);
	printf("testvenus-harness: OK: %s\n", h.trace);
	return 0;
}
