/* Unit tests of the per-folder-pair state files: round trip, files that
 * belong to another pair or were damaged, and when a pair may be skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "state.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/imapferry-state-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    return rmdir(dir);
}

static struct state_pair sample(void)
{
    struct state_pair p;
    memset(&p, 0, sizeof p);
    p.rules = 0xfedcba9876543210ULL;
    p.sts[0] = (struct folder_status){1700000000u, 42, 41, 77};
    p.sts[1] = (struct folder_status){4294967295u, 4294967295u, 0, 18446744073709551615ULL};
    p.counts = (struct state_counts){41, 123456789012ULL, 40, 99, 1, 5, 2, 3, 4};
    return p;
}

/* The only file of the pair's directory (there is one per pair). */
static void the_file(char *buf, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    buf[0] = '\0';
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "pair-", 5) == 0)
            snprintf(buf, n, "%s/%s", dir, e->d_name);
    if (d)
        closedir(d);
    assert_true(buf[0] != '\0');
}

static void test_round_trip(void **state)
{
    (void)state;
    struct status st;
    struct state_pair p = sample(), q;
    assert_int_equal(state_load(dir, "INBOX", "INBOX", &q, &st), 1);
    assert_int_equal(state_save(dir, "Sent/Übersicht", "INBOX.Sent", &p, &st), 0);
    assert_int_equal(state_load(dir, "Sent/Übersicht", "INBOX.Sent", &q, &st), 0);
    assert_memory_equal(&p, &q, sizeof p);
    /* Saving again replaces it; no temporary file is left behind. */
    p.sts[0].uidnext = 43;
    assert_int_equal(state_save(dir, "Sent/Übersicht", "INBOX.Sent", &p, &st), 0);
    assert_int_equal(state_load(dir, "Sent/Übersicht", "INBOX.Sent", &q, &st), 0);
    assert_int_equal(q.sts[0].uidnext, 43);
    char path[512];
    the_file(path, sizeof path);
    assert_null(strstr(path, ".tmp"));
    assert_int_equal(state_forget(dir, "Sent/Übersicht", "INBOX.Sent", &st), 0);
    assert_int_equal(state_load(dir, "Sent/Übersicht", "INBOX.Sent", &q, &st), 1);
    assert_int_equal(state_forget(dir, "Sent/Übersicht", "INBOX.Sent", &st), 0);
}

static void rewrite(const char *path, const char *from, const char *to)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *at = strstr(buf, from);
    assert_non_null(at);
    char out[4200];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);
}

static void test_damaged(void **state)
{
    (void)state;
    static const char *const edits[][2] = {
        {"imapferry-state 1", "imapferry-state 2"}, /* another version */
        {"host1 1700000000 ", "host1 -1 "},         /* not a number */
        {"host1 1700000000 ", "host1 4294967296 "}, /* out of range */
        {"end\n", "end\nmore\n"},                   /* trailing data */
        {"end\n", "end"},                           /* cut short */
        {"counts 41", "counts 41 "},                /* extra space */
        {"rules fedc", "rules zedc"},
    };
    struct status st;
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        struct state_pair p = sample(), q;
        assert_int_equal(state_save(dir, "A", "B", &p, &st), 0);
        char path[512];
        the_file(path, sizeof path);
        rewrite(path, edits[i][0], edits[i][1]);
        assert_int_equal(state_load(dir, "A", "B", &q, &st), -1);
        assert_non_null(strstr(st.msg, "not one imapferry wrote"));
        assert_int_equal(q.rules, 0);
        assert_int_equal(state_forget(dir, "A", "B", &st), 0);
    }
}

/* A file under another pair's name (a hash collision, or copied by
 * hand) is refused: the names inside must match. */
static void test_other_pair(void **state)
{
    (void)state;
    struct status st;
    struct state_pair p = sample(), q;
    assert_int_equal(state_save(dir, "X", "Y", &p, &st), 0);
    char from[512], to[600];
    the_file(from, sizeof from);
    assert_int_equal(state_save(dir, "X", "Z", &p, &st), 0);
    assert_int_equal(state_forget(dir, "X", "Z", &st), 0);
    /* Z's file name now holds X->Y's content. */
    assert_int_equal(state_save(dir, "X", "Z", &p, &st), 0);
    DIR *d = opendir(dir);
    struct dirent *e;
    to[0] = '\0';
    while (d && (e = readdir(d)) != NULL) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && strcmp(path, from) != 0)
            snprintf(to, sizeof to, "%s", path);
    }
    closedir(d);
    assert_true(to[0] != '\0');
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(state_load(dir, "X", "Z", &q, &st), -1);
    assert_int_equal(state_forget(dir, "X", "Z", &st), 0);
}

static void test_unchanged(void **state)
{
    (void)state;
    struct state_pair p = sample();
    p.sts[1].modseq = 9;
    struct folder_status now[2] = {p.sts[0], p.sts[1]};
    assert_true(state_unchanged(&p, now, p.rules, 1));
    assert_false(state_unchanged(&p, now, p.rules + 1, 1));
    now[1].uidnext++;
    assert_false(state_unchanged(&p, now, p.rules, 0));
    now[1] = p.sts[1];
    now[0].messages--;
    assert_false(state_unchanged(&p, now, p.rules, 0));
    now[0] = p.sts[0];
    now[0].uidvalidity++;
    assert_false(state_unchanged(&p, now, p.rules, 0));
    now[0] = p.sts[0];
    /* A flag change moves only HIGHESTMODSEQ. */
    now[1].modseq++;
    assert_false(state_unchanged(&p, now, p.rules, 1));
    assert_true(state_unchanged(&p, now, p.rules, 0));
    /* Without CONDSTORE a flag change is invisible: no skip when flags
     * are resynced. */
    p.sts[0].modseq = now[0].modseq = 0;
    now[1] = p.sts[1];
    assert_false(state_unchanged(&p, now, p.rules, 1));
    assert_true(state_unchanged(&p, now, p.rules, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_other_pair),
        cmocka_unit_test(test_unchanged),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
