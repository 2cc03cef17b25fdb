/* justconnect: greeting and CAPABILITY of both hosts, without logging in. */
#include "justconnect.h"

#include "imapc.h"
#include "log.h"

#include <string.h>

int justconnect_run(const struct config *cfg, struct status *st)
{
    for (int i = 0; i < 2; i++) {
        const struct config_side *s = &cfg->side[i];
        struct imapc_conf ic;
        memset(&ic, 0, sizeof ic);
        ic.label = i == 0 ? "host1" : "host2";
        ic.host = s->host;
        ic.port = s->port;
        ic.tls = s->tls;
        ic.cafile = s->cafile;
        ic.insecure = s->insecure;
        ic.timeout = s->timeout;
        /* imapsync's EXIT_CONNECTION_FAILURE for either side. */
        ic.err_connect = STATUS_CONNECT;
        ic.err_auth = STATUS_CONNECT;
        ic.no_login = 1;
        log_out("Host%d: Will just connect to %s without login\n", i + 1, s->host);
        struct imapc *c = NULL;
        if (imapc_open(&ic, &c, st) < 0)
            return -1;
        char caps[2048], sec[128];
        log_out("Host%d banner: %s\n", i + 1, imapc_greeting(c));
        log_out("Host%d capability: %s\n", i + 1, imapc_capabilities(c, caps, sizeof caps));
        log_out("Host%d: connection is %s\n", i + 1, imapc_security(c, sec, sizeof sec));
        imapc_close(c);
    }
    log_out("Exiting after a justconnect on host(s): %s %s\n", cfg->side[0].host,
            cfg->side[1].host);
    return 0;
}
