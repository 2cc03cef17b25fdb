/* imapc: the IMAP client session and its commands on libetpan, with every
 * answer converted to our own types before it leaves this file. */
#include "imapc.h"

#include "appender.h"
#include "flagrule.h"
#include "hdrdate.h"
#include "log.h"
#include "msgid.h"
#include "sbuf.h"
#include "tls.h"
#include "transform.h"
#include "transport.h"

#include <libetpan/libetpan.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Sequence numbers per metadata FETCH: bounds the response libetpan holds in
 * memory while keeping round trips few. */
#define META_CHUNK 500

struct imapc {
    mailimap *s;
    struct transport *t; /* owned by libetpan's stream once connected */
    char label[8];
    int err_connect;
    char *ns_prefix;
    int ns_pending; /* NAMESPACE is to go with the LIST (namespace_later) */
    int qr_pending; /* and ENABLE QRESYNC before it */
    struct folder_ns ns;
    const struct rx_rule *const *flag_rules; /* borrowed; see imapc_set_flag_rules */
    size_t nflag_rules;
    int date_from_header; /* see imapc_set_date_from_header */
    int add_header;       /* see imapc_set_add_header */
    int qresync;          /* ENABLE QRESYNC was answered (imapc_has_qresync) */
    char greeting[512];   /* the server's greeting text, control bytes as '?' */
    /* See imapc_set_identity. */
    const struct msgid_conf *identity;

    /* The last APPEND's APPENDUIDs (imapc_appended_uids); uids owned. */
    struct appender_uids appended;
    size_t appended_cap;

    /* imapc_status_later: the folder (owned), whether its STATUS went out
     * and what came back. */
    char *later_name;
    int later_sent, later_ok;
    struct folder_status later_got;
};

/* The server's last response text, made safe for a one-line message. */
static const char *server_text(const struct imapc *c)
{
    const char *r = c->s ? c->s->imap_response : NULL;
    return (r && *r) ? r : "no response text";
}

/* Maps a libetpan error to our classes: stream-level errors mean the
 * connection is gone or desynchronised (libetpan issue #90), so they carry
 * the connection code; the rest are errors of the command itself. */
static int fail(struct imapc *c, int r, int code, struct status *st, const char *what)
{
    switch (r) {
    case MAILIMAP_ERROR_STREAM:
    case MAILIMAP_ERROR_PARSE:
    case MAILIMAP_ERROR_PROTOCOL:
    case MAILIMAP_ERROR_FATAL:
        return status_set(st, c->err_connect, "%s: %s: connection lost (%s)", c->label, what,
                          *transport_error(c->t) ? transport_error(c->t)
                                                 : "unexpected server response");
    case MAILIMAP_ERROR_MEMORY:
        /* libetpan stops reading mid-response: the stream is out of step,
         * so the session is as good as lost and must be reopened. */
        return status_set(st, c->err_connect, "%s: %s: out of memory; connection dropped", c->label,
                          what);
    default:
        return status_set(st, code, "%s: %s: %s", c->label, what, server_text(c));
    }
}

/* The personal namespace of a NAMESPACE answer, when it has one. */
static void ns_from(struct imapc *c, const struct mailimap_namespace_data *nd)
{
    if (nd && nd->ns_personal && clist_begin(nd->ns_personal->ns_data_list)) {
        struct mailimap_namespace_info *ni =
            clist_content(clist_begin(nd->ns_personal->ns_data_list));
        free(c->ns_prefix);
        c->ns_prefix = sbuf_xstrdup(ni->ns_prefix ? ni->ns_prefix : "");
        c->ns.sep = ni->ns_delimiter;
        c->ns.prefix = c->ns_prefix;
    }
}

/* The same from a NAMESPACE answer just parsed, in the session's response
 * (as mailimap_namespace takes it). */
static void take_namespace(struct imapc *c)
{
    struct mailimap_response_info *ri = c->s->imap_response_info;
    for (clistiter *it = ri ? clist_begin(ri->rsp_extension_list) : NULL; it; it = clist_next(it)) {
        struct mailimap_extension_data *ext = clist_content(it);
        if (ext->ext_extension->ext_id == MAILIMAP_EXTENSION_NAMESPACE && ext->ext_data) {
            ns_from(c, ext->ext_data);
            return;
        }
    }
}

/* Whether an ENABLED answer just parsed names QRESYNC. */
static int enabled_qresync(const struct imapc *c)
{
    struct mailimap_response_info *ri = c->s->imap_response_info;
    for (clistiter *it = ri ? clist_begin(ri->rsp_extension_list) : NULL; it; it = clist_next(it)) {
        struct mailimap_extension_data *ext = clist_content(it);
        if (ext->ext_extension->ext_id != MAILIMAP_EXTENSION_ENABLE || ext->ext_data == NULL)
            continue;
        struct mailimap_capability_data *cd = ext->ext_data;
        for (clistiter *k = cd->cap_list ? clist_begin(cd->cap_list) : NULL; k; k = clist_next(k)) {
            struct mailimap_capability *cap = clist_content(k);
            if (cap->cap_type == MAILIMAP_CAPABILITY_NAME && cap->cap_data.cap_name &&
                strcasecmp(cap->cap_data.cap_name, "QRESYNC") == 0)
                return 1;
        }
    }
    return 0;
}

static void enable_and_namespace(void *ctx, size_t i, int refused)
{
    struct imapc *c = ctx;
    if (i == 0)
        c->qresync = !refused && enabled_qresync(c);
    else if (!refused)
        take_namespace(c);
}

/* ENABLE QRESYNC (RFC 7162) sent together with NAMESPACE: it costs no
 * round trip. 0 = done (the namespace read as far as the server answered),
 * -1 = the pipeline failed: read the namespace the usual way. */
static int read_namespace_qresync(struct imapc *c)
{
    const char *cmds[2] = {"ENABLE QRESYNC", "NAMESPACE"};
    return appender_pipeline(c->s, cmds, 2, enable_and_namespace, c) == MAILIMAP_NO_ERROR ? 0 : -1;
}

static void read_namespace(struct imapc *c, int qresync)
{
    c->ns.sep = '/';
    c->ns_prefix = sbuf_xstrdup("");
    c->ns.prefix = c->ns_prefix;
    if (qresync && mailimap_has_namespace(c->s) && mailimap_has_extension(c->s, "ENABLE") &&
        mailimap_has_qresync(c->s) && read_namespace_qresync(c) == 0) {
        /* nothing more to ask */
    } else if (!mailimap_has_namespace(c->s)) {
        /* LIST "" "" answers with the hierarchy separator. */
        clist *l = NULL;
        if (mailimap_list(c->s, "", "", &l) == MAILIMAP_NO_ERROR && l && clist_begin(l)) {
            struct mailimap_mailbox_list *mb = clist_content(clist_begin(l));
            c->ns.sep = mb->mb_delimiter;
        }
        if (l)
            mailimap_list_result_free(l);
    } else {
        struct mailimap_namespace_data *nd = NULL;
        if (mailimap_namespace(c->s, &nd) == MAILIMAP_NO_ERROR)
            ns_from(c, nd);
        if (nd)
            mailimap_namespace_data_free(nd);
    }
    c->ns.prefix = c->ns_prefix;
}

/* libetpan 1.9.4 dereferences the session's capability list without a
 * check: after a CAPABILITY answer with no data, or "[CAPABILITY ]" in a
 * greeting, any server (or whoever sits before STARTTLS) could crash us.
 * An empty list in its place is what such an answer means. */
static void caps_fix(struct imapc *c)
{
    struct mailimap_connection_info *ci = c->s ? c->s->imap_connection_info : NULL;
    if (ci == NULL)
        return;
    if (ci->imap_capability == NULL)
        ci->imap_capability = mailimap_capability_data_new(clist_new());
    else if (ci->imap_capability->cap_list == NULL)
        ci->imap_capability->cap_list = clist_new();
}

/* Whether the session holds a capability list with something in it (a
 * greeting or a login answer carried one). */
static int have_caps(const struct imapc *c)
{
    struct mailimap_connection_info *ci = c->s ? c->s->imap_connection_info : NULL;
    return ci && ci->imap_capability && ci->imap_capability->cap_list &&
           clist_count(ci->imap_capability->cap_list) > 0;
}

/* CAPABILITY, made safe against an answer without data. */
static int ask_capability(struct imapc *c)
{
    caps_fix(c);
    struct mailimap_capability_data *cap = NULL;
    int r = mailimap_capability(c->s, &cap);
    if (r == MAILIMAP_NO_ERROR)
        mailimap_capability_data_free(cap);
    caps_fix(c);
    return r;
}

/* STARTTLS, then the TLS handshake on the same socket. libetpan keeps the
 * plaintext capability list until asked again, so ask again. */
static int starttls(struct imapc *c, const struct imapc_conf *conf, const struct tls_conf *tc,
                    struct status *st)
{
    if (!mailimap_has_extension(c->s, "STARTTLS"))
        return status_set(st, STATUS_TLS,
                          "%s: %s offers no STARTTLS; use --ssl%c for implicit TLS (port 993), "
                          "or --notls%c to log in in plaintext",
                          conf->label, conf->host, conf->label[4], conf->label[4]);
    int r = mailimap_starttls(c->s);
    /* Bytes after the OK arrived in plaintext before the handshake: someone
     * injected them (CVE-2020-15953). Debian's libetpan fails the command
     * then too; checking here gives the user the real reason either way. */
    if (c->s->imap_stream && c->s->imap_stream->read_buffer_len != 0)
        return status_set(st, STATUS_TLS,
                          "%s: %s sent data after its STARTTLS answer; refusing the connection",
                          conf->label, conf->host);
    if (r != MAILIMAP_NO_ERROR)
        return status_set(st, STATUS_TLS, "%s: STARTTLS refused by %s: %s", conf->label, conf->host,
                          server_text(c));
    if (transport_start_tls(c->t, tc, st) < 0)
        return status_prefix(st, STATUS_TLS, conf->label);
    r = ask_capability(c);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_TLS, st, "CAPABILITY after STARTTLS");
    return 0;
}

/* PROXYAUTH (Cyrus, Sun; no RFC): the admin session becomes the user's.
 * config let through only printable ASCII names, so a quoted string holds
 * any of them. A NO or BAD means the user's mailbox is not ours: a login
 * failure on that side. */
static int proxyauth(struct imapc *c, const struct imapc_conf *conf, struct status *st)
{
    struct sbuf cmd = SBUF_INIT;
    sbuf_adds(&cmd, "PROXYAUTH ");
    appender_quote(&cmd, conf->user);
    int r = mailimap_custom_command(c->s, cmd.data);
    sbuf_free(&cmd);
    if (r == MAILIMAP_NO_ERROR)
        return 0;
    if (r == MAILIMAP_ERROR_CUSTOM_COMMAND || r == MAILIMAP_ERROR_PROTOCOL)
        return status_set(st, conf->err_auth, "%s: PROXYAUTH %s refused for %s on %s: %s",
                          conf->label, conf->user, conf->authuser, conf->host, server_text(c));
    return fail(c, r, conf->err_auth, st, "PROXYAUTH");
}

/* Logs in with the chosen mechanism. SASL mechanisms go through libetpan's
 * Cyrus SASL binding: login = authorization identity (the mailbox user),
 * auth_name = authentication identity (the admin with --authuserN). */
static int authenticate(struct imapc *c, const struct imapc_conf *conf, struct status *st)
{
    const char *mech = conf->authmech ? conf->authmech : "LOGIN";
    const char *authcid = conf->authuser ? conf->authuser : conf->user;
    int r;
    if (conf->proxyauth) {
        r = mailimap_login(c->s, conf->authuser, conf->password);
        if (r == MAILIMAP_NO_ERROR)
            return proxyauth(c, conf, st);
    } else if (strcasecmp(mech, "LOGIN") == 0) {
        r = mailimap_login(c->s, conf->user, conf->password);
    } else if (strcasecmp(mech, "XOAUTH2") == 0) {
        if (!mailimap_has_xoauth2(c->s))
            return status_set(st, conf->err_auth, "%s: %s does not offer AUTH=XOAUTH2", conf->label,
                              conf->host);
        r = mailimap_oauth2_authenticate(c->s, conf->user, conf->oauth_token);
    } else {
        if (!mailimap_has_authentication(c->s, mech))
            return status_set(st, conf->err_auth, "%s: %s does not offer AUTH=%s", conf->label,
                              conf->host, mech);
        r = mailimap_authenticate(c->s, mech, conf->host, NULL, NULL, conf->user, authcid,
                                  conf->password, NULL);
    }
    if (r == MAILIMAP_NO_ERROR)
        return 0;
    if (r == MAILIMAP_ERROR_LOGIN || r == MAILIMAP_ERROR_SASL)
        return status_set(st, conf->err_auth, "%s: login refused for user %s%s%s on %s (%s): %s",
                          conf->label, conf->user, conf->authuser ? " by " : "",
                          conf->authuser ? conf->authuser : "", conf->host, mech, server_text(c));
    return fail(c, r, conf->err_auth, st, "login");
}

/* COMPRESS DEFLATE (RFC 4978), after login as mbsync does it, and after TLS.
 * libetpan's own mailimap_compress cannot be used: the Debian build has no
 * zlib and fails after the server has already switched. A refusal costs
 * only the compression; a lost or out-of-step connection ends the session. */
static int start_compress(struct imapc *c, const struct imapc_conf *conf, struct status *st)
{
    int r = mailimap_custom_command(c->s, "COMPRESS DEFLATE");
    if (r == MAILIMAP_ERROR_CUSTOM_COMMAND || r == MAILIMAP_ERROR_PROTOCOL) {
        /* NO, or BAD (which libetpan reports as a protocol error). */
        log_out("%s: %s refused COMPRESS DEFLATE (%s); going on uncompressed\n", conf->label,
                conf->host, server_text(c));
        return 0;
    }
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, conf->err_connect, st, "COMPRESS DEFLATE");
    /* The server's next byte is compressed: any plaintext byte already
     * buffered after the OK was sent by someone else, or out of step. */
    if (c->s->imap_stream && c->s->imap_stream->read_buffer_len != 0)
        return status_set(st, conf->err_connect,
                          "%s: %s sent data after its COMPRESS answer; connection dropped",
                          conf->label, conf->host);
    if (transport_start_deflate(c->t, st) < 0)
        return status_prefix(st, STATUS_INTERNAL, conf->label);
    return 0;
}

static void no_greeting(const struct transport *t, const struct imapc_conf *conf, struct status *st)
{
    const char *why = *transport_error(t) ? transport_error(t) : "not an IMAP server?";
    /* An implicit-TLS port waits silently for a ClientHello. */
    char hint[64] = "";
    if (conf->tls != CONN_TLS_IMPLICIT && strstr(why, "timed out"))
        snprintf(hint, sizeof hint, "; if this port speaks TLS from the start, add --ssl%c",
                 conf->label[4]);
    status_set(st, conf->err_connect, "%s: no IMAP greeting from %s port %d (%s)%s", conf->label,
               conf->host, conf->port, why, hint);
}

int imapc_open(const struct imapc_conf *conf, struct imapc **out, struct status *st)
{
    *out = NULL;
    struct imapc *c = sbuf_xcalloc(1, sizeof *c);
    snprintf(c->label, sizeof c->label, "%s", conf->label);
    c->err_connect = conf->err_connect;
    if (transport_connect(conf->host, conf->port, conf->timeout, &c->t, st) < 0) {
        status_prefix(st, conf->err_connect, conf->label);
        free(c);
        return -1;
    }
    struct tls_conf tc = {conf->host, conf->cafile, conf->insecure};
    if (conf->tls == CONN_TLS_IMPLICIT && transport_start_tls(c->t, &tc, st) < 0) {
        /* A plaintext IMAP port answers a ClientHello with its greeting. */
        if (strstr(st->msg, "wrong version number"))
            snprintf(st->msg + strlen(st->msg), sizeof st->msg - strlen(st->msg),
                     " (a plaintext port? for STARTTLS drop --ssl%c)", conf->label[4]);
        status_prefix(st, STATUS_TLS, conf->label);
        transport_free(c->t);
        free(c);
        return -1;
    }
    /* A server at its session limit greets with BYE: say so, not "no greeting". */
    char first[200];
    int peeked = transport_peek_line(c->t, first, sizeof first);
    if (peeked < 0 || strncasecmp(first, "* BYE", 5) == 0) {
        if (peeked < 0)
            no_greeting(c->t, conf, st);
        else
            status_set(st, conf->err_connect, "%s: %s port %d refused the session: %s", conf->label,
                       conf->host, conf->port, first + 2);
        transport_free(c->t);
        free(c);
        return -1;
    }
    mailstream_low *low = transport_low(c->t);
    mailstream *stream = low ? mailstream_new(low, 65536) : NULL;
    c->s = stream ? mailimap_new(0, NULL) : NULL;
    if (c->s == NULL) {
        if (stream)
            mailstream_close(stream);
        else if (low)
            mailstream_low_free(low);
        else
            transport_free(c->t);
        free(c);
        return status_set(st, STATUS_INTERNAL, "%s: out of memory", conf->label);
    }
    int r = mailimap_connect(c->s, stream);
    if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
        no_greeting(c->t, conf, st);
        imapc_close(c);
        return -1;
    }
    if (r == MAILIMAP_NO_ERROR_AUTHENTICATED &&
        (conf->tls == CONN_TLS_STARTTLS || conf->tls == CONN_TLS_AUTO)) {
        /* PREAUTH: the session is already logged in and STARTTLS is no longer
         * allowed. Going on would be a plaintext session nobody asked for:
         * whoever sits on the path could have sent that greeting. */
        status_set(st, STATUS_TLS,
                   "%s: %s greeted with PREAUTH on a plaintext connection, so STARTTLS is "
                   "impossible; use --ssl%c, or --notls%c to accept a plaintext session",
                   conf->label, conf->host, conf->label[4], conf->label[4]);
        imapc_close(c);
        return -1;
    }
    caps_fix(c); /* a greeting's "[CAPABILITY ]" leaves a list without items */
    snprintf(c->greeting, sizeof c->greeting, "%s", c->s->imap_response ? c->s->imap_response : "");
    for (char *p = c->greeting; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    int told = 0; /* the login answer carried the new capabilities */
    if (r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
        /* The greeting's [CAPABILITY ...] (Dovecot, Cyrus) spares a round trip. */
        if (!have_caps(c))
            ask_capability(c);
        if ((conf->tls == CONN_TLS_AUTO || conf->tls == CONN_TLS_STARTTLS) &&
            starttls(c, conf, &tc, st) < 0) {
            imapc_close(c);
            return -1;
        }
        if (conf->no_login) {
            *out = c;
            return 0;
        }
        if (mailimap_has_extension(c->s, "LOGINDISABLED")) {
            status_set(st, conf->err_auth,
                       "%s: %s refuses to log in over this connection (LOGINDISABLED)%s",
                       conf->label, conf->host,
                       conf->tls == CONN_TLS_NONE ? "; drop --notls to use TLS" : "");
            imapc_close(c);
            return -1;
        }
        /* libetpan replaces its list with the one in a login answer's
         * [CAPABILITY ...]: a new list means the server told us already. */
        uintptr_t before = (uintptr_t)c->s->imap_connection_info->imap_capability;
        if (authenticate(c, conf, st) < 0) {
            imapc_close(c);
            return -1;
        }
        told = (uintptr_t)c->s->imap_connection_info->imap_capability != before && have_caps(c);
    }
    /* Capabilities change after login; ask again rather than trust the
     * greeting's, unless the login answer gave them. */
    if (!told)
        ask_capability(c);
    if (conf->compress && mailimap_has_extension(c->s, "COMPRESS=DEFLATE") &&
        start_compress(c, conf, st) < 0) {
        imapc_close(c);
        return -1;
    }
    int qr = conf->qresync && mailimap_has_extension(c->s, "ENABLE") && mailimap_has_qresync(c->s);
    if (conf->namespace_later && mailimap_has_namespace(c->s)) {
        c->ns.sep = '/';
        c->ns_prefix = sbuf_xstrdup("");
        c->ns.prefix = c->ns_prefix;
        c->ns_pending = conf->namespace_later == 1;
        /* ENABLE goes with the LIST too, or alone on a session that will
         * not list. */
        c->qr_pending = qr && c->ns_pending;
        if (qr && !c->ns_pending) {
            const char *cmd = "ENABLE QRESYNC";
            if (appender_pipeline(c->s, &cmd, 1, enable_and_namespace, c) != MAILIMAP_NO_ERROR) {
                status_set(st, conf->err_connect, "%s: ENABLE: connection lost", c->label);
                imapc_close(c);
                return -1;
            }
        }
    } else {
        read_namespace(c, conf->qresync);
    }
    *out = c;
    return 0;
}

/* Round trips of the sessions closed so far, per side, for the run's total. */
static uint64_t closed_trips[2];

uint64_t imapc_round_trips(const struct imapc *c)
{
    return c ? transport_round_trips(c->t) : 0;
}

uint64_t imapc_round_trips_closed(int side)
{
    return side == 0 || side == 1 ? __atomic_load_n(&closed_trips[side], __ATOMIC_RELAXED) : 0;
}

void imapc_close(struct imapc *c)
{
    if (c == NULL)
        return;
    if (c->label[4] == '1' || c->label[4] == '2')
        __atomic_fetch_add(&closed_trips[c->label[4] - '1'], imapc_round_trips(c),
                           __ATOMIC_RELAXED);
    if (c->s) {
        /* LOGOUT is sent but its answer not read: nothing depends on it,
         * and libetpan 1.9.4 crashes on some mangled answers (found by
         * fuzz_response), which a hostile server could send right there. */
        if (c->s->imap_stream && mailimap_send_current_tag(c->s) == MAILIMAP_NO_ERROR &&
            mailstream_write(c->s->imap_stream, "LOGOUT\r\n", 8) == 8)
            mailstream_flush(c->s->imap_stream);
        /* Closed here (which frees our transport too), because with a
         * stream left mailimap_free sends a LOGOUT of its own and waits for
         * that answer: a second LOGOUT, a round trip, and the parse above. */
        if (c->s->imap_stream) {
            mailstream_close(c->s->imap_stream);
            c->s->imap_stream = NULL;
        }
        mailimap_free(c->s);
    }
    free(c->ns_prefix);
    free(c->appended.uids);
    free(c->later_name);
    free(c);
}

const char *imapc_greeting(const struct imapc *c)
{
    return c->greeting;
}

void imapc_set_add_header(struct imapc *c, int on)
{
    c->add_header = on;
}

void imapc_set_identity(struct imapc *c, const struct msgid_conf *conf)
{
    c->identity = conf;
}

const struct folder_ns *imapc_namespace(const struct imapc *c)
{
    return &c->ns;
}

long long imapc_appendlimit(const struct imapc *c)
{
    struct mailimap_capability_data *cd =
        c->s->imap_connection_info ? c->s->imap_connection_info->imap_capability : NULL;
    for (clistiter *it = cd ? clist_begin(cd->cap_list) : NULL; it; it = clist_next(it)) {
        struct mailimap_capability *cap = clist_content(it);
        const char *name =
            cap->cap_type == MAILIMAP_CAPABILITY_NAME ? cap->cap_data.cap_name : NULL;
        if (name == NULL || strncasecmp(name, "APPENDLIMIT=", 12) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(name + 12, &end, 10);
        /* RFC 7889: a bare APPENDLIMIT means per-mailbox limits; ignored. */
        if (errno == 0 && end != name + 12 && *end == '\0' && v <= LLONG_MAX)
            return (long long)v;
    }
    return -1;
}

const char *imapc_capabilities(const struct imapc *c, char *buf, size_t n)
{
    struct sbuf b = SBUF_INIT;
    struct mailimap_capability_data *cd =
        c->s->imap_connection_info ? c->s->imap_connection_info->imap_capability : NULL;
    for (clistiter *it = cd ? clist_begin(cd->cap_list) : NULL; it; it = clist_next(it)) {
        struct mailimap_capability *cap = clist_content(it);
        if (b.len)
            sbuf_addc(&b, ' ');
        if (cap->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE)
            sbuf_addf(&b, "AUTH=%s",
                      cap->cap_data.cap_auth_type ? cap->cap_data.cap_auth_type : "");
        else
            sbuf_adds(&b, cap->cap_data.cap_name ? cap->cap_data.cap_name : "");
    }
    snprintf(buf, n, "%s", b.data ? b.data : "");
    sbuf_free(&b);
    return buf;
}

const char *imapc_security(const struct imapc *c, char *buf, size_t n)
{
    if (transport_tls_describe(c->t, buf, n) == NULL)
        snprintf(buf, n, "plaintext");
    if (transport_deflating(c->t)) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, ", COMPRESS=DEFLATE");
    }
    return buf;
}

static int is_noselect(const struct mailimap_mailbox_list *mb)
{
    if (mb->mb_flag == NULL)
        return 0;
    if (mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
        mb->mb_flag->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
        return 1;
    for (clistiter *it = clist_begin(mb->mb_flag->mbf_oflags); it; it = clist_next(it)) {
        struct mailimap_mbx_list_oflag *of = clist_content(it);
        if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && of->of_flag_ext &&
            strcasecmp(of->of_flag_ext, "NonExistent") == 0)
            return 1;
    }
    return 0;
}

/* RFC 6154 special-use attributes, which Gmail's XLIST shares. */
static unsigned list_roles(const struct mailimap_mailbox_list *mb)
{
    static const struct {
        const char *name;
        unsigned bit;
    } roles[] = {
        {"All", FOLDER_ROLE_ALL},         {"AllMail", FOLDER_ROLE_ALL},
        {"Archive", FOLDER_ROLE_ARCHIVE}, {"Drafts", FOLDER_ROLE_DRAFTS},
        {"Flagged", FOLDER_ROLE_FLAGGED}, {"Starred", FOLDER_ROLE_FLAGGED},
        {"Junk", FOLDER_ROLE_JUNK},       {"Spam", FOLDER_ROLE_JUNK},
        {"Sent", FOLDER_ROLE_SENT},       {"Trash", FOLDER_ROLE_TRASH},
    };
    unsigned r = 0;
    if (mb->mb_flag == NULL)
        return 0;
    for (clistiter *it = clist_begin(mb->mb_flag->mbf_oflags); it; it = clist_next(it)) {
        struct mailimap_mbx_list_oflag *of = clist_content(it);
        if (of->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT || of->of_flag_ext == NULL)
            continue;
        for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
            if (strcasecmp(of->of_flag_ext, roles[i].name) == 0)
                r |= roles[i].bit;
    }
    return r;
}

void imapc_set_date_from_header(struct imapc *c, int on)
{
    c->date_from_header = on;
}

void imapc_set_flag_rules(struct imapc *c, const struct rx_rule *const *rules, size_t n)
{
    c->flag_rules = rules;
    c->nflag_rules = rules ? n : 0;
}

/* LIST and LSUB of imapc_list, sent back to back (after NAMESPACE when
 * first is 1): what each answered. */
struct list_pair {
    struct imapc *c;
    size_t first;
    clist *l[2]; /* LIST's and LSUB's mailboxes, owned here */
    int refused[2];
};

static void list_one(void *ctx, size_t i, int refused)
{
    struct list_pair *p = ctx;
    struct mailimap_response_info *ri = p->c->s->imap_response_info;
    if (i < p->first) { /* ENABLE, NAMESPACE: a refusal leaves the default */
        if (p->first == 2 && i == 0)
            p->c->qresync = !refused && enabled_qresync(p->c);
        else if (!refused)
            take_namespace(p->c);
        return;
    }
    i -= p->first;
    p->refused[i] = refused;
    clist **from = ri ? (i == 0 ? &ri->rsp_mailbox_list : &ri->rsp_mailbox_lsub) : NULL;
    if (from) {
        p->l[i] = *from;
        *from = NULL;
    }
}

int imapc_list(struct imapc *c, struct folder **out, size_t *n, struct status *st)
{
    *out = NULL;
    *n = 0;
    /* One round trip for both (and NAMESPACE). */
    static const char *const cmds[4] = {"ENABLE QRESYNC", "NAMESPACE", "LIST \"\" \"*\"",
                                        "LSUB \"\" \"*\""};
    size_t skip = c->qr_pending ? 0 : c->ns_pending ? 1 : 2;
    c->ns_pending = c->qr_pending = 0;
    struct list_pair p = {c, 2 - skip, {NULL, NULL}, {0, 0}};
    int r = appender_pipeline(c->s, cmds + skip, 4 - skip, list_one, &p);
    if (r != MAILIMAP_NO_ERROR || p.refused[0] || p.refused[1]) {
        for (int i = 0; i < 2; i++)
            if (p.l[i])
                mailimap_list_result_free(p.l[i]);
        if (r != MAILIMAP_NO_ERROR)
            return fail(c, r, STATUS_ERR_SELECT, st, "LIST");
        return status_set(st, STATUS_ERR_SELECT, "%s: %s refused: %s", c->label,
                          p.refused[0] ? "LIST" : "LSUB", server_text(c));
    }
    clist *l = p.l[0];
    size_t cnt = 0;
    struct folder *f = sbuf_xcalloc((l ? clist_count(l) : 0) + 1, sizeof *f);
    for (clistiter *it = l ? clist_begin(l) : NULL; it; it = clist_next(it)) {
        struct mailimap_mailbox_list *mb = clist_content(it);
        /* An empty name is no folder (LIST "" "" answers the separator
         * that way), and automap must never pick it as a target. */
        if (mb->mb_name == NULL || *mb->mb_name == '\0')
            continue;
        f[cnt].name = sbuf_xstrdup(mb->mb_name);
        f[cnt].noselect = is_noselect(mb);
        f[cnt].roles = list_roles(mb);
        cnt++;
    }
    l = p.l[1];
    for (clistiter *it = l ? clist_begin(l) : NULL; it; it = clist_next(it)) {
        struct mailimap_mailbox_list *mb = clist_content(it);
        for (size_t i = 0; i < cnt && mb->mb_name; i++)
            if (strcmp(f[i].name, mb->mb_name) == 0)
                f[i].subscribed = 1;
    }
    for (int i = 0; i < 2; i++)
        if (p.l[i])
            mailimap_list_result_free(p.l[i]);
    *out = f;
    *n = cnt;
    return 0;
}

void imapc_folders_free(struct folder *f, size_t n)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(f[i].name);
    free(f);
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

int imapc_search_valid(const char *criteria)
{
    if (criteria == NULL || *criteria == '\0')
        return 0;
    for (const char *p = criteria; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    /* A trailing "{N}" or "{N+}" would announce a literal that never comes. */
    size_t n = strlen(criteria);
    if (criteria[n - 1] == '}')
        return 0;
    return 1;
}

int imapc_search(struct imapc *c, const char *criteria, uint32_t **uids, size_t *n,
                 struct status *st)
{
    *uids = NULL;
    *n = 0;
    if (!imapc_search_valid(criteria))
        return status_set(st, STATUS_USAGE, "%s: refusing to send the search \"%.100s\"", c->label,
                          criteria);
    /* libetpan builds searches from typed keys only; imapsync sends the
     * user's criteria as they are, so the command is written by hand and
     * libetpan's parser collects the SEARCH answer. */
    struct sbuf cmd = SBUF_INIT;
    sbuf_adds(&cmd, "UID SEARCH ");
    sbuf_adds(&cmd, criteria);
    int refused = 0;
    int r = appender_command(c->s, cmd.data, &refused);
    sbuf_free(&cmd);
    /* A tagged BAD (libetpan's protocol error, as for STATUS): the server
     * will not run this search; the session itself is fine. */
    if (r == MAILIMAP_ERROR_PROTOCOL)
        return status_set(st, STATUS_ERR_SEARCH, "%s: UID SEARCH %.100s refused: %s", c->label,
                          criteria, server_text(c));
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_SEARCH, st, "UID SEARCH");
    /* The answer's UIDs are taken over (and the list freed) either way. */
    clist *res = c->s->imap_response_info ? c->s->imap_response_info->rsp_search_result : NULL;
    if (c->s->imap_response_info)
        c->s->imap_response_info->rsp_search_result = NULL;
    size_t cnt = res ? clist_count(res) : 0;
    uint32_t *u = sbuf_xcalloc(cnt + 1, sizeof *u);
    size_t k = 0;
    for (clistiter *it = res ? clist_begin(res) : NULL; it; it = clist_next(it)) {
        uint32_t *v = clist_content(it);
        if (v)
            u[k++] = *v;
        free(v);
    }
    if (res)
        clist_free(res);
    if (refused) {
        free(u);
        return status_set(st, STATUS_ERR_SEARCH, "%s: UID SEARCH %.100s: %s", c->label, criteria,
                          server_text(c));
    }
    *uids = u;
    *n = k;
    return 0;
}

/* The values of one STATUS answer; a bit mask of the three required
 * ones found (7 = all). */
static unsigned status_convert(const struct mailimap_mailbox_data_status *res,
                               struct folder_status *out)
{
    memset(out, 0, sizeof *out);
    unsigned seen = 0;
    for (clistiter *it = res && res->st_info_list ? clist_begin(res->st_info_list) : NULL; it;
         it = clist_next(it)) {
        struct mailimap_status_info *si = clist_content(it);
        switch (si->st_att) {
        case MAILIMAP_STATUS_ATT_UIDVALIDITY:
            out->uidvalidity = si->st_value;
            seen |= 1;
            break;
        case MAILIMAP_STATUS_ATT_UIDNEXT:
            out->uidnext = si->st_value;
            seen |= 2;
            break;
        case MAILIMAP_STATUS_ATT_MESSAGES:
            out->messages = si->st_value;
            seen |= 4;
            break;
        case MAILIMAP_STATUS_ATT_EXTENSION:
            /* libetpan's CONDSTORE parser hands HIGHESTMODSEQ over this way. */
            if (si->st_ext_data &&
                si->st_ext_data->ext_extension == &mailimap_extension_condstore &&
                si->st_ext_data->ext_type == MAILIMAP_CONDSTORE_TYPE_STATUS_INFO &&
                si->st_ext_data->ext_data) {
                const struct mailimap_condstore_status_info *cs = si->st_ext_data->ext_data;
                out->modseq = cs->cs_highestmodseq_value;
            }
            break;
        default:
            break;
        }
    }
    return seen;
}

int imapc_status(struct imapc *c, const char *name, struct folder_status *out, struct status *st)
{
    memset(out, 0, sizeof *out);
    struct mailimap_status_att_list *atts = mailimap_status_att_list_new_empty();
    if (atts == NULL)
        return status_set(st, STATUS_OTHER, "%s: STATUS: out of memory", c->label);
    mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDVALIDITY);
    mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDNEXT);
    mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
    /* Asked only where announced: elsewhere the whole STATUS would be BAD. */
    if (mailimap_has_condstore(c->s))
        mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_HIGHESTMODSEQ);
    struct mailimap_mailbox_data_status *res = NULL;
    int r = mailimap_status(c->s, name, atts, &res);
    mailimap_status_att_list_free(atts);
    /* libetpan reports a tagged BAD as a protocol error; to STATUS it only
     * means this server will not tell, the session itself is fine. */
    if (r == MAILIMAP_ERROR_PROTOCOL)
        return status_set(st, STATUS_ERR_SELECT, "%s: STATUS refused: %s", c->label,
                          server_text(c));
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_SELECT, st, "STATUS");
    unsigned seen = status_convert(res, out);
    if (res)
        mailimap_mailbox_data_status_free(res);
    if (seen != 7)
        return status_set(st, STATUS_ERR_SELECT, "%s: STATUS answered without %s", c->label,
                          !(seen & 1)   ? "UIDVALIDITY"
                          : !(seen & 2) ? "UIDNEXT"
                                        : "MESSAGES");
    return 0;
}

/* Commands per round trip: small enough that neither side's socket
 * buffer fills while the other is not reading. */
#define STATUS_PIPELINE 50

/* The items every STATUS asks (HIGHESTMODSEQ only where announced:
 * elsewhere the whole STATUS would be BAD). */
static const char *status_items(const struct imapc *c)
{
    return mailimap_has_condstore(c->s) ? " (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)"
                                        : " (UIDVALIDITY UIDNEXT MESSAGES)";
}

/* Whether a STATUS answer names want: libetpan 1.9.4 hands a quoted
 * mailbox name over with its quotes and escapes ("\"Project X\""). */
static int same_mailbox(const char *got, const char *want)
{
    if (*got != '"')
        return strcmp(got, want) == 0;
    for (got++;; got++, want++) {
        if (*got == '\\' && got[1] != '\0')
            got++;
        else if (*got == '"')
            return got[1] == '\0' && *want == '\0';
        if (*got == '\0' || *got != *want)
            return 0;
    }
}

/* The answer to a STATUS of name just read: 1 when it is a full one about
 * that folder (out filled). */
static int status_answer(struct imapc *c, const char *name, int refused, struct folder_status *out)
{
    struct mailimap_response_info *ri = c->s->imap_response_info;
    struct mailimap_mailbox_data_status *res = ri ? ri->rsp_status : NULL;
    if (ri)
        ri->rsp_status = NULL;
    /* Only an answer about the folder asked for counts. */
    int ok = !refused && res && res->st_mailbox && same_mailbox(res->st_mailbox, name) &&
             status_convert(res, out) == 7;
    if (res)
        mailimap_mailbox_data_status_free(res);
    return ok;
}

/* A name that can go into a quoted string as it is. */
static int quotable(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            return 0;
    return *name != '\0';
}

int imapc_status_later(struct imapc *c, const char *name)
{
    if (!quotable(name))
        return -1;
    free(c->later_name);
    c->later_name = sbuf_xstrdup(name);
    c->later_sent = c->later_ok = 0;
    return 0;
}

int imapc_status_taken(struct imapc *c, struct folder_status *out)
{
    if (c->later_name == NULL)
        return IMAPC_LATER_UNSENT;
    int r = !c->later_sent ? IMAPC_LATER_UNSENT
            : c->later_ok  ? IMAPC_LATER_ANSWERED
                           : IMAPC_LATER_REFUSED;
    if (r == IMAPC_LATER_ANSWERED)
        *out = c->later_got;
    free(c->later_name);
    c->later_name = NULL;
    return r;
}

int imapc_status_many(struct imapc *c, const char *const *names, size_t n,
                      struct folder_status *out, int *ok, struct status *st)
{
    unsigned *todo = sbuf_xcalloc(n + 1, sizeof *todo);
    for (size_t i = 0; i < n; i++)
        todo[i] = IMAPC_DO_STATUS;
    int rc = imapc_prepare_many(c, names, todo, n, ok, out, st);
    for (size_t i = 0; i < n; i++)
        ok[i] = (ok[i] & IMAPC_STATUSED) != 0;
    free(todo);
    return rc;
}

static int cmp_uid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int imapc_search_keep(struct imapc *c, const char *criteria, struct msg_meta *m, size_t *n,
                      struct status *st)
{
    if (criteria == NULL)
        return 0;
    uint32_t *uids = NULL;
    size_t nu = 0;
    if (imapc_search(c, criteria, &uids, &nu, st) < 0)
        return -1;
    qsort(uids, nu, sizeof *uids, cmp_uid);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (bsearch(&m[i].uid, uids, nu, sizeof *uids, cmp_uid))
            m[k++] = m[i];
    }
    *n = k;
    free(uids);
    return 0;
}

int imapc_create(struct imapc *c, const char *name, struct status *st)
{
    int r = mailimap_create(c->s, name);
    if (r == MAILIMAP_ERROR_CREATE) {
        /* Another client (or a run we lost) made it in the meantime: the
         * folder is there, which is all CREATE was for (RFC 5530). */
        const char *t = server_text(c);
        if (contains_nocase(t, "ALREADYEXISTS") || contains_nocase(t, "already exists"))
            return 0;
    }
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_CREATE, st, "CREATE");
    return 0;
}

/* One round of imapc_prepare_many: which folder and which verb each
 * command was, where the outcome goes. */
struct prepare_many {
    struct imapc *c;
    const char *const *names;
    const size_t *folder;
    const unsigned *verb; /* IMAPC_DO_CREATE, _SUBSCRIBE or _STATUS */
    int *done;
    struct folder_status *out;
};

static void prepare_one(void *ctx, size_t i, int refused)
{
    struct prepare_many *m = ctx;
    size_t f = m->folder[i];
    if (m->verb[i] == IMAPC_DO_STATUS) {
        if (status_answer(m->c, m->names[f], refused, &m->out[f]))
            m->done[f] |= IMAPC_STATUSED;
        return;
    }
    if (m->verb[i] == IMAPC_DO_SUBSCRIBE) {
        if (!refused)
            m->done[f] |= IMAPC_SUBSCRIBED;
        return;
    }
    /* As imapc_create: a folder someone made meanwhile is there all the same. */
    const char *t = server_text(m->c);
    if (!refused || contains_nocase(t, "ALREADYEXISTS") || contains_nocase(t, "already exists"))
        m->done[f] |= IMAPC_CREATED;
}

int imapc_prepare_many(struct imapc *c, const char *const *names, const unsigned *todo, size_t n,
                       int *done, struct folder_status *out, struct status *st)
{
    static const char *const verbs[] = {"CREATE ", "SUBSCRIBE ", "STATUS "};
    const char *items = status_items(c);
    for (size_t i = 0; i < n; i++) {
        done[i] = 0;
        if (todo[i] & IMAPC_DO_STATUS)
            memset(&out[i], 0, sizeof out[i]);
    }
    const char *cmds[STATUS_PIPELINE];
    struct sbuf b[STATUS_PIPELINE];
    size_t folder[STATUS_PIPELINE];
    unsigned verb[STATUS_PIPELINE];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        /* A folder's commands stay in one round, in the order of verbs. */
        for (; i < n && k + 3 <= STATUS_PIPELINE; i++) {
            if (!quotable(names[i]))
                continue; /* left to the one-folder calls, which send it as libetpan does */
            for (unsigned v = 0; v < 3; v++) {
                if (!(todo[i] & (1u << v)))
                    continue;
                b[k] = (struct sbuf)SBUF_INIT;
                sbuf_adds(&b[k], verbs[v]);
                appender_quote(&b[k], names[i]);
                if (v == 2)
                    sbuf_adds(&b[k], items);
                cmds[k] = b[k].data;
                folder[k] = i;
                verb[k++] = 1u << v;
            }
        }
        int creating = 0;
        for (size_t j = 0; j < k; j++)
            creating |= verb[j] != IMAPC_DO_STATUS;
        struct prepare_many round = {c, names, folder, verb, done, out};
        int r = k ? appender_pipeline(c->s, cmds, k, prepare_one, &round) : MAILIMAP_NO_ERROR;
        for (size_t j = 0; j < k; j++)
            sbuf_free(&b[j]);
        if (r != MAILIMAP_NO_ERROR)
            return fail(c, r, creating ? STATUS_ERR_CREATE : STATUS_ERR_SELECT, st,
                        creating ? "CREATE" : "STATUS");
    }
    return 0;
}

int imapc_subscribe(struct imapc *c, const char *name, struct status *st)
{
    int r = mailimap_subscribe(c->s, name);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_OTHER, st, "SUBSCRIBE");
    return 0;
}

static void box_from_session(const struct imapc *c, struct imapc_box *box);

int imapc_select(struct imapc *c, const char *name, int readonly, struct imapc_box *box,
                 struct status *st)
{
    memset(box, 0, sizeof *box);
    int r = readonly ? mailimap_examine(c->s, name) : mailimap_select(c->s, name);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_SELECT, st, readonly ? "EXAMINE" : "SELECT");
    box_from_session(c, box);
    return 0;
}

/* The selected folder's figures as the SELECT answer left them. */
static void box_from_session(const struct imapc *c, struct imapc_box *box)
{
    memset(box, 0, sizeof *box);
    struct mailimap_selection_info *si = c->s->imap_selection_info;
    if (si) {
        box->uidvalidity = si->sel_uidvalidity;
        box->uidnext = si->sel_uidnext;
        box->exists = si->sel_has_exists ? si->sel_exists : 0;
        /* No PERMANENTFLAGS at all means every flag is permanent (RFC 3501
         * 7.1); only a list without \* forbids new keywords. */
        box->keywords_ok = si->sel_perm_flags == NULL;
        for (clistiter *it = si->sel_perm_flags ? clist_begin(si->sel_perm_flags) : NULL; it;
             it = clist_next(it)) {
            struct mailimap_flag_perm *fp = clist_content(it);
            if (fp->fl_type == MAILIMAP_FLAG_PERM_ALL)
                box->keywords_ok = 1;
        }
    }
}

/* INTERNALDATE fields -> seconds since the epoch, keeping the zone. */
static void date_from_imap(const struct mailimap_date_time *d, struct msg_meta *m)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = d->dt_year - 1900;
    tm.tm_mon = d->dt_month - 1;
    tm.tm_mday = d->dt_day;
    tm.tm_hour = d->dt_hour;
    tm.tm_min = d->dt_min;
    tm.tm_sec = d->dt_sec;
    int sign = d->dt_zone < 0 ? -1 : 1;
    int z = d->dt_zone * sign; /* HHMM as a decimal number */
    int tz = sign * ((z / 100) * 60 + z % 100);
    m->date = (int64_t)timegm(&tm) - (int64_t)tz * 60;
    m->date_tz = (int16_t)tz;
}

/* The FLAGS list as the server sent it, in its order, for the flag rules. */
static void add_flag_text(struct sbuf *b, const struct mailimap_msg_att_dynamic *dyn)
{
    for (clistiter *it = dyn->att_list ? clist_begin(dyn->att_list) : NULL; it;
         it = clist_next(it)) {
        struct mailimap_flag_fetch *ff = clist_content(it);
        const char *text = NULL, *word = NULL;
        if (ff->fl_type == MAILIMAP_FLAG_FETCH_RECENT)
            text = "\\Recent";
        else if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER && ff->fl_flag) {
            struct mailimap_flag *fl = ff->fl_flag;
            switch (fl->fl_type) {
            case MAILIMAP_FLAG_ANSWERED:
                text = "\\Answered";
                break;
            case MAILIMAP_FLAG_FLAGGED:
                text = "\\Flagged";
                break;
            case MAILIMAP_FLAG_DELETED:
                text = "\\Deleted";
                break;
            case MAILIMAP_FLAG_SEEN:
                text = "\\Seen";
                break;
            case MAILIMAP_FLAG_DRAFT:
                text = "\\Draft";
                break;
            case MAILIMAP_FLAG_KEYWORD:
                /* libetpan reads a keyword as an astring: "\\Deleted" or a
                 * literal with CR LF would pass for other flags once
                 * joined with blanks, so only a real atom goes on. */
                if (flagrule_is_keyword(fl->fl_data.fl_keyword))
                    text = fl->fl_data.fl_keyword;
                break;
            case MAILIMAP_FLAG_EXTENSION:
                if (flagrule_is_keyword(fl->fl_data.fl_extension))
                    word = fl->fl_data.fl_extension;
                break;
            default:
                break;
            }
        }
        if (text == NULL && word == NULL)
            continue;
        if (b->len)
            sbuf_addc(b, ' ');
        if (word) {
            sbuf_addc(b, '\\');
            sbuf_adds(b, word);
        } else {
            sbuf_adds(b, text);
        }
    }
}

/* m->key from the header block the FETCH returned. */
static void meta_key(const struct imapc *c, const char *hdr, size_t hdrlen, struct msg_meta *m)
{
    int has_msgid;
    msgid_key_from_headers(hdr ? hdr : "", hdr ? hdrlen : 0, m->size, 0, &m->key, &has_msgid);
    char line[64];
    int k = 0;
    if (!has_msgid && c->add_header) {
        /* The key of the line transform_message will put first, so host2's
         * copy (which has it) pairs with this message on the next run. */
        k = snprintf(line, sizeof line, TRANSFORM_ADDHEADER_FMT, (unsigned long)m->uid);
        msgid_key_from_headers(line, (size_t)k, m->size, 0, &m->key, NULL);
    }
    if (c->identity == NULL)
        return;
    /* imapsync's key where its fields are there; host2's copy, which got
     * the --addheader line, holds the same fields. A message with none
     * keeps the key above: it is copied, where imapsync would skip it. */
    if (k > 0) {
        struct sbuf b = SBUF_INIT;
        sbuf_append(&b, line, (size_t)k);
        if (hdr)
            sbuf_append(&b, hdr, hdrlen);
        msgid_key_from_fields(c->identity, b.data, b.len, &m->key);
        sbuf_free(&b);
    } else {
        msgid_key_from_fields(c->identity, hdr, hdr ? hdrlen : 0, &m->key);
    }
}

/* Converts one FETCH response; returns 0 when it has no UID (an unsolicited
 * flag update from another client) and must be skipped. *bare (if not
 * NULL): --wholeheaderifneeded wants the whole header of this message. */
static int convert_meta(const struct imapc *c, const struct mailimap_msg_att *att,
                        struct msg_meta *m, int *bare)
{
    memset(m, 0, sizeof *m);
    const char *hdr = NULL;
    size_t hdrlen = 0;
    int have_uid = 0, have_size = 0, have_date = 0, have_hdr = 0;
    struct sbuf kw = SBUF_INIT;
    for (clistiter *it = clist_begin(att->att_list); it; it = clist_next(it)) {
        struct mailimap_msg_att_item *item = clist_content(it);
        if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
            add_flag_text(&kw, item->att_data.att_dyn);
            continue;
        }
        if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
            continue;
        struct mailimap_msg_att_static *sa = item->att_data.att_static;
        switch (sa->att_type) {
        case MAILIMAP_MSG_ATT_UID:
            m->uid = sa->att_data.att_uid;
            have_uid = 1;
            break;
        case MAILIMAP_MSG_ATT_RFC822_SIZE:
            m->size = sa->att_data.att_rfc822_size;
            have_size = 1;
            break;
        case MAILIMAP_MSG_ATT_INTERNALDATE:
            have_date = 1;
            if (sa->att_data.att_internal_date)
                date_from_imap(sa->att_data.att_internal_date, m);
            break;
        case MAILIMAP_MSG_ATT_BODY_SECTION:
            have_hdr = 1;
            hdr = sa->att_data.att_body_section->sec_body_part;
            hdrlen = sa->att_data.att_body_section->sec_length;
            break;
        default:
            break;
        }
    }
    /* An answer to our FETCH has every item asked for; anything less is
     * unsolicited (another client's flag change) and must neither become
     * a message nor hide the real answer that may follow. */
    if (!have_uid || !have_size || !have_date || !have_hdr) {
        sbuf_free(&kw);
        return 0;
    }
    /* Every flag goes through flagrule_parse, rules or not: libetpan takes
     * a keyword as an astring, so a server can hand us "\\Deleted" or a
     * word with CR LF that must never reach host2's STORE or APPEND. */
    char *raw = sbuf_take(&kw);
    unsigned sysflags = 0;
    char *keywords = NULL;
    if (c->nflag_rules) {
        char *flags = flagrule_rewrite(raw, c->flag_rules, c->nflag_rules);
        flagrule_parse(flags, &sysflags, &keywords);
        free(flags);
    } else {
        flagrule_parse(raw, &sysflags, &keywords);
    }
    m->sysflags = (uint8_t)sysflags;
    m->kw = kwtab_intern(keywords);
    free(keywords);
    free(raw);
    int64_t hdate;
    int htz;
    if (c->date_from_header && hdr && hdrdate_from_headers(hdr, hdrlen, &hdate, &htz) == 0) {
        m->date = hdate;
        m->date_tz = (int16_t)htz;
    }
    meta_key(c, hdr, hdrlen, m);
    if (bare != NULL)
        *bare = c->identity && c->identity->wholeheader && !c->identity->all &&
                !msgid_has_field(hdr, hdr ? hdrlen : 0);
    return 1;
}

/* " (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[...])": today's fields,
 * then the --useheader ones not among them (names were checked by config:
 * field-name characters only, each sent as an atom or quoted); ALL is the
 * whole header. */
static void meta_items(const struct imapc *c, struct sbuf *b)
{
    sbuf_adds(b, " (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER");
    const struct msgid_conf *id = c->identity;
    if (id && id->all) {
        sbuf_adds(b, "])");
        return;
    }
    sbuf_adds(b, ".FIELDS (");
    /* imapsync's default set when --useheader is not given. */
    static const char *const dflt[] = {"Message-Id", "Received"};
    const char *const *f = id && id->nfields ? id->fields : dflt;
    size_t nf = !id ? 0 : id->nfields ? id->nfields : 2;
    for (size_t i = 0; i < msgid_header_count + nf; i++) {
        const char *name =
            i < msgid_header_count ? msgid_header_fields[i] : f[i - msgid_header_count];
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcasecmp(j < msgid_header_count ? msgid_header_fields[j]
                                                    : f[j - msgid_header_count],
                             name) == 0;
        if (dup)
            continue;
        if (i)
            sbuf_addc(b, ' ');
        if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
            strlen(name))
            sbuf_adds(b, name);
        else
            appender_quote(b, name);
    }
    sbuf_adds(b, ")])");
}

static int whole_body(const struct mailimap_msg_att_body_section *sec)
{
    return sec == NULL || sec->sec_section == NULL || sec->sec_section->sec_spec == NULL;
}

/* The UID and the (last) body section of one message's FETCH answer (NULL:
 * none); with whole, only a section of the whole message (BODY[]) counts. */
static struct mailimap_msg_att_body_section *uid_and_section(struct mailimap_msg_att *att,
                                                             int whole, uint32_t *uid)
{
    struct mailimap_msg_att_body_section *body = NULL;
    *uid = 0;
    for (clistiter *j = clist_begin(att->att_list); j; j = clist_next(j)) {
        struct mailimap_msg_att_item *item = clist_content(j);
        if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
            continue;
        struct mailimap_msg_att_static *sa = item->att_data.att_static;
        if (sa->att_type == MAILIMAP_MSG_ATT_UID)
            *uid = sa->att_data.att_uid;
        else if (sa->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
                 (!whole || whole_body(sa->att_data.att_body_section)))
            body = sa->att_data.att_body_section;
    }
    return body;
}

/* --wholeheaderifneeded (imapsync's parse_header_msg): the messages
 * m[idx[0..n)] whose fields came back empty, keyed again from
 * BODY.PEEK[HEADER], for servers that answer HEADER.FIELDS with nothing. */
static int whole_headers(struct imapc *c, struct msg_meta *m, const size_t *idx, size_t n,
                         struct status *st)
{
    if (n == 0)
        return 0;
    struct mailimap_set *set = mailimap_set_new_empty();
    for (size_t i = 0; i < n; i++)
        mailimap_set_add_single(set, m[idx[i]].uid);
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(
        ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new_header()));
    clist *res = NULL;
    int r = mailimap_uid_fetch(c->s, set, ft, &res);
    mailimap_set_free(set);
    mailimap_fetch_type_free(ft);
    if (r != MAILIMAP_NO_ERROR) {
        fail(c, r, STATUS_ERR_FETCH, st, "UID FETCH of whole headers");
        if (status_lost(st))
            return -1;
        /* A refusal costs only the better key: the messages keep theirs. */
        log_out("imapferry: note: %s; keyed from what came back\n", st->msg);
        status_clear(st);
        return 0;
    }
    for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
        uint32_t uid;
        struct mailimap_msg_att_body_section *sec = uid_and_section(clist_content(it), 0, &uid);
        const char *hdr = sec ? sec->sec_body_part : NULL;
        size_t len = sec ? sec->sec_length : 0;
        /* Only the UIDs asked for, each keyed from its own answer. */
        for (size_t i = 0; i < n && hdr; i++)
            if (m[idx[i]].uid == uid && uid != 0)
                meta_key(c, hdr, len, &m[idx[i]]);
    }
    mailimap_fetch_list_free(res);
    return 0;
}

int imapc_fetch_meta(struct imapc *c, uint32_t exists, struct msg_meta **out, size_t *n,
                     struct status *st)
{
    return imapc_fetch_meta_seq(c, 1, exists, out, n, NULL, st);
}

/* FETCH chunks of a metadata listing sent back to back: one in the first
 * round, twice as many in each next one up to META_ROUND, so a folder of
 * thousands of messages takes a few round trips, and a server that
 * announces more messages than it has is asked for little beyond them. */
#define META_ROUND 8

/* A metadata listing in progress: what the answers of a round go into. */
struct meta_list {
    struct imapc *c;
    int later;  /* the round's first command is imapc_status_later's STATUS */
    int by_uid; /* UID FETCH of UID ranges, else FETCH of sequence numbers */
    struct msg_meta *m;
    size_t cnt, cap;
    /* Messages the listing expects (the sequence range asked, or what the
     * SELECT announced; at most META_RESERVE): m is sized for them at once
     * rather than doubled up to them, a copy of the array each time. */
    size_t want;
    size_t *bare, nbare, bare_cap; /* want their whole header (whole_headers) */
    uint64_t lo[META_ROUND], hi[META_ROUND];
    size_t nf;     /* FETCHes in the round */
    size_t fetch0; /* the round's first FETCH: 1 after a SELECT */
    int selected;  /* that SELECT was answered OK */
    int refused;   /* a FETCH of the round was refused */
    char why[256]; /* the first refusal's text */
    /* Sequence numbers of the round answered, and per chunk how many: a
     * server may run pipelined FETCHes at once, so an answer can come
     * with another command's. */
    unsigned char got[META_ROUND * META_CHUNK];
    size_t ngot[META_ROUND];
    uint64_t chunk; /* messages per FETCH (META_CHUNK) */
};

/* Beyond this many messages the array doubles again: a server that
 * announces billions gets no more address space than this up front. */
#define META_RESERVE ((size_t)1 << 22)

static void meta_expect(struct meta_list *l, uint64_t n)
{
    /* (a UID range may be sparse: its size says nothing) */
    if (!l->by_uid)
        l->want = n < META_RESERVE ? (size_t)n : META_RESERVE;
}

/* IMAPFERRY_TEST_META_CHUNK (a hidden test hook, as crashpoint's) makes
 * the FETCHes of a listing a few messages long, so that a small folder is
 * listed in rounds of several FETCHes. */
static uint64_t meta_chunk_size(void)
{
    const char *v = getenv("IMAPFERRY_TEST_META_CHUNK");
    char *end;
    long n = v && *v ? strtol(v, &end, 10) : 0;
    return n > 0 && n <= META_CHUNK && *end == '\0' ? (uint64_t)n : META_CHUNK;
}

/* Answers of the round's FETCHes into l, whichever command they came with. */
static void meta_chunk(struct meta_list *l, clist *res)
{
    uint64_t lo = l->lo[0], hi = l->hi[l->nf - 1];
    for (clistiter *it = res ? clist_begin(res) : NULL; it; it = clist_next(it)) {
        struct mailimap_msg_att *att = clist_content(it);
        /* Only answers for what was asked, one each: an unsolicited FETCH
         * (another client's flag change, or a hostile server's phantom)
         * must not become a message to copy. */
        if (!l->by_uid &&
            (att->att_number < lo || att->att_number > hi || l->got[att->att_number - lo]))
            continue;
        if (l->cnt == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 16;
            if (l->cap < l->want)
                l->cap = l->want;
            l->m = sbuf_xrealloc(l->m, l->cap * sizeof *l->m);
        }
        struct msg_meta *m = &l->m[l->cnt];
        int b = 0;
        if (!convert_meta(l->c, att, m, &b))
            continue;
        if (l->by_uid && (m->uid < lo || m->uid > hi))
            continue;
        uint64_t at = (l->by_uid ? m->uid : att->att_number) - lo;
        l->ngot[at / l->chunk < l->nf ? at / l->chunk : l->nf - 1]++;
        if (!l->by_uid)
            l->got[at] = 1;
        if (b) {
            if (l->nbare == l->bare_cap) {
                l->bare_cap = l->bare_cap ? l->bare_cap * 2 : 16;
                l->bare = sbuf_xrealloc(l->bare, l->bare_cap * sizeof *l->bare);
            }
            l->bare[l->nbare++] = l->cnt;
        }
        l->cnt++;
    }
}

static void meta_answer(void *ctx, size_t i, int refused)
{
    struct meta_list *l = ctx;
    struct mailimap_response_info *ri = l->c->s->imap_response_info;
    clist *res = ri ? ri->rsp_fetch_list : NULL;
    if (ri)
        ri->rsp_fetch_list = NULL;
    if (l->later && i == 0) {
        /* (what came with it, of the folder selected before, is dropped) */
        struct imapc *c = l->c;
        c->later_ok = status_answer(c, c->later_name, refused, &c->later_got);
        if (res)
            mailimap_fetch_list_free(res);
        return;
    }
    if (refused && !l->why[0])
        snprintf(l->why, sizeof l->why, "%s", server_text(l->c));
    if (i < l->fetch0)
        l->selected = !refused;
    else if (refused)
        l->refused = 1;
    else if (l->selected) /* after a failed SELECT, nothing answered is of this folder */
        meta_chunk(l, res);
    if (res)
        mailimap_fetch_list_free(res);
}

static void meta_list_drop(struct meta_list *l)
{
    imapc_meta_free(l->m, l->cnt);
    l->m = NULL;
    l->cnt = l->cap = 0;
    l->nbare = 0;
}

/* Lists first..last in rounds of META_ROUND chunks. select_cmd (or NULL)
 * goes first, in the first round: then last is only a guess, and the
 * listing goes on to what the SELECT announced (box gets it). */
static int meta_rounds(struct meta_list *l, const char *select_cmd, int readonly,
                       struct imapc_box *box, uint64_t first, uint64_t last, int *ended,
                       struct status *st)
{
    struct imapc *c = l->c;
    l->chunk = meta_chunk_size();
    struct sbuf items = SBUF_INIT;
    meta_items(c, &items);
    meta_expect(l, last >= first ? last - first + 1 : 0);
    int rc = 0;
    for (int round = 0; rc == 0; round++) {
        const char *sel = round == 0 ? select_cmd : NULL;
        const char *cmds[META_ROUND + 2];
        struct sbuf cmd[META_ROUND];
        struct sbuf later = SBUF_INIT;
        size_t k = 0, nf = 0;
        /* Before the SELECT, while the folder it asks about may still be
         * the selected one: after it, a server could run the two at once. */
        l->later = sel && c->later_name && !c->later_sent;
        if (l->later) {
            sbuf_adds(&later, "STATUS ");
            appender_quote(&later, c->later_name);
            sbuf_adds(&later, status_items(c));
            cmds[k++] = later.data;
            c->later_sent = 1;
        }
        if (sel)
            cmds[k++] = sel;
        l->fetch0 = k;
        size_t most = round < 3 ? (size_t)1 << round : META_ROUND;
        for (; nf < most && first <= last; nf++) {
            uint64_t hi = last - first < l->chunk ? last : first + l->chunk - 1;
            l->lo[nf] = first;
            l->hi[nf] = hi;
            cmd[nf] = (struct sbuf)SBUF_INIT;
            sbuf_addf(&cmd[nf], "%sFETCH %llu:%llu", l->by_uid ? "UID " : "",
                      (unsigned long long)first, (unsigned long long)hi);
            sbuf_append(&cmd[nf], items.data, items.len);
            cmds[k++] = cmd[nf].data;
            first = hi + 1;
        }
        if (k == 0)
            break;
        l->nf = nf;
        l->selected = 1;
        l->refused = 0;
        memset(l->got, 0, sizeof l->got);
        memset(l->ngot, 0, sizeof l->ngot);
        l->why[0] = '\0';
        if (sel) {
            /* as libetpan's own SELECT: figures of this folder only */
            if (c->s->imap_selection_info)
                mailimap_selection_info_free(c->s->imap_selection_info);
            c->s->imap_selection_info = mailimap_selection_info_new();
        }
        int r = appender_pipeline(c->s, cmds, k, meta_answer, l);
        for (size_t j = 0; j < nf; j++)
            sbuf_free(&cmd[j]);
        sbuf_free(&later);
        l->later = 0;
        const char *what = !sel ? "FETCH of message metadata" : readonly ? "EXAMINE" : "SELECT";
        if (r != MAILIMAP_NO_ERROR) {
            rc = fail(c, r, sel ? STATUS_ERR_SELECT : STATUS_ERR_FETCH, st, what);
            break;
        }
        if (sel && !l->selected) {
            mailimap_selection_info_free(c->s->imap_selection_info);
            c->s->imap_selection_info = NULL;
            c->s->imap_state = MAILIMAP_STATE_AUTHENTICATED;
            rc = status_set(st, STATUS_ERR_SELECT, "%s: %s: %s", c->label, what, l->why);
            break;
        }
        if (sel) {
            c->s->imap_state = MAILIMAP_STATE_SELECTED;
            box_from_session(c, box);
            if (l->refused || last > box->exists) {
                /* The guess went past what the folder holds now: what was
                 * refused or left out is asked again, by the SELECT's word. */
                meta_list_drop(l);
                first = 1;
            }
            last = box->exists;
            meta_expect(l, last);
            l->refused = 0;
        } else if (l->refused) {
            rc = status_set(st, STATUS_ERR_FETCH, "%s: %s: %s", c->label, what, l->why);
            break;
        }
        if (whole_headers(c, l->m, l->bare, l->nbare, st) < 0) {
            rc = -1;
            break;
        }
        l->nbare = 0;
        /* A server that announced more messages than it has answers
         * nothing for a whole chunk: stop there rather than ask for
         * billions. */
        /* (the guess of a SELECT round may go past the folder: only what
         * the SELECT announced counts there) */
        int empty = 0;
        for (size_t j = 0; j < nf && !l->by_uid && !sel; j++)
            empty |= l->ngot[j] == 0;
        if (empty) {
            if (ended)
                *ended = 1;
            break;
        }
    }
    sbuf_free(&items);
    free(l->bare);
    l->bare = NULL;
    if (rc < 0)
        meta_list_drop(l);
    return rc;
}

int imapc_fetch_meta_seq(struct imapc *c, uint32_t first, uint32_t last, struct msg_meta **out,
                         size_t *n, int *ended, struct status *st)
{
    if (ended)
        *ended = 0;
    struct meta_list l = {.c = c};
    int rc = meta_rounds(&l, NULL, 0, NULL, first ? first : 1, last, ended, st);
    *out = l.m;
    *n = l.cnt;
    return rc;
}

int imapc_select_meta(struct imapc *c, const char *name, int readonly, uint32_t guess,
                      struct imapc_box *box, struct msg_meta **out, size_t *n, struct status *st)
{
    *out = NULL;
    *n = 0;
    if (!quotable(name)) { /* sent as libetpan sends it */
        if (imapc_select(c, name, readonly, box, st) < 0)
            return -1;
        return imapc_fetch_meta(c, box->exists, out, n, st);
    }
    memset(box, 0, sizeof *box);
    struct sbuf sel = SBUF_INIT;
    sbuf_adds(&sel, readonly ? "EXAMINE " : "SELECT ");
    appender_quote(&sel, name);
    struct meta_list l = {.c = c};
    int rc = meta_rounds(&l, sel.data, readonly, box, 1, guess, NULL, st);
    sbuf_free(&sel);
    *out = l.m;
    *n = l.cnt;
    return rc;
}

static int cmp_meta_uid(const void *a, const void *b)
{
    uint32_t x = ((const struct msg_meta *)a)->uid, y = ((const struct msg_meta *)b)->uid;
    return (x > y) - (x < y);
}

int imapc_fetch_meta_uids(struct imapc *c, uint32_t first, uint32_t next, struct msg_meta **out,
                          size_t *n, struct status *st)
{
    *out = NULL;
    *n = 0;
    if (first == 0)
        first = 1;
    if (next <= first)
        return 0;
    /* Explicit UID ranges, never "first:*": "*" stands for the highest UID
     * there is, so an old message would come back when nothing is new. */
    struct meta_list l = {.c = c, .by_uid = 1};
    if (meta_rounds(&l, NULL, 0, NULL, first, (uint64_t)next - 1, NULL, st) < 0)
        return -1;
    /* ... and each once. */
    qsort(l.m, l.cnt, sizeof *l.m, cmp_meta_uid);
    size_t k = 0;
    for (size_t i = 0; i < l.cnt; i++)
        if (k == 0 || l.m[k - 1].uid != l.m[i].uid)
            l.m[k++] = l.m[i];
    *out = l.m;
    *n = k;
    return 0;
}

int imapc_changed_since(struct imapc *c, uint32_t below, uint64_t modseq, size_t *n,
                        struct status *st)
{
    *n = 0;
    if (below <= 1)
        return 0;
    if (!mailimap_has_condstore(c->s) || modseq == 0)
        return status_set(st, STATUS_ERR_FETCH, "%s: no CONDSTORE, so no CHANGEDSINCE", c->label);
    struct mailimap_set *set = mailimap_set_new_interval(1, below - 1);
    struct mailimap_fetch_type *ft =
        mailimap_fetch_type_new_fetch_att(mailimap_fetch_att_new_uid());
    clist *res = NULL;
    int r = mailimap_uid_fetch_changedsince(c->s, set, ft, modseq, &res);
    mailimap_set_free(set);
    mailimap_fetch_type_free(ft);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_FETCH, st, "UID FETCH CHANGEDSINCE");
    /* Any answer counts, solicited or not: an unsolicited FETCH is a
     * change too, and a false alarm costs only a full compare. */
    *n = clist_count(res);
    mailimap_fetch_list_free(res);
    return 0;
}

/* UID and flags of one CHANGEDSINCE answer (0: no UID, unsolicited). */
static int convert_change(const struct imapc *c, const struct mailimap_msg_att *att,
                          struct imapc_flag_change *out)
{
    memset(out, 0, sizeof *out);
    int have_uid = 0, have_flags = 0;
    struct sbuf kw = SBUF_INIT;
    for (clistiter *it = clist_begin(att->att_list); it; it = clist_next(it)) {
        struct mailimap_msg_att_item *item = clist_content(it);
        if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
            add_flag_text(&kw, item->att_data.att_dyn);
            have_flags = 1;
        } else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
                   item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID) {
            out->uid = item->att_data.att_static->att_data.att_uid;
            have_uid = 1;
        }
    }
    char *raw = sbuf_take(&kw);
    if (have_uid && have_flags && c->nflag_rules) {
        char *flags = flagrule_rewrite(raw ? raw : "", c->flag_rules, c->nflag_rules);
        flagrule_parse(flags, &out->sysflags, &out->keywords);
        free(flags);
    } else if (have_uid && have_flags) {
        flagrule_parse(raw ? raw : "", &out->sysflags, &out->keywords);
    }
    free(raw);
    return have_uid && have_flags;
}

int imapc_changed_flags(struct imapc *c, uint32_t below, uint64_t modseq,
                        struct imapc_flag_change **out, size_t *n, struct status *st)
{
    *out = NULL;
    *n = 0;
    if (below <= 1)
        return 0;
    if (!mailimap_has_condstore(c->s) || modseq == 0)
        return status_set(st, STATUS_ERR_FETCH, "%s: no CONDSTORE, so no CHANGEDSINCE", c->label);
    struct mailimap_set *set = mailimap_set_new_interval(1, below - 1);
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
    clist *res = NULL;
    int r = mailimap_uid_fetch_changedsince(c->s, set, ft, modseq, &res);
    mailimap_set_free(set);
    mailimap_fetch_type_free(ft);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_FETCH, st, "UID FETCH CHANGEDSINCE");
    size_t cnt = 0;
    struct imapc_flag_change *ch = sbuf_xcalloc(clist_count(res) + 1, sizeof *ch);
    for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
        /* An answer without a UID is another client's change as it
         * happens: it counts too (a false alarm costs a full compare). */
        if (!convert_change(c, clist_content(it), &ch[cnt]) || ch[cnt].uid >= below) {
            free(ch[cnt].keywords);
            ch[cnt].keywords = NULL; /* imapc_flag_changes_free frees it again */
            ch[cnt].uid = 0;
        }
        cnt++;
    }
    mailimap_fetch_list_free(res);
    *out = ch;
    *n = cnt;
    return 0;
}

int imapc_has_qresync(const struct imapc *c)
{
    return c && c->qresync;
}

/* Adds a VANISHED answer's UID set to g, each range cut to 1..below-1. */
static void add_vanished(const struct mailimap_qresync_vanished *v, uint32_t below,
                         struct imapc_uid_range **g, size_t *n, size_t *cap)
{
    if (v == NULL || v->qr_known_uids == NULL || v->qr_known_uids->set_list == NULL)
        return;
    for (clistiter *it = clist_begin(v->qr_known_uids->set_list); it; it = clist_next(it)) {
        const struct mailimap_set_item *item = clist_content(it);
        /* 0 is libetpan's "*", which RFC 7162 forbids here: the top */
        uint32_t a = item->set_first ? item->set_first : below - 1;
        uint32_t b = item->set_last ? item->set_last : below - 1;
        if (a > b) {
            uint32_t t = a;
            a = b;
            b = t;
        }
        if (a >= below)
            continue;
        if (b >= below)
            b = below - 1;
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 8;
            *g = sbuf_xrealloc(*g, *cap * sizeof **g);
        }
        (*g)[(*n)++] = (struct imapc_uid_range){a, b};
    }
}

int imapc_changed_vanished(struct imapc *c, uint32_t below, uint64_t modseq,
                           struct imapc_flag_change **out, size_t *n, struct imapc_uid_range **gone,
                           size_t *ngone, struct status *st)
{
    *out = NULL;
    *n = 0;
    *gone = NULL;
    *ngone = 0;
    if (below <= 1)
        return 0;
    if (!c->qresync || modseq == 0)
        return status_set(st, STATUS_ERR_FETCH, "%s: QRESYNC is not enabled, so no VANISHED",
                          c->label);
    struct mailimap_set *set = mailimap_set_new_interval(1, below - 1);
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
    clist *res = NULL;
    struct mailimap_qresync_vanished *v = NULL;
    int r = mailimap_uid_fetch_qresync(c->s, set, ft, modseq, &res, &v);
    mailimap_set_free(set);
    mailimap_fetch_type_free(ft);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_FETCH, st, "UID FETCH CHANGEDSINCE VANISHED");
    size_t cap = 0;
    add_vanished(v, below, gone, ngone, &cap);
    if (v)
        mailimap_qresync_vanished_free(v);
    /* libetpan hands over the first VANISHED answer only; a server may
     * split the set over several, and they are still in the response. */
    struct mailimap_response_info *ri = c->s->imap_response_info;
    for (clistiter *it = ri ? clist_begin(ri->rsp_extension_list) : NULL; it; it = clist_next(it)) {
        struct mailimap_extension_data *ext = clist_content(it);
        if (ext->ext_extension->ext_id == MAILIMAP_EXTENSION_QRESYNC &&
            ext->ext_type == MAILIMAP_QRESYNC_TYPE_VANISHED)
            add_vanished(ext->ext_data, below, gone, ngone, &cap);
    }
    size_t cnt = 0;
    struct imapc_flag_change *ch = sbuf_xcalloc(clist_count(res) + 1, sizeof *ch);
    for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
        /* As in imapc_changed_flags: an answer naming no UID below
         * `below` is a change the caller cannot place. */
        if (!convert_change(c, clist_content(it), &ch[cnt]) || ch[cnt].uid >= below) {
            free(ch[cnt].keywords);
            ch[cnt].keywords = NULL;
            ch[cnt].uid = 0;
        }
        cnt++;
    }
    mailimap_fetch_list_free(res);
    *out = ch;
    *n = cnt;
    return 0;
}

void imapc_flag_changes_free(struct imapc_flag_change *ch, size_t n)
{
    for (size_t i = 0; ch && i < n; i++)
        free(ch[i].keywords);
    free(ch);
}

void imapc_meta_free(struct msg_meta *m, size_t n)
{
    (void)n; /* the keywords belong to kwtab */
    free(m);
}

int imapc_fetch_body(struct imapc *c, uint32_t uid, char **data, size_t *len, struct status *st)
{
    struct imapc_body body = {NULL, 0};
    struct imapc_ticket t;
    if (imapc_fetch_bodies_send(c, &uid, 1, &t, st) < 0 ||
        imapc_fetch_bodies_recv(c, &t, &uid, 1, &body, NULL, 0, NULL, st) < 0)
        return -1;
    *data = body.data;
    *len = body.len;
    if (body.data == NULL)
        return status_set(st, STATUS_ERR_FETCH,
                          "%s: message UID %u could not be fetched (gone, or no body returned)",
                          c->label, uid);
    return 0;
}

void imapc_body_free(char *data)
{
    if (data)
        mailimap_nstring_free(data);
}

static struct mailimap_flag_list *flag_list(unsigned sysflags, const char *keywords)
{
    struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
    if (sysflags & MSG_SEEN)
        mailimap_flag_list_add(fl, mailimap_flag_new_seen());
    if (sysflags & MSG_ANSWERED)
        mailimap_flag_list_add(fl, mailimap_flag_new_answered());
    if (sysflags & MSG_FLAGGED)
        mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
    if (sysflags & MSG_DELETED)
        mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
    if (sysflags & MSG_DRAFT)
        mailimap_flag_list_add(fl, mailimap_flag_new_draft());
    if (keywords) {
        const char *p = keywords;
        while (*p) {
            const char *e = strchr(p, ' ');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n)
                mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(sbuf_xstrndup(p, n)));
            p += n;
            while (*p == ' ')
                p++;
        }
    }
    return fl;
}

/* UIDs per STORE: keeps the command line near imapsync's 1000 characters
 * even when no two UIDs are consecutive. */
#define STORE_CHUNK 100

/* Sorted UIDs in runs of at most STORE_CHUNK ranges per command: calls
 * send(set) for each command's set until one fails. */
static int by_uid_sets(struct imapc *c, const uint32_t *uids, size_t n,
                       int (*send)(struct imapc *, struct mailimap_set *, void *), void *arg)
{
    uint32_t *sorted = sbuf_xmalloc((n ? n : 1) * sizeof *sorted);
    memcpy(sorted, uids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_uid);
    int r = MAILIMAP_NO_ERROR;
    for (size_t i = 0; i < n && r == MAILIMAP_NO_ERROR;) {
        struct mailimap_set *set = mailimap_set_new_empty();
        for (size_t k = 0; k < STORE_CHUNK && i < n; k++) {
            uint32_t first = sorted[i], last = sorted[i];
            while (++i < n && sorted[i] == last + 1)
                last = sorted[i];
            mailimap_set_add_interval(set, first, last);
        }
        r = send(c, set, arg);
        mailimap_set_free(set);
    }
    free(sorted);
    return r;
}

static int store_set(struct imapc *c, struct mailimap_set *set, void *arg)
{
    struct mailimap_store_att_flags *sa = arg;
    return mailimap_uid_store(c->s, set, sa);
}

int imapc_store_flags(struct imapc *c, const uint32_t *uids, size_t n, unsigned sysflags,
                      const char *keywords, struct status *st)
{
    struct mailimap_store_att_flags *sa =
        mailimap_store_att_flags_new_set_flags_silent(flag_list(sysflags, keywords));
    int r = by_uid_sets(c, uids, n, store_set, sa);
    mailimap_store_att_flags_free(sa);
    return r == MAILIMAP_NO_ERROR ? 0 : fail(c, r, STATUS_ERR_FLAGS, st, "STORE of flags");
}

/* imapc_fetch_sizes' answers, matched to the UIDs asked for. */
struct sizes_ask {
    uint64_t *by_uid; /* (uid << 32 | index), sorted: answers found by UID */
    size_t n;
    uint64_t *out;
    unsigned char *got;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int sizes_set(struct imapc *c, struct mailimap_set *set, void *arg)
{
    struct sizes_ask *a = arg;
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
    clist *res = NULL;
    int r = mailimap_uid_fetch(c->s, set, ft, &res);
    mailimap_fetch_type_free(ft);
    if (r != MAILIMAP_NO_ERROR)
        return r;
    for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
        struct mailimap_msg_att *att = clist_content(it);
        uint32_t uid = 0, size = 0;
        int have_size = 0;
        for (clistiter *j = clist_begin(att->att_list); j; j = clist_next(j)) {
            struct mailimap_msg_att_item *item = clist_content(j);
            if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
                continue;
            if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
                uid = item->att_data.att_static->att_data.att_uid;
            else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
                size = item->att_data.att_static->att_data.att_rfc822_size;
                have_size = 1;
            }
        }
        size_t lo = 0, hi = a->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((a->by_uid[mid] >> 32) < uid)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; have_size && lo < a->n && (a->by_uid[lo] >> 32) == uid; lo++) {
            size_t i = (size_t)(a->by_uid[lo] & 0xffffffffu);
            a->out[i] = size;
            a->got[i] = 1;
        }
    }
    mailimap_fetch_list_free(res);
    return MAILIMAP_NO_ERROR;
}

int imapc_fetch_sizes(struct imapc *c, const uint32_t *uids, size_t n, uint64_t *out,
                      struct status *st)
{
    if (n == 0)
        return 0;
    struct sizes_ask a = {sbuf_xcalloc(n, sizeof(uint64_t)), n, out, sbuf_xcalloc(n, 1)};
    for (size_t i = 0; i < n; i++)
        a.by_uid[i] = (uint64_t)uids[i] << 32 | i;
    qsort(a.by_uid, n, sizeof *a.by_uid, cmp_u64);
    int r = by_uid_sets(c, uids, n, sizes_set, &a);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += !a.got[i];
    free(a.got);
    free(a.by_uid);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_FETCH, st, "UID FETCH RFC822.SIZE");
    if (missing)
        return status_set(st, STATUS_ERR_FETCH, "%s: %zu of %zu messages asked for are not there",
                          c->label, missing, n);
    return 0;
}

int imapc_mark_deleted(struct imapc *c, const uint32_t *uids, size_t n, struct status *st)
{
    struct mailimap_store_att_flags *sa =
        mailimap_store_att_flags_new_add_flags_silent(flag_list(MSG_DELETED, NULL));
    int r = by_uid_sets(c, uids, n, store_set, sa);
    mailimap_store_att_flags_free(sa);
    return r == MAILIMAP_NO_ERROR ? 0 : fail(c, r, STATUS_ERR_FLAGS, st, "STORE of \\Deleted");
}

static int expunge_set(struct imapc *c, struct mailimap_set *set, void *arg)
{
    (void)arg;
    return mailimap_uid_expunge(c->s, set);
}

int imapc_uid_expunge(struct imapc *c, const uint32_t *uids, size_t n, struct status *st)
{
    if (!mailimap_has_extension(c->s, "UIDPLUS"))
        return status_set(st, STATUS_OTHER, "%s: no UIDPLUS, so no UID EXPUNGE", c->label);
    int r = by_uid_sets(c, uids, n, expunge_set, NULL);
    return r == MAILIMAP_NO_ERROR ? 0 : fail(c, r, STATUS_OTHER, st, "UID EXPUNGE");
}

/* Takes the body of uid into the first NULL out[i] of uids[i] == uid. */
static int take_body(uint32_t uid, struct mailimap_msg_att_body_section *body, const uint32_t *uids,
                     size_t n, struct imapc_body *out)
{
    for (size_t i = 0; i < n; i++) {
        if (uids[i] == uid && out[i].data == NULL) {
            /* Take the buffer instead of copying it. */
            out[i].data = body->sec_body_part;
            out[i].len = body->sec_length;
            body->sec_body_part = NULL;
            return 1;
        }
    }
    return 0;
}

int imapc_fetch_bodies_send(struct imapc *c, const uint32_t *uids, size_t n,
                            struct imapc_ticket *ticket, struct status *st)
{
    *ticket = (struct imapc_ticket){0, n, NULL};
    if (n == 0)
        return 0;
    /* "UID FETCH a,b:c (UID BODY.PEEK[])": runs of consecutive UIDs as
     * ranges keep the line short. */
    struct sbuf cmd = SBUF_INIT;
    sbuf_adds(&cmd, "UID FETCH ");
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && uids[j + 1] == uids[j] + 1)
            j++;
        sbuf_addf(&cmd, i ? ",%lu" : "%lu", (unsigned long)uids[i]);
        if (j > i)
            sbuf_addf(&cmd, ":%lu", (unsigned long)uids[j]);
        i = j + 1;
    }
    sbuf_adds(&cmd, " (UID BODY.PEEK[])");
    int r = appender_send(c->s, cmd.data, &ticket->tag);
    sbuf_free(&cmd);
    return r == MAILIMAP_NO_ERROR ? 0 : fail(c, r, STATUS_ERR_FETCH, st, "FETCH of messages");
}

int imapc_fetch_bodies_recv(struct imapc *c, const struct imapc_ticket *ticket,
                            const uint32_t *uids, size_t n, struct imapc_body *out,
                            const uint32_t *more_uids, size_t more_n, struct imapc_body *more_out,
                            struct status *st)
{
    if (n == 0)
        return 0;
    int refused = 0;
    int r = appender_read(c->s, ticket->tag, &refused);
    struct mailimap_response_info *ri = c->s->imap_response_info;
    clist *res = r == MAILIMAP_NO_ERROR && ri ? ri->rsp_fetch_list : NULL;
    if (res)
        ri->rsp_fetch_list = NULL;
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_FETCH, st, "FETCH of messages");
    for (clistiter *it = res ? clist_begin(res) : NULL; it; it = clist_next(it)) {
        uint32_t uid;
        struct mailimap_msg_att_body_section *body = uid_and_section(clist_content(it), 0, &uid);
        if (body && body->sec_body_part && !take_body(uid, body, uids, n, out))
            take_body(uid, body, more_uids, more_n, more_out);
    }
    if (res)
        mailimap_fetch_list_free(res);
    if (refused)
        return status_set(st, STATUS_ERR_FETCH, "%s: FETCH of messages: %s", c->label,
                          server_text(c));
    return 0;
}

/* UIDs per digest FETCH: one command line of bounded length. */
#define DIGEST_CHUNK 100

/* One body's digest, known by the section object libetpan parses it into:
 * the body handler sees the bytes but not the message's UID, which may
 * come after the body and is read from the answers once the command is
 * done (libetpan 1.9.4 calls a per-message handler only when a progress
 * callback is set). */
struct digest_seen {
    const void *sec;
    unsigned char md[32];
};

/* What the body handler fills during one UID FETCH. */
struct digesting {
    struct tls_sha256 *h;
    const void *cur; /* the section being hashed, NULL before the first */
    struct digest_seen *seen;
    size_t nseen, cap;
};

static void digest_close(struct digesting *d)
{
    if (d->cur == NULL)
        return;
    if (d->nseen == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->seen = sbuf_xrealloc(d->seen, d->cap * sizeof *d->seen);
    }
    d->seen[d->nseen].sec = d->cur;
    tls_sha256_final(d->h, d->seen[d->nseen].md);
    d->nseen++;
    d->cur = NULL;
}

/* libetpan hands over a literal's bytes as they are read; with this
 * handler set it keeps none of them. */
static bool digest_bytes(int type, struct mailimap_msg_att_body_section *sec, const char *bytes,
                         size_t len, void *ctx)
{
    struct digesting *d = ctx;
    if (type != MAILIMAP_MSG_ATT_BODY_SECTION || sec == NULL || !whole_body(sec))
        return true;
    if (sec != d->cur) {
        digest_close(d);
        d->cur = sec;
    }
    tls_sha256_update(d->h, bytes, len);
    return true;
}

static int seen_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct digest_seen *)a)->sec;
    uintptr_t y = (uintptr_t)((const struct digest_seen *)b)->sec;
    return (x > y) - (x < y);
}

/* Binds the digests of one answer to its UIDs: out[i] for uids[i], the
 * first answer for a UID asked for, nothing else. */
static void digest_bind(struct digesting *d, clist *res, const uint32_t *uids, size_t n,
                        unsigned char (*out)[32], unsigned char *got)
{
    digest_close(d);
    /* Every section of the answer is alive until res is freed, so no two
     * share an address. */
    qsort(d->seen, d->nseen, sizeof *d->seen, seen_cmp);
    for (clistiter *it = res ? clist_begin(res) : NULL; it; it = clist_next(it)) {
        uint32_t uid;
        struct mailimap_msg_att_body_section *body = uid_and_section(clist_content(it), 1, &uid);
        /* NIL is no body; an empty literal never reached the handler. */
        if (body == NULL || body->sec_body_part == NULL || uid == 0)
            continue;
        size_t i = 0;
        while (i < n && (uids[i] != uid || got[i]))
            i++;
        if (i == n)
            continue;
        struct digest_seen key = {.sec = body};
        const struct digest_seen *f =
            d->nseen ? bsearch(&key, d->seen, d->nseen, sizeof key, seen_cmp) : NULL;
        if (f) {
            memcpy(out[i], f->md, 32);
        } else {
            tls_sha256_reset(d->h);
            tls_sha256_final(d->h, out[i]);
        }
        got[i] = 1;
    }
}

int imapc_fetch_digests(struct imapc *c, const uint32_t *uids, size_t n, unsigned char (*out)[32],
                        struct status *st)
{
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return 0;
    struct digesting d = {.h = tls_sha256_new()};
    unsigned char *got = sbuf_xcalloc(n, 1);
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(
        ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
    int r = MAILIMAP_NO_ERROR;
    for (size_t lo = 0; lo < n && r == MAILIMAP_NO_ERROR; lo += DIGEST_CHUNK) {
        size_t k = n - lo < DIGEST_CHUNK ? n - lo : DIGEST_CHUNK;
        struct mailimap_set *set = mailimap_set_new_empty();
        for (size_t i = 0; i < k; i++)
            mailimap_set_add_single(set, uids[lo + i]);
        d.cur = NULL;
        d.nseen = 0;
        tls_sha256_reset(d.h);
        mailimap_set_msg_body_handler(c->s, digest_bytes, &d);
        clist *res = NULL;
        r = mailimap_uid_fetch(c->s, set, ft, &res);
        mailimap_set_msg_body_handler(c->s, NULL, NULL);
        mailimap_set_free(set);
        if (r == MAILIMAP_NO_ERROR) {
            digest_bind(&d, res, uids + lo, k, out + lo, got + lo);
            mailimap_fetch_list_free(res);
        }
    }
    mailimap_fetch_type_free(ft);
    free(got);
    free(d.seen);
    tls_sha256_free(d.h);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_FETCH, st, "FETCH of messages for their digests");
    return 0;
}

int imapc_can_batch(const struct imapc *c, size_t *max_per_command)
{
    if (!mailimap_has_extension(c->s, "LITERAL+"))
        return 0;
    *max_per_command = mailimap_has_extension(c->s, "MULTIAPPEND") ? SIZE_MAX : 1;
    return 1;
}

/* Turns the appender's answer into our status: a libetpan error ends the
 * session, a NO refuses the messages. */
/* Room for the APPENDUIDs of the next APPEND of n messages. */
static struct appender_uids *expect_uids(struct imapc *c, size_t n)
{
    if (n > c->appended_cap) {
        free(c->appended.uids);
        c->appended.uids = sbuf_xcalloc(n, sizeof *c->appended.uids);
        c->appended_cap = n;
    }
    c->appended.n = n;
    c->appended.ok = 0;
    return &c->appended;
}

size_t imapc_appended_uids(const struct imapc *c, uint32_t *validity, const uint32_t **uids)
{
    if (!c->appended.ok)
        return 0;
    *validity = c->appended.validity;
    *uids = c->appended.uids;
    return c->appended.n;
}

static int appended(struct imapc *c, int r, int refused, const char *mailbox, size_t n,
                    struct status *st)
{
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_APPEND, st, "APPEND");
    if (refused)
        return status_set(st, STATUS_ERR_APPEND, "%s: APPEND of %zu message%s to %s: %s", c->label,
                          n, n == 1 ? "" : "s", mailbox, server_text(c));
    return 0;
}

int imapc_append_send(struct imapc *c, const char *mailbox, const struct msg_meta *const *m,
                      const struct imapc_body *bodies, size_t n, int keywords_ok,
                      struct imapc_ticket *ticket, struct status *st)
{
    const char **data = sbuf_xcalloc(n, sizeof *data);
    size_t *len = sbuf_xcalloc(n, sizeof *len);
    for (size_t i = 0; i < n; i++) {
        data[i] = bodies[i].data;
        len[i] = bodies[i].len;
    }
    *ticket = (struct imapc_ticket){0, n, mailbox};
    int r = appender_batch_send(c->s, mailbox, m, data, len, n, keywords_ok, &ticket->tag);
    free(data);
    free(len);
    return appended(c, r, 0, mailbox, n, st);
}

int imapc_append_wait(struct imapc *c, const struct imapc_ticket *ticket, struct status *st)
{
    int refused = 0;
    int r = appender_wait(c->s, ticket->tag, &refused, expect_uids(c, ticket->n));
    return appended(c, r, refused, ticket->mailbox, ticket->n, st);
}

int imapc_append(struct imapc *c, const char *mailbox, const struct msg_meta *m, int keywords_ok,
                 const char *data, size_t len, struct status *st)
{
    int refused = 0;
    int r = appender_one(c->s, mailbox, m, keywords_ok, data, len, &refused, expect_uids(c, 1));
    return appended(c, r, refused, mailbox, 1, st);
}

int imapc_has_uidplus(const struct imapc *c)
{
    return mailimap_has_extension(c->s, "UIDPLUS");
}

int imapc_expunge(struct imapc *c, struct status *st)
{
    int r = mailimap_expunge(c->s);
    return r == MAILIMAP_NO_ERROR ? 0 : fail(c, r, STATUS_OTHER, st, "EXPUNGE");
}

int imapc_unsubscribe(struct imapc *c, const char *name, struct status *st)
{
    int r = mailimap_unsubscribe(c->s, name);
    return r == MAILIMAP_NO_ERROR ? 0 : fail(c, r, STATUS_OTHER, st, "UNSUBSCRIBE");
}

int imapc_delete(struct imapc *c, const char *name, struct status *st)
{
    int r = mailimap_delete(c->s, name);
    return r == MAILIMAP_NO_ERROR ? 0 : fail(c, r, STATUS_OTHER, st, "DELETE");
}

/* libetpan reads X-GM-LABELS as astrings, so Gmail's unquoted system
 * labels (\Inbox, \Important) fail its parse and with it the whole FETCH
 * answer. This parser, registered after libetpan's own, is tried when that
 * one fails: a label is a quoted string or a run of bytes up to a blank or
 * a parenthesis, backslash included. Literals are left to libetpan. */
static int gm_labels_parse(int calling_parser, mailstream *fd, MMAPString *buffer,
                           struct mailimap_parser_context *ctx, size_t *indx,
                           struct mailimap_extension_data **result, size_t progr_rate,
                           progress_function *progr_fun);
static void gm_labels_free(struct mailimap_extension_data *ext)
{
    if (ext == NULL)
        return;
    if (ext->ext_data)
        mailimap_msg_att_xgmlabels_free(ext->ext_data);
    free(ext);
}
static struct mailimap_extension_api gm_labels_ext = {"X-GM-LABELS (lenient)", -1, gm_labels_parse,
                                                      gm_labels_free};

static int gm_labels_parse(int calling_parser, mailstream *fd, MMAPString *buffer,
                           struct mailimap_parser_context *ctx, size_t *indx,
                           struct mailimap_extension_data **result, size_t progr_rate,
                           progress_function *progr_fun)
{
    (void)fd;
    (void)ctx;
    (void)progr_rate;
    (void)progr_fun;
    if (calling_parser != MAILIMAP_EXTENDED_PARSER_FETCH_DATA || *indx > buffer->len)
        return MAILIMAP_ERROR_PARSE;
    const char *p = buffer->str + *indx, *end = buffer->str + buffer->len;
    if ((size_t)(end - p) < 14 || strncasecmp(p, "X-GM-LABELS (", 13) != 0)
        return MAILIMAP_ERROR_PARSE;
    p += 13;
    struct mailimap_msg_att_xgmlabels *att = mailimap_msg_att_xgmlabels_new_empty();
    if (att == NULL)
        return MAILIMAP_ERROR_MEMORY;
    while (p < end && *p != ')') {
        struct sbuf w = SBUF_INIT;
        if (*p == '"') {
            for (p++; p < end && *p != '"' && *p != '\r' && *p != '\n'; p++) {
                if (*p == '\\' && p + 1 < end)
                    p++;
                sbuf_addc(&w, *p);
            }
            if (p >= end || *p != '"') {
                sbuf_free(&w);
                break;
            }
            p++;
        } else {
            for (; p < end && *p != ' ' && *p != '(' && *p != ')' && *p != '"' && *p != '{' &&
                   (unsigned char)*p > 0x1f;
                 p++)
                sbuf_addc(&w, *p);
        }
        mailimap_msg_att_xgmlabels_add(att, sbuf_take(&w));
        if (p < end && *p == ' ')
            p++;
        else if (p < end && *p != ')')
            break;
    }
    if (p >= end || *p != ')') {
        mailimap_msg_att_xgmlabels_free(att);
        return MAILIMAP_ERROR_PARSE;
    }
    struct mailimap_extension_data *ext = mailimap_extension_data_new(&gm_labels_ext, 0, att);
    if (ext == NULL) {
        mailimap_msg_att_xgmlabels_free(att);
        return MAILIMAP_ERROR_MEMORY;
    }
    *indx = (size_t)(p + 1 - buffer->str);
    *result = ext;
    return MAILIMAP_NO_ERROR;
}

static void gm_labels_register(void)
{
    mailimap_extension_register(&gm_labels_ext);
}

int imapc_has_gmail(const struct imapc *c)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, gm_labels_register);
    return mailimap_has_extension(c->s, "X-GM-EXT-1");
}

void imapc_labels_free(struct imapc_labels *l, size_t n)
{
    for (size_t i = 0; l && i < n; i++) {
        for (size_t k = 0; k < l[i].n; k++)
            free(l[i].label[k]);
        free(l[i].label);
    }
    free(l);
}

static int cmp_labels_uid(const void *a, const void *b)
{
    uint32_t x = ((const struct imapc_labels *)a)->uid, y = ((const struct imapc_labels *)b)->uid;
    return (x > y) - (x < y);
}

int imapc_fetch_labels(struct imapc *c, struct imapc_labels **out, size_t *n, struct status *st)
{
    *out = NULL;
    *n = 0;
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_xgmlabels());
    struct mailimap_set *set = mailimap_set_new_interval(1, 0); /* 1:* */
    clist *res = NULL;
    int r = mailimap_uid_fetch(c->s, set, ft, &res);
    mailimap_set_free(set);
    mailimap_fetch_type_free(ft);
    if (r != MAILIMAP_NO_ERROR)
        return fail(c, r, STATUS_ERR_FETCH, st, "UID FETCH of X-GM-LABELS");
    size_t cnt = 0, cap = (size_t)clist_count(res) + 1;
    struct imapc_labels *l = sbuf_xcalloc(cap, sizeof *l);
    for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
        struct mailimap_msg_att *att = clist_content(it);
        uint32_t uid = 0;
        struct mailimap_msg_att_xgmlabels *xl = NULL;
        for (clistiter *j = clist_begin(att->att_list); j; j = clist_next(j)) {
            struct mailimap_msg_att_item *item = clist_content(j);
            if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
                item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
                uid = item->att_data.att_static->att_data.att_uid;
            else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_EXTENSION &&
                     (item->att_data.att_extension_data->ext_extension ==
                          &mailimap_extension_xgmlabels ||
                      item->att_data.att_extension_data->ext_extension == &gm_labels_ext))
                xl = item->att_data.att_extension_data->ext_data;
        }
        if (uid == 0 || xl == NULL || cnt == cap)
            continue;
        struct imapc_labels *e = &l[cnt++];
        e->uid = uid;
        e->label = sbuf_xcalloc((size_t)clist_count(xl->att_labels) + 1, sizeof *e->label);
        for (clistiter *j = clist_begin(xl->att_labels); j; j = clist_next(j))
            e->label[e->n++] = sbuf_xstrdup(clist_content(j));
    }
    mailimap_fetch_list_free(res);
    qsort(l, cnt, sizeof *l, cmp_labels_uid);
    *out = l;
    *n = cnt;
    return 0;
}

int imapc_label_sendable(const char *label)
{
    size_t len = 0;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++, len++)
        if (*p < 0x20 || *p >= 0x7f)
            return 0;
    return len > 0 && len <= 1000;
}

int imapc_store_labels(struct imapc *c, uint32_t uid, const char *const *labels, size_t n,
                       struct status *st)
{
    for (size_t i = 0; i < n; i++)
        if (!imapc_label_sendable(labels[i]))
            return status_set(st, STATUS_INTERNAL, "%s: a label not fit to send", c->label);
    struct mailimap_msg_att_xgmlabels *xl = mailimap_msg_att_xgmlabels_new_empty();
    for (size_t i = 0; i < n; i++)
        mailimap_msg_att_xgmlabels_add(xl, sbuf_xstrdup(labels[i]));
    struct mailimap_set *set = mailimap_set_new_single(uid);
    int r = mailimap_uid_store_xgmlabels(c->s, set, 0, 1, xl);
    mailimap_set_free(set);
    mailimap_msg_att_xgmlabels_free(xl);
    return r == MAILIMAP_NO_ERROR ? 0
                                  : fail(c, r, STATUS_ERR_FLAGS, st, "UID STORE of X-GM-LABELS");
}
