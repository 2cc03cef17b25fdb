/* throttle: the pause after an APPEND batch that keeps a run under
 * imapsync's rate caps (see throttle.h). */
#include "throttle.h"

#include "backoff.h"
#include "stop.h"

void throttle_init(struct throttle *t, double maxmps, double maxbps, uint64_t after,
                   double maxsleep)
{
    t->maxmps = maxmps > 0 ? maxmps : 0;
    t->maxbps = maxbps > 0 ? maxbps : 0;
    t->after = after;
    t->maxsleep = maxsleep > 0 ? maxsleep : 0;
    t->msgs = t->bytes = 0;
    t->exit_over = 0;
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
}

int throttle_on(const struct throttle *t)
{
    return t != NULL && t->maxsleep > 0 && (t->maxmps > 0 || t->maxbps > 0);
}

double throttle_delay(const struct throttle *t, uint64_t msgs, uint64_t bytes, double elapsed)
{
    if (!throttle_on(t))
        return 0;
    double d = 0;
    if (t->maxmps > 0 && (double)msgs / t->maxmps - elapsed > d)
        d = (double)msgs / t->maxmps - elapsed;
    if (t->maxbps > 0 && bytes > t->after && (double)(bytes - t->after) / t->maxbps - elapsed > d)
        d = (double)(bytes - t->after) / t->maxbps - elapsed;
    return d < t->maxsleep ? d : t->maxsleep;
}

/* The counters are shared by every folder worker of a run: one limit for
 * all its connections, so they are read and added to atomically. */
int throttle_over(const struct throttle *t)
{
    return t != NULL && t->exit_over > 0 &&
           __atomic_load_n(&t->bytes, __ATOMIC_RELAXED) >= t->exit_over;
}

void throttle_count(struct throttle *t, uint64_t bytes)
{
    if (t == NULL)
        return;
    __atomic_fetch_add(&t->msgs, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&t->bytes, bytes, __ATOMIC_RELAXED);
}

void throttle_wait(const struct throttle *t, uint64_t k)
{
    backoff_wait();
    if (!throttle_on(t))
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed =
        (double)(now.tv_sec - t->t0.tv_sec) + (double)(now.tv_nsec - t->t0.tv_nsec) / 1e9;
    struct throttle batch = {.maxmps = t->maxmps, .maxbps = t->maxbps, .after = t->after};
    batch.maxsleep = t->maxsleep * (double)(k ? k : 1);
    double d = throttle_delay(&batch, __atomic_load_n(&t->msgs, __ATOMIC_RELAXED),
                              __atomic_load_n(&t->bytes, __ATOMIC_RELAXED), elapsed);
    /* In slices, so a stop request ends the pause at once. */
    while (d > 0 && !stop_requested) {
        double slice = d < 0.1 ? d : 0.1;
        struct timespec ts = {0, (long)(slice * 1e9)};
        nanosleep(&ts, NULL);
        d -= slice;
    }
}
