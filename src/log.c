/* log: the run's output, to the terminal and to the log file. */
#include "log.h"

#include "ownfile.h"
#include "progress.h"
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

/* A log file we append to must be one we made: the default name is
 * predictable, and in a folder that others can write (--logdir /tmp) a
 * symlink, FIFO, hard link or file of theirs put there first would make us
 * write into their file or ours elsewhere, or hang. */
int log_open(const char *path, struct status *st)
{
    if (ownfile_mkdirs(path, 1) < 0)
        return status_set(st, STATUS_OTHER, "cannot create the log folder for %s: %s", path,
                          strerror(errno));
    /* An existing file of ours is appended to, as before, so a reused
     * --logfile keeps its history. */
    int fd;
    if (ownfile_open("log file", path, O_WRONLY | O_CREAT | O_APPEND, STATUS_OTHER, "", &fd, st) <
        0)
        return -1;
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

/* The progress line (progress.h) steps aside for each line and comes back
 * under it; a format that does not end the line keeps it away until one
 * does, so that pieces of one line are never split by it. */
__attribute__((format(printf, 2, 0))) static void emit(FILE *to, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    size_t flen = strlen(fmt);
    progress_log_begin(fileno(to));
    vfprintf(to, fmt, ap);
    fflush(to);
    if (log_file) {
        vfprintf(log_file, fmt, copy);
        fflush(log_file);
    }
    progress_log_end(fileno(to), flen > 0 && fmt[flen - 1] == '\n');
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
