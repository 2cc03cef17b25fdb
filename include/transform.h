/* transform: imapsync's message filters and rewriting before APPEND, only
 * on request.
 *
 * In imapsync's order (message_for_host2, then copy_message): --skipmess
 * (a match leaves the message out), each --regexmess rule in turn (the
 * user's, then those a preset adds, then --disarmreadreceipts'), the
 * --addheader line for a message without Message-ID, --truncmess, then
 * --maxlinelength (a longer line leaves the message out). Without any of
 * them nothing is called and every message is copied byte for byte. After
 * the --regexmess rules, each --pipemess command in turn rewrites the
 * message (pipemess module), and --maxlinelengthcmd rewrites a message
 * whose line is too long instead of leaving it out. Apart from those
 * commands, pure; the rules are immutable, so the fetcher thread may apply
 * them. */
#ifndef IMAPFERRY_TRANSFORM_H
#define IMAPFERRY_TRANSFORM_H

#include "rx.h"
#include "status.h"

#include <stddef.h>
#include <stdint.h>

/* imapsync's --disarmreadreceipts rule (pushed after every --regexmess):
 * Disposition-Notification-To: in the header becomes
 * X-Disposition-Notification-To:, so host2 never sends a read receipt. */
extern const char transform_disarm_rule[];

/* What to do to each message; borrowed pointers (the config owns the rules).
 * Fields after truncmess are 0 when unused, so a short initialiser holds. */
struct transform {
    const struct rx_rule *const *regexmess; /* s/// or tr/// rules, in order */
    size_t nregexmess;
    long long truncmess;                   /* keep at most this many bytes; -1 = no cut */
    const struct rx_rule *const *skipmess; /* m// rules: a match skips the message */
    size_t nskipmess;
    long long maxlinelength;     /* skip when a line, its \n included, is longer; 0 = no limit */
    int addheader;               /* prepend "Message-Id: <UID@imapsync>" when there is none */
    const char *const *pipemess; /* shell commands, in order */
    size_t npipemess;
    const char *maxlinelengthcmd; /* NULL: a too long line leaves the message out */
};

/* The line --addheader puts first, as imapsync's add_header writes it. */
#define TRANSFORM_ADDHEADER_FMT "Message-Id: <%lu@imapsync>\r\n"

/* Whether t changes anything at all (NULL: no). */
int transform_active(const struct transform *t);

/* The --regexmess rules, then --truncmess, on in[0..len) (the filters
 * and --addheader are transform_message's): *out is malloc'd (free()), NUL-terminated, *outlen
 * its length without the NUL. -1 and *out NULL when a rule fails at run
 * time (PCRE2's match limit): st names the rule. */
int transform_apply(const struct transform *t, const char *in, size_t len, char **out,
                    size_t *outlen, struct status *st);

/* The length of the longest line of in[0..len), counting its \n (Perl's
 * max_line_length in imapsync). */
size_t transform_max_line(const char *in, size_t len);

/* The whole pipeline on host1's message uid: 0 with *out as for
 * transform_apply (the message goes to host2); 1 when a filter leaves it
 * out (*out NULL, why names the option, e.g. "skipped by --skipmess"); -1
 * when a rule fails at run time or a command fails (st names it). */
int transform_message(const struct transform *t, uint32_t uid, const char *in, size_t len,
                      char **out, size_t *outlen, char *why, size_t whylen, struct status *st);

#endif
