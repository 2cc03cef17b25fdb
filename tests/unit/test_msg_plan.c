#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flagrule.h"
#include "msg_plan.h"

#include <stdlib.h>
#include <string.h>

static struct msgid_key k_of(unsigned id)
{
    struct msgid_key k = {id * 0x9e3779b97f4a7c15ULL, id};
    return k;
}

static struct msg_meta meta(uint32_t uid, unsigned key_id)
{
    struct msg_meta m;
    memset(&m, 0, sizeof m);
    m.uid = uid;
    m.size = 100 + key_id;
    m.key = k_of(key_id);
    return m;
}

static void test_empty(void **state)
{
    (void)state;
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(NULL, 0, NULL, 0, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.ncopy, 0);
    assert_int_equal(p.npairs, 0);
    assert_int_equal(p.only_on_2, 0);
    msg_plan_free(&p);

    struct msg_meta m[] = {meta(1, 1), meta(2, 2)};
    assert_int_equal(msg_plan_build(NULL, 0, m, 2, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.ncopy, 0);
    assert_int_equal(p.npairs, 0);
    assert_int_equal(p.only_on_2, 2);
    msg_plan_free(&p);

    assert_int_equal(msg_plan_build(NULL, 3, m, 2, MSG_PLAN_SIZE_FIRST, &p, &st), -1);
    assert_int_equal(st.code, STATUS_INTERNAL);
    msg_plan_free(&p);
    msg_plan_free(NULL);
}

static void test_all_new(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(30, 3), meta(10, 1), meta(20, 2)};
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(m1, 3, NULL, 0, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.ncopy, 3);
    assert_int_equal(p.copy[0], 1); /* UID 10 */
    assert_int_equal(p.copy[1], 2); /* UID 20 */
    assert_int_equal(p.copy[2], 0); /* UID 30 */
    assert_int_equal(p.npairs, 0);
    assert_int_equal(p.only_on_2, 0);
    msg_plan_free(&p);
    assert_null(p.copy);
    assert_int_equal(p.ncopy, 0);
}

static void test_all_present(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(5, 7), meta(3, 8), meta(9, 9)};
    struct msg_meta m2[] = {meta(100, 9), meta(101, 7), meta(102, 8)};
    struct msg_meta c1[3], c2[3];
    memcpy(c1, m1, sizeof m1);
    memcpy(c2, m2, sizeof m2);
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(m1, 3, m2, 3, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.ncopy, 0);
    assert_int_equal(p.npairs, 3);
    assert_int_equal(p.only_on_2, 0);
    /* host1 UID order 3, 5, 9 */
    assert_int_equal(p.pairs[0].i1, 1);
    assert_int_equal(p.pairs[0].i2, 2);
    assert_int_equal(p.pairs[1].i1, 0);
    assert_int_equal(p.pairs[1].i2, 1);
    assert_int_equal(p.pairs[2].i1, 2);
    assert_int_equal(p.pairs[2].i2, 0);
    msg_plan_free(&p);
    /* the inputs are left alone */
    assert_memory_equal(c1, m1, sizeof m1);
    assert_memory_equal(c2, m2, sizeof m2);
}

static void test_duplicates(void **state)
{
    (void)state;
    /* Three copies of one message on host1, one on host2. */
    struct msg_meta m1[] = {meta(12, 4), meta(4, 4), meta(8, 4), meta(6, 5)};
    struct msg_meta m2[] = {meta(50, 4), meta(51, 6), meta(52, 6)};
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(m1, 4, m2, 3, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.npairs, 1);
    /* the lowest host1 UID of the key is the one paired */
    assert_int_equal(p.pairs[0].i1, 1);
    assert_int_equal(p.pairs[0].i2, 0);
    assert_int_equal(p.ncopy, 3);
    assert_int_equal(p.copy[0], 3); /* UID 6, key 5 */
    assert_int_equal(p.copy[1], 2); /* UID 8 */
    assert_int_equal(p.copy[2], 0); /* UID 12 */
    assert_int_equal(p.only_on_2, 2);
    /* duplicates on each side: two extra copies of key 4 on host1, one of key 6 on host2 */
    assert_int_equal(p.dup1, 2);
    assert_int_equal(p.dup2, 1);
    msg_plan_free(&p);
}

/* The same message stored by host2 with other bytes (another size). */
static void test_size_rules(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(1, 4), meta(2, 4)};
    m1[1].size = 300; /* two host1 messages sharing a Message-ID */
    struct msg_meta m2[] = {meta(7, 4)};
    m2[0].size = 180; /* host2's copy of the first one, rewritten */
    struct msg_plan p;
    struct status st;
    /* default: nothing matches exactly, the lowest UID pairs by key, the
     * other host1 message is copied */
    assert_int_equal(msg_plan_build(m1, 2, m2, 1, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.npairs, 1);
    assert_int_equal(p.pairs[0].i1, 0);
    assert_int_equal(p.ncopy, 1);
    assert_int_equal(p.copy[0], 1);
    assert_int_equal(p.only_on_2, 0);
    msg_plan_free(&p);
    /* an exact match wins over the earlier UID */
    m2[0].size = 300;
    assert_int_equal(msg_plan_build(m1, 2, m2, 1, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.npairs, 1);
    assert_int_equal(p.pairs[0].i1, 1);
    assert_int_equal(p.ncopy, 1);
    assert_int_equal(p.copy[0], 0);
    msg_plan_free(&p);
    /* --noskipsize: another size is another message */
    m2[0].size = 180;
    assert_int_equal(msg_plan_build(m1, 2, m2, 1, MSG_PLAN_SIZE_STRICT, &p, &st), 0);
    assert_int_equal(p.npairs, 0);
    assert_int_equal(p.ncopy, 2);
    assert_int_equal(p.only_on_2, 1);
    msg_plan_free(&p);
    /* --skipsize: the key alone, in UID order */
    assert_int_equal(msg_plan_build(m1, 2, m2, 1, MSG_PLAN_SIZE_IGNORED, &p, &st), 0);
    assert_int_equal(p.npairs, 1);
    assert_int_equal(p.pairs[0].i1, 0);
    msg_plan_free(&p);
}

static void test_uid_order_within_key(void **state)
{
    (void)state;
    /* Two copies on each side, listed out of order: the k-th UID on host1
     * pairs with the k-th UID on host2. */
    struct msg_meta m1[] = {meta(20, 1), meta(10, 1), meta(30, 1)};
    struct msg_meta m2[] = {meta(9, 1), meta(3, 1)};
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(m1, 3, m2, 2, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.npairs, 2);
    assert_int_equal(p.pairs[0].i1, 1); /* UID 10 */
    assert_int_equal(p.pairs[0].i2, 1); /* UID 3 */
    assert_int_equal(p.pairs[1].i1, 0); /* UID 20 */
    assert_int_equal(p.pairs[1].i2, 0); /* UID 9 */
    assert_int_equal(p.ncopy, 1);
    assert_int_equal(p.copy[0], 2);
    assert_int_equal(p.only_on_2, 0);
    msg_plan_free(&p);

    /* Same input in another array order: same decisions by UID. */
    struct msg_meta r1[] = {meta(30, 1), meta(20, 1), meta(10, 1)};
    struct msg_meta r2[] = {meta(3, 1), meta(9, 1)};
    assert_int_equal(msg_plan_build(r1, 3, r2, 2, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(r1[p.pairs[0].i1].uid, 10);
    assert_int_equal(r2[p.pairs[0].i2].uid, 3);
    assert_int_equal(r1[p.pairs[1].i1].uid, 20);
    assert_int_equal(r2[p.pairs[1].i2].uid, 9);
    assert_int_equal(r1[p.copy[0]].uid, 30);
    msg_plan_free(&p);
}

static uint64_t rnd(uint64_t *s)
{
    /* xorshift64*: reproducible without any global state */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

static void shuffle_uids(struct msg_meta *m, size_t n, uint64_t *s)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rnd(s) % i);
        uint32_t t = m[i - 1].uid;
        m[i - 1].uid = m[j].uid;
        m[j].uid = t;
    }
}

static void check_random(size_t n1, size_t n2, unsigned nkeys, uint64_t seed)
{
    struct msg_meta *m1 = calloc(n1 ? n1 : 1, sizeof *m1);
    struct msg_meta *m2 = calloc(n2 ? n2 : 1, sizeof *m2);
    size_t *c1 = calloc(nkeys, sizeof *c1), *c2 = calloc(nkeys, sizeof *c2);
    assert_non_null(m1);
    assert_non_null(m2);
    assert_non_null(c1);
    assert_non_null(c2);
    for (size_t i = 0; i < n1; i++) {
        unsigned id = (unsigned)(rnd(&seed) % nkeys);
        m1[i] = meta((uint32_t)(i * 3 + 1), id);
        c1[id]++;
    }
    for (size_t i = 0; i < n2; i++) {
        unsigned id = (unsigned)(rnd(&seed) % nkeys);
        m2[i] = meta((uint32_t)(i * 2 + 5), id);
        c2[id]++;
    }
    shuffle_uids(m1, n1, &seed);
    shuffle_uids(m2, n2, &seed);

    size_t want_copy = 0, want_pairs = 0, want_only2 = 0;
    for (unsigned k = 0; k < nkeys; k++) {
        want_pairs += c1[k] < c2[k] ? c1[k] : c2[k];
        want_copy += c1[k] > c2[k] ? c1[k] - c2[k] : 0;
        want_only2 += c2[k] > c1[k] ? c2[k] - c1[k] : 0;
    }

    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(m1, n1, m2, n2, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    assert_int_equal(p.ncopy, want_copy);
    assert_int_equal(p.npairs, want_pairs);
    assert_int_equal(p.only_on_2, want_only2);

    /* Each host1 message is used once, each host2 message at most once. */
    unsigned char *used1 = calloc(n1 ? n1 : 1, 1), *used2 = calloc(n2 ? n2 : 1, 1);
    /* per key: highest paired UID on each side, lowest copied host1 UID */
    uint32_t *maxp1 = calloc(nkeys, sizeof *maxp1), *maxp2 = calloc(nkeys, sizeof *maxp2);
    uint32_t *minc1 = calloc(nkeys, sizeof *minc1);
    assert_non_null(used1);
    assert_non_null(used2);
    assert_non_null(maxp1);
    assert_non_null(maxp2);
    assert_non_null(minc1);
    for (unsigned k = 0; k < nkeys; k++)
        minc1[k] = UINT32_MAX;

    for (size_t i = 0; i < p.ncopy; i++) {
        size_t x = p.copy[i];
        assert_true(x < n1);
        assert_false(used1[x]);
        used1[x] = 1;
        if (i > 0)
            assert_true(m1[p.copy[i - 1]].uid < m1[x].uid);
        unsigned id = (unsigned)m1[x].key.lo;
        if (m1[x].uid < minc1[id])
            minc1[id] = m1[x].uid;
    }
    for (size_t i = 0; i < p.npairs; i++) {
        size_t a = p.pairs[i].i1, b = p.pairs[i].i2;
        assert_true(a < n1);
        assert_true(b < n2);
        assert_false(used1[a]);
        assert_false(used2[b]);
        used1[a] = used2[b] = 1;
        assert_int_equal(msgid_key_cmp(&m1[a].key, &m2[b].key), 0);
        if (i > 0)
            assert_true(m1[p.pairs[i - 1].i1].uid < m1[a].uid);
        unsigned id = (unsigned)m1[a].key.lo;
        /* walking pairs in host1 UID order, host2 UIDs of a key rise too */
        assert_true(m2[b].uid > maxp2[id]);
        maxp1[id] = m1[a].uid;
        maxp2[id] = m2[b].uid;
    }
    for (size_t i = 0; i < n1; i++)
        assert_true(used1[i]);
    for (unsigned k = 0; k < nkeys; k++)
        assert_true(maxp1[k] < minc1[k]);
    for (size_t i = 0; i < n2; i++) {
        unsigned id = (unsigned)m2[i].key.lo;
        if (!used2[i])
            assert_true(m2[i].uid > maxp2[id]);
    }

    msg_plan_free(&p);
    free(used1);
    free(used2);
    free(maxp1);
    free(maxp2);
    free(minc1);
    free(c1);
    free(c2);
    free(m1);
    free(m2);
}

static void test_random_small(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 200; seed++)
        check_random((size_t)(seed % 17), (size_t)(seed % 13), 1 + (unsigned)(seed % 5), seed);
}

static void test_random_large(void **state)
{
    (void)state;
    check_random(50000, 45000, 30000, 0x1234567);
    /* many duplicates per key */
    check_random(50000, 50000, 100, 0x89abcdef);
}

static void test_hundred_thousand(void **state)
{
    (void)state;
    check_random(100000, 100000, 200000, 42);
}

static int meta_uid_cmp(const void *pa, const void *pb)
{
    const struct msg_meta *a = pa, *b = pb;
    return (a->uid > b->uid) - (a->uid < b->uid);
}

static int key_only_cmp(const void *pa, const void *pb)
{
    return msgid_key_cmp(pa, pb);
}

/* Messages whose key an earlier one of m has, counted the slow way. */
static size_t brute_dups(const struct msg_meta *m, size_t n)
{
    struct msgid_key *k = calloc(n + 1, sizeof *k);
    assert_non_null(k);
    for (size_t i = 0; i < n; i++)
        k[i] = m[i].key;
    qsort(k, n, sizeof *k, key_only_cmp);
    size_t d = 0;
    for (size_t i = 1; i < n; i++)
        d += msgid_key_cmp(&k[i - 1], &k[i]) == 0;
    free(k);
    return d;
}

/* host1 in chunks (ascending UIDs) against one index of host2 gives
 * msg_plan_build's plan: the same pairs (as UIDs), copies and counts. */
static void check_chunked(size_t n1, size_t n2, unsigned nkeys, size_t chunk, int sizes,
                          uint64_t seed)
{
    struct msg_meta *m1 = calloc(n1 + 1, sizeof *m1), *m2 = calloc(n2 + 1, sizeof *m2);
    assert_non_null(m1);
    assert_non_null(m2);
    for (size_t i = 0; i < n1; i++) {
        m1[i] = meta((uint32_t)(i * 3 + 1), (unsigned)(rnd(&seed) % nkeys));
        if (sizes)
            m1[i].size += (uint32_t)(rnd(&seed) % 2);
    }
    for (size_t i = 0; i < n2; i++) {
        m2[i] = meta((uint32_t)(i * 2 + 5), (unsigned)(rnd(&seed) % nkeys));
        if (sizes)
            m2[i].size += (uint32_t)(rnd(&seed) % 2);
    }
    shuffle_uids(m2, n2, &seed);
    qsort(m1, n1, sizeof *m1, meta_uid_cmp);
    struct status st;
    struct msg_plan whole;
    assert_int_equal(msg_plan_build(m1, n1, m2, n2, MSG_PLAN_SIZE_FIRST, &whole, &st), 0);

    struct msg_plan_index ix;
    assert_int_equal(msg_plan_index_init(&ix, m2, n2, MSG_PLAN_SIZE_FIRST, &st), 0);
    size_t ncopy = 0, npairs = 0;
    struct msg_plan p;
    memset(&p, 0, sizeof p);
    for (size_t lo = 0; lo < n1 || lo == 0; lo += chunk) {
        size_t n = n1 - lo < chunk ? n1 - lo : chunk;
        msg_plan_free(&p);
        assert_int_equal(msg_plan_chunk(&ix, m1 + lo, n, &p, &st), 0);
        assert_int_equal(p.ncopy + p.npairs, n);
        for (size_t i = 0; i < p.ncopy; i++, ncopy++) {
            if (!sizes) {
                assert_true(ncopy < whole.ncopy);
                assert_int_equal(m1[lo + p.copy[i]].uid, m1[whole.copy[ncopy]].uid);
            }
        }
        for (size_t i = 0; i < p.npairs; i++, npairs++) {
            const struct msg_meta *a = &m1[lo + p.pairs[i].i1], *b = &m2[p.pairs[i].i2];
            assert_int_equal(msgid_key_cmp(&a->key, &b->key), 0);
            if (!sizes) {
                assert_true(npairs < whole.npairs);
                assert_int_equal(a->uid, m1[whole.pairs[npairs].i1].uid);
                assert_int_equal(b->uid, m2[whole.pairs[npairs].i2].uid);
            }
        }
        if (n1 == 0)
            break;
    }
    msg_plan_index_finish(&ix, &p);
    assert_int_equal(ncopy, whole.ncopy);
    assert_int_equal(npairs, whole.npairs);
    assert_int_equal(p.only_on_2, whole.only_on_2);
    assert_int_equal(p.dup1, whole.dup1);
    assert_int_equal(p.dup2, whole.dup2);
    /* host1's keys partly on host2, partly not: both ways of counting */
    assert_int_equal(p.dup1, brute_dups(m1, n1));
    assert_int_equal(p.dup2, brute_dups(m2, n2));
    for (size_t i = 0; i < p.only_on_2; i++) {
        if (!sizes)
            assert_int_equal(p.only2[i], whole.only2[i]);
        if (i > 0)
            assert_true(m2[p.only2[i - 1]].uid < m2[p.only2[i]].uid);
    }
    msg_plan_free(&p);
    msg_plan_index_free(&ix);
    msg_plan_free(&whole);
    free(m1);
    free(m2);
}

static void test_chunked(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 60; seed++)
        check_chunked((size_t)(seed % 23), (size_t)(seed % 19), 1 + (unsigned)(seed % 7),
                      1 + (size_t)(seed % 5), (int)(seed % 2), seed);
    check_chunked(30000, 25000, 20000, 4096, 0, 7);
    check_chunked(30000, 30000, 300, 1000, 0, 8); /* many copies of each key */
    check_chunked(20000, 20000, 5000, 777, 1, 9); /* sizes differ within a key */
    check_chunked(20000, 3000, 8000, 999, 0, 10); /* most keys host2 lacks */
}

/* The index's order is sorted in place (no qsort): by key, then size as
 * the rule weighs it, then UID, then position, whatever the listing's
 * shape: one key throughout (UIDs rising or falling), keys rising,
 * falling, in an organ pipe, or random with repeated sizes. */
static void check_order(const struct msg_meta *m, size_t n, enum msg_plan_size rule)
{
    struct msg_plan_index ix;
    struct status st;
    assert_int_equal(msg_plan_index_init(&ix, m, n, rule, &st), 0);
    unsigned char *seen = calloc(n + 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < n; i++) {
        assert_true(ix.order[i] < n);
        assert_false(seen[ix.order[i]]);
        seen[ix.order[i]] = 1;
        if (i == 0)
            continue;
        const struct msg_meta *a = &m[ix.order[i - 1]], *b = &m[ix.order[i]];
        int c = msgid_key_cmp(&a->key, &b->key);
        if (c == 0 && rule != MSG_PLAN_SIZE_IGNORED)
            c = (a->size > b->size) - (a->size < b->size);
        if (c == 0)
            c = (a->uid > b->uid) - (a->uid < b->uid);
        if (c == 0)
            c = ix.order[i - 1] < ix.order[i] ? -1 : 1;
        assert_true(c < 0);
    }
    free(seen);
    msg_plan_index_free(&ix);
}

static void test_index_order(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct msg_meta *m = calloc(N, sizeof *m);
    assert_non_null(m);
    uint64_t seed = 77;
    for (int shape = 0; shape < 6; shape++) {
        for (size_t i = 0; i < N; i++) {
            unsigned id = shape == 0 || shape == 1 ? 7
                          : shape == 2             ? (unsigned)i
                          : shape == 3             ? (unsigned)(N - i)
                          : shape == 4             ? (unsigned)(i < N / 2 ? i : N - i)
                                                   : (unsigned)(rnd(&seed) % 300);
            uint32_t uid = shape == 1 ? (uint32_t)(N - i) : (uint32_t)(i + 1);
            if (shape == 5 && i % 11 == 0)
                uid = 42; /* a broken listing: repeated UIDs */
            m[i] = meta(uid, id);
            if (shape == 5)
                m[i].size = 100 + (uint32_t)(rnd(&seed) % 3);
        }
        check_order(m, N, MSG_PLAN_SIZE_FIRST);
        check_order(m, N, MSG_PLAN_SIZE_IGNORED);
        check_order(m, 17, MSG_PLAN_SIZE_STRICT);
        check_order(m, 3, MSG_PLAN_SIZE_STRICT);
    }
    free(m);
}

static void norm_is(const char *in, const char *want)
{
    char *out = flagrule_keywords_norm(in ? strdup(in) : NULL);
    if (want == NULL) {
        assert_null(out);
    } else {
        assert_non_null(out);
        assert_string_equal(out, want);
    }
    free(out);
}

static void test_keywords_norm(void **state)
{
    (void)state;
    norm_is(NULL, NULL);
    norm_is("", NULL);
    norm_is("   ", NULL);
    norm_is("$Junk", "$Junk");
    norm_is("b a c", "a b c");
    norm_is("  zeta   $Forwarded  alpha ", "$Forwarded alpha zeta");
    norm_is("x x y x", "x y");
    /* byte order, case kept: keywords are compared as sent */
    norm_is("b B a A", "A B a b");
    norm_is("NonJunk $Label1 NonJunk $label1", "$Label1 $label1 NonJunk");
}

static void test_flag_fixes(void **state)
{
    (void)state;
    /* Four pairs: equal flags; \Seen added; \Seen added; \Flagged removed
     * and a keyword added. */
    struct msg_meta m1[] = {meta(1, 1), meta(2, 2), meta(3, 3), meta(4, 4)};
    struct msg_meta m2[] = {meta(11, 1), meta(12, 2), meta(13, 3), meta(14, 4)};
    m1[1].sysflags = m1[2].sysflags = MSG_SEEN;
    m2[3].sysflags = MSG_FLAGGED;
    m1[3].kw = kwtab_intern("Work");
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(m1, 4, m2, 4, MSG_PLAN_SIZE_FIRST, &p, &st), 0);
    struct msg_plan_flagfix *fix = NULL;
    size_t n = msg_plan_flag_fixes(m1, m2, &p, 1, &fix);
    assert_int_equal(n, 3);
    /* sorted by target: (no flags, "Work") first, then \Seen twice, adjacent */
    assert_int_equal(fix[0].uid2, 14);
    assert_int_equal(fix[0].sysflags, 0);
    assert_string_equal(fix[0].keywords, "Work");
    assert_int_equal(fix[1].uid2, 12);
    assert_int_equal(fix[2].uid2, 13);
    assert_true(msg_plan_same_target(&fix[1], &fix[2]));
    assert_false(msg_plan_same_target(&fix[0], &fix[1]));
    free(fix);

    /* host2 cannot store new keywords: its own are kept, and a pair that
     * differs only by a keyword needs no update at all. */
    m2[3].sysflags = 0;
    n = msg_plan_flag_fixes(m1, m2, &p, 0, &fix);
    assert_int_equal(n, 2);
    assert_int_equal(fix[0].uid2, 12);
    assert_int_equal(fix[1].uid2, 13);
    free(fix);
    msg_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_all_new),
        cmocka_unit_test(test_all_present),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_size_rules),
        cmocka_unit_test(test_uid_order_within_key),
        cmocka_unit_test(test_random_small),
        cmocka_unit_test(test_random_large),
        cmocka_unit_test(test_hundred_thousand),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_index_order),
        cmocka_unit_test(test_keywords_norm),
        cmocka_unit_test(test_flag_fixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
