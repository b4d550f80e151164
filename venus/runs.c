/* Which venuses run on a cache, and whether one of them was killed.
 *
 * Each venus has a record in the cache's runs/ directory, named by its pid,
 * from its start to its clean stop. A killed venus leaves its record, and
 * may have left fills and containers nobody was given (container.c,
 * cml.c), which only a listing of the whole cache finds. That listing
 * costs time in proportion to the containers kept (45 ms for 100,000 on
 * the project's machine), so a venus makes it only when some record's
 * venus is gone, or when the cache has no runs/ yet (a new cache, or one
 * an older venus used). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "venus_int.h"

#define RUNS_DIR "runs"

/* Calls fn on each record of runs/ (fd, consumed) whose venus is gone;
 * whether any was. */
static bool each_dead(int fd, void (*fn)(int dfd, const char *name))
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	bool any = false;

	if (!d) {
		close(fd);
		return true;
	}
	while ((de = readdir(d)))
		if (pid_named_gone(de->d_name, '\0')) {
			any = true;
			if (fn)
				fn(dirfd(d), de->d_name);
		}
	closedir(d);
	return any;
}

static int runs_open(const struct venus *v)
{
	return openat(v->cache_fd, RUNS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

bool runs_start(struct venus *v)
{
	bool made = mkdirat(v->cache_fd, RUNS_DIR, 0700) == 0;
	char own[24];
	int fd, rec;

	if (!made && errno != EEXIST)
		return true;
	fd = runs_open(v);
	if (fd < 0)
		return true;
	snprintf(own, sizeof(own), "%ld", (long)v->pid);
	rec = openat(fd, own, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (rec < 0) {
		close(fd);
		return true;
	}
	close(rec);
	v->run_recorded = true;
	return each_dead(fd, NULL) || made;
}

static void drop_record(int dfd, const char *name)
{
	unlinkat(dfd, name, 0);
}

void runs_swept(struct venus *v)
{
	int fd = runs_open(v);

	if (fd >= 0)
		each_dead(fd, drop_record);
}

void runs_stop(struct venus *v)
{
	char own[40];

	if (!v->run_recorded)
		return;
	snprintf(own, sizeof(own), RUNS_DIR "/%ld", (long)v->pid);
	unlinkat(v->cache_fd, own, 0);
	v->run_recorded = false;
}
