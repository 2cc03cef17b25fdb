/* Unit tests of the progress line's figures and text (progress.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "msg.h"
#include "progress.h"

#include <pthread.h>
#include <string.h>

static void test_human(void **state)
{
    (void)state;
    char b[32];
    progress_human(0, b, sizeof b);
    assert_string_equal(b, "0B");
    progress_human(1023, b, sizeof b);
    assert_string_equal(b, "1023B");
    progress_human(1536, b, sizeof b);
    assert_string_equal(b, "1.5KiB");
    progress_human(3u << 20, b, sizeof b);
    assert_string_equal(b, "3.0MiB");
}

static void test_format(void **state)
{
    (void)state;
    struct progress_view v = {.folders = 10,
                              .started = 3,
                              .active = 1,
                              .name = "INBOX/Sub",
                              .msgs = 120,
                              .msgs_total = 300,
                              .bytes = 1024 * 100,
                              .bytes_total = 1024 * 400,
                              .elapsed = 10};
    char b[256];
    progress_format(&v, 200, b, sizeof b);
    /* 100 KiB in 10 s: 300 KiB left at 10 KiB/s is 30 s */
    assert_string_equal(b, "folder 3/10 [INBOX/Sub]: 120/300 msgs, 100.0KiB/400.0KiB (25%), "
                           "10.0KiB/s, ETA 0:30");
    v.active = 2;
    progress_format(&v, 200, b, sizeof b);
    assert_non_null(strstr(b, "2 folders copying, 3/10 begun, last [INBOX/Sub]: "));
    v.final = 1;
    v.msgs = 300;
    v.bytes = v.bytes_total;
    v.elapsed = 3725;
    progress_format(&v, 200, b, sizeof b);
    assert_non_null(strstr(b, "3/10 folders: 300/300 msgs"));
    assert_non_null(strstr(b, "(100%)"));
    assert_non_null(strstr(b, ", in 1:02:05"));
    /* Never as wide as the terminal: a wrapped line cannot be redrawn. */
    size_t len = progress_format(&v, 20, b, sizeof b);
    assert_int_equal(len, 19);
    assert_int_equal(strlen(b), 19);
    /* Nothing planned is all done. */
    struct progress_view e = {.folders = 2, .started = 1, .name = "x"};
    progress_format(&e, 0, b, sizeof b);
    assert_non_null(strstr(b, "0/0 msgs, 0B/0B (100%)"));
}

static struct msg_meta metas[4] = {{.uid = 1, .size = 100},
                                   {.uid = 2, .size = 200},
                                   {.uid = 3, .size = 300},
                                   {.uid = 4, .size = 400}};

static void test_counting(void **state)
{
    (void)state;
    struct progress_view v;
    char name[80];
    assert_int_equal(progress_snapshot(&v, name, sizeof name), 0);
    progress_start(3, 0); /* counted, never drawn: not a terminal here */
    size_t idx[] = {0, 2, 3};
    progress_folder("INBOX", metas, idx, 3);
    assert_int_equal(progress_snapshot(&v, name, sizeof name), 1);
    assert_int_equal(v.started, 1);
    assert_int_equal(v.active, 1);
    assert_int_equal(v.msgs_total, 3);
    assert_int_equal(v.bytes_total, 800);
    assert_string_equal(v.name, "INBOX");
    progress_copied(1, 100);
    /* The session is lost; the retry plans the two left: still one
     * folder, and the first attempt's remainder leaves the totals. */
    size_t rest[] = {2, 3};
    progress_folder("INBOX", metas, rest, 2);
    progress_snapshot(&v, name, sizeof name);
    assert_int_equal(v.started, 1);
    assert_int_equal(v.msgs_total, 3);
    assert_int_equal(v.bytes_total, 800);
    progress_copied(2, 700);
    progress_snapshot(&v, name, sizeof name);
    assert_int_equal(v.active, 0);
    assert_int_equal(v.msgs, 3);
    assert_int_equal(v.bytes, 800);
    /* A folder whose message failed ends on its count; its bytes go. */
    size_t one[] = {1};
    progress_folder("Sent\x1b[2J", metas, one, 1);
    progress_copied(1, 0);
    progress_snapshot(&v, name, sizeof name);
    assert_int_equal(v.started, 2);
    assert_int_equal(v.msgs_total, 4);
    assert_int_equal(v.bytes_total, 800);
    assert_string_equal(v.name, "Sent?[2J"); /* no escape reaches a terminal */
    progress_end();
    assert_int_equal(progress_snapshot(&v, name, sizeof name), 0);
    /* Nothing is counted outside a run. */
    progress_copied(5, 5);
    progress_folder("x", metas, idx, 3);
    assert_int_equal(progress_snapshot(&v, name, sizeof name), 0);
}

static void *other_folder(void *arg)
{
    size_t *idx = arg;
    progress_folder("Other", metas, idx, 1);
    return NULL;
}

static void test_workers(void **state)
{
    (void)state;
    progress_start(2, 0);
    size_t a[] = {0}, b[] = {3};
    progress_folder("INBOX", metas, a, 1);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_folder, b), 0);
    pthread_join(t, NULL);
    struct progress_view v;
    char name[80];
    progress_snapshot(&v, name, sizeof name);
    assert_int_equal(v.active, 2);
    assert_int_equal(v.started, 2);
    assert_int_equal(v.bytes_total, 500);
    assert_string_equal(v.name, "Other");
    progress_end();
}

static void test_names(void **state)
{
    (void)state;
    progress_start(1, 0);
    size_t a[] = {0};
    struct progress_view v;
    char name[128];
    progress_folder("Entw&APw-rfe", metas, a, 1); /* as on the wire */
    progress_snapshot(&v, name, sizeof name);
    assert_string_equal(v.name, "Entw\xc3\xbcrfe");
    progress_folder("A123456789B123456789C123456789D123456789E123456789F123456789G123", metas, a,
                    1);
    progress_snapshot(&v, name, sizeof name);
    assert_string_equal(v.name, "A123456789B123456789C123456789D123456789E123456789F123456789...");
    progress_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human),    cmocka_unit_test(test_format),
        cmocka_unit_test(test_counting), cmocka_unit_test(test_workers),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
