/*
 * stress DIR SEED [THREADS [OPS]]: THREADS threads (default 8) each make OPS
 * (default 5,000) pseudo-random file operations in DIR, and check every
 * result, errno included, against a model of what the thread expects.  The
 * first mismatch is printed and the program exits 1.
 *
 * Each thread works in its own directory DIR/tN (files f00..f15, a
 * directory that comes and goes) and in the shared directory DIR/shared:
 * there every thread reads the same read-only files and creates, renames
 * and removes names of its own (tN-*), so that every result is
 * deterministic whatever the interleaving.  The final tree depends on SEED
 * alone: the e2e-tree suite compares it (names, sizes, MD5s) with that of a
 * native run, and the output, which counts the operations of each kind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NSLOTS	   16
#define MAX_SIZE   8192
#define NSHARED_RO 8

enum op {
	OP_READ,
	OP_STAT,
	OP_CREATE,
	OP_TRUNCWRITE,
	OP_APPEND,
	OP_RENAME,
	OP_UNLINK,
	OP_READDIR,
	OP_MKDIR,
	OP_RMDIR,
	OP_SHARED_READ,
	OP_SHARED_MOVE,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "read",   "stat",	 "create", "truncwrite", "append",	"rename",
    "unlink", "readdir", "mkdir",  "rmdir",	 "shared-read", "shared-move",
};

struct slot {
	bool present;
	bool shared; /* moved to DIR/shared/tN-fNN */
	size_t size;
	char data[MAX_SIZE];
};

struct worker {
	pthread_t thread;
	int id, ops;
	const char *dir;
	unsigned long long rng;
	struct slot slot[NSLOTS];
	bool dir_present;
	long count[OP_COUNT];
};

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned next(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (unsigned)(w->rng >> 11);
}

static void fail(struct worker *w, int op, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&report_lock);
	printf("thread %d op %d: ", w->id, op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	_exit(1);
}

/* A syscall's outcome against the model's: 0 or the expected errno. */
static void expect(struct worker *w, int op, const char *what, int rc, int want)
{
	int got = rc < 0 ? errno : 0;

	if (got != want)
		fail(w, op, "%s: got %s, expected %s", what, got ? strerror(got) : "success",
		     want ? strerror(want) : "success");
}

static void slot_path_in(struct worker *w, bool shared, int i, char *buf, size_t len)
{
	if (shared)
		snprintf(buf, len, "%s/shared/t%d-f%02d", w->dir, w->id, i);
	else
		snprintf(buf, len, "%s/t%d/f%02d", w->dir, w->id, i);
}

static void slot_path(struct worker *w, int i, char *buf, size_t len)
{
	slot_path_in(w, w->slot[i].shared, i, buf, len);
}

static void fill(struct worker *w, char *buf, size_t len)
{
	unsigned x = next(w);

	for (size_t j = 0; j < len; j++)
		buf[j] = (char)('a' + (x + j * 7) % 26);
	if (len)
		buf[len - 1] = '\n';
}

static void write_all(struct worker *w, int op, int fd, const char *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n != (ssize_t)len)
		fail(w, op, "write of %zu bytes: %zd (%s)", len, n, strerror(errno));
}

static void check_contents(struct worker *w, int op, int fd, const char *want, size_t size,
			   const char *path)
{
	static __thread char buf[MAX_SIZE + 1];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != (off_t)size)
		fail(w, op, "fstat %s: size %lld, expected %zu", path, (long long)st.st_size, size);
	n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)size || memcmp(buf, want, size))
		fail(w, op, "read %s: %zd bytes, expected %zu, or other bytes", path, n, size);
}

static void do_read(struct worker *w, int op, int i)
{
	char path[256];
	int fd;

	slot_path(w, i, path, sizeof(path));
	fd = open(path, O_RDONLY);
	expect(w, op, path, fd, w->slot[i].present ? 0 : ENOENT);
	if (fd >= 0) {
		check_contents(w, op, fd, w->slot[i].data, w->slot[i].size, path);
		close(fd);
	}
}

static void do_stat(struct worker *w, int op, int i)
{
	char path[256];
	struct stat st;
	int rc;

	slot_path(w, i, path, sizeof(path));
	rc = stat(path, &st);
	expect(w, op, path, rc, w->slot[i].present ? 0 : ENOENT);
	if (!rc && (!S_ISREG(st.st_mode) || st.st_size != (off_t)w->slot[i].size))
		fail(w, op, "stat %s: size %lld, expected %zu", path, (long long)st.st_size,
		     w->slot[i].size);
}

/* create (O_EXCL), rewrite (O_TRUNC) or append to slot i. */
static void do_write(struct worker *w, int op, int i, int kind)
{
	struct slot *s = &w->slot[i];
	int flags = kind == OP_CREATE ? O_CREAT | O_EXCL : kind == OP_APPEND ? O_APPEND : O_TRUNC;
	int want = kind == OP_CREATE ? (s->present ? EEXIST : 0) : (s->present ? 0 : ENOENT);
	size_t len = 1 + next(w) % 2048, at = kind == OP_APPEND ? s->size : 0;
	char path[256];
	int fd;

	slot_path(w, i, path, sizeof(path));
	fd = open(path, O_WRONLY | flags, 0644);
	expect(w, op, path, fd, want);
	if (fd < 0)
		return;
	if (at + len > MAX_SIZE)
		len = MAX_SIZE - at;
	fill(w, s->data + at, len);
	write_all(w, op, fd, s->data + at, len);
	if (close(fd) < 0)
		fail(w, op, "close %s: %s", path, strerror(errno));
	s->present = true;
	s->size = at + len;
}

/* Slot i renamed over slot j: where j is, if it is, else beside i. */
static void do_rename(struct worker *w, int op, int i, int j)
{
	bool shared = w->slot[j].present ? w->slot[j].shared : w->slot[i].shared;
	char from[256], to[256];
	int rc;

	slot_path(w, i, from, sizeof(from));
	slot_path_in(w, shared, j, to, sizeof(to));
	rc = rename(from, to);
	expect(w, op, from, rc, w->slot[i].present ? 0 : ENOENT);
	if (!rc && i != j) {
		w->slot[j] = w->slot[i];
		w->slot[j].shared = shared;
		w->slot[i].present = false;
	}
}

static void do_unlink(struct worker *w, int op, int i)
{
	char path[256];

	slot_path(w, i, path, sizeof(path));
	expect(w, op, path, unlink(path), w->slot[i].present ? 0 : ENOENT);
	w->slot[i].present = false;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The thread's own directory lists exactly the model's names. */
static void do_readdir(struct worker *w, int op)
{
	char path[256], want[1024] = "", got[1024] = "", *names[NSLOTS + 4];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/t%d", w->dir, w->id);
	d = opendir(path);
	if (!d)
		fail(w, op, "opendir %s: %s", path, strerror(errno));
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < NSLOTS + 4)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	for (int k = 0; k < n; k++) {
		strcat(got, " ");
		strcat(got, names[k]);
		free(names[k]);
	}
	if (w->dir_present)
		strcat(want, " dir");
	for (int k = 0; k < NSLOTS; k++) {
		if (w->slot[k].present && !w->slot[k].shared)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), " f%02d", k);
	}
	if (strcmp(got, want))
		fail(w, op, "readdir %s:%s, expected%s", path, got, want);
}

static void do_dir(struct worker *w, int op, bool make)
{
	char path[256];
	int want = make ? (w->dir_present ? EEXIST : 0) : (w->dir_present ? 0 : ENOENT);

	snprintf(path, sizeof(path), "%s/t%d/dir", w->dir, w->id);
	expect(w, op, path, make ? mkdir(path, 0755) : rmdir(path), want);
	w->dir_present = make;
}

/* The shared read-only files: every thread sees the same bytes. */
static void do_shared_read(struct worker *w, int op)
{
	char path[256], want[64];
	int k = (int)(next(w) % NSHARED_RO), fd;

	snprintf(path, sizeof(path), "%s/shared/ro%d", w->dir, k);
	snprintf(want, sizeof(want), "shared file %d\n", k);
	fd = open(path, O_RDONLY);
	expect(w, op, path, fd, 0);
	check_contents(w, op, fd, want, strlen(want), path);
	close(fd);
}

/* A slot moves between the thread's directory and the shared one. */
static void do_shared_move(struct worker *w, int op, int i)
{
	struct slot *s = &w->slot[i];
	char from[256], to[256];

	slot_path(w, i, from, sizeof(from));
	s->shared = !s->shared;
	slot_path(w, i, to, sizeof(to));
	expect(w, op, from, rename(from, to), s->present ? 0 : ENOENT);
}

static void step(struct worker *w, int op)
{
	static const int weights[OP_COUNT] = {14, 14, 10, 8, 8, 8, 8, 6, 3, 3, 10, 8};
	int r = (int)(next(w) % 100), kind = 0, i = (int)(next(w) % NSLOTS);

	while (r >= weights[kind])
		r -= weights[kind++];
	w->count[kind]++;
	switch (kind) {
	case OP_READ:
		do_read(w, op, i);
		break;
	case OP_STAT:
		do_stat(w, op, i);
		break;
	case OP_CREATE:
	case OP_TRUNCWRITE:
	case OP_APPEND:
		do_write(w, op, i, kind);
		break;
	case OP_RENAME:
		do_rename(w, op, i, (int)(next(w) % NSLOTS));
		break;
	case OP_UNLINK:
		do_unlink(w, op, i);
		break;
	case OP_READDIR:
		do_readdir(w, op);
		break;
	case OP_MKDIR:
	case OP_RMDIR:
		do_dir(w, op, kind == OP_MKDIR);
		break;
	case OP_SHARED_READ:
		do_shared_read(w, op);
		break;
	default:
		do_shared_move(w, op, i);
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;

	for (int op = 0; op < w->ops; op++)
		step(w, op);
	return NULL;
}

static int setup(const char *dir, int threads)
{
	char path[256], data[64];

	snprintf(path, sizeof(path), "%s/shared", dir);
	if (mkdir(path, 0755) < 0)
		return -1;
	for (int k = 0; k < NSHARED_RO; k++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/shared/ro%d", dir, k);
		snprintf(data, sizeof(data), "shared file %d\n", k);
		f = fopen(path, "w");
		if (!f || fputs(data, f) < 0 || fclose(f) < 0)
			return -1;
	}
	for (int t = 0; t < threads; t++) {
		snprintf(path, sizeof(path), "%s/t%d", dir, t);
		if (mkdir(path, 0755) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int threads = argc > 3 ? atoi(argv[3]) : 8, ops = argc > 4 ? atoi(argv[4]) : 5000;
	unsigned long long seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;
	struct worker *w;

	if (argc < 3 || argc > 5 || threads < 1 || ops < 0) {
		fprintf(stderr, "usage: stress DIR SEED [THREADS [OPS]]\n");
		return 2;
	}
	w = calloc((size_t)threads, sizeof(*w));
	if (!w || setup(argv[1], threads) < 0) {
		perror("stress: setup");
		return 1;
	}
	for (int t = 0; t < threads; t++) {
		w[t].id = t;
		w[t].ops = ops;
		w[t].dir = argv[1];
		w[t].rng = (seed + 1) * 0x9e3779b97f4a7c15ULL + (unsigned long long)t * 7919 + 1;
		if (pthread_create(&w[t].thread, NULL, run, &w[t])) {
			fprintf(stderr, "stress: pthread_create failed\n");
			return 1;
		}
	}
	for (int t = 0; t < threads; t++)
		pthread_join(w[t].thread, NULL);
	for (int t = 0; t < threads; t++) {
		printf("thread %d:", t);
		for (int k = 0; k < OP_COUNT; k++)
			printf(" %s %ld", op_names[k], w[t].count[k]);
		printf("\n");
	}
	free(w);
	return 0;
}
