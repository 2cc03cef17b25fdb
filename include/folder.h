/* folder: one folder as a server lists it, and a personal namespace; the
 * types the IMAP client returns and the folder planner reads, kept apart
 * so that neither includes the other. */
#ifndef IMAPFERRY_FOLDER_H
#define IMAPFERRY_FOLDER_H

#include <stdint.h>

/* Special-use roles (RFC 6154 LIST attributes; Gmail's XLIST uses the same
 * names), as bits. */
enum folder_role {
    FOLDER_ROLE_ALL = 1u << 0,
    FOLDER_ROLE_ARCHIVE = 1u << 1,
    FOLDER_ROLE_DRAFTS = 1u << 2,
    FOLDER_ROLE_FLAGGED = 1u << 3,
    FOLDER_ROLE_JUNK = 1u << 4,
    FOLDER_ROLE_SENT = 1u << 5,
    FOLDER_ROLE_TRASH = 1u << 6,
};

struct folder {
    char *name; /* raw wire name; owned by whoever built the array */
    int noselect;
    int subscribed;
    unsigned roles; /* enum folder_role bits from LIST, 0 = none */
};

struct folder_ns {
    const char *prefix; /* personal namespace prefix, e.g. "" or "INBOX." */
    char sep;           /* hierarchy separator, e.g. '/' or '.'; 0 = flat */
};

/* What STATUS says of a folder: enough to tell that it has not changed
 * (RFC 3501 UIDVALIDITY, UIDNEXT, MESSAGES; RFC 7162 HIGHESTMODSEQ). */
struct folder_status {
    uint32_t uidvalidity, uidnext, messages;
    uint64_t modseq; /* 0 = the server has no CONDSTORE (no flag-change counter) */
};

#endif
