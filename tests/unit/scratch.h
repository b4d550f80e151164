/* Scratch directories of the unit tests: removed whole after each test. */
#ifndef CODA_TEST_SCRATCH_H
#define CODA_TEST_SCRATCH_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int scratch_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static inline void scratch_remove(const char *dir)
{
	nftw(dir, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch volume: base, a mkdtemp template, made; base/vol made, holding
 * the one file `name` with `data`; base/cache named in cache (venus makes
 * it). vol and cache hold len bytes. 0, or -1 with errno set. */
static inline int scratch_volume(char *base, char *vol, char *cache, size_t len, const char *name,
				 const char *data)
{
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	if (!mkdtemp(base))
		return -1;
	snprintf(vol, len, "%s/vol", base);
	snprintf(cache, len, "%s/cache", base);
	snprintf(p, sizeof(p), "%s/%s", vol, name);
	if (mkdir(vol, 0755) < 0)
		return -1;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

#endif
