/* libcodaclient: Coda with no trap at all. A program calls these on paths
 * under the mount point (default /coda) and they are answered by the venus
 * of a coda-exec --serve server over its socket, as a trapped job's calls
 * are: the Coda module (the path walk, the caches, CODA_OPEN and the last
 * close) runs in the calling process, with the server's connection as its
 * channel. An open returns a real fd, venus's container received by
 * SCM_RIGHTS, which read, write, lseek and mmap use directly. Paths outside
 * the mount are the host's (the call is made as libc makes it). Errors are
 * -1 (NULL) with errno, as libc's. Calls may come from any thread: one runs
 * at a time. */
#ifndef CODACLIENT_H
#define CODACLIENT_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Connects to the server at `socket` (NULL: $CODA_SOCKET) whose venus is
 * mounted at `mount` (NULL: $CODA_MOUNT, else /coda). Every other call
 * connects so on first use; an explicit call replaces the connection. */
int coda_client_connect(const char *socket, const char *mount);
/* Closes the connection, after the stores of every writer closed. */
void coda_client_disconnect(void);

/* open(2). A file opened for writing is stored by venus at coda_close(fd):
 * the library does not see a plain close(2), which it only notices at its
 * next call. */
int coda_open(const char *path, int flags, ... /* mode_t mode */);
/* close(2), and for the last fd of a writer the store, which has happened
 * when it returns. */
int coda_close(int fd);
int coda_stat(const char *path, struct stat *st);
int coda_lstat(const char *path, struct stat *st);
int coda_mkdir(const char *path, mode_t mode);
int coda_unlink(const char *path);
int coda_rename(const char *from, const char *to);
ssize_t coda_readlink(const char *path, char *buf, size_t size);

/* A directory stream, as opendir(3)'s, from venus's listing. */
typedef struct coda_dir CODA_DIR;
CODA_DIR *coda_opendir(const char *path);
struct dirent *coda_readdir(CODA_DIR *dir);
int coda_closedir(CODA_DIR *dir);

#ifdef __cplusplus
}
#endif

#endif
