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
    uint32_t uid;
    size_t idx;
};

static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = msgid_key_cmp(&a->key, &b->key);
    if (c != 0)
        return c;
    if (a->uid != b->uid)
        return a->uid < b->uid ? -1 : 1;
    /* Equal UIDs only come from a broken listing; the index keeps the
     * order total so the result stays deterministic anyway. */
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static struct entry *sorted_entries(const struct msg_meta *m, size_t n)
{
    struct entry *e = sbuf_xcalloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        e[i].key = m[i].key;
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

int msg_plan_build(const struct msg_meta *m1, size_t n1, const struct msg_meta *m2, size_t n2,
                   struct msg_plan *out, struct status *st)
{
    if (out == NULL)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: no output");
    memset(out, 0, sizeof *out);
    if ((m1 == NULL && n1 > 0) || (m2 == NULL && n2 > 0))
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: missing message array");

    struct entry *e1 = sorted_entries(m1, n1);
    struct entry *e2 = sorted_entries(m2, n2);
    /* Every host1 message ends up either copied or paired, so both lists
     * fit in n1 slots each; the excess is trimmed below. */
    struct uid_ref *copy = sbuf_xcalloc(n1, sizeof *copy);
    struct uid_ref *pairs = sbuf_xcalloc(n1, sizeof *pairs);
    size_t ncopy = 0, npairs = 0, only2 = 0;
    size_t i = 0, j = 0;

    while (i < n1 || j < n2) {
        int c;
        if (i == n1)
            c = 1;
        else if (j == n2)
            c = -1;
        else
            c = msgid_key_cmp(&e1[i].key, &e2[j].key);
        if (c < 0) {
            copy[ncopy++] = (struct uid_ref){e1[i].uid, e1[i].idx, 0};
            i++;
        } else if (c > 0) {
            only2++;
            j++;
        } else {
            /* Same key: both runs are in UID order, so walking them in step
             * pairs the k-th host1 copy with the k-th host2 copy. */
            pairs[npairs++] = (struct uid_ref){e1[i].uid, e1[i].idx, e2[j].idx};
            i++;
            j++;
        }
    }
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
    out->only_on_2 = only2;
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
    memset(p, 0, sizeof *p);
}
