/* Unit tests of delete_plan: what --delete1, --delete2, --delete2duplicates
 * and --delete2folders may remove, the ceiling and the expunge choice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "delete_plan.h"
#include "rx.h"

#include <stdlib.h>
#include <string.h>

static struct msgid_key k_of(unsigned id)
{
    struct msgid_key k = {id * 0x9e3779b97f4a7c15ULL, id};
    return k;
}

static struct msg_meta meta(uint32_t uid, unsigned key_id, uint32_t size)
{
    struct msg_meta m;
    memset(&m, 0, sizeof m);
    m.uid = uid;
    m.size = size;
    m.key = k_of(key_id);
    return m;
}

static void plan(const struct msg_meta *m1, size_t n1, const struct msg_meta *m2, size_t n2,
                 enum msg_plan_size rule, struct msg_plan *p)
{
    struct status st;
    assert_int_equal(msg_plan_build(m1, n1, m2, n2, rule, p, &st), 0);
}

static void uids_are(const uint32_t *got, size_t n, const uint32_t *want, size_t nwant)
{
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

/* ---- --delete1 ---- */

static void test_delete1_all_copied(void **state)
{
    (void)state;
    /* 10 and 30 are on host2 already, 20 and 40 are copied. */
    struct msg_meta m1[] = {meta(40, 4, 100), meta(10, 1, 100), meta(30, 3, 100), meta(20, 2, 100)};
    struct msg_meta m2[] = {meta(5, 1, 100), meta(6, 3, 100), meta(7, 9, 100)};
    struct msg_plan p;
    plan(m1, 4, m2, 3, MSG_PLAN_SIZE_FIRST, &p);
    uint32_t *u = NULL;
    size_t n = delete_plan_host1(m1, &p, NULL, &u);
    uids_are(u, n, (const uint32_t[]){10, 20, 30, 40}, 4);
    free(u);
    /* A host2-only message never makes a host1 one deletable. */
    msg_plan_free(&p);
}

static void test_delete1_refused_append_stays(void **state)
{
    (void)state;
    struct msg_meta m1[] = {meta(1, 1, 100), meta(2, 2, 100), meta(3, 3, 100)};
    struct msg_meta m2[] = {meta(9, 1, 100)};
    struct msg_plan p;
    plan(m1, 3, m2, 1, MSG_PLAN_SIZE_FIRST, &p);
    assert_int_equal(p.ncopy, 2); /* UIDs 2 and 3 */
    /* UID 3's APPEND was refused. */
    unsigned char copied[] = {1, 0};
    uint32_t *u = NULL;
    size_t n = delete_plan_host1(m1, &p, copied, &u);
    uids_are(u, n, (const uint32_t[]){1, 2}, 2);
    free(u);
    /* Nothing copied, nothing paired: nothing deleted. */
    struct msg_plan empty;
    plan(m1, 3, NULL, 0, MSG_PLAN_SIZE_FIRST, &empty);
    unsigned char none[3] = {0, 0, 0};
    n = delete_plan_host1(m1, &empty, none, &u);
    assert_int_equal(n, 0);
    free(u);
    msg_plan_free(&empty);
    msg_plan_free(&p);
}

static void test_delete1_verified_by_listing(void **state)
{
    (void)state;
    /* Before: host2 has 1. The copy of 2, 3 and 4 partly failed; the
     * listing after it shows 1, 2 and 4: only those are verified. */
    struct msg_meta m1[] = {meta(1, 1, 100), meta(2, 2, 100), meta(3, 3, 100), meta(4, 4, 100)};
    struct msg_meta before[] = {meta(50, 1, 100)};
    struct msg_meta after2[] = {meta(50, 1, 100), meta(51, 2, 100), meta(52, 4, 100)};
    struct msg_plan p, a;
    plan(m1, 4, before, 1, MSG_PLAN_SIZE_FIRST, &p);
    plan(m1, 4, after2, 3, MSG_PLAN_SIZE_FIRST, &a);
    unsigned char copied[3];
    memset(copied, 9, sizeof copied);
    delete_plan_verified(&p, &a, copied);
    assert_int_equal(copied[0], 1);
    assert_int_equal(copied[1], 0);
    assert_int_equal(copied[2], 1);
    uint32_t *u = NULL;
    size_t n = delete_plan_host1(m1, &p, copied, &u);
    uids_are(u, n, (const uint32_t[]){1, 2, 4}, 3);
    free(u);
    msg_plan_free(&a);
    msg_plan_free(&p);
}

static void test_delete1_duplicates_need_each_copy(void **state)
{
    (void)state;
    /* host1 holds the same message twice, host2 once: only one host1
     * copy is paired; the other is deletable only once it is copied. */
    struct msg_meta m1[] = {meta(1, 7, 100), meta(2, 7, 100)};
    struct msg_meta m2[] = {meta(9, 7, 100)};
    struct msg_plan p;
    plan(m1, 2, m2, 1, MSG_PLAN_SIZE_FIRST, &p);
    unsigned char refused[] = {0};
    uint32_t *u = NULL;
    size_t n = delete_plan_host1(m1, &p, refused, &u);
    uids_are(u, n, (const uint32_t[]){1}, 1);
    free(u);
    msg_plan_free(&p);
}

/* ---- --delete2, --delete2duplicates ---- */

static void test_host2_gone_and_dups(void **state)
{
    (void)state;
    /* host1: A once, B twice. host2: A three times, B twice, C twice. */
    struct msg_meta m1[] = {meta(1, 1, 100), meta(2, 2, 100), meta(3, 2, 100)};
    struct msg_meta m2[] = {meta(10, 1, 100), meta(11, 1, 100), meta(12, 1, 100), meta(13, 2, 100),
                            meta(14, 2, 100), meta(15, 3, 100), meta(16, 3, 100)};
    struct msg_plan p;
    plan(m1, 3, m2, 7, MSG_PLAN_SIZE_FIRST, &p);
    struct delete_plan_host2 d;

    /* --delete2 (duplicates on with it): C entirely, A's two extra copies. */
    assert_int_equal(delete_plan_host2(m2, 7, &p, MSG_PLAN_SIZE_FIRST, 1, 1, &d), 4);
    uids_are(d.gone, d.ngone, (const uint32_t[]){15, 16}, 2);
    uids_are(d.dups, d.ndups, (const uint32_t[]){11, 12}, 2);
    delete_plan_host2_free(&d);

    /* The union is exactly what the plan calls host2-only. */
    assert_int_equal(p.only_on_2, 4);

    /* --delete2 --nodelete2duplicates: host1's identities keep every copy. */
    assert_int_equal(delete_plan_host2(m2, 7, &p, MSG_PLAN_SIZE_FIRST, 1, 0, &d), 2);
    uids_are(d.gone, d.ngone, (const uint32_t[]){15, 16}, 2);
    delete_plan_host2_free(&d);

    /* --delete2duplicates alone: C keeps its lowest UID. */
    assert_int_equal(delete_plan_host2(m2, 7, &p, MSG_PLAN_SIZE_FIRST, 0, 1, &d), 3);
    assert_int_equal(d.ngone, 0);
    uids_are(d.dups, d.ndups, (const uint32_t[]){11, 12, 16}, 3);
    delete_plan_host2_free(&d);

    /* Neither: nothing. */
    assert_int_equal(delete_plan_host2(m2, 7, &p, MSG_PLAN_SIZE_FIRST, 0, 0, &d), 0);
    delete_plan_host2_free(&d);
    msg_plan_free(&p);
}

static void test_host2_dups_paired_never(void **state)
{
    (void)state;
    /* The paired copy of A is UID 30, not the lowest: it stays, and the
     * lower unpaired one goes. */
    struct msg_meta m1[] = {meta(1, 1, 100)};
    struct msg_meta m2[] = {meta(30, 1, 100), meta(20, 1, 105)};
    struct msg_plan p;
    plan(m1, 1, m2, 2, MSG_PLAN_SIZE_FIRST, &p);
    assert_int_equal(p.npairs, 1);
    assert_int_equal(m2[p.pairs[0].i2].uid, 30);
    struct delete_plan_host2 d;
    assert_int_equal(delete_plan_host2(m2, 2, &p, MSG_PLAN_SIZE_FIRST, 0, 1, &d), 1);
    uids_are(d.dups, d.ndups, (const uint32_t[]){20}, 1);
    delete_plan_host2_free(&d);
    msg_plan_free(&p);

    /* --noskipsize: another size is another message, not a duplicate. */
    plan(m1, 1, m2, 2, MSG_PLAN_SIZE_STRICT, &p);
    assert_int_equal(delete_plan_host2(m2, 2, &p, MSG_PLAN_SIZE_STRICT, 0, 1, &d), 0);
    delete_plan_host2_free(&d);
    assert_int_equal(delete_plan_host2(m2, 2, &p, MSG_PLAN_SIZE_STRICT, 1, 1, &d), 1);
    uids_are(d.gone, d.ngone, (const uint32_t[]){20}, 1);
    delete_plan_host2_free(&d);
    msg_plan_free(&p);
}

static void test_host2_empty(void **state)
{
    (void)state;
    struct msg_plan p;
    plan(NULL, 0, NULL, 0, MSG_PLAN_SIZE_FIRST, &p);
    struct delete_plan_host2 d;
    assert_int_equal(delete_plan_host2(NULL, 0, &p, MSG_PLAN_SIZE_FIRST, 1, 1, &d), 0);
    delete_plan_host2_free(&d);
    msg_plan_free(&p);
}

/* Merged folders: each pair's plan sees one host1 folder only, so a
 * message of the other folder looks "not on host1"; that is why the
 * engine leaves a merged folder alone. This pins the reason down. */
static void test_merged_folders_look_foreign(void **state)
{
    (void)state;
    struct msg_meta a[] = {meta(1, 1, 100)}; /* host1 folder A */
    struct msg_meta b[] = {meta(1, 2, 100)}; /* host1 folder B, same host2 folder */
    struct msg_meta m2[] = {meta(10, 1, 100), meta(11, 2, 100)};
    struct msg_plan pa, pb;
    plan(a, 1, m2, 2, MSG_PLAN_SIZE_FIRST, &pa);
    plan(b, 1, m2, 2, MSG_PLAN_SIZE_FIRST, &pb);
    struct delete_plan_host2 d;
    assert_int_equal(delete_plan_host2(m2, 2, &pa, MSG_PLAN_SIZE_FIRST, 1, 1, &d), 1);
    uids_are(d.gone, d.ngone, (const uint32_t[]){11}, 1); /* B's message */
    delete_plan_host2_free(&d);
    assert_int_equal(delete_plan_host2(m2, 2, &pb, MSG_PLAN_SIZE_FIRST, 1, 1, &d), 1);
    uids_are(d.gone, d.ngone, (const uint32_t[]){10}, 1); /* A's message */
    delete_plan_host2_free(&d);
    /* The union of both host1 folders sees nothing to delete. */
    struct msg_meta ab[] = {meta(1, 1, 100), meta(2, 2, 100)};
    struct msg_plan pab;
    plan(ab, 2, m2, 2, MSG_PLAN_SIZE_FIRST, &pab);
    assert_int_equal(delete_plan_host2(m2, 2, &pab, MSG_PLAN_SIZE_FIRST, 1, 1, &d), 0);
    delete_plan_host2_free(&d);
    msg_plan_free(&pab);
    msg_plan_free(&pa);
    msg_plan_free(&pb);
}

/* ---- the ceiling and the expunge choice ---- */

static void test_ceiling(void **state)
{
    (void)state;
    assert_true(delete_plan_within_ceiling(0, 0, 10));
    assert_true(delete_plan_within_ceiling(0, 5, 0));
    assert_true(delete_plan_within_ceiling(1, 10, 10));
    assert_false(delete_plan_within_ceiling(2, 10, 10));
    assert_true(delete_plan_within_ceiling(2, 22, 10));
    assert_false(delete_plan_within_ceiling(5, 25, 10));
    assert_false(delete_plan_within_ceiling(1, 2, 10)); /* 50% */
    assert_true(delete_plan_within_ceiling(1, 2, 50));
    assert_true(delete_plan_within_ceiling(7, 7, 100));
    assert_false(delete_plan_within_ceiling(1, 1, 99));
    assert_false(delete_plan_within_ceiling(1, 0, 100)); /* nothing listed, nothing to remove */
    assert_true(delete_plan_within_ceiling(4000000000u, 4000000000u, 100));

    assert_true(delete_plan_folder_allowed(0, 10));
    assert_true(delete_plan_folder_allowed(0, 0));
    assert_false(delete_plan_folder_allowed(1, 10));
    assert_false(delete_plan_folder_allowed(1, 99));
    assert_true(delete_plan_folder_allowed(1000, 100));
}

static void test_expunge_mode(void **state)
{
    (void)state;
    /* --delete1 (or --delete2) alone. */
    assert_int_equal(delete_plan_expunge_mode(1, 1, 0), DELETE_PLAN_UID);
    assert_int_equal(delete_plan_expunge_mode(0, 1, 0), DELETE_PLAN_REFUSE);
    /* With --expunge1/--expunge2 asked for by name. */
    assert_int_equal(delete_plan_expunge_mode(1, 1, 1), DELETE_PLAN_UID);
    assert_int_equal(delete_plan_expunge_mode(0, 1, 1), DELETE_PLAN_PLAIN);
    /* --noexpunge1, --nouidexpunge2: only flagged. */
    assert_int_equal(delete_plan_expunge_mode(1, 0, 0), DELETE_PLAN_FLAG_ONLY);
    assert_int_equal(delete_plan_expunge_mode(0, 0, 0), DELETE_PLAN_FLAG_ONLY);
    /* --nouidexpunge2 --expunge2. */
    assert_int_equal(delete_plan_expunge_mode(1, 0, 1), DELETE_PLAN_PLAIN);
}

/* ---- --delete2folders ---- */

static struct folder fo(const char *name)
{
    struct folder f;
    memset(&f, 0, sizeof f);
    f.name = (char *)name;
    return f;
}

static void names_are(const struct folder *f2, const size_t *idx, size_t n, const char *const *want,
                      size_t nwant)
{
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(f2[idx[i]].name, want[i]);
}

static void free_keep(char **keep, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keep[i]);
    free(keep);
}

static const struct folder_ns ns1 = {"", '/'};
static const struct folder_ns ns2 = {"INBOX.", '.'};

static void test_folders_basic(void **state)
{
    (void)state;
    struct folder f1[] = {fo("INBOX"), fo("Sent"), fo("Archive/2019")};
    struct folder f2[] = {
        fo("INBOX"),     fo("INBOX.Sent"),    fo("INBOX.Archive"), fo("INBOX.Archive.2019"),
        fo("INBOX.Old"), fo("INBOX.Old.Sub"), fo("inbox"),         fo("INBOX.Junk")};
    size_t n2 = sizeof f2 / sizeof *f2;
    struct folder_plan_rules rules;
    memset(&rules, 0, sizeof rules);
    rules.checkfoldersexist = 1;
    rules.subscribe = 1;
    char **keep = NULL;
    size_t nkeep = 0;
    struct status st;
    assert_int_equal(delete_plan_keep(f1, 3, f2, n2, &ns1, &ns2, &rules, &keep, &nkeep, &st), 0);
    size_t *idx = NULL;
    size_t n = delete_plan_folders(f2, n2, '.', (const char *const *)keep, nkeep, NULL, NULL, &idx);
    /* INBOX.Archive is the parent of a kept folder; INBOX in any case stays;
     * the child goes before its parent. */
    names_are(f2, idx, n, (const char *const[]){"INBOX.Old.Sub", "INBOX.Old", "INBOX.Junk"}, 3);
    free(idx);
    free_keep(keep, nkeep);
}

static void test_folders_unselected_and_mapped_stay(void **state)
{
    (void)state;
    /* --exclude Junk and a --regextrans2 rename: the excluded folder's
     * host2 name and the renamed target are both kept. */
    struct folder f1[] = {fo("INBOX"), fo("Junk"), fo("Work")};
    struct folder f2[] = {fo("INBOX"), fo("INBOX.Junk"), fo("INBOX.Job"), fo("INBOX.Work"),
                          fo("Work")};
    struct rx_rule *ex = NULL, *tr = NULL;
    struct status st;
    assert_int_equal(rx_compile_pattern("Junk", &ex, &st), 0);
    assert_int_equal(rx_compile("s/Work/Job/", &tr, &st), 0);
    struct folder_plan_rules rules;
    memset(&rules, 0, sizeof rules);
    rules.checkfoldersexist = 1;
    const struct rx_rule *exl[] = {ex}, *trl[] = {tr};
    rules.exclude = exl;
    rules.nexclude = 1;
    rules.regextrans2 = trl;
    rules.nregextrans2 = 1;
    char **keep = NULL;
    size_t nkeep = 0;
    assert_int_equal(delete_plan_keep(f1, 3, f2, 5, &ns1, &ns2, &rules, &keep, &nkeep, &st), 0);
    size_t *idx = NULL;
    size_t n = delete_plan_folders(f2, 5, '.', (const char *const *)keep, nkeep, NULL, NULL, &idx);
    /* INBOX.Job (Work renamed), INBOX.Junk (excluded, but host1 has it),
     * "Work" (host1's own name) stay; INBOX.Work (the plain translation
     * of Work) stays too: deleting it would be beyond what was asked. */
    assert_int_equal(n, 0);
    free(idx);
    free_keep(keep, nkeep);
    rx_free(ex);
    rx_free(tr);
}

static void test_folders_only_butnot(void **state)
{
    (void)state;
    struct folder f2[] = {fo("INBOX"), fo("INBOX.Junk"), fo("INBOX.Junk.Old"), fo("INBOX.Spam"),
                          fo("INBOX.Keep")};
    const char *keep[] = {"INBOX"};
    struct rx_rule *only = NULL, *butnot = NULL;
    struct status st;
    assert_int_equal(rx_compile("/Junk|Spam/", &only, &st), 0);
    assert_int_equal(rx_compile("/^INBOX\\.Spam$/", &butnot, &st), 0);
    size_t *idx = NULL;
    size_t n = delete_plan_folders(f2, 5, '.', keep, 1, only, NULL, &idx);
    names_are(f2, idx, n, (const char *const[]){"INBOX.Spam", "INBOX.Junk.Old", "INBOX.Junk"}, 3);
    free(idx);
    n = delete_plan_folders(f2, 5, '.', keep, 1, only, butnot, &idx);
    names_are(f2, idx, n, (const char *const[]){"INBOX.Junk.Old", "INBOX.Junk"}, 2);
    free(idx);
    n = delete_plan_folders(f2, 5, '.', keep, 1, NULL, butnot, &idx);
    names_are(f2, idx, n, (const char *const[]){"INBOX.Keep", "INBOX.Junk.Old", "INBOX.Junk"}, 3);
    free(idx);
    /* A child that stays (butnot) keeps its parent. */
    struct rx_rule *old = NULL;
    assert_int_equal(rx_compile("/Old/", &old, &st), 0);
    n = delete_plan_folders(f2, 5, '.', keep, 1, only, old, &idx);
    names_are(f2, idx, n, (const char *const[]){"INBOX.Spam"}, 1);
    free(idx);
    rx_free(old);
    rx_free(only);
    rx_free(butnot);
}

static void test_folders_listed_twice_and_flat(void **state)
{
    (void)state;
    /* A name listed twice goes once; with no separator nothing is a child. */
    struct folder f2[] = {fo("X"), fo("X"), fo("X.Y"), fo("INBOX")};
    const char *keep[] = {"X.Y"};
    size_t *idx = NULL;
    size_t n = delete_plan_folders(f2, 4, 0, keep, 1, NULL, NULL, &idx);
    names_are(f2, idx, n, (const char *const[]){"X"}, 1);
    free(idx);
    n = delete_plan_folders(f2, 4, '.', keep, 1, NULL, NULL, &idx);
    assert_int_equal(n, 0); /* X holds the kept X.Y */
    free(idx);
    n = delete_plan_folders(NULL, 0, '.', NULL, 0, NULL, NULL, &idx);
    assert_int_equal(n, 0);
    free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delete1_all_copied),
        cmocka_unit_test(test_delete1_refused_append_stays),
        cmocka_unit_test(test_delete1_verified_by_listing),
        cmocka_unit_test(test_delete1_duplicates_need_each_copy),
        cmocka_unit_test(test_host2_gone_and_dups),
        cmocka_unit_test(test_host2_dups_paired_never),
        cmocka_unit_test(test_host2_empty),
        cmocka_unit_test(test_merged_folders_look_foreign),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_expunge_mode),
        cmocka_unit_test(test_folders_basic),
        cmocka_unit_test(test_folders_unselected_and_mapped_stay),
        cmocka_unit_test(test_folders_only_butnot),
        cmocka_unit_test(test_folders_listed_twice_and_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
