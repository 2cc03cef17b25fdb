/* lock: the pid file (imapsync's --pidfile / --pidfilelocking).
 *
 * The file holds our pid on line 1 and the log file path on line 2. A file
 * left by a process that no longer runs is removed (stale). With locking, a
 * file held by a running process makes us stop at once (STATUS_PIDFILE)
 * without touching anything; it is created with O_EXCL, so two runs that
 * start together cannot both win. */
#ifndef IMAPFERRY_LOCK_H
#define IMAPFERRY_LOCK_H

#include "status.h"

#include <stddef.h>

struct lock;

/* path NULL or "" = no pid file (*out = NULL, returns 0). notes receives
 * a line for the user when something was done (stale file removed, file
 * overwritten), else "". */
int lock_acquire(const char *path, int locking, const char *logfile, struct lock **out, char *notes,
                 size_t notes_len, struct status *st);
/* Removes the file if it still names us; frees. NULL is allowed. */
void lock_release(struct lock *l);

/* The default path: $TMPDIR/imapferry.pid, or /tmp/imapferry.pid. */
const char *lock_default_path(char *buf, size_t n);

#endif
