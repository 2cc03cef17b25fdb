/* journal: the append-only record of APPEND batches in flight (journal.h). */
#include "journal.h"

#include "crashpoint.h"
#include "ownfile.h"
#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct journal {
    int fd;
    char path[4096];
};

int journal_open(const char *path, struct journal **out, struct status *st)
{
    *out = NULL;
    int fd = -1;
    if (ownfile_open("journal", path, O_WRONLY | O_CREAT | O_APPEND, STATUS_OTHER, "", &fd, st) < 0)
        return -1;
    struct journal *j = sbuf_xcalloc(1, sizeof *j);
    j->fd = fd;
    snprintf(j->path, sizeof j->path, "%s", path);
    *out = j;
    return 0;
}

/* One whole line, then on disk before the caller goes on: the order of
 * the journal and the APPEND is what recovery relies on. */
static int put_line(struct journal *j, struct sbuf *b, struct status *st)
{
    const char *p = b->data;
    size_t n = b->len;
    while (n > 0) {
        ssize_t w = write(j->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return status_set(st, STATUS_OTHER, "journal %s: %s", j->path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    if (fdatasync(j->fd) < 0)
        return status_set(st, STATUS_OTHER, "journal %s: %s", j->path, strerror(errno));
    return 0;
}

int journal_begin(struct journal *j, uint32_t uidvalidity1, uint32_t uidvalidity2,
                  uint32_t uidnext2, const uint32_t *uid1, size_t n, struct status *st)
{
    struct sbuf b = SBUF_INIT;
    sbuf_addf(&b, "B %u %u %u", (unsigned)uidvalidity1, (unsigned)uidvalidity2, (unsigned)uidnext2);
    for (size_t i = 0; i < n; i++)
        sbuf_addf(&b, " %u", (unsigned)uid1[i]);
    sbuf_addc(&b, '\n');
    int rc = put_line(j, &b, st);
    sbuf_free(&b);
    if (rc == 0)
        crashpoint("journal: batch written, APPEND not sent");
    return rc;
}

int journal_done(struct journal *j, const uint32_t *uid1, const uint32_t *uid2, size_t n,
                 struct status *st)
{
    struct sbuf b = SBUF_INIT;
    sbuf_adds(&b, "A");
    for (size_t i = 0; uid2 && i < n; i++)
        sbuf_addf(&b, " %u:%u", (unsigned)uid1[i], (unsigned)uid2[i]);
    sbuf_addc(&b, '\n');
    int rc = put_line(j, &b, st);
    sbuf_free(&b);
    if (rc == 0)
        crashpoint("journal: answer written");
    return rc;
}

void journal_close(struct journal *j)
{
    if (j == NULL)
        return;
    close(j->fd);
    free(j);
}

/* The next unsigned decimal after one space, ending at a space, the
 * end of the line or stop (0: none). */
static int next_number(char **p, unsigned long *v, char stop)
{
    if (**p != ' ')
        return -1;
    char *s = *p + 1, *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    *v = strtoul(s, &end, 10);
    if (errno || *v > UINT32_MAX || (*end != ' ' && *end != '\0' && (stop == 0 || *end != stop)))
        return -1;
    *p = end;
    return 0;
}

/* One line without its newline. in_batch: a B waits for its A; ours: that
 * B is of the UIDVALIDITYs asked for; *bnext: its host2 UIDNEXT. */
static int parse_line(char *l, uint32_t v1, uint32_t v2, struct journal_found *out, int *in_batch,
                      int *ours)
{
    unsigned long a, b, c;
    char *p = l + 1;
    if (l[0] == 'B') {
        if (next_number(&p, &a, 0) || next_number(&p, &b, 0) || next_number(&p, &c, 0))
            return -1;
        for (unsigned long u; *p;)
            if (next_number(&p, &u, 0))
                return -1;
        /* A B after a B: the session was lost during the first batch and
         * the run went on after a reconnect; that fate stays unknown. */
        if (*in_batch)
            out->unfinished = 1;
        if (!out->unfinished || c < out->uidnext2)
            out->uidnext2 = (uint32_t)c;
        *in_batch = 1;
        *ours = a == v1 && b == v2;
        return 0;
    }
    if (l[0] != 'A' || !*in_batch)
        return -1;
    while (*p) {
        if (next_number(&p, &a, ':') || *p != ':')
            return -1;
        *p = ' '; /* "uid1:uid2": the second number is read like the first */
        if (next_number(&p, &b, 0))
            return -1;
        if (*ours)
            uidmap_add(&out->done, (uint32_t)a, (uint32_t)b, 0);
    }
    *in_batch = 0;
    return 0;
}

int journal_read(const char *path, uint32_t uidvalidity1, uint32_t uidvalidity2,
                 struct journal_found *out, struct status *st)
{
    memset(out, 0, sizeof *out);
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 1;
    int fd = -1;
    if (ownfile_open("journal", path, O_RDONLY, STATUS_OTHER, "", &fd, st) < 0) {
        out->unfinished = 1;
        return -1;
    }
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        out->unfinished = 1;
        return status_set(st, STATUS_OTHER, "journal %s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int in_batch = 0, ours = 0, bad = 0;
    while (!bad && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') {
            /* A torn last line: the run ended while writing it. A torn B
             * was never followed by its APPEND, a torn A was; either way
             * the batch counts as unfinished. */
            in_batch = 1;
            break;
        }
        line[len - 1] = '\0';
        bad = memchr(line, '\0', (size_t)len - 1) != NULL ||
              parse_line(line, uidvalidity1, uidvalidity2, out, &in_batch, &ours) < 0;
    }
    free(line);
    fclose(f);
    if (bad) {
        uidmap_free(&out->done);
        out->unfinished = 1;
        out->uidnext2 = 0;
        return status_set(st, STATUS_OTHER, "journal %s is not one imapferry wrote", path);
    }
    out->unfinished |= in_batch;
    if (!out->unfinished)
        out->uidnext2 = 0;
    uidmap_sort(&out->done);
    return 0;
}

int journal_remove(const char *path, struct status *st)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return status_set(st, STATUS_OTHER, "journal %s: %s", path, strerror(errno));
    return 0;
}
