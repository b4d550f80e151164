/* Directory container records (proto/venus_dirent.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "venus_dirent.h"

#define HDR offsetof(struct venus_dirent, d_name)

struct rec {
	uint32_t ino;
	uint8_t type;
	const char *name;
};

static const struct rec recs[] = {
    {2, CDT_DIR, "."},	   {1, CDT_DIR, ".."},	  {12, CDT_REG, "a"},
    {13, CDT_LNK, "link"}, {14, CDT_REG, "abcd"}, {0xffffffffu, CDT_FIFO, "pipe.name"},
};

static size_t encode_all(char *buf, size_t cap)
{
	size_t len = 0;

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		int n = venus_dirent_encode(buf + len, cap - len, recs[i].ino, recs[i].type,
					    recs[i].name, strlen(recs[i].name));

		cr_assert_gt(n, 0);
		cr_assert_eq((size_t)n, venus_dirent_size(strlen(recs[i].name)));
		cr_assert_eq(n % 4, 0);
		len += (size_t)n;
	}
	return len;
}

Test(venus_dirent, round_trip)
{
	char buf[4096];
	size_t len = encode_all(buf, sizeof(buf)), off = 0;
	struct venus_dirent_view d;

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), 1);
		cr_assert_eq(d.ino, recs[i].ino);
		cr_assert_eq(d.type, recs[i].type);
		cr_assert_eq(d.namlen, strlen(recs[i].name));
		cr_assert_str_eq(d.name, recs[i].name);
	}
	cr_assert_eq(off, len);
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), 0);
}

Test(venus_dirent, encode_checks_name_and_room)
{
	char buf[512], name[CODA_MAXNAMLEN + 1];

	memset(name, 'x', sizeof(name));
	cr_assert_eq(venus_dirent_encode(buf, sizeof(buf), 1, CDT_REG, name, 0), -ENAMETOOLONG);
	cr_assert_eq(venus_dirent_encode(buf, sizeof(buf), 1, CDT_REG, name, sizeof(name)),
		     -ENAMETOOLONG);
	cr_assert_eq(venus_dirent_encode(buf, sizeof(buf), 1, CDT_REG, name, CODA_MAXNAMLEN),
		     (int)venus_dirent_size(CODA_MAXNAMLEN));
	cr_assert_eq(venus_dirent_encode(buf, HDR + 3, 1, CDT_REG, "abcd", 4), -ENOSPC);
}

Test(venus_dirent, empty_slot_is_skipped)
{
	char buf[256];
	size_t len = 0, off = 0;
	struct venus_dirent_view d;

	len += (size_t)venus_dirent_encode(buf, sizeof(buf), 0, CDT_REG, "gone", 4);
	len += (size_t)venus_dirent_encode(buf + len, sizeof(buf) - len, 5, CDT_REG, "here", 4);
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), 2);
	cr_assert_eq(off, venus_dirent_size(4));
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), 1);
	cr_assert_str_eq(d.name, "here");
}

/* One valid record for "name" that the tests below then corrupt. */
union one_rec {
	struct venus_dirent d;
	char raw[sizeof(struct venus_dirent)];
};

static size_t one(union one_rec *u)
{
	memset(u, 0, sizeof(*u));
	return (size_t)venus_dirent_encode(u->raw, sizeof(u->raw), 7, CDT_REG, "name", 4);
}

Test(venus_dirent, reclen_zero_is_eio)
{
	union one_rec u;
	struct venus_dirent *r = &u.d;
	const char *buf = u.raw;
	struct venus_dirent_view d;
	size_t len = one(&u), off = 0;

	r->d_reclen = 0;
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), -EIO);
}

Test(venus_dirent, reclen_past_end_is_eio)
{
	union one_rec u;
	struct venus_dirent *r = &u.d;
	const char *buf = u.raw;
	struct venus_dirent_view d;
	size_t len = one(&u), off = 0;

	r->d_reclen = (uint16_t)(len + 4);
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), -EIO);
	off = 0;
	cr_assert_eq(venus_dirent_decode(buf, HDR - 1, &off, &d), -EIO); /* truncated header */
}

Test(venus_dirent, namlen_past_reclen_is_eio)
{
	union one_rec u;
	struct venus_dirent *r = &u.d;
	const char *buf = u.raw;
	struct venus_dirent_view d;
	size_t len = one(&u), off = 0;

	r->d_namlen = (uint8_t)(r->d_reclen - HDR); /* no room left for the NUL */
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), -EIO);
	r->d_namlen = 0;
	off = 0;
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), -EIO);
}

Test(venus_dirent, slash_in_name_is_eio)
{
	union one_rec u;
	struct venus_dirent *r = &u.d;
	const char *buf = u.raw;
	struct venus_dirent_view d;
	size_t len = one(&u), off = 0;

	r->d_name[1] = '/';
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), -EIO);
}

Test(venus_dirent, embedded_nul_is_eio)
{
	union one_rec u;
	struct venus_dirent *r = &u.d;
	const char *buf = u.raw;
	struct venus_dirent_view d;
	size_t len = one(&u), off = 0;

	r->d_name[2] = '\0';
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), -EIO);
	r->d_name[2] = 'm';
	r->d_namlen = 3; /* then the byte after the name is not a NUL */
	off = 0;
	cr_assert_eq(venus_dirent_decode(buf, len, &off, &d), -EIO);
}

/* Records placed right before an inaccessible page: a read past the buffer
 * faults and fails the test. */
Test(venus_dirent, never_reads_past_the_buffer)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct venus_dirent_view d;
	char rec[64];
	size_t n, off;

	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	n = (size_t)venus_dirent_encode(rec, sizeof(rec), 7, CDT_REG, "name", 4);
	for (size_t cut = 0; cut <= n; cut++) {
		/* The first `cut` bytes of the record end at the guard page. */
		char *buf = map + page - cut;
		struct venus_dirent hdr;

		memcpy(buf, rec, cut);
		off = 0;
		int r = venus_dirent_decode(buf, cut, &off, &d);
		cr_assert(cut == n ? r == 1 : (cut == 0 ? r == 0 : r == -EIO), "cut %zu -> %d", cut,
			  r);
		if (cut < HDR)
			continue;
		/* Lies in the header must not lead it astray either. */
		memcpy(&hdr, rec, HDR);
		hdr.d_reclen = 0xffff;
		hdr.d_namlen = 0xff;
		memcpy(buf, &hdr, HDR);
		off = 0;
		cr_assert_eq(venus_dirent_decode(buf, cut, &off, &d), -EIO);
	}
	munmap(map, (size_t)page * 2);
}
