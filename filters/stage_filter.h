/* The first stage's filter (stage_filter.c). */
#ifndef CODA_STAGE_FILTER_H
#define CODA_STAGE_FILTER_H

#include <linux/filter.h>
#include <stddef.h>

#define FILTER_STAGE_MAX 64

/* Writes the program into f; its length in instructions. */
size_t filter_stage(struct sock_filter f[FILTER_STAGE_MAX]);

#endif
