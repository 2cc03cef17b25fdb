/* flagrule: rewriting and re-parsing a host1 flag string (imapsync's
 * flags_for_host2 before the PERMANENTFLAGS filter). */
#include "flagrule.h"

#include "msg_plan.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* imapsync's single-quoted Perl string, unquoted: each "\\" is one literal
 * backslash in the regex and "\$" a literal dollar. */
const char flagrule_buggy[] =
    "s/\\\\RECEIPTCHECKED|\\\\JUNK|\\\\Indexed|\\\\X-EON-HAS-ATTACHMENT|\\\\UNSEEN|\\\\ATTACHED|"
    "\\\\X-HAS-ATTACH|\\\\FORWARDED|\\\\FORWARD|\\\\X-FORWARDED|\\\\\\$FORWARDED|\\\\PRIORITY|"
    "\\\\READRCPT//gi";

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Perl's s@\\Recent\s?@@xgi: no word boundary, so "\RecentX" loses its
 * first seven bytes too; matching that keeps reruns consistent with it. */
static char *drop_recent(const char *s)
{
    struct sbuf b = SBUF_INIT;
    sbuf_adds(&b, "");
    for (const char *p = s; *p;) {
        if (strncasecmp(p, "\\Recent", 7) == 0) {
            p += 7;
            if (is_blank(*p))
                p++;
            continue;
        }
        sbuf_addc(&b, *p++);
    }
    return sbuf_take(&b);
}

char *flagrule_rewrite(const char *flags, const struct rx_rule *const *rules, size_t n)
{
    char *cur = drop_recent(flags ? flags : "");
    char *before = sbuf_xstrdup(cur);
    for (size_t i = 0; i < n; i++) {
        char *next = NULL;
        size_t len = 0;
        struct status ignored;
        if (rx_apply(rules[i], cur, strlen(cur), &next, &len, &ignored) < 0) {
            free(cur);
            return before;
        }
        free(cur);
        cur = next;
    }
    free(before);
    return cur;
}

/* RFC 3501 atom-specials plus the bytes no server stores in a keyword. */
static int is_atom(const char *w, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
            return 0;
    }
    return 1;
}

int flagrule_is_keyword(const char *w)
{
    return w != NULL && is_atom(w, strlen(w));
}

static const struct {
    const char *name;
    unsigned bit;
} sysflags_by_name[] = {
    {"\\Seen", MSG_PLAN_SEEN},       {"\\Answered", MSG_PLAN_ANSWERED},
    {"\\Flagged", MSG_PLAN_FLAGGED}, {"\\Deleted", MSG_PLAN_DELETED},
    {"\\Draft", MSG_PLAN_DRAFT},
};

size_t flagrule_parse(const char *flags, unsigned *sysflags, char **keywords)
{
    struct sbuf kw = SBUF_INIT;
    size_t dropped = 0;
    *sysflags = 0;
    const char *p = flags ? flags : "";
    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p == '\0')
            break;
        const char *w = p;
        while (*p && !is_blank(*p))
            p++;
        size_t n = (size_t)(p - w);
        if (w[0] == '\\') {
            if (n == 7 && strncasecmp(w, "\\Recent", 7) == 0)
                continue; /* set by the server alone, never a loss */
            unsigned bit = 0;
            for (size_t i = 0; i < sizeof sysflags_by_name / sizeof sysflags_by_name[0]; i++)
                if (strlen(sysflags_by_name[i].name) == n &&
                    strncasecmp(sysflags_by_name[i].name, w, n) == 0)
                    bit = sysflags_by_name[i].bit;
            if (bit)
                *sysflags |= bit;
            else
                dropped++;
            continue;
        }
        if (!is_atom(w, n)) {
            dropped++;
            continue;
        }
        if (kw.len)
            sbuf_addc(&kw, ' ');
        sbuf_append(&kw, w, n);
    }
    *keywords = kw.len ? msg_plan_keywords_norm(sbuf_take(&kw)) : NULL;
    sbuf_free(&kw);
    return dropped;
}
