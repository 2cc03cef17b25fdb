/* Unit tests of the UID map a sync leaves (pairmap): built chunk by chunk
 * while host1 is listed in chunks, it is the map one plan of the whole
 * listing gives, with the old map's kept pairs, both flag rules and the
 * APPENDUIDs; and the old map shrinks as the chunks go. What VANISHED
 * names leaves the map, and only what the map pairs counts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pairmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static char kw_label[] = "$Label1", kw_work[] = "Work", kw_both[] = "$Label1 Work";
static char *const words[] = {NULL, kw_label, kw_work, kw_both};

static struct msg_meta meta(uint32_t uid, unsigned key_id, uint64_t *seed)
{
    struct msg_meta m;
    memset(&m, 0, sizeof m);
    m.uid = uid;
    m.size = 100 + key_id;
    m.key = (struct msgid_key){key_id * 0x9e3779b97f4a7c15ULL, key_id};
    m.sysflags = (uint8_t)(rnd(seed) % 32);
    m.kw = kwtab_intern(words[rnd(seed) % 4]);
    return m;
}

/* Two sides of one folder: host1's messages with unique identities, host2
 * holding copies of some (a few with other bytes, which the old map
 * pairs), plus messages of its own; old maps host1 UIDs to host2's. */
struct sides {
    struct msg_meta *m1, *m2;
    size_t n1, n2;
    struct uidmap old;
};

static void make_sides(struct sides *s, size_t n1, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->m1 = calloc(n1 + 1, sizeof *s->m1);
    s->m2 = calloc(2 * n1 + 1, sizeof *s->m2);
    assert_non_null(s->m1);
    assert_non_null(s->m2);
    s->n1 = n1;
    uint32_t uid2 = 1;
    for (size_t i = 0; i < n1; i++) {
        s->m1[i] = meta((uint32_t)(i * 3 + 2), (unsigned)i, &seed);
        unsigned r = (unsigned)(rnd(&seed) % 8);
        if (r == 0) /* host2 has its own message here */
            s->m2[s->n2++] = meta(uid2++, (unsigned)(n1 + i), &seed);
        if (r < 5) { /* a copy, in host1's order as a first copy leaves it */
            s->m2[s->n2] = meta(uid2++, (unsigned)i, &seed);
            if (r == 1) /* the copy the server stored with other bytes */
                s->m2[s->n2].size++;
            if (r != 2) /* r == 2: a copy the old map does not know */
                uidmap_add(&s->old, s->m1[i].uid, s->m2[s->n2].uid, 0);
            s->n2++;
        }
    }
    /* A host1 message expunged since: its entry above every UID listed. */
    uidmap_add(&s->old, (uint32_t)(n1 * 3 + 10), uid2 + 100, 0);
    uidmap_sort(&s->old);
}

static void free_sides(struct sides *s)
{
    free(s->m1);
    free(s->m2);
    uidmap_free(&s->old);
}

static void open_pm(struct pairmap *pm, const struct sides *s)
{
    memset(pm, 0, sizeof *pm);
    pm->uidvalidity1 = 11;
    pm->uidvalidity2 = 22;
    if (s->old.n) {
        pm->old.e = malloc(s->old.n * sizeof *s->old.e);
        assert_non_null(pm->old.e);
        memcpy(pm->old.e, s->old.e, s->old.n * sizeof *s->old.e);
        pm->old.n = pm->old.cap = s->old.n;
        pm->have_old = 1;
    }
}

/* The copy of plan's messages as copy_messages reports it: APPENDUIDs
 * from the hooks, except that when lose, the copies of host1 UIDs that
 * are multiples of 7 are stored without one (no UIDPLUS for them). */
static void copy_plan(struct pairmap *pm, const struct msg_meta *m1, const struct msg_plan *p,
                      int lose)
{
    struct copy_hooks h = pairmap_hooks(pm, 22, 100000);
    for (size_t i = 0; i < p->ncopy; i++) {
        const struct msg_meta *m = &m1[p->copy[i]];
        uint32_t uid2 = 100000 + m->uid;
        h.after(h.ctx, &m, 1, 1, lose && m->uid % 7 == 0 ? NULL : &uid2);
    }
}

static void whole_map(const struct sides *s, enum msg_plan_size rule, int resync, int lose,
                      struct pairmap *pm)
{
    open_pm(pm, s);
    struct msg_plan p;
    struct status st;
    assert_int_equal(msg_plan_build(s->m1, s->n1, s->m2, s->n2, rule, &p, &st), 0);
    pairmap_keep_pairs(pm, s->m1, s->m2, s->n2, &p);
    copy_plan(pm, s->m1, &p, lose);
    pairmap_from_plan(pm, s->m1, s->m2, &p, resync);
    msg_plan_free(&p);
}

/* As sync_messages goes through a folder listed in chunks. */
static void chunked_map(const struct sides *s, enum msg_plan_size rule, int resync, int lose,
                        size_t chunk, struct pairmap *pm)
{
    open_pm(pm, s);
    struct msg_plan_index ix;
    struct status st;
    assert_int_equal(msg_plan_index_init(&ix, s->m2, s->n2, rule, &st), 0);
    struct msg_plan p;
    memset(&p, 0, sizeof p);
    for (size_t lo = 0; lo < s->n1; lo += chunk) {
        size_t n = s->n1 - lo < chunk ? s->n1 - lo : chunk;
        const struct msg_meta *m1 = s->m1 + lo;
        msg_plan_free(&p);
        assert_int_equal(msg_plan_chunk(&ix, m1, n, &p, &st), 0);
        p.only_on_2 = msg_plan_index_unpaired(&ix, &p.only2);
        if (pairmap_keep_pairs(pm, m1, s->m2, s->n2, &p))
            msg_plan_index_claim(&ix, &p);
        free(p.only2);
        p.only2 = NULL;
        p.only_on_2 = 0;
        copy_plan(pm, m1, &p, lose);
        size_t before = pm->old.n;
        pairmap_add_plan(pm, m1, s->m2, &p, resync);
        /* old keeps only what later chunks may still ask for */
        uint32_t top = m1[n - 1].uid;
        assert_true(pm->old.n <= before);
        assert_true(pm->old.n == 0 || pm->old.e[0].uid1 > top);
        assert_true(pm->old.cap <= 2 * pm->old.n || pm->old.n == 0);
    }
    msg_plan_free(&p);
    msg_plan_index_free(&ix);
    pairmap_end_plan(pm);
}

static void same_map(struct pairmap *a, struct pairmap *b)
{
    uidmap_sort(&a->next);
    uidmap_sort(&b->next);
    assert_int_equal(a->next_ok, b->next_ok);
    assert_int_equal(a->next.uidvalidity1, 11);
    assert_int_equal(a->next.uidvalidity2, 22);
    assert_int_equal(b->next.uidvalidity1, 11);
    assert_int_equal(b->next.uidvalidity2, 22);
    assert_int_equal(a->next.n, b->next.n);
    for (size_t i = 0; i < a->next.n; i++) {
        assert_int_equal(a->next.e[i].uid1, b->next.e[i].uid1);
        assert_int_equal(a->next.e[i].uid2, b->next.e[i].uid2);
        assert_int_equal(a->next.e[i].flags, b->next.e[i].flags);
    }
    assert_int_equal(a->old.n, 0);
    assert_int_equal(b->old.n, 0);
    assert_int_equal(b->fresh.n, 0);
}

static void check(size_t n1, size_t chunk, enum msg_plan_size rule, int resync, int lose,
                  uint64_t seed)
{
    struct sides s;
    make_sides(&s, n1, seed);
    struct pairmap a, b;
    whole_map(&s, rule, resync, lose, &a);
    chunked_map(&s, rule, resync, lose, chunk, &b);
    same_map(&a, &b);
    assert_int_equal(a.next_ok, !lose);
    /* every host1 message is in it: copied or paired */
    if (!lose && rule == MSG_PLAN_SIZE_STRICT)
        assert_int_equal(b.next.n, n1);
    pairmap_close(&a);
    pairmap_close(&b);
    free_sides(&s);
}

static void test_chunks_make_the_whole_map(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++)
        check(1 + (size_t)(seed % 29), 1 + (size_t)(seed % 6),
              seed % 2 ? MSG_PLAN_SIZE_STRICT : MSG_PLAN_SIZE_FIRST, (int)(seed / 2 % 2), 0, seed);
    check(20000, 777, MSG_PLAN_SIZE_STRICT, 1, 0, 99);
    check(20000, 4096, MSG_PLAN_SIZE_FIRST, 0, 0, 98);
}

static void test_kept_pairs_and_flags(void **state)
{
    (void)state;
    /* host1 UID 2 has a copy with other bytes (UID 1), UID 5 a plain copy
     * (UID 2), UID 8 none: under --noskipsize the old map keeps the first
     * pair, in a chunk of its own. */
    uint64_t seed = 5;
    struct sides s;
    memset(&s, 0, sizeof s);
    struct msg_meta m1[] = {meta(2, 1, &seed), meta(5, 2, &seed), meta(8, 3, &seed)};
    struct msg_meta m2[] = {meta(1, 1, &seed), meta(2, 2, &seed)};
    m2[0].size++;
    m1[1].sysflags = 1;
    m1[1].kw = kwtab_intern(kw_work);
    m2[1].sysflags = 4;
    m2[1].kw = kwtab_intern(NULL);
    s.m1 = m1;
    s.n1 = 3;
    s.m2 = m2;
    s.n2 = 2;
    uidmap_add(&s.old, 2, 1, 0);
    uidmap_add(&s.old, 5, 2, 0);
    for (int resync = 0; resync < 2; resync++) {
        struct pairmap pm;
        chunked_map(&s, MSG_PLAN_SIZE_STRICT, resync, 0, 1, &pm);
        uidmap_sort(&pm.next);
        assert_int_equal(pm.next_ok, 1);
        assert_int_equal(pm.next.n, 3);
        assert_int_equal(uidmap_find(&pm.next, 2)->uid2, 1);
        assert_int_equal(uidmap_find(&pm.next, 5)->uid2, 2);
        assert_int_equal(uidmap_find(&pm.next, 5)->flags,
                         resync ? uidmap_flags(1, "Work") : uidmap_flags(4, NULL));
        assert_int_equal(uidmap_find(&pm.next, 8)->uid2, 100008);
        assert_int_equal(uidmap_find(&pm.next, 8)->flags,
                         uidmap_flags(m1[2].sysflags, msg_keywords(&m1[2])));
        pairmap_close(&pm);
    }
    uidmap_free(&s.old);
}

static void test_no_appenduid_no_map(void **state)
{
    (void)state;
    check(50, 7, MSG_PLAN_SIZE_FIRST, 1, 1, 3);
}

static void test_first_copy(void **state)
{
    (void)state;
    /* nothing on host2, no old map: the map is the APPENDUIDs alone */
    uint64_t seed = 9;
    struct sides s;
    memset(&s, 0, sizeof s);
    s.n1 = 1000;
    s.m1 = calloc(s.n1, sizeof *s.m1);
    assert_non_null(s.m1);
    for (size_t i = 0; i < s.n1; i++)
        s.m1[i] = meta((uint32_t)(i + 1), (unsigned)i, &seed);
    struct pairmap a, b;
    whole_map(&s, MSG_PLAN_SIZE_FIRST, 1, 0, &a);
    chunked_map(&s, MSG_PLAN_SIZE_FIRST, 1, 0, 64, &b);
    same_map(&a, &b);
    assert_int_equal(b.next.n, s.n1);
    assert_int_equal(b.next.e[999].uid2, 101000);
    pairmap_close(&a);
    pairmap_close(&b);
    free(s.m1);
}

static void test_vanished(void **state)
{
    (void)state;
    /* The old map pairs host1 UIDs 2, 4, ..., 40 with host2 UIDs 102,
     * 104, ...; VANISHED names ranges in any order, overlapping, with
     * UIDs the map does not know (never used, or not copied). */
    struct pairmap pm;
    memset(&pm, 0, sizeof pm);
    for (uint32_t u = 40; u >= 2; u -= 2)
        uidmap_add(&pm.old, u, u + 100, 0);
    uidmap_sort(&pm.old);
    pm.have_old = 1;
    const struct imapc_uid_range r[] = {{30, 33}, {1, 1}, {3, 5}, {31, 32}, {41, 90}, {40, 40}};
    assert_int_equal(pairmap_vanished(&pm, r, sizeof r / sizeof *r), 4);
    const uint32_t want1[] = {4, 30, 32, 40};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pm.gone1[i], want1[i]);
        assert_int_equal(pm.gone2[i], want1[i] + 100);
    }
    pairmap_drop_gone(&pm);
    assert_int_equal(pm.old.n, 16);
    for (size_t i = 0; i < 4; i++)
        assert_null(uidmap_find(&pm.old, want1[i]));
    assert_non_null(uidmap_find(&pm.old, 2));
    assert_non_null(uidmap_find(&pm.old, 38));
    /* Nothing the map knows: nothing gone, nothing dropped. */
    const struct imapc_uid_range none[] = {{41, 41}, {1, 1}};
    assert_int_equal(pairmap_vanished(&pm, none, 2), 0);
    pairmap_drop_gone(&pm);
    assert_int_equal(pm.old.n, 16);
    pairmap_close(&pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_make_the_whole_map),
        cmocka_unit_test(test_kept_pairs_and_flags),
        cmocka_unit_test(test_no_appenduid_no_map),
        cmocka_unit_test(test_first_copy),
        cmocka_unit_test(test_vanished),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
