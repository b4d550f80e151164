/* What a hosted venus would see as root, without any privilege: venus makes
 * its cache files owned by uid 0, group 65534, and at every start truncates
 * each one that is not (coda-src/venus/fso_cachefile.cc, ValidContainer).
 * As an ordinary user its chown fails. So, as fakeroot does, its chowns
 * succeed and are recorded, and its stats report the recorded owner. The
 * record is an extended attribute on the file itself (user.coda-exec.owner),
 * so that it outlives the run: a restarted venus keeps its cached data. */
#ifndef CODA_FAKEROOT_H
#define CODA_FAKEROOT_H

struct call;

/* chown, fchown, lchown, fchownat of venus. */
void fakeroot_chown(struct call *c);

/* stat, lstat, fstat, newfstatat, statx of venus. */
void fakeroot_stat(struct call *c);

#endif
