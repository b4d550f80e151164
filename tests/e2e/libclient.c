/* libclient [--native] ROOT STEP...: steps on files under ROOT made with
 * libcodaclient (ROOT under a --serve mount, no trap), or with --native the
 * same steps with libc (ROOT a plain directory), printing each result the
 * same way, so that tests/e2e/libclient.sh compares the two. Steps:
 *
 *   write P TEXT    open O_WRONLY|O_CREAT|O_TRUNC 0644, write, close
 *   append P TEXT   open O_WRONLY|O_APPEND, write, close
 *   excl P          open O_WRONLY|O_CREAT|O_EXCL 0600, close
 *   cat P           open O_RDONLY, read, close
 *   hold P          open O_RDONLY, kept open
 *   hold-append P TEXT  open O_WRONLY|O_APPEND, write, kept open
 *   held            the held fd's bytes from offset 0 (pread)
 *   held-write TEXT the held fd written to
 *   held-close      the held fd closed
 *   run CMD         sh -c CMD (another job, say), its exit status
 *   ls P            the names of directory P, sorted, with their d_type
 *   stat P, lstat P the type, permissions and (not a directory) size
 *   mkdir P, rm P, mv A B, readlink P
 *
 * Paths are ROOT/P. Each step prints "STEP P: result" or "STEP P: error";
 * the status is 0 unless a step could not be made at all. */
#include <codaclient.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The calls a step makes: libcodaclient's or libc's. */
struct ops {
	int (*open)(const char *path, int flags, ...);
	int (*close)(int fd);
	int (*stat)(const char *path, struct stat *st);
	int (*lstat)(const char *path, struct stat *st);
	int (*mkdir)(const char *path, mode_t mode);
	int (*unlink)(const char *path);
	int (*rename)(const char *from, const char *to);
	ssize_t (*readlink)(const char *path, char *buf, size_t size);
	void *(*opendir)(const char *path);
	struct dirent *(*readdir)(void *dir);
	int (*closedir)(void *dir);
};

static void *lib_opendir(const char *path)
{
	return coda_opendir(path);
}

static struct dirent *lib_readdir(void *dir)
{
	return coda_readdir(dir);
}

static int lib_closedir(void *dir)
{
	return coda_closedir(dir);
}

static void *libc_opendir(const char *path)
{
	return opendir(path);
}

static struct dirent *libc_readdir(void *dir)
{
	return readdir(dir);
}

static int libc_closedir(void *dir)
{
	return closedir(dir);
}

static const struct ops lib = {coda_open,   coda_close,	 coda_stat,   coda_lstat,
			       coda_mkdir,  coda_unlink, coda_rename, coda_readlink,
			       lib_opendir, lib_readdir, lib_closedir};
static const struct ops native = {open,		close,	      stat,	    lstat,
				  mkdir,	unlink,	      rename,	    readlink,
				  libc_opendir, libc_readdir, libc_closedir};

struct run {
	const struct ops *o;
	const char *root;
	int held;
};

static const char *at(const struct run *r, const char *p, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s", r->root, p);
	return buf;
}

/* The result of a call: "ok", or the error. */
static void result(const char *step, const char *p, int rc)
{
	printf("%s %s: %s\n", step, p, rc < 0 ? strerror(errno) : "ok");
}

/* All of text written to fd: 0, or -1. */
static int write_all(int fd, const char *text)
{
	size_t len = strlen(text);

	return write(fd, text, len) == (ssize_t)len ? 0 : -1;
}

/* p opened with flags and text written: the fd, or -1. */
static int open_written(const struct run *r, const char *p, const char *text, int flags,
			mode_t mode)
{
	char path[PATH_MAX];
	int fd = r->o->open(at(r, p, path), flags, mode);

	if (fd < 0)
		return -1;
	if (write_all(fd, text) < 0) {
		r->o->close(fd);
		return -1;
	}
	return fd;
}

static int put(const struct run *r, const char *p, const char *text, int flags, mode_t mode)
{
	int fd = open_written(r, p, text, flags, mode);

	return fd < 0 ? -1 : r->o->close(fd);
}

static void print_bytes(const char *step, const char *p, int fd)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	if (n < 0)
		printf("%s %s: %s\n", step, p, strerror(errno));
	else
		printf("%s %s: [%.*s]\n", step, p, (int)n, buf);
}

static void cat(const struct run *r, const char *p)
{
	char path[PATH_MAX];
	int fd = r->o->open(at(r, p, path), O_RDONLY);

	if (fd < 0) {
		result("cat", p, -1);
		return;
	}
	print_bytes("cat", p, fd);
	r->o->close(fd);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ls(const struct run *r, const char *p)
{
	char path[PATH_MAX], *names[1024];
	void *dir = r->o->opendir(at(r, p, path));
	struct dirent *e;
	size_t n = 0;

	if (!dir) {
		result("ls", p, -1);
		return;
	}
	while (n < 1024 && (e = r->o->readdir(dir)))
		if (asprintf(&names[n], "%s %d", e->d_name, e->d_type) > 0)
			n++;
	r->o->closedir(dir);
	qsort(names, n, sizeof(*names), by_name);
	printf("ls %s:", p);
	for (size_t i = 0; i < n; i++) {
		printf(" [%s]", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void show_stat(const struct run *r, const char *step, const char *p)
{
	char path[PATH_MAX];
	struct stat st;
	int rc = (strcmp(step, "stat") ? r->o->lstat : r->o->stat)(at(r, p, path), &st);

	if (rc < 0) {
		result(step, p, rc);
		return;
	}
	printf("%s %s: %s %04o", step, p,
	       S_ISDIR(st.st_mode)   ? "dir"
	       : S_ISLNK(st.st_mode) ? "symlink"
	       : S_ISREG(st.st_mode) ? "file"
				     : "other",
	       st.st_mode & 07777);
	if (!S_ISDIR(st.st_mode))
		printf(" %lld", (long long)st.st_size);
	printf("\n");
}

static void show_link(const struct run *r, const char *p)
{
	char path[PATH_MAX], buf[PATH_MAX];
	ssize_t n = r->o->readlink(at(r, p, path), buf, sizeof(buf));

	if (n < 0)
		result("readlink", p, -1);
	else
		printf("readlink %s: %.*s\n", p, (int)n, buf);
}

static void run(const char *cmd)
{
	int status;

	fflush(stdout);
	status = system(cmd);
	if (status < 0 || !WIFEXITED(status))
		printf("run: failed\n");
	else
		printf("run: exit %d\n", WEXITSTATUS(status));
}

/* One step at argv[0]: the arguments it took, or -1. */
static int step(struct run *r, char **argv, int argc)
{
	char a[PATH_MAX], b[PATH_MAX];
	const char *s = argv[0];
	int need = !strcmp(s, "held") || !strcmp(s, "held-close") ? 0
		   : !strcmp(s, "write") || !strcmp(s, "append") || !strcmp(s, "hold-append") ||
			   !strcmp(s, "mv")
		       ? 2
		       : 1;

	if (argc <= need)
		return -1;
	if (!strcmp(s, "write"))
		result(s, argv[1], put(r, argv[1], argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644));
	else if (!strcmp(s, "append"))
		result(s, argv[1], put(r, argv[1], argv[2], O_WRONLY | O_APPEND, 0));
	else if (!strcmp(s, "excl"))
		result(s, argv[1], put(r, argv[1], "", O_WRONLY | O_CREAT | O_EXCL, 0600));
	else if (!strcmp(s, "cat"))
		cat(r, argv[1]);
	else if (!strcmp(s, "hold"))
		result(s, argv[1], r->held = r->o->open(at(r, argv[1], a), O_RDONLY));
	else if (!strcmp(s, "hold-append"))
		result(s, argv[1],
		       r->held = open_written(r, argv[1], argv[2], O_WRONLY | O_APPEND, 0));
	else if (!strcmp(s, "held"))
		print_bytes(s, "-", r->held);
	else if (!strcmp(s, "held-write"))
		result(s, "-", write_all(r->held, argv[1]));
	else if (!strcmp(s, "held-close"))
		result(s, "-", r->o->close(r->held));
	else if (!strcmp(s, "ls"))
		ls(r, argv[1]);
	else if (!strcmp(s, "stat") || !strcmp(s, "lstat"))
		show_stat(r, s, argv[1]);
	else if (!strcmp(s, "mkdir"))
		result(s, argv[1], r->o->mkdir(at(r, argv[1], a), 0755));
	else if (!strcmp(s, "rm"))
		result(s, argv[1], r->o->unlink(at(r, argv[1], a)));
	else if (!strcmp(s, "mv"))
		result(s, argv[1], r->o->rename(at(r, argv[1], a), at(r, argv[2], b)));
	else if (!strcmp(s, "readlink"))
		show_link(r, argv[1]);
	else if (!strcmp(s, "run"))
		run(argv[1]);
	else
		return -1;
	fflush(stdout);
	return need;
}

int main(int argc, char **argv)
{
	struct run r = {.o = &lib, .held = -1};
	int i = 1, n;

	if (argc > 1 && !strcmp(argv[1], "--native")) {
		r.o = &native;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: libclient [--native] ROOT STEP...\n");
		return 2;
	}
	r.root = argv[i++];
	for (; i < argc; i += n + 1) {
		n = step(&r, argv + i, argc - i);
		if (n < 0) {
			fprintf(stderr, "libclient: bad step '%s'\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
