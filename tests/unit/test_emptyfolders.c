/* Unit tests of emptyfolders' pure parts: which folder has a child, and
 * dropping deleted folders from the plan without breaking merged groups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "emptyfolders.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

static void test_has_child(void **state)
{
    (void)state;
    struct folder f[] = {{"A", 0, 0, 0}, {"A/B", 0, 0, 0}, {"AB", 0, 0, 0}, {"C/", 0, 0, 0}};
    unsigned char gone[4] = {0, 0, 0, 0};
    assert_true(emptyfolders_has_child(f, 4, gone, '/', "A"));
    assert_false(emptyfolders_has_child(f, 4, gone, '/', "A/B"));
    assert_false(emptyfolders_has_child(f, 4, gone, '/', "AB")); /* a prefix is no parent */
    assert_false(emptyfolders_has_child(f, 4, gone, '/', "C"));  /* "C/" names no child */
    assert_false(emptyfolders_has_child(f, 4, gone, 0, "A"));    /* flat hierarchy */
    gone[1] = 1; /* A/B deleted in this pass: A may go too */
    assert_false(emptyfolders_has_child(f, 4, gone, '/', "A"));
    assert_true(emptyfolders_has_child(f, 4, NULL, '/', "A"));
}

static void add(struct folder_plan *p, const char *n1, const char *n2, size_t leader, int create)
{
    p->pairs = sbuf_xrealloc(p->pairs, (p->npairs + 1) * sizeof *p->pairs);
    struct folder_plan_pair *x = &p->pairs[p->npairs++];
    memset(x, 0, sizeof *x);
    x->name1 = sbuf_xstrdup(n1);
    x->name2 = sbuf_xstrdup(n2);
    x->leader = leader;
    x->create = create;
    x->subscribe = create;
}

static void test_drop_hands_over_the_lead(void **state)
{
    (void)state;
    struct folder_plan p;
    memset(&p, 0, sizeof p);
    add(&p, "X", "X", 0, 0);
    add(&p, "Sent", "Sent", 1, 1);       /* leader of a merged group */
    add(&p, "Empty", "Empty", 2, 1);     /* deleted */
    add(&p, "Sent Items", "Sent", 1, 0); /* follower: becomes the leader */
    add(&p, "Outbox", "Sent", 1, 0);
    const char *gone[] = {"Sent", "Empty"};
    assert_int_equal(emptyfolders_drop(&p, gone, 2), 2);
    assert_int_equal(p.npairs, 3);
    assert_string_equal(p.pairs[0].name1, "X");
    assert_int_equal(p.pairs[0].leader, 0);
    assert_string_equal(p.pairs[1].name1, "Sent Items");
    assert_int_equal(p.pairs[1].leader, 1);
    assert_int_equal(p.pairs[1].create, 1);
    assert_int_equal(p.pairs[1].subscribe, 1);
    assert_string_equal(p.pairs[2].name1, "Outbox");
    assert_int_equal(p.pairs[2].leader, 1);
    assert_int_equal(emptyfolders_drop(&p, NULL, 0), 0);
    folder_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_has_child),
        cmocka_unit_test(test_drop_hands_over_the_lead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
