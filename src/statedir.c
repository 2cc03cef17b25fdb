/* statedir: one directory per account pair under the state root, locked
 * with fcntl for the whole run (see statedir.h). */
#include "statedir.h"

#include "ownfile.h"
#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct statedir {
    int fd;
    char *path;
};

const char *statedir_default_root(char *buf, size_t n)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    const char *tmp = getenv("TMPDIR");
    if (xdg && *xdg == '/')
        snprintf(buf, n, "%s/imapferry", xdg);
    else if (home && *home == '/')
        snprintf(buf, n, "%s/.local/state/imapferry", home);
    else
        snprintf(buf, n, "%s/imapferry-state-%ld", tmp && *tmp == '/' ? tmp : "/tmp",
                 (long)geteuid());
    return buf;
}

/* A file-name-safe, readable name for the pair, plus a hash of the exact
 * strings so that two pairs that clean up alike cannot share a lock. */
static char *pair_name(const char *host1, int port1, const char *user1, const char *host2,
                       int port2, const char *user2)
{
    char hp1[300], hp2[300];
    snprintf(hp1, sizeof hp1, "%s:%d", host1, port1);
    snprintf(hp2, sizeof hp2, "%s:%d", host2, port2);
    const char *parts[4] = {user1, hp1, user2, hp2};
    uint64_t h = 1469598103934665603ull;
    struct sbuf b = SBUF_INIT;
    for (int i = 0; i < 4; i++) {
        for (const unsigned char *q = (const unsigned char *)parts[i]; *q; q++) {
            h = (h ^ *q) * 1099511628211ull;
            int ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                     (*q >= '0' && *q <= '9') || *q == '.' || *q == '-' || *q == '_';
            if (b.len < 200)
                sbuf_addc(&b, ok ? (char)*q : '_');
        }
        h = (h ^ 0xff) * 1099511628211ull; /* separator: "ab"+"c" != "a"+"bc" */
        sbuf_adds(&b, i == 0 || i == 2 ? "@" : i == 1 ? "--" : "");
    }
    sbuf_addf(&b, "-%016llx", (unsigned long long)h);
    return sbuf_take(&b);
}

int statedir_acquire(const char *root, const char *host1, int port1, const char *user1,
                     const char *host2, int port2, const char *user2, struct statedir **out,
                     struct status *st)
{
    *out = NULL;
    char *name = pair_name(host1, port1, user1, host2, port2, user2);
    struct sbuf b = SBUF_INIT;
    sbuf_addf(&b, "%s/%s", root, name);
    free(name);
    char *dir = sbuf_take(&b);
    if (ownfile_mkdirs(dir, 0) < 0) {
        status_set(st, STATUS_OTHER, "cannot create the state directory %s: %s", dir,
                   strerror(errno));
        free(dir);
        return -1;
    }
    /* The root may sit in a shared place (/tmp): it and the pair directory
     * must be ours and closed to others, or another user could swap the
     * lock under us. */
    struct stat sb;
    for (int i = 0; i < 2; i++) {
        const char *d = i == 0 ? root : dir;
        if (lstat(d, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
            (sb.st_mode & 022)) {
            status_set(st, STATUS_OTHER,
                       "state directory %s must be a directory of ours that others cannot write",
                       d);
            free(dir);
            return -1;
        }
    }
    sbuf_addf(&b, "%s/lock", dir);
    char *lockpath = sbuf_take(&b);
    int fd;
    if (ownfile_open("state lock", lockpath, O_RDWR | O_CREAT, STATUS_OTHER, "", &fd, st) < 0) {
        free(lockpath);
        free(dir);
        return -1;
    }
    if (ownfile_lock(fd) < 0) {
        long pid = (long)ownfile_lock_holder(fd);
        status_set(st, STATUS_PIDFILE,
                   "another imapferry run (pid %ld) is syncing %s on %s:%d to %s on %s:%d; "
                   "wait for it to end (lock %s)",
                   pid, user1, host1, port1, user2, host2, port2, lockpath);
        close(fd);
        free(lockpath);
        free(dir);
        return -1;
    }
    /* The pid inside is for people; the lock itself is what counts. */
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)len) != len) {
        /* An unwritten pid only makes the message of a second run poorer. */
    }
    free(lockpath);
    struct statedir *d = sbuf_xcalloc(1, sizeof *d);
    d->fd = fd;
    d->path = dir;
    *out = d;
    return 0;
}

const char *statedir_path(const struct statedir *d)
{
    return d->path;
}

void statedir_release(struct statedir *d)
{
    if (d == NULL)
        return;
    close(d->fd);
    free(d->path);
    free(d);
}
