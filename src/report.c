/* report: the counters of a run, its statistics block and exit code. */
#include "report.h"

#include "log.h"
#include "stop.h"

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

void report_error(struct report *r, const struct status *st)
{
    log_err("imapferry: ERROR: %s\n", st->msg);
    r->errors++;
    r->by_code[(unsigned)st->code & 0xFF]++;
    if (r->errorsmax && r->errors == r->errorsmax) {
        /* imapsync's --errorsmax: a run that fails this often is fighting
         * something a rerun will not fix; the stop flag ends it as a
         * signal would, with the exit code of its errors. */
        log_err("imapferry: %u errors, the --errorsmax limit: stopping\n", r->errors);
        stop_requested = 1;
    }
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

void report_print(const struct report *r)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - r->t0.tv_sec) + (double)(now.tv_nsec - r->t0.tv_nsec) / 1e9;
    double rate_div = secs > 0 ? secs : 1e-9;

    log_out("++++ Statistics\n");
    when("Transfer started on", r->started);
    when("Transfer ended on", time(NULL));
    log_out("%-40s: %.1f sec\n", "Transfer time", secs);
    log_out("%-40s: %u/%u synced\n", "Folders synced", r->folders_synced, r->folders_wanted);
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
    log_out("%-40s: 0\n", "Messages deleted on host1");
    log_out("%-40s: %llu\n", "Messages deleted on host2", (unsigned long long)r->deleted2);
    log_out("%-40s: %llu (%.3f MiB)\n", "Total bytes transferred", (unsigned long long)r->bytes,
            mib(r->bytes));
    log_out("%-40s: %llu (%.3f MiB)\n", "Total bytes skipped", (unsigned long long)r->bytes_skipped,
            mib(r->bytes_skipped));
    log_out("%-40s: %.1f messages/s\n", "Message rate", (double)r->transferred / rate_div);
    log_out("%-40s: %.1f KiB/s\n", "Average bandwidth rate", (double)r->bytes / 1024.0 / rate_div);
    log_out("%-40s: %u\n", "Reconnections to host1", r->reconnections[0]);
    log_out("%-40s: %u\n", "Reconnections to host2", r->reconnections[1]);
    log_out("%-40s: %.1f MiB\n", "Memory consumption at the end", mib(rss_now()));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    log_out("%-40s: %.2f sec %.1f %%cpu\n", "CPU time and %cpu", cpu, 100.0 * cpu / rate_div);
    log_out("%-40s: %llu bytes (%.3f MiB)\n", "Biggest message transferred",
            (unsigned long long)r->biggest, mib(r->biggest));
    if (r->biggest)
        log_out("%-40s: %.1f\n", "Memory/biggest message ratio",
                (double)rss_peak() / (double)r->biggest);
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
    if (!r->justfolders) {
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
    log_out("%-40s: %.1f MiB\n", "Peak memory", mib(rss_peak()));
    if (r->folders_unchanged)
        log_out("%-40s: %u\n", "Folders unchanged since last run", r->folders_unchanged);
}

int report_exit_code(const struct report *r)
{
    if (r->errors == 0)
        return STATUS_OK;
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
