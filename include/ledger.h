/* ledger: --ledger FILE, one JSON line per message a run considered.
 *
 * For admins who must account for every message: which folder pair, host1
 * UID, host2 UID when known, identity, size, and what happened to it
 * (copied, already there, filtered and by what, too big, failed and why,
 * would be copied under --dry). Lines are written as they happen, by every
 * folder worker, whole (one lock), so a run cut off still leaves a ledger
 * of what it did. The schema is in the man page (LEDGER). */
#ifndef IMAPFERRY_LEDGER_H
#define IMAPFERRY_LEDGER_H

#include "msg.h"
#include "status.h"

#include <stdint.h>

#define LEDGER_VERSION 1

/* Opens path for the run (created 0600, appended to; a symlink, FIFO or
 * another user's file is refused like the log file). */
int ledger_open(const char *path, struct status *st);
/* Flushes and closes; nothing happens when no ledger is open. */
void ledger_close(void);
/* The folder pair the calling thread works on now (borrowed strings, kept
 * until the next call from the same thread). */
void ledger_pair(const char *name1, const char *name2);
/* One message: uid2 0 = not known; reason NULL = none. No-op without a
 * ledger. */
void ledger_message(const struct msg_meta *m, uint32_t uid2, const char *outcome,
                    const char *reason);

/* One difference --verify found between host1's m1 and host2's m2 (either
 * may be NULL): outcome "verify: " and verify's name for it. */
void ledger_verify(const struct msg_meta *m1, const struct msg_meta *m2, const char *kind);

#endif
