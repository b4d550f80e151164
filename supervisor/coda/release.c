#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "proto/hash.h"
#include "proto/lease.h"
#include "cache.h"
#include "psdev.h"
#include "release.h"
#include "upcall.h"

struct waiter {
	struct coda_waiter *who;
	struct waiter *next;
};

/* One container being written: every write open of a fid shares it. */
struct writer {
	int wd;
	struct CodaFid fid;
	struct coda_caller who; /* of the first opener: CODA_CLOSE goes as it */
	int cflags;
	char *container;
	int opens;	  /* open file descriptions not yet released */
	int venus_closes; /* close events to come from a hosted venus's own open */
	int closing;	  /* CODA_CLOSE upcalls in flight */
	struct waiter *waiters;
	UT_hash_handle hh;
};

int release_init(struct coda_sb *sb)
{
	sb->release.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return sb->release.inotify_fd < 0 ? -errno : 0;
}

void release_destroy(struct coda_sb *sb)
{
	struct writer *w, *tmp;

	HASH_ITER(hh, sb->release.by_wd, w, tmp)
	{
		HASH_DEL(sb->release.by_wd, w);
		free(w->container);
		free(w);
	}
	if (sb->release.inotify_fd >= 0)
		close(sb->release.inotify_fd);
	sb->release.inotify_fd = -1;
}

static struct writer *writer_by_fid(struct release_state *r, const struct CodaFid *fid)
{
	struct writer *w, *tmp;

	HASH_ITER(hh, r->by_wd, w, tmp)
	{
		if (coda_fid_eq(&w->fid, fid))
			return w;
	}
	return NULL;
}

/* A writer of the container at path, watched as wd, in r's table; NULL if
 * memory is short. */
static struct writer *writer_new(struct release_state *r, int wd, const char *path)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->wd = wd;
	w->container = strdup(path);
	if (w->container)
		HASH_ADD_INT(r->by_wd, wd, w);
	if (HASH_ADDED(hh, w))
		return w;
	free(w->container);
	free(w);
	return NULL;
}

/* The writer of the container open at fd, watched from now on; created for
 * fid (CODA_CLOSE will go as who) if it is the first. */
static int writer_get(struct coda_sb *sb, int fd, const struct CodaFid *fid, int cflags,
		      const struct coda_caller *who, struct writer **out)
{
	struct release_state *r = &sb->release;
	char link[64], path[PATH_MAX];
	struct writer *w;
	ssize_t n;
	int wd;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	wd = inotify_add_watch(r->inotify_fd, path, IN_CLOSE_WRITE);
	if (wd < 0)
		return -errno;
	HASH_FIND_INT(r->by_wd, &wd, w);
	if (!w) {
		w = writer_new(r, wd, path);
		if (!w) {
			inotify_rm_watch(r->inotify_fd, wd);
			return -ENOMEM;
		}
		w->fid = *fid;
		w->cflags = cflags;
		w->who = *who;
		r->active++;
		/* Its size and times are the container's from now on. */
		cache_changed(&sb->caches);
	}
	*out = w;
	return 0;
}

int release_watch(struct coda_req *r, int container, const struct CodaFid *fid, int cflags)
{
	struct coda_caller who;
	struct writer *w;
	int rc = coda_caller(r, &who);

	if (rc < 0)
		return rc;
	rc = writer_get(r->sb, container, fid, cflags, &who, &w);
	if (!rc)
		w->opens++;
	return rc;
}

int release_expect_venus_close(struct coda_sb *sb, int container, const struct CodaFid *fid,
			       int cflags, const struct coda_caller *who)
{
	struct writer *w;
	int rc = writer_get(sb, container, fid, cflags, who, &w);

	if (!rc)
		w->venus_closes++;
	return rc;
}

/* Wakes whoever waits on w (through the loop: we may be in a waiter); w may
 * be freed here, so waiters look it up again. */
static void writer_settle(struct coda_sb *sb, struct writer *w)
{
	struct release_state *r = &sb->release;
	struct waiter *list = w->waiters;

	w->waiters = NULL;
	if (w->opens <= 0 && w->closing == 0) {
		inotify_rm_watch(r->inotify_fd, w->wd);
		HASH_DEL(r->by_wd, w);
		r->active--;
		free(w->container);
		free(w);
	}
	while (list) {
		struct waiter *next = list->next;

		sb->sched->wake_later(list->who);
		list = next;
	}
}

/* One released description: venus stores when its last writer closes. */
static void close_with_venus(struct coda_req *r, struct writer *w)
{
	int rc = venus_close(r, &w->who, &w->fid, w->cflags);

	if (rc < 0 && rc != -ENXIO)
		fprintf(stderr, "coda-exec: storing a file on close failed: %s\n", strerror(-rc));
	cache_attr_drop(&r->sb->caches, &w->fid);
	w->closing--;
	writer_settle(r->sb, w);
}

struct close_job {
	struct coda_sb *sb;
	struct writer *w;
};

static void close_waiter(struct coda_waiter *waiter, void *arg)
{
	struct close_job job = *(struct close_job *)arg;
	struct coda_req r = {.sb = job.sb, .waiter = waiter};

	free(arg);
	close_with_venus(&r, job.w);
}

/* Whether anyone still has the container open for writing (the kernel's
 * i_writecount, proto/lease.h): 1 yes, 0 no, -1 cannot tell. */
static int still_written(const char *container)
{
	int fd = open(container, O_RDONLY | O_NONBLOCK | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = lease_free(fd, F_RDLCK);
	close(fd);
	return rc < 0 ? -1 : !rc;
}

/* How many of w's opens one close event releases. inotify merges a close
 * event into an identical one not read yet, so two writers closing at once
 * may give one event: when nobody writes the container any more, every
 * open left is released. Where other jobs of a server write the same
 * container, the event may be theirs: while anyone still writes it, ours
 * wait (venus stores on the last writer's close, and a CLOSE sent for
 * another job's release would store under our writes). */
static int released_by_event(const struct release_state *r, struct writer *w)
{
	int written = w->opens > 1 || r->shared ? still_written(w->container) : -1;

	if (written == 0)
		return w->opens;
	return written == 1 && r->shared ? 0 : 1;
}

/* The writer a close event releases (its CLOSEs, *n of them, are then
 * counted as under way), or NULL when the event is none of the target's. */
static struct writer *take_event(struct coda_sb *sb, const struct inotify_event *ev, int *n)
{
	struct release_state *r = &sb->release;
	struct writer *w;

	if (ev->mask & IN_Q_OVERFLOW)
		fprintf(stderr, "coda-exec: inotify queue overflow: a store may be "
				"late until the file is opened again\n");
	if (!(ev->mask & IN_CLOSE_WRITE))
		return NULL;
	HASH_FIND_INT(r->by_wd, &ev->wd, w);
	if (!w)
		return NULL;
	/* A hosted venus's release of its own writable open. */
	if (w->venus_closes > 0) {
		w->venus_closes--;
		writer_settle(sb, w);
		return NULL;
	}
	/* With no open of the target's left, the close is venus's own (a
	 * pioctl's answer written into the container). */
	if (w->opens <= 0)
		return NULL;
	*n = released_by_event(r, w);
	if (*n == 0)
		return NULL;
	w->opens -= *n;
	w->closing += *n;
	return w;
}

/* One CODA_CLOSE for w: by the calling waiter, or by a waiter of its own. */
static void close_one(struct coda_sb *sb, struct coda_req *self, struct writer *w)
{
	struct close_job *job;

	if (self) {
		close_with_venus(self, w);
		return;
	}
	job = malloc(sizeof(*job));
	if (job)
		*job = (struct close_job){sb, w};
	if (!job || sb->sched->spawn(sb->sched->ctx, close_waiter, job) < 0) {
		free(job);
		fprintf(stderr, "coda-exec: out of memory: a store is lost\n");
		w->closing--;
		writer_settle(sb, w);
	}
}

/* Reads the queued close events. Every one is counted before any CODA_CLOSE
 * is sent: a waiter that sleeps on one must not hide the others from a
 * release_sync meanwhile (an open would then see the file before its store).
 * The closes are made by waiters of their own from the loop, or in order by
 * the calling waiter (release_sync). */
static void drain_events(struct coda_sb *sb, struct coda_req *self)
{
	struct release_state *r = &sb->release;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct writer *todo[sizeof(buf) / sizeof(struct inotify_event)];
	int closes[sizeof(buf) / sizeof(struct inotify_event)];
	ssize_t n;

	while ((n = read(r->inotify_fd, buf, sizeof(buf))) > 0) {
		size_t count = 0;

		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			struct writer *w = take_event(sb, ev, &closes[count]);

			p += sizeof(*ev) + ev->len;
			if (w)
				todo[count++] = w;
		}
		for (size_t i = 0; i < count; i++)
			for (int k = 0; k < closes[i]; k++)
				close_one(sb, self, todo[i]);
	}
}

struct reader_close {
	struct coda_sb *sb;
	struct CodaFid fid;
	struct coda_caller who;
	int cflags;
};

static void reader_close_waiter(struct coda_waiter *waiter, void *arg)
{
	struct reader_close *rc = arg;
	struct coda_req r = {.sb = rc->sb, .waiter = waiter};

	/* As coda_release(): an error of venus here has nobody to go to. */
	venus_close(&r, &rc->who, &rc->fid, rc->cflags);
	rc->sb->release.reader_closes--;
	free(rc);
}

void release_reader(struct coda_sb *sb, const struct CodaFid *fid, const struct coda_caller *who,
		    int cflags)
{
	struct reader_close *rc = malloc(sizeof(*rc));

	if (!rc)
		return;
	*rc = (struct reader_close){.sb = sb, .fid = *fid, .who = *who, .cflags = cflags};
	sb->release.reader_closes++;
	if (sb->sched->spawn(sb->sched->ctx, reader_close_waiter, rc) < 0) {
		sb->release.reader_closes--;
		free(rc);
	}
}

void release_readable(struct coda_sb *sb)
{
	drain_events(sb, NULL);
}

/* Close events still queued then find no open left, and release nothing. */
void release_all(struct coda_sb *sb)
{
	struct writer *w, *tmp;

	HASH_ITER(hh, sb->release.by_wd, w, tmp)
	{
		int n = w->opens > 0 ? w->opens : 0;

		w->opens -= n;
		w->closing += n;
		while (n--)
			close_one(sb, NULL, w);
	}
}

void release_sync(struct coda_req *r, const struct CodaFid *fid)
{
	struct release_state *rs = &r->sb->release;
	struct writer *w;

	if (!rs->active)
		return;
	drain_events(r->sb, r);
	while ((w = writer_by_fid(rs, fid)) && w->closing > 0) {
		struct waiter me = {.who = r->waiter, .next = w->waiters};

		w->waiters = &me;
		r->sb->sched->sleep(r->waiter);
	}
}

bool release_writing(struct coda_sb *sb, const struct CodaFid *fid)
{
	return sb->release.active > 0 && writer_by_fid(&sb->release, fid);
}

bool release_watching(const struct coda_sb *sb)
{
	return sb->release.active > 0 || sb->release.reader_closes > 0;
}

bool release_pending(struct coda_sb *sb)
{
	struct writer *w, *tmp;

	if (sb->release.reader_closes)
		return true;
	drain_events(sb, NULL);
	HASH_ITER(hh, sb->release.by_wd, w, tmp)
	{
		if (w->closing > 0)
			return true;
	}
	return false;
}

bool release_container_stat(struct coda_sb *sb, const struct CodaFid *fid, struct stat *st)
{
	struct writer *w = sb->release.active ? writer_by_fid(&sb->release, fid) : NULL;

	return w && stat(w->container, st) == 0;
}
