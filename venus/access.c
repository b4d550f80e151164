/* Permission checks on the backing mode bits, for the uid of an upcall.
 *
 * The kernel's coda_permission asks venus, and venus answers as the kernel's
 * generic_permission would for that user: root passes read and write, and
 * execute when some x bit is set; others get the owner, group or other bits. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto/hash.h"
#include "venus.h"
#include "venus_int.h"

/* The groups of one uid, looked up once: upcalls are frequent, NSS is slow. */
struct uid_groups {
	uid_t uid; /* hash key */
	int ngroups;
	gid_t *gids;
	UT_hash_handle hh;
};

/* The primary and supplementary groups of uid; none if it has no passwd entry. */
static int groups_lookup(uid_t uid, struct uid_groups *g)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int n = 16;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return 0;
	for (;;) {
		gid_t *gids = realloc(g->gids, (size_t)n * sizeof(gid_t));
		int want = n;

		if (!gids)
			return -ENOMEM;
		g->gids = gids;
		if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &want) >= 0) {
			g->ngroups = want;
			return 0;
		}
		/* Too small: want now holds the size needed. */
		if (want <= n || want > 65536)
			return -EIO;
		n = want;
	}
}

static struct uid_groups *groups_of(struct venus *v, uid_t uid)
{
	struct uid_groups *g;

	HASH_FIND(hh, v->groups, &uid, sizeof(uid), g);
	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->uid = uid;
	if (groups_lookup(uid, g) == 0)
		HASH_ADD(hh, v->groups, uid, sizeof(g->uid), g);
	if (HASH_ADDED(hh, g))
		return g;
	free(g->gids);
	free(g);
	return NULL;
}

bool access_in_group(struct venus *v, uid_t uid, gid_t gid)
{
	struct uid_groups *g = groups_of(v, uid);

	if (!g)
		return false; /* out of memory: fall back to the other bits */
	for (int i = 0; i < g->ngroups; i++)
		if (g->gids[i] == gid)
			return true;
	return false;
}

int access_check(struct venus *v, uid_t uid, const struct stat *st, int mask)
{
	mode_t mode = st->st_mode;
	int granted;

	mask &= C_A_R_OK | C_A_W_OK | C_A_X_OK;
	if (uid == 0) {
		/* CAP_DAC_OVERRIDE: all but executing what nobody may execute. */
		if ((mask & C_A_X_OK) && !S_ISDIR(mode) && !(mode & 0111))
			return -EACCES;
		return 0;
	}
	if (uid == st->st_uid)
		granted = (mode >> 6) & 7;
	else if (access_in_group(v, uid, st->st_gid))
		granted = (mode >> 3) & 7;
	else
		granted = mode & 7;
	/* C_A_R_OK/W_OK/X_OK are 4/2/1, the same bits as rwx. */
	return (mask & ~granted) ? -EACCES : 0;
}

/* Each of read, write and execute that access_check grants uid alone. */
int32_t access_rights(struct venus *v, uid_t uid, const struct stat *st)
{
	static const int bits[] = {C_A_R_OK, C_A_W_OK, C_A_X_OK};
	int32_t rights = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (access_check(v, uid, st, bits[i]) == 0)
			rights |= bits[i];
	return rights;
}

/* The kernel's may_delete: write and search on the directory, and in a
 * sticky directory only the owner of the directory or of the victim (or
 * root) may remove or rename it away. */
int access_may_delete(struct venus *v, uid_t uid, const struct stat *dir, const struct stat *victim)
{
	int err = access_check(v, uid, dir, C_A_W_OK | C_A_X_OK);

	if (err)
		return err;
	if ((dir->st_mode & S_ISVTX) && uid != 0 && uid != dir->st_uid && uid != victim->st_uid)
		return -EPERM;
	return 0;
}

void access_fini(struct venus *v)
{
	struct uid_groups *g, *tmp;

	HASH_ITER(hh, v->groups, g, tmp)
	{
		HASH_DEL(v->groups, g);
		free(g->gids);
		free(g);
	}
}
