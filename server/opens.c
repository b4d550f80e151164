/* A job's opens left to close when it goes (opens.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opens.h"

static bool opens_file(uint32_t opcode)
{
	return opcode == CODA_OPEN || opcode == CODA_OPEN_BY_FD || opcode == CODA_OPEN_BY_PATH;
}

struct open_rec *open_rec_of(const struct coda_msg *m, int *err)
{
	struct open_rec *rec;

	*err = 0;
	if (!opens_file(m->ih.opcode))
		return NULL;
	rec = calloc(1, sizeof(*rec));
	if (!rec) {
		*err = -ENOMEM;
		return NULL;
	}
	/* The three opens carry the fid and flags alike, first. */
	rec->key.fid = m->in.coda_open_by_fd.VFid;
	rec->key.flags = (uint32_t)m->in.coda_open_by_fd.flags;
	rec->caller = (struct coda_caller){m->ih.pid, m->ih.pgid, m->ih.uid};
	return rec;
}

void opens_closed(struct open_rec **set, const struct open_key *key)
{
	struct open_rec *rec;

	HASH_FIND(hh, *set, key, sizeof(*key), rec);
	if (!rec)
		return; /* a close venus will refuse, or of an open we never saw */
	HASH_DELETE(hh, *set, rec);
	free(rec);
}

void open_rec_close(const struct open_rec *rec, struct coda_msg *m)
{
	coda_msg_upcall(m, CODA_CLOSE, &rec->caller);
	m->in.coda_close.VFid = rec->key.fid;
	m->in.coda_close.flags = (int)rec->key.flags;
}

void opens_move(struct open_rec **set, struct open_rec **queue)
{
	struct open_rec *rec, *tmp;

	HASH_ITER(hh, *set, rec, tmp)
	{
		HASH_DELETE(hh, *set, rec);
		rec->next = *queue;
		*queue = rec;
	}
}

void opens_free(struct open_rec **set)
{
	struct open_rec *queue = NULL;

	opens_move(set, &queue);
	opens_queue_free(&queue);
}

void opens_queue_free(struct open_rec **queue)
{
	while (*queue) {
		struct open_rec *rec = *queue;

		*queue = rec->next;
		free(rec);
	}
}
