#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "folder_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dovecot/Cyrus-style host1 (no prefix, '/') and Courier-style host2. */
static const struct folder_plan_ns ns_slash = {"", '/'};
static const struct folder_plan_ns ns_inbox_dot = {"INBOX.", '.'};
static const struct folder_plan_ns ns_dot = {"", '.'};
static const struct folder_plan_ns ns_flat = {"", 0};

static void tr(const struct folder_plan_ns *ns1, const struct folder_plan_ns *ns2, const char *in,
               const char *want)
{
    struct status st;
    char *out = (char *)1;
    assert_int_equal(folder_plan_translate(in, ns1, ns2, &out, &st), 0);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_slash_to_inbox_dot(void **state)
{
    (void)state;
    const struct folder_plan_ns *a = &ns_slash, *b = &ns_inbox_dot;
    tr(a, b, "INBOX", "INBOX");
    tr(a, b, "Inbox", "INBOX");
    tr(a, b, "inbox", "INBOX");
    tr(a, b, "Sent", "INBOX.Sent");
    tr(a, b, "Archive/2019", "INBOX.Archive.2019");
    tr(a, b, "Entw&APw-rfe", "INBOX.Entw&APw-rfe");
    tr(a, b, "Project X", "INBOX.Project X");
    /* The swap turns the '.' into '/', and fixslash2, which runs after it,
     * turns that '/' into '_' (imapsync's order). */
    tr(a, b, "Reports.2023", "INBOX.Reports_2023");
    tr(a, b, "a.b/c", "INBOX.a_b.c");
    /* already under INBOX on host1: not prefixed twice */
    tr(a, b, "INBOX/Sub", "INBOX.Sub");
    tr(a, b, "INBOX/Sub/Deep", "INBOX.Sub.Deep");
    /* the exception is for "INBOX" + sep2 only */
    tr(a, b, "INBOXes", "INBOX.INBOXes");
    tr(a, b, "&ZeVnLIqe-/&U,BTFw-", "INBOX.&ZeVnLIqe-.&U,BTFw-");
}

static void test_inbox_dot_to_slash(void **state)
{
    (void)state;
    const struct folder_plan_ns *a = &ns_inbox_dot, *b = &ns_slash;
    tr(a, b, "INBOX", "INBOX");
    tr(a, b, "INBOX.Sent", "Sent");
    tr(a, b, "INBOX.a.b", "a/b");
    tr(a, b, "INBOX.Entw&APw-rfe", "Entw&APw-rfe");
    /* a '/' inside a host1 name must not split it on host2 */
    tr(a, b, "INBOX.a/b", "a.b");
    /* outside the prefix: only the separators change */
    tr(a, b, "Shared.x", "Shared/x");
    /* nothing but the prefix is INBOX, as in imapsync */
    tr(a, b, "INBOX.", "INBOX");
    /* what is left after the prefix is INBOX */
    tr(a, b, "INBOX.INBOX", "INBOX");
    tr(a, b, "INBOX.inbox", "INBOX");
}

static void test_other_layouts(void **state)
{
    (void)state;
    /* same layout both sides: identity */
    tr(&ns_slash, &ns_slash, "a/b.c", "a/b.c");
    tr(&ns_inbox_dot, &ns_inbox_dot, "INBOX.a.b", "INBOX.a.b");
    /* '.' without prefix to INBOX.: top-level INBOX children keep their place */
    tr(&ns_dot, &ns_inbox_dot, "INBOX.Sub", "INBOX.Sub");
    tr(&ns_dot, &ns_inbox_dot, "a.b", "INBOX.a.b");
    /* '.' to '/': no fixslash, since sep1 is not '/' */
    tr(&ns_dot, &ns_slash, "a.b/c", "a/b.c");
    /* flat host1: no separator of its own, so host2's stays as it is */
    tr(&ns_flat, &ns_slash, "a/b", "a/b");
    tr(&ns_flat, &ns_inbox_dot, "a.b", "INBOX.a.b");
    /* flat host2: nothing to swap to; fixslash2 still applies */
    tr(&ns_dot, &ns_flat, "a.b", "a.b");
    tr(&ns_slash, &ns_flat, "a/b", "a_b");
    /* NULL prefix is the empty prefix */
    struct folder_plan_ns nul = {NULL, '/'};
    tr(&nul, &ns_inbox_dot, "x/y", "INBOX.x.y");
    tr(&ns_inbox_dot, &nul, "INBOX.x.y", "x/y");
    /* a prefix that is not INBOX + sep2 is always added */
    struct folder_plan_ns other = {"Mail/", '/'};
    tr(&ns_slash, &other, "INBOX/Sub", "Mail/INBOX/Sub");
    tr(&ns_slash, &other, "INBOX", "INBOX");
}

static void test_translate_errors(void **state)
{
    (void)state;
    struct status st;
    char *out = (char *)1;
    assert_int_equal(folder_plan_translate(NULL, &ns_slash, &ns_dot, &out, &st), -1);
    assert_null(out);
    assert_int_equal(st.code, STATUS_INTERNAL);
    assert_int_equal(folder_plan_translate("x", NULL, &ns_dot, &out, &st), -1);
    assert_int_equal(folder_plan_translate("x", &ns_slash, &ns_dot, NULL, &st), -1);
}

static struct folder_plan_folder fo(const char *name, int noselect, int subscribed)
{
    struct folder_plan_folder f = {(char *)name, noselect, subscribed};
    return f;
}

static const struct folder_plan_pair *find1(const struct folder_plan *p, const char *name1)
{
    for (size_t i = 0; i < p->npairs; i++)
        if (strcmp(p->pairs[i].name1, name1) == 0)
            return &p->pairs[i];
    fail_msg("no pair for %s", name1);
    return NULL;
}

static void test_build(void **state)
{
    (void)state;
    struct folder_plan_folder f1[] = {
        fo("Sent", 0, 1),         fo("Archive", 1, 0),   fo("Archive/2019", 0, 1),
        fo("Entw&APw-rfe", 0, 0), fo("INBOX", 0, 1),     fo("Project X", 0, 1),
        fo("Reports.2023", 0, 0), fo("INBOX/Sub", 0, 0), fo("Trash", 0, 1),
        fo("Junk", 0, 1),
    };
    struct folder_plan_folder f2[] = {
        fo("INBOX", 0, 1),           fo("INBOX.Sent", 0, 1), /* exists and subscribed */
        fo("INBOX.Trash", 0, 0),                             /* exists, not subscribed */
        fo("INBOX.Archive", 1, 0),                           /* only a \Noselect parent */
        fo("INBOX.Project X", 1, 1), fo("INBOX.Other", 0, 0),
        fo("INBOX.Junk", 0, 0),      fo("INBOX.Junk", 0, 1), /* duplicate LIST/LSUB entries merge */
    };
    struct folder_plan p;
    struct status st;
    assert_int_equal(folder_plan_build(f1, sizeof f1 / sizeof f1[0], f2, sizeof f2 / sizeof f2[0],
                                       &ns_slash, &ns_inbox_dot, &p, &st),
                     0);
    /* \Noselect "Archive" is left out */
    assert_int_equal(p.npairs, 9);

    static const char *const order[] = {
        "INBOX",     "Archive/2019", "Entw&APw-rfe", "INBOX/Sub", "Junk",
        "Project X", "Reports.2023", "Sent",         "Trash",
    };
    static const char *const name2[] = {
        "INBOX",           "INBOX.Archive.2019", "INBOX.Entw&APw-rfe", "INBOX.Sub",   "INBOX.Junk",
        "INBOX.Project X", "INBOX.Reports_2023", "INBOX.Sent",         "INBOX.Trash",
    };
    for (size_t i = 0; i < p.npairs; i++) {
        assert_string_equal(p.pairs[i].name1, order[i]);
        assert_string_equal(p.pairs[i].name2, name2[i]);
        assert_int_equal(p.pairs[i].conflict, 0);
    }

    const struct folder_plan_pair *x = find1(&p, "INBOX");
    assert_int_equal(x->create, 0);
    assert_int_equal(x->subscribe, 0);
    x = find1(&p, "Sent");
    assert_int_equal(x->create, 0);
    assert_int_equal(x->subscribe, 0);
    x = find1(&p, "Trash");
    assert_int_equal(x->create, 0);
    assert_int_equal(x->subscribe, 1);
    x = find1(&p, "Junk");
    assert_int_equal(x->create, 0);
    assert_int_equal(x->subscribe, 0);
    /* host2 has it only as \Noselect: create it, keep its subscription */
    x = find1(&p, "Project X");
    assert_int_equal(x->create, 1);
    assert_int_equal(x->subscribe, 0);
    x = find1(&p, "Archive/2019");
    assert_int_equal(x->create, 1);
    assert_int_equal(x->subscribe, 1);
    x = find1(&p, "Entw&APw-rfe");
    assert_int_equal(x->create, 1);
    assert_int_equal(x->subscribe, 0);
    x = find1(&p, "INBOX/Sub");
    assert_int_equal(x->create, 1);
    assert_int_equal(x->subscribe, 0);

    folder_plan_free(&p);
    assert_null(p.pairs);
    assert_int_equal(p.npairs, 0);
    folder_plan_free(&p);
    folder_plan_free(NULL);
}

static void test_build_reverse(void **state)
{
    (void)state;
    struct folder_plan_folder f1[] = {
        fo("INBOX.a.b", 0, 1),
        fo("INBOX.a", 1, 0),
        fo("INBOX.Sent", 0, 1),
        fo("INBOX", 0, 1),
    };
    struct folder_plan_folder f2[] = {fo("inbox", 0, 0), fo("Sent", 0, 1)};
    struct folder_plan p;
    struct status st;
    assert_int_equal(folder_plan_build(f1, 4, f2, 2, &ns_inbox_dot, &ns_slash, &p, &st), 0);
    assert_int_equal(p.npairs, 3);
    assert_string_equal(p.pairs[0].name1, "INBOX");
    assert_string_equal(p.pairs[0].name2, "INBOX");
    /* host2's INBOX matches in any case: exists, but not subscribed */
    assert_int_equal(p.pairs[0].create, 0);
    assert_int_equal(p.pairs[0].subscribe, 1);
    assert_string_equal(p.pairs[1].name1, "INBOX.Sent");
    assert_string_equal(p.pairs[1].name2, "Sent");
    assert_int_equal(p.pairs[1].create, 0);
    assert_int_equal(p.pairs[1].subscribe, 0);
    assert_string_equal(p.pairs[2].name1, "INBOX.a.b");
    assert_string_equal(p.pairs[2].name2, "a/b");
    assert_int_equal(p.pairs[2].create, 1);
    assert_int_equal(p.pairs[2].subscribe, 1);
    folder_plan_free(&p);
}

static void test_conflict(void **state)
{
    (void)state;
    /* Both "INBOX/Sub" and "Sub" become "INBOX.Sub"; "INBOX/Sub" sorts
     * first, so it wins. */
    struct folder_plan_folder f1[] = {
        fo("Sub", 0, 1),
        fo("INBOX/Sub", 0, 1),
        fo("Other", 0, 0),
    };
    struct folder_plan p;
    struct status st;
    assert_int_equal(folder_plan_build(f1, 3, NULL, 0, &ns_slash, &ns_inbox_dot, &p, &st), 0);
    assert_int_equal(p.npairs, 3);
    assert_string_equal(p.pairs[0].name1, "INBOX/Sub");
    assert_string_equal(p.pairs[0].name2, "INBOX.Sub");
    assert_int_equal(p.pairs[0].conflict, 0);
    assert_int_equal(p.pairs[0].create, 1);
    assert_int_equal(p.pairs[0].subscribe, 1);
    assert_string_equal(p.pairs[1].name1, "Other");
    assert_int_equal(p.pairs[1].conflict, 0);
    assert_string_equal(p.pairs[2].name1, "Sub");
    assert_string_equal(p.pairs[2].name2, "INBOX.Sub");
    assert_int_equal(p.pairs[2].conflict, 1);
    assert_int_equal(p.pairs[2].create, 0);
    assert_int_equal(p.pairs[2].subscribe, 0);
    folder_plan_free(&p);

    /* Two spellings of INBOX on host1: the INBOX-first ordering puts both
     * first, byte order picks "INBOX" over "inbox". */
    struct folder_plan_folder g1[] = {fo("inbox", 0, 0), fo("A", 0, 0), fo("INBOX", 0, 0)};
    assert_int_equal(folder_plan_build(g1, 3, NULL, 0, &ns_slash, &ns_slash, &p, &st), 0);
    assert_int_equal(p.npairs, 3);
    assert_string_equal(p.pairs[0].name1, "INBOX");
    assert_int_equal(p.pairs[0].conflict, 0);
    assert_string_equal(p.pairs[1].name1, "inbox");
    assert_string_equal(p.pairs[1].name2, "INBOX");
    assert_int_equal(p.pairs[1].conflict, 1);
    assert_string_equal(p.pairs[2].name1, "A");
    folder_plan_free(&p);
}

static void test_ordering(void **state)
{
    (void)state;
    /* byte order, not locale order: uppercase, then '_', then lowercase;
     * 8-bit bytes last */
    struct folder_plan_folder f1[] = {
        fo("b", 0, 0), fo("_x", 0, 0),    fo("\xc3\xa9", 0, 0), fo("B", 0, 0),
        fo("a", 0, 0), fo("Inbox", 0, 0), fo("A/b", 0, 0),      fo("A", 0, 0),
    };
    static const char *const want[] = {"Inbox", "A", "A/b", "B", "_x", "a", "b", "\xc3\xa9"};
    struct folder_plan p;
    struct status st;
    assert_int_equal(folder_plan_build(f1, 8, NULL, 0, &ns_slash, &ns_slash, &p, &st), 0);
    assert_int_equal(p.npairs, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal(p.pairs[i].name1, want[i]);
        assert_int_equal(p.pairs[i].create, 1);
    }
    assert_string_equal(p.pairs[0].name2, "INBOX");
    folder_plan_free(&p);
}

static void test_build_edge(void **state)
{
    (void)state;
    struct folder_plan p;
    struct status st;
    assert_int_equal(folder_plan_build(NULL, 0, NULL, 0, &ns_slash, &ns_dot, &p, &st), 0);
    assert_int_equal(p.npairs, 0);
    folder_plan_free(&p);

    /* only \Noselect folders */
    struct folder_plan_folder f1[] = {fo("a", 1, 1), fo("b", 1, 0)};
    assert_int_equal(folder_plan_build(f1, 2, NULL, 0, &ns_slash, &ns_dot, &p, &st), 0);
    assert_int_equal(p.npairs, 0);
    folder_plan_free(&p);

    assert_int_equal(folder_plan_build(NULL, 2, NULL, 0, &ns_slash, &ns_dot, &p, &st), -1);
    assert_int_equal(st.code, STATUS_INTERNAL);
    assert_int_equal(p.npairs, 0);
    struct folder_plan_folder bad[] = {fo("a", 0, 0), fo(NULL, 0, 0)};
    assert_int_equal(folder_plan_build(bad, 2, NULL, 0, &ns_slash, &ns_dot, &p, &st), -1);
    assert_int_equal(p.npairs, 0);
    assert_int_equal(folder_plan_build(f1, 2, NULL, 0, NULL, &ns_dot, &p, &st), -1);
}

static void test_build_many(void **state)
{
    (void)state;
    /* a few thousand folders, all mapping to distinct names */
    enum { N = 5000 };
    struct folder_plan_folder *f1 = calloc(N, sizeof *f1);
    struct folder_plan_folder *f2 = calloc(N, sizeof *f2);
    assert_non_null(f1);
    assert_non_null(f2);
    for (size_t i = 0; i < N; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "d%zu/f%zu", i % 50, (N - i) * 7);
        f1[i] = fo(strdup(buf), 0, (int)(i % 2));
        snprintf(buf, sizeof buf, "INBOX.d%zu.f%zu", i % 50, (N - i) * 7);
        f2[i] = fo(strdup(buf), i % 3 == 0, i % 4 == 0);
    }
    struct folder_plan p;
    struct status st;
    assert_int_equal(folder_plan_build(f1, N, f2, N, &ns_slash, &ns_inbox_dot, &p, &st), 0);
    assert_int_equal(p.npairs, N);
    for (size_t i = 0; i < N; i++) {
        if (i > 0)
            assert_true(strcmp(p.pairs[i - 1].name1, p.pairs[i].name1) < 0);
        assert_int_equal(p.pairs[i].conflict, 0);
    }
    for (size_t i = 0; i < N; i++) {
        const struct folder_plan_pair *x = find1(&p, f1[i].name);
        assert_string_equal(x->name2, f2[i].name);
        assert_int_equal(x->create, i % 3 == 0);
        assert_int_equal(x->subscribe, i % 2 == 1 && i % 4 != 0);
    }
    folder_plan_free(&p);
    for (size_t i = 0; i < N; i++) {
        free(f1[i].name);
        free(f2[i].name);
    }
    free(f1);
    free(f2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slash_to_inbox_dot),
        cmocka_unit_test(test_inbox_dot_to_slash),
        cmocka_unit_test(test_other_layouts),
        cmocka_unit_test(test_translate_errors),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_build_reverse),
        cmocka_unit_test(test_conflict),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_build_edge),
        cmocka_unit_test(test_build_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
