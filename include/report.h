/* report: the run's counters, error lines and the final statistics block.
 *
 * The block keeps imapsync's field names and order, so scripts that grep
 * "Messages transferred" or "Detected N errors" keep working; our additions
 * come after imapsync's fields. */
#ifndef IMAPFERRY_REPORT_H
#define IMAPFERRY_REPORT_H

#include "status.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* What a folder pair came to, as report_folder receives it (strings
 * borrowed for the call) and keeps it (strings owned by the report). */
struct report_folder {
    const char *name1, *name2; /* for people: UTF-8 */
    const char *wire1, *wire2; /* as on the wire (modified UTF-7); NULL when
                                  given: encoded from name1/name2 */
    uint64_t copied;           /* or, with --dry, would be */
    uint64_t skipped;          /* already on host2 */
    uint64_t bytes, flag_updates, errors;
    int unchanged; /* left alone: the pair's state showed no change */
};

/* What an error line is about (report_line_class). */
enum report_class {
    REPORT_MESSAGE,    /* one message: fetch, append, flags */
    REPORT_FOLDER,     /* one folder: create, select, a folder given up */
    REPORT_CONNECTION, /* a session: connect, TLS */
    REPORT_FATAL,      /* what ended the run (or kept it from starting) */
};

struct report_line {
    int code; /* enum status_exit */
    enum report_class cls;
    char *msg; /* owned */
};

#define REPORT_MAX_LINES 1000

/* The kinds of difference --verify counts (enum verify_kind). */
#define REPORT_VERIFY_KINDS 5

/* The figures that are only known at the end, measured once so that the
 * statistics block and the JSON report say the same. */
struct report_end {
    int done;
    time_t ended;      /* wall clock */
    double secs;       /* monotonic duration */
    double cpu;        /* user + system seconds */
    uint64_t rss_end;  /* resident memory at the end, bytes */
    uint64_t rss_peak; /* peak resident memory, bytes */
};

struct report {
    time_t started;
    struct timespec t0;
    int dry;
    unsigned folders_wanted, folders_synced;
    unsigned folders_unchanged; /* skipped by their state (no change on either side) */
    int aborted;                /* the run stopped before its last folder: no "looks good" */
    uint64_t deleted2;          /* messages removed from host2 (--delete2) */
    uint64_t deleted1;          /* messages removed from host1 (--delete1) */
    unsigned folders_deleted2;  /* folders removed from host2 (--delete2folders) */
    unsigned errorsmax;         /* --errorsmax: stop the run at this many errors; 0 = never */
    uint64_t transferred;       /* copied (or, in dry mode, would be) */
    uint64_t skipped;           /* already on host2 */
    uint64_t bytes, bytes_skipped, biggest;
    uint64_t h1_not_h2; /* at the end: host1 messages still missing on host2 */
    uint64_t h2_not_h1;
    int foldersizes;      /* print the start size difference (--foldersizes) */
    int foldersizesatend; /* and the final one (--foldersizesatend) */
    int justfolders;      /* no message was looked at: no verdict sentences */
    uint64_t dup1, dup2;
    uint64_t h1_msgs, h1_bytes;
    uint64_t h2_msgs_start, h2_bytes_start, h2_msgs_end, h2_bytes_end;
    unsigned reconnections[2];
    /* --verify (1, after the sync) or --justverify (2, no sync: no sync
     * verdicts); 0 = neither. Counts by enum verify_kind (verify.h). */
    int verify;
    unsigned verify_folders;
    uint64_t verify_checked; /* host1 messages compared */
    uint64_t verify_diffs[REPORT_VERIFY_KINDS];
    unsigned errors;
    unsigned by_code[256];

    /* For --json (report_json.h); owned, released by report_free. */
    struct report_line *lines; /* the first REPORT_MAX_LINES error lines */
    size_t nlines;
    unsigned lines_dropped; /* error lines past that bound */
    struct report_folder *folders;
    size_t nfolders, folders_cap;
    struct report_end end; /* set once by report_finish */
};

void report_init(struct report *r, int dry, int foldersizes, int foldersizesatend, int justfolders);
/* Prints the error (one line on stderr) and counts it; the single place where
 * failures reach the user. An error reported once r->aborted is set is the
 * one that ended the run: its class is REPORT_FATAL. */
void report_error(struct report *r, const struct status *st);
/* Counts and keeps, as REPORT_FATAL, an error the caller has already shown
 * (one that stopped the run before it began); prints nothing. */
void report_fatal(struct report *r, const struct status *st);
/* The class of an error line of this code, reported while the run goes on. */
enum report_class report_line_class(int code);
/* Keeps a copy of one folder pair's result for the JSON report. */
void report_folder(struct report *r, const struct report_folder *f);
/* Takes the end figures (r->end) if not yet taken. */
void report_finish(struct report *r);
/* report_finish, then the statistics block. */
void report_print(struct report *r);
/* The differences --verify found, all kinds together. */
uint64_t report_verify_total(const struct report *r);
/* 0 without errors; otherwise the most frequent error's exit code; with no
 * error but differences found by --verify, STATUS_VERIFY. */
int report_exit_code(const struct report *r);
/* Releases what the report owns (error lines, folders). */
void report_free(struct report *r);

#endif
