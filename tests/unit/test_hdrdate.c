/* Unit tests for hdrdate: Date: header parsing for --idatefromheader.
 * Expected epochs were checked with `date -u -d '...' +%s`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hdrdate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 1 Jul 2003 10:52:37 +0200, the date most cases below write differently. */
#define JUL2003 1057049557

static void ok(const char *value, int64_t epoch, int tz)
{
    int64_t e = -1;
    int t = -9999;
    if (hdrdate_parse(value, &e, &t) != 0)
        fail_msg("rejected: \"%s\"", value);
    assert_int_equal(e, epoch);
    assert_int_equal(t, tz);
}

static void bad(const char *value)
{
    /* Sentinels prove failure leaves the outputs alone. */
    int64_t e = 12345;
    int t = 77;
    if (hdrdate_parse(value, &e, &t) != -1)
        fail_msg("accepted: \"%s\"", value);
    assert_int_equal(e, 12345);
    assert_int_equal(t, 77);
}

static void hdr_ok(const char *block, int64_t epoch, int tz)
{
    int64_t e = -1;
    int t = -9999;
    if (hdrdate_from_headers(block, strlen(block), &e, &t) != 0)
        fail_msg("rejected block: \"%s\"", block);
    assert_int_equal(e, epoch);
    assert_int_equal(t, tz);
}

static void hdr_bad(const char *block)
{
    int64_t e = 12345;
    int t = 77;
    if (hdrdate_from_headers(block, strlen(block), &e, &t) != -1)
        fail_msg("accepted block: \"%s\"", block);
    assert_int_equal(e, 12345);
    assert_int_equal(t, 77);
}

static void test_typical(void **state)
{
    (void)state;
    ok("Tue, 1 Jul 2003 10:52:37 +0200", JUL2003, 120);
    ok("Fri, 21 Nov 1997 09:55:06 -0600", 880127706, -360);
    ok("Wed, 14 Feb 2024 23:59:59 -0800", 1707983999, -480);
    ok("Sat, 13 Mar 2021 08:05:00 +0530", 1615602900, 330);
}

static void test_no_weekday(void **state)
{
    (void)state;
    ok("1 Jul 2003 10:52:37 +0200", JUL2003, 120);
    ok("01 Jul 2003 10:52:37 +0200", JUL2003, 120);
}

static void test_weekday_without_comma(void **state)
{
    (void)state;
    ok("Tue 1 Jul 2003 10:52:37 +0200", JUL2003, 120);
    ok("tue , 1 Jul 2003 10:52:37 +0200", JUL2003, 120);
}

static void test_no_seconds(void **state)
{
    (void)state;
    ok("Tue, 1 Jul 2003 10:52 +0200", 1057049520, 120);
}

static void test_two_digit_years(void **state)
{
    (void)state;
    ok("1 Jan 49 00:00:00 +0000", 2493072000, 0);
    ok("1 Jan 50 00:00:00 +0000", -631152000, 0);
    ok("1 Jan 00 00:00:00 +0000", 946684800, 0);
    ok("31 Dec 99 23:59:59 +0000", 946684799, 0);
    ok("Tue, 1 Jul 03 10:52:37 +0200", JUL2003, 120);
}

static void test_three_digit_year(void **state)
{
    (void)state;
    /* RFC 5322 4.3: three digits get 1900 added (old Y2K-broken clients). */
    ok("Tue, 1 Jul 103 10:52:37 +0200", JUL2003, 120);
}

static void test_named_zones(void **state)
{
    (void)state;
    ok("1 Jul 2003 10:52:37 UT", 1057056757, 0);
    ok("1 Jul 2003 10:52:37 GMT", 1057056757, 0);
    ok("1 Jul 2003 10:52:37 EDT", 1057071157, -240);
    ok("1 Jul 2003 10:52:37 EST", 1057074757, -300);
    ok("1 Jul 2003 10:52:37 CDT", 1057074757, -300);
    ok("1 Jul 2003 10:52:37 CST", 1057078357, -360);
    ok("1 Jul 2003 10:52:37 MDT", 1057078357, -360);
    ok("1 Jul 2003 10:52:37 MST", 1057081957, -420);
    ok("1 Jul 2003 10:52:37 PDT", 1057081957, -420);
    ok("1 Jul 2003 10:52:37 PST", 1057085557, -480);
    ok("1 Jul 2003 10:52:37 gmt", 1057056757, 0);
}

static void test_military_and_unknown_zones(void **state)
{
    (void)state;
    /* RFC 5322 4.3: all of these mean -0000. */
    ok("1 Jul 2003 10:52:37 Z", 1057056757, 0);
    ok("1 Jul 2003 10:52:37 A", 1057056757, 0);
    ok("1 Jul 2003 10:52:37 y", 1057056757, 0);
    ok("1 Jul 2003 10:52:37 CEST", 1057056757, 0);
    bad("1 Jul 2003 10:52:37 J"); /* J was never a zone */
    bad("1 Jul 2003 10:52:37 XY");
    bad("1 Jul 2003 10:52:37 ABCDEF");
}

static void test_minus_zero_and_extreme_zones(void **state)
{
    (void)state;
    ok("1 Jul 2003 10:52:37 -0000", 1057056757, 0);
    ok("1 Jul 2003 10:52:37 +1400", 1057006357, 840);
    ok("1 Jul 2003 10:52:37 -1200", 1057099957, -720);
}

static void test_comments(void **state)
{
    (void)state;
    ok("Tue, 1 Jul 2003 10:52:37 +0200 (CEST)", JUL2003, 120);
    ok("(sent) Tue (day), 1 (d) Jul (m) 2003 (y) 10:52:37 (t) +0200 (z)", JUL2003, 120);
    ok("Tue, 1 Jul 2003 10 (h) : (x) 52 : 37 +0200", JUL2003, 120);
    ok("Tue, 1 Jul 2003 10:52:37 +0200 (nested (comment) \\) here)", JUL2003, 120);
    bad("Tue, 1 Jul 2003 10:52:37 +0200 (never closed");
    bad("Tue, 1 Jul 2003 10:52:37 +0200 (ends in escape\\");
}

static void test_extra_whitespace(void **state)
{
    (void)state;
    ok("  Tue,\t 1   Jul\t2003   10:52:37    +0200   ", JUL2003, 120);
    ok("Tue,1 Jul 2003 10:52:37 +0200", JUL2003, 120);
}

static void test_month_case(void **state)
{
    (void)state;
    ok("TUE, 1 JUL 2003 10:52:37 +0200", JUL2003, 120);
    ok("tue, 1 jul 2003 10:52:37 +0200", JUL2003, 120);
    ok("Tue, 1 jUl 2003 10:52:37 +0200", JUL2003, 120);
}

static void test_leap_days_and_seconds(void **state)
{
    (void)state;
    ok("29 Feb 2000 12:00:00 +0000", 951825600, 0);
    ok("30 Jun 2015 23:59:60 +0000", 1435708800, 0);
    ok("28 Feb 2100 10:00:00 -0430", 4107508200, -270);
    bad("29 Feb 2100 10:00:00 +0000"); /* 2100 is not a leap year */
    bad("29 Feb 2003 10:00:00 +0000");
    bad("30 Feb 2000 10:00:00 +0000");
    bad("31 Apr 2003 10:00:00 +0000");
}

static void test_year_bounds(void **state)
{
    (void)state;
    ok("1 Jan 1900 00:00:00 +0000", -2208988800, 0);
    ok("31 Dec 9999 23:59:59 +0000", 253402300799, 0);
    bad("31 Dec 1899 23:59:59 +0000");
    bad("1 Jan 10000 00:00:00 +0000");
    bad("1 Jan 0000 00:00:00 +0000");
    bad("1 Jan 99999999999999999999 00:00:00 +0000"); /* no overflow */
    bad("1 Jan 7 00:00:00 +0000");                    /* one digit */
}

static void test_out_of_range_fields(void **state)
{
    (void)state;
    bad("0 Jul 2003 10:52:37 +0200");
    bad("32 Jul 2003 10:52:37 +0200");
    bad("1 Jul 2003 24:00:00 +0200");
    bad("1 Jul 2003 10:60:00 +0200");
    bad("1 Jul 2003 10:52:61 +0200");
    bad("1 Jul 2003 10:52:37 +0260");
    bad("1 Jul 2003 10:52:37 +2400");
    bad("001 Jul 2003 10:52:37 +0200");
    bad("1 Jul 2003 100:52:37 +0200");
}

static void test_garbage(void **state)
{
    (void)state;
    bad("");
    bad("   ");
    bad("(only a comment)");
    bad("yesterday");
    bad("Tue, 1 July 2003 10:52:37 +0200");
    bad("Tue, 1 Jux 2003 10:52:37 +0200");
    bad("Tuesday, 1 Jul 2003 10:52:37 +0200");
    bad("Tue, Jul 1 2003 10:52:37 +0200");
    bad("2003-07-01T10:52:37+02:00");
    bad("Tue, 1 Jul 2003 +0200");
    bad("Tue, 1 Jul 2003 10.52.37 +0200");
    bad("Tue, 1 Jul 2003 10:52:37 0200");
}

static void test_zone_shape(void **state)
{
    (void)state;
    bad("Tue, 1 Jul 2003 10:52:37");        /* no zone */
    bad("Tue, 1 Jul 2003 10:52:37 +200");   /* three digits */
    bad("Tue, 1 Jul 2003 10:52:37 +02000"); /* five digits */
    bad("Tue, 1 Jul 2003 10:52:37 +");
    bad("Tue, 1 Jul 2003 10:52:37 +02:00");
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    bad("Tue, 1 Jul 2003 10:52:37 +0200 CEST");
    bad("Tue, 1 Jul 2003 10:52:37 +0200 x");
    bad("Tue, 1 Jul 2003 10:52:37 +0200,");
}

static void test_header_block(void **state)
{
    (void)state;
    hdr_ok("From: a@example.org\r\n"
           "Subject: hi\r\n"
           "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
           "Message-ID: <x@y>\r\n"
           "\r\n",
           JUL2003, 120);
    hdr_ok("Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n", JUL2003, 120);
}

static void test_folded_header(void **state)
{
    (void)state;
    hdr_ok("Subject: hi\r\n"
           "Date: Tue,\r\n"
           " 1 Jul 2003\r\n"
           "\t10:52:37\r\n"
           "  +0200\r\n"
           "From: a@example.org\r\n",
           JUL2003, 120);
    /* The fold ends at a line that does not start with a blank. */
    hdr_bad("Date: Tue, 1 Jul 2003\r\n"
            "10:52:37 +0200\r\n");
}

static void test_lowercase_name(void **state)
{
    (void)state;
    hdr_ok("date: Tue, 1 Jul 2003 10:52:37 +0200\r\n", JUL2003, 120);
    hdr_ok("DATE:Tue, 1 Jul 2003 10:52:37 +0200\r\n", JUL2003, 120);
    /* obs-optional: blanks between the name and the colon. */
    hdr_ok("Date : Tue, 1 Jul 2003 10:52:37 +0200\r\n", JUL2003, 120);
}

static void test_lf_only(void **state)
{
    (void)state;
    hdr_ok("From: a@example.org\n"
           "Date: Tue,\n"
           "  1 Jul 2003 10:52:37 +0200\n"
           "Subject: hi\n"
           "\n",
           JUL2003, 120);
}

static void test_missing_date(void **state)
{
    (void)state;
    hdr_bad("");
    hdr_bad("From: a@example.org\r\nSubject: hi\r\n\r\n");
    hdr_bad("\r\n");
}

static void test_similar_names_do_not_match(void **state)
{
    (void)state;
    hdr_bad("X-Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n");
    hdr_bad("Dated: Tue, 1 Jul 2003 10:52:37 +0200\r\n");
    hdr_bad("Resent-Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n");
    hdr_bad("Dat: Tue, 1 Jul 2003 10:52:37 +0200\r\n");
    /* A continuation line is not a field, even if it looks like one. */
    hdr_bad("Subject: about\r\n Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n");
    /* The right one is still found after the look-alikes. */
    hdr_ok("X-Date: Mon, 1 Jan 2001 00:00:00 +0000\r\n"
           "Dated: Mon, 1 Jan 2001 00:00:00 +0000\r\n"
           "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n",
           JUL2003, 120);
}

static void test_first_date_wins(void **state)
{
    (void)state;
    hdr_ok("Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
           "Date: Sat, 1 Jan 2000 00:00:00 +0000\r\n",
           JUL2003, 120);
    /* A broken first Date is not replaced by a later one. */
    hdr_bad("Date: garbage\r\n"
            "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n");
}

static void test_body_date_ignored(void **state)
{
    (void)state;
    hdr_bad("Subject: hi\r\n\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n");
    hdr_bad("Subject: hi\n\nDate: Tue, 1 Jul 2003 10:52:37 +0200\n");
}

static void test_garbage_in_header(void **state)
{
    (void)state;
    hdr_bad("Date: \r\n");
    hdr_bad("Date:\r\n");
    hdr_bad("Date: soon\r\n");
    hdr_bad("Date: Tue, 1 Jul 2003 25:52:37 +0200\r\n");
}

static void test_no_final_newline(void **state)
{
    (void)state;
    hdr_ok("Subject: hi\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200", JUL2003, 120);
    hdr_ok("Date: Tue, 1 Jul 2003 10:52:37 +0200 (CEST)", JUL2003, 120);
    /* A dangling fold at the very end is just trailing whitespace. */
    hdr_ok("Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n ", JUL2003, 120);
    hdr_bad("Date");
    hdr_bad("Date ");
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    static const char text[] = "Date: Tue, 1 Jul 2003 10:52:37 +0200";
    char buf[sizeof text - 1]; /* exactly the bytes, no NUL */
    memcpy(buf, text, sizeof buf);
    int64_t e = 0;
    int t = 0;
    assert_int_equal(hdrdate_from_headers(buf, sizeof buf, &e, &t), 0);
    assert_int_equal(e, JUL2003);
    assert_int_equal(t, 120);

    /* Every proper prefix lacks a complete zone, so all must fail; each is
     * copied into a heap block of exactly n bytes so ASan flags any read
     * past len. */
    for (size_t n = 0; n < sizeof buf; n++) {
        char *part = malloc(n ? n : 1);
        assert_non_null(part);
        memcpy(part, text, n);
        int r = hdrdate_from_headers(part, n, &e, &t);
        free(part);
        assert_int_equal(r, -1);
    }

    /* A comment cut short at the end of the buffer. */
    static const char text2[] = "Date: Tue, 1 Jul 2003 10:52:37 +0200 (CES";
    char buf2[sizeof text2 - 1];
    memcpy(buf2, text2, sizeof buf2);
    assert_int_equal(hdrdate_from_headers(buf2, sizeof buf2, &e, &t), -1);
}

static void test_bytes_after_len_ignored(void **state)
{
    (void)state;
    /* len stops before " +0200"; without a zone the value is rejected,
     * proving nothing past len was looked at. */
    const char *text = "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n";
    int64_t e = 0;
    int t = 0;
    assert_int_equal(hdrdate_from_headers(text, strlen(text) - 8, &e, &t), -1);
    assert_int_equal(hdrdate_from_headers(text, strlen(text) - 2, &e, &t), 0);
    assert_int_equal(e, JUL2003);
}

static void test_eight_bit_and_nul(void **state)
{
    (void)state;
    /* Stray bytes elsewhere do not confuse the search. */
    static const char block[] = "Subject: \xc3\xa9t\xc3\xa9\r\n"
                                "X-Bin: a\0b\r\n"
                                "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n";
    int64_t e = 0;
    int t = 0;
    assert_int_equal(hdrdate_from_headers(block, sizeof block - 1, &e, &t), 0);
    assert_int_equal(e, JUL2003);
    hdr_bad("Date: Tue, 1 Jul 2003 10:52:37 +0200 \xc3\xa9\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typical),
        cmocka_unit_test(test_no_weekday),
        cmocka_unit_test(test_weekday_without_comma),
        cmocka_unit_test(test_no_seconds),
        cmocka_unit_test(test_two_digit_years),
        cmocka_unit_test(test_three_digit_year),
        cmocka_unit_test(test_named_zones),
        cmocka_unit_test(test_military_and_unknown_zones),
        cmocka_unit_test(test_minus_zero_and_extreme_zones),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_extra_whitespace),
        cmocka_unit_test(test_month_case),
        cmocka_unit_test(test_leap_days_and_seconds),
        cmocka_unit_test(test_year_bounds),
        cmocka_unit_test(test_out_of_range_fields),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_zone_shape),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_header_block),
        cmocka_unit_test(test_folded_header),
        cmocka_unit_test(test_lowercase_name),
        cmocka_unit_test(test_lf_only),
        cmocka_unit_test(test_missing_date),
        cmocka_unit_test(test_similar_names_do_not_match),
        cmocka_unit_test(test_first_date_wins),
        cmocka_unit_test(test_body_date_ignored),
        cmocka_unit_test(test_garbage_in_header),
        cmocka_unit_test(test_no_final_newline),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_bytes_after_len_ignored),
        cmocka_unit_test(test_eight_bit_and_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
