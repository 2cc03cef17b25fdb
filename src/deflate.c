/* deflate: raw DEFLATE both ways for COMPRESS=DEFLATE, in fixed-size
 * pieces, with zlib's memory counted. */
#include "deflate.h"

#include "sbuf.h"

#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Level 1: on a fast link the copy is bound by CPU, and mail text loses
 * most of what it can lose already at the fastest level. */
#define LEVEL 1
/* RFC 4978: raw DEFLATE, no zlib header or trailer; negative = raw. */
#define WINDOW_BITS (-15)
#define MEM_LEVEL 8

struct deflate {
    z_stream out; /* compressor of what we send */
    z_stream in;  /* decompressor of what the server sends */
    int out_ready, in_ready;
    unsigned char *packed; /* deflate_pack's output */
    size_t packed_size;
    unsigned char inbuf[DEFLATE_IN_BYTES];
    int full;         /* the last inflate filled its room: output may be pending */
    int ended;        /* the server finished its stream (Z_STREAM_END) */
    char broken[160]; /* why the server's stream cannot be read any more, or "" */
    size_t zmem;      /* bytes zlib holds through zalloc */
};

/* Each block zlib asks for carries its size in front, so zfree can count. */
struct zhead {
    alignas(max_align_t) size_t size;
};

static voidpf zalloc(voidpf opaque, uInt items, uInt size)
{
    struct deflate *d = opaque;
    size_t n = (size_t)items * size;
    if (size != 0 && n / size != items)
        return Z_NULL;
    struct zhead *h = malloc(sizeof *h + n);
    if (h == NULL)
        return Z_NULL;
    h->size = n;
    d->zmem += n;
    return h + 1;
}

static void zfree(voidpf opaque, voidpf p)
{
    struct deflate *d = opaque;
    if (p == NULL)
        return;
    struct zhead *h = (struct zhead *)p - 1;
    d->zmem -= h->size;
    free(h);
}

int deflate_new(struct deflate **out, struct status *st)
{
    *out = NULL;
    struct deflate *d = calloc(1, sizeof *d);
    if (d == NULL)
        return status_set(st, STATUS_INTERNAL, "COMPRESS: out of memory");
    d->out.zalloc = d->in.zalloc = zalloc;
    d->out.zfree = d->in.zfree = zfree;
    d->out.opaque = d->in.opaque = d;
    if (deflateInit2(&d->out, LEVEL, Z_DEFLATED, WINDOW_BITS, MEM_LEVEL, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        deflate_free(d);
        return status_set(st, STATUS_INTERNAL, "COMPRESS: cannot set up the compressor");
    }
    d->out_ready = 1;
    if (inflateInit2(&d->in, WINDOW_BITS) != Z_OK) {
        deflate_free(d);
        return status_set(st, STATUS_INTERNAL, "COMPRESS: cannot set up the decompressor");
    }
    d->in_ready = 1;
    /* deflateBound covers a whole piece; the sync flush marker and the
     * empty block a flush may add fit in the slack. */
    d->packed_size = deflateBound(&d->out, DEFLATE_PACK_BYTES) + 64;
    d->packed = malloc(d->packed_size);
    if (d->packed == NULL) {
        deflate_free(d);
        return status_set(st, STATUS_INTERNAL, "COMPRESS: out of memory");
    }
    *out = d;
    return 0;
}

void deflate_free(struct deflate *d)
{
    if (d == NULL)
        return;
    if (d->out_ready)
        deflateEnd(&d->out);
    if (d->in_ready)
        inflateEnd(&d->in);
    free(d->packed);
    free(d);
}

ssize_t deflate_pack(struct deflate *d, const void *in, size_t n, const unsigned char **out,
                     size_t *outlen, struct status *st)
{
    size_t take = n < DEFLATE_PACK_BYTES ? n : DEFLATE_PACK_BYTES;
    d->out.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const; it does not write */
    d->out.avail_in = (uInt)take;
    size_t len = 0;
    for (;;) {
        if (len == d->packed_size) {
            /* Not expected with the bound above; growing keeps it correct. */
            unsigned char *p = realloc(d->packed, d->packed_size * 2);
            if (p == NULL)
                return status_set(st, STATUS_INTERNAL, "COMPRESS: out of memory");
            d->packed = p;
            d->packed_size *= 2;
        }
        d->out.next_out = d->packed + len;
        d->out.avail_out = (uInt)(d->packed_size - len);
        int r = deflate(&d->out, Z_SYNC_FLUSH);
        len = d->packed_size - d->out.avail_out;
        if (r != Z_OK && r != Z_BUF_ERROR)
            return status_set(st, STATUS_INTERNAL, "COMPRESS: compressor failed (%d)", r);
        /* Room left over means zlib has flushed everything. */
        if (d->out.avail_out != 0)
            break;
    }
    d->out.next_in = NULL;
    *out = d->packed;
    *outlen = len;
    return (ssize_t)take;
}

ssize_t deflate_unpack(struct deflate *d, void *out, size_t room, struct status *st)
{
    if (room > UINT_MAX)
        room = UINT_MAX;
    for (;;) {
        if (d->broken[0])
            return status_set(st, STATUS_CONNECT, "%s", d->broken);
        if (d->ended)
            return status_set(st, STATUS_CONNECT, "the server ended its compressed stream");
        if (d->in.avail_in == 0 && !d->full)
            return 0;
        if (room == 0)
            return 0;
        d->in.next_out = out;
        d->in.avail_out = (uInt)room;
        int r = inflate(&d->in, Z_SYNC_FLUSH);
        size_t got = room - d->in.avail_out;
        d->full = d->in.avail_out == 0;
        switch (r) {
        case Z_STREAM_END:
            /* RFC 4978 has no end but the connection's: whatever follows
             * cannot be read, so the session ends after these bytes. */
            d->ended = 1;
            d->full = 0;
            break;
        case Z_OK:
            break;
        case Z_BUF_ERROR:
            /* No progress possible: the input is used up. */
            d->full = 0;
            if (got == 0)
                return 0;
            break;
        case Z_MEM_ERROR:
            return status_set(st, STATUS_CONNECT, "out of memory decompressing the server's data");
        default: /* Z_DATA_ERROR, Z_NEED_DICT (never valid in raw DEFLATE) */
            snprintf(d->broken, sizeof d->broken, "corrupt compressed data from the server (%.80s)",
                     d->in.msg ? d->in.msg : "invalid deflate stream");
            return status_set(st, STATUS_CONNECT, "%s", d->broken);
        }
        if (got > 0)
            return (ssize_t)got;
    }
}

unsigned char *deflate_inbuf(struct deflate *d, size_t *room)
{
    *room = sizeof d->inbuf;
    return d->inbuf;
}

void deflate_filled(struct deflate *d, size_t n)
{
    d->in.next_in = d->inbuf;
    d->in.avail_in = (uInt)(n < sizeof d->inbuf ? n : sizeof d->inbuf);
}

size_t deflate_memory(const struct deflate *d)
{
    return sizeof *d + d->packed_size + d->zmem;
}
