/* lock: the pid file (imapsync's --pidfile / --pidfilelocking).
 *
 * The file holds our pid on line 1 and the log file path on line 2. It is
 * opened without following a symlink and without blocking (a FIFO cannot
 * hang us), and used only when it is a regular file of ours with one link;
 * anything else stops the run (STATUS_PIDFILE) before anything is done.
 *
 * Every run takes an fcntl write lock on the file and keeps it until the end;
 * the lock, not the pid written inside, says whether a run is alive, so a
 * stale pid neither blocks a run nor lets two through. With locking, a file
 * locked by another run makes us stop at once (STATUS_PIDFILE) naming that
 * run's pid; without it we overwrite the file as imapsync does and warn.
 * Two runs that start together with locking cannot both win: the lock is
 * taken on the inode that the path names, and the path is checked again once
 * the lock is held. */
#ifndef IMAPFERRY_LOCK_H
#define IMAPFERRY_LOCK_H

#include "status.h"

#include <stddef.h>

struct lock;

/* path NULL or "" = no pid file (*out = NULL, returns 0). notes receives
 * a line for the user when something was done (stale file replaced, file
 * overwritten), else "". */
int lock_acquire(const char *path, int locking, const char *logfile, struct lock **out, char *notes,
                 size_t notes_len, struct status *st);
/* Removes the file if the path still names the inode we wrote, that inode
 * still holds our pid and we hold its lock; unlocks and frees. NULL is
 * allowed. */
void lock_release(struct lock *l);

/* --abort: stops the run holding the pid file at path (the lock says which
 * one, not the pid written inside, which may be stale): SIGTERM, then
 * SIGKILL if it still holds the lock after wait_ms. *pid is that run's pid,
 * 0 when no run holds the file (nothing is done: not an error, as
 * imapsync). -1 only when the file cannot be examined (STATUS_PIDFILE). */
int lock_abort(const char *path, int wait_ms, long *pid, struct status *st);

/* The default path, private to the user: $XDG_RUNTIME_DIR/imapferry.pid when
 * that is a directory of ours that nobody else can write, else
 * $TMPDIR/imapferry-UID.pid, else /tmp/imapferry-UID.pid. */
const char *lock_default_path(char *buf, size_t n);

#endif
