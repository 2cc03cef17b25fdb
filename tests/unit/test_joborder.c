/* Unit tests of joborder: biggest jobs first for several workers, merged
 * pairs weighed together, unknown weights first, plan order kept for
 * ties and for one worker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "joborder.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

/* A plan of n pairs; leader[i] as given. Names are not looked at. */
static void plan_of(struct folder_plan *p, const size_t *leader, size_t n)
{
    memset(p, 0, sizeof *p);
    p->pairs = sbuf_xcalloc(n, sizeof *p->pairs);
    p->npairs = n;
    for (size_t i = 0; i < n; i++)
        p->pairs[i].leader = leader[i];
}

static void test_biggest_first(void **state)
{
    (void)state;
    const size_t leader[] = {0, 1, 2, 3, 4};
    struct folder_plan p;
    plan_of(&p, leader, 5);
    const uint64_t w[] = {85, 83, 375, 0, 152};
    size_t *o = NULL;
    assert_int_equal(joborder_build(&p, w, NULL, 1, &o), 5);
    const size_t want[] = {2, 4, 0, 1, 3};
    assert_memory_equal(o, want, sizeof want);
    free(o);
    /* one worker: imapsync's plan order */
    assert_int_equal(joborder_build(&p, w, NULL, 0, &o), 5);
    const size_t plan_order[] = {0, 1, 2, 3, 4};
    assert_memory_equal(o, plan_order, sizeof plan_order);
    free(o);
    free(p.pairs);
}

static void test_merged_done_unknown_ties(void **state)
{
    (void)state;
    /* pairs 1 and 3 go into one host2 folder (leader 1) */
    const size_t leader[] = {0, 1, 2, 1, 4, 5};
    struct folder_plan p;
    plan_of(&p, leader, 6);
    const uint64_t w[] = {10, 6, 10, 6, JOBORDER_UNKNOWN, 50};
    const unsigned char done[] = {0, 0, 0, 0, 0, 1};
    size_t *o = NULL;
    /* 5 is done; 4 unknown goes first; 1+3 weigh 12; 0 and 2 tie at 10 */
    assert_int_equal(joborder_build(&p, w, done, 1, &o), 4);
    const size_t want[] = {4, 1, 0, 2};
    assert_memory_equal(o, want, sizeof want);
    free(o);
    /* no weights at all: the plan order */
    assert_int_equal(joborder_build(&p, NULL, NULL, 1, &o), 5);
    const size_t plan_order[] = {0, 1, 2, 4, 5};
    assert_memory_equal(o, plan_order, sizeof plan_order);
    free(o);
    free(p.pairs);
}

static void test_empty_plan(void **state)
{
    (void)state;
    struct folder_plan p;
    memset(&p, 0, sizeof p);
    size_t *o = NULL;
    assert_int_equal(joborder_build(&p, NULL, NULL, 1, &o), 0);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_biggest_first),
        cmocka_unit_test(test_merged_done_unknown_ties),
        cmocka_unit_test(test_empty_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
