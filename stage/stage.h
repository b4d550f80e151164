/* The first stage: what the supervisor and the blob it puts into each image
 * of the command share. The blob starts with a struct stage_head; the
 * supervisor fills in the mount point when it puts it in. Freestanding:
 * included by the blob, which has no libc. */
#ifndef CODA_STAGE_H
#define CODA_STAGE_H

#include <stddef.h>
#include <stdint.h>

/* Where the blob is mapped in every image, so that the filter, installed
 * once and inherited, knows its instructions: far from where Linux puts
 * programs (0x55.., 0x40..), their libraries and stacks (0x7f..). */
#define STAGE_ADDR     0x3f0000000000ull
#define STAGE_LEN      0x3000ull	   /* the blob's mapping, read and execute */
#define STAGE_DATA     0x3000ull	   /* its data's offset (struct stage_data) */
#define STAGE_DATA_LEN 0x4000ull	   /* read and write */
#define STAGE_MAGIC    0x31454741545343ull /* "CSTAGE1" */
/* Where the direct syscall instruction returns to, in the blob: the filters
 * let through what comes from STAGE_ADDR + this. The linker script puts the
 * instruction there; embed.py checks it did. */
#define STAGE_DIRECT_IP_OFF  0x419
#define STAGE_FORWARD_IP_OFF 0x433
/* SECCOMP_RET_DATA of the stage filter's SIGSYS: a SIGSYS with another
 * value is not ours. */
#define STAGE_TRAP_DATA 0x5c

struct stage_head {
	uint64_t magic;
	/* Offsets in the blob, set at link time. */
	uint64_t handler, restorer;
	uint64_t direct_ip, forward_ip; /* the address just after each syscall */
	/* Filled in by the supervisor, which the calls it makes the stopped
	 * thread run point to: the SIGSYS action (kernel layout) and the
	 * filter (a struct sock_fprog, then the program). */
	uint32_t mount_len;
	char mount[256];
	uint64_t action[4];
	uint64_t fprog[2];
	uint64_t filter[64];
	/* Where the supervisor's tables of answers are (stage_table below):
	 * one file per fsuid, named by its number in decimal. */
	char table_dir[128];
};

/* An object of the volume the supervisor told the stage of: the cwd, or
 * what an fd of the fd band (filters/fd_band.h) is. Written as a seqlock
 * (seq odd while it changes; counts never repeat); valid for the tasks that
 * share the cwd (kcmp KCMP_FS), or the fd table (KCMP_FILES), of task tid,
 * which it was told for; tid 0: none. */
struct stage_obj {
	uint32_t seq;
	int32_t tid;
	uint32_t fid[4];
};

#define STAGE_FD_LO 512 /* the fd band's, which the trap checks */
#define STAGE_FDS   512

/* The stage's data (STAGE_ADDR + STAGE_DATA), mapped with the blob, read
 * and write: private, so copied at fork and shared by threads, as a
 * process's signal actions are. */
struct stage_data {
	uint64_t sigsys_action[4]; /* the program's own SIGSYS action (kernel layout) */
	uint32_t table_mapped;	   /* set by the stage once it has mapped its table */
	struct stage_obj cwd;
	struct stage_obj fd[STAGE_FDS];
};
_Static_assert(sizeof(struct stage_data) <= STAGE_DATA_LEN, "the stage's data fits");

/* The supervisor's answers to stat calls on the volume, for the stage to
 * give without a round trip: a file of fixed size per fsuid, which the
 * supervisor writes and the stage maps read-only at STAGE_TABLE_ADDR.
 * Keyed by the path as the program wrote it (no ".."), the object a
 * relative one starts from (the cwd's or the fd's fid; zero for an
 * absolute path), whether a last symlink is followed, and the fsuid; an
 * fd's own stat (fstat, or "" with AT_EMPTY_PATH) is the empty path from
 * the fd's fid, never followed. An answer is a stat, or ENOENT for a name
 * the supervisor knows missing. A set of
 * STAGE_TABLE_WAYS slots per hash; each slot a seqlock: the writer makes
 * seq odd, writes, makes it even. A slot counts only while its gen is the
 * table's: the supervisor bumps that whenever its own caches let go of
 * anything, or a file becomes a writer's (its size is then the container's). */
#define STAGE_TABLE_ADDR  (STAGE_ADDR + 0x10000ull)
#define STAGE_TABLE_SETS  2048u
#define STAGE_TABLE_WAYS  8u
#define STAGE_KEY_PATH	  224u	       /* a longer path is not kept */
#define STAGE_TABLE_MAGIC 0x31425443ul /* "CTB1" */

struct stage_key {
	uint32_t uid;
	uint32_t follow;
	uint32_t start[4];
	uint32_t len; /* of path, which ends there */
	char path[STAGE_KEY_PATH];
};

struct stage_slot {
	uint32_t seq, gen, hash, used;
	int32_t error; /* the answer is this errno (ENOENT), not a stat */
	struct stage_key key;
	unsigned char stat[144];  /* struct stat, x86-64 */
	unsigned char statx[256]; /* struct statx */
} __attribute__((aligned(64)));

struct stage_table {
	uint32_t magic, gen, uid, pad;
	struct stage_slot slot[STAGE_TABLE_SETS * STAGE_TABLE_WAYS];
} __attribute__((aligned(64)));

/* Bytes of a key that count: up to the end of its path. */
static inline uint32_t stage_key_size(const struct stage_key *k)
{
	return (uint32_t) __builtin_offsetof(struct stage_key, path) + k->len;
}

/* FNV-1a of the key's bytes that count. */
static inline uint32_t stage_key_hash(const struct stage_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint32_t h = 2166136261u, n = stage_key_size(k);

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Path names, as the stage and the supervisor both judge them. */
static inline int stage_is_component(const char *p, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != name[i])
			return 0;
	return p[len] == '/' || p[len] == '\0';
}

/* /etc/mtab, which the supervisor opens itself when it links to /proc. */
static inline int stage_is_mtab(const char *p)
{
	return stage_is_component(p, "etc", 3) && stage_is_component(p + 4, "mtab", 4) && !p[8];
}

/* /dev/fd/..., the supervisor's link to the program's own fds (as /proc's). */
static inline int stage_is_dev_fd(const char *p)
{
	return stage_is_component(p, "dev", 3) && stage_is_component(p + 4, "fd", 2);
}

static inline int stage_has_dotdot(const char *p)
{
	for (const char *s = p; *s; s++)
		if ((s == p || s[-1] == '/') && s[0] == '.' && s[1] == '.' &&
		    (!s[2] || s[2] == '/'))
			return 1;
	return 0;
}

/* A name the supervisor resolves for the caller alone (/proc, /dev/fd,
 * /etc/mtab), after the leading slashes. */
static inline int stage_own_name(const char *p)
{
	return stage_is_component(p, "proc", 4) || stage_is_dev_fd(p) || stage_is_mtab(p);
}

static inline const char *stage_skip_slashes(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

/* The length of path p if the table may hold answers for it: shorter than
 * STAGE_KEY_PATH, no "..", and if absolute not a name the supervisor
 * resolves for each caller alone; else -1. An empty one is an fd's own. */
static inline int stage_path_len(const char *p)
{
	int len = 0;

	while (p[len] && len < (int)STAGE_KEY_PATH)
		len++;
	if (len == (int)STAGE_KEY_PATH || stage_has_dotdot(p) ||
	    (p[0] == '/' && stage_own_name(stage_skip_slashes(p))))
		return -1;
	return len;
}

#endif
