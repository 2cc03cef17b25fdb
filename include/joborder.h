/* joborder: the order in which folder workers take their jobs. A job is a
 * folder pair with the pairs merged into the same host2 folder (its
 * leader's index names it). Pure: no network. */
#ifndef IMAPFERRY_JOBORDER_H
#define IMAPFERRY_JOBORDER_H

#include "folder_plan.h"

#include <stddef.h>
#include <stdint.h>

/* A pair's weight not known (no STATUS for it). */
#define JOBORDER_UNKNOWN UINT64_MAX

/* Fills *order (malloc'd, the caller's to free) with the leaders of the
 * jobs that are not done[] (done may be NULL), and returns how many.
 * biggest_first: by the sum of their pairs' weight[] (weight may be NULL:
 * all unknown), heaviest first, a job with an unknown weight before all
 * others; equal weights keep the plan order. Otherwise the plan order. */
size_t joborder_build(const struct folder_plan *plan, const uint64_t *weight,
                      const unsigned char *done, int biggest_first, size_t **order);

#endif
