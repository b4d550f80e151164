/* bind and connect of AF_UNIX sockets named by a path: the kernel would
 * resolve a relative name against the target's real cwd, and a /coda name
 * not at all. Coda has no sockets (the kernel's module answers mknod with
 * EIO), so a socket can neither be made nor reached there. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "syscalls.h"
#include "vfs.h"

/* The path of an AF_UNIX address, or false for any other address (abstract
 * names included), which the kernel handles as it is. */
static bool unix_path(struct call *c, char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1])
{
	struct sockaddr_un sun;
	size_t len = (size_t)call_arg(c, 2);
	size_t plen;

	if (len <= offsetof(struct sockaddr_un, sun_path) || len > sizeof(sun))
		return false;
	if (call_read(c, call_arg(c, 1), &sun, len) < 0 || sun.sun_family != AF_UNIX ||
	    !sun.sun_path[0])
		return false;
	plen = strnlen(sun.sun_path, len - offsetof(struct sockaddr_un, sun_path));
	memcpy(path, sun.sun_path, plen);
	path[plen] = '\0';
	return true;
}

/* unix_bind_bsd(): a mknod of the name, whose EEXIST means the address is
 * taken */
static int bind_error(struct call *c, const struct nameidata *nd)
{
	int rc = vfs_may_create(nd);

	if (rc == -EEXIST)
		return -EADDRINUSE;
	return rc ?: call_sup(c)->opt.read_only ? -EROFS : -EIO;
}

void sys_socket_path(struct call *c)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	bool binding = c->n->data.nr == SYS_bind;
	struct nameidata nd;
	int rc;

	if (!unix_path(c, path)) {
		call_continue(c);
		return;
	}
	rc = vfs_lookup(c, AT_FDCWD, path, binding ? LOOKUP_NAME : LOOKUP_FOLLOW, &nd);
	if (rc < 0) {
		call_return(c, rc);
		return;
	}
	if (nd.kind == NAMEI_CONTINUE)
		call_continue(c);
	else if (nd.kind == NAMEI_HOST)
		call_return(c, -EOPNOTSUPP); /* a host socket reached through /coda */
	else if (binding)
		call_return(c, bind_error(c, &nd));
	else
		call_return(c, nd.missing ? -ENOENT : -ECONNREFUSED);
}
