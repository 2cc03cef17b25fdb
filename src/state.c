/* state: the per-folder-pair state files (see state.h for what they are
 * for and why they can never cause a wrong copy). */
#include "state.h"

#include "crashpoint.h"
#include "ownfile.h"
#include "sbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_MAGIC "imapferry-state 1"
/* Two names of at most a few KiB each, hex-encoded, and a few numbers. */
#define STATE_MAX_BYTES (64 * 1024)

uint64_t state_fingerprint(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (h == 0)
        h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The file of a pair is named after a hash of both names; the names are
 * stored inside too, so two pairs that share a hash never share state. */
void state_pair_file(const char *dir, const char *name1, const char *name2, const char *suffix,
                     char *buf, size_t n)
{
    uint64_t h = state_fingerprint(0, name1, strlen(name1) + 1);
    h = state_fingerprint(h, name2, strlen(name2));
    snprintf(buf, n, "%s/pair-%016llx.%s", dir, (unsigned long long)h, suffix);
}

static void pair_path(const char *dir, const char *name1, const char *name2, char *buf, size_t n)
{
    state_pair_file(dir, name1, name2, "state", buf, n);
}

static void add_hex(struct sbuf *b, const char *s)
{
    static const char digits[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        sbuf_addc(b, digits[*p >> 4]);
        sbuf_addc(b, digits[*p & 15]);
    }
}

static void add_status(struct sbuf *b, const char *label, const struct folder_status *s)
{
    sbuf_addf(b, "%s %u %u %u %llu\n", label, (unsigned)s->uidvalidity, (unsigned)s->uidnext,
              (unsigned)s->messages, (unsigned long long)s->modseq);
}

int state_save(const char *dir, const char *name1, const char *name2, const struct state_pair *p,
               struct status *st)
{
    char path[4096], tmp[4200];
    pair_path(dir, name1, name2, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    struct sbuf b = SBUF_INIT;
    sbuf_adds(&b, STATE_MAGIC "\nname1 ");
    add_hex(&b, name1);
    sbuf_adds(&b, "\nname2 ");
    add_hex(&b, name2);
    sbuf_addf(&b, "\nrules %016llx\n", (unsigned long long)p->rules);
    add_status(&b, "host1", &p->sts[0]);
    add_status(&b, "host2", &p->sts[1]);
    const struct state_counts *c = &p->counts;
    sbuf_addf(&b, "counts %llu %llu %llu %llu %llu %llu %llu %llu %llu\nend\n",
              (unsigned long long)c->msgs1, (unsigned long long)c->bytes1,
              (unsigned long long)c->msgs2, (unsigned long long)c->bytes2,
              (unsigned long long)c->filtered, (unsigned long long)c->bytes_filtered,
              (unsigned long long)c->only2, (unsigned long long)c->dup1,
              (unsigned long long)c->dup2);
    int fd = -1, rc = -1;
    /* A leftover .tmp of a killed run is ours to replace. */
    unlink(tmp);
    if (ownfile_open("state file", tmp, O_WRONLY | O_CREAT | O_EXCL, STATUS_OTHER, "", &fd, st) < 0)
        goto out;
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(fd, b.data + off, b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            status_set(st, STATUS_OTHER, "state file %s: %s", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    /* The data must be on disk before the rename makes it the state. */
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        status_set(st, STATUS_OTHER, "state file %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    crashpoint("state written, not renamed");
    if (rename(tmp, path) < 0) {
        status_set(st, STATUS_OTHER, "state file %s: %s", path, strerror(errno));
        goto out;
    }
    crashpoint("state renamed");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    sbuf_free(&b);
    return rc;
}

/* The next line of the buffer (NUL-terminated in place), or NULL. */
static char *next_line(char **cur)
{
    char *s = *cur;
    if (s == NULL || *s == '\0')
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl == NULL)
        return NULL; /* every line of ours ends in a newline */
    *nl = '\0';
    *cur = nl + 1;
    return s;
}

/* "KEY v1 v2 ... vn" with unsigned decimal values, nothing else. */
static int parse_numbers(const char *line, const char *key, unsigned long long *v, size_t n)
{
    size_t kl = strlen(key);
    if (strncmp(line, key, kl) != 0)
        return -1;
    const char *p = line + kl;
    for (size_t i = 0; i < n; i++) {
        if (*p != ' ' || p[1] < '0' || p[1] > '9')
            return -1;
        char *end;
        errno = 0;
        v[i] = strtoull(p + 1, &end, 10);
        if (errno)
            return -1;
        p = end;
    }
    return *p == '\0' ? 0 : -1;
}

static int parse_status(const char *line, const char *key, struct folder_status *s)
{
    unsigned long long v[4];
    if (parse_numbers(line, key, v, 4) < 0 || v[0] > UINT32_MAX || v[1] > UINT32_MAX ||
        v[2] > UINT32_MAX)
        return -1;
    s->uidvalidity = (uint32_t)v[0];
    s->uidnext = (uint32_t)v[1];
    s->messages = (uint32_t)v[2];
    s->modseq = v[3];
    return 0;
}

static int check_name(const char *line, const char *key, const char *name)
{
    struct sbuf want = SBUF_INIT;
    sbuf_adds(&want, key);
    sbuf_addc(&want, ' ');
    add_hex(&want, name);
    int ok = strcmp(line, want.data) == 0;
    sbuf_free(&want);
    return ok ? 0 : -1;
}

static int parse_state(char *text, const char *name1, const char *name2, struct state_pair *out)
{
    char *cur = text, *l;
    unsigned long long c[9];
    if ((l = next_line(&cur)) == NULL || strcmp(l, STATE_MAGIC) != 0)
        return -1;
    if ((l = next_line(&cur)) == NULL || check_name(l, "name1", name1) < 0)
        return -1;
    if ((l = next_line(&cur)) == NULL || check_name(l, "name2", name2) < 0)
        return -1;
    if ((l = next_line(&cur)) == NULL || strncmp(l, "rules ", 6) != 0 || strlen(l) != 22)
        return -1;
    char *end;
    errno = 0;
    out->rules = strtoull(l + 6, &end, 16);
    if (errno || *end != '\0')
        return -1;
    if ((l = next_line(&cur)) == NULL || parse_status(l, "host1", &out->sts[0]) < 0)
        return -1;
    if ((l = next_line(&cur)) == NULL || parse_status(l, "host2", &out->sts[1]) < 0)
        return -1;
    if ((l = next_line(&cur)) == NULL || parse_numbers(l, "counts", c, 9) < 0)
        return -1;
    if ((l = next_line(&cur)) == NULL || strcmp(l, "end") != 0 || *cur != '\0')
        return -1;
    struct state_counts *k = &out->counts;
    k->msgs1 = c[0];
    k->bytes1 = c[1];
    k->msgs2 = c[2];
    k->bytes2 = c[3];
    k->filtered = c[4];
    k->bytes_filtered = c[5];
    k->only2 = c[6];
    k->dup1 = c[7];
    k->dup2 = c[8];
    return 0;
}

int state_load(const char *dir, const char *name1, const char *name2, struct state_pair *out,
               struct status *st)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    pair_path(dir, name1, name2, path, sizeof path);
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 1;
    int fd = -1;
    if (ownfile_open("state file", path, O_RDONLY, STATUS_OTHER, "", &fd, st) < 0)
        return -1;
    char *buf = sbuf_xcalloc(STATE_MAX_BYTES + 1, 1);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, STATE_MAX_BYTES + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len > STATE_MAX_BYTES)
            break;
    }
    close(fd);
    int rc = 0;
    if (len > STATE_MAX_BYTES || memchr(buf, '\0', len) != NULL ||
        parse_state(buf, name1, name2, out) < 0) {
        memset(out, 0, sizeof *out);
        status_set(st, STATUS_OTHER, "state file %s is not one imapferry wrote for this pair",
                   path);
        rc = -1;
    }
    free(buf);
    return rc;
}

int state_forget(const char *dir, const char *name1, const char *name2, struct status *st)
{
    char path[4096];
    pair_path(dir, name1, name2, path, sizeof path);
    if (unlink(path) < 0 && errno != ENOENT)
        return status_set(st, STATUS_OTHER, "state file %s: %s", path, strerror(errno));
    return 0;
}

int state_side_unchanged(const struct folder_status *a, const struct folder_status *b,
                         int need_modseq)
{
    if (a->uidvalidity != b->uidvalidity || a->uidnext != b->uidnext || a->messages != b->messages)
        return 0;
    if (need_modseq)
        return a->modseq != 0 && a->modseq == b->modseq;
    return 1;
}

int state_unchanged(const struct state_pair *saved, const struct folder_status now[2],
                    uint64_t rules, int need_modseq)
{
    return saved->rules == rules && state_side_unchanged(&saved->sts[0], &now[0], need_modseq) &&
           state_side_unchanged(&saved->sts[1], &now[1], need_modseq);
}

int state_any(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int any = 0;
    for (struct dirent *e; !any && (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        any = strncmp(e->d_name, "pair-", 5) == 0 && n > 6 &&
              strcmp(e->d_name + n - 6, ".state") == 0;
    }
    closedir(d);
    return any;
}
