/* transform: --skipmess, --regexmess, --pipemess, --addheader, --truncmess
 * and --maxlinelength (or --maxlinelengthcmd) on one message. */
#include "transform.h"

#include "msgid.h"
#include "pipemess.h"
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* imapsync 2.229 l.1976, character for character: the header lines before
 * the field ($1), the field ($2), then the rest of the header ($3). */
const char transform_disarm_rule[] =
    "s{\\A((?:[^\\n]+\\r\\n)+|)(^Disposition-Notification-To:[^\\n]*\\n)(\\r?\\n|.*\\n\\r?\\n)}"
    "{$1X-$2$3}ims";

int transform_active(const struct transform *t)
{
    return t && (t->nregexmess > 0 || t->truncmess >= 0 || t->nskipmess > 0 ||
                 t->maxlinelength > 0 || t->addheader || t->npipemess > 0);
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

size_t transform_max_line(const char *in, size_t len)
{
    size_t max = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n') {
            if (i + 1 - start > max)
                max = i + 1 - start;
            start = i + 1;
        }
    }
    return len - start > max ? len - start : max;
}

/* imapsync's NO_HEADER test, made with the parser that keys host1's
 * messages (imapc), so a message gets the line exactly when its key was
 * built from that line. */
static int lacks_msgid(const char *in, size_t len)
{
    struct msgid_key k;
    int has = 0;
    msgid_key_from_headers(in, len, 0, 0, &k, &has);
    return !has;
}

int transform_message(const struct transform *t, uint32_t uid, const char *in, size_t len,
                      char **out, size_t *outlen, char *why, size_t whylen, struct status *st)
{
    *out = NULL;
    if (whylen)
        why[0] = '\0';
    /* On the message as fetched, before any rewriting (imapsync). */
    for (size_t i = 0; t && i < t->nskipmess; i++) {
        int m = rx_match(t->skipmess[i], in, len);
        if (m < 0)
            return status_set(st, STATUS_USAGE,
                              "--skipmess rule \"%.160s\": too complex for "
                              "this message (match limit)",
                              rx_source(t->skipmess[i]));
        if (m) {
            snprintf(why, whylen, "skipped by --skipmess");
            return 1;
        }
    }
    int add = t && t->addheader && lacks_msgid(in, len);
    struct transform rules = t ? *t : (struct transform){.truncmess = -1};
    /* --truncmess comes after the added line, so it waits. */
    rules.truncmess = -1;
    char *cur = NULL;
    size_t n = 0;
    if (transform_apply(&rules, in, len, &cur, &n, st) < 0)
        return -1;
    for (size_t i = 0; t && i < t->npipemess; i++) {
        char what[48], *next;
        snprintf(what, sizeof what, "--pipemess #%zu", i + 1);
        int rc = pipemess_run(what, t->pipemess[i], cur, n, &next, &n, st);
        free(cur);
        if (rc < 0)
            return -1;
        cur = next;
    }
    if (add) {
        char line[64];
        int k = snprintf(line, sizeof line, TRANSFORM_ADDHEADER_FMT, (unsigned long)uid);
        char *next = sbuf_xmalloc((size_t)k + n + 1);
        memcpy(next, line, (size_t)k);
        memcpy(next + k, cur, n + 1);
        free(cur);
        cur = next;
        n += (size_t)k;
    }
    if (t && t->truncmess >= 0 && (unsigned long long)t->truncmess < n) {
        n = (size_t)t->truncmess;
        cur[n] = '\0';
    }
    if (t && t->maxlinelength > 0) {
        size_t max = transform_max_line(cur, n);
        if ((unsigned long long)max > (unsigned long long)t->maxlinelength && t->maxlinelengthcmd) {
            char *next;
            int rc = pipemess_run("--maxlinelengthcmd", t->maxlinelengthcmd, cur, n, &next, &n, st);
            free(cur);
            if (rc < 0)
                return -1;
            cur = next;
        } else if ((unsigned long long)max > (unsigned long long)t->maxlinelength) {
            snprintf(why, whylen, "skipped: line length %zu exceeds maxlinelength %lld bytes", max,
                     t->maxlinelength);
            free(cur);
            return 1;
        }
    }
    *out = cur;
    if (outlen)
        *outlen = n;
    return 0;
}
