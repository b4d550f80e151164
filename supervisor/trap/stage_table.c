/* The tables of answers the first stage gives itself (stage/stage.h): one
 * file of fixed size per fsuid, in a directory of our own (in /dev/shm
 * where there is one), which we map
 * read-write and each program of the command maps read-only when it first
 * stats a name in the volume. We write a slot as a seqlock; a flush is one
 * store per table (its generation), after which no older slot counts. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "trap.h"

#include "stage/stage.h"

struct stage_table_file {
	uid_t uid;
	struct stage_table *map;
};

/* Where the tables go: shared memory (/dev/shm, a tmpfs) where it can be
 * had, else $TMPDIR; a file system on a disk would write them back. */
static int tables_dir_make(char dir[128])
{
	const char *tmp = getenv("TMPDIR");
	struct statfs fs;

	if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
	    mkdtemp(strcpy(dir, "/dev/shm/coda-exec-stage.XXXXXX")))
		return 0;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(dir, 128, "%s/coda-exec-stage.XXXXXX", tmp) >= 128)
		return -ENAMETOOLONG;
	return mkdtemp(dir) ? 0 : -errno;
}

int stage_tables_init(struct trap *t)
{
	char dir[sizeof(t->stage.table_dir)];
	int rc;

	_Static_assert(sizeof(dir) == 128, "tables_dir_make's buffer");
	rc = tables_dir_make(dir);
	if (rc < 0)
		return rc;
	/* Other users' programs open their own table by name, and list none. */
	if (chmod(dir, 0711) < 0) {
		int err = errno;

		rmdir(dir);
		return -err;
	}
	memcpy(t->stage.table_dir, dir, sizeof(dir));
	return 0;
}

static void table_path(const struct trap *t, uid_t uid, const char *suffix, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%u%s", t->stage.table_dir, (unsigned)uid, suffix);
}

void stage_tables_destroy(struct trap *t)
{
	char path[sizeof(t->stage.table_dir) + 16];

	for (size_t i = 0; i < t->stage.ntables; i++) {
		munmap(t->stage.tables[i].map, sizeof(struct stage_table));
		table_path(t, t->stage.tables[i].uid, "", path, sizeof(path));
		unlink(path);
	}
	free(t->stage.tables);
	t->stage.tables = NULL;
	t->stage.ntables = 0;
	if (t->stage.table_dir[0])
		rmdir(t->stage.table_dir);
	t->stage.table_dir[0] = '\0';
}

/* A new table of uid's, readable by uid alone, put in place under its
 * name only once it has its full size (a shorter file would be a SIGBUS
 * in the stage). */
static struct stage_table *table_create(struct trap *t, uid_t uid)
{
	char tmp[sizeof(t->stage.table_dir) + 16], path[sizeof(tmp)];
	struct stage_table *map = MAP_FAILED;
	int fd;

	table_path(t, uid, ".new", tmp, sizeof(tmp));
	table_path(t, uid, "", path, sizeof(path));
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, sizeof(*map)) == 0)
		map = mmap(NULL, sizeof(*map), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map != MAP_FAILED) {
		map->magic = STAGE_TABLE_MAGIC;
		map->uid = uid;
		map->gen = 1;
	}
	/* Root's tables belong to their users; anyone else's are theirs. */
	if (map == MAP_FAILED || (geteuid() == 0 && fchown(fd, uid, (gid_t)-1) < 0) ||
	    fchmod(fd, 0400) < 0 || rename(tmp, path) < 0) {
		if (map != MAP_FAILED)
			munmap(map, sizeof(*map));
		unlink(tmp);
		map = MAP_FAILED;
	}
	close(fd);
	return map == MAP_FAILED ? NULL : map;
}

static struct stage_table *table_of(struct trap *t, uid_t uid)
{
	struct stage_table_file *more;
	struct stage_table *map;

	for (size_t i = 0; i < t->stage.ntables; i++)
		if (t->stage.tables[i].uid == uid)
			return t->stage.tables[i].map;
	more = realloc(t->stage.tables, (t->stage.ntables + 1) * sizeof(*more));
	if (!more)
		return NULL;
	t->stage.tables = more;
	map = table_create(t, uid);
	if (map)
		more[t->stage.ntables++] = (struct stage_table_file){uid, map};
	return map;
}

uint32_t stage_tables_gen(const struct trap *t)
{
	return t->stage.gen;
}

/* Which slot of k's set takes it: its own, an empty or stale one, or one
 * the hash picks. */
static struct stage_slot *slot_for(struct stage_table *tb, const struct stage_key *k, uint32_t hash)
{
	struct stage_slot *set = &tb->slot[hash % STAGE_TABLE_SETS * STAGE_TABLE_WAYS];
	struct stage_slot *free_slot = NULL;

	for (uint32_t w = 0; w < STAGE_TABLE_WAYS; w++) {
		struct stage_slot *s = &set[w];

		if (!s->used || s->gen != tb->gen) {
			if (!free_slot)
				free_slot = s;
		} else if (s->hash == hash && !memcmp(&s->key, k, stage_key_size(k))) {
			return s;
		}
	}
	return free_slot ?: &set[(hash >> 24) % STAGE_TABLE_WAYS];
}

/* The key of a stat (stage.h): false if the stage would not look it up. */
static bool key_make(struct stage_key *k, uid_t uid, const uint32_t start[4], bool follow,
		     const char *path)
{
	int len = stage_path_len(path);

	if (len < 0)
		return false;
	memset(k, 0, sizeof(*k));
	k->uid = uid;
	k->follow = len && follow;
	if (path[0] != '/')
		memcpy(k->start, start, sizeof(k->start));
	k->len = (uint32_t)len;
	memcpy(k->path, path, (size_t)len);
	return true;
}

void stage_tables_put(struct trap *t, uint32_t gen, uid_t uid, const uint32_t start[4], bool follow,
		      const char *path, const struct stat *st, const struct statx *stx)
{
	_Static_assert(sizeof(*st) == sizeof(((struct stage_slot *)0)->stat), "struct stat");
	_Static_assert(sizeof(*stx) == sizeof(((struct stage_slot *)0)->statx), "struct statx");
	struct stage_table *tb;
	struct stage_slot *s;
	struct stage_key key, *k = &key;
	uint32_t hash;

	if (gen != t->stage.gen || !t->stage.table_dir[0] || (path[0] != '/' && !start) ||
	    !key_make(k, uid, start, follow, path) || !(tb = table_of(t, uid)))
		return;
	hash = stage_key_hash(k);
	s = slot_for(tb, k, hash);
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->used = 1;
	s->error = st ? 0 : ENOENT;
	s->gen = tb->gen;
	s->hash = hash;
	memcpy(&s->key, k, stage_key_size(k));
	if (st) {
		memcpy(s->stat, st, sizeof(s->stat));
		memcpy(s->statx, stx, sizeof(s->statx));
	}
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

void stage_tables_flush(struct trap *t)
{
	t->stage.gen++;
	for (size_t i = 0; i < t->stage.ntables; i++)
		__atomic_add_fetch(&t->stage.tables[i].map->gen, 1, __ATOMIC_RELEASE);
}
