/* options: the command-line table and a Getopt::Long-compatible parser.
 *
 * imapsync parses with Perl's Getopt::Long defaults, and admins' scripts rely
 * on that: names are case-insensitive, one or two dashes, `--opt value` or
 * `--opt=value`, unique prefixes are accepted, negatable flags take `--noX`
 * and `--no-X`, integers may contain underscores. Values of secret options
 * (passwords, tokens) are copied and then overwritten in argv so `ps` no
 * longer shows them.
 *
 * The table holds every option of imapsync 2.229 (and the four added later),
 * so that an imapsync script either runs as it did or fails at once, naming
 * the option imapferry does not do: an option missing from the table would
 * make prefixes resolve differently (`--folder` to `--foldersizes`). */
#ifndef IMAPFERRY_OPTIONS_H
#define IMAPFERRY_OPTIONS_H

#include "status.h"

#include <stddef.h>

enum options_type {
    OPTIONS_FLAG,    /* --x */
    OPTIONS_NEGFLAG, /* --x, --nox, --no-x */
    OPTIONS_STR,     /* --x VALUE */
    OPTIONS_INT,     /* --x N */
    OPTIONS_FLOAT,   /* --x SECONDS */
    OPTIONS_LIST,    /* --x VALUE, repeatable, values kept in order */
    OPTIONS_KV,      /* --x KEY=VALUE, repeatable, "KEY=VALUE" kept in order */
};

/* What imapferry does with one spelling (--x, or --nox for a negatable x). */
enum options_status {
    OPTIONS_HONOURED, /* does what imapsync does */
    OPTIONS_ACCEPTED, /* already behaves that way, or pure tuning: ignored */
    OPTIONS_REFUSED,  /* parsing fails: "--x is not supported: WHY" */
};

/* Status cells of the table: each expands to (status, text). The text of an
 * accepted spelling, when set, is printed once as a notice; the text of a
 * refused one is the reason given. */
#define O_HON OPTIONS_HONOURED, NULL
#define O_ACC OPTIONS_ACCEPTED, NULL
#define O_NOTE(text) OPTIONS_ACCEPTED, text
#define O_REF(why) OPTIONS_REFUSED, why
#define O_NA OPTIONS_HONOURED, NULL /* no --noX form */

#define O_WHY_DEBUG "imapferry has no debug trace; ignored"
#define O_WHY_CACHE "imapferry identifies messages by their headers and needs no cache; ignored"
#define O_WHY_TEST "imapsync test hook"
#define O_WHY_CGI "imapsync CGI/Docker plumbing"
#define O_WHY_EACH "imapferry expunges what --delete1 flagged once per folder, after its copy"
#define O_WHY_SIGNALS                                                                              \
    "INT and TERM stop the run cleanly (statistics printed, state saved); other signals keep "     \
    "their usual meaning"
#define O_WHY_SEARCHALL                                                                            \
    "imapferry lists messages with UID FETCH, never SEARCH ALL; only --search, --maxage and "      \
    "--minage need SEARCH"
#define O_WHY_REPORTMAIL "imapferry never writes its report into a mailbox; use --json FILE"
#define O_WHY_TLS1 "imapferry verifies TLS itself; use --cafile1/--insecure1"
#define O_WHY_TLS2 "imapferry verifies TLS itself; use --cafile2/--insecure2"

/* X(id, names, type, secret, on, off, help): one row per option, in
 * imapsync's declaration order. `names` is "primary|alias"; the id is OPT_
 * and the primary name upper-cased, non-alphanumerics as '_' (a few older
 * ids are shorter). `on` is the status of --x, `off` that of --nox. */
#define OPTIONS_TABLE(X)                                                                           \
    X(DEBUG, "debug", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                            \
      "the round trips waited for, per folder and for the run")                                    \
    X(DEBUGLIST, "debuglist", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                      \
      "print the UID lists of each folder")                                                        \
    X(DEBUGCONTENT, "debugcontent", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                \
      "print the full content of every message copied")                                            \
    X(DEBUGSLEEP, "debugsleep", OPTIONS_FLOAT, 0, O_REF(O_WHY_TEST), O_NA,                         \
      "sleep N s at debug points (test hook)")                                                     \
    X(DEBUGFLAGS, "debugflags", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                    \
      "trace flag computations (regexflag, filter, resync)")                                       \
    X(DEBUGIMAP, "debugimap", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                      \
      "IMAP wire trace on both sides")                                                             \
    X(DEBUGIMAP1, "debugimap1", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                    \
      "IMAP wire trace on host1")                                                                  \
    X(DEBUGIMAP2, "debugimap2", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                    \
      "IMAP wire trace on host2")                                                                  \
    X(DEBUGDEV, "debugdev", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC, "developer trace")     \
    X(DEBUGMEMORY, "debugmemory", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                  \
      "print memory use after each copy")                                                          \
    X(DEBUGFOLDERS, "debugfolders", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                \
      "trace folder listing and name mapping")                                                     \
    X(DEBUGSSL, "debugssl", OPTIONS_INT, 0, O_NOTE(O_WHY_DEBUG), O_NA,                             \
      "IO::Socket::SSL debug level 0-4 (default 1)")                                               \
    X(DEBUGCGI, "debugcgi", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_CGI), O_ACC, "CGI-context trace")      \
    X(DEBUGENV, "debugenv", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                        \
      "print the environment")                                                                     \
    X(DEBUGSIG, "debugsig", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                        \
      "trace signal handling")                                                                     \
    X(DEBUGLABELS, "debuglabels", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,                  \
      "trace Gmail label sync")                                                                    \
    X(SIMULONG, "simulong", OPTIONS_FLOAT, 0, O_REF(O_WHY_TEST), O_NA,                             \
      "fake a long run of N s (test hook)")                                                        \
    X(ABORT, "abort", OPTIONS_FLAG, 0, O_HON, O_NA,                                                \
      "stop the run that holds --pidfile (TERM, KILL after 3 s), exit 0")                          \
    X(ABORTBYFILE, "abortbyfile", OPTIONS_FLAG, 0,                                                 \
      O_REF("use --abort: the run holding the pid file stops cleanly on SIGTERM"), O_NA,           \
      "ask the run that owns --pidfile to stop via an abort file; it exits 7")                     \
    X(HOST1, "host1", OPTIONS_STR, 0, O_HON, O_NA, "source IMAP server")                           \
    X(HOST2, "host2", OPTIONS_STR, 0, O_HON, O_NA, "destination IMAP server")                      \
    X(PORT1, "port1", OPTIONS_INT, 0, O_HON, O_NA, "source port (143, or 993 with --ssl1)")        \
    X(PORT2, "port2", OPTIONS_INT, 0, O_HON, O_NA, "destination port (143, or 993 with --ssl2)")   \
    X(INET4, "inet4|ipv4", OPTIONS_FLAG, 0, O_HON, O_NA, "connect to both hosts over IPv4 only")   \
    X(INET6, "inet6|ipv6", OPTIONS_FLAG, 0, O_HON, O_NA, "connect to both hosts over IPv6 only")   \
    X(USER1, "user1", OPTIONS_STR, 0, O_HON, O_NA, "source login")                                 \
    X(USER2, "user2", OPTIONS_STR, 0, O_HON, O_NA, "destination login")                            \
    X(GMAIL1, "gmail1", OPTIONS_FLAG, 0, O_HON, O_NA, "preset: source is Gmail")                   \
    X(GMAIL2, "gmail2", OPTIONS_FLAG, 0, O_HON, O_NA, "preset: destination is Gmail")              \
    X(OFFICE1, "office1", OPTIONS_FLAG, 0, O_HON, O_NA,                                            \
      "preset: source is Office 365 (host, ssl1, --exclude ^Files$)")                              \
    X(OFFICE2, "office2", OPTIONS_FLAG, 0, O_HON, O_NA,                                            \
      "preset: destination is Office 365 (limits, message rewriting, f1f2 Files)")                 \
    X(EXCHANGE1, "exchange1", OPTIONS_FLAG, 0, O_NOTE("it changes nothing, as in imapsync"), O_NA, \
      "preset: prints a line, does nothing else")                                                  \
    X(EXCHANGE2, "exchange2", OPTIONS_FLAG, 0, O_HON, O_NA,                                        \
      "preset: destination is Exchange (limits, message rewriting, regexflag)")                    \
    X(DOMINO1, "domino1", OPTIONS_FLAG, 0, O_HON, O_NA,                                            \
      "preset: sep1 \\, prefix1 \"\", messageidnodomain")                                          \
    X(DOMINO2, "domino2", OPTIONS_FLAG, 0, O_HON, O_NA,                                            \
      "preset: sep2 \\, prefix2 \"\", messageidnodomain, a regextrans2 for Inbox")                 \
    X(DOMAIN1, "domain1", OPTIONS_STR, 0, O_REF("imapferry has no NTLM authentication"), O_NA,     \
      "NTLM domain on host1")                                                                      \
    X(DOMAIN2, "domain2", OPTIONS_STR, 0, O_REF("imapferry has no NTLM authentication"), O_NA,     \
      "NTLM domain on host2")                                                                      \
    X(PASSWORD1, "password1", OPTIONS_STR, 1, O_HON, O_NA, "source password")                      \
    X(PASSWORD2, "password2", OPTIONS_STR, 1, O_HON, O_NA, "destination password")                 \
    X(PASSFILE1, "passfile1", OPTIONS_STR, 0, O_HON, O_NA,                                         \
      "source password: first line of this file")                                                  \
    X(PASSFILE2, "passfile2", OPTIONS_STR, 0, O_HON, O_NA,                                         \
      "destination password: first line of this file")                                             \
    X(AUTHMD5, "authmd5", OPTIONS_NEGFLAG, 0, O_HON, O_ACC,                                        \
      "CRAM-MD5 on both sides (old shortcut)")                                                     \
    X(AUTHMD51, "authmd51", OPTIONS_NEGFLAG, 0, O_HON, O_ACC, "CRAM-MD5 on host1")                 \
    X(AUTHMD52, "authmd52", OPTIONS_NEGFLAG, 0, O_HON, O_ACC, "CRAM-MD5 on host2")                 \
    X(TRYLOGIN, "trylogin", OPTIONS_NEGFLAG, 0, O_ACC, O_ACC,                                      \
      "on by default: if a non-LOGIN mechanism fails, retry with LOGIN")                           \
    X(OAUTHDIRECT1, "oauthdirect1", OPTIONS_STR, 1, O_REF("use --oauthaccesstoken1"), O_NA,        \
      "raw base64 XOAUTH2 SASL string for host1 (or a file holding it)")                           \
    X(OAUTHDIRECT2, "oauthdirect2", OPTIONS_STR, 1, O_REF("use --oauthaccesstoken2"), O_NA,        \
      "same for host2")                                                                            \
    X(OAUTH1, "oauthaccesstoken1", OPTIONS_STR, 1, O_HON, O_NA,                                    \
      "source: XOAUTH2 token, or a file holding it")                                               \
    X(OAUTH2, "oauthaccesstoken2", OPTIONS_STR, 1, O_HON, O_NA,                                    \
      "destination: XOAUTH2 token, or a file holding it")                                          \
    X(SEP1, "sep1", OPTIONS_STR, 0, O_HON, O_NA,                                                   \
      "override the host1 hierarchy separator (else NAMESPACE, else guessed)")                     \
    X(SEP2, "sep2", OPTIONS_STR, 0, O_HON, O_NA, "override the host2 hierarchy separator")         \
    X(SANITIZE, "sanitize", OPTIONS_NEGFLAG, 0, O_ACC, O_ACC,                                      \
      "on: trim blanks around host, user and password values")                                     \
    X(FOLDER, "folder", OPTIONS_LIST, 0, O_HON, O_NA,                                              \
      "sync only this host1 folder (raw modified-UTF-7 name); repeatable")                         \
    X(FOLDERREC, "folderrec", OPTIONS_LIST, 0, O_HON, O_NA,                                        \
      "sync this host1 folder and all its subfolders; repeatable")                                 \
    X(INCLUDE, "include", OPTIONS_LIST, 0, O_HON, O_NA,                                            \
      "add host1 folders matching this Perl regex; repeatable")                                    \
    X(EXCLUDE, "exclude", OPTIONS_LIST, 0, O_HON, O_NA,                                            \
      "remove selected folders matching this Perl regex; repeatable")                              \
    X(NOEXCLUDE, "noexclude", OPTIONS_FLAG, 0, O_HON, O_NA,                                        \
      "cancel the --exclude added by --gmail2 / --office1")                                        \
    X(FOLDERFIRST, "folderfirst", OPTIONS_LIST, 0, O_HON, O_NA,                                    \
      "sync these folders first (reorders only); repeatable")                                      \
    X(FOLDERLAST, "folderlast", OPTIONS_LIST, 0, O_HON, O_NA,                                      \
      "sync these folders last; repeatable")                                                       \
    X(PREFIX1, "prefix1", OPTIONS_STR, 0, O_HON, O_NA,                                             \
      "override the host1 personal-namespace prefix")                                              \
    X(PREFIX2, "prefix2", OPTIONS_STR, 0, O_HON, O_NA,                                             \
      "override the host2 personal-namespace prefix")                                              \
    X(SUBFOLDER1, "subfolder1", OPTIONS_STR, 0, O_HON, O_NA,                                       \
      "sync only the host1 subtree STR, to the root of host2 (exit 21 if absent)")                 \
    X(SUBFOLDER2, "subfolder2", OPTIONS_STR, 0, O_HON, O_NA,                                       \
      "put the whole host1 tree under host2 folder STR (three regextrans2 rules put first)")       \
    X(FIXSLASH2, "fixslash2", OPTIONS_NEGFLAG, 0, O_ACC,                                           \
      O_REF("imapferry always turns a / left in a name into _"),                                   \
      "on: a \"/\" left in a name becomes \"_\" when sep1 is \"/\" and sep2 is not")               \
    X(FIXINBOXINBOX, "fixInboxINBOX", OPTIONS_NEGFLAG, 0, O_ACC,                                   \
      O_REF("imapferry always maps INBOX, whatever its case, to INBOX"),                           \
      "on: map INBOX<->Inbox when one side has INBOX and the other Inbox")                         \
    X(REGEXTRANS2, "regextrans2", OPTIONS_LIST, 0, O_HON, O_NA,                                    \
      "Perl s/// or tr/// applied in order to each host2 folder name; repeatable")                 \
    X(MIXFOLDERS, "mixfolders", OPTIONS_NEGFLAG, 0, O_HON,                                         \
      O_REF("imapferry merges them; give them distinct names with --f1f2"),                        \
      "merge host1 folders that map to one host2 folder (default on)")                             \
    X(SKIPEMPTYFOLDERS, "skipemptyfolders", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                      \
      "do not create host2 folders for empty host1 folders")                                       \
    X(REGEXMESS, "regexmess", OPTIONS_LIST, 0, O_HON, O_NA,                                        \
      "Perl s/// applied to the whole message before APPEND; repeatable")                          \
    X(NOREGEXMESS, "noregexmess", OPTIONS_FLAG, 0, O_HON, O_NA,                                    \
      "cancel the regexmess added by --office2 / --exchange2")                                     \
    X(SKIPMESS, "skipmess", OPTIONS_LIST, 0, O_HON, O_NA,                                          \
      "skip messages whose full text matches this Perl m//; repeatable")                           \
    X(PIPEMESS, "pipemess", OPTIONS_LIST, 0, O_HON, O_NA,                                          \
      "pipe each message through this command (chained); repeatable")                              \
    X(PIPEMESSCHECK, "pipemesscheck", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                            \
      "on: test each --pipemess command at startup")                                               \
    X(DISARMREADRECEIPTS, "disarmreadreceipts", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                  \
      "rename header Disposition-Notification-To: to X-Disposition-Notification-To:")              \
    X(REGEXFLAG, "regexflag", OPTIONS_LIST, 0, O_HON, O_NA,                                        \
      "Perl s/// or tr/// applied in order to the host1 flag string; repeatable")                  \
    X(NOREGEXFLAG, "noregexflag", OPTIONS_FLAG, 0, O_HON, O_NA,                                    \
      "cancel the regexflag added by --exchange2")                                                 \
    X(FILTERFLAGS, "filterflags", OPTIONS_NEGFLAG, 0, O_ACC,                                       \
      O_REF("imapferry always drops the keywords host2 cannot store"),                             \
      "on: keep only flags listed in host2 PERMANENTFLAGS when it lacks \\*")                      \
    X(FILTERBUGGYFLAGS, "filterbuggyflags", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                      \
      "prepend a regexflag removing known-bad flags (\\RECEIPTCHECKED, \\JUNK, \\Indexed, ...)")   \
    X(FLAGSCASE, "flagscase", OPTIONS_NEGFLAG, 0, O_ACC,                                           \
      O_REF("imapferry always writes system flags as \\Seen, \\Answered..."),                      \
      "on: \\SEEN -> \\Seen etc. for the five system flags")                                       \
    X(SYNCFLAGSAFTERCOPY, "syncflagsaftercopy", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                  \
      "after APPEND, FETCH the new message flags and STORE again if they differ")                  \
    X(RESYNCFLAGS, "resyncflags", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                \
      "set host2 flags to host1 flags for messages already there (default on)")                    \
    X(SYNCLABELS, "synclabels", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                  \
      "Gmail: copy X-GM-LABELS after APPEND (on with --gmail1 --gmail2)")                          \
    X(RESYNCLABELS, "resynclabels", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                              \
      "Gmail: re-store X-GM-LABELS on messages already there when they differ")                    \
    X(DELETE1, "delete1|delete", OPTIONS_NEGFLAG, 0, O_HON, O_ACC,                                 \
      "delete host1 messages once they are on host2 (implies --expunge1)")                         \
    X(DELETE2, "delete2", OPTIONS_NEGFLAG, 0, O_HON, O_ACC,                                        \
      "delete host2 messages whose identity is not on host1 (in the same folder pair)")            \
    X(DELETE2DUPLICATES, "delete2duplicates", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                    \
      "delete duplicates inside each host2 folder (on with --delete2 unless --syncduplicates)")    \
    X(DELETE2FOLDERS, "delete2folders", OPTIONS_NEGFLAG, 0, O_HON, O_ACC,                          \
      "delete host2 folders that have no host1 counterpart")                                       \
    X(DELETE2FOLDERSONLY, "delete2foldersonly", OPTIONS_STR, 0, O_HON, O_NA,                       \
      "delete only folders matching this Perl match expression (\"/re/\"); implies "               \
      "--delete2folders")                                                                          \
    X(DELETE2FOLDERSBUTNOT, "delete2foldersbutnot", OPTIONS_STR, 0, O_HON, O_NA,                   \
      "never delete folders matching \"/re/\"; implies --delete2folders")                          \
    X(SYNCINTERNALDATES, "syncinternaldates", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                    \
      "APPEND with host1 INTERNALDATE (default on)")                                               \
    X(IDATEFROMHEADER, "idatefromheader", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                        \
      "APPEND with the Date: header as internal date")                                             \
    X(SYNCACLS, "syncacls", OPTIONS_NEGFLAG, 0,                                                    \
      O_REF("ACLs name the source server's users; set them with host2's tools"), O_ACC,            \
      "copy ACLs with GETACL/SETACL (off)")                                                        \
    X(MAXSIZE, "maxsize", OPTIONS_INT, 0, O_HON, O_NA,                                             \
      "skip host1 messages bigger than N bytes (lowered to host2 APPENDLIMIT)")                    \
    X(APPENDLIMIT, "appendlimit", OPTIONS_INT, 0, O_HON, O_NA,                                     \
      "override the APPENDLIMIT read from host2 CAPABILITY")                                       \
    X(TRUNCMESS, "truncmess", OPTIONS_INT, 0, O_HON, O_NA, "truncate message text to N bytes")     \
    X(MINSIZE, "minsize", OPTIONS_INT, 0, O_HON, O_NA, "skip messages of N bytes or less")         \
    X(MAXAGE, "maxage", OPTIONS_FLOAT, 0, O_HON, O_NA,                                             \
      "only messages newer than N days (SEARCH SENTSINCE), both hosts")                            \
    X(MINAGE, "minage", OPTIONS_FLOAT, 0, O_HON, O_NA,                                             \
      "only messages older than N days (SEARCH SENTBEFORE), both hosts")                           \
    X(SEARCH, "search", OPTIONS_STR, 0, O_HON, O_NA,                                               \
      "raw IMAP SEARCH criteria selecting messages on both hosts")                                 \
    X(SEARCH1, "search1", OPTIONS_STR, 0, O_HON, O_NA, "SEARCH criteria for host1 only")           \
    X(SEARCH2, "search2", OPTIONS_STR, 0, O_HON, O_NA, "SEARCH criteria for host2 only")           \
    X(FOLDERSIZES, "foldersizes", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                \
      "count messages and bytes per folder, both hosts")                                           \
    X(FOLDERSIZESATEND, "foldersizesatend", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                      \
      "count messages and bytes again at the end (default: as --foldersizes)")                     \
    X(DRY, "dry", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                                \
      "change nothing on either server, say what would be done")                                   \
    X(DRY1, "dry1", OPTIONS_NEGFLAG, 0, O_REF("use --dry"), O_ACC,                                 \
      "with --dry, do not fetch bodies from host1 (= dry)")                                        \
    X(EXPUNGE1, "expunge1|expunge", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                              \
      "EXPUNGE host1 before and after each folder")                                                \
    X(EXPUNGE2, "expunge2", OPTIONS_NEGFLAG, 0, O_HON, O_ACC, "EXPUNGE host2 after each folder")   \
    X(UIDEXPUNGE2, "uidexpunge2", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                \
      "UID EXPUNGE the messages --delete2 marked (auto with delete2; needs UIDPLUS)")              \
    X(SUBSCRIBED, "subscribed", OPTIONS_FLAG, 0, O_HON, O_NA,                                      \
      "add the host1 subscribed folders (LSUB) to the selection")                                  \
    X(SUBSCRIBE, "subscribe", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                    \
      "subscribe on host2 the folders subscribed on host1 (default on)")                           \
    X(SUBSCRIBEALL, "subscribeall|subscribe_all", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                \
      "subscribe every synced host2 folder")                                                       \
    X(JUSTBANNER, "justbanner", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_TEST), O_REF(O_WHY_TEST),          \
      "print the banner and exit")                                                                 \
    X(JUSTFOLDERS, "justfolders", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                \
      "create the folders only, copy no message")                                                  \
    X(JUSTFOLDERSIZES, "justfoldersizes", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                        \
      "print the folder sizes and exit")                                                           \
    X(VERSION, "version", OPTIONS_FLAG, 0, O_HON, O_NA, "print the version and exit")              \
    X(HELP, "help", OPTIONS_FLAG, 0, O_HON, O_NA, "print the usual options and exit")              \
    X(LIST_OPTIONS, "list-options", OPTIONS_FLAG, 0, O_HON, O_NA,                                  \
      "list every option, its type and status, and exit")                                          \
    X(TIMEOUT, "timeout", OPTIONS_FLOAT, 0, O_HON, O_NA,                                           \
      "I/O timeout in seconds for both sides (120)")                                               \
    X(TIMEOUT1, "timeout1", OPTIONS_FLOAT, 0, O_HON, O_NA, "I/O timeout on host1")                 \
    X(TIMEOUT2, "timeout2", OPTIONS_FLOAT, 0, O_HON, O_NA, "I/O timeout on host2")                 \
    X(SKIPHEADER, "skipheader", OPTIONS_STR, 0, O_HON, O_NA,                                       \
      "drop identity header lines matching this regex (case-insensitive)")                         \
    X(USEHEADER, "useheader", OPTIONS_LIST, 0, O_HON, O_NA,                                        \
      "header fields forming the message identity (default Message-Id, Received; ALL); "           \
      "repeatable")                                                                                \
    X(WHOLEHEADERIFNEEDED, "wholeheaderifneeded", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                \
      "on: refetch BODY.PEEK[HEADER] when the header fields come back empty")                      \
    X(MESSAGEIDNODOMAIN, "messageidnodomain", OPTIONS_NEGFLAG, 0, O_HON, O_ACC,                    \
      "ignore the part of Message-Id after \"@\"")                                                 \
    X(SKIPSIZE, "skipsize", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                      \
      "identify messages without their size")                                                      \
    X(ALLOWSIZEMISMATCH, "allowsizemismatch", OPTIONS_NEGFLAG, 0, O_ACC,                           \
      O_REF("imapferry copies the bytes the server sends, whatever RFC822.SIZE said"),             \
      "on: tolerate a fetched size different from RFC822.SIZE")                                    \
    X(FASTIO1, "fastio1", OPTIONS_NEGFLAG, 0, O_ACC, O_ACC, "Mail::IMAPClient Fast_io on host1")   \
    X(FASTIO2, "fastio2", OPTIONS_NEGFLAG, 0, O_ACC, O_ACC, "Mail::IMAPClient Fast_io on host2")   \
    X(SSLCHECK, "sslcheck", OPTIONS_NEGFLAG, 0,                                                    \
      O_REF("imapferry does not probe port 993; use --ssl1/--ssl2"), O_ACC,                        \
      "on: probe port 993 and use implicit TLS when no port/ssl/tls is given")                     \
    X(SSL1, "ssl1", OPTIONS_NEGFLAG, 0, O_HON, O_HON, "source: implicit TLS (port 993)")           \
    X(SSL2, "ssl2", OPTIONS_NEGFLAG, 0, O_HON, O_HON, "destination: implicit TLS (port 993)")      \
    X(SSL1_SSL_VERSION, "ssl1_ssl_version", OPTIONS_STR, 0, O_REF(O_WHY_TLS1), O_NA,               \
      "TLS protocol version for host1 (= --sslargs1 SSL_version=)")                                \
    X(SSL2_SSL_VERSION, "ssl2_ssl_version", OPTIONS_STR, 0, O_REF(O_WHY_TLS2), O_NA,               \
      "TLS protocol version for host2")                                                            \
    X(SSLARGS1, "sslargs1", OPTIONS_KV, 0, O_HON, O_NA,                                            \
      "IO::Socket::SSL arguments for host1: SSL_verify_mode=0|1, SSL_ca_file=FILE")                \
    X(SSLARGS2, "sslargs2", OPTIONS_KV, 0, O_HON, O_NA, "same for host2")                          \
    X(TLS1, "tls1", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                              \
      "source: STARTTLS required; --notls1: plaintext")                                            \
    X(TLS2, "tls2", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                              \
      "destination: STARTTLS required; --notls2: plaintext")                                       \
    X(CAFILE1, "cafile1", OPTIONS_STR, 0, O_HON, O_NA, "source: also trust this CA file (PEM)")    \
    X(CAFILE2, "cafile2", OPTIONS_STR, 0, O_HON, O_NA,                                             \
      "destination: also trust this CA file (PEM)")                                                \
    X(INSECURE1, "insecure1", OPTIONS_FLAG, 0, O_HON, O_NA,                                        \
      "source: do not verify the certificate")                                                     \
    X(INSECURE2, "insecure2", OPTIONS_FLAG, 0, O_HON, O_NA,                                        \
      "destination: do not verify the certificate")                                                \
    X(DELETE2CEILING, "delete2ceiling", OPTIONS_INT, 0, O_HON, O_NA,                               \
      "most --delete2 may remove from one folder, in percent (10)")                                \
    X(WORKERS, "workers", OPTIONS_INT, 0, O_HON, O_NA,                                             \
      "folder pairs synced at once, each on its own pair of sessions (4)")                         \
    X(NOPROGRESS, "noprogress", OPTIONS_FLAG, 0, O_HON, O_NA,                                      \
      "no progress line on a terminal (no account table with --csv)")                              \
    X(STATEDIR, "statedir", OPTIONS_STR, 0, O_HON, O_NA,                                           \
      "state directory (default $XDG_STATE_HOME/imapferry)")                                       \
    X(NOSTATE, "nostate", OPTIONS_FLAG, 0, O_HON, O_NA,                                            \
      "keep no state (the account pair is still locked)")                                          \
    X(CSV, "csv", OPTIONS_STR, 0, O_HON, O_NA,                                                     \
      "run each line of this file (host1;user1;password1;host2;user2;password2;options)")          \
    X(JOBS, "jobs", OPTIONS_INT, 0, O_HON, O_NA, "with --csv: accounts synced at once (2)")        \
    X(MAXCONNSPERHOST, "maxconnsperhost", OPTIONS_INT, 0, O_HON, O_NA,                             \
      "with --csv: most sessions open at once on one server, all jobs together")                   \
    X(JSON, "json", OPTIONS_STR, 0, O_HON, O_NA,                                                   \
      "write a JSON report of the run to this file (- for standard output)")                       \
    X(VERIFY, "verify", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                          \
      "after the sync, compare host2 with host1 by content, flags and dates")                      \
    X(JUSTVERIFY, "justverify", OPTIONS_FLAG, 0, O_HON, O_NA,                                      \
      "compare host2 with host1 by content, flags and dates; sync nothing")                        \
    X(LEDGER, "ledger", OPTIONS_STR, 0, O_HON, O_NA,                                               \
      "write one JSON line per message considered to this file")                                   \
    X(UID1, "uid1", OPTIONS_NEGFLAG, 0, O_ACC, O_REF("imapferry always uses UID commands"),        \
      "on: use UID commands on host1")                                                             \
    X(UID2, "uid2", OPTIONS_NEGFLAG, 0, O_ACC, O_REF("imapferry always uses UID commands"),        \
      "on: use UID commands on host2")                                                             \
    X(AUTHMECH1, "authmech1", OPTIONS_STR, 0, O_HON, O_NA,                                         \
      "source: LOGIN (default), PLAIN, CRAM-MD5, XOAUTH2")                                         \
    X(AUTHMECH2, "authmech2", OPTIONS_STR, 0, O_HON, O_NA,                                         \
      "destination: LOGIN (default), PLAIN, CRAM-MD5, XOAUTH2")                                    \
    X(AUTHUSER1, "authuser1", OPTIONS_STR, 0, O_HON, O_NA,                                         \
      "source: admin identity that logs in for --user1")                                           \
    X(AUTHUSER2, "authuser2", OPTIONS_STR, 0, O_HON, O_NA,                                         \
      "destination: admin identity for --user2")                                                   \
    X(PROXYAUTH1, "proxyauth1", OPTIONS_FLAG, 0, O_HON, O_NA,                                      \
      "log in as authuser1, then PROXYAUTH user1")                                                 \
    X(PROXYAUTH2, "proxyauth2", OPTIONS_FLAG, 0, O_HON, O_NA, "same on host2")                     \
    X(COMPRESS1, "compress1", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                    \
      "COMPRESS=DEFLATE on host1 when offered (on); --nocompress1: off")                           \
    X(COMPRESS2, "compress2", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                    \
      "COMPRESS=DEFLATE on host2 when offered (on); --nocompress2: off")                           \
    X(KEEPALIVE1, "keepalive1", OPTIONS_NEGFLAG, 0, O_ACC, O_NOTE("keepalive is always on"),       \
      "on: SO_KEEPALIVE on the host1 socket")                                                      \
    X(KEEPALIVE2, "keepalive2", OPTIONS_NEGFLAG, 0, O_ACC, O_NOTE("keepalive is always on"),       \
      "on: SO_KEEPALIVE on the host2 socket")                                                      \
    X(SPLIT1, "split1", OPTIONS_INT, 0, O_ACC, O_NA, "max UIDs per command on host1 (100)")        \
    X(SPLIT2, "split2", OPTIONS_INT, 0, O_ACC, O_NA, "max UIDs per command on host2 (100)")        \
    X(BUFFERSIZE, "buffersize", OPTIONS_INT, 0, O_ACC, O_NA, "socket read buffer size (4096)")     \
    X(RECONNECT1, "reconnectretry1", OPTIONS_INT, 0, O_HON, O_NA,                                  \
      "reconnects to host1 per folder (3)")                                                        \
    X(RECONNECT2, "reconnectretry2", OPTIONS_INT, 0, O_HON, O_NA,                                  \
      "reconnects to host2 per folder (3)")                                                        \
    X(TESTS, "tests", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_TEST), O_REF(O_WHY_TEST),                    \
      "run the internal unit tests")                                                               \
    X(TESTSDEBUG, "testsdebug|tests_debug", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_TEST),                 \
      O_REF(O_WHY_TEST), "run a debug subset of the unit tests")                                   \
    X(TESTSUNIT, "testsunit", OPTIONS_LIST, 0, O_REF(O_WHY_TEST), O_NA,                            \
      "run the named tests_* functions")                                                           \
    X(TESTSLIVE, "testslive", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_TEST), O_REF(O_WHY_TEST),            \
      "live sync against test1.lamiral.info")                                                      \
    X(TESTSLIVE6, "testslive6", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_TEST), O_REF(O_WHY_TEST),          \
      "live IPv6 sync test")                                                                       \
    X(JUSTLOGIN, "justlogin", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                    \
      "log in on both sides, show capabilities, exit")                                             \
    X(JUSTCONNECT, "justconnect", OPTIONS_NEGFLAG, 0, O_HON, O_ACC,                                \
      "connect to both sides, print banners and capabilities, exit")                               \
    X(TMPDIR, "tmpdir", OPTIONS_STR, 0, O_NOTE(O_WHY_CACHE), O_NA,                                 \
      "directory for cache, default pidfile and pipemess files (created)")                         \
    X(PIDFILE, "pidfile", OPTIONS_STR, 0, O_HON, O_NA,                                             \
      "pid file (default /tmp/imapferry.pid; \"\" for none)")                                      \
    X(PIDFILELOCKING, "pidfilelocking", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                          \
      "refuse to run while the pid file is held")                                                  \
    X(SIGEXIT, "sigexit", OPTIONS_LIST, 0, O_REF(O_WHY_SIGNALS), O_NA,                             \
      "signals that print stats and exit (QUIT TERM)")                                             \
    X(SIGRECONNECT, "sigreconnect", OPTIONS_LIST, 0, O_REF(O_WHY_SIGNALS), O_NA,                   \
      "signals that reconnect both sides (INT)")                                                   \
    X(SIGIGNORE, "sigignore", OPTIONS_LIST, 0, O_REF(O_WHY_SIGNALS), O_NA,                         \
      "signals that print stats and continue")                                                     \
    X(RELEASECHECK, "releasecheck", OPTIONS_NEGFLAG, 0,                                            \
      O_NOTE("imapferry never contacts the internet"), O_ACC,                                      \
      "HTTP check for a newer release (off in this copy)")                                         \
    X(MODULESVERSION, "modulesversion|modules_version", OPTIONS_NEGFLAG, 0,                        \
      O_NOTE("imapferry has no Perl modules to list"), O_ACC, "on: print Perl module versions")    \
    X(USECACHE, "usecache", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_CACHE), O_ACC,                        \
      "keep a UID-pair cache under <tmpdir>/imapsync_cache/ to skip header parsing")               \
    X(CACHEAFTERCOPY, "cacheaftercopy", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_CACHE), O_ACC,            \
      "write a cache entry after each APPEND (on with usecache)")                                  \
    X(DEBUGCACHE, "debugcache", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC, "trace the cache") \
    X(USEUID, "useuid", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_CACHE), O_ACC,                            \
      "identify messages by UID + cache instead of headers (implies usecache)")                    \
    X(ADDHEADER, "addheader", OPTIONS_NEGFLAG, 0, O_HON, O_ACC,                                    \
      "give header-less host1 messages a \"Message-Id: <UID@imapsync>\" and copy them")            \
    X(EXITWHENOVER, "exitwhenover", OPTIONS_INT, 0, O_HON, O_NA,                                   \
      "stop after N bytes transferred (exit 118)")                                                 \
    X(EXITONLOAD, "exitonload", OPTIONS_NEGFLAG, 0,                                                \
      O_REF("imapferry does not watch the load; bound it with --workers and --jobs"), O_ACC,       \
      "refuse to run under heavy load (exit 69; CGI, command line in 2.290)")                      \
    X(CHECKSELECTABLE, "checkselectable", OPTIONS_NEGFLAG, 0, O_ACC,                               \
      O_NOTE("\\Noselect folders are always left out"),                                            \
      "drop \\Noselect wanted folders (auto on up to 152 folders)")                                \
    X(CHECKFOLDERSEXIST, "checkfoldersexist", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                    \
      "drop wanted folders host1 does not list (default on)")                                      \
    X(CHECKMESSAGEEXISTS, "checkmessageexists", OPTIONS_NEGFLAG, 0,                                \
      O_REF("one UID SEARCH per message costs a round trip each for nothing: both sides are "      \
            "listed"),                                                                             \
      O_ACC, "UID SEARCH UID n before each copy (off)")                                            \
    X(EXPUNGEAFTEREACH, "expungeaftereach", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_EACH), O_ACC,         \
      "on: with --delete1, expunge after each message")                                            \
    X(ABLETOSEARCH, "abletosearch", OPTIONS_NEGFLAG, 0, O_ACC, O_NOTE(O_WHY_SEARCHALL),            \
      "on: list messages with UID SEARCH; --noabletosearch uses FETCH 1:* INTERNALDATE")           \
    X(ABLETOSEARCH1, "abletosearch1", OPTIONS_NEGFLAG, 0, O_ACC, O_NOTE(O_WHY_SEARCHALL),          \
      "same, host1 only")                                                                          \
    X(ABLETOSEARCH2, "abletosearch2", OPTIONS_NEGFLAG, 0, O_ACC, O_NOTE(O_WHY_SEARCHALL),          \
      "same, host2 only")                                                                          \
    X(SHOWPASSWORDS, "showpasswords", OPTIONS_NEGFLAG, 0,                                          \
      O_REF("imapferry never shows passwords"), O_ACC,                                             \
      "show passwords in the echoed command line")                                                 \
    X(MAXLINELENGTH, "maxlinelength", OPTIONS_INT, 0, O_HON, O_NA,                                 \
      "skip messages with a line longer than N bytes")                                             \
    X(MAXLINELENGTHCMD, "maxlinelengthcmd", OPTIONS_STR, 0, O_HON, O_NA,                           \
      "pipe such messages through this command instead of skipping")                               \
    X(MINMAXLINELENGTH, "minmaxlinelength", OPTIONS_INT, 0, O_REF(O_WHY_TEST), O_NA,               \
      "skip messages whose longest line is N bytes or less (debug)")                               \
    X(DEBUGMAXLINELENGTH, "debugmaxlinelength", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG), O_ACC,    \
      "print each message maximum line length")                                                    \
    X(FIXCOLONBUG, "fixcolonbug", OPTIONS_NEGFLAG, 0, O_ACC, O_ACC,                                \
      "on: Windows cache-path colon fix")                                                          \
    X(CREATE_FOLDER_OLD, "create_folder_old", OPTIONS_NEGFLAG, 0,                                  \
      O_REF("imapferry always creates the parents first"), O_ACC,                                  \
      "old CREATE without creating parents first (off)")                                           \
    X(MAXMESSAGESPERSECOND, "maxmessagespersecond", OPTIONS_FLOAT, 0, O_HON, O_NA,                 \
      "cap the average messages per second (sleep after APPEND)")                                  \
    X(MAXBYTESPERSECOND, "maxbytespersecond", OPTIONS_INT, 0, O_HON, O_NA,                         \
      "cap the average bytes per second")                                                          \
    X(MAXBYTESAFTER, "maxbytesafter", OPTIONS_INT, 0, O_HON, O_NA,                                 \
      "apply the bytes cap only after N bytes")                                                    \
    X(MAXSLEEP, "maxsleep", OPTIONS_FLOAT, 0, O_HON, O_NA,                                         \
      "longest sleep per message from the caps (2 s; 0 disables)")                                 \
    X(SYNCDUPLICATES, "syncduplicates", OPTIONS_NEGFLAG, 0, O_ACC,                                 \
      O_REF("imapferry always copies every duplicate"),                                            \
      "also copy host1 duplicates (n-th copy matches n-th copy); off by default")                  \
    X(SKIPCROSSDUPLICATES, "skipcrossduplicates", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                \
      "skip a message already seen in another host2 folder this run (on with --gmail1)")           \
    X(DEBUGCROSSDUPLICATES, "debugcrossduplicates", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_DEBUG),       \
      O_ACC, "print the cross-duplicates")                                                         \
    X(LOG, "log", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                                \
      "write a log file (default on; --nolog to skip)")                                            \
    X(TAIL, "tail", OPTIONS_NEGFLAG, 0,                                                            \
      O_REF("follow the running run's log file with tail -f: its first lines name it"), O_ACC,     \
      "with --pidfilelocking, tail -f the running log instead of exiting 8")                       \
    X(LOGFILE, "logfile", OPTIONS_STR, 0, O_HON, O_NA, "log file name, relative to --logdir")      \
    X(LOGDIR, "logdir", OPTIONS_STR, 0, O_HON, O_NA, "log folder (default LOG_imapferry)")         \
    X(ERRORSMAX, "errorsmax", OPTIONS_INT, 0, O_HON, O_NA,                                         \
      "exit after N errors (50) with the most frequent error code")                                \
    X(ERRORSDUMP, "errorsdump", OPTIONS_NEGFLAG, 0, O_ACC, O_ACC,                                  \
      "on: list all errors at the end")                                                            \
    X(FETCH_HASH_SET, "fetch_hash_set", OPTIONS_STR, 0,                                            \
      O_REF("imapferry always lists every message of a folder"), O_NA,                             \
      "UID set used with --noabletosearch (1:*)")                                                  \
    X(AUTOMAP, "automap", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                        \
      "map special-use folders (\\Sent \\Trash ...) onto the host2 folders with the same role")    \
    X(JUSTAUTOMAP, "justautomap", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                                \
      "print the automap result and exit")                                                         \
    X(ID, "id", OPTIONS_NEGFLAG, 0, O_REF("imapferry sends no ID command"), O_ACC,                 \
      "on: send the IMAP ID command")                                                              \
    X(F1F2, "f1f2", OPTIONS_LIST, 0, O_HON, O_NA,                                                  \
      "force host1 folder A to host2 folder B (\"A=B\"); repeatable")                              \
    X(NOF1F2, "nof1f2", OPTIONS_FLAG, 0, O_HON, O_NA, "cancel the f1f2 added by --office2")        \
    X(F1F2H, "f1f2h", OPTIONS_KV, 0, O_REF("use --f1f2 FOLDER1=FOLDER2"), O_NA,                    \
      "hash form of --f1f2 (CGI)")                                                                 \
    X(JUSTFOLDERLISTS, "justfolderlists", OPTIONS_NEGFLAG, 0, O_HON, O_HON,                        \
      "print both folder lists and the mapping, exit 0")                                           \
    X(DELETE1EMPTYFOLDERS, "delete1emptyfolders", OPTIONS_FLAG, 0, O_HON, O_NA,                    \
      "delete empty host1 folders without children (not INBOX)")                                   \
    X(CHECKNOABLETOSEARCH, "checknoabletosearch", OPTIONS_NEGFLAG, 0, O_NOTE(O_WHY_SEARCHALL),     \
      O_ACC, "on: test SEARCH ALL on INBOX of both hosts; fall back to --noabletosearch")          \
    X(DOCKERCONTEXT, "dockercontext", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_CGI), O_REF(O_WHY_CGI),      \
      "Docker plumbing (no log, no pidfile)")                                                      \
    X(EMAILREPORTFROM, "emailreportfrom", OPTIONS_STR, 0, O_REF(O_WHY_REPORTMAIL), O_NA,           \
      "from: of the email reports")                                                                \
    X(EMAILREPORT1, "emailreport1", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_REPORTMAIL), O_ACC,            \
      "APPEND a final report into host1 INBOX (off)")                                              \
    X(EMAILREPORT2, "emailreport2", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_REPORTMAIL), O_ACC,            \
      "APPEND a final report into host2 INBOX (off)")                                              \
    X(VAR, "var", OPTIONS_LIST, 0, O_REF(O_WHY_CGI), O_NA, "CGI variables")                        \
    X(MEMORYSTRESS, "memorystress", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_TEST), O_REF(O_WHY_TEST),      \
      "memory stress test")                                                                        \
    X(TMPHASH, "tmphash", OPTIONS_STR, 0, O_REF(O_WHY_CGI), O_NA,                                  \
      "CGI: declared, but nothing in 2.229 reads it")                                              \
    X(LOGLOGFILE, "loglogfile", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_CGI), O_REF(O_WHY_CGI),            \
      "CGI: append the log name to ../list_all_logs_auto.txt")                                     \
    X(OAUTHREFRESHCMD1, "oauthrefreshcmd1", OPTIONS_STR, 1, O_HON, O_NA,                           \
      "command run before each host1 authentication to refresh the access token (file)")           \
    X(OAUTHREFRESHCMD2, "oauthrefreshcmd2", OPTIONS_STR, 1, O_HON, O_NA, "same for host2")         \
    X(EXTRA, "extra", OPTIONS_LIST, 0, O_REF(O_WHY_CGI), O_NA,                                     \
      "add options in the online UI \"like in the command line\"")                                 \
    X(TESTSLIVE2, "testslive2", OPTIONS_NEGFLAG, 0, O_REF(O_WHY_TEST), O_REF(O_WHY_TEST),          \
      "live test (second server)")

enum options_id {
#define OPTIONS_ENUM(id, names, type, secret, on, off, help) OPT_##id,
    OPTIONS_TABLE(OPTIONS_ENUM)
#undef OPTIONS_ENUM
        OPT__COUNT
};

struct options_value {
    int given;   /* seen on the command line */
    int on;      /* flags: 1 for --x, 0 for --nox (the last one given wins) */
    long num;    /* OPTIONS_INT */
    double fnum; /* OPTIONS_FLOAT */
    char *str;   /* OPTIONS_STR: owned; the last one given wins */
    char **list; /* OPTIONS_LIST, OPTIONS_KV: owned, in command-line order */
    size_t nlist;
};

/* Owns every string it holds; release with options_free. */
struct options {
    struct options_value v[OPT__COUNT];
    /* One line per accepted option that changes nothing the user may expect
     * to change, "--x: why", in command-line order, each option once. */
    char **notices;
    size_t nnotices;
};

/* Parses argv[1..argc-1] into *o (zeroed first). On failure: STATUS_USAGE and
 * a message naming the offending word. Secret values are wiped from argv
 * whether or not parsing succeeds. */
int options_parse(int argc, char **argv, struct options *o, struct status *st);
void options_free(struct options *o);

/* 1 for --x given, 0 for --nox or not given: what a flag asks for. */
int options_on(const struct options *o, enum options_id id);

/* Writes the honoured options for --help. */
void options_print_help(void *file);

/* Writes every option, one per line: "--name[|alias]  TYPE  STATUS  meaning"
 * (negatable as --[no]name), for --list-options and the manual. */
void options_print_list(void *file);

#endif
