/*
 * tree_probe SCENARIO DIR: one process-tree scenario of issue 5 run in DIR
 * (/coda under coda-exec, a plain directory natively), printing what it
 * sees.  The e2e-tree suite runs it both ways and compares the outputs, so
 * everything printed must be the same on any file system: no fd numbers, no
 * inode numbers, no readdir order (names are sorted), only paths (the plain
 * dir is mapped to /coda) and yes/no answers.
 *
 * DIR must hold a/f ("alpha\n"), a/g ("gamma-data\n"), a/sub/h ("hotel\n"),
 * b/f ("bravo\n") and b/sub/h ("b-hotel\n") (tree.sh makes them).  Scenarios: fork_cwd vfork_cwd
 * clone_fs clone_nofs spawn_cwd thread_cwd unshare_fs_files scm_rights recv_waits
 * dup_family dir_pos open_flags.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *base;

static void die(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(1);
}

static void in(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	if (chdir(path) < 0)
		die(path);
}

/* The cwd as getcwd says, and the first line of a file named relative to it. */
static void where(const char *who, const char *rel)
{
	char cwd[PATH_MAX], line[64] = "";
	FILE *f;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "(getcwd: %s)", strerror(errno));
	f = fopen(rel, "re");
	if (!f)
		snprintf(line, sizeof(line), "(%s)\n", strerror(errno));
	else if (!fgets(line, sizeof(line), f))
		snprintf(line, sizeof(line), "(empty)\n");
	if (f)
		fclose(f);
	printf("%s: cwd %s, %s: %s", who, cwd, rel, line);
	fflush(stdout);
}

static void wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, __WALL) != pid)
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		printf("child failed: status %#x\n", st);
}

static void pipe_or_die(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe");
}

static void signal_pipe(int fd)
{
	if (write(fd, "x", 1) != 1)
		die("write pipe");
}

static void await_pipe(int fd)
{
	char ch;

	if (read(fd, &ch, 1) != 1)
		die("read pipe");
}

/* fork, with the child held until the parent writes to go[1]: its pid in
 * the parent, 0 in the child once let go. */
static pid_t fork_held(int go[2])
{
	pid_t pid;

	pipe_or_die(go);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		await_pipe(go[0]);
	return pid;
}

/* fork copies the cwd as it is at the fork: the parent moving before the
 * child's first call must not move the child, nor the child the parent. */
static void fork_cwd(void)
{
	int go[2];
	pid_t pid;

	in("a");
	pid = fork_held(go);
	if (pid == 0) {
		where("child", "f");
		if (chdir("sub") < 0)
			die("chdir sub");
		where("child after chdir sub", "h");
		_exit(0);
	}
	in("b");
	signal_pipe(go[1]);
	wait_child(pid);
	where("parent", "../a/f");
}

static void vfork_cwd(void)
{
	char cwd[PATH_MAX];
	pid_t pid;

	in("a");
	pid = vfork();
	if (pid < 0)
		die("vfork");
	if (pid == 0) {
		if (chdir("sub") < 0 || !getcwd(cwd, sizeof(cwd)))
			_exit(2);
		if (write(1, "vfork child in ", 15) < 0 || write(1, cwd, strlen(cwd)) < 0 ||
		    write(1, "\n", 1) < 0)
			_exit(3);
		_exit(0);
	}
	wait_child(pid);
	where("parent", "f");
}

struct clone_arg {
	int go, done;
};

static int clone_child(void *p)
{
	struct clone_arg *arg = p;

	await_pipe(arg->go);
	where("clone child", "f");
	if (chdir("sub") < 0)
		die("chdir sub");
	where("clone child after chdir sub", "h");
	signal_pipe(arg->done);
	await_pipe(arg->go);
	where("clone child after parent's chdir", "f");
	return 0;
}

/* A child of clone(flags): the parent moves to b before the child's first
 * call, the child moves to a/sub, then the parent back to a. */
static void clone_cwd(int flags)
{
	static char stack[256 * 1024] __attribute__((aligned(16)));
	int go[2], done[2];
	struct clone_arg arg;
	pid_t pid;

	in("a");
	pipe_or_die(go);
	pipe_or_die(done);
	arg.go = go[0];
	arg.done = done[1];
	pid = clone(clone_child, stack + sizeof(stack), flags | SIGCHLD, &arg);
	if (pid < 0)
		die("clone");
	/* Our copies of the child's ends: a child that dies unblocks us. */
	close(go[0]);
	close(done[1]);
	in("b");
	signal_pipe(go[1]);
	await_pipe(done[0]);
	where("parent after child's chdir", "f");
	in("a");
	signal_pipe(go[1]);
	wait_child(pid);
	where("parent", "f");
}

static void spawn(const char *const argv[], posix_spawn_file_actions_t *fa)
{
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], fa, NULL, (char *const *)argv, environ);

	if (rc) {
		errno = rc;
		die("posix_spawn");
	}
	wait_child(pid);
}

static void spawn_cwd(void)
{
	static const char *const pwd[] = {"/bin/pwd", NULL};
	static const char *const cat[] = {"/bin/cat", "h", NULL};
	posix_spawn_file_actions_t fa;

	in("a");
	spawn(pwd, NULL);
	if (posix_spawn_file_actions_init(&fa) || posix_spawn_file_actions_addchdir_np(&fa, "sub"))
		die("file actions");
	spawn(pwd, &fa);
	spawn(cat, &fa);
	posix_spawn_file_actions_destroy(&fa);
	where("parent", "f");
}

static void *thread_chdir(void *unused)
{
	(void)unused;
	where("thread", "f");
	if (chdir("sub") < 0)
		die("chdir sub");
	where("thread after chdir sub", "h");
	return NULL;
}

/* Threads share one cwd (CLONE_FS): a thread's chdir moves the process. */
static void describe(const char *who, int fd, const char *rel);

/* A thread that unshares its cwd (CLONE_FS) moves alone; one that unshares
 * its fd table (CLONE_FILES) closes a /coda fd for itself only. (Docker's
 * default seccomp profile denies unshare to a container: said, for both
 * runs alike.) */
static void *unshare_and_move(void *arg)
{
	int *fd = arg;

	if (unshare(CLONE_FS | CLONE_FILES) < 0) {
		printf("unshared thread: unshare: %s\n", strerror(errno));
		return NULL;
	}
	in("b/sub");
	where("unshared thread", "h");
	if (close(*fd) < 0)
		die("close in the unshared thread");
	return NULL;
}

static void unshare_fs_files(void)
{
	pthread_t t;
	int fd;

	in("a");
	fd = open("g", O_RDONLY);
	if (fd < 0)
		die("open g");
	if (pthread_create(&t, NULL, unshare_and_move, &fd))
		die("pthread_create");
	pthread_join(t, NULL);
	where("main", "f");
	describe("main's fd after the thread closed its copy", fd, "g");
}

static void thread_cwd(void)
{
	pthread_t t[4];

	in("a");
	for (int i = 0; i < 4; i++) {
		if (pthread_create(&t[i], NULL, thread_chdir, NULL))
			die("pthread_create");
		pthread_join(t[i], NULL);
		where("main", i == 3 ? "h" : "../f");
		in("a");
	}
}

/* What a /coda fd looks like: the object's stat (against stat of its
 * path), its contents from offset 0 and its flags. */
static void describe(const char *who, int fd, const char *rel)
{
	struct stat fst, pst;
	char buf[64];
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	if (fstat(fd, &fst) < 0 || stat(rel, &pst) < 0)
		die("stat");
	printf("%s: %s, size %lld, mode %o, same object as %s: %s, same times: %s, accmode %d, "
	       "append %s, nonblock %s, cloexec %s\n",
	       who,
	       S_ISDIR(fst.st_mode)   ? "dir"
	       : S_ISREG(fst.st_mode) ? "file"
				      : "other",
	       S_ISDIR(fst.st_mode) ? 0LL : (long long)fst.st_size, fst.st_mode & 07777, rel,
	       fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino ? "yes" : "no",
	       fst.st_mtim.tv_sec == pst.st_mtim.tv_sec && fst.st_ctim.tv_sec == pst.st_ctim.tv_sec
		   ? "yes"
		   : "no",
	       fl & O_ACCMODE, fl & O_APPEND ? "yes" : "no", fl & O_NONBLOCK ? "yes" : "no",
	       fcntl(fd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
	if (S_ISREG(fst.st_mode)) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n < 0 ? 0 : n] = '\0';
		printf("%s: reads %s", who, n < 0 ? strerror(errno) : buf);
	}
	fflush(stdout);
}

static void send_fd(int sock, int fd)
{
	char data = 'F', cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {&data, 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char data, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&data, 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		die("recvmsg");
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		die("no SCM_RIGHTS");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Sends a new open file of g over sock, then waits for the receiver. */
static void send_g_and_wait(int sock, pid_t pid)
{
	int file = open("g", O_RDONLY);

	if (file < 0)
		die("open g");
	send_fd(sock, file);
	close(file);
	wait_child(pid);
}

static int rest(DIR *d, const char *who);

/* What a receiver can do with a directory fd passed to it: fstat, list it,
 * fchdir to it and open relative to it. */
static void use_received_dir(int dir)
{
	DIR *d = fdopendir(dup(dir));

	describe("receiver dir", dir, "sub");
	if (!d)
		die("fdopendir");
	rest(d, "receiver dir");
	closedir(d);
	if (fchdir(dir) < 0)
		die("fchdir to the received dir");
	where("receiver after fchdir", "h");
}

/* /coda fds passed to another process over a Unix socket: the receiver
 * reads a file through the sender's open file (offset and flags shared),
 * fstats it as the object it is, and uses a directory fd as a directory. */
static void scm_rights(void)
{
	char head[4] = "", rest_of[64] = "";
	int sv[2], file, dir;
	ssize_t n;
	pid_t pid;

	in("a");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		file = recv_fd(sv[1]);
		n = read(file, rest_of, sizeof(rest_of) - 1);
		rest_of[n < 0 ? 0 : n] = '\0';
		printf("receiver goes on with: %s", rest_of);
		describe("receiver", file, "g");
		printf("receiver: size %lld\n", (long long)lseek(file, 0, SEEK_END));
		use_received_dir(recv_fd(sv[1]));
		_exit(0);
	}
	file = open("g", O_RDONLY | O_NONBLOCK);
	dir = open("sub", O_RDONLY | O_DIRECTORY);
	if (file < 0 || dir < 0 || read(file, head, 3) != 3)
		die("open g and sub");
	printf("sender read %.3s\n", head);
	send_fd(sv[0], file);
	send_fd(sv[0], dir);
	close(file);
	close(dir);
	wait_child(pid);
}

/* A child keeps the /coda fds it had at the fork when its parent closes
 * them before the child has made any call: a file it fstats and reads, a
 * directory it lists and enters. */
static void fork_then_close(void)
{
	int go[2], file, dir;
	pid_t pid;

	in("a");
	file = open("g", O_RDONLY);
	dir = open("sub", O_RDONLY | O_DIRECTORY);
	if (file < 0 || dir < 0)
		die("open g and sub");
	pid = fork_held(go);
	if (pid == 0) {
		describe("child's file after the parent closed it", file, "g");
		use_received_dir(dir);
		_exit(0);
	}
	close(file);
	close(dir);
	signal_pipe(go[1]);
	wait_child(pid);
}

static void on_sigchld(int sig)
{
	(void)sig;
}

/* fork never fails with EINTR, whatever signal comes while it runs: 2,000
 * forks while the children's SIGCHLDs come, to a handler without SA_RESTART
 * (as dash's is), each child gone at once. */
static void forks_under_sigchld(void)
{
	struct sigaction sa = {.sa_handler = on_sigchld};
	int failed = 0, eintr = 0;

	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		die("sigaction");
	for (int i = 0; i < 2000; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			failed++;
			eintr += errno == EINTR;
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	while (wait(NULL) > 0)
		;
	printf("forks failed: %d, with EINTR: %d\n", failed, eintr);
}

/* The first /coda fd sent in a session, to a receiver that has only just
 * gone into its recvmsg: the sender sends as soon as the receiver says it
 * is about to wait, so that under a container profile the receiver is often
 * still on its way into the kernel's wait when the send is seen. */
static void first_send(void)
{
	int sv[2], ready[2];
	char byte;
	pid_t pid;

	in("a");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(ready) < 0)
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (write(ready[1], "r", 1) != 1)
			die("write");
		describe("receiver", recv_fd(sv[1]), "g");
		_exit(0);
	}
	if (read(ready[0], &byte, 1) != 1)
		die("read");
	send_g_and_wait(sv[0], pid);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* One recvmsg for an fd: what ended it. */
static const char *try_recv(int sock)
{
	static char got[80];
	char data, cbuf[CMSG_SPACE(sizeof(int))], text[16] = "";
	struct iovec iov = {&data, 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(sock, &msg, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int fd;

	if (n < 0)
		return errno == EINTR ? "EINTR" : errno == EAGAIN ? "EAGAIN" : strerror(errno);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return "no fd";
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (pread(fd, text, sizeof(text) - 1, 0) < 0)
		return "unreadable fd";
	snprintf(got, sizeof(got), "%zd byte and an fd that reads %s", n, text);
	return got;
}

/* A receiver waiting in recvmsg for an fd, and what ends its wait: a signal
 * whose handler lacks SA_RESTART (EINTR), one with SA_RESTART (the wait goes
 * on until the fd comes), SO_RCVTIMEO (EAGAIN). */
static void recv_waits(void)
{
	struct timespec gap = {0, 300000000};
	int sv[2];
	pid_t pid;

	in("a");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_usr1};
		struct timeval tv = {0, 200000};

		sigaction(SIGUSR1, &sa, NULL);
		printf("receiver without SA_RESTART: %s\n", try_recv(sv[1]));
		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
		printf("receiver with SA_RESTART: %s", try_recv(sv[1]));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		printf("receiver with SO_RCVTIMEO: %s\n", try_recv(sv[1]));
		_exit(0);
	}
	nanosleep(&gap, NULL);
	kill(pid, SIGUSR1);
	nanosleep(&gap, NULL);
	kill(pid, SIGUSR1);
	nanosleep(&gap, NULL);
	send_g_and_wait(sv[0], pid);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* One thread's share of scm_under_timer: how many fds it got back that were
 * not g as the object it is. */
static void *pass_to_self(void *arg)
{
	struct stat want, got;
	long wrong = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0 || stat("g", &want) < 0)
		die("socketpair");
	for (int i = 0; i < 1000; i++) {
		int file = open("g", O_RDONLY), back;
		char c;

		if (file < 0)
			die("open g");
		send_fd(sv[0], file);
		back = recv_fd(sv[1]);
		if (fstat(back, &got) < 0 || got.st_ino != want.st_ino ||
		    (got.st_mode & 07777) != (want.st_mode & 07777) || pread(back, &c, 1, 0) != 1)
			wrong++;
		close(back);
		close(file);
	}
	close(sv[0]);
	close(sv[1]);
	*(long *)arg = wrong;
	return NULL;
}

/* Two threads each pass a /coda fd to themselves 1,000 times while a 1 ms
 * timer interrupts them (SA_RESTART): every fd comes back as the object it
 * is, whenever the signals land. */
static void scm_under_timer(void)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval every_ms = {{0, 1000}, {0, 1000}}, off = {0};
	long wrong[2] = {0, 0};
	pthread_t t;

	in("a");
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every_ms, NULL);
	if (pthread_create(&t, NULL, pass_to_self, &wrong[1]))
		die("pthread_create");
	pass_to_self(&wrong[0]);
	pthread_join(t, NULL);
	setitimer(ITIMER_REAL, &off, NULL);
	printf("2 x 1000 fds passed under a 1 ms timer, not the object they are: %ld\n",
	       wrong[0] + wrong[1]);
}

static void check_shared_offset(const char *who, int a, int b)
{
	char x[4] = "", y[4] = "";

	if (lseek(a, 0, SEEK_SET) < 0 || read(a, x, 3) != 3 || read(b, y, 3) != 3)
		die("read");
	printf("%s: first read %.3s, the copy goes on with %.3s, offset %lld\n", who, x, y,
	       (long long)lseek(a, 0, SEEK_CUR));
}

/* Every way of copying an fd gives the same open file of the same object. */
static void dup_family(void)
{
	int fd, d[5];
	pid_t pid;

	in("a");
	fd = open("g", O_RDONLY);
	if (fd < 0)
		die("open");
	d[0] = dup(fd);
	d[1] = dup2(fd, 900);
	d[2] = dup3(fd, 901, O_CLOEXEC);
	d[3] = fcntl(fd, F_DUPFD, 10);
	d[4] = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < 5; i++) {
		char who[32];

		if (d[i] < 0)
			die("dup");
		snprintf(who, sizeof(who), "copy %d", i);
		describe(who, d[i], "g");
		check_shared_offset(who, fd, d[i]);
	}
	printf("dup2 onto itself: %d, dup3 onto itself: %s\n", dup2(d[1], d[1]) == d[1],
	       dup3(d[1], d[1], 0) < 0 ? strerror(errno) : "works");
	for (int i = 0; i < 5; i++)
		close(d[i]);
	describe("original after closing the copies", fd, "g");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		describe("in a forked child", fd, "g");
		d[0] = dup(fd);
		describe("dup in a forked child", d[0], "g");
		_exit(0);
	}
	wait_child(pid);
	close(fd);
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names left in a directory stream, sorted, in one line. */
static int rest(DIR *d, const char *who)
{
	char *names[64];
	struct dirent *e;
	int n = 0;

	while (n < 64 && (e = readdir(d)))
		names[n++] = strdup(e->d_name);
	qsort(names, (size_t)n, sizeof(names[0]), names_cmp);
	printf("%s: %d names:", who, n);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
	fflush(stdout);
	return n;
}

/* A directory fd's position is its open file's: shared across fork, set by
 * lseek, rewinddir and seekdir. */
static void dir_pos(void)
{
	DIR *d;
	long pos;
	char first[NAME_MAX + 1];
	struct dirent *e;
	pid_t pid;

	in("a");
	d = opendir(".");
	if (!d)
		die("opendir");
	rest(d, "all");
	rewinddir(d);
	if (!readdir(d) || !readdir(d))
		die("readdir");
	pos = telldir(d);
	e = readdir(d);
	if (!e)
		die("readdir");
	snprintf(first, sizeof(first), "%s", e->d_name);
	seekdir(d, pos);
	e = readdir(d);
	printf("seekdir to telldir gives the same name again: %s\n",
	       e && !strcmp(e->d_name, first) ? "yes" : "no");
	seekdir(d, pos);
	/* The child reads through the shared file; the parent's stream then
	 * has only what its buffer held. Bypass the buffer: lseek and getdents
	 * on the fd itself. */
	if (lseek(dirfd(d), 0, SEEK_SET) < 0)
		die("lseek");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		DIR *c = fdopendir(dup(dirfd(d)));
		int n = c ? rest(c, "child reads from the start") : -1;

		_exit(n > 0 ? 0 : 1);
	}
	wait_child(pid);
	{
		char buf[4096];
		long n = syscall(SYS_getdents64, dirfd(d), buf, sizeof(buf));

		printf("parent's getdents after the child read to the end: %ld\n", n);
	}
	rewinddir(d);
	rest(d, "after rewinddir");
	closedir(d);
}

/* Open flags act and show as on a kernel file, across fork too. */
static void open_flags(void)
{
	int fd, dir;
	pid_t pid;

	in("a");
	fd = open("g", O_WRONLY | O_APPEND);
	dir = open("sub", O_RDONLY | O_DIRECTORY | O_NONBLOCK);
	if (fd < 0 || dir < 0)
		die("open");
	describe("append file", fd, "g");
	describe("nonblock dir", dir, "sub");
	if (write(fd, "more\n", 5) != 5)
		die("write");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (fcntl(fd, F_SETFL, 0) < 0 || fcntl(dir, F_SETFL, 0) < 0)
			die("F_SETFL");
		_exit(0);
	}
	wait_child(pid);
	describe("append file after the child cleared its flags", fd, "g");
	describe("dir after the child cleared its flags", dir, "sub");
	if (fcntl(dir, F_SETFL, O_NONBLOCK) < 0)
		die("F_SETFL");
	describe("dir with O_NONBLOCK set again", dir, "sub");
	close(fd);
	close(dir);
	fd = open("g", O_RDONLY);
	if (fd < 0)
		die("open");
	describe("g after the write", fd, "g");
	close(fd);
}

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
    {"fork_cwd", fork_cwd},
    {"vfork_cwd", vfork_cwd},
    {"spawn_cwd", spawn_cwd},
    {"thread_cwd", thread_cwd},
    {"scm_rights", scm_rights},
    {"dup_family", dup_family},
    {"dir_pos", dir_pos},
    {"open_flags", open_flags},
    {"recv_waits", recv_waits},
    {"unshare_fs_files", unshare_fs_files},
    {"scm_under_timer", scm_under_timer},
    {"first_send", first_send},
    {"fork_then_close", fork_then_close},
    {"forks_under_sigchld", forks_under_sigchld},
};

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: tree_probe SCENARIO DIR\n");
		return 2;
	}
	base = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "clone_fs")) {
		clone_cwd(CLONE_FS);
		return 0;
	}
	if (!strcmp(argv[1], "clone_nofs")) {
		clone_cwd(0);
		return 0;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (!strcmp(argv[1], scenarios[i].name)) {
			scenarios[i].fn();
			return 0;
		}
	}
	fprintf(stderr, "tree_probe: no scenario %s\n", argv[1]);
	return 2;
}
