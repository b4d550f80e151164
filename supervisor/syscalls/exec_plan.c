/* The end of an exec plan, in the target: coda-exec started as the plan's
 * interpreter reads what the supervisor wrote and execs it. Its own argv,
 * beyond the plan's name, is the kernel's copy of the caller's, which the
 * supervisor may have overwritten: the plan has the real one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"

#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND	127

static char *read_all(int fd, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);

		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	if (buf)
		buf[got] = '\0';
	*len = got;
	return buf;
}

/* The next string of the plan, or NULL past its end. */
static char *next(char **p, const char *end)
{
	char *s = *p;

	if (s >= end)
		return NULL;
	*p += strlen(s) + 1;
	return s;
}

/* A count, then that many strings, as a NULL-terminated vector. */
static char **vector(char **p, const char *end)
{
	char *count = next(p, end);
	size_t n = count ? strtoul(count, NULL, 10) : 0;
	char **v = count ? calloc(n + 1, sizeof(*v)) : NULL;

	for (size_t i = 0; v && i < n; i++)
		if (!(v[i] = next(p, end))) {
			free(v);
			return NULL;
		}
	return v;
}

int exec_plan_run(const char *plan)
{
	int fd = strncmp(plan, "/dev/fd/", 8) ? -1 : atoi(plan + 8);
	size_t len = 0;
	char *buf = fd >= 0 ? read_all(fd, &len) : NULL;
	char *p = buf ? strchr(buf, '\n') : NULL, *end = buf + len, *prog, *host;
	char **argv, **envp;
	int pfd;

	if (fd >= 0)
		close(fd);
	if (!p++ || !(prog = next(&p, end)) || !(host = next(&p, end)) ||
	    !(argv = vector(&p, end)) || !(envp = vector(&p, end))) {
		fprintf(stderr, "coda-exec: %s: not an exec plan\n", plan);
		return EXIT_CANNOT_RUN;
	}
	pfd = atoi(prog);
	if (pfd >= 0) {
		/* Not passed on: /proc/self/exe keeps the program. */
		if (fcntl(pfd, F_SETFD, FD_CLOEXEC) == 0)
			execveat(pfd, "", argv, envp, AT_EMPTY_PATH);
	} else {
		execve(host, argv, envp);
	}
	fprintf(stderr, "coda-exec: %s: %s\n", argv[0] ? argv[0] : host, strerror(errno));
	return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
