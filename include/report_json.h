/* report_json: --json FILE, the machine-readable report of a run.
 *
 * One JSON object (schema version 1, documented in imapferry(1), JSON
 * REPORT) built from struct report: the statistics block's figures, one
 * entry per folder pair, the error lines with their class, the exit code.
 * It names the hosts, ports and users, never a password. The file is
 * written whole or not at all (a temporary file in the same folder, fsync,
 * rename), mode 0600; "-" means standard output. */
#ifndef IMAPFERRY_REPORT_JSON_H
#define IMAPFERRY_REPORT_JSON_H

#include "report.h"
#include "sbuf.h"
#include "status.h"

#define REPORT_JSON_VERSION 1

/* What the report does not hold: who the run was between, how it ended.
 * Strings borrowed; user may be NULL. */
struct report_json_run {
    const char *host[2];
    int port[2];
    const char *user[2];
    int exit_code;
    int signal; /* the signal that stopped the run, 0 = none */
};

/* Appends s as a JSON string, quotes included: control characters
 * escaped, bytes that are not UTF-8 as \ufffd. */
void report_json_string(struct sbuf *b, const char *s);

/* Appends the whole object (and a final newline). r->end must be set
 * (report_finish). */
void report_json_render(struct sbuf *b, const struct report *r, const struct report_json_run *run);

/* Before the run: makes the missing folders above path (mode 0700) and
 * checks that path can take the report, so a wrong one fails at once
 * rather than after the sync. An existing file must be a regular file of
 * ours with one link, as the log file: a symbolic link, FIFO or another
 * user's file is refused (STATUS_OTHER). "-" needs nothing. */
int report_json_prepare(const char *path, struct status *st);

/* report_finish, then writes the report to path atomically (or to stdout
 * for "-"). STATUS_OTHER on failure. */
int report_json_write(const char *path, struct report *r, const struct report_json_run *run,
                      struct status *st);

#endif
