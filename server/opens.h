/* The opens venus granted a job and the job has not closed. When the job
 * goes, the server closes each, as the kernel's release of a dead
 * process's files is a CODA_CLOSE: venus counts every open until its close
 * (a writer's last close stores), and would count these for ever. */
#ifndef CODA_SERVER_OPENS_H
#define CODA_SERVER_OPENS_H

#include <stdbool.h>
#include <uthash.h>

#include "proto/coda_wire.h"
#include "proto/msg.h"

/* Venus matches a close to an open by fid and flags. */
struct open_key {
	struct CodaFid fid;
	uint32_t flags;
};

/* One open, made before its upcall goes so that its reply needs no memory. */
struct open_rec {
	struct open_key key;
	struct coda_caller caller; /* of the open: its close goes as it */
	UT_hash_handle hh;	   /* in a job's set (keys repeat: one per open) */
	struct open_rec *next;	   /* in the relay's queue of closes to send */
};

/* A record of m's open, or NULL for an upcall that opens nothing; *err is
 * -ENOMEM if one was due and memory ran out. */
struct open_rec *open_rec_of(const struct coda_msg *m, int *err);

/* The job has closed one open of key: its record goes. */
void opens_closed(struct open_rec **set, const struct open_key *key);

/* The close of rec, as the job would have sent it. */
void open_rec_close(const struct open_rec *rec, struct coda_msg *m);

/* Every record of set onto the front of queue; set is left empty. */
void opens_move(struct open_rec **set, struct open_rec **queue);

void opens_free(struct open_rec **set);
void opens_queue_free(struct open_rec **queue);

#endif
