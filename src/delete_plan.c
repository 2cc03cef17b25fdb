/* delete_plan: which messages and folders the deletion options may remove,
 * from the plans and listings; pure. */
#include "delete_plan.h"

#include "sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return (a > b) - (a < b);
}

static int size_cmp(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return (a > b) - (a < b);
}

size_t delete_plan_host1(const struct msg_meta *m1, const struct msg_plan *p,
                         const unsigned char *copied, uint32_t **uids)
{
    uint32_t *u = sbuf_xcalloc(p->npairs + p->ncopy + 1, sizeof *u);
    size_t n = 0;
    for (size_t i = 0; i < p->npairs; i++)
        u[n++] = m1[p->pairs[i].i1].uid;
    for (size_t k = 0; k < p->ncopy; k++)
        if (copied == NULL || copied[k])
            u[n++] = m1[p->copy[k]].uid;
    qsort(u, n, sizeof *u, u32_cmp);
    *uids = u;
    return n;
}

void delete_plan_verified(const struct msg_plan *p, const struct msg_plan *after,
                          unsigned char *copied)
{
    size_t *paired = sbuf_xcalloc(after->npairs + 1, sizeof *paired);
    for (size_t i = 0; i < after->npairs; i++)
        paired[i] = after->pairs[i].i1;
    qsort(paired, after->npairs, sizeof *paired, size_cmp);
    for (size_t k = 0; k < p->ncopy; k++)
        copied[k] = bsearch(&p->copy[k], paired, after->npairs, sizeof *paired, size_cmp) != NULL;
    free(paired);
}

/* qsort has no context argument, so the sort key travels with the UID. */
struct dup_entry {
    struct msgid_key key;
    uint32_t size; /* 0 unless the size is part of the identity */
    uint32_t uid;
    int paired;
};

static int dup_same(const struct dup_entry *a, const struct dup_entry *b)
{
    return msgid_key_cmp(&a->key, &b->key) == 0 && a->size == b->size;
}

static int dup_cmp(const void *pa, const void *pb)
{
    const struct dup_entry *a = pa, *b = pb;
    int c = msgid_key_cmp(&a->key, &b->key);
    if (c)
        return c;
    if (a->size != b->size)
        return a->size < b->size ? -1 : 1;
    return (a->uid > b->uid) - (a->uid < b->uid);
}

size_t delete_plan_host2(const struct msg_meta *m2, size_t n2, const struct msg_plan *p,
                         enum msg_plan_size size_rule, int delete2, int dups,
                         struct delete_plan_host2 *out)
{
    memset(out, 0, sizeof *out);
    struct dup_entry *e = sbuf_xcalloc(n2 + 1, sizeof *e);
    for (size_t i = 0; i < n2; i++) {
        e[i].key = m2[i].key;
        e[i].size = size_rule == MSG_PLAN_SIZE_STRICT ? m2[i].size : 0;
        e[i].uid = m2[i].uid;
    }
    for (size_t i = 0; i < p->npairs; i++)
        if (p->pairs[i].i2 < n2)
            e[p->pairs[i].i2].paired = 1;
    qsort(e, n2, sizeof *e, dup_cmp);
    out->gone = sbuf_xcalloc(n2 + 1, sizeof *out->gone);
    out->dups = sbuf_xcalloc(n2 + 1, sizeof *out->dups);
    for (size_t i = 0; i < n2;) {
        size_t j = i;
        int on_host1 = 0;
        while (j < n2 && dup_same(&e[i], &e[j]))
            on_host1 |= e[j++].paired;
        /* An identity host1 lacks: --delete2 takes every copy, while
         * --delete2duplicates alone keeps the lowest UID, never the last
         * copy. An identity host1 has: its paired copies stay, the others
         * are duplicates. */
        int keep_one = !on_host1 && !delete2;
        for (size_t k = i; k < j; k++) {
            if (e[k].paired)
                continue;
            if (!on_host1 && delete2) {
                out->gone[out->ngone++] = e[k].uid;
            } else if (keep_one) {
                keep_one = 0;
            } else if (dups) {
                out->dups[out->ndups++] = e[k].uid;
            }
        }
        i = j;
    }
    free(e);
    qsort(out->gone, out->ngone, sizeof *out->gone, u32_cmp);
    qsort(out->dups, out->ndups, sizeof *out->dups, u32_cmp);
    return out->ngone + out->ndups;
}

void delete_plan_host2_free(struct delete_plan_host2 *d)
{
    free(d->gone);
    free(d->dups);
    memset(d, 0, sizeof *d);
}

int delete_plan_within_ceiling(size_t ndel, size_t n, int ceiling)
{
    return (uint64_t)ndel * 100 <= (uint64_t)(ceiling < 0 ? 0 : ceiling) * n;
}

enum delete_plan_expunge delete_plan_expunge_mode(int uidplus, int want_uid, int want_plain)
{
    if (want_uid && uidplus)
        return DELETE_PLAN_UID;
    if (want_plain)
        return DELETE_PLAN_PLAIN;
    if (!want_uid)
        return DELETE_PLAN_FLAG_ONLY;
    return DELETE_PLAN_REFUSE;
}

static void keep_add(char ***keep, size_t *n, char *name)
{
    *keep = sbuf_xrealloc(*keep, (*n + 1) * sizeof **keep);
    (*keep)[(*n)++] = name;
}

int delete_plan_keep(const struct folder *f1, size_t n1, const struct folder *f2, size_t n2,
                     const struct folder_ns *ns1, const struct folder_ns *ns2,
                     const struct folder_plan_rules *rules, char ***keep, size_t *nkeep,
                     struct status *st)
{
    *keep = NULL;
    *nkeep = 0;
    /* imapsync keeps the host2 folder of every host1 folder, selected or
     * not: the naming rules stay, the selection goes. */
    struct folder_plan_rules all = *rules;
    all.folder = NULL;
    all.nfolder = 0;
    all.folderrec = NULL;
    all.nfolderrec = 0;
    all.subscribed = 0;
    all.include = NULL;
    all.ninclude = 0;
    all.exclude = NULL;
    all.nexclude = 0;
    all.folderfirst = NULL;
    all.nfolderfirst = 0;
    all.folderlast = NULL;
    all.nfolderlast = 0;
    all.checkfoldersexist = 0;
    struct folder_plan plan;
    if (folder_plan_build(f1, n1, f2, n2, ns1, ns2, &all, &plan, st) < 0)
        return -1;
    for (size_t i = 0; i < plan.npairs; i++)
        keep_add(keep, nkeep, sbuf_xstrdup(plan.pairs[i].name2));
    folder_plan_free(&plan);
    for (size_t i = 0; i < n1; i++) {
        keep_add(keep, nkeep, sbuf_xstrdup(f1[i].name));
        char *t = NULL;
        struct status ignored;
        if (folder_plan_translate(f1[i].name, ns1, ns2, &t, &ignored) == 0)
            keep_add(keep, nkeep, t);
    }
    return 0;
}

static int is_inbox(const char *name)
{
    return strcasecmp(name, "INBOX") == 0;
}

/* Whether c lies below parent in the hierarchy. */
static int below(const char *c, const char *parent, char sep)
{
    size_t n = strlen(parent);
    return sep != '\0' && strncmp(c, parent, n) == 0 && c[n] == sep;
}

static int kept(const char *name, const char *const *keep, size_t nkeep)
{
    for (size_t k = 0; k < nkeep; k++)
        if (strcmp(name, keep[k]) == 0 || (is_inbox(name) && is_inbox(keep[k])))
            return 1;
    return 0;
}

/* qsort has no context argument, so the name travels with the index. */
struct named {
    const char *name;
    size_t idx;
};

/* Descending names: a child sorts after its parent, so this puts it first. */
static int name_desc(const void *pa, const void *pb)
{
    const struct named *a = pa, *b = pb;
    return -strcmp(a->name, b->name);
}

size_t delete_plan_folders(const struct folder *f2, size_t n2, char sep2, const char *const *keep,
                           size_t nkeep, const struct rx_rule *only, const struct rx_rule *butnot,
                           size_t **idx)
{
    unsigned char *cand = sbuf_xcalloc(n2 + 1, 1);
    for (size_t i = 0; i < n2; i++) {
        const char *name = f2[i].name;
        if (is_inbox(name) || kept(name, keep, nkeep))
            continue;
        if (only && rx_match(only, name, strlen(name)) != 1)
            continue;
        if (butnot && rx_match(butnot, name, strlen(name)) != 0)
            continue;
        cand[i] = 1;
    }
    struct named *del = sbuf_xcalloc(n2 + 1, sizeof *del);
    size_t n = 0;
    for (size_t i = 0; i < n2; i++) {
        if (!cand[i])
            continue;
        int stays = 0;
        for (size_t j = 0; j < n2 && !stays; j++)
            stays = !cand[j] && j != i && below(f2[j].name, f2[i].name, sep2);
        for (size_t k = 0; k < nkeep && !stays; k++)
            stays = below(keep[k], f2[i].name, sep2);
        if (!stays)
            del[n++] = (struct named){f2[i].name, i};
    }
    free(cand);
    qsort(del, n, sizeof *del, name_desc);
    size_t *out = sbuf_xcalloc(n + 1, sizeof *out);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (m == 0 || strcmp(del[k].name, f2[out[m - 1]].name) != 0) /* LIST and LSUB both */
            out[m++] = del[k].idx;
    free(del);
    *idx = out;
    return m;
}

int delete_plan_folder_allowed(uint32_t messages, int ceiling)
{
    return messages == 0 || ceiling >= 100;
}
