#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/hash.h"
#include "answers.h"

/* What the server knows of a slot of a table, beside what is in it. */
struct slot_meta {
	uint64_t kept;	      /* when (answers' clock); 0: empty */
	int32_t prev, next;   /* the slots about the same object; -1 ends */
	struct CodaFid about; /* the object (a LOOKUP's: the directory) */
};

/* The slots about one object, so that a downcall finds them. */
struct about {
	struct CodaFid fid;
	int32_t first;
	UT_hash_handle hh;
};

struct given_fid {
	struct CodaFid fid;
	UT_hash_handle hh;
};

struct user {
	uid_t uid;
	int fd;		       /* the table's memfd, or -1 */
	struct shtable *table; /* NULL: none could be made */
	struct slot_meta *meta;
	struct about *by_fid;
	struct given_fid *given;
	UT_hash_handle hh;
};

struct answers {
	struct user *users;
	uint64_t clock; /* answers kept so far: which is the oldest of a set */
};

static void free_user(struct user *u);

int answers_new(struct answers **ap)
{
	*ap = calloc(1, sizeof(**ap));
	return *ap ? 0 : -ENOMEM;
}

/* u's table and what the server knows of its slots; without them, u's
 * answers are not kept. */
static void make_table(struct user *u)
{
	u->meta = calloc(SHTABLE_SLOTS, sizeof(*u->meta));
	u->fd = u->meta ? shtable_create(u->uid, &u->table) : -ENOMEM;
	if (u->fd >= 0)
		return;
	free(u->meta);
	u->meta = NULL;
	u->table = NULL;
	u->fd = -1;
}

int answers_user(struct answers *a, uid_t uid, struct user **up)
{
	struct user *u;

	HASH_FIND(hh, a->users, &uid, sizeof(uid), u);
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return -ENOMEM;
		u->uid = uid;
		make_table(u);
		HASH_ADD(hh, a->users, uid, sizeof(u->uid), u);
		if (!HASH_ADDED(hh, u)) {
			free_user(u);
			return -ENOMEM;
		}
	}
	*up = u;
	return 0;
}

int answers_table_fd(const struct user *u)
{
	return u->fd;
}

bool answers_find(const struct user *u, const unsigned char *key, size_t len, struct coda_msg *out)
{
	return u->table && shtable_find(u->table, key, len, out);
}

/* Slot i empties (its readers see it empty from now on) and leaves its
 * object's list. */
static void drop(struct user *u, int32_t i)
{
	struct slot_meta *m = &u->meta[i];
	struct about *ab;

	shtable_clear(u->table, (uint32_t)i);
	HASH_FIND(hh, u->by_fid, &m->about, sizeof(m->about), ab);
	if (m->prev >= 0)
		u->meta[m->prev].next = m->next;
	else if (ab)
		ab->first = m->next;
	if (m->next >= 0)
		u->meta[m->next].prev = m->prev;
	if (ab && ab->first < 0) {
		HASH_DEL(u->by_fid, ab);
		free(ab);
	}
	m->kept = 0;
}

/* Slot i, just written, joins the list of the object it is about; -ENOMEM
 * leaves it on none, for drop(). */
static int enter(struct user *u, int32_t i, const struct CodaFid *fid)
{
	struct slot_meta *m = &u->meta[i];
	struct about *ab;

	m->about = *fid;
	m->prev = -1;
	m->next = -1;
	HASH_FIND(hh, u->by_fid, fid, sizeof(*fid), ab);
	if (!ab) {
		ab = calloc(1, sizeof(*ab));
		if (!ab)
			return -ENOMEM;
		ab->fid = *fid;
		ab->first = -1;
		HASH_ADD(hh, u->by_fid, fid, sizeof(ab->fid), ab);
		if (!HASH_ADDED(hh, ab)) {
			free(ab);
			return -ENOMEM;
		}
	}
	m->next = ab->first;
	if (ab->first >= 0)
		u->meta[ab->first].prev = i;
	ab->first = i;
	return 0;
}

/* The slot of key's set that holds key, or -1. */
static int32_t slot_of(const struct user *u, uint32_t first, const unsigned char *key, size_t len)
{
	for (uint32_t i = first; i < first + SHTABLE_WAYS; i++) {
		const struct shtable_slot *s = &u->table->slot[i];

		if (u->meta[i].kept && s->klen == len && !memcmp(s->key, key, len))
			return (int32_t)i;
	}
	return -1;
}

/* An empty slot of the set at first, or else its oldest, emptied. */
static int32_t free_slot(struct user *u, uint32_t first)
{
	uint32_t oldest = first;

	for (uint32_t i = first; i < first + SHTABLE_WAYS; i++) {
		if (!u->meta[i].kept)
			return (int32_t)i;
		if (u->meta[i].kept < u->meta[oldest].kept)
			oldest = i;
	}
	drop(u, (int32_t)oldest);
	return (int32_t)oldest;
}

/* Answers that hold until a change: a success, a name that is not there, a
 * caller denied. Any other failure may not happen again. */
static bool lasting(const struct coda_msg *reply)
{
	int32_t res = reply->oh.result;

	return res == 0 || res == ENOENT || res == EACCES;
}

static void keep_lookup_attr(struct answers *a, struct user *u, const unsigned char *lookup_key,
			     const struct coda_msg *reply);

void answers_keep(struct answers *a, struct user *u, const unsigned char *key, size_t len,
		  const struct coda_msg *reply)
{
	uint32_t hash, first;
	struct CodaFid fid;
	int32_t i;

	if (!u->table || len > SHTABLE_KEY_MAX)
		return;
	hash = shtable_hash(key, len);
	first = shtable_set(hash);
	i = slot_of(u, first, key, len);
	if (i >= 0)
		drop(u, i);
	if (!lasting(reply) || reply->len > CODA_MSG_MAX)
		return;
	i = free_slot(u, first);
	memcpy(&fid, key + sizeof(uint32_t), sizeof(fid));
	shtable_write(u->table, (uint32_t)i, hash, key, len, reply);
	u->meta[i].kept = ++a->clock;
	if (enter(u, i, &fid) < 0)
		drop(u, i); /* a downcall could not find it */
	keep_lookup_attr(a, u, key, reply);
}

/* The attributes after an embedded venus's LOOKUP reply (coda_wire.h),
 * which the LOOKUP's own answer leaves out: kept as the object's GETATTR
 * answer, which the object's downcalls drop, so that a later job asks
 * neither. Of the caller's rights, the one its next call most likely asks
 * (reading a file, searching a directory) is kept as that ACCESS answer,
 * as it would have been had the caller asked it; the others a job asks and
 * venus answers. The caller's uid is the one in the LOOKUP's key. */
static void keep_lookup_attr(struct answers *a, struct user *u, const unsigned char *lookup_key,
			     const struct coda_msg *reply)
{
	const struct coda_lookup_attr_out *tail = (const void *)reply->raw;
	struct coda_caller caller = {0, 0, 0};
	unsigned char key[SHTABLE_KEY_MAX];
	struct coda_msg up, answer;
	int32_t mask;
	size_t len;

	if (reply->oh.opcode != CODA_LOOKUP || reply->oh.result != 0 ||
	    reply->len != sizeof(struct coda_lookup_attr_out))
		return;
	coda_msg_upcall(&up, CODA_GETATTR, &caller);
	up.in.coda_getattr.VFid = reply->out.coda_lookup.VFid;
	len = shtable_key(&up, 0, key);
	coda_msg_reply(&answer, &up.ih, 0);
	memcpy(&answer.out.coda_getattr.attr, &tail->attr, sizeof(answer.out.coda_getattr.attr));
	answers_keep(a, u, key, len, &answer);

	mask = tail->attr.va_type == C_VDIR ? C_A_X_OK : C_A_R_OK;
	if (!(tail->rights & mask))
		return;
	memcpy(&caller.uid, lookup_key + sizeof(uint32_t) + sizeof(struct CodaFid),
	       sizeof(caller.uid));
	coda_msg_upcall(&up, CODA_ACCESS, &caller);
	up.in.coda_access.VFid = reply->out.coda_lookup.VFid;
	up.in.coda_access.flags = mask;
	len = shtable_key(&up, 0, key);
	coda_msg_reply(&answer, &up.ih, 0);
	answers_keep(a, u, key, len, &answer);
}

/* Is slot i's answer one that a ZAPFILE leaves? (A name in a directory
 * stays: only the directory's ZAPDIR drops it.) */
static bool about_names(const struct user *u, int32_t i)
{
	uint32_t opcode;

	memcpy(&opcode, u->table->slot[i].key, sizeof(opcode));
	return opcode == CODA_LOOKUP;
}

static void zap_user(struct user *u, uint32_t opcode, const struct CodaFid *fid)
{
	struct about *ab;
	int32_t i, next;

	HASH_FIND(hh, u->by_fid, fid, sizeof(*fid), ab);
	/* The last slot dropped frees ab: next is read before. */
	for (i = ab ? ab->first : -1; i >= 0; i = next) {
		next = u->meta[i].next;
		if (opcode != CODA_ZAPFILE || !about_names(u, i))
			drop(u, i);
	}
}

void answers_zap(struct answers *a, uint32_t opcode, const struct CodaFid *fid)
{
	for (struct user *u = a->users; u; u = u->hh.next)
		if (u->table)
			zap_user(u, opcode, fid);
}

static void forget_slots(struct user *u)
{
	struct about *ab, *tmp;

	HASH_ITER(hh, u->by_fid, ab, tmp)
	{
		HASH_DEL(u->by_fid, ab);
		free(ab);
	}
	memset(u->meta, 0, SHTABLE_SLOTS * sizeof(*u->meta));
}

void answers_flush(struct answers *a)
{
	for (struct user *u = a->users; u; u = u->hh.next) {
		if (!u->table)
			continue;
		shtable_flush(u->table);
		forget_slots(u);
	}
}

bool user_was_given(const struct user *u, const struct CodaFid *fid)
{
	struct given_fid *g;

	HASH_FIND(hh, u->given, fid, sizeof(*fid), g);
	return g != NULL;
}

int user_give(struct user *u, const struct CodaFid *fid)
{
	struct given_fid *g;

	if (user_was_given(u, fid))
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->fid = *fid;
	HASH_ADD(hh, u->given, fid, sizeof(g->fid), g);
	if (!HASH_ADDED(hh, g)) {
		free(g);
		return -ENOMEM;
	}
	return 0;
}

void answers_replace(struct answers *a, const struct CodaFid *old, const struct CodaFid *new)
{
	for (struct user *u = a->users; u; u = u->hh.next)
		if (user_was_given(u, old))
			(void)user_give(u, new); /* else ESTALE, as for a fid gone */
}

static void free_user(struct user *u)
{
	struct given_fid *g, *tmp;

	HASH_ITER(hh, u->given, g, tmp)
	{
		HASH_DEL(u->given, g);
		free(g);
	}
	if (u->table) {
		forget_slots(u);
		munmap(u->table, sizeof(*u->table));
		close(u->fd);
	}
	free(u->meta);
	free(u);
}

void answers_free(struct answers *a)
{
	struct user *u, *tmp;

	if (!a)
		return;
	HASH_ITER(hh, a->users, u, tmp)
	{
		HASH_DEL(a->users, u);
		free_user(u);
	}
	free(a);
}
