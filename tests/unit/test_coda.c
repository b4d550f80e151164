/* The Coda module (libcoda) as a library client with no trap drives it,
 * against the real embedded venus serving a scratch directory.
 *
 * venus_run() serves the volume in a forked child, on one end of a channel
 * pair; the test holds the other. The scheduler is a plain blocking one: a
 * caller's sleep runs the loop itself (waits for the channel, then
 * psdev_readable and psdev_expire) until its reply has woken it, and work
 * spawned for nobody (the CODA_CLOSE after a last release) runs at once on
 * a waiter of its own. Every scenario checks what the module answers
 * against what the backing directory holds. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/blocking.h"
#include "coda/cache.h"
#include "coda/coda.h"
#include "proto/channel.h"
#include "scratch.h"
#include "venus/venus.h"

/* How long a caller may sleep before the test calls it a hang. */
#define SLEEP_LIMIT_MS 10000

/* Everything one test uses: the mount, the test's own caller, venus. */
struct fixture {
	struct coda_sb sb;
	struct coda_waiter me;
	struct coda_req req;
	pid_t venus;
	/* Run once, by the next caller that sleeps (with its upcall out). */
	void (*on_sleep)(void);
	/* The upcalls venus was sent, by opcode, as their callers slept. */
	unsigned sent[CODA_NCALLS];
	uint32_t counted; /* the unique last counted */
	char base[64], vol[128], cache[128];
};

static struct fixture t;

/* ---- The scheduler ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One turn of the loop: a message from venus, or a deadline. */
static void loop_once(void)
{
	struct pollfd pfd = {.fd = t.sb.vc.chan, .events = POLLIN};
	int next = psdev_expire(&t.sb);
	int n = poll(&pfd, 1, next < 0 || next > 100 ? 100 : next);

	cr_assert(n >= 0 || errno == EINTR, "poll: %s", strerror(errno));
	if (n > 0)
		psdev_readable(&t.sb);
}

/* A caller sleeps right after sending its upcall: the last unique's. */
static void count_upcall(void)
{
	const struct coda_msg *m;

	if (t.sb.vc.seq == t.counted)
		return;
	t.counted = t.sb.vc.seq;
	m = psdev_upcall_of(&t.sb, t.counted);
	if (m && m->ih.opcode < CODA_NCALLS)
		t.sent[m->ih.opcode]++;
}

static void sleep_waiter(struct coda_waiter *w)
{
	int64_t limit = now_ms() + SLEEP_LIMIT_MS;
	void (*hook)(void) = t.on_sleep;

	count_upcall();
	t.on_sleep = NULL;
	if (hook)
		hook();
	while (!w->woken) {
		cr_assert_lt(now_ms(), limit, "a caller slept %d ms: nothing woke it",
			     SLEEP_LIMIT_MS);
		loop_once();
	}
	w->woken = false;
}

static struct coda_sched blocking_sched;

/* ---- The volume and venus ---- */

static void backing_path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", t.vol, rel);
}

static void put_file(const char *rel, const char *data, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	backing_path(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

/*   file        "top\n"
 *   dir/        file "hello, coda\n" (0640), up -> ../file
 *   empty/ */
static void make_volume(void)
{
	char p[PATH_MAX];

	snprintf(t.base, sizeof(t.base), "/tmp/test_coda.XXXXXX");
	cr_assert_eq(scratch_volume(t.base, t.vol, t.cache, sizeof(t.vol), "file", "top\n"), 0);
	backing_path(p, sizeof(p), "dir");
	cr_assert_eq(mkdir(p, 0755), 0);
	backing_path(p, sizeof(p), "empty");
	cr_assert_eq(mkdir(p, 0755), 0);
	put_file("dir/file", "hello, coda\n", 0640);
	backing_path(p, sizeof(p), "dir/up");
	cr_assert_eq(symlink("../file", p), 0);
}

/* venus serves fds[1]; fds[0] is ours. Each end is held by one process
 * only, so that either sees the other go. */
static void start_venus(const int fds[2])
{
	struct venus_config cfg = {.volume = t.vol, .cache = t.cache};

	t.venus = fork();
	cr_assert_geq(t.venus, 0);
	if (t.venus == 0) {
		close(fds[0]);
		_exit(venus_run(fds[1], &cfg));
	}
	close(fds[1]);
}

static void setup(void)
{
	int fds[2];

	memset(&t, 0, sizeof(t));
	make_volume();
	cr_assert_eq(chan_pair(fds), 0);
	start_venus(fds);
	blocking_sched_init(&blocking_sched, sleep_waiter);
	cr_assert_eq(coda_sb_init(&t.sb, &blocking_sched), 0);
	coda_sb_mount(&t.sb, "/coda");
	psdev_init(&t.sb.vc, fds[0], 30);
	t.sb.vc.venus_pid = t.venus;
	t.req = (struct coda_req){.sb = &t.sb, .waiter = &t.me};
}

/* Killed, not told: the channel ends as when venus crashes. */
static void kill_venus(void)
{
	int status;

	t.sb.vc.quiet = true;
	cr_assert_eq(kill(t.venus, SIGKILL), 0);
	cr_assert_eq(waitpid(t.venus, &status, 0), t.venus);
	t.venus = -1;
}

static void teardown(void)
{
	int status;

	if (t.sb.vc.chan >= 0)
		close(t.sb.vc.chan);
	/* Our end closed, venus ends on its own, and cleanly. */
	if (t.venus > 0) {
		cr_expect_eq(waitpid(t.venus, &status, 0), t.venus);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "venus ended with status %#x", status);
	}
	coda_sb_destroy(&t.sb);
	scratch_remove(t.base);
}

TestSuite(coda, .init = setup, .fini = teardown);

/* ---- Helpers ---- */

/* The backing object at rel as the kernel walks to it with the walk's
 * flags: a last symlink followed with LOOKUP_FOLLOW (stat), else not. */
static struct stat backing(const char *rel, int flags)
{
	int at = flags & LOOKUP_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW;
	char p[PATH_MAX];
	struct stat st;

	backing_path(p, sizeof(p), rel);
	cr_assert_eq(fstatat(AT_FDCWD, p, &st, at), 0, "%s: %s", p, strerror(errno));
	return st;
}

static bool backing_exists(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	backing_path(p, sizeof(p), rel);
	return lstat(p, &st) == 0;
}

static void expect_backing_bytes(const char *rel, const char *want)
{
	char p[PATH_MAX], buf[256];
	ssize_t n;
	int fd;

	backing_path(p, sizeof(p), rel);
	fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	cr_assert_str_eq(buf, want, "the volume holds \"%s\"", buf);
}

static int walk(const char *path, int flags, struct nameidata *nd)
{
	const struct walk_start root = {.from = WALK_ROOT};

	return coda_walk(&t.req, &root, path, flags, nd);
}

/* Walks to an object of the volume that exists. */
static void walk_found(const char *path, int flags, struct nameidata *nd)
{
	int rc = walk(path, flags, nd);

	cr_assert_eq(rc, 0, "walk %s: %s", path, strerror(-rc));
	cr_assert_eq(nd->kind, NAMEI_CODA, "walk %s", path);
	cr_assert_not(nd->missing, "walk %s: missing", path);
}

/* Walks to a name the volume does not hold. */
static void walk_missing(const char *path, struct nameidata *nd)
{
	int rc = walk(path, LOOKUP_NAME, nd);

	cr_assert_eq(rc, 0, "walk %s: %s", path, strerror(-rc));
	cr_assert_eq(nd->kind, NAMEI_CODA, "walk %s", path);
	cr_assert(nd->missing, "walk %s: found", path);
}

/* The object the walk found is the backing object st. */
static void expect_object(const struct nameidata *nd, const struct stat *st)
{
	cr_assert_eq(coda_fid_ino(&nd->fid), (uint32_t)st->st_ino,
		     "%s: the fid is not the backing object's", nd->path);
	cr_assert_eq(coda_vtype_to_mode(nd->vtype), st->st_mode & S_IFMT, "%s: vtype %d", nd->path,
		     nd->vtype);
}

/* Walks path to the backing object st, which the walk names want. */
static void walk_to(const char *path, int flags, const char *want, const struct stat *st,
		    struct nameidata *nd)
{
	walk_found(path, flags, nd);
	cr_assert_str_eq(nd->path, want);
	expect_object(nd, st);
}

/* Upcalls made so far: every one takes the next unique. */
static uint32_t upcalls(void)
{
	return t.sb.vc.seq;
}

static unsigned lookups(void)
{
	return t.sent[CODA_LOOKUP];
}

/* The loop's side of releases: close events, until every store is done. */
static void run_releases(void)
{
	release_readable(&t.sb);
	while (release_pending(&t.sb))
		loop_once();
}

/* Creates `name` in dir (a missing walk) and writes data through the
 * module's open; the written file is closed, its store not yet run. */
static void create_and_write(const char *path, const char *data)
{
	struct nameidata nd;
	struct coda_file *f;
	struct CodaFid fid;
	int src, rc;

	walk_missing(path, &nd);
	rc = coda_create(&t.req, &nd.fid, nd.last, 1, 0644, &fid);
	cr_assert_eq(rc, 0, "create: %s", strerror(-rc));
	rc = coda_file_open(&t.req, &fid, C_VREG, path, O_WRONLY, &f, &src);
	cr_assert_eq(rc, 0, "open for writing: %s", strerror(-rc));
	cr_assert_eq(write(src, data, strlen(data)), (ssize_t)strlen(data));
	cr_assert_eq(close(src), 0);
	coda_file_put(f);
}

/* ---- Walking paths ---- */

Test(coda, walk_gives_the_object_its_fid_type_and_path)
{
	struct nameidata nd;
	struct stat st = backing("dir/file", 0);

	walk_to("/coda/dir/file", 0, "/coda/dir/file", &st, &nd);
	cr_assert_eq(nd.vtype, C_VREG);
	st = backing("dir", 0);
	walk_to("/coda/dir", 0, "/coda/dir", &st, &nd);
	cr_assert_eq(nd.vtype, C_VDIR);
}

Test(coda, walk_to_a_missing_name_gives_its_parent)
{
	struct nameidata dir, nd;
	struct stat st = backing("dir", 0);

	cr_assert_not(backing_exists("dir/nothing"));
	walk_found("/coda/dir", 0, &dir);
	walk_missing("/coda/dir/nothing", &nd);
	cr_assert(coda_fid_eq(&nd.fid, &dir.fid), "the missing name's parent is not dir");
	cr_assert(coda_fid_eq(&nd.parent, &dir.fid));
	cr_assert_eq(coda_fid_ino(&nd.fid), (uint32_t)st.st_ino);
	cr_assert_str_eq(nd.last, "nothing");
	cr_assert(nd.named);
}

Test(coda, walk_through_a_missing_directory_is_enoent)
{
	struct nameidata nd;

	cr_assert_not(backing_exists("nothing"));
	cr_assert_eq(walk("/coda/nothing/file", 0, &nd), -ENOENT);
}

Test(coda, walk_of_dotdot_goes_up_as_the_kernel)
{
	struct nameidata nd;
	struct stat st = backing("dir/../file", 0);

	walk_to("/coda/dir/../file", 0, "/coda/file", &st, &nd);
}

Test(coda, walk_follows_a_symlink_inside_the_volume)
{
	struct nameidata nd;
	struct stat st = backing("dir/up", LOOKUP_FOLLOW);

	walk_to("/coda/dir/up", LOOKUP_FOLLOW, "/coda/file", &st, &nd);
}

Test(coda, walk_without_follow_stops_at_the_symlink)
{
	struct nameidata nd;
	struct stat st = backing("dir/up", 0);

	walk_to("/coda/dir/up", 0, "/coda/dir/up", &st, &nd);
	cr_assert_eq(nd.vtype, C_VLNK);
}

Test(coda, second_walk_of_a_path_makes_no_upcall)
{
	struct nameidata first, again;
	uint32_t after;

	walk_found("/coda/dir/file", 0, &first);
	cr_assert_eq(lookups(), 2, "the first walk made %u CODA_LOOKUPs", lookups());
	after = upcalls();
	walk_found("/coda/dir/file", 0, &again);
	cr_assert_eq(upcalls(), after, "the second walk made %u upcalls", upcalls() - after);
	cr_assert(coda_fid_eq(&first.fid, &again.fid));
}

Test(coda, second_walk_of_a_missing_name_makes_no_upcall)
{
	struct nameidata nd;
	uint32_t after;

	walk_missing("/coda/dir/nothing", &nd);
	after = upcalls();
	walk_missing("/coda/dir/nothing", &nd);
	cr_assert_eq(upcalls(), after, "the negative entry was not kept");
}

/* ---- Attributes ---- */

Test(coda, getattr_matches_stat_of_the_backing_file)
{
	struct stat want = backing("dir/file", 0), got;
	struct coda_vattr attr;
	struct nameidata nd;
	int rc;

	walk_found("/coda/dir/file", 0, &nd);
	rc = coda_getattr(&t.req, &nd.fid, &attr);
	cr_assert_eq(rc, 0, "getattr: %s", strerror(-rc));
	coda_attr_to_stat(&t.sb, &nd.fid, &attr, &got);
	cr_assert_eq(got.st_size, want.st_size);
	cr_assert_eq(got.st_mode, want.st_mode, "mode %o, the volume's %o", got.st_mode,
		     want.st_mode);
	cr_assert_eq(got.st_mtim.tv_sec, want.st_mtim.tv_sec);
	cr_assert_eq(got.st_mtim.tv_nsec, want.st_mtim.tv_nsec);
	cr_assert_eq(got.st_ino, want.st_ino);
}

/* The attributes kept in the cache make the stat venus's answer made:
 * every field, for values past 32 bits (a sparse 5 GiB file, nanoseconds,
 * set-id bits). */
Test(coda, cached_attributes_give_the_stat_venus_gave)
{
	struct timespec times[2] = {{.tv_sec = 4102444800, .tv_nsec = 999999999},
				    {.tv_sec = 1, .tv_nsec = 123456789}};
	struct coda_vattr first, again;
	struct stat a, b;
	struct nameidata nd;
	char p[PATH_MAX];
	uint32_t before;

	backing_path(p, sizeof(p), "dir/file");
	cr_assert_eq(truncate(p, 5LL << 30), 0);
	cr_assert_eq(chmod(p, 06751), 0);
	cr_assert_eq(utimensat(AT_FDCWD, p, times, 0), 0);
	walk_found("/coda/dir/file", 0, &nd);
	cr_assert_eq(coda_getattr(&t.req, &nd.fid, &first), 0);
	before = upcalls();
	cr_assert_eq(coda_getattr(&t.req, &nd.fid, &again), 0);
	cr_assert_eq(upcalls(), before, "the second getattr asked venus");
	coda_attr_to_stat(&t.sb, &nd.fid, &first, &a);
	coda_attr_to_stat(&t.sb, &nd.fid, &again, &b);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert_eq(b.st_size, 5LL << 30);
	cr_assert_eq(b.st_mode, S_IFREG | 06751);
	cr_assert_eq(b.st_atim.tv_sec, times[0].tv_sec);
	cr_assert_eq(b.st_atim.tv_nsec, times[0].tv_nsec);
	cr_assert_eq(b.st_mtim.tv_nsec, times[1].tv_nsec);
}

/* ---- Writing ---- */

Test(coda, written_file_reaches_the_volume_when_its_release_is_run)
{
	create_and_write("/coda/dir/new", "written through libcoda\n");
	/* Session semantics: venus stores on the CODA_CLOSE of the release. */
	cr_assert_eq(backing("dir/new", 0).st_size, 0, "the volume has the bytes before the close");
	run_releases();
	expect_backing_bytes("dir/new", "written through libcoda\n");
}

Test(coda, open_after_a_writers_close_sees_its_bytes)
{
	struct nameidata nd;
	struct coda_file *f;
	char buf[64] = {0};
	int src, rc;

	create_and_write("/coda/dir/new", "stored before the open\n");
	/* No loop turn: the open itself runs the store it must see. */
	walk_found("/coda/dir/new", 0, &nd);
	rc = coda_file_open(&t.req, &nd.fid, nd.vtype, nd.path, O_RDONLY, &f, &src);
	cr_assert_eq(rc, 0, "open for reading: %s", strerror(-rc));
	cr_assert_eq(pread(src, buf, sizeof(buf) - 1, 0), 23);
	cr_assert_str_eq(buf, "stored before the open\n");
	expect_backing_bytes("dir/new", "stored before the open\n");
	coda_file_close_src(f, src);
	coda_file_put(f);
	cr_assert_not(release_pending(&t.sb), "the reader's CODA_CLOSE did not end");
}

/* ---- Readers' containers kept (keep.c) ---- */

/* Opens the object nd walked to for reading, reads it from where the new
 * open file starts and releases it: what a reader sees. Where the open
 * file's container is goes in path (plen bytes), unless path is NULL. */
static void read_fresh_at(const struct nameidata *nd, char *buf, size_t len, char *path,
			  size_t plen)
{
	char link[64];
	struct coda_file *f;
	int src, rc = coda_file_open(&t.req, &nd->fid, nd->vtype, nd->path, O_RDONLY, &f, &src);
	ssize_t n;

	cr_assert_eq(rc, 0, "open for reading: %s", strerror(-rc));
	if (path) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", src);
		n = readlink(link, path, plen - 1);
		cr_assert_gt(n, 0);
		path[n] = '\0';
	}
	n = read(src, buf, len - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	coda_file_close_src(f, src);
	coda_file_put(f);
	run_releases();
}

static void read_fresh(const struct nameidata *nd, char *buf, size_t len)
{
	read_fresh_at(nd, buf, len, NULL, 0);
}

Test(coda, reopen_of_an_unchanged_file_reads_its_kept_container_with_no_upcall)
{
	struct nameidata nd;
	char buf[64];
	uint32_t after;

	keep_enable(&t.sb, 1024);
	walk_found("/coda/dir/file", 0, &nd);
	read_fresh(&nd, buf, sizeof(buf));
	after = upcalls();
	/* The first open file was read to its end: the new one starts at 0. */
	read_fresh(&nd, buf, sizeof(buf));
	cr_assert_eq(upcalls(), after, "the second open made %u upcalls", upcalls() - after);
	cr_assert_str_eq(buf, "hello, coda\n");
}

/* The kept container is reopened by its name in the cache only while that
 * name still holds it. */
Test(coda, kept_container_whose_name_holds_another_file_is_still_what_is_read)
{
	char buf[64], path[PATH_MAX], other[PATH_MAX + 8];
	struct nameidata nd;
	uint32_t after;
	int fd;

	keep_enable(&t.sb, 1024);
	walk_found("/coda/dir/file", 0, &nd);
	read_fresh_at(&nd, buf, sizeof(buf), path, sizeof(path));
	read_fresh(&nd, buf, sizeof(buf)); /* a reopen by its name */
	snprintf(other, sizeof(other), "%s.other", path);
	fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "not the kept one\n", 17), 17);
	close(fd);
	cr_assert_eq(rename(other, path), 0);
	after = upcalls();
	read_fresh(&nd, buf, sizeof(buf));
	cr_assert_eq(upcalls(), after);
	cr_assert_str_eq(buf, "hello, coda\n");
	read_fresh(&nd, buf, sizeof(buf));
	cr_assert_str_eq(buf, "hello, coda\n", "and again, through its fd");
}

Test(coda, reopen_after_the_attributes_were_asked_again_goes_to_venus)
{
	struct coda_vattr attr;
	struct nameidata nd;
	char buf[64];
	uint32_t after;
	int rc;

	keep_enable(&t.sb, 1024);
	walk_found("/coda/dir/file", 0, &nd);
	read_fresh(&nd, buf, sizeof(buf));
	put_file("dir/file", "changed behind venus\n", 0640);
	/* As a ZAPFILE does; the next stat asks venus again. */
	cache_attr_drop(&t.sb.caches, &nd.fid);
	rc = coda_getattr(&t.req, &nd.fid, &attr);
	cr_assert_eq(rc, 0, "getattr: %s", strerror(-rc));
	after = upcalls();
	read_fresh(&nd, buf, sizeof(buf));
	cr_assert_gt(upcalls(), after, "the kept container was read");
	cr_assert_str_eq(buf, "changed behind venus\n");
}

Test(coda, nothing_is_kept_unless_enabled)
{
	struct nameidata nd;
	char buf[64];
	uint32_t after;

	walk_found("/coda/dir/file", 0, &nd);
	read_fresh(&nd, buf, sizeof(buf));
	after = upcalls();
	read_fresh(&nd, buf, sizeof(buf));
	cr_assert_gt(upcalls(), after, "the second open made no upcall");
	cr_assert_str_eq(buf, "hello, coda\n");
}

/* ---- Directories ---- */

struct names {
	char *name[32];
	int count;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_add(struct names *n, const char *name)
{
	cr_assert_lt(n->count, 32);
	n->name[n->count++] = strdup(name);
}

static void names_sort(struct names *n)
{
	qsort(n->name, (size_t)n->count, sizeof(n->name[0]), name_cmp);
}

static void names_free(struct names *n)
{
	for (int i = 0; i < n->count; i++)
		free(n->name[i]);
}

/* readdir(3) of the backing directory. */
static void backing_names(const char *rel, struct names *n)
{
	char p[PATH_MAX];
	struct dirent *d;
	DIR *dir;

	backing_path(p, sizeof(p), rel);
	dir = opendir(p);
	cr_assert_not_null(dir);
	while ((d = readdir(dir)))
		names_add(n, d->d_name);
	closedir(dir);
	names_sort(n);
}

/* coda_readdir of the open directory f, a small buffer at a time: the
 * records are getdents64's, laid out as glibc's struct dirent64 (whose
 * d_name is longer than a record may be, so not cast onto one). */
static void coda_names(struct coda_file *f, struct names *n)
{
	char buf[128] __attribute__((aligned(8)));
	long len;

	while ((len = coda_dir_readdir(&t.req, f, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			unsigned short reclen;

			memcpy(&reclen, buf + off + offsetof(struct dirent64, d_reclen),
			       sizeof(reclen));
			names_add(n, buf + off + offsetof(struct dirent64, d_name));
			off += reclen;
		}
	}
	cr_assert_eq(len, 0, "readdir: %s", strerror((int)-len));
	names_sort(n);
}

Test(coda, readdir_lists_the_names_of_the_backing_directory)
{
	struct names want = {0}, got = {0};
	struct nameidata nd;
	struct coda_file *f;
	int src, rc;

	put_file("dir/second", "2\n", 0644);
	walk_found("/coda/dir", 0, &nd);
	rc = coda_file_open(&t.req, &nd.fid, nd.vtype, nd.path, O_RDONLY | O_DIRECTORY, &f, &src);
	cr_assert_eq(rc, 0, "open the directory: %s", strerror(-rc));
	coda_names(f, &got);
	backing_names("dir", &want);
	cr_assert_eq(got.count, want.count, "%d names, the volume has %d", got.count, want.count);
	for (int i = 0; i < want.count; i++)
		cr_assert_str_eq(got.name[i], want.name[i]);
	names_free(&got);
	names_free(&want);
	coda_file_close_src(f, src);
	coda_file_put(f);
}

/* ---- Changing the namespace ---- */

Test(coda, mkdir_makes_the_directory_and_the_next_walk_finds_it)
{
	struct nameidata nd;
	struct stat st;
	unsigned after;
	int rc;

	walk_missing("/coda/dir/sub", &nd); /* a negative entry now */
	rc = coda_dir_mkdir(&t.req, &nd.fid, "sub", 0750);
	cr_assert_eq(rc, 0, "mkdir: %s", strerror(-rc));
	st = backing("dir/sub", 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0750);
	after = lookups();
	walk_to("/coda/dir/sub", 0, "/coda/dir/sub", &st, &nd);
	/* As the kernel's d_instantiate: known, not looked up again. */
	cr_assert_eq(lookups(), after, "the new directory was not cached as mkdir made it");
}

Test(coda, rename_moves_the_file_and_the_walks_follow)
{
	struct nameidata file, to, nd;
	struct stat st = backing("dir/file", 0);
	int rc;

	walk_found("/coda/dir/file", 0, &file);
	walk_missing("/coda/dir/moved", &to);
	rc = coda_dir_rename(&t.req, &file.parent, "file", &file.fid, &to.fid, "moved", NULL);
	cr_assert_eq(rc, 0, "rename: %s", strerror(-rc));
	cr_assert_not(backing_exists("dir/file"));
	cr_assert_eq(backing("dir/moved", 0).st_ino, st.st_ino);
	expect_backing_bytes("dir/moved", "hello, coda\n");
	walk_missing("/coda/dir/file", &nd);
	walk_found("/coda/dir/moved", 0, &nd);
	cr_assert(coda_fid_eq(&nd.fid, &file.fid), "the moved file has another fid");
}

Test(coda, unlink_removes_the_file_and_its_name_is_enoent)
{
	struct nameidata nd;
	struct CodaFid fid;
	unsigned after;
	int vtype, rc;

	walk_found("/coda/dir/file", 0, &nd);
	rc = coda_dir_unlink(&t.req, &nd.parent, "file", &nd.fid);
	cr_assert_eq(rc, 0, "unlink: %s", strerror(-rc));
	cr_assert_not(backing_exists("dir/file"));
	after = lookups();
	cr_assert_eq(coda_lookup(&t.req, &nd.parent, "file", 4, &fid, &vtype), -ENOENT);
	cr_assert_eq(lookups(), after, "the removed name was not cached as gone");
	walk_missing("/coda/dir/file", &nd);
}

Test(coda, rmdir_removes_the_directory_and_its_name_is_enoent)
{
	struct nameidata nd;
	struct CodaFid fid;
	int vtype, rc;

	walk_found("/coda/empty", 0, &nd);
	rc = coda_rmdir(&t.req, &nd.parent, "empty", &nd.fid);
	cr_assert_eq(rc, 0, "rmdir: %s", strerror(-rc));
	cr_assert_not(backing_exists("empty"));
	cr_assert_eq(coda_lookup(&t.req, &nd.parent, "empty", 5, &fid, &vtype), -ENOENT);
	walk_missing("/coda/empty", &nd);
}

Test(coda, symlink_is_made_in_the_volume_and_reads_back)
{
	char p[PATH_MAX], host[PATH_MAX], target[PATH_MAX];
	struct nameidata nd;
	struct stat st;
	ssize_t n;
	int rc;

	walk_missing("/coda/dir/ln", &nd);
	rc = coda_symlink(&t.req, &nd.fid, "ln", "file");
	cr_assert_eq(rc, 0, "symlink: %s", strerror(-rc));
	backing_path(p, sizeof(p), "dir/ln");
	n = readlink(p, host, sizeof(host) - 1);
	cr_assert_eq(n, 4);
	host[n] = '\0';
	cr_assert_str_eq(host, "file");
	st = backing("dir/ln", 0);
	walk_to("/coda/dir/ln", 0, "/coda/dir/ln", &st, &nd);
	n = coda_get_link(&t.req, &nd.fid, target, sizeof(target) - 1);
	cr_assert_eq(n, 4, "readlink: %zd", n);
	target[n] = '\0';
	cr_assert_str_eq(target, host);
	st = backing("dir/ln", LOOKUP_FOLLOW);
	walk_to("/coda/dir/ln", LOOKUP_FOLLOW, "/coda/dir/file", &st, &nd);
}

/* ---- Venus going away ---- */

Test(coda, call_after_venus_has_gone_fails_with_enxio)
{
	struct nameidata nd;

	kill_venus();
	cr_assert_eq(walk("/coda/dir/file", 0, &nd), -ENXIO);
	/* Once the loop has seen the channel end too. */
	loop_once();
	cr_assert(t.sb.vc.dead);
	cr_assert_eq(walk("/coda/dir/file", 0, &nd), -ENXIO);
}

/* As the kernel's coda_upcall after venus closed its device: EINTR for the
 * call that was waiting, ENXIO for the next. */
Test(coda, call_waiting_when_venus_dies_fails_and_the_next_is_enxio)
{
	struct coda_vattr attr;
	struct nameidata nd;

	walk_found("/coda/dir/file", 0, &nd);
	/* The walk's LOOKUP brought the attributes: forget them, so that
	 * getattr asks venus. */
	cache_attr_drop(&t.sb.caches, &nd.fid);
	/* Stopped, venus cannot answer before it is killed. */
	cr_assert_eq(kill(t.venus, SIGSTOP), 0);
	t.on_sleep = kill_venus;
	cr_assert_eq(coda_getattr(&t.req, &nd.fid, &attr), -EINTR);
	cr_assert_null(t.on_sleep, "getattr made no upcall");
	cr_assert(t.sb.vc.dead);
	cr_assert_eq(coda_getattr(&t.req, &nd.fid, &attr), -ENXIO);
}

/* ---- Directory read-ahead ---- */

#define LISTED 100

/* "many/" with LISTED files; returns its names in the module's listing
 * order, after a readdir from the start as `ls` makes it. */
static int list_many(char names[][16])
{
	char buf[4096] __attribute__((aligned(8))), p[PATH_MAX];
	struct nameidata nd;
	struct coda_file *f;
	int src, rc, n = 0;
	long len;

	backing_path(p, sizeof(p), "many");
	cr_assert_eq(mkdir(p, 0755), 0);
	for (int i = 0; i < LISTED; i++) {
		snprintf(p, sizeof(p), "many/f%03d", i);
		put_file(p, "x\n", 0644);
	}
	walk_found("/coda/many", 0, &nd);
	rc = coda_file_open(&t.req, &nd.fid, nd.vtype, nd.path, O_RDONLY | O_DIRECTORY, &f, &src);
	cr_assert_eq(rc, 0, "open the directory: %s", strerror(-rc));
	while ((len = coda_dir_readdir(&t.req, f, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			unsigned short reclen;
			const char *name = buf + off + offsetof(struct dirent64, d_name);

			memcpy(&reclen, buf + off + offsetof(struct dirent64, d_reclen),
			       sizeof(reclen));
			if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
				cr_assert_lt(n, LISTED);
				snprintf(names[n++], 16, "%s", name);
			}
			off += reclen;
		}
	}
	cr_assert_eq(len, 0, "readdir: %s", strerror((int)-len));
	coda_file_close_src(f, src);
	coda_file_put(f);
	return n;
}

/* What stat(2) of /coda/many/NAME makes: a walk and a getattr, checked
 * against the backing file. */
static void stat_listed(const char *name)
{
	char path[64], rel[32];
	struct coda_vattr attr;
	struct nameidata nd;
	struct stat st;
	int rc;

	snprintf(path, sizeof(path), "/coda/many/%s", name);
	snprintf(rel, sizeof(rel), "many/%s", name);
	st = backing(rel, 0);
	walk_to(path, 0, path, &st, &nd);
	rc = coda_getattr(&t.req, &nd.fid, &attr);
	cr_assert_eq(rc, 0, "getattr %s: %s", path, strerror(-rc));
	cr_assert_eq(attr.va_size, (u_quad_t)st.st_size);
}

/* The embedded venus answers each LOOKUP with the attributes too, so a
 * listing's stats make no GETATTR at all. */
Test(coda, stat_of_a_listing_in_order_reads_ahead_and_asks_each_name_once)
{
	char names[LISTED][16];
	int n = list_many(names);
	unsigned before = lookups(), getattrs = t.sent[CODA_GETATTR];

	cr_assert_eq(n, LISTED);
	stat_listed(names[0]);
	stat_listed(names[1]);
	cr_assert_gt(lookups() - before, 2, "two names in order: no read-ahead");
	for (int i = 2; i < n; i++)
		stat_listed(names[i]);
	cr_assert_eq(lookups() - before, LISTED, "%u LOOKUPs for %d names", lookups() - before,
		     LISTED);
	cr_assert_eq(t.sent[CODA_GETATTR] - getattrs, 0, "%u GETATTRs for %d names",
		     t.sent[CODA_GETATTR] - getattrs, LISTED);
}

Test(coda, stat_of_listed_names_out_of_order_reads_nothing_ahead)
{
	char names[LISTED][16];
	int n = list_many(names);
	unsigned before = lookups();

	for (int i = 0; i < 10; i++) {
		stat_listed(names[(i * 37) % n]);
		cr_assert_eq(lookups() - before, (unsigned)i + 1, "%u LOOKUPs for %d names",
			     lookups() - before, i + 1);
	}
}
