/* config: the validated, immutable settings of one run.
 *
 * Built once from the parsed options (and later the environment and
 * password files); everything after it reads only this struct. */
#ifndef IMAPFERRY_CONFIG_H
#define IMAPFERRY_CONFIG_H

#include "imapc.h"
#include "options.h"
#include "status.h"

struct config_side {
    char *host;
    int port;
    char *user;
    char *password; /* secret: zeroed by config_free, never printed */
    char *authmech; /* upper case: LOGIN, PLAIN, CRAM-MD5, XOAUTH2 */
    char *authuser;
    char *oauth_token; /* secret */
    enum imapc_tls tls;
    char *cafile;
    int insecure;
    double timeout;
    int reconnect; /* reconnects allowed per folder after a lost connection */
};

/* Owns its strings; release with config_free. */
struct config {
    struct config_side side[2]; /* [0] = host1, [1] = host2 */
    int dry;
    int justfolders;
    int justlogin;
    int use_size;    /* message identity includes RFC822.SIZE (--noskipsize, default) */
    int foldersizes; /* print per-folder counts and bytes of both hosts */
    char *pidfile;   /* NULL = none (--pidfile "") */
    int pidfilelocking;
    char *logpath; /* NULL = --nolog */
};

/* Cross-option validation; failures are STATUS_USAGE with one line. */
int config_build(const struct options *o, struct config *c, struct status *st);
void config_free(struct config *c);

/* The imapc settings for side 0 or 1 (strings borrowed from c). */
void config_imapc(const struct config *c, int side, struct imapc_conf *out);

#endif
