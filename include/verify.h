/* verify: --verify (after the sync) and --justverify (instead of it):
 * host2 compared with host1, folder pair by folder pair.
 *
 * Messages are paired by identity exactly as the sync pairs them
 * (msg_plan_build), then each pair is compared by content (SHA-256 of
 * BODY.PEEK[], streamed: see imapc_fetch_digests), flags and INTERNALDATE.
 * Every difference is one log line and one count in the report: a host1
 * message missing on host2, a host2 message host1 lacks (extra), a pair
 * whose contents differ (the server altered the message: Cyrus rewrites
 * 8-bit header bytes and keeps the size), flags that differ, dates that
 * differ. Nothing is changed on either server: both folders are only
 * EXAMINEd and bodies fetched with BODY.PEEK. */
#ifndef IMAPFERRY_VERIFY_H
#define IMAPFERRY_VERIFY_H

#include "config.h"
#include "folder_plan.h"
#include "msg.h"
#include "msg_plan.h"
#include "report.h"
#include "status.h"

#include <stddef.h>

struct imapc;

enum verify_kind {
    VERIFY_MISSING, /* on host1, not on host2 */
    VERIFY_EXTRA,   /* on host2, not on host1 */
    VERIFY_ALTERED, /* paired, other contents */
    VERIFY_FLAGS,   /* paired, other flags */
    VERIFY_DATE,    /* paired, other INTERNALDATE */
};

#define VERIFY_NONE ((size_t)-1)

struct verify_diff {
    enum verify_kind kind;
    size_t i1, i2; /* indices into m1 and m2; VERIFY_NONE for the side that has none */
};

/* Pure: the differences between the two sides of one folder pair, given
 * their metadata and the plan msg_plan_build made of them. d1[k] and d2[k]
 * are the digests of pair k of plan on host1 and host2 (NULL: contents not
 * compared); dates: compare INTERNALDATE (a side without one is not
 * compared). Order: missing (host1 UID order), then per pair altered,
 * flags, date, then extra (host2 UID order). *out is malloc'd (free());
 * returns the count. */
size_t verify_compare(const struct msg_meta *m1, const struct msg_meta *m2,
                      const struct msg_plan *plan, const unsigned char (*d1)[32],
                      const unsigned char (*d2)[32], int dates, struct verify_diff **out);

/* "missing on host2", "extra on host2", "altered on host2", "flags differ",
 * "date differs". */
const char *verify_kind_name(enum verify_kind k);

/* Compares every folder pair of plan (pairs merged into one host2 folder
 * are compared as one), on the run's sessions h[0] (host1) and h[1]
 * (host2), which stay owned by the caller. A pair whose host2 folder was
 * never created (create == 1) has nothing on host2. Counts go to rep (its
 * verify fields); a folder that cannot be read is reported as an error and
 * the others go on. Returns -1 only when a session is lost or the run is
 * interrupted (st filled). */
int verify_run(const struct config *cfg, struct imapc *const h[2], const struct folder_plan *plan,
               struct report *rep, struct status *st);

#endif
