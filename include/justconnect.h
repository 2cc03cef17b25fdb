/* justconnect: imapsync's --justconnect. Each host is connected to, its
 * greeting and capabilities printed, TLS set up as asked, and nothing that
 * needs a credential is sent: no login. */
#ifndef IMAPFERRY_JUSTCONNECT_H
#define IMAPFERRY_JUSTCONNECT_H

#include "config.h"
#include "status.h"

/* Host1, then host2. 0 when both answered; -1 with imapsync's codes: 10
 * for a host that cannot be reached or gives no IMAP greeting, 12 for TLS. */
int justconnect_run(const struct config *cfg, struct status *st);

#endif
