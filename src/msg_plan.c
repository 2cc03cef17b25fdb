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
    uint32_t idx;
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

static int key_uid_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = msgid_key_cmp(&a->key, &b->key);
    if (c != 0)
        return c;
    if (a->uid != b->uid)
        return a->uid < b->uid ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Sorting the outputs by host1 UID needs the UID next to the index too. */
struct uid_ref {
    uint32_t uid;
    uint32_t i1, i2;
};

static int uid_ref_cmp(const void *pa, const void *pb)
{
    const struct uid_ref *a = pa, *b = pb;
    if (a->uid != b->uid)
        return a->uid < b->uid ? -1 : 1;
    return (a->i1 > b->i1) - (a->i1 < b->i1);
}

static int uses_size(enum msg_plan_size rule)
{
    return rule != MSG_PLAN_SIZE_IGNORED;
}

/* host2's order is an array of indices (4 bytes a message, not a copy of
 * the keys); qsort reaches the array they index through this, one per
 * thread since folders are planned in parallel. */
static _Thread_local const struct msg_meta *sort_m2;
static _Thread_local int sort_use_size;

/* m2[i] against (key, size): size counts only when the rule weighs it. */
static int m2_cmp(const struct msg_meta *m, int use_size, const struct msgid_key *key,
                  uint32_t size)
{
    int c = msgid_key_cmp(&m->key, key);
    if (c != 0 || !use_size)
        return c;
    return (m->size > size) - (m->size < size);
}

static int order_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct msg_meta *x = &sort_m2[a], *y = &sort_m2[b];
    int c = m2_cmp(x, sort_use_size, &y->key, y->size);
    if (c != 0)
        return c;
    if (x->uid != y->uid)
        return x->uid < y->uid ? -1 : 1;
    return (a > b) - (a < b);
}

/* Sorting the order in place: glibc's qsort merges through a copy of the
 * array, 4 MB more at a million messages at the very moment host2's whole
 * listing is held. Introsort: quicksort with a median of three, heapsort
 * past 2 log2(n) levels (no input goes quadratic), insertion sort for
 * short runs. order_cmp is a total order, so the result is qsort's. */
static int ord_lt(uint32_t a, uint32_t b)
{
    return order_cmp(&a, &b) < 0;
}

static void sift_down(uint32_t *v, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && ord_lt(v[c], v[c + 1]))
            c++;
        if (!ord_lt(v[root], v[c]))
            return;
        uint32_t t = v[root];
        v[root] = v[c];
        v[c] = t;
        root = c;
    }
}

static void heap_sort(uint32_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t end = n; end-- > 1;) {
        uint32_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

static void intro_sort(uint32_t *v, size_t n, unsigned depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heap_sort(v, n);
            return;
        }
        /* median of three to the front, then Hoare's partition around it */
        size_t mid = n / 2;
        if (ord_lt(v[mid], v[0])) {
            uint32_t t = v[mid];
            v[mid] = v[0];
            v[0] = t;
        }
        if (ord_lt(v[n - 1], v[0])) {
            uint32_t t = v[n - 1];
            v[n - 1] = v[0];
            v[0] = t;
        }
        if (ord_lt(v[n - 1], v[mid])) {
            uint32_t t = v[n - 1];
            v[n - 1] = v[mid];
            v[mid] = t;
        }
        uint32_t pivot = v[mid];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (ord_lt(v[i], pivot))
                i++;
            while (ord_lt(pivot, v[j]))
                j--;
            if (i >= j)
                break;
            uint32_t t = v[i];
            v[i] = v[j];
            v[j] = t;
            i++;
            j--;
        }
        /* v[0..j] <= pivot <= v[j+1..n): the smaller side first */
        size_t left = j + 1;
        if (left < n - left) {
            intro_sort(v, left, depth);
            v += left;
            n -= left;
        } else {
            intro_sort(v + left, n - left, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        size_t k = i;
        for (; k > 0 && ord_lt(x, v[k - 1]); k--)
            v[k] = v[k - 1];
        v[k] = x;
    }
}

int msg_plan_index_init(struct msg_plan_index *ix, const struct msg_meta *m2, size_t n2,
                        enum msg_plan_size size_rule, struct status *st)
{
    memset(ix, 0, sizeof *ix);
    if (m2 == NULL && n2 > 0)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: missing message array");
    if (n2 >= UINT32_MAX)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: %zu messages in one folder", n2);
    ix->m2 = m2;
    ix->n2 = n2;
    ix->rule = size_rule;
    ix->order = sbuf_xcalloc(n2 + 1, sizeof *ix->order);
    ix->used = sbuf_xcalloc(n2 / 8 + 1, 1);
    ix->seen1 = sbuf_xcalloc(n2 / 8 + 1, 1);
    for (size_t i = 0; i < n2; i++)
        ix->order[i] = (uint32_t)i;
    sort_m2 = m2;
    sort_use_size = uses_size(size_rule);
    unsigned depth = 0;
    for (size_t k = n2; k > 1; k >>= 1)
        depth += 2;
    intro_sort(ix->order, n2, depth);
    sort_m2 = NULL;
    return 0;
}

static int is_used(const struct msg_plan_index *ix, uint32_t i)
{
    return ix->used[i / 8] >> (i % 8) & 1;
}

static void set_used(struct msg_plan_index *ix, uint32_t i)
{
    ix->used[i / 8] |= (unsigned char)(1u << (i % 8));
}

/* First position in ix->order whose message is not below (key, size). */
static size_t lower_bound(const struct msg_plan_index *ix, int use_size,
                          const struct msgid_key *key, uint32_t size)
{
    size_t lo = 0, hi = ix->n2;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m2_cmp(&ix->m2[ix->order[mid]], use_size, key, size) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The unpaired host2 message with e's key (and size, when the rule weighs
 * it) and the lowest UID, from position from on; SIZE_MAX when none. */
static size_t take_exact(struct msg_plan_index *ix, const struct entry *e, size_t from)
{
    int use_size = uses_size(ix->rule);
    for (size_t p = from; p < ix->n2; p++) {
        const struct msg_meta *m = &ix->m2[ix->order[p]];
        if (m2_cmp(m, use_size, &e->key, e->size) != 0)
            break;
        if (!is_used(ix, ix->order[p]))
            return p;
    }
    return SIZE_MAX;
}

/* The unpaired host2 message with e's key, any size, lowest UID. */
static size_t take_key(struct msg_plan_index *ix, const struct entry *e)
{
    size_t best = SIZE_MAX;
    for (size_t p = lower_bound(ix, 0, &e->key, 0); p < ix->n2; p++) {
        const struct msg_meta *m = &ix->m2[ix->order[p]];
        if (msgid_key_cmp(&m->key, &e->key) != 0)
            break;
        if (!is_used(ix, ix->order[p]) &&
            (best == SIZE_MAX || m->uid < ix->m2[ix->order[best]].uid))
            best = p;
    }
    return best;
}

static uint64_t digest64(const struct msgid_key *k)
{
    return k->hi ^ (k->lo * 0xc4ceb9fe1a85ec53ULL);
}

/* Host1's duplicates of e1 (sorted by key): a key host2 has is marked in
 * seen1 (its first position in order), any other goes into keys1, which
 * msg_plan_index_finish sorts and counts. */
static void count_dup1(struct msg_plan_index *ix, const struct entry *e1, size_t n1)
{
    size_t at = SIZE_MAX; /* the previous key's mark, SIZE_MAX: host2 lacks it */
    for (size_t i = 0; i < n1; i++) {
        if (i == 0 || msgid_key_cmp(&e1[i - 1].key, &e1[i].key) != 0) {
            at = lower_bound(ix, 0, &e1[i].key, 0);
            if (at == ix->n2 || msgid_key_cmp(&ix->m2[ix->order[at]].key, &e1[i].key) != 0)
                at = SIZE_MAX;
        }
        if (at != SIZE_MAX) {
            if (ix->seen1[at / 8] >> (at % 8) & 1)
                ix->dup1_seen++;
            ix->seen1[at / 8] |= (unsigned char)(1u << (at % 8));
            continue;
        }
        if (ix->nkeys1 == ix->capkeys1) {
            ix->capkeys1 = ix->capkeys1 ? ix->capkeys1 * 2 : 1024;
            ix->keys1 = sbuf_xrealloc(ix->keys1, ix->capkeys1 * sizeof *ix->keys1);
        }
        ix->keys1[ix->nkeys1++] = digest64(&e1[i].key);
    }
}

int msg_plan_chunk(struct msg_plan_index *ix, const struct msg_meta *m1, size_t n1,
                   struct msg_plan *out, struct status *st)
{
    if (out == NULL)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: no output");
    memset(out, 0, sizeof *out);
    if (m1 == NULL && n1 > 0)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: missing message array");
    if (n1 >= UINT32_MAX)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: %zu messages in one chunk", n1);
    int use_size = uses_size(ix->rule);
    struct entry *e1 = sbuf_xcalloc(n1 + 1, sizeof *e1);
    for (size_t i = 0; i < n1; i++) {
        e1[i].key = m1[i].key;
        e1[i].size = use_size ? m1[i].size : 0;
        e1[i].uid = m1[i].uid;
        e1[i].idx = (uint32_t)i;
    }
    qsort(e1, n1, sizeof *e1, entry_cmp);
    count_dup1(ix, e1, n1);

    /* Every host1 message ends up either copied or paired, so both lists
     * fit in n1 slots each; e1 is reused for what the exact pass leaves. */
    struct uid_ref *copy = sbuf_xcalloc(n1 + 1, sizeof *copy);
    struct uid_ref *pairs = sbuf_xcalloc(n1 + 1, sizeof *pairs);
    size_t ncopy = 0, npairs = 0, nleft = 0;
    /* In step within one (key, size): the k-th host1 message of it meets
     * the k-th unpaired host2 one, both in UID order; next resumes there. */
    size_t next = SIZE_MAX;
    for (size_t i = 0; i < n1; i++) {
        if (i == 0 || key_size_cmp(&e1[i - 1], &e1[i]) != 0)
            next = lower_bound(ix, use_size, &e1[i].key, e1[i].size);
        size_t p = next == SIZE_MAX ? SIZE_MAX : take_exact(ix, &e1[i], next);
        if (p == SIZE_MAX) {
            next = SIZE_MAX; /* none left for this (key, size) */
            e1[nleft++] = e1[i];
            continue;
        }
        set_used(ix, ix->order[p]);
        next = p + 1;
        pairs[npairs++] = (struct uid_ref){e1[i].uid, e1[i].idx, ix->order[p]};
    }
    if (ix->rule == MSG_PLAN_SIZE_FIRST && nleft > 0 && ix->n2 > 0) {
        /* A server may store a message with other bytes than it was given
         * (line ends, a header of its own): same identity, other size.
         * What the exact pass left is paired by identity alone, so such a
         * copy is not sent again on every rerun; a host1 message whose
         * identity host2 lacks altogether is still copied. */
        qsort(e1, nleft, sizeof *e1, key_uid_cmp);
        for (size_t i = 0; i < nleft; i++) {
            size_t p = take_key(ix, &e1[i]);
            if (p == SIZE_MAX) {
                copy[ncopy++] = (struct uid_ref){e1[i].uid, e1[i].idx, 0};
                continue;
            }
            set_used(ix, ix->order[p]);
            pairs[npairs++] = (struct uid_ref){e1[i].uid, e1[i].idx, ix->order[p]};
        }
    } else {
        for (size_t i = 0; i < nleft; i++)
            copy[ncopy++] = (struct uid_ref){e1[i].uid, e1[i].idx, 0};
    }
    free(e1);

    qsort(copy, ncopy, sizeof *copy, uid_ref_cmp);
    qsort(pairs, npairs, sizeof *pairs, uid_ref_cmp);
    out->copy = sbuf_xcalloc(ncopy + 1, sizeof *out->copy);
    for (size_t k = 0; k < ncopy; k++)
        out->copy[k] = copy[k].i1;
    out->ncopy = ncopy;
    out->pairs = sbuf_xcalloc(npairs + 1, sizeof *out->pairs);
    for (size_t k = 0; k < npairs; k++) {
        out->pairs[k].i1 = pairs[k].i1;
        out->pairs[k].i2 = pairs[k].i2;
    }
    out->npairs = npairs;
    free(copy);
    free(pairs);
    return 0;
}

static int u64_cmp(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

void msg_plan_index_finish(struct msg_plan_index *ix, struct msg_plan *p)
{
    /* host2's leftovers, in UID order, for --delete2. */
    size_t nl2 = 0;
    for (size_t i = 0; i < ix->n2; i++)
        nl2 += !is_used(ix, (uint32_t)i);
    struct uid_ref *left2 = sbuf_xcalloc(nl2 + 1, sizeof *left2);
    size_t k = 0;
    for (size_t i = 0; i < ix->n2; i++)
        if (!is_used(ix, (uint32_t)i))
            left2[k++] = (struct uid_ref){ix->m2[i].uid, (uint32_t)i, 0};
    qsort(left2, nl2, sizeof *left2, uid_ref_cmp);
    free(p->only2);
    p->only2 = sbuf_xcalloc(nl2 + 1, sizeof *p->only2);
    for (size_t i = 0; i < nl2; i++)
        p->only2[i] = left2[i].i1;
    p->only_on_2 = nl2;
    free(left2);
    /* Messages whose key an earlier one on the same side already has: the
     * order keeps host2's keys adjacent; host1's digests are sorted now. */
    p->dup2 = 0;
    for (size_t i = 1; i < ix->n2; i++)
        if (msgid_key_cmp(&ix->m2[ix->order[i - 1]].key, &ix->m2[ix->order[i]].key) == 0)
            p->dup2++;
    if (ix->nkeys1 > 1)
        qsort(ix->keys1, ix->nkeys1, sizeof *ix->keys1, u64_cmp);
    p->dup1 = ix->dup1_seen;
    for (size_t i = 1; i < ix->nkeys1; i++)
        if (ix->keys1[i - 1] == ix->keys1[i])
            p->dup1++;
}

void msg_plan_index_free(struct msg_plan_index *ix)
{
    if (ix == NULL)
        return;
    free(ix->order);
    free(ix->used);
    free(ix->seen1);
    free(ix->keys1);
    memset(ix, 0, sizeof *ix);
}

int msg_plan_build(const struct msg_meta *m1, size_t n1, const struct msg_meta *m2, size_t n2,
                   enum msg_plan_size size_rule, struct msg_plan *out, struct status *st)
{
    if (out == NULL)
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: no output");
    memset(out, 0, sizeof *out);
    if ((m1 == NULL && n1 > 0) || (m2 == NULL && n2 > 0))
        return status_set(st, STATUS_INTERNAL, "msg_plan_build: missing message array");
    struct msg_plan_index ix;
    if (msg_plan_index_init(&ix, m2, n2, size_rule, st) < 0)
        return -1;
    if (msg_plan_chunk(&ix, m1, n1, out, st) < 0) {
        msg_plan_index_free(&ix);
        return -1;
    }
    msg_plan_index_finish(&ix, out);
    msg_plan_index_free(&ix);
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
        /* interned: equal keywords, equal ids */
        uint32_t kw = keywords_ok ? a->kw : b->kw;
        if (a->sysflags == b->sysflags && kw == b->kw)
            continue;
        fix[n].uid2 = b->uid;
        fix[n].sysflags = a->sysflags;
        fix[n].keywords = kwtab_str(kw);
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

size_t msg_plan_index_unpaired(const struct msg_plan_index *ix, size_t **out)
{
    *out = sbuf_xmalloc((ix->n2 + 1) * sizeof **out);
    size_t n = 0;
    for (size_t i = 0; i < ix->n2; i++)
        if (!is_used(ix, (uint32_t)i))
            (*out)[n++] = i;
    return n;
}

void msg_plan_index_claim(struct msg_plan_index *ix, const struct msg_plan *p)
{
    for (size_t i = 0; i < p->npairs; i++)
        set_used(ix, (uint32_t)p->pairs[i].i2);
}
