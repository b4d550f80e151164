/* testvenus: serves a local directory as a Coda volume through a Coda device,
 * making the system calls stock venus makes, in its order.
 *
 *   testvenus [-k DEVICE] [-mountpoint DIR] -volume DIR -cache DIR
 *             [-downcall-after N:OP]... [-read-only] [-write-disconnected]
 *             [-bad-open-fd] [-nofork] [-v]
 *
 * -bad-open-fd is bad input for the kernel side: each CODA_OPEN_BY_FD reply
 * names an fd that is not open.
 *
 * OP is flush, zapfile, zapdir, purgefid, purgeuser or replace, about the
 * fid (or uid) of upcall N. SIGUSR2 writes a CODA_FLUSH; SIGTERM exits 1,
 * writing nothing, as stock venus does.
 *
 * As stock venus, it moves into a process group of its own at start (a
 * signal to the group of whoever started it misses it), and it reads a
 * device that has gone away (read returns 0) again and again, no longer
 * ended by SIGTERM then (loop.c). -nofork is taken and means nothing: it
 * never goes into the background.
 *
 * -write-disconnected plays a venus cut off from its server: the last close
 * of a written file does not store it in the volume but keeps its container
 * in the cache (owned 0:65534, mode 0600) and logs it in CACHE/CML; /coda
 * shows the kept bytes. At start, a logged container not owned so is
 * truncated, as stock venus's ValidContainer does; a start without the
 * option stores everything logged (reintegration) and empties the log.
 *
 * Like stock venus it serves virtual pioctl files, "...PIOCTL.<hex>" at the
 * root, through which the Coda tools talk to venus (pioctl.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testvenus.h"

static volatile sig_atomic_t mounted, flush_req;

static void on_usr1(int sig)
{
	(void)sig;
	mounted = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	flush_req = 1;
}

static void on_term(int sig)
{
	(void)sig;
	/* Every store is already whole on the volume, every kept container
	 * logged in the CML: nothing to flush. Quiet, as stock venus, which
	 * logs to its own files. */
	_exit(1);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: testvenus [-k DEVICE] [-mountpoint DIR] -volume DIR -cache DIR "
		"[-downcall-after N:OP]... [-read-only] [-write-disconnected] [-bad-open-fd] "
		"[-nofork] [-v]\n"
		"  OP: flush zapfile zapdir purgefid purgeuser replace\n"
		"  -write-disconnected: keep written files in the cache's CML, unstored;\n"
		"    a start without it stores them\n");
	return 2;
}

/* Stock venus's spelling (one dash) and ours (two) are both taken. */
static bool is_opt(const char *arg, const char *name)
{
	if (arg[0] == '-' && arg[1] == '-')
		arg++;
	return !strcmp(arg, name);
}

static int parse(struct tv *t, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (is_opt(a, "-v")) {
			t->cfg.verbose = true;
			continue;
		}
		if (is_opt(a, "-read-only")) {
			t->cfg.read_only = true;
			continue;
		}
		if (is_opt(a, "-write-disconnected")) {
			t->cfg.defer_stores = true;
			continue;
		}
		if (is_opt(a, "-bad-open-fd")) {
			t->bad_open_fd = true;
			continue;
		}
		if (is_opt(a, "-nofork"))
			continue;
		if (!val)
			return -EINVAL;
		i++;
		if (is_opt(a, "-k")) {
			t->device = val;
		} else if (is_opt(a, "-mountpoint") || is_opt(a, "-mount")) {
			t->mountpoint = val;
		} else if (is_opt(a, "-volume")) {
			t->cfg.volume = val;
		} else if (is_opt(a, "-cache")) {
			t->cfg.cache = val;
		} else if (is_opt(a, "-downcall-after")) {
			if (t->ndowncalls == TV_MAX_DOWNCALLS ||
			    tv_downcall_parse(val, &t->downcalls[t->ndowncalls]) < 0)
				return -EINVAL;
			t->ndowncalls++;
		} else {
			return -EINVAL;
		}
	}
	return t->cfg.volume && t->cfg.cache ? 0 : -EINVAL;
}

/* USR1 and USR2 wait for the loop's pselect; TERM ends us wherever we are;
 * a reply to a reader that has gone must not kill us. */
static int signals_init(void)
{
	struct sigaction usr1 = {.sa_handler = on_usr1}, usr2 = {.sa_handler = on_usr2};
	struct sigaction term = {.sa_handler = on_term}, pipe = {.sa_handler = SIG_IGN};
	sigset_t held;

	sigemptyset(&held);
	sigaddset(&held, SIGUSR1);
	sigaddset(&held, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &held, NULL) < 0 || sigaction(SIGUSR1, &usr1, NULL) < 0 ||
	    sigaction(SIGUSR2, &usr2, NULL) < 0 || sigaction(SIGTERM, &term, NULL) < 0 ||
	    sigaction(SIGPIPE, &pipe, NULL) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct tv t = {.mountpoint = "/coda", .devfd = -1};
	const struct tv_signals sig = {.mounted = &mounted, .flush_req = &flush_req};
	int err, status;

	if (parse(&t, argc, argv) < 0)
		return usage();
	/* As stock venus's SigInit, "to avoid extraneous signals"; a failure
	 * is only logged there too. */
	if (setpgid(0, 0) < 0)
		fprintf(stderr, "testvenus: setpgid: %s\n", strerror(errno));
	err = signals_init();
	if (err) {
		fprintf(stderr, "testvenus: signals: %s\n", strerror(-err));
		return 1;
	}
	if (tv_device_probe(&t) < 0 || venus_new(&t.cfg, &t.venus) < 0)
		return 1;
	if (tv_device_open(&t) < 0 || tv_mount(&t) < 0) {
		venus_destroy(t.venus);
		if (t.devfd >= 0)
			close(t.devfd);
		return 1;
	}
	status = tv_loop(&t, &sig);
	venus_destroy(t.venus);
	close(t.devfd);
	return status;
}
