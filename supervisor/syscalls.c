#include <sys/syscall.h>

#include "notify.h"
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
    {SYS_mkdir, sys_create},
    {SYS_mkdirat, sys_create},
    {SYS_mknod, sys_create},
    {SYS_mknodat, sys_create},
    {SYS_symlink, sys_create},
    {SYS_symlinkat, sys_create},
    {SYS_rename, sys_two_paths},
    {SYS_renameat, sys_two_paths},
    {SYS_renameat2, sys_two_paths},
    {SYS_link, sys_two_paths},
    {SYS_linkat, sys_two_paths},
    {SYS_unlink, sys_modify},
    {SYS_unlinkat, sys_modify},
    {SYS_rmdir, sys_modify},
    {SYS_chmod, sys_modify},
    {SYS_fchmodat, sys_modify},
    {SYS_fchmodat2, sys_modify},
    {SYS_chown, sys_modify},
    {SYS_lchown, sys_modify},
    {SYS_fchownat, sys_modify},
    {SYS_truncate, sys_modify},
    {SYS_utime, sys_modify},
    {SYS_utimes, sys_modify},
    {SYS_futimesat, sys_modify},
    {SYS_setxattr, sys_modify},
    {SYS_lsetxattr, sys_modify},
    {SYS_removexattr, sys_modify},
    {SYS_lremovexattr, sys_modify},
    {SYS_utimensat, sys_utimensat},
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
