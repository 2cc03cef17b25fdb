/* report: the run's counters, error lines and the final statistics block.
 *
 * The block keeps imapsync's field names and order, so scripts that grep
 * "Messages transferred" or "Detected N errors" keep working; our additions
 * come after imapsync's fields. */
#ifndef IMAPFERRY_REPORT_H
#define IMAPFERRY_REPORT_H

#include "status.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct report {
    time_t started;
    struct timespec t0;
    int dry;
    unsigned folders_wanted, folders_synced;
    unsigned folders_unchanged; /* skipped by their state (no change on either side) */
    int aborted;                /* the run stopped before its last folder: no "looks good" */
    uint64_t deleted2;          /* messages removed from host2 (--delete2) */
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
    unsigned errors;
    unsigned by_code[256];
};

void report_init(struct report *r, int dry, int foldersizes, int foldersizesatend, int justfolders);
/* Prints the error (one line on stderr) and counts it; the single place where
 * failures reach the user. */
void report_error(struct report *r, const struct status *st);
void report_print(const struct report *r);
/* 0 without errors; otherwise the most frequent error's exit code. */
int report_exit_code(const struct report *r);

#endif
