/* copy: moves the bodies of one folder's missing messages from host1 to
 * host2, a fetcher thread reading (and, when asked, rewriting) the next
 * batch while this one appends. */
#include "copy.h"

#include "ledger.h"

#include "log.h"
#include "progress.h"
#include "stop.h"
#include "sbuf.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A batch: few enough messages that one FETCH answer stays small in memory,
 * enough that round trips stop mattering on a LAN. A folder's first batch
 * is small, so host2 starts appending early; the next ones grow to
 * BATCH_BYTES_MAX, so a big folder pays fewer round trips (each batch is
 * one on each side: what counts on a distant server, issue 16). A batch
 * under its size takes the next message whatever its size: a big message
 * is held whole anyway, and alone it would cost a batch of its own. */
#define BATCH_MSGS 100
#define BATCH_BYTES (1u << 20)
#define BATCH_BYTES_MAX (4u << 20)

/* Where appended messages go, and where their outcome is counted. */
struct batch {
    struct imapc *h2;
    const char *mailbox;
    int keywords_ok;
    copy_error_fn on_error;
    void *ctx;
    struct copy_result *res;
    struct throttle *th;            /* NULL: no rate cap */
    const struct copy_hooks *hooks; /* NULL: none */
    /* host1 UIDs of the messages sent and not answered yet, oldest first
     * (answers come in the order sent) */
    uint32_t *pend;
    size_t npend, cap;
};

static void before(struct batch *b, const struct msg_meta *const *m, size_t n)
{
    if (b->npend + n > b->cap) {
        b->cap = (b->npend + n) * 2;
        b->pend = sbuf_xrealloc(b->pend, b->cap * sizeof *b->pend);
    }
    for (size_t i = 0; i < n; i++)
        b->pend[b->npend++] = m[i]->uid;
    if (b->hooks && b->hooks->before)
        b->hooks->before(b->hooks->ctx, m, n);
}

/* After an answer: host2's UIDs when it gave exactly one per message. */
static void after(struct batch *b, const struct msg_meta *const *m, size_t n, int stored)
{
    size_t k = n < b->npend ? n : b->npend;
    memmove(b->pend, b->pend + k, (b->npend - k) * sizeof *b->pend);
    b->npend -= k;
    if (b->hooks == NULL || b->hooks->after == NULL)
        return;
    uint32_t validity = 0;
    const uint32_t *uids = NULL;
    if (!stored || imapc_appended_uids(b->h2, &validity, &uids) != n)
        uids = NULL;
    b->hooks->after(b->hooks->ctx, m, n, stored, uids);
}

static void done(struct batch *b, const struct msg_meta *m, size_t len)
{
    ledger_message(m, 0, "copied", NULL);
    b->res->copied++;
    b->res->bytes += len;
    throttle_count(b->th, len);
    if (len > b->res->biggest)
        b->res->biggest = len;
}

static int failed(struct batch *b, const struct msg_meta *m, struct status *st)
{
    if (status_lost(st))
        return -1;
    ledger_message(m, 0, "failed", st->msg);
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
        before(b, m + i, 1);
        if (imapc_append(b->h2, b->mailbox, m[i], b->keywords_ok, body[i].data, body[i].len, st) <
            0) {
            if (status_lost(st))
                return -1;
            after(b, m + i, 1, 0);
            failed(b, m[i], st);
            continue;
        }
        after(b, m + i, 1, 1);
        done(b, m[i], body[i].len);
    }
    return 0;
}

/* The answer to a batch sent (imapc_append_send), counted: *refused set when the server stored none
 * of it (the caller retries those one by one once nothing else is in
 * flight). -1: the session is lost. */
static int answered(struct batch *b, const struct msg_meta *const *m, const struct imapc_body *body,
                    size_t n, const struct imapc_ticket *t, int *refused, struct status *st)
{
    *refused = 0;
    if (imapc_append_wait(b->h2, t, st) < 0) {
        if (status_lost(st))
            return -1;
        after(b, m, n, 0);
        *refused = 1;
        return 0;
    }
    after(b, m, n, 1);
    for (size_t j = 0; j < n; j++)
        done(b, m[j], body[j].len);
    return 0;
}

static int append_batch(struct batch *b, const struct msg_meta *const *m,
                        const struct imapc_body *body, size_t n, struct status *st)
{
    size_t per = 0;
    if (!imapc_can_batch(b->h2, &per))
        return append_each(b, m, body, n, st);
    for (size_t i = 0; i < n;) {
        /* A NUL byte is not allowed in an IMAP literal (RFC 3501 CHAR8):
         * such a message goes alone through the synchronising path, so a
         * refusal costs only itself. */
        if (memchr(body[i].data, '\0', body[i].len)) {
            if (append_each(b, m + i, body + i, 1, st) < 0)
                return -1;
            i++;
            continue;
        }
        size_t k = 1;
        while (i + k < n && k < per && !memchr(body[i + k].data, '\0', body[i + k].len))
            k++;
        before(b, m + i, k);
        struct imapc_ticket t;
        int refused = 0;
        if (imapc_append_send(b->h2, b->mailbox, m + i, body + i, k, b->keywords_ok, &t, st) < 0 ||
            answered(b, m + i, body + i, k, &t, &refused, st) < 0)
            return -1;
        /* MULTIAPPEND stores all or nothing: retry one by one to keep the
         * good ones and name the bad one. */
        if (refused && append_each(b, m + i, body + i, k, st) < 0)
            return -1;
        i += k;
    }
    return 0;
}

/* Whether a batch can go out before the previous one's answer is back: one
 * MULTIAPPEND of all its messages (no NUL byte), and no rate cap, which
 * counts what is answered and would be passed by a batch in flight. */
static int can_pipeline(const struct batch *b, const struct imapc_body *body, size_t n)
{
    size_t per = 0;
    if (throttle_on(b->th) || (b->th && b->th->exit_over) || !imapc_can_batch(b->h2, &per) ||
        per < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (memchr(body[i].data, '\0', body[i].len))
            return 0;
    return 1;
}

/* One batch as the fetcher hands it over. Failures of single messages are
 * carried along so that only the main thread reports (log and counters are
 * not shared between threads). */
struct fetched {
    size_t cnt; /* messages that arrived, in order */
    const struct msg_meta *meta[BATCH_MSGS];
    struct imapc_body body[BATCH_MSGS];
    /* 1: body[i] is a rewritten copy from malloc, not libetpan's buffer. */
    unsigned char rewritten[BATCH_MSGS];
    size_t nerr;
    struct status err[BATCH_MSGS];
    const struct msg_meta *errmeta[BATCH_MSGS]; /* whose error err[i] is */
    /* Left out by --skipmess or --maxlinelength: logged and counted by
     * the appender, as the failures are. */
    size_t nskip;
    struct {
        const struct msg_meta *meta;
        char why[96];
    } skip[BATCH_MSGS];
    int end;  /* the last batch */
    int lost; /* host1 gone or interrupted: see lost_st */
    struct status lost_st;
};

/* Host1 fetches the next batch while host2 stores the previous one: the two
 * servers work at the same time. One batch waits in the slot, so at most
 * three are in memory (being fetched, waiting, being appended). */
struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct fetched *slot;
    int cancel; /* the appender gave up: stop fetching */
    struct imapc *h1;
    const struct msg_meta *m1;
    const size_t *idx;
    size_t n;
    const struct transform *tf; /* NULL: bodies go out as fetched */
    const char *mailbox;        /* host2's, for messages */
    uint64_t cap;               /* bytes of the next batch (BATCH_BYTES up to _MAX) */
};

static void fetched_free(struct fetched *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->cnt; i++) {
        if (f->rewritten[i])
            free(f->body[i].data);
        else
            imapc_body_free(f->body[i].data);
    }
    free(f);
}

/* The transforms (transform_message) on one fetched body, in the fetcher
 * thread so the rewriting overlaps host2's APPENDs. The result gets a
 * buffer of its own: its length is what the APPEND announces. 1: a filter
 * left the message out (why says which). On a rule's run-time failure the
 * message is dropped with an error, and the folder goes on. */
static int rewrite(struct pipeline *p, const struct msg_meta *m, struct imapc_body *b, char *why,
                   size_t whylen, struct status *err)
{
    char *out = NULL;
    size_t len = 0;
    struct status st;
    status_clear(&st);
    int rc = transform_message(p->tf, m->uid, b->data, b->len, &out, &len, why, whylen, &st);
    imapc_body_free(b->data);
    b->data = out;
    b->len = len;
    if (rc < 0)
        return status_set(err, STATUS_ERR_APPEND,
                          "host1 message UID %lu for [%.200s] not copied: %s",
                          (unsigned long)m->uid, p->mailbox, st.msg);
    return rc;
}

/* One batch as chosen and asked for, its bodies not read yet. */
struct asked {
    size_t cnt;
    uint32_t uids[BATCH_MSGS];
    const struct msg_meta *meta[BATCH_MSGS];
    int end; /* the last batch */
    struct imapc_ticket t;
};

/* Chooses messages idx[*k...] for the next batch and asks for them. -1:
 * host1 is lost (st). */
static int ask_batch(struct pipeline *p, size_t *k, struct asked *a, struct status *st)
{
    uint64_t bytes = 0;
    a->cnt = 0;
    while (*k + a->cnt < p->n && a->cnt < (*k == 0 ? BATCH_MSGS / 2 : BATCH_MSGS) &&
           (a->cnt == 0 || bytes < p->cap)) {
        a->meta[a->cnt] = &p->m1[p->idx[*k + a->cnt]];
        a->uids[a->cnt] = a->meta[a->cnt]->uid;
        bytes += a->meta[a->cnt]->size;
        a->cnt++;
    }
    *k += a->cnt;
    a->end = *k >= p->n;
    if (p->cap < BATCH_BYTES_MAX)
        p->cap *= 2;
    return imapc_fetch_bodies_send(p->h1, a->uids, a->cnt, &a->t, st);
}

/* Reads the bodies of a batch asked for (and those of the next one, asked
 * since, that come with them). Only a lost session fails: on a refused
 * FETCH the bodies stay NULL, and finish_batch fetches them one at a time,
 * which finds the message the server refuses. */
static int read_batch(struct pipeline *p, const struct asked *a, struct imapc_body *body,
                      const struct asked *next, struct imapc_body *nbody, struct status *st)
{
    if (imapc_fetch_bodies_recv(p->h1, &a->t, a->uids, a->cnt, body, next ? next->uids : NULL,
                                next ? next->cnt : 0, nbody, st) < 0 &&
        status_lost(st))
        return -1;
    return 0;
}

static int any_missing(const struct imapc_body *body, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (body[i].data == NULL)
            return 1;
    return 0;
}

/* Turns a batch read into f: the bodies host1 did not send are fetched one
 * by one (nothing else may be in flight on host1 then), the transforms
 * run. */
static void finish_batch(struct pipeline *p, const struct asked *a, struct imapc_body *body,
                         struct fetched *f)
{
    f->end = a->end;
    for (size_t i = 0; i < a->cnt; i++) {
        if (body[i].data == NULL && imapc_fetch_body(p->h1, a->uids[i], &body[i].data, &body[i].len,
                                                     &f->err[f->nerr]) < 0) {
            if (status_lost(&f->err[f->nerr])) {
                f->lost_st = f->err[f->nerr];
                f->lost = 1;
                for (size_t j = i + 1; j < a->cnt; j++)
                    imapc_body_free(body[j].data);
                return;
            }
            f->errmeta[f->nerr++] = a->meta[i];
            continue;
        }
        if (p->tf) {
            int r = rewrite(p, a->meta[i], &body[i], f->skip[f->nskip].why,
                            sizeof f->skip[f->nskip].why, &f->err[f->nerr]);
            if (r < 0) {
                f->errmeta[f->nerr++] = a->meta[i];
                continue;
            }
            if (r > 0) {
                f->skip[f->nskip++].meta = a->meta[i];
                continue;
            }
            f->rewritten[f->cnt] = 1;
        }
        f->meta[f->cnt] = a->meta[i];
        f->body[f->cnt] = body[i];
        f->cnt++;
    }
}

/* Hands f to the appender; 1 when the appender gave up (f is freed). */
static int hand_over(struct pipeline *p, struct fetched *f)
{
    pthread_mutex_lock(&p->mu);
    while (p->slot && !p->cancel)
        pthread_cond_wait(&p->cv, &p->mu);
    int cancel = p->cancel;
    if (!cancel)
        p->slot = f;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (cancel)
        fetched_free(f);
    return cancel;
}

static void bodies_free(struct imapc_body *body)
{
    for (size_t i = 0; i < BATCH_MSGS; i++)
        imapc_body_free(body[i].data);
    memset(body, 0, BATCH_MSGS * sizeof *body);
}

/* The fetcher thread: the next batch is asked for before this one's bodies
 * are read, so host1 sends while the bodies before travel. At most two
 * batches are asked at once; body and nbody hold only bodies not yet
 * handed over. */
static void *fetcher(void *arg)
{
    struct pipeline *p = arg;
    size_t k = 0;
    struct asked *cur = sbuf_xcalloc(1, sizeof *cur), *nxt = sbuf_xcalloc(1, sizeof *nxt);
    struct imapc_body *body = sbuf_xcalloc(BATCH_MSGS, sizeof *body);
    struct imapc_body *nbody = sbuf_xcalloc(BATCH_MSGS, sizeof *nbody);
    struct status st;
    status_clear(&st);
    int lost = ask_batch(p, &k, cur, &st) < 0;
    int have_body = 0; /* cur's bodies are in body already */
    for (;;) {
        struct fetched *f = sbuf_xcalloc(1, sizeof *f);
        int asked_next = 0, have_nbody = 0;
        if (!lost && stop_requested) {
            status_set(&st, STATUS_SIGNAL, "interrupted");
            lost = 1;
        }
        if (!lost && !cur->end) {
            lost = ask_batch(p, &k, nxt, &st) < 0;
            asked_next = !lost;
        }
        if (!lost && !have_body)
            lost = read_batch(p, cur, body, asked_next ? nxt : NULL, nbody, &st) < 0;
        if (!lost && asked_next && any_missing(body, cur->cnt)) {
            /* The one-by-one FETCHes wait for nothing else in flight. */
            lost = read_batch(p, nxt, nbody, NULL, NULL, &st) < 0;
            have_nbody = !lost;
        }
        if (lost) {
            bodies_free(body);
            f->lost = 1;
            f->lost_st = st;
        } else {
            finish_batch(p, cur, body, f);
            memset(body, 0, BATCH_MSGS * sizeof *body); /* f's now */
        }
        /* Once in the slot, f belongs to the appender, which may free it at
         * any moment: decide about the next round before handing it over. */
        int last = f->end || f->lost;
        if (hand_over(p, f) || last) {
            /* The appender gave up: an answer still on its way would put
             * host1's session out of step for the next command. */
            if (asked_next && !have_nbody && !lost &&
                read_batch(p, nxt, nbody, NULL, NULL, &st) == 0)
                have_nbody = 1;
            bodies_free(nbody);
            break;
        }
        struct asked *t = cur;
        cur = nxt;
        nxt = t;
        struct imapc_body *tb = body;
        body = nbody;
        nbody = tb;
        have_body = have_nbody;
    }
    free(cur);
    free(nxt);
    free(body);
    free(nbody);
    return NULL;
}

/* What a handed-over batch gets through, in host1's bytes, for the
 * progress line. */
static uint64_t fetched_bytes(const struct fetched *f)
{
    uint64_t b = 0;
    for (size_t i = 0; i < f->cnt; i++)
        b += f->meta[i]->size;
    for (size_t i = 0; i < f->nskip; i++)
        b += f->skip[i].meta->size;
    return b;
}

/* The bytes of a batch's messages that go to host2. */
static uint64_t sent_bytes(const struct fetched *f)
{
    uint64_t b = 0;
    for (size_t i = 0; i < f->cnt; i++)
        b += f->meta[i]->size;
    return b;
}

/* Reads the answer to ahead, a batch sent earlier. When the server refused
 * it, the answer to next (sent since; NULL: none) is read too, and only
 * then are the refused messages retried one by one: a synchronising
 * APPEND must have nothing in flight before it. *settled: next was dealt
 * with here. -1: the session is lost. */
static int settle(struct batch *b, struct fetched *ahead, const struct imapc_ticket *ta,
                  struct fetched *next, const struct imapc_ticket *tn, int *settled,
                  struct status *st)
{
    int refused = 0, next_refused = 0;
    *settled = 0;
    if (answered(b, ahead->meta, ahead->body, ahead->cnt, ta, &refused, st) < 0)
        return -1;
    if (!refused)
        return 0;
    if (next) {
        if (answered(b, next->meta, next->body, next->cnt, tn, &next_refused, st) < 0)
            return -1;
        *settled = 1;
    }
    /* MULTIAPPEND stores all or nothing: one by one keeps the good ones
     * and names the bad one. */
    if (append_each(b, ahead->meta, ahead->body, ahead->cnt, st) < 0)
        return -1;
    if (next_refused && append_each(b, next->meta, next->body, next->cnt, st) < 0)
        return -1;
    return 0;
}

static struct fetched *take(struct pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->slot == NULL)
        pthread_cond_wait(&p->cv, &p->mu);
    struct fetched *f = p->slot;
    p->slot = NULL;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return f;
}

int copy_messages(struct imapc *h1, struct imapc *h2, const char *mailbox,
                  const struct msg_meta *m1, const size_t *idx, size_t n, int keywords_ok,
                  copy_error_fn on_error, void *ctx, struct throttle *th,
                  const struct transform *tf, const struct copy_hooks *hooks,
                  struct copy_result *res, struct status *st)
{
    memset(res, 0, sizeof *res);
    if (n == 0)
        return 0;
    struct batch b = {h2, mailbox, keywords_ok, on_error, ctx, res, th, hooks, NULL, 0, 0};
    struct pipeline p;
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    p.h1 = h1;
    p.m1 = m1;
    p.idx = idx;
    p.n = n;
    p.tf = transform_active(tf) ? tf : NULL;
    p.mailbox = mailbox;
    p.cap = BATCH_BYTES;
    /* Signals go to the main thread; the fetcher notices stop_requested. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t tid;
    int threaded = pthread_create(&tid, NULL, fetcher, &p) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!threaded) {
        pthread_mutex_destroy(&p.mu);
        pthread_cond_destroy(&p.cv);
        return status_set(st, STATUS_INTERNAL, "cannot start a thread");
    }
    int rc = 0;
    /* A batch sent whose answer is not read yet: the next one goes out
     * first, so host2 receives while its answer travels back. */
    struct fetched *ahead = NULL;
    struct imapc_ticket ahead_t;
    for (;;) {
        struct fetched *f = take(&p);
        for (size_t i = 0; i < f->nerr; i++) {
            ledger_message(f->errmeta[i], 0, "failed", f->err[i].msg);
            on_error(ctx, &f->err[i]);
            res->failed++;
        }
        for (size_t i = 0; i < f->nskip; i++) {
            const struct msg_meta *m = f->skip[i].meta;
            ledger_message(m, 0, "filtered", f->skip[i].why);
            log_out("- msg UID %lu {%lu} for [%.200s] %s\n", (unsigned long)m->uid,
                    (unsigned long)m->size, mailbox, f->skip[i].why);
            res->skipped++;
            res->bytes_skipped += m->size;
        }
        struct imapc_ticket t;
        int sent = 0, settled = 0;
        if (f->cnt && stop_requested) {
            rc = status_set(st, STATUS_SIGNAL, "interrupted");
        } else if (f->cnt && can_pipeline(&b, f->body, f->cnt)) {
            before(&b, f->meta, f->cnt);
            rc = imapc_append_send(h2, mailbox, f->meta, f->body, f->cnt, keywords_ok, &t, st);
            sent = rc == 0;
        }
        if (ahead) {
            /* Read even when interrupted: the server may have stored it. */
            struct status ast;
            status_clear(&ast);
            int r = rc < 0 && st->code != STATUS_SIGNAL
                        ? -1
                        : settle(&b, ahead, &ahead_t, sent ? f : NULL, &t, &settled, &ast);
            if (r == 0)
                progress_copied(ahead->cnt, sent_bytes(ahead));
            fetched_free(ahead);
            ahead = NULL;
            if (r < 0 && rc == 0) {
                *st = ast;
                rc = -1;
            }
        }
        if (rc == 0 && sent && !settled) {
            ahead = f; /* counted once answered */
            ahead_t = t;
        } else if (rc == 0 && f->cnt && !settled) {
            rc = append_batch(&b, f->meta, f->body, f->cnt, st);
        }
        if (rc == 0 && ahead != f)
            progress_copied(f->cnt + f->nskip + f->nerr, fetched_bytes(f));
        else if (rc == 0)
            progress_copied(f->nskip + f->nerr, fetched_bytes(f) - sent_bytes(f));
        if (rc == 0 && f->cnt)
            throttle_wait(b.th, f->cnt);
        int end = f->end || f->lost;
        if (rc == 0 && throttle_over(b.th)) {
            /* imapsync's --exitwhenover: an error of its own, then the run
             * ends after this folder (a provider's daily upload quota). */
            struct status over;
            status_set(&over, STATUS_TRANSFER_LIMIT,
                       "Maximum bytes transferred reached, %llu >= %llu, ending sync",
                       (unsigned long long)b.th->bytes, (unsigned long long)b.th->exit_over);
            on_error(ctx, &over);
            stop_requested = 1;
            end = 1;
        }
        if (rc == 0 && f->lost) {
            *st = f->lost_st;
            rc = -1;
        }
        if (ahead != f)
            fetched_free(f);
        if (rc < 0 || end)
            break;
    }
    if (ahead) {
        /* The last batch, or host1 lost after it was sent. */
        struct status ast;
        status_clear(&ast);
        int settled = 0;
        int r = rc < 0 && st->code != STATUS_SIGNAL && st->code != STATUS_CONNECT_HOST1
                    ? -1
                    : settle(&b, ahead, &ahead_t, NULL, NULL, &settled, &ast);
        if (r == 0)
            progress_copied(ahead->cnt, sent_bytes(ahead));
        fetched_free(ahead);
        if (r < 0 && rc == 0) {
            *st = ast;
            rc = -1;
        }
    }
    if (rc < 0 && b.npend) {
        res->unanswered = b.pend;
        res->nunanswered = b.npend;
    } else {
        free(b.pend);
    }
    pthread_mutex_lock(&p.mu);
    p.cancel = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    pthread_join(tid, NULL);
    fetched_free(p.slot);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    return rc;
}
