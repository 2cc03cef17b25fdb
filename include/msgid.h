/* msgid: the identity of a message, used to decide what host2 already has.
 *
 * The key is a 128-bit digest of:
 *   - the normalised Message-ID value (unfolded, surrounding blanks trimmed,
 *     internal runs of whitespace collapsed to one space), plus the size,
 *   - or, when there is no (or an empty) Message-ID, the values of Date,
 *     From, To, Subject and every Received header (in that order, each
 *     normalised the same way, a missing header counting as empty) plus the
 *     size, so messages without Message-ID (Sent, Drafts) are still copied.
 * The size is left out when use_size is 0 (--skipsize). Header names match
 * case-insensitively. Pure: no I/O, no allocation that outlives a call.
 *
 * --useheader, --skipheader and --messageidnodomain choose imapsync's
 * construction instead (msgid_key_from_fields): for each header field whose
 * name is in the set (every field for ALL), each value with 8-bit bytes as
 * X, tabs as spaces, blanks trimmed and collapsed, a Message-ID cut at its
 * first "@" under --messageidnodomain, becomes the upper-cased line
 * "NAME: VALUE"; lines matching --skipheader are dropped; the rest, sorted,
 * is the identity. imapsync's default set is "Message-Id Received". */
#ifndef IMAPFERRY_MSGID_H
#define IMAPFERRY_MSGID_H

#include <stddef.h>
#include <stdint.h>

struct msgid_key {
    uint64_t hi, lo;
};

/* The header fields the key is built from, for the FETCH
 * BODY.PEEK[HEADER.FIELDS (...)] request: "Message-ID Date From To Subject Received". */
extern const char *const msgid_header_fields[];
extern const size_t msgid_header_count;

/* hdr: the raw header block returned by the server (CRLF or LF line ends,
 * folded lines, possibly 8-bit bytes, not NUL-terminated). Sets *has_msgid
 * to 1 when a non-empty Message-ID was found. */
void msgid_key_from_headers(const char *hdr, size_t len, uint32_t size, int use_size,
                            struct msgid_key *out, int *has_msgid);

struct rx_rule;

/* imapsync's identity settings; everything borrowed, read-only, so the
 * sessions of every worker share one. */
struct msgid_conf {
    const char *const *fields; /* --useheader names; none = Message-Id Received */
    size_t nfields;
    int all;                          /* a name is ALL: every field of the header */
    const struct rx_rule *skipheader; /* matched against "NAME: VALUE"; NULL = none */
    int nodomain;                     /* --messageidnodomain */
    int wholeheader;                  /* --wholeheaderifneeded (see imapc) */
};

/* 1 when name is an RFC 5322 field-name (printable ASCII but ':', at most
 * 76 bytes), so it may go into a FETCH HEADER.FIELDS list. */
int msgid_field_name_ok(const char *name);

/* The identity text: each line followed by '\n', sorted; malloc'd and
 * NUL-terminated, NULL when no line is left (no field of the set, or all
 * skipped). hdr as for msgid_key_from_headers. */
char *msgid_identity_text(const struct msgid_conf *conf, const char *hdr, size_t len);

/* 1 when hdr holds at least one header field (--wholeheaderifneeded asks
 * for the whole header of a message whose fields came back empty). */
int msgid_has_field(const char *hdr, size_t len);

/* The key of msgid_identity_text; 0 and *out untouched when the text is
 * empty (the caller then keys the message as without these options). */
int msgid_key_from_fields(const struct msgid_conf *conf, const char *hdr, size_t len,
                          struct msgid_key *out);

int msgid_key_cmp(const struct msgid_key *a, const struct msgid_key *b);

#endif
