/* coda-exec --serve: one venus for many jobs. A job (coda-exec --attach)
 * speaks to the server exactly what a venus speaks on its channel, one Coda
 * message per SOCK_SEQPACKET record with container fds by SCM_RIGHTS; the
 * server relays it to the one venus behind it, and its replies and
 * downcalls back. Only proto/ is below it: how venus was started is the
 * program's business, which hands the server venus's channel. */
#ifndef CODA_SERVER_H
#define CODA_SERVER_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct server;

/* The socket at path, listening: -EADDRINUSE if a live server answers
 * there, -EEXIST if something else than a socket is there; a stale socket
 * file is removed first. The file is made with the umask. fd or -errno. */
int server_listen(const char *path);

/* What the server said at HELLO. */
struct server_hello {
	pid_t venus_pid;       /* the server's venus, or 0 when it did not say */
	bool fixed_containers; /* its venus never rewrites a container in place */
	int table;	       /* the memfd of our uid's answers (proto/shtable.h), or -1 */
	uid_t uid;	       /* ours, as the server knows it: the table's key */
};

/* A connection to the server at path that has answered HELLO within
 * timeout_ms: fd or -errno (-ENOENT, -ECONNREFUSED: nobody serves there;
 * -EPIPE: the server went away; -ETIMEDOUT), and *hello, whose table is
 * the caller's to close. */
int server_attach(const char *path, int timeout_ms, struct server_hello *hello);

/* Asks the server at path to stop and waits until it has gone. 0 or -errno
 * (-EPERM: not the server's uid nor root). */
int server_stop(const char *path, int timeout_ms);

/* A server on a listening socket and the channel of venus (pid venus_pid,
 * and whether it never rewrites a container in place, told to every job
 * that attaches; both fds stay the caller's to close,
 * after server_free), logging to log: with trace, every job's upcalls,
 * their answers and the downcalls, as --trace in a job. */
int server_new(int listener, int venus, pid_t venus_pid, bool fixed_containers, FILE *log,
	       bool verbose, bool trace, struct server **srvp);

/* Relays until SIGTERM, SIGINT or a STOP (0), or until venus goes away
 * (-EPIPE). The connections stay open until server_free, so that a client
 * that asked to stop sees the end only once the caller has stopped venus. */
int server_run(struct server *srv);

void server_free(struct server *srv);

#endif
