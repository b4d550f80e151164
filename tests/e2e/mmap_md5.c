/*
 * mmap_md5 FILE...: map each FILE read-only and print its MD5 in the format
 * of md5sum(1) ("<32 hex digits>  <name>").  Used by the end-to-end suite to
 * check that mmap of a file served from /coda sees the same bytes as read(2):
 * the file is mapped, its descriptor is closed, and only then are the pages
 * read, so the mapping must outlive the open file as it does on any kernel
 * file system.
 *
 * MD5 as specified in RFC 1321.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct md5 {
	uint32_t h[4];
	uint64_t len;
	unsigned char buf[64];
	size_t used;
};

static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Per-round left rotations. */
static const unsigned md5_r[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static void md5_init(struct md5 *m)
{
	m->h[0] = 0x67452301;
	m->h[1] = 0xefcdab89;
	m->h[2] = 0x98badcfe;
	m->h[3] = 0x10325476;
	m->len = 0;
	m->used = 0;
}

static void md5_block(struct md5 *m, const unsigned char *p)
{
	uint32_t w[16];
	uint32_t a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		       (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (unsigned i = 0; i < 64; i++) {
		uint32_t f;
		unsigned g;

		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		f = f + a + md5_k[i] + w[g];
		a = d;
		d = c;
		c = b;
		b = b + ((f << md5_r[i / 16][i % 4]) | (f >> (32 - md5_r[i / 16][i % 4])));
	}
	m->h[0] += a;
	m->h[1] += b;
	m->h[2] += c;
	m->h[3] += d;
}

static void md5_update(struct md5 *m, const unsigned char *p, size_t n)
{
	m->len += n;
	if (m->used) {
		size_t take = 64 - m->used < n ? 64 - m->used : n;

		memcpy(m->buf + m->used, p, take);
		m->used += take;
		p += take;
		n -= take;
		if (m->used < 64)
			return;
		md5_block(m, m->buf);
		m->used = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		md5_block(m, p);
	memcpy(m->buf, p, n);
	m->used = n;
}

static void md5_final(struct md5 *m, unsigned char out[16])
{
	uint64_t bits = m->len * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = (m->used < 56 ? 56 : 120) - m->used;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (8 * i));
	md5_update(m, pad, padlen + 8);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(m->h[i] >> (8 * j));
}

static int hash_file(const char *path)
{
	struct md5 m;
	struct stat st;
	unsigned char digest[16];
	const unsigned char *map = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "mmap_md5: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "mmap_md5: fstat %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "mmap_md5: %s: not a regular file\n", path);
		close(fd);
		return -1;
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			fprintf(stderr, "mmap_md5: mmap %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
		map = p;
	}
	/* The mapping must stay valid after the last close of the file. */
	if (close(fd) < 0) {
		fprintf(stderr, "mmap_md5: close %s: %s\n", path, strerror(errno));
		return -1;
	}
	md5_init(&m);
	if (map)
		md5_update(&m, map, (size_t)st.st_size);
	md5_final(&m, digest);
	if (map && munmap((void *)map, (size_t)st.st_size) < 0) {
		fprintf(stderr, "mmap_md5: munmap %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < 16; i++)
		printf("%02x", digest[i]);
	printf("  %s\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: mmap_md5 FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (hash_file(argv[i]) < 0)
			rc = 1;
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
