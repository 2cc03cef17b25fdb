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

#endif
