/* fuzz_deflate: libFuzzer target for the COMPRESS=DEFLATE transforms.
 *
 * The input, after a first byte that picks the read and feed sizes, is fed
 * to deflate_unpack as a server's compressed stream, cut the way the
 * transport cuts it: any bytes must give output within the room asked for,
 * or a clean error, never a crash or unbounded memory. The same bytes are
 * then packed and unpacked again and must come back unchanged. */
#include "deflate.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds z in pieces of `feed` bytes and reads `room` at a time; returns the
 * bytes produced (and copies up to cap of them to out), or -1. */
static long unpack(struct deflate *d, const uint8_t *z, size_t n, size_t feed, size_t room,
                   uint8_t *out, size_t cap)
{
    uint8_t *tmp = malloc(room);
    if (tmp == NULL)
        return -1;
    size_t fed = 0, total = 0;
    long rc;
    for (;;) {
        struct status st;
        ssize_t got = deflate_unpack(d, tmp, room, &st);
        if (got < 0) {
            if (st.msg[0] == '\0')
                __builtin_trap(); /* an error must say why */
            rc = -1;
            break;
        }
        if ((size_t)got > room)
            __builtin_trap();
        if (got > 0) {
            if (out && total + (size_t)got <= cap)
                memcpy(out + total, tmp, (size_t)got);
            total += (size_t)got;
            /* DEFLATE expands at most ~1032:1; more means a loop. */
            if (total > (n + 1) * 1100)
                __builtin_trap();
            continue;
        }
        if (fed == n) {
            rc = (long)total;
            break;
        }
        size_t in_room;
        uint8_t *in = deflate_inbuf(d, &in_room);
        size_t k = n - fed < feed ? n - fed : feed;
        k = k < in_room ? k : in_room;
        memcpy(in, z + fed, k);
        deflate_filled(d, k);
        fed += k;
    }
    free(tmp);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t room = 1 + (data[0] & 0x0f) * 97, feed = 1 + (data[0] >> 4) * 211;
    data++;
    size--;

    struct status st;
    struct deflate *rx;
    if (deflate_new(&rx, &st) != 0)
        return 0;
    unpack(rx, data, size, feed, room, NULL, 0);
    deflate_free(rx);

    /* Round trip of the same bytes, in pieces of `feed`. */
    struct deflate *tx;
    if (deflate_new(&tx, &st) != 0)
        return 0;
    uint8_t *z = NULL;
    size_t zlen = 0;
    for (size_t done = 0; done < size || done == 0;) {
        size_t want = size - done < feed ? size - done : feed;
        const unsigned char *out;
        size_t outlen;
        ssize_t took = deflate_pack(tx, data + done, want, &out, &outlen, &st);
        if (took < 0 || (want > 0 && took == 0))
            __builtin_trap();
        uint8_t *nz = realloc(z, zlen + outlen + 1);
        if (nz == NULL)
            __builtin_trap();
        z = nz;
        memcpy(z + zlen, out, outlen);
        zlen += outlen;
        done += (size_t)took;
        if (size == 0)
            break;
    }
    deflate_free(tx);
    if (deflate_new(&rx, &st) != 0) {
        free(z);
        return 0;
    }
    uint8_t *back = malloc(size + 1);
    if (back == NULL)
        __builtin_trap();
    long got = unpack(rx, z, zlen, feed, room, back, size);
    if (got != (long)size || memcmp(back, data, size) != 0)
        __builtin_trap();
    free(back);
    free(z);
    deflate_free(rx);
    return 0;
}
