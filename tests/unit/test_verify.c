/* Unit tests of verify's pure comparison (verify_compare) on plans made by
 * msg_plan_build, and of the SHA-256 helper its digests come from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msg_plan.h"
#include "tls.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct msg_meta meta(uint32_t uid, unsigned key_id, uint32_t size)
{
    struct msg_meta m;
    memset(&m, 0, sizeof m);
    m.uid = uid;
    m.size = size;
    m.key.hi = key_id * 0x9e3779b97f4a7c15ULL;
    m.key.lo = key_id;
    m.date = 1700000000 + key_id;
    m.sysflags = MSG_SEEN;
    return m;
}

/* A digest standing for contents number c. */
static void digest_of(unsigned c, unsigned char d[32])
{
    memset(d, 0, 32);
    d[0] = 1;
    d[31] = (unsigned char)c;
}

/* Builds the plan, digests pair k from c1[i1] and c2[i2], compares. */
static size_t compare(const struct msg_meta *m1, size_t n1, const struct msg_meta *m2, size_t n2,
                      const unsigned *c1, const unsigned *c2, int dates, enum msg_plan_size rule,
                      struct verify_diff **out)
{
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(m1, n1, m2, n2, rule, &p, &st), 0);
    unsigned char(*d1)[32] = calloc(p.npairs + 1, 32);
    unsigned char(*d2)[32] = calloc(p.npairs + 1, 32);
    for (size_t k = 0; c1 && c2 && k < p.npairs; k++) {
        digest_of(c1[p.pairs[k].i1], d1[k]);
        digest_of(c2[p.pairs[k].i2], d2[k]);
    }
    size_t n = verify_compare(m1, m2, &p, c1 ? (const unsigned char(*)[32])d1 : NULL,
                              c2 ? (const unsigned char(*)[32])d2 : NULL, dates, out);
    free(d1);
    free(d2);
    msg_plan_free(&p);
    return n;
}

static void test_identical(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(1, 1, 500), meta(2, 2, 600), meta(3, 3, 700)};
    /* host2 in another UID order, with other UIDs. */
    struct msg_meta m2[] = {meta(30, 3, 700), meta(10, 1, 500), meta(20, 2, 600)};
    unsigned c1[] = {1, 2, 3}, c2[] = {3, 1, 2};
    struct verify_diff *d = NULL;
    assert_int_equal(compare(m1, 3, m2, 3, c1, c2, 1, MSG_PLAN_SIZE_FIRST, &d), 0);
    free(d);
    /* Nothing on either side: nothing to say. */
    assert_int_equal(compare(NULL, 0, NULL, 0, NULL, NULL, 1, MSG_PLAN_SIZE_FIRST, &d), 0);
    free(d);
}

/* Cyrus's 8-bit rewrite: same identity, same size, other bytes. It must be
 * one "altered", not a missing message and an extra one. */
static void test_altered_same_size(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(1, 1, 500), meta(2, 2, 600)};
    struct msg_meta m2[] = {meta(7, 1, 500), meta(8, 2, 600)};
    unsigned c1[] = {1, 2}, c2[] = {1, 99};
    enum msg_plan_size rules[] = {MSG_PLAN_SIZE_FIRST, MSG_PLAN_SIZE_STRICT, MSG_PLAN_SIZE_IGNORED};
    for (size_t r = 0; r < 3; r++) {
        struct verify_diff *d = NULL;
        assert_int_equal(compare(m1, 2, m2, 2, c1, c2, 1, rules[r], &d), 1);
        assert_int_equal(d[0].kind, VERIFY_ALTERED);
        assert_int_equal(d[0].i1, 1);
        assert_int_equal(d[0].i2, 1);
        free(d);
        /* Without digests the contents are not compared. */
        assert_int_equal(compare(m1, 2, m2, 2, NULL, NULL, 1, rules[r], &d), 0);
        free(d);
    }
}

static void test_each_kind_in_order(void **state)
{
    (void)state;
    /* host1: 1 kept, 2 flags differ, 3 missing, 4 date differs, 5 altered,
     * 6 altered with other flags and date. host2 adds key 9 (extra). */
    struct msg_meta m1[] = {meta(1, 1, 500), meta(2, 2, 500), meta(3, 3, 500),
                            meta(4, 4, 500), meta(5, 5, 500), meta(6, 6, 500)};
    struct msg_meta m2[] = {meta(11, 1, 500), meta(12, 2, 500), meta(14, 4, 500),
                            meta(15, 5, 500), meta(16, 6, 500), meta(19, 9, 500)};
    m2[1].sysflags = MSG_SEEN | MSG_FLAGGED;
    m2[2].date += 3600;
    m2[4].kw = kwtab_intern("$Label1");
    m2[4].date = 1;
    unsigned c1[] = {1, 2, 3, 4, 5, 6}, c2[] = {1, 2, 4, 50, 60, 9};
    struct verify_diff *d = NULL;
    size_t n = compare(m1, 6, m2, 6, c1, c2, 1, MSG_PLAN_SIZE_FIRST, &d);
    struct {
        enum verify_kind kind;
        size_t i1, i2;
    } want[] = {
        {VERIFY_MISSING, 2, VERIFY_NONE},
        {VERIFY_FLAGS, 1, 1},
        {VERIFY_DATE, 3, 2},
        {VERIFY_ALTERED, 4, 3},
        {VERIFY_ALTERED, 5, 4},
        {VERIFY_FLAGS, 5, 4},
        {VERIFY_DATE, 5, 4},
        {VERIFY_EXTRA, VERIFY_NONE, 5},
    };
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(d[k].kind, want[k].kind);
        assert_int_equal(d[k].i1, want[k].i1);
        assert_int_equal(d[k].i2, want[k].i2);
    }
    free(d);

    /* Dates not compared (--nosyncinternaldates): the two date lines go. */
    n = compare(m1, 6, m2, 6, c1, c2, 0, MSG_PLAN_SIZE_FIRST, &d);
    assert_int_equal(n, sizeof want / sizeof want[0] - 2);
    for (size_t k = 0; k < n; k++)
        assert_int_not_equal(d[k].kind, VERIFY_DATE);
    free(d);
}

static void test_flags_and_dates_details(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(1, 1, 500), meta(2, 2, 500), meta(3, 3, 500)};
    struct msg_meta m2[] = {meta(1, 1, 500), meta(2, 2, 500), meta(3, 3, 500)};
    /* No keyword and an empty keyword list are the same flags. */
    m1[0].kw = kwtab_intern(NULL);
    m2[0].kw = kwtab_intern("");
    /* A side without a date is not compared. */
    m2[1].date = MSG_META_NO_DATE;
    /* Keywords differ. */
    m1[2].kw = kwtab_intern("$Label1 Junk");
    m2[2].kw = kwtab_intern("$Label1");
    unsigned c[] = {1, 2, 3};
    struct verify_diff *d = NULL;
    assert_int_equal(compare(m1, 3, m2, 3, c, c, 1, MSG_PLAN_SIZE_FIRST, &d), 1);
    assert_int_equal(d[0].kind, VERIFY_FLAGS);
    assert_int_equal(d[0].i1, 2);
    free(d);
}

/* Duplicates: two copies on host1 and one on host2 give one missing; the
 * pair made is compared like any other. */
static void test_duplicates(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(1, 1, 500), meta(2, 1, 500)};
    struct msg_meta m2[] = {meta(5, 1, 500), meta(6, 7, 800), meta(8, 7, 800)};
    unsigned c1[] = {1, 1}, c2[] = {1, 7, 7};
    struct verify_diff *d = NULL;
    size_t n = compare(m1, 2, m2, 3, c1, c2, 1, MSG_PLAN_SIZE_FIRST, &d);
    assert_int_equal(n, 3);
    assert_int_equal(d[0].kind, VERIFY_MISSING);
    assert_int_equal(d[0].i1, 1); /* the later UID */
    assert_int_equal(d[1].kind, VERIFY_EXTRA);
    assert_int_equal(d[2].kind, VERIFY_EXTRA);
    free(d);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(verify_kind_name(VERIFY_MISSING), "missing on host2");
    assert_string_equal(verify_kind_name(VERIFY_EXTRA), "extra on host2");
    assert_string_equal(verify_kind_name(VERIFY_ALTERED), "altered on host2");
    assert_string_equal(verify_kind_name(VERIFY_FLAGS), "flags differ");
    assert_string_equal(verify_kind_name(VERIFY_DATE), "date differs");
}

static void hex(const unsigned char d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180-2's vectors, fed whole and byte by byte, on one reused context. */
static void test_sha256(void **state)
{
    (void)state;
    struct tls_sha256 *h = tls_sha256_new();
    unsigned char d[32];
    char x[65];
    tls_sha256_update(h, "abc", 3);
    tls_sha256_final(h, d);
    hex(d, x);
    assert_string_equal(x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (const char *p = two; *p; p++)
        tls_sha256_update(h, p, 1);
    tls_sha256_final(h, d);
    hex(d, x);
    assert_string_equal(x, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* Nothing fed: the empty message. A reset drops what was fed. */
    tls_sha256_update(h, "junk", 4);
    tls_sha256_reset(h);
    tls_sha256_final(h, d);
    hex(d, x);
    assert_string_equal(x, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    tls_sha256_free(h);
    tls_sha256_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical),
        cmocka_unit_test(test_altered_same_size),
        cmocka_unit_test(test_each_kind_in_order),
        cmocka_unit_test(test_flags_and_dates_details),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
