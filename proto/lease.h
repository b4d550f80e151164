/* Whether the kernel would grant a lease on a file now, asked by taking
 * one and giving it back at once: a read lease only while nobody has the
 * file open for writing, a write lease only while nobody else has it open
 * at all. Shared by venus (may a container be taken or become the backing
 * file?) and the Coda module (does anyone still write a container?). */
#ifndef CODA_PROTO_LEASE_H
#define CODA_PROTO_LEASE_H

/* type F_RDLCK or F_WRLCK on fd: 1 granted, 0 refused (someone has the
 * file open in the way), -1 cannot tell (no leases on that file system, or
 * we neither own the file nor have CAP_LEASE). Another process's open that
 * breaks the lease meanwhile raises SIGURG, ignored by default, not
 * SIGIO, which would end the process. */
int lease_free(int fd, int type);

#endif
