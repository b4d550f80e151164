/*
 * badcalls DIR FILE [LINK [LOOP]]: path syscalls with bad inputs, made with
 * syscall(2) so that libc checks nothing first.  DIR is a directory, FILE a
 * regular file in it, LINK a symlink in it and LOOP a symlink that loops
 * (both relative to DIR).  One line is printed per case: its name and "ok"
 * (sometimes with a result) or the errno name it got.  Nothing printed
 * depends on where DIR is, on fd numbers, inode numbers or timing, so the
 * output for /coda under coda-exec can be compared with the output for the
 * plain volume directory, where the kernel answers.
 *
 * Used by the end-to-end suite (bad_pointers_and_paths_fail_like_the_kernel).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int dirfd_;
static const char *file_;
static const char *link_;
static const char *loop_;
static long page_;
static char *region; /* [rw page][hole: unmapped][PROT_NONE page] */
static char *hole;
static char *noaccess;
static char *ro; /* one read-only page */

static const char *errname(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

/* Prints "what: ok" or "what: EXXX" for a syscall result (fds are closed). */
static void report(const char *what, long rc, int is_fd)
{
	if (rc < 0) {
		printf("%s: %s\n", what, errname(errno));
		return;
	}
	if (is_fd) {
		close((int)rc);
		printf("%s: ok\n", what);
	} else {
		printf("%s: ok %ld\n", what, rc);
	}
}

/* ------------------------------------------------------------ path cases */

/* A path of exactly len bytes (plus its NUL) that names `target` relative to
 * DIR: "./" repeated, a "/" if one byte is left over, then the target. */
static char *padded_path(const char *target, size_t len)
{
	size_t tl = strlen(target), used = 0;
	char *p = malloc(len + 1);

	if (!p || tl > len)
		abort();
	while (len - used - tl >= 2) {
		memcpy(p + used, "./", 2);
		used += 2;
	}
	if (len - used - tl == 1)
		p[used++] = '/';
	memcpy(p + used, target, tl);
	p[len] = '\0';
	return p;
}

static char *name_with_tail(size_t len, const char *tail)
{
	char *p = malloc(len + strlen(tail) + 1);

	if (!p)
		abort();
	memset(p, 'n', len);
	strcpy(p + len, tail);
	return p;
}

static char *name_of(size_t len)
{
	return name_with_tail(len, "");
}

struct path_case {
	const char *name;
	const char *path;
	char *owned; /* freed after the run when heap-allocated */
};

static struct path_case owned_case(const char *name, char *path)
{
	return (struct path_case){name, path, path};
}

static long do_openat(const char *p)
{
	return syscall(SYS_openat, dirfd_, p, O_RDONLY | O_CLOEXEC);
}

static long do_newfstatat(const char *p)
{
	struct stat st;

	return syscall(SYS_newfstatat, dirfd_, p, &st, 0);
}

static long do_statx(const char *p)
{
	struct statx stx;

	return syscall(SYS_statx, dirfd_, p, 0, STATX_BASIC_STATS, &stx);
}

static long do_readlinkat(const char *p)
{
	char buf[PATH_MAX];

	return syscall(SYS_readlinkat, dirfd_, p, buf, sizeof(buf));
}

static long do_faccessat(const char *p)
{
	return syscall(SYS_faccessat, dirfd_, p, R_OK);
}

/* chdir relative to DIR; the cwd is put back afterwards. */
static long do_chdir(const char *p)
{
	long rc;
	int e;

	if (fchdir(dirfd_) < 0)
		abort();
	rc = syscall(SYS_chdir, p);
	e = errno;
	if (fchdir(dirfd_) < 0)
		abort();
	errno = e;
	return rc;
}

struct path_call {
	const char *name;
	long (*fn)(const char *p);
	int is_fd;
};

static void path_cases(void)
{
	static const struct path_call calls[] = {
	    {"openat", do_openat, 1},	    {"newfstatat", do_newfstatat, 0},
	    {"statx", do_statx, 0},	    {"readlinkat", do_readlinkat, 0},
	    {"faccessat", do_faccessat, 0}, {"chdir", do_chdir, 0},
	};
	size_t fl = strlen(file_);
	char *unterminated = region + page_ - fl;   /* FILE, no NUL, then the hole */
	char *terminated = region + page_ - fl - 1; /* FILE and its NUL end the page */
	char *pathmax_at_end = region + page_ - PATH_MAX;
	char *pathmax = malloc(PATH_MAX + 1);
	char *file_x = malloc(fl + 3);
	struct path_case cases[32];
	size_t n = 0;

	if (!pathmax || !file_x || page_ < PATH_MAX)
		abort();
	/* PATH_MAX bytes, no NUL among them: "./././..." */
	for (size_t i = 0; i < PATH_MAX; i++)
		pathmax[i] = i % 2 ? '/' : '.';
	pathmax[PATH_MAX] = '\0';
	snprintf(file_x, fl + 3, "%s/x", file_);

	cases[n++] = (struct path_case){"NULL", NULL, NULL};
	cases[n++] = (struct path_case){"unmapped", hole, NULL};
	cases[n++] = (struct path_case){"PROT_NONE", noaccess, NULL};
	cases[n++] = (struct path_case){"kernel address", (const char *)0xffff888000000000UL, NULL};
	cases[n++] = (struct path_case){"unterminated at page end", unterminated, NULL};
	cases[n++] = (struct path_case){"PATH_MAX bytes", pathmax, NULL};
	cases[n++] = (struct path_case){"PATH_MAX bytes at page end", NULL, NULL}; /* set below */
	cases[n++] = owned_case("4095 bytes to file", padded_path(file_, PATH_MAX - 1));
	cases[n++] = owned_case("4095 bytes to dir", padded_path(".", PATH_MAX - 1));
	cases[n++] = owned_case("4095 bytes to missing", padded_path("missing", PATH_MAX - 1));
	cases[n++] = owned_case("name of 255", name_of(NAME_MAX));
	cases[n++] = owned_case("name of 256", name_of(NAME_MAX + 1));
	cases[n++] = owned_case("name of 256 in the middle", name_with_tail(NAME_MAX + 1, "/x"));
	cases[n++] = (struct path_case){"empty", "", NULL};
	cases[n++] = (struct path_case){"missing", "missing", NULL};
	cases[n++] = (struct path_case){"file/x", file_x, NULL};
	cases[n++] = (struct path_case){"file/", NULL, NULL}; /* set below */
	cases[n++] = (struct path_case){"file", file_, NULL};
	cases[n++] = (struct path_case){"dir", ".", NULL};
	if (link_)
		cases[n++] = (struct path_case){"link", link_, NULL};
	if (loop_) {
		char *lx = malloc(strlen(loop_) + 3);

		sprintf(lx, "%s/x", loop_);
		cases[n++] = (struct path_case){"loop", loop_, NULL};
		cases[n++] = owned_case("loop/x", lx);
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(cases[i].name, "file/")) {
			char *p = malloc(fl + 2);

			sprintf(p, "%s/", file_);
			cases[i] = owned_case(cases[i].name, p);
		}
	}

	for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]); k++) {
		for (size_t i = 0; i < n; i++) {
			char what[128];
			const char *p = cases[i].path;

			/* the page holds one string at a time */
			if (!strcmp(cases[i].name, "PATH_MAX bytes at page end")) {
				memcpy(pathmax_at_end, pathmax, PATH_MAX);
				p = pathmax_at_end;
			} else if (!strcmp(cases[i].name, "unterminated at page end")) {
				memset(region, 'x', (size_t)page_);
				memcpy(unterminated, file_, fl);
			}
			snprintf(what, sizeof(what), "%s %s", calls[k].name, cases[i].name);
			report(what, calls[k].fn(p), calls[k].is_fd);
		}
		/* FILE with its NUL as the last byte of the page: fine */
		memset(region, 'x', (size_t)page_);
		memcpy(terminated, file_, fl + 1);
		{
			char what[128];

			snprintf(what, sizeof(what), "%s NUL at page end", calls[k].name);
			report(what, calls[k].fn(terminated), calls[k].is_fd);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(cases[i].owned);
	free(pathmax);
	free(file_x);
}

/* ------------------------------------------------------ result buffers */

static void buffer_cases(void)
{
	char *straddle = region + page_ - 16; /* 16 good bytes, then the hole */
	struct stat st;
	struct statx stx;
	char buf[PATH_MAX];
	long rc;
	int fd = (int)syscall(SYS_openat, dirfd_, file_, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("open %s: %s\n", file_, errname(errno));
		return;
	}
	report("newfstatat buf unmapped", syscall(SYS_newfstatat, dirfd_, file_, hole, 0), 0);
	report("newfstatat buf read-only", syscall(SYS_newfstatat, dirfd_, file_, ro, 0), 0);
	report("newfstatat buf straddles hole", syscall(SYS_newfstatat, dirfd_, file_, straddle, 0),
	       0);
	report("newfstatat buf NULL", syscall(SYS_newfstatat, dirfd_, file_, NULL, 0), 0);
	report("newfstatat missing buf unmapped",
	       syscall(SYS_newfstatat, dirfd_, "missing", hole, 0), 0);
	report("newfstatat bad flags", syscall(SYS_newfstatat, dirfd_, file_, &st, AT_REMOVEDIR),
	       0);
	report("statx buf unmapped", syscall(SYS_statx, dirfd_, file_, 0, STATX_BASIC_STATS, hole),
	       0);
	report("statx buf read-only", syscall(SYS_statx, dirfd_, file_, 0, STATX_BASIC_STATS, ro),
	       0);
	report("statx buf straddles hole",
	       syscall(SYS_statx, dirfd_, file_, 0, STATX_BASIC_STATS, straddle), 0);
	report("statx bad sync flags",
	       syscall(SYS_statx, dirfd_, file_, AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
		       STATX_BASIC_STATS, &stx),
	       0);
	report("statx reserved mask", syscall(SYS_statx, dirfd_, file_, 0, 0x80000000U, &stx), 0);
	report("fstat buf unmapped", syscall(SYS_fstat, fd, hole), 0);
	report("fstat buf read-only", syscall(SYS_fstat, fd, ro), 0);
	report("fstat buf straddles hole", syscall(SYS_fstat, fd, straddle), 0);
	report("newfstatat fd \"\" buf unmapped",
	       syscall(SYS_newfstatat, fd, "", hole, AT_EMPTY_PATH), 0);
	report("newfstatat fd NULL AT_EMPTY_PATH buf read-only",
	       syscall(SYS_newfstatat, fd, NULL, ro, AT_EMPTY_PATH), 0);
	report("statx fd \"\" buf unmapped",
	       syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, hole), 0);
	close(fd);

	report("readlinkat bufsiz 0",
	       syscall(SYS_readlinkat, dirfd_, link_ ? link_ : file_, buf, 0), 0);
	report("readlinkat bufsiz -1",
	       syscall(SYS_readlinkat, dirfd_, link_ ? link_ : file_, buf, -1L), 0);
	report("readlinkat NULL path bufsiz 0", syscall(SYS_readlinkat, dirfd_, NULL, buf, 0), 0);
	report("readlinkat missing bufsiz 0", syscall(SYS_readlinkat, dirfd_, "missing", buf, 0),
	       0);
	report("readlinkat file", syscall(SYS_readlinkat, dirfd_, file_, buf, sizeof(buf)), 0);
	if (link_) {
		report("readlinkat buf unmapped",
		       syscall(SYS_readlinkat, dirfd_, link_, hole, (long)sizeof(buf)), 0);
		report("readlinkat buf read-only",
		       syscall(SYS_readlinkat, dirfd_, link_, ro, (long)sizeof(buf)), 0);
		report("readlinkat buf NULL",
		       syscall(SYS_readlinkat, dirfd_, link_, NULL, (long)sizeof(buf)), 0);
		rc = syscall(SYS_readlinkat, dirfd_, link_, buf, 3L);
		printf("readlinkat bufsiz 3: %s %.*s\n", rc < 0 ? errname(errno) : "ok",
		       rc < 0 ? 0 : (int)rc, buf);
		rc = syscall(SYS_readlinkat, dirfd_, link_, buf, (long)sizeof(buf));
		printf("readlinkat: %s %.*s\n", rc < 0 ? errname(errno) : "ok",
		       rc < 0 ? 0 : (int)rc, buf);
	}
	report("faccessat bad mode missing", syscall(SYS_faccessat, dirfd_, "missing", 8), 0);
	report("faccessat bad mode file", syscall(SYS_faccessat, dirfd_, file_, 8), 0);
	report("faccessat F_OK", syscall(SYS_faccessat, dirfd_, file_, F_OK), 0);
	report("faccessat2 bad flags missing",
	       syscall(SYS_faccessat2, dirfd_, "missing", R_OK, 0x10000), 0);
	report("faccessat2 bad mode missing", syscall(SYS_faccessat2, dirfd_, "missing", 8, 0), 0);
	report("faccessat2 NULL AT_EMPTY_PATH",
	       syscall(SYS_faccessat2, dirfd_, NULL, R_OK, AT_EMPTY_PATH), 0);
	report("faccessat2 \"\" AT_EMPTY_PATH",
	       syscall(SYS_faccessat2, dirfd_, "", R_OK, AT_EMPTY_PATH), 0);
	report("newfstatat NULL AT_EMPTY_PATH",
	       syscall(SYS_newfstatat, dirfd_, NULL, &st, AT_EMPTY_PATH), 0);
	report("newfstatat NULL AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW",
	       syscall(SYS_newfstatat, dirfd_, NULL, &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), 0);
	report("statx NULL AT_EMPTY_PATH",
	       syscall(SYS_statx, dirfd_, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS, &stx), 0);
	report("statx missing bad sync flags",
	       syscall(SYS_statx, dirfd_, "missing", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
		       STATX_BASIC_STATS, &stx),
	       0);
	report("newfstatat missing bad flags",
	       syscall(SYS_newfstatat, dirfd_, "missing", &st, AT_REMOVEDIR), 0);
	report("readlinkat dir \"\"", syscall(SYS_readlinkat, dirfd_, "", buf, sizeof(buf)), 0);
	if (link_) {
		int lfd = (int)syscall(SYS_openat, dirfd_, link_, O_PATH | O_NOFOLLOW | O_CLOEXEC);

		if (lfd < 0) {
			printf("open O_PATH|O_NOFOLLOW link: %s\n", errname(errno));
		} else {
			rc = syscall(SYS_readlinkat, lfd, "", buf, sizeof(buf));
			printf("readlinkat O_PATH link fd \"\": %s %.*s\n",
			       rc < 0 ? errname(errno) : "ok", rc < 0 ? 0 : (int)rc, buf);
			report("readlinkat O_PATH link fd NULL",
			       syscall(SYS_readlinkat, lfd, NULL, buf, sizeof(buf)), 0);
			report("newfstatat O_PATH link fd \"\"",
			       syscall(SYS_newfstatat, lfd, "", &st, AT_EMPTY_PATH), 0);
			printf("newfstatat O_PATH link fd is a link: %s\n",
			       S_ISLNK(st.st_mode) ? "yes" : "no");
			close(lfd);
		}
	}
}

/* --------------------------------------------------------------- openat2 */

static void openat2_cases(void)
{
	struct {
		struct open_how how;
		uint64_t extra;
	} big = {{.flags = O_RDONLY}, 0};
	struct open_how how = {.flags = O_RDONLY};

	report("openat2", syscall(SYS_openat2, dirfd_, file_, &how, sizeof(how)), 1);
	report("openat2 how unmapped", syscall(SYS_openat2, dirfd_, file_, hole, sizeof(how)), 1);
	report("openat2 how NULL", syscall(SYS_openat2, dirfd_, file_, NULL, sizeof(how)), 1);
	report("openat2 size 8", syscall(SYS_openat2, dirfd_, file_, &how, 8), 1);
	report("openat2 bigger zeroed", syscall(SYS_openat2, dirfd_, file_, &big, sizeof(big)), 1);
	big.extra = 1;
	report("openat2 bigger nonzero tail",
	       syscall(SYS_openat2, dirfd_, file_, &big, sizeof(big)), 1);
	how.flags = 1ULL << 40;
	report("openat2 flags beyond 32 bits",
	       syscall(SYS_openat2, dirfd_, file_, &how, sizeof(how)), 1);
	how.flags = O_RDONLY;
	how.mode = 0644;
	report("openat2 mode without O_CREAT",
	       syscall(SYS_openat2, dirfd_, file_, &how, sizeof(how)), 1);
	how.mode = 0;
	how.resolve = 1ULL << 40;
	report("openat2 unknown resolve bits",
	       syscall(SYS_openat2, dirfd_, file_, &how, sizeof(how)), 1);
	how.resolve = 0;
	report("openat2 NULL path", syscall(SYS_openat2, dirfd_, NULL, &how, sizeof(how)), 1);
	report("openat2 path unmapped", syscall(SYS_openat2, dirfd_, hole, &how, sizeof(how)), 1);
}

/* ------------------------------------------------------------ getdents64 */

static long count_entries(int fd, long *entries)
{
	char buf[4096];
	long n, total = 0;

	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			total++;
		}
	}
	*entries = total;
	return n;
}

static void getdents_cases(void)
{
	int dfd = (int)syscall(SYS_openat, dirfd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ffd = (int)syscall(SYS_openat, dirfd_, file_, O_RDONLY | O_CLOEXEC);
	long entries, rc;
	char small[8];

	if (dfd < 0 || ffd < 0) {
		printf("open for getdents64: %s\n", errname(errno));
		return;
	}
	report("getdents64 buf read-only", syscall(SYS_getdents64, dfd, ro, 4096), 0);
	report("getdents64 buf unmapped", syscall(SYS_getdents64, dfd, hole, 4096), 0);
	report("getdents64 buf NULL", syscall(SYS_getdents64, dfd, NULL, 4096), 0);
	report("getdents64 buf of 8", syscall(SYS_getdents64, dfd, small, sizeof(small)), 0);
	report("getdents64 count 0", syscall(SYS_getdents64, dfd, small, 0), 0);
	report("getdents64 on a file", syscall(SYS_getdents64, ffd, small, sizeof(small)), 0);
	/* the failures above must not have moved the position */
	rc = count_entries(dfd, &entries);
	printf("getdents64 after errors: %s, %ld entries\n", rc < 0 ? errname(errno) : "ok",
	       entries);
	report("getdents64 at end, buf unmapped", syscall(SYS_getdents64, dfd, hole, 4096), 0);
	lseek(dfd, 0, SEEK_SET);
	rc = count_entries(dfd, &entries);
	printf("getdents64 after rewind: %s, %ld entries\n", rc < 0 ? errname(errno) : "ok",
	       entries);
	close(dfd);
	close(ffd);
}

/* --------------------------------------------------------------- getcwd */

static void cwd_cases(const char *dir)
{
	char buf[PATH_MAX];
	long len;

	report("chdir dir", syscall(SYS_chdir, dir), 0);
	len = syscall(SYS_getcwd, buf, sizeof(buf));
	if (len < 0) {
		printf("getcwd: %s\n", errname(errno));
		return;
	}
	printf("getcwd: ok %s\n", buf);
	report("getcwd size 1", syscall(SYS_getcwd, buf, 1L), 0);
	report("getcwd size 0 NULL", syscall(SYS_getcwd, NULL, 0L), 0);
	report("getcwd size len-1", syscall(SYS_getcwd, buf, (long)len - 1) < 0 ? -1 : 0, 0);
	report("getcwd size len", syscall(SYS_getcwd, buf, (long)len) < 0 ? -1 : 0, 0);
	report("getcwd buf unmapped", syscall(SYS_getcwd, hole, sizeof(buf)), 0);
	report("getcwd buf read-only", syscall(SYS_getcwd, ro, sizeof(buf)), 0);
	report("getcwd buf NULL", syscall(SYS_getcwd, NULL, sizeof(buf)), 0);
	/* failed chdirs leave the cwd alone */
	syscall(SYS_chdir, NULL);
	syscall(SYS_chdir, hole);
	syscall(SYS_chdir, file_);
	syscall(SYS_chdir, "missing");
	{
		char *long_name = name_of(NAME_MAX + 1);

		syscall(SYS_chdir, long_name);
		free(long_name);
	}
	if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0)
		printf("getcwd after failed chdirs: %s\n", errname(errno));
	else
		printf("getcwd after failed chdirs: ok %s\n", buf);
	report("stat file relative to cwd",
	       syscall(SYS_newfstatat, AT_FDCWD, file_, &(struct stat){0}, 0), 0);
}

/* ------------------------------------------------------- fstat vs stat */

static int same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
	       a->st_nlink == b->st_nlink && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_rdev == b->st_rdev && a->st_size == b->st_size &&
	       a->st_blksize == b->st_blksize && a->st_blocks == b->st_blocks &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void fstat_case(const char *label, const char *name, int oflags)
{
	struct stat a, b, c;
	struct statx x;
	int fd = (int)syscall(SYS_openat, dirfd_, name, oflags | O_CLOEXEC);

	if (fd < 0) {
		printf("%s open: %s\n", label, errname(errno));
		return;
	}
	if (syscall(SYS_fstat, fd, &a) < 0 || syscall(SYS_newfstatat, dirfd_, name, &b, 0) < 0 ||
	    syscall(SYS_newfstatat, fd, "", &c, AT_EMPTY_PATH) < 0 ||
	    syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x) < 0) {
		printf("%s stat: %s\n", label, errname(errno));
		close(fd);
		return;
	}
	printf("%s fstat: mode %o size %lld nlink %lu blocks %lld\n", label, a.st_mode,
	       (long long)a.st_size, (unsigned long)a.st_nlink, (long long)a.st_blocks);
	printf("%s stat:  mode %o size %lld nlink %lu blocks %lld\n", label, b.st_mode,
	       (long long)b.st_size, (unsigned long)b.st_nlink, (long long)b.st_blocks);
	printf("%s fstat == stat: %s\n", label, same_stat(&a, &b) ? "yes" : "NO");
	printf("%s fstat == fstatat(fd, \"\"): %s\n", label, same_stat(&a, &c) ? "yes" : "NO");
	printf("%s statx(fd, \"\") agrees: %s\n", label,
	       x.stx_ino == a.st_ino && x.stx_size == (uint64_t)a.st_size &&
		       x.stx_mode == a.st_mode && x.stx_mtime.tv_sec == a.st_mtim.tv_sec &&
		       x.stx_mtime.tv_nsec == (uint32_t)a.st_mtim.tv_nsec
		   ? "yes"
		   : "NO");
	close(fd);
}

/* ------------------------------------------------------------------ race */

static volatile int race_stop;
static char race_buf[NAME_MAX + 1];

static void *flipper(void *arg)
{
	const char *names[2] = {file_, (const char *)arg};

	for (unsigned long i = 0; !race_stop; i++) {
		const char *s = names[i & 1];
		size_t j = 0;

		do
			((volatile char *)race_buf)[j] = s[j];
		while (s[j++]);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* openat of a path its own second thread keeps rewriting: each open may see
 * either name or a mix; anything but success or ENOENT is reported. */
static void race_case(void)
{
	static const char other[] = "race-no-such-file";
	pthread_t th;
	double end = now() + 1.0;
	int unexpected = 0;

	strcpy(race_buf, file_);
	if (pthread_create(&th, NULL, flipper, (void *)other) != 0) {
		printf("race: pthread_create failed\n");
		return;
	}
	for (int i = 0; i < 20000 && now() < end; i++) {
		long fd = syscall(SYS_openat, dirfd_, race_buf, O_RDONLY | O_CLOEXEC);

		if (fd >= 0)
			close((int)fd);
		else if (errno != ENOENT && !unexpected++)
			printf("race: unexpected %s\n", errname(errno));
	}
	race_stop = 1;
	pthread_join(th, NULL);
	/* the supervisor is still there and still right */
	report("race: open afterwards", syscall(SYS_openat, dirfd_, file_, O_RDONLY | O_CLOEXEC),
	       1);
	printf("race: done\n");
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s DIR FILE [LINK [LOOP]]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	file_ = argv[2];
	link_ = argc > 3 ? argv[3] : NULL;
	loop_ = argc > 4 ? argv[4] : NULL;
	page_ = sysconf(_SC_PAGESIZE);
	dirfd_ = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0) {
		perror(argv[1]);
		return 1;
	}
	if (strlen(file_) + 2 >= (size_t)page_ || strlen(file_) > NAME_MAX)
		return 2;
	region = mmap(NULL, 3 * (size_t)page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	ro = mmap(NULL, (size_t)page_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED || ro == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	hole = region + page_;
	noaccess = region + 2 * page_;
	if (munmap(hole, (size_t)page_) < 0 || mprotect(noaccess, (size_t)page_, PROT_NONE) < 0) {
		perror("munmap");
		return 1;
	}

	path_cases();
	buffer_cases();
	openat2_cases();
	getdents_cases();
	fstat_case("file", file_, O_RDONLY);
	fstat_case("dir", ".", O_RDONLY | O_DIRECTORY);
	race_case();
	cwd_cases(argv[1]);
	return 0;
}
