/* oauthrefresh: imapsync 2.290's --oauthrefreshcmd1/2 around each login.
 *
 * Before each login (the first one, a worker's, and every reconnection) the
 * side's command runs through /bin/sh -c (nothing of ours is added to its
 * argv, so no secret shows in ps), then the --oauthaccesstokenN file is read
 * again. A login refused with that token gets one more refresh and one more
 * try; a second refusal is the side's login failure (161/162). Without a
 * command this is imapc_open. */
#ifndef IMAPFERRY_OAUTHREFRESH_H
#define IMAPFERRY_OAUTHREFRESH_H

#include "config.h"
#include "imapc.h"
#include "status.h"

/* imapc_open(ic, h, st), with s's refresh command first when s has one:
 * ic->oauth_token then points, during the call only, at the freshly read
 * token. A command that fails, or a token file that cannot be read, fails
 * with ic->err_auth. */
int oauthrefresh_open(const struct config_side *s, struct imapc_conf *ic, struct imapc **h,
                      struct status *st);

#endif
