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

/* Where a reading of the journal is: the batches sent and not answered
 * yet (oldest first: answers come in the order sent), whether each is of
 * the UIDVALIDITYs asked for, and the lowest host2 UIDNEXT among the
 * batches since the last moment none was open. */
struct reading {
    unsigned open;     /* B lines without their A so far */
    unsigned ours;     /* bit i: the i-th open batch is of the UIDVALIDITYs asked */
    uint32_t open_min; /* the lowest UIDNEXT of those B lines */
    uint32_t last_b;   /* the UIDNEXT of the last B line */
};

/* One line without its newline. */
static int parse_line(char *l, uint32_t v1, uint32_t v2, struct journal_found *out,
                      struct reading *rd)
{
    unsigned long a, b, c;
    char *p = l + 1;
    if (l[0] == 'B') {
        if (next_number(&p, &a, 0) || next_number(&p, &b, 0) || next_number(&p, &c, 0))
            return -1;
        for (unsigned long u; *p;)
            if (next_number(&p, &u, 0))
                return -1;
        /* Several batches can be open at once: one sent before the answer
         * to the previous one, or one lost with its session when the run
         * went on after a reconnect (that one never gets its A). */
        if (rd->open >= 32)
            return -1;
        if (rd->open == 0 || c < rd->open_min)
            rd->open_min = (uint32_t)c;
        rd->last_b = (uint32_t)c;
        if (a == v1 && b == v2)
            rd->ours |= 1u << rd->open;
        rd->open++;
        return 0;
    }
    if (l[0] != 'A' || rd->open == 0)
        return -1;
    int ours = rd->ours & 1u;
    while (*p) {
        if (next_number(&p, &a, ':') || *p != ':')
            return -1;
        *p = ' '; /* "uid1:uid2": the second number is read like the first */
        if (next_number(&p, &b, 0))
            return -1;
        if (ours)
            uidmap_add(&out->done, (uint32_t)a, (uint32_t)b, 0);
    }
    rd->ours >>= 1;
    rd->open--;
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
    struct reading rd = {0, 0, 0, 0};
    int bad = 0, torn = 0;
    while (!bad && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') {
            /* A torn last line: the run ended while writing it. A torn B
             * was never followed by its APPEND, a torn A was; either way
             * the batch counts as unfinished. */
            torn = 1;
            break;
        }
        line[len - 1] = '\0';
        bad = memchr(line, '\0', (size_t)len - 1) != NULL ||
              parse_line(line, uidvalidity1, uidvalidity2, out, &rd) < 0;
    }
    free(line);
    fclose(f);
    if (bad) {
        uidmap_free(&out->done);
        out->unfinished = 1;
        out->uidnext2 = 0;
        return status_set(st, STATUS_OTHER, "journal %s is not one imapferry wrote", path);
    }
    out->unfinished = rd.open > 0 || torn;
    /* A torn B's own UIDNEXT is lost; the batches before it were open too
     * or answered, so host2 holds nothing of it below the last B's. */
    out->uidnext2 = rd.open > 0 ? rd.open_min : 0;
    if (torn && rd.open == 0)
        out->uidnext2 = rd.last_b;
    uidmap_sort(&out->done);
    return 0;
}

int journal_remove(const char *path, struct status *st)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return status_set(st, STATUS_OTHER, "journal %s: %s", path, strerror(errno));
    return 0;
}
