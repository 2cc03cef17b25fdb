/* Unit tests of the flag rules: imapsync's flags_for_host2 steps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flagrule.h"
#include "msg_plan.h"

#include <stdlib.h>
#include <string.h>

/* Applies the rules given as Perl source to flags and checks the result. */
static void rewrite(const char *flags, const char *const *src, size_t n, const char *want)
{
    struct rx_rule *r[8];
    struct status st;
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rx_compile(src[i], &r[i], &st), 0);
    char *out = flagrule_rewrite(flags, (const struct rx_rule *const *)r, n);
    assert_string_equal(out, want);
    free(out);
    for (size_t i = 0; i < n; i++)
        rx_free(r[i]);
}

static void test_recent_removed(void **state)
{
    (void)state;
    rewrite("\\Seen \\Recent $Label1", NULL, 0, "\\Seen $Label1");
    rewrite("\\RECENT", NULL, 0, "");
    rewrite("", NULL, 0, "");
}

static void test_script1_rules(void **state)
{
    (void)state;
    /* As the shell hands them over: the first matches two literal
     * backslashes, so it leaves every flag alone (checked with perl). */
    const char *rules[] = {
        "s/\\\\\\\\(?!Answered|Flagged|Deleted|Seen|Recent|Draft)[^\\s]*\\s*//ig", "tr,:\"/,_,"};
    rewrite("\\Seen \\Junk $Label1 NonJunk", rules, 2, "\\Seen \\Junk $Label1 NonJunk");
    rewrite("\\Seen a:b c/d e\"f", rules, 2, "\\Seen a_b c_d e_f");
    /* The two-backslash form is the one that removes \Junk. */
    const char *two[] = {"s/\\\\(?!Answered|Flagged|Deleted|Seen|Recent|Draft)[^\\s]*\\s*//ig"};
    rewrite("\\Seen \\Junk $Label1", two, 1, "\\Seen $Label1");
}

static void test_buggy_flags(void **state)
{
    (void)state;
    const char *rules[] = {flagrule_buggy};
    /* imapsync's own tests_filterbuggyflags cases. */
    rewrite("\\Deleted \\Answered \\RECEIPTCHECKED \\Draft \\Indexed \\Flagged \\JUNK \\Junk",
            rules, 1, "\\Deleted \\Answered  \\Draft  \\Flagged  ");
    rewrite("\\Deleted \\RECEIPTCHECKED \\Flagged \\Answered \\Indexed \\Draft", rules, 1,
            "\\Deleted  \\Flagged \\Answered  \\Draft");
}

static void test_rule_order(void **state)
{
    (void)state;
    const char *rules[] = {"s/\\$Label1/Work/", "s/Work/Done/"};
    rewrite("$Label1 \\Seen", rules, 2, "Done \\Seen");
}

static void test_parse(void **state)
{
    (void)state;
    unsigned sys = 0;
    char *kw = NULL;
    size_t dropped =
        flagrule_parse("\\SEEN \\answered foo bar foo \\Junk x\"y \\Recent", &sys, &kw);
    assert_int_equal(sys, MSG_SEEN | MSG_ANSWERED);
    assert_string_equal(kw, "bar foo");
    assert_int_equal(dropped, 2);
    free(kw);
    dropped = flagrule_parse("  ", &sys, &kw);
    assert_int_equal(sys, 0);
    assert_null(kw);
    assert_int_equal(dropped, 0);
    dropped = flagrule_parse("\\Deleted\t\\Draft \\Flagged $Forwarded", &sys, &kw);
    assert_int_equal(sys, MSG_DELETED | MSG_DRAFT | MSG_FLAGGED);
    assert_string_equal(kw, "$Forwarded");
    free(kw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recent_removed), cmocka_unit_test(test_script1_rules),
        cmocka_unit_test(test_buggy_flags),    cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
