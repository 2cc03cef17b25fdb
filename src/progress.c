/* progress: counts what the copy gets through and draws it in place on the
 * terminal, a line for a sync or a table for a batch (progress.h). */
#include "progress.h"

#include "msg.h"
#include "mutf7.h"
#include "sbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_NS 500000000L /* twice a second: lively, and cheap on a slow link */
#define MAX_SLOTS 64         /* threads copying at once; more than --workers allows */
#define MAX_NAME 60          /* bytes of a folder name shown */

/* What one thread is copying. */
struct slot {
    pthread_t owner;
    int used, active;
    char name[MAX_NAME + 4];
    uint64_t msgs, bytes, done_msgs, done_bytes;
};

enum mode { MODE_OFF, MODE_LINE, MODE_TABLE };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static struct {
    int counting;   /* between progress_start and progress_end */
    enum mode mode; /* what is drawn */
    unsigned shown; /* lines of ours on the screen now */
    int midline;    /* a log line without its newline is on the terminal */
    int out_tty;    /* stdout is a terminal too: its lines count for midline */
    unsigned folders, started, active;
    char name[MAX_NAME + 4];
    uint64_t msgs, msgs_total, bytes, bytes_total;
    struct timespec t0;
    int clock_on;
    struct slot slot[MAX_SLOTS];
    pthread_t thread;
    int thread_on, stop;
    char *table; /* the batch's last table, owned */
} P;

static int terminal_ok(void)
{
    if (!isatty(2))
        return 0;
    const char *t = getenv("TERM");
    return t && *t && strcmp(t, "dumb") != 0;
}

static void term_size(unsigned *cols, unsigned *rows)
{
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    if (ioctl(2, TIOCGWINSZ, &ws) < 0)
        memset(&ws, 0, sizeof ws);
    *cols = ws.ws_col ? ws.ws_col : 80;
    *rows = ws.ws_row ? ws.ws_row : 24;
}

/* The terminal is ours only between log lines: a failed write is dropped,
 * never reported (that would print). */
static void put(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Bytes that start a character: what a terminal gives a column. Cuts s to
 * at most cols columns, at a character boundary. */
static size_t clip(const char *s, size_t len, unsigned cols)
{
    unsigned c = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (c == cols)
            return i;
        c++;
    }
    return len;
}

/* A folder name as the line shows it: UTF-8 when it decodes (as the log
 * lines show it), no control character that would reach the terminal, and
 * a long one cut. */
static void show_name(const char *wire, char *out, size_t n)
{
    char *utf8 = NULL;
    struct status ignored;
    const char *name = mutf7_decode(wire, &utf8, &ignored) == 0 ? utf8 : wire;
    size_t len = strlen(name), k = 0;
    size_t keep = len > MAX_NAME ? MAX_NAME : len;
    while (keep < len && keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
        keep--;
    for (size_t i = 0; i < keep && k + 1 < n; i++) {
        unsigned char c = (unsigned char)name[i];
        out[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    for (int i = 0; keep < len && i < 3 && k + 1 < n; i++)
        out[k++] = '.';
    out[k] = '\0';
    free(utf8);
}

void progress_human(uint64_t bytes, char *buf, size_t n)
{
    static const char *unit[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(buf, n, "%" PRIu64 "B", bytes);
        return;
    }
    double v = (double)bytes / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, "%.1f%s", v, unit[u]);
}

static void duration(double s, char *buf, size_t n)
{
    if (s < 0)
        s = 0;
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%lu:%02lu", t / 60, t % 60);
}

size_t progress_format(const struct progress_view *v, unsigned width, char *buf, size_t n)
{
    if (n == 0)
        return 0;
    char head[160], done[32], total[32], rate[32], tail[48];
    const char *name = v->name ? v->name : "";
    unsigned started = v->started > v->folders && v->folders ? v->folders : v->started;
    if (v->final)
        snprintf(head, sizeof head, "%u/%u folders", started, v->folders);
    else if (v->active > 1)
        snprintf(head, sizeof head, "%u folders copying, %u/%u begun, last [%s]", v->active,
                 started, v->folders, name);
    else
        snprintf(head, sizeof head, "folder %u/%u [%s]", started, v->folders, name);
    progress_human(v->bytes, done, sizeof done);
    progress_human(v->bytes_total, total, sizeof total);
    unsigned pct = 100;
    if (v->bytes_total > 0)
        pct = (unsigned)(v->bytes >= v->bytes_total ? 100 : v->bytes * 100 / v->bytes_total);
    else if (v->msgs_total > 0)
        pct = (unsigned)(v->msgs >= v->msgs_total ? 100 : v->msgs * 100 / v->msgs_total);
    double bps = v->elapsed > 0.05 ? (double)v->bytes / v->elapsed : 0;
    if (bps > 0) {
        progress_human((uint64_t)bps, rate, sizeof rate);
        snprintf(rate + strlen(rate), sizeof rate - strlen(rate), "/s");
    } else {
        snprintf(rate, sizeof rate, "-/s");
    }
    char t[24];
    tail[0] = '\0';
    if (v->final) {
        duration(v->elapsed, t, sizeof t);
        snprintf(tail, sizeof tail, ", in %s", t);
    } else if (v->bytes >= v->bytes_total) {
        snprintf(tail, sizeof tail, ", ETA 0:00");
    } else if (bps > 0) {
        duration((double)(v->bytes_total - v->bytes) / bps, t, sizeof t);
        snprintf(tail, sizeof tail, ", ETA %s", t);
    }
    int len = snprintf(buf, n, "%s: %" PRIu64 "/%" PRIu64 " msgs, %s/%s (%u%%), %s%s", head,
                       v->msgs, v->msgs_total, done, total, pct, rate, tail);
    size_t l = len < 0 ? 0 : (size_t)len >= n ? n - 1 : (size_t)len;
    l = clip(buf, l, (width ? width : 80) - 1);
    buf[l] = '\0';
    return l;
}

/* ---- drawing, under the lock ---- */

static void view_locked(struct progress_view *v, int final)
{
    memset(v, 0, sizeof *v);
    v->folders = P.folders;
    v->started = P.started;
    v->active = P.active;
    v->name = P.started ? P.name : NULL;
    v->msgs = P.msgs;
    v->msgs_total = P.msgs_total;
    v->bytes = P.bytes;
    v->bytes_total = P.bytes_total;
    v->elapsed = P.clock_on ? since(&P.t0) : 0;
    v->final = final;
}

static void draw_line_locked(int final)
{
    if (P.mode != MODE_LINE || P.midline || P.started == 0)
        return;
    struct progress_view v;
    view_locked(&v, final);
    unsigned cols, rows;
    term_size(&cols, &rows);
    char line[512];
    line[0] = '\r';
    size_t len = progress_format(&v, cols, line + 1, sizeof line - 8);
    memcpy(line + 1 + len, "\033[K", 3);
    put(line, len + 4);
    P.shown = 1;
}

/* The table, from the top line of what is shown (or the cursor's line),
 * each line cut to the terminal's width so that none wraps and the count
 * of lines to go back up stays right. */
static void draw_table_locked(void)
{
    if (P.mode != MODE_TABLE || P.midline || P.table == NULL)
        return;
    unsigned cols, rows;
    term_size(&cols, &rows);
    unsigned max = rows > 5 ? rows - 2 : 3, total = 0;
    for (const char *p = P.table; *p; p++)
        total += *p == '\n';
    struct sbuf b = SBUF_INIT;
    if (P.shown)
        sbuf_addf(&b, "\033[%uA", P.shown);
    sbuf_addc(&b, '\r');
    unsigned drawn = 0;
    for (const char *p = P.table; *p && drawn < total;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (total > max && drawn == max - 1) {
            sbuf_addf(&b, "... %u more\033[K\n", total - drawn);
            drawn++;
            break;
        }
        sbuf_append(&b, p, clip(p, len, cols - 1));
        sbuf_adds(&b, "\033[K\n");
        drawn++;
        p += len + (nl != NULL);
    }
    sbuf_adds(&b, "\033[J");
    put(b.data, b.len);
    sbuf_free(&b);
    P.shown = drawn;
}

static void clear_locked(void)
{
    if (P.shown == 0)
        return;
    if (P.mode == MODE_TABLE) {
        char s[32];
        int n = snprintf(s, sizeof s, "\033[%uA\r\033[J", P.shown);
        put(s, (size_t)n);
    } else {
        put("\r\033[K", 4);
    }
    P.shown = 0;
}

static void draw_locked(void)
{
    if (P.mode == MODE_LINE)
        draw_line_locked(0);
    else if (P.mode == MODE_TABLE)
        draw_table_locked();
}

/* ---- one sync ---- */

static void *redraw_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!P.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += REDRAW_NS;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cv, &mu, &ts);
        if (!P.stop)
            draw_line_locked(0);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

void progress_start(unsigned folders, int wanted)
{
    pthread_mutex_lock(&mu);
    if (P.counting) {
        pthread_mutex_unlock(&mu);
        return;
    }
    P.counting = 1;
    P.folders = folders;
    P.started = P.active = 0;
    P.name[0] = '\0';
    P.msgs = P.msgs_total = P.bytes = P.bytes_total = 0;
    P.clock_on = 0;
    memset(P.slot, 0, sizeof P.slot);
    P.stop = 0;
    P.shown = 0;
    P.midline = 0;
    P.out_tty = isatty(1);
    P.mode = wanted && terminal_ok() ? MODE_LINE : MODE_OFF;
    if (P.mode == MODE_LINE) {
        /* Signals are the main thread's: it turns them into a clean stop. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        P.thread_on = pthread_create(&P.thread, NULL, redraw_main, NULL) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_unlock(&mu);
}

static struct slot *slot_of_locked(void)
{
    pthread_t self = pthread_self();
    struct slot *free_slot = NULL;
    for (size_t i = 0; i < MAX_SLOTS; i++) {
        struct slot *s = &P.slot[i];
        if (s->used && pthread_equal(s->owner, self))
            return s;
        if (!s->used && free_slot == NULL)
            free_slot = s;
    }
    if (free_slot) {
        free_slot->used = 1;
        free_slot->owner = self;
    }
    return free_slot;
}

/* A folder is over: what it did not get through leaves the totals, so
 * that done and planned meet at the end. */
static void retire_locked(struct slot *s)
{
    if (!s->active)
        return;
    uint64_t m = s->msgs > s->done_msgs ? s->msgs - s->done_msgs : 0;
    uint64_t b = s->bytes > s->done_bytes ? s->bytes - s->done_bytes : 0;
    P.msgs_total -= m < P.msgs_total ? m : P.msgs_total;
    P.bytes_total -= b < P.bytes_total ? b : P.bytes_total;
    s->active = 0;
    P.active--;
}

void progress_folder(const char *name, const struct msg_meta *m, const size_t *idx, size_t n)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += m[idx[i]].size;
    char shown[sizeof P.name];
    show_name(name ? name : "", shown, sizeof shown);
    pthread_mutex_lock(&mu);
    if (!P.counting) {
        pthread_mutex_unlock(&mu);
        return;
    }
    struct slot *s = slot_of_locked();
    /* The same folder again on this thread: a retry after a lost session,
     * still one folder. */
    int again = s && s->active && strcmp(s->name, shown) == 0;
    if (s)
        retire_locked(s);
    if (!again)
        P.started++;
    if (!P.clock_on) {
        clock_gettime(CLOCK_MONOTONIC, &P.t0);
        P.clock_on = 1;
    }
    memcpy(P.name, shown, sizeof shown);
    P.msgs_total += n;
    P.bytes_total += bytes;
    if (s) {
        memcpy(s->name, shown, sizeof shown);
        s->msgs = n;
        s->bytes = bytes;
        s->done_msgs = s->done_bytes = 0;
        s->active = n > 0;
        P.active += s->active;
    }
    pthread_mutex_unlock(&mu);
}

void progress_copied(uint64_t msgs, uint64_t bytes)
{
    pthread_mutex_lock(&mu);
    if (!P.counting) {
        pthread_mutex_unlock(&mu);
        return;
    }
    P.msgs += msgs;
    P.bytes += bytes;
    struct slot *s = slot_of_locked();
    if (s && s->active) {
        s->done_msgs += msgs;
        s->done_bytes += bytes;
        /* Failed messages bring no bytes: the folder ends on its count. */
        if (s->done_msgs >= s->msgs)
            retire_locked(s);
    }
    pthread_mutex_unlock(&mu);
}

void progress_end(void)
{
    pthread_mutex_lock(&mu);
    if (!P.counting) {
        pthread_mutex_unlock(&mu);
        return;
    }
    P.stop = 1;
    pthread_cond_broadcast(&cv);
    int joined = P.thread_on;
    P.thread_on = 0;
    pthread_mutex_unlock(&mu);
    if (joined)
        pthread_join(P.thread, NULL);
    pthread_mutex_lock(&mu);
    if (P.mode == MODE_LINE && !P.midline && P.started > 0) {
        draw_line_locked(1);
        put("\n", 1);
    } else {
        clear_locked();
    }
    P.shown = 0;
    P.mode = MODE_OFF;
    P.counting = 0;
    pthread_mutex_unlock(&mu);
}

int progress_snapshot(struct progress_view *v, char *name, size_t namelen)
{
    pthread_mutex_lock(&mu);
    int on = P.counting;
    if (on) {
        view_locked(v, 0);
        if (name && namelen) {
            snprintf(name, namelen, "%s", P.name);
            v->name = P.started ? name : NULL;
        } else {
            v->name = NULL;
        }
    }
    pthread_mutex_unlock(&mu);
    return on;
}

/* ---- a batch's table ---- */

int progress_table_start(int wanted)
{
    pthread_mutex_lock(&mu);
    int on = 0;
    if (P.mode == MODE_OFF && wanted && terminal_ok()) {
        P.mode = MODE_TABLE;
        P.shown = 0;
        P.midline = 0;
        P.out_tty = isatty(1);
        on = 1;
    }
    pthread_mutex_unlock(&mu);
    return on;
}

void progress_table(const char *text)
{
    pthread_mutex_lock(&mu);
    if (P.mode == MODE_TABLE) {
        free(P.table);
        P.table = sbuf_xstrdup(text);
        draw_table_locked();
    }
    pthread_mutex_unlock(&mu);
}

void progress_table_end(void)
{
    pthread_mutex_lock(&mu);
    if (P.mode == MODE_TABLE) {
        if (P.shown == 0)
            draw_table_locked();
        P.shown = 0;
        P.mode = MODE_OFF;
    }
    free(P.table);
    P.table = NULL;
    pthread_mutex_unlock(&mu);
}

/* ---- log.c's hooks ---- */

/* Whether what goes to fd lands on the terminal we draw on. */
static int on_terminal_locked(int fd)
{
    return fd == 2 || (fd == 1 && P.out_tty);
}

void progress_log_begin(int fd)
{
    pthread_mutex_lock(&mu);
    if (on_terminal_locked(fd))
        clear_locked();
}

void progress_log_end(int fd, int line_ended)
{
    if (on_terminal_locked(fd)) {
        P.midline = !line_ended;
        draw_locked();
    }
    pthread_mutex_unlock(&mu);
}
