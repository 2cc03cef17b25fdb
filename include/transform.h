/* transform: imapsync's message rewriting before APPEND, only on request.
 *
 * In imapsync's order (message_for_host2): each --regexmess rule in turn
 * (the user's, then those a preset adds, then --disarmreadreceipts'), then
 * --truncmess. Without any of them nothing is called and every message is
 * copied byte for byte. Pure: no I/O; the rules are immutable, so the
 * fetcher thread may apply them. */
#ifndef IMAPFERRY_TRANSFORM_H
#define IMAPFERRY_TRANSFORM_H

#include "rx.h"
#include "status.h"

#include <stddef.h>

/* imapsync's --disarmreadreceipts rule (pushed after every --regexmess):
 * Disposition-Notification-To: in the header becomes
 * X-Disposition-Notification-To:, so host2 never sends a read receipt. */
extern const char transform_disarm_rule[];

/* What to do to each message; borrowed pointers (the config owns the rules). */
struct transform {
    const struct rx_rule *const *regexmess; /* s/// or tr/// rules, in order */
    size_t nregexmess;
    long long truncmess; /* keep at most this many bytes; -1 = no cut */
};

/* Whether t changes anything at all (NULL: no). */
int transform_active(const struct transform *t);

/* Rewrites in[0..len): *out is malloc'd (free()), NUL-terminated, *outlen
 * its length without the NUL. -1 and *out NULL when a rule fails at run
 * time (PCRE2's match limit): st names the rule. */
int transform_apply(const struct transform *t, const char *in, size_t len, char **out,
                    size_t *outlen, struct status *st);

#endif
