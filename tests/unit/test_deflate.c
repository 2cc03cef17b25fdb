/* Unit tests of the COMPRESS=DEFLATE transforms: round trips through our
 * own pair and through plain zlib (what a server runs), sync-flush
 * boundaries, corrupt streams, and a decompression bomb kept bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "deflate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* Text that compresses like mail: words from a small set, CRLF lines,
 * with a little noise so the output is not trivial. */
static unsigned char *mail_text(size_t n, uint32_t seed)
{
    static const char *words[] = {"the",  "message", "folder", "Subject:", "From:",  "imap",
                                  "copy", "server",  "flags",  "Received", "base64", "=?utf-8?"};
    unsigned char *p = malloc(n);
    assert_non_null(p);
    size_t i = 0, col = 0;
    while (i < n) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 12];
        for (const char *c = w; *c && i < n; c++)
            p[i++] = (unsigned char)*c;
        col += strlen(w) + 1;
        if (i < n)
            p[i++] = col > 70 ? '\r' : ' ';
        if (col > 70 && i < n) {
            p[i++] = '\n';
            col = 0;
        }
        if ((seed >> 8) % 7 == 0 && i < n)
            p[i++] = (unsigned char)(seed >> 24); /* a stray 8-bit byte */
    }
    return p;
}

static unsigned char *noise(size_t n, uint32_t seed)
{
    unsigned char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (unsigned char)(seed >> 24);
    }
    return p;
}

/* Packs all of in in pieces of at most `piece` bytes (libetpan's write
 * batches), each ending in a sync flush marker 00 00 FF FF. */
static void pack_all(struct deflate *d, const unsigned char *in, size_t n, size_t piece,
                     struct buf *out)
{
    struct status st;
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < piece ? n - done : piece;
        const unsigned char *z;
        size_t zlen;
        ssize_t took = deflate_pack(d, in + done, want, &z, &zlen, &st);
        assert_true(took > 0);
        assert_true((size_t)took <= want && (size_t)took <= DEFLATE_PACK_BYTES);
        assert_true(zlen >= 4);
        assert_memory_equal(z + zlen - 4, "\x00\x00\xff\xff", 4);
        put(out, z, zlen);
        done += (size_t)took;
    }
}

/* Feeds z in pieces of `feed` bytes and reads with `room`-byte buffers, the
 * way the transport does. Returns -1 (st filled) on a corrupt stream. */
static int unpack_all(struct deflate *d, const unsigned char *z, size_t zlen, size_t feed,
                      size_t room, struct buf *out, struct status *st)
{
    size_t fed = 0;
    unsigned char *tmp = malloc(room);
    assert_non_null(tmp);
    int rc = 0;
    for (;;) {
        ssize_t got = deflate_unpack(d, tmp, room, st);
        if (got < 0) {
            rc = -1;
            break;
        }
        assert_true((size_t)got <= room);
        if (got > 0) {
            put(out, tmp, (size_t)got);
            continue;
        }
        if (fed == zlen)
            break;
        size_t cap;
        unsigned char *in = deflate_inbuf(d, &cap);
        assert_true(cap == DEFLATE_IN_BYTES);
        size_t n = zlen - fed < feed ? zlen - fed : feed;
        n = n < cap ? n : cap;
        memcpy(in, z + fed, n);
        deflate_filled(d, n);
        fed += n;
    }
    free(tmp);
    return rc;
}

static void round_trip(const unsigned char *data, size_t n, size_t piece, size_t feed, size_t room)
{
    struct status st;
    struct deflate *tx, *rx;
    assert_int_equal(deflate_new(&tx, &st), 0);
    assert_int_equal(deflate_new(&rx, &st), 0);
    struct buf z = {0}, back = {0};
    pack_all(tx, data, n, piece, &z);
    assert_int_equal(unpack_all(rx, z.p, z.len, feed, room, &back, &st), 0);
    assert_int_equal(back.len, n);
    assert_memory_equal(back.p, data, n);
    free(z.p);
    free(back.p);
    deflate_free(tx);
    deflate_free(rx);
}

static void test_small_chunks(void **state)
{
    (void)state;
    const char *cmds = "1 CAPABILITY\r\n2 LOGIN user1 \"pw\"\r\n3 NAMESPACE\r\n"
                       "4 LIST \"\" \"*\"\r\n5 UID FETCH 1:* (UID FLAGS)\r\n";
    round_trip((const unsigned char *)cmds, strlen(cmds), 1, 1, 1);
    round_trip((const unsigned char *)cmds, strlen(cmds), 7, 3, 5);
    unsigned char *t = mail_text(20000, 7);
    round_trip(t, 20000, 13, 1, 3);
    free(t);
}

static void test_big_chunks(void **state)
{
    (void)state;
    size_t n = (size_t)5 << 20;
    unsigned char *t = mail_text(n, 42);
    /* whole buffers bigger than a piece: deflate_pack takes what it can */
    round_trip(t, n, n, DEFLATE_IN_BYTES, 65536);
    round_trip(t, n, 65536, 4096, 1 << 20);
    free(t);
    unsigned char *r = noise((size_t)1 << 20, 9);
    round_trip(r, (size_t)1 << 20, (size_t)1 << 20, 1000, 8192);
    free(r);
}

/* Text compresses: what COMPRESS is for. */
static void test_shrinks(void **state)
{
    (void)state;
    struct status st;
    struct deflate *tx;
    assert_int_equal(deflate_new(&tx, &st), 0);
    size_t n = (size_t)1 << 20;
    unsigned char *t = mail_text(n, 3);
    struct buf z = {0};
    pack_all(tx, t, n, 65536, &z);
    assert_true(z.len < n / 2);
    free(z.p);
    free(t);
    deflate_free(tx);
}

/* Each batch decodes completely from its own bytes, with nothing that
 * comes later: the server answers a command it can read at once. */
static void test_sync_flush_boundaries(void **state)
{
    (void)state;
    struct status st;
    struct deflate *tx, *rx;
    assert_int_equal(deflate_new(&tx, &st), 0);
    assert_int_equal(deflate_new(&rx, &st), 0);
    const char *batches[] = {"a1 NOOP\r\n", "a2 SELECT INBOX\r\n", "x", "a3 LOGOUT\r\n"};
    for (size_t i = 0; i < 4; i++) {
        const unsigned char *z;
        size_t zlen, n = strlen(batches[i]);
        assert_int_equal(deflate_pack(tx, batches[i], n, &z, &zlen, &st), (ssize_t)n);
        struct buf back = {0};
        assert_int_equal(unpack_all(rx, z, zlen, zlen, 64, &back, &st), 0);
        assert_int_equal(back.len, n);
        assert_memory_equal(back.p, batches[i], n);
        free(back.p);
    }
    /* A server's zlib reads it as raw DEFLATE (RFC 4978: no zlib header). */
    const char *msg = "a4 UID FETCH 1 BODY.PEEK[]\r\n";
    const unsigned char *z;
    size_t zlen;
    assert_int_equal(deflate_pack(tx, msg, strlen(msg), &z, &zlen, &st), (ssize_t)strlen(msg));
    assert_true(z[0] != 0x78); /* no zlib header */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, -15), Z_OK);
    /* the server's inflater starts at the beginning of the stream */
    struct deflate *fresh;
    assert_int_equal(deflate_new(&fresh, &st), 0);
    assert_int_equal(deflate_pack(fresh, msg, strlen(msg), &z, &zlen, &st), (ssize_t)strlen(msg));
    unsigned char out[128];
    zs.next_in = (Bytef *)(uintptr_t)z;
    zs.avail_in = (uInt)zlen;
    zs.next_out = out;
    zs.avail_out = sizeof out;
    assert_int_equal(inflate(&zs, Z_SYNC_FLUSH), Z_OK);
    assert_int_equal(sizeof out - zs.avail_out, strlen(msg));
    assert_memory_equal(out, msg, strlen(msg));
    inflateEnd(&zs);
    deflate_free(fresh);
    deflate_free(tx);
    deflate_free(rx);
}

/* What a server's zlib sends (raw, sync flush per response) comes out
 * byte for byte, however it is cut. */
static void test_from_server_zlib(void **state)
{
    (void)state;
    size_t n = 300000;
    unsigned char *t = mail_text(n, 11);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    struct buf z = {0};
    unsigned char tmp[4096];
    for (size_t off = 0; off < n; off += 777) {
        zs.next_in = t + off;
        zs.avail_in = (uInt)(n - off < 777 ? n - off : 777);
        do {
            zs.next_out = tmp;
            zs.avail_out = sizeof tmp;
            assert_true(deflate(&zs, Z_SYNC_FLUSH) != Z_STREAM_ERROR);
            put(&z, tmp, sizeof tmp - zs.avail_out);
        } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    struct status st;
    struct deflate *rx;
    assert_int_equal(deflate_new(&rx, &st), 0);
    struct buf back = {0};
    assert_int_equal(unpack_all(rx, z.p, z.len, 1500, 1000, &back, &st), 0);
    assert_int_equal(back.len, n);
    assert_memory_equal(back.p, t, n);
    free(back.p);
    free(z.p);
    free(t);
    deflate_free(rx);
}

static void expect_corrupt(const unsigned char *z, size_t zlen, const char *word)
{
    struct status st;
    struct deflate *rx;
    assert_int_equal(deflate_new(&rx, &st), 0);
    struct buf back = {0};
    st.msg[0] = '\0';
    assert_int_equal(unpack_all(rx, z, zlen, 16, 256, &back, &st), -1);
    assert_non_null(strstr(st.msg, word));
    /* and it stays failed: nothing more comes out of a broken stream */
    unsigned char tmp[16];
    assert_int_equal(deflate_unpack(rx, tmp, sizeof tmp, &st), -1);
    free(back.p);
    deflate_free(rx);
}

static void test_corrupt(void **state)
{
    (void)state;
    /* block type 3 is reserved */
    expect_corrupt((const unsigned char *)"\xff\xff\xff\xff", 4, "corrupt");
    /* plain text is not DEFLATE */
    const char *plain = "* OK [CAPABILITY IMAP4rev1] hello\r\n";
    expect_corrupt((const unsigned char *)plain, strlen(plain), "corrupt");
    /* a good stream with a byte changed in its middle */
    struct status st;
    struct deflate *tx;
    assert_int_equal(deflate_new(&tx, &st), 0);
    unsigned char *t = mail_text(100000, 5);
    struct buf z = {0};
    pack_all(tx, t, 100000, 65536, &z);
    for (size_t i = z.len / 3; i < z.len / 3 + 8; i++)
        z.p[i] ^= 0x5a;
    struct deflate *rx;
    assert_int_equal(deflate_new(&rx, &st), 0);
    struct buf back = {0};
    int rc = unpack_all(rx, z.p, z.len, 512, 4096, &back, &st);
    /* DEFLATE has no checksum: a flipped byte is either refused or gives
     * other bytes; it never crashes, and it never gives back the original. */
    assert_true(rc == -1 || back.len != 100000 || memcmp(back.p, t, 100000) != 0);
    if (rc == -1)
        assert_non_null(strstr(st.msg, "corrupt"));
    free(back.p);
    deflate_free(rx);
    free(z.p);
    free(t);
    deflate_free(tx);
}

/* A finished stream (Z_FINISH) is over: RFC 4978 has no end but the
 * connection's, so bytes after it end the session. */
static void test_stream_end(void **state)
{
    (void)state;
    unsigned char z[256];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t) "* BYE\r\n";
    zs.avail_in = 7;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t zlen = sizeof z - zs.avail_out;
    deflateEnd(&zs);
    memcpy(z + zlen, "junk", 4);
    struct status st;
    struct deflate *rx;
    assert_int_equal(deflate_new(&rx, &st), 0);
    struct buf back = {0};
    assert_int_equal(unpack_all(rx, z, zlen + 4, 256, 256, &back, &st), -1);
    assert_int_equal(back.len, 7);
    assert_memory_equal(back.p, "* BYE\r\n", 7);
    assert_non_null(strstr(st.msg, "ended"));
    free(back.p);
    deflate_free(rx);
}

/* 256 MiB of zeros in well under 1 MiB of DEFLATE: every read yields at
 * most the room asked for and the decompressor's memory stays flat, so
 * only the transport's caps on plain bytes decide what is held. */
static void test_bomb_bounded(void **state)
{
    (void)state;
    const size_t total = (size_t)256 << 20, step = (size_t)1 << 20;
    unsigned char *zeros = calloc(1, step);
    assert_non_null(zeros);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    struct buf z = {0};
    unsigned char tmp[65536];
    for (size_t done = 0; done < total; done += step) {
        zs.next_in = zeros;
        zs.avail_in = (uInt)step;
        int flush = done + step == total ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        do {
            zs.next_out = tmp;
            zs.avail_out = sizeof tmp;
            assert_true(deflate(&zs, flush) != Z_STREAM_ERROR);
            put(&z, tmp, sizeof tmp - zs.avail_out);
        } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    free(zeros);
    assert_true(z.len < ((size_t)1 << 20)); /* a real bomb: > 256:1 */

    struct status st;
    struct deflate *rx;
    assert_int_equal(deflate_new(&rx, &st), 0);
    size_t base = deflate_memory(rx), peak = base, out = 0, fed = 0, calls = 0;
    const size_t room = 65536;
    unsigned char *buf = malloc(room);
    assert_non_null(buf);
    for (;;) {
        ssize_t got = deflate_unpack(rx, buf, room, &st);
        assert_true(got >= 0);
        assert_true((size_t)got <= room);
        size_t m = deflate_memory(rx);
        peak = m > peak ? m : peak;
        if (got > 0) {
            out += (size_t)got;
            calls++;
            continue;
        }
        if (fed == z.len)
            break;
        size_t cap;
        unsigned char *in = deflate_inbuf(rx, &cap);
        size_t n = z.len - fed < cap ? z.len - fed : cap;
        memcpy(in, z.p + fed, n);
        deflate_filled(rx, n);
        fed += n;
    }
    assert_int_equal(out, total);
    assert_true(calls >= total / room); /* handed out in room-sized pieces */
    /* zlib's state is allocated once; nothing grows with the output */
    assert_true(peak < ((size_t)1 << 20));
    assert_true(peak - base < ((size_t)64 << 10));
    free(buf);
    free(z.p);
    deflate_free(rx);
}

static void test_free_null(void **state)
{
    (void)state;
    deflate_free(NULL);
    struct status st;
    struct deflate *d;
    assert_int_equal(deflate_new(&d, &st), 0);
    /* an empty write packs to just the flush marker */
    const unsigned char *z;
    size_t zlen;
    assert_int_equal(deflate_pack(d, "", 0, &z, &zlen, &st), 0);
    unsigned char tmp[8];
    assert_int_equal(deflate_unpack(d, tmp, sizeof tmp, &st), 0); /* needs input */
    deflate_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_chunks),     cmocka_unit_test(test_big_chunks),
        cmocka_unit_test(test_shrinks),          cmocka_unit_test(test_sync_flush_boundaries),
        cmocka_unit_test(test_from_server_zlib), cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_stream_end),       cmocka_unit_test(test_bomb_bounded),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
