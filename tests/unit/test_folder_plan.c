#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "folder_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dovecot/Cyrus-style host1 (no prefix, '/') and Courier-style host2. */
static const struct folder_ns ns_slash = {"", '/'};
static const struct folder_ns ns_inbox_dot = {"INBOX.", '.'};
static const struct folder_ns ns_dot = {"", '.'};
static const struct folder_ns ns_flat = {"", 0};

static void tr(const struct folder_ns *ns1, const struct folder_ns *ns2, const char *in,
               const char *want)
{
    struct status st;
    char *out = (char *)1;
    assert_int_equal(folder_plan_translate(in, ns1, ns2, &out, &st), 0);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

/* ---- translation ---- */

static void test_slash_to_inbox_dot(void **state)
{
    (void)state;
    const struct folder_ns *a = &ns_slash, *b = &ns_inbox_dot;
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
    /* under INBOX on host1: prefixed again, as imapsync does */
    tr(a, b, "INBOX/Sub", "INBOX.INBOX.Sub");
    tr(a, b, "INBOX/Sub/Deep", "INBOX.INBOX.Sub.Deep");
    tr(a, b, "inbox/Sub", "INBOX.inbox.Sub");
    tr(a, b, "INBOXes", "INBOX.INBOXes");
    tr(a, b, "&ZeVnLIqe-/&U,BTFw-", "INBOX.&ZeVnLIqe-.&U,BTFw-");
}

static void test_inbox_dot_to_slash(void **state)
{
    (void)state;
    const struct folder_ns *a = &ns_inbox_dot, *b = &ns_slash;
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
    /* '.' without prefix to INBOX.: always prefixed */
    tr(&ns_dot, &ns_inbox_dot, "INBOX.Sub", "INBOX.INBOX.Sub");
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
    struct folder_ns nul = {NULL, '/'};
    tr(&nul, &ns_inbox_dot, "x/y", "INBOX.x.y");
    tr(&ns_inbox_dot, &nul, "INBOX.x.y", "x/y");
    struct folder_ns other = {"Mail/", '/'};
    tr(&ns_slash, &other, "INBOX/Sub", "Mail/INBOX/Sub");
    tr(&ns_slash, &other, "INBOX", "INBOX");
    /* the empty name (what --subfolder1 can leave) is INBOX */
    tr(&ns_slash, &ns_inbox_dot, "", "INBOX");
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

/* ---- helpers for plans ---- */

static struct folder fo(const char *name, int noselect, int subscribed)
{
    struct folder f = {(char *)name, noselect, subscribed, 0};
    return f;
}

static struct folder fr(const char *name, unsigned roles)
{
    struct folder f = {(char *)name, 0, 0, roles};
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

/* imapsync's defaults */
static struct folder_plan_rules defaults(void)
{
    struct folder_plan_rules r;
    memset(&r, 0, sizeof r);
    r.checkfoldersexist = 1;
    r.subscribe = 1;
    return r;
}

/* Asserts the plan's host1 names, in order (NULL-terminated list). */
static void want_names1(const struct folder_plan *p, const char *const *want)
{
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    for (size_t i = 0; i < p->npairs && i < n; i++)
        assert_string_equal(p->pairs[i].name1, want[i]);
    assert_int_equal(p->npairs, n);
}

static void plan_ok(const struct folder *f1, size_t n1, const struct folder *f2, size_t n2,
                    const struct folder_ns *ns1, const struct folder_ns *ns2,
                    const struct folder_plan_rules *r, struct folder_plan *p)
{
    struct status st;
    status_clear(&st);
    int rc = folder_plan_build(f1, n1, f2, n2, ns1, ns2, r, p, &st);
    if (rc != 0)
        fail_msg("folder_plan_build: %s", st.msg);
}

static struct rx_rule *rule(const char *src)
{
    struct rx_rule *r = NULL;
    struct status st;
    status_clear(&st);
    if (rx_compile(src, &r, &st) != 0)
        fail_msg("rx_compile %s: %s", src, st.msg);
    return r;
}

static struct rx_rule *pattern(const char *src)
{
    struct rx_rule *r = NULL;
    struct status st;
    status_clear(&st);
    if (rx_compile_pattern(src, &r, &st) != 0)
        fail_msg("rx_compile_pattern %s: %s", src, st.msg);
    return r;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- raw UTF-8 names ---- */

static void test_utf8_names_become_mutf7(void **state)
{
    (void)state;
    /* A server listing raw UTF-8 (against RFC 3501): host2 gets the modified
     * UTF-7 spelling; bytes that are not UTF-8 stay for the engine to refuse. */
    struct folder f1[] = {fo("INBOX", 0, 0), fo("Entw\xc3\xbcrfe", 0, 0), fo("Bad\xff", 0, 0)};
    struct folder_plan_rules r = defaults();
    struct folder_plan p;
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_inbox_dot, &r, &p);
    assert_string_equal(find1(&p, "Entw\xc3\xbcrfe")->name2, "INBOX.Entw&APw-rfe");
    assert_string_equal(find1(&p, "Bad\xff")->name2, "INBOX.Bad\xff");
    folder_plan_free(&p);
}

/* ---- the default run ---- */

static void test_build(void **state)
{
    (void)state;
    struct folder f1[] = {
        fo("Sent", 0, 1),         fo("Archive", 1, 0),   fo("Archive/2019", 0, 1),
        fo("Entw&APw-rfe", 0, 0), fo("INBOX", 0, 1),     fo("Project X", 0, 1),
        fo("Reports.2023", 0, 0), fo("INBOX/Sub", 0, 0), fo("Trash", 0, 1),
        fo("Junk", 0, 1),
    };
    struct folder f2[] = {
        fo("INBOX", 0, 1),           fo("INBOX.Sent", 0, 1), /* exists and subscribed */
        fo("INBOX.Trash", 0, 0),                             /* exists, not subscribed */
        fo("INBOX.Archive", 1, 0),                           /* only a \Noselect parent */
        fo("INBOX.Project X", 1, 1), fo("INBOX.Other", 0, 0),
        fo("INBOX.Junk", 0, 0),      fo("INBOX.Junk", 0, 1), /* duplicate LIST/LSUB entries merge */
    };
    struct folder_plan p;
    /* NULL rules: imapsync's defaults */
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_inbox_dot, NULL, &p);
    /* \Noselect "Archive" is left out; plain byte order, INBOX not first */
    static const char *const order[] = {
        "Archive/2019", "Entw&APw-rfe", "INBOX", "INBOX/Sub", "Junk",
        "Project X",    "Reports.2023", "Sent",  "Trash",     NULL,
    };
    static const char *const name2[] = {
        "INBOX.Archive.2019", "INBOX.Entw&APw-rfe", "INBOX",      "INBOX.INBOX.Sub", "INBOX.Junk",
        "INBOX.Project X",    "INBOX.Reports_2023", "INBOX.Sent", "INBOX.Trash",
    };
    want_names1(&p, order);
    for (size_t i = 0; i < p.npairs; i++) {
        assert_string_equal(p.pairs[i].name2, name2[i]);
        assert_int_equal(p.pairs[i].leader, i);
        assert_int_equal(p.pairs[i].automapped, 0);
    }
    assert_int_equal(p.nmissing, 0);

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
    struct folder f1[] = {
        fo("INBOX.a.b", 0, 1),
        fo("INBOX.a", 1, 0),
        fo("INBOX.Sent", 0, 1),
        fo("INBOX", 0, 1),
    };
    struct folder f2[] = {fo("inbox", 0, 0), fo("Sent", 0, 1)};
    struct folder_plan p;
    struct folder_plan_rules r = defaults();
    plan_ok(f1, 4, f2, 2, &ns_inbox_dot, &ns_slash, &r, &p);
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

static void test_ordering(void **state)
{
    (void)state;
    /* byte order, not locale order: uppercase, then '_', then lowercase;
     * 8-bit bytes last; INBOX takes its byte place */
    struct folder f1[] = {
        fo("b", 0, 0), fo("_x", 0, 0),    fo("\xc3\xa9", 0, 0), fo("B", 0, 0),
        fo("a", 0, 0), fo("Inbox", 0, 0), fo("A/b", 0, 0),      fo("A", 0, 0),
    };
    static const char *const want[] = {"A", "A/b", "B", "Inbox", "_x", "a", "b", "\xc3\xa9", NULL};
    struct folder_plan p;
    plan_ok(f1, 8, NULL, 0, &ns_slash, &ns_slash, NULL, &p);
    want_names1(&p, want);
    for (size_t i = 0; i < p.npairs; i++)
        assert_int_equal(p.pairs[i].create, 1);
    assert_string_equal(p.pairs[3].name2, "INBOX");
    folder_plan_free(&p);
}

static void test_folderfirst_last(void **state)
{
    (void)state;
    struct folder f1[] = {
        fo("INBOX", 0, 0), fo("A", 0, 0), fo("B", 0, 0),   fo("C", 0, 0),
        fo("D", 0, 0),     fo("E", 0, 0), fo("Big", 0, 0),
    };
    /* "Nope" is not requested: not added. "C" given twice: first place
     * only. "B" in both lists: first wins. */
    const char *first[] = {"Nope", "D", "C", "B", "C"};
    const char *last[] = {"Big", "A", "B", "E"};
    const char *folders[] = {"A", "B", "C", "D", "Big", "INBOX"};
    struct folder_plan_rules r = defaults();
    r.folderfirst = first;
    r.nfolderfirst = N(first);
    r.folderlast = last;
    r.nfolderlast = N(last);
    struct folder_plan p;
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want[] = {"D", "C", "B", "INBOX", "Big", "A", "E", NULL};
    want_names1(&p, want);
    folder_plan_free(&p);

    /* "E" is not requested with these --folder values: not added */
    r.folder = folders;
    r.nfolder = N(folders);
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want1[] = {"D", "C", "B", "INBOX", "Big", "A", NULL};
    want_names1(&p, want1);
    folder_plan_free(&p);

    /* folderfirst alone, all folders */
    r = defaults();
    const char *inbox_first[] = {"INBOX"};
    r.folderfirst = inbox_first;
    r.nfolderfirst = 1;
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want2[] = {"INBOX", "A", "B", "Big", "C", "D", "E", NULL};
    want_names1(&p, want2);
    folder_plan_free(&p);
}

static void test_merge_inbox_spellings(void **state)
{
    (void)state;
    /* Two spellings of INBOX on host1 are one host2 mailbox: both kept and
     * merged; byte order makes "INBOX" the leader. */
    struct folder g1[] = {fo("inbox", 0, 1), fo("A", 0, 0), fo("INBOX", 0, 0)};
    struct folder_plan p;
    plan_ok(g1, 3, NULL, 0, &ns_slash, &ns_slash, NULL, &p);
    static const char *const want[] = {"A", "INBOX", "inbox", NULL};
    want_names1(&p, want);
    assert_string_equal(p.pairs[1].name2, "INBOX");
    assert_string_equal(p.pairs[2].name2, "INBOX");
    assert_int_equal(p.pairs[1].leader, 1);
    assert_int_equal(p.pairs[2].leader, 1);
    /* the leader creates and subscribes for the group (inbox is subscribed) */
    assert_int_equal(p.pairs[1].create, 1);
    assert_int_equal(p.pairs[1].subscribe, 1);
    assert_int_equal(p.pairs[2].create, 0);
    assert_int_equal(p.pairs[2].subscribe, 0);
    assert_int_equal(p.pairs[0].leader, 0);
    folder_plan_free(&p);
}

static void test_build_edge(void **state)
{
    (void)state;
    struct folder_plan p;
    struct status st;
    assert_int_equal(folder_plan_build(NULL, 0, NULL, 0, &ns_slash, &ns_dot, NULL, &p, &st), 0);
    assert_int_equal(p.npairs, 0);
    folder_plan_free(&p);

    /* only \Noselect folders */
    struct folder f1[] = {fo("a", 1, 1), fo("b", 1, 0)};
    assert_int_equal(folder_plan_build(f1, 2, NULL, 0, &ns_slash, &ns_dot, NULL, &p, &st), 0);
    assert_int_equal(p.npairs, 0);
    folder_plan_free(&p);

    assert_int_equal(folder_plan_build(NULL, 2, NULL, 0, &ns_slash, &ns_dot, NULL, &p, &st), -1);
    assert_int_equal(st.code, STATUS_INTERNAL);
    assert_int_equal(p.npairs, 0);
    struct folder bad[] = {fo("a", 0, 0), fo(NULL, 0, 0)};
    assert_int_equal(folder_plan_build(bad, 2, NULL, 0, &ns_slash, &ns_dot, NULL, &p, &st), -1);
    assert_int_equal(p.npairs, 0);
    assert_int_equal(folder_plan_build(f1, 2, NULL, 0, NULL, &ns_dot, NULL, &p, &st), -1);
    assert_int_equal(folder_plan_build(f1, 2, NULL, 0, &ns_slash, &ns_dot, NULL, NULL, &st), -1);
}

static void test_build_many(void **state)
{
    (void)state;
    /* a few thousand folders, all mapping to distinct names */
    enum { NF = 5000 };
    struct folder *f1 = calloc(NF, sizeof *f1);
    struct folder *f2 = calloc(NF, sizeof *f2);
    assert_non_null(f1);
    assert_non_null(f2);
    for (size_t i = 0; i < NF; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "d%zu/f%zu", i % 50, (NF - i) * 7);
        f1[i] = fo(strdup(buf), 0, (int)(i % 2));
        snprintf(buf, sizeof buf, "INBOX.d%zu.f%zu", i % 50, (NF - i) * 7);
        f2[i] = fo(strdup(buf), i % 3 == 0, i % 4 == 0);
    }
    struct folder_plan p;
    plan_ok(f1, NF, f2, NF, &ns_slash, &ns_inbox_dot, NULL, &p);
    assert_int_equal(p.npairs, NF);
    for (size_t i = 0; i < NF; i++) {
        if (i > 0)
            assert_true(strcmp(p.pairs[i - 1].name1, p.pairs[i].name1) < 0);
        assert_int_equal(p.pairs[i].leader, i);
    }
    for (size_t i = 0; i < NF; i++) {
        const struct folder_plan_pair *x = find1(&p, f1[i].name);
        assert_string_equal(x->name2, f2[i].name);
        assert_int_equal(x->create, i % 3 == 0);
        assert_int_equal(x->subscribe, i % 2 == 1 && i % 4 != 0);
    }
    folder_plan_free(&p);
    for (size_t i = 0; i < NF; i++) {
        free(f1[i].name);
        free(f2[i].name);
    }
    free(f1);
    free(f2);
}

/* ---- selection without rules ---- */

static struct folder sel_f1[] = {
    {"INBOX", 0, 1, 0},        {"Sent", 0, 1, 0},         {"Drafts", 0, 0, 0},
    {"Trash", 0, 0, 0},        {"Spam", 0, 0, 0},         {"Archive", 0, 1, 0},
    {"Archive/2019", 0, 0, 0}, {"Archive/2020", 0, 0, 0}, {"Archive2", 0, 0, 0},
    {"Box", 1, 0, 0},          {"Box/x", 0, 0, 0},
};

static void test_select_folder(void **state)
{
    (void)state;
    struct folder_plan p;
    struct folder_plan_rules r = defaults();
    /* verbatim names: "inbox" is not host1's "INBOX" (imapsync compares raw),
     * nor is "sent"; "Box" is listed but \Noselect: dropped, not missing;
     * "Nope" twice is one missing name; missing in plan order */
    const char *folders[] = {"Sent", "Nope", "inbox", "Archive", "Box", "Nope", "Sent"};
    r.folder = folders;
    r.nfolder = N(folders);
    plan_ok(sel_f1, N(sel_f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want[] = {"Archive", "Sent", NULL};
    want_names1(&p, want);
    assert_int_equal(p.nmissing, 2);
    assert_string_equal(p.missing[0], "Nope");
    assert_string_equal(p.missing[1], "inbox");
    folder_plan_free(&p);
    assert_null(p.missing);
    assert_int_equal(p.nmissing, 0);

    /* --nocheckfoldersexist keeps the unlisted names, in byte order */
    r.checkfoldersexist = 0;
    plan_ok(sel_f1, N(sel_f1), NULL, 0, &ns_slash, &ns_inbox_dot, &r, &p);
    static const char *const want2[] = {"Archive", "Nope", "Sent", "inbox", NULL};
    want_names1(&p, want2);
    assert_int_equal(p.nmissing, 0);
    assert_string_equal(find1(&p, "inbox")->name2, "INBOX");
    assert_string_equal(find1(&p, "Nope")->name2, "INBOX.Nope");
    folder_plan_free(&p);
}

static void test_select_subscribed(void **state)
{
    (void)state;
    struct folder_plan p;
    struct folder_plan_rules r = defaults();
    r.subscribed = 1;
    plan_ok(sel_f1, N(sel_f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want[] = {"Archive", "INBOX", "Sent", NULL};
    want_names1(&p, want);
    folder_plan_free(&p);

    /* union with --folder */
    const char *folders[] = {"Trash"};
    r.folder = folders;
    r.nfolder = 1;
    plan_ok(sel_f1, N(sel_f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want2[] = {"Archive", "INBOX", "Sent", "Trash", NULL};
    want_names1(&p, want2);
    folder_plan_free(&p);
}

static void test_select_folderrec(void **state)
{
    (void)state;
    struct folder_plan p;
    struct folder_plan_rules r = defaults();
    /* "Archive" and its subfolders, not "Archive2" */
    const char *rec[] = {"Archive"};
    r.folderrec = rec;
    r.nfolderrec = 1;
    plan_ok(sel_f1, N(sel_f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want[] = {"Archive", "Archive/2019", "Archive/2020", NULL};
    want_names1(&p, want);
    assert_int_equal(p.nmissing, 0);
    folder_plan_free(&p);

    /* with a trailing separator: the names starting with it */
    const char *rec2[] = {"Archive/"};
    r.folderrec = rec2;
    plan_ok(sel_f1, N(sel_f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want2[] = {"Archive/2019", "Archive/2020", NULL};
    want_names1(&p, want2);
    folder_plan_free(&p);

    /* a \Noselect parent: its children only; a missing one: nothing */
    const char *rec3[] = {"Box", "Nope"};
    r.folderrec = rec3;
    r.nfolderrec = 2;
    plan_ok(sel_f1, N(sel_f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want3[] = {"Box/x", NULL};
    want_names1(&p, want3);
    assert_int_equal(p.nmissing, 0);
    folder_plan_free(&p);

    /* '.' separator: a prefix "Archive" must not take "Archive2" */
    struct folder d1[] = {fo("INBOX", 0, 0), fo("INBOX.A", 0, 0), fo("INBOX.A.b", 0, 0),
                          fo("INBOX.AB", 0, 0)};
    const char *rec4[] = {"INBOX.A"};
    r.folderrec = rec4;
    r.nfolderrec = 1;
    plan_ok(d1, N(d1), NULL, 0, &ns_inbox_dot, &ns_slash, &r, &p);
    static const char *const want4[] = {"INBOX.A", "INBOX.A.b", NULL};
    want_names1(&p, want4);
    assert_string_equal(p.pairs[1].name2, "A/b");
    folder_plan_free(&p);
}

/* ---- subfolder1 ---- */

static void test_subfolder1(void **state)
{
    (void)state;
    struct folder f1[] = {
        fo("INBOX", 0, 0),
        fo("Old", 0, 0),
        fo("Old/Sent", 0, 1),
        fo("Old/Sent/2019", 0, 0),
        fo("Older", 0, 0),
        fo("Other", 0, 0),
        fr("Old/Trash", FOLDER_ROLE_TRASH),
    };
    struct folder f2[] = {fr("Deleted", FOLDER_ROLE_TRASH), fo("Sent", 0, 1)};
    struct folder_plan p;
    struct folder_plan_rules r = defaults();
    r.subfolder1 = " Old#; "; /* sanitised to "Old" */
    r.automap = 1;            /* switched off by subfolder1 */
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_inbox_dot, &r, &p);
    static const char *const want[] = {"Old", "Old/Sent", "Old/Sent/2019", "Old/Trash", NULL};
    want_names1(&p, want);
    assert_string_equal(p.pairs[0].name2, "INBOX");
    assert_string_equal(p.pairs[1].name2, "INBOX.Sent");
    assert_string_equal(p.pairs[2].name2, "INBOX.Sent.2019");
    assert_string_equal(p.pairs[3].name2, "INBOX.Trash");
    assert_int_equal(p.pairs[3].automapped, 0);
    folder_plan_free(&p);

    /* neither S nor prefix1+S: exit 21 */
    struct status st;
    status_clear(&st);
    r.subfolder1 = "Gone";
    assert_int_equal(folder_plan_build(f1, N(f1), f2, N(f2), &ns_slash, &ns_slash, &r, &p, &st),
                     -1);
    assert_int_equal(st.code, STATUS_SUBFOLDER);
    assert_non_null(strstr(st.msg, "Gone"));
    assert_int_equal(p.npairs, 0);
    /* as in imapsync, the existence check takes S as given: with a
     * trailing sep1 host1 does not list it */
    status_clear(&st);
    r.subfolder1 = "Old/";
    assert_int_equal(folder_plan_build(f1, N(f1), f2, N(f2), &ns_slash, &ns_slash, &r, &p, &st),
                     -1);
    assert_int_equal(st.code, STATUS_SUBFOLDER);
    /* ...unless it does; then the trailing sep1 changes nothing in naming */
    struct folder t1[] = {fo("Old/", 1, 0), fo("Old/Sent", 0, 0), fo("Old/x/y", 0, 0),
                          fo("Other", 0, 0)};
    plan_ok(t1, N(t1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want2[] = {"Old/Sent", "Old/x/y", NULL};
    want_names1(&p, want2);
    assert_string_equal(p.pairs[0].name2, "Sent");
    assert_string_equal(p.pairs[1].name2, "x/y");
    folder_plan_free(&p);

    /* nothing left after sanitising: no subfolder1 at all */
    r.subfolder1 = " #; ";
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    assert_int_equal(p.npairs, N(f1));
    folder_plan_free(&p);

    /* only prefix1+S exists: --folderrec INBOX.Sub; INBOX.Sub becomes
     * prefix1 alone, i.e. INBOX */
    struct folder d1[] = {fo("INBOX", 0, 0), fo("INBOX.Sub", 0, 0), fo("INBOX.Sub.x", 0, 0),
                          fo("INBOX.Subway", 0, 0)};
    r.subfolder1 = "Sub";
    plan_ok(d1, N(d1), NULL, 0, &ns_inbox_dot, &ns_slash, &r, &p);
    static const char *const want3[] = {"INBOX.Sub", "INBOX.Sub.x", NULL};
    want_names1(&p, want3);
    assert_string_equal(p.pairs[0].name2, "INBOX");
    assert_string_equal(p.pairs[1].name2, "x");
    folder_plan_free(&p);
}

/* ---- f1f2 and automap ---- */

static void sent_onto(const char *host1_name, unsigned roles1)
{
    struct folder f1[] = {fo("INBOX", 0, 0), fr(host1_name, roles1), fo("Misc", 0, 0)};
    /* host2's \Sent folder has a name that is not in the table */
    struct folder f2[] = {fo("INBOX", 0, 0), fr("INBOX.Sent Items", FOLDER_ROLE_SENT),
                          fo("INBOX.Sent", 0, 0), fr("INBOX.Rubbish", FOLDER_ROLE_TRASH)};
    struct folder_plan_rules r = defaults();
    r.automap = 1;
    struct folder_plan p;
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_inbox_dot, &r, &p);
    const struct folder_plan_pair *x = find1(&p, host1_name);
    assert_string_equal(x->name2, "INBOX.Sent Items");
    assert_int_equal(x->automapped, 1);
    assert_int_equal(x->create, 0);
    x = find1(&p, "Misc");
    assert_string_equal(x->name2, "INBOX.Misc");
    assert_int_equal(x->automapped, 0);
    folder_plan_free(&p);
}

static void test_automap_sent_names(void **state)
{
    (void)state;
    /* guessed by name on host1, special on host2 */
    sent_onto("Sent", 0);
    sent_onto("Sent Messages", 0);
    sent_onto("Gesendete Objekte", 0);
    /* special on both sides, whatever host1's name */
    sent_onto("Envoyes", FOLDER_ROLE_SENT);
}

static void test_automap_cases(void **state)
{
    (void)state;
    struct folder_plan p;
    struct folder_plan_rules r = defaults();
    r.automap = 1;

    /* host1 special, host2 guessed (host2 names minus prefix2 too) */
    struct folder a1[] = {fr("Papierkorb", FOLDER_ROLE_TRASH), fo("Spam", 0, 0),
                          fr("Mist", FOLDER_ROLE_JUNK)};
    struct folder a2[] = {fo("INBOX.Deleted Items", 0, 0), fo("INBOX.Junk", 0, 0),
                          fo("INBOX.Trash", 0, 0)};
    plan_ok(a1, N(a1), a2, N(a2), &ns_slash, &ns_inbox_dot, &r, &p);
    /* the first guess in byte order wins a role: "Deleted Items" */
    assert_string_equal(find1(&p, "Papierkorb")->name2, "INBOX.Deleted Items");
    /* both guessed: host2 "INBOX.Junk"; and the host1 attribute: too */
    assert_string_equal(find1(&p, "Spam")->name2, "INBOX.Junk");
    assert_string_equal(find1(&p, "Mist")->name2, "INBOX.Junk");
    assert_int_equal(find1(&p, "Spam")->automapped, 1);
    /* two host1 folders, one host2 folder: merged, Mist leads */
    assert_int_equal(find1(&p, "Spam")->leader, 0);
    assert_int_equal(find1(&p, "Mist")->create, 0);
    folder_plan_free(&p);

    /* a role already assigned: the second host1 folder carrying \Drafts has
     * no attribute role left, and its name guesses nothing either */
    struct folder b1[] = {fr("Entwurf", FOLDER_ROLE_DRAFTS), fr("Brouillons", FOLDER_ROLE_DRAFTS)};
    /* host2: the first in LIST order holds \Drafts; several roles on one
     * folder: the lowest bit (\Archive before \Drafts) counts */
    struct folder b2[] = {fr("X", FOLDER_ROLE_ARCHIVE | FOLDER_ROLE_DRAFTS),
                          fr("Drafts2", FOLDER_ROLE_DRAFTS), fr("Drafts3", FOLDER_ROLE_DRAFTS)};
    plan_ok(b1, N(b1), b2, N(b2), &ns_slash, &ns_slash, &r, &p);
    assert_string_equal(find1(&p, "Entwurf")->name2, "Drafts2");
    assert_string_equal(find1(&p, "Brouillons")->name2, "Brouillons");
    assert_int_equal(find1(&p, "Brouillons")->automapped, 0);
    folder_plan_free(&p);

    /* guessed on host1 with the prefix taken out; nothing on host2 for
     * the role: translation as usual */
    struct folder c1[] = {fo("INBOX.Drafts", 0, 0), fo("INBOX.Archives", 0, 0)};
    struct folder c2[] = {fr("Archive", FOLDER_ROLE_ALL), fo("Archive", 0, 0)};
    plan_ok(c1, N(c1), c2, N(c2), &ns_inbox_dot, &ns_slash, &r, &p);
    assert_string_equal(find1(&p, "INBOX.Drafts")->name2, "Drafts");
    assert_int_equal(find1(&p, "INBOX.Drafts")->automapped, 0);
    /* host2 "Archive" is \All by attribute but guessed \Archive by name */
    assert_string_equal(find1(&p, "INBOX.Archives")->name2, "Archive");
    assert_int_equal(find1(&p, "INBOX.Archives")->automapped, 1);
    folder_plan_free(&p);

    /* automap off: no mapping */
    r.automap = 0;
    plan_ok(a1, N(a1), a2, N(a2), &ns_slash, &ns_inbox_dot, &r, &p);
    assert_string_equal(find1(&p, "Papierkorb")->name2, "INBOX.Papierkorb");
    folder_plan_free(&p);
}

static void test_f1f2(void **state)
{
    (void)state;
    struct folder f1[] = {fo("Sent", 0, 0), fo("Files", 0, 0), fo("Files/x", 0, 0),
                          fo("a=b", 0, 0)};
    struct folder f2[] = {fr("Gesendet", FOLDER_ROLE_SENT)};
    const char *map[] = {"Sent=Ausgang=alt", "Files=Files_renamed_by_imapsync", "a=b=c",
                         "Files=Later wins"};
    struct folder_plan_rules r = defaults();
    r.f1f2 = map;
    r.nf1f2 = N(map);
    r.automap = 1;
    struct folder_plan p;
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_inbox_dot, &r, &p);
    /* f1f2 beats automap; split on the first '='; B used as is */
    assert_string_equal(find1(&p, "Sent")->name2, "Ausgang=alt");
    assert_int_equal(find1(&p, "Sent")->automapped, 2);
    assert_string_equal(find1(&p, "Files")->name2, "Later wins");
    /* not for subfolders */
    assert_string_equal(find1(&p, "Files/x")->name2, "INBOX.Files.x");
    assert_int_equal(find1(&p, "Files/x")->automapped, 0);
    /* "a=b=c" maps host1 "a", not "a=b" */
    assert_string_equal(find1(&p, "a=b")->name2, "INBOX.a=b");
    folder_plan_free(&p);

    const char *bad[] = {"Sent=X", "NoEquals"};
    r.f1f2 = bad;
    r.nf1f2 = 2;
    struct status st;
    status_clear(&st);
    assert_int_equal(folder_plan_build(f1, N(f1), f2, N(f2), &ns_slash, &ns_slash, &r, &p, &st),
                     -1);
    assert_int_equal(st.code, STATUS_USAGE);
    assert_non_null(strstr(st.msg, "NoEquals"));
    assert_int_equal(p.npairs, 0);
}

/* ---- create and subscribe ---- */

static void test_create_subscribe(void **state)
{
    (void)state;
    struct folder f1[] = {fo("A", 0, 1), fo("B", 0, 0), fo("C", 0, 1), fo("D", 0, 0)};
    struct folder f2[] = {fo("A", 0, 1), fo("B", 0, 0), fo("C", 1, 0)};
    struct folder_plan_rules r = defaults();
    struct folder_plan p;
    /* --subscribe (default): follow host1, skip what host2 has */
    plan_ok(f1, 4, f2, 3, &ns_slash, &ns_slash, &r, &p);
    static const int create[] = {0, 0, 1, 1};
    static const int sub[] = {0, 0, 1, 0};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(p.pairs[i].create, create[i]);
        assert_int_equal(p.pairs[i].subscribe, sub[i]);
    }
    folder_plan_free(&p);

    /* --subscribeall: everything host2 has not subscribed */
    r.subscribeall = 1;
    plan_ok(f1, 4, f2, 3, &ns_slash, &ns_slash, &r, &p);
    static const int suball[] = {0, 1, 1, 1};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(p.pairs[i].subscribe, suball[i]);
    folder_plan_free(&p);

    /* --nosubscribe: nothing */
    r.subscribeall = 0;
    r.subscribe = 0;
    plan_ok(f1, 4, f2, 3, &ns_slash, &ns_slash, &r, &p);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(p.pairs[i].subscribe, 0);
        assert_int_equal(p.pairs[i].create, create[i]);
    }
    folder_plan_free(&p);
}

/* ---- rules (rx) ---- */

static void test_select_rules(void **state)
{
    (void)state;
    struct folder_plan p;
    struct folder_plan_rules r = defaults();
    /* script 2: --exclude "Trash|Spam|Drafts" --folder Sent */
    struct rx_rule *ex = pattern("Trash|Spam|Drafts");
    const struct rx_rule *exl[] = {ex};
    const char *sent[] = {"Sent"};
    struct folder s2[] = {fo("INBOX", 0, 0), fo("Sent", 0, 0), fo("Drafts", 0, 0),
                          fo("Trash", 0, 0), fo("Spam", 0, 0), fo("Archive", 0, 0)};
    r.exclude = exl;
    r.nexclude = 1;
    r.folder = sent;
    r.nfolder = 1;
    plan_ok(s2, N(s2), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const only_sent[] = {"Sent", NULL};
    want_names1(&p, only_sent);
    folder_plan_free(&p);

    /* exclude alone: the rest */
    r.folder = NULL;
    r.nfolder = 0;
    plan_ok(s2, N(s2), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const rest[] = {"Archive", "INBOX", "Sent", NULL};
    want_names1(&p, rest);
    folder_plan_free(&p);

    /* --folder Sent --exclude Sent: nothing, and nothing missing */
    struct rx_rule *exs = pattern("^Sent$");
    const struct rx_rule *exsl[] = {exs};
    r.exclude = exsl;
    r.folder = sent;
    r.nfolder = 1;
    plan_ok(s2, N(s2), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    assert_int_equal(p.npairs, 0);
    assert_int_equal(p.nmissing, 0);
    folder_plan_free(&p);

    /* an excluded missing name is not reported either */
    const char *nope[] = {"Nope"};
    struct rx_rule *exn = pattern("N");
    const struct rx_rule *exnl[] = {exn};
    r.exclude = exnl;
    r.folder = nope;
    plan_ok(s2, N(s2), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    assert_int_equal(p.npairs, 0);
    assert_int_equal(p.nmissing, 0);
    folder_plan_free(&p);

    /* include alone: only its matches (unanchored, case-sensitive) */
    struct rx_rule *in = pattern("a");
    const struct rx_rule *inl[] = {in};
    r = defaults();
    r.include = inl;
    r.ninclude = 1;
    plan_ok(s2, N(s2), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const with_a[] = {"Drafts", "Spam", "Trash", NULL};
    want_names1(&p, with_a);
    folder_plan_free(&p);

    /* include adds to --folder; exclude then removes from both */
    r.folder = sent;
    r.nfolder = 1;
    r.exclude = exl;
    r.nexclude = 1;
    plan_ok(s2, N(s2), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    want_names1(&p, only_sent);
    folder_plan_free(&p);
    r.nexclude = 0;
    plan_ok(s2, N(s2), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const union_[] = {"Drafts", "Sent", "Spam", "Trash", NULL};
    want_names1(&p, union_);
    folder_plan_free(&p);

    /* script 1's exclude, case-insensitive on words */
    struct rx_rule *ex1 = pattern("(?i)\\b(Junk|Spam|Trash)\\b");
    const struct rx_rule *ex1l[] = {ex1};
    struct folder s1[] = {fo("INBOX", 0, 0), fo("junk", 0, 0), fo("Old Spam", 0, 0),
                          fo("Trashy", 0, 0), fo("Work/TRASH", 0, 0)};
    r = defaults();
    r.exclude = ex1l;
    r.nexclude = 1;
    plan_ok(s1, N(s1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const s1want[] = {"INBOX", "Trashy", NULL};
    want_names1(&p, s1want);
    folder_plan_free(&p);

    rx_free(ex);
    rx_free(exs);
    rx_free(exn);
    rx_free(in);
    rx_free(ex1);
}

static void test_regextrans2_script1(void **state)
{
    (void)state;
    static const char *const src[] = {
        "s,:,-,g",
        "s,\\*,,g",
        "s,\\\",',g",
        "s,\\s+(?=/|$),,g",
        "s,^(Briefcase|Calendar|Contacts|Emailed Contacts|Notebook|Tasks)(?=/|$), $1 Folder,ig",
        "s,\\\",-,g",
        "s,&AAo-|&AA0ACg-|&AA0ACgANAAo-(?=/|$),,g",
    };
    struct rx_rule *rules[N(src)];
    for (size_t i = 0; i < N(src); i++)
        rules[i] = rule(src[i]);
    struct folder f1[] = {fo("Contacts/Sub", 0, 0), fo("Foo: Bar /Baz ", 0, 0),
                          fo("Inbox/x*y", 0, 0), fo("tasks", 0, 0), fo("Say \"hi\"", 0, 0)};
    struct folder_plan_rules r = defaults();
    r.regextrans2 = (const struct rx_rule *const *)rules;
    r.nregextrans2 = N(src);
    struct folder_plan p;
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    assert_string_equal(find1(&p, "Contacts/Sub")->name2, " Contacts Folder/Sub");
    assert_string_equal(find1(&p, "Foo: Bar /Baz ")->name2, "Foo- Bar/Baz");
    assert_string_equal(find1(&p, "Inbox/x*y")->name2, "Inbox/xy");
    assert_string_equal(find1(&p, "tasks")->name2, " tasks Folder");
    assert_string_equal(find1(&p, "Say \"hi\"")->name2, "Say 'hi'");
    folder_plan_free(&p);
    for (size_t i = 0; i < N(src); i++)
        rx_free(rules[i]);
}

static void test_regextrans2_script2(void **state)
{
    (void)state;
    struct rx_rule *rl = rule("s/Sent/Sent Items/");
    const struct rx_rule *rll[] = {rl};
    struct folder f1[] = {fo("INBOX", 0, 0), fo("Sent", 0, 0)};
    struct folder f2[] = {fo("INBOX", 0, 0), fo("INBOX.Sent Items", 0, 0)};
    const char *sent[] = {"Sent"};
    struct folder_plan_rules r = defaults();
    r.folder = sent;
    r.nfolder = 1;
    r.regextrans2 = rll;
    r.nregextrans2 = 1;
    struct folder_plan p;
    /* the rule sees host2's form "INBOX.Sent" */
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_inbox_dot, &r, &p);
    assert_int_equal(p.npairs, 1);
    assert_string_equal(p.pairs[0].name2, "INBOX.Sent Items");
    assert_int_equal(p.pairs[0].create, 0);
    folder_plan_free(&p);

    /* regextrans2 does not apply to f1f2 or automap names */
    const char *map[] = {"Sent=Sent"};
    r.f1f2 = map;
    r.nf1f2 = 1;
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_inbox_dot, &r, &p);
    assert_string_equal(p.pairs[0].name2, "Sent");
    folder_plan_free(&p);
    rx_free(rl);
}

static void test_regextrans2_merge(void **state)
{
    (void)state;
    /* everything into INBOX but Keep */
    struct rx_rule *rl = rule("s/^(?!Keep).*/INBOX/");
    const struct rx_rule *rll[] = {rl};
    struct folder f1[] = {fo("B", 0, 0), fo("A", 0, 1), fo("Keep", 0, 0), fo("INBOX", 0, 0)};
    struct folder f2[] = {fo("INBOX", 0, 0)};
    struct folder_plan_rules r = defaults();
    r.regextrans2 = rll;
    r.nregextrans2 = 1;
    struct folder_plan p;
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_slash, &r, &p);
    static const char *const want[] = {"A", "B", "INBOX", "Keep", NULL};
    want_names1(&p, want);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(p.pairs[i].name2, "INBOX");
        assert_int_equal(p.pairs[i].leader, 0);
        assert_int_equal(p.pairs[i].create, i == 0);
        /* A is subscribed on host1: the group subscribes through its leader */
        assert_int_equal(p.pairs[i].subscribe, i == 0);
    }
    assert_int_equal(p.pairs[3].leader, 3);
    assert_int_equal(p.pairs[3].create, 1);
    folder_plan_free(&p);

    /* host2 has INBOX: no create for the group */
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_slash, &r, &p);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(p.pairs[i].create, 0);
    assert_int_equal(p.pairs[0].subscribe, 1);
    folder_plan_free(&p);
    rx_free(rl);

    /* two host1 folders to one name through the translation + rule */
    struct rx_rule *r2 = rule("s/\\.2019$//");
    const struct rx_rule *r2l[] = {r2};
    struct folder g1[] = {fo("Arch", 0, 0), fo("Arch/2019", 0, 0)};
    r.regextrans2 = r2l;
    plan_ok(g1, 2, NULL, 0, &ns_slash, &ns_inbox_dot, &r, &p);
    assert_string_equal(p.pairs[0].name2, "INBOX.Arch");
    assert_string_equal(p.pairs[1].name2, "INBOX.Arch");
    assert_int_equal(p.pairs[1].leader, 0);
    assert_int_equal(p.pairs[0].create, 1);
    assert_int_equal(p.pairs[1].create, 0);
    folder_plan_free(&p);
    rx_free(r2);
}

static void test_regextrans2_errors(void **state)
{
    (void)state;
    struct rx_rule *rl = rule("s/^Drop$//");
    const struct rx_rule *rll[] = {rl};
    struct folder f1[] = {fo("A", 0, 0), fo("Drop", 0, 0)};
    struct folder_plan_rules r = defaults();
    r.regextrans2 = rll;
    r.nregextrans2 = 1;
    struct folder_plan p;
    struct status st;
    status_clear(&st);
    assert_int_equal(folder_plan_build(f1, 2, NULL, 0, &ns_slash, &ns_slash, &r, &p, &st), -1);
    assert_int_equal(st.code, STATUS_USAGE);
    assert_non_null(strstr(st.msg, "Drop"));
    assert_int_equal(p.npairs, 0);
    assert_null(p.pairs);
    rx_free(rl);
}

static void test_subfolder2(void **state)
{
    (void)state;
    struct folder f1[] = {fo("INBOX", 0, 0), fo("Sent", 0, 0), fo("A/b", 0, 0)};
    struct folder f2[] = {fr("INBOX.Sent Items", FOLDER_ROLE_SENT)};
    struct folder_plan_rules r = defaults();
    r.subfolder2 = " Old Mail# ";
    r.automap = 1; /* switched off by subfolder2 */
    struct rx_rule *user = rule("s/b$/B/");
    const struct rx_rule *ul[] = {user};
    r.regextrans2 = ul;
    r.nregextrans2 = 1;
    struct folder_plan p;
    /* prefix2 "INBOX." with its '.' */
    plan_ok(f1, N(f1), f2, N(f2), &ns_slash, &ns_inbox_dot, &r, &p);
    assert_string_equal(find1(&p, "INBOX")->name2, "INBOX.Old Mail.INBOX");
    assert_string_equal(find1(&p, "Sent")->name2, "INBOX.Old Mail.Sent");
    assert_int_equal(find1(&p, "Sent")->automapped, 0);
    /* the user's rules come after */
    assert_string_equal(find1(&p, "A/b")->name2, "INBOX.Old Mail.A.B");
    folder_plan_free(&p);

    /* no prefix2 */
    plan_ok(f1, N(f1), NULL, 0, &ns_dot, &ns_slash, &r, &p);
    assert_string_equal(find1(&p, "INBOX")->name2, "Old Mail/INBOX");
    assert_string_equal(find1(&p, "Sent")->name2, "Old Mail/Sent");
    folder_plan_free(&p);

    /* rule 3: a subfolder2 given with the prefix is not prefixed twice */
    r.nregextrans2 = 0;
    r.subfolder2 = "INBOX.Old";
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_inbox_dot, &r, &p);
    assert_string_equal(find1(&p, "Sent")->name2, "INBOX.Old.Sent");
    assert_string_equal(find1(&p, "INBOX")->name2, "INBOX.Old.INBOX");
    folder_plan_free(&p);
    /* the prefix is quoted: "INBOX.INBOXx" is not the prefix twice (imapsync
     * would read the '.' as any character and give "INBOX.Old.Sent") */
    r.subfolder2 = "INBOXxOld";
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &ns_inbox_dot, &r, &p);
    assert_string_equal(find1(&p, "Sent")->name2, "INBOX.INBOXxOld.Sent");
    folder_plan_free(&p);

    /* a prefix holding ',' and a subfolder holding '/' and '.' */
    struct folder_ns comma = {"a,b.", '.'};
    r.subfolder2 = "x/y.z";
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &comma, &r, &p);
    assert_string_equal(find1(&p, "Sent")->name2, "a,b.x/y.z.Sent");
    assert_string_equal(find1(&p, "INBOX")->name2, "a,b.x/y.z.INBOX");
    folder_plan_free(&p);
    /* rule-syntax bytes in the prefix stay literal on both sides */
    struct folder_ns wild = {"a,b#!|$@\\E(.", '.'};
    plan_ok(f1, N(f1), NULL, 0, &ns_slash, &wild, &r, &p);
    assert_string_equal(find1(&p, "Sent")->name2, "a,b#!|$@\\E(.x/y.z.Sent");
    assert_string_equal(find1(&p, "INBOX")->name2, "a,b#!|$@\\E(.x/y.z.INBOX");
    folder_plan_free(&p);
    rx_free(user);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slash_to_inbox_dot),
        cmocka_unit_test(test_inbox_dot_to_slash),
        cmocka_unit_test(test_other_layouts),
        cmocka_unit_test(test_translate_errors),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_utf8_names_become_mutf7),
        cmocka_unit_test(test_build_reverse),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_folderfirst_last),
        cmocka_unit_test(test_merge_inbox_spellings),
        cmocka_unit_test(test_build_edge),
        cmocka_unit_test(test_build_many),
        cmocka_unit_test(test_select_folder),
        cmocka_unit_test(test_select_subscribed),
        cmocka_unit_test(test_select_folderrec),
        cmocka_unit_test(test_subfolder1),
        cmocka_unit_test(test_automap_sent_names),
        cmocka_unit_test(test_automap_cases),
        cmocka_unit_test(test_f1f2),
        cmocka_unit_test(test_create_subscribe),
        cmocka_unit_test(test_select_rules),
        cmocka_unit_test(test_regextrans2_script1),
        cmocka_unit_test(test_regextrans2_script2),
        cmocka_unit_test(test_regextrans2_merge),
        cmocka_unit_test(test_regextrans2_errors),
        cmocka_unit_test(test_subfolder2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
