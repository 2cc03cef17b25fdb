/* batch: `--csv FILE`, a list of accounts run as parallel jobs.
 *
 * Each account line (csv.h) runs as a child process of this same binary
 * with the options of the command line, replaced by the line's own, and the
 * line's hosts, users and passwords. Passwords never reach a child's argv:
 * each one is written to a pipe the child reads as --passfileN /dev/fd/K.
 * At most --jobs children run at once (2), and with --maxconnsperhost K at
 * most K sessions are open on one server (each job holds one per host). A
 * failing line never stops the others.
 *
 * Everything goes to one folder, LOGDIR/batch-YYYY_MM_DD_HH_MM_SS (LOGDIR:
 * --logdir, default LOG_imapferry): batch.txt (what the batch printed),
 * one log and pid file per line (lineN_USER1_USER2.txt, lineN.pid),
 * summary.json (one entry per line) and failures.csv (the lines that did not
 * succeed, verbatim, so that `--csv failures.csv` retries exactly them). */
#ifndef IMAPFERRY_BATCH_H
#define IMAPFERRY_BATCH_H

#include "options.h"

/* Runs the batch the parsed command line describes (--csv, --jobs or
 * --maxconnsperhost given) and returns the exit code: 0 when every line
 * succeeded, 111 when some did not, 6 when stopped by a signal, 64 for a
 * usage error (a malformed line is named with its number; nothing runs), 66
 * for an unreadable file, 8 when the batch's pid file is held. */
int batch_run(const struct options *o, const char *argv0);

/* What a child's exit code means, for the table and summary.json: "ok",
 * "auth", "connection", "tls", "quota", "partial", "limit", "locked",
 * "usage", "password file", "signal", "subfolder", "internal", "verify", "other". */
const char *batch_class(int exit_code);

#endif
