/* Unit tests of the CSV reader for --csv: fields, trimming, passwords kept
 * as written, the extra field split like a shell line, skipped lines, and
 * malformed lines refused without quoting a field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "csv.h"

#include <string.h>

static int parse(const char *line, struct csv_line *l, struct status *st)
{
    status_clear(st);
    return csv_parse_line(line, strlen(line), l, st);
}

static void test_fields(void **state)
{
    (void)state;
    struct csv_line l;
    struct status st;
    assert_int_equal(parse(" h1 ; alice ; p w;\th2\t;bob; s3cret\r\n", &l, &st), 1);
    assert_string_equal(l.field[CSV_HOST1], "h1");
    assert_string_equal(l.field[CSV_USER1], "alice");
    assert_string_equal(l.field[CSV_PASSWORD1], " p w"); /* passwords are kept as they are */
    assert_string_equal(l.field[CSV_HOST2], "h2");
    assert_string_equal(l.field[CSV_USER2], "bob");
    assert_string_equal(l.field[CSV_PASSWORD2], " s3cret");
    assert_int_equal(l.nextra, 0);
    csv_line_free(&l);

    /* A password may hold anything but ';' and the line end; empty fields stay "". */
    assert_int_equal(parse("h1;u1;a#b'\"c\\;;u2;", &l, &st), 1);
    assert_string_equal(l.field[CSV_PASSWORD1], "a#b'\"c\\");
    assert_string_equal(l.field[CSV_HOST2], "");
    assert_string_equal(l.field[CSV_PASSWORD2], "");
    assert_int_equal(l.nextra, 0);
    csv_line_free(&l);
}

static void test_extra(void **state)
{
    (void)state;
    struct csv_line l;
    struct status st;
    assert_int_equal(parse("h1;u1;p1;h2;u2;p2;--folder 'My Mail' --regextrans2 "
                           "\"s/;/_/g\" --exclude a\\ b --subfolder2 '' ;x\n",
                           &l, &st),
                     1);
    assert_int_equal(l.nextra, 9);
    const char *want[] = {"--folder",     "My Mail",   "--regextrans2",
                          "s/;/_/g",      "--exclude", "a b",
                          "--subfolder2", "",          ";x"};
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(l.extra[i], want[i]);
    csv_line_free(&l);

    /* Double quotes keep a backslash that escapes nothing; nothing is expanded. */
    char **w;
    size_t n;
    assert_int_equal(csv_split_words("\"a\\d\\\"$HOME\" `x` ~ *", &w, &n, &st), 0);
    assert_int_equal(n, 4);
    assert_string_equal(w[0], "a\\d\"$HOME");
    assert_string_equal(w[1], "`x`");
    assert_string_equal(w[2], "~");
    assert_string_equal(w[3], "*");
    csv_words_free(w, n);
    assert_int_equal(csv_split_words("  \t ", &w, &n, &st), 0);
    assert_int_equal(n, 0);
    csv_words_free(w, n);
    assert_int_equal(csv_split_words("a\"b c\"d", &w, &n, &st), 0);
    assert_int_equal(n, 1);
    assert_string_equal(w[0], "ab cd");
    csv_words_free(w, n);
}

static void test_skipped(void **state)
{
    (void)state;
    struct csv_line l;
    struct status st;
    const char *skip[] = {"", "\n", "\r\n", "   \t", "# h1;u1;p1;h2;u2;p2", "  #x"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++) {
        assert_int_equal(parse(skip[i], &l, &st), 0);
        assert_null(l.field[0]);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    struct csv_line l;
    struct status st;
    assert_int_equal(parse("h1;u1;secretpw;h2;u2", &l, &st), -1);
    assert_int_equal(st.code, STATUS_USAGE);
    assert_non_null(strstr(st.msg, "5 fields where 6 are needed"));
    assert_null(strstr(st.msg, "secretpw"));
    assert_null(l.field[0]);
    assert_int_equal(parse("h1", &l, &st), -1);
    assert_non_null(strstr(st.msg, "1 field where"));
    assert_int_equal(parse("h1;u1;p1;h2;u2;p2;--folder 'INBOX", &l, &st), -1);
    assert_non_null(strstr(st.msg, "unterminated quote"));
    assert_null(l.extra);
    assert_int_equal(parse("h1;u1;p1;h2;u2;p2;--folder \"a\\\"", &l, &st), -1);
    assert_non_null(strstr(st.msg, "unterminated quote"));
    assert_int_equal(parse("h1;u1;p1;h2;u2;p2;--folder a\\", &l, &st), -1);
    assert_non_null(strstr(st.msg, "backslash"));
    const char nul[] = "h1;u1;p\0;h2;u2;p2";
    status_clear(&st);
    assert_int_equal(csv_parse_line(nul, sizeof nul - 1, &l, &st), -1);
    assert_non_null(strstr(st.msg, "NUL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_extra),
        cmocka_unit_test(test_skipped),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
