/* Message encoding of the Coda protocol (proto/msg.c). */
#include <criterion/criterion.h>
#include <errno.h>

#include "describe.h"
#include "msg.h"

static const struct coda_caller caller = {.pid = 42, .pgid = 41, .uid = 1000};

static void lookup_upcall(struct coda_msg *m, const char *name)
{
	coda_msg_upcall(m, CODA_LOOKUP, &caller);
	cr_assert_eq(coda_msg_put_string(m, &m->in.coda_lookup.name, name, strlen(name)), 0);
}

Test(msg, upcall_header_carries_opcode_and_caller)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_GETATTR, &caller);
	cr_assert_eq(m.len, sizeof(struct coda_getattr_in));
	cr_assert_eq(m.fd, -1);
	cr_assert_eq(m.ih.opcode, CODA_GETATTR);
	cr_assert_eq(m.ih.pid, 42);
	cr_assert_eq(m.ih.pgid, 41);
	cr_assert_eq(m.ih.uid, 1000);
	cr_assert_eq(coda_msg_check_upcall(&m), 0);
}

Test(msg, name_is_appended_after_fixed_part)
{
	struct coda_msg m;
	const char *s;

	lookup_upcall(&m, "hello");
	cr_assert_eq(m.in.coda_lookup.name, (int)sizeof(struct coda_lookup_in));
	cr_assert_eq(m.len, sizeof(struct coda_lookup_in) + 6);
	cr_assert_eq(coda_msg_get_string(&m, m.in.coda_lookup.name, CODA_MAXNAMLEN, &s), 0);
	cr_assert_str_eq(s, "hello");
	cr_assert_eq(coda_msg_check_upcall(&m), 0);
}

Test(msg, put_string_refuses_what_does_not_fit)
{
	struct coda_msg m;
	static char big[CODA_MSG_MAX];
	int field = -7;

	memset(big, 'a', sizeof(big));
	coda_msg_upcall(&m, CODA_LOOKUP, &caller);
	/* Room for exactly len bytes plus the NUL fits; one more does not. */
	size_t room = sizeof(m.raw) - m.len;
	cr_assert_eq(coda_msg_put_string(&m, &field, big, room), -ENAMETOOLONG);
	cr_assert_eq(field, -7);
	cr_assert_eq(m.len, sizeof(struct coda_lookup_in));
	cr_assert_eq(coda_msg_put_string(&m, &field, big, room - 1), 0);
	cr_assert_eq(m.len, sizeof(m.raw));
}

Test(msg, get_string_rejects_offsets_outside_the_message)
{
	struct coda_msg m;
	const char *s;

	lookup_upcall(&m, "x");
	/* Inside the fixed part, negative, at the end, past the end. */
	cr_assert_eq(coda_msg_get_string(&m, 0, CODA_MAXNAMLEN, &s), -EINVAL);
	cr_assert_eq(
	    coda_msg_get_string(&m, (int)sizeof(struct coda_lookup_in) - 1, CODA_MAXNAMLEN, &s),
	    -EINVAL);
	cr_assert_eq(coda_msg_get_string(&m, -1, CODA_MAXNAMLEN, &s), -EINVAL);
	cr_assert_eq(coda_msg_get_string(&m, (int)m.len, CODA_MAXNAMLEN, &s), -EINVAL);
	cr_assert_eq(coda_msg_get_string(&m, (int)m.len + 100, CODA_MAXNAMLEN, &s), -EINVAL);
	cr_assert_eq(coda_msg_get_string(&m, 0x7fffffff, CODA_MAXNAMLEN, &s), -EINVAL);
}

Test(msg, get_string_rejects_unterminated_string)
{
	struct coda_msg m;
	const char *s;

	lookup_upcall(&m, "abc");
	m.len--; /* drop the NUL: the name runs to the end of the message */
	cr_assert_eq(coda_msg_get_string(&m, m.in.coda_lookup.name, CODA_MAXNAMLEN, &s), -EINVAL);
}

Test(msg, get_string_rejects_names_longer_than_max)
{
	struct coda_msg m;
	char name[CODA_MAXNAMLEN + 2];
	const char *s;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	lookup_upcall(&m, name);
	cr_assert_eq(coda_msg_get_string(&m, m.in.coda_lookup.name, CODA_MAXNAMLEN, &s),
		     -ENAMETOOLONG);
	cr_assert_eq(coda_msg_get_string(&m, m.in.coda_lookup.name, CODA_MAXNAMLEN + 1, &s), 0);
}

Test(msg, check_upcall_rejects_short_and_unknown)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_LOOKUP, &caller);
	m.len = sizeof(struct coda_in_hdr) - 1;
	cr_assert_eq(coda_msg_check_upcall(&m), -EINVAL);
	m.len = sizeof(struct coda_lookup_in) - 1;
	cr_assert_eq(coda_msg_check_upcall(&m), -EINVAL);
	m.len = sizeof(struct coda_lookup_in);
	m.ih.opcode = 999;
	cr_assert_eq(coda_msg_check_upcall(&m), -EOPNOTSUPP);
	m.ih.opcode = CODA_FLUSH; /* a downcall, never an upcall */
	cr_assert_eq(coda_msg_check_upcall(&m), -EOPNOTSUPP);
}

Test(msg, reply_copies_opcode_and_unique)
{
	struct coda_msg up, rep;

	coda_msg_upcall(&up, CODA_GETATTR, &caller);
	up.ih.unique = 77;
	coda_msg_reply(&rep, &up.ih, 0);
	cr_assert_eq(rep.len, sizeof(struct coda_getattr_out));
	cr_assert_eq(rep.oh.opcode, CODA_GETATTR);
	cr_assert_eq(rep.oh.unique, 77);
	cr_assert_eq(rep.oh.result, 0);
	coda_msg_reply(&rep, &up.ih, -ENOENT);
	cr_assert_eq(rep.len, sizeof(struct coda_out_hdr));
	cr_assert_eq(rep.oh.result, ENOENT);
}

Test(msg, reply_built_in_place_keeps_header)
{
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_ACCESS, &caller);
	m.ih.unique = 9;
	coda_msg_reply(&m, &m.ih, EACCES);
	cr_assert_eq(m.oh.opcode, CODA_ACCESS);
	cr_assert_eq(m.oh.unique, 9);
	cr_assert_eq(m.oh.result, EACCES);
}

Test(msg, check_reply_rejects_short_and_wrong_opcode)
{
	struct coda_msg up, rep;

	coda_msg_upcall(&up, CODA_GETATTR, &caller);
	coda_msg_reply(&rep, &up.ih, 0);
	cr_assert_eq(coda_msg_check_reply(&rep, CODA_GETATTR), 0);
	cr_assert_eq(coda_msg_check_reply(&rep, CODA_LOOKUP), -EIO);
	rep.len = sizeof(struct coda_getattr_out) - 1;
	cr_assert_eq(coda_msg_check_reply(&rep, CODA_GETATTR), -EIO);
	rep.len = sizeof(struct coda_out_hdr) - 1;
	cr_assert_eq(coda_msg_check_reply(&rep, CODA_GETATTR), -EIO);
}

Test(msg, check_reply_returns_venus_error)
{
	struct coda_msg up, rep;

	coda_msg_upcall(&up, CODA_GETATTR, &caller);
	coda_msg_reply(&rep, &up.ih, -ENOENT);
	/* An error reply is just the header: not short for its purpose. */
	cr_assert_eq(coda_msg_check_reply(&rep, CODA_GETATTR), -ENOENT);
	rep.oh.result = 100000;
	cr_assert_eq(coda_msg_check_reply(&rep, CODA_GETATTR), -EIO);
}

Test(msg, readlink_data_round_trip_and_bounds)
{
	struct coda_msg up, rep;
	const char *data;

	coda_msg_upcall(&up, CODA_READLINK, &caller);
	coda_msg_reply(&rep, &up.ih, 0);
	cr_assert_eq(coda_msg_put_data(&rep, &rep.out.coda_readlink.data, "target", 6), 0);
	rep.out.coda_readlink.count = 6;
	cr_assert_eq(coda_msg_check_reply(&rep, CODA_READLINK), 0);
	cr_assert_eq(coda_msg_get_data(&rep, rep.out.coda_readlink.data, 6, &data), 0);
	cr_assert_eq(memcmp(data, "target", 6), 0);
	cr_assert_eq(coda_msg_get_data(&rep, rep.out.coda_readlink.data, 7, &data), -EIO);
	cr_assert_eq(coda_msg_get_data(&rep, (caddr_t)(uintptr_t)4, 1, &data), -EIO);
	cr_assert_eq(coda_msg_get_data(&rep, (caddr_t)(uintptr_t)-1, 1, &data), -EIO);
	cr_assert_eq(coda_msg_put_data(&rep, &rep.out.coda_readlink.data, rep.raw, sizeof(rep.raw)),
		     -E2BIG);
}

Test(msg, open_by_path_reply_string_after_reply_fixed_part)
{
	struct coda_msg up, rep;
	const char *s;

	coda_msg_upcall(&up, CODA_OPEN_BY_PATH, &caller);
	coda_msg_reply(&rep, &up.ih, 0);
	cr_assert_eq(coda_msg_put_string(&rep, &rep.out.coda_open_by_path.path, "/c/f", 4), 0);
	cr_assert_eq(coda_msg_get_reply_string(&rep, rep.out.coda_open_by_path.path, 4096, &s), 0);
	cr_assert_str_eq(s, "/c/f");
	cr_assert_eq(coda_msg_get_reply_string(&rep, 4, 4096, &s), -EINVAL);
}

Test(msg, describe_names_the_fids_and_names_of_a_rename)
{
	struct CodaFid from = {{1, 2, 3, 4}}, to = {{5, 6, 7, 0xabcdef}};
	char what[CODA_DESCRIBE_LEN];
	struct coda_msg m;

	coda_msg_upcall(&m, CODA_RENAME, &caller);
	m.in.coda_rename.sourceFid = from;
	m.in.coda_rename.destFid = to;
	cr_assert_eq(coda_msg_put_string(&m, &m.in.coda_rename.srcname, "a", 1), 0);
	cr_assert_eq(coda_msg_put_string(&m, &m.in.coda_rename.destname, "b", 1), 0);
	coda_msg_describe(&m, false, what, sizeof(what));
	cr_assert_str_eq(what, " fid=00000001.00000002.00000003.00000004 name=a"
			       " fid2=00000005.00000006.00000007.00abcdef name2=b");
}

Test(msg, describe_shows_a_bad_name_as_bad_and_leaves_out_what_is_not_there)
{
	char what[CODA_DESCRIBE_LEN];
	struct coda_msg m;

	lookup_upcall(&m, "x");
	m.in.coda_lookup.name = 100000; /* past the end */
	coda_msg_describe(&m, false, what, sizeof(what));
	cr_assert(strstr(what, " name=(bad)") != NULL, "%s", what);
	m.len = sizeof(struct coda_in_hdr) + 4; /* cut inside the fid */
	coda_msg_describe(&m, false, what, sizeof(what));
	cr_assert_str_eq(what, "");
}
