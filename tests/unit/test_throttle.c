/* Unit tests of the rate caps' pause (imapsync's sleep_if_needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "throttle.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_off(void **state)
{
    (void)state;
    struct throttle t;
    throttle_init(&t, 0, 0, 0, 2);
    assert_false(throttle_on(&t));
    assert_true(throttle_delay(&t, 1000, 1 << 30, 0) == 0);
    throttle_init(&t, 5, 0, 0, 0); /* --maxsleep 0 turns pausing off */
    assert_false(throttle_on(&t));
    assert_false(throttle_on(NULL));
}

static void test_messages(void **state)
{
    (void)state;
    struct throttle t;
    throttle_init(&t, 4, 0, 0, 2);
    /* 10 messages at 4 per second want 2.5 s; 1 s passed: 1.5 s more */
    assert_float_equal(throttle_delay(&t, 10, 0, 1.0), 1.5, 1e-9);
    /* capped at --maxsleep */
    assert_float_equal(throttle_delay(&t, 100, 0, 1.0), 2.0, 1e-9);
    /* already slow enough */
    assert_float_equal(throttle_delay(&t, 4, 0, 3.0), 0.0, 1e-9);
}

static void test_bytes_after(void **state)
{
    (void)state;
    struct throttle t;
    throttle_init(&t, 0, 1000, 5000, 10);
    /* below --maxbytesafter: no pause */
    assert_float_equal(throttle_delay(&t, 1, 4000, 0.5), 0.0, 1e-9);
    /* 8000 bytes, 3000 beyond: 3 s at 1000 B/s, 1 s passed */
    assert_float_equal(throttle_delay(&t, 1, 8000, 1.0), 2.0, 1e-9);
    /* both caps: the longer pause wins */
    throttle_init(&t, 1, 1000, 0, 10);
    assert_float_equal(throttle_delay(&t, 5, 2000, 0.0), 5.0, 1e-9);
}

/* The batch's bucket: a job attached through the fd in the environment
 * counts into the file, where the other jobs (here: a second descriptor)
 * see it; a pause one job notes is seen by all; anything else on that fd
 * is refused. */
static void test_shared_bucket(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_throttle.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], bad[64], num[16];
    snprintf(path, sizeof path, "%s/ratelimit", dir);
    snprintf(bad, sizeof bad, "%s/other", dir);
    struct status st;
    int fd = -1;
    assert_int_equal(throttle_share_create(path, &fd, &st), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    int again = -1;
    assert_int_equal(throttle_share_create(path, &again, &st), -1); /* never an old file */
    int fd2 = open(path, O_RDWR);
    assert_true(fd2 > 2);

    int junk = open(bad, O_RDWR | O_CREAT, 0600);
    assert_true(junk > 2);
    assert_int_equal(write(junk, "not a bucket", 12), 12);
    snprintf(num, sizeof num, "%d", junk);
    setenv(THROTTLE_SHARE_ENV, num, 1);
    assert_int_equal(throttle_share_attach_env(&st), -1);
    assert_non_null(strstr(st.msg, "rate limit file"));
    assert_false(throttle_shared());
    close(junk);

    snprintf(num, sizeof num, "%d", fd2);
    setenv(THROTTLE_SHARE_ENV, num, 1);
    assert_int_equal(throttle_share_attach_env(&st), 0);
    assert_true(throttle_shared());
    assert_null(getenv(THROTTLE_SHARE_ENV));
    struct throttle t;
    throttle_init(&t, 0, 1000, 0, 2);
    throttle_count(&t, 700);
    throttle_count(&t, 300);
    uint64_t got[2];
    assert_int_equal(pread(fd, got, sizeof got, 8), (ssize_t)sizeof got);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 1000);
    throttle_share_backoff(123.5);
    throttle_share_backoff(100.0); /* an earlier end does not shorten it */
    assert_float_equal(throttle_share_backoff_until(), 123.5, 1e-6);
    close(fd);
    unlink(path);
    unlink(bad);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_bytes_after),
        cmocka_unit_test(test_shared_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
