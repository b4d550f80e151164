/* pioctl MOUNT CMD PATH IN: one pioctl through a virtual pioctl file, as the
 * Coda tools (cfs, clog, ctokens) make it: create MOUNT/...PIOCTL.<hex>,
 * write the request, close; open it again, read the answer, close. Prints
 * "code C: OUT-DATA"; exit 0 when the exchange itself worked.
 *
 * The request: "CMD\nPATHLEN\nFOLLOW\nINSIZE\nOUTSIZE\n", a NUL, the path,
 * the in-data. The answer: "CODE\nSIZE\n", a NUL, the out-data. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_SIZE 4096

static int fail(const char *what, const char *file)
{
	fprintf(stderr, "pioctl: %s %s: %s\n", what, file, strerror(errno));
	return 1;
}

static int send_request(const char *file, unsigned cmd, const char *path, const char *in)
{
	FILE *f = fopen(file, "w");

	if (!f)
		return fail("create", file);
	if (fprintf(f, "%u\n%zu\n%u\n%zu\n%u\n%c", cmd, strlen(path), 1u, strlen(in), OUT_SIZE,
		    '\0') < 0 ||
	    fputs(path, f) == EOF || fputs(in, f) == EOF) {
		fclose(f);
		return fail("write", file);
	}
	return fclose(f) ? fail("close", file) : 0;
}

static int read_answer(const char *file)
{
	char out[OUT_SIZE + 1];
	FILE *f = fopen(file, "r");
	unsigned size;
	int code;

	if (!f)
		return fail("reopen", file);
	if (fscanf(f, "%d\n%u\n%*c", &code, &size) != 2 || size > OUT_SIZE ||
	    fread(out, 1, size, f) != size) {
		fclose(f);
		errno = EPROTO;
		return fail("read the answer from", file);
	}
	fclose(f);
	out[size] = '\0';
	printf("code %d: %s\n", code, out);
	return 0;
}

int main(int argc, char **argv)
{
	char file[PATH_MAX];

	if (argc != 5) {
		fprintf(stderr, "usage: pioctl MOUNT CMD PATH IN\n");
		return 2;
	}
	snprintf(file, sizeof(file), "%s/...PIOCTL.%08x", argv[1], (unsigned)getpid());
	if (send_request(file, (unsigned)atoi(argv[2]), argv[3], argv[4]))
		return 1;
	return read_answer(file);
}
