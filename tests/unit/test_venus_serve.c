/* The embedded venus's serving API alone, in process, with no channel:
 * what any transport (venus_run, tests/testvenus) builds on. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "venus.h"

#define HELLO "hello, serve\n"

static char base[64], vol[128], cache[128];
static struct venus_config cfg;
static struct venus *v;
static struct coda_msg in, out;
static const struct coda_caller me = {.pid = 100, .pgid = 100, .uid = 0};

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/venus-serve-XXXXXX");
	cr_assert_eq(scratch_volume(base, vol, cache, sizeof(vol), "hello.txt", HELLO), 0,
		     "scratch volume: %s", strerror(errno));
	cfg = (struct venus_config){.volume = vol, .cache = cache};
	cr_assert_eq(venus_new(&cfg, &v), 0);
}

static void teardown(void)
{
	venus_destroy(v);
	v = NULL;
	scratch_remove(base);
}

TestSuite(serve, .init = setup, .fini = teardown, .timeout = 30);

/* Serves `in` and checks that a reply to it came; returns its result. */
static int serve(void)
{
	cr_assert_eq(venus_serve(v, &in, &out), 1, "no reply to opcode %u", in.ih.opcode);
	cr_assert_eq(out.oh.opcode, in.ih.opcode);
	cr_assert_eq(out.oh.unique, in.ih.unique);
	return coda_msg_check_reply(&out, in.ih.opcode);
}

static struct CodaFid lookup_hello(void)
{
	struct CodaFid root;

	coda_msg_upcall(&in, CODA_ROOT, &me);
	cr_assert_eq(serve(), 0);
	root = out.out.coda_root.VFid;
	coda_msg_upcall(&in, CODA_LOOKUP, &me);
	in.ih.unique = 7;
	in.in.coda_lookup.VFid = root;
	cr_assert_eq(coda_msg_put_string(&in, &in.in.coda_lookup.name, "hello.txt", 9), 0);
	cr_assert_eq(serve(), 0);
	return out.out.coda_lookup.VFid;
}

Test(serve, open_by_fd_hands_over_our_own_fd)
{
	struct CodaFid fid = lookup_hello();
	char buf[64] = "";

	coda_msg_upcall(&in, CODA_OPEN_BY_FD, &me);
	in.in.coda_open_by_fd.VFid = fid;
	in.in.coda_open_by_fd.flags = C_O_READ;
	cr_assert_eq(serve(), 0);
	cr_assert_geq(out.fd, 0);
	/* The number in the reply is the fd itself, as stock venus writes it. */
	cr_assert_eq(out.out.coda_open_by_fd.fd, out.fd);
	cr_assert_eq(pread(out.fd, buf, sizeof(buf), 0), (ssize_t)strlen(HELLO));
	cr_assert_str_eq(buf, HELLO);
	close(out.fd);
}

Test(serve, open_by_path_names_the_container)
{
	struct CodaFid fid = lookup_hello();
	const char *path;
	char buf[64] = "";
	int fd;

	coda_msg_upcall(&in, CODA_OPEN_BY_PATH, &me);
	in.in.coda_open_by_path.VFid = fid;
	in.in.coda_open_by_path.flags = C_O_READ;
	cr_assert_eq(serve(), 0);
	cr_assert_eq(out.fd, -1);
	cr_assert_eq(
	    coda_msg_get_reply_string(&out, out.out.coda_open_by_path.path, PATH_MAX, &path), 0);
	cr_assert_eq(strncmp(path, cache, strlen(cache)), 0, "%s is not in the cache", path);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(read(fd, buf, sizeof(buf)), (ssize_t)strlen(HELLO));
	cr_assert_str_eq(buf, HELLO);
	close(fd);
}

Test(serve, signal_and_headerless_messages_get_no_reply)
{
	coda_msg_upcall(&in, CODA_SIGNAL, &me);
	cr_assert_eq(venus_serve(v, &in, &out), 0);
	in.len = sizeof(struct coda_in_hdr) - 1;
	cr_assert_eq(venus_serve(v, &in, &out), 0);
	cr_assert_eq(out.fd, -1);
}

Test(serve, malformed_upcalls_get_an_error_reply)
{
	coda_msg_upcall(&in, CODA_LOOKUP, &me);
	in.len = sizeof(struct coda_in_hdr); /* no fid, no name */
	cr_assert_neq(serve(), 0);
	coda_msg_upcall(&in, CODA_ROOT, &me);
	in.ih.opcode = 999;
	cr_assert_eq(venus_serve(v, &in, &out), 1);
	cr_assert_neq(out.oh.result, 0);
	cr_assert_eq(out.fd, -1);
}

Test(serve, upcall_fid)
{
	struct CodaFid fid = lookup_hello(), got;

	coda_msg_upcall(&in, CODA_GETATTR, &me);
	in.in.coda_getattr.VFid = fid;
	cr_assert(venus_upcall_fid(&in, &got));
	cr_assert(coda_fid_eq(&got, &fid));
	coda_msg_upcall(&in, CODA_ROOT, &me);
	cr_assert_not(venus_upcall_fid(&in, &got));
	coda_msg_upcall(&in, CODA_GETATTR, &me);
	in.len = sizeof(struct coda_in_hdr);
	cr_assert_not(venus_upcall_fid(&in, &got));
}
