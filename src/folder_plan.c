#include "folder_plan.h"

#include "sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_inbox(const char *name)
{
    return strcasecmp(name, "INBOX") == 0;
}

/* True when prefix is exactly "INBOX" followed by sep, the layout of
 * Courier-style servers whose personal folders all live under INBOX. */
static int is_inbox_prefix(const char *prefix, char sep)
{
    return sep != 0 && strncmp(prefix, "INBOX", 5) == 0 && prefix[5] == sep && prefix[6] == '\0';
}

int folder_plan_translate(const char *name1, const struct folder_plan_ns *ns1,
                          const struct folder_plan_ns *ns2, char **out, struct status *st)
{
    if (out != NULL)
        *out = NULL;
    if (name1 == NULL || ns1 == NULL || ns2 == NULL || out == NULL)
        return status_set(st, STATUS_INTERNAL, "folder_plan_translate: missing argument");
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
    /* imapsync maps a name that is nothing but the prefix to INBOX; adding
     * prefix2 to an empty name would produce a name like "INBOX." instead. */
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
    /* host1 "INBOX/Sub" already names the folder under host2's "INBOX."
     * prefix once swapped; prefixing again would give "INBOX.INBOX.Sub". */
    if (is_inbox_prefix(prefix2, sep2) && strncmp(r, prefix2, 6) == 0) {
        *out = r;
        return 0;
    }
    struct sbuf b = SBUF_INIT;
    sbuf_adds(&b, prefix2);
    sbuf_append(&b, r, rlen);
    free(r);
    *out = sbuf_take(&b);
    return 0;
}

struct src_ref {
    const char *name;
    size_t idx;
    int inbox;
};

static int src_ref_cmp(const void *pa, const void *pb)
{
    const struct src_ref *a = pa, *b = pb;
    if (a->inbox != b->inbox)
        return a->inbox ? -1 : 1;
    int c = strcmp(a->name, b->name);
    if (c != 0)
        return c;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

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

static int pair_ref_cmp(const void *pa, const void *pb)
{
    const struct folder_plan_pair *const *a = pa, *const *b = pb;
    int c = strcmp((*a)->name2, (*b)->name2);
    if (c != 0)
        return c;
    /* Pointer order is plan order: they all point into one array. */
    return (*a > *b) - (*a < *b);
}

int folder_plan_build(const struct folder_plan_folder *f1, size_t n1,
                      const struct folder_plan_folder *f2, size_t n2,
                      const struct folder_plan_ns *ns1, const struct folder_plan_ns *ns2,
                      struct folder_plan *out, struct status *st)
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

    struct src_ref *src = sbuf_xcalloc(n1, sizeof *src);
    size_t nsrc = 0;
    for (size_t i = 0; i < n1; i++) {
        if (f1[i].noselect)
            continue;
        src[nsrc].name = f1[i].name;
        src[nsrc].idx = i;
        src[nsrc].inbox = is_inbox(f1[i].name);
        nsrc++;
    }
    qsort(src, nsrc, sizeof *src, src_ref_cmp);

    /* INBOX is matched case-insensitively on host2 as on host1, and the
     * translation always spells it "INBOX", so key host2's entry that way. */
    struct dst_info *dst = sbuf_xcalloc(n2, sizeof *dst);
    size_t ndst = 0;
    for (size_t i = 0; i < n2; i++) {
        if (f2[i].name == NULL)
            continue;
        dst[ndst].name = is_inbox(f2[i].name) ? "INBOX" : f2[i].name;
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

    out->pairs = sbuf_xcalloc(nsrc, sizeof *out->pairs);
    int rc = 0;
    for (size_t k = 0; k < nsrc; k++) {
        const struct folder_plan_folder *f = &f1[src[k].idx];
        struct folder_plan_pair *p = &out->pairs[k];
        char *name2 = NULL;
        if (folder_plan_translate(f->name, ns1, ns2, &name2, st) != 0) {
            rc = -1;
            break;
        }
        p->name1 = sbuf_xstrdup(f->name);
        p->name2 = name2;
        out->npairs = k + 1;
        struct dst_info key = {name2, 0, 0};
        const struct dst_info *d = bsearch(&key, dst, nuniq, sizeof *dst, dst_info_cmp);
        p->create = d == NULL || !d->selectable;
        p->subscribe = f->subscribed && (d == NULL || !d->subscribed);
    }
    free(src);
    free(dst);
    if (rc != 0) {
        folder_plan_free(out);
        return rc;
    }

    struct folder_plan_pair **by_name = sbuf_xcalloc(out->npairs, sizeof *by_name);
    for (size_t k = 0; k < out->npairs; k++)
        by_name[k] = &out->pairs[k];
    qsort(by_name, out->npairs, sizeof *by_name, pair_ref_cmp);
    for (size_t k = 1; k < out->npairs; k++) {
        if (strcmp(by_name[k]->name2, by_name[k - 1]->name2) == 0) {
            /* The winner creates and subscribes; the loser must not repeat
             * either even if its caller forgets to check conflict. */
            by_name[k]->conflict = 1;
            by_name[k]->create = 0;
            by_name[k]->subscribe = 0;
        }
    }
    free(by_name);
    return 0;
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
    memset(p, 0, sizeof *p);
}
