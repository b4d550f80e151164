/* Signals against held calls, for tests/e2e/signals.sh.
 *
 *   sigcalls storm DIR SECONDS
 *	A 1 ms SIGALRM timer (SA_RESTART) runs while rounds of mkdir, O_EXCL
 *	create, write, stat, readdir, rename, unlink and rmdir are made in DIR
 *	for SECONDS; every result is checked. Prints "storm ok"; the numbers of
 *	rounds and signals go to stderr.
 *   sigcalls held VENUS_PID PATH restart|eintr
 *	Stops venus, makes mkdir(PATH) while a thread sends it SIGUSR1 (with
 *	or without SA_RESTART) and then continues venus. Prints what mkdir
 *	returned: "mkdir 0" (made once, restarted) or "mkdir EINTR".
 *   sigcalls excl VENUS_PID PATH
 *	The same with open(PATH, O_CREAT|O_EXCL|O_WRONLY) under SA_RESTART: the
 *	restarted create must open the file it made, not fail with EEXIST.
 *   sigcalls sigint VENUS_PID PATH
 *	Opens PATH for writing once (so that only the open upcall is left to
 *	make), stops venus, and opens PATH for writing again while a thread
 *	sends SIGINT (caught, SA_RESTART) and continues venus 300 ms later: the
 *	open must fail with EINTR before venus goes on, as the kernel's Coda
 *	module ends an upcall on SIGINT and never restarts it. Then PATH is
 *	written again ("written after\n") by a fresh open. Prints "open EINTR".
 *   sigcalls killed VENUS_PID PATH
 *	Stops venus; a child makes mkdir(PATH), held, and is sent SIGTERM
 *	(default action): it must be gone within 500 ms, venus still stopped.
 *	100 ms later venus is continued. Prints "killed in time".
 *   sigcalls unblocked VENUS_PID CODA_FILE HOST_FILE
 *	Stops venus; one thread opens CODA_FILE (held); meanwhile the main
 *	thread stats HOST_FILE and CODA_FILE (cached by an earlier stat), each
 *	within 100 ms; then venus is continued and the open completes.
 *   sigcalls masked PATH
 *	A SIGUSR1 handler stats PATH. SIGUSR1, blocked otherwise, comes during
 *	sigsuspend, ppoll, pselect and epoll_pwait, each waiting under a mask
 *	that blocks every other signal, SIGSYS too. Prints "masked waits: 4
 *	stats" (a first stage that let such a mask block SIGSYS gets the
 *	program killed by its handler's stat).
 *   sigcalls owntrap handler|default
 *	Installs a filter of its own that makes call 1000 (no kernel's) a
 *	SIGSYS (SECCOMP_RET_TRAP, data 0x77), with a SIGSYS handler or none,
 *	and makes it. With the handler, prints "own trap: handler ran once";
 *	without, the program dies of SIGSYS, as the kernel has it.
 *
 * Exit status 0 when every check held, 1 otherwise (the reason on stderr). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

static void catch (int sig, int flags)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = flags};

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) < 0) {
		perror("sigaction");
		exit(1);
	}
}

static void fail(const char *what, const char *path, long got)
{
	fprintf(stderr, "sigcalls: %s %s: got %ld (%s)\n", what, path, got, strerror(errno));
	exit(1);
}

static void expect(long got, long want, const char *what, const char *path)
{
	if (got != want)
		fail(what, path, got);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		fail("opendir", dir, -1);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void storm_round(const char *dir, int i)
{
	char sub[4096], a[4200], b[4200];
	struct stat st;
	int fd;

	snprintf(sub, sizeof(sub), "%s/r%d", dir, i);
	snprintf(a, sizeof(a), "%s/a", sub);
	snprintf(b, sizeof(b), "%s/b", sub);
	expect(mkdir(sub, 0755), 0, "mkdir", sub);
	fd = open(a, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd < 0)
		fail("create", a, fd);
	expect(write(fd, sub, strlen(sub)), (long)strlen(sub), "write", a);
	expect(close(fd), 0, "close", a);
	expect(stat(a, &st), 0, "stat", a);
	expect(st.st_size, (long)strlen(sub), "size of", a);
	expect(count_entries(sub), 1, "entries of", sub);
	expect(rename(a, b), 0, "rename", a);
	expect(access(a, F_OK), -1, "access of renamed", a);
	expect(unlink(b), 0, "unlink", b);
	expect(rmdir(sub), 0, "rmdir", sub);
}

static long elapsed_ms(const struct timespec *t0);

static int storm(const char *dir, int seconds)
{
	struct itimerval every_ms = {{0, 1000}, {0, 1000}};
	struct timespec t0;
	int rounds = 0;

	catch (SIGALRM, SA_RESTART);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (setitimer(ITIMER_REAL, &every_ms, NULL) < 0)
		fail("setitimer", dir, -1);
	while (elapsed_ms(&t0) < seconds * 1000L)
		storm_round(dir, rounds++);
	setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);
	printf("storm ok\n");
	fprintf(stderr, "sigcalls: %d rounds, %d signals\n", rounds, (int)signals_seen);
	return 0;
}

struct poke {
	pthread_t target;
	pid_t venus;
	int sig; /* 0: SIGUSR1 */
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Signals the held thread, then lets venus go on. */
static void *poke_then_continue(void *arg)
{
	struct poke *p = arg;

	sleep_ms(300);
	pthread_kill(p->target, p->sig ? p->sig : SIGUSR1);
	sleep_ms(300);
	kill(p->venus, SIGCONT);
	return NULL;
}

static void stop_venus_and_poke(struct poke *p, pthread_t *th)
{
	p->target = pthread_self();
	if (kill(p->venus, SIGSTOP) < 0)
		fail("kill -STOP", "venus", -1);
	if (pthread_create(th, NULL, poke_then_continue, p))
		fail("pthread_create", "", -1);
}

static int held(pid_t venus, const char *path, int restart)
{
	struct poke p = {.venus = venus};
	pthread_t th;
	int rc, err;

	catch (SIGUSR1, restart ? SA_RESTART : 0);
	stop_venus_and_poke(&p, &th);
	rc = mkdir(path, 0755);
	err = errno;
	pthread_join(th, NULL);
	if (!signals_seen)
		fail("no signal arrived during mkdir of", path, rc);
	if (rc == 0)
		printf("mkdir 0\n");
	else
		printf("mkdir %s\n", err == EINTR ? "EINTR" : strerror(err));
	return 0;
}

static int sigint(pid_t venus, const char *path)
{
	struct poke p = {.venus = venus, .sig = SIGINT};
	struct timespec t0;
	struct stat st;
	pthread_t th;
	int fd, err;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		fail("open", path, fd);
	expect(close(fd), 0, "close", path);
	expect(stat(path, &st), 0, "stat (waits for the store)", path);
	expect(access(path, W_OK), 0, "access (cached for the open)", path);
	catch (SIGINT, SA_RESTART);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop_venus_and_poke(&p, &th);
	fd = open(path, O_WRONLY);
	err = errno;
	if (fd >= 0 || err != EINTR)
		fail("open during SIGINT did not fail with EINTR:", path, fd);
	if (elapsed_ms(&t0) >= 550)
		fail("open waited for venus despite SIGINT:", path, elapsed_ms(&t0));
	pthread_join(th, NULL);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		fail("open after the interrupted one", path, fd);
	expect(write(fd, "written after\n", 14), 14, "write", path);
	expect(close(fd), 0, "close", path);
	printf("open EINTR\n");
	return 0;
}

static int excl(pid_t venus, const char *path)
{
	struct poke p = {.venus = venus};
	pthread_t th;
	struct stat st;
	int fd;

	catch (SIGUSR1, SA_RESTART);
	stop_venus_and_poke(&p, &th);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	pthread_join(th, NULL);
	if (fd < 0)
		fail("restarted O_EXCL create", path, fd);
	expect(write(fd, "made once\n", 10), 10, "write", path);
	expect(close(fd), 0, "close", path);
	expect(stat(path, &st), 0, "stat", path);
	printf("create ok, %ld bytes, %d signal\n", (long)st.st_size, (int)signals_seen);
	return 0;
}

static int killed(pid_t venus, const char *path)
{
	struct timespec t0;
	int status;
	pid_t child;

	if (kill(venus, SIGSTOP) < 0)
		fail("kill -STOP", "venus", -1);
	child = fork();
	if (child == 0)
		_exit(mkdir(path, 0755) < 0 ? 3 : 4);
	sleep_ms(200);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kill(child, SIGTERM);
	waitpid(child, &status, 0);
	sleep_ms(100); /* for coda-exec to see the call given up */
	kill(venus, SIGCONT);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		fail("the held child was not killed by SIGTERM:", path, status);
	if (elapsed_ms(&t0) > 600)
		fail("the held child took too long to die:", path, elapsed_ms(&t0));
	printf("killed in time\n");
	return 0;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void *open_held(void *arg)
{
	int fd = open(arg, O_RDONLY);

	if (fd >= 0)
		close(fd);
	return (void *)(long)(fd >= 0 ? 0 : errno);
}

/* Each stat must come back in time though another thread's call is held. */
static void stat_within(const char *path, int ms)
{
	struct timespec t0;
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect(stat(path, &st), 0, "stat", path);
	if (elapsed_ms(&t0) > ms)
		fail("stat took too long:", path, elapsed_ms(&t0));
}

static int unblocked(pid_t venus, const char *coda_file, const char *host_file)
{
	struct stat st;
	pthread_t th;
	void *res;

	expect(stat(coda_file, &st), 0, "stat", coda_file);
	if (kill(venus, SIGSTOP) < 0)
		fail("kill -STOP", "venus", -1);
	if (pthread_create(&th, NULL, open_held, (void *)coda_file))
		fail("pthread_create", "", -1);
	sleep_ms(100);
	stat_within(host_file, 100);
	stat_within(coda_file, 100);
	kill(venus, SIGCONT);
	pthread_join(th, &res);
	expect((long)res, 0, "held open of", coda_file);
	printf("unblocked ok\n");
	return 0;
}

static const char *masked_path;
static volatile sig_atomic_t masked_stats;

static void stat_on_usr1(int sig)
{
	struct stat st;

	(void)sig;
	if (stat(masked_path, &st) == 0)
		masked_stats++;
}

static void *send_usr1(void *arg)
{
	(void)arg;
	sleep_ms(20);
	kill(getpid(), SIGUSR1);
	return NULL;
}

/* Wait number i of the four, under mask, until SIGUSR1 ends it. */
static void masked_wait(int i, const sigset_t *mask)
{
	struct timespec five = {5, 0};
	struct epoll_event ev;
	int ep;

	switch (i) {
	case 0:
		sigsuspend(mask);
		break;
	case 1:
		ppoll(NULL, 0, &five, mask);
		break;
	case 2:
		pselect(0, NULL, NULL, NULL, &five, mask);
		break;
	default:
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0)
			fail("epoll_create1", "", -1);
		epoll_pwait(ep, &ev, 1, 5000, mask);
		close(ep);
	}
}

static int masked(const char *path)
{
	struct sigaction sa = {.sa_handler = stat_on_usr1};
	sigset_t usr1, mask;

	masked_path = path;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sigfillset(&mask);
	sigdelset(&mask, SIGUSR1);
	for (int i = 0; i < 4; i++) {
		pthread_t th;

		if (pthread_create(&th, NULL, send_usr1, NULL))
			fail("pthread_create", "", -1);
		masked_wait(i, &mask);
		pthread_join(th, NULL);
	}
	printf("masked waits: %d stats\n", (int)masked_stats);
	return masked_stats == 4 ? 0 : 1;
}

/* A call number no kernel has, which no runtime (a sanitizer's) makes
 * behind the test's back: a SIGSYS of the test's own filter is its. */
#define NO_SUCH_CALL 1000

static volatile sig_atomic_t own_traps;

static void own_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_errno == 0x77 && si->si_syscall == NO_SUCH_CALL)
		own_traps++;
}

/* A filter of the program's own: NO_SUCH_CALL is a SIGSYS with data 0x77. */
static void trap_no_such_call(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NO_SUCH_CALL, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 0x77),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		fail("seccomp", "", -1);
}

static int owntrap(bool handler)
{
	struct sigaction sa = {.sa_sigaction = own_trap, .sa_flags = SA_SIGINFO};

	if (handler && sigaction(SIGSYS, &sa, NULL) < 0)
		fail("sigaction", "", -1);
	trap_no_such_call();
	syscall(NO_SUCH_CALL);
	printf("own trap: handler %s\n", own_traps == 1 ? "ran once" : "did not run once");
	return own_traps == 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "storm"))
		return storm(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "held"))
		return held(atoi(argv[2]), argv[3], !strcmp(argv[4], "restart"));
	if (argc == 4 && !strcmp(argv[1], "sigint"))
		return sigint(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "excl"))
		return excl(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "killed"))
		return killed(atoi(argv[2]), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "unblocked"))
		return unblocked(atoi(argv[2]), argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "masked"))
		return masked(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "owntrap"))
		return owntrap(!strcmp(argv[2], "handler"));
	fprintf(stderr,
		"usage: sigcalls storm DIR ROUNDS | held VENUS PATH restart|eintr |"
		" sigint VENUS PATH | excl VENUS PATH | unblocked VENUS CODA_FILE HOST_FILE |"
		" masked PATH | owntrap handler|default\n");
	return 2;
}
