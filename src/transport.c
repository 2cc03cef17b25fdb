/* transport: the byte stream under libetpan (socket, then TLS, then
 * deflate), with the server's framing watched so no announced size is
 * trusted. */
#include "transport.h"

#include "backoff.h"

#include "caps.h"
#include "deflate.h"
#include "net.h"
#include "sbuf.h"
#include "tls.h"

#include <libetpan/libetpan.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* libetpan allocates a literal's announced size before reading it and
 * grows a line until its end, so the caps are enforced here, on the bytes. */
#define LITERAL_CAP CAPS_MESSAGE_BYTES
#define LINE_CAP CAPS_LINE_BYTES
#define RESPONSE_CAP CAPS_RESPONSE_BYTES

/* Where the scanner of the server's bytes is: in a line, in a "{N}"
 * announcement (number, then "}", then CR LF), or inside a literal. */
enum scan_state { SCAN_LINE, SCAN_NUM, SCAN_BRACE, SCAN_CR, SCAN_LITERAL };

struct transport {
    int fd;
    struct tls *tls;     /* NULL while plaintext */
    struct deflate *zip; /* NULL until COMPRESS=DEFLATE */
    int zip_torn;        /* a compressed write went out in part: the stream is lost */
    int timeout_ms;
    char error[128];
    enum scan_state scan;
    uint64_t num;     /* the literal size being read, saturated above LITERAL_CAP */
    uint64_t remain;  /* literal bytes still to come */
    uint64_t linelen; /* bytes since the last LF outside literals */
    uint64_t resp;    /* literal bytes announced since the last tagged answer */
    int bol;          /* the next framing byte starts a line */
    char head[160];   /* the start of the current line, for backoff_scan_line */
    size_t headlen;
    unsigned char *pend; /* read by transport_peek_line, not yet handed out */
    size_t pendlen, pendoff;
    /* Round trips: a read after a write is a wait for the server's answer
     * (pipelined commands pay one); the greeting is the first. */
    uint64_t trips;
    int sent;
};

/* A line (or the part before a literal) is complete: a throttling server
 * says so there. */
static void line_done(struct transport *t)
{
    backoff_scan_line(t->head, t->headlen);
    t->headlen = 0;
}

int transport_connect(const char *host, int port, double timeout, struct transport **out,
                      struct status *st)
{
    int fd;
    if (net_connect(host, port, timeout, &fd, st) < 0)
        return -1;
    struct transport *t = sbuf_xcalloc(1, sizeof *t);
    t->fd = fd;
    t->timeout_ms = timeout > 0 ? (int)(timeout * 1000) : -1;
    t->sent = 1; /* the greeting is waited for like an answer */
    *out = t;
    return 0;
}

int transport_start_tls(struct transport *t, const struct tls_conf *conf, struct status *st)
{
    t->trips++; /* the handshake: one with TLS 1.3 */
    return tls_start(t->fd, conf, t->timeout_ms, &t->tls, st);
}

const char *transport_tls_describe(const struct transport *t, char *buf, size_t n)
{
    return t->tls ? tls_describe(t->tls, buf, n) : NULL;
}

int transport_start_deflate(struct transport *t, struct status *st)
{
    if (t->zip)
        return 0;
    return deflate_new(&t->zip, st);
}

int transport_deflating(const struct transport *t)
{
    return t->zip != NULL;
}

void transport_free(struct transport *t)
{
    if (t == NULL)
        return;
    deflate_free(t->zip);
    tls_free(t->tls);
    if (t->fd >= 0)
        close(t->fd);
    free(t->pend);
    free(t);
}

static struct transport *of(mailstream_low *s)
{
    return s->data;
}

/* End of stream is reported as an error (-1), not 0: libetpan 1.9.4 reads
 * a literal in a loop that retries on 0 forever, so a connection cut in the
 * middle of a message would hang the run (fixed upstream only after 1.9.4).
 * Every caller in libetpan treats -1 as the end of the session anyway. */
static ssize_t eof(struct transport *t)
{
    snprintf(t->error, sizeof t->error, "the server closed the connection");
    return -1;
}

/* Follows the IMAP framing of what the server sent, so a literal
 * announcement above LITERAL_CAP or an endless line fails the session
 * before libetpan sizes a buffer by it. Bytes inside a literal are message
 * data and never taken for framing. */
static int scan(struct transport *t, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (t->scan == SCAN_LITERAL) {
            size_t take = n - i < t->remain ? n - i : (size_t)t->remain;
            t->remain -= take;
            i += take - 1;
            if (t->remain == 0) {
                t->scan = SCAN_LINE;
                t->linelen = 0;
            }
            continue;
        }
        if (t->bol) {
            /* A line that is neither untagged nor a continuation ends a
             * command: what one command may bring in starts again. */
            t->bol = 0;
            if (ch != '*' && ch != '+')
                t->resp = 0;
        }
        if (t->headlen < sizeof t->head)
            t->head[t->headlen++] = (char)ch;
        if (++t->linelen > LINE_CAP) {
            snprintf(t->error, sizeof t->error,
                     "the server sent a line longer than %" PRIu64 " MiB", LINE_CAP >> 20);
            return -1;
        }
        switch (t->scan) {
        case SCAN_NUM:
            if (ch >= '0' && ch <= '9') {
                t->num = t->num > LITERAL_CAP ? t->num : t->num * 10 + (ch - '0');
                continue;
            }
            if (ch == '+')
                continue;
            t->scan = ch == '}' ? SCAN_BRACE : SCAN_LINE;
            break;
        case SCAN_BRACE:
            t->scan = ch == '\r' ? SCAN_CR : SCAN_LINE;
            break;
        case SCAN_CR:
            if (ch == '\n') {
                if (t->num > LITERAL_CAP) {
                    snprintf(t->error, sizeof t->error,
                             "the server announced a literal (message) of more than %" PRIu64
                             " MiB, the most imapferry accepts",
                             LITERAL_CAP >> 20);
                    return -1;
                }
                t->resp += t->num;
                if (t->resp > RESPONSE_CAP) {
                    snprintf(t->error, sizeof t->error,
                             "the server sent more than %" PRIu64
                             " MiB of literals in one answer, the most imapferry accepts",
                             RESPONSE_CAP >> 20);
                    return -1;
                }
                t->remain = t->num;
                t->scan = t->remain ? SCAN_LITERAL : SCAN_LINE;
                t->linelen = 0;
                line_done(t);
                continue;
            }
            t->scan = SCAN_LINE;
            break;
        default:
            break;
        }
        if (ch == '\n') {
            t->linelen = 0;
            t->bol = 1;
            line_done(t);
        } else if (ch == '{') {
            t->scan = SCAN_NUM;
            t->num = 0;
        }
    }
    return 0;
}

static ssize_t raw_read(struct transport *t, void *buf, size_t n);
static ssize_t wire_read(struct transport *t, void *buf, size_t n);

/* Inflated bytes, at most n of them: a few compressed bytes can stand for
 * megabytes, which come out in pieces libetpan asked for and which scan
 * judges like any other. Output still pending inside zlib is handed out
 * before the network is waited on. */
static ssize_t unzip_read(struct transport *t, void *buf, size_t n)
{
    for (;;) {
        struct status st;
        ssize_t got = deflate_unpack(t->zip, buf, n, &st);
        if (got < 0)
            snprintf(t->error, sizeof t->error, "%.120s", st.msg);
        if (got != 0)
            return got;
        size_t room;
        unsigned char *in = deflate_inbuf(t->zip, &room);
        ssize_t raw = raw_read(t, in, room);
        if (raw < 0)
            return -1;
        deflate_filled(t->zip, (size_t)raw);
    }
}

static ssize_t low_read(mailstream_low *s, void *buf, size_t n)
{
    struct transport *t = of(s);
    if (t->sent) {
        t->sent = 0;
        t->trips++;
    }
    ssize_t got = t->zip ? unzip_read(t, buf, n) : raw_read(t, buf, n);
    if (got > 0 && scan(t, buf, (size_t)got) < 0)
        return -1;
    return got;
}

static ssize_t raw_read(struct transport *t, void *buf, size_t n)
{
    if (t->pendoff < t->pendlen) {
        size_t k = t->pendlen - t->pendoff < n ? t->pendlen - t->pendoff : n;
        memcpy(buf, t->pend + t->pendoff, k);
        t->pendoff += k;
        if (t->pendoff == t->pendlen) {
            free(t->pend);
            t->pend = NULL;
            t->pendlen = t->pendoff = 0;
        }
        return (ssize_t)k;
    }
    return wire_read(t, buf, n);
}

/* What the socket (or TLS) has, without the bytes transport_peek_line
 * keeps. */
static ssize_t wire_read(struct transport *t, void *buf, size_t n)
{
    if (t->tls) {
        /* No poll first: OpenSSL may already hold decrypted bytes. */
        ssize_t got = tls_read(t->tls, buf, n, t->timeout_ms, t->error, sizeof t->error);
        if (got == 0)
            return eof(t);
        return got;
    }
    int r = net_wait(t->fd, POLLIN, t->timeout_ms);
    if (r <= 0) {
        snprintf(t->error, sizeof t->error, "%s",
                 r == 0 ? "timed out waiting for the server" : strerror(errno));
        return -1;
    }
    ssize_t got;
    do
        got = read(t->fd, buf, n);
    while (got < 0 && errno == EINTR);
    if (got == 0)
        return eof(t);
    if (got < 0)
        snprintf(t->error, sizeof t->error, "%s", strerror(errno));
    return got;
}

static ssize_t raw_write(struct transport *t, const void *buf, size_t n)
{
    if (t->tls)
        return tls_write(t->tls, buf, n, t->timeout_ms, t->error, sizeof t->error);
    int r = net_wait(t->fd, POLLOUT, t->timeout_ms);
    if (r <= 0) {
        snprintf(t->error, sizeof t->error, "%s",
                 r == 0 ? "timed out sending to the server" : strerror(errno));
        return -1;
    }
    ssize_t put;
    do
        put = send(t->fd, buf, n, MSG_NOSIGNAL);
    while (put < 0 && errno == EINTR);
    if (put < 0)
        snprintf(t->error, sizeof t->error, "%s", strerror(errno));
    return put;
}

/* Compressed bytes cannot be taken back, so once a piece is packed all of
 * it goes out, however many partial writes that takes; libetpan is told
 * only the plain bytes consumed. */
static ssize_t zip_write(struct transport *t, const void *buf, size_t n)
{
    struct status st;
    const unsigned char *out;
    size_t len;
    if (t->zip_torn)
        return -1; /* a retry would send the server a broken stream */
    ssize_t took = deflate_pack(t->zip, buf, n, &out, &len, &st);
    if (took < 0) {
        snprintf(t->error, sizeof t->error, "%.120s", st.msg);
        t->zip_torn = 1;
        return -1;
    }
    for (size_t done = 0; done < len;) {
        ssize_t put = raw_write(t, out + done, len - done);
        if (put <= 0) {
            if (!t->error[0])
                snprintf(t->error, sizeof t->error, "could not send to the server");
            t->zip_torn = 1;
            return -1;
        }
        done += (size_t)put;
    }
    return took;
}

static ssize_t low_write(mailstream_low *s, const void *buf, size_t n)
{
    struct transport *t = of(s);
    t->sent = 1;
    return t->zip ? zip_write(t, buf, n) : raw_write(t, buf, n);
}

static int low_close(mailstream_low *s)
{
    struct transport *t = of(s);
    tls_free(t->tls);
    t->tls = NULL;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    return 0;
}

static int low_get_fd(mailstream_low *s)
{
    return of(s)->fd;
}

static void low_free(mailstream_low *s)
{
    transport_free(of(s));
    /* The driver owns the mailstream_low too (libetpan's own drivers free it). */
    free(s);
}

static mailstream_low_driver driver = {
    .mailstream_read = low_read,
    .mailstream_write = low_write,
    .mailstream_close = low_close,
    .mailstream_get_fd = low_get_fd,
    .mailstream_free = low_free,
};

struct _mailstream_low *transport_low(struct transport *t)
{
    return mailstream_low_new(t, &driver);
}

int transport_peek_line(struct transport *t, char *line, size_t n)
{
    enum { PEEK_CAP = 1024 };
    if (t->pend == NULL)
        t->pend = sbuf_xcalloc(1, PEEK_CAP);
    while (t->pendlen < PEEK_CAP && memchr(t->pend, '\n', t->pendlen) == NULL) {
        ssize_t got = wire_read(t, t->pend + t->pendlen, PEEK_CAP - t->pendlen);
        if (got < 0)
            return -1;
        t->pendlen += (size_t)got;
    }
    size_t k = 0;
    while (k < t->pendlen && t->pend[k] != '\r' && t->pend[k] != '\n' && k + 1 < n) {
        unsigned char ch = t->pend[k];
        line[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    if (n > 0)
        line[k] = '\0';
    return 0;
}

const char *transport_error(const struct transport *t)
{
    return t->error;
}

uint64_t transport_round_trips(const struct transport *t)
{
    return t ? t->trips : 0;
}
