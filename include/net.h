/* net: TCP connections with timeouts, no IMAP and no TLS knowledge.
 *
 * Sockets are left blocking for the caller but every read and write first
 * waits in poll() with the timeout, so a silent server cannot hang us. */
#ifndef IMAPFERRY_NET_H
#define IMAPFERRY_NET_H

#include "status.h"

#include <stddef.h>
#include <sys/types.h>

/* The address family every later net_connect uses (--inet4/--inet6):
 * set once, before the first connection and before any thread starts. */
enum net_family { NET_ANY, NET_IPV4, NET_IPV6 };
void net_use_family(enum net_family f);

/* Resolves host and connects to the first address that answers within
 * timeout seconds (0 = no limit); sets TCP_NODELAY and SO_KEEPALIVE.
 * On failure: STATUS_CONNECT and a line naming host, port and the reason.
 * *fd belongs to the caller (close it). */
int net_connect(const char *host, int port, double timeout, int *fd, struct status *st);

/* While on (in this thread), a stop request does not cut net_wait short:
 * the answer to an APPEND already sent is waited for (within the timeout),
 * or the server would keep messages the run never counted. */
void net_hold_stop(int on);

/* Wait until fd is readable (events = POLLIN) or writable (POLLOUT).
 * Returns 1 when ready, 0 on timeout, -1 on error. timeout_ms < 0 = forever. */
int net_wait(int fd, short events, int timeout_ms);

#endif
