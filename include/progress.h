/* progress: what a run or a batch is doing, shown in place on a terminal.
 *
 * A sync shows one line on stderr, redrawn every half second by a thread of
 * this module: the folder being copied (or how many are, with --workers),
 * messages and bytes done of those planned in the folders begun so far, the
 * rate since copying began and the time left. A batch (--csv) hands over its
 * account table, which is redrawn below the log lines in the same way.
 *
 * Nothing is drawn unless stderr is a terminal whose TERM is set and is not
 * "dumb", and --noprogress was not given: logs, pipes and cron mails see
 * exactly the plain lines they always did. log.c calls the log hooks around
 * every line it prints, so a log line never lands inside the progress line:
 * the line is erased, the log line printed, and the progress drawn again.
 *
 * Every function may be called from any thread (one mutex). The module
 * keeps one run's figures for the process; it copies what it is given. */
#ifndef IMAPFERRY_PROGRESS_H
#define IMAPFERRY_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct msg_meta;

/* ---- one sync ---- */

/* The copy of the run's folder pairs (folders of them) begins; wanted = 0
 * (--noprogress) counts without drawing. Starts the redraw thread when the
 * line is shown. */
void progress_start(unsigned folders, int wanted);
/* The calling thread begins copying one folder: the n messages m[idx[]]
 * (their RFC822.SIZE makes the bytes planned). What this thread's previous
 * folder left undone leaves the totals, so a retried folder counts once. */
void progress_folder(const char *name, const struct msg_meta *m, const size_t *idx, size_t n);
/* The calling thread's folder got msgs more messages through (copied,
 * failed or left out by a filter), of bytes host1 bytes. */
void progress_copied(uint64_t msgs, uint64_t bytes);
/* Stops the redraw thread; a line that was shown is drawn a last time with
 * the final figures and left on the screen, so that later lines follow it. */
void progress_end(void);

/* The figures the line shows, from a snapshot under the lock. */
struct progress_view {
    unsigned folders; /* folder pairs of the run */
    unsigned started; /* folders whose copy began */
    unsigned active;  /* folders being copied now */
    const char *name; /* the folder begun last; NULL = none */
    uint64_t msgs, msgs_total;
    uint64_t bytes, bytes_total;
    double elapsed; /* seconds since the first folder began */
    int final;      /* the run is over: time taken instead of time left */
};

/* The current figures (name points into the module: use it before the
 * next call). Returns 0 when no run is being counted. */
int progress_snapshot(struct progress_view *v, char *name, size_t namelen);
/* The line for v, at most width - 1 columns so that a terminal never wraps
 * it (width 0: 80). Always NUL-terminated; returns its length. */
size_t progress_format(const struct progress_view *v, unsigned width, char *buf, size_t n);
/* 1536 -> "1.5KiB"; under 1 KiB in bytes ("512B"). */
void progress_human(uint64_t bytes, char *buf, size_t n);

/* ---- a batch's account table ---- */

/* Whether a table will be shown (the terminal checks above; wanted = 0:
 * --noprogress). Nothing is drawn before the first progress_table. */
int progress_table_start(int wanted);
/* Replaces the table with text (lines ending in '\n'), drawn at once. */
void progress_table(const char *text);
/* Leaves the table last drawn on the screen and stops redrawing it. */
void progress_table_end(void);

/* ---- log.c's hooks ---- */

/* A line is about to be written to fd: takes the module's lock and, when
 * fd is the terminal drawn on, erases what is shown. */
void progress_log_begin(int fd);
/* The line was written to fd; line_ended = 0 when it did not end in a
 * newline (the progress then waits for one). Draws again, drops the lock. */
void progress_log_end(int fd, int line_ended);

#endif
