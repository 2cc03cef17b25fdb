#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mutf7.h"

#include <stdlib.h>
#include <string.h>

static void both_ways(const char *utf8, const char *wire)
{
    struct status st;
    char *out = NULL;
    assert_int_equal(mutf7_encode(utf8, &out, &st), 0);
    assert_string_equal(out, wire);
    free(out);
    assert_int_equal(mutf7_decode(wire, &out, &st), 0);
    assert_string_equal(out, utf8);
    free(out);
}

static void rejected(const char *wire, const char *why)
{
    struct status st;
    status_clear(&st);
    char *out = (char *)1;
    assert_int_equal(mutf7_decode(wire, &out, &st), -1);
    assert_null(out);
    assert_non_null(strstr(st.msg, why));
}

static void test_ascii(void **state)
{
    (void)state;
    both_ways("INBOX", "INBOX");
    both_ways("Archive/2019", "Archive/2019");
    both_ways("", "");
}

static void test_ampersand(void **state)
{
    (void)state;
    both_ways("&", "&-");
    both_ways("Tom & Jerry", "Tom &- Jerry");
}

static void test_umlauts(void **state)
{
    (void)state;
    both_ways("Entwürfe", "Entw&APw-rfe");
    both_ways("Gelöschte Elemente", "Gel&APY-schte Elemente");
    both_ways("äöü", "&AOQA9gD8-");
}

static void test_cjk_and_astral(void **state)
{
    (void)state;
    both_ways("台北", "&U,BTFw-");
    both_ways("日本語", "&ZeVnLIqe-");
    both_ways("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    /* U+1F600 needs a surrogate pair */
    both_ways("\xF0\x9F\x98\x80", "&2D3eAA-");
}

static void test_spaces(void **state)
{
    (void)state;
    both_ways("Project X", "Project X");
    both_ways(" leading and trailing ", " leading and trailing ");
}

static void test_round_trip_many(void **state)
{
    (void)state;
    const char *names[] = {"Sent Items",      "Données", "Корзина",
                           "受信トレイ",      "a&b&c",   "x\xC3\xA9y&z\xE2\x82\xAC",
                           "Ελληνικά/Φάκελος"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct status st;
        char *wire = NULL, *back = NULL;
        assert_int_equal(mutf7_encode(names[i], &wire, &st), 0);
        for (const char *p = wire; *p; p++)
            assert_true(*p >= 0x20 && *p <= 0x7e);
        assert_int_equal(mutf7_decode(wire, &back, &st), 0);
        assert_string_equal(back, names[i]);
        free(wire);
        free(back);
    }
}

static void test_invalid_wire(void **state)
{
    (void)state;
    rejected("&bad", "unterminated");
    rejected("abc&AOQ", "unterminated");
    rejected("&AO*Q-", "not allowed");
    rejected("&AOR-", "malformed"); /* 18 bits: a unit plus non-zero padding */
    rejected("&AA-", "malformed");  /* 12 bits: no whole unit */
    rejected("&2D0-", "surrogate"); /* lone high surrogate */
    rejected("&3gA-", "surrogate"); /* lone low surrogate */
    rejected("caf\xC3\xA9", "printable");
    rejected("tab\there", "printable");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    struct status st;
    char *out = (char *)1;
    assert_int_equal(mutf7_encode("bad\xC3", &out, &st), -1);
    assert_null(out);
    assert_non_null(strstr(st.msg, "UTF-8"));
    assert_int_equal(mutf7_encode("\xC0\xAF", &out, &st), -1);     /* overlong */
    assert_int_equal(mutf7_encode("\xED\xA0\x80", &out, &st), -1); /* surrogate */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),        cmocka_unit_test(test_ampersand),
        cmocka_unit_test(test_umlauts),      cmocka_unit_test(test_cjk_and_astral),
        cmocka_unit_test(test_spaces),       cmocka_unit_test(test_round_trip_many),
        cmocka_unit_test(test_invalid_wire), cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
