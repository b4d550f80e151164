/* The client modify log of the embedded venus (venus/cml.c), in process
 * through the serving API: a disconnected venus (defer_stores) keeps what
 * a write session closed, a restart keeps serving it, and a connected
 * start stores it and empties the log. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "venus.h"

#define OLD "old bytes\n"
#define NEW "new bytes, not sent\n"

static char base[64], vol[128], cache[128];
static struct venus_config cfg;
static struct venus *v;
static struct coda_msg in, out;
static const struct coda_caller me = {.pid = 100, .pgid = 100, .uid = 0};

static void start(bool disconnected)
{
	venus_destroy(v);
	cfg = (struct venus_config){.volume = vol, .cache = cache, .defer_stores = disconnected};
	cr_assert_eq(venus_new(&cfg, &v), 0);
}

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/venus-cml-XXXXXX");
	cr_assert_eq(scratch_volume(base, vol, cache, sizeof(vol), "f.txt", OLD), 0,
		     "scratch volume: %s", strerror(errno));
	v = NULL;
	start(true);
}

static void teardown(void)
{
	venus_destroy(v);
	v = NULL;
	scratch_remove(base);
}

TestSuite(cml, .init = setup, .fini = teardown, .timeout = 30);

static int serve(void)
{
	cr_assert_eq(venus_serve(v, &in, &out), 1, "no reply to opcode %u", in.ih.opcode);
	return coda_msg_check_reply(&out, in.ih.opcode);
}

static struct CodaFid root(void)
{
	coda_msg_upcall(&in, CODA_ROOT, &me);
	cr_assert_eq(serve(), 0);
	return out.out.coda_root.VFid;
}

static struct CodaFid lookup_f(void)
{
	struct CodaFid dir = root();

	coda_msg_upcall(&in, CODA_LOOKUP, &me);
	in.in.coda_lookup.VFid = dir;
	cr_assert_eq(coda_msg_put_string(&in, &in.in.coda_lookup.name, "f.txt", 5), 0);
	cr_assert_eq(serve(), 0);
	return out.out.coda_lookup.VFid;
}

/* A whole write session on f.txt, as the supervisor makes it: the container
 * is opened for writing by path, since venus hands it over read-only. */
static void write_session(const char *data)
{
	struct CodaFid fid = lookup_f();
	char p[64];
	int fd;

	coda_msg_upcall(&in, CODA_OPEN_BY_FD, &me);
	in.in.coda_open_by_fd.VFid = fid;
	in.in.coda_open_by_fd.flags = C_O_WRITE | C_O_TRUNC;
	cr_assert_eq(serve(), 0);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", out.fd);
	fd = open(p, O_WRONLY);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	close(out.fd);
	cr_assert_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
	coda_msg_upcall(&in, CODA_CLOSE, &me);
	in.in.coda_close.VFid = fid;
	in.in.coda_close.flags = C_O_WRITE;
	cr_assert_eq(serve(), 0);
}

/* A read open of f.txt, closed as far as venus knows: the container fd. */
static int hold(void)
{
	struct CodaFid fid = lookup_f();
	int fd;

	coda_msg_upcall(&in, CODA_OPEN_BY_FD, &me);
	in.in.coda_open_by_fd.VFid = fid;
	in.in.coda_open_by_fd.flags = C_O_READ;
	cr_assert_eq(serve(), 0);
	fd = out.fd;
	coda_msg_upcall(&in, CODA_CLOSE, &me);
	in.in.coda_close.VFid = fid;
	in.in.coda_close.flags = C_O_READ;
	cr_assert_eq(serve(), 0);
	return fd;
}

/* The bytes of fd, NUL-terminated. */
static void read_fd(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	cr_assert_geq(n, 0);
	buf[n] = '\0';
}

/* f.txt as an open through venus shows it, NUL-terminated. */
static void read_through_venus(char *buf, size_t len)
{
	int fd = hold();

	read_fd(fd, buf, len);
	close(fd);
}

static void assert_vol(const char *want)
{
	char p[256], buf[128] = "";
	int fd;

	snprintf(p, sizeof(p), "%s/f.txt", vol);
	fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_geq(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	cr_assert_str_eq(buf, want);
}

/* The number of files in the cache whose names start with prefix. */
static int cache_count(const char *prefix)
{
	DIR *d = opendir(cache);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* How many live entries the log in the cache holds: one NUL-ended record
 * each, less one for each done record ("- CONTAINER") that follows one;
 * none when there is no log. */
static int log_entries(void)
{
	char p[PATH_MAX], buf[4096];
	int fd, n = 0;
	ssize_t len;

	snprintf(p, sizeof(p), "%s/CML", cache);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	cr_assert_geq(len, 0);
	for (ssize_t i = 0; i < len; i++) {
		bool start = i == 0 || buf[i - 1] == '\n';

		if (start && i + 1 < len && buf[i] == '-' && buf[i + 1] == ' ')
			n -= 2; /* its own NUL counts one */
		n += buf[i] == '\0';
	}
	return n;
}

/* The owner check wants 0:65534, which only root may give here; the
 * hosted suite covers an ordinary user, whose chown fakeroot records. */
Test(cml, kept_write_survives_a_restart_and_reintegration_stores_it)
{
	struct CodaFid fid;
	char buf[128];

	if (geteuid() != 0)
		cr_skip_test("needs root to give the container 0:65534");
	write_session(NEW);
	assert_vol(OLD);
	cr_assert_eq(cache_count("CML"), 1);
	start(true);
	read_through_venus(buf, sizeof(buf));
	cr_assert_str_eq(buf, NEW);
	fid = lookup_f();
	coda_msg_upcall(&in, CODA_GETATTR, &me);
	in.in.coda_getattr.VFid = fid;
	cr_assert_eq(serve(), 0);
	cr_assert_eq(out.out.coda_getattr.attr.va_size, strlen(NEW));
	assert_vol(OLD);
	start(false);
	assert_vol(NEW);
	cr_assert_eq(cache_count("CML"), 0);
	cr_assert_eq(cache_count("cml."), 0);
}

/* A kept file rewritten (O_TRUNC) while a client holds its container: the
 * held bytes stay, the new session writes a new container. */
Test(cml, rewrite_of_a_kept_file_leaves_a_held_container_alone)
{
	char buf[128];
	int held;

	write_session(NEW);
	held = hold();
	write_session("rewritten\n");
	read_fd(held, buf, sizeof(buf));
	cr_assert_str_eq(buf, NEW, "the held container was rewritten");
	read_through_venus(buf, sizeof(buf));
	cr_assert_str_eq(buf, "rewritten\n");
	close(held);
	assert_vol(OLD);
	cr_assert_eq(cache_count("cml."), 1);
}

/* A write open of f.txt with flags: the container opened for writing, as
 * the supervisor opens it. */
static int open_for_writing(int flags)
{
	struct CodaFid fid = lookup_f();
	char p[64];
	int fd;

	coda_msg_upcall(&in, CODA_OPEN_BY_FD, &me);
	in.in.coda_open_by_fd.VFid = fid;
	in.in.coda_open_by_fd.flags = flags;
	cr_assert_eq(serve(), 0);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", out.fd);
	fd = open(p, O_WRONLY);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	close(out.fd);
	return fd;
}

static void close_for_writing(void)
{
	struct CodaFid fid = lookup_f();

	coda_msg_upcall(&in, CODA_CLOSE, &me);
	in.in.coda_close.VFid = fid;
	in.in.coda_close.flags = C_O_WRITE;
	cr_assert_eq(serve(), 0);
}

/* A writer that keeps its kept file open past its CODA_CLOSE (a client of
 * --serve may): a later session of the file starts in a copy, so that the
 * stray writes never reach its store. */
Test(cml, stray_writer_of_a_kept_file_cannot_write_into_the_next_session)
{
	int stray, wfd;

	stray = open_for_writing(C_O_WRITE | C_O_TRUNC);
	cr_assert_eq(write(stray, NEW, strlen(NEW)), (ssize_t)strlen(NEW));
	close_for_writing();
	wfd = open_for_writing(C_O_WRITE);
	cr_assert_eq(pwrite(wfd, "two", 3, 0), 3);
	cr_assert_eq(pwrite(stray, "STRAY", 5, 4), 5);
	close(wfd);
	close_for_writing();
	close(stray);
	start(false);
	assert_vol("two bytes, not sent\n");
}

Test(cml, kept_container_failing_the_owner_check_is_truncated)
{
	char p[512], buf[128];
	DIR *d = opendir(cache);
	struct dirent *de;

	write_session(NEW);
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "cml.", 4) == 0) {
			snprintf(p, sizeof(p), "%s/%s", cache, de->d_name);
			cr_assert_eq(chmod(p, 0644), 0);
		}
	closedir(d);
	start(true);
	read_through_venus(buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
	start(false);
	assert_vol("");
	cr_assert_eq(cache_count("CML"), 0);
}

Test(cml, remove_of_a_kept_file_drops_it_from_the_log)
{
	struct CodaFid dir;

	write_session(NEW);
	cr_assert_eq(cache_count("cml."), 1);
	dir = root();
	coda_msg_upcall(&in, CODA_REMOVE, &me);
	in.in.coda_remove.VFid = dir;
	cr_assert_eq(coda_msg_put_string(&in, &in.in.coda_remove.name, "f.txt", 5), 0);
	cr_assert_eq(serve(), 0);
	cr_assert_eq(cache_count("cml."), 0);
	cr_assert_eq(log_entries(), 0);
}

Test(cml, open_by_path_of_a_kept_file_names_the_kept_container)
{
	struct CodaFid fid;
	const char *path;

	write_session(NEW);
	fid = lookup_f();
	coda_msg_upcall(&in, CODA_OPEN_BY_PATH, &me);
	in.in.coda_open_by_path.VFid = fid;
	in.in.coda_open_by_path.flags = C_O_READ;
	cr_assert_eq(serve(), 0);
	cr_assert_eq(
	    coda_msg_get_reply_string(&out, out.out.coda_open_by_path.path, PATH_MAX, &path), 0);
	cr_assert_not_null(strstr(path, "/cml."), "%s is not the kept container", path);
}

/* A log entry whose path leads out of the volume ("../out", the volume's
 * neighbour, written by anyone who may write the cache) is not stored
 * there at the next connected start: venus reaches nothing outside. */
Test(cml, entry_leading_out_of_the_volume_is_not_stored)
{
	char p[PATH_MAX], log[4096], *name;
	ssize_t n;
	int fd;

	write_session(NEW);
	snprintf(p, sizeof(p), "%s/out", base);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, OLD, strlen(OLD)), (ssize_t)strlen(OLD));
	close(fd);
	snprintf(p, sizeof(p), "%s/CML", cache);
	fd = open(p, O_RDWR);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	n = pread(fd, log, sizeof(log) - 1, 0);
	cr_assert_gt(n, 0);
	log[n] = '\0';
	name = strstr(log, " f.txt");
	cr_assert_not_null(name, "no entry for f.txt in the log");
	strcpy(name, " ../out");
	name += strlen(name);
	*name++ = '\0';
	*name++ = '\n';
	cr_assert_eq(pwrite(fd, log, (size_t)(name - log), 0), name - log);
	close(fd);
	start(false);
	snprintf(p, sizeof(p), "%s/out", base);
	fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	cr_assert_geq(n, 0);
	log[n] = '\0';
	cr_assert_str_eq(log, OLD, "the store reached %s", p);
	assert_vol(OLD);
}
