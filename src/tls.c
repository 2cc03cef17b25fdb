/* tls: the OpenSSL client: verified chain and host name, SNI, TLS 1.2+. */
#include "tls.h"

#include "net.h"
#include "sbuf.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls {
    SSL_CTX *ctx;
    SSL *ssl;
};

static int is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static const char *ssl_reason(void)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "TLS protocol error";
}

/* Waits for what OpenSSL asked for; returns 1 to retry, 0 on timeout/error. */
static int wait_for(struct tls *t, int ret, int timeout_ms, int *code)
{
    *code = SSL_get_error(t->ssl, ret);
    short ev;
    if (*code == SSL_ERROR_WANT_READ)
        ev = POLLIN;
    else if (*code == SSL_ERROR_WANT_WRITE)
        ev = POLLOUT;
    else
        return 0;
    return net_wait(SSL_get_fd(t->ssl), ev, timeout_ms) == 1;
}

static int setup(struct tls *t, int fd, const struct tls_conf *conf, struct status *st)
{
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL)
        return status_set(st, STATUS_TLS, "cannot create a TLS context: %s", ssl_reason());
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (!conf->insecure) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_default_verify_paths(t->ctx) != 1)
            ERR_clear_error(); /* no system store is not fatal with a --cafile */
        if (conf->cafile && SSL_CTX_load_verify_locations(t->ctx, conf->cafile, NULL) != 1)
            return status_set(st, STATUS_TLS, "cannot load CA file %s: %s", conf->cafile,
                              ssl_reason());
    } else {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
    }
    t->ssl = SSL_new(t->ctx);
    if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1)
        return status_set(st, STATUS_TLS, "cannot set up TLS: %s", ssl_reason());
    if (is_ip(conf->host)) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
        if (!conf->insecure && X509_VERIFY_PARAM_set1_ip_asc(vp, conf->host) != 1)
            return status_set(st, STATUS_TLS, "cannot check the address %s", conf->host);
    } else {
        SSL_set_tlsext_host_name(t->ssl, conf->host);
        if (!conf->insecure && SSL_set1_host(t->ssl, conf->host) != 1)
            return status_set(st, STATUS_TLS, "cannot check the name %s", conf->host);
    }
    return 0;
}

int tls_start(int fd, const struct tls_conf *conf, int timeout_ms, struct tls **out,
              struct status *st)
{
    *out = NULL;
    struct tls *t = sbuf_xcalloc(1, sizeof *t);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (setup(t, fd, conf, st) < 0) {
        tls_free(t);
        return -1;
    }
    for (;;) {
        int r = SSL_connect(t->ssl);
        if (r == 1)
            break;
        int code;
        if (wait_for(t, r, timeout_ms, &code))
            continue;
        long v = SSL_get_verify_result(t->ssl);
        if (v != X509_V_OK)
            status_set(st, STATUS_TLS, "the certificate of %s is not trusted: %s", conf->host,
                       X509_verify_cert_error_string(v));
        else if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
            status_set(st, STATUS_TLS, "TLS handshake with %s timed out", conf->host);
        else if (code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN)
            status_set(st, STATUS_TLS, "%s closed the connection during the TLS handshake",
                       conf->host);
        else
            status_set(st, STATUS_TLS, "TLS handshake with %s failed: %s", conf->host,
                       ssl_reason());
        tls_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

ssize_t tls_read(struct tls *t, void *buf, size_t n, int timeout_ms, char *err, size_t errlen)
{
    for (;;) {
        size_t got = 0;
        int r = SSL_read_ex(t->ssl, buf, n, &got);
        if (r == 1)
            return (ssize_t)got;
        int code;
        if (wait_for(t, r, timeout_ms, &code))
            continue;
        if (code == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
            snprintf(err, errlen, "timed out waiting for the server");
        else if (code == SSL_ERROR_SYSCALL)
            snprintf(err, errlen, "the server closed the connection");
        else
            snprintf(err, errlen, "TLS error: %s", ssl_reason());
        return -1;
    }
}

ssize_t tls_write(struct tls *t, const void *buf, size_t n, int timeout_ms, char *err,
                  size_t errlen)
{
    for (;;) {
        size_t put = 0;
        int r = SSL_write_ex(t->ssl, buf, n, &put);
        if (r == 1)
            return (ssize_t)put;
        int code;
        if (wait_for(t, r, timeout_ms, &code))
            continue;
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
            snprintf(err, errlen, "timed out sending to the server");
        else
            snprintf(err, errlen, "TLS error: %s",
                     code == SSL_ERROR_SYSCALL ? strerror(errno) : ssl_reason());
        return -1;
    }
}

void tls_free(struct tls *t)
{
    if (t == NULL)
        return;
    if (t->ssl) {
        SSL_shutdown(t->ssl); /* best effort: the fd is non-blocking */
        SSL_free(t->ssl);
    }
    SSL_CTX_free(t->ctx);
    ERR_clear_error();
    free(t);
}

const char *tls_describe(const struct tls *t, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
    return buf;
}

struct tls_sha256 {
    EVP_MD_CTX *md;
};

struct tls_sha256 *tls_sha256_new(void)
{
    struct tls_sha256 *h = sbuf_xcalloc(1, sizeof *h);
    h->md = EVP_MD_CTX_new();
    if (h->md == NULL) {
        fputs("imapferry: out of memory\n", stderr);
        abort();
    }
    tls_sha256_reset(h);
    return h;
}

void tls_sha256_reset(struct tls_sha256 *h)
{
    /* Fails only without memory or without SHA-256, neither of which a
     * run can go on from. */
    if (EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
        fputs("imapferry: SHA-256 is not available\n", stderr);
        abort();
    }
}

void tls_sha256_update(struct tls_sha256 *h, const void *data, size_t n)
{
    if (n > 0)
        EVP_DigestUpdate(h->md, data, n);
}

void tls_sha256_final(struct tls_sha256 *h, unsigned char out[TLS_SHA256_LEN])
{
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->md, out, &len);
    tls_sha256_reset(h);
}

void tls_sha256_free(struct tls_sha256 *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->md);
    free(h);
}
