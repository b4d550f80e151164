/* coda-exec: runs a command with a Coda volume mounted at /coda, without a
 * kernel module and without privilege. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/caps.h"
#include "proto/channel.h"
#include "server/server.h"
#include "trap/trap.h"
#include "syscalls/syscalls.h"
#include "job.h"
#include "launch.h"
#include "stats.h"

#define EXIT_OWN_FAILURE  125
#define DEFAULT_TIMEOUT_S 30 /* the kernel's coda_timeout */
#define HOSTED_STOP_S	  30 /* for a hosted venus to flush and leave */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: coda-exec [OPTION]... [--] COMMAND [ARG]...\n"
		"  or:  coda-exec --serve SOCKET [OPTION]...\n"
		"  or:  coda-exec --attach SOCKET [OPTION]... [--] COMMAND [ARG]...\n"
		"  or:  coda-exec --stop SOCKET\n"
		"Run COMMAND with a Coda volume at the mount point, served by a venus,\n"
		"without a kernel module or privileges.\n"
		"\n"
		"      --serve SOCKET  run venus (the embedded one, or --venus-cmd's) for\n"
		"                      many jobs, listening on SOCKET, until SIGTERM,\n"
		"                      SIGINT or --stop\n"
		"      --attach SOCKET run COMMAND on the venus of the server at SOCKET\n"
		"      --stop SOCKET   stop the server at SOCKET and wait until it has gone\n"
		"  -m, --mount DIR     mount point (default /coda)\n"
		"  -V, --volume DIR    directory the embedded venus serves\n"
		"                      (default $XDG_DATA_HOME/coda-exec/volume)\n"
		"  -c, --cache DIR     venus cache directory\n"
		"                      (default $XDG_CACHE_HOME/coda-exec/venus)\n"
		"  -t, --timeout SECS  how long a call waits for venus (default %d)\n"
		"  -r, --read-only     serve the volume read-only (writes fail with EROFS)\n"
		"  -v, --verbose       log every upcall\n"
		"      --stats         at the end, print the count and p50/p99 latency of\n"
		"                      each upcall and trapped call, and peak memory\n"
		"      --trace         print each upcall and downcall as it happens: opcode,\n"
		"                      fids and names, uid, pid, answer and latency\n"
		"      --stage         put a first stage into each program the command runs:\n"
		"                      stat, access and readlink of host paths are answered\n"
		"                      inside it, with no round trip (experimental; uses ptrace)\n"
		"      --log FILE      write --verbose, --trace and --stats there (appended;\n"
		"                      default stderr)\n"
		"      --venus-cmd CMD host this Coda venus (a shell command line) instead\n"
		"                      of the embedded one; the mount point is the one it mounts\n"
		"      --venus-device PATHS  its device paths, comma-separated\n"
		"                      (default /dev/cfs0,/dev/coda/0; add venus's -k PATH)\n"
		"      --venus-open fd|path  how containers come from venus: CODA_OPEN_BY_FD\n"
		"                      (default) or CODA_OPEN_BY_PATH\n"
		"      --help          show this help and exit\n"
		"      --version       show the version and exit\n"
		"\n"
		"Exit status: that of COMMAND; 125 if coda-exec fails, 126 if COMMAND\n"
		"cannot be run, 127 if it is not found.\n",
		DEFAULT_TIMEOUT_S);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fputs("coda-exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_OWN_FAILURE);
}

/* Makes an absolute path canonical without touching the file system: the
 * mount point does not exist on the host. */
static char *normalise_mount(const char *in)
{
	char *out = malloc(strlen(in) + 2);
	size_t len = 0;

	if (!out)
		die("out of memory");
	if (in[0] != '/')
		die("--mount %s: not an absolute path (give one such as /coda)", in);
	for (const char *p = in; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else if (n && !(n == 1 && p[0] == '.')) {
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
	}
	out[len] = '\0';
	if (len == 0)
		die("--mount %s: the mount point cannot be / (give one such as /coda)", in);
	return out;
}

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home)
		return home;
	pw = getpwuid(getuid());
	if (!pw)
		die("cannot find a home directory for uid %u: HOME is unset and the user has no "
		    "passwd entry (set HOME, or give --volume and --cache)",
		    getuid());
	return pw->pw_dir;
}

static int mkdir_p(char *path, mode_t mode)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* $XDG_<kind>_HOME/coda-exec/<leaf>, or ~/<fallback>/coda-exec/<leaf>:
 * the default of option. */
static char *xdg_dir(const char *env, const char *fallback, const char *leaf, const char *option)
{
	const char *base = getenv(env);
	char *path;
	int rc;

	if (base && base[0] == '/')
		rc = asprintf(&path, "%s/coda-exec/%s", base, leaf);
	else
		rc = asprintf(&path, "%s/%s/coda-exec/%s", home_dir(), fallback, leaf);
	if (rc < 0)
		die("out of memory");
	rc = mkdir_p(path, 0700);
	if (rc < 0)
		die("cannot create the default %s directory %s: %s (set %s, or give %s DIR)",
		    option, path, strerror(-rc), env, option);
	return path;
}

/* The volume must be a directory we can enter; the cache one we can also
 * write, as venus makes its container files there. Said before venus
 * starts, so that the command never runs without its volume. */
static void check_dir(const char *option, const char *dir, int mode)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		die("%s %s: %s%s", option, dir, strerror(errno),
		    errno == ENOENT ? " (create it, or leave the option out for the default)" : "");
	if (!S_ISDIR(st.st_mode))
		die("%s %s: Not a directory (give a directory)", option, dir);
	if (access(dir, mode) < 0)
		die("%s %s: %s (give a directory that uid %u may %s)", option, dir, strerror(errno),
		    getuid(), mode & W_OK ? "write" : "enter");
}

/* --serve, --attach and --stop: one at a time, each with what it takes. */
static void check_server_options(const struct options *opt, bool command)
{
	const char *server_mode = opt->serve ? "--serve" : opt->stop ? "--stop" : NULL;

	if (!!opt->serve + !!opt->attach + !!opt->stop > 1)
		die("--serve, --attach and --stop exclude each other (give one)");
	if (server_mode && command)
		die("%s takes no command (run jobs with coda-exec --attach SOCKET -- COMMAND)",
		    server_mode);
	if (!server_mode && !command)
		die("no command given (try --help)");
	if (opt->attach && (opt->venus_cmd || opt->volume || opt->cache || opt->read_only))
		die("--attach %s: it uses the server's venus (give --volume, --cache, --read-only "
		    "and --venus-cmd to coda-exec --serve %s instead)",
		    opt->attach, opt->attach);
}

/* --timeout SECS: a whole number of seconds, 1 to a day. */
static int parse_timeout(const char *arg)
{
	char *end;
	long secs;

	errno = 0;
	secs = strtol(arg, &end, 10);
	if (end == arg || *end || errno || secs <= 0 || secs > 86400)
		die("--timeout %s: not a whole number of seconds from 1 to 86400 (the default is "
		    "%d)",
		    arg, DEFAULT_TIMEOUT_S);
	return (int)secs;
}

/* An unknown option, found in word: a short one is named by its letter
 * alone (getopt's optopt), as word may hold others ("-vq" for -q). */
static void __attribute__((noreturn)) bad_option(const char *word)
{
	if (optopt)
		die("-%c: unknown option (try --help)", optopt);
	die("%s: unknown option (try --help)", word);
}

static void parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
	    {"mount", required_argument, NULL, 'm'},
	    {"volume", required_argument, NULL, 'V'},
	    {"cache", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 't'},
	    {"read-only", no_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"stats", no_argument, NULL, 'S'},
	    {"trace", no_argument, NULL, 'T'},
	    {"stage", no_argument, NULL, 'G'},
	    {"log", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'W'},
	    {"venus-cmd", required_argument, NULL, 'H'},
	    {"venus-device", required_argument, NULL, 'D'},
	    {"venus-open", required_argument, NULL, 'O'},
	    {"serve", required_argument, NULL, 'E'},
	    {"attach", required_argument, NULL, 'A'},
	    {"stop", required_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0},
	};
	const char *mount = "/coda";
	int c;

	opterr = 0; /* we say what is wrong, in our own form */
	opt->timeout_s = DEFAULT_TIMEOUT_S;
	while ((c = getopt_long(argc, argv, "+:m:V:c:t:vr", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mount = optarg;
			break;
		case 'V':
			opt->volume = optarg;
			break;
		case 'c':
			opt->cache = optarg;
			break;
		case 't':
			opt->timeout_s = parse_timeout(optarg);
			break;
		case 'v':
			opt->verbose = true;
			break;
		case 'S':
			opt->stats = true;
			break;
		case 'T':
			opt->trace = true;
			break;
		case 'G':
			opt->stage = true;
			break;
		case 'L':
			opt->log = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'W':
			printf("coda-exec %s\n", CODA_EXEC_VERSION);
			exit(0);
		case 'r':
			opt->read_only = true;
			break;
		case 'H':
			opt->venus_cmd = optarg;
			break;
		case 'D':
			opt->venus_devices = optarg;
			break;
		case 'O':
			if (strcmp(optarg, "fd") && strcmp(optarg, "path"))
				die("--venus-open %s: neither fd nor path (give one of them)",
				    optarg);
			opt->open_by_path = !strcmp(optarg, "path");
			break;
		case 'E':
			opt->serve = optarg;
			break;
		case 'A':
			opt->attach = optarg;
			break;
		case 'P':
			opt->stop = optarg;
			break;
		case ':':
			die("%s: needs an argument (try --help)", argv[optind - 1]);
		default:
			bad_option(argv[optind - 1]);
		}
	}
	check_server_options(opt, optind < argc);
	opt->argv = argv + optind;
	opt->mount = opt->mount_buf = normalise_mount(mount);
	if (opt->venus_cmd || opt->attach || opt->stop)
		return; /* its volume and cache are its own business, or the server's */
	if (!opt->volume)
		opt->volume = opt->volume_buf =
		    xdg_dir("XDG_DATA_HOME", ".local/share", "volume", "--volume");
	if (!opt->cache)
		opt->cache = opt->cache_buf =
		    xdg_dir("XDG_CACHE_HOME", ".cache", "venus", "--cache");
	check_dir("--volume", opt->volume, X_OK);
	/* Venus makes its cache directory, but not the parents. */
	if (mkdir(opt->cache, 0700) < 0 && errno != EEXIST)
		die("--cache %s: cannot create it: %s%s", opt->cache, strerror(errno),
		    errno == ENOENT
			? " (create its parent, or leave the option out for the default)"
			: "");
	check_dir("--cache", opt->cache, W_OK | X_OK);
}

/* --log FILE: appended to, created 0600; ours alone (O_CLOEXEC: neither
 * the command nor venus inherits it). Lines, not blocks, so that each is
 * whole in the file when venus writes its own lines there too. */
static FILE *open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "a");

	if (!f)
		die("--log %s: %s", path, strerror(errno));
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

static void options_free(struct options *opt)
{
	free(opt->mount_buf);
	free(opt->volume_buf);
	free(opt->cache_buf);
}

static int start_embedded_venus(struct sup *s)
{
	char prog[PATH_MAX];
	int rc = launch_venus(s, prog, sizeof(prog));

	if (rc < 0)
		die("cannot start the embedded venus %s: %s", prog, strerror(-rc));
	s->fixed_containers = true;
	return loop_add(&s->trap, s->sb.vc.chan, EV_VENUS, 0);
}

/* We hold an fd for each /coda file a process of the command holds in its
 * fd band, and for each reader's container kept (coda/keep.h), which only a
 * venus that never rewrites one in place gives. Our soft fd limit goes up to
 * the hard one, once the command and venus have been started with the
 * limit they were given. */
static void fd_limit_up(struct sup *s)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) < 0)
		return;
	if (lim.rlim_cur < lim.rlim_max) {
		rlim_t was = lim.rlim_cur;

		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
			lim.rlim_cur = was;
	}
	if (s->fixed_containers)
		keep_enable(&s->sb, lim.rlim_cur < LONG_MAX ? (long)lim.rlim_cur : LONG_MAX);
}

/* option SOCKET found no server that answers: why, with what to do. */
static void __attribute__((noreturn))
no_server(const char *option, const char *path, int err, int timeout_s)
{
	bool stop = !strcmp(option, "--stop");

	if (err == ENOENT || err == ECONNREFUSED)
		die("%s %s: no server listens there: %s (%s coda-exec --serve %s)", option, path,
		    err == ENOENT ? "no such socket" : "a stale socket, or no socket",
		    stop ? "nothing to stop; a server is started with" : "start one with", path);
	if (err == EPIPE || err == EPROTO)
		die("%s %s: not a coda-exec server: it %s (give the socket of coda-exec --serve)",
		    option, path,
		    err == EPIPE ? "closed the connection" : "answered in another form");
	if (err == ETIMEDOUT)
		die("%s %s: the server did not answer within %d s (is it a coda-exec server? "
		    "its venus may hang: see its --log; --timeout SECS waits longer)",
		    option, path, timeout_s);
	if (err == EACCES)
		die("%s %s: Permission denied (the socket or its directory is another user's: "
		    "ask its owner, or start your own with coda-exec --serve PATH)",
		    option, path);
	die("%s %s: %s", option, path, strerror(err));
}

/* The command's upcalls go to the server at --attach: its connection is
 * the channel, as a venus's would be. */
static int attach_server(struct sup *s)
{
	struct server_hello hello;
	int fd = server_attach(s->opt.attach, s->opt.timeout_s * 1000, &hello), rc;

	if (fd < 0)
		no_server("--attach", s->opt.attach, -fd, s->opt.timeout_s);
	psdev_init(&s->sb.vc, fd, s->opt.timeout_s);
	s->sb.release.shared = true;
	s->fixed_containers = hello.fixed_containers;
	/* Its scheduling says whether it works on a call that takes long. */
	if (hello.venus_pid > 0)
		s->sb.vc.venus_pid = hello.venus_pid;
	/* Without its table, every upcall goes to the server: slower, not
	 * wrong. */
	rc = psdev_share(&s->sb.vc, hello.table, hello.uid);
	if (rc < 0 && s->opt.verbose)
		fprintf(s->sb.log, "coda-exec: --attach %s: the server's answers not mapped: %s\n",
			s->opt.attach, strerror(-rc));
	return loop_add(&s->trap, fd, EV_VENUS, 0);
}

static int stop_server(struct options *opt)
{
	int rc = server_stop(opt->stop, opt->timeout_s * 1000);

	if (rc == -EPERM)
		die("--stop %s: only the server's own user or root may stop it", opt->stop);
	if (rc < 0)
		no_server("--stop", opt->stop, -rc, opt->timeout_s);
	options_free(opt);
	return 0;
}

/* Venus leaves: a hosted one is asked first, and given time to save its state. */
static void stop(struct sup *s)
{
	if (s->hosted.cmd)
		hosted_stop(s, HOSTED_STOP_S);
	stop_venus(s);
}

/* A hosted venus starts, then mounts: the command runs once it has, under
 * the mount point it named. */
static int start_hosted_venus(struct sup *s)
{
	struct itimerspec deadline = {.it_value.tv_sec = s->opt.timeout_s};
	int rc = hosted_mount_preempted();

	if (rc)
		die("cannot host venus here: a seccomp filter coda-exec runs under (a container's "
		    "profile?) answers mount(2) with %s before coda-exec can trap venus's mount; "
		    "let mount(2) through that profile (it mounts nothing without CAP_SYS_ADMIN)",
		    strerror(rc));
	rc = launch_hosted_venus(s);

	if (!rc)
		rc = loop_add(&s->trap, s->hosted.listener, EV_VENUS_LISTENER, 0);
	if (!rc)
		rc = loop_add(&s->trap, s->sb.vc.chan, EV_VENUS, 0);
	s->hosted.timer = rc ? -1 : timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!rc &&
	    (s->hosted.timer < 0 || timerfd_settime(s->hosted.timer, 0, &deadline, NULL) < 0))
		rc = -errno;
	if (!rc)
		rc = loop_add(&s->trap, s->hosted.timer, EV_TIMER, 0);
	if (!rc)
		rc = loop_run_until(&s->trap, hosted_ready) < 0 ? -EIO : 0;
	if (rc < 0)
		return rc;
	if (!s->hosted.mounted) {
		bool exited = hosted_exited(s);

		stop(s);
		if (exited)
			die("venus did not mount before it exited");
		die("venus did not mount within %d s", s->opt.timeout_s);
	}
	s->opt.mount = s->hosted.mnt;
	coda_sb_mount(&s->sb, s->opt.mount);
	return 0;
}

/* What a run sets up before venus starts: the Coda module, the trap and
 * its loop, our signals. 0 or -errno. */
static int setup(struct sup *s)
{
	int rc;

	s->hosted.cmd = s->opt.venus_cmd;
	s->hosted.devices = s->opt.venus_devices ? s->opt.venus_devices : "/dev/cfs0,/dev/coda/0";
	coda_sb_mount(&s->sb, s->opt.mount);
	s->sb.verbose = s->opt.verbose;
	s->sb.trace = s->opt.trace;
	s->sb.open_by_path = s->opt.open_by_path;
	s->trap.stage.on = s->opt.stage;
	snprintf(s->trap.stage.mount, sizeof(s->trap.stage.mount), "%s", s->opt.mount);
	rc = syscalls_init(s);
	s->sb.log = s->log;
	if (!rc && s->opt.stats)
		rc = stats_enable(s);
	if (!rc)
		rc = job_init(s);
	return rc;
}

/* The child that hosts venus for --serve, as a run's supervisor would, with
 * what it keeps of root's capabilities. Once venus has mounted, the server
 * (our parent) gets venus's channel over sock and reads venus's replies
 * there; we serve venus's calls until the server asks us to stop (SIGTERM;
 * also at its death) or venus exits, then stop venus in order. */
static void __attribute__((noreturn)) host_for_server(struct sup *s, int sock)
{
	struct coda_msg m = {.len = sizeof(struct coda_out_hdr)};
	pid_t server = getppid();
	int rc;

	close(s->server_listener);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != server)
		_exit(EXIT_OWN_FAILURE); /* the server has died already */
	s->venus_only = true;
	rc = setup(s);
	if (rc < 0)
		die("cannot set up the event loop: %s", strerror(-rc));
	rc = start_hosted_venus(s);
	if (!rc)
		rc = host_creds_drop_caps(s);
	if (rc < 0) {
		stop(s);
		die("cannot start venus: %s", strerror(-rc));
	}
	/* Venus's replies are the server's: ours would be taken from it. */
	loop_remove(&s->trap, s->sb.vc.chan);
	s->hosted.relay = true;
	s->sb.vc.quiet = true; /* the server says when venus has gone */
	memset(m.raw, 0, m.len);
	m.fd = s->sb.vc.chan;
	m.oh.result = s->hosted.pid; /* for the jobs' look at its progress */
	rc = chan_send(sock, &m);
	close(sock);
	if (!rc)
		rc = job_host_venus(s);
	stop(s);
	exit(rc < 0 || !s->stop_asked ? EXIT_OWN_FAILURE : 0);
}

/* Venus for --serve: the embedded one, as for a run; or a hosted one in a
 * child of ours that hosts it (host_for_server), whose pid goes to *host.
 * Its channel, or -errno; says why on failure. Venus's own pid in
 * *venus_pid. */
static int serve_venus(struct sup *s, pid_t *host, pid_t *venus_pid)
{
	char prog[PATH_MAX];
	int32_t named = 0;
	int chan, rc;

	if (!s->opt.venus_cmd) {
		rc = launch_venus(s, prog, sizeof(prog));
		if (rc < 0)
			fprintf(stderr, "coda-exec: cannot start the embedded venus %s: %s\n", prog,
				strerror(-rc));
		*venus_pid = s->venus_pid;
		return rc < 0 ? rc : s->sb.vc.chan;
	}
	*host = launch_fork(s, host_for_server, &chan, &named);
	*venus_pid = named;
	if (*host == -ECHILD)
		return -ECHILD; /* the child said why */
	if (*host < 0) {
		fprintf(stderr, "coda-exec: cannot start venus: %s\n", strerror(-*host));
		return *host;
	}
	return chan;
}

/* The hosting child stops venus in order, and is reaped: its status, or 0
 * when there is none. */
static int stop_host(pid_t host)
{
	int status;

	if (host <= 0)
		return 0;
	kill(host, SIGTERM);
	while (waitpid(host, &status, 0) < 0)
		if (errno != EINTR)
			return EXIT_OWN_FAILURE;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_OWN_FAILURE;
}

/* --serve: venus, embedded or hosted, serves the jobs that attach until the
 * server is stopped; then venus stops in order, and the socket goes before
 * the jobs' connections close. */
static int serve(struct sup *s)
{
	const char *path = s->opt.serve;
	int listener = server_listen(path), chan, rc;
	struct server *srv = NULL;
	pid_t host = -1, venus_pid = 0;

	if (listener == -EADDRINUSE)
		die("--serve %s: a server already answers there (stop it with coda-exec --stop %s, "
		    "or give another path)",
		    path, path);
	if (listener == -EEXIST)
		die("--serve %s: File exists, and is no socket (remove it, or give another path)",
		    path);
	if (listener < 0)
		die("--serve %s: %s", path, strerror(-listener));
	s->server_listener = listener;
	chan = serve_venus(s, &host, &venus_pid);
	if (chan < 0) {
		unlink(path);
		options_free(&s->opt);
		return EXIT_OWN_FAILURE;
	}
	/* Started by root, it needs none of root's capabilities once its
	 * socket is made and venus started: it relays messages, signals and
	 * waits for its own child. */
	rc = caps_keep(0, 0);
	if (!rc)
		rc = server_new(listener, chan, venus_pid, !s->opt.venus_cmd, s->log,
				s->opt.verbose, s->opt.trace, &srv);
	if (!rc)
		rc = server_run(srv);
	if (host > 0) {
		close(chan);
		stop_host(host);
	} else {
		stop_venus(s);
	}
	unlink(path);
	server_free(srv);
	close(listener);
	options_free(&s->opt);
	if (rc == -EPIPE)
		fprintf(stderr, "coda-exec: --serve %s: venus has gone away\n", path);
	else if (rc < 0)
		fprintf(stderr, "coda-exec: --serve %s: %s\n", path, strerror(-rc));
	return rc < 0 ? EXIT_OWN_FAILURE : 0;
}

int main(int argc, char **argv)
{
	struct sup s = {
	    .sigfd = -1,
	    .opath_anchor = -1,
	    .self_exe = -1,
	    .venus_pid = -1,
	    .server_listener = -1,
	    .hosted = {
		.listener = -1, .venus_end = -1, .lifeline = {-1, -1}, .pidfd = -1, .timer = -1}};
	int rc, status;

	/* In a target, as the interpreter of an exec plan (syscalls/exec.c). */
	if (argc >= 3 && !strcmp(argv[1], EXEC_PLAN_OPTION))
		return exec_plan_run(argv[2]);
	parse_options(argc, argv, &s.opt);
	if (s.opt.stop)
		return stop_server(&s.opt);
	s.log = s.opt.log ? open_log(s.opt.log) : stderr;
	if (s.opt.serve)
		return serve(&s);
	rc = setup(&s);
	if (rc < 0)
		die("cannot set up the event loop: %s", strerror(-rc));
	if (s.opt.attach)
		rc = attach_server(&s);
	else
		rc = s.hosted.cmd ? start_hosted_venus(&s) : start_embedded_venus(&s);
	if (rc < 0)
		die("cannot start venus: %s", strerror(-rc));
	rc = launch_target(&s);
	if (rc < 0) {
		stop(&s);
		if (rc != -ECHILD)
			die("cannot start %s: %s", s.opt.argv[0], strerror(-rc));
		options_free(&s.opt); /* the child said why */
		return EXIT_OWN_FAILURE;
	}
	fd_limit_up(&s);
	/* The command and venus have what they are to have: the rest of root's
	 * capabilities can go. */
	rc = host_creds_drop_caps(&s);
	if (rc < 0) {
		kill(s.trap.target, SIGKILL);
		stop(&s);
		die("cannot give up capabilities: %s", strerror(-rc));
	}
	loop_tune_listener(&s.trap);
	rc = loop_add(&s.trap, s.trap.listener, EV_LISTENER, 0);
	if (rc < 0)
		die("cannot watch the seccomp listener: %s", strerror(-rc));
	status = job_run(&s);
	stop(&s);
	if (s.opt.stats)
		stats_print(&s, s.log);
	syscalls_destroy(&s);
	if (s.log != stderr)
		fclose(s.log);
	options_free(&s.opt);
	return status;
}
