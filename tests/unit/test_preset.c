/* Unit tests for preset: each provider preset's bundle (imapsync 2.290's
 * values, user options winning, the --noX cancellations), --sslargsN and
 * --authmd5N, and that the result goes through config_build. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "options.h"
#include "preset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
    struct options o;
    struct sbuf said;
    struct status st;
    int rc; /* preset_apply's */
};

/* Parses the words (argv[0] added) and applies the presets. */
static void apply_words(struct run *r, const char *const *words)
{
    char *argv[128];
    int argc = 0;
    argv[argc++] = strdup("imapferry");
    for (; *words; words++) {
        assert_true(argc < 127);
        argv[argc++] = strdup(*words);
    }
    argv[argc] = NULL;
    status_clear(&r->st);
    assert_int_equal(options_parse(argc, argv, &r->o, &r->st), 0);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    r->said = (struct sbuf)SBUF_INIT;
    r->rc = preset_apply(&r->o, &r->said, &r->st);
}

#define APPLY(r, ...) apply_words(r, (const char *const[]){__VA_ARGS__, NULL})

static void done(struct run *r)
{
    options_free(&r->o);
    sbuf_free(&r->said);
}

static const char *said(const struct run *r)
{
    return r->said.data ? r->said.data : "";
}

/* The list's values joined by '\n', for one comparison. */
static char *joined(const struct run *r, enum options_id id)
{
    struct sbuf b = SBUF_INIT;
    for (size_t i = 0; i < r->o.v[id].nlist; i++)
        sbuf_addf(&b, "%s%s", i ? "\n" : "", r->o.v[id].list[i]);
    return sbuf_take(&b);
}

#define ASSERT_LIST(r, id, want)                                                                   \
    do {                                                                                           \
        char *got_ = joined(r, id);                                                                \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static const char gmail_last[] = "[Gmail]/Sent Mail\n[Gmail]/Important\n[Gmail]/Starred\n"
                                 "[Gmail]/Drafts\n[Gmail]/Trash\n[Gmail]/Spam\n[Gmail]/Chats\n"
                                 "[Gmail]/All Mail";

static void test_nothing_asked(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--host1", "h", "--regexmess", "s/a/b/");
    assert_int_equal(r.rc, 0);
    assert_string_equal(said(&r), "");
    assert_false(r.o.v[OPT_HOST2].given);
    assert_false(r.o.v[OPT_SSL1].given);
    assert_false(r.o.v[OPT_AUTOMAP].given);
    assert_false(r.o.v[OPT_DISARMREADRECEIPTS].given);
    ASSERT_LIST(&r, OPT_REGEXMESS, "s/a/b/");
    done(&r);
}

static void test_gmail1(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--gmail1", "--regextrans2", "s/x/y/");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.v[OPT_HOST1].str, "imap.gmail.com");
    assert_true(options_on(&r.o, OPT_SSL1));
    assert_false(r.o.v[OPT_HOST2].given);
    assert_false(r.o.v[OPT_SSL2].given);
    assert_int_equal(r.o.v[OPT_MAXBYTESPERSECOND].num, 300000);
    assert_int_equal(r.o.v[OPT_MAXBYTESAFTER].num, 3000000000L);
    assert_true(options_on(&r.o, OPT_AUTOMAP));
    assert_false(r.o.v[OPT_SYNCLABELS].given); /* labels only with --gmail2 too */
    /* The user's rule first, then the preset's, as imapsync pushes. */
    ASSERT_LIST(&r, OPT_REGEXTRANS2, "s/x/y/\ns,\\[Gmail\\].,,");
    ASSERT_LIST(&r, OPT_FOLDERLAST, gmail_last);
    assert_int_equal(r.o.v[OPT_EXCLUDE].nlist, 0);
    assert_non_null(strstr(said(&r), "imapferry: --gmail1 is like: --host1 imap.gmail.com --ssl1 "
                                     "--maxbytespersecond 300000 --maxbytesafter 3000000000 "
                                     "--automap --regextrans2 's,\\[Gmail\\].,,' --folderlast "
                                     "'[Gmail]/Sent Mail'"));
    /* imapsync 2.229 and 2.290 alike: the identity and cross-duplicates. */
    assert_true(options_on(&r.o, OPT_SKIPCROSSDUPLICATES));
    ASSERT_LIST(&r, OPT_USEHEADER, "X-Gmail-Received\nMessage-Id");
    assert_non_null(strstr(said(&r), "--skipcrossduplicates --useheader X-Gmail-Received "
                                     "--useheader Message-Id\n"));
    assert_null(strstr(said(&r), "left out"));
    done(&r);

    /* The user's --useheader first (imapsync pushes after it), and
     * --noskipcrossduplicates wins. */
    APPLY(&r, "--gmail1", "--useheader", "Subject", "--noskipcrossduplicates");
    ASSERT_LIST(&r, OPT_USEHEADER, "Subject\nX-Gmail-Received\nMessage-Id");
    assert_false(options_on(&r.o, OPT_SKIPCROSSDUPLICATES));
    done(&r);
}

static void test_gmail2(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--gmail2", "--exclude", "^Junk$");
    assert_int_equal(r.rc, 0);
    assert_false(r.o.v[OPT_HOST1].given);
    assert_string_equal(r.o.v[OPT_HOST2].str, "imap.gmail.com");
    assert_true(options_on(&r.o, OPT_SSL2));
    assert_int_equal(r.o.v[OPT_MAXBYTESPERSECOND].num, 300000);
    assert_int_equal(r.o.v[OPT_MAXBYTESAFTER].num, 3000000000L);
    assert_true(options_on(&r.o, OPT_AUTOMAP));
    ASSERT_LIST(&r, OPT_EXCLUDE, "^Junk$\n\\[Gmail\\]$");
    ASSERT_LIST(&r, OPT_REGEXTRANS2,
                "s,\\[Gmail\\].,,\ns,^ +| +$,,g\ns,/ +| +/,/,g\ns/['\\^\"]/_/g");
    ASSERT_LIST(&r, OPT_FOLDERLAST, gmail_last);
    ASSERT_LIST(&r, OPT_USEHEADER, "Message-Id");
    assert_non_null(strstr(said(&r), "--useheader Message-Id"));
    assert_non_null(strstr(said(&r), "left out (see PRESETS in imapferry(1)): --expunge1 "
                                     "--addheader\n"));
    /* Nothing that deletes or rewrites was switched on behind the user's back. */
    assert_false(r.o.v[OPT_EXPUNGE1].given);
    assert_false(r.o.v[OPT_ADDHEADER].given);
    assert_false(r.o.v[OPT_SKIPCROSSDUPLICATES].given);
    done(&r);

    APPLY(&r, "--gmail2", "--noexclude");
    assert_int_equal(r.o.v[OPT_EXCLUDE].nlist, 0);
    done(&r);
}

static void test_gmail12(void **state)
{
    (void)state;
    struct run r;
    /* Both together are imapsync's gmail12: no regextrans2, an exclude
     * --noexclude does not cancel, and the other presets are skipped. */
    APPLY(&r, "--gmail2", "--gmail1", "--noexclude", "--office2");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.v[OPT_HOST1].str, "imap.gmail.com");
    assert_string_equal(r.o.v[OPT_HOST2].str, "imap.gmail.com");
    assert_true(options_on(&r.o, OPT_SSL1));
    assert_true(options_on(&r.o, OPT_SSL2));
    assert_int_equal(r.o.v[OPT_MAXBYTESPERSECOND].num, 300000);
    assert_int_equal(r.o.v[OPT_MAXBYTESAFTER].num, 3000000000L);
    ASSERT_LIST(&r, OPT_EXCLUDE, "\\[Gmail\\]$");
    assert_int_equal(r.o.v[OPT_REGEXTRANS2].nlist, 0);
    ASSERT_LIST(&r, OPT_FOLDERLAST, gmail_last);
    assert_false(r.o.v[OPT_MAXSIZE].given);
    assert_false(r.o.v[OPT_REGEXMESS].given);
    assert_non_null(strstr(said(&r), "imapferry: --gmail1 --gmail2 is like: --host1"));
    assert_non_null(strstr(said(&r), "--synclabels --resynclabels"));
    assert_true(options_on(&r.o, OPT_SYNCLABELS));
    assert_true(options_on(&r.o, OPT_RESYNCLABELS));
    assert_null(strstr(said(&r), "office2"));
    /* gmail12 keys like gmail1 but keeps --skipcrossduplicates off. */
    ASSERT_LIST(&r, OPT_USEHEADER, "X-Gmail-Received\nMessage-Id");
    assert_false(r.o.v[OPT_SKIPCROSSDUPLICATES].given);
    done(&r);
}

static void test_user_wins(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--gmail1", "--host1", "127.0.0.1", "--notls1", "--maxbytespersecond", "0",
          "--noautomap", "--folderlast", "[Gmail]/Trash");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.v[OPT_HOST1].str, "127.0.0.1");
    /* A TLS choice keeps implicit TLS out. */
    assert_false(r.o.v[OPT_SSL1].given);
    /* An explicit 0 is kept (imapsync's ||= would put 300000 back). */
    assert_int_equal(r.o.v[OPT_MAXBYTESPERSECOND].num, 0);
    assert_int_equal(r.o.v[OPT_MAXBYTESAFTER].num, 3000000000L);
    assert_false(options_on(&r.o, OPT_AUTOMAP));
    /* A value already in a list is not added twice. */
    assert_int_equal(r.o.v[OPT_FOLDERLAST].nlist, 8);
    assert_string_equal(r.o.v[OPT_FOLDERLAST].list[0], "[Gmail]/Trash");
    assert_null(strstr(said(&r), "--host1"));
    assert_null(strstr(said(&r), "--ssl1"));
    assert_null(strstr(said(&r), "--automap"));
    done(&r);

    APPLY(&r, "--gmail1", "--nossl1");
    assert_false(options_on(&r.o, OPT_SSL1));
    assert_true(r.o.v[OPT_SSL1].given);
    done(&r);
}

static void test_office(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--office1", "--office2");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.v[OPT_HOST1].str, "outlook.office365.com");
    assert_string_equal(r.o.v[OPT_HOST2].str, "outlook.office365.com");
    assert_true(options_on(&r.o, OPT_SSL1));
    assert_true(options_on(&r.o, OPT_SSL2));
    ASSERT_LIST(&r, OPT_EXCLUDE, "^Files$");
    assert_int_equal(r.o.v[OPT_MAXSIZE].num, 45000000);
    assert_true(r.o.v[OPT_MAXMESSAGESPERSECOND].fnum == 4.0);
    assert_true(options_on(&r.o, OPT_DISARMREADRECEIPTS));
    ASSERT_LIST(&r, OPT_REGEXMESS, "s,(.{10239}),$1\\r\\n,g");
    ASSERT_LIST(&r, OPT_F1F2, "Files=Files_renamed_by_imapsync");
    assert_false(r.o.v[OPT_AUTOMAP].given);
    assert_non_null(strstr(said(&r), "imapferry: --office1 is like: --host1 outlook.office365.com "
                                     "--ssl1 --exclude '^Files$'\n"));
    assert_non_null(strstr(said(&r), "imapferry: --office2 is like: --host2 outlook.office365.com "
                                     "--ssl2 --maxsize 45000000 --maxmessagespersecond 4 "
                                     "--disarmreadreceipts --regexmess"));
    done(&r);

    APPLY(&r, "--office1", "--office2", "--noexclude", "--noregexmess", "--nof1f2",
          "--nodisarmreadreceipts", "--maxsize", "1000", "--regexmess", "s/a/b/");
    assert_int_equal(r.o.v[OPT_EXCLUDE].nlist, 0);
    ASSERT_LIST(&r, OPT_REGEXMESS, "s/a/b/");
    assert_int_equal(r.o.v[OPT_F1F2].nlist, 0);
    assert_false(options_on(&r.o, OPT_DISARMREADRECEIPTS));
    assert_int_equal(r.o.v[OPT_MAXSIZE].num, 1000);
    done(&r);
}

static void test_exchange2(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--exchange2", "--regexflag", "s/x//", "--exchange1");
    assert_int_equal(r.rc, 0);
    assert_false(r.o.v[OPT_HOST2].given);
    assert_false(r.o.v[OPT_SSL2].given);
    assert_int_equal(r.o.v[OPT_MAXSIZE].num, 10000000);
    assert_true(r.o.v[OPT_MAXMESSAGESPERSECOND].fnum == 4.0);
    assert_true(options_on(&r.o, OPT_DISARMREADRECEIPTS));
    ASSERT_LIST(&r, OPT_REGEXFLAG, "s/x//\ns/\\\\Flagged//g");
    ASSERT_LIST(&r, OPT_REGEXMESS, "s,(.{10239}),$1\\r\\n,g");
    assert_null(strstr(said(&r), "exchange1"));
    done(&r);

    APPLY(&r, "--exchange2", "--noregexflag", "--noregexmess");
    assert_int_equal(r.o.v[OPT_REGEXFLAG].nlist, 0);
    assert_int_equal(r.o.v[OPT_REGEXMESS].nlist, 0);
    done(&r);

    /* office2 first, so its caps stay; the wrap rule is added once. */
    APPLY(&r, "--exchange2", "--office2");
    assert_int_equal(r.o.v[OPT_MAXSIZE].num, 45000000);
    assert_int_equal(r.o.v[OPT_REGEXMESS].nlist, 1);
    done(&r);
}

/* Domino: the separator and prefix of the side, Message-IDs without their
 * domain, and on host2 the Inbox level taken off; the user's values win. */
static void test_domino(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--domino1", "--domino2", "--prefix2", "X.");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.v[OPT_SEP1].str, "\\");
    assert_string_equal(r.o.v[OPT_PREFIX1].str, "");
    assert_string_equal(r.o.v[OPT_SEP2].str, "\\");
    assert_string_equal(r.o.v[OPT_PREFIX2].str, "X.");
    assert_true(options_on(&r.o, OPT_MESSAGEIDNODOMAIN));
    ASSERT_LIST(&r, OPT_REGEXTRANS2, "s,^Inbox\\\\(.*),$1,i");
    assert_non_null(strstr(said(&r), "--domino1 is like: --sep1 '\\' --prefix1 ''"));
    done(&r);
    APPLY(&r, "--domino1", "--nomessageidnodomain");
    assert_false(options_on(&r.o, OPT_MESSAGEIDNODOMAIN));
    assert_int_equal(r.o.v[OPT_REGEXTRANS2].nlist, 0);
    done(&r);
}

/* The bundles compile: every rule a preset adds passes config_build. */
static void test_config_builds(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--gmail2", "--office1", "--exchange2", "--user1", "a", "--password1", "p", "--user2",
          "b", "--password2", "q", "--nolog", "--pidfile", "");
    assert_int_equal(r.rc, 0);
    struct config c;
    struct status st;
    status_clear(&st);
    if (config_build(&r.o, &c, &st) < 0)
        fail_msg("config_build: %s", st.msg);
    assert_string_equal(c.side[0].host, "outlook.office365.com");
    assert_int_equal(c.side[0].port, 993);
    assert_int_equal(c.side[1].port, 993);
    assert_int_equal(c.folders.nregextrans2, 4);
    assert_int_equal(c.folders.nexclude, 2);
    assert_int_equal(c.regexflag.n, 1);
    /* The wrap rule, then --disarmreadreceipts' rule. */
    assert_int_equal(c.transform.nregexmess, 2);
    assert_string_equal(rx_source(c.transform.regexmess[1]), transform_disarm_rule);
    assert_true(c.maxsize == 10000000);
    assert_true(c.maxbps == 300000.0);
    assert_true(c.identity_on);
    assert_int_equal(c.identity.nfields, 1);
    assert_false(c.skipcrossduplicates);
    config_free(&c);
    done(&r);

    /* --gmail1 turns --skipcrossduplicates on, which imapsync refuses
     * beside --usecache (exit 64). */
    APPLY(&r, "--gmail1", "--usecache", "--host2", "h", "--user1", "a", "--password1", "p",
          "--user2", "b", "--password2", "q", "--nolog", "--pidfile", "");
    assert_int_equal(r.rc, 0);
    status_clear(&st);
    assert_int_equal(config_build(&r.o, &c, &st), -1);
    assert_int_equal(st.code, STATUS_USAGE);
    assert_non_null(strstr(st.msg, "--skipcrossduplicates"));
    assert_non_null(strstr(st.msg, "--usecache"));
    done(&r);
}

static void test_sslargs(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--sslargs1", "SSL_verify_mode=0", "--sslargs2", "SSL_verify_mode=1", "--sslargs2",
          "SSL_ca_file=/etc/ca.pem");
    assert_int_equal(r.rc, 0);
    assert_true(r.o.v[OPT_INSECURE1].given);
    assert_false(r.o.v[OPT_INSECURE2].given);
    assert_false(r.o.v[OPT_CAFILE1].given);
    assert_string_equal(r.o.v[OPT_CAFILE2].str, "/etc/ca.pem");
    done(&r);

    static const struct {
        const char *kv, *want;
    } bad[] = {
        {"SSL_verify_mode=2", "--sslargs1 SSL_verify_mode=2: give 0"},
        {"SSL_version=TLSv1_2", "--sslargs1 SSL_version is not supported: imapferry negotiates"},
        {"SSL_cipher_list=DEFAULT:!DH", "--sslargs1 SSL_cipher_list is not supported"},
        {"SSL_verifycn_scheme=imap", "--sslargs1 SSL_verifycn_scheme is not supported (only"},
        {"ssl_verify_mode=0", "--sslargs1 ssl_verify_mode is not supported"},
        {"SSL_ca_file=", "--sslargs1 SSL_ca_file= names no file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        APPLY(&r, "--sslargs1", bad[i].kv);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.st.code, STATUS_USAGE);
        if (strstr(r.st.msg, bad[i].want) == NULL)
            fail_msg("\"%s\" lacks \"%s\"", r.st.msg, bad[i].want);
        done(&r);
    }
    APPLY(&r, "--cafile2", "a.pem", "--sslargs2", "SSL_ca_file=b.pem");
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.st.msg, "--sslargs2 SSL_ca_file and --cafile2 name different files"));
    done(&r);
}

static void test_authmd5(void **state)
{
    (void)state;
    struct run r;
    APPLY(&r, "--authmd5");
    assert_string_equal(r.o.v[OPT_AUTHMECH1].str, "CRAM-MD5");
    assert_string_equal(r.o.v[OPT_AUTHMECH2].str, "CRAM-MD5");
    done(&r);
    APPLY(&r, "--authmd52", "--authmech2", "PLAIN");
    assert_false(r.o.v[OPT_AUTHMECH1].given);
    assert_string_equal(r.o.v[OPT_AUTHMECH2].str, "PLAIN");
    done(&r);
    APPLY(&r, "--authmd51", "--noauthmd52");
    assert_string_equal(r.o.v[OPT_AUTHMECH1].str, "CRAM-MD5");
    assert_false(r.o.v[OPT_AUTHMECH2].given);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_asked), cmocka_unit_test(test_gmail1),
        cmocka_unit_test(test_gmail2),        cmocka_unit_test(test_gmail12),
        cmocka_unit_test(test_user_wins),     cmocka_unit_test(test_office),
        cmocka_unit_test(test_exchange2),     cmocka_unit_test(test_config_builds),
        cmocka_unit_test(test_sslargs),       cmocka_unit_test(test_authmd5),
        cmocka_unit_test(test_domino),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
