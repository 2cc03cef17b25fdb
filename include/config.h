/* config: the validated, immutable settings of one run.
 *
 * Built once from the parsed options (and later the environment and
 * password files); everything after it reads only this struct. */
#ifndef IMAPFERRY_CONFIG_H
#define IMAPFERRY_CONFIG_H

#include "conn.h"
#include "folder_plan.h"
#include "msgid.h"
#include "options.h"
#include "rx.h"
#include "status.h"
#include "transform.h"

struct config_side {
    char *host;
    int port;
    char *user;
    char *password; /* secret: zeroed by config_free, never printed */
    char *authmech; /* upper case: LOGIN, PLAIN, CRAM-MD5, XOAUTH2 */
    char *authuser;
    int proxyauth;     /* --proxyauthN: LOGIN as authuser, then PROXYAUTH user */
    char *oauth_token; /* secret */
    /* --oauthrefreshcmdN: run through /bin/sh -c before each login, then
     * the token is read again from oauth_file (the --oauthaccesstokenN file,
     * NULL when the token was given inline). */
    char *oauth_refresh;
    char *oauth_file;
    enum conn_tls tls;
    char *cafile;
    int insecure;
    int compress; /* ask for COMPRESS=DEFLATE when offered (default on) */
    double timeout;
    int reconnect; /* reconnects allowed per folder after a lost connection */
    char sep;      /* --sepN: overrides NAMESPACE's separator; 0 = none given */
    char *prefix;  /* --prefixN: overrides NAMESPACE's prefix; NULL = none given */
};

/* A list of compiled Perl rules, in command-line order. */
struct config_rules {
    struct rx_rule **r; /* owned */
    size_t n;
};

/* --workers: more sessions than this per account is abuse on any server. */
#define CONFIG_MAX_WORKERS 16

/* Owns its strings; release with config_free. */
struct config {
    struct config_side side[2]; /* [0] = host1, [1] = host2 */
    int dry;
    int justfolders;
    int justlogin;
    int justconnect; /* greeting and capabilities of both hosts, no login */
    int family;      /* enum net_family: --inet4 / --inet6 */
    int use_size;    /* enum msg_plan_size: how RFC822.SIZE counts in the identity */
    int foldersizes; /* print per-folder counts and bytes of both hosts */
    int debug;       /* --debug: the round trips per folder and for the run */
    char *pidfile;   /* NULL = none (--pidfile "") */
    int pidfilelocking;
    char *logpath;   /* NULL = --nolog */
    char *json;      /* --json: the report's file, "-" = stdout; NULL = none */
    char *ledger;    /* --ledger: one JSON line per message; NULL = none */
    int verify;      /* --verify: compare host2 with host1 after the sync (verify.h) */
    int justverify;  /* --justverify: compare them instead of syncing */
    char *stateroot; /* --statedir or the default; the pair's lock lives below it */
    int nostate;     /* --nostate: keep no state (the pair is still locked) */
    /* The account pair's state directory once main holds its lock; NULL
     * with --nostate and before. Borrowed from main's statedir. */
    const char *statepath;

    /* Folder selection and naming; its pointers borrow from options and
     * from the rule lists below, so o must outlive c. */
    struct folder_plan_rules folders;
    struct config_rules include, exclude, regextrans2;
    int skipemptyfolders; /* no CREATE and no sync for an empty host1 folder */
    int justfoldersizes;  /* print the sizes, then stop */
    int foldersizesatend; /* sizes of host1 and host2 again after the sync */
    int justfolderlists;  /* print both lists and the mapping, then stop */
    int justautomap;      /* print the --automap result, then stop */

    /* Flags and dates. */
    struct config_rules regexflag; /* --filterbuggyflags' rule first */
    int resyncflags;               /* bring host2's flags in line on reruns (default) */
    int syncflagsaftercopy;        /* check host2's flags again after copying */
    int syncinternaldates;         /* APPEND with host1's INTERNALDATE (default) */
    int idatefromheader;           /* APPEND with the Date: header's date instead */

    /* Message selection by size (imapsync's size_filtered): -1 = none. */
    long long maxsize;     /* not copied when RFC822.SIZE > maxsize */
    long long minsize;     /* not copied when RFC822.SIZE <= minsize */
    long long appendlimit; /* --appendlimit; -1 = read host2's APPENDLIMIT */
    unsigned errorsmax;    /* --errorsmax (50); 0 = no limit */
    char *search[2];       /* UID SEARCH criteria per side (--search, --maxage...); NULL = all */
    int delete2;           /* remove host2 messages host1 lacks, per folder pair */
    int delete2ceiling;    /* most of a folder --delete2 may remove, in percent */
    /* Deletion (delete_plan.h); -1 = not given, 0 = --noX, 1 = --X. */
    int delete1;                  /* remove host1 messages host2 is known to hold */
    int expunge1;                 /* -1, 0 or 1: --expunge1 is a plain EXPUNGE per folder */
    int expunge2;                 /* -1, 0 or 1: --expunge2 is a plain EXPUNGE per folder */
    int uidexpunge2;              /* -1, 0 or 1 */
    int delete2duplicates;        /* remove host2's extra copies (on with --delete2) */
    int delete2folders;           /* remove host2 folders no host1 folder maps to */
    int delete1emptyfolders;      /* delete selected host1 folders left empty (emptyfolders.h) */
    int synclabels, resynclabels; /* Gmail X-GM-LABELS (labels.h) */
    struct rx_rule *delete2foldersonly, *delete2foldersbutnot; /* owned; NULL = none */
    int workers; /* --workers: folder pairs synced at once (1..CONFIG_MAX_WORKERS) */

    int noprogress; /* --noprogress: no progress line even on a terminal (progress.h) */
    /* Rate caps (throttle.h): 0 = off. */
    double maxmps, maxbps, maxsleep;
    unsigned long long maxbytesafter;
    unsigned long long exitwhenover; /* end the run after this many bytes; 0 = never */

    /* Message rewriting (transform.h), only on request. */
    struct config_rules regexmess; /* --regexmess, then --disarmreadreceipts' rule */
    struct config_rules skipmess;  /* --skipmess: m// rules */
    long long maxlinelength;       /* --maxlinelength; 0 = none */
    char **pipemess;               /* --pipemess commands, in order */
    size_t npipemess;
    char *maxlinelengthcmd; /* --maxlinelengthcmd; NULL = none */
    int addheader;          /* --addheader */
    int disarmreadreceipts;
    long long truncmess;        /* -1 = none */
    struct transform transform; /* borrows regexmess and skipmess */

    /* Message identity (msgid.h). identity_on: --useheader, --skipheader or
     * --messageidnodomain was given, so imapsync's construction keys the
     * messages; otherwise today's key and identity is unused. */
    int identity_on;
    struct msgid_conf identity; /* borrows the --useheader values and skipheader */
    struct rx_rule *skipheader; /* owned; NULL = none */
    int skipcrossduplicates;    /* skip what another host2 folder got this run */
};

/* Cross-option validation; failures are STATUS_USAGE with one line (a
 * rule that does not compile names its option and the rule). The options
 * must outlive the config: list values are borrowed. */
int config_build(const struct options *o, struct config *c, struct status *st);
void config_free(struct config *c);

#endif
