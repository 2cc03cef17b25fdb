/* ownfile: opening and checking the files a run makes for itself (see
 * ownfile.h), and locking them. */
#include "ownfile.h"

#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ownfile_kind(mode_t m)
{
    if (S_ISLNK(m))
        return "a symbolic link";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    return "not a regular file";
}

int ownfile_check(const char *what, const char *path, const struct stat *sb, int code,
                  const char *hint, struct status *st)
{
    if (!S_ISREG(sb->st_mode))
        return status_set(st, code, "%s %s is %s, not a regular file%s", what, path,
                          ownfile_kind(sb->st_mode), hint);
    if (sb->st_uid != geteuid())
        return status_set(st, code, "%s %s belongs to uid %ld, not to us (uid %ld)%s", what, path,
                          (long)sb->st_uid, (long)geteuid(), hint);
    /* A second name for the inode could be anywhere, e.g. a hard link to
     * one of our files that someone wants overwritten. */
    if (sb->st_nlink != 1)
        return status_set(st, code, "%s %s has %ld hard links, not 1%s", what, path,
                          (long)sb->st_nlink, hint);
    return 0;
}

int ownfile_mkdirs(const char *path, int parents_only)
{
    char *p = sbuf_xstrdup(path);
    size_t len = strlen(p);
    int rc = 0;
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (p[i] == '\0' && parents_only)
            break;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            rc = -1;
            break;
        }
        p[i] = c;
    }
    int err = errno;
    free(p);
    errno = err;
    return rc;
}

int ownfile_open(const char *what, const char *path, int flags, int code, const char *hint, int *fd,
                 struct status *st)
{
    *fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    struct stat sb;
    if (*fd < 0) {
        int err = errno;
        /* Say what is in the way, when something is. */
        if (lstat(path, &sb) == 0 && ownfile_check(what, path, &sb, code, hint, st) < 0)
            return -1;
        return status_set(st, code, "cannot open the %s %s: %s", what, path, strerror(err));
    }
    int rc = 0;
    if (fstat(*fd, &sb) < 0)
        rc = status_set(st, code, "cannot read the %s %s: %s", what, path, strerror(errno));
    else
        rc = ownfile_check(what, path, &sb, code, hint, st);
    if (rc < 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int ownfile_lock(int fd)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET; /* l_start 0, l_len 0: the whole file */
    return fcntl(fd, F_SETLK, &fl);
}

pid_t ownfile_lock_holder(int fd)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    return fl.l_pid;
}

int ownfile_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
