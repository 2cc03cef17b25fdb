/* throttle: imapsync's rate caps (--maxmessagespersecond,
 * --maxbytespersecond, --maxbytesafter, --maxsleep) as a pause after each
 * APPEND batch, so that providers which throttle or lock accounts that go
 * too fast (Gmail, Office 365) see an average below the caps.
 *
 * imapsync's sleep_if_needed: after n messages and b bytes, t seconds into
 * the run, pause min(maxsleep, max(n / maxmps - t, (b - after) / maxbps - t))
 * when that is positive; a cap of 0 is off, --maxsleep 0 turns pausing off. */
#ifndef IMAPFERRY_THROTTLE_H
#define IMAPFERRY_THROTTLE_H

#include "status.h"

#include <stdint.h>
#include <time.h>

struct throttle {
    double maxmps;   /* messages per second, 0 = no cap */
    double maxbps;   /* bytes per second, 0 = no cap */
    uint64_t after;  /* bytes before the bytes cap applies */
    double maxsleep; /* longest pause at once, seconds */
    struct timespec t0;
    uint64_t msgs, bytes; /* appended since t0, by every worker (atomic) */
    uint64_t exit_over;   /* --exitwhenover: end the run at this many bytes; 0 = never */
};

/* Starts the clock. */
void throttle_init(struct throttle *t, double maxmps, double maxbps, uint64_t after,
                   double maxsleep);
/* Whether any cap is on. */
int throttle_on(const struct throttle *t);
/* Seconds to pause after msgs messages and bytes bytes, elapsed seconds into
 * the run (pure: the formula above). */
double throttle_delay(const struct throttle *t, uint64_t msgs, uint64_t bytes, double elapsed);
/* Whether --exitwhenover is reached. */
int throttle_over(const struct throttle *t);
/* Counts one appended message. */
void throttle_count(struct throttle *t, uint64_t bytes);
/* Pauses as long as throttle_delay says, at most maxsleep for each of the
 * batch's k messages (imapsync pauses after every message), waking up for
 * a stop request. NULL is allowed (no cap). */
void throttle_wait(const struct throttle *t, uint64_t k);

/* One bucket for the jobs of a --csv batch: the batch parent creates a
 * small file in its folder holding the counters, the clock and the end of
 * the latest backoff, and each child maps it through an inherited fd named
 * in THROTTLE_SHARE_ENV (internal: nothing a user types). Once attached,
 * every throttle of the process counts into and waits on that bucket, and
 * a backoff one job was asked for pauses all of them. */
#define THROTTLE_SHARE_ENV "IMAPFERRY_RATE_FD"
/* Batch parent: creates path (a new file, 0600), its clock started now.
 * *fd is the open file, close-on-exec: the caller clears that flag in the
 * child it hands the fd to and closes *fd when no child needs it. */
int throttle_share_create(const char *path, int *fd, struct status *st);
/* Child: maps the file on the fd THROTTLE_SHARE_ENV names, if it names
 * one (then it unsets it). 0 when attached or none is named; -1 (st
 * filled) when the fd is not such a file. */
int throttle_share_attach_env(struct status *st);
/* Whether this process counts into a shared bucket. */
int throttle_shared(void);
/* For backoff: the latest end of a pause any job noted, seconds of
 * CLOCK_MONOTONIC (0: none, or not shared); and noting one. */
double throttle_share_backoff_until(void);
void throttle_share_backoff(double until);

#endif
