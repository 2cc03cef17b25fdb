/* caps: the fixed ceilings on what a server can make imapferry hold.
 *
 * A server announces sizes (EXISTS, literal lengths, RFC822.SIZE) that
 * libetpan and our buffers would otherwise trust; these bounds come from
 * the program, never from the server. */
#ifndef IMAPFERRY_CAPS_H
#define IMAPFERRY_CAPS_H

#include <stdint.h>

/* The largest message (literal) accepted: above it a message is skipped and
 * reported, and a literal announced above it ends the session. Providers
 * stop far lower (Gmail 25 MB, Exchange Online 150 MB). */
#define CAPS_MESSAGE_BYTES ((uint64_t)1 << 30)

/* All literals of one command's answer together: one message at the cap
 * plus room for the rest. With the fetcher's batch and the appender's,
 * this bounds what a server can make us hold to about twice it. */
#define CAPS_RESPONSE_BYTES (CAPS_MESSAGE_BYTES + ((uint64_t)16 << 20))

/* The longest response line outside literals. */
#define CAPS_LINE_BYTES ((uint64_t)16 << 20)

#endif
