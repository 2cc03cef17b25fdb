#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "options.h"

#include <string.h>

static int parse(struct options *o, struct status *st, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return options_parse(argc, argv, o, st);
}

static void test_forms(void **state)
{
    (void)state;
    char a0[] = "imapferry", a1[] = "--host1", a2[] = "h1", a3[] = "-USER1=bob", a4[] = "--port2",
         a5[] = "1_143", a6[] = "--notls1", a7[] = "--no-tls2", a8[] = "--dr";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL};
    struct options o;
    struct status st;
    assert_int_equal(parse(&o, &st, argv), 0);
    assert_string_equal(o.v[OPT_HOST1].str, "h1");
    assert_string_equal(o.v[OPT_USER1].str, "bob");
    assert_int_equal(o.v[OPT_PORT2].num, 1143);
    assert_true(o.v[OPT_TLS1].given);
    assert_false(o.v[OPT_TLS1].on);
    assert_true(o.v[OPT_TLS2].given);
    assert_false(o.v[OPT_TLS2].on);
    assert_true(o.v[OPT_DRY].given);
    options_free(&o);
}

static void test_errors(void **state)
{
    (void)state;
    struct options o;
    struct status st;
    char a0[] = "imapferry", b1[] = "--bogus";
    char *argv1[] = {a0, b1, NULL};
    assert_int_equal(parse(&o, &st, argv1), -1);
    assert_int_equal(st.code, STATUS_USAGE);
    assert_non_null(strstr(st.msg, "unknown option: --bogus"));
    options_free(&o);

    char c1[] = "--host"; /* host1 or host2 */
    char *argv2[] = {a0, c1, NULL};
    assert_int_equal(parse(&o, &st, argv2), -1);
    assert_non_null(strstr(st.msg, "ambiguous"));
    options_free(&o);

    char d1[] = "--port1", d2[] = "14x";
    char *argv3[] = {a0, d1, d2, NULL};
    assert_int_equal(parse(&o, &st, argv3), -1);
    assert_non_null(strstr(st.msg, "--port1"));
    options_free(&o);

    char e1[] = "--user1", e2[] = "u", e3[] = "leftover";
    char *argv4[] = {a0, e1, e2, e3, NULL};
    assert_int_equal(parse(&o, &st, argv4), -1);
    assert_non_null(strstr(st.msg, "extra argument"));
    options_free(&o);

    char f1[] = "--host1";
    char *argv5[] = {a0, f1, NULL};
    assert_int_equal(parse(&o, &st, argv5), -1);
    assert_non_null(strstr(st.msg, "needs a value"));
    options_free(&o);
}

static void test_password_wiped(void **state)
{
    (void)state;
    char a0[] = "imapferry", a1[] = "--password1", a2[] = "s3cret", a3[] = "--password2=t0p";
    char *argv[] = {a0, a1, a2, a3, NULL};
    struct options o;
    struct status st;
    assert_int_equal(parse(&o, &st, argv), 0);
    assert_string_equal(o.v[OPT_PASSWORD1].str, "s3cret");
    assert_string_equal(o.v[OPT_PASSWORD2].str, "t0p");
    assert_null(strstr(a2, "s3cret"));
    assert_null(strstr(a3, "t0p"));
    assert_string_equal(a3, "--password2=MAS");
    assert_string_equal(a2, "MASKED");
    options_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_password_wiped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
