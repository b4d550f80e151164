/* coda_cat: cat(1) of files under a coda-exec --serve mount, with no trap:
 *
 *   coda-exec --serve /tmp/coda.sock --volume ~/src &
 *   until [ -S /tmp/coda.sock ]; do sleep 0.1; done
 *   CODA_SOCKET=/tmp/coda.sock coda_cat /coda/README
 *
 * Build: cc coda_cat.c $(pkg-config --cflags --libs libcodaclient) */
#include <codaclient.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cat(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd = coda_open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "coda_cat: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	}
	if (n < 0)
		fprintf(stderr, "coda_cat: %s: %s\n", path, strerror(errno));
	coda_close(fd);
	return n < 0;
}

int main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++)
		rc |= cat(argv[i]);
	return rc || fflush(stdout) != 0;
}
