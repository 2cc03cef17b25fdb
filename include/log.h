/* log: what the user sees, also written to the run's log file.
 *
 * log_out goes to stdout, log_err to stderr; both also go to the log file
 * once log_open succeeded. The file is created with mode 0600 in a folder
 * created with mode 0700, since it names hosts, users and folders. Callers
 * never pass a secret. The module keeps one open file for the process.
 * On a terminal, the progress line (progress.h) is erased before each line
 * and drawn again after it; the log file never sees it. */
#ifndef IMAPFERRY_LOG_H
#define IMAPFERRY_LOG_H

#include "status.h"

#include <stddef.h>

/* imapsync's convention: LOGDIR/YYYY_MM_DD_HH_MM_SS_mmm_USER1_USER2.txt, with
 * logdir "LOG_imapferry" by default; a given logfile is relative to logdir
 * unless logdir is "". */
void log_default_path(const char *logdir, const char *logfile, const char *user1, const char *user2,
                      char *buf, size_t n);
int log_open(const char *path, struct status *st);
void log_close(void);

void log_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
