/* pipemess: one message through a user's command (pipemess.h). */
#define _GNU_SOURCE /* pipe2 */
#include "pipemess.h"

#include "caps.h"
#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Feeds the message and reads the answer at the same time: a command that
 * writes before it has read everything (cat, sed) would otherwise block
 * on a full pipe while we block on ours. */
static int pump(int to, int from, const char *in, size_t len, struct sbuf *got, const char *what,
                struct status *st)
{
    size_t sent = 0;
    if (len == 0) {
        close(to);
        to = -1;
    }
    for (;;) {
        struct pollfd p[2] = {{from, POLLIN, 0}, {to, POLLOUT, 0}};
        if (poll(p, to >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (to >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(to, in + sent, len - sent);
            /* A command that stops reading early (head) is its business. */
            if (w < 0 && errno != EINTR && errno != EAGAIN)
                sent = len;
            else if (w > 0)
                sent += (size_t)w;
            if (sent == len) {
                close(to);
                to = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            char buf[65536];
            ssize_t r = read(from, buf, sizeof buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            if (got->len + (size_t)r > CAPS_MESSAGE_BYTES) {
                if (to >= 0)
                    close(to);
                return status_set(st, STATUS_ERR_APPEND, "%s command wrote more than %llu bytes",
                                  what, (unsigned long long)CAPS_MESSAGE_BYTES);
            }
            sbuf_append(got, buf, (size_t)r);
        }
    }
    if (to >= 0)
        close(to);
    return 0;
}

int pipemess_run(const char *what, const char *cmd, const char *in, size_t len, char **out,
                 size_t *outlen, struct status *st)
{
    *out = NULL;
    int inp[2], outp[2];
    if (pipe2(inp, O_CLOEXEC) < 0)
        return status_set(st, STATUS_ERR_APPEND, "%s: %s", what, strerror(errno));
    if (pipe2(outp, O_CLOEXEC) < 0) {
        close(inp[0]);
        close(inp[1]);
        return status_set(st, STATUS_ERR_APPEND, "%s: %s", what, strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, inp[0], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawnattr_init(&at);
    /* The command gets a plain signal setup, not our ignored SIGPIPE or
     * the signals a copy thread blocks. */
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(inp[0]);
    close(outp[1]);
    if (rc != 0) {
        close(inp[1]);
        close(outp[0]);
        return status_set(st, STATUS_ERR_APPEND, "%s: cannot run the command: %s", what,
                          strerror(rc));
    }
    /* Our end: a blocking write of more than the pipe holds would wait for
     * the command to read everything, while it waits for us to read. */
    fcntl(inp[1], F_SETFL, fcntl(inp[1], F_GETFL) | O_NONBLOCK);
    struct sbuf got = {0};
    int prc = pump(inp[1], outp[0], in, len, &got, what, st);
    close(outp[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (prc == 0 && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
        if (WIFEXITED(ws))
            prc = status_set(st, STATUS_ERR_APPEND, "%s command exited with %d", what,
                             WEXITSTATUS(ws));
        else
            prc = status_set(st, STATUS_ERR_APPEND, "%s command ended by signal %d", what,
                             WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    }
    if (prc == 0 && got.len == 0)
        prc = status_set(st, STATUS_ERR_APPEND, "%s command wrote nothing", what);
    if (prc < 0) {
        sbuf_free(&got);
        return -1;
    }
    *outlen = got.len;
    *out = sbuf_take(&got);
    return 0;
}
