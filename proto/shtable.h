/* Venus's answers to LOOKUP, GETATTR and ACCESS, in a table of shared
 * memory: a --serve server writes it (one table per uid), and each job of
 * that uid reads it and answers such an upcall itself, with no message.
 * Both ends use this one layout, key and hash.
 *
 * The table is a sealed memfd of fixed size: a header, then SHTABLE_SETS
 * sets of SHTABLE_WAYS slots; a key's hash picks its set. Each slot is a
 * seqlock: the writer makes its count odd, writes it, makes it even; a
 * reader copies it between two reads of the count and uses the copy only
 * if both were the same even number, its generation is the table's and its
 * key is the one asked for. Another process writes the table: a reader
 * checks every length it copies, and a torn or mismatching copy is a miss
 * (the upcall goes to the server). */
#ifndef CODA_SHTABLE_H
#define CODA_SHTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define SHTABLE_WAYS  8
#define SHTABLE_SETS  4096
#define SHTABLE_SLOTS (SHTABLE_SETS * SHTABLE_WAYS)
/* The longest key: opcode, fid, uid, flags and a name. */
#define SHTABLE_KEY_MAX (4 + sizeof(struct CodaFid) + 8 + CODA_MAXNAMLEN)
/* The longest reply kept: the fixed part of a GETATTR's (a LOOKUP's and an
 * ACCESS's are shorter; none has more than its fixed part). */
#define SHTABLE_REPLY_MAX sizeof(struct coda_getattr_out)
#define SHTABLE_MAGIC	  0x43585431u /* "CXT1": this layout */

struct shtable_slot {
	uint32_t seq;  /* odd while the writer is in it */
	uint32_t gen;  /* the table's generation when written */
	uint32_t hash; /* of key: a reader copies only a slot that may match */
	uint16_t klen; /* 0: empty */
	uint16_t rlen;
	unsigned char key[SHTABLE_KEY_MAX];
	unsigned char reply[SHTABLE_REPLY_MAX];
} __attribute__((aligned(64)));

struct shtable_head {
	uint32_t magic;
	uint32_t slots;
	uint32_t gen; /* a flush makes every slot of an older one empty */
	uint32_t uid; /* whose answers */
} __attribute__((aligned(64)));

struct shtable {
	struct shtable_head head;
	struct shtable_slot slot[SHTABLE_SLOTS];
};

/* The key of upcall m if its answer may be kept (a LOOKUP, GETATTR or
 * ACCESS; not a lookup of "." or ".."): its length, or 0. conn_uid is the
 * uid of the connection the upcall goes through: unless it is root's, the
 * server makes the upcall as conn_uid, whatever uid m names. */
size_t shtable_key(const struct coda_msg *m, uint32_t conn_uid, unsigned char key[SHTABLE_KEY_MAX]);
uint32_t shtable_hash(const unsigned char *key, size_t len);
/* The first slot of the set of a key of hash h. */
static inline uint32_t shtable_set(uint32_t h)
{
	return h % SHTABLE_SETS * SHTABLE_WAYS;
}

/* The writer. A new table of uid, mapped read-write at *tp, in a memfd
 * that nobody can resize nor map writable again: fd or -errno. */
int shtable_create(uint32_t uid, struct shtable **tp);
/* Slot i now holds reply for key: its fixed part, the kernel's (an
 * embedded venus's LOOKUP attributes are left out, coda_wire.h). */
void shtable_write(struct shtable *t, uint32_t i, uint32_t hash, const unsigned char *key,
		   size_t klen, const struct coda_msg *reply);
void shtable_clear(struct shtable *t, uint32_t i);
/* Every slot empty: one store to the header. */
void shtable_flush(struct shtable *t);

/* The reader. The table of memfd fd, mapped read-only: 0 and *tp, or
 * -errno (-EINVAL: not a table of this layout, or not sealed). */
int shtable_map(int fd, const struct shtable **tp);
void shtable_unmap(const struct shtable *t);
/* The reply kept for key, copied into out (fd -1): true, or false. */
bool shtable_find(const struct shtable *t, const unsigned char *key, size_t klen,
		  struct coda_msg *out);

#endif
