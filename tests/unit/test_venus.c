/* The embedded venus, driven over a real channel as the supervisor drives it.
 *
 * Each test gets a fresh volume and cache directory and a venus in a child
 * process; the test plays the kernel's part: it sends upcalls, reads the
 * replies and checks them against the backing directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "scratch.h"
#include "venus.h"
#include "venus_dirent.h"

#define HELLO "hello, coda\n"

static char base[64], vol[128], cache[128];
static int chan = -1;
static pid_t venus_pid = -1;
static uint32_t next_unique = 1;
static const struct coda_caller me = {.pid = 100, .pgid = 100, .uid = 0};

static void vpath(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", vol, rel);
}

static void write_file(const char *rel, const char *data)
{
	char p[256];
	int fd;

	vpath(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "create %s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void make_volume(void)
{
	char p[256];

	snprintf(base, sizeof(base), "/tmp/venus-test-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(vol, sizeof(vol), "%s/vol", base);
	snprintf(cache, sizeof(cache), "%s/cache", base);
	cr_assert_eq(mkdir(vol, 0755), 0);
	write_file("hello.txt", HELLO);
	write_file("secret", "no peeking\n");
	vpath(p, sizeof(p), "secret");
	cr_assert_eq(chmod(p, 0), 0);
	vpath(p, sizeof(p), "dir");
	cr_assert_eq(mkdir(p, 0750), 0);
	write_file("dir/inner.txt", "inner\n");
	write_file("dir/other", "");
	vpath(p, sizeof(p), "link");
	cr_assert_eq(symlink("hello.txt", p), 0);
}

static void spawn_venus(void)
{
	int fds[2];

	cr_assert_eq(chan_pair(fds), 0);
	venus_pid = fork();
	cr_assert_geq(venus_pid, 0);
	if (venus_pid == 0) {
		struct venus_config cfg = {.volume = vol, .cache = cache, .verbose = false};

		close(fds[0]);
		_exit(venus_run(fds[1], &cfg));
	}
	close(fds[1]);
	chan = fds[0];
}

static void start_venus(void)
{
	make_volume();
	spawn_venus();
}

/* Closing the channel is the orderly end: venus must exit 0. */
static int stop_venus(void)
{
	int status = -1;

	if (chan >= 0)
		close(chan);
	chan = -1;
	if (venus_pid > 0) {
		alarm(10);
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

TestSuite(venus, .init = start_venus, .fini = teardown, .timeout = 30);

/* Receives one message, waiting up to ms; -ETIMEDOUT if none comes. */
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

/* Sends the upcall in *m and replaces it by the reply; returns the result. */
static int call(struct coda_msg *m)
{
	uint32_t opcode = m->ih.opcode, unique;

	send_upcall(m);
	unique = m->ih.unique;
	cr_assert_eq(recv_within(m, 5000), 0, "no reply to opcode %u", opcode);
	cr_assert_eq(m->oh.unique, unique);
	cr_assert_eq(m->oh.opcode, opcode);
	return coda_msg_check_reply(m, opcode);
}

static struct CodaFid root_fid(void)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ROOT, &me);
	cr_assert_eq(call(&m), 0);
	return m.out.coda_root.VFid;
}

static int lookup(const struct CodaFid *dir, const char *name, struct CodaFid *fid, int *vtype)
{
	struct coda_msg m;
	int err;

	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.in.coda_lookup.VFid = *dir;
	cr_assert_eq(coda_msg_put_string(&m, &m.in.coda_lookup.name, name, strlen(name)), 0);
	err = call(&m);
	if (!err) {
		*fid = m.out.coda_lookup.VFid;
		if (vtype)
			*vtype = m.out.coda_lookup.vtype;
	}
	return err;
}

/* The fid of a path below the root, one LOOKUP per component. */
static struct CodaFid fid_of(const char *rel)
{
	struct CodaFid fid = root_fid();
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save))
		cr_assert_eq(lookup(&fid, c, &fid, NULL), 0, "lookup %s", c);
	return fid;
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

static int open_by_fd(const struct CodaFid *fid, int flags, int *fd)
{
	struct coda_msg m;
	int err;

	coda_msg_upcall(&m, CODA_OPEN_BY_FD, &me);
	m.in.coda_open_by_fd.VFid = *fid;
	m.in.coda_open_by_fd.flags = flags;
	err = call(&m);
	if (!err) {
		cr_assert_geq(m.fd, 0, "OPEN_BY_FD reply without an fd");
		cr_assert_geq(m.out.coda_open_by_fd.fd, 0);
		*fd = m.fd;
	} else {
		cr_assert_eq(m.fd, -1);
	}
	return err;
}

static int close_fid(const struct CodaFid *fid)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_CLOSE, &me);
	m.in.coda_close.VFid = *fid;
	return call(&m);
}

static int access_as(const struct CodaFid *fid, uid_t uid, int flags)
{
	struct coda_msg m;
	struct coda_caller who = {.pid = 1, .pgid = 1, .uid = uid};

	coda_msg_upcall(&m, CODA_ACCESS, &who);
	m.in.coda_access.VFid = *fid;
	m.in.coda_access.flags = flags;
	return call(&m);
}

static void lstat_vol(const char *rel, struct stat *st)
{
	char p[256];

	vpath(p, sizeof(p), rel);
	cr_assert_eq(lstat(p, st), 0, "lstat %s", p);
}

/* Whole content of an fd from offset 0 (pread: the fd's own offset stays). */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while ((n = pread(fd, buf + len, cap - len, (off_t)len)) > 0)
		len += (size_t)n;
	cr_assert_geq(n, 0);
	return len;
}

Test(venus, root_fid_names_the_volume_root)
{
	struct CodaFid fid = root_fid();
	struct stat st;

	lstat_vol(".", &st);
	cr_assert_eq(fid.opaque[0], 0x7f000001u);
	/* A kernel mount's st_ino of it (coda_f2i) is the inode number. */
	cr_assert_eq(coda_fid_ino(&fid), (uint32_t)st.st_ino);
	cr_assert_eq(fid.opaque[2], (uint32_t)((uint64_t)st.st_ino >> 32));
}

Test(venus, lookup_reports_vtype_and_inode_fid)
{
	static const struct {
		const char *name;
		int vtype;
	} want[] = {{"hello.txt", C_VREG}, {"dir", C_VDIR}, {"link", C_VLNK}, {"secret", C_VREG}};
	struct CodaFid root = root_fid(), fid;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct stat st;
		int vtype;

		cr_assert_eq(lookup(&root, want[i].name, &fid, &vtype), 0, "%s", want[i].name);
		cr_assert_eq(vtype, want[i].vtype, "%s", want[i].name);
		lstat_vol(want[i].name, &st);
		cr_assert_eq(coda_fid_ino(&fid), (uint32_t)st.st_ino, "%s", want[i].name);
		cr_assert_eq(fid.opaque[1], root.opaque[1]);
	}
}

/* The embedded venus's LOOKUP reply carries what GETATTR answers for the
 * object (proto/coda_wire.h), so a first touch is one round trip. */
Test(venus, lookup_reply_carries_the_attributes_getattr_gives)
{
	static const char *const names[] = {"hello.txt", "dir", "link", "secret"};
	struct CodaFid root = root_fid();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct coda_vattr from_lookup, from_getattr;
		struct coda_msg m;

		coda_msg_upcall(&m, CODA_LOOKUP, &me);
		m.in.coda_lookup.VFid = root;
		cr_assert_eq(
		    coda_msg_put_string(&m, &m.in.coda_lookup.name, names[i], strlen(names[i])), 0);
		cr_assert_eq(call(&m), 0, "%s", names[i]);
		cr_assert_eq(m.len, sizeof(struct coda_lookup_attr_out), "%s: a %zu-byte reply",
			     names[i], m.len);
		memcpy(&from_lookup, m.raw + offsetof(struct coda_lookup_attr_out, attr),
		       sizeof(from_lookup));
		cr_assert_eq(getattr(&m.out.coda_lookup.VFid, &from_getattr), 0, "%s", names[i]);
		cr_assert_eq(memcmp(&from_lookup, &from_getattr, sizeof(from_lookup)), 0,
			     "%s: LOOKUP's attributes differ from GETATTR's", names[i]);
	}
}

static int32_t lookup_rights_as(const struct CodaFid *dir, const char *name, uid_t uid)
{
	struct coda_caller who = {.pid = 1, .pgid = 1, .uid = uid};
	struct coda_msg m;
	int32_t rights;

	coda_msg_upcall(&m, CODA_LOOKUP, &who);
	m.in.coda_lookup.VFid = *dir;
	cr_assert_eq(coda_msg_put_string(&m, &m.in.coda_lookup.name, name, strlen(name)), 0);
	cr_assert_eq(call(&m), 0, "%s", name);
	cr_assert_eq(m.len, sizeof(struct coda_lookup_attr_out), "%s: a %zu-byte reply", name,
		     m.len);
	memcpy(&rights, m.raw + offsetof(struct coda_lookup_attr_out, rights), sizeof(rights));
	return rights;
}

/* ...and the caller's rights, each bit the one ACCESS grants that caller,
 * so that the first open asks no ACCESS. */
Test(venus, lookup_reply_carries_the_rights_access_grants_its_caller)
{
	static const char *const names[] = {"hello.txt", "dir", "secret"};
	static const int bits[] = {C_A_R_OK, C_A_W_OK, C_A_X_OK};
	const uid_t uids[] = {0, 65534};
	struct CodaFid root = root_fid();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t u = 0; u < sizeof(uids) / sizeof(uids[0]); u++) {
			int32_t rights = lookup_rights_as(&root, names[i], uids[u]);
			struct CodaFid fid = fid_of(names[i]);

			for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++)
				cr_assert_eq(
				    !!(rights & bits[b]), access_as(&fid, uids[u], bits[b]) == 0,
				    "%s as uid %u: right %d", names[i], (unsigned)uids[u], bits[b]);
		}
	cr_assert_eq(lookup_rights_as(&root, "secret", 65534), 0, "a mode-0 file grants nobody");
	cr_assert_eq(lookup_rights_as(&root, "hello.txt", 0), C_A_R_OK | C_A_W_OK,
		     "root may read and write, not run, a file with no x bit");
}
Test(venus, lookup_dot_and_dotdot)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir"), fid;

	cr_assert_eq(lookup(&root, ".", &fid, NULL), 0);
	cr_assert(coda_fid_eq(&fid, &root));
	cr_assert_eq(lookup(&root, "..", &fid, NULL), 0);
	cr_assert(coda_fid_eq(&fid, &root), "the root's parent is the root");
	cr_assert_eq(lookup(&dir, ".", &fid, NULL), 0);
	cr_assert(coda_fid_eq(&fid, &dir));
	cr_assert_eq(lookup(&dir, "..", &fid, NULL), 0);
	cr_assert(coda_fid_eq(&fid, &root));
}

Test(venus, lookup_errors)
{
	struct CodaFid root = root_fid(), file = fid_of("hello.txt"), fid;

	cr_assert_eq(lookup(&root, "missing", &fid, NULL), -ENOENT);
	cr_assert_eq(lookup(&root, "dir/inner.txt", &fid, NULL), -EINVAL);
	cr_assert_eq(lookup(&file, "x", &fid, NULL), -ENOTDIR);
	/* Symlinks are not followed: "link" is a link, not a directory. */
	cr_assert_eq(lookup(&root, "link", &fid, NULL), 0);
	cr_assert_eq(lookup(&fid, "x", &fid, NULL), -ENOTDIR);
}

static void assert_attr_is_lstat(const char *rel)
{
	struct CodaFid fid = fid_of(rel);
	struct coda_vattr va;
	struct stat st;

	cr_assert_eq(getattr(&fid, &va), 0);
	lstat_vol(rel, &st);
	cr_assert_eq(va.va_mode, st.st_mode & 07777, "%s mode", rel);
	cr_assert_eq(va.va_nlink, (short)st.st_nlink, "%s nlink", rel);
	cr_assert_eq(va.va_uid, st.st_uid);
	cr_assert_eq(va.va_gid, st.st_gid);
	cr_assert_eq((uint64_t)va.va_fileid, (uint64_t)st.st_ino);
	cr_assert_eq(va.va_size, (u_quad_t)st.st_size, "%s size", rel);
	cr_assert_eq(va.va_blocksize, st.st_blksize);
	cr_assert_eq(va.va_atime.tv_sec, st.st_atim.tv_sec);
	cr_assert_eq(va.va_atime.tv_nsec, st.st_atim.tv_nsec);
	cr_assert_eq(va.va_mtime.tv_sec, st.st_mtim.tv_sec);
	cr_assert_eq(va.va_mtime.tv_nsec, st.st_mtim.tv_nsec);
	cr_assert_eq(va.va_ctime.tv_sec, st.st_ctim.tv_sec);
	cr_assert_eq(va.va_ctime.tv_nsec, st.st_ctim.tv_nsec);
	cr_assert_eq(va.va_rdev, (u_quad_t)st.st_rdev);
	cr_assert_eq(va.va_bytes, (u_quad_t)st.st_blocks * 512);
	cr_assert_eq(va.va_gen, 0);
	cr_assert_eq(va.va_flags, 0);
	cr_assert_eq(va.va_filerev, 0);
}

Test(venus, getattr_matches_lstat)
{
	struct CodaFid fid;
	struct coda_vattr va;

	assert_attr_is_lstat("hello.txt");
	assert_attr_is_lstat("dir");
	assert_attr_is_lstat("link");
	assert_attr_is_lstat("secret");
	assert_attr_is_lstat("dir/other");
	fid = fid_of("dir");
	cr_assert_eq(getattr(&fid, &va), 0);
	cr_assert_eq(va.va_type, C_VDIR);
	fid = fid_of("link");
	cr_assert_eq(getattr(&fid, &va), 0);
	cr_assert_eq(va.va_type, C_VLNK);
}

Test(venus, vget_returns_fid_and_vtype)
{
	struct CodaFid fid = fid_of("dir");
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_VGET, &me);
	m.in.coda_vget.VFid = fid;
	cr_assert_eq(call(&m), 0);
	cr_assert(coda_fid_eq(&m.out.coda_vget.VFid, &fid));
	cr_assert_eq(m.out.coda_vget.vtype, C_VDIR);
}

Test(venus, unknown_fid_is_enoent)
{
	struct CodaFid fid = {{0x7f000001u, 1, 2, 3}};
	struct coda_vattr va;

	cr_assert_eq(getattr(&fid, &va), -ENOENT);
	cr_assert_eq(lookup(&fid, "x", &fid, NULL), -ENOENT);
}

/* Moves vol's "dir" to "dir2" behind venus's back, after a lookup in it has
 * made venus keep it open; with `link`, a symlink "dir" -> "dir2" is left. */
static struct CodaFid dir_moved_away(bool link)
{
	struct CodaFid dir = fid_of("dir"), fid;
	char from[256], to[256];

	cr_assert_eq(lookup(&dir, "inner.txt", &fid, NULL), 0);
	vpath(from, sizeof(from), "dir");
	vpath(to, sizeof(to), "dir2");
	cr_assert_eq(rename(from, to), 0);
	if (link)
		cr_assert_eq(symlink("dir2", from), 0);
	return dir;
}

Test(venus, lookup_in_a_directory_moved_behind_its_back_is_enoent)
{
	struct CodaFid dir = dir_moved_away(false), fid;

	cr_assert_eq(lookup(&dir, "inner.txt", &fid, NULL), -ENOENT);
}

/* Its path leads to it only through a symlink now: not its path, as a stat
 * of the path, not followed, says. */
Test(venus, lookup_in_a_directory_a_symlink_now_leads_to_is_enoent)
{
	struct CodaFid dir = dir_moved_away(true), fid;

	cr_assert_eq(lookup(&dir, "inner.txt", &fid, NULL), -ENOENT);
}

Test(venus, lookup_in_a_directory_replaced_by_another_is_enoent)
{
	struct CodaFid dir = dir_moved_away(false), fid;
	char p[256];

	vpath(p, sizeof(p), "dir");
	cr_assert_eq(mkdir(p, 0755), 0);
	write_file("dir/inner.txt", "another\n");
	cr_assert_eq(lookup(&dir, "inner.txt", &fid, NULL), -ENOENT);
}

Test(venus, vanished_object_is_enoent)
{
	struct CodaFid fid = fid_of("dir/inner.txt");
	struct coda_vattr va;
	char p[256];

	vpath(p, sizeof(p), "dir/inner.txt");
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(getattr(&fid, &va), -ENOENT);
	/* A new object under the old name is another fid, not the old one. */
	write_file("dir/inner.txt", "new\n");
	cr_assert_eq(getattr(&fid, &va), -ENOENT);
}

Test(venus, open_by_fd_passes_container_with_file_bytes)
{
	struct CodaFid fid = fid_of("hello.txt");
	char buf[256];
	int fd;

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	cr_assert_eq(read_all(fd, buf, sizeof(buf)), strlen(HELLO));
	cr_assert_eq(memcmp(buf, HELLO, strlen(HELLO)), 0);
	close(fd);
	cr_assert_eq(close_fid(&fid), 0);
}

/* The reply names the container after the kernel's part (struct
 * coda_open_by_fd_path_out): its path is the file passed. */
Test(venus, open_by_fd_reply_names_the_container_it_passes)
{
	struct CodaFid fid = fid_of("hello.txt");
	struct stat passed, named;
	struct coda_msg m;
	const char *path;

	coda_msg_upcall(&m, CODA_OPEN_BY_FD, &me);
	m.in.coda_open_by_fd.VFid = fid;
	m.in.coda_open_by_fd.flags = C_O_READ;
	cr_assert_eq(call(&m), 0);
	cr_assert_geq(m.fd, 0);
	cr_assert_eq(coda_msg_get_reply_string(&m, (int)sizeof(struct coda_open_by_fd_out),
					       PATH_MAX - 1, &path),
		     0, "no path after the reply");
	cr_assert_eq(path[0], '/');
	cr_assert_eq(fstat(m.fd, &passed), 0);
	cr_assert_eq(stat(path, &named), 0, "%s", path);
	cr_assert(passed.st_dev == named.st_dev && passed.st_ino == named.st_ino);
	close(m.fd);
	cr_assert_eq(close_fid(&fid), 0);
}

Test(venus, container_is_reused_when_unchanged)
{
	struct CodaFid fid = fid_of("hello.txt");
	struct stat a, b;
	int fd1, fd2;

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd1), 0);
	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd2), 0);
	cr_assert_eq(fstat(fd1, &a), 0);
	cr_assert_eq(fstat(fd2, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	close(fd1);
	close(fd2);
}

Test(venus, changed_file_gets_new_container_old_fd_keeps_old_bytes)
{
	struct CodaFid fid = fid_of("hello.txt");
	struct timespec later[2] = {{0, UTIME_OMIT}, {1000000000, 5}};
	struct stat a, b;
	char buf[256], p[256];
	int fd1, fd2, fd3;

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd1), 0);
	/* Rewrite in place (same inode, same fid), different length. */
	write_file("hello.txt", "changed\n");
	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd2), 0);
	cr_assert_eq(fstat(fd1, &a), 0);
	cr_assert_eq(fstat(fd2, &b), 0);
	cr_assert_neq(a.st_ino, b.st_ino, "the container must be a new file");
	cr_assert_eq(read_all(fd1, buf, sizeof(buf)), strlen(HELLO));
	cr_assert_eq(memcmp(buf, HELLO, strlen(HELLO)), 0, "old fd must keep the old bytes");
	cr_assert_eq(read_all(fd2, buf, sizeof(buf)), 8);
	cr_assert_eq(memcmp(buf, "changed\n", 8), 0);

	/* Same size, other bytes: only the mtime tells. */
	write_file("hello.txt", "CHANGED\n");
	vpath(p, sizeof(p), "hello.txt");
	cr_assert_eq(utimensat(AT_FDCWD, p, later, 0), 0);
	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd3), 0);
	cr_assert_eq(read_all(fd3, buf, sizeof(buf)), 8);
	cr_assert_eq(memcmp(buf, "CHANGED\n", 8), 0);
	cr_assert_eq(read_all(fd2, buf, sizeof(buf)), 8);
	cr_assert_eq(memcmp(buf, "changed\n", 8), 0);
	close(fd1);
	close(fd2);
	close(fd3);
}

Test(venus, container_is_stamped_with_backing_mtime)
{
	struct CodaFid fid = fid_of("hello.txt");
	struct stat c, st;
	int fd;

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	cr_assert_eq(fstat(fd, &c), 0);
	lstat_vol("hello.txt", &st);
	cr_assert_eq(c.st_mtim.tv_sec, st.st_mtim.tv_sec);
	cr_assert_eq(c.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	cr_assert_eq(c.st_size, st.st_size);
	close(fd);
}

struct entry {
	char name[256];
	uint32_t ino;
	uint8_t type;
};

static int backing_entries(const char *rel, struct entry *e, int cap)
{
	char p[256];
	DIR *d;
	struct dirent *de;
	int n = 0;

	vpath(p, sizeof(p), rel);
	d = opendir(p);
	cr_assert_not_null(d);
	while ((de = readdir(d)) && n < cap) {
		snprintf(e[n].name, sizeof(e[n].name), "%s", de->d_name);
		e[n].ino = (uint32_t)de->d_ino;
		e[n].type = de->d_type;
		n++;
	}
	closedir(d);
	return n;
}

static int container_entries(int fd, struct entry *e, int cap)
{
	static char buf[65536];
	size_t len = read_all(fd, buf, sizeof(buf)), off = 0;
	struct venus_dirent_view d;
	int n = 0, r;

	while ((r = venus_dirent_decode(buf, len, &off, &d)) != 0) {
		cr_assert_geq(r, 1, "malformed directory container");
		if (r == 2)
			continue;
		cr_assert_lt(n, cap);
		snprintf(e[n].name, sizeof(e[n].name), "%s", d.name);
		e[n].ino = d.ino;
		e[n].type = d.type;
		n++;
	}
	return n;
}

static void assert_dir_container(const char *rel, const struct CodaFid *dir, int fd)
{
	struct entry want[32], got[32];
	int nw = backing_entries(rel, want, 32), ng = container_entries(fd, got, 32);

	cr_assert_eq(ng, nw, "%s: %d entries, want %d", rel, ng, nw);
	for (int i = 0; i < nw; i++) {
		struct coda_vattr va;
		struct CodaFid fid;

		/* Same order as readdir, "." and ".." included. */
		cr_assert_str_eq(got[i].name, want[i].name);
		cr_assert_eq(got[i].type, want[i].type, "%s", want[i].name);
		/* The number GETATTR gives the name's fid (the root's ".." is
		 * the root, as a lookup of it says). */
		cr_assert_eq(lookup(dir, want[i].name, &fid, NULL), 0, "%s", want[i].name);
		cr_assert_eq(getattr(&fid, &va), 0, "%s", want[i].name);
		cr_assert_eq(got[i].ino, (uint32_t)va.va_fileid, "%s", want[i].name);
	}
}

Test(venus, directory_container_lists_backing_entries)
{
	struct CodaFid root = root_fid(), dir = fid_of("dir");
	int fd;

	struct stat a, b;
	int fd2;

	cr_assert_eq(open_by_fd(&root, C_O_READ, &fd), 0);
	assert_dir_container(".", &root, fd);
	/* Reading it must not make it look stale. */
	cr_assert_eq(open_by_fd(&root, C_O_READ, &fd2), 0);
	cr_assert_eq(fstat(fd, &a), 0);
	cr_assert_eq(fstat(fd2, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	close(fd2);
	close(fd);
	cr_assert_eq(open_by_fd(&dir, C_O_READ, &fd), 0);
	assert_dir_container("dir", &dir, fd);
	close(fd);
}

Test(venus, directory_container_regenerated_after_change)
{
	struct CodaFid dir = fid_of("dir");
	struct stat a, b;
	int fd1, fd2;

	cr_assert_eq(open_by_fd(&dir, C_O_READ, &fd1), 0);
	cr_assert_eq(open_by_fd(&dir, C_O_READ, &fd2), 0);
	cr_assert_eq(fstat(fd1, &a), 0);
	cr_assert_eq(fstat(fd2, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino, "unchanged directory: same container");
	close(fd2);
	usleep(20000); /* past one tick of a coarse timestamp clock */
	write_file("dir/added", "x");
	cr_assert_eq(open_by_fd(&dir, C_O_READ, &fd2), 0);
	cr_assert_eq(fstat(fd2, &b), 0);
	cr_assert_neq(a.st_ino, b.st_ino);
	assert_dir_container("dir", &dir, fd2);
	close(fd1);
	close(fd2);
}

Test(venus, open_by_path_names_readable_container)
{
	struct CodaFid fid = fid_of("hello.txt");
	struct coda_msg m;
	const char *path;
	char buf[256];
	int fd;

	coda_msg_upcall(&m, CODA_OPEN_BY_PATH, &me);
	m.in.coda_open_by_path.VFid = fid;
	m.in.coda_open_by_path.flags = C_O_READ;
	cr_assert_eq(call(&m), 0);
	cr_assert_eq(m.fd, -1);
	cr_assert_eq(coda_msg_get_reply_string(&m, m.out.coda_open_by_path.path, 4096, &path), 0);
	cr_assert_eq(path[0], '/');
	cr_assert_eq(strncmp(path, cache, strlen(cache)), 0, "%s not in %s", path, cache);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read_all(fd, buf, sizeof(buf)), strlen(HELLO));
	close(fd);
	cr_assert_eq(close_fid(&fid), 0);
}

Test(venus, cache_directory_is_private)
{
	struct CodaFid fid = fid_of("hello.txt");
	struct stat st;
	int fd;

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	close(fd);
	cr_assert_eq(stat(cache, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
}

Test(venus, close_counts_opens)
{
	struct CodaFid fid = fid_of("hello.txt"), other = fid_of("dir/other");
	struct CodaFid unknown = {{1, 2, 3, 4}};
	int fd;

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	close(fd);
	cr_assert_eq(close_fid(&fid), 0);
	cr_assert_eq(close_fid(&fid), -EBADF);
	cr_assert_eq(close_fid(&other), -EBADF);
	cr_assert_eq(close_fid(&unknown), -EBADF);
	/* And venus still serves. */
	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	close(fd);
}

Test(venus, empty_file_opens)
{
	struct CodaFid fid = fid_of("dir/other");
	char buf[16];
	int fd;

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	cr_assert_eq(read_all(fd, buf, sizeof(buf)), 0);
	close(fd);
}

Test(venus, readlink_returns_target)
{
	struct CodaFid link = fid_of("link"), file = fid_of("hello.txt");
	struct coda_msg m;
	const char *data;

	coda_msg_upcall(&m, CODA_READLINK, &me);
	m.in.coda_readlink.VFid = link;
	cr_assert_eq(call(&m), 0);
	cr_assert_eq(m.out.coda_readlink.count, 9);
	cr_assert_eq(coda_msg_get_data(&m, m.out.coda_readlink.data, 9, &data), 0);
	cr_assert_eq(memcmp(data, "hello.txt", 9), 0);

	coda_msg_upcall(&m, CODA_READLINK, &me);
	m.in.coda_readlink.VFid = file;
	cr_assert_eq(call(&m), -EINVAL);
}

Test(venus, access_mode_000_refused_to_non_owner)
{
	struct CodaFid fid = fid_of("secret");
	uid_t stranger = 54321;

	cr_assert_eq(access_as(&fid, stranger, C_A_R_OK), -EACCES);
	cr_assert_eq(access_as(&fid, stranger, C_A_W_OK), -EACCES);
	cr_assert_eq(access_as(&fid, stranger, C_A_X_OK), -EACCES);
	cr_assert_eq(access_as(&fid, stranger, C_A_F_OK), 0);
	/* Root reads and writes anything, executes only what has an x bit. */
	cr_assert_eq(access_as(&fid, 0, C_A_R_OK | C_A_W_OK), 0);
	cr_assert_eq(access_as(&fid, 0, C_A_X_OK), -EACCES);
}

Test(venus, access_uses_owner_and_other_bits)
{
	struct CodaFid file = fid_of("hello.txt"), dir = fid_of("dir");
	char p[256];

	/* hello.txt 0644, dir 0750, both owned by us. */
	cr_assert_eq(access_as(&file, 54321, C_A_R_OK), 0);
	cr_assert_eq(access_as(&file, 54321, C_A_W_OK), -EACCES);
	cr_assert_eq(access_as(&dir, 54321, C_A_R_OK), -EACCES);
	cr_assert_eq(access_as(&dir, 0, C_A_X_OK), 0);
	if (geteuid() != 0)
		return;
	vpath(p, sizeof(p), "hello.txt");
	cr_assert_eq(chown(p, 54321, 54321), 0);
	cr_assert_eq(chmod(p, 0604), 0);
	cr_assert_eq(access_as(&file, 54321, C_A_R_OK | C_A_W_OK), 0);
	cr_assert_eq(access_as(&file, 54322, C_A_R_OK), 0);
	cr_assert_eq(access_as(&file, 54322, C_A_W_OK), -EACCES);
	cr_assert_eq(chmod(p, 0004), 0);
	/* The owner gets the owner bits, even when other bits would allow. */
	cr_assert_eq(access_as(&file, 54321, C_A_R_OK), -EACCES);
}

Test(venus, statfs_in_4k_blocks)
{
	struct coda_msg m;
	struct statvfs sv;
	unsigned long long blocks;

	coda_msg_upcall(&m, CODA_STATFS, &me);
	cr_assert_eq(call(&m), 0);
	cr_assert_eq(statvfs(vol, &sv), 0);
	blocks = (unsigned long long)sv.f_blocks * sv.f_frsize / 4096;
	if (blocks > INT32_MAX)
		blocks = INT32_MAX;
	cr_assert_eq((unsigned long long)m.out.coda_statfs.stat.f_blocks, blocks);
	cr_assert_gt(m.out.coda_statfs.stat.f_bavail, 0);
	cr_assert_leq(m.out.coda_statfs.stat.f_bavail, m.out.coda_statfs.stat.f_blocks);
	cr_assert_gt(m.out.coda_statfs.stat.f_files, 0);
}

Test(venus, malformed_upcalls_get_einval_and_venus_serves_on)
{
	struct CodaFid root = root_fid();
	struct coda_msg m;

	/* Shorter than its fixed part. */
	coda_msg_upcall(&m, CODA_GETATTR, &me);
	m.len = sizeof(struct coda_in_hdr) + 4;
	cr_assert_eq(call(&m), -EINVAL);

	/* Name offset inside the fixed part, then past the end. */
	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.in.coda_lookup.VFid = root;
	m.in.coda_lookup.name = 4;
	cr_assert_eq(call(&m), -EINVAL);
	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.in.coda_lookup.VFid = root;
	m.in.coda_lookup.name = 100000;
	cr_assert_eq(call(&m), -EINVAL);

	/* Unterminated name. */
	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.in.coda_lookup.VFid = root;
	cr_assert_eq(coda_msg_put_string(&m, &m.in.coda_lookup.name, "hello.txt", 9), 0);
	m.len--;
	cr_assert_eq(call(&m), -EINVAL);

	/* Empty name. */
	coda_msg_upcall(&m, CODA_LOOKUP, &me);
	m.in.coda_lookup.VFid = root;
	cr_assert_eq(coda_msg_put_string(&m, &m.in.coda_lookup.name, "", 0), 0);
	cr_assert_eq(call(&m), -EINVAL);

	/* And a well-formed one is still served. */
	struct CodaFid fid = fid_of("dir/inner.txt");
	struct coda_vattr va;
	cr_assert_eq(getattr(&fid, &va), 0);
}

Test(venus, headerless_upcall_is_dropped_silently)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ROOT, &me);
	m.len = 6;
	send_upcall(&m);
	cr_assert_eq(recv_within(&m, 300), -ETIMEDOUT, "no reply without a header");
	root_fid();
}

Test(venus, signal_gets_no_reply)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_SIGNAL, &me);
	send_upcall(&m);
	cr_assert_eq(recv_within(&m, 300), -ETIMEDOUT);
	root_fid();
}

Test(venus, unknown_opcode_is_eopnotsupp)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ROOT, &me);
	m.ih.opcode = 999;
	cr_assert_eq(call(&m), -EOPNOTSUPP);
	coda_msg_upcall(&m, CODA_IOCTL, &me);
	cr_assert_eq(call(&m), -EOPNOTSUPP);
	coda_msg_upcall(&m, CODA_ROOT, &me);
	m.ih.opcode = CODA_PURGEFID; /* a downcall sent the wrong way */
	cr_assert_eq(call(&m), -EOPNOTSUPP);
	root_fid();
}

Test(venus, fd_sent_to_venus_is_not_kept)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ROOT, &me);
	m.fd = open("/dev/null", O_RDONLY);
	cr_assert_eq(call(&m), 0);
	close(m.fd);
}

Test(venus, channel_close_makes_venus_exit_0)
{
	int status;

	root_fid();
	status = stop_venus();
	cr_assert(WIFEXITED(status), "venus did not exit: status %#x", status);
	cr_assert_eq(WEXITSTATUS(status), 0);
}

Test(venus, containers_survive_a_restart)
{
	struct CodaFid fid = fid_of("hello.txt");
	struct stat a, b;
	int fd, fds[2];

	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	cr_assert_eq(fstat(fd, &a), 0);
	close(fd);
	cr_assert_eq(WEXITSTATUS(stop_venus()), 0);
	cr_assert_eq(chan_pair(fds), 0);
	venus_pid = fork();
	if (venus_pid == 0) {
		struct venus_config cfg = {.volume = vol, .cache = cache};

		close(fds[0]);
		_exit(venus_run(fds[1], &cfg));
	}
	close(fds[1]);
	chan = fds[0];
	fid = fid_of("hello.txt");
	cr_assert_eq(open_by_fd(&fid, C_O_READ, &fd), 0);
	cr_assert_eq(fstat(fd, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino, "an unchanged file's container is reused");
	close(fd);
}

Test(venus, missing_volume_exits_1)
{
	struct venus_config cfg = {.volume = "/nonexistent/venus-vol", .cache = cache};
	int fds[2], status;
	pid_t pid;

	cr_assert_eq(chan_pair(fds), 0);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2); /* the error message is expected */
		_exit(venus_run(fds[1], &cfg));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 1);
	close(fds[0]);
	close(fds[1]);
}

/* ---- Volumes spanning file systems ---- */

static const char *const tmpfs_dirs[] = {"a", "b"};

/* Venus anew, on a volume holding two fresh tmpfs mounts, a and b, each
 * with a file f: tmpfs numbers its inodes alike from 1, so a/f and b/f
 * have one inode number. In a mount namespace of the test's own. */
static void mount_two_tmpfs(void)
{
	char p[256], rel[16];

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0)
		cr_skip_test("mounting a tmpfs needs root");
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	stop_venus();
	for (size_t i = 0; i < 2; i++) {
		vpath(p, sizeof(p), tmpfs_dirs[i]);
		cr_assert_eq(mkdir(p, 0755), 0);
		cr_assert_eq(mount("none", p, "tmpfs", 0, "mode=0755"), 0, "%s", strerror(errno));
		snprintf(rel, sizeof(rel), "%s/f", tmpfs_dirs[i]);
		write_file(rel, "x");
	}
	spawn_venus();
}

static void unmount_two_tmpfs(void)
{
	char p[256];

	stop_venus();
	for (size_t i = 0; i < 2; i++) {
		vpath(p, sizeof(p), tmpfs_dirs[i]);
		umount2(p, MNT_DETACH);
	}
}

/* No two objects show one st_ino, wherever their inode numbers come from:
 * the second gets another number, kept for the run, which its directory's
 * listing shows too. */
Test(venus, objects_of_two_file_systems_with_one_inode_number_get_two_numbers,
     .fini = unmount_two_tmpfs)
{
	struct CodaFid fa, fb, again, b;
	struct coda_vattr va, vb;
	struct stat sa, sb;
	int fd;

	mount_two_tmpfs();
	lstat_vol("a/f", &sa);
	lstat_vol("b/f", &sb);
	cr_assert_eq(sa.st_ino, sb.st_ino, "tmpfs gave the two files two inode numbers");
	cr_assert_neq(sa.st_dev, sb.st_dev);
	fa = fid_of("a/f");
	fb = fid_of("b/f");
	cr_assert_neq(coda_fid_ino(&fa), coda_fid_ino(&fb), "both show st_ino %u",
		      coda_fid_ino(&fa));
	cr_assert_eq(getattr(&fa, &va), 0);
	cr_assert_eq(getattr(&fb, &vb), 0);
	cr_assert_neq(va.va_fileid, vb.va_fileid);
	again = fid_of("b/f");
	cr_assert(coda_fid_eq(&again, &fb), "the second's fid changed");
	b = fid_of("b");
	cr_assert_eq(open_by_fd(&b, C_O_READ, &fd), 0);
	assert_dir_container("b", &b, fd);
	close(fd);
}
