/* report_json: renders a run's report as JSON and writes it whole (see
 * report_json.h; the schema is in imapferry(1), JSON REPORT). */
#include "report_json.h"

#include "batch.h"
#include "ownfile.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Length of the well-formed UTF-8 sequence at p (1 to 4), 0 when the bytes
 * there are not one: overlong forms, surrogates and code points past
 * U+10FFFF included, as RFC 3629 forbids them. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void report_json_string(struct sbuf *b, const char *s)
{
    sbuf_addc(b, '"');
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            sbuf_addc(b, '\\');
            sbuf_addc(b, (char)c);
            p++;
        } else if (c < 0x20 || c == 0x7F) {
            switch (c) {
            case '\n':
                sbuf_adds(b, "\\n");
                break;
            case '\r':
                sbuf_adds(b, "\\r");
                break;
            case '\t':
                sbuf_adds(b, "\\t");
                break;
            default:
                sbuf_addf(b, "\\u%04x", c);
            }
            p++;
        } else if (c < 0x80) {
            sbuf_addc(b, (char)c);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                /* One replacement per bad byte: the rest may resync. */
                sbuf_adds(b, "\\ufffd");
                p++;
            } else if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                /* U+2028 and U+2029 are valid JSON but end a line in
                 * JavaScript and in some line-oriented tools. */
                sbuf_addf(b, "\\u%04x", p[2] == 0xA8 ? 0x2028u : 0x2029u);
                p += 3;
            } else {
                sbuf_append(b, p, n);
                p += n;
            }
        }
    }
    sbuf_addc(b, '"');
}

/* The writer keeps track of commas so the rendering code reads as the
 * schema does. */
struct out {
    struct sbuf *b;
    int depth;
    int first; /* no member written yet at this depth */
};

static void indent(struct out *o)
{
    sbuf_addc(o->b, '\n');
    for (int i = 0; i < o->depth; i++)
        sbuf_adds(o->b, "  ");
}

static void key(struct out *o, const char *k)
{
    if (!o->first)
        sbuf_addc(o->b, ',');
    o->first = 0;
    if (o->depth > 0) /* the outer object starts the text */
        indent(o);
    if (k) {
        report_json_string(o->b, k);
        sbuf_adds(o->b, ": ");
    }
}

static void open_(struct out *o, const char *k, char c)
{
    key(o, k);
    sbuf_addc(o->b, c);
    o->depth++;
    o->first = 1;
}

static void close_(struct out *o, char c)
{
    o->depth--;
    if (!o->first)
        indent(o);
    sbuf_addc(o->b, c);
    o->first = 0;
}

static void str(struct out *o, const char *k, const char *v)
{
    key(o, k);
    if (v)
        report_json_string(o->b, v);
    else
        sbuf_adds(o->b, "null");
}

static void u64(struct out *o, const char *k, uint64_t v)
{
    key(o, k);
    sbuf_addf(o->b, "%llu", (unsigned long long)v);
}

static void i64(struct out *o, const char *k, long long v)
{
    key(o, k);
    sbuf_addf(o->b, "%lld", v);
}

static void dbl(struct out *o, const char *k, double v)
{
    key(o, k);
    if (isfinite(v))
        sbuf_addf(o->b, "%.3f", v);
    else
        sbuf_adds(o->b, "null"); /* JSON has no NaN or infinity */
}

static void boolean(struct out *o, const char *k, int v)
{
    key(o, k);
    sbuf_adds(o->b, v ? "true" : "false");
}

static void null(struct out *o, const char *k)
{
    key(o, k);
    sbuf_adds(o->b, "null");
}

static void stamp(struct out *o, const char *k, time_t t)
{
    struct tm tm;
    char buf[32];
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        null(o, k);
        return;
    }
    str(o, k, buf);
}

static const char *class_name(enum report_class c)
{
    switch (c) {
    case REPORT_MESSAGE:
        return "message";
    case REPORT_FOLDER:
        return "folder";
    case REPORT_CONNECTION:
        return "connection";
    case REPORT_FATAL:
        return "fatal";
    }
    return "folder";
}

/* The exit codes as imapferry(1), EXIT STATUS, describes them. */
static const char *exit_meaning(int code)
{
    switch (code) {
    case STATUS_OK:
        return "success";
    case STATUS_OTHER:
        return "failed";
    case STATUS_SIGNAL:
        return "stopped by a signal";
    case STATUS_PIDFILE:
        return "pid file or account pair held by another run";
    case STATUS_CONNECT:
        return "connection failed";
    case STATUS_TLS:
        return "TLS failure";
    case STATUS_AUTH:
        return "login refused";
    case STATUS_SUBFOLDER:
        return "--subfolder1 names a folder host1 lacks";
    case STATUS_USAGE:
        return "usage error";
    case STATUS_NOINPUT:
        return "password file unreadable";
    case STATUS_INTERNAL:
        return "internal error";
    case STATUS_CONNECT_HOST1:
        return "connection to host1 failed";
    case STATUS_CONNECT_HOST2:
        return "connection to host2 failed";
    case STATUS_WITH_ERRORS:
        return "finished with errors";
    case STATUS_ERR_APPEND:
        return "finished with errors, mostly APPEND to host2";
    case STATUS_ERR_FETCH:
        return "finished with errors, mostly FETCH from host1";
    case STATUS_ERR_CREATE:
        return "finished with errors, mostly folder creation on host2";
    case STATUS_ERR_SELECT:
        return "finished with errors, mostly folder selection";
    case STATUS_TRANSFER_LIMIT:
        return "--exitwhenover reached";
    case STATUS_ERR_FLAGS:
        return "finished with errors, mostly flag updates on host2";
    case STATUS_AUTH_HOST1:
        return "login refused by host1";
    case STATUS_AUTH_HOST2:
        return "login refused by host2";
    default:
        return "failed";
    }
}

static void side(struct out *o, const char *k, const struct report_json_run *run, int i)
{
    open_(o, k, '{');
    str(o, "host", run->host[i]);
    i64(o, "port", run->port[i]);
    str(o, "user", run->user[i]);
    close_(o, '}');
}

static void difference(struct out *o, const char *k, int shown, uint64_t m2, uint64_t b2,
                       uint64_t m1, uint64_t b1)
{
    if (!shown) {
        null(o, k);
        return;
    }
    open_(o, k, '{');
    i64(o, "messages", (long long)m2 - (long long)m1);
    i64(o, "bytes", (long long)b2 - (long long)b1);
    close_(o, '}');
}

/* The statistics block's figures, in its order, under names of their own. */
static void statistics(struct out *o, const struct report *r)
{
    double secs = r->end.secs, rate_div = secs > 0 ? secs : 1e-9;
    open_(o, "statistics", '{');
    dbl(o, "transfer_time", secs);
    u64(o, "folders_synced", r->folders_synced);
    u64(o, "folders_wanted", r->folders_wanted);
    u64(o, "messages_transferred", r->dry ? 0 : r->transferred);
    u64(o, "messages_would_transfer", r->dry ? r->transferred : 0);
    u64(o, "messages_skipped", r->skipped);
    u64(o, "messages_duplicate_host1", r->dup1);
    u64(o, "messages_duplicate_host2", r->dup2);
    u64(o, "messages_void_host1", 0);
    u64(o, "messages_void_host2", 0);
    u64(o, "messages_host1_not_host2", r->h1_not_h2);
    u64(o, "messages_host2_not_host1", r->h2_not_h1);
    u64(o, "messages_deleted_host1", r->deleted1);
    u64(o, "messages_deleted_host2", r->deleted2);
    u64(o, "bytes_transferred", r->bytes);
    u64(o, "bytes_skipped", r->bytes_skipped);
    dbl(o, "message_rate", (double)r->transferred / rate_div);
    dbl(o, "bandwidth_kib_per_second", (double)r->bytes / 1024.0 / rate_div);
    u64(o, "reconnections_host1", r->reconnections[0]);
    u64(o, "reconnections_host2", r->reconnections[1]);
    u64(o, "memory_end_bytes", r->end.rss_end);
    dbl(o, "cpu_time", r->end.cpu);
    dbl(o, "cpu_percent", 100.0 * r->end.cpu / rate_div);
    u64(o, "biggest_message_bytes", r->biggest);
    if (r->biggest)
        dbl(o, "memory_biggest_ratio", (double)r->end.rss_peak / (double)r->biggest);
    else
        null(o, "memory_biggest_ratio");
    u64(o, "host1_messages", r->h1_msgs);
    u64(o, "host1_bytes", r->h1_bytes);
    u64(o, "host2_messages_start", r->h2_msgs_start);
    u64(o, "host2_bytes_start", r->h2_bytes_start);
    u64(o, "host2_messages_end", r->h2_msgs_end);
    u64(o, "host2_bytes_end", r->h2_bytes_end);
    difference(o, "start_difference", r->foldersizes, r->h2_msgs_start, r->h2_bytes_start,
               r->h1_msgs, r->h1_bytes);
    difference(o, "final_difference", r->foldersizesatend, r->h2_msgs_end, r->h2_bytes_end,
               r->h1_msgs, r->h1_bytes);
    u64(o, "errors", r->errors);
    u64(o, "peak_memory_bytes", r->end.rss_peak);
    u64(o, "folders_unchanged", r->folders_unchanged);
    close_(o, '}');
}

/* The verdict sentences of the block, as booleans (null where the block
 * says nothing). */
static void verdict(struct out *o, const struct report *r)
{
    int complete = !r->aborted && r->folders_synced == r->folders_wanted;
    open_(o, "verdict", '{');
    boolean(o, "complete", complete);
    if (r->justfolders) {
        null(o, "looks_good");
        null(o, "strict");
    } else {
        int good = complete && r->h1_not_h2 == 0;
        boolean(o, "looks_good", good);
        boolean(o, "strict", good && r->h2_not_h1 == 0);
    }
    close_(o, '}');
}

static void folders(struct out *o, const struct report *r)
{
    open_(o, "folders", '[');
    for (size_t i = 0; i < r->nfolders; i++) {
        const struct report_folder *f = &r->folders[i];
        open_(o, NULL, '{');
        str(o, "host1", f->name1);
        str(o, "host1_wire", f->wire1);
        str(o, "host2", f->name2);
        str(o, "host2_wire", f->wire2);
        u64(o, "copied", f->copied);
        u64(o, "already_there", f->skipped);
        u64(o, "bytes", f->bytes);
        u64(o, "flag_updates", f->flag_updates);
        u64(o, "errors", f->errors);
        boolean(o, "unchanged", f->unchanged);
        close_(o, '}');
    }
    close_(o, ']');
}

static void errors(struct out *o, const struct report *r)
{
    open_(o, "errors", '[');
    for (size_t i = 0; i < r->nlines; i++) {
        const struct report_line *l = &r->lines[i];
        open_(o, NULL, '{');
        str(o, "class", class_name(l->cls));
        i64(o, "code", l->code);
        str(o, "message", l->msg);
        close_(o, '}');
    }
    close_(o, ']');
    u64(o, "errors_not_listed", r->lines_dropped);
}

void report_json_render(struct sbuf *b, const struct report *r, const struct report_json_run *run)
{
    struct out o = {b, 0, 1};
    open_(&o, NULL, '{');
    i64(&o, "version", REPORT_JSON_VERSION);
    str(&o, "imapferry", IMAPFERRY_VERSION);
    stamp(&o, "started", r->started);
    stamp(&o, "ended", r->end.ended);
    dbl(&o, "duration", r->end.secs);
    boolean(&o, "dry_run", r->dry);
    side(&o, "host1", run, 0);
    side(&o, "host2", run, 1);
    statistics(&o, r);
    verdict(&o, r);
    folders(&o, r);
    errors(&o, r);
    open_(&o, "exit", '{');
    i64(&o, "code", run->exit_code);
    str(&o, "class", batch_class(run->exit_code));
    str(&o, "meaning", exit_meaning(run->exit_code));
    if (run->signal)
        i64(&o, "signal", run->signal);
    else
        null(&o, "signal");
    close_(&o, '}');
    close_(&o, '}');
    sbuf_addc(b, '\n');
}

/* The folder of path, for the temporary file and the directory fsync. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return sbuf_xstrdup(".");
    if (slash == path)
        return sbuf_xstrdup("/");
    return sbuf_xstrndup(path, (size_t)(slash - path));
}

/* What sits at path now, if anything, must be a file of ours: replacing a
 * symbolic link or another user's file would be as wrong as writing
 * through it. */
static int check_target(const char *path, struct status *st)
{
    struct stat sb;
    if (lstat(path, &sb) == 0)
        return ownfile_check("JSON report", path, &sb, STATUS_OTHER, "", st);
    if (errno == ENOENT)
        return 0;
    return status_set(st, STATUS_OTHER, "cannot use the JSON report %s: %s", path, strerror(errno));
}

/* A private temporary file next to path (mkstemp: O_EXCL, mode 0600). */
static int temp_next_to(const char *path, char **tmp, struct status *st)
{
    struct sbuf t = SBUF_INIT;
    sbuf_addf(&t, "%s.XXXXXX", path);
    *tmp = sbuf_take(&t);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        char *dir = dir_of(path);
        status_set(st, STATUS_OTHER, "cannot write the JSON report in %s: %s", dir,
                   strerror(errno));
        free(dir);
        free(*tmp);
        *tmp = NULL;
    }
    return fd;
}

int report_json_prepare(const char *path, struct status *st)
{
    if (strcmp(path, "-") == 0)
        return 0;
    if (*path == '\0')
        return status_set(st, STATUS_USAGE, "--json needs a file name, or - for standard output");
    if (ownfile_mkdirs(path, 1) < 0)
        return status_set(st, STATUS_OTHER, "cannot create the folder of the JSON report %s: %s",
                          path, strerror(errno));
    if (check_target(path, st) < 0)
        return -1;
    char *tmp;
    int fd = temp_next_to(path, &tmp, st);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(tmp);
    free(tmp);
    return 0;
}

static int write_file(const char *path, const struct sbuf *b, struct status *st)
{
    if (check_target(path, st) < 0)
        return -1;
    char *tmp;
    int fd = temp_next_to(path, &tmp, st);
    if (fd < 0)
        return -1;
    /* The data must be on disk before the rename makes it the report. */
    if (ownfile_write_all(fd, b->data, b->len) < 0 || fsync(fd) < 0) {
        status_set(st, STATUS_OTHER, "cannot write the JSON report %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        status_set(st, STATUS_OTHER, "cannot write the JSON report %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    char *dir = dir_of(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return 0;
}

int report_json_write(const char *path, struct report *r, const struct report_json_run *run,
                      struct status *st)
{
    report_finish(r);
    struct sbuf b = SBUF_INIT;
    report_json_render(&b, r, run);
    int rc;
    if (strcmp(path, "-") == 0) {
        rc = fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0
                 ? 0
                 : status_set(st, STATUS_OTHER,
                              "cannot write the JSON report to standard "
                              "output: %s",
                              strerror(errno));
    } else {
        rc = write_file(path, &b, st);
    }
    sbuf_free(&b);
    return rc;
}
