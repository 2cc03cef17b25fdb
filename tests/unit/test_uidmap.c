/* Unit tests of the UID map and the APPEND journal: round trips, the
 * order of entries, damaged and foreign files, unfinished batches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "journal.h"
#include "uidmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], map_path[128], jpath[128];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/imapferry-uidmap-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(map_path, sizeof map_path, "%s/pair.map", dir);
    snprintf(jpath, sizeof jpath, "%s/pair.journal", dir);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    unlink(map_path);
    unlink(jpath);
    return rmdir(dir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void sorted_and_last_added_wins(void **state)
{
    (void)state;
    struct uidmap m;
    memset(&m, 0, sizeof m);
    for (uint32_t u = 200; u >= 1; u--)
        uidmap_add(&m, u, u + 1000, u & 0x1f);
    uidmap_add(&m, 7, 9999, 3); /* a later word on uid1 7 */
    uidmap_sort(&m);
    assert_int_equal(m.n, 200);
    for (size_t i = 1; i < m.n; i++)
        assert_true(m.e[i - 1].uid1 < m.e[i].uid1);
    assert_int_equal(uidmap_find(&m, 7)->uid2, 9999);
    assert_int_equal(uidmap_find(&m, 200)->uid2, 1200);
    assert_null(uidmap_find(&m, 201));
    assert_null(uidmap_find(&m, 0));
    assert_int_equal(sizeof m.e[0], 12); /* the memory budget per message */
    uidmap_free(&m);
}

static void flags_word(void **state)
{
    (void)state;
    assert_int_equal(uidmap_flags(5, NULL), 5);
    assert_int_equal(uidmap_flags(5, ""), 5);
    assert_int_not_equal(uidmap_flags(5, "$Label1"), 5);
    assert_int_equal(uidmap_flags(5, "$Label1") & 0xff, 5);
    assert_int_not_equal(uidmap_flags(0, "$Label1"), uidmap_flags(0, "$Label2"));
    assert_int_not_equal(uidmap_flags(0x1f, "$Label1 $Label2 $Junk"), UIDMAP_FLAGS_UNKNOWN);
}

static void round_trip(void **state)
{
    (void)state;
    struct uidmap m, back;
    struct status st;
    memset(&m, 0, sizeof m);
    m.uidvalidity1 = 1700000000u;
    m.uidvalidity2 = 4294967295u;
    for (uint32_t u = 1; u <= 2000; u++)
        uidmap_add(&m, u * 3, u, uidmap_flags(u & 0x1f, u % 7 ? NULL : "$Junk"));
    assert_int_equal(uidmap_load(map_path, &back, &st), 1); /* none yet */
    assert_int_equal(uidmap_save(map_path, &m, &st), 0);
    assert_int_equal(uidmap_load(map_path, &back, &st), 0);
    assert_int_equal(back.uidvalidity1, m.uidvalidity1);
    assert_int_equal(back.uidvalidity2, m.uidvalidity2);
    assert_int_equal(back.n, m.n);
    assert_memory_equal(back.e, m.e, m.n * sizeof *m.e);
    uidmap_free(&back);
    uidmap_free(&m);
}

static void damaged_map_is_refused(void **state)
{
    (void)state;
    struct uidmap m, back;
    struct status st;
    memset(&m, 0, sizeof m);
    for (uint32_t u = 1; u <= 10; u++)
        uidmap_add(&m, u, u + 5, 0);
    assert_int_equal(uidmap_save(map_path, &m, &st), 0);
    FILE *f = fopen(map_path, "r+b");
    assert_non_null(f);
    fseek(f, 30, SEEK_SET);
    fputc(0x7f, f); /* one byte of an entry */
    fclose(f);
    assert_int_equal(uidmap_load(map_path, &back, &st), -1);
    assert_non_null(strstr(st.msg, "is not one imapferry wrote"));
    assert_int_equal(back.n, 0);
    /* cut short */
    assert_int_equal(uidmap_save(map_path, &m, &st), 0);
    assert_int_equal(truncate(map_path, 40), 0);
    assert_int_equal(uidmap_load(map_path, &back, &st), -1);
    /* not ours at all */
    write_file(map_path, "uid1 uid2 flags\n1 2 3\n");
    assert_int_equal(uidmap_load(map_path, &back, &st), -1);
    uidmap_free(&m);
}

static void journal_finished_batches(void **state)
{
    (void)state;
    struct journal *j;
    struct status st;
    struct journal_found jf;
    uint32_t u1[3] = {10, 11, 12}, u2[3] = {100, 101, 102};
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 1);
    uidmap_free(&jf.done);
    assert_int_equal(journal_open(jpath, &j, &st), 0);
    assert_int_equal(journal_begin(j, 1, 2, 100, u1, 3, &st), 0);
    assert_int_equal(journal_done(j, u1, u2, 3, &st), 0);
    assert_int_equal(journal_begin(j, 1, 2, 103, u1, 1, &st), 0);
    assert_int_equal(journal_done(j, u1, NULL, 1, &st), 0); /* no APPENDUID */
    journal_close(j);
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.unfinished, 0);
    assert_int_equal(jf.done.n, 3);
    assert_int_equal(uidmap_find(&jf.done, 12)->uid2, 102);
    uidmap_free(&jf.done);
    /* Another UIDVALIDITY on host2: none of its pairs count. */
    assert_int_equal(journal_read(jpath, 1, 3, &jf, &st), 0);
    assert_int_equal(jf.done.n, 0);
    uidmap_free(&jf.done);
    assert_int_equal(journal_remove(jpath, &st), 0);
    assert_int_equal(journal_remove(jpath, &st), 0); /* gone already: fine */
}

static void journal_unfinished_batch(void **state)
{
    (void)state;
    struct status st;
    struct journal_found jf;
    /* Cut after sending the second batch. */
    write_file(jpath, "B 1 2 100 10 11\nA 10:100 11:101\nB 1 2 102 12 13\n");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.unfinished, 1);
    assert_int_equal(jf.uidnext2, 102);
    assert_int_equal(jf.done.n, 2);
    uidmap_free(&jf.done);
    /* A lost session, a reconnect, a finished batch after it: the first
     * one's fate stays unknown. */
    write_file(jpath, "B 1 2 100 10\nB 1 2 100 10\nA 10:100\n");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.unfinished, 1);
    assert_int_equal(jf.uidnext2, 100);
    uidmap_free(&jf.done);
    /* Batches sent ahead of the previous answer: answered in order,
     * the pairs count and nothing is open. */
    write_file(jpath, "B 1 2 100 10 11\nB 1 2 100 12\nA 10:100 11:101\nB 1 2 102 13\n"
                      "A 12:102\nA 13:103\n");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.unfinished, 0);
    assert_int_equal(jf.done.n, 4);
    assert_int_equal(uidmap_find(&jf.done, 13)->uid2, 103);
    uidmap_free(&jf.done);
    /* Cut with two in flight: both open; host2 holds nothing of them
     * below the older one's UIDNEXT. */
    write_file(jpath, "B 1 2 100 10\nA 10:100\nB 1 2 101 11\nB 1 2 101 12\n");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.unfinished, 1);
    assert_int_equal(jf.uidnext2, 101);
    assert_int_equal(jf.done.n, 1);
    uidmap_free(&jf.done);
    /* The second of two in flight answered first cannot be: answers are
     * read in order, so the first A is the older batch's; one stays open. */
    write_file(jpath, "B 1 2 100 10\nB 1 2 100 11\nA 10:100\n");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.unfinished, 1);
    assert_int_equal(jf.uidnext2, 100);
    uidmap_free(&jf.done);
    /* Of two open batches of different UIDVALIDITYs, each answer counts
     * by its own batch's. */
    write_file(jpath, "B 1 9 100 10\nB 1 2 100 11\nA 10:100\nA 11:101\n");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.done.n, 1);
    assert_int_equal(uidmap_find(&jf.done, 11)->uid2, 101);
    assert_null(uidmap_find(&jf.done, 10));
    uidmap_free(&jf.done);
    /* Torn last line. */
    write_file(jpath, "B 1 2 100 10\nA 10:1");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), 0);
    assert_int_equal(jf.unfinished, 1);
    uidmap_free(&jf.done);
    /* Not ours: unusable, and nothing is known. */
    write_file(jpath, "B 1 2 x\n");
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), -1);
    assert_int_equal(jf.unfinished, 1);
    assert_non_null(strstr(st.msg, "is not one imapferry wrote"));
    uidmap_free(&jf.done);
    write_file(jpath, "A 10:100\n"); /* an answer with no batch */
    assert_int_equal(journal_read(jpath, 1, 2, &jf, &st), -1);
    uidmap_free(&jf.done);
}

/* Packed entries come back as added, whatever the UIDs do: ascending by
 * one (the pairing run's case, a few bytes each), jumping both ways, and
 * at the ends of the 32-bit range. */
static void packed_round_trip(void **state)
{
    (void)state;
    struct uidmap_packed p;
    memset(&p, 0, sizeof p);
    struct uidmap want;
    memset(&want, 0, sizeof want);
    for (uint32_t i = 1; i <= 100000; i++) {
        uint32_t flags = i % 7 ? i % 32 : uidmap_flags(1, "Work");
        uidmap_pack(&p, i, 1000 + i, flags);
        uidmap_add(&want, i, 1000 + i, flags);
    }
    /* three bytes an entry and a few for the keywords' hashes */
    assert_true(p.spilled + p.len < 100000 * 4);
    const uint32_t odd[][3] = {{UINT32_MAX, 0, UIDMAP_FLAGS_UNKNOWN},
                               {0, UINT32_MAX, 0},
                               {5, 7, 1},
                               {UINT32_MAX - 1, 1u << 31, 0xffffff00u},
                               {1u << 31, 3, 9}};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        uidmap_pack(&p, odd[i][0], odd[i][1], odd[i][2]);
        uidmap_add(&want, odd[i][0], odd[i][1], odd[i][2]);
    }
    struct uidmap got;
    memset(&got, 0, sizeof got);
    uidmap_add(&got, 42, 43, 44); /* unpack appends */
    /* most of it was set aside in a temporary file */
    assert_non_null(p.spill);
    assert_true(p.len < UIDMAP_SPILL + 16);
    struct status st;
    assert_int_equal(uidmap_unpack(&p, &got, &st), 0);
    assert_null(p.b);
    assert_int_equal(p.n, 0);
    assert_int_equal(got.n, want.n + 1);
    assert_int_equal(got.e[0].uid1, 42);
    for (size_t i = 0; i < want.n; i++) {
        assert_int_equal(got.e[i + 1].uid1, want.e[i].uid1);
        assert_int_equal(got.e[i + 1].uid2, want.e[i].uid2);
        assert_int_equal(got.e[i + 1].flags, want.e[i].flags);
    }
    uidmap_free(&got);
    uidmap_free(&want);
    /* nothing packed: nothing added, nothing to free */
    assert_int_equal(uidmap_unpack(&p, &got, &st), 0);
    assert_int_equal(got.n, 0);
    /* a write to the file that failed: the entries are reported lost */
    for (uint32_t i = 1; i <= 50000; i++)
        uidmap_pack(&p, i, i, 0);
    assert_non_null(p.spill);
    p.broken = 1;
    assert_int_equal(uidmap_unpack(&p, &got, &st), -1);
    assert_null(p.spill);
    uidmap_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sorted_and_last_added_wins),
        cmocka_unit_test(flags_word),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(packed_round_trip),
        cmocka_unit_test(damaged_map_is_refused),
        cmocka_unit_test(journal_finished_batches),
        cmocka_unit_test(journal_unfinished_batch),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
