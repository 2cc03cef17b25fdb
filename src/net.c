/* net: TCP connections and waits with timeouts that a stop request ends. */
#include "net.h"

#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Waits in short slices: a signal reaches only one thread, and the others
 * must notice stop_requested too. */
#define SLICE_MS 200

static _Thread_local int held;

void net_hold_stop(int on)
{
    held = on;
}

int net_wait(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    int left = timeout_ms;
    for (;;) {
        if (stop_requested && !held) {
            errno = EINTR;
            return -1;
        }
        int slice = (left < 0 || left > SLICE_MS) ? SLICE_MS : left;
        int r = poll(&p, 1, slice);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r > 0)
            return 1;
        if (left >= 0 && (left -= slice) <= 0)
            return 0;
    }
}

/* Non-blocking connect so the timeout applies to the handshake too. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            *err = errno;
            close(fd);
            return -1;
        }
        int r = net_wait(fd, POLLOUT, timeout_ms);
        if (r <= 0) {
            *err = r == 0 ? ETIMEDOUT : errno;
            close(fd);
            return -1;
        }
        socklen_t len = sizeof *err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) < 0 || *err != 0) {
            close(fd);
            return -1;
        }
    }
    fcntl(fd, F_SETFL, flags);
    int one = 1;
    /* Without NODELAY an APPEND whose literal and CRLF go out in two writes
     * waits for a delayed ACK on some servers. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    return fd;
}

static int family = AF_UNSPEC;

void net_use_family(enum net_family f)
{
    family = f == NET_IPV4 ? AF_INET : f == NET_IPV6 ? AF_INET6 : AF_UNSPEC;
}

int net_connect(const char *host, int port, double timeout, int *fd, struct status *st)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return status_set(st, STATUS_CONNECT, "cannot resolve %s%s: %s", host,
                          family == AF_INET    ? " as IPv4 (--inet4)"
                          : family == AF_INET6 ? " as IPv6 (--inet6)"
                                               : "",
                          gai_strerror(gai));
    int timeout_ms = timeout > 0 ? (int)(timeout * 1000) : -1;
    int err = 0;
    *fd = -1;
    for (struct addrinfo *ai = res; ai && *fd < 0; ai = ai->ai_next)
        *fd = connect_one(ai, timeout_ms, &err);
    freeaddrinfo(res);
    if (*fd < 0)
        return status_set(st, STATUS_CONNECT, "cannot connect to %s port %d: %s", host, port,
                          strerror(err));
    return 0;
}
