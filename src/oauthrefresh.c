/* oauthrefresh: runs --oauthrefreshcmdN and rereads the token file before a
 * login, and once more when the token is refused. */
#include "oauthrefresh.h"

#include "log.h"
#include "secret.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The command through /bin/sh -c, as imapsync's backticks do; the child
 * only execs, so forking from a threaded process is safe. */
static int run_command(const struct config_side *s, const struct imapc_conf *ic, struct status *st)
{
    char side = ic->label[4];
    pid_t pid = fork();
    if (pid < 0)
        return status_set(st, ic->err_auth, "%s: cannot run --oauthrefreshcmd%c: %s", ic->label,
                          side, strerror(errno));
    if (pid == 0) {
        /* The command gets a plain signal setup, not our ignored SIGPIPE
         * or the signals a copy thread blocks. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", s->oauth_refresh, (char *)NULL);
        _exit(127);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR)
            return status_set(st, ic->err_auth, "%s: --oauthrefreshcmd%c: %s", ic->label, side,
                              strerror(errno));
    }
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
        return 0;
    /* The command itself is not repeated: it may hold a client secret. */
    if (WIFEXITED(ws))
        return status_set(st, ic->err_auth, "%s: --oauthrefreshcmd%c exited with %d", ic->label,
                          side, WEXITSTATUS(ws));
    return status_set(st, ic->err_auth, "%s: --oauthrefreshcmd%c ended by signal %d", ic->label,
                      side, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

/* The command, then the token its file now holds (*tok: secret_free). */
static int refresh(const struct config_side *s, const struct imapc_conf *ic, char **tok,
                   struct status *st)
{
    *tok = NULL;
    if (run_command(s, ic, st) < 0)
        return -1;
    /* secret_token would take a missing file's name for the token itself. */
    if (access(s->oauth_file, R_OK) < 0)
        return status_set(st, ic->err_auth,
                          "%s: cannot read the token file %s after "
                          "--oauthrefreshcmd%c: %s",
                          ic->label, s->oauth_file, ic->label[4], strerror(errno));
    if (secret_token(s->oauth_file, tok, st) < 0)
        return status_prefix(st, ic->err_auth, ic->label);
    return 0;
}

int oauthrefresh_open(const struct config_side *s, struct imapc_conf *ic, struct imapc **h,
                      struct status *st)
{
    if (s->oauth_refresh == NULL)
        return imapc_open(ic, h, st);
    const char *given = ic->oauth_token;
    int rc = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *tok = NULL;
        if (refresh(s, ic, &tok, st) < 0)
            break;
        ic->oauth_token = tok;
        rc = imapc_open(ic, h, st);
        ic->oauth_token = given;
        secret_free(tok);
        if (rc == 0 || st->code != ic->err_auth || attempt == 1)
            break;
        log_out("%s: the access token was refused (%s); refreshing it once more\n", ic->label,
                st->msg);
    }
    return rc;
}
