#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(struct options *o, struct status *st, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return options_parse(argc, argv, o, st);
}

/* Parses a NULL-terminated list of words (argv[0] is added) from writable
 * copies, as the shell would hand them over. */
static int parse_words(struct options *o, struct status *st, const char *const *words)
{
    char *argv[128];
    int argc = 0;
    argv[argc++] = strdup("imapferry");
    for (; *words; words++) {
        assert_true(argc < 127);
        argv[argc++] = strdup(*words);
    }
    argv[argc] = NULL;
    status_clear(st);
    int rc = options_parse(argc, argv, o, st);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

#define PARSE(o, st, ...) parse_words(o, st, (const char *const[]){__VA_ARGS__, NULL})

/* Parses the words and expects a usage failure whose message contains want. */
#define REFUSED(want, ...)                                                                         \
    do {                                                                                           \
        struct options o_;                                                                         \
        struct status st_;                                                                         \
        assert_int_equal(PARSE(&o_, &st_, __VA_ARGS__), -1);                                       \
        assert_int_equal(st_.code, STATUS_USAGE);                                                  \
        if (strstr(st_.msg, want) == NULL)                                                         \
            fail_msg("\"%s\" lacks \"%s\"", st_.msg, want);                                        \
        options_free(&o_);                                                                         \
    } while (0)

static void test_forms(void **state)
{
    (void)state;
    char a0[] = "imapferry", a1[] = "--host1", a2[] = "h1", a3[] = "-USER1=bob", a4[] = "--port2",
         a5[] = "1_143", a6[] = "--notls1", a7[] = "--no-tls2", a8[] = "--DRY", a9[] = "-timeout",
         a10[] = "1_2.5";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, NULL};
    struct options o;
    struct status st;
    assert_int_equal(parse(&o, &st, argv), 0);
    assert_string_equal(o.v[OPT_HOST1].str, "h1");
    assert_string_equal(o.v[OPT_USER1].str, "bob");
    assert_int_equal(o.v[OPT_PORT2].num, 1143);
    assert_true(o.v[OPT_TLS1].given);
    assert_false(o.v[OPT_TLS1].on);
    assert_true(o.v[OPT_TLS2].given);
    assert_false(o.v[OPT_TLS2].on);
    assert_true(options_on(&o, OPT_DRY));
    assert_true(o.v[OPT_TIMEOUT].fnum > 12.49 && o.v[OPT_TIMEOUT].fnum < 12.51);
    options_free(&o);

    /* Negation, both spellings and any case, of options that were plain
     * flags before; the last one given wins. */
    assert_int_equal(PARSE(&o, &st, "--dry", "--NoDry", "--no-justfolders", "--nojustlogin"), 0);
    assert_true(o.v[OPT_DRY].given);
    assert_false(options_on(&o, OPT_DRY));
    assert_true(o.v[OPT_JUSTFOLDERS].given);
    assert_false(o.v[OPT_JUSTFOLDERS].on);
    assert_true(o.v[OPT_JUSTLOGIN].given);
    assert_false(o.v[OPT_JUSTLOGIN].on);
    options_free(&o);

    /* Aliases land on one id; "--nodelete" is --nodelete1. */
    assert_int_equal(PARSE(&o, &st, "--subscribe_all", "--nodelete", "--no-expunge",
                           "--no-modules_version", "--fixinboxinbox"),
                     0);
    assert_true(options_on(&o, OPT_SUBSCRIBEALL));
    assert_true(o.v[OPT_DELETE1].given);
    assert_false(o.v[OPT_DELETE1].on);
    assert_true(o.v[OPT_EXPUNGE1].given);
    assert_true(o.v[OPT_MODULESVERSION].given);
    assert_true(options_on(&o, OPT_FIXINBOXINBOX));
    options_free(&o);

    /* Unique prefixes, also of negated forms; --opt=value with a prefix. */
    assert_int_equal(PARSE(&o, &st, "--justfoldersi", "--nosyncac", "--pidfilel", "--logf=x.txt"),
                     0);
    assert_true(options_on(&o, OPT_JUSTFOLDERSIZES));
    assert_true(o.v[OPT_SYNCACLS].given);
    assert_false(o.v[OPT_SYNCACLS].on);
    assert_true(options_on(&o, OPT_PIDFILELOCKING));
    assert_string_equal(o.v[OPT_LOGFILE].str, "x.txt");
    options_free(&o);

    /* A value may look like an option; "--" ends the options. */
    assert_int_equal(PARSE(&o, &st, "--folder", "--weird", "--pidfile="), 0);
    assert_string_equal(o.v[OPT_FOLDER].list[0], "--weird");
    assert_string_equal(o.v[OPT_PIDFILE].str, "");
    options_free(&o);
    REFUSED("extra argument", "--dry", "--", "--justlogin");
}

static void test_lists(void **state)
{
    (void)state;
    struct options o;
    struct status st;
    assert_int_equal(PARSE(&o, &st, "--folder", "Sent", "--exclude", "Trash|Spam|Drafts",
                           "--folder=INBOX", "--regextrans2", "s/a/b/", "--REGEXTRANS2", "s/b/c/",
                           "--f1f2", "A=B", "--folderrec", "Archive", "--include", "^x",
                           "--folderfirst", "INBOX", "--folderlast", "Trash"),
                     0);
    assert_int_equal(o.v[OPT_FOLDER].nlist, 2);
    assert_string_equal(o.v[OPT_FOLDER].list[0], "Sent");
    assert_string_equal(o.v[OPT_FOLDER].list[1], "INBOX");
    assert_int_equal(o.v[OPT_EXCLUDE].nlist, 1);
    assert_string_equal(o.v[OPT_EXCLUDE].list[0], "Trash|Spam|Drafts");
    assert_int_equal(o.v[OPT_REGEXTRANS2].nlist, 2);
    assert_string_equal(o.v[OPT_REGEXTRANS2].list[0], "s/a/b/");
    assert_string_equal(o.v[OPT_REGEXTRANS2].list[1], "s/b/c/");
    assert_string_equal(o.v[OPT_F1F2].list[0], "A=B");
    assert_string_equal(o.v[OPT_FOLDERREC].list[0], "Archive");
    assert_string_equal(o.v[OPT_INCLUDE].list[0], "^x");
    assert_string_equal(o.v[OPT_FOLDERFIRST].list[0], "INBOX");
    assert_string_equal(o.v[OPT_FOLDERLAST].list[0], "Trash");
    assert_false(o.v[OPT_FOLDERSIZES].given); /* --folder is exact, not a prefix */
    options_free(&o);

    /* A string option keeps the last value. */
    assert_int_equal(PARSE(&o, &st, "--sep2", ".", "--sep2", "/"), 0);
    assert_string_equal(o.v[OPT_SEP2].str, "/");
    options_free(&o);

    /* key=value options keep "KEY=VALUE" in order (preset.c reads them). */
    assert_int_equal(PARSE(&o, &st, "--sslargs1", "SSL_verify_mode=0", "--sslargs1=SSL_ca_file=x"),
                     0);
    assert_int_equal(o.v[OPT_SSLARGS1].nlist, 2);
    assert_string_equal(o.v[OPT_SSLARGS1].list[0], "SSL_verify_mode=0");
    assert_string_equal(o.v[OPT_SSLARGS1].list[1], "SSL_ca_file=x");
    options_free(&o);
    REFUSED("--f1f2h is not supported: use --f1f2", "--f1f2h=A=B");
}

static void test_statuses(void **state)
{
    (void)state;
    struct options o;
    struct status st;

    /* Honoured and silently accepted: no notice. */
    assert_int_equal(PARSE(&o, &st, "--buffersize", "8_192_000", "--nosyncacls", "--keepalive1",
                           "--noreleasecheck", "--no-modulesversion", "--split1", "50",
                           "--subfolder2", "Old", "--mixfolders"),
                     0);
    assert_int_equal(o.v[OPT_BUFFERSIZE].num, 8192000);
    assert_string_equal(o.v[OPT_SUBFOLDER2].str, "Old");
    assert_true(options_on(&o, OPT_MIXFOLDERS));
    assert_int_equal(o.nnotices, 0);
    options_free(&o);

    /* Accepted with one notice per option and polarity, in order. */
    assert_int_equal(PARSE(&o, &st, "--releasecheck", "--nokeepalive2", "--releasecheck",
                           "--debugimap", "--tmpdir", "/var/tmp", "--modules_version",
                           "--exchange1", "--nocheckselectable"),
                     0);
    assert_int_equal(o.nnotices, 7);
    assert_string_equal(o.notices[0], "--releasecheck: imapferry never contacts the internet");
    assert_string_equal(o.notices[1], "--nokeepalive2: keepalive is always on");
    assert_string_equal(o.notices[2], "--debugimap: imapferry has no debug trace; ignored");
    assert_non_null(strstr(o.notices[3], "--tmpdir: imapferry identifies messages by their "
                                         "headers and needs no cache"));
    assert_string_equal(o.notices[4], "--modules_version: imapferry has no Perl modules to list");
    assert_non_null(strstr(o.notices[5], "--exchange1: "));
    assert_string_equal(o.notices[6],
                        "--nocheckselectable: \\Noselect folders are always left out");
    assert_true(o.v[OPT_CHECKSELECTABLE].given);
    options_free(&o);

    /* Refused, for the spelling given, even abbreviated or in another case. */
    REFUSED("--syncacls is not supported: ACLs name the source server's users", "--SyncAcls");
    REFUSED("--nomixfolders is not supported: imapferry merges them", "--nomixf");
    REFUSED("--domain1 is not supported: imapferry has no NTLM", "--domain1", "D");
    REFUSED("--emailreport2 is not supported: imapferry never writes its report into a mailbox",
            "--emailreport2");
    REFUSED("--tests is not supported: imapsync test hook", "--tests");
    REFUSED("--notests is not supported: imapsync test hook", "--notests");
    REFUSED("--var is not supported: imapsync CGI/Docker plumbing", "--var", "x");
    REFUSED("--ssl1_ssl_version is not supported: imapferry verifies TLS itself",
            "--ssl1_ssl_version", "TLSv1_2");
    REFUSED("--exitonload is not supported", "--exitonload");
    REFUSED("--no-syncduplicates is not supported", "--no-syncduplicates");
    REFUSED("--no-uid1 is not supported", "--no-uid1");
    /* Refusal comes before the value is looked at. */
    REFUSED("--fetch_hash_set is not supported", "--fetch_hash_set");
}

static void test_ambiguous(void **state)
{
    (void)state;
    REFUSED("ambiguous option --justfolder: justfolders, justfoldersizes, justfolderlists",
            "--justfolder");
    REFUSED("ambiguous option --host: host1, host2", "--host", "h");
    REFUSED("ambiguous option -folders: foldersizes, foldersizesatend", "-folders");
    REFUSED("ambiguous option --dr: dry, dry1", "--dr");
    REFUSED("ambiguous option --no-dr: no-dry, no-dry1", "--no-dr");
    REFUSED("ambiguous option --del: delete1, delete2, delete2duplicates", "--del");
    REFUSED("nosyncacls", "--nosync");
    /* Getopt::Long: "--dele2" is no prefix of anything. */
    REFUSED("unknown option: --dele2", "--dele2");
    REFUSED("unknown option: --nohost1", "--nohost1");
}

/* Every spelling of every row, from the table itself: it resolves to its own
 * row (so no two rows share a spelling) and gets its row's status. */
struct row {
    int id;
    const char *names;
    enum options_type type;
    enum options_status on;
    const char *on_why;
    enum options_status off;
    const char *off_why;
};

static const struct row rows[] = {
#define ROW(id, names, type, secret, on, off, help) {OPT_##id, names, type, on, off},
    OPTIONS_TABLE(ROW)
#undef ROW
};

static void check_spelling(const struct row *r, const char *spelling, int neg)
{
    char opt[96], upper[96];
    snprintf(opt, sizeof opt, "--%s", spelling);
    for (size_t k = 0; k < sizeof upper; k++) {
        char c = opt[k];
        upper[k] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        if (!c)
            break;
    }
    const char *val = r->type == OPTIONS_KV        ? "k=v"
                      : r->type == OPTIONS_FLAG    ? NULL
                      : r->type == OPTIONS_NEGFLAG ? NULL
                                                   : "7";
    enum options_status s = neg ? r->off : r->on;
    const char *why = neg ? r->off_why : r->on_why;
    for (int pass = 0; pass < 2; pass++) {
        struct options o;
        struct status st;
        const char *w = pass ? upper : opt;
        int rc = val ? PARSE(&o, &st, w, val) : PARSE(&o, &st, w);
        if (s == OPTIONS_REFUSED) {
            char want[300];
            snprintf(want, sizeof want, "%s is not supported: %s", opt, why);
            if (rc != -1 || strcmp(st.msg, want) != 0)
                fail_msg("%s: got \"%s\"", w, st.msg);
        } else {
            if (rc != 0 || !o.v[r->id].given)
                fail_msg("%s: rc %d \"%s\"", w, rc, st.msg);
            if (r->type == OPTIONS_NEGFLAG)
                assert_int_equal(o.v[r->id].on, !neg);
            assert_int_equal(o.nnotices, why ? 1 : 0);
        }
        options_free(&o);
    }
}

static void test_every_spelling(void **state)
{
    (void)state;
    int count[3] = {0, 0, 0};
    assert_int_equal(sizeof rows / sizeof rows[0], OPT__COUNT);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        assert_int_equal(r->id, (int)i);
        count[r->on]++;
        for (const char *n = r->names; *n;) {
            size_t len = strcspn(n, "|");
            char name[64], form[72];
            snprintf(name, sizeof name, "%.*s", (int)len, n);
            check_spelling(r, name, 0);
            if (r->type == OPTIONS_NEGFLAG) {
                snprintf(form, sizeof form, "no%s", name);
                check_spelling(r, form, 1);
                snprintf(form, sizeof form, "no-%s", name);
                check_spelling(r, form, 1);
            }
            n += len + (n[len] == '|');
        }
    }
    /* 218 imapsync 2.229 specs + 2 CGI + 4 later + 17 of imapferry's own. */
    assert_int_equal(OPT__COUNT, 241);
    print_message("positive spellings: %d honoured, %d accepted, %d refused\n", count[0], count[1],
                  count[2]);
}

static void test_scripts(void **state)
{
    (void)state;
    struct options o;
    struct status st;
    /* Script 1 of the migration guides, words as the shell passes them. */
    assert_int_equal(
        PARSE(&o, &st, "--buffersize", "8192000", "--nosyncacls", "--subscribe",
              "--syncinternaldates", "--exclude", "(?i)\\b(Junk|Spam|Trash)\\b", "--regexflag",
              "s/\\\\\\\\(?!Answered|Flagged|Deleted|Seen|Recent|Draft)[^\\s]*\\s*//ig",
              "--regexflag", "tr,:\"/,_,", "--regextrans2", "s,:,-,g", "--regextrans2", "s,\\*,,g",
              "--regextrans2", "s,\\\",',g", "--regextrans2", "s,\\s+(?=/|$),,g", "--regextrans2",
              "s,^(Briefcase|Calendar|Contacts|Emailed Contacts|Notebook|Tasks)(?=/|$), $1 "
              "Folder,ig",
              "--host1", "old.example", "--host2", "localhost", "--port2", "143", "--user1", "u",
              "--user2", "u", "--password1", "p", "--password2", "p", "--regextrans2", "s,\\\",-,g",
              "--regextrans2", "s,&AAo-|&AA0ACg-|&AA0ACgANAAo-(?=/|$),,g", "--pidfile", "x.pid",
              "--pidfilelocking", "--logfile", "x"),
        0);
    assert_int_equal(o.nnotices, 0);
    assert_int_equal(o.v[OPT_REGEXFLAG].nlist, 2);
    assert_string_equal(o.v[OPT_REGEXFLAG].list[1], "tr,:\"/,_,");
    assert_int_equal(o.v[OPT_REGEXTRANS2].nlist, 7);
    assert_string_equal(o.v[OPT_REGEXTRANS2].list[0], "s,:,-,g");
    assert_string_equal(o.v[OPT_REGEXTRANS2].list[6], "s,&AAo-|&AA0ACg-|&AA0ACgANAAo-(?=/|$),,g");
    assert_string_equal(o.v[OPT_EXCLUDE].list[0], "(?i)\\b(Junk|Spam|Trash)\\b");
    assert_true(options_on(&o, OPT_SUBSCRIBE));
    assert_true(options_on(&o, OPT_SYNCINTERNALDATES));
    assert_true(options_on(&o, OPT_PIDFILELOCKING));
    assert_int_equal(o.v[OPT_PORT2].num, 143);
    assert_string_equal(o.v[OPT_PASSWORD2].str, "p");
    options_free(&o);

    /* Script 2. */
    assert_int_equal(PARSE(&o, &st, "--host1", "a", "--user1", "u", "--password1", "p",
                           "--authmech1", "LOGIN", "--ssl1", "--host2", "b", "--user2", "v",
                           "--password2", "q", "--authmech2", "LOGIN", "--ssl2", "--exclude",
                           "Trash|Spam|Drafts", "--folder", "Sent", "--regextrans2",
                           "s/Sent/Sent Items/", "--skipsize"),
                     0);
    assert_int_equal(o.nnotices, 0);
    assert_string_equal(o.v[OPT_FOLDER].list[0], "Sent");
    assert_string_equal(o.v[OPT_EXCLUDE].list[0], "Trash|Spam|Drafts");
    assert_string_equal(o.v[OPT_REGEXTRANS2].list[0], "s/Sent/Sent Items/");
    assert_true(options_on(&o, OPT_SSL1));
    assert_true(options_on(&o, OPT_SSL2));
    assert_true(options_on(&o, OPT_SKIPSIZE));
    assert_string_equal(o.v[OPT_AUTHMECH2].str, "LOGIN");
    options_free(&o);
}

static void test_errors(void **state)
{
    (void)state;
    REFUSED("unknown option: --bogus", "--bogus");
    REFUSED("--port1 needs a whole number", "--port1", "14x");
    REFUSED("extra argument", "--user1", "u", "leftover");
    REFUSED("needs a value", "--host1");
    REFUSED("option --dry takes no value", "--dry=1");
    REFUSED("option --nodry takes no value", "--nodry=yes");
    REFUSED("--timeout needs a number", "--timeout", "soon");
}

static void test_password_wiped(void **state)
{
    (void)state;
    char a0[] = "imapferry", a1[] = "--password1", a2[] = "s3cret", a3[] = "--password2=t0p";
    char *argv[] = {a0, a1, a2, a3, NULL};
    struct options o;
    struct status st;
    assert_int_equal(parse(&o, &st, argv), 0);
    assert_string_equal(o.v[OPT_PASSWORD1].str, "s3cret");
    assert_string_equal(o.v[OPT_PASSWORD2].str, "t0p");
    assert_null(strstr(a2, "s3cret"));
    assert_null(strstr(a3, "t0p"));
    assert_string_equal(a3, "--password2=MAS");
    assert_string_equal(a2, "MASKED");
    options_free(&o);

    /* Wiped too when parsing stops earlier, and for a refused secret option;
     * a value that only looks like an option name is not taken for one. */
    char b1[] = "--maxlinelengthcmd", b2[] = "3", b3[] = "--PASSWORD1", b4[] = "s3cret",
         b5[] = "--oauthdirect2", b6[] = "t0ken", b7[] = "--folder", b8[] = "--password1",
         b9[] = "Sent";
    char *argv2[] = {a0, b1, b2, b3, b4, b5, b6, b7, b8, b9, NULL};
    assert_int_equal(parse(&o, &st, argv2), -1);
    assert_string_equal(b4, "MASKED");
    assert_string_equal(b6, "MASKE");
    assert_string_equal(b9, "Sent");
    options_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),          cmocka_unit_test(test_lists),
        cmocka_unit_test(test_statuses),       cmocka_unit_test(test_ambiguous),
        cmocka_unit_test(test_every_spelling), cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_password_wiped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
