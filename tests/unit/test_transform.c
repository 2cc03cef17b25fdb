/* Unit tests for transform: --regexmess rules in order, imapsync's
 * --disarmreadreceipts and office2/exchange2 wrap rules, --truncmess, and
 * bytes (NUL included) passing through untouched; --skipmess (before the
 * rules), --maxlinelength (after them and the cut, Perl's line lengths)
 * and --addheader's line (whose key is the one imapc gives host1). Expected outputs were
 * computed with perl 5.36 and imapsync's `eval "\$string =~ $rule"`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msgid.h"
#include "transform.h"

#include <signal.h>
#include <stdio.h>
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
    struct transform t = {(const struct rx_rule *const *)r, n, cut, NULL, 0, 0, 0, NULL, 0, NULL};
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
    struct transform none = {NULL, 0, -1, NULL, 0, 0, 0, NULL, 0, NULL},
                     cut = {NULL, 0, 10, NULL, 0, 0, 0, NULL, 0, NULL};
    struct transform lines = {NULL, 0, -1, NULL, 0, 80, 0, NULL, 0, NULL},
                     add = {NULL, 0, -1, NULL, 0, 0, 1, NULL, 0, NULL};
    assert_false(transform_active(NULL));
    assert_false(transform_active(&none));
    assert_true(transform_active(&cut));
    assert_true(transform_active(&lines));
    assert_true(transform_active(&add));
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
    struct transform t = {(const struct rx_rule *const *)&r, 1, -1, NULL, 0, 0, 0, NULL, 0, NULL};
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

/* transform_message's verdict on in: 0 copied (*out compared with want),
 * 1 skipped (why must hold whyword). */
static void verdict(const struct transform *t, uint32_t uid, const char *in, size_t len, int rc,
                    const char *want, size_t wantlen, const char *whyword)
{
    char *out = (char *)1;
    size_t outlen = 0;
    char why[96];
    struct status st;
    status_clear(&st);
    assert_int_equal(transform_message(t, uid, in, len, &out, &outlen, why, sizeof why, &st), rc);
    if (rc == 0) {
        assert_int_equal(outlen, wantlen);
        assert_memory_equal(out, want, wantlen);
        assert_int_equal(out[outlen], '\0');
        free(out);
    } else {
        assert_null(out);
        assert_non_null(strstr(why, whyword));
    }
}

static void test_max_line(void **state)
{
    (void)state;
    /* perl: max(length) over m/([^\n]*\n?)/g, the \n counted. */
    assert_int_equal(transform_max_line("", 0), 0);
    assert_int_equal(transform_max_line(S("abc")), 3);
    assert_int_equal(transform_max_line(S("ab\r\nc\n")), 4);
    assert_int_equal(transform_max_line(S("a\nbcdef")), 5);
    assert_int_equal(transform_max_line(S("\n\n\n")), 1);
    assert_int_equal(transform_max_line(S("abc\0def\n")), 8);
}

static void test_skipmess(void **state)
{
    (void)state;
    struct rx_rule *r[2] = {compile("m{^Subject: spam}m"), compile("/X-Junk: yes/i")};
    struct transform t = {NULL, 0, -1, (const struct rx_rule *const *)r, 2, 0, 0, NULL, 0, NULL};
    verdict(&t, 1, S("From: a\r\nSubject: spam offer\r\n\r\nbody\r\n"), 1, NULL, 0, "--skipmess");
    verdict(&t, 1, S("From: a\r\nx-junk: YES\r\n\r\nbody\r\n"), 1, NULL, 0, "--skipmess");
    /* No match: the message goes as it is. */
    verdict(&t, 1, S("From: a\r\nSubject: ham\r\n\r\nspam\r\n"), 0,
            S("From: a\r\nSubject: ham\r\n\r\nspam\r\n"), NULL);
    /* Before --regexmess: a rule that would remove the match comes too late. */
    struct rx_rule *sub = compile("s/spam/ham/");
    struct transform both = {(const struct rx_rule *const *)&sub,
                             1,
                             -1,
                             (const struct rx_rule *const *)r,
                             1,
                             0,
                             0,
                             NULL,
                             0,
                             NULL};
    verdict(&both, 1, S("Subject: spam\r\n\r\nb\r\n"), 1, NULL, 0, "--skipmess");
    rx_free(sub);
    rx_free(r[0]);
    rx_free(r[1]);
}

static void test_maxlinelength(void **state)
{
    (void)state;
    struct transform t = {NULL, 0, -1, NULL, 0, 10, 0, NULL, 0, NULL};
    /* "0123456789\n" is 11 bytes: over 10. */
    verdict(&t, 1, S("a: b\n\n0123456789\n"), 1, NULL, 0, "maxlinelength 10");
    verdict(&t, 1, S("a: b\n\n012345678\n"), 0, S("a: b\n\n012345678\n"), NULL);
    verdict(&t, 1, S("a: b\r\n\r\n01234567\r\n"), 0, S("a: b\r\n\r\n01234567\r\n"), NULL);
    verdict(&t, 1, S("a: b\r\n\r\n012345678\r\n"), 1, NULL, 0, "line length 11");
    /* After --truncmess (imapsync's order): the cut can save a message. */
    struct transform cut = {NULL, 0, 8, NULL, 0, 10, 0, NULL, 0, NULL};
    verdict(&cut, 1, S("a: b\n\n0123456789\n"), 0, S("a: b\n\n01"), NULL);
    /* After --regexmess too. */
    struct rx_rule *wrap = compile("s/(.{5})/$1\\n/g");
    struct transform w = {
        (const struct rx_rule *const *)&wrap, 1, -1, NULL, 0, 10, 0, NULL, 0, NULL};
    verdict(&w, 1, S("0123456789"), 0, S("01234\n56789\n"), NULL);
    rx_free(wrap);
}

static void test_addheader(void **state)
{
    (void)state;
    struct transform t = {NULL, 0, -1, NULL, 0, 0, 1, NULL, 0, NULL};
    verdict(&t, 42, S("From: a\r\nSubject: draft\r\n\r\nbody\r\n"), 0,
            S("Message-Id: <42@imapsync>\r\nFrom: a\r\nSubject: draft\r\n\r\nbody\r\n"), NULL);
    /* A message with a Message-ID (any case) is left alone; one in the body
     * does not count, nor does an empty one. */
    verdict(&t, 42, S("message-id: <x@y>\r\n\r\nb\r\n"), 0, S("message-id: <x@y>\r\n\r\nb\r\n"),
            NULL);
    verdict(&t, 7, S("From: a\n\nMessage-ID: <x@y>\n"), 0,
            S("Message-Id: <7@imapsync>\r\nFrom: a\n\nMessage-ID: <x@y>\n"), NULL);
    verdict(&t, 7, S("Message-ID:  \r\n\r\nb"), 0,
            S("Message-Id: <7@imapsync>\r\nMessage-ID:  \r\n\r\nb"), NULL);
    /* --truncmess cuts after the line is added (imapsync's order). */
    struct transform cut = {NULL, 0, 30, NULL, 0, 0, 1, NULL, 0, NULL};
    verdict(&cut, 4294967295u, S("From: a\r\n\r\nb"), 0, S("Message-Id: <4294967295@imapsy"), NULL);
    /* The line's key is the one imapc gives such a host1 message. */
    struct msgid_key k1, k2;
    char line[64];
    int n = snprintf(line, sizeof line, TRANSFORM_ADDHEADER_FMT, 42ul);
    msgid_key_from_headers(line, (size_t)n, 0, 0, &k1, NULL);
    const char copy[] = "Message-Id: <42@imapsync>\r\nFrom: a\r\nSubject: draft\r\n";
    msgid_key_from_headers(copy, sizeof copy - 1, 0, 0, &k2, NULL);
    assert_int_equal(msgid_key_cmp(&k1, &k2), 0);
}

/* --pipemess commands run in turn on the rewritten message, any failure
 * or an empty output is an error (never a silent skip), and
 * --maxlinelengthcmd rewrites instead of leaving the message out. */
static void test_pipemess(void **state)
{
    (void)state;
    const char *chain[] = {"tr a-z A-Z", "sed s/SPAM/ham/"};
    struct rx_rule *r = compile("s/one/spam/");
    struct transform t = {(const struct rx_rule *const *)&r, 1, -1, NULL, 0, 0, 0, chain, 2, NULL};
    assert_true(
        transform_active(&(struct transform){.truncmess = -1, .pipemess = chain, .npipemess = 1}));
    char *out = NULL, why[96];
    size_t n = 0;
    struct status st;
    assert_int_equal(
        transform_message(&t, 7, S("Subject: one\r\n\r\nbody\r\n"), &out, &n, why, sizeof why, &st),
        0);
    assert_string_equal(out, "SUBJECT: ham\r\n\r\nBODY\r\n");
    assert_int_equal(n, strlen(out));
    free(out);
    rx_free(r);
    /* A NUL byte and a message bigger than a pipe's buffer go through. */
    size_t big = 300000;
    char *in = malloc(big);
    for (size_t i = 0; i < big; i++)
        in[i] = i == 5 ? '\0' : (char)('a' + i % 26);
    const char *cat[] = {"cat"};
    struct transform c = {.truncmess = -1, .pipemess = cat, .npipemess = 1};
    assert_int_equal(transform_message(&c, 1, in, big, &out, &n, why, sizeof why, &st), 0);
    assert_int_equal(n, big);
    assert_memory_equal(out, in, big);
    free(out);
    free(in);
    const char *bad[] = {"exit 3"}, *empty[] = {"cat >/dev/null"};
    struct transform b = {.truncmess = -1, .pipemess = bad, .npipemess = 1};
    assert_int_equal(transform_message(&b, 1, S("x\r\n"), &out, &n, why, sizeof why, &st), -1);
    assert_null(out);
    assert_non_null(strstr(st.msg, "--pipemess #1 command exited with 3"));
    b.pipemess = empty;
    assert_int_equal(transform_message(&b, 1, S("x\r\n"), &out, &n, why, sizeof why, &st), -1);
    assert_non_null(strstr(st.msg, "wrote nothing"));
    /* fold cuts the 30-byte line, so nothing is left out. */
    struct transform l = {.truncmess = -1, .maxlinelength = 10, .maxlinelengthcmd = "fold -w 8"};
    assert_int_equal(transform_message(&l, 1, S("abcdefghijklmnopqrstuvwxyz0123\n"), &out, &n, why,
                                       sizeof why, &st),
                     0);
    assert_string_equal(out, "abcdefgh\nijklmnop\nqrstuvwx\nyz0123\n");
    free(out);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as main.c: pipemess writes to commands that may exit */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active),
        cmocka_unit_test(test_disarm),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_order_and_cut),
        cmocka_unit_test(test_runtime_failure),
        cmocka_unit_test(test_max_line),
        cmocka_unit_test(test_skipmess),
        cmocka_unit_test(test_maxlinelength),
        cmocka_unit_test(test_addheader),
        cmocka_unit_test(test_pipemess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
