/* status: the error record every fallible function fills, and the exit codes.
 *
 * Functions return 0 on success and -1 on failure; on failure they fill a
 * caller-owned struct status with an exit code class and one line of text.
 * The top level (main/engine) reports each failure once. */
#ifndef IMAPFERRY_STATUS_H
#define IMAPFERRY_STATUS_H

/* imapsync's exit values, so batch scripts keep working. */
enum status_exit {
    STATUS_OK = 0,
    STATUS_OTHER = 1,
    STATUS_SIGNAL = 6,
    STATUS_PIDFILE = 8,
    STATUS_CONNECT = 10,
    STATUS_TLS = 12,
    STATUS_AUTH = 16,
    STATUS_SUBFOLDER = 21, /* --subfolder1 names a folder host1 lacks */
    STATUS_USAGE = 64,
    STATUS_NOINPUT = 66,
    STATUS_INTERNAL = 70,
    STATUS_CONNECT_HOST1 = 101,
    STATUS_CONNECT_HOST2 = 102,
    STATUS_WITH_ERRORS = 111,
    STATUS_ERR_APPEND = 114,
    STATUS_ERR_FETCH = 115,
    STATUS_ERR_CREATE = 116,
    STATUS_ERR_SELECT = 117,
    STATUS_TRANSFER_LIMIT = 118, /* --exitwhenover reached */
    STATUS_ERR_FLAGS = 120,
    STATUS_ERR_SEARCH = 121, /* host1 or host2 refused a --search (UID SEARCH) */
    STATUS_VERIFY = 122,     /* --verify found differences and nothing else went wrong */
    STATUS_AUTH_HOST1 = 161,
    STATUS_AUTH_HOST2 = 162,
};

struct status {
    int code;      /* an enum status_exit value */
    char msg[512]; /* one line, no trailing newline, never a password */
};

/* Fills st (if not NULL) and returns -1, so callers can write
 * `return status_set(st, STATUS_USAGE, "...")`. */
int status_set(struct status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts "prefix: " in front of the message and sets the code; returns -1. */
int status_prefix(struct status *st, int code, const char *prefix);

void status_clear(struct status *st);

/* Whether the failure ended a session (connection to host1 or host2 lost)
 * or the run (signal): the caller stops, rather than skip and go on. */
int status_lost(const struct status *st);

#endif
