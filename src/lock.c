#include "lock.h"

#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct lock {
    char *path;
    pid_t pid;
};

const char *lock_default_path(char *buf, size_t n)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, n, "%s/imapferry.pid", dir && *dir ? dir : "/tmp");
    return buf;
}

/* The pid on the file's first line, 0 when there is none. */
static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[32] = "";
    if (fgets(line, sizeof line, f) == NULL)
        line[0] = '\0';
    fclose(f);
    char *end;
    errno = 0;
    long v = strtol(line, &end, 10);
    if (errno || end == line || (*end != '\n' && *end != '\0') || v <= 0 || v > 4194304)
        return 0;
    return (pid_t)v;
}

static int running(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

int lock_acquire(const char *path, int locking, const char *logfile, struct lock **out, char *notes,
                 size_t notes_len, struct status *st)
{
    *out = NULL;
    notes[0] = '\0';
    if (path == NULL || *path == '\0')
        return 0;
    struct stat sb;
    int existed = 0;
    if (lstat(path, &sb) == 0) {
        existed = 1;
        pid_t old = read_pid(path);
        if (S_ISREG(sb.st_mode) && old > 0 && !running(old)) {
            unlink(path);
            existed = 0;
            snprintf(notes, notes_len, "removed the old pid file %s: its process %ld is gone", path,
                     (long)old);
        } else if (locking) {
            return status_set(st, STATUS_PIDFILE,
                              "pid file %s exists (process %ld): another imapferry may be "
                              "running; not starting (--pidfilelocking)",
                              path, (long)old);
        }
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (locking ? O_EXCL : O_TRUNC);
    int fd = open(path, flags, 0600);
    if (fd < 0 && locking && errno == EEXIST)
        return status_set(st, STATUS_PIDFILE,
                          "pid file %s was just created by another run; not starting "
                          "(--pidfilelocking)",
                          path);
    if (fd < 0)
        return status_set(st, STATUS_PIDFILE, "cannot write the pid file %s: %s", path,
                          strerror(errno));
    if (existed)
        snprintf(notes, notes_len,
                 "pid file %s already existed and was overwritten (use --pidfilelocking to "
                 "avoid concurrent runs)",
                 path);
    char buf[4200];
    int n = snprintf(buf, sizeof buf, "%ld\n%s\n", (long)getpid(), logfile ? logfile : "");
    if (n < 0 || (size_t)n >= sizeof buf || write(fd, buf, (size_t)n) != n) {
        int err = errno;
        close(fd);
        unlink(path);
        return status_set(st, STATUS_PIDFILE, "cannot write the pid file %s: %s", path,
                          strerror(err));
    }
    close(fd);
    struct lock *l = sbuf_xcalloc(1, sizeof *l);
    l->path = sbuf_xstrdup(path);
    l->pid = getpid();
    *out = l;
    return 0;
}

void lock_release(struct lock *l)
{
    if (l == NULL)
        return;
    if (read_pid(l->path) == l->pid)
        unlink(l->path);
    free(l->path);
    free(l);
}
