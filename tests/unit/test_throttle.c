/* Unit tests of the rate caps' pause (imapsync's sleep_if_needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "throttle.h"

static void test_off(void **state)
{
    (void)state;
    struct throttle t;
    throttle_init(&t, 0, 0, 0, 2);
    assert_false(throttle_on(&t));
    assert_true(throttle_delay(&t, 1000, 1 << 30, 0) == 0);
    throttle_init(&t, 5, 0, 0, 0); /* --maxsleep 0 turns pausing off */
    assert_false(throttle_on(&t));
    assert_false(throttle_on(NULL));
}

static void test_messages(void **state)
{
    (void)state;
    struct throttle t;
    throttle_init(&t, 4, 0, 0, 2);
    /* 10 messages at 4 per second want 2.5 s; 1 s passed: 1.5 s more */
    assert_float_equal(throttle_delay(&t, 10, 0, 1.0), 1.5, 1e-9);
    /* capped at --maxsleep */
    assert_float_equal(throttle_delay(&t, 100, 0, 1.0), 2.0, 1e-9);
    /* already slow enough */
    assert_float_equal(throttle_delay(&t, 4, 0, 3.0), 0.0, 1e-9);
}

static void test_bytes_after(void **state)
{
    (void)state;
    struct throttle t;
    throttle_init(&t, 0, 1000, 5000, 10);
    /* below --maxbytesafter: no pause */
    assert_float_equal(throttle_delay(&t, 1, 4000, 0.5), 0.0, 1e-9);
    /* 8000 bytes, 3000 beyond: 3 s at 1000 B/s, 1 s passed */
    assert_float_equal(throttle_delay(&t, 1, 8000, 1.0), 2.0, 1e-9);
    /* both caps: the longer pause wins */
    throttle_init(&t, 1, 1000, 0, 10);
    assert_float_equal(throttle_delay(&t, 5, 2000, 0.0), 5.0, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_bytes_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
