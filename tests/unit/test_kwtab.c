/* Unit tests for kwtab: one copy of each keyword string, ids that compare
 * as the strings do, across threads and well past the table's growth. */
#include "kwtab.h"
#include "msg.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void test_none(void **state)
{
    (void)state;
    assert_int_equal(kwtab_intern(NULL), 0);
    assert_int_equal(kwtab_intern(""), 0);
    assert_null(kwtab_str(0));
    struct msg_meta m;
    memset(&m, 0, sizeof m);
    assert_null(msg_keywords(&m));
}

static void test_same_string_same_id(void **state)
{
    (void)state;
    char a[] = "$Forwarded Work", b[] = "$Forwarded Work";
    uint32_t x = kwtab_intern(a), y = kwtab_intern(b);
    assert_int_not_equal(x, 0);
    assert_int_equal(x, y);
    /* the table keeps a copy of its own */
    a[0] = 'X';
    assert_string_equal(kwtab_str(x), "$Forwarded Work");
    assert_int_not_equal(kwtab_intern("$Forwarded"), x);
    assert_int_not_equal(kwtab_intern("$Forwarded Work "), x);
    struct msg_meta m;
    memset(&m, 0, sizeof m);
    m.kw = y;
    assert_string_equal(msg_keywords(&m), "$Forwarded Work");
}

/* Thousands of distinct strings: segments and hash grow, every id still
 * names its own string and interning again finds it. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 5000 };
    static uint32_t id[N];
    char buf[32];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "kw%d", i);
        id[i] = kwtab_intern(buf);
        assert_int_not_equal(id[i], 0);
    }
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "kw%d", i);
        assert_string_equal(kwtab_str(id[i]), buf);
        assert_int_equal(kwtab_intern(buf), id[i]);
        if (i)
            assert_int_not_equal(id[i], id[i - 1]);
    }
}

/* Listings of several folders intern at once (one thread per session). */
enum { THREADS = 4, WORDS = 2000 };
static uint32_t tid[THREADS][WORDS];

static void *intern_all(void *arg)
{
    uint32_t *out = arg;
    char buf[32];
    for (int i = 0; i < WORDS; i++) {
        snprintf(buf, sizeof buf, "t%d", i);
        out[i] = kwtab_intern(buf);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int k = 0; k < THREADS; k++)
        assert_int_equal(pthread_create(&t[k], NULL, intern_all, tid[k]), 0);
    for (int k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    char buf[32];
    for (int i = 0; i < WORDS; i++) {
        snprintf(buf, sizeof buf, "t%d", i);
        for (int k = 1; k < THREADS; k++)
            assert_int_equal(tid[k][i], tid[0][i]);
        assert_string_equal(kwtab_str(tid[0][i]), buf);
    }
}

/* The reason for the ids: host2's listing is held whole, a million
 * messages at once. */
static void test_meta_size(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct msg_meta), 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),      cmocka_unit_test(test_same_string_same_id),
        cmocka_unit_test(test_many),      cmocka_unit_test(test_threads),
        cmocka_unit_test(test_meta_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
