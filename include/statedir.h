/* statedir: the directory of one account pair's state, and the lock that
 * lets one run at a time work on that pair.
 *
 * Two runs on the same host1/user1 -> host2/user2 at once (a cron overlap,
 * a second terminal, a CSV listing a user twice) would both copy what
 * host2 lacks: every message twice. So each run holds an fcntl lock on
 * DIR/<pair>/lock for its whole life, with or without --pidfilelocking
 * and with --nostate too; a second run exits 8 naming the first one's pid.
 * The lock goes with the process, so a crash never leaves it behind. */
#ifndef IMAPFERRY_STATEDIR_H
#define IMAPFERRY_STATEDIR_H

#include "status.h"

#include <stddef.h>

/* A held pair lock; owned by the caller, released with statedir_release. */
struct statedir;

/* The default state root: $XDG_STATE_HOME/imapferry, else
 * $HOME/.local/state/imapferry, else $TMPDIR (or /tmp)/imapferry-state-UID.
 * Writes into buf and returns it. */
const char *statedir_default_root(char *buf, size_t n);

/* An account is a user on a host and port. Creates root/<pair> (mode 0700,
 * parents too) for the account pair and
 * locks it. Fails with STATUS_PIDFILE (8) when another run holds it, and
 * STATUS_OTHER when the directory cannot be made or is not ours. */
int statedir_acquire(const char *root, const char *host1, int port1, const char *user1,
                     const char *host2, int port2, const char *user2, struct statedir **out,
                     struct status *st);
/* The pair's directory (valid until statedir_release). */
const char *statedir_path(const struct statedir *d);
/* Unlocks and frees; NULL is allowed. */
void statedir_release(struct statedir *d);

#endif
