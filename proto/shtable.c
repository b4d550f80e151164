#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shtable.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
/* What a reader wants sealed: a table that shrinks would fault it, and one
 * a job could write would let it hand itself fids (the server trusts what
 * it wrote). The server's own mapping, made before, stays writable. */
#define SHTABLE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)

static void put(unsigned char *key, size_t *at, const void *p, size_t len)
{
	memcpy(key + *at, p, len);
	*at += len;
}

size_t shtable_key(const struct coda_msg *m, uint32_t conn_uid, unsigned char key[SHTABLE_KEY_MAX])
{
	uint32_t opcode = m->ih.opcode, uid = conn_uid ? conn_uid : m->ih.uid;
	int32_t flags = 0;
	const char *name = "";
	size_t at = 0;

	switch (opcode) {
	case CODA_GETATTR:
		uid = 0; /* the same attributes for every caller */
		break;
	case CODA_ACCESS:
		flags = m->in.coda_access.flags;
		break;
	case CODA_LOOKUP:
		flags = m->in.coda_lookup.flags;
		/* Not "." nor "..": a directory renamed elsewhere has a new
		 * parent, which no downcall of its old one's says. */
		if (coda_msg_get_string(m, m->in.coda_lookup.name, CODA_MAXNAMLEN, &name) != 0 ||
		    !strcmp(name, ".") || !strcmp(name, ".."))
			return 0;
		break;
	default:
		return 0;
	}
	put(key, &at, &opcode, sizeof(opcode));
	put(key, &at, &m->in.coda_getattr.VFid, sizeof(struct CodaFid)); /* first in all */
	put(key, &at, &uid, sizeof(uid));
	put(key, &at, &flags, sizeof(flags));
	put(key, &at, name, strlen(name));
	return at;
}

/* FNV-1a: a spread over the sets is all that is wanted. */
uint32_t shtable_hash(const unsigned char *key, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

int shtable_create(uint32_t uid, struct shtable **tp)
{
	int fd = memfd_create("coda-answers", MFD_CLOEXEC | MFD_ALLOW_SEALING), err;
	struct shtable *t = MAP_FAILED;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(*t)) == 0)
		t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED || fcntl(fd, F_ADD_SEALS, SHTABLE_SEALS) < 0) {
		err = -errno;
		if (t != MAP_FAILED)
			munmap(t, sizeof(*t));
		close(fd);
		return err;
	}
	t->head.slots = SHTABLE_SLOTS;
	t->head.uid = uid;
	__atomic_store_n(&t->head.magic, SHTABLE_MAGIC, __ATOMIC_RELEASE);
	*tp = t;
	return fd;
}

/* The writer's side of slot i's seqlock: odd before it writes... */
static void write_begin(struct shtable_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* ...even after, once what it wrote is visible. */
static void write_end(struct shtable_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

void shtable_write(struct shtable *t, uint32_t i, uint32_t hash, const unsigned char *key,
		   size_t klen, const struct coda_msg *reply)
{
	struct shtable_slot *s = &t->slot[i];
	/* The kernel's part only: the attributes after an embedded venus's
	 * LOOKUP reply (coda_wire.h) go stale with no downcall about the
	 * directory, which is what a LOOKUP answer is dropped by. */
	size_t fixed = coda_reply_size(reply->oh.opcode);
	size_t rlen = reply->len < fixed ? reply->len : fixed;

	if (rlen > SHTABLE_REPLY_MAX)
		rlen = SHTABLE_REPLY_MAX;

	write_begin(s);
	s->gen = t->head.gen;
	__atomic_store_n(&s->hash, hash, __ATOMIC_RELAXED);
	s->klen = (uint16_t)klen;
	s->rlen = (uint16_t)rlen;
	memcpy(s->key, key, klen);
	memcpy(s->reply, reply->raw, rlen);
	write_end(s);
}

void shtable_clear(struct shtable *t, uint32_t i)
{
	struct shtable_slot *s = &t->slot[i];

	write_begin(s);
	s->klen = 0;
	write_end(s);
}

void shtable_flush(struct shtable *t)
{
	__atomic_store_n(&t->head.gen, t->head.gen + 1, __ATOMIC_RELEASE);
}

int shtable_map(int fd, const struct shtable **tp)
{
	const struct shtable *t;
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return -errno;
	if ((seals & SHTABLE_SEALS) != SHTABLE_SEALS)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size != (off_t)sizeof(*t))
		return -EINVAL;
	t = mmap(NULL, sizeof(*t), PROT_READ, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED)
		return -errno;
	if (__atomic_load_n(&t->head.magic, __ATOMIC_ACQUIRE) != SHTABLE_MAGIC ||
	    t->head.slots != SHTABLE_SLOTS) {
		munmap((void *)t, sizeof(*t));
		return -EINVAL;
	}
	*tp = t;
	return 0;
}

void shtable_unmap(const struct shtable *t)
{
	if (t)
		munmap((void *)t, sizeof(*t));
}

/* A copy of slot s as it stood between two even and equal counts: true,
 * or false if the writer was in it. */
static bool copy_slot(const struct shtable_slot *s, struct shtable_slot *copy)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

	if (seq & 1)
		return false;
	memcpy(copy, s, sizeof(*copy));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq;
}

/* Is the copy whole, of this generation, and the answer to key? */
static bool answers_key(const struct shtable_slot *c, uint32_t gen, const unsigned char *key,
			size_t klen)
{
	return c->gen == gen && c->klen == klen && klen <= SHTABLE_KEY_MAX &&
	       !memcmp(c->key, key, klen) && c->rlen >= sizeof(struct coda_out_hdr) &&
	       c->rlen <= SHTABLE_REPLY_MAX;
}

bool shtable_find(const struct shtable *t, const unsigned char *key, size_t klen,
		  struct coda_msg *out)
{
	uint32_t hash = shtable_hash(key, klen), first = shtable_set(hash);
	struct shtable_slot copy;

	for (uint32_t i = first; i < first + SHTABLE_WAYS; i++) {
		const struct shtable_slot *s = &t->slot[i];

		if (__atomic_load_n(&s->hash, __ATOMIC_RELAXED) != hash || !copy_slot(s, &copy))
			continue;
		/* Read after the copy: a flush made before it is seen. */
		if (!answers_key(&copy, __atomic_load_n(&t->head.gen, __ATOMIC_ACQUIRE), key, klen))
			continue;
		memcpy(out->raw, copy.reply, copy.rlen);
		out->len = copy.rlen;
		out->fd = -1;
		return true;
	}
	return false;
}
