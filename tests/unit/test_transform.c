/* Unit tests for transform: --regexmess rules in order, imapsync's
 * --disarmreadreceipts and office2/exchange2 wrap rules, --truncmess, and
 * bytes (NUL included) passing through untouched. Expected outputs were
 * computed with perl 5.36 and imapsync's `eval "\$string =~ $rule"`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "transform.h"

#include <stdlib.h>
#include <string.h>

#define S(lit) lit, sizeof(lit) - 1

static struct rx_rule *compile(const char *src)
{
    struct rx_rule *r = NULL;
    struct status st;
    if (rx_compile(src, &r, &st) < 0)
        fail_msg("%s", st.msg);
    return r;
}

/* Applies the rules (then cut, -1 = none) and compares with want. */
static void check(const char *const *rules, size_t n, long long cut, const char *in, size_t len,
                  const char *want, size_t wantlen)
{
    struct rx_rule *r[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        r[i] = compile(rules[i]);
    struct transform t = {(const struct rx_rule *const *)r, n, cut};
    char *out = NULL;
    size_t outlen = 0;
    struct status st;
    assert_int_equal(transform_apply(&t, in, len, &out, &outlen, &st), 0);
    assert_int_equal(outlen, wantlen);
    assert_memory_equal(out, want, wantlen);
    assert_int_equal(out[outlen], '\0');
    free(out);
    for (size_t i = 0; i < n; i++)
        rx_free(r[i]);
}

static void test_active(void **state)
{
    (void)state;
    struct transform none = {NULL, 0, -1}, cut = {NULL, 0, 10};
    assert_false(transform_active(NULL));
    assert_false(transform_active(&none));
    assert_true(transform_active(&cut));
}

static void test_disarm(void **state)
{
    (void)state;
    const char *rules[] = {transform_disarm_rule};
    check(rules, 1, -1,
          S("From: a\r\nDisposition-Notification-To: <a@b>\r\nSubject: x\r\n\r\nbody\r\n"),
          S("From: a\r\nX-Disposition-Notification-To: <a@b>\r\nSubject: x\r\n\r\nbody\r\n"));
    check(rules, 1, -1, S("Disposition-Notification-To: <a@b>\r\nFrom: a\r\n\r\nbody\r\n"),
          S("X-Disposition-Notification-To: <a@b>\r\nFrom: a\r\n\r\nbody\r\n"));
    /* Case-insensitive; the name keeps its case. */
    check(rules, 1, -1, S("From: a\r\ndisposition-notification-to: z\r\n\r\nb\r\n"),
          S("From: a\r\nX-disposition-notification-to: z\r\n\r\nb\r\n"));
    /* In the body, or inside another field: left alone. */
    check(rules, 1, -1,
          S("From: a\r\nSubject: x\r\n\r\nDisposition-Notification-To: <a@b>\r\n\r\n"),
          S("From: a\r\nSubject: x\r\n\r\nDisposition-Notification-To: <a@b>\r\n\r\n"));
    check(rules, 1, -1, S("From: a\r\nSubject: Disposition-Notification-To: x\r\n\r\nb\r\n"),
          S("From: a\r\nSubject: Disposition-Notification-To: x\r\n\r\nb\r\n"));
}

static void test_wrap(void **state)
{
    (void)state;
    const char *rules[] = {"s,(.{10239}),$1\\r\\n,g"};
    size_t n = 25000;
    char *in = malloc(n + 2), *want = malloc(n + 6);
    memset(in, 'a', n);
    memcpy(in + n, "\r\n", 2);
    /* perl: lines of 10240, 10240 and 4523 bytes before their \n. */
    memset(want, 'a', n + 6);
    memcpy(want + 10239, "\r\n", 2);
    memcpy(want + 10239 + 2 + 10239, "\r\n", 2);
    memcpy(want + n + 4, "\r\n", 2);
    check(rules, 1, -1, in, n + 2, want, n + 6);
    free(in);
    free(want);
}

static void test_order_and_cut(void **state)
{
    (void)state;
    /* Rules run in order, each on the previous one's result; the cut last. */
    const char *rules[] = {"s/a/b/g", "s/b/cc/", "tr/c/d/"};
    check(rules, 3, -1, S("aaa"), S("ddbb"));
    check(rules, 3, 3, S("aaa"), S("ddb"));
    check(rules, 0, 2, S("abc"), S("ab"));
    check(rules, 0, 5, S("abc"), S("abc"));
    /* A match rule changes nothing, as in imapsync. */
    const char *match[] = {"/x/"};
    check(match, 1, -1, S("x\0y"), S("x\0y"));
    /* NUL bytes go through. */
    const char *sub[] = {"s/y/z/"};
    check(sub, 1, -1, S("x\0y"), S("x\0z"));
}

static void test_runtime_failure(void **state)
{
    (void)state;
    /* Catastrophic backtracking hits PCRE2's match limit: an error naming
     * the option and the rule, no output. */
    struct rx_rule *r = compile("s/(a+)+$/x/");
    struct transform t = {(const struct rx_rule *const *)&r, 1, -1};
    size_t n = 41;
    char *in = malloc(n);
    memset(in, 'a', n);
    in[n - 1] = '!';
    char *out = (char *)1;
    struct status st;
    status_clear(&st);
    assert_int_equal(transform_apply(&t, in, n, &out, NULL, &st), -1);
    assert_null(out);
    assert_non_null(strstr(st.msg, "--regexmess: "));
    assert_non_null(strstr(st.msg, "match limit"));
    assert_non_null(strstr(st.msg, "s/(a+)+$/x/"));
    free(in);
    rx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active),
        cmocka_unit_test(test_disarm),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_order_and_cut),
        cmocka_unit_test(test_runtime_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
