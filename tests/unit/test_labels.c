/* Unit tests of labels' pure part: two label lists compared as sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labels.h"

static void test_same_as_sets(void **state)
{
    (void)state;
    const char *a[] = {"Work", "\\Important", "My Label"};
    const char *b[] = {"My Label", "Work", "\\Important", "Work"};
    const char *c[] = {"Work", "\\Important"};
    const char *d[] = {"work", "\\Important", "My Label"};
    assert_true(labels_same(a, 3, b, 4)); /* order and repeats aside */
    assert_false(labels_same(a, 3, c, 2));
    assert_false(labels_same(c, 2, a, 3));
    assert_false(labels_same(a, 3, d, 3)); /* Gmail labels keep their case */
    assert_true(labels_same(NULL, 0, NULL, 0));
    assert_false(labels_same(c, 2, NULL, 0));
}

static void test_sendable(void **state)
{
    (void)state;
    assert_true(imapc_label_sendable("\\Important"));
    assert_true(imapc_label_sendable("My \"quoted\" label"));
    assert_true(imapc_label_sendable("&AOk-t&AOk-")); /* modified UTF-7 */
    assert_false(imapc_label_sendable(""));
    assert_false(imapc_label_sendable("Caf\xc3\xa9"));
    assert_false(imapc_label_sendable("a\r\nb"));
    assert_false(imapc_label_sendable("tab\there"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_sets),
        cmocka_unit_test(test_sendable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
