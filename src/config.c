#include "config.h"

#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT 120.0

static char *dup_or_null(const char *s)
{
    return s ? sbuf_xstrdup(s) : NULL;
}

static int build_side(const struct options *o, int n, struct config_side *s, struct status *st)
{
    static const enum options_id ids[2][9] = {
        {OPT_HOST1, OPT_PORT1, OPT_USER1, OPT_PASSWORD1, OPT_SSL1, OPT_TLS1, OPT_TIMEOUT1,
         OPT_CAFILE1, OPT_INSECURE1},
        {OPT_HOST2, OPT_PORT2, OPT_USER2, OPT_PASSWORD2, OPT_SSL2, OPT_TLS2, OPT_TIMEOUT2,
         OPT_CAFILE2, OPT_INSECURE2},
    };
    const enum options_id *id = ids[n];
    const struct options_value *ssl = &o->v[id[4]], *tls = &o->v[id[5]];
    int k = n + 1;
    if (!o->v[id[0]].given || !*o->v[id[0]].str)
        return status_set(st, STATUS_USAGE, "missing --host%d", k);
    if (!o->v[id[2]].given || !*o->v[id[2]].str)
        return status_set(st, STATUS_USAGE, "missing --user%d", k);
    if (!o->v[id[3]].given)
        return status_set(st, STATUS_USAGE, "missing --password%d", k);
    if (ssl->given && ssl->on)
        s->tls = IMAPC_TLS_IMPLICIT;
    else if (tls->given)
        s->tls = tls->on ? IMAPC_TLS_STARTTLS : IMAPC_TLS_NONE;
    else
        s->tls = IMAPC_TLS_AUTO;
    long port = o->v[id[1]].given ? o->v[id[1]].num : s->tls == IMAPC_TLS_IMPLICIT ? 993 : 143;
    if (port < 1 || port > 65535)
        return status_set(st, STATUS_USAGE, "--port%d %ld is not a TCP port", k, port);
    s->host = dup_or_null(o->v[id[0]].str);
    s->port = (int)port;
    s->user = dup_or_null(o->v[id[2]].str);
    s->password = dup_or_null(o->v[id[3]].str);
    s->cafile = dup_or_null(o->v[id[7]].str);
    s->insecure = o->v[id[8]].given;
    s->timeout = o->v[id[6]].given         ? o->v[id[6]].fnum
                 : o->v[OPT_TIMEOUT].given ? o->v[OPT_TIMEOUT].fnum
                                           : DEFAULT_TIMEOUT;
    return 0;
}

int config_build(const struct options *o, struct config *c, struct status *st)
{
    memset(c, 0, sizeof *c);
    for (int n = 0; n < 2; n++) {
        if (build_side(o, n, &c->side[n], st) < 0) {
            config_free(c);
            return -1;
        }
    }
    c->dry = o->v[OPT_DRY].given;
    c->justfolders = o->v[OPT_JUSTFOLDERS].given;
    c->use_size = 1;
    return 0;
}

void config_free(struct config *c)
{
    for (int n = 0; n < 2; n++) {
        struct config_side *s = &c->side[n];
        if (s->password)
            memset(s->password, 0, strlen(s->password));
        free(s->host);
        free(s->user);
        free(s->cafile);
        free(s->password);
    }
    memset(c, 0, sizeof *c);
}

void config_imapc(const struct config *c, int side, struct imapc_conf *out)
{
    const struct config_side *s = &c->side[side];
    memset(out, 0, sizeof *out);
    out->label = side == 0 ? "host1" : "host2";
    out->host = s->host;
    out->port = s->port;
    out->user = s->user;
    out->password = s->password;
    out->tls = s->tls;
    out->cafile = s->cafile;
    out->insecure = s->insecure;
    out->timeout = s->timeout;
    out->err_connect = side == 0 ? STATUS_CONNECT_HOST1 : STATUS_CONNECT_HOST2;
    out->err_auth = side == 0 ? STATUS_AUTH_HOST1 : STATUS_AUTH_HOST2;
}
