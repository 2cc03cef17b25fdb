/* flagrule: rewriting and re-parsing a host1 flag string (imapsync's
 * flags_for_host2 before the PERMANENTFLAGS filter). */
#include "flagrule.h"

#include "msg.h"
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
    {"\\Seen", MSG_SEEN},       {"\\Answered", MSG_ANSWERED}, {"\\Flagged", MSG_FLAGGED},
    {"\\Deleted", MSG_DELETED}, {"\\Draft", MSG_DRAFT},
};

static int str_ptr_cmp(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *flagrule_keywords_norm(char *kw)
{
    if (kw == NULL)
        return NULL;
    size_t len = strlen(kw);
    /* At most one word per two bytes ("a b c"), so this bounds the count. */
    char **words = sbuf_xcalloc(len / 2 + 1, sizeof *words);
    size_t n = 0;
    char *p = kw;
    while (*p) {
        while (is_sep(*p))
            *p++ = '\0';
        if (*p == '\0')
            break;
        words[n++] = p;
        while (*p && !is_sep(*p))
            p++;
    }
    char *res = NULL;
    if (n > 0) {
        qsort(words, n, sizeof *words, str_ptr_cmp);
        res = sbuf_xmalloc(len + 1);
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && strcmp(words[i], words[i - 1]) == 0)
                continue;
            size_t wl = strlen(words[i]);
            if (o > 0)
                res[o++] = ' ';
            memcpy(res + o, words[i], wl);
            o += wl;
        }
        res[o] = '\0';
    }
    free(words);
    free(kw);
    return res;
}

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
    *keywords = kw.len ? flagrule_keywords_norm(sbuf_take(&kw)) : NULL;
    sbuf_free(&kw);
    return dropped;
}
