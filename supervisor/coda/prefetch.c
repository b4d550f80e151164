/* Directory read-ahead (see prefetch.h). One listing is followed at a time:
 * the last one a program read from its start. Its names are kept in
 * listing order with a state each; a window [cursor, until) of them is
 * fetched by at most PF_WORKERS waiters, each with one upcall out, and the
 * window grows as the program reads into it, as the kernel's file
 * read-ahead does. A listing that is replaced lives on while a waiter of it
 * still runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "prefetch.h"
#include "proto/hash.h"
#include "proto/venus_dirent.h"

#define PF_WORKERS	   8
#define PF_FIRST_WINDOW	   32
#define PF_MAX_WINDOW	   4096
#define PF_SEQ_GAP	   8  /* entries a program may skip and still read in order */
#define PF_SIGNAL_CHECK_MS 10 /* as often as psdev checks its own callers */

enum pf_state { PF_TODO, PF_BUSY, PF_DONE };

struct pf_wait {
	struct coda_waiter *who;
	struct pf_wait *next;	  /* of the name's waiters */
	struct pf_wait *next_all; /* of the mount's (prefetch_expire) */
	bool interrupted;
};

struct listing;

struct pf_name {
	struct listing *l;
	size_t index;
	enum pf_state state;
	struct pf_wait *waiters;
	UT_hash_handle hh;
	size_t len;
	char name[];
};

struct listing {
	struct coda_sb *sb;
	struct CodaFid dir;
	struct pf_name **order; /* in listing order */
	struct pf_name *by_name;
	size_t n;
	size_t cursor, until, window;
	size_t last; /* the index the program looked up last */
	bool seen;   /* ...if any */
	unsigned workers, refs;
	struct coda_caller who; /* of the program that read it: upcalls go as it */
	prefetch_fn fetch;
};

static void listing_put(struct listing *l)
{
	struct pf_name *pn, *tmp;

	if (--l->refs > 0)
		return;
	HASH_ITER(hh, l->by_name, pn, tmp)
	{
		HASH_DEL(l->by_name, pn);
		free(pn);
	}
	free(l->order);
	free(l);
}

static int add_name(struct listing *l, const struct venus_dirent_view *v)
{
	struct pf_name *pn, *old;

	if ((v->namlen == 1 && v->name[0] == '.') ||
	    (v->namlen == 2 && v->name[0] == '.' && v->name[1] == '.'))
		return 0;
	HASH_FIND(hh, l->by_name, v->name, v->namlen, old);
	if (old)
		return 0; /* a malformed listing: the name is already followed */
	pn = calloc(1, sizeof(*pn) + v->namlen + 1);
	if (!pn)
		return -ENOMEM;
	pn->l = l;
	pn->index = l->n;
	pn->len = v->namlen;
	memcpy(pn->name, v->name, v->namlen);
	HASH_ADD_KEYPTR(hh, l->by_name, pn->name, pn->len, pn);
	if (!HASH_ADDED(hh, pn)) {
		free(pn);
		return -ENOMEM;
	}
	l->order[l->n++] = pn;
	return 0;
}

/* The names of a container image; NULL if it cannot be read whole. */
static struct listing *listing_new(struct coda_sb *sb, const struct CodaFid *dir, const char *image,
				   size_t len, prefetch_fn fetch)
{
	struct listing *l = calloc(1, sizeof(*l));
	size_t off = 0, max = len / venus_dirent_size(1) + 1;
	struct venus_dirent_view v;
	int rc;

	if (!l)
		return NULL;
	l->sb = sb;
	l->dir = *dir;
	l->fetch = fetch;
	l->refs = 1;
	l->order = calloc(max, sizeof(*l->order));
	if (!l->order)
		goto fail;
	while ((rc = venus_dirent_decode(image, len, &off, &v)) != 0) {
		if (rc < 0 || l->n >= max || (rc == 1 && add_name(l, &v) < 0))
			goto fail;
	}
	return l;
fail:
	listing_put(l);
	return NULL;
}

void prefetch_listed(struct coda_sb *sb, const struct CodaFid *dir, const char *image, size_t len,
		     prefetch_fn fetch)
{
	if (sb->prefetch.listing)
		listing_put(sb->prefetch.listing);
	sb->prefetch.listing = listing_new(sb, dir, image, len, fetch);
}

static struct pf_name *find_name(struct coda_sb *sb, const struct CodaFid *dir, const char *name,
				 size_t len)
{
	struct listing *l = sb->prefetch.listing;
	struct pf_name *pn;

	if (!l || !coda_fid_eq(&l->dir, dir))
		return NULL;
	HASH_FIND(hh, l->by_name, name, len, pn);
	return pn;
}

static void wake_all(struct coda_sb *sb, struct pf_name *pn)
{
	while (pn->waiters) {
		struct pf_wait *w = pn->waiters;

		pn->waiters = w->next;
		sb->sched->wake_later(w->who);
	}
}

static struct pf_name *next_todo(struct listing *l)
{
	while (l->cursor < l->until && l->cursor < l->n) {
		struct pf_name *pn = l->order[l->cursor++];

		if (pn->state == PF_TODO)
			return pn;
	}
	return NULL;
}

static void worker(struct coda_waiter *w, void *arg)
{
	struct listing *l = arg;
	struct coda_req r = {.sb = l->sb, .waiter = w};
	struct pf_name *pn;

	while (l->sb->prefetch.listing == l && (pn = next_todo(l))) {
		pn->state = PF_BUSY;
		l->fetch(&r, &l->who, &l->dir, pn->name, pn->len);
		pn->state = PF_DONE;
		wake_all(l->sb, pn);
	}
	l->workers--;
	listing_put(l);
}

static void start_workers(struct listing *l)
{
	while (l->workers < PF_WORKERS && l->cursor < l->until && l->cursor < l->n) {
		l->refs++;
		l->workers++;
		if (l->sb->sched->spawn(l->sb->sched->ctx, worker, l) < 0) {
			l->workers--;
			l->refs--;
			return;
		}
	}
}

/* The program is at index i: once it is into the second half of what was
 * asked, ask twice as much beyond. */
static void read_ahead(struct listing *l, size_t i)
{
	if (!l->window)
		return;
	if (i + l->window / 2 >= l->until) {
		if (l->window < PF_MAX_WINDOW)
			l->window *= 2;
		l->until = (i + 1 > l->until ? i + 1 : l->until) + l->window;
	}
	start_workers(l);
}

/* Does the program read the listing in order: is i just after its last? */
static bool in_order(struct listing *l, size_t i)
{
	bool seq = l->seen && i > l->last && i - l->last <= PF_SEQ_GAP;

	l->last = i;
	l->seen = true;
	return seq;
}

static void unlink_name_waiter(struct pf_wait **list, struct pf_wait *me)
{
	for (; *list; list = &(*list)->next)
		if (*list == me) {
			*list = me->next;
			return;
		}
}

static void unlink_waiting(struct pf_wait **list, struct pf_wait *me)
{
	for (; *list; list = &(*list)->next_all)
		if (*list == me) {
			*list = me->next_all;
			return;
		}
}

/* A name under way is answered whole (its GETATTR too) before the program
 * goes on, so that it does not ask for the same attributes again; a caller
 * interrupted meanwhile goes on at once, to its own upcall, which then
 * fails as an interrupted one does. */
static void wait_busy(struct coda_req *r, struct pf_name *pn)
{
	struct prefetch_state *ps = &r->sb->prefetch;
	struct pf_wait me = {.who = r->waiter, .next = pn->waiters, .next_all = ps->waiting};
	struct listing *l = pn->l;

	l->refs++;
	pn->waiters = &me;
	ps->waiting = &me;
	while (pn->state == PF_BUSY && !me.interrupted)
		r->sb->sched->sleep(r->waiter);
	unlink_waiting(&ps->waiting, &me);
	unlink_name_waiter(&pn->waiters, &me);
	listing_put(l);
}

void prefetch_expire(struct coda_sb *sb, int64_t now_ms)
{
	struct prefetch_state *ps = &sb->prefetch;
	struct pf_wait *w, *next;

	if (!ps->waiting || now_ms < ps->check_ms)
		return;
	ps->check_ms = now_ms + PF_SIGNAL_CHECK_MS;
	for (w = ps->waiting; w; w = next) {
		next = w->next_all; /* w may be gone once woken */
		if (!w->interrupted && sb->sched->interrupted(w->who)) {
			w->interrupted = true;
			sb->sched->wake(w->who);
		}
	}
}

void prefetch_hit(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len)
{
	struct pf_name *pn = find_name(r->sb, dir, name, len);

	if (!pn)
		return;
	if (in_order(pn->l, pn->index))
		read_ahead(pn->l, pn->index);
	if (pn->state == PF_BUSY)
		wait_busy(r, pn);
}

/* A miss the program waits for: two in listing order start read-ahead; one
 * out of order (a program that picks names, as an import does) asks for
 * nothing more. */
static void missed(struct listing *l, const struct coda_caller *who, size_t i)
{
	if (l->cursor <= i)
		l->cursor = i + 1;
	if (!in_order(l, i))
		return;
	if (!l->window) {
		l->who = *who;
		l->window = PF_FIRST_WINDOW;
		l->until = l->cursor + l->window;
	}
	read_ahead(l, i);
}

struct pf_name *prefetch_claim(struct coda_req *r, const struct coda_caller *who,
			       const struct CodaFid *dir, const char *name, size_t len)
{
	struct pf_name *pn = find_name(r->sb, dir, name, len);

	if (!pn || pn->state == PF_DONE)
		return NULL;
	if (pn->state == PF_BUSY) {
		wait_busy(r, pn);
		return NULL;
	}
	pn->state = PF_BUSY;
	pn->l->refs++;
	missed(pn->l, who, pn->index);
	return pn;
}

void prefetch_release(struct coda_sb *sb, struct pf_name *pn)
{
	if (!pn)
		return;
	pn->state = PF_DONE;
	wake_all(sb, pn);
	listing_put(pn->l);
}

void prefetch_destroy(struct coda_sb *sb)
{
	if (sb->prefetch.listing)
		listing_put(sb->prefetch.listing);
	sb->prefetch.listing = NULL;
}
