/* The handlers of the trapped calls, grouped by file; filters/trapped_calls.def
 * says which call goes to which (syscalls.c dispatches). */
#ifndef CODA_HANDLERS_H
#define CODA_HANDLERS_H

/* One case of a dispatch made from a list of trapped calls (a .def file of
 * filters/): a call listed twice is a duplicate case, a call without a
 * handler an undeclared one, and neither builds. */
#define DISPATCH_CASE(name, handler)                                                               \
	case SYS_##name:                                                                           \
		handler(c);                                                                        \
		return;

struct call;

/* Handlers, grouped by file. */
void sys_open(struct call *c);
void sys_openat(struct call *c);
void sys_openat2(struct call *c);
void sys_creat(struct call *c);

void sys_stat(struct call *c);
void sys_lstat(struct call *c);
void sys_newfstatat(struct call *c);
void sys_statx(struct call *c);
void sys_fstat(struct call *c);
void sys_statfs(struct call *c);
void sys_fstatfs(struct call *c);

void sys_access(struct call *c);
void sys_faccessat(struct call *c);
void sys_faccessat2(struct call *c);
void sys_readlink(struct call *c);
void sys_readlinkat(struct call *c);
void sys_getxattr(struct call *c);
void sys_listxattr(struct call *c);
void sys_unsupported_on_coda(struct call *c);

void sys_chdir(struct call *c);
void sys_fchdir(struct call *c);
void sys_getcwd(struct call *c);

void sys_getdents64(struct call *c);
void sys_getdents(struct call *c);

void sys_dup(struct call *c);
void sys_fcntl_dup(struct call *c);
void sys_close(struct call *c);
void sys_close_range(struct call *c);

void sys_fork(struct call *c);
void sys_unshare(struct call *c);

void sys_execve(struct call *c);
void sys_execveat(struct call *c);
void sys_setcred(struct call *c);

void sys_mkdir(struct call *c);
void sys_mknod(struct call *c);
void sys_symlink(struct call *c);
void sys_unlink(struct call *c);
void sys_rename(struct call *c);
void sys_link(struct call *c);

void sys_chmod(struct call *c);
void sys_chown(struct call *c);
void sys_truncate(struct call *c);
void sys_utimes(struct call *c);
void sys_fsync(struct call *c);

void sys_ioctl(struct call *c);
void sys_setxattr(struct call *c);

void sys_socket_path(struct call *c);
void sys_recvmsg(struct call *c);
void sys_sendmsg(struct call *c);
void sys_sendmmsg(struct call *c);

#endif
