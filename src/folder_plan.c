/* folder_plan: imapsync's folder selection, naming, merging and order as
 * a pure function of both folder lists and the rules. */
#include "folder_plan.h"

#include "mutf7.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NROLES 7

static int is_inbox(const char *name)
{
    return strcasecmp(name, "INBOX") == 0;
}

/* ------------------------------------------------------------------ */
/* Translation                                                         */

int folder_plan_translate(const char *name1, const struct folder_ns *ns1,
                          const struct folder_ns *ns2, char **out, struct status *st)
{
    if (out != NULL)
        *out = NULL;
    if (name1 == NULL || ns1 == NULL || ns2 == NULL || out == NULL)
        return status_set(st, STATUS_INTERNAL, "folder_plan_translate: missing argument");
    /* imapsync keeps the spelling host1 uses; one spelling lets the
     * merging and the host2 lookup treat INBOX as the one mailbox it is
     * (RFC 3501 5.1: INBOX is case-insensitive). */
    if (is_inbox(name1)) {
        *out = sbuf_xstrdup("INBOX");
        return 0;
    }

    const char *prefix1 = ns1->prefix ? ns1->prefix : "";
    const char *prefix2 = ns2->prefix ? ns2->prefix : "";
    const char sep1 = ns1->sep, sep2 = ns2->sep;
    size_t plen1 = strlen(prefix1);
    const char *rest = name1;
    if (plen1 > 0 && strncmp(name1, prefix1, plen1) == 0)
        rest = name1 + plen1;
    /* imapsync maps a name that is nothing but the prefix (or nothing at
     * all, after --subfolder1) to INBOX; adding prefix2 to an empty name
     * would produce a name like "INBOX." instead. */
    if (*rest == '\0') {
        *out = sbuf_xstrdup("INBOX");
        return 0;
    }

    size_t rlen = strlen(rest);
    char *r = sbuf_xstrndup(rest, rlen);
    /* One pass is imapsync's NUL-placeholder swap. A flat side (sep 0) has
     * no separator to swap with, so its partner's separator stays as is. */
    for (size_t i = 0; i < rlen; i++) {
        if (sep1 != 0 && r[i] == sep1) {
            if (sep2 != 0)
                r[i] = sep2;
        } else if (sep2 != 0 && r[i] == sep2) {
            if (sep1 != 0)
                r[i] = sep1;
        }
    }
    /* fixslash2 runs after the swap, so a sep2 character of the host1 name
     * that the swap just turned into '/' ends up as '_' too, as in imapsync. */
    if (sep1 == '/' && sep2 != '/') {
        for (size_t i = 0; i < rlen; i++)
            if (r[i] == '/')
                r[i] = '_';
    }

    if (is_inbox(r)) {
        free(r);
        *out = sbuf_xstrdup("INBOX");
        return 0;
    }
    /* No exception for a name already under "INBOX<sep2>": imapsync gives
     * host1 "INBOX/Sub" the host2 name "INBOX.INBOX.Sub", and an account
     * imapsync synced before must not get a second, parallel tree. */
    struct sbuf b = SBUF_INIT;
    sbuf_adds(&b, prefix2);
    sbuf_append(&b, r, rlen);
    free(r);
    *out = sbuf_take(&b);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Special-use roles                                                   */

/* imapsync's table of usual names per role (l.6180-6214), for folders
 * without a special-use attribute. Modified UTF-7, compared exactly. */
static const struct {
    const char *name;
    unsigned role;
} role_names[] = {
    {"All", FOLDER_ROLE_ALL},
    {"All Messages", FOLDER_ROLE_ALL},
    {"&BBIEQQQ1-", FOLDER_ROLE_ALL},
    {"Archive", FOLDER_ROLE_ARCHIVE},
    {"Archives", FOLDER_ROLE_ARCHIVE},
    {"&BBAEQARFBDgEMg-", FOLDER_ROLE_ARCHIVE},
    {"Drafts", FOLDER_ROLE_DRAFTS},
    {"DRAFTS", FOLDER_ROLE_DRAFTS},
    {"&BCcENQRABD0EPgQyBDgEOgQ4-", FOLDER_ROLE_DRAFTS},
    {"Szkice", FOLDER_ROLE_DRAFTS},
    {"Wersje robocze", FOLDER_ROLE_DRAFTS},
    {"Flagged", FOLDER_ROLE_FLAGGED},
    {"Starred", FOLDER_ROLE_FLAGGED},
    {"&BB8EPgQ8BDUERwQ1BD0EPQRLBDU-", FOLDER_ROLE_FLAGGED},
    {"Junk", FOLDER_ROLE_JUNK},
    {"junk", FOLDER_ROLE_JUNK},
    {"Spam", FOLDER_ROLE_JUNK},
    {"SPAM", FOLDER_ROLE_JUNK},
    {"&BCEEPwQwBDw-", FOLDER_ROLE_JUNK},
    {"Potwierdzony spam", FOLDER_ROLE_JUNK},
    {"Wiadomo&AVs-ci-&AVs-mieci", FOLDER_ROLE_JUNK},
    {"Junk E-Mail", FOLDER_ROLE_JUNK},
    {"Junk Email", FOLDER_ROLE_JUNK},
    {"Sent", FOLDER_ROLE_SENT},
    {"Sent Messages", FOLDER_ROLE_SENT},
    {"Sent Items", FOLDER_ROLE_SENT},
    {"Gesendete Elemente", FOLDER_ROLE_SENT},
    {"Gesendete Objekte", FOLDER_ROLE_SENT},
    {"&AMk-l&AOk-ments envoy&AOk-s", FOLDER_ROLE_SENT},
    {"E&AwE-le&AwE-ments envoye&AwE-s", FOLDER_ROLE_SENT},
    {"Envoy&AOk-", FOLDER_ROLE_SENT},
    {"Objets envoy&AOk-s", FOLDER_ROLE_SENT},
    {"Elementos enviados", FOLDER_ROLE_SENT},
    {"Posta inviata", FOLDER_ROLE_SENT},
    {"&kAFP4W4IMH8wojCkMMYw4A-", FOLDER_ROLE_SENT},
    {"&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", FOLDER_ROLE_SENT},
    {"Elementy wys&AUI-ane", FOLDER_ROLE_SENT},
    {"Trash", FOLDER_ROLE_TRASH},
    {"TRASH", FOLDER_ROLE_TRASH},
    {"&BCMENAQwBDsENQQ9BD0ESwQ1-", FOLDER_ROLE_TRASH},
    {"&BBoEPgRABDcEOAQ9BDA-", FOLDER_ROLE_TRASH},
    {"Kosz", FOLDER_ROLE_TRASH},
    {"Deleted Items", FOLDER_ROLE_TRASH},
    {"Deleted Messages", FOLDER_ROLE_TRASH},
};

/* Role index 0..NROLES-1 of a bit set, or -1. A folder may carry several
 * attributes; imapsync keeps the first one the server lists. The bits have
 * lost that order, so the lowest bit stands in for it. */
static int role_index(unsigned roles)
{
    for (int k = 0; k < NROLES; k++)
        if (roles & (1u << k))
            return k;
    return -1;
}

static int role_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(role_names[i].name, name) == 0)
            return role_index(role_names[i].role);
    return -1;
}

/* imapsync's guess_special: the table on the full name, then on the name
 * with the first occurrence of the prefix taken out (its s/\Qprefix\E//,
 * which is not anchored either). */
static int guess_role(const char *name, const char *prefix)
{
    int k = role_by_name(name);
    if (k >= 0 || prefix == NULL || *prefix == '\0')
        return k;
    const char *p = strstr(name, prefix);
    if (p == NULL)
        return -1;
    struct sbuf b = SBUF_INIT;
    sbuf_append(&b, name, (size_t)(p - name));
    sbuf_adds(&b, p + strlen(prefix));
    char *rest = sbuf_take(&b);
    k = role_by_name(rest);
    free(rest);
    return k;
}

/* The folder holding each role by attribute: the first in LIST order. A
 * later folder with the same role is "already assigned" in imapsync and
 * gets no attribute role at all. */
static void attr_owners(const struct folder *f, size_t n, const char *owner[NROLES])
{
    for (int k = 0; k < NROLES; k++)
        owner[k] = NULL;
    for (size_t i = 0; i < n; i++) {
        /* An empty name is no folder: never a role's owner or a target. */
        if (f[i].name == NULL || f[i].name[0] == '\0')
            continue;
        int k = role_index(f[i].roles);
        if (k >= 0 && owner[k] == NULL)
            owner[k] = f[i].name;
    }
}

static int attr_role_of(const char *name, const char *const owner[NROLES])
{
    for (int k = 0; k < NROLES; k++)
        if (owner[k] != NULL && strcmp(owner[k], name) == 0)
            return k;
    return -1;
}

struct automap {
    const char *special1[NROLES]; /* host1 folder holding each role by attribute */
    const char *special2[NROLES]; /* same on host2 */
    const char *guessed2[NROLES]; /* host2 folder guessed by name for each role */
    const char *prefix1;
};

static void automap_init(struct automap *am, const struct folder *f1, size_t n1,
                         const struct folder *f2, size_t n2, const char *prefix1,
                         const char *prefix2)
{
    attr_owners(f1, n1, am->special1);
    attr_owners(f2, n2, am->special2);
    am->prefix1 = prefix1;
    /* imapsync guesses over host2's names in sorted order, the first guess
     * of a role wins: keep the smallest name per role. */
    for (int k = 0; k < NROLES; k++)
        am->guessed2[k] = NULL;
    for (size_t i = 0; i < n2; i++) {
        if (f2[i].name == NULL || f2[i].name[0] == '\0')
            continue;
        int k = guess_role(f2[i].name, prefix2);
        if (k >= 0 && (am->guessed2[k] == NULL || strcmp(f2[i].name, am->guessed2[k]) < 0))
            am->guessed2[k] = f2[i].name;
    }
}

/* imapsync's build_automap: the first of its four cases that applies. */
static const char *automap_target(const struct automap *am, const char *name1)
{
    int r1 = attr_role_of(name1, am->special1);
    if (r1 >= 0) {
        if (am->special2[r1] != NULL)
            return am->special2[r1]; /* both special */
        return am->guessed2[r1];     /* host1 special, host2 guessed (or none) */
    }
    int g1 = guess_role(name1, am->prefix1);
    if (g1 < 0)
        return NULL;
    if (am->special2[g1] != NULL)
        return am->special2[g1]; /* host1 guessed, host2 special */
    return am->guessed2[g1];     /* both guessed (or none) */
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */

/* One name that can be requested: a host1 LIST name, or a --folder value
 * host1 does not list. */
struct cand {
    const char *name;
    unsigned char listed;
    unsigned char selectable;
    unsigned char subscribed;
    unsigned char requested;
    unsigned char placed;
};

static int cand_cmp(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    return strcmp(a->name, b->name);
}

static struct cand *cand_find(struct cand *c, size_t n, const char *name)
{
    struct cand key = {name, 0, 0, 0, 0, 0};
    return bsearch(&key, c, n, sizeof *c, cand_cmp);
}

/* imapsync's sanitize_subfolder: edge spaces trimmed first, then every
 * byte outside [-_a-zA-Z0-9./ ] deleted (so a space next to a deleted byte
 * may stay at an edge, as there). NULL when nothing is left. */
static char *sanitize_subfolder(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s);
    while (len > 0 && s[0] == ' ') {
        s++;
        len--;
    }
    while (len > 0 && s[len - 1] == ' ')
        len--;
    struct sbuf b = SBUF_INIT;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '/' || c == ' ')
            sbuf_addc(&b, (char)c);
    }
    if (b.len == 0) {
        sbuf_free(&b);
        return NULL;
    }
    return sbuf_take(&b);
}

/* --folderrec F: what Mail::IMAPClient's folders(F) gives, i.e. F when
 * listed and LIST "" "F<sep1>*" (or "F*" when F ends with sep1). The
 * wildcard is taken literally: the prefix is compared byte for byte. A flat
 * host1 (no separator) has no subfolders. */
static void mark_rec(struct cand *c, size_t n, const char *f, char sep1)
{
    size_t flen = strlen(f);
    int ends_with_sep = sep1 != 0 && flen > 0 && f[flen - 1] == sep1;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].listed)
            continue;
        const char *name = c[i].name;
        if (strcmp(name, f) == 0) {
            c[i].requested = 1;
            continue;
        }
        if (sep1 == 0 || strncmp(name, f, flen) != 0)
            continue;
        if (ends_with_sep || name[flen] == sep1)
            c[i].requested = 1;
    }
}

/* 1, 0, or -1 with st filled; a rule that PCRE2 cannot run is the user's
 * rule, hence STATUS_USAGE as imapsync's eval failure is. */
static int rule_matches(const struct rx_rule *r, const char *opt, const char *name,
                        struct status *st)
{
    int m = rx_match(r, name, strlen(name));
    if (m < 0)
        return status_set(st, STATUS_USAGE, "%s '%s' cannot be applied to \"%s\"", opt,
                          rx_source(r), name);
    return m;
}

/* ------------------------------------------------------------------ */
/* Naming                                                              */

/* A byte that may serve as the delimiter of a generated s/// rule. */
static char pick_delim(const char *a, const char *b, char sep)
{
    static const char cands[] = ",#!|%~:;=+^";
    for (const char *d = cands; *d != '\0'; d++)
        if (strchr(a, *d) == NULL && strchr(b, *d) == NULL && *d != sep)
            return *d;
    return 0;
}

/* The pattern text for a literal string: every ASCII punctuation byte and
 * space escaped, as Perl's \Q does. Escaping each byte rather than wrapping
 * in \Q...\E keeps a "\E" inside the prefix literal too. */
static void add_quoted_pattern(struct sbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80 && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
            !(c >= '0' && c <= '9') && c != '_')
            sbuf_addc(b, '\\');
        sbuf_addc(b, (char)c);
    }
}

/* The replacement text for a literal string: a Perl double-quoted string,
 * where only '\', '$' and '@' are special. */
static void add_quoted_repl(struct sbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '$' || *s == '@')
            sbuf_addc(b, '\\');
        sbuf_addc(b, *s);
    }
}

/* imapsync's set_regextrans2_for_subfolder2 (l.10472-10481): three rules
 * put before the user's. imapsync interpolates prefix2 into the patterns
 * unquoted, so the '.' of "INBOX." matches any character there; here it is
 * quoted, on purpose: a name such as "INBOXxSent" must not count as being
 * under the prefix. */
static int subfolder2_rules(const char *p2, const char *s, char sep2, struct rx_rule *out[3],
                            struct status *st)
{
    char sepstr[2] = {sep2, '\0'};
    char d = pick_delim(p2, s, sep2);
    out[0] = out[1] = out[2] = NULL;
    if (d == 0)
        return status_set(st, STATUS_USAGE,
                          "--subfolder2 \"%s\": no rule delimiter is free with prefix2 \"%s\"", s,
                          p2);
    struct sbuf b[3] = {SBUF_INIT, SBUF_INIT, SBUF_INIT};
    /* s,^P2(.*),P2S<sep2>$1, */
    sbuf_addf(&b[0], "s%c^", d);
    add_quoted_pattern(&b[0], p2);
    sbuf_addf(&b[0], "(.*)%c", d);
    add_quoted_repl(&b[0], p2);
    add_quoted_repl(&b[0], s);
    add_quoted_repl(&b[0], sepstr);
    sbuf_addf(&b[0], "$1%c", d);
    /* s,^INBOX$,P2S<sep2>INBOX, */
    sbuf_addf(&b[1], "s%c^INBOX$%c", d, d);
    add_quoted_repl(&b[1], p2);
    add_quoted_repl(&b[1], s);
    add_quoted_repl(&b[1], sepstr);
    sbuf_addf(&b[1], "INBOX%c", d);
    /* s,^(P2){2},P2, */
    sbuf_addf(&b[2], "s%c^(", d);
    add_quoted_pattern(&b[2], p2);
    sbuf_addf(&b[2], "){2}%c", d);
    add_quoted_repl(&b[2], p2);
    sbuf_addc(&b[2], d);

    int rc = 0;
    for (int i = 0; i < 3; i++) {
        char *src = sbuf_take(&b[i]);
        if (rc == 0 && rx_compile(src, &out[i], st) != 0)
            rc = -1;
        free(src);
    }
    if (rc != 0) {
        for (int i = 0; i < 3; i++) {
            if (out[i] != NULL)
                rx_free(out[i]);
            out[i] = NULL;
        }
        return status_prefix(st, STATUS_USAGE, "--subfolder2");
    }
    return 0;
}

/* Applies the rule chain to *name in place. */
/* A server that lists raw UTF-8 names (some do, against RFC 3501) would
 * have them sent on to host2 as 8-bit quoted strings, which IMAP does not
 * allow: host2 gets the modified UTF-7 spelling of the same name instead.
 * Bytes that are not UTF-8 are left for the engine to refuse. */
static void to_mutf7(char **name)
{
    const unsigned char *p = (const unsigned char *)*name;
    while (*p && *p < 0x80)
        p++;
    if (*p == '\0')
        return;
    char *enc = NULL;
    struct status ignored;
    if (mutf7_encode(*name, &enc, &ignored) == 0) {
        free(*name);
        *name = enc;
    }
}

static int apply_chain(const struct rx_rule *const *chain, size_t n, const char *name1, char **name,
                       struct status *st)
{
    for (size_t i = 0; i < n; i++) {
        struct status tmp;
        status_clear(&tmp);
        char *next = NULL;
        size_t nlen = 0;
        if (rx_apply(chain[i], *name, strlen(*name), &next, &nlen, &tmp) != 0)
            return status_set(st, STATUS_USAGE, "--regextrans2 '%s' on \"%s\": %s",
                              rx_source(chain[i]), *name, tmp.msg);
        free(*name);
        *name = next;
    }
    if (**name == '\0')
        return status_set(st, STATUS_USAGE,
                          "--regextrans2 rules turn host1 folder \"%s\" into an empty name", name1);
    return 0;
}

/* --subfolder1 in naming (l.10699-10712): the first occurrence of S (less
 * a trailing sep1) and the sep1 right after it are taken out. imapsync uses
 * S as a regex there; S is sanitised to [-_a-zA-Z0-9./ ], whose only
 * metacharacter is '.', and it is matched literally here for the same reason
 * as prefix2 in subfolder2_rules. */
static char *strip_subfolder1(const char *name, const char *s, char sep1)
{
    size_t slen = strlen(s);
    if (sep1 != 0 && slen > 0 && s[slen - 1] == sep1)
        slen--;
    char *part = sbuf_xstrndup(s, slen);
    const char *p = strstr(name, part);
    free(part);
    if (p == NULL)
        return sbuf_xstrdup(name);
    const char *after = p + slen;
    if (sep1 != 0 && *after == sep1)
        after++;
    struct sbuf b = SBUF_INIT;
    sbuf_append(&b, name, (size_t)(p - name));
    sbuf_adds(&b, after);
    return sbuf_take(&b);
}

/* ------------------------------------------------------------------ */
/* Merging                                                             */

/* host2's view of one name, merged over duplicate LIST entries. */
struct dst_info {
    const char *name;
    int selectable;
    int subscribed;
};

static int dst_info_cmp(const void *pa, const void *pb)
{
    const struct dst_info *a = pa, *b = pb;
    return strcmp(a->name, b->name);
}

/* INBOX is one mailbox in any case on host2 too. */
static const char *name2_key(const char *name2)
{
    return is_inbox(name2) ? "INBOX" : name2;
}

struct pair_ref {
    const char *key;
    size_t idx;
};

static int pair_ref_cmp(const void *pa, const void *pb)
{
    const struct pair_ref *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c != 0)
        return c;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static void set_create_subscribe(struct folder_plan *out, const struct folder *f2, size_t n2,
                                 const unsigned char *sub1, int subscribe, int subscribeall)
{
    struct dst_info *dst = sbuf_xcalloc(n2 > 0 ? n2 : 1, sizeof *dst);
    size_t ndst = 0;
    for (size_t i = 0; i < n2; i++) {
        if (f2[i].name == NULL)
            continue;
        dst[ndst].name = name2_key(f2[i].name);
        dst[ndst].selectable = !f2[i].noselect;
        dst[ndst].subscribed = f2[i].subscribed != 0;
        ndst++;
    }
    qsort(dst, ndst, sizeof *dst, dst_info_cmp);
    size_t nuniq = 0;
    for (size_t i = 0; i < ndst; i++) {
        if (nuniq > 0 && strcmp(dst[nuniq - 1].name, dst[i].name) == 0) {
            dst[nuniq - 1].selectable |= dst[i].selectable;
            dst[nuniq - 1].subscribed |= dst[i].subscribed;
        } else {
            dst[nuniq++] = dst[i];
        }
    }

    size_t n = out->npairs;
    struct pair_ref *refs = sbuf_xcalloc(n > 0 ? n : 1, sizeof *refs);
    for (size_t i = 0; i < n; i++) {
        refs[i].key = name2_key(out->pairs[i].name2);
        refs[i].idx = i;
    }
    qsort(refs, n, sizeof *refs, pair_ref_cmp);
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n && strcmp(refs[end].key, refs[g].key) == 0)
            end++;
        /* refs[g] is the group's first pair in plan order. */
        size_t leader = refs[g].idx;
        int any_sub = 0;
        for (size_t k = g; k < end; k++) {
            out->pairs[refs[k].idx].leader = leader;
            out->pairs[refs[k].idx].create = 0;
            out->pairs[refs[k].idx].subscribe = 0;
            any_sub |= sub1[refs[k].idx];
        }
        struct dst_info key = {refs[g].key, 0, 0};
        const struct dst_info *d = bsearch(&key, dst, nuniq, sizeof *dst, dst_info_cmp);
        struct folder_plan_pair *p = &out->pairs[leader];
        p->create = d == NULL || !d->selectable;
        p->subscribe = (subscribeall || (subscribe && any_sub)) && (d == NULL || !d->subscribed);
        g = end;
    }
    free(refs);
    free(dst);
}

/* ------------------------------------------------------------------ */
/* The plan                                                            */

/* --f1f2 values split once, validated before anything else runs. */
struct f1f2 {
    char *a;
    const char *b;
};

static int parse_f1f2(const struct folder_plan_rules *r, struct f1f2 **out, struct status *st)
{
    *out = NULL;
    if (r->nf1f2 == 0)
        return 0;
    struct f1f2 *m = sbuf_xcalloc(r->nf1f2, sizeof *m);
    for (size_t i = 0; i < r->nf1f2; i++) {
        const char *v = r->f1f2[i];
        const char *eq = v != NULL ? strchr(v, '=') : NULL;
        if (eq == NULL) {
            for (size_t k = 0; k < i; k++)
                free(m[k].a);
            free(m);
            return status_set(st, STATUS_USAGE, "--f1f2 '%s': expected HOST1FOLDER=HOST2FOLDER",
                              v != NULL ? v : "");
        }
        m[i].a = sbuf_xstrndup(v, (size_t)(eq - v));
        m[i].b = eq + 1;
    }
    *out = m;
    return 0;
}

/* imapsync keeps --f1f2 in a hash, so a later A=B for the same A wins; an
 * empty B is false in Perl and maps nothing. */
static const char *f1f2_target(const struct f1f2 *m, size_t n, const char *name1)
{
    const char *b = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].a, name1) == 0)
            b = m[i].b;
    return b != NULL && *b != '\0' ? b : NULL;
}

/* Working state of one build, released in one place. */
struct build {
    struct cand *c;
    size_t nc;
    struct cand **order;
    size_t norder;
    struct f1f2 *f1f2;
    size_t nf1f2;
    char *sub1;
    char *sub2;
    struct rx_rule *sub2rules[3];
    const struct rx_rule **chain;
    size_t nchain;
    unsigned char *subscribed1;
};

static void build_release(struct build *b)
{
    free(b->c);
    free(b->order);
    for (size_t i = 0; i < b->nf1f2; i++)
        free(b->f1f2[i].a);
    free(b->f1f2);
    free(b->sub1);
    free(b->sub2);
    for (int i = 0; i < 3; i++)
        if (b->sub2rules[i] != NULL)
            rx_free(b->sub2rules[i]);
    free(b->chain);
    free(b->subscribed1);
}

static void add_missing(struct folder_plan *out, const char *name)
{
    out->missing = sbuf_xrealloc(out->missing, (out->nmissing + 1) * sizeof *out->missing);
    out->missing[out->nmissing++] = sbuf_xstrdup(name);
}

/* Steps 1-4 of selection and the order; fills b->order with the wanted
 * host1 names. */
static int select_folders(struct build *b, const struct folder *f1, size_t n1,
                          const struct folder_ns *ns1, const struct folder_plan_rules *r,
                          struct folder_plan *out, struct status *st)
{
    const char *prefix1 = ns1->prefix ? ns1->prefix : "";
    size_t nfolder = r->folder != NULL ? r->nfolder : 0;
    b->c = sbuf_xcalloc(n1 + nfolder + 1, sizeof *b->c);
    for (size_t i = 0; i < n1; i++) {
        struct cand *c = &b->c[b->nc++];
        c->name = f1[i].name;
        c->listed = 1;
        c->selectable = !f1[i].noselect;
        c->subscribed = f1[i].subscribed != 0;
    }
    for (size_t i = 0; i < nfolder; i++)
        if (r->folder[i] != NULL)
            b->c[b->nc++].name = r->folder[i];
    qsort(b->c, b->nc, sizeof *b->c, cand_cmp);
    /* One entry per name; duplicate LIST entries and a --folder value for a
     * listed name fold into the listed entry. */
    size_t nu = 0;
    for (size_t i = 0; i < b->nc; i++) {
        if (nu > 0 && strcmp(b->c[nu - 1].name, b->c[i].name) == 0) {
            struct cand *u = &b->c[nu - 1];
            if (b->c[i].listed && !u->listed) {
                u->listed = 1;
                u->selectable = b->c[i].selectable;
                u->subscribed = b->c[i].subscribed;
            } else if (b->c[i].listed) {
                u->selectable |= b->c[i].selectable;
                u->subscribed |= b->c[i].subscribed;
            }
        } else {
            b->c[nu++] = b->c[i];
        }
    }
    b->nc = nu;

    /* --subfolder1 S acts as --folderrec S, or --folderrec prefix1+S when
     * only that exists (l.10444-10469); "exists" is host1's whole LIST,
     * \Noselect entries included. */
    char *sub1rec = NULL;
    if (b->sub1 != NULL) {
        struct cand *c = cand_find(b->c, b->nc, b->sub1);
        if (c != NULL && c->listed) {
            sub1rec = sbuf_xstrdup(b->sub1);
        } else {
            struct sbuf ext = SBUF_INIT;
            sbuf_adds(&ext, prefix1);
            sbuf_adds(&ext, b->sub1);
            sub1rec = sbuf_take(&ext);
            c = cand_find(b->c, b->nc, sub1rec);
            if (c == NULL || !c->listed) {
                status_set(st, STATUS_SUBFOLDER,
                           "--subfolder1: neither \"%s\" nor \"%s\" exists on host1", b->sub1,
                           sub1rec);
                free(sub1rec);
                return -1;
            }
        }
    }

    size_t nrec = r->folderrec != NULL ? r->nfolderrec : 0;
    if (nfolder > 0 || nrec > 0 || r->subscribed || sub1rec != NULL) {
        for (size_t i = 0; i < nfolder; i++) {
            struct cand *c = r->folder[i] ? cand_find(b->c, b->nc, r->folder[i]) : NULL;
            if (c != NULL)
                c->requested = 1;
        }
        if (r->subscribed)
            for (size_t i = 0; i < b->nc; i++)
                if (b->c[i].listed && b->c[i].subscribed)
                    b->c[i].requested = 1;
        for (size_t i = 0; i < nrec; i++)
            if (r->folderrec[i] != NULL)
                mark_rec(b->c, b->nc, r->folderrec[i], ns1->sep);
        if (sub1rec != NULL)
            mark_rec(b->c, b->nc, sub1rec, ns1->sep);
    } else if (r->ninclude == 0) {
        for (size_t i = 0; i < b->nc; i++)
            if (b->c[i].listed)
                b->c[i].requested = 1;
    }
    free(sub1rec);

    for (size_t k = 0; k < r->ninclude; k++)
        for (size_t i = 0; i < b->nc; i++) {
            if (!b->c[i].listed)
                continue;
            int m = rule_matches(r->include[k], "--include", b->c[i].name, st);
            if (m < 0)
                return -1;
            if (m)
                b->c[i].requested = 1;
        }
    for (size_t k = 0; k < r->nexclude; k++)
        for (size_t i = 0; i < b->nc; i++) {
            if (!b->c[i].requested)
                continue;
            int m = rule_matches(r->exclude[k], "--exclude", b->c[i].name, st);
            if (m < 0)
                return -1;
            if (m)
                b->c[i].requested = 0;
        }

    /* sort_requested_folders: folderfirst is taken out of the requested set
     * before folderlast, so a name given to both goes first. */
    struct cand **first = sbuf_xcalloc(b->nc + 1, sizeof *first);
    struct cand **last = sbuf_xcalloc(b->nc + 1, sizeof *last);
    size_t nfirst = 0, nlast = 0;
    for (size_t i = 0; r->folderfirst != NULL && i < r->nfolderfirst; i++) {
        struct cand *c = r->folderfirst[i] ? cand_find(b->c, b->nc, r->folderfirst[i]) : NULL;
        if (c != NULL && c->requested && !c->placed) {
            c->placed = 1;
            first[nfirst++] = c;
        }
    }
    for (size_t i = 0; r->folderlast != NULL && i < r->nfolderlast; i++) {
        struct cand *c = r->folderlast[i] ? cand_find(b->c, b->nc, r->folderlast[i]) : NULL;
        if (c != NULL && c->requested && !c->placed) {
            c->placed = 1;
            last[nlast++] = c;
        }
    }
    b->order = sbuf_xcalloc(b->nc + 1, sizeof *b->order);
    struct cand **seq = sbuf_xcalloc(b->nc + 1, sizeof *seq);
    size_t nseq = 0;
    for (size_t i = 0; i < nfirst; i++)
        seq[nseq++] = first[i];
    for (size_t i = 0; i < b->nc; i++)
        if (b->c[i].requested && !b->c[i].placed)
            seq[nseq++] = &b->c[i];
    for (size_t i = 0; i < nlast; i++)
        seq[nseq++] = last[i];
    free(first);
    free(last);

    /* checkfoldersexist runs on the ordered list, so the missing names come
     * in that order, as imapsync's warnings do. \Noselect names are then
     * dropped (imapsync's checkselectable) without being missing: host1 does
     * list them. Without checkfoldersexist an unlisted name is kept (a
     * shared folder LIST "" "*" does not show). */
    for (size_t i = 0; i < nseq; i++) {
        struct cand *c = seq[i];
        if (!c->listed) {
            if (r->checkfoldersexist)
                add_missing(out, c->name);
            else
                b->order[b->norder++] = c;
        } else if (c->selectable) {
            b->order[b->norder++] = c;
        }
    }
    free(seq);
    return 0;
}

static int name_folders(struct build *b, const struct folder *f1, size_t n1,
                        const struct folder *f2, size_t n2, const struct folder_ns *ns1,
                        const struct folder_ns *ns2, const struct folder_plan_rules *r,
                        struct folder_plan *out, struct status *st)
{
    const char *prefix1 = ns1->prefix ? ns1->prefix : "";
    const char *prefix2 = ns2->prefix ? ns2->prefix : "";
    /* imapsync switches automap off with either subfolder option. */
    int use_automap = r->automap && b->sub1 == NULL && b->sub2 == NULL;
    struct automap am;
    if (use_automap)
        automap_init(&am, f1, n1, f2, n2, prefix1, prefix2);

    size_t nuser = r->regextrans2 != NULL ? r->nregextrans2 : 0;
    b->chain = sbuf_xcalloc(3 + nuser, sizeof *b->chain);
    if (b->sub2 != NULL) {
        if (subfolder2_rules(prefix2, b->sub2, ns2->sep, b->sub2rules, st) != 0)
            return -1;
        for (int i = 0; i < 3; i++)
            b->chain[b->nchain++] = b->sub2rules[i];
    }
    for (size_t i = 0; i < nuser; i++)
        b->chain[b->nchain++] = r->regextrans2[i];

    out->pairs = sbuf_xcalloc(b->norder + 1, sizeof *out->pairs);
    b->subscribed1 = sbuf_xcalloc(b->norder + 1, 1);
    for (size_t k = 0; k < b->norder; k++) {
        const struct cand *c = b->order[k];
        struct folder_plan_pair *p = &out->pairs[k];
        p->name1 = sbuf_xstrdup(c->name);
        p->leader = k;
        out->npairs = k + 1;
        b->subscribed1[k] = c->listed && c->subscribed;

        const char *fixed = f1f2_target(b->f1f2, b->nf1f2, c->name);
        if (fixed != NULL) {
            p->name2 = sbuf_xstrdup(fixed);
            p->automapped = 2;
            continue;
        }
        fixed = use_automap ? automap_target(&am, c->name) : NULL;
        if (fixed != NULL) {
            p->name2 = sbuf_xstrdup(fixed);
            p->automapped = 1;
            continue;
        }
        char *stripped =
            b->sub1 != NULL ? strip_subfolder1(c->name, b->sub1, ns1->sep) : sbuf_xstrdup(c->name);
        int rc = folder_plan_translate(stripped, ns1, ns2, &p->name2, st);
        free(stripped);
        if (rc != 0)
            return -1;
        if (apply_chain(b->chain, b->nchain, c->name, &p->name2, st) != 0)
            return -1;
        to_mutf7(&p->name2);
    }
    return 0;
}

int folder_plan_build(const struct folder *f1, size_t n1, const struct folder *f2, size_t n2,
                      const struct folder_ns *ns1, const struct folder_ns *ns2,
                      const struct folder_plan_rules *rules, struct folder_plan *out,
                      struct status *st)
{
    if (out == NULL)
        return status_set(st, STATUS_INTERNAL, "folder_plan_build: no output");
    memset(out, 0, sizeof *out);
    if ((f1 == NULL && n1 > 0) || (f2 == NULL && n2 > 0) || ns1 == NULL || ns2 == NULL)
        return status_set(st, STATUS_INTERNAL, "folder_plan_build: missing argument");
    for (size_t i = 0; i < n1; i++)
        if (f1[i].name == NULL)
            return status_set(st, STATUS_INTERNAL,
                              "folder_plan_build: host1 folder %zu has no name", i);
    /* No rules at all is imapsync's default run. */
    struct folder_plan_rules defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.checkfoldersexist = 1;
    defaults.subscribe = 1;
    const struct folder_plan_rules *r = rules != NULL ? rules : &defaults;
    if ((r->ninclude > 0 && r->include == NULL) || (r->nexclude > 0 && r->exclude == NULL) ||
        (r->nf1f2 > 0 && r->f1f2 == NULL))
        return status_set(st, STATUS_INTERNAL, "folder_plan_build: rule list missing");
    for (size_t i = 0; i < r->ninclude; i++)
        if (r->include[i] == NULL)
            return status_set(st, STATUS_INTERNAL, "folder_plan_build: --include %zu missing", i);
    for (size_t i = 0; i < r->nexclude; i++)
        if (r->exclude[i] == NULL)
            return status_set(st, STATUS_INTERNAL, "folder_plan_build: --exclude %zu missing", i);
    for (size_t i = 0; r->regextrans2 != NULL && i < r->nregextrans2; i++)
        if (r->regextrans2[i] == NULL)
            return status_set(st, STATUS_INTERNAL, "folder_plan_build: --regextrans2 %zu missing",
                              i);

    struct build b;
    memset(&b, 0, sizeof b);
    int rc = parse_f1f2(r, &b.f1f2, st);
    if (rc == 0) {
        b.nf1f2 = r->nf1f2;
        b.sub1 = sanitize_subfolder(r->subfolder1);
        b.sub2 = sanitize_subfolder(r->subfolder2);
        rc = select_folders(&b, f1, n1, ns1, r, out, st);
    }
    if (rc == 0)
        rc = name_folders(&b, f1, n1, f2, n2, ns1, ns2, r, out, st);
    if (rc == 0)
        set_create_subscribe(out, f2, n2, b.subscribed1, r->subscribe, r->subscribeall);
    build_release(&b);
    if (rc != 0)
        folder_plan_free(out);
    return rc;
}

void folder_plan_free(struct folder_plan *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->npairs; i++) {
        free(p->pairs[i].name1);
        free(p->pairs[i].name2);
    }
    free(p->pairs);
    for (size_t i = 0; i < p->nmissing; i++)
        free(p->missing[i]);
    free(p->missing);
    memset(p, 0, sizeof *p);
}
