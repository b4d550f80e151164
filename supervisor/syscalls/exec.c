#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coda/coda.h"
#include "vfs.h"
#include "exec.h"
#include "fdtable.h"
#include "host.h"
#include "trap/trap.h"
#include "syscalls.h"
#include "stage_answers.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define BINPRM_BUF_SIZE 256	    /* what the kernel reads of a program's head */
#define MAX_DEPTH	5	    /* exec_binprm(): nested interpreters */
#define MAX_ARG_STRLEN	(32 * 4096) /* the kernel's limit on one string */
#define MAX_ARG_BYTES	(2 << 20)   /* a quarter of the usual 8 MiB stack */
#define SCRATCH_BELOW	4096	    /* well past the red zone below the target's sp */

/* Strings one after the other, each with its NUL. */
struct strv {
	char *buf;
	size_t len;
	size_t n;
};

struct binprm {
	struct strv argv;	  /* what the program at the end gets */
	char file[CODA_PATH_MAX]; /* the name the current level was opened by */
	struct nameidata nd;	  /* it, resolved */
	int prog;		  /* the ELF at the end (memfd), or -1 */
	char host[CODA_PATH_MAX]; /* or the host program at the end */
	struct strv uargv, uenvp; /* as the target passed them */
};

static int strv_add(struct strv *v, const char *s, size_t len)
{
	char *buf;

	if (v->len + len + 1 > MAX_ARG_BYTES)
		return -E2BIG;
	buf = realloc(v->buf, v->len + len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf + v->len, s, len);
	buf[v->len + len] = '\0';
	v->buf = buf;
	v->len += len + 1;
	v->n++;
	return 0;
}

static int strv_copy(struct strv *to, const struct strv *from)
{
	to->buf = malloc(from->len ? from->len : 1);
	if (!to->buf)
		return -ENOMEM;
	if (from->len)
		memcpy(to->buf, from->buf, from->len);
	to->len = from->len;
	to->n = from->n;
	return 0;
}

/* argv or envp as the kernel's copy_strings reads them (NULL: none). */
static int read_uvec(struct call *c, uint64_t addr, struct strv *v, char *s)
{
	for (uint64_t i = 0; addr; i++) {
		uint64_t p;
		long n;
		int rc = call_read(c, addr + i * sizeof(p), &p, sizeof(p));

		if (rc < 0 || !p)
			return rc;
		n = call_read_string(c, p, s, MAX_ARG_STRLEN);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : (int)n;
		rc = strv_add(v, s, (size_t)n);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* binfmt_script's argv: [interp, arg, file, argv[1]...] */
static int shift_in(struct strv *argv, const char *interp, const char *arg, const char *file)
{
	struct strv nv = {0};
	size_t first = argv->n ? strlen(argv->buf) + 1 : 0;
	int rc = strv_add(&nv, interp, strlen(interp));

	if (!rc && *arg)
		rc = strv_add(&nv, arg, strlen(arg));
	if (!rc)
		rc = strv_add(&nv, file, strlen(file));
	for (size_t off = first; !rc && off < argv->len; off += strlen(argv->buf + off) + 1)
		rc = strv_add(&nv, argv->buf + off, strlen(argv->buf + off));
	free(argv->buf);
	*argv = nv;
	return rc;
}

/* The interpreter and its one argument of a "#!" line, as binfmt_script
 * splits it; -ENOEXEC when the line does not fit the head. */
static int parse_shebang(char *head, size_t n, char **interp, char **arg)
{
	char *end = memchr(head, '\n', n);
	char *p = head + 2;

	if (!end && n == BINPRM_BUF_SIZE)
		return -ENOEXEC;
	*(end ? end : head + n) = '\0';
	p += strspn(p, " \t");
	*interp = p;
	p += strcspn(p, " \t");
	if (p == *interp)
		return -ENOEXEC;
	if (*p)
		*p++ = '\0';
	p += strspn(p, " \t");
	*arg = p;
	for (end = p + strlen(p); end > p && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	return 0;
}

/* The program's container, opened as the kernel's exec opens the file: its
 * release (coda_file_put) is the CODA_CLOSE that balances the open. */
static int open_container(struct call *c, const struct nameidata *nd, struct coda_file **f,
			  int *container)
{
	int rc;

	if (nd->missing)
		return -ENOENT;
	if (nd->vtype != C_VREG)
		return -EACCES;
	rc = coda_permission(call_coda_req(c), &nd->fid, C_A_X_OK);
	if (rc < 0)
		return rc;
	/* coda_file_open takes in the stores of earlier writers first: a
	 * script just written runs whole. */
	return coda_file_open(call_coda_req(c), &nd->fid, nd->vtype, nd->path, O_RDONLY, f,
			      container);
}

/* The ELF's own copy: executable (the container is not), and named for
 * /proc/self/exe by its /coda path. */
static int copy_program(int container, const char *path)
{
	struct stat st;
	off_t off = 0;
	int fd = memfd_create(path, MFD_CLOEXEC | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(path, MFD_CLOEXEC); /* before Linux 6.3 */
	if (fd < 0 || fstat(container, &st) < 0)
		goto fail;
	while (off < st.st_size)
		if (sendfile(fd, container, &off, (size_t)(st.st_size - off)) <= 0)
			goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -errno ?: -EIO;
}

/* A host interpreter: what the helper's execve will need, checked now, while
 * the caller can still be told. */
static int check_host(struct call *c, const char *path)
{
	struct stat st;
	int rc;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (path[0] != '/')
		return 0; /* relative to the target's cwd: the kernel says */
	rc = host_creds_override(c, false);
	if (rc < 0)
		return rc;
	rc = stat(path, &st) < 0 ? -errno : 0;
	host_creds_revert(c);
	if (rc < 0)
		return rc;
	return S_ISREG(st.st_mode) && (st.st_mode & 0111) ? 0 : -EACCES;
}

/* The next level: interp, looked up as the kernel's open_exec would. */
static int next_level(struct call *c, struct binprm *b, const char *interp)
{
	int rc = vfs_lookup(c, AT_FDCWD, interp, LOOKUP_FOLLOW, &b->nd);

	if (rc < 0)
		return rc;
	snprintf(b->file, sizeof(b->file), "%s", interp);
	if (b->nd.kind == NAMEI_CODA)
		return 1;
	snprintf(b->host, sizeof(b->host), "%s", b->nd.kind == NAMEI_HOST ? b->nd.path : interp);
	return check_host(c, b->host);
}

/* One level of exec_binprm(): 1 when an interpreter follows, 0 at the end. */
static int load_level(struct call *c, struct binprm *b)
{
	char head[BINPRM_BUF_SIZE], *interp, *arg;
	struct coda_file *f;
	int container, rc = open_container(c, &b->nd, &f, &container);
	ssize_t n;

	if (rc < 0)
		return rc;
	n = pread(container, head, sizeof(head), 0);
	if (n >= 4 && !memcmp(head, "\177ELF", 4)) {
		b->prog = copy_program(container, b->nd.path);
		rc = b->prog < 0 ? b->prog : 0;
	} else if (n >= 2 && head[0] == '#' && head[1] == '!') {
		rc = parse_shebang(head, (size_t)n, &interp, &arg);
		if (!rc)
			rc = shift_in(&b->argv, interp, arg, b->file);
		if (!rc)
			rc = next_level(c, b, interp);
	} else {
		rc = n < 0 ? -errno : -ENOEXEC;
	}
	coda_file_close_src(f, container);
	coda_file_put(f);
	return rc;
}

static int load_binary(struct call *c, struct binprm *b)
{
	int rc = 1;

	for (int depth = 0; rc == 1; depth++)
		rc = depth > MAX_DEPTH ? -ELOOP : load_level(c, b);
	return rc;
}

static int target_sp(struct call *c, uint64_t *sp)
{
	long nr;
	int rc = proc_syscall((pid_t)c->n->pid, &nr, sp);

	return rc == 0 && nr == c->n->data.nr && call_valid(c) ? 0 : -ESRCH;
}

/* Marks the caller's memory, in the free stack below its sp, so that the
 * undo can tell it from the new program's; and finds whether its parent
 * shares it (vfork, posix_spawn): the mark then shows in the parent. */
static int mark_memory(struct call *c, struct exec_undo *u)
{
	pid_t ppid = proc_parent((pid_t)c->n->pid);
	uint64_t sp, seen = 0;
	struct iovec local = {&seen, sizeof(seen)}, remote;
	int rc = target_sp(c, &sp);

	if (!rc && getrandom(&u->mark, sizeof(u->mark), 0) != sizeof(u->mark))
		rc = -errno;
	u->mark_addr = (sp - SCRATCH_BELOW) & ~7ULL;
	if (!rc)
		rc = call_write(c, u->mark_addr, &u->mark, sizeof(u->mark));
	if (rc < 0 || ppid <= 1 || ppid == c->trap->self_pid)
		return rc;
	remote = (struct iovec){(void *)(uintptr_t)u->mark_addr, sizeof(seen)};
	if (process_vm_readv(ppid, &local, 1, &remote, 1, 0) == sizeof(seen) && seen == u->mark)
		u->parent = ppid;
	return 0;
}

/* Would writing the u->len bytes of the plan's name over the caller's
 * string write past its NUL? */
static bool past_nul(const struct exec_undo *u)
{
	return memchr(u->bytes, '\0', u->len - 1) != NULL;
}

/* A vfork parent shares the caller's memory and runs on as soon as the exec
 * is done, maybe before the undo: bytes past the string's NUL are its own
 * (a heap chunk's header, say). There the call is made again instead,
 * pointed at the name written below the mark (trap.h, ptrace). 0 when so
 * answered. */
static int point_elsewhere(struct call *c, int path_arg, const struct exec_undo *u)
{
	uint64_t at = (u->mark_addr - sizeof(u->written)) & ~15ULL;
	int rc = call_write(c, at, u->written, u->len);

	return rc < 0 ? rc : call_restart_with_arg(c, path_arg, at);
}

/* Points the caller's path string at the plan. "/dev/fd/N" may be longer
 * than the string: the bytes written are kept and put back once the exec is
 * past (coda_exec_undo), wherever the old memory still lives. */
static int rewrite_path(struct call *c, int path_arg, int plan)
{
	uint64_t path = call_arg(c, path_arg);
	struct exec_undo u = {0};
	char name[32];
	int rc;

	u.len = (size_t)snprintf(name, sizeof(name), "/dev/fd/%d", plan) + 1;
	rc = call_read(c, path, u.bytes, u.len);
	if (rc == -EFAULT)
		rc = -ENAMETOOLONG; /* the string ends its mapping: no room */
	if (!rc)
		rc = mark_memory(c, &u);
	memcpy(u.written, name, u.len);
	if (!rc && u.parent && past_nul(&u) && point_elsewhere(c, path_arg, &u) == 0)
		return 0;
	if (!rc)
		rc = call_write_force(c, path, name, u.len);
	if (!rc) {
		u.addr = path;
		c->proc->undo = u;
	}
	return rc;
}

/* Only if our bytes are still there: a vfork parent that ran on may have
 * freed that memory and made something new of it. */
static void undo(pid_t pid, struct exec_undo *u)
{
	unsigned char now[sizeof(u->written)];
	struct iovec local = {now, u->len};
	struct iovec remote = {(void *)(uintptr_t)u->addr, u->len};

	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)u->len &&
	    !memcmp(now, u->written, u->len))
		mem_write_force(pid, u->addr, u->bytes, u->len);
	u->len = 0;
}

void coda_exec_undo(struct call *c)
{
	struct exec_undo *u = &c->proc->undo;
	uint64_t seen = 0;

	if (!u->len)
		return;
	if (call_read(c, u->mark_addr, &seen, sizeof(seen)) == 0 && seen == u->mark)
		undo((pid_t)c->n->pid, u); /* the exec failed: its own memory */
	else if (u->parent)
		undo(u->parent, u); /* done: a vfork parent runs on with it */
	u->len = 0;
}

void coda_exec_undo_exit(struct exec_undo *u)
{
	if (u->len && u->parent)
		undo(u->parent, u);
}

static int write_plan(int plan, const struct binprm *b, int helper, int prog)
{
	FILE *f = fdopen(dup(plan), "w");
	int rc;

	if (!f)
		return -errno;
	fprintf(f, "#!/dev/fd/%d " EXEC_PLAN_OPTION "\n%d%c%s%c%zu%c", helper, prog, 0, b->host, 0,
		b->argv.n, 0);
	fwrite(b->argv.buf, 1, b->argv.len, f);
	fprintf(f, "%zu%c", b->uenvp.n, 0);
	fwrite(b->uenvp.buf, 1, b->uenvp.len, f);
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

static int plan_memfd(void)
{
	int fd = memfd_create("coda-exec exec plan", MFD_CLOEXEC | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("coda-exec exec plan", MFD_CLOEXEC); /* before Linux 6.3 */
	return fd < 0 ? -errno : fd;
}

/* Puts the plan, coda-exec and the program into the target, and points its
 * call at the plan. The plan goes in first, at the lowest free fd, for the
 * shortest "/dev/fd/N". */
static int start_plan(struct call *c, const struct binprm *b, int path_arg, long dirfd,
		      bool fd_itself)
{
	int plan = plan_memfd(), p, h, e = -1, rc;

	if (plan < 0)
		return plan;
	p = call_add_fd(c, plan, fd_itself ? (int)dirfd : -1, false);
	h = p < 0 ? p : call_add_fd(c, call_sup(c)->self_exe, -1, true);
	if (h >= 0 && b->prog >= 0)
		e = call_add_fd(c, b->prog, -1, false);
	rc = p < 0 ? p : h < 0 ? h : b->prog >= 0 && e < 0 ? e : write_plan(plan, b, h, e);
	close(plan);
	if (rc < 0 || fd_itself)
		return rc;
	return rewrite_path(c, path_arg, p);
}

static void binprm_free(struct binprm *b)
{
	if (b->prog >= 0)
		close(b->prog);
	free(b->argv.buf);
	free(b->uargv.buf);
	free(b->uenvp.buf);
	free(b);
}

/* The name a script's interpreter gets for it: the caller's own string, as
 * the kernel passes it; our absolute path where the kernel would make one
 * up from a dirfd (/dev/fd/D/name). */
static void first_name(struct call *c, struct binprm *b, uint64_t path, long dirfd, bool fd_itself)
{
	long n = fd_itself ? -1 : call_read_string(c, path, b->file, PATH_MAX);

	if (n < 0 || ((int)dirfd != AT_FDCWD && b->file[0] != '/'))
		snprintf(b->file, sizeof(b->file), "%s", b->nd.path);
}

void coda_exec(struct call *c, const struct nameidata *nd, int path_arg, long dirfd, bool fd_itself)
{
	struct binprm *b = calloc(1, sizeof(*b));
	char *s = malloc(MAX_ARG_STRLEN);
	uint64_t path = call_arg(c, path_arg);
	int rc = b && s ? 0 : -ENOMEM;

	if (b)
		b->prog = -1; /* binprm_free closes it */
	if (!rc) {
		b->nd = *nd;
		first_name(c, b, path, dirfd, fd_itself);
		rc = read_uvec(c, call_arg(c, path_arg + 1), &b->uargv, s);
	}
	if (!rc)
		rc = read_uvec(c, call_arg(c, path_arg + 2), &b->uenvp, s);
	if (!rc)
		rc = strv_copy(&b->argv, &b->uargv);
	if (!rc)
		rc = load_binary(c, b);
	if (!rc)
		rc = start_plan(c, b, path_arg, dirfd, fd_itself);
	if (!rc) {
		/* Its close-on-exec fds go if it succeeds, unseen by us. */
		if (fd_itself)
			fdtable_close(proc_files(c->proc), dirfd);
		fdtable_suspect(proc_files(c->proc), CODA_FD_BAND_LO, CODA_FD_BAND_HI - 1);
		if (!c->answered) /* else made again, pointed at the plan */
			rc = stage_seize(c, stage_cwd(c));
		if (!c->answered && rc < 0)
			call_return(c, rc);
		else if (!c->answered)
			call_continue(c);
	} else {
		call_return(c, rc);
	}
	free(s);
	if (b)
		binprm_free(b);
}
