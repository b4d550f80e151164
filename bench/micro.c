/* micro [-n N] [-b BATCHES] TEST [DIR]: the cost of one call, in us.
 *
 * Times BATCHES batches of N calls (default 5 of 2,000) and prints one line,
 * "TEST MEDIAN MIN MAX": the median, lowest and highest of the batches'
 * mean time per call. The same binary runs natively, under bench/floor and
 * under coda-exec, so the three lines differ only in what catches the call.
 *
 *   rtt                 a 1-byte SOCK_SEQPACKET round trip to a child process
 *   lstat-cold DIR      first lstat of DIR/f<i>, a new file each call
 *                       (needs N*BATCHES files)
 *   lstat-cached DIR    lstat of DIR/f0..f<N-1>, each lstat'ed once before
 *   lstat-missing DIR   lstat of a name that does not exist, a new one each call
 *   open-close DIR      open(O_RDONLY)+close of DIR/f0..f<N-1>, lstat'ed before
 *   create-write-close DIR   a new file, 4 KiB written, closed
 *   lstat-host DIR      as lstat-cached (for a DIR outside the mount)
 *
 * micro second [-c SHELL-CMD] OUT -- COMMAND [ARG]...
 *   runs COMMAND twice (and SHELL-CMD between, untimed) and appends the
 *   second run's wall time in seconds to OUT: the second pass inside one
 *   run of a supervisor. Exits 1 if a run failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCHES 100

struct run {
	const char *dir;
	long n;
	int batches;
	int sock; /* rtt: our end of the pair */
	char buf[4096];
};

typedef int (*call_fn)(struct run *r, long i);

struct test {
	const char *name;
	call_fn call;
	bool fresh;   /* each batch calls on new indices */
	bool warm;    /* lstat each file once before timing */
	bool has_dir; /* takes DIR */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void path_of(const struct run *r, char *path, size_t size, const char *prefix, long i)
{
	snprintf(path, size, "%s/%s%ld", r->dir, prefix, i);
}

static int lstat_file(struct run *r, long i)
{
	char path[4096];
	struct stat st;

	path_of(r, path, sizeof(path), "f", i);
	return lstat(path, &st) < 0 ? -errno : 0;
}

static int lstat_missing(struct run *r, long i)
{
	char path[4096];
	struct stat st;

	path_of(r, path, sizeof(path), "missing", i);
	if (lstat(path, &st) == 0)
		return -EEXIST;
	return errno == ENOENT ? 0 : -errno;
}

static int open_close(struct run *r, long i)
{
	char path[4096];
	int fd;

	path_of(r, path, sizeof(path), "f", i);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

static int create_write_close(struct run *r, long i)
{
	char path[4096];
	int fd;
	ssize_t n;

	path_of(r, path, sizeof(path), "c", i);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, r->buf, sizeof(r->buf));
	if (n != (ssize_t)sizeof(r->buf)) {
		int err = n < 0 ? errno : EIO;

		close(fd);
		return -err;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int round_trip(struct run *r, long i)
{
	char c = (char)i;

	if (write(r->sock, &c, 1) != 1 || read(r->sock, &c, 1) != 1)
		return -errno;
	return 0;
}

/* The other end of rtt: echoes every byte until the socket closes. */
static int start_echo(struct run *r)
{
	int sv[2];
	pid_t pid;
	char c;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(sv[0]);
		while (read(sv[1], &c, 1) == 1)
			if (write(sv[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	r->sock = sv[0];
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int run_test(struct run *r, const struct test *t)
{
	double us[MAX_BATCHES];

	for (long i = 0; t->warm && i < r->n; i++) {
		int rc = lstat_file(r, i);

		if (rc < 0) {
			fprintf(stderr, "micro: %s/f%ld: %s\n", r->dir, i, strerror(-rc));
			return rc;
		}
	}
	for (int b = 0; b < r->batches; b++) {
		long base = t->fresh ? b * r->n : 0;
		double t0 = now();

		for (long i = 0; i < r->n; i++) {
			int rc = t->call(r, base + i);

			if (rc < 0) {
				fprintf(stderr, "micro: %s, call %ld: %s\n", t->name, base + i,
					strerror(-rc));
				return rc;
			}
		}
		us[b] = (now() - t0) * 1e6 / (double)r->n;
	}
	qsort(us, (size_t)r->batches, sizeof(us[0]), cmp_double);
	printf("%s %.2f %.2f %.2f\n", t->name, us[r->batches / 2], us[0], us[r->batches - 1]);
	return 0;
}

/* fork+exec+wait; the command's status as a shell gives it, or -errno. */
static int spawn(char **argv)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "micro: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int second_pass(int argc, char **argv)
{
	char *between = NULL, *sh[] = {"/bin/sh", "-c", NULL, NULL};
	double t0, secs;
	FILE *out;
	int opt;

	while ((opt = getopt(argc, argv, "+c:")) != -1) {
		if (opt != 'c')
			return 2;
		between = optarg;
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0) {
		fprintf(stderr, "usage: micro second [-c SHELL-CMD] OUT -- COMMAND [ARG]...\n");
		return 2;
	}
	sh[2] = between;
	if (spawn(argv + optind + 2) != 0 || (between && spawn(sh) != 0))
		return 1;
	t0 = now();
	if (spawn(argv + optind + 2) != 0)
		return 1;
	secs = now() - t0;
	out = fopen(argv[optind], "a");
	if (!out || fprintf(out, "%.6f\n", secs) < 0 || fclose(out) != 0) {
		perror(argv[optind]);
		return 1;
	}
	return 0;
}

static const struct test tests[] = {
    {"rtt", round_trip, false, false, false},
    {"lstat-cold", lstat_file, true, false, true},
    {"lstat-cached", lstat_file, false, true, true},
    {"lstat-missing", lstat_missing, true, false, true},
    {"open-close", open_close, false, true, true},
    {"create-write-close", create_write_close, true, false, true},
    {"lstat-host", lstat_file, false, true, true},
};

static const struct test *find_test(const char *name)
{
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (strcmp(tests[i].name, name) == 0)
			return &tests[i];
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: micro [-n N] [-b BATCHES] TEST [DIR]\n"
			"       micro second [-c SHELL-CMD] OUT -- COMMAND [ARG]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct run r = {.n = 2000, .batches = 5, .sock = -1};
	const struct test *t;
	int opt;

	if (argc > 1 && strcmp(argv[1], "second") == 0)
		return second_pass(argc - 1, argv + 1);
	while ((opt = getopt(argc, argv, "+n:b:")) != -1) {
		if (opt == 'n')
			r.n = atol(optarg);
		else if (opt == 'b')
			r.batches = atoi(optarg);
		else
			return usage();
	}
	t = optind < argc ? find_test(argv[optind]) : NULL;
	if (!t || r.n < 1 || r.batches < 1 || r.batches > MAX_BATCHES ||
	    argc - optind != (t->has_dir ? 2 : 1))
		return usage();
	r.dir = t->has_dir ? argv[optind + 1] : NULL;
	memset(r.buf, 'x', sizeof(r.buf));
	if (t->call == round_trip && start_echo(&r) < 0) {
		perror("micro: rtt");
		return 1;
	}
	return run_test(&r, t) < 0 ? 1 : 0;
}
