/* log: the run's output, to the terminal and to the log file. */
#include "log.h"

#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static FILE *log_file;

static void safe_name(struct sbuf *b, const char *s)
{
    for (; s && *s; s++)
        sbuf_addc(b, (*s == '/' || *s == ' ') ? '_' : *s);
}

void log_default_path(const char *logdir, const char *logfile, const char *user1, const char *user2,
                      char *buf, size_t n)
{
    const char *dir = logdir ? logdir : "LOG_imapferry";
    struct sbuf b = SBUF_INIT;
    if (*dir) {
        sbuf_adds(&b, dir);
        sbuf_addc(&b, '/');
    }
    if (logfile) {
        sbuf_adds(&b, logfile);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        localtime_r(&ts.tv_sec, &tm);
        char stamp[64];
        strftime(stamp, sizeof stamp, "%Y_%m_%d_%H_%M_%S", &tm);
        sbuf_addf(&b, "%s_%03ld_", stamp, ts.tv_nsec / 1000000);
        safe_name(&b, user1);
        sbuf_addc(&b, '_');
        safe_name(&b, user2);
        sbuf_adds(&b, ".txt");
    }
    snprintf(buf, n, "%s", b.data);
    sbuf_free(&b);
}

/* mkdir -p for the folders above path, mode 0700. */
static int make_parents(const char *path)
{
    char *p = sbuf_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

static const char *kind(mode_t m)
{
    if (S_ISLNK(m))
        return "a symbolic link";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISDIR(m))
        return "a directory";
    return "not a regular file";
}

/* A log file we append to must be one we made: the default name is
 * predictable, and in a folder that others can write (--logdir /tmp) a
 * symlink, FIFO, hard link or file of theirs put there first would make us
 * write into their file or ours elsewhere, or hang. */
static int check_file(const char *path, const struct stat *sb, struct status *st)
{
    if (!S_ISREG(sb->st_mode))
        return status_set(st, STATUS_OTHER, "log file %s is %s, not a regular file", path,
                          kind(sb->st_mode));
    if (sb->st_uid != geteuid())
        return status_set(st, STATUS_OTHER, "log file %s belongs to uid %ld, not to us (uid %ld)",
                          path, (long)sb->st_uid, (long)geteuid());
    if (sb->st_nlink != 1)
        return status_set(st, STATUS_OTHER, "log file %s has %ld hard links, not 1", path,
                          (long)sb->st_nlink);
    return 0;
}

int log_open(const char *path, struct status *st)
{
    if (make_parents(path) < 0)
        return status_set(st, STATUS_OTHER, "cannot create the log folder for %s: %s", path,
                          strerror(errno));
    /* O_NOFOLLOW refuses a symlink at the last step, O_NONBLOCK makes a
     * FIFO fail (ENXIO) or open without waiting for a reader; the fstat
     * below is what decides. An existing file of ours is appended to, as
     * before, so a reused --logfile keeps its history. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd < 0) {
        int err = errno;
        struct stat sb;
        if (lstat(path, &sb) == 0 && check_file(path, &sb, st) < 0)
            return -1;
        return status_set(st, STATUS_OTHER, "cannot write the log file %s: %s", path,
                          strerror(err));
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int err = errno;
        close(fd);
        return status_set(st, STATUS_OTHER, "cannot read the log file %s: %s", path, strerror(err));
    }
    if (check_file(path, &sb, st) < 0) {
        close(fd);
        return -1;
    }
    /* Blocking again: a regular file never waits, but stdio must not see
     * EAGAIN should that ever change. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    log_file = fdopen(fd, "a");
    if (log_file == NULL) {
        close(fd);
        return status_set(st, STATUS_OTHER, "cannot write the log file %s", path);
    }
    return 0;
}

void log_close(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
}

__attribute__((format(printf, 2, 0))) static void emit(FILE *to, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    vfprintf(to, fmt, ap);
    fflush(to);
    if (log_file) {
        vfprintf(log_file, fmt, copy);
        fflush(log_file);
    }
    va_end(copy);
}

void log_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(stdout, fmt, ap);
    va_end(ap);
}

void log_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(stderr, fmt, ap);
    va_end(ap);
}
