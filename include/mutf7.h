/* mutf7: IMAP modified UTF-7 (RFC 3501 section 5.1.3) <-> UTF-8 for folder names.
 *
 * Both functions allocate *out (caller frees with free()) on success and
 * leave it NULL on failure. Invalid input is rejected with STATUS_OTHER and
 * a message naming what was wrong; nothing is guessed. */
#ifndef IMAPFERRY_MUTF7_H
#define IMAPFERRY_MUTF7_H

#include "status.h"

#include <stddef.h>

/* Modified UTF-7 (as on the wire) -> UTF-8. */
int mutf7_decode(const char *in, char **out, struct status *st);

/* UTF-8 -> modified UTF-7. */
int mutf7_encode(const char *in, char **out, struct status *st);

/* A folder name for people, into buf (n bytes, always terminated): UTF-8
 * when wire decodes, the wire form otherwise; control characters become
 * '?' so that a hostile name cannot forge log lines. Returns buf. */
char *mutf7_display(const char *wire, char *buf, size_t n);

#endif
