/* copy: moves the messages a plan says host2 lacks, host1 -> host2.
 *
 * Messages go in batches bounded by count and bytes: one UID FETCH for the
 * batch on host1, then as few APPENDs as host2 allows (MULTIAPPEND with
 * LITERAL+; one synchronising APPEND per message otherwise). At most one
 * batch of bodies is held in memory. A failing batch is retried message by
 * message, so one bad message costs only itself. */
#ifndef IMAPFERRY_COPY_H
#define IMAPFERRY_COPY_H

#include "imapc.h"
#include "msg_plan.h"
#include "status.h"
#include "throttle.h"
#include "transform.h"

#include <stddef.h>
#include <stdint.h>

/* What one folder's copy did, for the report. */
struct copy_result {
    uint64_t copied, bytes, biggest, failed;
    uint64_t skipped, bytes_skipped; /* left out by --skipmess / --maxlinelength */
    /* When the session was lost: the host1 UIDs of the messages sent whose
     * answer was lost with it (host2 may have stored them), malloc'd, the
     * caller's to free; NULL and 0 otherwise. */
    uint32_t *unanswered;
    size_t nunanswered;
};

/* Around each APPEND command (state's journal, journal.h): before() just
 * before m[0..n) are sent, after() once the server answered: stored = it
 * said OK, uid2 = host2's UIDs for them (APPENDUID) or NULL (none given,
 * or refused). When the session is lost in between, after() is not
 * called: that batch's fate is unknown. */
struct copy_hooks {
    void *ctx;
    void (*before)(void *ctx, const struct msg_meta *const *m, size_t n);
    void (*after)(void *ctx, const struct msg_meta *const *m, size_t n, int stored,
                  const uint32_t *uid2);
};

/* Called once for each message-level failure (the run goes on). */
typedef void (*copy_error_fn)(void *ctx, const struct status *st);

/* Copies m1[idx[0..n-1]] to mailbox on h2, pausing after each batch as th
 * says (NULL: no cap; borrowed). Each body is rewritten by tf first (NULL or
 * inactive: sent exactly as fetched; borrowed); a message a rule fails on
 * is reported and skipped, one a filter leaves out is logged and counted in
 * skipped. hooks may be NULL (borrowed). The bytes counted are those
 * sent. Returns -1
 * only when a session is lost or the run is interrupted (st filled);
 * message failures go to on_error. */
int copy_messages(struct imapc *h1, struct imapc *h2, const char *mailbox,
                  const struct msg_meta *m1, const size_t *idx, size_t n, int keywords_ok,
                  copy_error_fn on_error, void *ctx, struct throttle *th,
                  const struct transform *tf, const struct copy_hooks *hooks,
                  struct copy_result *res, struct status *st);

#endif
