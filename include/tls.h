/* tls: an OpenSSL client over a connected socket; the only OpenSSL user.
 *
 * Verifies the server's chain against the system store (plus an optional CA
 * file) and its host name or IP address, sends SNI, requires TLS 1.2 or
 * newer. The socket is switched to non-blocking mode and every operation
 * waits in poll() with the timeout, so a stalled handshake cannot hang us. */
#ifndef IMAPFERRY_TLS_H
#define IMAPFERRY_TLS_H

#include "status.h"

#include <stddef.h>
#include <sys/types.h>

struct tls;

struct tls_conf {
    const char *host;   /* name or IP the certificate must match; SNI */
    const char *cafile; /* extra trusted CA (PEM), or NULL */
    int insecure;       /* skip chain and name checks (loudly) */
};

/* Runs the handshake on fd (which stays owned by the caller). On failure:
 * STATUS_TLS and a line saying why the server was not trusted. */
int tls_start(int fd, const struct tls_conf *conf, int timeout_ms, struct tls **out,
              struct status *st);
/* > 0 bytes, 0 on a clean close, -1 on error or timeout (err filled). */
ssize_t tls_read(struct tls *t, void *buf, size_t n, int timeout_ms, char *err, size_t errlen);
ssize_t tls_write(struct tls *t, const void *buf, size_t n, int timeout_ms, char *err,
                  size_t errlen);
/* Sends close_notify (best effort) and frees; the fd is not closed. */
void tls_free(struct tls *t);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for the log. */
const char *tls_describe(const struct tls *t, char *buf, size_t n);

/* SHA-256 for --verify's content digests: here because OpenSSL stays
 * behind this one module. A context is reused message after message:
 * tls_sha256_final leaves it ready for the next one. */
struct tls_sha256;
#define TLS_SHA256_LEN 32
/* Aborts on allocation failure, as sbuf does. Release with tls_sha256_free. */
struct tls_sha256 *tls_sha256_new(void);
void tls_sha256_update(struct tls_sha256 *h, const void *data, size_t n);
void tls_sha256_final(struct tls_sha256 *h, unsigned char out[TLS_SHA256_LEN]);
/* Drops what was fed since the last final. */
void tls_sha256_reset(struct tls_sha256 *h);
void tls_sha256_free(struct tls_sha256 *h);

#endif
