#include <sys/syscall.h>

#include "trap/call.h"
#include "syscalls.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

typedef void (*sys_handler)(struct call *c);

struct syscall_entry {
	long nr;
	sys_handler fn;
};

/* Every call the filter traps, and who answers it. */
static const struct syscall_entry table[] = {
    {SYS_open, sys_open},
    {SYS_openat, sys_openat},
    {SYS_openat2, sys_openat2},
    {SYS_creat, sys_creat},
    {SYS_stat, sys_stat},
    {SYS_lstat, sys_lstat},
    {SYS_newfstatat, sys_newfstatat},
    {SYS_statx, sys_statx},
    {SYS_fstat, sys_fstat},
    {SYS_statfs, sys_statfs},
    {SYS_fstatfs, sys_fstatfs},
    {SYS_access, sys_access},
    {SYS_faccessat, sys_faccessat},
    {SYS_faccessat2, sys_faccessat2},
    {SYS_readlink, sys_readlink},
    {SYS_readlinkat, sys_readlinkat},
    {SYS_getxattr, sys_getxattr},
    {SYS_lgetxattr, sys_getxattr},
    {SYS_listxattr, sys_listxattr},
    {SYS_llistxattr, sys_listxattr},
    {SYS_inotify_add_watch, sys_unsupported_on_coda},
    {SYS_name_to_handle_at, sys_unsupported_on_coda},
    {SYS_fanotify_mark, sys_unsupported_on_coda},
    {SYS_chroot, sys_unsupported_on_coda},
    {SYS_chdir, sys_chdir},
    {SYS_fchdir, sys_fchdir},
    {SYS_getcwd, sys_getcwd},
    {SYS_getdents64, sys_getdents64},
    {SYS_getdents, sys_getdents},
    {SYS_read, sys_read_dir},
    {SYS_readv, sys_read_dir},
    {SYS_pread64, sys_read_dir},
    {SYS_preadv, sys_read_dir},
    {SYS_preadv2, sys_read_dir},
    {SYS_dup, sys_dup},
    {SYS_dup2, sys_dup},
    {SYS_dup3, sys_dup},
    {SYS_fcntl, sys_fcntl_dup},
    {SYS_close, sys_close},
    {SYS_close_range, sys_close_range},
    {SYS_fork, sys_fork},
    {SYS_fork, sys_fork},
    {SYS_vfork, sys_fork},
    {SYS_clone, sys_fork},
    {SYS_unshare, sys_unshare},
    {SYS_execve, sys_execve},
    {SYS_execveat, sys_execveat},
    {SYS_setuid, sys_setcred},
    {SYS_setgid, sys_setcred},
    {SYS_setreuid, sys_setcred},
    {SYS_setregid, sys_setcred},
    {SYS_setresuid, sys_setcred},
    {SYS_setresgid, sys_setcred},
    {SYS_setfsuid, sys_setcred},
    {SYS_setfsgid, sys_setcred},
    {SYS_setgroups, sys_setcred},
    {SYS_umask, sys_setcred},
    {SYS_mkdir, sys_mkdir},
    {SYS_mkdirat, sys_mkdir},
    {SYS_mknod, sys_mknod},
    {SYS_mknodat, sys_mknod},
    {SYS_symlink, sys_symlink},
    {SYS_symlinkat, sys_symlink},
    {SYS_unlink, sys_unlink},
    {SYS_unlinkat, sys_unlink},
    {SYS_rmdir, sys_unlink},
    {SYS_rename, sys_rename},
    {SYS_renameat, sys_rename},
    {SYS_renameat2, sys_rename},
    {SYS_link, sys_link},
    {SYS_linkat, sys_link},
    {SYS_chmod, sys_chmod},
    {SYS_fchmod, sys_chmod},
    {SYS_fchmodat, sys_chmod},
    {SYS_fchmodat2, sys_chmod},
    {SYS_chown, sys_chown},
    {SYS_lchown, sys_chown},
    {SYS_fchown, sys_chown},
    {SYS_fchownat, sys_chown},
    {SYS_truncate, sys_truncate},
    {SYS_ftruncate, sys_truncate},
    {SYS_utime, sys_utimes},
    {SYS_utimes, sys_utimes},
    {SYS_futimesat, sys_utimes},
    {SYS_utimensat, sys_utimes},
    {SYS_fsync, sys_fsync},
    {SYS_fdatasync, sys_fsync},
    {SYS_ioctl, sys_ioctl},
    {SYS_bind, sys_socket_path},
    {SYS_connect, sys_socket_path},
    {SYS_recvmsg, sys_recvmsg},
    {SYS_sendmsg, sys_sendmsg},
    {SYS_sendmmsg, sys_sendmmsg},
    {SYS_setxattr, sys_setxattr},
    {SYS_lsetxattr, sys_setxattr},
    {SYS_fsetxattr, sys_setxattr},
    {SYS_removexattr, sys_setxattr},
    {SYS_lremovexattr, sys_setxattr},
    {SYS_fremovexattr, sys_setxattr},
};

void syscall_dispatch(struct call *c)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].nr == c->n->data.nr) {
			table[i].fn(c);
			return;
		}
	}
	/* Trapped by the filter but unknown here: the kernel knows best. */
	call_continue(c);
}
