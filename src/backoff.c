/* backoff: the run-wide pause a throttling server asks for (backoff.h). */
#include "backoff.h"

#include "log.h"
#include "stop.h"
#include "throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double until;     /* CLOCK_MONOTONIC seconds; 0 = no pause asked */
static double announced; /* the end of the last pause that was logged */
static unsigned streak;  /* [THROTTLED] notes in a row, for the doubling */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void backoff_note(unsigned ms)
{
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    pthread_mutex_lock(&mu);
    double t = now() + ms / 1000.0;
    if (t > until)
        until = t;
    pthread_mutex_unlock(&mu);
    throttle_share_backoff(t); /* the other jobs of a batch pause too */
}

/* Case-insensitive search in the first len bytes of s. */
static const char *find(const char *s, size_t len, const char *what)
{
    size_t n = strlen(what);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(s + i, what, n) == 0)
            return s + i;
    return NULL;
}

void backoff_scan_line(const char *line, size_t len)
{
    static const char suggested[] = "Suggested Backoff Time:";
    const char *p = find(line, len, suggested);
    if (p) {
        const char *q = p + sizeof suggested - 1;
        while (q < line + len && *q == ' ')
            q++;
        unsigned long ms = 0;
        while (q < line + len && *q >= '0' && *q <= '9' && ms <= BACKOFF_MAX_MS)
            ms = ms * 10 + (unsigned long)(*q++ - '0');
        backoff_note(ms ? (unsigned)(ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS)
                        : BACKOFF_THROTTLED_MS);
        return;
    }
    if (find(line, len, "[THROTTLED]")) {
        pthread_mutex_lock(&mu);
        unsigned k = streak < 8 ? streak++ : streak;
        pthread_mutex_unlock(&mu);
        backoff_note(BACKOFF_THROTTLED_MS << k);
    }
}

void backoff_wait(void)
{
    double other = throttle_share_backoff_until();
    pthread_mutex_lock(&mu);
    if (other > until)
        until = other;
    double end = until, t = now();
    int say = end > t && end > announced;
    if (say)
        announced = end;
    if (end <= t)
        streak = 0; /* the server has had its pause: start small again */
    pthread_mutex_unlock(&mu);
    if (end <= t)
        return;
    if (say)
        log_out("A server asked to slow down ([THROTTLED] or a suggested backoff time): every "
                "worker pauses %.1f s\n",
                end - t);
    while (!stop_requested) {
        t = now();
        if (t >= end)
            break;
        double d = end - t < 0.1 ? end - t : 0.1;
        struct timespec ts = {0, (long)(d * 1e9)};
        nanosleep(&ts, NULL);
    }
}
