/* msg_plan: which host1 messages host2 lacks and which pairs are the same
 * message, from both sides' metadata; pure. */
#include "msg_plan.h"

#include "sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* qsort has no context argument, so the sort key travels with the index. */
struct entry {
    struct msgid_key key;
    uint32_t size; /* 0 for all when the size is not part of the identity */
    uint32_t uid;
    size_t idx;
};

static int key_size_cmp(const struct entry *a, const struct entry *b)
{
    int c = msgid_key_cmp(&a->key, &b->key);
    if (c != 0)
        return c;
    return (a->size > b->size) - (a->size < b->size);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = key_size_cmp(a, b);
    if (c != 0)
        return c;
    if (a->uid != b->uid)
        return a->uid < b->uid ? -1 : 1;
    /* Equal UIDs only come from a broken listing; the index keeps the
     * order total so the result stays deterministic anyway. */
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static struct entry *sorted_entries(const struct msg_meta *m, size_t n, int use_size)
{
    struct entry *e = sbuf_xcalloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        e[i].key = m[i].key;
        e[i].size = use_size ? m[i].size : 0;
        e[i].uid = m[i].uid;
        e[i].idx = i;
    }
    qsort(e, n, sizeof *e, entry_cmp);
    return e;
}

/* Messages whose key an earlier one in the same sorted run already has. */
static size_t count_dups(const struct entry *e, size_t n)
{
    size_t d = 0;
    for (size_t i = 1; i < n; i++)
        if (msgid_key_cmp(&e[i - 1].key, &e[i].key) == 0)
            d++;
    return d;
}

/* Sorting the outputs by host1 UID needs the UID next to the index too. */
struct uid_ref {
    uint32_t uid;
    size_t i1, i2;
};

static int uid_ref_cmp(const void *pa, const void *pb)
{
    const struct uid_ref *a = pa, *b = pb;
    if (a->uid != b->uid)
        return a->uid < b->uid ? -1 : 1;
    return (a->i1 > b->i1) - (a->i1 < b->i1);
}

/* Pairs equal entries of two sorted runs (by cmp) in step, so the k-th
 * host1 copy of an identity meets the k-th host2 copy; what is left goes to
 * l1 and l2 in the same order. */
static void match(const struct entry *e1, size_t n1, const struct entry *e2, size_t n2,
                  int (*cmp)(const struct entry *, const struct entry *), struct uid_ref *pairs,
                  size_t *npairs, struct entry *l1, size_t *nl1, struct entry *l2, size_t *nl2)
{
    size_t i = 0, j = 0;
    while (i < n1 || j < n2) {
        int c = i == n1 ? 1 : j == n2 ? -1 : cmp(&e1[i], &e2[j]);
        if (c < 0) {
            l1[(*nl1)++] = e1[i++];
        } else if (c > 0) {
            l2[(*nl2)++] = e2[j++];
        } else {
            pairs[(*npairs)++] = (struct uid_ref){e1[i].uid, e1[i].idx, e2[j].idx};
            i++;
            j++;
        }
    }
}

static int key_cmp(const struct entry *a, const struct entry *b)
{
    return msgid_key_cmp(&a->key, &b->key);
}

static int key_uid_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = key_cmp(a, b);
    if (c != 0)
        return c;
    return (a->uid > b->uid) - (a->uid < b->uid);
}

int msg_plan_build(const struct msg_meta *m1, size_t n1, const struct msg_meta *m2, size_t n2,
                   enum msg_plan_size size_rule, struct msg_plan *out, struct status *st)
{
    if (out == NULL)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: no output");
    memset(out, 0, sizeof *out);
    if ((m1 == NULL && n1 > 0) || (m2 == NULL && n2 > 0))
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: missing message array");

    int use_size = size_rule != MSG_PLAN_SIZE_IGNORED;
    struct entry *e1 = sorted_entries(m1, n1, use_size);
    struct entry *e2 = sorted_entries(m2, n2, use_size);
    /* Every host1 message ends up either copied or paired, so both lists
     * fit in n1 slots each; the excess is trimmed below. */
    struct uid_ref *copy = sbuf_xcalloc(n1, sizeof *copy);
    struct uid_ref *pairs = sbuf_xcalloc(n1, sizeof *pairs);
    struct entry *l1 = sbuf_xcalloc(n1, sizeof *l1), *l2 = sbuf_xcalloc(n2, sizeof *l2);
    size_t ncopy = 0, npairs = 0, nl1 = 0, nl2 = 0;
    match(e1, n1, e2, n2, key_size_cmp, pairs, &npairs, l1, &nl1, l2, &nl2);
    if (size_rule == MSG_PLAN_SIZE_FIRST && nl1 > 0 && nl2 > 0) {
        /* A server may store a message with other bytes than it was given
         * (line ends, a header of its own): same identity, other size.
         * What the exact pass left is paired by identity alone, so such a
         * copy is not sent again on every rerun; a host1 message whose
         * identity host2 lacks altogether is still copied. */
        qsort(l1, nl1, sizeof *l1, key_uid_cmp);
        qsort(l2, nl2, sizeof *l2, key_uid_cmp);
        struct entry *r1 = sbuf_xcalloc(nl1, sizeof *r1), *r2 = sbuf_xcalloc(nl2, sizeof *r2);
        size_t nr1 = 0, nr2 = 0;
        match(l1, nl1, l2, nl2, key_cmp, pairs, &npairs, r1, &nr1, r2, &nr2);
        free(l1);
        l1 = r1;
        nl1 = nr1;
        free(l2);
        l2 = r2;
        nl2 = nr2;
    }
    for (size_t k = 0; k < nl1; k++)
        copy[ncopy++] = (struct uid_ref){l1[k].uid, l1[k].idx, 0};
    free(l1);
    /* host2's leftovers, in UID order, for --delete2. */
    struct uid_ref *left2 = sbuf_xcalloc(nl2 + 1, sizeof *left2);
    for (size_t k = 0; k < nl2; k++)
        left2[k] = (struct uid_ref){l2[k].uid, l2[k].idx, 0};
    qsort(left2, nl2, sizeof *left2, uid_ref_cmp);
    out->only2 = sbuf_xcalloc(nl2 + 1, sizeof *out->only2);
    for (size_t k = 0; k < nl2; k++)
        out->only2[k] = left2[k].i1;
    free(left2);
    free(l2);
    out->dup1 = count_dups(e1, n1);
    out->dup2 = count_dups(e2, n2);
    free(e1);
    free(e2);

    qsort(copy, ncopy, sizeof *copy, uid_ref_cmp);
    qsort(pairs, npairs, sizeof *pairs, uid_ref_cmp);

    out->copy = sbuf_xcalloc(ncopy, sizeof *out->copy);
    for (size_t k = 0; k < ncopy; k++)
        out->copy[k] = copy[k].i1;
    out->ncopy = ncopy;
    out->pairs = sbuf_xcalloc(npairs, sizeof *out->pairs);
    for (size_t k = 0; k < npairs; k++) {
        out->pairs[k].i1 = pairs[k].i1;
        out->pairs[k].i2 = pairs[k].i2;
    }
    out->npairs = npairs;
    out->only_on_2 = nl2;
    free(copy);
    free(pairs);
    return 0;
}

static int same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int msg_plan_same_target(const struct msg_plan_flagfix *a, const struct msg_plan_flagfix *b)
{
    return a->sysflags == b->sysflags && same_str(a->keywords, b->keywords);
}

static int flagfix_cmp(const void *pa, const void *pb)
{
    const struct msg_plan_flagfix *a = pa, *b = pb;
    if (a->sysflags != b->sysflags)
        return a->sysflags < b->sysflags ? -1 : 1;
    int c = strcmp(a->keywords ? a->keywords : "", b->keywords ? b->keywords : "");
    if (c)
        return c;
    return (a->uid2 > b->uid2) - (a->uid2 < b->uid2);
}

size_t msg_plan_flag_fixes(const struct msg_meta *m1, const struct msg_meta *m2,
                           const struct msg_plan *p, int keywords_ok, struct msg_plan_flagfix **out)
{
    struct msg_plan_flagfix *fix = sbuf_xcalloc(p->npairs, sizeof *fix);
    size_t n = 0;
    for (size_t i = 0; i < p->npairs; i++) {
        const struct msg_meta *a = &m1[p->pairs[i].i1], *b = &m2[p->pairs[i].i2];
        const char *kw = keywords_ok ? a->keywords : b->keywords;
        if (a->sysflags == b->sysflags && same_str(kw, b->keywords))
            continue;
        fix[n].uid2 = b->uid;
        fix[n].sysflags = a->sysflags;
        fix[n].keywords = kw;
        n++;
    }
    qsort(fix, n, sizeof *fix, flagfix_cmp);
    *out = fix;
    return n;
}

void msg_plan_free(struct msg_plan *p)
{
    if (p == NULL)
        return;
    free(p->copy);
    free(p->pairs);
    free(p->only2);
    memset(p, 0, sizeof *p);
}
