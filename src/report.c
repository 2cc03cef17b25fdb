/* report: the counters of a run, its statistics block and exit code. */
#include "report.h"

#include "log.h"
#include "mutf7.h"
#include "sbuf.h"
#include "stop.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void report_init(struct report *r, int dry, int foldersizes, int foldersizesatend, int justfolders)
{
    memset(r, 0, sizeof *r);
    r->dry = dry;
    r->foldersizes = foldersizes;
    r->foldersizesatend = foldersizesatend;
    r->justfolders = justfolders;
    r->started = time(NULL);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
}

enum report_class report_line_class(int code)
{
    switch (code) {
    case STATUS_ERR_APPEND:
    case STATUS_ERR_FETCH:
    case STATUS_ERR_FLAGS:
        return REPORT_MESSAGE;
    case STATUS_CONNECT:
    case STATUS_CONNECT_HOST1:
    case STATUS_CONNECT_HOST2:
    case STATUS_TLS:
        return REPORT_CONNECTION;
    /* None of these lets a run go on. */
    case STATUS_SIGNAL:
    case STATUS_PIDFILE:
    case STATUS_AUTH:
    case STATUS_AUTH_HOST1:
    case STATUS_AUTH_HOST2:
    case STATUS_USAGE:
    case STATUS_NOINPUT:
    case STATUS_INTERNAL:
    case STATUS_TRANSFER_LIMIT:
        return REPORT_FATAL;
    default:
        /* 111 and 1 come from folder-wide steps (a folder given up after
         * reconnections, --delete2ceiling, SUBSCRIBE, EXPUNGE). */
        return REPORT_FOLDER;
    }
}

/* Bounded, so a run failing on every message cannot grow without end. */
static void keep_line(struct report *r, const struct status *st, enum report_class cls)
{
    if (r->nlines >= REPORT_MAX_LINES) {
        r->lines_dropped++;
        return;
    }
    if (r->lines == NULL)
        r->lines = sbuf_xcalloc(REPORT_MAX_LINES, sizeof *r->lines);
    struct report_line *l = &r->lines[r->nlines++];
    l->code = st->code;
    l->cls = cls;
    l->msg = sbuf_xstrdup(st->msg);
}

void report_fatal(struct report *r, const struct status *st)
{
    r->errors++;
    r->by_code[(unsigned)st->code & 0xFF]++;
    keep_line(r, st, REPORT_FATAL);
}

void report_error(struct report *r, const struct status *st)
{
    log_err("imapferry: ERROR: %s\n", st->msg);
    r->errors++;
    r->by_code[(unsigned)st->code & 0xFF]++;
    keep_line(r, st, r->aborted ? REPORT_FATAL : report_line_class(st->code));
    if (r->errorsmax && r->errors == r->errorsmax) {
        /* imapsync's --errorsmax: a run that fails this often is fighting
         * something a rerun will not fix; the stop flag ends it as a
         * signal would, with the exit code of its errors. */
        log_err("imapferry: %u errors, the --errorsmax limit: stopping\n", r->errors);
        stop_requested = 1;
    }
}

/* The other form of a folder name: wire from UTF-8 or UTF-8 from wire; a
 * name that does not convert is kept as it is (the JSON writer replaces
 * bytes that are not UTF-8). */
static char *other_form(const char *name, int to_wire)
{
    char *out = NULL;
    struct status ignored;
    int rc = to_wire ? mutf7_encode(name, &out, &ignored) : mutf7_decode(name, &out, &ignored);
    return rc == 0 ? out : sbuf_xstrdup(name);
}

static void keep_names(const char *show, const char *wire, const char **show_out,
                       const char **wire_out)
{
    char *name = show ? sbuf_xstrdup(show) : wire ? other_form(wire, 0) : sbuf_xstrdup("");
    *show_out = name;
    *wire_out = wire ? sbuf_xstrdup(wire) : other_form(name, 1);
}

void report_folder(struct report *r, const struct report_folder *f)
{
    if (r->nfolders == r->folders_cap) {
        r->folders_cap = r->folders_cap ? 2 * r->folders_cap : 16;
        r->folders = sbuf_xrealloc(r->folders, r->folders_cap * sizeof *r->folders);
    }
    struct report_folder *k = &r->folders[r->nfolders++];
    *k = *f;
    keep_names(f->name1, f->wire1, &k->name1, &k->wire1);
    keep_names(f->name2, f->wire2, &k->name2, &k->wire2);
}

void report_free(struct report *r)
{
    for (size_t i = 0; i < r->nlines; i++)
        free(r->lines[i].msg);
    free(r->lines);
    r->lines = NULL;
    r->nlines = 0;
    for (size_t i = 0; i < r->nfolders; i++) {
        /* const for report_folder's callers; these copies are ours. */
        free((char *)r->folders[i].name1);
        free((char *)r->folders[i].name2);
        free((char *)r->folders[i].wire1);
        free((char *)r->folders[i].wire2);
    }
    free(r->folders);
    r->folders = NULL;
    r->nfolders = r->folders_cap = 0;
}

static void when(const char *label, time_t t)
{
    struct tm tm;
    char buf[64];
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%A %d %B %Y-%m-%d %H:%M:%S %z %Z", &tm);
    log_out("%-40s: %s\n", label, buf);
}

/* Resident memory now, from /proc; 0 where /proc is missing. */
static uint64_t rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Peak resident memory. Not getrusage's ru_maxrss: Linux carries that over
 * execve, so it would report the shell or Python that started us. */
static uint64_t rss_peak(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return (uint64_t)kib * 1024;
}

static double mib(uint64_t n)
{
    return (double)n / (1024.0 * 1024.0);
}

void report_finish(struct report *r)
{
    if (r->end.done)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    r->end.secs = (double)(now.tv_sec - r->t0.tv_sec) + (double)(now.tv_nsec - r->t0.tv_nsec) / 1e9;
    r->end.ended = time(NULL);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->end.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    r->end.rss_end = rss_now();
    r->end.rss_peak = rss_peak();
    r->end.done = 1;
}

void report_print(struct report *r)
{
    report_finish(r);
    double secs = r->end.secs;
    double rate_div = secs > 0 ? secs : 1e-9;

    log_out("++++ Statistics\n");
    when("Transfer started on", r->started);
    when("Transfer ended on", r->end.ended);
    log_out("%-40s: %.1f sec\n", "Transfer time", secs);
    log_out("%-40s: %u/%u synced\n", "Folders synced", r->folders_synced, r->folders_wanted);
    if (r->folders_deleted2) /* imapsync 2.29x's line, after this one */
        log_out("%-40s: %u\n", "Folders deleted on host2", r->folders_deleted2);
    if (r->dry)
        log_out("%-40s: 0 (could be %llu without dry mode)\n", "Messages transferred",
                (unsigned long long)r->transferred);
    else
        log_out("%-40s: %llu\n", "Messages transferred", (unsigned long long)r->transferred);
    log_out("%-40s: %llu\n", "Messages skipped", (unsigned long long)r->skipped);
    log_out("%-40s: %llu\n", "Messages found duplicate on host1", (unsigned long long)r->dup1);
    log_out("%-40s: %llu\n", "Messages found duplicate on host2", (unsigned long long)r->dup2);
    /* Every message gets an identity (see msgid), so none is void. */
    log_out("%-40s: 0\n", "Messages void (noheader) on host1");
    log_out("%-40s: 0\n", "Messages void (noheader) on host2");
    log_out("%-40s: %llu messages\n", "Messages found in host1 not in host2",
            (unsigned long long)r->h1_not_h2);
    log_out("%-40s: %llu messages\n", "Messages found in host2 not in host1",
            (unsigned long long)r->h2_not_h1);
    log_out("%-40s: %llu\n", "Messages deleted on host1", (unsigned long long)r->deleted1);
    log_out("%-40s: %llu\n", "Messages deleted on host2", (unsigned long long)r->deleted2);
    log_out("%-40s: %llu (%.3f MiB)\n", "Total bytes transferred", (unsigned long long)r->bytes,
            mib(r->bytes));
    log_out("%-40s: %llu (%.3f MiB)\n", "Total bytes skipped", (unsigned long long)r->bytes_skipped,
            mib(r->bytes_skipped));
    log_out("%-40s: %.1f messages/s\n", "Message rate", (double)r->transferred / rate_div);
    log_out("%-40s: %.1f KiB/s\n", "Average bandwidth rate", (double)r->bytes / 1024.0 / rate_div);
    log_out("%-40s: %u\n", "Reconnections to host1", r->reconnections[0]);
    log_out("%-40s: %u\n", "Reconnections to host2", r->reconnections[1]);
    log_out("%-40s: %.1f MiB\n", "Memory consumption at the end", mib(r->end.rss_end));
    double cpu = r->end.cpu;
    log_out("%-40s: %.2f sec %.1f %%cpu\n", "CPU time and %cpu", cpu, 100.0 * cpu / rate_div);
    log_out("%-40s: %llu bytes (%.3f MiB)\n", "Biggest message transferred",
            (unsigned long long)r->biggest, mib(r->biggest));
    if (r->biggest)
        log_out("%-40s: %.1f\n", "Memory/biggest message ratio",
                (double)r->end.rss_peak / (double)r->biggest);
    else
        log_out("%-40s: NA\n", "Memory/biggest message ratio");
    if (r->foldersizes)
        log_out("%-40s: %lld messages, %lld bytes (%.3f MiB)\n", "Start difference host2 - host1",
                (long long)r->h2_msgs_start - (long long)r->h1_msgs,
                (long long)r->h2_bytes_start - (long long)r->h1_bytes,
                ((double)r->h2_bytes_start - (double)r->h1_bytes) / (1024.0 * 1024.0));
    if (r->foldersizesatend)
        log_out("%-40s: %lld messages, %lld bytes (%.3f MiB)\n", "Final difference host2 - host1",
                (long long)r->h2_msgs_end - (long long)r->h1_msgs,
                (long long)r->h2_bytes_end - (long long)r->h1_bytes,
                ((double)r->h2_bytes_end - (double)r->h1_bytes) / (1024.0 * 1024.0));
    if (!r->justfolders && r->verify != 2) {
        uint64_t h1 = r->h1_msgs, h2 = r->h2_msgs_end;
        /* The verdicts speak of every folder: after a failed folder or an
         * aborted run they would claim what was never compared. */
        int complete = !r->aborted && r->folders_synced == r->folders_wanted;
        if (r->h1_not_h2 > 0)
            log_out("The sync is not finished, there are %llu among %llu identified messages in "
                    "host1 that are not on host2.\n",
                    (unsigned long long)r->h1_not_h2, (unsigned long long)h1);
        else if (complete)
            log_out("The sync looks good, all %llu identified messages in host1 are on host2.\n",
                    (unsigned long long)h1);
        else
            log_out("The sync is not finished: %u of %u folders were not synced, their messages "
                    "were not compared.\n",
                    r->folders_wanted - r->folders_synced, r->folders_wanted);
        if (complete) {
            log_out("There is no unidentified message on host1.\n");
            if (r->h2_not_h1 == 0)
                log_out("The sync is strict, all %llu identified messages in host2 are on "
                        "host1.\n",
                        (unsigned long long)h2);
            else
                log_out("The sync is not strict, there are %llu among %llu identified messages "
                        "in host2 that are not on host1.\n",
                        (unsigned long long)r->h2_not_h1, (unsigned long long)h2);
        }
    }
    log_out("Detected %u errors\n", r->errors);
    /* Our additions, after imapsync's fields so its parsers still match. */
    log_out("%-40s: %.1f MiB\n", "Peak memory", mib(r->end.rss_peak));
    if (r->folders_unchanged)
        log_out("%-40s: %u\n", "Folders unchanged since last run", r->folders_unchanged);
    if (r->verify) {
        static const char *const kind[REPORT_VERIFY_KINDS] = {
            "Verify: missing on host2", "Verify: extra on host2", "Verify: altered on host2",
            "Verify: flags differ", "Verify: dates differ"};
        log_out("%-40s: %u\n", "Verify: folders checked", r->verify_folders);
        log_out("%-40s: %llu\n", "Verify: messages checked", (unsigned long long)r->verify_checked);
        for (int k = 0; k < REPORT_VERIFY_KINDS; k++)
            log_out("%-40s: %llu\n", kind[k], (unsigned long long)r->verify_diffs[k]);
        log_out("%-40s: %llu\n", "Verify: differences", (unsigned long long)report_verify_total(r));
    }
}

uint64_t report_verify_total(const struct report *r)
{
    uint64_t n = 0;
    for (int k = 0; k < REPORT_VERIFY_KINDS; k++)
        n += r->verify_diffs[k];
    return n;
}

int report_exit_code(const struct report *r)
{
    /* An error says more than a difference, which it often explains (a
     * message that failed to copy is missing). */
    if (r->errors == 0)
        return report_verify_total(r) ? STATUS_VERIFY : STATUS_OK;
    int best = STATUS_WITH_ERRORS;
    unsigned most = 0;
    for (int code = 1; code < 256; code++) {
        if (r->by_code[code] > most) {
            most = r->by_code[code];
            best = code;
        }
    }
    /* Unclassified errors end as imapsync's "finished with errors". */
    if (best == STATUS_OTHER)
        best = STATUS_WITH_ERRORS;
    return best;
}
