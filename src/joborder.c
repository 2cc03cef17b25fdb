/* joborder: hands the biggest folders out first when several workers
 * share a run, which lasts at least as long as its biggest folder: that
 * one must not be started last. */
#include "joborder.h"

#include "sbuf.h"

#include <stdlib.h>

static uint64_t job_weight(const struct folder_plan *plan, const uint64_t *weight, size_t lead)
{
    uint64_t sum = 0;
    for (size_t i = lead; i < plan->npairs; i++) {
        if (plan->pairs[i].leader != lead)
            continue;
        if (weight == NULL || weight[i] == JOBORDER_UNKNOWN)
            return JOBORDER_UNKNOWN;
        sum = weight[i] > JOBORDER_UNKNOWN - 1 - sum ? JOBORDER_UNKNOWN - 1 : sum + weight[i];
    }
    return sum;
}

size_t joborder_build(const struct folder_plan *plan, const uint64_t *weight,
                      const unsigned char *done, int biggest_first, size_t **order)
{
    size_t n = 0;
    *order = sbuf_xcalloc(plan->npairs + 1, sizeof **order);
    uint64_t *w = sbuf_xcalloc(plan->npairs + 1, sizeof *w);
    for (size_t i = 0; i < plan->npairs; i++) {
        if (plan->pairs[i].leader != i || (done && done[i]))
            continue;
        w[n] = biggest_first ? job_weight(plan, weight, i) : 0;
        size_t at = n++;
        /* insertion, stable: a job passes only lighter ones */
        while (at > 0 && w[at - 1] < w[at]) {
            uint64_t t = w[at - 1];
            w[at - 1] = w[at];
            w[at] = t;
            (*order)[at] = (*order)[at - 1];
            at--;
        }
        (*order)[at] = i;
    }
    free(w);
    return n;
}
