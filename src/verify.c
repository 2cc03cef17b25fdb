/* verify: compares host2 with host1 after (or instead of) a sync, by
 * identity, content digest, flags and INTERNALDATE; reports each
 * difference. Reads only: EXAMINE and BODY.PEEK on both sides. */
#include "verify.h"

#include "ledger.h"

#include "caps.h"
#include "imapc.h"
#include "log.h"
#include "mutf7.h"
#include "sbuf.h"
#include "stop.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The bytes of one digest call: far below what one answer may carry
 * (CAPS_RESPONSE_BYTES), so a folder of big messages takes several. */
#define VERIFY_CALL_BYTES ((uint64_t)64 << 20)
#define VERIFY_CALL_MSGS 500

static const unsigned char zero_digest[32];

const char *verify_kind_name(enum verify_kind k)
{
    switch (k) {
    case VERIFY_MISSING:
        return "missing on host2";
    case VERIFY_EXTRA:
        return "extra on host2";
    case VERIFY_ALTERED:
        return "altered on host2";
    case VERIFY_FLAGS:
        return "flags differ";
    case VERIFY_DATE:
        return "date differs";
    }
    return "?";
}

static int same_words(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static void add(struct verify_diff **out, size_t *n, size_t *cap, enum verify_kind kind, size_t i1,
                size_t i2)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *out = sbuf_xrealloc(*out, *cap * sizeof **out);
    }
    (*out)[(*n)++] = (struct verify_diff){.kind = kind, .i1 = i1, .i2 = i2};
}

size_t verify_compare(const struct msg_meta *m1, const struct msg_meta *m2,
                      const struct msg_plan *plan, const unsigned char (*d1)[32],
                      const unsigned char (*d2)[32], int dates, struct verify_diff **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (size_t k = 0; k < plan->ncopy; k++)
        add(out, &n, &cap, VERIFY_MISSING, plan->copy[k], VERIFY_NONE);
    for (size_t k = 0; k < plan->npairs; k++) {
        size_t i1 = plan->pairs[k].i1, i2 = plan->pairs[k].i2;
        const struct msg_meta *a = &m1[i1], *b = &m2[i2];
        if (d1 && d2 && memcmp(d1[k], d2[k], 32) != 0)
            add(out, &n, &cap, VERIFY_ALTERED, i1, i2);
        if (a->sysflags != b->sysflags || !same_words(msg_keywords(a), msg_keywords(b)))
            add(out, &n, &cap, VERIFY_FLAGS, i1, i2);
        if (dates && a->date != MSG_META_NO_DATE && b->date != MSG_META_NO_DATE &&
            a->date != b->date)
            add(out, &n, &cap, VERIFY_DATE, i1, i2);
    }
    for (size_t k = 0; k < plan->only_on_2; k++)
        add(out, &n, &cap, VERIFY_EXTRA, VERIFY_NONE, plan->only2[k]);
    return n;
}

/* A folder name for people (mutf7_display). */
static void show_name(const char *wire, char *buf, size_t n)
{
    mutf7_display(wire, buf, n);
}

/* The names the sync never sends (engine's sendable_name and seven_bit):
 * it has reported them already. */
static int sendable(const char *name, int host2)
{
    if (*name == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (host2 && *p >= 0x80))
            return 0;
    return 1;
}

/* EXAMINE and the metadata the sync would compare, appended to *m. */
static int read_side(const struct config *cfg, struct imapc *h, int side, const char *name,
                     struct msg_meta **m, size_t *n, struct status *st)
{
    struct imapc_box box;
    struct msg_meta *got = NULL;
    size_t ngot = 0;
    if (imapc_select(h, name, 1, &box, st) < 0 ||
        imapc_fetch_meta(h, box.exists, &got, &ngot, st) < 0)
        return -1;
    if (imapc_search_keep(h, cfg->search[side], got, &ngot, st) < 0) {
        imapc_meta_free(got, ngot);
        return -1;
    }
    *m = sbuf_xrealloc(*m, (*n + ngot + 1) * sizeof **m);
    memcpy(*m + *n, got, ngot * sizeof *got);
    *n += ngot;
    free(got);
    return 0;
}

/* Host1 messages the sync leaves on host1 on purpose (--maxsize,
 * --minsize) are neither expected on host2 nor compared, as the sync
 * neither copies them nor resyncs their flags (engine's size_filter). */
static uint64_t size_filter(const struct config *cfg, const struct msg_meta *m1,
                            struct msg_plan *plan)
{
    if (cfg->maxsize < 0 && cfg->minsize < 0)
        return 0;
    uint64_t left = 0;
    size_t k = 0;
    for (size_t i = 0; i < plan->ncopy; i++) {
        long long size = m1[plan->copy[i]].size;
        if ((cfg->maxsize >= 0 && size > cfg->maxsize) ||
            (cfg->minsize >= 0 && size <= cfg->minsize))
            left++;
        else
            plan->copy[k++] = plan->copy[i];
    }
    plan->ncopy = k;
    k = 0;
    for (size_t i = 0; i < plan->npairs; i++) {
        long long size = m1[plan->pairs[i].i1].size;
        if ((cfg->maxsize >= 0 && size >= cfg->maxsize) ||
            (cfg->minsize >= 0 && size <= cfg->minsize))
            left++;
        else
            plan->pairs[k++] = plan->pairs[i];
    }
    plan->npairs = k;
    return left;
}

/* Digests of the messages at pick[0..n) (indices into m) on the selected
 * folder of h, into d[slot[j]]: in calls bounded by bytes and count. A
 * message above CAPS_MESSAGE_BYTES is never fetched (the transport would
 * end the session on it); its digest stays zero. */
static int digests(struct imapc *h, const struct msg_meta *m, const size_t *pick,
                   const size_t *slot, size_t n, unsigned char (*d)[32], struct status *st)
{
    uint32_t *uids = sbuf_xmalloc((n ? n : 1) * sizeof *uids);
    size_t *where = sbuf_xmalloc((n ? n : 1) * sizeof *where);
    unsigned char(*got)[32] = sbuf_xmalloc((n ? n : 1) * sizeof *got);
    int rc = 0;
    for (size_t j = 0; j < n && rc == 0;) {
        size_t k = 0;
        uint64_t bytes = 0;
        for (; j < n && k < VERIFY_CALL_MSGS; j++) {
            const struct msg_meta *x = &m[pick[j]];
            if ((uint64_t)x->size > CAPS_MESSAGE_BYTES)
                continue;
            if (k > 0 && bytes + x->size > VERIFY_CALL_BYTES)
                break;
            bytes += x->size;
            uids[k] = x->uid;
            where[k++] = slot[j];
        }
        if (stop_requested) {
            rc = status_set(st, STATUS_SIGNAL, "interrupted");
            break;
        }
        rc = imapc_fetch_digests(h, uids, k, got, st);
        for (size_t i = 0; rc == 0 && i < k; i++)
            memcpy(d[where[i]], got[i], 32);
    }
    free(uids);
    free(where);
    free(got);
    return rc;
}

static void show_flags(const struct msg_meta *m, char *buf, size_t n)
{
    static const char *const names[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                        "\\Draft"};
    struct sbuf b = SBUF_INIT;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (m->sysflags & (1u << i))
            sbuf_addf(&b, "%s%s", b.len ? " " : "", names[i]);
    if (m->kw)
        sbuf_addf(&b, "%s%s", b.len ? " " : "", msg_keywords(m));
    snprintf(buf, n, "%s", b.data ? b.data : "");
    /* Keywords come from the server: no control byte reaches the log. */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    sbuf_free(&b);
}

static void show_date(const struct msg_meta *m, char *buf, size_t n)
{
    if (m->date == MSG_META_NO_DATE) {
        snprintf(buf, n, "none");
        return;
    }
    time_t t = (time_t)m->date;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* One line per difference, on standard output and in the log. */
static void say(const char *where, const struct verify_diff *d, const struct msg_meta *m1,
                const struct msg_meta *m2)
{
    const struct msg_meta *a = d->i1 != VERIFY_NONE ? &m1[d->i1] : NULL;
    const struct msg_meta *b = d->i2 != VERIFY_NONE ? &m2[d->i2] : NULL;
    ledger_verify(a, b, verify_kind_name(d->kind));
    char x[512], y[512];
    switch (d->kind) {
    case VERIFY_MISSING:
        log_out("Verify %s: missing on host2: host1 UID %u (%u bytes)\n", where, (unsigned)a->uid,
                (unsigned)a->size);
        break;
    case VERIFY_EXTRA:
        log_out("Verify %s: extra on host2: host2 UID %u (%u bytes)\n", where, (unsigned)b->uid,
                (unsigned)b->size);
        break;
    case VERIFY_ALTERED:
        log_out("Verify %s: altered on host2: host1 UID %u (%u bytes) and host2 UID %u (%u "
                "bytes) are the same message with other contents\n",
                where, (unsigned)a->uid, (unsigned)a->size, (unsigned)b->uid, (unsigned)b->size);
        break;
    case VERIFY_FLAGS:
        show_flags(a, x, sizeof x);
        show_flags(b, y, sizeof y);
        log_out("Verify %s: flags differ: host1 UID %u (%s), host2 UID %u (%s)\n", where,
                (unsigned)a->uid, x, (unsigned)b->uid, y);
        break;
    case VERIFY_DATE:
        show_date(a, x, sizeof x);
        show_date(b, y, sizeof y);
        log_out("Verify %s: date differs: host1 UID %u (%s), host2 UID %u (%s)\n", where,
                (unsigned)a->uid, x, (unsigned)b->uid, y);
        break;
    }
}

/* A folder's failure: reported, and the next folder goes on unless the
 * session is gone. */
static int folder_failure(struct report *rep, const char *where, struct status *st)
{
    if (status_lost(st))
        return -1;
    char what[1200];
    snprintf(what, sizeof what, "verify %s: not compared", where);
    status_prefix(st, st->code, what);
    report_error(rep, st);
    return 0;
}

/* One host2 folder against the host1 folders mapped to it: members[0..nm)
 * are indices into plan->pairs, the leader first. */
static int verify_group(const struct config *cfg, struct imapc *const h[2],
                        const struct folder_plan *plan, const size_t *members, size_t nm,
                        int content, struct report *rep, struct status *st)
{
    const struct folder_plan_pair *lead = &plan->pairs[members[0]];
    char s1[512], s2[512], where[1100];
    show_name(lead->name1, s1, sizeof s1);
    show_name(lead->name2, s2, sizeof s2);
    snprintf(where, sizeof where, "[%s] -> [%s]%s", s1, s2, nm > 1 ? " (merged)" : "");
    ledger_pair(lead->name1, lead->name2);
    struct msg_meta *m1 = NULL, *m2 = NULL;
    size_t n1 = 0, n2 = 0;
    size_t *src = NULL; /* host1 message -> index into members */
    struct msg_plan mp;
    memset(&mp, 0, sizeof mp);
    unsigned char(*d1)[32] = NULL, (*d2)[32] = NULL;
    size_t *pick = NULL, *slot = NULL;
    struct verify_diff *diffs = NULL;
    int rc = 0;

    /* A host2 folder the sync did not create holds nothing. */
    if (lead->create != 1 && read_side(cfg, h[1], 1, lead->name2, &m2, &n2, st) < 0)
        goto fail;
    for (size_t g = 0; g < nm; g++) {
        size_t before = n1;
        if (read_side(cfg, h[0], 0, plan->pairs[members[g]].name1, &m1, &n1, st) < 0)
            goto fail;
        src = sbuf_xrealloc(src, (n1 + 1) * sizeof *src);
        for (size_t i = before; i < n1; i++)
            src[i] = g;
    }
    if (msg_plan_build(m1, n1, m2, n2, cfg->use_size, &mp, st) < 0)
        goto fail;
    uint64_t left = size_filter(cfg, m1, &mp);
    rep->verify_checked += n1 - left;

    if (content && mp.npairs > 0) {
        d1 = sbuf_xcalloc(mp.npairs, sizeof *d1);
        d2 = sbuf_xcalloc(mp.npairs, sizeof *d2);
        pick = sbuf_xmalloc(mp.npairs * sizeof *pick);
        slot = sbuf_xmalloc(mp.npairs * sizeof *slot);
        /* host2 is still on its folder; host1 on its last member. */
        for (size_t k = 0; k < mp.npairs; k++) {
            pick[k] = mp.pairs[k].i2;
            slot[k] = k;
        }
        if (digests(h[1], m2, pick, slot, mp.npairs, d2, st) < 0)
            goto fail;
        for (size_t g = nm; g-- > 0;) {
            size_t np = 0;
            for (size_t k = 0; k < mp.npairs; k++) {
                if (src[mp.pairs[k].i1] != g)
                    continue;
                pick[np] = mp.pairs[k].i1;
                slot[np++] = k;
            }
            if (np == 0)
                continue;
            struct imapc_box box;
            if (g != nm - 1 && imapc_select(h[0], plan->pairs[members[g]].name1, 1, &box, st) < 0)
                goto fail;
            if (digests(h[0], m1, pick, slot, np, d1, st) < 0)
                goto fail;
        }
        /* A body one side did not send (expunged meanwhile, too big to
         * fetch) cannot be compared: said once, not counted as altered. */
        for (size_t k = 0; k < mp.npairs; k++) {
            int z1 = memcmp(d1[k], zero_digest, 32) == 0, z2 = memcmp(d2[k], zero_digest, 32) == 0;
            if (!z1 && !z2)
                continue;
            const struct msg_meta *a = &m1[mp.pairs[k].i1], *b = &m2[mp.pairs[k].i2];
            struct status w;
            if ((uint64_t)a->size > CAPS_MESSAGE_BYTES || (uint64_t)b->size > CAPS_MESSAGE_BYTES)
                log_out("Verify %s: host1 UID %u and host2 UID %u not compared by content "
                        "(over %llu MiB)\n",
                        where, (unsigned)a->uid, (unsigned)b->uid,
                        (unsigned long long)(CAPS_MESSAGE_BYTES >> 20));
            else {
                status_set(&w, STATUS_ERR_FETCH,
                           "verify %s: host%d UID %u: the server sent no body; not compared", where,
                           z1 ? 1 : 2, (unsigned)(z1 ? a->uid : b->uid));
                report_error(rep, &w);
            }
            memset(d1[k], 0, 32);
            memset(d2[k], 0, 32);
        }
    }
    size_t nd = verify_compare(m1, m2, &mp, content ? (const unsigned char(*)[32])d1 : NULL,
                               content ? (const unsigned char(*)[32])d2 : NULL,
                               cfg->syncinternaldates, &diffs);
    for (size_t k = 0; k < nd; k++) {
        say(where, &diffs[k], m1, m2);
        rep->verify_diffs[diffs[k].kind]++;
    }
    rep->verify_folders++;
    log_out("Verify %s: %zu host1 and %zu host2 messages, %zu difference%s\n", where, n1, n2, nd,
            nd == 1 ? "" : "s");
    goto out;

fail:
    rc = folder_failure(rep, where, st);
out:
    free(diffs);
    free(pick);
    free(slot);
    free(d1);
    free(d2);
    msg_plan_free(&mp);
    free(src);
    imapc_meta_free(m1, n1);
    imapc_meta_free(m2, n2);
    return rc;
}

int verify_run(const struct config *cfg, struct imapc *const h[2], const struct folder_plan *plan,
               struct report *rep, struct status *st)
{
    rep->verify = cfg->justverify ? 2 : 1;
    /* The sync rewrote what it copied on request: contents cannot match.
     * (Not transform_active: the filters that only leave messages out do
     * not change what reaches host2.) */
    int content = cfg->transform.nregexmess == 0 && cfg->transform.truncmess < 0 &&
                  cfg->transform.npipemess == 0 && cfg->transform.maxlinelengthcmd == NULL;
    log_out("Verify: comparing host2 with host1%s\n",
            content ? " (identity, contents, flags, dates)"
                    : " (identity, flags, dates; not contents: --regexmess, --truncmess or "
                      "--pipemess rewrote the messages)");
    size_t *members = sbuf_xmalloc((plan->npairs + 1) * sizeof *members);
    int rc = 0;
    for (size_t i = 0; i < plan->npairs && rc == 0; i++) {
        if (plan->pairs[i].leader != i)
            continue;
        if (stop_requested) {
            rc = status_set(st, STATUS_SIGNAL, "interrupted");
            break;
        }
        size_t nm = 0;
        for (size_t j = i; j < plan->npairs; j++)
            if (plan->pairs[j].leader == i && sendable(plan->pairs[j].name1, 0))
                members[nm++] = j;
        if (nm == 0 || members[0] != i || !sendable(plan->pairs[i].name2, 1))
            continue;
        rc = verify_group(cfg, h, plan, members, nm, content, rep, st);
    }
    free(members);
    return rc;
}
