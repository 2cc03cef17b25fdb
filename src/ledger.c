/* ledger: the --ledger JSON Lines writer (ledger.h). */
#include "ledger.h"

#include "ownfile.h"
#include "report_json.h"
#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int out = -1; /* O_APPEND: one write() a line, so batch jobs sharing a file do not mix */
static _Thread_local const char *pair1, *pair2;

int ledger_open(const char *path, struct status *st)
{
    int fd = -1;
    if (ownfile_open("ledger file", path, O_WRONLY | O_CREAT | O_APPEND, STATUS_OTHER, "", &fd,
                     st) < 0)
        return -1;
    /* ownfile_open leaves it non-blocking; a regular file ignores that. */
    out = fd;
    return 0;
}

void ledger_close(void)
{
    pthread_mutex_lock(&mu);
    if (out >= 0)
        close(out);
    out = -1;
    pthread_mutex_unlock(&mu);
}

void ledger_pair(const char *name1, const char *name2)
{
    pair1 = name1;
    pair2 = name2;
}

static void add_uid(struct sbuf *b, uint32_t uid)
{
    if (uid)
        sbuf_addf(b, "%u", (unsigned)uid);
    else
        sbuf_adds(b, "null");
}

/* m is the message the identity and size are of; uid 0 = none. */
static void write_line(const struct msg_meta *m, uint32_t uid1, uint32_t uid2, const char *outcome,
                       const char *reason)
{
    if (out < 0)
        return;
    struct sbuf b = SBUF_INIT;
    sbuf_addf(&b, "{\"v\":%d,\"folder1\":", LEDGER_VERSION);
    report_json_string(&b, pair1 ? pair1 : "");
    sbuf_adds(&b, ",\"folder2\":");
    report_json_string(&b, pair2 ? pair2 : "");
    sbuf_adds(&b, ",\"uid1\":");
    add_uid(&b, uid1);
    sbuf_adds(&b, ",\"uid2\":");
    add_uid(&b, uid2);
    sbuf_addf(&b, ",\"identity\":\"%016llx%016llx\",\"size\":%u,\"outcome\":",
              (unsigned long long)m->key.hi, (unsigned long long)m->key.lo, (unsigned)m->size);
    report_json_string(&b, outcome);
    sbuf_adds(&b, ",\"reason\":");
    if (reason)
        report_json_string(&b, reason);
    else
        sbuf_adds(&b, "null");
    sbuf_adds(&b, "}\n");
    pthread_mutex_lock(&mu);
    for (size_t off = 0; out >= 0 && off < b.len;) {
        ssize_t w = write(out, b.data + off, b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* a full disk costs the ledger, not the sync */
        off += (size_t)w;
    }
    pthread_mutex_unlock(&mu);
    sbuf_free(&b);
}

void ledger_message(const struct msg_meta *m, uint32_t uid2, const char *outcome,
                    const char *reason)
{
    write_line(m, m->uid, uid2, outcome, reason);
}

void ledger_verify(const struct msg_meta *m1, const struct msg_meta *m2, const char *kind)
{
    const struct msg_meta *m = m1 ? m1 : m2;
    if (m == NULL)
        return;
    char outcome[64];
    snprintf(outcome, sizeof outcome, "verify: %s", kind);
    write_line(m, m1 ? m1->uid : 0, m2 ? m2->uid : 0, outcome, NULL);
}
