#include "copy.h"

#include "net.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

/* A batch: few enough messages that one FETCH answer stays small in memory,
 * enough that round trips stop mattering on a LAN. */
#define BATCH_MSGS 50
#define BATCH_BYTES (4u << 20)

static int lost(const struct status *st)
{
    return st->code == STATUS_CONNECT_HOST1 || st->code == STATUS_CONNECT_HOST2 ||
           st->code == STATUS_SIGNAL;
}

struct batch {
    struct imapc *h1, *h2;
    const char *mailbox;
    int keywords_ok;
    copy_error_fn on_error;
    void *ctx;
    struct copy_result *res;
};

static void done(struct batch *b, size_t len)
{
    b->res->copied++;
    b->res->bytes += len;
    if (len > b->res->biggest)
        b->res->biggest = len;
}

static int failed(struct batch *b, struct status *st)
{
    if (lost(st))
        return -1;
    b->on_error(b->ctx, st);
    b->res->failed++;
    return 0;
}

/* One synchronising APPEND per message: the fallback path, and the way to
 * find which message of a refused batch is the bad one. */
static int append_each(struct batch *b, const struct msg_meta *const *m,
                       const struct imapc_body *body, size_t n, struct status *st)
{
    for (size_t i = 0; i < n; i++) {
        if (imapc_append(b->h2, b->mailbox, m[i], b->keywords_ok, body[i].data, body[i].len, st) <
            0) {
            if (failed(b, st) < 0)
                return -1;
            continue;
        }
        done(b, body[i].len);
    }
    return 0;
}

static int append_batch(struct batch *b, const struct msg_meta *const *m,
                        const struct imapc_body *body, size_t n, struct status *st)
{
    size_t per = 0;
    if (!imapc_can_batch(b->h2, &per))
        return append_each(b, m, body, n, st);
    for (size_t i = 0; i < n;) {
        /* A NUL byte cannot be sent in a plain literal; libetpan's path
         * sends such a message on its own. */
        if (memchr(body[i].data, '\0', body[i].len)) {
            if (append_each(b, m + i, body + i, 1, st) < 0)
                return -1;
            i++;
            continue;
        }
        size_t k = 1;
        while (i + k < n && k < per && !memchr(body[i + k].data, '\0', body[i + k].len))
            k++;
        if (imapc_append_batch(b->h2, b->mailbox, m + i, body + i, k, b->keywords_ok, st) < 0) {
            if (lost(st))
                return -1;
            /* MULTIAPPEND stores all or nothing: retry one by one to keep the
             * good ones and name the bad one. */
            if (append_each(b, m + i, body + i, k, st) < 0)
                return -1;
        } else {
            for (size_t j = 0; j < k; j++)
                done(b, body[i + j].len);
        }
        i += k;
    }
    return 0;
}

int copy_messages(struct imapc *h1, struct imapc *h2, const char *mailbox,
                  const struct msg_meta *m1, const size_t *idx, size_t n, int keywords_ok,
                  copy_error_fn on_error, void *ctx, struct copy_result *res, struct status *st)
{
    memset(res, 0, sizeof *res);
    struct batch b = {h1, h2, mailbox, keywords_ok, on_error, ctx, res};
    uint32_t uids[BATCH_MSGS];
    struct imapc_body body[BATCH_MSGS];
    const struct msg_meta *meta[BATCH_MSGS], *ameta[BATCH_MSGS];
    struct imapc_body abody[BATCH_MSGS]; /* the ones that arrived, in order */
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0;) {
        if (net_stop) { /* between two batches: nothing is half-written */
            status_set(st, STATUS_SIGNAL, "interrupted");
            return -1;
        }
        size_t cnt = 0;
        uint64_t bytes = 0;
        while (k + cnt < n && cnt < BATCH_MSGS &&
               (cnt == 0 || bytes + m1[idx[k + cnt]].size <= BATCH_BYTES)) {
            meta[cnt] = &m1[idx[k + cnt]];
            uids[cnt] = meta[cnt]->uid;
            bytes += meta[cnt]->size;
            cnt++;
        }
        k += cnt;
        /* On a refused batch FETCH every body is NULL: the loop below then
         * fetches one at a time, which finds the message the server refuses. */
        if (imapc_fetch_bodies(h1, uids, cnt, body, st) < 0 && lost(st))
            return -1;
        size_t got = 0;
        for (size_t i = 0; i < cnt && rc == 0; i++) {
            if (body[i].data == NULL &&
                imapc_fetch_body(h1, uids[i], &body[i].data, &body[i].len, st) < 0) {
                rc = failed(&b, st);
                continue;
            }
            ameta[got] = meta[i];
            abody[got] = body[i];
            got++;
        }
        if (rc == 0)
            rc = append_batch(&b, ameta, abody, got, st);
        for (size_t i = 0; i < cnt; i++)
            imapc_body_free(body[i].data);
    }
    return rc;
}
