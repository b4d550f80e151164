#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include "fd_band.h"
#include "filter.h"
#include "load.h"
#include "stage/stage.h"

/* The rules of trapped_calls.def. */
enum rule {
	RULE_ALWAYS,
	RULE_BAND_FD,
	RULE_BAND_DUP,
	RULE_BAND_IOCTL,
	RULE_STAT_AT,
	RULE_BAND_FCNTL_DUP,
	RULE_FORK,
	RULE_CLONE,
	RULE_UNSHARE,
	RULE_SEND,
	RULE_SEND_FLAGS,
	RULE_REFUSE,
};

struct trap {
	int nr;
	enum rule rule;
	unsigned arg; /* the argument the rule tests; REFUSE's errno */
};

/* What each rule of the list stands for in a struct trap. */
#define TRAP_ALWAYS	    .rule = RULE_ALWAYS
#define TRAP_BAND_FD(n)	    .rule = RULE_BAND_FD, .arg = (n)
#define TRAP_BAND_DUP	    .rule = RULE_BAND_DUP
#define TRAP_BAND_IOCTL	    .rule = RULE_BAND_IOCTL
#define TRAP_STAT_AT(n)	    .rule = RULE_STAT_AT, .arg = (n)
#define TRAP_BAND_FCNTL_DUP .rule = RULE_BAND_FCNTL_DUP
#define TRAP_FORK	    .rule = RULE_FORK
#define TRAP_CLONE	    .rule = RULE_CLONE
#define TRAP_UNSHARE	    .rule = RULE_UNSHARE
#define TRAP_SEND	    .rule = RULE_SEND
#define TRAP_SEND_FLAGS(n)  .rule = RULE_SEND_FLAGS, .arg = (n)

#define TRAP(name, handler, rule) {.nr = SYS_##name, TRAP_##rule},
#define REFUSE(name, err)	  {.nr = SYS_##name, .rule = RULE_REFUSE, .arg = (err)},
static const struct trap traps[] = {
#include "trapped_calls.def"
};
#undef TRAP
#undef REFUSE

/* A call listed twice would get two sets of rules: a redeclared enumerator
 * stops the build instead. */
#define TRAP(name, handler, rule) LISTED_##name,
#define REFUSE(name, err)	  LISTED_##name,
enum listed_once {
#include "trapped_calls.def"
};
#undef TRAP
#undef REFUSE

static int notify(scmp_filter_ctx ctx, int nr, struct scmp_arg_cmp cmp)
{
	return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1, cmp);
}

static int notify_band_fd(scmp_filter_ctx ctx, int nr, unsigned arg)
{
	return notify(ctx, nr, SCMP_CMP(arg, SCMP_CMP_GE, CODA_FD_BAND_LO));
}

static int add_band_dup(scmp_filter_ctx ctx, int nr)
{
	int rc = notify_band_fd(ctx, nr, 0);

	return rc ? rc : notify_band_fd(ctx, nr, 1);
}

static int add_band_ioctl(scmp_filter_ctx ctx, int nr)
{
	return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 2, SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO),
				SCMP_A1(SCMP_CMP_NE, TCGETS));
}

static int add_stat_at(scmp_filter_ctx ctx, int nr, unsigned flags_arg)
{
	int rc = notify(ctx, nr, SCMP_CMP(flags_arg, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));

	return rc ? rc : notify_band_fd(ctx, nr, 0);
}

static int add_fcntl_dup(scmp_filter_ctx ctx, int nr)
{
	static const unsigned cmds[] = {F_DUPFD, F_DUPFD_CLOEXEC};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 2,
					  SCMP_A0(SCMP_CMP_GE, CODA_FD_BAND_LO),
					  SCMP_A1(SCMP_CMP_EQ, cmds[i]));

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Each clone that shares the cwd or the fd table (and is no thread), or,
 * with all, each that is no thread. */
static int add_clone(scmp_filter_ctx ctx, int nr, bool all)
{
	static const unsigned long shared[] = {CLONE_FS, CLONE_FILES};

	if (all)
		return notify(ctx, nr, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		int rc = notify(ctx, nr,
				SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | shared[i], shared[i]));

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_unshare(scmp_filter_ctx ctx, int nr)
{
	static const unsigned long flags[] = {CLONE_FS, CLONE_FILES, CLONE_NEWNS};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int rc = notify(ctx, nr, SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_trap(scmp_filter_ctx ctx, const struct trap *t, unsigned flags)
{
	bool sends = flags & FILTER_TRACK_SENDS;

	switch (t->rule) {
	case RULE_ALWAYS:
		return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, t->nr, 0);
	case RULE_BAND_FD:
		return notify_band_fd(ctx, t->nr, t->arg);
	case RULE_BAND_DUP:
		return add_band_dup(ctx, t->nr);
	case RULE_BAND_IOCTL:
		return add_band_ioctl(ctx, t->nr);
	case RULE_STAT_AT:
		return add_stat_at(ctx, t->nr, t->arg);
	case RULE_BAND_FCNTL_DUP:
		return add_fcntl_dup(ctx, t->nr);
	case RULE_FORK:
		return flags & FILTER_TRAP_FORKS ? seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, t->nr, 0)
						 : 0;
	case RULE_CLONE:
		return add_clone(ctx, t->nr, flags & FILTER_TRAP_FORKS);
	case RULE_UNSHARE:
		return add_unshare(ctx, t->nr);
	case RULE_SEND:
		return sends ? seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, t->nr, 0) : 0;
	case RULE_SEND_FLAGS:
		return sends ? notify(ctx, t->nr,
				      SCMP_CMP(t->arg, SCMP_CMP_NE, FILTER_UNTRAPPED_SEND_FLAGS))
			     : 0;
	case RULE_REFUSE:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(t->arg), t->nr, 0);
	}
	return -EINVAL;
}

static int build_rules(scmp_filter_ctx ctx, unsigned flags)
{
	for (size_t i = 0; i < sizeof(traps) / sizeof(traps[0]); i++) {
		int rc = add_trap(ctx, &traps[i], flags);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int filter_install_target(unsigned flags)
{
	uint64_t ip = flags & FILTER_STAGE ? STAGE_ADDR + STAGE_DIRECT_IP_OFF : 0;

	return filter_load_allowing(build_rules, flags, ip);
}
