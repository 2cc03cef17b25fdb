/* Unit tests for msgid: the default key (Message-ID, the header digest
 * without one, the size) and imapsync's construction for --useheader,
 * --skipheader and --messageidnodomain (8-bit, tabs, folding, ALL, order). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msgid.h"
#include "rx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct msgid_key key_of(const char *hdr, uint32_t size, int use_size, int *has)
{
    struct msgid_key k;
    int h = -1;
    msgid_key_from_headers(hdr, strlen(hdr), size, use_size, &k, &h);
    if (has != NULL)
        *has = h;
    return k;
}

static int same(const char *a, const char *b)
{
    struct msgid_key ka = key_of(a, 1000, 1, NULL);
    struct msgid_key kb = key_of(b, 1000, 1, NULL);
    return msgid_key_cmp(&ka, &kb) == 0;
}

static void test_header_fields(void **state)
{
    (void)state;
    assert_int_equal(msgid_header_count, 6);
    assert_string_equal(msgid_header_fields[0], "Message-ID");
    assert_string_equal(msgid_header_fields[1], "Date");
    assert_string_equal(msgid_header_fields[2], "From");
    assert_string_equal(msgid_header_fields[3], "To");
    assert_string_equal(msgid_header_fields[4], "Subject");
    assert_string_equal(msgid_header_fields[5], "Received");
}

static void test_msgid_and_size(void **state)
{
    (void)state;
    const char *h = "Message-ID: <abc@example.org>\r\nSubject: hi\r\n\r\n";
    int has = 0;
    struct msgid_key a = key_of(h, 1234, 1, &has);
    assert_int_equal(has, 1);
    struct msgid_key b = key_of(h, 1234, 1, NULL);
    assert_int_equal(msgid_key_cmp(&a, &b), 0);

    struct msgid_key c = key_of(h, 1235, 1, NULL);
    assert_int_not_equal(msgid_key_cmp(&a, &c), 0);

    /* --skipsize: the size no longer matters */
    struct msgid_key d = key_of(h, 1234, 0, NULL);
    struct msgid_key e = key_of(h, 99, 0, NULL);
    assert_int_equal(msgid_key_cmp(&d, &e), 0);
    assert_int_not_equal(msgid_key_cmp(&a, &d), 0);

    /* Other headers do not matter once there is a Message-ID. */
    assert_true(same(h, "Subject: other\nMessage-ID: <abc@example.org>\nFrom: x\n"));
    assert_false(same(h, "Message-ID: <abd@example.org>\r\n"));
}

static void test_normalisation(void **state)
{
    (void)state;
    const char *base = "Message-ID: <a b@example.org>\r\n";
    assert_true(same(base, "Message-ID: <a b@example.org>\n"));
    assert_true(same(base, "Message-ID:<a b@example.org>"));
    assert_true(same(base, "Message-ID:   \t<a b@example.org>  \t \r\n\r\n"));
    assert_true(same(base, "Message-ID:\r\n <a b@example.org>\r\n"));
    assert_true(same(base, "Message-ID: <a\r\n\t b@example.org>\r\n"));
    assert_true(same(base, "Message-ID: <a  \t  b@example.org>\n"));
    assert_true(same(base, "message-id: <a b@example.org>\r\n"));
    assert_true(same(base, "MESSAGE-ID \t: <a b@example.org>\r\n"));
    /* whitespace is collapsed, never removed */
    assert_false(same(base, "Message-ID: <ab@example.org>\r\n"));
    /* the value is case-sensitive */
    assert_false(same(base, "Message-ID: <A b@example.org>\r\n"));
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    const char buf[] = "Message-ID: <x@y>\r\nMessage-ID: <other@y>";
    struct msgid_key a, b;
    int has = 0;
    /* Only the first field is inside len; the rest of the buffer must be
     * ignored, and len stops in the middle of a line ending. */
    msgid_key_from_headers(buf, strlen("Message-ID: <x@y>\r"), 7, 1, &a, &has);
    assert_int_equal(has, 1);
    msgid_key_from_headers("Message-ID: <x@y>", 17, 7, 1, &b, NULL);
    assert_int_equal(msgid_key_cmp(&a, &b), 0);

    /* NULL with length 0 is an empty header block */
    msgid_key_from_headers(NULL, 0, 7, 1, &a, &has);
    assert_int_equal(has, 0);
    msgid_key_from_headers("", 0, 7, 1, &b, NULL);
    assert_int_equal(msgid_key_cmp(&a, &b), 0);
}

static void test_eight_bit(void **state)
{
    (void)state;
    const char *h = "Subject: Gr\xfc\xdf"
                    "e\r\nFrom: J\xc3\xb6rg <j@x>\r\n";
    assert_true(same(h, "From: J\xc3\xb6rg <j@x>\nSubject: Gr\xfc\xdf"
                        "e\n"));
    assert_false(same(h, "Subject: Gr\xfc\xdf"
                         "f\r\nFrom: J\xc3\xb6rg <j@x>\r\n"));
}

static const char *const fallback_base = "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
                                         "From: Alice <a@example.org>\r\n"
                                         "To: Bob <b@example.org>\r\n"
                                         "Subject: Report\r\n"
                                         "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
                                         "Received: from c by d; Mon, 1 Jan 2024 10:00:02 +0000\r\n"
                                         "\r\n";

static void test_fallback(void **state)
{
    (void)state;
    int has = -1;
    struct msgid_key k = key_of(fallback_base, 500, 1, &has);
    assert_int_equal(has, 0);
    struct msgid_key k2 = key_of(fallback_base, 500, 1, NULL);
    assert_int_equal(msgid_key_cmp(&k, &k2), 0);
    struct msgid_key k3 = key_of(fallback_base, 501, 1, NULL);
    assert_int_not_equal(msgid_key_cmp(&k, &k3), 0);

    /* header order and case do not matter, Received order does */
    assert_true(same(fallback_base, "subject: Report\n"
                                    "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\n"
                                    "TO: Bob <b@example.org>\n"
                                    "Received: from c by d;\n  Mon, 1 Jan 2024 10:00:02 +0000\n"
                                    "from: Alice <a@example.org>\n"
                                    "DATE: Mon, 1 Jan 2024 10:00:00 +0000\n"));

    static const char *const changed[] = {
        /* Date */
        "Date: Mon, 1 Jan 2024 10:00:09 +0000\r\nFrom: Alice <a@example.org>\r\n"
        "To: Bob <b@example.org>\r\nSubject: Report\r\n"
        "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
        "Received: from c by d; Mon, 1 Jan 2024 10:00:02 +0000\r\n",
        /* From */
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: Alicia <a@example.org>\r\n"
        "To: Bob <b@example.org>\r\nSubject: Report\r\n"
        "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
        "Received: from c by d; Mon, 1 Jan 2024 10:00:02 +0000\r\n",
        /* To */
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: Alice <a@example.org>\r\n"
        "To: Rob <b@example.org>\r\nSubject: Report\r\n"
        "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
        "Received: from c by d; Mon, 1 Jan 2024 10:00:02 +0000\r\n",
        /* Subject */
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: Alice <a@example.org>\r\n"
        "To: Bob <b@example.org>\r\nSubject: Report 2\r\n"
        "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
        "Received: from c by d; Mon, 1 Jan 2024 10:00:02 +0000\r\n",
        /* first Received */
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: Alice <a@example.org>\r\n"
        "To: Bob <b@example.org>\r\nSubject: Report\r\n"
        "Received: from x by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
        "Received: from c by d; Mon, 1 Jan 2024 10:00:02 +0000\r\n",
        /* second Received: every Received header counts */
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: Alice <a@example.org>\r\n"
        "To: Bob <b@example.org>\r\nSubject: Report\r\n"
        "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
        "Received: from c by x; Mon, 1 Jan 2024 10:00:02 +0000\r\n",
        /* a Received header missing */
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: Alice <a@example.org>\r\n"
        "To: Bob <b@example.org>\r\nSubject: Report\r\n"
        "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n",
        /* Received order swapped */
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: Alice <a@example.org>\r\n"
        "To: Bob <b@example.org>\r\nSubject: Report\r\n"
        "Received: from c by d; Mon, 1 Jan 2024 10:00:02 +0000\r\n"
        "Received: from a by b; Mon, 1 Jan 2024 10:00:01 +0000\r\n",
    };
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
        struct msgid_key c = key_of(changed[i], 500, 1, &has);
        assert_int_equal(has, 0);
        if (msgid_key_cmp(&k, &c) == 0)
            fail_msg("change %zu did not change the key", i);
        for (size_t j = 0; j < i; j++) {
            struct msgid_key o = key_of(changed[j], 500, 1, NULL);
            assert_int_not_equal(msgid_key_cmp(&o, &c), 0);
        }
    }
}

static void test_field_boundaries(void **state)
{
    (void)state;
    /* Moving bytes from one field to the next must change the key. */
    assert_false(same("From: ab\nTo: c\n", "From: a\nTo: bc\n"));
    assert_false(same("Subject: x\n", "To: x\n"));
    assert_false(same("Received: a b\n", "Received: a\nReceived: b\n"));
    /* A missing header counts as empty. */
    assert_true(same("From: a\nTo:\n", "From: a\n"));
    /* Headers outside the set are ignored. */
    assert_true(same("From: a\nX-Spam: yes\nCc: c\n", "From: a\n"));
}

static void test_empty_msgid_is_missing(void **state)
{
    (void)state;
    int has = -1;
    struct msgid_key a = key_of("Message-ID:\r\nFrom: a\r\n", 10, 1, &has);
    assert_int_equal(has, 0);
    struct msgid_key b = key_of("From: a\r\n", 10, 1, NULL);
    assert_int_equal(msgid_key_cmp(&a, &b), 0);
    struct msgid_key c = key_of("Message-ID:  \t \r\n  \r\nFrom: a\r\n", 10, 1, &has);
    assert_int_equal(has, 0);
    assert_int_equal(msgid_key_cmp(&b, &c), 0);

    /* empty header block */
    struct msgid_key d = key_of("", 10, 1, &has);
    assert_int_equal(has, 0);
    struct msgid_key e = key_of("\r\n", 10, 1, NULL);
    assert_int_equal(msgid_key_cmp(&d, &e), 0);
    /* a later non-empty Message-ID is used */
    struct msgid_key f = key_of("Message-ID:\nMessage-ID: <q@r>\n", 10, 1, &has);
    assert_int_equal(has, 1);
    struct msgid_key g = key_of("Message-ID: <q@r>\n", 10, 1, NULL);
    assert_int_equal(msgid_key_cmp(&f, &g), 0);
}

static void test_domain_tag(void **state)
{
    (void)state;
    /* A Message-ID value that equals the fallback material must not make
     * the two kinds of key meet. */
    assert_false(same("Message-ID: x\n", "Date: x\n"));
    assert_false(same("Message-ID: \n", "Message-ID: <>\n"));
}

static void test_end_of_block(void **state)
{
    (void)state;
    /* An empty line ends the block; lines without a colon and orphan
     * continuations are ignored. */
    assert_true(same("From: a\r\n\r\nTo: b\r\n", "From: a\r\n"));
    assert_true(same(" stray\r\nnot a header\r\n\tmore\r\nFrom: a\r\n", "From: a\r\n"));
    assert_true(same("From: a\r\nFrom: b\r\n", "From: a\r\n"));
    /* "From " (mbox separator) is not "From:" */
    assert_true(same("From a@b Mon Jan 1 10:00:00 2024\nTo: x\n", "To: x\n"));
}

static void test_cmp_ordering(void **state)
{
    (void)state;
    struct msgid_key a = {1, 5}, b = {1, 6}, c = {2, 0}, d = {1, 5};
    assert_int_equal(msgid_key_cmp(&a, &d), 0);
    assert_true(msgid_key_cmp(&a, &b) < 0);
    assert_true(msgid_key_cmp(&b, &a) > 0);
    assert_true(msgid_key_cmp(&b, &c) < 0);
    assert_true(msgid_key_cmp(&c, &a) > 0);
    struct msgid_key big = {UINT64_MAX, 0}, small = {0, UINT64_MAX};
    assert_true(msgid_key_cmp(&small, &big) < 0);
    assert_true(msgid_key_cmp(&big, &small) > 0);
}

static void test_spread(void **state)
{
    (void)state;
    /* Keys of near-identical inputs differ in both halves. */
    char buf[64];
    struct msgid_key prev = {0, 0};
    for (unsigned i = 0; i < 1000; i++) {
        int n = snprintf(buf, sizeof buf, "Message-ID: <%u@x>\r\n", i);
        struct msgid_key k;
        msgid_key_from_headers(buf, (size_t)n, 0, 1, &k, NULL);
        assert_true(k.hi != prev.hi);
        assert_true(k.lo != prev.lo);
        prev = k;
    }
}

/* imapsync's construction (--useheader and friends), as text. */
static void assert_text(const struct msgid_conf *c, const char *hdr, const char *want)
{
    char *got = msgid_identity_text(c, hdr, strlen(hdr));
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_useheader_lines(void **state)
{
    (void)state;
    const char *const subj[] = {"subject"};
    struct msgid_conf c = {.fields = subj, .nfields = 1};
    /* Name matched case-insensitively, line upper-cased, blanks trimmed,
     * tab as space, runs collapsed, a folded value unfolded. */
    assert_text(&c, "Message-ID: <a@b>\r\nSUBJECT:\t Hello \t\r\n  world  \r\n\r\n",
                "SUBJECT: HELLO WORLD\n");
    /* 8-bit bytes become X, one X per byte. */
    assert_text(&c, "Subject: caf\xc3\xa9\r\n", "SUBJECT: CAFXX\n");
    /* No field of the set: no identity. */
    assert_text(&c, "From: a\r\nMessage-ID: <x@y>\r\n", NULL);
    /* Nothing after the blank line is header. */
    assert_text(&c, "From: a\r\n\r\nSubject: body\r\n", NULL);
}

static void test_useheader_sorted(void **state)
{
    (void)state;
    const char *const f[] = {"Received", "X-Tag", "Message-Id"};
    struct msgid_conf c = {.fields = f, .nfields = 3};
    /* Every value of every field in the set, sorted as strings, so the
     * order of the fields in the message does not matter. */
    assert_text(&c, "X-Tag: b\r\nReceived: from z\r\nX-Tag: a\r\nMessage-Id: <m@d>\r\n",
                "MESSAGE-ID: <M@D>\nRECEIVED: FROM Z\nX-TAG: A\nX-TAG: B\n");
    struct msgid_key k1, k2;
    assert_int_equal(msgid_key_from_fields(&c, "X-Tag: a\nX-Tag: b\nMessage-Id: <m@d>\n", 36, &k1),
                     1);
    const char *other = "Message-Id: <m@d>\nX-Tag: b\nX-Tag: a\n";
    assert_int_equal(msgid_key_from_fields(&c, other, strlen(other), &k2), 1);
    assert_int_equal(msgid_key_cmp(&k1, &k2), 0);
    /* Never equal to a key of the default construction. */
    struct msgid_key d;
    msgid_key_from_headers(other, strlen(other), 0, 0, &d, NULL);
    assert_int_not_equal(msgid_key_cmp(&k1, &d), 0);
}

static void test_useheader_default_and_all(void **state)
{
    (void)state;
    /* No --useheader: imapsync's Message-Id Received. */
    struct msgid_conf def = {0};
    assert_text(&def, "Subject: s\r\nReceived: by a\r\nMessage-ID: <x@y>\r\n",
                "MESSAGE-ID: <X@Y>\nRECEIVED: BY A\n");
    struct msgid_conf all = {.all = 1};
    assert_text(&all, "Subject: s\r\nFrom: f\r\n", "FROM: F\nSUBJECT: S\n");
}

static void test_messageidnodomain(void **state)
{
    (void)state;
    struct msgid_conf c = {.nodomain = 1};
    assert_text(&c, "Message-ID: <abc@host.a>\r\n", "MESSAGE-ID: <ABC\n");
    struct msgid_key a, b;
    assert_int_equal(msgid_key_from_fields(&c, "Message-ID: <abc@a>\n", 20, &a), 1);
    assert_int_equal(msgid_key_from_fields(&c, "Message-ID: <abc@bb>\n", 21, &b), 1);
    assert_int_equal(msgid_key_cmp(&a, &b), 0);
    /* Only Message-ID is cut, and not when it starts with '@'. */
    const char *const f[] = {"From", "Message-Id"};
    struct msgid_conf c2 = {.fields = f, .nfields = 2, .nodomain = 1};
    assert_text(&c2, "From: me@here\r\nMessage-ID: @only\r\n",
                "FROM: ME@HERE\nMESSAGE-ID: @ONLY\n");
    /* Off: the domain counts. */
    struct msgid_conf off = {0};
    assert_text(&off, "Message-ID: <abc@host.a>\r\n", "MESSAGE-ID: <ABC@HOST.A>\n");
}

static void test_skipheader(void **state)
{
    (void)state;
    struct rx_rule *r = NULL;
    struct status st;
    status_clear(&st);
    /* As config builds it: Perl's m/$re/xi. */
    assert_int_equal(rx_compile_pattern("(?xi)^received: \\s* by", &r, &st), 0);
    struct msgid_conf c = {.skipheader = r};
    assert_text(&c, "Received: by gw\r\nReceived: from mx\r\nMessage-Id: <a@b>\r\n",
                "MESSAGE-ID: <A@B>\nRECEIVED: FROM MX\n");
    /* Every line skipped: no identity. */
    assert_text(&c, "Received: by gw\r\n", NULL);
    rx_free(r);
}

static void test_field_name_ok(void **state)
{
    (void)state;
    assert_true(msgid_field_name_ok("Message-Id"));
    assert_true(msgid_field_name_ok("X-Gmail-Received"));
    assert_false(msgid_field_name_ok(""));
    assert_false(msgid_field_name_ok("Sub ject"));
    assert_false(msgid_field_name_ok("Subject:"));
    assert_false(msgid_field_name_ok("a)\r\nX LOGOUT"));
    assert_false(msgid_field_name_ok("caf\xc3\xa9"));
    char longname[80];
    memset(longname, 'a', 77);
    longname[77] = '\0';
    assert_false(msgid_field_name_ok(longname));
    longname[76] = '\0';
    assert_true(msgid_field_name_ok(longname));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_msgid_and_size),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_eight_bit),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_field_boundaries),
        cmocka_unit_test(test_empty_msgid_is_missing),
        cmocka_unit_test(test_domain_tag),
        cmocka_unit_test(test_end_of_block),
        cmocka_unit_test(test_cmp_ordering),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_useheader_lines),
        cmocka_unit_test(test_useheader_sorted),
        cmocka_unit_test(test_useheader_default_and_all),
        cmocka_unit_test(test_messageidnodomain),
        cmocka_unit_test(test_skipheader),
        cmocka_unit_test(test_field_name_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
