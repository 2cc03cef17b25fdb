/* options: the command-line table and a Getopt::Long-compatible parser.
 *
 * imapsync parses with Perl's Getopt::Long defaults, and admins' scripts rely
 * on that: names are case-insensitive, one or two dashes, `--opt value` or
 * `--opt=value`, unique prefixes are accepted, negatable flags take `--noX`
 * and `--no-X`, integers may contain underscores. Values of secret options
 * (passwords, tokens) are copied and then overwritten in argv so `ps` no
 * longer shows them. */
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
};

/* X(id, name, type, secret, help) */
#define OPTIONS_TABLE(X)                                                                           \
    X(HOST1, "host1", OPTIONS_STR, 0, "source IMAP server")                                        \
    X(PORT1, "port1", OPTIONS_INT, 0, "source port (143, or 993 with --ssl1)")                     \
    X(USER1, "user1", OPTIONS_STR, 0, "source login")                                              \
    X(PASSWORD1, "password1", OPTIONS_STR, 1, "source password")                                   \
    X(PASSFILE1, "passfile1", OPTIONS_STR, 0, "source password: first line of this file")          \
    X(AUTHMECH1, "authmech1", OPTIONS_STR, 0, "source: LOGIN (default), PLAIN, CRAM-MD5, XOAUTH2") \
    X(AUTHUSER1, "authuser1", OPTIONS_STR, 0, "source: admin identity that logs in for --user1")   \
    X(OAUTH1, "oauthaccesstoken1", OPTIONS_STR, 1, "source: XOAUTH2 token, or a file holding it")  \
    X(SSL1, "ssl1", OPTIONS_NEGFLAG, 0, "source: implicit TLS (port 993)")                         \
    X(TLS1, "tls1", OPTIONS_NEGFLAG, 0, "source: STARTTLS required; --notls1: plaintext")          \
    X(CAFILE1, "cafile1", OPTIONS_STR, 0, "source: also trust this CA file (PEM)")                 \
    X(INSECURE1, "insecure1", OPTIONS_FLAG, 0, "source: do not verify the certificate")            \
    X(HOST2, "host2", OPTIONS_STR, 0, "destination IMAP server")                                   \
    X(PORT2, "port2", OPTIONS_INT, 0, "destination port (143, or 993 with --ssl2)")                \
    X(USER2, "user2", OPTIONS_STR, 0, "destination login")                                         \
    X(PASSWORD2, "password2", OPTIONS_STR, 1, "destination password")                              \
    X(PASSFILE2, "passfile2", OPTIONS_STR, 0, "destination password: first line of this file")     \
    X(AUTHMECH2, "authmech2", OPTIONS_STR, 0,                                                      \
      "destination: LOGIN (default), PLAIN, CRAM-MD5, XOAUTH2")                                    \
    X(AUTHUSER2, "authuser2", OPTIONS_STR, 0, "destination: admin identity for --user2")           \
    X(OAUTH2, "oauthaccesstoken2", OPTIONS_STR, 1,                                                 \
      "destination: XOAUTH2 token, or a file holding it")                                          \
    X(SSL2, "ssl2", OPTIONS_NEGFLAG, 0, "destination: implicit TLS (port 993)")                    \
    X(TLS2, "tls2", OPTIONS_NEGFLAG, 0, "destination: STARTTLS required; --notls2: plaintext")     \
    X(CAFILE2, "cafile2", OPTIONS_STR, 0, "destination: also trust this CA file (PEM)")            \
    X(INSECURE2, "insecure2", OPTIONS_FLAG, 0, "destination: do not verify the certificate")       \
    X(TIMEOUT, "timeout", OPTIONS_FLOAT, 0, "I/O timeout in seconds for both sides (120)")         \
    X(TIMEOUT1, "timeout1", OPTIONS_FLOAT, 0, "I/O timeout on host1")                              \
    X(TIMEOUT2, "timeout2", OPTIONS_FLOAT, 0, "I/O timeout on host2")                              \
    X(RECONNECT1, "reconnectretry1", OPTIONS_INT, 0, "reconnects to host1 per folder (3)")         \
    X(RECONNECT2, "reconnectretry2", OPTIONS_INT, 0, "reconnects to host2 per folder (3)")         \
    X(DRY, "dry", OPTIONS_FLAG, 0, "change nothing on either server, say what would be done")      \
    X(JUSTFOLDERS, "justfolders", OPTIONS_FLAG, 0, "create the folders only, copy no message")     \
    X(JUSTLOGIN, "justlogin", OPTIONS_FLAG, 0, "log in on both sides, show capabilities, exit")    \
    X(SKIPSIZE, "skipsize", OPTIONS_NEGFLAG, 0, "identify messages without their size")            \
    X(FOLDERSIZES, "foldersizes", OPTIONS_NEGFLAG, 0,                                              \
      "count messages and bytes per folder, both hosts")                                           \
    X(PIDFILE, "pidfile", OPTIONS_STR, 0, "pid file (default /tmp/imapferry.pid; \"\" for none)")  \
    X(PIDFILELOCKING, "pidfilelocking", OPTIONS_NEGFLAG, 0,                                        \
      "refuse to run while the pid file is held")                                                  \
    X(LOG, "log", OPTIONS_NEGFLAG, 0, "write a log file (default on; --nolog to skip)")            \
    X(LOGFILE, "logfile", OPTIONS_STR, 0, "log file name, relative to --logdir")                   \
    X(LOGDIR, "logdir", OPTIONS_STR, 0, "log folder (default LOG_imapferry)")                      \
    X(HELP, "help", OPTIONS_FLAG, 0, "print this help and exit")                                   \
    X(VERSION, "version", OPTIONS_FLAG, 0, "print the version and exit")

enum options_id {
#define OPTIONS_ENUM(id, name, type, secret, help) OPT_##id,
    OPTIONS_TABLE(OPTIONS_ENUM)
#undef OPTIONS_ENUM
        OPT__COUNT
};

struct options_value {
    int given;   /* seen on the command line */
    int on;      /* flags: 1 for --x, 0 for --nox */
    long num;    /* OPTIONS_INT */
    double fnum; /* OPTIONS_FLOAT */
    char *str;   /* OPTIONS_STR: owned; the last one given wins */
    char **list; /* OPTIONS_LIST: owned, in command-line order */
    size_t nlist;
};

/* Owns every string it holds; release with options_free. */
struct options {
    struct options_value v[OPT__COUNT];
};

/* Parses argv[1..argc-1] into *o (zeroed first). On failure: STATUS_USAGE and
 * a message naming the offending word. Secret values are wiped from argv
 * whether or not parsing succeeds. */
int options_parse(int argc, char **argv, struct options *o, struct status *st);
void options_free(struct options *o);

/* Writes the option list for --help. */
void options_print_help(void *file);

#endif
