/* deflate: the two byte transforms of IMAP COMPRESS=DEFLATE (RFC 4978); the
 * only zlib user.
 *
 * One struct deflate holds both directions of one connection: raw DEFLATE
 * (no zlib header: windowBits -15), each batch of outgoing bytes ended with
 * a sync flush so the server can decode every command at once, and the
 * server's bytes inflated into the caller's buffer. It does no I/O: the
 * transport reads into deflate_inbuf and writes what deflate_pack returns.
 *
 * Memory is bounded whatever the server sends: the input buffer and the
 * output of one deflate_pack are fixed sizes, and deflate_unpack never
 * produces more than the room it is given, so a small compressed "bomb"
 * comes out in bounded pieces that the transport's caps then judge as if it
 * had arrived uncompressed. */
#ifndef IMAPFERRY_DEFLATE_H
#define IMAPFERRY_DEFLATE_H

#include "status.h"

#include <stddef.h>
#include <sys/types.h>

/* Most plain bytes one deflate_pack takes (its output buffer is sized by it). */
#define DEFLATE_PACK_BYTES ((size_t)64 << 10)
/* Size of the buffer the server's compressed bytes are read into. */
#define DEFLATE_IN_BYTES ((size_t)32 << 10)

struct deflate;

/* Owned by the caller; release with deflate_free (NULL allowed). */
int deflate_new(struct deflate **out, struct status *st);
void deflate_free(struct deflate *d);

/* Compresses the first min(n, DEFLATE_PACK_BYTES) bytes of in and ends them
 * with a sync flush. Returns how many bytes of in were taken (> 0 when
 * n > 0), -1 on error. *out / *outlen point into d and stay valid until the
 * next call: all of it must reach the server, in order. */
ssize_t deflate_pack(struct deflate *d, const void *in, size_t n, const unsigned char **out,
                     size_t *outlen, struct status *st);

/* Inflates what was given with deflate_filled into out, at most room bytes.
 * Returns the number of bytes produced (> 0), 0 when more compressed input
 * is needed first, -1 when the server's stream is corrupt or ended (st
 * says which). */
ssize_t deflate_unpack(struct deflate *d, void *out, size_t room, struct status *st);

/* Where the next compressed bytes go (room: *room bytes). Only while
 * deflate_unpack returns 0, i.e. all earlier input has been consumed. */
unsigned char *deflate_inbuf(struct deflate *d, size_t *room);
/* n bytes were written at deflate_inbuf. */
void deflate_filled(struct deflate *d, size_t n);

/* Bytes of memory d holds now (zlib's state and both buffers): what the
 * tests measure a bomb against. */
size_t deflate_memory(const struct deflate *d);

#endif
