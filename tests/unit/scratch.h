/* Scratch directories of the unit tests: removed whole after each test. */
#ifndef CODA_TEST_SCRATCH_H
#define CODA_TEST_SCRATCH_H

#include <ftw.h>
#include <stdio.h>

static int scratch_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static inline void scratch_remove(const char *dir)
{
	nftw(dir, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
