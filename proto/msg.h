/* Building and checking the messages of the Coda protocol.
 *
 * Both ends use these: the supervisor builds upcalls and checks replies, a
 * venus checks upcalls and builds replies. Nothing here trusts a length or an
 * offset that came off the wire. */
#ifndef CODA_MSG_H
#define CODA_MSG_H

#include "coda_wire.h"

struct coda_msg {
	size_t len;
	/* An fd passed with the message (SCM_RIGHTS), or -1; -EMFILE: one was
	 * passed, and the receiver had no fd free for it. */
	int fd;
	union {
		struct coda_in_hdr ih;
		struct coda_out_hdr oh;
		union inputArgs in;
		union outputArgs out;
		char raw[CODA_MSG_MAX];
	};
};

/* Size of the fixed part of an upcall or reply with this opcode, 0 if unknown. */
size_t coda_upcall_size(uint32_t opcode);
size_t coda_reply_size(uint32_t opcode);
const char *coda_opcode_name(uint32_t opcode);

void coda_msg_upcall(struct coda_msg *m, uint32_t opcode, const struct coda_caller *caller);
void coda_msg_reply(struct coda_msg *m, const struct coda_in_hdr *req, int error);

/* Appends a NUL-terminated string after the fixed part and stores its offset
 * in *field, as the kernel does for names. -ENAMETOOLONG if it does not fit. */
int coda_msg_put_string(struct coda_msg *m, int *field, const char *s, size_t len);

/* Appends raw bytes (readlink, ioctl data) and stores their offset in the
 * pointer-sized placeholder, as venus does; -E2BIG if they do not fit. */
int coda_msg_put_data(struct coda_msg *m, caddr_t *field, const void *data, size_t len);

/* The `len` bytes at pointer-sized offset `field` of a received reply, checked
 * to lie wholly inside it after the fixed part. */
int coda_msg_get_data(const struct coda_msg *m, caddr_t field, size_t len, const char **data);

/* The string at offset `off` of a received message, checked to lie wholly
 * inside it after the fixed part and to be NUL-terminated within `max` bytes. */
int coda_msg_get_string(const struct coda_msg *m, int off, size_t max, const char **s);

/* The same for a string in a received reply (the path of a CODA_OPEN_BY_PATH
 * reply), which lies after the reply's fixed part, not the upcall's. */
int coda_msg_get_reply_string(const struct coda_msg *m, int off, size_t max, const char **s);

/* Checks that a received upcall is whole: known opcode, at least its fixed size. */
int coda_msg_check_upcall(const struct coda_msg *m);

/* Checks, after coda_msg_check_upcall, that every name or datum a received
 * upcall points at lies wholly inside it, a name being one component (no
 * '/'). Whoever takes upcalls from a peer it does not trust (venus, the
 * --serve relay) checks them with these two functions. */
int coda_msg_check_upcall_args(const struct coda_msg *m);

/* Is this a message venus sends unasked (CODA_REPLACE .. CODA_PURGEFID)? */
bool coda_is_downcall(uint32_t opcode);

/* May a caller give up waiting for this upcall? The kernel never interrupts
 * those whose effect venus must see once it has read them (open counts,
 * stored data); they get no CODA_SIGNAL. */
bool coda_opcode_interruptible(uint32_t opcode);

/* Checks a reply against the upcall it answers: same opcode, whole fixed part
 * when the call succeeded. Returns the venus error as a negative errno. */
int coda_msg_check_reply(const struct coda_msg *m, uint32_t opcode);

#endif
