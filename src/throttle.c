/* throttle: the pause after an APPEND batch that keeps a run under
 * imapsync's rate caps (see throttle.h). */
#include "throttle.h"

#include "backoff.h"
#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The shared file's layout: 64-bit fields, each changed atomically (the
 * mapping is MAP_SHARED, so the atomics work across processes). */
struct bucket {
    uint64_t magic;
    uint64_t msgs, bytes; /* counted by every job */
    int64_t t0_ns;        /* CLOCK_MONOTONIC: the same clock in every process */
    int64_t backoff_ns;   /* end of the latest pause asked for, 0 = none */
};
#define BUCKET_MAGIC 0x69666572727942ULL /* "ifrrryB" */

static struct bucket *bucket; /* NULL: this process counts alone */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int throttle_share_create(const char *path, int *fd, struct status *st)
{
    *fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0)
        return status_set(st, STATUS_OTHER, "cannot create %s: %s", path, strerror(errno));
    struct bucket b = {.magic = BUCKET_MAGIC, .t0_ns = now_ns()};
    if (write(*fd, &b, sizeof b) != (ssize_t)sizeof b) {
        status_set(st, STATUS_OTHER, "cannot write %s: %s", path, strerror(errno));
        close(*fd);
        *fd = -1;
        return -1;
    }
    return 0;
}

int throttle_share_attach_env(struct status *st)
{
    const char *v = getenv(THROTTLE_SHARE_ENV);
    if (v == NULL || bucket != NULL)
        return 0;
    char *end;
    errno = 0;
    long fd = strtol(v, &end, 10);
    struct stat sb;
    void *p = MAP_FAILED;
    if (errno == 0 && end != v && *end == '\0' && fd > 2 && fd < 65536 &&
        fstat((int)fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        sb.st_size == (off_t)sizeof(struct bucket))
        p = mmap(NULL, sizeof(struct bucket), PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
    if (p == MAP_FAILED || ((struct bucket *)p)->magic != BUCKET_MAGIC) {
        if (p != MAP_FAILED)
            munmap(p, sizeof(struct bucket));
        return status_set(st, STATUS_INTERNAL,
                          "%s=%.20s is not the batch's rate limit file (internal to --csv)",
                          THROTTLE_SHARE_ENV, v);
    }
    close((int)fd); /* the mapping stays */
    unsetenv(THROTTLE_SHARE_ENV);
    bucket = p;
    return 0;
}

int throttle_shared(void)
{
    return bucket != NULL;
}

double throttle_share_backoff_until(void)
{
    return bucket ? (double)__atomic_load_n(&bucket->backoff_ns, __ATOMIC_RELAXED) / 1e9 : 0;
}

void throttle_share_backoff(double until)
{
    if (bucket == NULL)
        return;
    int64_t want = (int64_t)(until * 1e9);
    int64_t was = __atomic_load_n(&bucket->backoff_ns, __ATOMIC_RELAXED);
    while (was < want && !__atomic_compare_exchange_n(&bucket->backoff_ns, &was, want, 0,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

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
    if (bucket) {
        __atomic_fetch_add(&bucket->msgs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&bucket->bytes, bytes, __ATOMIC_RELAXED);
    }
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
    uint64_t msgs = __atomic_load_n(&t->msgs, __ATOMIC_RELAXED),
             bytes = __atomic_load_n(&t->bytes, __ATOMIC_RELAXED);
    if (bucket) {
        /* The batch's bucket: every job's messages against one clock. */
        elapsed = (double)(now_ns() - bucket->t0_ns) / 1e9;
        msgs = __atomic_load_n(&bucket->msgs, __ATOMIC_RELAXED);
        bytes = __atomic_load_n(&bucket->bytes, __ATOMIC_RELAXED);
    }
    struct throttle batch = {.maxmps = t->maxmps, .maxbps = t->maxbps, .after = t->after};
    batch.maxsleep = t->maxsleep * (double)(k ? k : 1);
    double d = throttle_delay(&batch, msgs, bytes, elapsed);
    /* In slices, so a stop request ends the pause at once. */
    while (d > 0 && !stop_requested) {
        double slice = d < 0.1 ? d : 0.1;
        struct timespec ts = {0, (long)(slice * 1e9)};
        nanosleep(&ts, NULL);
        d -= slice;
    }
}
