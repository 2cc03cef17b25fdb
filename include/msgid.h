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
 * case-insensitively. Pure: no I/O, no allocation that outlives a call. */
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

int msgid_key_cmp(const struct msgid_key *a, const struct msgid_key *b);

#endif
