/* transport: the byte stream under libetpan.
 *
 * Presents a connected socket, optionally under TLS, optionally under
 * COMPRESS=DEFLATE (the deflate module, between libetpan and TLS/socket),
 * to libetpan as one mailstream_low driver, applies the I/O timeout to every
 * read and write. Only this module, imapc and appender see
 * libetpan types; the header only forward-declares the one it hands out. */
#ifndef IMAPFERRY_TRANSPORT_H
#define IMAPFERRY_TRANSPORT_H

#include "status.h"

#include <stddef.h>
#include <stdint.h>

struct transport;
struct _mailstream_low;

/* Connects (net_connect). The transport is owned by the caller until it is
 * wrapped with transport_low; from then on libetpan owns it and frees it
 * when the mailimap session is freed. */
int transport_connect(const char *host, int port, double timeout, struct transport **out,
                      struct status *st);
void transport_free(struct transport *t);

/* Upgrades the connection to TLS in place (implicit TLS right after
 * connecting, or after a STARTTLS OK). On failure: STATUS_TLS. */
struct tls_conf;
int transport_start_tls(struct transport *t, const struct tls_conf *conf, struct status *st);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or NULL for plaintext. */
const char *transport_tls_describe(const struct transport *t, char *buf, size_t n);

/* Switches the connection to COMPRESS=DEFLATE in place, after the
 * server's OK to COMPRESS and before anything else is read: from then on
 * every write is compressed and flushed at once, every read inflated. The
 * framing caps apply to the inflated bytes. On failure: STATUS_INTERNAL. */
int transport_start_deflate(struct transport *t, struct status *st);
/* Whether COMPRESS=DEFLATE is on. */
int transport_deflating(const struct transport *t);

/* Wraps t as a mailstream_low; NULL on allocation failure (t untouched). */
struct _mailstream_low *transport_low(struct transport *t);

/* Reads the server's first line before libetpan sees it (the bytes stay
 * queued for libetpan) and copies it into line (n bytes with the NUL,
 * without the line end, control bytes as '?'): libetpan 1.9.4 leaks a
 * BYE greeting and reports it as no greeting at all. Call it once, before
 * transport_low. -1 on a read failure (transport_error says why). */
int transport_peek_line(struct transport *t, char *line, size_t n);
/* The reason for the last I/O failure ("" if none). */
const char *transport_error(const struct transport *t);

/* The times this connection waited for the server after sending: the
 * greeting, the TLS handshake and each read that follows a write (commands
 * sent back to back cost one). NULL: 0. */
uint64_t transport_round_trips(const struct transport *t);

#endif
