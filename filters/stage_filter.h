/* The first stage's filter (stage_filter.c). */
#ifndef CODA_STAGE_FILTER_H
#define CODA_STAGE_FILTER_H

#include <linux/filter.h>
#include <stddef.h>

/* The program, and its length in instructions. */
const struct sock_filter *filter_stage(size_t *len);

#endif
