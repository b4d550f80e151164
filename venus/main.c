/* coda-venus: the embedded venus as a program of its own. coda-exec starts
 * it with one end of the channel open; it serves the volume on it until
 * coda-exec closes its end. It shares no memory and no descriptor with the
 * supervisor: they meet on the channel only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "proto/caps.h"
#include "venus.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
	fputs("Usage: coda-venus --channel FD --volume DIR --cache DIR [--read-only] [--verbose]\n"
	      "                  [--log-fd FD]\n"
	      "Serve DIR as a Coda volume on the upcall channel FD (a SOCK_SEQPACKET\n"
	      "socket): the embedded venus of coda-exec, which starts it. --verbose\n"
	      "lines go to stderr, or to the open file --log-fd names.\n",
	      out);
}

static void __attribute__((noreturn)) bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "coda-venus: %s%s%s (try --help)\n", what, arg ? " " : "", arg ? arg : "");
	exit(EXIT_USAGE);
}

/* The channel must be a socket we were given, not any number. */
static int parse_channel(const char *arg)
{
	char *end;
	long fd = strtol(arg, &end, 10);
	int type;
	socklen_t len = sizeof(type);

	if (*end || end == arg || fd < 0 || fd > 1 << 20)
		bad_usage("invalid channel fd", arg);
	if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		bad_usage("the channel is not an open SOCK_SEQPACKET socket: fd", arg);
	return (int)fd;
}

/* coda-exec's --log file, opened for appending: lines, so that each is whole
 * beside coda-exec's own. */
static FILE *parse_log(const char *arg)
{
	char *end;
	long fd = strtol(arg, &end, 10);
	FILE *f;

	if (*end || end == arg || fd < 0 || fd > 1 << 20)
		bad_usage("invalid log fd", arg);
	f = fdopen((int)fd, "a");
	if (!f)
		bad_usage("the log is not an open file: fd", arg);
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"channel", required_argument, NULL, 'C'},
	    {"volume", required_argument, NULL, 'V'},
	    {"cache", required_argument, NULL, 'c'},
	    {"read-only", no_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"log-fd", required_argument, NULL, 'L'}, /* coda-exec's --log */
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct venus_config cfg = {0};
	int chan = -1, c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "C:V:c:rv", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			chan = parse_channel(optarg);
			break;
		case 'V':
			cfg.volume = optarg;
			break;
		case 'c':
			cfg.cache = optarg;
			break;
		case 'r':
			cfg.read_only = true;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'L':
			cfg.log = parse_log(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad_usage("unknown option or missing argument:", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);
	if (chan < 0 || !cfg.volume || !cfg.cache)
		bad_usage("--channel, --volume and --cache are needed", NULL);
	/* Started by root, it serves a volume of any owner: it keeps what
	 * reading, creating and changing any file there takes (the access
	 * checks are its own, by each caller's uid), and no bounding set: it
	 * runs no program. */
	if (caps_keep(CAPS_FILES, CAPS_FILES) < 0) {
		fprintf(stderr, "coda-venus: cannot give up capabilities it does not need\n");
		return 1;
	}
	return venus_run(chan, &cfg);
}
