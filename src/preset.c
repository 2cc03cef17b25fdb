/* preset: provider presets, --sslargsN and --authmd5N as the options they
 * mean, so the rest of the program knows only imapferry's own options. */
#include "preset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* imapsync 2.290's Gmail caps (2.229: 40_000 B/s after 3e9 on host1,
 * 20_000 B/s after 1e9 on host2 and for both) and folder order. */
#define GMAIL_BPS 300000
#define GMAIL_AFTER 3000000000L
static const char *const gmail_last[] = {
    "[Gmail]/Sent Mail", "[Gmail]/Important", "[Gmail]/Starred", "[Gmail]/Drafts",
    "[Gmail]/Trash",     "[Gmail]/Spam",      "[Gmail]/Chats",   "[Gmail]/All Mail",
};
#define GMAIL_HOST "imap.gmail.com"
#define OFFICE_HOST "outlook.office365.com"
/* imapsync's rules, as its Perl strings hold them. */
#define RULE_GMAIL_FOLDER "s,\\[Gmail\\].,,"
#define RULE_WRAP "s,(.{10239}),$1\\r\\n,g"
#define RULE_UNFLAG "s/\\\\Flagged//g"

/* One preset being applied: what it set, for the line that says so. */
struct bundle {
    struct options *o;
    struct sbuf set, out;
};

static void said_word(struct sbuf *b, const char *name, const char *val)
{
    sbuf_addf(b, " --%s", name);
    if (val == NULL)
        return;
    /* Quoted as a shell would need it, so the line can be pasted. */
    if (strpbrk(val, " \\$'\"[]^|*()?&;<>") == NULL && *val)
        sbuf_addf(b, " %s", val);
    else {
        sbuf_adds(b, " '");
        for (const char *p = val; *p; p++)
            if (*p == '\'')
                sbuf_adds(b, "'\\''");
            else
                sbuf_addc(b, *p);
        sbuf_addc(b, '\'');
    }
}

static void set_str(struct bundle *b, enum options_id id, const char *name, const char *val)
{
    struct options_value *v = &b->o->v[id];
    if (v->given && v->str && *v->str)
        return;
    free(v->str);
    v->str = sbuf_xstrdup(val);
    v->given = 1;
    said_word(&b->set, name, val);
}

/* A negatable flag the preset turns on unless the user chose. */
static void set_flag(struct bundle *b, enum options_id id, const char *name)
{
    struct options_value *v = &b->o->v[id];
    if (v->given)
        return;
    v->given = 1;
    v->on = 1;
    said_word(&b->set, name, NULL);
}

static void set_int(struct bundle *b, enum options_id id, const char *name, long n)
{
    struct options_value *v = &b->o->v[id];
    if (v->given)
        return;
    v->given = 1;
    v->num = n;
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", n);
    said_word(&b->set, name, buf);
}

static void set_float(struct bundle *b, enum options_id id, const char *name, double n)
{
    struct options_value *v = &b->o->v[id];
    if (v->given)
        return;
    v->given = 1;
    v->fnum = n;
    char buf[32];
    snprintf(buf, sizeof buf, "%g", n);
    said_word(&b->set, name, buf);
}

/* Implicit TLS as imapsync sets it, unless the user chose a transport. */
static void set_ssl(struct bundle *b, int side)
{
    enum options_id ssl = side == 1 ? OPT_SSL1 : OPT_SSL2, tls = side == 1 ? OPT_TLS1 : OPT_TLS2;
    if (!b->o->v[tls].given)
        set_flag(b, ssl, side == 1 ? "ssl1" : "ssl2");
}

/* Appends after the user's values, as imapsync's push does; a value already
 * there (two presets adding the same rule) is not added twice. */
static void push(struct bundle *b, enum options_id id, const char *name, const char *val)
{
    struct options_value *v = &b->o->v[id];
    for (size_t i = 0; i < v->nlist; i++)
        if (strcmp(v->list[i], val) == 0)
            return;
    v->list = sbuf_xrealloc(v->list, (v->nlist + 1) * sizeof *v->list);
    v->list[v->nlist++] = sbuf_xstrdup(val);
    v->given = 1;
    said_word(&b->set, name, val);
}

static int given(const struct options *o, enum options_id id)
{
    return o->v[id].given;
}

static void gmail_common(struct bundle *b)
{
    set_int(b, OPT_MAXBYTESPERSECOND, "maxbytespersecond", GMAIL_BPS);
    set_int(b, OPT_MAXBYTESAFTER, "maxbytesafter", GMAIL_AFTER);
    set_flag(b, OPT_AUTOMAP, "automap");
}

static void gmail_last_folders(struct bundle *b)
{
    for (size_t i = 0; i < sizeof gmail_last / sizeof gmail_last[0]; i++)
        push(b, OPT_FOLDERLAST, "folderlast", gmail_last[i]);
}

/* Gmail adds X-Gmail-Received to what it delivers; imapsync keys on it
 * beside Message-Id (after any --useheader of the user's). */
static void gmail_identity(struct bundle *b)
{
    push(b, OPT_USEHEADER, "useheader", "X-Gmail-Received");
    push(b, OPT_USEHEADER, "useheader", "Message-Id");
}

static void gmail12(struct bundle *b)
{
    set_str(b, OPT_HOST1, "host1", GMAIL_HOST);
    set_ssl(b, 1);
    set_str(b, OPT_HOST2, "host2", GMAIL_HOST);
    set_ssl(b, 2);
    gmail_common(b);
    /* imapsync's gmail12 adds it whatever --noexclude says. */
    push(b, OPT_EXCLUDE, "exclude", "\\[Gmail\\]$");
    gmail_last_folders(b);
    gmail_identity(b);
    set_flag(b, OPT_SYNCLABELS, "synclabels");
    set_flag(b, OPT_RESYNCLABELS, "resynclabels");
}

static void gmail1(struct bundle *b)
{
    set_str(b, OPT_HOST1, "host1", GMAIL_HOST);
    set_ssl(b, 1);
    gmail_common(b);
    push(b, OPT_REGEXTRANS2, "regextrans2", RULE_GMAIL_FOLDER);
    gmail_last_folders(b);
    set_flag(b, OPT_SKIPCROSSDUPLICATES, "skipcrossduplicates");
    gmail_identity(b);
}

static void gmail2(struct bundle *b)
{
    set_str(b, OPT_HOST2, "host2", GMAIL_HOST);
    set_ssl(b, 2);
    gmail_common(b);
    if (!given(b->o, OPT_NOEXCLUDE))
        push(b, OPT_EXCLUDE, "exclude", "\\[Gmail\\]$");
    push(b, OPT_REGEXTRANS2, "regextrans2", RULE_GMAIL_FOLDER);
    /* Blanks around the levels, then characters Gmail refuses in labels. */
    push(b, OPT_REGEXTRANS2, "regextrans2", "s,^ +| +$,,g");
    push(b, OPT_REGEXTRANS2, "regextrans2", "s,/ +| +/,/,g");
    push(b, OPT_REGEXTRANS2, "regextrans2", "s/['\\^\"]/_/g");
    gmail_last_folders(b);
    push(b, OPT_USEHEADER, "useheader", "Message-Id");
    sbuf_adds(&b->out, " --expunge1 --addheader");
}

static void office1(struct bundle *b)
{
    set_str(b, OPT_HOST1, "host1", OFFICE_HOST);
    set_ssl(b, 1);
    if (!given(b->o, OPT_NOEXCLUDE))
        push(b, OPT_EXCLUDE, "exclude", "^Files$");
}

static void wrap_and_disarm(struct bundle *b)
{
    set_flag(b, OPT_DISARMREADRECEIPTS, "disarmreadreceipts");
    if (!given(b->o, OPT_NOREGEXMESS))
        push(b, OPT_REGEXMESS, "regexmess", RULE_WRAP);
}

static void office2(struct bundle *b)
{
    set_str(b, OPT_HOST2, "host2", OFFICE_HOST);
    set_ssl(b, 2);
    set_int(b, OPT_MAXSIZE, "maxsize", 45000000);
    set_float(b, OPT_MAXMESSAGESPERSECOND, "maxmessagespersecond", 4);
    wrap_and_disarm(b);
    if (!given(b->o, OPT_NOF1F2))
        push(b, OPT_F1F2, "f1f2", "Files=Files_renamed_by_imapsync");
}

static void exchange2(struct bundle *b)
{
    set_int(b, OPT_MAXSIZE, "maxsize", 10000000);
    set_float(b, OPT_MAXMESSAGESPERSECOND, "maxmessagespersecond", 4);
    set_flag(b, OPT_DISARMREADRECEIPTS, "disarmreadreceipts");
    if (!given(b->o, OPT_NOREGEXFLAG))
        push(b, OPT_REGEXFLAG, "regexflag", RULE_UNFLAG);
    if (!given(b->o, OPT_NOREGEXMESS))
        push(b, OPT_REGEXMESS, "regexmess", RULE_WRAP);
}

/* Lotus Domino: "\\" between levels, no personal prefix, and Message-IDs
 * whose domain part it rewrites, so identity keeps the part before "@". */
static void domino_side(struct bundle *b, int side)
{
    set_str(b, side == 1 ? OPT_SEP1 : OPT_SEP2, side == 1 ? "sep1" : "sep2", "\\");
    set_str(b, side == 1 ? OPT_PREFIX1 : OPT_PREFIX2, side == 1 ? "prefix1" : "prefix2", "");
    set_flag(b, OPT_MESSAGEIDNODOMAIN, "messageidnodomain");
}

static void domino1(struct bundle *b)
{
    domino_side(b, 1);
}

static void domino2(struct bundle *b)
{
    domino_side(b, 2);
    /* Domino's Inbox has its folders under it: they go up one level. */
    push(b, OPT_REGEXTRANS2, "regextrans2", "s,^Inbox\\\\(.*),$1,i");
}

static void run_preset(struct options *o, const char *name, void (*fn)(struct bundle *),
                       struct sbuf *said)
{
    struct bundle b = {o, SBUF_INIT, SBUF_INIT};
    fn(&b);
    sbuf_addf(said, "imapferry: --%s is like:%s", name, b.set.len ? b.set.data : " (all given)");
    if (b.out.len)
        sbuf_addf(said, "; left out (see PRESETS in imapferry(1)):%s", b.out.data);
    sbuf_addc(said, '\n');
    sbuf_free(&b.set);
    sbuf_free(&b.out);
}

static int sslargs(struct options *o, int side, struct status *st)
{
    const struct options_value *v = &o->v[side == 1 ? OPT_SSLARGS1 : OPT_SSLARGS2];
    struct options_value *cafile = &o->v[side == 1 ? OPT_CAFILE1 : OPT_CAFILE2];
    struct options_value *insecure = &o->v[side == 1 ? OPT_INSECURE1 : OPT_INSECURE2];
    for (size_t i = 0; i < v->nlist; i++) {
        const char *kv = v->list[i], *eq = strchr(kv, '=');
        if (eq == NULL)
            return status_set(st, STATUS_USAGE, "--sslargs%d needs KEY=VALUE, not \"%.100s\"", side,
                              kv);
        size_t klen = (size_t)(eq - kv);
        const char *val = eq + 1;
        if (klen == 15 && strncmp(kv, "SSL_verify_mode", klen) == 0) {
            if (strcmp(val, "0") == 0) {
                insecure->given = 1;
                insecure->on = 1;
            } else if (strcmp(val, "1") != 0) {
                return status_set(st, STATUS_USAGE,
                                  "--sslargs%d SSL_verify_mode=%.50s: give 0 (no verification, "
                                  "as --insecure%d) or 1 (verification, the default)",
                                  side, val, side);
            }
        } else if (klen == 11 && strncmp(kv, "SSL_ca_file", klen) == 0) {
            if (!*val)
                return status_set(st, STATUS_USAGE, "--sslargs%d SSL_ca_file= names no file", side);
            if (cafile->given && strcmp(cafile->str, val) != 0)
                return status_set(st, STATUS_USAGE,
                                  "--sslargs%d SSL_ca_file and --cafile%d name different files",
                                  side, side);
            free(cafile->str);
            cafile->str = sbuf_xstrdup(val);
            cafile->given = 1;
        } else if ((klen == 11 && strncmp(kv, "SSL_version", klen) == 0) ||
                   (klen == 15 && strncmp(kv, "SSL_cipher_list", klen) == 0)) {
            return status_set(st, STATUS_USAGE,
                              "--sslargs%d %.*s is not supported: imapferry negotiates TLS 1.2 "
                              "or newer with OpenSSL's default ciphers",
                              side, (int)klen, kv);
        } else {
            return status_set(st, STATUS_USAGE,
                              "--sslargs%d %.*s is not supported (only SSL_verify_mode and "
                              "SSL_ca_file are)",
                              side, (int)(klen > 60 ? 60 : klen), kv);
        }
    }
    return 0;
}

/* imapsync: --authmd5 is --authmd51 --authmd52; each is authmechN ||= CRAM-MD5. */
static void authmd5(struct options *o)
{
    int both = options_on(o, OPT_AUTHMD5);
    const enum options_id flag[2] = {OPT_AUTHMD51, OPT_AUTHMD52};
    const enum options_id mech[2] = {OPT_AUTHMECH1, OPT_AUTHMECH2};
    for (int i = 0; i < 2; i++) {
        struct options_value *m = &o->v[mech[i]];
        if (!(both || options_on(o, flag[i])) || (m->given && m->str && *m->str))
            continue;
        free(m->str);
        m->str = sbuf_xstrdup("CRAM-MD5");
        m->given = 1;
    }
}

int preset_apply(struct options *o, struct sbuf *said, struct status *st)
{
    int g1 = given(o, OPT_GMAIL1), g2 = given(o, OPT_GMAIL2);
    /* imapsync's easyany: gmail12 alone, or gmail1/gmail2 and the others. */
    if (g1 && g2) {
        run_preset(o, "gmail1 --gmail2", gmail12, said);
    } else {
        if (g1)
            run_preset(o, "gmail1", gmail1, said);
        if (g2)
            run_preset(o, "gmail2", gmail2, said);
        if (given(o, OPT_OFFICE1))
            run_preset(o, "office1", office1, said);
        if (given(o, OPT_OFFICE2))
            run_preset(o, "office2", office2, said);
        if (given(o, OPT_EXCHANGE2))
            run_preset(o, "exchange2", exchange2, said);
    }
    if (given(o, OPT_DOMINO1))
        run_preset(o, "domino1", domino1, said);
    if (given(o, OPT_DOMINO2))
        run_preset(o, "domino2", domino2, said);
    authmd5(o);
    if (sslargs(o, 1, st) < 0 || sslargs(o, 2, st) < 0)
        return -1;
    return 0;
}
