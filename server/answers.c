#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "answers.h"

struct answer {
	unsigned char *key;
	size_t klen;
	struct CodaFid fid; /* the object (a LOOKUP's: the directory) */
	size_t len;
	char *reply;
	struct answer *fid_prev, *fid_next; /* the answers about fid */
	struct answer *older, *newer;	    /* all, in the order kept */
	UT_hash_handle hh;
};

/* The answers about one object, so that a downcall finds them. */
struct about {
	struct CodaFid fid;
	struct answer *list;
	UT_hash_handle hh;
};

struct answers {
	struct answer *by_key;
	struct about *by_fid;
	struct answer *oldest, *newest;
	unsigned count;
};

int answers_new(struct answers **ap)
{
	*ap = calloc(1, sizeof(**ap));
	return *ap ? 0 : -ENOMEM;
}

static void put(unsigned char *key, size_t *at, const void *p, size_t len)
{
	memcpy(key + *at, p, len);
	*at += len;
}

size_t answers_key(const struct coda_msg *m, unsigned char key[ANSWER_KEY_MAX])
{
	uint32_t opcode = m->ih.opcode, uid = m->ih.uid;
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

bool answers_find(struct answers *a, const unsigned char *key, size_t len, struct coda_msg *out)
{
	struct answer *e;

	HASH_FIND(hh, a->by_key, key, len, e);
	if (!e)
		return false;
	memcpy(out->raw, e->reply, e->len);
	out->len = e->len;
	out->fd = -1;
	return true;
}

static void drop(struct answers *a, struct answer *e)
{
	struct about *ab;

	HASH_FIND(hh, a->by_fid, &e->fid, sizeof(e->fid), ab);
	if (e->fid_prev)
		e->fid_prev->fid_next = e->fid_next;
	else if (ab)
		ab->list = e->fid_next;
	if (e->fid_next)
		e->fid_next->fid_prev = e->fid_prev;
	if (ab && !ab->list) {
		HASH_DEL(a->by_fid, ab);
		free(ab);
	}
	*(e->older ? &e->older->newer : &a->oldest) = e->newer;
	*(e->newer ? &e->newer->older : &a->newest) = e->older;
	HASH_DEL(a->by_key, e);
	a->count--;
	free(e->key);
	free(e->reply);
	free(e);
}

/* e, whole, into the tables: by key, by object, newest. */
static int enter(struct answers *a, struct answer *e)
{
	struct about *ab;

	HASH_FIND(hh, a->by_fid, &e->fid, sizeof(e->fid), ab);
	if (!ab) {
		ab = calloc(1, sizeof(*ab));
		if (!ab)
			return -ENOMEM;
		ab->fid = e->fid;
		HASH_ADD(hh, a->by_fid, fid, sizeof(ab->fid), ab);
	}
	e->fid_next = ab->list;
	if (ab->list)
		ab->list->fid_prev = e;
	ab->list = e;
	e->older = a->newest;
	*(a->newest ? &a->newest->newer : &a->oldest) = e;
	a->newest = e;
	HASH_ADD_KEYPTR(hh, a->by_key, e->key, e->klen, e);
	a->count++;
	return 0;
}

/* Answers that hold until a change: a success, a name that is not there, a
 * caller denied. Any other failure may not happen again. */
static bool lasting(const struct coda_msg *reply)
{
	int32_t res = reply->oh.result;

	return res == 0 || res == ENOENT || res == EACCES;
}

void answers_keep(struct answers *a, const unsigned char *key, size_t len,
		  const struct coda_msg *reply)
{
	struct answer *e;

	HASH_FIND(hh, a->by_key, key, len, e);
	if (e)
		drop(a, e);
	if (!lasting(reply) || reply->len > CODA_MSG_MAX)
		return;
	if (a->count >= ANSWERS_MAX)
		drop(a, a->oldest);
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->key = malloc(len);
	e->reply = malloc(reply->len);
	if (!e->key || !e->reply) {
		free(e->key);
		free(e->reply);
		free(e);
		return;
	}
	memcpy(e->key, key, len);
	e->klen = len;
	memcpy(&e->fid, key + sizeof(uint32_t), sizeof(e->fid));
	memcpy(e->reply, reply->raw, reply->len);
	e->len = reply->len;
	if (enter(a, e) < 0) {
		free(e->key);
		free(e->reply);
		free(e);
	}
}

/* Is e's answer one that a ZAPFILE leaves? (A name in a directory stays:
 * only the directory's ZAPDIR drops it.) */
static bool about_names(const struct answer *e)
{
	uint32_t opcode;

	memcpy(&opcode, e->key, sizeof(opcode));
	return opcode == CODA_LOOKUP;
}

void answers_zap(struct answers *a, uint32_t opcode, const struct CodaFid *fid)
{
	struct answer *e, *next;
	struct about *ab;

	HASH_FIND(hh, a->by_fid, fid, sizeof(*fid), ab);
	/* The last answer dropped frees ab: next is read before. */
	for (e = ab ? ab->list : NULL; e; e = next) {
		next = e->fid_next;
		if (opcode != CODA_ZAPFILE || !about_names(e))
			drop(a, e);
	}
}

void answers_flush(struct answers *a)
{
	while (a->oldest)
		drop(a, a->oldest);
}

void answers_free(struct answers *a)
{
	if (!a)
		return;
	answers_flush(a);
	free(a);
}
