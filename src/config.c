/* config: turns the parsed options into the immutable settings of a run:
 * defaults, cross-option checks, password sources, compiled rule lists. */
#include "config.h"

#include "flagrule.h"
#include "hdrdate.h"
#include "lock.h"
#include "log.h"
#include "msg_plan.h"
#include "net.h"
#include "pipemess.h"
#include "sbuf.h"
#include "secret.h"
#include "statedir.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_TIMEOUT 120.0

static char *dup_or_null(const char *s)
{
    return s ? sbuf_xstrdup(s) : NULL;
}

/* The options of one side, so both sides share one validation. */
struct side_ids {
    enum options_id host, port, user, password, ssl, tls, timeout, cafile, insecure, passfile,
        authmech, authuser, oauth, reconnect, sep, prefix, proxyauth;
};

static const struct side_ids side_ids[2] = {
    {OPT_HOST1, OPT_PORT1, OPT_USER1, OPT_PASSWORD1, OPT_SSL1, OPT_TLS1, OPT_TIMEOUT1, OPT_CAFILE1,
     OPT_INSECURE1, OPT_PASSFILE1, OPT_AUTHMECH1, OPT_AUTHUSER1, OPT_OAUTH1, OPT_RECONNECT1,
     OPT_SEP1, OPT_PREFIX1, OPT_PROXYAUTH1},
    {OPT_HOST2, OPT_PORT2, OPT_USER2, OPT_PASSWORD2, OPT_SSL2, OPT_TLS2, OPT_TIMEOUT2, OPT_CAFILE2,
     OPT_INSECURE2, OPT_PASSFILE2, OPT_AUTHMECH2, OPT_AUTHUSER2, OPT_OAUTH2, OPT_RECONNECT2,
     OPT_SEP2, OPT_PREFIX2, OPT_PROXYAUTH2},
};

/* A negatable flag: its value when given, dflt otherwise. */
static int flag_or(const struct options *o, enum options_id id, int dflt)
{
    return o->v[id].given ? o->v[id].on : dflt;
}

/* Compiles each value of a repeatable rule option, in command-line order,
 * after the rules already in out (so a built-in rule can go first). */
static int compile_rules(const struct options *o, enum options_id id, const char *opt, int bare,
                         struct config_rules *out, struct status *st)
{
    const struct options_value *v = &o->v[id];
    for (size_t i = 0; i < v->nlist; i++) {
        struct rx_rule *r = NULL;
        int rc = bare ? rx_compile_pattern(v->list[i], &r, st) : rx_compile(v->list[i], &r, st);
        if (rc < 0)
            return status_prefix(st, STATUS_USAGE, opt);
        out->r = sbuf_xrealloc(out->r, (out->n + 1) * sizeof *out->r);
        out->r[out->n++] = r;
    }
    return 0;
}

static void free_rules(struct config_rules *l)
{
    for (size_t i = 0; i < l->n; i++)
        rx_free(l->r[i]);
    free(l->r);
    l->r = NULL;
    l->n = 0;
}

/* Rule lists are handed to the planners as read-only arrays. */
static const struct rx_rule *const *ro(const struct config_rules *l)
{
    return (const struct rx_rule *const *)l->r;
}

static const char *const *strs(const struct options *o, enum options_id id, size_t *n)
{
    *n = o->v[id].nlist;
    return (const char *const *)o->v[id].list;
}

static int build_folders(const struct options *o, struct config *c, struct status *st)
{
    if (compile_rules(o, OPT_INCLUDE, "--include", 1, &c->include, st) < 0 ||
        compile_rules(o, OPT_EXCLUDE, "--exclude", 1, &c->exclude, st) < 0 ||
        compile_rules(o, OPT_REGEXTRANS2, "--regextrans2", 0, &c->regextrans2, st) < 0)
        return -1;
    struct folder_plan_rules *f = &c->folders;
    f->folder = strs(o, OPT_FOLDER, &f->nfolder);
    f->folderrec = strs(o, OPT_FOLDERREC, &f->nfolderrec);
    f->folderfirst = strs(o, OPT_FOLDERFIRST, &f->nfolderfirst);
    f->folderlast = strs(o, OPT_FOLDERLAST, &f->nfolderlast);
    f->f1f2 = strs(o, OPT_F1F2, &f->nf1f2);
    for (size_t i = 0; i < f->nf1f2; i++)
        if (strchr(f->f1f2[i], '=') == NULL)
            return status_set(st, STATUS_USAGE, "--f1f2 \"%.200s\" needs the form FOLDER1=FOLDER2",
                              f->f1f2[i]);
    f->subscribed = o->v[OPT_SUBSCRIBED].given;
    f->include = ro(&c->include);
    f->ninclude = c->include.n;
    f->exclude = ro(&c->exclude);
    f->nexclude = c->exclude.n;
    f->regextrans2 = ro(&c->regextrans2);
    f->nregextrans2 = c->regextrans2.n;
    f->checkfoldersexist = flag_or(o, OPT_CHECKFOLDERSEXIST, 1);
    f->subfolder1 = o->v[OPT_SUBFOLDER1].str;
    f->subfolder2 = o->v[OPT_SUBFOLDER2].str;
    f->automap = flag_or(o, OPT_AUTOMAP, 0) || o->v[OPT_JUSTAUTOMAP].given;
    f->subscribe = flag_or(o, OPT_SUBSCRIBE, 1);
    f->subscribeall = flag_or(o, OPT_SUBSCRIBEALL, 0);
    c->skipemptyfolders = flag_or(o, OPT_SKIPEMPTYFOLDERS, 0);
    c->justfoldersizes = flag_or(o, OPT_JUSTFOLDERSIZES, 0);
    c->debug = flag_or(o, OPT_DEBUG, 0);
    c->justfolderlists = flag_or(o, OPT_JUSTFOLDERLISTS, 0);
    c->justautomap = flag_or(o, OPT_JUSTAUTOMAP, 0);
    return 0;
}

/* imapsync's --maxage/--minage: SENTSINCE / SENTBEFORE the day that many
 * days ago, in local time (the Date: header at day granularity). */
static void age_day(double days, char *buf, size_t n)
{
    time_t t = time(NULL) - (time_t)(days * 86400.0);
    struct tm tm;
    localtime_r(&t, &tm);
    snprintf(buf, n, "%02d-%s-%04d", tm.tm_mday, hdrdate_month(tm.tm_mon), tm.tm_year + 1900);
}

static void build_search(const struct options *o, struct config *c)
{
    const char *both = o->v[OPT_SEARCH].str;
    const char *side[2] = {o->v[OPT_SEARCH1].str, o->v[OPT_SEARCH2].str};
    char since[32], before[32], age[96] = "";
    int max = o->v[OPT_MAXAGE].given, min = o->v[OPT_MINAGE].given;
    if (max)
        age_day(o->v[OPT_MAXAGE].fnum, since, sizeof since);
    if (min)
        age_day(o->v[OPT_MINAGE].fnum, before, sizeof before);
    if (max && min)
        /* Overlapping windows intersect; disjoint ones (minage > maxage)
         * mean "either end", as in imapsync. */
        snprintf(age, sizeof age, "%sSENTSINCE %s SENTBEFORE %s",
                 o->v[OPT_MINAGE].fnum <= o->v[OPT_MAXAGE].fnum ? "" : "OR ", since, before);
    else if (max)
        snprintf(age, sizeof age, "SENTSINCE %s", since);
    else if (min)
        snprintf(age, sizeof age, "SENTBEFORE %s", before);
    for (int i = 0; i < 2; i++) {
        const char *q = side[i] ? side[i] : both ? both : *age ? age : NULL;
        c->search[i] = q ? sbuf_xstrdup(q) : NULL;
    }
}

static int build_flags(const struct options *o, struct config *c, struct status *st)
{
    if (flag_or(o, OPT_FILTERBUGGYFLAGS, 0)) {
        struct rx_rule *r = NULL;
        if (rx_compile(flagrule_buggy, &r, st) < 0)
            return status_prefix(st, STATUS_INTERNAL, "--filterbuggyflags");
        c->regexflag.r = sbuf_xcalloc(1, sizeof *c->regexflag.r);
        c->regexflag.r[0] = r;
        c->regexflag.n = 1;
    }
    if (compile_rules(o, OPT_REGEXFLAG, "--regexflag", 0, &c->regexflag, st) < 0)
        return -1;
    c->resyncflags = flag_or(o, OPT_RESYNCFLAGS, 1);
    c->maxsize = o->v[OPT_MAXSIZE].given ? o->v[OPT_MAXSIZE].num : -1;
    c->minsize = o->v[OPT_MINSIZE].given ? o->v[OPT_MINSIZE].num : -1;
    c->appendlimit = o->v[OPT_APPENDLIMIT].given ? o->v[OPT_APPENDLIMIT].num : -1;
    long emax = o->v[OPT_ERRORSMAX].given ? o->v[OPT_ERRORSMAX].num : 50;
    if (emax < 0 || emax > 1000000000)
        return status_set(st, STATUS_USAGE, "--errorsmax %ld is out of range (0 to 1000000000)",
                          emax);
    c->errorsmax = (unsigned)emax;
    build_search(o, c);
    c->delete2 = flag_or(o, OPT_DELETE2, 0);
    c->maxmps = o->v[OPT_MAXMESSAGESPERSECOND].given ? o->v[OPT_MAXMESSAGESPERSECOND].fnum : 0;
    c->maxbps = o->v[OPT_MAXBYTESPERSECOND].given ? (double)o->v[OPT_MAXBYTESPERSECOND].num : 0;
    c->maxsleep = o->v[OPT_MAXSLEEP].given ? o->v[OPT_MAXSLEEP].fnum : 2.0;
    long after = o->v[OPT_MAXBYTESAFTER].given ? o->v[OPT_MAXBYTESAFTER].num : 0;
    if (c->maxbps < 0 || after < 0)
        return status_set(st, STATUS_USAGE,
                          "--maxbytespersecond and --maxbytesafter take 0 or more bytes");
    c->maxbytesafter = (unsigned long long)after;
    long over = o->v[OPT_EXITWHENOVER].given ? o->v[OPT_EXITWHENOVER].num : 0;
    if (over < 0)
        return status_set(st, STATUS_USAGE, "--exitwhenover takes 0 or more bytes");
    c->exitwhenover = (unsigned long long)over;
    long ceil = o->v[OPT_DELETE2CEILING].given ? o->v[OPT_DELETE2CEILING].num : 10;
    if (ceil < 0 || ceil > 100)
        return status_set(st, STATUS_USAGE, "--delete2ceiling %ld is not a percentage", ceil);
    c->delete2ceiling = (int)ceil;
    /* 4: measured faster than 1 on a LAN and 2.5x faster over 20 ms each
     * way (man page), and well under what providers allow per account. */
    long workers = o->v[OPT_WORKERS].given ? o->v[OPT_WORKERS].num : 4;
    if (workers < 1 || workers > CONFIG_MAX_WORKERS)
        return status_set(st, STATUS_USAGE, "--workers %ld: give 1 to %d", workers,
                          CONFIG_MAX_WORKERS);
    c->workers = (int)workers;
    c->noprogress = o->v[OPT_NOPROGRESS].given;
    if ((o->v[OPT_MAXSIZE].given && c->maxsize < 0) ||
        (o->v[OPT_MINSIZE].given && c->minsize < 0) ||
        (o->v[OPT_APPENDLIMIT].given && c->appendlimit < 0))
        return status_set(st, STATUS_USAGE,
                          "--maxsize, --minsize and --appendlimit take a "
                          "number of bytes, 0 or more");
    c->syncflagsaftercopy = flag_or(o, OPT_SYNCFLAGSAFTERCOPY, 0);
    c->idatefromheader = flag_or(o, OPT_IDATEFROMHEADER, 0);
    /* imapsync turns the INTERNALDATE off under --idatefromheader; a
     * message without a usable Date: keeps host1's INTERNALDATE here
     * rather than get the time of the copy. */
    c->syncinternaldates = flag_or(o, OPT_SYNCINTERNALDATES, 1) || c->idatefromheader;
    return 0;
}

/* -1 when not given, else 0 for --noX and 1 for --X: an expunge the user
 * asked for may do more than one the program chose. */
static int tri(const struct options *o, enum options_id id)
{
    return o->v[id].given ? o->v[id].on : -1;
}

/* A --delete2foldersonly/--delete2foldersbutnot value: a Perl match
 * expression such as "/^Junk$/", as imapsync evaluates it. */
static int folder_rule(const struct options *o, enum options_id id, const char *opt,
                       struct rx_rule **out, struct status *st)
{
    *out = NULL;
    if (!o->v[id].given)
        return 0;
    if (rx_compile(o->v[id].str, out, st) < 0)
        return status_prefix(st, STATUS_USAGE, opt);
    if (rx_kind(*out) != RX_MATCH) {
        rx_free(*out);
        *out = NULL;
        return status_set(st, STATUS_USAGE, "%s wants a match such as \"/^Junk$/\", not \"%.100s\"",
                          opt, o->v[id].str);
    }
    return 0;
}

/* The deletion options (imapsync's l.1757-1848). */
static int build_delete(const struct options *o, struct config *c, struct status *st)
{
    c->delete1 = flag_or(o, OPT_DELETE1, 0);
    c->delete1emptyfolders = o->v[OPT_DELETE1EMPTYFOLDERS].given;
    c->synclabels = flag_or(o, OPT_SYNCLABELS, 0);
    c->resynclabels = flag_or(o, OPT_RESYNCLABELS, 0);
    if (c->delete1 && c->delete2)
        return status_set(st, STATUS_USAGE,
                          "--delete1 and --delete2 together are refused (as imapsync does): "
                          "run --delete2 first, then --delete1");
    c->expunge1 = tri(o, OPT_EXPUNGE1);
    c->expunge2 = tri(o, OPT_EXPUNGE2);
    c->uidexpunge2 = tri(o, OPT_UIDEXPUNGE2);
    /* On with --delete2 (imapsync: unless --syncduplicates, which is what
     * imapferry always does; its --delete2 always took the extra copies). */
    c->delete2duplicates = flag_or(o, OPT_DELETE2DUPLICATES, c->delete2);
    if (folder_rule(o, OPT_DELETE2FOLDERSONLY, "--delete2foldersonly", &c->delete2foldersonly, st) <
            0 ||
        folder_rule(o, OPT_DELETE2FOLDERSBUTNOT, "--delete2foldersbutnot", &c->delete2foldersbutnot,
                    st) < 0)
        return -1;
    c->delete2folders =
        flag_or(o, OPT_DELETE2FOLDERS, 0) || c->delete2foldersonly || c->delete2foldersbutnot;
    return 0;
}

/* imapsync's order: the --regexmess rules (a preset's after the user's),
 * then --disarmreadreceipts' rule, then --truncmess. */
static int build_transform(const struct options *o, struct config *c, struct status *st)
{
    if (compile_rules(o, OPT_REGEXMESS, "--regexmess", 0, &c->regexmess, st) < 0)
        return -1;
    c->disarmreadreceipts = flag_or(o, OPT_DISARMREADRECEIPTS, 0);
    if (c->disarmreadreceipts) {
        struct rx_rule *r = NULL;
        if (rx_compile(transform_disarm_rule, &r, st) < 0)
            return status_prefix(st, STATUS_INTERNAL, "--disarmreadreceipts");
        c->regexmess.r =
            sbuf_xrealloc(c->regexmess.r, (c->regexmess.n + 1) * sizeof *c->regexmess.r);
        c->regexmess.r[c->regexmess.n++] = r;
    }
    c->truncmess = o->v[OPT_TRUNCMESS].given ? o->v[OPT_TRUNCMESS].num : -1;
    if (o->v[OPT_TRUNCMESS].given && c->truncmess < 1)
        return status_set(st, STATUS_USAGE, "--truncmess %lld: give 1 or more bytes", c->truncmess);
    c->transform.regexmess = ro(&c->regexmess);
    c->transform.nregexmess = c->regexmess.n;
    c->transform.truncmess = c->truncmess;
    /* imapsync evaluates "$string =~ RULE" for the truth of a match. */
    if (compile_rules(o, OPT_SKIPMESS, "--skipmess", 0, &c->skipmess, st) < 0)
        return -1;
    for (size_t i = 0; i < c->skipmess.n; i++)
        if (rx_kind(c->skipmess.r[i]) != RX_MATCH)
            return status_set(st, STATUS_USAGE, "--skipmess \"%.160s\": give a match, m/.../",
                              rx_source(c->skipmess.r[i]));
    c->transform.skipmess = ro(&c->skipmess);
    c->transform.nskipmess = c->skipmess.n;
    c->maxlinelength = o->v[OPT_MAXLINELENGTH].given ? o->v[OPT_MAXLINELENGTH].num : 0;
    if (o->v[OPT_MAXLINELENGTH].given && c->maxlinelength < 1)
        return status_set(st, STATUS_USAGE, "--maxlinelength %lld: give 1 or more bytes",
                          c->maxlinelength);
    c->transform.maxlinelength = c->maxlinelength;
    if (o->v[OPT_MAXLINELENGTHCMD].given && *o->v[OPT_MAXLINELENGTHCMD].str) {
        if (!c->maxlinelength)
            return status_set(st, STATUS_USAGE, "--maxlinelengthcmd needs --maxlinelength N");
        c->maxlinelengthcmd = sbuf_xstrdup(o->v[OPT_MAXLINELENGTHCMD].str);
        c->transform.maxlinelengthcmd = c->maxlinelengthcmd;
    }
    const struct options_value *pm = &o->v[OPT_PIPEMESS];
    if (pm->nlist) {
        c->pipemess = sbuf_xcalloc(pm->nlist, sizeof *c->pipemess);
        for (size_t i = 0; i < pm->nlist; i++)
            c->pipemess[c->npipemess++] = sbuf_xstrdup(pm->list[i]);
        c->transform.pipemess = (const char *const *)c->pipemess;
        c->transform.npipemess = c->npipemess;
    }
    /* imapsync's --pipemesscheck (on by default): a command that cannot
     * even pass one blank through is a mistake in the command line, found
     * before any login rather than once per message. */
    for (size_t i = 0; i < c->npipemess && flag_or(o, OPT_PIPEMESSCHECK, 1); i++) {
        char what[48], *out;
        size_t n;
        snprintf(what, sizeof what, "--pipemess #%zu", i + 1);
        if (pipemess_run(what, c->pipemess[i], " ", 1, &out, &n, st) < 0) {
            char why[sizeof st->msg];
            snprintf(why, sizeof why, "%s", st->msg);
            return status_set(st, STATUS_USAGE,
                              "%s on a test message; --nopipemesscheck skips this check", why);
        }
        free(out);
    }
    c->addheader = flag_or(o, OPT_ADDHEADER, 0);
    c->transform.addheader = c->addheader;
    return 0;
}

/* --useheader and friends: the names go into a FETCH, so each is checked
 * for RFC 5322 field-name characters first. */
static int build_identity(const struct options *o, struct config *c, struct status *st)
{
    size_t n;
    const char *const *names = strs(o, OPT_USEHEADER, &n);
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(names[i], "ALL") == 0) {
            c->identity.all = 1;
        } else if (!msgid_field_name_ok(names[i])) {
            char shown[64];
            size_t k = 0;
            for (const char *p = names[i]; *p && k + 1 < sizeof shown; p++)
                shown[k++] = (unsigned char)*p < 32 || (unsigned char)*p > 126 ? '?' : *p;
            shown[k] = '\0';
            return status_set(st, STATUS_USAGE,
                              "--useheader \"%s\" is not a header field name (printable ASCII "
                              "but ':' and blanks, at most 76 bytes)",
                              shown);
        }
    }
    c->identity.fields = names;
    c->identity.nfields = n;
    const struct options_value *sk = &o->v[OPT_SKIPHEADER];
    if (sk->given && sk->str && *sk->str) {
        /* imapsync matches m/$skipheader/xi. */
        struct sbuf re = SBUF_INIT;
        sbuf_addf(&re, "(?xi)%s", sk->str);
        int rc = rx_compile_pattern(re.data, &c->skipheader, st);
        sbuf_free(&re);
        if (rc < 0) {
            /* Name the user's own text where it is at fault. */
            struct rx_rule *bare = NULL;
            struct status own;
            status_clear(&own);
            if (rx_compile_pattern(sk->str, &bare, &own) == 0)
                rx_free(bare);
            else
                *st = own;
            return status_prefix(st, STATUS_USAGE, "--skipheader");
        }
    }
    c->identity.skipheader = c->skipheader;
    c->identity.nodomain = flag_or(o, OPT_MESSAGEIDNODOMAIN, 0);
    c->identity.wholeheader = flag_or(o, OPT_WHOLEHEADERIFNEEDED, 1);
    c->identity_on = n > 0 || c->skipheader != NULL || c->identity.nodomain;
    c->skipcrossduplicates = flag_or(o, OPT_SKIPCROSSDUPLICATES, 0);
    if (c->skipcrossduplicates && (flag_or(o, OPT_USECACHE, 0) || flag_or(o, OPT_USEUID, 0)))
        return status_set(st, STATUS_USAGE,
                          "--skipcrossduplicates (on with --gmail1) and --usecache%s cannot go "
                          "together, as in imapsync",
                          flag_or(o, OPT_USEUID, 0) ? " (implied by --useuid)" : "");
    return 0;
}

static int build_side(const struct options *o, int n, int justconnect, struct config_side *s,
                      struct status *st)
{
    const struct side_ids *id = &side_ids[n];
    const struct options_value *ssl = &o->v[id->ssl], *tls = &o->v[id->tls];
    int k = n + 1;
    if (!o->v[id->host].given || !*o->v[id->host].str)
        return status_set(st, STATUS_USAGE, "missing --host%d", k);
    if (!justconnect && (!o->v[id->user].given || !*o->v[id->user].str))
        return status_set(st, STATUS_USAGE, "missing --user%d", k);
    if (ssl->given && ssl->on)
        s->tls = CONN_TLS_IMPLICIT;
    else if (tls->given)
        s->tls = tls->on ? CONN_TLS_STARTTLS : CONN_TLS_NONE;
    else
        s->tls = CONN_TLS_AUTO;
    long port = o->v[id->port].given ? o->v[id->port].num : s->tls == CONN_TLS_IMPLICIT ? 993 : 143;
    if (port < 1 || port > 65535)
        return status_set(st, STATUS_USAGE, "--port%d %ld is not a TCP port", k, port);
    s->host = dup_or_null(o->v[id->host].str);
    s->port = (int)port;
    s->user = sbuf_xstrdup(o->v[id->user].str ? o->v[id->user].str : "");
    /* imapsync's defaults: LOGIN, or PLAIN when an admin identity is given. */
    const char *mech = o->v[id->authmech].str   ? o->v[id->authmech].str
                       : o->v[id->authuser].str ? "PLAIN"
                                                : "LOGIN";
    s->authmech = sbuf_xstrdup(mech);
    for (char *p = s->authmech; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (strcmp(s->authmech, "LOGIN") && strcmp(s->authmech, "PLAIN") &&
        strcmp(s->authmech, "CRAM-MD5") && strcmp(s->authmech, "XOAUTH2"))
        return status_set(st, STATUS_USAGE,
                          "--authmech%d %s is not supported (LOGIN, PLAIN, CRAM-MD5, XOAUTH2)", k,
                          mech);
    s->authuser = dup_or_null(o->v[id->authuser].str);
    if (o->v[id->proxyauth].given) {
        /* imapsync logs in with plain LOGIN as the admin, then switches. */
        if (s->authuser == NULL || !*s->authuser)
            return status_set(st, STATUS_USAGE, "--proxyauth%d needs --authuser%d", k, k);
        if (o->v[id->oauth].given)
            return status_set(st, STATUS_USAGE,
                              "--proxyauth%d logs in with a password, not --oauthaccesstoken%d", k,
                              k);
        if (o->v[id->authmech].str && strcmp(s->authmech, "LOGIN"))
            return status_set(st, STATUS_USAGE,
                              "--proxyauth%d logs in with LOGIN as --authuser%d; drop --authmech%d "
                              "%s",
                              k, k, k, o->v[id->authmech].str);
        /* PROXYAUTH takes a quoted string we build; no literal fallback. */
        for (const unsigned char *p = (const unsigned char *)s->user; *p; p++)
            if (*p < 0x20 || *p >= 0x7f)
                return status_set(st, STATUS_USAGE,
                                  "--user%d: PROXYAUTH takes printable ASCII user names only", k);
        free(s->authmech);
        s->authmech = sbuf_xstrdup("LOGIN");
        s->proxyauth = 1;
    }
    s->oauth_refresh = dup_or_null(o->v[n == 0 ? OPT_OAUTHREFRESHCMD1 : OPT_OAUTHREFRESHCMD2].str);
    if (s->oauth_refresh && !o->v[id->oauth].given)
        return status_set(st, STATUS_USAGE,
                          "--oauthrefreshcmd%d needs --oauthaccesstoken%d FILE, the file the "
                          "command writes",
                          k, k);
    if (s->oauth_refresh)
        s->oauth_file = sbuf_xstrdup(o->v[id->oauth].str);
    if (justconnect) {
        /* Nothing is sent that needs a credential. */
    } else if (strcmp(s->authmech, "XOAUTH2") == 0) {
        if (!o->v[id->oauth].given)
            return status_set(st, STATUS_USAGE, "--authmech%d XOAUTH2 needs --oauthaccesstoken%d",
                              k, k);
        if (secret_token(o->v[id->oauth].str, &s->oauth_token, st) < 0)
            return -1;
    } else if (o->v[id->oauth].given) {
        if (secret_token(o->v[id->oauth].str, &s->oauth_token, st) < 0)
            return -1;
        free(s->authmech);
        s->authmech = sbuf_xstrdup("XOAUTH2");
    } else {
        if (secret_password(k, o->v[id->password].str, o->v[id->passfile].str, &s->password, st) <
            0)
            return -1;
        if (s->password == NULL)
            return status_set(st, STATUS_USAGE,
                              "no password for host%d: give --password%d, --passfile%d or "
                              "IMAPFERRY_PASSWORD%d",
                              k, k, k, k);
    }
    long retries = o->v[id->reconnect].given ? o->v[id->reconnect].num : 3;
    if (retries < 0 || retries > 1000)
        return status_set(st, STATUS_USAGE, "--reconnectretry%d %ld is out of range (0 to 1000)", k,
                          retries);
    s->reconnect = (int)retries;
    s->cafile = dup_or_null(o->v[id->cafile].str);
    s->insecure = o->v[id->insecure].given;
    s->compress = flag_or(o, n == 0 ? OPT_COMPRESS1 : OPT_COMPRESS2, 1);
    s->timeout = o->v[id->timeout].given   ? o->v[id->timeout].fnum
                 : o->v[OPT_TIMEOUT].given ? o->v[OPT_TIMEOUT].fnum
                                           : DEFAULT_TIMEOUT;
    const char *sep = o->v[id->sep].str;
    if (sep && strlen(sep) != 1)
        return status_set(st, STATUS_USAGE, "--sep%d needs one character, not \"%.50s\"", k, sep);
    s->sep = sep ? sep[0] : 0;
    s->prefix = dup_or_null(o->v[id->prefix].str);
    return 0;
}

int config_build(const struct options *o, struct config *c, struct status *st)
{
    memset(c, 0, sizeof *c);
    for (int n = 0; n < 2; n++) {
        if (build_side(o, n, flag_or(o, OPT_JUSTCONNECT, 0), &c->side[n], st) < 0) {
            config_free(c);
            return -1;
        }
    }
    if (build_folders(o, c, st) < 0 || build_flags(o, c, st) < 0 || build_transform(o, c, st) < 0 ||
        build_delete(o, c, st) < 0 || build_identity(o, c, st) < 0) {
        config_free(c);
        return -1;
    }
    /* Sizes of both hosts with nothing changed is what a dry run prints. */
    c->dry = flag_or(o, OPT_DRY, 0) || c->justfoldersizes;
    c->justfolders = flag_or(o, OPT_JUSTFOLDERS, 0);
    c->justlogin = flag_or(o, OPT_JUSTLOGIN, 0);
    c->justconnect = flag_or(o, OPT_JUSTCONNECT, 0);
    if (flag_or(o, OPT_INET4, 0) && flag_or(o, OPT_INET6, 0)) {
        status_set(st, STATUS_USAGE, "--inet4 and --inet6 exclude each other: give one");
        config_free(c);
        return -1;
    }
    c->family = flag_or(o, OPT_INET4, 0) ? NET_IPV4 : flag_or(o, OPT_INET6, 0) ? NET_IPV6 : NET_ANY;
    /* Our default weighs the size (imapsync's is --skipsize): messages are
     * paired by identity and size first, so two messages sharing a
     * Message-ID are told apart, then by identity alone, so a copy the
     * server stored with other bytes is not sent again. --noskipsize is
     * imapsync's strict form: a different size is a different message. */
    if (o->v[OPT_SKIPSIZE].given)
        c->use_size = o->v[OPT_SKIPSIZE].on ? MSG_PLAN_SIZE_IGNORED : MSG_PLAN_SIZE_STRICT;
    else
        c->use_size = MSG_PLAN_SIZE_FIRST;
    c->foldersizes = flag_or(o, OPT_FOLDERSIZES, !c->justfolders) || c->justfoldersizes;
    c->foldersizesatend = flag_or(o, OPT_FOLDERSIZESATEND, c->foldersizes);
    char buf[4096];
    if (o->v[OPT_PIDFILE].given)
        c->pidfile = *o->v[OPT_PIDFILE].str ? sbuf_xstrdup(o->v[OPT_PIDFILE].str) : NULL;
    else
        c->pidfile = sbuf_xstrdup(lock_default_path(buf, sizeof buf));
    c->pidfilelocking = o->v[OPT_PIDFILELOCKING].given && o->v[OPT_PIDFILELOCKING].on;
    c->stateroot = sbuf_xstrdup(o->v[OPT_STATEDIR].str ? o->v[OPT_STATEDIR].str
                                                       : statedir_default_root(buf, sizeof buf));
    c->nostate = o->v[OPT_NOSTATE].given;
    if (o->v[OPT_LEDGER].given) {
        if (o->v[OPT_LEDGER].str == NULL || *o->v[OPT_LEDGER].str == '\0') {
            config_free(c);
            return status_set(st, STATUS_USAGE, "--ledger wants a file name");
        }
        c->ledger = sbuf_xstrdup(o->v[OPT_LEDGER].str);
    }
    if (o->v[OPT_JSON].str) {
        if (*o->v[OPT_JSON].str == '\0') {
            config_free(c);
            return status_set(st, STATUS_USAGE,
                              "--json needs a file name, or - for standard output");
        }
        c->json = sbuf_xstrdup(o->v[OPT_JSON].str);
    }
    c->justverify = o->v[OPT_JUSTVERIFY].given;
    c->verify = flag_or(o, OPT_VERIFY, 0) && !c->justverify;
    /* --delete1 empties host1 of what it copied: every message would be
     * extra on host2. Comparing first is --justverify's job. */
    if (c->verify && c->delete1) {
        config_free(c);
        return status_set(st, STATUS_USAGE,
                          "--verify compares host2 with host1, which --delete1 empties: run "
                          "--justverify before --delete1 instead");
    }
    if (!o->v[OPT_LOG].given || o->v[OPT_LOG].on) {
        log_default_path(o->v[OPT_LOGDIR].str, o->v[OPT_LOGFILE].str, c->side[0].user,
                         c->side[1].user, buf, sizeof buf);
        c->logpath = sbuf_xstrdup(buf);
    }
    return 0;
}

void config_free(struct config *c)
{
    for (int n = 0; n < 2; n++) {
        struct config_side *s = &c->side[n];
        secret_free(s->password);
        secret_free(s->oauth_token);
        free(s->host);
        free(s->user);
        free(s->cafile);
        free(s->authmech);
        free(s->authuser);
        free(s->prefix);
        free(s->oauth_refresh);
        free(s->oauth_file);
    }
    free_rules(&c->include);
    free_rules(&c->exclude);
    free_rules(&c->regextrans2);
    free_rules(&c->regexflag);
    free_rules(&c->regexmess);
    for (size_t i = 0; i < c->npipemess; i++)
        free(c->pipemess[i]);
    free(c->pipemess);
    free(c->maxlinelengthcmd);
    free_rules(&c->skipmess);
    rx_free(c->delete2foldersonly);
    rx_free(c->delete2foldersbutnot);
    rx_free(c->skipheader);
    free(c->pidfile);
    free(c->stateroot);
    free(c->search[0]);
    free(c->search[1]);
    free(c->logpath);
    free(c->json);
    free(c->ledger);
    memset(c, 0, sizeof *c);
}
