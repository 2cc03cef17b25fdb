/* transform: --regexmess rules, then --truncmess, on one message. */
#include "transform.h"

#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

/* imapsync 2.229 l.1976, character for character: the header lines before
 * the field ($1), the field ($2), then the rest of the header ($3). */
const char transform_disarm_rule[] =
    "s{\\A((?:[^\\n]+\\r\\n)+|)(^Disposition-Notification-To:[^\\n]*\\n)(\\r?\\n|.*\\n\\r?\\n)}"
    "{$1X-$2$3}ims";

int transform_active(const struct transform *t)
{
    return t && (t->nregexmess > 0 || t->truncmess >= 0);
}

int transform_apply(const struct transform *t, const char *in, size_t len, char **out,
                    size_t *outlen, struct status *st)
{
    /* A message may hold NUL bytes: copy bytes, not a string. */
    char *cur = sbuf_xmalloc(len + 1);
    if (len)
        memcpy(cur, in, len);
    cur[len] = '\0';
    size_t n = len;
    for (size_t i = 0; t && i < t->nregexmess; i++) {
        char *next = NULL;
        size_t nn = 0;
        if (rx_apply(t->regexmess[i], cur, n, &next, &nn, st) < 0) {
            free(cur);
            *out = NULL;
            return status_prefix(st, st->code, "--regexmess");
        }
        free(cur);
        cur = next;
        n = nn;
    }
    /* imapsync's substr: the first N bytes, whatever they cut. */
    if (t && t->truncmess >= 0 && (unsigned long long)t->truncmess < n) {
        n = (size_t)t->truncmess;
        cur[n] = '\0';
    }
    *out = cur;
    if (outlen)
        *outlen = n;
    return 0;
}
