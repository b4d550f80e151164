/* The write path of the embedded venus, driven over a real channel as the
 * supervisor drives it: write sessions and stores, the namespace calls,
 * SETATTR, fid stability, read-only volumes and crashes during a store.
 *
 * Each test gets a fresh volume and cache and a venus in a child process;
 * the test plays the kernel, then checks the backing directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "scratch.h"
#include "venus.h"
#include "venus_dirent.h"

#define OLD "old contents\n"

static char base[64], vol[128], cache[128];
static int chan = -1;
static pid_t venus_pid = -1;
static uint32_t next_unique = 1;
static const struct coda_caller me = {.pid = 100, .pgid = 100, .uid = 0};
static int crash_step; /* the store step at which venus kills itself, 0: none */

static void vpath(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", vol, rel);
}

static void write_file(const char *rel, const char *data, size_t len)
{
	char p[256];
	int fd;

	vpath(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "create %s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* The whole backing file, NUL-terminated; its length in *len. */
static char *read_vol(const char *rel, size_t *len)
{
	char p[256], *buf;
	struct stat st;
	int fd;

	vpath(p, sizeof(p), rel);
	fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0, "open %s: %s", p, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	cr_assert_not_null(buf);
	*len = 0;
	while (*len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + *len, (size_t)st.st_size - *len);

		cr_assert_gt(n, 0);
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	close(fd);
	return buf;
}

static void assert_vol(const char *rel, const char *want)
{
	size_t len;
	char *got = read_vol(rel, &len);

	cr_assert_eq(len, strlen(want), "%s: %zu bytes, want %zu", rel, len, strlen(want));
	cr_assert_str_eq(got, want, "%s", rel);
	free(got);
}

static void crash_hook(int step)
{
	if (step == crash_step)
		raise(SIGKILL);
}

static void spawn_venus(bool read_only)
{
	int fds[2];

	cr_assert_eq(chan_pair(fds), 0);
	venus_pid = fork();
	cr_assert_geq(venus_pid, 0);
	if (venus_pid == 0) {
		/* Kept directories watched from the first look on, as a long
		 * job's are (venus/dir_watch.c). */
		struct venus_config cfg = {.volume = vol,
					   .cache = cache,
					   .read_only = read_only,
					   .store_hook = crash_step ? crash_hook : NULL,
					   .watch_after = 1};

		close(fds[0]);
		_exit(venus_run(fds[1], &cfg));
	}
	close(fds[1]);
	chan = fds[0];
}

/* venus killed, as a crash would stop it: nothing of its own runs after. */
static void kill_venus(void)
{
	int status;

	kill(venus_pid, SIGKILL);
	cr_assert_eq(waitpid(venus_pid, &status, 0), venus_pid);
	venus_pid = -1;
	close(chan);
	chan = -1;
}

static void make_volume(void)
{
	char p[256];

	snprintf(base, sizeof(base), "/tmp/venus-write-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(vol, sizeof(vol), "%s/vol", base);
	snprintf(cache, sizeof(cache), "%s/cache", base);
	cr_assert_eq(mkdir(vol, 0755), 0);
	write_file("file", OLD, strlen(OLD));
	vpath(p, sizeof(p), "dir");
	cr_assert_eq(mkdir(p, 0755), 0);
	vpath(p, sizeof(p), "dir/sub");
	cr_assert_eq(mkdir(p, 0755), 0);
	write_file("dir/a", "a\n", 2);
	write_file("dir/sub/b", "b\n", 2);
}

static void setup(void)
{
	crash_step = 0;
	make_volume();
	spawn_venus(false);
}

static int stop_venus(void)
{
	int status = -1;

	if (chan >= 0)
		close(chan);
	chan = -1;
	if (venus_pid > 0) {
		alarm(20);
		waitpid(venus_pid, &status, 0);
		alarm(0);
	}
	venus_pid = -1;
	return status;
}

static void teardown(void)
{
	stop_venus();
	if (base[0])
		scratch_remove(base);
}

TestSuite(venus_write, .init = setup, .fini = teardown, .timeout = 60);

static int recv_within(struct coda_msg *m, int ms)
{
	struct pollfd p = {.fd = chan, .events = POLLIN};
	int n = poll(&p, 1, ms);

	if (n == 0)
		return -ETIMEDOUT;
	cr_assert_eq(n, 1);
	return chan_recv(chan, m);
}

static void send_upcall(struct coda_msg *m)
{
	m->ih.unique = next_unique++;
	cr_assert_eq(chan_send(chan, m), 0);
}

static int call(struct coda_msg *m)
{
	uint32_t opcode = m->ih.opcode, unique;

	send_upcall(m);
	unique = m->ih.unique;
	cr_assert_eq(recv_within(m, 20000), 0, "no reply to %s", coda_opcode_name(opcode));
	cr_assert_eq(m->oh.unique, unique);
	cr_assert_eq(m->oh.opcode, opcode);
	return coda_msg_check_reply(m, opcode);
}

static void put_name(struct coda_msg *m, int *field, const char *name)
{
	cr_assert_eq(coda_msg_put_string(m, field, name, strlen(name)), 0);
}

static struct CodaFid root_fid(void)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ROOT, &me);
	cr_assert_eq(call(&m), 0);
	return m.out.coda_root.VFid;
}

static int lookup(const struct CodaFid *dir, const char *name, struct CodaFid *fid)
{
	struct coda_msg m;
	int err;

	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.in.coda_lookup.VFid = *dir;
	put_name(&m, &m.in.coda_lookup.name, name);
	err = call(&m);
	if (!err)
		*fid = m.out.coda_lookup.VFid;
	return err;
}

/* The fid of a path below the root, one LOOKUP per component. */
static int try_fid_of(const char *rel, struct CodaFid *fid)
{
	char buf[256], *save = NULL;
	int err = 0;

	*fid = root_fid();
	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *c = strtok_r(buf, "/", &save); c && !err; c = strtok_r(NULL, "/", &save))
		err = lookup(fid, c, fid);
	return err;
}

static struct CodaFid fid_of(const char *rel)
{
	struct CodaFid fid;

	cr_assert_eq(try_fid_of(rel, &fid), 0, "lookup %s", rel);
	return fid;
}

static bool fid_is(const char *rel, const struct CodaFid *want)
{
	struct CodaFid fid = fid_of(rel);

	return coda_fid_eq(&fid, want);
}

static int getattr(const struct CodaFid *fid, struct coda_vattr *va)
{
	struct coda_msg m;
	int err;

	coda_msg_upcall(&m, CODA_GETATTR, &me);
	m.in.coda_getattr.VFid = *fid;
	err = call(&m);
	if (!err)
		*va = m.out.coda_getattr.attr;
	return err;
}

static int open_fid(const struct CodaFid *fid, int flags, int *fd)
{
	struct coda_msg m;
	int err;

	coda_msg_upcall(&m, CODA_OPEN_BY_FD, &me);
	m.in.coda_open_by_fd.VFid = *fid;
	m.in.coda_open_by_fd.flags = flags;
	err = call(&m);
	if (!err) {
		cr_assert_geq(m.fd, 0, "OPEN_BY_FD reply without an fd");
		*fd = m.fd;
		if (flags & (C_O_WRITE | C_O_TRUNC)) {
			/* As the supervisor does: the container comes read-only,
			 * and it is opened for writing through /proc. */
			char path[64];

			cr_assert_eq(fcntl(m.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
			snprintf(path, sizeof(path), "/proc/self/fd/%d", m.fd);
			*fd = open(path, O_RDWR | O_CLOEXEC);
			cr_assert_geq(*fd, 0);
			close(m.fd);
		}
	} else {
		cr_assert_eq(m.fd, -1);
	}
	return err;
}

static int close_fid(const struct CodaFid *fid, int flags)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_CLOSE, &me);
	m.in.coda_close.VFid = *fid;
	m.in.coda_close.flags = flags;
	return call(&m);
}

static int fsync_fid(const struct CodaFid *fid)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_FSYNC, &me);
	m.in.coda_fsync.VFid = *fid;
	return call(&m);
}

static int create_as(uid_t uid, const struct CodaFid *dir, const char *name, int mode, int excl,
		     struct CodaFid *fid)
{
	struct coda_caller who = {.pid = 1, .pgid = 1, .uid = uid};
	struct coda_msg m;
	int err;

	coda_msg_upcall(&m, CODA_CREATE, &who);
	m.in.coda_create.VFid = *dir;
	memset(&m.in.coda_create.attr, 0xff, sizeof(m.in.coda_create.attr));
	m.in.coda_create.attr.va_type = C_VNON;
	m.in.coda_create.attr.va_mode = (u_short)mode;
	m.in.coda_create.mode = S_IFREG | mode;
	m.in.coda_create.excl = excl;
	put_name(&m, &m.in.coda_create.name, name);
	err = call(&m);
	if (!err && fid)
		*fid = m.out.coda_create.VFid;
	return err;
}

static int create(const struct CodaFid *dir, const char *name, int mode, int excl,
		  struct CodaFid *fid)
{
	return create_as(0, dir, name, mode, excl, fid);
}

static int mkdir_as(uid_t uid, const struct CodaFid *dir, const char *name, int mode,
		    struct CodaFid *fid)
{
	struct coda_caller who = {.pid = 1, .pgid = 1, .uid = uid};
	struct coda_msg m;
	int err;

	coda_msg_upcall(&m, CODA_MKDIR, &who);
	m.in.coda_mkdir.VFid = *dir;
	memset(&m.in.coda_mkdir.attr, 0xff, sizeof(m.in.coda_mkdir.attr));
	m.in.coda_mkdir.attr.va_mode = (u_short)mode;
	put_name(&m, &m.in.coda_mkdir.name, name);
	err = call(&m);
	if (!err && fid)
		*fid = m.out.coda_mkdir.VFid;
	return err;
}

/* CODA_REMOVE or CODA_RMDIR as uid. */
static int unlink_as(uid_t uid, uint32_t opcode, const struct CodaFid *dir, const char *name)
{
	struct coda_caller who = {.pid = 1, .pgid = 1, .uid = uid};
	struct coda_msg m;

	coda_msg_upcall(&m, opcode, &who);
	m.in.coda_remove.VFid = *dir;
	put_name(&m, &m.in.coda_remove.name, name);
	return call(&m);
}

static int rename_as(uid_t uid, const struct CodaFid *sdir, const char *sname,
		     const struct CodaFid *ddir, const char *dname)
{
	struct coda_caller who = {.pid = 1, .pgid = 1, .uid = uid};
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_RENAME, &who);
	m.in.coda_rename.sourceFid = *sdir;
	m.in.coda_rename.destFid = *ddir;
	put_name(&m, &m.in.coda_rename.srcname, sname);
	put_name(&m, &m.in.coda_rename.destname, dname);
	return call(&m);
}

static int link_fid(const struct CodaFid *src, const struct CodaFid *dir, const char *name)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_LINK, &me);
	m.in.coda_link.sourceFid = *src;
	m.in.coda_link.destFid = *dir;
	put_name(&m, &m.in.coda_link.tname, name);
	return call(&m);
}

static int symlink_fid(const struct CodaFid *dir, const char *target, const char *name)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_SYMLINK, &me);
	m.in.coda_symlink.VFid = *dir;
	memset(&m.in.coda_symlink.attr, 0xff, sizeof(m.in.coda_symlink.attr));
	m.in.coda_symlink.attr.va_mode = 0777;
	put_name(&m, &m.in.coda_symlink.srcname, target);
	put_name(&m, &m.in.coda_symlink.tname, name);
	return call(&m);
}

/* A coda_vattr with nothing set, as the kernel's coda_vattr starts. */
static void vattr_unset(struct coda_vattr *va)
{
	memset(va, 0xff, sizeof(*va));
	va->va_type = C_VNON;
}

static int setattr_as(uid_t uid, const struct CodaFid *fid, const struct coda_vattr *va)
{
	struct coda_caller who = {.pid = 1, .pgid = 1, .uid = uid};
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_SETATTR, &who);
	m.in.coda_setattr.VFid = *fid;
	m.in.coda_setattr.attr = *va;
	return call(&m);
}

static size_t read_fd(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len < cap - 1 && (n = pread(fd, buf + len, cap - 1 - len, (off_t)len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

static void assert_fd(int fd, const char *want)
{
	char buf[4096];

	read_fd(fd, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

static void write_fd(int fd, const char *data)
{
	cr_assert_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
}

static void lstat_vol(const char *rel, struct stat *st)
{
	char p[256];

	vpath(p, sizeof(p), rel);
	cr_assert_eq(lstat(p, st), 0, "lstat %s: %s", p, strerror(errno));
}

static bool vol_exists(const char *rel)
{
	char p[256];
	struct stat st;

	vpath(p, sizeof(p), rel);
	return lstat(p, &st) == 0;
}

/* Whether the directory container of fid lists `name`. */
static bool container_lists(const struct CodaFid *dir, const char *name)
{
	static char buf[65536];
	struct venus_dirent_view d;
	size_t len, off = 0;
	bool found = false;
	int fd, r;

	cr_assert_eq(open_fid(dir, C_O_READ, &fd), 0);
	len = read_fd(fd, buf, sizeof(buf));
	close(fd);
	cr_assert_eq(close_fid(dir, C_O_READ), 0);
	while ((r = venus_dirent_decode(buf, len, &off, &d)) != 0) {
		cr_assert_geq(r, 1, "malformed directory container");
		if (r == 1 && strcmp(d.name, name) == 0)
			found = true;
	}
	return found;
}

/* ---- write sessions and stores ---- */

Test(venus_write, create_write_close_stores_bytes)
{
	struct CodaFid root = root_fid(), fid, again;
	struct coda_vattr va;
	struct stat st;
	ino_t first_ino;
	int fd;

	cr_assert_eq(create(&root, "new", 0640, 1, &fid), 0);
	lstat_vol("new", &st);
	first_ino = st.st_ino;
	cr_assert_eq(st.st_mode & 07777, 0640, "mode as given, no second umask");
	cr_assert_eq(open_fid(&fid, C_O_WRITE, &fd), 0);
	write_fd(fd, "fresh bytes\n");
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	assert_vol("new", "fresh bytes\n");
	lstat_vol("new", &st);
	cr_assert_eq(st.st_mode & 07777, 0640, "the store keeps the mode");
	cr_assert_eq(getattr(&fid, &va), 0, "the fid survives the store");
	cr_assert_eq(va.va_size, 12);
	/* The file number stays the one it had: tar and sqlite compare it. */
	cr_assert_eq((uint64_t)va.va_fileid, (uint64_t)first_ino);
	cr_assert_eq(lookup(&root, "new", &again), 0);
	cr_assert(coda_fid_eq(&fid, &again), "LOOKUP after a store gives the same fid");
}

/* As on a kernel mount, one container per file: readers that opened before
 * the write session and opens made during it see the writers' bytes. */
Test(venus_write, every_open_shares_the_writers_container)
{
	struct CodaFid fid = fid_of("file");
	int rfd, wfd, rfd2;

	cr_assert_eq(open_fid(&fid, C_O_READ, &rfd), 0);
	cr_assert_eq(open_fid(&fid, C_O_READ | C_O_WRITE, &wfd), 0);
	assert_fd(wfd, OLD); /* a write session starts from the current bytes */
	cr_assert_eq(ftruncate(wfd, 0), 0);
	write_fd(wfd, "new contents\n");
	cr_assert_eq(open_fid(&fid, C_O_READ, &rfd2), 0);
	assert_fd(rfd2, "new contents\n");
	assert_fd(rfd, "new contents\n");
	close(rfd2);
	cr_assert_eq(close_fid(&fid, C_O_READ), 0);
	assert_vol("file", OLD); /* stored at the last writer's close */
	close(wfd);
	cr_assert_eq(close_fid(&fid, C_O_READ | C_O_WRITE), 0);
	assert_vol("file", "new contents\n");
	cr_assert_eq(open_fid(&fid, C_O_READ, &rfd2), 0);
	assert_fd(rfd2, "new contents\n");
	close(rfd);
	close(rfd2);
}

Test(venus_write, two_writers_share_container_store_at_last_close)
{
	struct CodaFid fid = fid_of("file");
	struct stat a, b;
	int w1, w2;

	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &w1), 0);
	cr_assert_eq(open_fid(&fid, C_O_WRITE, &w2), 0);
	cr_assert_eq(fstat(w1, &a), 0);
	cr_assert_eq(fstat(w2, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino, "writers share one container");
	cr_assert_eq(pwrite(w1, "one", 3, 0), 3);
	cr_assert_eq(pwrite(w2, "two", 3, 3), 3);
	close(w1);
	cr_assert_eq(close_fid(&fid, C_O_WRITE | C_O_TRUNC), 0);
	assert_vol("file", OLD);
	close(w2);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	assert_vol("file", "onetwo");
}

Test(venus_write, trunc_open_starts_empty)
{
	struct CodaFid fid = fid_of("file");
	struct coda_vattr va;
	int fd;

	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	assert_fd(fd, "");
	cr_assert_eq(getattr(&fid, &va), 0);
	cr_assert_eq(va.va_size, 0, "GETATTR shows the session's size");
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE | C_O_TRUNC), 0);
	assert_vol("file", "");
}

static ino_t ino_of(int fd)
{
	struct stat st;

	cr_assert_eq(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A new open of fid reads want, from another container than held's. */
static void assert_reopen(const struct CodaFid *fid, const char *want, int held)
{
	int fd;

	cr_assert_eq(open_fid(fid, C_O_READ, &fd), 0);
	assert_fd(fd, want);
	cr_assert_neq(ino_of(fd), ino_of(held), "a new open got the held container");
	close(fd);
	cr_assert_eq(close_fid(fid, C_O_READ), 0);
}

/* A client may hold the read container past its CODA_CLOSE: an O_TRUNC
 * open writes a new container and leaves the held one's bytes alone. */
Test(venus_write, trunc_open_of_a_held_file_writes_a_new_container)
{
	struct CodaFid fid = fid_of("file");
	int held, wfd;

	cr_assert_eq(open_fid(&fid, C_O_READ, &held), 0);
	cr_assert_eq(close_fid(&fid, C_O_READ), 0); /* closed, as far as venus knows */
	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &wfd), 0);
	cr_assert_neq(ino_of(wfd), ino_of(held), "the session must write a new container");
	write_fd(wfd, "rewritten\n");
	assert_fd(held, OLD);
	close(wfd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE | C_O_TRUNC), 0);
	assert_vol("file", "rewritten\n");
	assert_fd(held, OLD);
	assert_reopen(&fid, "rewritten\n", held);
	close(held);
}

/* A writer that keeps its file past the CODA_CLOSE venus got (a client of
 * --serve may): the next session is in a new container, and what the old
 * writer writes then never reaches the volume. */
Test(venus_write, writer_holding_a_stored_container_cannot_write_into_the_next_session)
{
	struct CodaFid fid = fid_of("file");
	int stray, wfd;

	cr_assert_eq(open_fid(&fid, C_O_WRITE, &stray), 0);
	cr_assert_eq(pwrite(stray, "NEW", 3, 0), 3);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	assert_vol("file", "NEW contents\n");
	cr_assert_eq(open_fid(&fid, C_O_WRITE, &wfd), 0);
	cr_assert_neq(ino_of(wfd), ino_of(stray), "the session took a container still written");
	assert_fd(wfd, "NEW contents\n");
	cr_assert_eq(pwrite(stray, "STRAY", 5, 4), 5);
	cr_assert_eq(pwrite(wfd, "two", 3, 0), 3);
	close(wfd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	assert_vol("file", "two contents\n");
	assert_reopen(&fid, "two contents\n", stray);
	close(stray);
}

/* truncate(2) with no write session open: the held container keeps its
 * bytes, the next open gets the truncated file in a new one. */
Test(venus_write, setattr_size_of_a_held_file_leaves_the_held_container_alone)
{
	struct CodaFid fid = fid_of("file");
	struct coda_vattr va;
	int held;

	cr_assert_eq(open_fid(&fid, C_O_READ, &held), 0);
	vattr_unset(&va);
	va.va_size = 3;
	cr_assert_eq(setattr_as(0, &fid, &va), 0);
	assert_vol("file", "old");
	assert_fd(held, OLD);
	assert_reopen(&fid, "old", held);
	close(held);
	cr_assert_eq(close_fid(&fid, C_O_READ), 0);
}

Test(venus_write, fsync_stores_without_closing)
{
	struct CodaFid fid = fid_of("file");
	int fd, rfd;

	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	write_fd(fd, "synced\n");
	cr_assert_eq(fsync_fid(&fid), 0);
	assert_vol("file", "synced\n");
	cr_assert_eq(open_fid(&fid, C_O_READ, &rfd), 0);
	assert_fd(rfd, "synced\n");
	close(rfd);
	/* The session goes on in the same container. */
	write_fd(fd, "more\n");
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE | C_O_TRUNC), 0);
	assert_vol("file", "synced\nmore\n");
}

Test(venus_write, write_open_without_writes_keeps_mtime)
{
	struct CodaFid fid = fid_of("file");
	struct stat a, b;
	int fd;

	lstat_vol("file", &a);
	cr_assert_eq(open_fid(&fid, C_O_READ | C_O_WRITE, &fd), 0);
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_READ | C_O_WRITE), 0);
	lstat_vol("file", &b);
	cr_assert_eq(b.st_mtim.tv_sec, a.st_mtim.tv_sec);
	cr_assert_eq(b.st_mtim.tv_nsec, a.st_mtim.tv_nsec);
	assert_vol("file", OLD);
}

Test(venus_write, remove_during_write_session_discards_it)
{
	struct CodaFid root = root_fid(), fid = fid_of("file");
	struct coda_vattr va;
	int fd;

	cr_assert_eq(open_fid(&fid, C_O_WRITE, &fd), 0);
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &root, "file"), 0);
	write_fd(fd, "into the void");
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	cr_assert(!vol_exists("file"), "a store must not bring the file back");
	cr_assert_eq(getattr(&fid, &va), -ENOENT);
}

/* ---- SETATTR ---- */

Test(venus_write, setattr_mode_size_times_reach_backing_and_getattr)
{
	struct CodaFid fid = fid_of("file");
	struct coda_vattr va, got;
	struct stat st, before;

	vattr_unset(&va);
	va.va_mode = 0600;
	cr_assert_eq(setattr_as(0, &fid, &va), 0);
	vattr_unset(&va);
	va.va_size = 3;
	cr_assert_eq(setattr_as(0, &fid, &va), 0);
	vattr_unset(&va);
	va.va_mtime.tv_sec = 1000000000;
	va.va_mtime.tv_nsec = 7;
	va.va_atime.tv_sec = 999999999;
	va.va_atime.tv_nsec = 0;
	cr_assert_eq(setattr_as(0, &fid, &va), 0);
	lstat_vol("file", &st);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(st.st_mtim.tv_sec, 1000000000);
	cr_assert_eq(st.st_mtim.tv_nsec, 7);
	cr_assert_eq(st.st_atim.tv_sec, 999999999);
	cr_assert_eq(getattr(&fid, &got), 0);
	cr_assert_eq(got.va_mode, 0600);
	cr_assert_eq(got.va_size, 3);
	cr_assert_eq(got.va_mtime.tv_sec, 1000000000);
	cr_assert_eq(got.va_mtime.tv_nsec, 7);
	assert_vol("file", "old");

	/* Only the mtime: the atime stays (reading it just now may have
	 * moved it: compare with what it is now). */
	lstat_vol("file", &before);
	vattr_unset(&va);
	va.va_mtime.tv_sec = 1100000000;
	va.va_mtime.tv_nsec = 0;
	cr_assert_eq(setattr_as(0, &fid, &va), 0);
	lstat_vol("file", &st);
	cr_assert_eq(st.st_mtim.tv_sec, 1100000000);
	cr_assert_eq(st.st_atim.tv_sec, before.st_atim.tv_sec);
	cr_assert_eq(st.st_atim.tv_nsec, before.st_atim.tv_nsec);
}

Test(venus_write, setattr_size_truncates_active_write_container)
{
	struct CodaFid fid = fid_of("file");
	struct coda_vattr va;
	char buf[64];
	int fd;

	cr_assert_eq(open_fid(&fid, C_O_READ | C_O_WRITE, &fd), 0);
	vattr_unset(&va);
	va.va_size = 4;
	cr_assert_eq(setattr_as(0, &fid, &va), 0);
	cr_assert_eq(read_fd(fd, buf, sizeof(buf)), 4, "the session's container is truncated");
	assert_vol("file", "old ");
	cr_assert_eq(getattr(&fid, &va), 0);
	cr_assert_eq(va.va_size, 4);
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_READ | C_O_WRITE), 0);
	assert_vol("file", "old ");
}

Test(venus_write, setattr_checks_the_caller)
{
	struct CodaFid fid = fid_of("file");
	struct coda_vattr va;

	if (geteuid() != 0)
		cr_skip_test("needs root: the files must belong to someone else");

	vattr_unset(&va);
	va.va_mode = 0777;
	cr_assert_eq(setattr_as(65534, &fid, &va), -EPERM, "chmod by a non-owner");
	vattr_unset(&va);
	va.va_uid = 65534;
	cr_assert_eq(setattr_as(65534, &fid, &va), -EPERM, "chown by a non-owner");
	vattr_unset(&va);
	va.va_size = 0;
	cr_assert_eq(setattr_as(65534, &fid, &va), -EACCES, "truncate without write access");
	vattr_unset(&va);
	va.va_mtime.tv_sec = 5;
	va.va_mtime.tv_nsec = 0;
	cr_assert_eq(setattr_as(65534, &fid, &va), -EPERM, "utimes by a non-owner");
	assert_vol("file", OLD);
}

/* ---- the namespace ---- */

Test(venus_write, mkdir_and_rmdir)
{
	struct CodaFid root = root_fid(), fid, again;
	struct coda_vattr va;
	struct stat st;

	cr_assert_eq(mkdir_as(0, &root, "made", 0751, &fid), 0);
	lstat_vol("made", &st);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0751);
	cr_assert_eq(getattr(&fid, &va), 0);
	cr_assert_eq(va.va_type, C_VDIR);
	cr_assert_eq(lookup(&root, "made", &again), 0);
	cr_assert(coda_fid_eq(&fid, &again));
	cr_assert(container_lists(&root, "made"));
	cr_assert_eq(unlink_as(0, CODA_RMDIR, &root, "made"), 0);
	cr_assert(!vol_exists("made"));
	cr_assert(!container_lists(&root, "made"));
	cr_assert_eq(getattr(&fid, &va), -ENOENT);
}

Test(venus_write, remove_file)
{
	struct CodaFid dir = fid_of("dir"), fid = fid_of("dir/a");
	struct coda_vattr va;

	cr_assert(container_lists(&dir, "a"));
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &dir, "a"), 0);
	cr_assert(!vol_exists("dir/a"));
	cr_assert_eq(getattr(&fid, &va), -ENOENT);
	/* No sleep: a change within the directory's timestamp tick shows too. */
	cr_assert(!container_lists(&dir, "a"));
	cr_assert_eq(lookup(&dir, "a", &fid), -ENOENT);
}

Test(venus_write, directory_container_shows_create_within_one_tick)
{
	struct CodaFid dir = fid_of("dir");

	for (int i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "n%d", i);
		cr_assert_eq(create(&dir, name, 0644, 1, NULL), 0);
		cr_assert(container_lists(&dir, name), "%s", name);
	}
}

Test(venus_write, rename_file_keeps_fid)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), fid = fid_of("file"), again;
	struct coda_vattr va;

	cr_assert_eq(rename_as(0, &root, "file", &dir, "moved"), 0);
	cr_assert(!vol_exists("file"));
	assert_vol("dir/moved", OLD);
	cr_assert_eq(getattr(&fid, &va), 0, "the fid follows the rename");
	cr_assert_eq(lookup(&dir, "moved", &again), 0);
	cr_assert(coda_fid_eq(&fid, &again));
	cr_assert_eq(lookup(&root, "file", &again), -ENOENT);
	cr_assert(container_lists(&dir, "moved"));
	cr_assert(!container_lists(&root, "file"));
}

Test(venus_write, rename_dir_descendants_keep_fids)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), sub = fid_of("dir/sub");
	struct CodaFid b = fid_of("dir/sub/b"), a = fid_of("dir/a"), got;
	struct coda_vattr va;
	int fd;

	cr_assert_eq(mkdir_as(0, &root, "other", 0755, NULL), 0);
	cr_assert_eq(rename_as(0, &root, "dir", &root, "renamed"), 0);
	cr_assert_eq(getattr(&b, &va), 0, "a descendant's fid still works");
	cr_assert_eq(getattr(&sub, &va), 0);
	cr_assert(fid_is("renamed", &dir));
	cr_assert(fid_is("renamed/sub", &sub));
	cr_assert(fid_is("renamed/sub/b", &b));
	cr_assert(fid_is("renamed/a", &a));
	/* A write session on a moved descendant stores at its new place. */
	cr_assert_eq(open_fid(&b, C_O_WRITE | C_O_TRUNC, &fd), 0);
	got = fid_of("other");
	cr_assert_eq(rename_as(0, &root, "renamed", &got, "deeper"), 0);
	write_fd(fd, "B\n");
	close(fd);
	cr_assert_eq(close_fid(&b, C_O_WRITE | C_O_TRUNC), 0);
	assert_vol("other/deeper/sub/b", "B\n");
	cr_assert(fid_is("other/deeper/sub/b", &b));
}

Test(venus_write, rename_replaces_destination)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), old = fid_of("dir/a");
	struct CodaFid fid = fid_of("file");
	struct coda_vattr va;

	cr_assert_eq(rename_as(0, &root, "file", &dir, "a"), 0);
	assert_vol("dir/a", OLD);
	cr_assert_eq(getattr(&old, &va), -ENOENT, "the replaced object is gone");
	cr_assert(fid_is("dir/a", &fid));
	/* Directories: replace an empty one, not a full one. */
	cr_assert_eq(mkdir_as(0, &root, "empty", 0755, NULL), 0);
	cr_assert_eq(rename_as(0, &dir, "sub", &root, "empty"), 0);
	assert_vol("empty/b", "b\n");
	cr_assert_eq(rename_as(0, &root, "dir", &root, "empty"), -ENOTEMPTY);
	cr_assert_eq(rename_as(0, &root, "empty", &dir, "a"), -ENOTDIR);
	cr_assert_eq(rename_as(0, &dir, "a", &root, "empty"), -EISDIR);
}

Test(venus_write, fid_keeps_its_linked_name_when_the_first_name_goes)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), tmp, final;
	struct coda_vattr va;
	int fd;

	/* How git writes an object: a temp file, linked to its final name,
	 * then unlinked. */
	cr_assert_eq(create(&root, "tmp_obj", 0444, 1, &tmp), 0);
	cr_assert_eq(open_fid(&tmp, C_O_WRITE, &fd), 0);
	write_fd(fd, "object");
	close(fd);
	cr_assert_eq(close_fid(&tmp, C_O_WRITE), 0);
	cr_assert_eq(link_fid(&tmp, &dir, "final"), 0);
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &root, "tmp_obj"), 0);
	/* No LOOKUP in between: the supervisor has the fid cached. */
	cr_assert_eq(getattr(&tmp, &va), 0, "the fid is reached through its other name");
	cr_assert_eq(va.va_size, 6);
	cr_assert_eq(open_fid(&tmp, C_O_READ, &fd), 0);
	assert_fd(fd, "object");
	close(fd);
	final = fid_of("dir/final");
	cr_assert(coda_fid_eq(&final, &tmp), "the link is the same fid");
}

Test(venus_write, fid_keeps_a_name_when_a_looked_up_link_goes)
{
	struct CodaFid root = root_fid(), fid, link;
	struct coda_vattr va;

	/* stress-ng --link: links made, each looked up, then removed. */
	cr_assert_eq(create(&root, "linked", 0644, 1, &fid), 0);
	cr_assert_eq(link_fid(&fid, &root, "l1"), 0);
	cr_assert_eq(link_fid(&fid, &root, "l2"), 0);
	link = fid_of("l2");
	cr_assert(coda_fid_eq(&link, &fid), "the link is the same fid");
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &root, "l1"), 0);
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &root, "l2"), 0);
	cr_assert_eq(getattr(&fid, &va), 0, "the fid is reached through its first name");
	cr_assert_eq(va.va_nlink, 1);
	cr_assert_eq(link_fid(&fid, &root, "l3"), 0);
}

Test(venus_write, fid_keeps_its_linked_name_across_a_rename_of_it)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), fid;
	struct coda_vattr va;

	cr_assert_eq(create(&root, "linked", 0644, 1, &fid), 0);
	cr_assert_eq(link_fid(&fid, &root, "link"), 0);
	cr_assert_eq(rename_as(0, &root, "link", &dir, "moved"), 0);
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &root, "linked"), 0);
	cr_assert_eq(getattr(&fid, &va), 0, "the fid is reached through the moved link");
	cr_assert_eq(va.va_nlink, 1);
}

Test(venus_write, a_removed_objects_fid_is_never_given_again)
{
	struct CodaFid root = root_fid(), first, second;
	struct stat a, b;

	cr_assert_eq(mkdir_as(0, &root, "x", 0755, &first), 0);
	lstat_vol("x", &a);
	cr_assert_eq(unlink_as(0, CODA_RMDIR, &root, "x"), 0);
	cr_assert_eq(mkdir_as(0, &root, "x", 0700, &second), 0);
	lstat_vol("x", &b);
	/* The file system may give the new directory the old inode number;
	 * the supervisor still caches the old fid's attributes. */
	cr_assert(!coda_fid_eq(&first, &second), "inode %lu then %lu: fid reused",
		  (unsigned long)a.st_ino, (unsigned long)b.st_ino);
}

Test(venus_write, link_and_symlink)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), file = fid_of("file"), got;
	struct coda_msg m;
	struct stat a, b;
	const char *data;

	cr_assert_eq(link_fid(&file, &dir, "hard"), 0);
	lstat_vol("file", &a);
	lstat_vol("dir/hard", &b);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_nlink, 2);
	cr_assert(fid_is("dir/hard", &file), "a hard link is one fid");
	cr_assert_eq(link_fid(&dir, &root, "dirlink"), -EPERM);
	cr_assert_eq(link_fid(&file, &root, "file"), -EEXIST);

	cr_assert_eq(symlink_fid(&root, "dir/a", "sym"), 0);
	got = fid_of("sym");
	coda_msg_upcall(&m, CODA_READLINK, &me);
	m.in.coda_readlink.VFid = got;
	cr_assert_eq(call(&m), 0);
	cr_assert_eq(m.out.coda_readlink.count, 5);
	cr_assert_eq(coda_msg_get_data(&m, m.out.coda_readlink.data, 5, &data), 0);
	cr_assert_eq(memcmp(data, "dir/a", 5), 0);
	cr_assert(container_lists(&root, "sym"));
	cr_assert_eq(symlink_fid(&root, "x", "sym"), -EEXIST);
}

Test(venus_write, store_of_hard_linked_file_keeps_the_link)
{
	struct CodaFid root = root_fid(), file = fid_of("file");
	struct stat a, b;
	int fd;

	cr_assert_eq(link_fid(&file, &root, "twin"), 0);
	lstat_vol("file", &a);
	cr_assert_eq(open_fid(&file, C_O_WRITE | C_O_TRUNC, &fd), 0);
	write_fd(fd, "both names\n");
	close(fd);
	cr_assert_eq(close_fid(&file, C_O_WRITE | C_O_TRUNC), 0);
	assert_vol("file", "both names\n");
	assert_vol("twin", "both names\n");
	lstat_vol("twin", &b);
	cr_assert_eq(a.st_ino, b.st_ino, "still one inode");
	cr_assert_eq(b.st_nlink, 2);
}

/* "dir/sub" moved to "dir/sub2" behind venus's back, after a lookup in it
 * made venus keep it open, and a symlink "sub" -> "sub2" left: the fid's
 * path leads to it only through the symlink, so it is a directory gone,
 * and nothing is made where the symlink leads. */
Test(venus_write, create_in_a_directory_a_symlink_now_leads_to_is_enoent)
{
	struct CodaFid sub = fid_of("dir/sub"), fid;
	char from[256], to[256];
	struct stat st;

	cr_assert_eq(lookup(&sub, "b", &fid), 0);
	vpath(from, sizeof(from), "dir/sub");
	vpath(to, sizeof(to), "dir/sub2");
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(symlink("sub2", from), 0);
	cr_assert_eq(create(&sub, "new", 0644, 1, &fid), -ENOENT);
	vpath(to, sizeof(to), "dir/sub2/new");
	cr_assert_neq(lstat(to, &st), 0, "a file was made through the symlink");
}

/* Directory `dir` used in three upcalls, so that its chain of directories
 * is watched (venus/dir_watch.c) and its path no longer read back; then
 * `moved` (it, or an ancestor) renamed behind venus's back, to `moved`2,
 * and a symlink to `target` left in its place. */
static struct CodaFid watched_then_moved(const char *dir, const char *moved, const char *target)
{
	struct CodaFid fid = fid_of(dir), got;
	char from[256], to[260];

	for (int i = 0; i < 3; i++)
		cr_assert_eq(lookup(&fid, "missing", &got), -ENOENT);
	vpath(from, sizeof(from), moved);
	snprintf(to, sizeof(to), "%s2", from);
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(symlink(target, from), 0);
	return fid;
}

Test(venus_write, create_in_a_watched_directory_a_symlink_now_leads_to_is_enoent)
{
	struct CodaFid sub = watched_then_moved("dir/sub", "dir/sub", "sub2"), fid;
	char p[256];
	struct stat st;

	cr_assert_eq(create(&sub, "new", 0644, 1, &fid), -ENOENT);
	vpath(p, sizeof(p), "dir/sub2/new");
	cr_assert_neq(lstat(p, &st), 0, "a file was made through the symlink");
}

/* Only a grandparent moved, and its name now leads out of the volume: the
 * kept fds of "dir/sub/deep" and of "dir/sub" saw nothing, the watch on
 * "dir" in their chains did, and the path is resolved again, as a fresh
 * openat2 would (RESOLVE_BENEATH). */
Test(venus_write, create_in_a_watched_directory_whose_ancestor_now_leads_out_is_enoent)
{
	struct CodaFid deep, fid;
	char p[256];
	struct stat st;

	vpath(p, sizeof(p), "dir/sub/deep");
	cr_assert_eq(mkdir(p, 0755), 0);
	deep = watched_then_moved("dir/sub/deep", "dir", "/");
	cr_assert_eq(create(&deep, "new", 0644, 1, &fid), -ENOENT);
	vpath(p, sizeof(p), "dir2/sub/deep/new");
	cr_assert_neq(lstat(p, &st), 0, "made where the directory went, not at its path");
}

/* Moved into a directory venus has never looked at: only the directory it
 * left can tell. */
Test(venus_write, create_in_a_watched_directory_moved_elsewhere_is_enoent)
{
	struct CodaFid sub = fid_of("dir/sub"), got;
	char from[256], to[256];
	struct stat st;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(lookup(&sub, "missing", &got), -ENOENT);
	vpath(to, sizeof(to), "elsewhere");
	cr_assert_eq(mkdir(to, 0755), 0);
	vpath(from, sizeof(from), "dir/sub");
	vpath(to, sizeof(to), "elsewhere/sub");
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(create(&sub, "new", 0644, 1, &got), -ENOENT);
	vpath(to, sizeof(to), "elsewhere/sub/new");
	cr_assert_neq(lstat(to, &st), 0, "made where the directory went, not at its path");
}

/* More directories watched than venus keeps watches for (dir_watch.c's
 * WATCH_MAX, 512): it drops them all and starts again. "dir/sub", used
 * all along (so kept open and trusted before and after), is still seen
 * to move once its watches have been dropped: only its own watch on "dir"
 * could tell. */
Test(venus_write, a_directory_watched_past_the_watch_limit_is_still_seen_to_move)
{
	struct CodaFid kept = fid_of("dir/sub"), fid, got;
	char p[256], to[300];
	struct stat st;

	for (int i = 0; i < 600; i++) {
		vpath(p, sizeof(p), "p");
		snprintf(to, sizeof(to), "%s%d", p, i);
		cr_assert_eq(mkdir(to, 0755), 0);
		snprintf(to, sizeof(to), "%s%d/c", p, i);
		cr_assert_eq(mkdir(to, 0755), 0);
	}
	for (int i = 0; i < 600; i++) {
		snprintf(to, sizeof(to), "p%d/c", i);
		fid = fid_of(to);
		for (int k = 0; k < 2; k++) {
			cr_assert_eq(lookup(&fid, "missing", &got), -ENOENT);
			cr_assert_eq(lookup(&kept, "missing", &got), -ENOENT);
		}
	}
	vpath(p, sizeof(p), "dir/sub");
	snprintf(to, sizeof(to), "%s2", p);
	cr_assert_eq(rename(p, to), 0);
	cr_assert_eq(symlink("/", p), 0);
	cr_assert_eq(create(&kept, "new", 0644, 1, &got), -ENOENT);
	vpath(p, sizeof(p), "dir/sub2/new");
	cr_assert_neq(lstat(p, &st), 0, "made where the directory went, not at its path");
}

/* make clean, then make: a directory venus keeps open, and trusts at its
 * path, removed behind its back and made again. venus still holds the old
 * one, so the kernel tells no watch on it; the new one, looked up, takes
 * what is made in it. */
Test(venus_write, create_in_a_watched_directory_made_again_lands_in_the_new_one)
{
	struct CodaFid sub = fid_of("dir/sub"), got;
	char p[256];

	for (int i = 0; i < 3; i++)
		cr_assert_eq(lookup(&sub, "missing", &got), -ENOENT);
	vpath(p, sizeof(p), "dir/sub/b");
	cr_assert_eq(unlink(p), 0);
	vpath(p, sizeof(p), "dir/sub");
	cr_assert_eq(rmdir(p), 0);
	cr_assert_eq(mkdir(p, 0755), 0);
	sub = fid_of("dir/sub");
	cr_assert_eq(create(&sub, "new", 0644, 1, &got), 0);
	assert_vol("dir/sub/new", "");
}

/* Trusted without a look, a watched directory still takes what is made in
 * it, upcall after upcall. */
Test(venus_write, creates_in_a_watched_directory_land_in_it)
{
	struct CodaFid sub = fid_of("dir/sub"), fid;
	char name[16];

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		cr_assert_eq(create(&sub, name, 0644, 1, &fid), 0);
	}
	assert_vol("dir/sub/n0", "");
	assert_vol("dir/sub/n4", "");
}

/* The same directory, still where it was: a second create in it, in
 * another upcall, checks it again and makes the file there. */
Test(venus_write, create_in_a_directory_kept_open_lands_in_it)
{
	struct CodaFid sub = fid_of("dir/sub"), fid;

	cr_assert_eq(lookup(&sub, "b", &fid), 0);
	cr_assert_eq(create(&sub, "one", 0644, 1, &fid), 0);
	cr_assert_eq(create(&sub, "two", 0644, 1, &fid), 0);
	assert_vol("dir/sub/one", "");
	assert_vol("dir/sub/two", "");
}

Test(venus_write, create_existing_name)
{
	struct CodaFid root = root_fid(), file = fid_of("file"), got;

	cr_assert_eq(create(&root, "file", 0644, 1, &got), -EEXIST);
	cr_assert_eq(create(&root, "file", 0644, 0, &got), 0, "O_CREAT without O_EXCL opens");
	cr_assert(coda_fid_eq(&got, &file));
	cr_assert_eq(create(&root, "dir", 0644, 0, &got), -EISDIR);
	assert_vol("file", OLD);
}

/* As may_create: an existing name is EEXIST (or opened, without O_EXCL)
 * before the directory's permission is asked; only a new one is EACCES. */
Test(venus_write, create_of_an_existing_name_where_the_caller_may_not_write_is_eexist_or_opens)
{
	struct CodaFid dir = fid_of("dir"), a = fid_of("dir/a"), got;

	if (geteuid() != 0)
		cr_skip_test("needs root to own files as others");
	cr_assert_eq(create_as(65534, &dir, "a", 0644, 1, NULL), -EEXIST);
	cr_assert_eq(create_as(65534, &dir, "a", 0644, 0, &got), 0);
	cr_assert(coda_fid_eq(&got, &a));
	cr_assert_eq(create_as(65534, &dir, "new", 0644, 0, NULL), -EACCES);
	cr_assert(!vol_exists("dir/new"));
}

Test(venus_write, namespace_errors)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), file = fid_of("file");
	char longname[300];

	cr_assert_eq(mkdir_as(0, &root, "dir", 0755, NULL), -EEXIST);
	cr_assert_eq(unlink_as(0, CODA_RMDIR, &root, "dir"), -ENOTEMPTY);
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &root, "dir"), -EISDIR);
	cr_assert_eq(unlink_as(0, CODA_RMDIR, &root, "file"), -ENOTDIR);
	cr_assert_eq(unlink_as(0, CODA_REMOVE, &root, "missing"), -ENOENT);
	cr_assert_eq(create(&file, "x", 0644, 1, NULL), -ENOTDIR);
	cr_assert_eq(create(&root, "a/b", 0644, 1, NULL), -EINVAL);
	cr_assert_eq(create(&root, ".", 0644, 1, NULL), -EINVAL);
	cr_assert_eq(mkdir_as(0, &root, "..", 0755, NULL), -EINVAL);
	cr_assert_eq(unlink_as(0, CODA_RMDIR, &dir, "."), -EINVAL);
	memset(longname, 'n', 256);
	longname[256] = '\0';
	cr_assert_eq(create(&root, longname, 0644, 1, NULL), -ENAMETOOLONG);
	cr_assert_eq(rename_as(0, &root, "dir", &dir, "inside"), -EINVAL);
}

Test(venus_write, non_owner_gets_eacces_and_sticky_eperm)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), sub;
	char p[256];
	int fd;

	if (geteuid() != 0)
		cr_skip_test("needs root to own files as others");
	/* dir is 0755, owned by root: nobody may not write it. */
	cr_assert_eq(create_as(65534, &dir, "x", 0644, 1, NULL), -EACCES);
	cr_assert_eq(mkdir_as(65534, &dir, "x", 0755, NULL), -EACCES);
	cr_assert_eq(unlink_as(65534, CODA_REMOVE, &dir, "a"), -EACCES);
	cr_assert_eq(rename_as(65534, &dir, "a", &dir, "c"), -EACCES);
	cr_assert(vol_exists("dir/a"));

	/* A sticky, world-writable directory: create is fine and the new
	 * file is the caller's; removing someone else's file is not. */
	cr_assert_eq(mkdir_as(0, &root, "tmp", 01777, &sub), 0);
	cr_assert_eq(create_as(65534, &sub, "mine", 0644, 1, NULL), 0);
	struct stat st;
	lstat_vol("tmp/mine", &st);
	cr_assert_eq(st.st_uid, 65534, "a new object belongs to the caller");
	vpath(p, sizeof(p), "tmp/roots");
	fd = open(p, O_CREAT | O_WRONLY, 0666);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(unlink_as(65534, CODA_REMOVE, &sub, "roots"), -EPERM);
	cr_assert_eq(rename_as(65534, &sub, "roots", &sub, "taken"), -EPERM);
	cr_assert_eq(unlink_as(65534, CODA_REMOVE, &sub, "mine"), 0);
}

Test(venus_write, store_temp_names_are_hidden)
{
	struct CodaFid root = root_fid(), got;

	write_file(".coda-store.1.1", "junk", 4); /* pid 1 is alive: not stale */
	cr_assert_eq(lookup(&root, ".coda-store.1.1", &got), -ENOENT);
	cr_assert(!container_lists(&root, ".coda-store.1.1"));
	cr_assert(container_lists(&root, "file"));
	cr_assert_eq(create(&root, ".coda-store.2.2", 0644, 1, NULL), -EPERM);
	cr_assert(vol_exists(".coda-store.1.1"), "a live venus's temp file stays");
}

/* ---- read-only volumes ---- */

Test(venus_write, read_only_gives_erofs_everywhere)
{
	static const uint32_t ops[] = {CODA_CREATE, CODA_MKDIR, CODA_REMOVE,  CODA_RMDIR,
				       CODA_RENAME, CODA_LINK,	CODA_SYMLINK, CODA_SETATTR};
	struct CodaFid root, fid;
	int fd;

	stop_venus();
	spawn_venus(true);
	root = root_fid();
	fid = fid_of("file");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct coda_msg m;

		coda_msg_upcall(&m, ops[i], &me);
		m.in.coda_getattr.VFid = root;
		cr_assert_eq(call(&m), -EROFS, "%s", coda_opcode_name(ops[i]));
	}
	cr_assert_eq(create(&root, "new", 0644, 1, NULL), -EROFS);
	cr_assert_eq(open_fid(&fid, C_O_READ | C_O_WRITE, &fd), -EROFS);
	cr_assert_eq(open_fid(&fid, C_O_WRITE, &fd), -EROFS);
	cr_assert_eq(open_fid(&fid, C_O_READ | C_O_TRUNC, &fd), -EROFS);
	cr_assert_eq(fsync_fid(&fid), 0, "nothing to store");
	cr_assert_eq(open_fid(&fid, C_O_READ, &fd), 0, "reads still work");
	assert_fd(fd, OLD);
	close(fd);
	assert_vol("file", OLD);
}

/* ---- crashes ---- */

static int file_count(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* venus killed at a step of the store of a session that writes `NEWB` into
 * a file that held `old`; the volume must hold the old or the new file
 * whole, and a new venus on the same cache must store the closed session
 * (it is logged) and serve it. The container itself becomes the backing
 * file (store.c: linked, or exchanged with an empty one), unless a writer
 * keeps it open (`stray`, as a client of --serve may): then both stores
 * copy it. */
#define NEWB "the new contents, longer than the old\n"
static void crash_during_store_of(const char *old, int step, const char *want, bool stray)
{
	struct CodaFid fid, root;
	struct coda_msg m;
	char path[64];
	int fd, held = -1, status;

	stop_venus();
	write_file("file", old, strlen(old));
	crash_step = step;
	spawn_venus(false);
	fid = fid_of("file");
	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	write_fd(fd, NEWB);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (stray)
		cr_assert_geq(held = open(path, O_RDWR | O_CLOEXEC), 0);
	close(fd);
	coda_msg_upcall(&m, CODA_CLOSE, &me);
	m.in.coda_close.VFid = fid;
	m.in.coda_close.flags = C_O_WRITE | C_O_TRUNC;
	send_upcall(&m);
	cr_assert_eq(waitpid(venus_pid, &status, 0), venus_pid);
	venus_pid = -1;
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	close(chan);
	chan = -1;
	assert_vol("file", want);
	cr_assert_eq(file_count(cache, "cml."), 1, "the unstored session is in the cache");

	crash_step = 0;
	spawn_venus(false);
	root = root_fid();
	fid = fid_of("file");
	cr_assert_eq(open_fid(&fid, C_O_READ, &fd), 0);
	assert_fd(fd, NEWB);
	close(fd);
	assert_vol("file", NEWB);
	if (held >= 0)
		close(held);
	cr_assert_eq(file_count(cache, "cml."), 0, "the stored session left the cache");
	cr_assert_eq(file_count(cache, "CML"), 0, "the log is empty, so gone");
	cr_assert(!container_lists(&root, ".coda-store."));
	cr_assert_eq(file_count(vol, ".coda-store."), 0,
		     "listing removes a dead store's temp file");
	/* And the new venus writes. */
	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	write_fd(fd, "after\n");
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE | C_O_TRUNC), 0);
	assert_vol("file", "after\n");
}

static void crash_during_store_with(int step, const char *want, bool stray)
{
	crash_during_store_of(OLD, step, want, stray);
}

Test(venus_write, crash_after_temp_created_keeps_old_file_until_restart_stores)
{
	crash_during_store_with(1, OLD, false);
}

Test(venus_write, crash_after_copy_before_sync_keeps_old_file_until_restart_stores)
{
	crash_during_store_with(2, OLD, false);
}

Test(venus_write, crash_before_rename_keeps_old_file_until_restart_stores)
{
	crash_during_store_with(3, OLD, false);
}

Test(venus_write, crash_after_rename_has_new_file_and_restart_stores_again)
{
	crash_during_store_with(4, NEWB, false);
}

Test(venus_write, crash_during_a_copied_store_keeps_old_file_until_restart_stores)
{
	crash_during_store_with(2, OLD, true);
}

Test(venus_write, crash_after_rename_of_a_copied_store_has_new_file_and_restart_stores_again)
{
	crash_during_store_with(4, NEWB, true);
}

Test(venus_write, crash_before_an_empty_file_is_exchanged_keeps_it_empty_until_restart_stores)
{
	crash_during_store_of("", 1, "", false);
}

Test(venus_write, crash_just_before_the_exchange_keeps_the_empty_file_until_restart_stores)
{
	crash_during_store_of("", 3, "", false);
}

Test(venus_write, crash_after_the_exchange_has_new_file_and_restart_keeps_it)
{
	crash_during_store_of("", 4, NEWB, false);
}

/* A session's store into an empty backing file (one CODA_CREATE made) puts
 * the written inode itself in the volume, and keeps the old one, empty, as
 * the cache's next container: nothing is copied, no inode deleted. */
Test(venus_write, store_into_an_empty_file_puts_the_container_itself_in_the_volume)
{
	struct CodaFid fid;
	struct stat cst, vst;
	int fd;

	write_file("file", "", 0);
	fid = fid_of("file");
	cr_assert_eq(open_fid(&fid, C_O_WRITE, &fd), 0);
	write_fd(fd, NEWB);
	cr_assert_eq(fstat(fd, &cst), 0);
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	assert_vol("file", NEWB);
	lstat_vol("file", &vst);
	cr_assert_eq(vst.st_ino, cst.st_ino, "the container is the backing file now");
	cr_assert_eq(file_count(cache, "cml."), 1, "the old file is a spare");
	cr_assert_eq(file_count(vol, ".coda-store."), 0);
}

/* The stored file is the backing file as it was but for its bytes: its
 * owner and mode stay, whether the store exchanged the container with an
 * empty file or linked it over one with bytes. */
static void store_keeps_owner_and_mode_of(const char *old)
{
	struct CodaFid fid;
	struct stat st;
	char p[256];
	int fd;

	if (geteuid() != 0)
		cr_skip_test("needs root to own files as others");
	write_file("file", old, strlen(old));
	vpath(p, sizeof(p), "file");
	cr_assert_eq(chown(p, 65534, 65534), 0);
	cr_assert_eq(chmod(p, 0640), 0);
	fid = fid_of("file");
	cr_assert_eq(open_fid(&fid, C_O_WRITE, &fd), 0);
	write_fd(fd, NEWB);
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	assert_vol("file", NEWB);
	lstat_vol("file", &st);
	cr_assert_eq(st.st_uid, 65534);
	cr_assert_eq(st.st_gid, 65534);
	cr_assert_eq(st.st_mode & 07777, 0640);
}

Test(venus_write, store_into_an_empty_file_keeps_its_owner_and_mode)
{
	store_keeps_owner_and_mode_of("");
}

Test(venus_write, store_into_a_file_with_bytes_keeps_its_owner_and_mode)
{
	store_keeps_owner_and_mode_of(OLD);
}

/* kill -9 from outside while a big file is stored: old or new, whole. */
Test(venus_write, sigkill_during_big_store_leaves_whole_file)
{
	const size_t size = 64 << 20;
	struct CodaFid fid = fid_of("file");
	struct coda_msg m;
	char *buf, *got;
	size_t len;
	int fd;

	buf = malloc(size);
	cr_assert_not_null(buf);
	memset(buf, 'o', size);
	write_file("file", buf, size);
	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	memset(buf, 'n', size);
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, buf + off, size - off);

		cr_assert_gt(n, 0);
		off += (size_t)n;
	}
	close(fd);
	coda_msg_upcall(&m, CODA_CLOSE, &me);
	m.in.coda_close.VFid = fid;
	m.in.coda_close.flags = C_O_WRITE | C_O_TRUNC;
	send_upcall(&m);
	/* Kill as soon as the temp file shows; if the store wins the race,
	 * the file is simply new. */
	for (int i = 0; i < 200000 && !file_count(vol, ".coda-store."); i++) {
		struct pollfd p = {.fd = chan, .events = POLLIN};

		if (poll(&p, 1, 0) == 1)
			break;
	}
	cr_log_info("temp file seen before the kill: %d", file_count(vol, ".coda-store."));
	kill_venus();
	got = read_vol("file", &len);
	cr_assert_eq(len, size);
	cr_assert(got[0] == 'o' || got[0] == 'n');
	cr_log_info("after the kill the file is %s", got[0] == 'o' ? "old" : "new");
	for (size_t i = 0; i < len; i++)
		if (got[i] != got[0])
			cr_assert_fail("mixed file at byte %zu", i);
	free(got);
	free(buf);
	spawn_venus(false);
	fid = fid_of("file");
	cr_assert_eq(open_fid(&fid, C_O_READ, &fd), 0);
	close(fd);
	got = read_vol("file", &len);
	cr_assert(len == size && got[0] == 'n' && got[size - 1] == 'n',
		  "the restart stored the closed session");
	free(got);
	cr_assert_eq(file_count(cache, "cml."), 0);
}

/* A venus killed while a session is still open: the writer goes on writing
 * into the container and closes it, and the next venus on the cache
 * stores what it holds (as stock venus replays its log). */
Test(venus_write, session_open_when_venus_dies_is_stored_by_the_next)
{
	struct CodaFid fid = fid_of("file");
	int fd;

	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	write_fd(fd, "half ");
	kill_venus();
	write_fd(fd, "and the rest\n");
	close(fd);
	assert_vol("file", OLD);
	spawn_venus(false);
	fid = fid_of("file");
	assert_vol("file", "half and the rest\n");
	cr_assert_eq(file_count(cache, "cml."), 0);
}

/* Only the data of a sparse file is copied, and its holes stay holes on
 * the volume after a store. */
Test(venus_write, store_of_a_sparse_file_keeps_its_holes)
{
	const off_t size = (off_t)1 << 30;
	struct CodaFid fid = fid_of("file");
	struct stat st;
	int fd;

	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	cr_assert_eq(pwrite(fd, "head", 4, 0), 4);
	cr_assert_eq(pwrite(fd, "tail", 4, size - 4), 4);
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE | C_O_TRUNC), 0);
	lstat_vol("file", &st);
	cr_assert_eq(st.st_size, size);
	cr_assert_lt(st.st_blocks * 512, 1 << 20, "%lld bytes allocated for 8 written",
		     (long long)st.st_blocks * 512);
	/* And again from the volume into a new session's container. */
	cr_assert_eq(open_fid(&fid, C_O_WRITE, &fd), 0);
	cr_assert_eq(pwrite(fd, "mid!", 4, size / 2), 4);
	close(fd);
	cr_assert_eq(close_fid(&fid, C_O_WRITE), 0);
	lstat_vol("file", &st);
	cr_assert_eq(st.st_size, size);
	cr_assert_lt(st.st_blocks * 512, 1 << 20);
}

/* ---- the old backing file of a new file, kept for the next one ---- */

/* Creates `name` and opens it for writing, as open(O_CREAT) does; the
 * inode CREATE made in *ino. */
static struct CodaFid create_open(const char *name, ino_t *ino, int *fd)
{
	struct CodaFid root = root_fid(), fid;
	struct stat st;

	cr_assert_eq(create(&root, name, 0644, 1, &fid), 0);
	lstat_vol(name, &st);
	*ino = st.st_ino;
	cr_assert_eq(open_fid(&fid, C_O_WRITE, fd), 0);
	return fid;
}

/* Writes data into the file open at fd and closes it: its store. */
static void write_close(const struct CodaFid *fid, int fd, const char *data)
{
	write_fd(fd, data);
	close(fd);
	cr_assert_eq(close_fid(fid, C_O_WRITE), 0);
}

/* The store of a new file deletes no inode: the empty file CREATE made is
 * kept, and becomes the next new file's container (venus/spare.c). */
Test(venus_write, a_new_files_empty_backing_file_becomes_the_next_container)
{
	struct CodaFid fa, fb;
	ino_t a, b;
	struct stat st;
	int fd;

	fa = create_open("a", &a, &fd);
	write_close(&fa, fd, "first\n");
	fb = create_open("b", &b, &fd);
	write_close(&fb, fd, "second\n");
	assert_vol("a", "first\n");
	assert_vol("b", "second\n");
	lstat_vol("b", &st);
	cr_assert_eq(st.st_ino, a, "b is stored in the inode CREATE made for a");
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_eq(file_count(vol, ".coda-store."), 0, "no temp file left in the volume");
}

/* An old backing file that a program holds is never made another file: it
 * goes, as a rename over it would, and the holder keeps its empty file. */
Test(venus_write, an_empty_backing_file_held_open_is_not_kept)
{
	struct CodaFid fa, fb;
	ino_t a, b;
	struct stat st;
	char p[256];
	int held, fd;

	fa = create_open("a", &a, &fd);
	vpath(p, sizeof(p), "a");
	held = open(p, O_RDONLY);
	cr_assert_geq(held, 0);
	write_close(&fa, fd, "first\n");
	fb = create_open("b", &b, &fd);
	write_close(&fb, fd, "second\n");
	lstat_vol("b", &st);
	cr_assert_neq(st.st_ino, a, "the held file became b");
	cr_assert_eq(fstat(held, &st), 0);
	cr_assert_eq(st.st_size, 0, "the holder's file changed");
	cr_assert_eq(st.st_nlink, 0, "the held file is still linked somewhere");
	close(held);
	assert_vol("b", "second\n");
}

/* The log holds a session still open when a later one has been stored
 * (its done record follows the open one's entry): the next venus stores
 * the open one. */
Test(venus_write, a_session_open_when_another_is_stored_stays_logged)
{
	struct CodaFid fid = fid_of("file"), other;
	ino_t ino;
	int fd, ofd;

	cr_assert_eq(open_fid(&fid, C_O_WRITE | C_O_TRUNC, &fd), 0);
	write_fd(fd, "half ");
	other = create_open("other", &ino, &ofd);
	write_close(&other, ofd, "stored\n");
	kill_venus();
	write_fd(fd, "and the rest\n");
	close(fd);
	assert_vol("file", OLD);
	assert_vol("other", "stored\n");
	spawn_venus(false);
	fid = fid_of("file");
	assert_vol("file", "half and the rest\n");
	assert_vol("other", "stored\n");
	cr_assert_eq(file_count(cache, "cml."), 0);
}

/* Leaves in the cache what a venus killed as `pid` could have: a fill it
 * never finished and a container it never logged. */
static void plant_leftovers_of(pid_t pid)
{
	const char *const kinds[] = {".new.%ld.1", "cml.%ld.7"};
	char name[64], path[300];

	for (size_t i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), kinds[i], (long)pid);
		snprintf(path, sizeof(path), "%s/%s", cache, name);
		cr_assert_eq(close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)), 0);
	}
}

static int runs_recorded(void)
{
	char runs[300];

	snprintf(runs, sizeof(runs), "%s/runs", cache);
	return file_count(runs, "") - 2; /* "." and ".." */
}

Test(venus_write, a_start_after_a_killed_venus_sweeps_what_it_left)
{
	pid_t killed = venus_pid;

	root_fid();
	kill_venus();
	plant_leftovers_of(killed);
	spawn_venus(false);
	root_fid();
	cr_assert_eq(file_count(cache, ".new."), 0);
	cr_assert_eq(file_count(cache, "cml."), 0);
	cr_assert_eq(runs_recorded(), 1, "the killed venus's record went with the sweep");
}

/* A clean stop leaves nothing to sweep, and the cache, one container per
 * object ever opened, is not listed at the next start. */
Test(venus_write, a_start_after_a_clean_stop_does_not_list_the_cache)
{
	pid_t stopped = venus_pid;

	root_fid();
	cr_assert_eq(runs_recorded(), 1);
	stop_venus();
	cr_assert_eq(runs_recorded(), 0, "a clean stop removes its record");
	plant_leftovers_of(stopped);
	spawn_venus(false);
	root_fid();
	cr_assert_eq(file_count(cache, ".new."), 1, "the cache was listed");
	cr_assert_eq(file_count(cache, "cml."), 1, "the cache was listed");
}
