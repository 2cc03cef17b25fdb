/* Unit tests of report_json (escaping, the rendered schema, the atomic
 * write and its refusals) and of what report.c keeps for it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "report.h"
#include "report_json.h"
#include "sbuf.h"
#include "version.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/imapferry-json-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void escaped(const char *in, const char *want)
{
    struct sbuf b = SBUF_INIT;
    report_json_string(&b, in);
    assert_string_equal(b.data, want);
    sbuf_free(&b);
}

static void test_escape(void **state)
{
    (void)state;
    escaped("INBOX", "\"INBOX\"");
    escaped(NULL, "\"\"");
    escaped("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    escaped("l1\nl2\r\t", "\"l1\\nl2\\r\\t\"");
    escaped("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    /* Valid UTF-8 stays as it is. */
    escaped("Soci\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
            "\"Soci\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* Not UTF-8: one U+FFFD per byte that starts no valid sequence. */
    escaped("a\xff"
            "b",
            "\"a\\ufffdb\"");
    escaped("\xc3", "\"\\ufffd\"");                                  /* cut short */
    escaped("\xc3(", "\"\\ufffd(\"");                                /* bad continuation */
    escaped("\xc0\xaf", "\"\\ufffd\\ufffd\"");                       /* overlong '/' */
    escaped("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");            /* overlong, 3 bytes */
    escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");            /* a surrogate */
    escaped("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* past U+10FFFF */
    escaped("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
    /* ISO-8859-1 "é" as a server might send it. */
    escaped("caf\xe9", "\"caf\\ufffd\"");
}

/* A tiny checker of one JSON string as report_json_string writes it: valid
 * UTF-8, no raw control character, only known escapes. */
static int valid_json_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (*p++ != '"')
        return 0;
    while (*p && *p != '"') {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdef", p[i]) || p[i] == 0)
                        return 0;
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return 0;
            }
            continue;
        }
        size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        if (*p >= 0x80 && (*p < 0xC2 || *p > 0xF4))
            return 0;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += n;
    }
    return p[0] == '"' && p[1] == '\0';
}

static void test_escape_random(void **state)
{
    (void)state;
    srand(17);
    char in[64];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(rand() % 63);
        for (size_t i = 0; i < n; i++) {
            in[i] = (char)(rand() % 255 + 1);
        }
        in[n] = '\0';
        struct sbuf b = SBUF_INIT;
        report_json_string(&b, in);
        if (!valid_json_string(b.data))
            fail_msg("not a valid JSON string: %s", b.data);
        sbuf_free(&b);
    }
}

/* Error lines go to stderr; these tests make many. */
static int quiet(void)
{
    fflush(stderr);
    int saved = dup(2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(null);
    return saved;
}

static void loud(int saved)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
}

static void error_of(struct report *r, int code, const char *msg)
{
    struct status st;
    status_set(&st, code, "%s", msg);
    report_error(r, &st);
}

static void test_lines(void **state)
{
    (void)state;
    assert_int_equal(report_line_class(STATUS_ERR_APPEND), REPORT_MESSAGE);
    assert_int_equal(report_line_class(STATUS_ERR_FETCH), REPORT_MESSAGE);
    assert_int_equal(report_line_class(STATUS_ERR_FLAGS), REPORT_MESSAGE);
    assert_int_equal(report_line_class(STATUS_ERR_CREATE), REPORT_FOLDER);
    assert_int_equal(report_line_class(STATUS_ERR_SELECT), REPORT_FOLDER);
    assert_int_equal(report_line_class(STATUS_WITH_ERRORS), REPORT_FOLDER);
    assert_int_equal(report_line_class(STATUS_CONNECT_HOST2), REPORT_CONNECTION);
    assert_int_equal(report_line_class(STATUS_TLS), REPORT_CONNECTION);
    assert_int_equal(report_line_class(STATUS_AUTH_HOST2), REPORT_FATAL);

    struct report r;
    report_init(&r, 0, 0, 0, 0);
    int saved = quiet();
    for (int i = 0; i < REPORT_MAX_LINES + 5; i++)
        error_of(&r, STATUS_ERR_FETCH, "fetch failed");
    /* What ended the run is fatal whatever its code. */
    r.aborted = 1;
    error_of(&r, STATUS_CONNECT_HOST1, "lost host1");
    loud(saved);
    assert_int_equal(r.errors, REPORT_MAX_LINES + 6);
    assert_int_equal(r.nlines, REPORT_MAX_LINES);
    assert_int_equal(r.lines_dropped, 6);
    assert_int_equal(r.lines[0].cls, REPORT_MESSAGE);
    assert_string_equal(r.lines[0].msg, "fetch failed");
    report_free(&r);

    report_init(&r, 0, 0, 0, 0);
    r.aborted = 1;
    saved = quiet();
    error_of(&r, STATUS_CONNECT_HOST1, "lost host1");
    loud(saved);
    struct status st;
    status_set(&st, STATUS_PIDFILE, "pid file held");
    report_fatal(&r, &st);
    assert_int_equal(r.errors, 2);
    assert_int_equal(r.nlines, 2);
    assert_int_equal(r.lines[0].cls, REPORT_FATAL);
    assert_int_equal(r.lines[1].cls, REPORT_FATAL);
    assert_int_equal(r.lines[1].code, STATUS_PIDFILE);
    assert_int_equal(report_exit_code(&r), STATUS_PIDFILE); /* a tie: the lowest code */
    report_free(&r);
    report_free(&r); /* twice is harmless */
}

static void test_folder_names(void **state)
{
    (void)state;
    struct report r;
    report_init(&r, 0, 0, 0, 0);
    for (int i = 0; i < 40; i++) /* past the first allocation */
        report_folder(&r, &(struct report_folder){.name1 = "Soci\xc3\xa9t\xc3\xa9",
                                                  .name2 = "INBOX.Soci\xc3\xa9t\xc3\xa9",
                                                  .copied = (uint64_t)i});
    report_folder(&r, &(struct report_folder){.wire1 = "&ZeVnLIqe-", .wire2 = "INBOX.&ZeVnLIqe-"});
    assert_int_equal(r.nfolders, 41);
    assert_string_equal(r.folders[39].name1, "Soci\xc3\xa9t\xc3\xa9");
    assert_string_equal(r.folders[39].wire1, "Soci&AOk-t&AOk-");
    assert_string_equal(r.folders[39].wire2, "INBOX.Soci&AOk-t&AOk-");
    assert_int_equal(r.folders[39].copied, 39);
    assert_string_equal(r.folders[40].name1, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    assert_string_equal(r.folders[40].name2, "INBOX.\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    assert_string_equal(r.folders[40].wire2, "INBOX.&ZeVnLIqe-");
    report_free(&r);
}

/* A known report, every field set, rendered exactly. */
static void known_report(struct report *r)
{
    report_init(r, 0, 1, 1, 0);
    r->started = 1700000000; /* 2023-11-14T22:13:20Z */
    r->end = (struct report_end){1, 1700000002, 2.0, 0.5, 1048576, 2097152};
    r->folders_wanted = 2;
    r->folders_synced = 1;
    r->folders_unchanged = 1;
    r->transferred = 3;
    r->skipped = 4;
    r->bytes = 2048;
    r->bytes_skipped = 100;
    r->biggest = 1024;
    r->h1_not_h2 = 1;
    r->h2_not_h1 = 2;
    r->dup1 = 5;
    r->dup2 = 6;
    r->deleted2 = 7;
    r->h1_msgs = 8;
    r->h1_bytes = 3000;
    r->h2_msgs_start = 4;
    r->h2_bytes_start = 900;
    r->h2_msgs_end = 7;
    r->h2_bytes_end = 2948;
    r->reconnections[1] = 1;
    report_folder(r, &(struct report_folder){.name1 = "Soci\xc3\xa9t\xc3\xa9",
                                             .name2 = "INBOX.Soci\xc3\xa9t\xc3\xa9",
                                             .copied = 3,
                                             .skipped = 4,
                                             .bytes = 2048,
                                             .flag_updates = 1,
                                             .errors = 1});
    report_folder(r, &(struct report_folder){.name1 = "INBOX", .name2 = "INBOX", .unchanged = 1});
    int saved = quiet();
    error_of(r, STATUS_ERR_APPEND, "APPEND \"x\"\tfailed");
    loud(saved);
}

static const char expected[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"imapferry\": \"" IMAPFERRY_VERSION "\",\n"
    "  \"started\": \"2023-11-14T22:13:20Z\",\n"
    "  \"ended\": \"2023-11-14T22:13:22Z\",\n"
    "  \"duration\": 2.000,\n"
    "  \"dry_run\": false,\n"
    "  \"host1\": {\n"
    "    \"host\": \"old.example.org\",\n"
    "    \"port\": 143,\n"
    "    \"user\": \"al\\\"ice\"\n"
    "  },\n"
    "  \"host2\": {\n"
    "    \"host\": \"new.example.net\",\n"
    "    \"port\": 993,\n"
    "    \"user\": null\n"
    "  },\n"
    "  \"statistics\": {\n"
    "    \"transfer_time\": 2.000,\n"
    "    \"folders_synced\": 1,\n"
    "    \"folders_wanted\": 2,\n"
    "    \"messages_transferred\": 3,\n"
    "    \"messages_would_transfer\": 0,\n"
    "    \"messages_skipped\": 4,\n"
    "    \"messages_duplicate_host1\": 5,\n"
    "    \"messages_duplicate_host2\": 6,\n"
    "    \"messages_void_host1\": 0,\n"
    "    \"messages_void_host2\": 0,\n"
    "    \"messages_host1_not_host2\": 1,\n"
    "    \"messages_host2_not_host1\": 2,\n"
    "    \"messages_deleted_host1\": 0,\n"
    "    \"messages_deleted_host2\": 7,\n"
    "    \"bytes_transferred\": 2048,\n"
    "    \"bytes_skipped\": 100,\n"
    "    \"message_rate\": 1.500,\n"
    "    \"bandwidth_kib_per_second\": 1.000,\n"
    "    \"reconnections_host1\": 0,\n"
    "    \"reconnections_host2\": 1,\n"
    "    \"memory_end_bytes\": 1048576,\n"
    "    \"cpu_time\": 0.500,\n"
    "    \"cpu_percent\": 25.000,\n"
    "    \"biggest_message_bytes\": 1024,\n"
    "    \"memory_biggest_ratio\": 2048.000,\n"
    "    \"host1_messages\": 8,\n"
    "    \"host1_bytes\": 3000,\n"
    "    \"host2_messages_start\": 4,\n"
    "    \"host2_bytes_start\": 900,\n"
    "    \"host2_messages_end\": 7,\n"
    "    \"host2_bytes_end\": 2948,\n"
    "    \"start_difference\": {\n"
    "      \"messages\": -4,\n"
    "      \"bytes\": -2100\n"
    "    },\n"
    "    \"final_difference\": {\n"
    "      \"messages\": -1,\n"
    "      \"bytes\": -52\n"
    "    },\n"
    "    \"errors\": 1,\n"
    "    \"peak_memory_bytes\": 2097152,\n"
    "    \"folders_unchanged\": 1\n"
    "  },\n"
    "  \"verdict\": {\n"
    "    \"complete\": false,\n"
    "    \"looks_good\": false,\n"
    "    \"strict\": false\n"
    "  },\n"
    "  \"folders\": [\n"
    "    {\n"
    "      \"host1\": \"Soci\xc3\xa9t\xc3\xa9\",\n"
    "      \"host1_wire\": \"Soci&AOk-t&AOk-\",\n"
    "      \"host2\": \"INBOX.Soci\xc3\xa9t\xc3\xa9\",\n"
    "      \"host2_wire\": \"INBOX.Soci&AOk-t&AOk-\",\n"
    "      \"copied\": 3,\n"
    "      \"already_there\": 4,\n"
    "      \"bytes\": 2048,\n"
    "      \"flag_updates\": 1,\n"
    "      \"errors\": 1,\n"
    "      \"unchanged\": false\n"
    "    },\n"
    "    {\n"
    "      \"host1\": \"INBOX\",\n"
    "      \"host1_wire\": \"INBOX\",\n"
    "      \"host2\": \"INBOX\",\n"
    "      \"host2_wire\": \"INBOX\",\n"
    "      \"copied\": 0,\n"
    "      \"already_there\": 0,\n"
    "      \"bytes\": 0,\n"
    "      \"flag_updates\": 0,\n"
    "      \"errors\": 0,\n"
    "      \"unchanged\": true\n"
    "    }\n"
    "  ],\n"
    "  \"errors\": [\n"
    "    {\n"
    "      \"class\": \"message\",\n"
    "      \"code\": 114,\n"
    "      \"message\": \"APPEND \\\"x\\\"\\tfailed\"\n"
    "    }\n"
    "  ],\n"
    "  \"errors_not_listed\": 0,\n"
    "  \"exit\": {\n"
    "    \"code\": 114,\n"
    "    \"class\": \"partial\",\n"
    "    \"meaning\": \"finished with errors, mostly APPEND to host2\",\n"
    "    \"signal\": null\n"
    "  }\n"
    "}\n";

static const struct report_json_run known_run = {
    .host = {"old.example.org", "new.example.net"},
    .port = {143, 993},
    .user = {"al\"ice", NULL},
    .exit_code = STATUS_ERR_APPEND,
};

/* cmocka cuts long strings short: say where they differ. */
static void same_text(const char *got, const char *want)
{
    size_t i = 0;
    while (got[i] && got[i] == want[i])
        i++;
    if (got[i] != want[i])
        fail_msg("differ at offset %zu: got \"%.60s\", want \"%.60s\"", i, got + i, want + i);
}

static void test_render(void **state)
{
    (void)state;
    struct report r;
    known_report(&r);
    struct sbuf b = SBUF_INIT;
    report_json_render(&b, &r, &known_run);
    same_text(b.data, expected);
    sbuf_free(&b);

    /* Dry run, --justfolders, nothing copied, stopped by a signal: the
     * fields that change with them. */
    r.dry = 1;
    r.justfolders = 1;
    r.foldersizes = r.foldersizesatend = 0;
    r.biggest = 0;
    r.end.secs = 0;
    struct report_json_run run = known_run;
    run.exit_code = STATUS_SIGNAL;
    run.signal = 15;
    report_json_render(&b, &r, &run);
    assert_non_null(strstr(b.data, "\"messages_transferred\": 0,\n"));
    assert_non_null(strstr(b.data, "\"messages_would_transfer\": 3,\n"));
    assert_non_null(strstr(b.data, "\"dry_run\": true,\n"));
    assert_non_null(strstr(b.data, "\"memory_biggest_ratio\": null,\n"));
    assert_non_null(strstr(b.data, "\"start_difference\": null,\n"));
    assert_non_null(strstr(b.data, "\"final_difference\": null,\n"));
    assert_non_null(strstr(b.data, "\"looks_good\": null,\n    \"strict\": null\n"));
    assert_non_null(strstr(b.data, "\"class\": \"signal\",\n"));
    assert_non_null(strstr(b.data, "\"signal\": 15\n"));
    /* A zero duration makes no infinity or NaN. */
    assert_null(strstr(b.data, "inf"));
    assert_null(strstr(b.data, "nan"));
    sbuf_free(&b);
    report_free(&r);

    /* A complete, strict run. */
    report_init(&r, 0, 0, 0, 0);
    r.end = (struct report_end){1, 1700000002, 1.0, 0.1, 1, 1};
    r.folders_wanted = r.folders_synced = 3;
    run = known_run;
    run.exit_code = 0;
    report_json_render(&b, &r, &run);
    assert_non_null(strstr(b.data, "\"complete\": true,\n    \"looks_good\": true,\n"
                                   "    \"strict\": true\n"));
    assert_non_null(strstr(b.data, "\"folders\": [],\n  \"errors\": [],\n"));
    assert_non_null(strstr(b.data, "\"code\": 0,\n    \"class\": \"ok\",\n"
                                   "    \"meaning\": \"success\",\n"));
    sbuf_free(&b);
    report_free(&r);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    struct sbuf b = SBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sbuf_append(&b, buf, n);
    fclose(f);
    return sbuf_take(&b);
}

static int entries(const char *d)
{
    DIR *dp = opendir(d);
    assert_non_null(dp);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(dp);
    return n;
}

static void test_write(void **state)
{
    (void)state;
    char sub[128], path[160];
    snprintf(sub, sizeof sub, "%s/reports/deep", dir);
    snprintf(path, sizeof path, "%s/run.json", sub);
    struct status st;
    /* The folders above are made, nothing is left behind by the check. */
    assert_int_equal(report_json_prepare(path, &st), 0);
    assert_int_equal(entries(sub), 0);
    assert_int_equal(report_json_prepare("-", &st), 0);
    assert_int_equal(report_json_prepare("", &st), -1);
    assert_int_equal(st.code, STATUS_USAGE);

    struct report r;
    known_report(&r);
    assert_int_equal(report_json_write(path, &r, &known_run, &st), 0);
    char *got = slurp(path);
    same_text(got, expected);
    free(got);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(entries(sub), 1); /* no temporary file left */
    /* A file of ours is replaced whole. */
    struct report_json_run run = known_run;
    run.exit_code = 0;
    assert_int_equal(report_json_write(path, &r, &run, &st), 0);
    got = slurp(path);
    assert_non_null(strstr(got, "\"code\": 0,"));
    assert_null(strstr(got, "\"code\": 114,\n    \"class\""));
    free(got);
    assert_int_equal(entries(sub), 1);

    /* A symbolic link is refused, before and at the end, and what it
     * points to is untouched. */
    char target[160], link_[160], fifo[160], hard[160];
    snprintf(target, sizeof target, "%s/target", dir);
    snprintf(link_, sizeof link_, "%s/link.json", dir);
    FILE *t = fopen(target, "w");
    assert_non_null(t);
    fputs("precious\n", t);
    fclose(t);
    assert_int_equal(symlink(target, link_), 0);
    assert_int_equal(report_json_prepare(link_, &st), -1);
    assert_non_null(strstr(st.msg, "is a symbolic link"));
    assert_int_equal(st.code, STATUS_OTHER);
    assert_int_equal(report_json_write(link_, &r, &known_run, &st), -1);
    assert_non_null(strstr(st.msg, "is a symbolic link"));
    got = slurp(target);
    assert_string_equal(got, "precious\n");
    free(got);
    assert_int_equal(lstat(link_, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));

    /* A FIFO is refused without waiting for a reader. */
    snprintf(fifo, sizeof fifo, "%s/fifo.json", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(report_json_prepare(fifo, &st), -1);
    assert_non_null(strstr(st.msg, "is a FIFO"));
    assert_int_equal(report_json_write(fifo, &r, &known_run, &st), -1);

    /* A second name for the inode too. */
    snprintf(hard, sizeof hard, "%s/hard.json", dir);
    assert_int_equal(link(target, hard), 0);
    assert_int_equal(report_json_prepare(hard, &st), -1);
    assert_non_null(strstr(st.msg, "hard links"));

    /* A folder we cannot write in fails at the check. */
    if (geteuid() != 0) {
        char ro[160], inro[200];
        snprintf(ro, sizeof ro, "%s/ro", dir);
        assert_int_equal(mkdir(ro, 0500), 0);
        snprintf(inro, sizeof inro, "%s/x.json", ro);
        assert_int_equal(report_json_prepare(inro, &st), -1);
        assert_non_null(strstr(st.msg, "cannot write the JSON report in"));
    }
    report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape), cmocka_unit_test(test_escape_random),
        cmocka_unit_test(test_lines),  cmocka_unit_test(test_folder_names),
        cmocka_unit_test(test_render), cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
