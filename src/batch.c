/* batch: runs each account line of a CSV as a child process of this binary,
 * a few at a time, and writes the batch's summary and failures (batch.h). */
#define _GNU_SOURCE /* pipe2 */
#include "batch.h"

#include "csv.h"
#include "lock.h"
#include "log.h"
#include "ownfile.h"
#include "progress.h"
#include "sbuf.h"
#include "secret.h"
#include "status.h"
#include "stop.h"
#include "throttle.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_JOBS 2
#define MAX_JOBS 256
#define MAX_SECRET 4096   /* a pipe holds it whole, so writing never blocks */
#define MAX_OUT_LINE 1024 /* what we keep of one line a child prints */

/* Names and types of the option table, to write a child's command line. */
static const struct {
    const char *names;
    enum options_type type;
    int secret;
} rows[OPT__COUNT] = {
#define BATCH_ROW(id, names, type, secret, on, off, help) {names, type, secret},
    OPTIONS_TABLE(BATCH_ROW)
#undef BATCH_ROW
};

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE };

/* One account line, from reading the file to its entry in the summary. */
struct job {
    long lineno;
    char *raw;               /* the line as written, for failures.csv; holds passwords */
    char *host[2], *user[2]; /* as the child will use them (user may be NULL) */
    char *log;               /* the child's log file, NULL with --nolog */
    enum job_state state;
    pid_t pid;
    int fd[2];              /* the child's stdout and stderr; -1 once closed */
    struct sbuf part[2];    /* an unfinished line of each */
    char err[MAX_OUT_LINE]; /* the last line that says why it failed */
    long long transferred, skipped, bytes, errors; /* -1 = not printed */
    int exit_code;                                 /* -1 = not run */
    int workers;                                   /* sessions it opens on each host (--workers) */
    int killed_by;                                 /* signal that ended it, 0 = none */
    int shared_rate; /* its child counts into the batch's rate limit file */
    double start, duration;
};

struct batch {
    const struct options *cmd; /* the command line */
    const char *csv;
    const char *argv0;
    char *dir;   /* the output folder */
    int rate_fd; /* the batch's one rate limit (throttle_share_create), -1 = none */
    int jobs, maxconns, nolog;
    struct job *job;
    size_t njob;
    int table;        /* the account table is drawn (progress.h) */
    int changed;      /* a job started or ended since the table was drawn */
    double t0, drawn; /* when the jobs began, when the table was drawn */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *batch_class(int code)
{
    switch (code) {
    case STATUS_OK:
        return "ok";
    case STATUS_AUTH:
    case STATUS_AUTH_HOST1:
    case STATUS_AUTH_HOST2:
        return "auth";
    case STATUS_CONNECT:
    case STATUS_CONNECT_HOST1:
    case STATUS_CONNECT_HOST2:
        return "connection";
    case STATUS_TLS:
        return "tls";
    case 113:
        return "quota";
    case STATUS_WITH_ERRORS:
    case STATUS_ERR_APPEND:
    case STATUS_ERR_FETCH:
    case STATUS_ERR_CREATE:
    case STATUS_ERR_SELECT:
    case 119:
    case STATUS_ERR_FLAGS:
    case STATUS_ERR_SEARCH:
        return "partial";
    case STATUS_VERIFY:
        return "verify";
    case STATUS_TRANSFER_LIMIT:
        return "limit";
    case STATUS_PIDFILE:
        return "locked";
    case STATUS_USAGE:
        return "usage";
    case STATUS_NOINPUT:
        return "password file";
    case STATUS_SIGNAL:
        return "signal";
    case STATUS_SUBFOLDER:
        return "subfolder";
    case STATUS_INTERNAL:
        return "internal";
    default:
        return "other";
    }
}

static const char *job_class(const struct job *j)
{
    if (j->exit_code < 0)
        return j->killed_by ? "killed" : "not run";
    return batch_class(j->exit_code);
}

/* ---- the options of one line ---- */

/* Parses the line's extra words as a command line; options that only make
 * sense for the whole batch are refused there. */
static int line_options(const struct csv_line *l, struct options *o, struct status *st)
{
    char **av = sbuf_xcalloc(l->nextra + 2, sizeof *av);
    av[0] = "imapferry";
    for (size_t i = 0; i < l->nextra; i++)
        av[i + 1] = l->extra[i];
    int rc = options_parse((int)l->nextra + 1, av, o, st);
    free(av);
    if (rc < 0) {
        options_free(o);
        return -1;
    }
    static const enum options_id batch_only[] = {OPT_CSV,  OPT_JOBS,    OPT_MAXCONNSPERHOST,
                                                 OPT_HELP, OPT_VERSION, OPT_LIST_OPTIONS};
    for (size_t i = 0; i < sizeof batch_only / sizeof batch_only[0]; i++) {
        enum options_id id = batch_only[i];
        if (o->v[id].given) {
            options_free(o);
            return status_set(st, STATUS_USAGE, "--%.*s cannot be given on a line",
                              (int)strcspn(rows[id].names, "|"), rows[id].names);
        }
    }
    return 0;
}

/* The line's value of an option if it gives one, else the command line's. */
static const struct options_value *pick(const struct options *line, const struct options *cmd,
                                        enum options_id id)
{
    if (line->v[id].given)
        return &line->v[id];
    if (cmd->v[id].given)
        return &cmd->v[id];
    return NULL;
}

/* Host or user of side k: the CSV field, else the line's option, else the
 * command line's. */
static const char *side_value(const struct csv_line *l, const struct options *line,
                              const struct options *cmd, enum csv_field f, enum options_id id)
{
    if (*l->field[f])
        return l->field[f];
    const struct options_value *v = pick(line, cmd, id);
    return v ? v->str : NULL;
}

static void safe_name(struct sbuf *b, const char *s)
{
    for (; s && *s; s++)
        sbuf_addc(b, (*s == '/' || *s == ' ' || (unsigned char)*s < 32) ? '_' : *s);
}

/* A child's argv, built word by word; the words are owned. */
struct words {
    char **v;
    size_t n;
};

__attribute__((format(printf, 2, 3))) static void add(struct words *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1];
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (len < 0)
        len = 0;
    char *s = sbuf_xmalloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    w->v = sbuf_xrealloc(w->v, (w->n + 2) * sizeof *w->v);
    w->v[w->n++] = s;
    w->v[w->n] = NULL;
}

static void words_free(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    memset(w, 0, sizeof *w);
}

/* --name=value for every value of one option. */
static void add_option(struct words *w, enum options_id id, const struct options_value *v)
{
    int nl = (int)strcspn(rows[id].names, "|");
    const char *name = rows[id].names;
    switch (rows[id].type) {
    case OPTIONS_FLAG:
        add(w, "--%.*s", nl, name);
        break;
    case OPTIONS_NEGFLAG:
        add(w, "--%s%.*s", v->on ? "" : "no", nl, name);
        break;
    case OPTIONS_STR:
        add(w, "--%.*s=%s", nl, name, v->str);
        break;
    case OPTIONS_INT:
        add(w, "--%.*s=%ld", nl, name, v->num);
        break;
    case OPTIONS_FLOAT:
        add(w, "--%.*s=%.17g", nl, name, v->fnum);
        break;
    case OPTIONS_LIST:
    case OPTIONS_KV:
        for (size_t i = 0; i < v->nlist; i++)
            add(w, "--%.*s=%s", nl, name, v->list[i]);
        break;
    }
}

/* Hands a secret to the child on a pipe: its read end, which the child
 * reads as /dev/fd/N, or -1. */
static int secret_pipe(const char *secret, struct status *st)
{
    size_t len = strlen(secret);
    if (len > MAX_SECRET || strchr(secret, '\n'))
        return status_set(st, STATUS_USAGE,
                          "a password is longer than %d bytes or holds a "
                          "line break",
                          MAX_SECRET);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return status_set(st, STATUS_OTHER, "pipe: %s", strerror(errno));
    /* One write of at most a page plus one: the empty pipe takes it whole. */
    char buf[MAX_SECRET + 2];
    memcpy(buf, secret, len);
    buf[len] = '\n';
    ssize_t n = write(p[1], buf, len + 1);
    memset(buf, 0, sizeof buf);
    close(p[1]);
    if (n != (ssize_t)(len + 1)) {
        close(p[0]);
        return status_set(st, STATUS_OTHER, "cannot hand a password over on a pipe");
    }
    return p[0];
}

/* The fds a child inherits besides stdin, stdout and stderr. */
struct handover {
    int fd[4];
    int n;
};

static void handover_close(struct handover *h)
{
    for (int i = 0; i < h->n; i++)
        close(h->fd[i]);
    h->n = 0;
}

static int pass_secret(struct words *w, struct handover *h, const char *option, const char *secret,
                       struct status *st)
{
    int fd = secret_pipe(secret, st);
    if (fd < 0)
        return -1;
    h->fd[h->n++] = fd;
    add(w, "--%s=/dev/fd/%d", option, fd);
    return 0;
}

/* The command line of line j's child and the pipes holding its secrets. */
static int child_words(struct batch *b, struct job *j, const struct csv_line *l,
                       const struct options *line, struct words *w, struct handover *h,
                       struct status *st)
{
    const struct options *cmd = b->cmd;
    add(w, "%s", b->argv0);
    for (int id = 0; id < OPT__COUNT; id++) {
        switch (id) {
        case OPT_CSV:
        case OPT_JOBS:
        case OPT_MAXCONNSPERHOST:
        case OPT_HOST1:
        case OPT_HOST2:
        case OPT_USER1:
        case OPT_USER2:
        case OPT_PASSFILE1:
        case OPT_PASSFILE2:
        case OPT_MAXBYTESPERSECOND:
        case OPT_MAXMESSAGESPERSECOND:
        case OPT_LOGDIR:
        case OPT_LOGFILE:
        case OPT_PIDFILE:
            continue; /* written below */
        default:
            break;
        }
        if (rows[id].secret)
            continue;
        const struct options_value *v = pick(line, cmd, (enum options_id)id);
        if (v)
            add_option(w, (enum options_id)id, v);
    }
    static const enum options_id pass_id[2] = {OPT_PASSWORD1, OPT_PASSWORD2},
                                 file_id[2] = {OPT_PASSFILE1, OPT_PASSFILE2},
                                 oauth_id[2] = {OPT_OAUTH1, OPT_OAUTH2};
    static const enum csv_field pass_f[2] = {CSV_PASSWORD1, CSV_PASSWORD2};
    for (int k = 0; k < 2; k++) {
        add(w, "--host%d=%s", k + 1, j->host[k]);
        if (j->user[k])
            add(w, "--user%d=%s", k + 1, j->user[k]);
        /* The CSV field first, then the line's options, then the command
         * line's: a value goes on a pipe, a file name as it is. */
        char opt[32];
        snprintf(opt, sizeof opt, "passfile%d", k + 1);
        const char *pw = *l->field[pass_f[k]]        ? l->field[pass_f[k]]
                         : line->v[pass_id[k]].given ? line->v[pass_id[k]].str
                                                     : NULL;
        const char *file = NULL;
        if (pw == NULL && line->v[file_id[k]].given)
            file = line->v[file_id[k]].str;
        else if (pw == NULL && cmd->v[pass_id[k]].given)
            pw = cmd->v[pass_id[k]].str;
        else if (pw == NULL && cmd->v[file_id[k]].given)
            file = cmd->v[file_id[k]].str;
        if (pw && pass_secret(w, h, opt, pw, st) < 0)
            return -1;
        if (file)
            add(w, "--%s=%s", opt, file);
        /* A token may be the name of the file that holds it, which is no
         * secret and which the child must open itself. */
        const struct options_value *tok = pick(line, cmd, oauth_id[k]);
        if (tok) {
            snprintf(opt, sizeof opt, "oauthaccesstoken%d", k + 1);
            if (access(tok->str, R_OK) == 0)
                add(w, "--%s=%s", opt, tok->str);
            else if (pass_secret(w, h, opt, tok->str, st) < 0)
                return -1;
        }
    }
    /* The rate caps of the command line are the batch's: one bucket, the
     * rate limit file, for all its jobs, so each child gets the whole cap
     * and counts into that file. Without the file each of the --jobs
     * accounts running at once gets its share. A line's own cap is that
     * account's: such a child counts alone. */
    int own = line->v[OPT_MAXBYTESPERSECOND].given || line->v[OPT_MAXMESSAGESPERSECOND].given;
    j->shared_rate =
        !own && b->rate_fd >= 0 &&
        (cmd->v[OPT_MAXBYTESPERSECOND].given || cmd->v[OPT_MAXMESSAGESPERSECOND].given);
    long parts = j->shared_rate || b->jobs <= 1 ? 1 : b->jobs;
    if (line->v[OPT_MAXBYTESPERSECOND].given)
        add(w, "--maxbytespersecond=%ld", line->v[OPT_MAXBYTESPERSECOND].num);
    else if (cmd->v[OPT_MAXBYTESPERSECOND].given) {
        long share = cmd->v[OPT_MAXBYTESPERSECOND].num / parts;
        add(w, "--maxbytespersecond=%ld", share > 0 ? share : 1); /* 0 would mean no cap */
    }
    if (line->v[OPT_MAXMESSAGESPERSECOND].given)
        add(w, "--maxmessagespersecond=%g", line->v[OPT_MAXMESSAGESPERSECOND].fnum);
    else if (cmd->v[OPT_MAXMESSAGESPERSECOND].given)
        add(w, "--maxmessagespersecond=%g", cmd->v[OPT_MAXMESSAGESPERSECOND].fnum / (double)parts);
    if (j->workers > 0 && pick(line, cmd, OPT_WORKERS) == NULL)
        add(w, "--workers=%d", j->workers);
    if (line->v[OPT_PIDFILE].given)
        add(w, "--pidfile=%s", line->v[OPT_PIDFILE].str);
    else
        add(w, "--pidfile=%s/line%ld.pid", b->dir, j->lineno);
    if (!j->log)
        return 0;
    add(w, "--logdir=%s", line->v[OPT_LOGDIR].given ? line->v[OPT_LOGDIR].str : b->dir);
    if (line->v[OPT_LOGFILE].given) {
        add(w, "--logfile=%s", line->v[OPT_LOGFILE].str);
    } else {
        struct sbuf n = SBUF_INIT;
        sbuf_addf(&n, "line%ld_", j->lineno);
        safe_name(&n, j->user[0]);
        sbuf_addc(&n, '_');
        safe_name(&n, j->user[1]);
        sbuf_adds(&n, ".txt");
        add(w, "--logfile=%s", n.data);
        sbuf_free(&n);
    }
    return 0;
}

/* ---- reading the file ---- */

static void job_free(struct job *j)
{
    secret_free(j->raw);
    for (int k = 0; k < 2; k++) {
        free(j->host[k]);
        free(j->user[k]);
        sbuf_free(&j->part[k]);
    }
    free(j->log);
}

/* The log path a child will write, as log_default_path composes it. */
static char *job_log(const struct batch *b, const struct job *j, const struct options *line)
{
    const struct options_value *lg = pick(line, b->cmd, OPT_LOG);
    if (lg && !lg->on)
        return NULL;
    const char *dir = line->v[OPT_LOGDIR].given ? line->v[OPT_LOGDIR].str : b->dir;
    struct sbuf n = SBUF_INIT;
    if (*dir) {
        sbuf_adds(&n, dir);
        sbuf_addc(&n, '/');
    }
    if (line->v[OPT_LOGFILE].given) {
        sbuf_adds(&n, line->v[OPT_LOGFILE].str);
    } else {
        sbuf_addf(&n, "line%ld_", j->lineno);
        safe_name(&n, j->user[0]);
        sbuf_addc(&n, '_');
        safe_name(&n, j->user[1]);
        sbuf_adds(&n, ".txt");
    }
    return sbuf_take(&n);
}

/* Checks one account line and records what the batch needs of it. */
static int read_line(struct batch *b, long lineno, const char *text, size_t len, struct status *st)
{
    struct csv_line l;
    int rc = csv_parse_line(text, len, &l, st);
    if (rc <= 0)
        return rc;
    struct options line;
    if (line_options(&l, &line, st) < 0) {
        csv_line_free(&l);
        return -1;
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.lineno = lineno;
    static const enum csv_field hf[2] = {CSV_HOST1, CSV_HOST2}, uf[2] = {CSV_USER1, CSV_USER2};
    static const enum options_id hid[2] = {OPT_HOST1, OPT_HOST2}, uid[2] = {OPT_USER1, OPT_USER2};
    for (int k = 0; k < 2; k++) {
        const char *h = side_value(&l, &line, b->cmd, hf[k], hid[k]);
        if (h == NULL || *h == '\0') {
            status_set(st, STATUS_USAGE, "no host%d: the field is empty and no --host%d is given",
                       k + 1, k + 1);
            options_free(&line);
            csv_line_free(&l);
            job_free(&j);
            return -1;
        }
        j.host[k] = sbuf_xstrdup(h);
        const char *u = side_value(&l, &line, b->cmd, uf[k], uid[k]);
        j.user[k] = u ? sbuf_xstrdup(u) : NULL;
    }
    /* A child opens --workers sessions per host. Under --maxconnsperhost
     * it gets one unless the line or the command line asks for more, so
     * that a budget counts accounts, as with imapsync. */
    const struct options_value *wv = pick(&line, b->cmd, OPT_WORKERS);
    j.workers = wv ? (int)wv->num : b->maxconns > 0 ? 1 : 0;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    j.raw = sbuf_xstrndup(text, len);
    j.fd[0] = j.fd[1] = -1;
    j.exit_code = -1;
    j.transferred = j.skipped = j.bytes = j.errors = -1;
    options_free(&line);
    csv_line_free(&l);
    b->job = sbuf_xrealloc(b->job, (b->njob + 1) * sizeof *b->job);
    b->job[b->njob++] = j;
    return 1;
}

static int read_csv(struct batch *b, struct status *st)
{
    FILE *f = fopen(b->csv, "r");
    if (f == NULL)
        return status_set(st, STATUS_NOINPUT, "cannot read --csv %s: %s", b->csv, strerror(errno));
    char *text = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    while ((n = getline(&text, &cap, f)) >= 0) {
        lineno++;
        const char *p = text;
        /* A spreadsheet's UTF-8 byte order mark is not part of host1. */
        if (lineno == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            n -= 3;
        }
        if (read_line(b, lineno, p, (size_t)n, st) < 0) {
            char msg[sizeof st->msg];
            snprintf(msg, sizeof msg, "%s", st->msg);
            status_set(st, STATUS_USAGE, "--csv %s line %ld: %s", b->csv, lineno, msg);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = status_set(st, STATUS_NOINPUT, "cannot read --csv %s: %s", b->csv, strerror(errno));
    if (text)
        memset(text, 0, cap);
    free(text);
    fclose(f);
    return rc;
}

/* ---- the output folder ---- */

/* --maxbytespersecond / --maxmessagespersecond on the command line: one
 * bucket for every job, in the batch folder (throttle). Without it each
 * job gets its share of the caps instead. */
static void share_rate(struct batch *b)
{
    if (!b->cmd->v[OPT_MAXBYTESPERSECOND].given && !b->cmd->v[OPT_MAXMESSAGESPERSECOND].given)
        return;
    struct sbuf p = SBUF_INIT;
    sbuf_addf(&p, "%s/ratelimit", b->dir);
    struct status st;
    if (throttle_share_create(p.data, &b->rate_fd, &st) < 0)
        log_out("imapferry: note: %s; each of the %d jobs gets its share of the rate caps\n",
                st.msg, b->jobs);
    sbuf_free(&p);
}

static int make_dir(struct batch *b, struct status *st)
{
    const struct options_value *ld = b->cmd->v[OPT_LOGDIR].given ? &b->cmd->v[OPT_LOGDIR] : NULL;
    const char *base = ld ? ld->str : "LOG_imapferry";
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y_%m_%d_%H_%M_%S", &tm);
    for (int k = 1; k < 100; k++) {
        struct sbuf d = SBUF_INIT;
        if (*base)
            sbuf_addf(&d, "%s/", base);
        sbuf_addf(&d, "batch-%s", stamp);
        if (k > 1)
            sbuf_addf(&d, "_%d", k);
        char *dir = sbuf_take(&d);
        if (ownfile_mkdirs(dir, 1) < 0) {
            int err = errno;
            status_set(st, STATUS_OTHER, "cannot create the folder above %s: %s", dir,
                       strerror(err));
            free(dir);
            return -1;
        }
        if (mkdir(dir, 0700) == 0) {
            b->dir = dir;
            return 0;
        }
        int err = errno;
        if (err != EEXIST) {
            status_set(st, STATUS_OTHER, "cannot create the batch folder %s: %s", dir,
                       strerror(err));
            free(dir);
            return -1;
        }
        free(dir);
    }
    return status_set(st, STATUS_OTHER, "too many batch folders named batch-%s", stamp);
}

/* A new file in our own folder: never one that was there before. */
static FILE *create_file(const struct batch *b, const char *name, char **path, struct status *st)
{
    struct sbuf p = SBUF_INIT;
    sbuf_addf(&p, "%s/%s", b->dir, name);
    *path = sbuf_take(&p);
    int fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        status_set(st, STATUS_OTHER, "cannot create %s: %s", *path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

/* ---- running the jobs ---- */

/* Sessions that running jobs hold on host h. */
static int sessions_on(const struct batch *b, const char *h)
{
    int n = 0;
    for (size_t i = 0; i < b->njob; i++) {
        const struct job *j = &b->job[i];
        if (j->state != JOB_RUNNING)
            continue;
        for (int k = 0; k < 2; k++)
            n += strcasecmp(j->host[k], h) == 0 ? (j->workers > 0 ? j->workers : 1) : 0;
    }
    return n;
}

/* Whether j may start without going over --maxconnsperhost. A job that
 * alone needs more than the budget (both sides on one server and a budget
 * of one) starts when nothing else uses that server, rather than never. */
static int fits(const struct batch *b, const struct job *j)
{
    if (b->maxconns <= 0)
        return 1;
    for (int k = 0; k < 2; k++) {
        int w = j->workers > 0 ? j->workers : 1;
        int need = w * (1 + (strcasecmp(j->host[0], j->host[1]) == 0));
        int used = sessions_on(b, j->host[k]);
        if (used > 0 && used + need > b->maxconns)
            return 0;
    }
    return 1;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Forks and execs the child for j. A failure to start it is that line's
 * failure, never the batch's. */
static int start_job(struct batch *b, struct job *j, struct status *st)
{
    struct csv_line l;
    struct options line;
    /* The line was checked when the file was read; it parses the same. */
    if (csv_parse_line(j->raw, strlen(j->raw), &l, st) != 1)
        return -1;
    if (line_options(&l, &line, st) < 0) {
        csv_line_free(&l);
        return -1;
    }
    if (!b->nolog)
        j->log = job_log(b, j, &line);
    struct words w = {0};
    struct handover h = {0};
    int rc = child_words(b, j, &l, &line, &w, &h, st);
    options_free(&line);
    csv_line_free(&l);
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    if (rc == 0 && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0))
        rc = status_set(st, STATUS_OTHER, "pipe: %s", strerror(errno));
    pid_t pid = rc == 0 ? fork() : -1;
    if (rc == 0 && pid < 0)
        rc = status_set(st, STATUS_OTHER, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* Only the pipes named in argv cross the exec, and the rate limit
         * file for a child that counts into it. */
        for (int i = 0; i < h.n; i++)
            fcntl(h.fd[i], F_SETFD, 0);
        if (j->shared_rate && fcntl(b->rate_fd, F_SETFD, 0) == 0) {
            char fdnum[16];
            snprintf(fdnum, sizeof fdnum, "%d", b->rate_fd);
            setenv(THROTTLE_SHARE_ENV, fdnum, 1);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execv("/proc/self/exe", w.v);
        dprintf(2, "imapferry: cannot run /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    handover_close(&h);
    words_free(&w);
    if (out[1] >= 0)
        close(out[1]);
    if (err[1] >= 0)
        close(err[1]);
    if (rc < 0) {
        if (out[0] >= 0)
            close(out[0]);
        if (err[0] >= 0)
            close(err[0]);
        return -1;
    }
    j->pid = pid;
    j->fd[0] = out[0];
    j->fd[1] = err[0];
    set_nonblock(out[0]);
    set_nonblock(err[0]);
    j->state = JOB_RUNNING;
    j->start = now();
    return 0;
}

static long long stat_value(const char *line, const char *label)
{
    size_t n = strlen(label);
    if (strncmp(line, label, n) != 0)
        return -1;
    const char *p = line + n;
    while (*p == ' ')
        p++;
    if (*p++ != ':')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    return errno || end == p ? -1 : v;
}

/* One whole line the child printed: its statistics on stdout, and on
 * stderr the last error line, kept as the reason it failed. */
static void child_line(struct job *j, int which, const char *s)
{
    if (which == 0) {
        long long v;
        if ((v = stat_value(s, "Messages transferred")) >= 0)
            j->transferred = v;
        else if ((v = stat_value(s, "Messages skipped")) >= 0)
            j->skipped = v;
        else if ((v = stat_value(s, "Total bytes transferred")) >= 0)
            j->bytes = v;
        else if (sscanf(s, "Detected %lld errors", &v) == 1)
            j->errors = v;
        return;
    }
    if (*s == '\0' || strncmp(s, "imapferry: notice:", 18) == 0)
        return;
    /* An error line beats what came after it (e.g. a final summary). */
    if (j->err[0] && strncmp(j->err, "imapferry:", 10) == 0 && strncmp(s, "imapferry:", 10) != 0)
        return;
    snprintf(j->err, sizeof j->err, "%s", s);
}

/* Reads what is there; returns 0 at end of file. */
static int drain(struct job *j, int which)
{
    char buf[4096];
    ssize_t n = read(j->fd[which], buf, sizeof buf);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 1 : 0;
    struct sbuf *p = &j->part[which];
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            child_line(j, which, p->data ? p->data : "");
            sbuf_reset(p);
        } else if (p->len < MAX_OUT_LINE) {
            sbuf_addc(p, buf[i]);
        }
    }
    if (n > 0)
        return 1;
    if (p->len)
        child_line(j, which, p->data);
    sbuf_reset(p);
    return 0;
}

static void print_who(const struct job *j, const char *what)
{
    log_out("line %ld: %s@%s -> %s@%s %s\n", j->lineno, j->user[0] ? j->user[0] : "?", j->host[0],
            j->user[1] ? j->user[1] : "?", j->host[1], what);
}

static void finish_job(struct job *j, int ws)
{
    j->duration = now() - j->start;
    j->state = JOB_DONE;
    if (WIFEXITED(ws))
        j->exit_code = WEXITSTATUS(ws);
    else if (WIFSIGNALED(ws))
        j->killed_by = WTERMSIG(ws);
    char what[160];
    if (j->exit_code == 0)
        snprintf(what, sizeof what, "done in %.1f s", j->duration);
    else if (j->exit_code > 0)
        snprintf(what, sizeof what, "FAILED (%s, exit %d) after %.1f s", job_class(j), j->exit_code,
                 j->duration);
    else
        snprintf(what, sizeof what, "FAILED (killed by signal %d) after %.1f s", j->killed_by,
                 j->duration);
    print_who(j, what);
}

/* ---- the account table on a terminal ---- */

static int shown_as(const struct job *j)
{
    if (j->state == JOB_RUNNING)
        return 0;
    if (j->state == JOB_DONE && j->exit_code != 0)
        return 1;
    return j->state == JOB_WAITING ? 2 : 3;
}

/* Running accounts first, then the failed, the waiting and the done, so
 * that a table cut to the terminal's height keeps what matters. */
static void draw_table(struct batch *b, int force)
{
    if (!b->table)
        return;
    double t = now();
    if (!force && !b->changed && t - b->drawn < 0.4)
        return;
    b->drawn = t;
    b->changed = 0;
    size_t n[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < b->njob; i++)
        n[shown_as(&b->job[i])]++;
    struct sbuf s = SBUF_INIT;
    sbuf_addf(&s, "accounts: %zu: %zu waiting, %zu running, %zu done, %zu failed (%.0f s)\n",
              b->njob, n[2], n[0], n[3], n[1], t - b->t0);
    for (int group = 0; group < 4; group++) {
        for (size_t i = 0; i < b->njob; i++) {
            const struct job *j = &b->job[i];
            if (shown_as(j) != group)
                continue;
            sbuf_addf(&s, "  line %-4ld %s@%s -> %s@%s  ", j->lineno, j->user[0] ? j->user[0] : "?",
                      j->host[0], j->user[1] ? j->user[1] : "?", j->host[1]);
            if (group == 0)
                sbuf_addf(&s, "running %.0f s", t - j->start);
            else if (group == 1 && j->exit_code > 0)
                sbuf_addf(&s, "failed (%s, exit %d)", job_class(j), j->exit_code);
            else if (group == 1)
                sbuf_addf(&s, "failed (%s)", job_class(j));
            else if (group == 2)
                sbuf_adds(&s, "waiting");
            else
                sbuf_addf(&s, "done in %.1f s", j->duration);
            if (group == 3 && j->transferred >= 0)
                sbuf_addf(&s, ", %lld msgs copied", j->transferred);
            sbuf_addc(&s, '\n');
        }
    }
    /* Names come from the CSV: no control character reaches the terminal. */
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.data[i] < 0x20 && s.data[i] != '\n')
            s.data[i] = '?';
    progress_table(s.data);
    sbuf_free(&s);
}

static void run_jobs(struct batch *b)
{
    size_t waiting = b->njob, running = 0;
    int forwarded = 0;
    struct pollfd *pf = sbuf_xcalloc((size_t)b->jobs * 2 + 1, sizeof *pf);
    struct job **owner = sbuf_xcalloc((size_t)b->jobs * 2 + 1, sizeof *owner);
    while (waiting + running > 0) {
        for (size_t i = 0; i < b->njob && !stop_requested && running < (size_t)b->jobs; i++) {
            struct job *j = &b->job[i];
            if (j->state != JOB_WAITING || !fits(b, j))
                continue;
            waiting--;
            struct status st;
            status_clear(&st);
            if (start_job(b, j, &st) < 0) {
                j->state = JOB_DONE;
                j->exit_code = st.code ? st.code : STATUS_OTHER;
                snprintf(j->err, sizeof j->err, "imapferry: %s", st.msg);
                print_who(j, "could not start");
                continue;
            }
            running++;
            b->changed = 1;
            print_who(j, "started");
        }
        draw_table(b, 0);
        if (running == 0)
            break; /* stopped: what waits stays "not run" */
        if (stop_requested && !forwarded) {
            for (size_t i = 0; i < b->njob; i++)
                if (b->job[i].state == JOB_RUNNING)
                    kill(b->job[i].pid, SIGTERM);
            forwarded = 1;
        }
        nfds_t n = 0;
        for (size_t i = 0; i < b->njob; i++) {
            struct job *j = &b->job[i];
            for (int k = 0; j->state == JOB_RUNNING && k < 2; k++) {
                if (j->fd[k] < 0)
                    continue;
                pf[n] = (struct pollfd){.fd = j->fd[k], .events = POLLIN};
                owner[n++] = j;
            }
        }
        if (n && poll(pf, n, b->table ? 500 : 1000) < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; i < n; i++) {
            if (!pf[i].revents)
                continue;
            struct job *j = owner[i];
            int k = j->fd[0] == pf[i].fd ? 0 : 1;
            if (!drain(j, k)) {
                close(j->fd[k]);
                j->fd[k] = -1;
            }
        }
        for (size_t i = 0; i < b->njob; i++) {
            struct job *j = &b->job[i];
            if (j->state != JOB_RUNNING || j->fd[0] >= 0 || j->fd[1] >= 0)
                continue;
            int ws;
            while (waitpid(j->pid, &ws, 0) < 0 && errno == EINTR)
                ;
            finish_job(j, ws);
            running--;
            b->changed = 1;
        }
        draw_table(b, 0);
    }
    free(pf);
    free(owner);
}

/* ---- summary ---- */

static void json_str(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, long long v)
{
    if (v < 0)
        fputs("null", f);
    else
        fprintf(f, "%lld", v);
}

static int write_summary(const struct batch *b, int rc, double duration, size_t failed,
                         struct status *st)
{
    char *path;
    FILE *f = create_file(b, "summary.json", &path, st);
    if (f == NULL) {
        free(path);
        return -1;
    }
    fprintf(f, "{\n  \"version\": 1,\n  \"imapferry\": ");
    json_str(f, IMAPFERRY_VERSION);
    fprintf(f, ",\n  \"csv\": ");
    json_str(f, b->csv);
    fprintf(f, ",\n  \"folder\": ");
    json_str(f, b->dir);
    fprintf(f,
            ",\n  \"jobs\": %d,\n  \"maxconnsperhost\": %d,\n  \"accounts\": %zu,\n"
            "  \"succeeded\": %zu,\n  \"failed\": %zu,\n  \"exit_code\": %d,\n"
            "  \"duration\": %.3f,\n  \"lines\": [",
            b->jobs, b->maxconns, b->njob, b->njob - failed, failed, rc, duration);
    for (size_t i = 0; i < b->njob; i++) {
        const struct job *j = &b->job[i];
        fprintf(f, "%s\n    {\"line\": %ld, \"host1\": ", i ? "," : "", j->lineno);
        json_str(f, j->host[0]);
        fputs(", \"user1\": ", f);
        json_str(f, j->user[0]);
        fputs(", \"host2\": ", f);
        json_str(f, j->host[1]);
        fputs(", \"user2\": ", f);
        json_str(f, j->user[1]);
        fputs(", \"exit_code\": ", f);
        json_num(f, j->exit_code);
        fputs(", \"class\": ", f);
        json_str(f, job_class(j));
        fprintf(f, ", \"duration\": %.3f", j->duration);
        fputs(", \"messages_transferred\": ", f);
        json_num(f, j->transferred);
        fputs(", \"messages_skipped\": ", f);
        json_num(f, j->skipped);
        fputs(", \"bytes_transferred\": ", f);
        json_num(f, j->bytes);
        fputs(", \"errors\": ", f);
        json_num(f, j->errors);
        fputs(", \"log\": ", f);
        json_str(f, j->log);
        fputs(", \"reason\": ", f);
        json_str(f, j->exit_code == 0 || !j->err[0] ? NULL : j->err);
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        status_set(st, STATUS_OTHER, "cannot write %s", path);
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

static int write_failures(const struct batch *b, char **path, struct status *st)
{
    FILE *f = create_file(b, "failures.csv", path, st);
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < b->njob; i++)
        if (b->job[i].exit_code != 0)
            fprintf(f, "%s\n", b->job[i].raw);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return status_set(st, STATUS_OTHER, "cannot write %s", *path);
    return 0;
}

static void print_table(const struct batch *b, size_t failed)
{
    if (failed == 0)
        return;
    log_out("\n%-6s %-14s %-5s %-40s %s\n", "line", "failed", "exit", "account", "why");
    for (size_t i = 0; i < b->njob; i++) {
        const struct job *j = &b->job[i];
        if (j->exit_code == 0)
            continue;
        char acct[300], code[16];
        snprintf(acct, sizeof acct, "%s -> %s", j->user[0] ? j->user[0] : "?",
                 j->user[1] ? j->user[1] : "?");
        if (j->exit_code >= 0)
            snprintf(code, sizeof code, "%d", j->exit_code);
        else
            snprintf(code, sizeof code, "-");
        log_out("%-6ld %-14s %-5s %-40s %s\n", j->lineno, job_class(j), code, acct,
                j->err[0] ? j->err : "");
    }
}

/* ---- the whole batch ---- */

static int check_options(const struct options *o, struct batch *b, struct status *st)
{
    if (!o->v[OPT_CSV].given)
        return status_set(st, STATUS_USAGE, "--jobs and --maxconnsperhost need --csv FILE");
    b->csv = o->v[OPT_CSV].str;
    b->jobs = DEFAULT_JOBS;
    if (o->v[OPT_JOBS].given) {
        if (o->v[OPT_JOBS].num < 1 || o->v[OPT_JOBS].num > MAX_JOBS)
            return status_set(st, STATUS_USAGE, "--jobs %ld is out of range (1 to %d)",
                              o->v[OPT_JOBS].num, MAX_JOBS);
        b->jobs = (int)o->v[OPT_JOBS].num;
    }
    if (o->v[OPT_MAXCONNSPERHOST].given) {
        long k = o->v[OPT_MAXCONNSPERHOST].num;
        if (k < 1 || k > 100000)
            return status_set(st, STATUS_USAGE,
                              "--maxconnsperhost %ld is out of range (1 to 100000)", k);
        b->maxconns = (int)k;
    }
    if (o->v[OPT_LOGFILE].given)
        return status_set(st, STATUS_USAGE,
                          "--logfile cannot be used with --csv: each line gets its own log in "
                          "the batch folder");
    /* Every line would write, and replace, the same file. */
    if (o->v[OPT_JSON].given)
        return status_set(st, STATUS_USAGE,
                          "--json cannot be used with --csv: the batch writes summary.json; a "
                          "line may give its own --json");
    b->nolog = o->v[OPT_LOG].given && !o->v[OPT_LOG].on;
    return 0;
}

int batch_run(const struct options *o, const char *argv0)
{
    struct batch b;
    memset(&b, 0, sizeof b);
    b.rate_fd = -1;
    b.cmd = o;
    b.argv0 = argv0 ? argv0 : "imapferry";
    struct status st;
    status_clear(&st);
    if (check_options(o, &b, &st) < 0 || read_csv(&b, &st) < 0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        for (size_t i = 0; i < b.njob; i++)
            job_free(&b.job[i]);
        free(b.job);
        return st.code;
    }
    int rc = STATUS_OK;
    struct lock *lk = NULL;
    char notes[4200] = "";
    char pidbuf[4096];
    const char *pidfile =
        o->v[OPT_PIDFILE].given ? o->v[OPT_PIDFILE].str : lock_default_path(pidbuf, sizeof pidbuf);
    char *failures = NULL;
    if (b.njob == 0) {
        printf("imapferry: no account lines in %s: nothing to do\n", b.csv);
        goto out;
    }
    if (lock_acquire(pidfile, options_on(o, OPT_PIDFILELOCKING), NULL, &lk, notes, sizeof notes,
                     &st) < 0 ||
        make_dir(&b, &st) < 0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        rc = st.code;
        goto out;
    }
    if (!b.nolog) {
        struct sbuf p = SBUF_INIT;
        sbuf_addf(&p, "%s/batch.txt", b.dir);
        if (log_open(p.data, &st) < 0) {
            fprintf(stderr, "imapferry: %s (use --nolog to run without log files)\n", st.msg);
            sbuf_free(&p);
            rc = STATUS_OTHER;
            goto out;
        }
        sbuf_free(&p);
    }
    log_out("imapferry %s, pid %ld: batch of %zu accounts from %s, %d at once", IMAPFERRY_VERSION,
            (long)getpid(), b.njob, b.csv, b.jobs);
    if (b.maxconns)
        log_out(", at most %d sessions per server", b.maxconns);
    log_out("\nBatch folder is %s\n", b.dir);
    if (notes[0])
        log_out("%s\n", notes);
    share_rate(&b);
    double t0 = now();
    b.t0 = t0;
    b.table = progress_table_start(!o->v[OPT_NOPROGRESS].given);
    run_jobs(&b);
    draw_table(&b, 1);
    progress_table_end();
    size_t failed = 0;
    for (size_t i = 0; i < b.njob; i++)
        failed += b.job[i].exit_code != 0;
    rc = stop_requested ? STATUS_SIGNAL : failed ? STATUS_WITH_ERRORS : STATUS_OK;
    print_table(&b, failed);
    if (write_summary(&b, rc, now() - t0, failed, &st) < 0 ||
        write_failures(&b, &failures, &st) < 0) {
        log_err("imapferry: %s\n", st.msg);
        rc = STATUS_WITH_ERRORS;
    }
    log_out("\nBatch: %zu accounts, %zu succeeded, %zu failed; summary in %s/summary.json\n",
            b.njob, b.njob - failed, failed, b.dir);
    if (failed)
        log_out("The lines that did not succeed are in %s; rerun them with --csv %s\n", failures,
                failures);
    if (stop_requested)
        log_err("imapferry: batch stopped by a signal; lines not run are in failures.csv\n");
    log_close();
out:
    if (b.rate_fd >= 0)
        close(b.rate_fd);
    lock_release(lk);
    free(failures);
    for (size_t i = 0; i < b.njob; i++)
        job_free(&b.job[i]);
    free(b.job);
    free(b.dir);
    return rc;
}
