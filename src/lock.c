/* lock: the pid file, checked, locked with fcntl for the whole run, and
 * removed at the end only when it is still ours (see lock.h). */
#include "lock.h"

#include "ownfile.h"
#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Other runs can replace the file between our open and our lock (a run that
 * ends unlinks it); each replacement costs one more try. More than this many
 * in a row means something keeps recreating it, and we give up. */
#define LOCK_TRIES 20

struct lock {
    char *path;
    int fd;    /* kept open: closing any fd of the file drops the lock */
    dev_t dev; /* the inode we wrote, so that release never removes */
    ino_t ino; /* a file that another run created after us */
    pid_t pid; /* what we wrote on line 1 */
    int held;  /* we hold the fcntl write lock */
};

const char *lock_default_path(char *buf, size_t n)
{
    /* XDG_RUNTIME_DIR is the user's own 0700 folder; a shared /tmp with a
     * fixed name would let any local user block (FIFO, foreign file) or
     * redirect everybody's runs. Checked, since the variable can be stale
     * after su or point anywhere. */
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat sb;
    if (xdg && xdg[0] == '/' && stat(xdg, &sb) == 0 && S_ISDIR(sb.st_mode) &&
        sb.st_uid == geteuid() && (sb.st_mode & (S_IWGRP | S_IWOTH)) == 0) {
        int k = snprintf(buf, n, "%s/imapferry.pid", xdg);
        if (k > 0 && (size_t)k < n)
            return buf;
    }
    /* Else a name per user in the temporary folder: users no longer share
     * one file, and what another user plants there is refused with a clear
     * line by lock_acquire rather than trusted. */
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    int k = snprintf(buf, n, "%s/imapferry-%ld.pid", dir, (long)geteuid());
    if (k < 0 || (size_t)k >= n)
        snprintf(buf, n, "/tmp/imapferry-%ld.pid", (long)geteuid());
    return buf;
}

#define PIDFILE_HINT "; not starting (remove it or choose another --pidfile)"

/* Whether path still names the inode (dev, ino), without following a
 * symlink: a run that ended may have unlinked it, and another created a new
 * one, after we opened it. */
static int same_inode(const char *path, dev_t dev, ino_t ino)
{
    struct stat sb;
    return lstat(path, &sb) == 0 && sb.st_dev == dev && sb.st_ino == ino;
}

/* The pid on the file's first line, 0 when there is none. */
static pid_t read_pid(int fd)
{
    char line[32];
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    if (n <= 0)
        return 0;
    line[n] = '\0';
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

/* Opens path and takes the lock. Returns the fd, with *held saying whether
 * we got the lock, or -1. With locking, a lock held by another run is an
 * error; without, *other is set to the holder and we go on unlocked. */
static int open_locked(const char *path, int locking, struct stat *sb, int *held, pid_t *other,
                       struct status *st)
{
    *held = 0;
    *other = 0;
    for (int tries = 0;; tries++) {
        /* lstat first, so a FIFO or device is never even opened; the
         * checks on the open file are the ones that count. */
        if (lstat(path, sb) == 0 &&
            ownfile_check("pid file", path, sb, STATUS_PIDFILE, PIDFILE_HINT, st) < 0)
            return -1;
        int fd;
        if (ownfile_open("pid file", path, O_RDWR | O_CREAT, STATUS_PIDFILE, PIDFILE_HINT, &fd,
                         st) < 0)
            return -1;
        if (fstat(fd, sb) < 0) {
            int err = errno;
            close(fd);
            return status_set(st, STATUS_PIDFILE, "cannot read the pid file %s: %s", path,
                              strerror(err));
        }
        if (ownfile_lock(fd) == 0) {
            /* Locked, but possibly an inode that its last holder unlinked
             * while we waited: then the path names a new file (or none),
             * which another run may lock too. Start again on the path. */
            if (same_inode(path, sb->st_dev, sb->st_ino)) {
                *held = 1;
                return fd;
            }
            close(fd);
        } else if (errno == EACCES || errno == EAGAIN) {
            pid_t pid = ownfile_lock_holder(fd);
            if (pid > 0) {
                if (locking) {
                    close(fd);
                    return status_set(st, STATUS_PIDFILE,
                                      "pid file %s is locked by process %ld: another imapferry "
                                      "is running; not starting (--pidfilelocking)",
                                      path, (long)pid);
                }
                *other = pid;
                return fd;
            }
            close(fd); /* released in between: try again */
        } else {
            /* No locks here (some network file systems): imapsync never
             * locked, so only --pidfilelocking needs them. */
            int err = errno;
            if (locking) {
                close(fd);
                return status_set(st, STATUS_PIDFILE,
                                  "cannot lock the pid file %s: %s; not starting "
                                  "(--pidfilelocking)",
                                  path, strerror(err));
            }
            return fd;
        }
        if (tries + 1 >= LOCK_TRIES)
            return status_set(st, STATUS_PIDFILE,
                              "pid file %s keeps being replaced by other runs; not starting", path);
    }
}

int lock_acquire(const char *path, int locking, const char *logfile, struct lock **out, char *notes,
                 size_t notes_len, struct status *st)
{
    *out = NULL;
    notes[0] = '\0';
    if (path == NULL || *path == '\0')
        return 0;
    struct stat sb;
    int held;
    pid_t other;
    int fd = open_locked(path, locking, &sb, &held, &other, st);
    if (fd < 0)
        return -1;
    pid_t old = read_pid(fd);
    pid_t me = getpid();
    if (other > 0)
        snprintf(notes, notes_len,
                 "pid file %s is in use by process %ld, which is still running; overwriting it "
                 "(use --pidfilelocking to avoid concurrent runs)",
                 path, (long)other);
    else if (old > 0 && old != me && running(old))
        /* Not locked, so not a run of ours: the pid was reused, or the
         * file comes from a version that did not lock. The lock decides. */
        snprintf(notes, notes_len,
                 "pid file %s names process %ld, which runs but holds no lock on it; "
                 "overwriting it",
                 path, (long)old);
    else if (old > 0 && old != me)
        snprintf(notes, notes_len, "removed the old pid file %s: its process %ld is gone", path,
                 (long)old);
    else if (sb.st_size > 0)
        snprintf(notes, notes_len,
                 "pid file %s already existed and was overwritten (use --pidfilelocking to "
                 "avoid concurrent runs)",
                 path);
    char buf[4200];
    int n = snprintf(buf, sizeof buf, "%ld\n%s\n", (long)me, logfile ? logfile : "");
    if (n < 0 || (size_t)n >= sizeof buf || ftruncate(fd, 0) < 0 ||
        pwrite(fd, buf, (size_t)n, 0) != n) {
        int err = n < 0 || (size_t)n >= sizeof buf ? ENAMETOOLONG : errno;
        if (held && same_inode(path, sb.st_dev, sb.st_ino))
            unlink(path);
        close(fd);
        return status_set(st, STATUS_PIDFILE, "cannot write the pid file %s: %s", path,
                          strerror(err));
    }
    struct lock *l = sbuf_xcalloc(1, sizeof *l);
    l->path = sbuf_xstrdup(path);
    l->fd = fd;
    l->dev = sb.st_dev;
    l->ino = sb.st_ino;
    l->pid = me;
    l->held = held;
    *out = l;
    return 0;
}

void lock_release(struct lock *l)
{
    if (l == NULL)
        return;
    /* Without the lock, the run that held it may have ended meanwhile; the
     * file is ours to remove only once we hold it, else that run's
     * successor could find no file while we still clean up. */
    if (!l->held && ownfile_lock(l->fd) == 0)
        l->held = 1;
    /* Unlink before close: the lock covers the unlink, and a run that
     * opened this inode meanwhile finds it gone once it gets the lock. */
    if (l->held && same_inode(l->path, l->dev, l->ino) && read_pid(l->fd) == l->pid)
        unlink(l->path);
    close(l->fd);
    free(l->path);
    free(l);
}

/* Whether pid still holds the lock on fd's file. */
static int still_holds(int fd, pid_t pid)
{
    return ownfile_lock_holder(fd) == pid;
}

int lock_abort(const char *path, int wait_ms, long *pid, struct status *st)
{
    *pid = 0;
    if (path == NULL || *path == '\0')
        return 0;
    struct stat sb;
    if (lstat(path, &sb) < 0)
        return 0; /* no pid file, no run to stop */
    if (ownfile_check("pid file", path, &sb, STATUS_PIDFILE, "; not signalling anything", st) < 0)
        return -1;
    int fd;
    if (ownfile_open("pid file", path, O_RDONLY, STATUS_PIDFILE, "; not signalling anything", &fd,
                     st) < 0)
        return -1;
    pid_t holder = ownfile_lock_holder(fd);
    if (holder <= 0 || holder == getpid()) {
        close(fd);
        return 0;
    }
    *pid = (long)holder;
    /* The run catches SIGTERM: it stops at the next command, prints its
     * statistics and ends with exit 6 (imapsync's run gets QUIT). */
    kill(holder, SIGTERM);
    struct timespec tick = {0, 50 * 1000 * 1000};
    for (int waited = 0; waited < wait_ms && still_holds(fd, holder); waited += 50)
        nanosleep(&tick, NULL);
    if (still_holds(fd, holder))
        kill(holder, SIGKILL);
    close(fd);
    return 0;
}
