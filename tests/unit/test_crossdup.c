/* Unit tests for crossdup: --skipcrossduplicates' run-wide key set (first
 * folder keeps a key, host2's own messages count, claims only when asked,
 * the size only with with_size, growth past the first table). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crossdup.h"

#include <stdio.h>
#include <string.h>

static struct msg_meta msg(uint64_t id, uint32_t size)
{
    struct msg_meta m;
    memset(&m, 0, sizeof m);
    m.key.hi = id * 0x9e3779b97f4a7c15ULL;
    m.key.lo = id * 0xbf58476d1ce4e5b9ULL;
    m.size = size;
    m.uid = (uint32_t)id;
    return m;
}

static void test_first_folder_keeps(void **state)
{
    (void)state;
    struct crossdup *x = crossdup_new(0);
    struct msg_meta m1[3] = {msg(1, 10), msg(2, 20), msg(3, 30)};
    size_t copy[3] = {0, 1, 2}, n = 3, skipped[3];
    /* INBOX gets all three. */
    assert_int_equal(crossdup_filter(x, "INBOX", m1, copy, &n, NULL, 0, 1, skipped), 0);
    assert_int_equal(n, 3);
    /* Archive: 2 and 3 are INBOX's now; 4 is new. */
    struct msg_meta a1[3] = {msg(2, 20), msg(4, 40), msg(3, 99)};
    size_t c2[3] = {0, 1, 2}, n2 = 3;
    assert_int_equal(crossdup_filter(x, "Archive", a1, c2, &n2, NULL, 0, 1, skipped), 2);
    assert_int_equal(n2, 1);
    assert_int_equal(c2[0], 1);
    assert_int_equal(skipped[0], 0);
    assert_int_equal(skipped[1], 2); /* another size, same key: without with_size, the same */
    /* INBOX again (a retry): its own keys are not "another folder". */
    size_t c3[3] = {0, 1, 2}, n3 = 3;
    assert_int_equal(crossdup_filter(x, "INBOX", m1, c3, &n3, NULL, 0, 1, skipped), 0);
    crossdup_free(x);
}

static void test_host2_messages_and_claim(void **state)
{
    (void)state;
    struct crossdup *x = crossdup_new(1);
    /* Sent already holds 5 on host2; a dry pair claims nothing. */
    struct msg_meta m2[1] = {msg(5, 50)};
    struct msg_meta m1[2] = {msg(6, 60), msg(7, 70)};
    size_t copy[2] = {0, 1}, n = 2, skipped[2];
    assert_int_equal(crossdup_filter(x, "Sent", m1, copy, &n, m2, 1, 0, skipped), 0);
    struct msg_meta b1[4] = {msg(5, 50), msg(6, 60), msg(7, 70), msg(5, 51)};
    size_t c2[4] = {0, 1, 2, 3}, n2 = 4, sk[4];
    assert_int_equal(crossdup_filter(x, "INBOX", b1, c2, &n2, NULL, 0, 1, sk), 1);
    assert_int_equal(sk[0], 0);
    /* with_size: 5 of another size is another message. */
    assert_int_equal(n2, 3);
    assert_int_equal(c2[2], 3);
    crossdup_free(x);
}

static void test_many_keys(void **state)
{
    (void)state;
    struct crossdup *x = crossdup_new(0);
    enum { N = 5000 };
    static struct msg_meta m[N];
    static size_t copy[N], skipped[N];
    for (size_t i = 0; i < N; i++) {
        m[i] = msg(i + 1, 1);
        copy[i] = i;
    }
    size_t n = N;
    assert_int_equal(crossdup_filter(x, "A", m, copy, &n, NULL, 0, 1, skipped), 0);
    for (size_t i = 0; i < N; i++)
        copy[i] = i;
    n = N;
    assert_int_equal(crossdup_filter(x, "B", m, copy, &n, NULL, 0, 1, skipped), N);
    assert_int_equal(n, 0);
    crossdup_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_folder_keeps),
        cmocka_unit_test(test_host2_messages_and_claim),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
