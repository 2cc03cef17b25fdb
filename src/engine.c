/* engine: runs a sync: opens both sessions, plans the folders, syncs each
 * pair (metadata, plan, copy, flag resync) and decides what a failure
 * costs: the message, the folder, a reconnect or the run. */
#include "engine.h"

#include "backoff.h"
#include "caps.h"
#include "copy.h"
#include "crossdup.h"
#include "delete_plan.h"
#include "emptyfolders.h"
#include "labels.h"
#include "folder_plan.h"
#include "imapc.h"
#include "joborder.h"
#include "ledger.h"
#include "justconnect.h"
#include "log.h"
#include "msg_plan.h"
#include "mutf7.h"
#include "oauthrefresh.h"
#include "pairmap.h"
#include "progress.h"
#include "sbuf.h"
#include "state.h"
#include "stop.h"
#include "throttle.h"
#include "verify.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A folder name for people (mutf7_display). */
static void show_name(const char *wire, char *buf, size_t n)
{
    mutf7_display(wire, buf, n);
}

/* host2 names are modified UTF-7 (folder_plan encodes raw UTF-8), so an
 * 8-bit byte left in one was not UTF-8 and has no spelling IMAP allows. */
static int seven_bit(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80)
            return 0;
    return 1;
}

/* A name with a control character cannot be a real folder name, and CR or
 * LF would end our command early: such a folder is never sent to a server. */
static int sendable_name(const char *name)
{
    if (*name == '\0') /* only a server's LIST can yield it; no folder has it */
        return 0;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* The run's report is shared by the folder workers: every change to it,
 * and every error line, goes through this lock. */
static pthread_mutex_t rep_mu = PTHREAD_MUTEX_INITIALIZER;

/* --skipcrossduplicates' key set, for the length of engine_run (NULL when
 * the option is off); locked on its own, shared by the folder workers. */
static struct crossdup *run_crossdup;

static void rep_error(struct report *rep, const struct status *st)
{
    pthread_mutex_lock(&rep_mu);
    report_error(rep, st);
    pthread_mutex_unlock(&rep_mu);
}

static void copy_error(void *ctx, const struct status *st)
{
    rep_error(ctx, st);
}

struct folder_result {
    uint64_t copied, skipped, bytes, errors, flag_updates;
    uint64_t msgs1, bytes1, msgs2, bytes2; /* folder sizes before the copy */
    uint64_t bytes_skipped, missing, only2, dup1, dup2;
    uint64_t keywords_dropped; /* host2 refuses new keywords (PERMANENTFLAGS) */
    uint64_t deleted2;         /* removed from host2 by --delete2 */
    uint64_t deleted_dups;     /* of which extra copies (--delete2duplicates) */
    uint64_t deleted1;         /* removed from host1 by --delete1 */
    int incremental;           /* only host1's new messages were listed */
    /* host1 as listed: UIDNEXT is the bound below which every message was
     * looked at (0 = unknown: no state is written), MESSAGES as SELECT
     * said. Never a STATUS from before: a message arriving in between
     * would be copied now and taken for new again next time. */
    struct folder_status seen1;
    uint64_t exists2; /* host2's folder as SELECT (or the state) says, for imapsync's lines */
    uint64_t filtered, bytes_filtered; /* left out by --maxsize / --minsize */
    /* imapsync's "Folder k/N" line: the pair's place in the plan (so the
     * numbers stay right with --workers) and its wire names; of = 0: none. */
    size_t num, of;
    const char *wire1, *wire2;
    uint64_t labels_stored, labels_refused; /* --synclabels / --resynclabels */
    /* host1 UIDs sent by a lost attempt without an answer, sorted (borrowed
     * from struct carried): found on host2 now, they were copied by this
     * run, not there before it */
    const uint32_t *sent_before;
    size_t nsent_before;
    /* this attempt's, when its session is lost (malloc'd) */
    uint32_t *unanswered;
    size_t nunanswered;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Appends src's k UIDs (malloc'd, freed here) to the array *dst of *n. */
static void take_uids(uint32_t **dst, size_t *n, uint32_t *src, size_t k)
{
    if (k) {
        *dst = sbuf_xrealloc(*dst, (*n + k) * sizeof **dst);
        memcpy(*dst + *n, src, k * sizeof *src);
        *n += k;
    }
    free(src);
}

/* A failure inside one folder: a lost session is the caller's to handle
 * (-1); anything else is reported and counted, and the folder goes on. */
static int folder_failure(struct report *rep, struct folder_result *res, const struct status *st)
{
    if (status_lost(st))
        return -1;
    rep_error(rep, st);
    res->errors++;
    return 0;
}

static uint64_t total_bytes(const struct msg_meta *m, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++)
        b += m[i].size;
    return b;
}

/* Brings host2's flags of paired messages in line with host1 (imapsync's
 * default --resyncflags), one STORE per distinct target (msg_plan). */
static int resync_flags(const struct config *cfg, struct imapc *h2, const struct msg_meta *m1,
                        const struct msg_meta *m2, const struct msg_plan *plan, int keywords_ok,
                        struct report *rep, struct folder_result *res, struct status *st)
{
    struct msg_plan_flagfix *fix = NULL;
    size_t n = msg_plan_flag_fixes(m1, m2, plan, keywords_ok, &fix);
    uint32_t *uids = sbuf_xcalloc(n, sizeof *uids);
    int rc = 0;
    res->flag_updates += n;
    for (size_t i = 0; i < n && !cfg->dry;) {
        size_t k = 0;
        for (size_t j = i; j < n && msg_plan_same_target(&fix[j], &fix[i]); j++)
            uids[k++] = fix[j].uid2;
        if (imapc_store_flags(h2, uids, k, fix[i].sysflags, fix[i].keywords, st) < 0) {
            if (status_lost(st)) {
                rc = -1;
                break;
            }
            rep_error(rep, st);
            res->errors++;
        }
        i += k;
    }
    free(fix);
    free(uids);
    return rc;
}

/* --maxsize and --minsize (imapsync's size_filtered): such host1 messages
 * are neither copied nor counted as missing but as skipped, and (with
 * size >= maxsize, as imapsync) their flags are not resynced. */
static void size_filter(const struct config *cfg, const struct folder_plan_pair *fp,
                        const struct msg_meta *m1, struct msg_plan *plan, struct folder_result *res)
{
    if (cfg->maxsize < 0 && cfg->minsize < 0)
        return;
    char show[512];
    show_name(fp->name1, show, sizeof show);
    size_t k = 0;
    for (size_t i = 0; i < plan->ncopy; i++) {
        const struct msg_meta *m = &m1[plan->copy[i]];
        long long size = m->size;
        if (cfg->maxsize >= 0 && size > cfg->maxsize)
            log_out("msg %s/%u skipped (%lld exceeds maxsize limit %lld bytes)\n", show,
                    (unsigned)m->uid, size, cfg->maxsize);
        else if (cfg->minsize >= 0 && size <= cfg->minsize)
            log_out("msg %s/%u skipped (%lld smaller than minsize %lld bytes)\n", show,
                    (unsigned)m->uid, size, cfg->minsize);
        else {
            plan->copy[k++] = plan->copy[i];
            continue;
        }
        ledger_message(m, 0, "filtered",
                       cfg->maxsize >= 0 && size > cfg->maxsize ? "--maxsize" : "--minsize");
        res->filtered++;
        res->bytes_filtered += m->size;
    }
    plan->ncopy = k;
    k = 0;
    for (size_t i = 0; i < plan->npairs; i++) {
        long long size = m1[plan->pairs[i].i1].size;
        if ((cfg->maxsize >= 0 && size >= cfg->maxsize) ||
            (cfg->minsize >= 0 && size <= cfg->minsize))
            continue;
        plan->pairs[k++] = plan->pairs[i];
    }
    plan->npairs = k;
}

/* Messages above CAPS_MESSAGE_BYTES are never fetched: each is reported
 * and left out of the copy list (the transport would end the session on
 * its literal anyway). */
static void skip_too_big(const struct folder_plan_pair *fp, const struct msg_meta *m1,
                         struct msg_plan *plan, struct report *rep, struct folder_result *res)
{
    size_t k = 0;
    for (size_t i = 0; i < plan->ncopy; i++) {
        const struct msg_meta *m = &m1[plan->copy[i]];
        if ((uint64_t)m->size <= CAPS_MESSAGE_BYTES) {
            plan->copy[k++] = plan->copy[i];
            continue;
        }
        char show[512];
        show_name(fp->name1, show, sizeof show);
        struct status st;
        status_set(&st, STATUS_ERR_FETCH,
                   "message UID %u in [%s]: %u bytes, more than the %llu MiB imapferry copies; "
                   "skipped",
                   (unsigned)m->uid, show, (unsigned)m->size,
                   (unsigned long long)(CAPS_MESSAGE_BYTES >> 20));
        ledger_message(m, 0, "too big", st.msg);
        rep_error(rep, &st);
        res->errors++;
        res->missing++;
    }
    plan->ncopy = k;
}

/* --skipcrossduplicates: what another host2 folder got this run is not
 * copied here, and counts as skipped (imapsync's h2_nb_msg_crossdup). */
static void skip_crossdups(const struct config *cfg, const struct folder_plan_pair *fp,
                           const struct msg_meta *m1, const struct msg_meta *m2, size_t n2,
                           struct msg_plan *plan, struct folder_result *res)
{
    size_t *skipped = sbuf_xcalloc(plan->ncopy, sizeof *skipped);
    size_t n = crossdup_filter(run_crossdup, fp->name2, m1, plan->copy, &plan->ncopy, m2, n2,
                               !cfg->dry, skipped);
    char show[512];
    show_name(fp->name1, show, sizeof show);
    for (size_t i = 0; i < n; i++) {
        const struct msg_meta *m = &m1[skipped[i]];
        log_out("msg %s/%u skipped: another host2 folder has it (--skipcrossduplicates)\n", show,
                (unsigned)m->uid);
        ledger_message(m, 0, "already there", "--skipcrossduplicates");
        res->skipped++;
        res->bytes_skipped += m->size;
    }
    free(skipped);
}

static uint64_t count_words(const char *s)
{
    uint64_t n = 0;
    for (const char *p = s; p && *p; p++)
        if (*p != ' ' && (p == s || p[-1] == ' '))
            n++;
    return n;
}

/* --syncflagsaftercopy, for servers that ignore the flags given with
 * APPEND: list host2 again and resync what was just copied. */
static int flags_after_copy(const struct config *cfg, struct imapc *h2, const char *name2,
                            const struct msg_meta *m1, size_t n1, int keywords_ok,
                            struct report *rep, struct folder_result *res, struct status *st)
{
    struct imapc_box b2;
    struct msg_meta *m2 = NULL;
    size_t n2 = 0;
    struct msg_plan plan;
    memset(&plan, 0, sizeof plan);
    int rc = 0;
    if (imapc_select(h2, name2, 0, &b2, st) < 0 ||
        imapc_fetch_meta(h2, b2.exists, &m2, &n2, st) < 0 ||
        msg_plan_build(m1, n1, m2, n2, cfg->use_size, &plan, st) < 0) {
        rc = folder_failure(rep, res, st);
    } else {
        rc = resync_flags(cfg, h2, m1, m2, &plan, keywords_ok, rep, res, st);
    }
    msg_plan_free(&plan);
    imapc_meta_free(m2, n2);
    return rc;
}

/* --expunge1/--expunge2: a plain EXPUNGE of the selected folder, asked
 * for by name; it also removes what others flagged \Deleted. */
static int plain_expunge(const struct config *cfg, struct imapc *h, int side, const char *name,
                         struct report *rep, struct folder_result *res, struct status *st)
{
    char show[512];
    show_name(name, show, sizeof show);
    log_out("host%d: expunging folder [%s]%s\n", side, show, cfg->dry ? " (not done: --dry)" : "");
    if (!cfg->dry && imapc_expunge(h, st) < 0)
        return folder_failure(rep, res, st);
    return 0;
}

/* Flags uids[0..n) \Deleted on h and makes them go as how says. Returns
 * -1 only for a lost session; *done: whether they were flagged. */
static int remove_uids(struct imapc *h, const uint32_t *uids, size_t n,
                       enum delete_plan_expunge how, struct report *rep, struct folder_result *res,
                       int *done, struct status *st)
{
    *done = 0;
    if (imapc_mark_deleted(h, uids, n, st) < 0)
        return folder_failure(rep, res, st);
    *done = 1;
    int r = 0;
    if (how == DELETE_PLAN_UID)
        r = imapc_uid_expunge(h, uids, n, st);
    else if (how == DELETE_PLAN_PLAIN)
        r = imapc_expunge(h, st);
    return r < 0 ? folder_failure(rep, res, st) : 0;
}

static const char *removed_word(const struct config *cfg, enum delete_plan_expunge how)
{
    return cfg->dry                       ? "would be deleted"
           : how == DELETE_PLAN_FLAG_ONLY ? "flagged \\Deleted"
                                          : "deleted";
}

/* --delete2 and --delete2duplicates: removes what d names (owned, freed
 * here) of host2's n2 messages, after the copy, within the ceiling.
 * *expunged: a plain EXPUNGE was sent. Returns -1 only for a lost
 * session. */
static int delete2_listed(const struct config *cfg, struct imapc *h2,
                          const struct folder_plan_pair *fp, struct delete_plan_host2 d, size_t n2,
                          struct report *rep, struct folder_result *res, int *expunged,
                          struct status *st)
{
    size_t n = d.ngone + d.ndups;
    if (n == 0) {
        delete_plan_host2_free(&d);
        return 0;
    }
    char show[512];
    show_name(fp->name2, show, sizeof show);
    const char *opt = cfg->delete2 ? "--delete2" : "--delete2duplicates";
    if (!delete_plan_within_ceiling(n, n2, cfg->delete2ceiling)) {
        status_set(st, STATUS_WITH_ERRORS,
                   "folder [%s]: %s would remove %zu of its %zu messages, more than "
                   "--delete2ceiling %d%%; nothing removed (--delete2ceiling 100 allows it)",
                   show, opt, n, n2, cfg->delete2ceiling);
        rep_error(rep, st);
        res->errors++;
        delete_plan_host2_free(&d);
        return 0;
    }
    enum delete_plan_expunge how =
        delete_plan_expunge_mode(imapc_has_uidplus(h2), cfg->uidexpunge2 != 0, cfg->expunge2 == 1);
    if (how == DELETE_PLAN_REFUSE) {
        status_set(st, STATUS_WITH_ERRORS,
                   "folder [%s]: host2 has no UIDPLUS, so %s could only EXPUNGE the whole "
                   "folder (messages others flagged \\Deleted too); nothing removed (--expunge2 "
                   "allows it)",
                   show, opt);
        rep_error(rep, st);
        res->errors++;
        delete_plan_host2_free(&d);
        return 0;
    }
    uint32_t *uids = sbuf_xcalloc(n, sizeof *uids);
    for (size_t i = 0; i < d.ngone; i++) {
        uids[i] = d.gone[i];
        log_out("msg %s/%u %s on host2 (not on host1, --delete2)\n", show, (unsigned)d.gone[i],
                removed_word(cfg, how));
    }
    for (size_t i = 0; i < d.ndups; i++) {
        uids[d.ngone + i] = d.dups[i];
        log_out("msg %s/%u %s on host2 (duplicate, --delete2duplicates)\n", show,
                (unsigned)d.dups[i], removed_word(cfg, how));
    }
    int rc = 0;
    if (!cfg->dry) {
        int done = 0;
        rc = remove_uids(h2, uids, n, how, rep, res, &done, st);
        if (done) {
            pthread_mutex_lock(&rep_mu);
            rep->deleted2 += n;
            pthread_mutex_unlock(&rep_mu);
            res->deleted2 = n;
            res->deleted_dups = d.ndups;
            *expunged = how == DELETE_PLAN_PLAIN;
        }
    }
    free(uids);
    delete_plan_host2_free(&d);
    return rc;
}

/* --delete2 and --delete2duplicates: host2's messages with no host1
 * counterpart in this pair and host2's extra copies (delete_plan). */
static int delete2(const struct config *cfg, struct imapc *h2, const struct folder_plan_pair *fp,
                   const struct msg_meta *m2, size_t n2, const struct msg_plan *plan,
                   struct report *rep, struct folder_result *res, int *expunged, struct status *st)
{
    struct delete_plan_host2 d;
    delete_plan_host2(m2, n2, plan, (enum msg_plan_size)cfg->use_size, cfg->delete2,
                      cfg->delete2duplicates, &d);
    return delete2_listed(cfg, h2, fp, d, n2, rep, res, expunged, st);
}

/* --delete1: flags on host1 what host2 is known to hold: the pairs, and
 * the copies host2 answered OK (all_copied) or, when some failed or were
 * left out, those a listing of host2 taken now pairs; then expunges them.
 * Returns -1 only for a lost session. */
static int delete1(const struct config *cfg, struct imapc *h1, struct imapc *h2,
                   const struct folder_plan_pair *fp, const struct msg_meta *m1, size_t n1,
                   const struct msg_plan *plan, int all_copied, struct report *rep,
                   struct folder_result *res, struct status *st)
{
    unsigned char *copied = NULL;
    if (!all_copied) {
        copied = sbuf_xcalloc(plan->ncopy + 1, 1);
        struct imapc_box b2;
        struct msg_meta *m2 = NULL;
        size_t n2 = 0;
        struct msg_plan after;
        memset(&after, 0, sizeof after);
        int ok = imapc_select(h2, fp->name2, 0, &b2, st) == 0 &&
                 imapc_fetch_meta(h2, b2.exists, &m2, &n2, st) == 0 &&
                 msg_plan_build(m1, n1, m2, n2, (enum msg_plan_size)cfg->use_size, &after, st) == 0;
        if (ok)
            delete_plan_verified(plan, &after, copied);
        msg_plan_free(&after);
        imapc_meta_free(m2, n2);
        if (!ok) {
            free(copied);
            return folder_failure(rep, res, st); /* nothing is deleted unverified */
        }
    }
    uint32_t *uids = NULL;
    size_t n = delete_plan_host1(m1, plan, copied, &uids);
    free(copied);
    if (n == 0) {
        free(uids);
        return 0;
    }
    char show[512];
    show_name(fp->name1, show, sizeof show);
    enum delete_plan_expunge how =
        delete_plan_expunge_mode(imapc_has_uidplus(h1), cfg->expunge1 != 0, cfg->expunge1 == 1);
    if (how == DELETE_PLAN_REFUSE) {
        status_set(st, STATUS_WITH_ERRORS,
                   "folder [%s]: host1 has no UIDPLUS, so --delete1 could only EXPUNGE the whole "
                   "folder (messages others flagged \\Deleted too); nothing deleted (--expunge1 "
                   "allows it, --noexpunge1 only flags)",
                   show);
        rep_error(rep, st);
        res->errors++;
        free(uids);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        log_out("msg %s/%u %s on host1 (on host2, --delete1)\n", show, (unsigned)uids[i],
                removed_word(cfg, how));
    int rc = 0;
    if (!cfg->dry) {
        int done = 0;
        rc = remove_uids(h1, uids, n, how, rep, res, &done, st);
        if (done) {
            pthread_mutex_lock(&rep_mu);
            rep->deleted1 += n;
            pthread_mutex_unlock(&rep_mu);
            res->deleted1 = n;
        }
    }
    free(uids);
    return rc;
}

/* Adds the counts of the pair's last clean sync to res: what that sync
 * left paired is there still (load_state checked they are consistent). */
static void add_state_counts(const struct state_pair *saved, struct folder_result *res)
{
    const struct state_counts *c = &saved->counts;
    res->msgs1 += c->msgs1;
    res->bytes1 += c->bytes1;
    res->msgs2 += c->msgs2;
    res->bytes2 += c->bytes2;
    res->skipped += c->msgs1 - c->filtered;
    res->bytes_skipped += c->bytes1 - c->bytes_filtered;
    res->filtered += c->filtered;
    res->bytes_filtered += c->bytes_filtered;
    res->only2 += c->only2;
    res->dup1 += c->dup1;
    res->dup2 += c->dup2;
}

/* Whether host1's expunges can be read from VANISHED (QRESYNC): the map
 * names each gone message's copy, and the state's counts say how they
 * were counted. Not under --dry (no map is opened), not where a gone
 * message changes more than its own counts: host1 or host2 duplicates
 * (one of them pairs in its place), rewritten copies (--regexmess,
 * --truncmess, --addheader, --pipemess: the copy's size is not host1's). */
static int vanished_usable(const struct config *cfg, struct imapc *h1, const struct state_pair *inc,
                           const struct pairmap *pm)
{
    const struct state_counts *c = &inc->counts;
    return pm && pm->have_old && imapc_has_qresync(h1) && inc->sts[0].modseq != 0 && c->dup1 == 0 &&
           c->dup2 == 0 && !transform_active(&cfg->transform);
}

/* The shortcut for a pair whose host2 side did not move since its state
 * was written: host1's messages above the state's UIDNEXT are all that
 * can be missing on host2, provided nothing else changed on host1 but
 * what the map can place: flag changes (CHANGEDSINCE) and, with QRESYNC,
 * messages gone (VANISHED) whose copies it names. 1 = *m1 holds exactly
 * the new ones (pm->changes and pm->gone* the rest); 0 = the shortcut
 * does not hold, compare in full; -1 = failed. */
static int new_on_host1(const struct config *cfg, struct imapc *h1, const struct state_pair *inc,
                        uint32_t uidnext, const struct imapc_box *b1, struct pairmap *pm,
                        struct msg_meta **m1, size_t *n1, struct status *st)
{
    const struct folder_status *old = &inc->sts[0];
    int vanished = vanished_usable(cfg, h1, inc, pm);
    if (b1->uidvalidity != old->uidvalidity || uidnext < old->uidnext ||
        (b1->exists < old->messages && !vanished))
        return 0;
    size_t ngone = 0;
    if (vanished) {
        struct imapc_flag_change *ch = NULL;
        struct imapc_uid_range *gone = NULL;
        size_t n = 0, nr = 0;
        if (imapc_changed_vanished(h1, old->uidnext, old->modseq, &ch, &n, &gone, &nr, st) < 0)
            return status_lost(st) ? -1 : 0;
        int placed = 1;
        for (size_t i = 0; cfg->resyncflags && i < n && placed; i++)
            placed = ch[i].uid != 0 && uidmap_find(&pm->old, ch[i].uid) != NULL;
        /* VANISHED may name UIDs never used: only those the map pairs
         * count, and the count of what is left must add up below. */
        ngone = placed ? pairmap_vanished(pm, gone, nr) : 0;
        free(gone);
        const struct state_counts *c = &inc->counts;
        if (!placed || ngone > old->messages || ngone > c->msgs1 - c->filtered) {
            imapc_flag_changes_free(ch, n);
            pm->ngone = 0;
            return 0;
        }
        if (cfg->resyncflags) {
            pm->changes = ch;
            pm->nchanges = n;
        } else {
            imapc_flag_changes_free(ch, n);
        }
    } else if (cfg->resyncflags && pm && pm->have_old) {
        /* The map says where each changed message's copy is: host2 need
         * not be listed. A change the map cannot place means a full
         * compare. */
        struct imapc_flag_change *ch = NULL;
        size_t n = 0;
        if (imapc_changed_flags(h1, old->uidnext, old->modseq, &ch, &n, st) < 0)
            return status_lost(st) ? -1 : 0;
        int placed = 1;
        for (size_t i = 0; i < n && placed; i++)
            placed = ch[i].uid != 0 && uidmap_find(&pm->old, ch[i].uid) != NULL;
        if (!placed) {
            imapc_flag_changes_free(ch, n);
            return 0;
        }
        pm->changes = ch;
        pm->nchanges = n;
    } else if (cfg->resyncflags) {
        size_t changed = 0;
        if (imapc_changed_since(h1, old->uidnext, old->modseq, &changed, st) < 0)
            return status_lost(st) ? -1 : 0;
        if (changed)
            return 0;
    }
    if (imapc_fetch_meta_uids(h1, old->uidnext, uidnext, m1, n1, st) < 0)
        return -1;
    /* State is a cache: what it says was there, less what went, plus
     * what came must be what SELECT counts, or host1 moved otherwise. */
    if ((uint64_t)old->messages - ngone + *n1 != b1->exists) {
        imapc_meta_free(*m1, *n1);
        *m1 = NULL;
        *n1 = 0;
        if (pm)
            pm->ngone = 0;
        return 0;
    }
    return 1;
}

/* The sizes of the copies of host1's gone messages, asked of host2 (the
 * map has no sizes; host2 holds them byte for byte, vanished_usable saw
 * to that): what they added to host1's counts. 0 = known; 1 = host2 does
 * not answer for them all, compare in full; -1 = lost. */
static int gone_sizes(struct imapc *h2, struct pairmap *pm, struct status *st)
{
    if (imapc_fetch_sizes(h2, pm->gone2, pm->ngone, pm->gone_size, st) < 0)
        return status_lost(st) ? -1 : 1;
    return 0;
}

/* What host1's gone messages (pm->gone*) no longer add to the counts the
 * state gave res: a full compare would not list them on host1, and would
 * find their copies on host2 alone. */
static void subtract_gone(const struct pairmap *pm, struct folder_result *res)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < pm->ngone; i++)
        bytes += pm->gone_size[i];
    res->msgs1 -= pm->ngone < res->msgs1 ? pm->ngone : res->msgs1;
    res->skipped -= pm->ngone < res->skipped ? pm->ngone : res->skipped;
    res->bytes1 -= bytes < res->bytes1 ? bytes : res->bytes1;
    res->bytes_skipped -= bytes < res->bytes_skipped ? bytes : res->bytes_skipped;
    res->only2 += pm->ngone;
}

/* --delete2 in an incremental run: the copies of host1's gone messages
 * are host2's only messages without a host1 counterpart (a state that
 * left any is not used with --delete2), so they are what a full
 * compare's delete2 would remove, under the same rules and with the
 * same lines. n2: host2's messages by the state. */
static int delete2_gone(const struct config *cfg, struct imapc *h2,
                        const struct folder_plan_pair *fp, const struct pairmap *pm, uint64_t n2,
                        struct report *rep, struct folder_result *res, int *expunged,
                        struct status *st)
{
    uint32_t *sorted = sbuf_xcalloc(pm->ngone + 1, sizeof *sorted);
    memcpy(sorted, pm->gone2, pm->ngone * sizeof *sorted);
    qsort(sorted, pm->ngone, sizeof *sorted, cmp_u32);
    struct delete_plan_host2 d = {.gone = sorted, .ngone = pm->ngone};
    return delete2_listed(cfg, h2, fp, d, (size_t)n2, rep, res, expunged, st);
}

/* The flag changes new_on_host1 found, sent to the copies the map names.
 * 0 = done; 1 = they cannot be placed without listing host2 (host2 keeps
 * keywords of its own: see msg_plan_flag_fixes); -1 = lost. */
static int changes_by_map(const struct config *cfg, struct imapc *h2, struct pairmap *pm,
                          int keywords_ok, struct report *rep, struct folder_result *res,
                          struct status *st)
{
    if (!keywords_ok && pm->nchanges)
        return 1;
    for (size_t i = 0; i < pm->nchanges; i++) {
        const struct imapc_flag_change *c = &pm->changes[i];
        struct uidmap_entry *e = uidmap_find(&pm->old, c->uid);
        uint32_t flags = uidmap_flags(c->sysflags, c->keywords);
        if (e == NULL || e->flags == flags)
            continue;
        pm->flag_updates++;
        if (cfg->dry)
            continue;
        if (imapc_store_flags(h2, &e->uid2, 1, c->sysflags, c->keywords, st) < 0) {
            if (folder_failure(rep, res, st) < 0)
                return -1;
            continue;
        }
        e->flags = flags;
    }
    return 0;
}

/* host2's side of a folder pair's listing, run beside host1's. */
struct listing {
    const struct config *cfg;
    struct imapc *h;
    const char *name;
    int full;       /* list every message (else only SELECT: the state says what is there) */
    int exists;     /* the folder is there (not one --dry would create) */
    uint32_t guess; /* messages it holds by its STATUS (0: not known) */
    struct imapc_box box;
    struct msg_meta *m;
    size_t n;
    struct status st;
    int rc;
};

static void *list_host2(void *arg)
{
    struct listing *l = arg;
    status_clear(&l->st);
    memset(&l->box, 0, sizeof l->box);
    l->rc = 0;
    if (!l->exists)
        return NULL;
    /* In dry mode host2 is only examined, never selected read-write. */
    if (l->full ? imapc_select_meta(l->h, l->name, l->cfg->dry, l->guess, &l->box, &l->m, &l->n,
                                    &l->st) < 0 ||
                      imapc_search_keep(l->h, l->cfg->search[1], l->m, &l->n, &l->st) < 0
                : imapc_select(l->h, l->name, l->cfg->dry, &l->box, &l->st) < 0)
        l->rc = -1;
    return NULL;
}

/* Host1 is listed, planned and copied a chunk at a time, so a folder's
 * memory is host2's listing plus one chunk of host1's, except where a step
 * needs host1's whole listing at once (a SEARCH filter on host1, deletions,
 * the second flag pass after the copy). */
#define HOST1_CHUNK 20000

/* A host2 listing worth returning its parse garbage to the system for. */
#define BIG_LISTING 100000

/* IMAPFERRY_TEST_HOST1_CHUNK (a hidden test hook, as crashpoint's) makes
 * the chunks small, so the tests cross many chunk boundaries. */
static uint32_t host1_chunk(void)
{
    const char *v = getenv("IMAPFERRY_TEST_HOST1_CHUNK");
    if (v == NULL || *v == '\0')
        return HOST1_CHUNK;
    char *end;
    long n = strtol(v, &end, 10);
    return *end == '\0' && n > 0 && n <= HOST1_CHUNK ? (uint32_t)n : HOST1_CHUNK;
}

static int host1_in_chunks(const struct config *cfg)
{
    return cfg->search[0] == NULL && !cfg->delete1 && !cfg->delete2 && !cfg->delete2duplicates &&
           !cfg->syncflagsaftercopy;
}

/* Replaces *m1 by the next chunk of host1's listing, from sequence number
 * *seq on, without the UIDs an earlier chunk had (an expunge by another
 * client meanwhile shifts the numbers). *n1 = 0: nothing is left. */
static int next_host1_chunk(struct imapc *h1, uint32_t exists, uint32_t *seq, uint32_t *last_uid,
                            struct msg_meta **m1, size_t *n1, struct status *st)
{
    imapc_meta_free(*m1, *n1);
    *m1 = NULL;
    *n1 = 0;
    while (*n1 == 0 && *seq != 0 && *seq <= exists) {
        uint32_t chunk = host1_chunk();
        uint32_t hi = exists - *seq < chunk ? exists : *seq + chunk - 1;
        int ended = 0;
        if (imapc_fetch_meta_seq(h1, *seq, hi, m1, n1, &ended, st) < 0)
            return -1;
        /* A server that announced more than it has answers nothing: stop. */
        *seq = ended || hi == exists ? 0 : hi + 1;
        size_t k = 0;
        uint32_t top = *last_uid;
        for (size_t i = 0; i < *n1; i++) {
            if ((*m1)[i].uid <= *last_uid)
                continue;
            if ((*m1)[i].uid > top)
                top = (*m1)[i].uid;
            (*m1)[k++] = (*m1)[i];
        }
        *n1 = k;
        *last_uid = top;
    }
    return 0;
}

/* Plans and copies one chunk of host1's listing (all of it when not
 * chunked) against host2's index; the counts add up in res, *plan is the
 * chunk's. Returns 0, -1 when a session is lost, 1 for a folder error (st
 * filled either way). */
static int sync_chunk(const struct config *cfg, struct imapc *h1, struct imapc *h2,
                      const struct folder_plan_pair *fp, struct msg_meta *m1, size_t n1,
                      const struct msg_meta *m2, size_t n2, const struct imapc_box *b2,
                      struct msg_plan_index *ix, struct pairmap *pm, int full, struct throttle *th,
                      struct report *rep, struct folder_result *res, struct msg_plan *plan,
                      int *all_copied, struct status *st)
{
    msg_plan_free(plan);
    if (msg_plan_chunk(ix, m1, n1, plan, st) < 0)
        return 1;
    if (pm && full && pairmap_can_keep(pm, plan)) {
        /* The map may pair a copy host2 stored with other bytes: among the
         * host2 messages no chunk paired yet, and taken from then on. */
        plan->only_on_2 = msg_plan_index_unpaired(ix, &plan->only2);
        if (pairmap_keep_pairs(pm, m1, m2, n2, plan))
            msg_plan_index_claim(ix, plan);
        free(plan->only2);
        plan->only2 = NULL;
        plan->only_on_2 = 0;
    }
    res->msgs1 += n1;
    res->bytes1 += total_bytes(m1, n1);
    for (size_t i = 0; i < plan->npairs; i++) {
        const struct msg_meta *a = &m1[plan->pairs[i].i1];
        if (res->nsent_before &&
            bsearch(&a->uid, res->sent_before, res->nsent_before, sizeof a->uid, cmp_u32)) {
            ledger_message(a, m2[plan->pairs[i].i2].uid, "copied", NULL);
            res->copied++;
            res->bytes += a->size;
            continue;
        }
        ledger_message(a, m2[plan->pairs[i].i2].uid, "already there", NULL);
        res->skipped++;
        res->bytes_skipped += a->size;
    }
    if (!cfg->syncinternaldates)
        for (size_t i = 0; i < n1; i++)
            m1[i].date = MSG_META_NO_DATE;
    size_filter(cfg, fp, m1, plan, res);
    skip_too_big(fp, m1, plan, rep, res);
    if (run_crossdup)
        skip_crossdups(cfg, fp, m1, m2, n2, plan, res);
    if (!b2->keywords_ok)
        for (size_t k = 0; k < plan->ncopy; k++)
            res->keywords_dropped += count_words(msg_keywords(&m1[plan->copy[k]]));
    if (cfg->resyncflags && resync_flags(cfg, h2, m1, m2, plan, b2->keywords_ok, rep, res, st) < 0)
        return -1;
    if (cfg->dry) {
        for (size_t k = 0; k < plan->ncopy; k++) {
            ledger_message(&m1[plan->copy[k]], 0, "would be copied", NULL);
            res->bytes += m1[plan->copy[k]].size;
        }
        res->copied += plan->ncopy;
        res->missing += plan->ncopy;
        return 0;
    }
    progress_folder(fp->name1, m1, plan->copy, plan->ncopy);
    struct copy_result cr;
    struct copy_hooks hooks;
    if (pm)
        hooks = pairmap_hooks(pm, b2->uidvalidity, b2->uidnext);
    int rc = copy_messages(h1, h2, fp->name2, m1, plan->copy, plan->ncopy, b2->keywords_ok,
                           copy_error, rep, th, &cfg->transform, pm ? &hooks : NULL, &cr, st);
    res->copied += cr.copied;
    res->bytes += cr.bytes;
    res->errors += cr.failed;
    take_uids(&res->unanswered, &res->nunanswered, cr.unanswered, cr.nunanswered);
    res->filtered += cr.skipped;
    res->bytes_filtered += cr.bytes_skipped;
    res->missing += plan->ncopy - cr.copied;
    if (!(cr.copied == plan->ncopy && cr.failed == 0))
        *all_copied = 0;
    pthread_mutex_lock(&rep_mu);
    if (cr.biggest > rep->biggest)
        rep->biggest = cr.biggest;
    pthread_mutex_unlock(&rep_mu);
    if (rc == 0 && cfg->syncflagsaftercopy && cr.copied > 0)
        rc = flags_after_copy(cfg, h2, fp->name2, m1, n1, b2->keywords_ok, rep, res, st);
    return rc;
}

/* Copies what host2 lacks in one folder pair; returns -1 only when a
 * session is lost (st filled), folder-level problems are reported here.
 * inc: the pair's state when host2 has not changed since (new_on_host1),
 * with host1's UIDNEXT now in uidnext; NULL = compare in full. */
static int sync_messages(const struct config *cfg, struct imapc *h1, struct imapc *h2,
                         const struct folder_plan_pair *fp, int exists2, int merged,
                         const struct state_pair *inc, uint32_t uidnext, const uint32_t guess[2],
                         struct pairmap *pm, struct throttle *th, struct report *rep,
                         struct folder_result *res, struct status *st)
{
    struct imapc_box b1, b2;
    memset(&b2, 0, sizeof b2);
    struct msg_meta *m1 = NULL, *m2 = NULL;
    size_t n1 = 0, n2 = 0;
    struct msg_plan plan;
    memset(&plan, 0, sizeof plan);
    struct msg_plan_index ix;
    memset(&ix, 0, sizeof ix);
    int rc = 0;
    int expunged2 = 0;
    int chunked = 0;
    int end_map = 0;
    uint32_t seq = 1, last_uid = 0; /* chunked: where host1's listing goes on */

    /* host2 is selected and listed in a thread of its own while host1 is:
     * the two sessions' round trips overlap. */
    struct listing l2 = {.cfg = cfg,
                         .h = h2,
                         .name = fp->name2,
                         .full = inc == NULL,
                         .exists = exists2,
                         .guess = guess[1]};
    pthread_t t2;
    int threaded = pthread_create(&t2, NULL, list_host2, &l2) == 0;
    int rc1 = 0;
    /* host1 is only examined, unless a deletion there was asked for. */
    int ro1 = cfg->dry || !(cfg->delete1 || cfg->expunge1 == 1);
    /* Listed together with the SELECT (one round trip) when it will be
     * listed whole anyway: no state to go by, no expunge first, and small
     * enough not to go in chunks. */
    int listed = 0;
    if (inc == NULL && cfg->expunge1 != 1 && guess[0] > 0 &&
        (!host1_in_chunks(cfg) || guess[0] <= host1_chunk())) {
        if (imapc_select_meta(h1, fp->name1, ro1, guess[0], &b1, &m1, &n1, st) < 0)
            goto join;
        listed = 1;
    } else if (imapc_select(h1, fp->name1, ro1, &b1, st) < 0) {
        goto join;
    }
    /* imapsync's --expunge1 also expunges before the folder is listed. */
    if (cfg->expunge1 == 1 && !cfg->delete1) {
        if (plain_expunge(cfg, h1, 1, fp->name1, rep, res, st) < 0) {
            rc1 = -1; /* lost, already reported as such */
            goto join;
        }
        if (!cfg->dry && imapc_select(h1, fp->name1, ro1, &b1, st) < 0)
            goto join;
    }
    if (inc) {
        int r = new_on_host1(cfg, h1, inc, uidnext, &b1, pm, &m1, &n1, st);
        if (r < 0)
            goto join;
        if (r == 0)
            inc = NULL;
    }
    /* A folder that fits in one chunk is listed whole, as before. */
    chunked = inc == NULL && !listed && host1_in_chunks(cfg) && b1.exists > host1_chunk();
    if (chunked && next_host1_chunk(h1, b1.exists, &seq, &last_uid, &m1, &n1, st) < 0)
        goto join;
    if (inc == NULL && !chunked && !listed && imapc_fetch_meta(h1, b1.exists, &m1, &n1, st) < 0)
        goto join;
    res->seen1.uidvalidity = b1.uidvalidity;
    res->seen1.uidnext = inc ? uidnext : b1.uidnext;
    res->seen1.messages = b1.exists;
    if (imapc_search_keep(h1, cfg->search[0], m1, &n1, st) < 0)
        goto join;
    rc1 = 1;
join:
    if (threaded)
        pthread_join(t2, NULL);
    else
        list_host2(&l2);
    b2 = l2.box;
    m2 = l2.m;
    n2 = l2.n;
    res->exists2 = b2.exists;
    if (rc1 < 0) {
        rc = -1;
        goto out;
    }
    if (rc1 == 0)
        goto folder_error;
    if (l2.rc < 0) {
        *st = l2.st;
        goto folder_error;
    }
    if (inc && pm && (pm->nchanges || pm->ngone)) {
        int r = pm->ngone ? gone_sizes(h2, pm, st) : 0;
        if (r == 0 && pm->nchanges)
            r = changes_by_map(cfg, h2, pm, b2.keywords_ok, rep, res, st);
        if (r < 0) {
            rc = -1;
            goto out;
        }
        if (r > 0) {
            /* Both sides are listed after all: host1 again, in full. */
            inc = NULL;
            pm->ngone = 0; /* the full compare sees them gone */
            imapc_meta_free(m1, n1);
            m1 = NULL;
            n1 = 0;
            res->seen1.uidnext = b1.uidnext;
            if (imapc_fetch_meta(h1, b1.exists, &m1, &n1, st) < 0 ||
                imapc_search_keep(h1, cfg->search[0], m1, &n1, st) < 0)
                goto folder_error;
        }
    }
    /* The state's shortcut did not hold on host1 after all: host2 is
     * listed in full now (it is selected already). */
    if (inc == NULL && !l2.full && exists2 &&
        (imapc_fetch_meta(h2, b2.exists, &m2, &n2, st) < 0 ||
         imapc_search_keep(h2, cfg->search[1], m2, &n2, st) < 0))
        goto folder_error;
    if (msg_plan_index_init(&ix, m2, n2, cfg->use_size, st) < 0)
        goto folder_error;
#ifdef __GLIBC__
    /* Parsing a big listing leaves megabytes of freed answers in the
     * listing thread's arena, which glibc keeps resident; host2's listing
     * is held from here to the end, so they go back now. */
    if (n2 >= BIG_LISTING)
        malloc_trim(0);
#endif
    res->msgs2 = n2;
    res->bytes2 = total_bytes(m2, n2);
    ledger_pair(fp->name1, fp->name2);
    int all_copied = 1;
    for (;;) {
        rc = sync_chunk(cfg, h1, h2, fp, m1, n1, m2, n2, &b2, &ix, pm, inc == NULL, th, rep, res,
                        &plan, &all_copied, st);
        if (rc != 0 || !chunked)
            break;
        if (pm) /* the chunk's pairs, before its m1 and plan go */
            pairmap_add_plan(pm, m1, m2, &plan, cfg->resyncflags);
        if (next_host1_chunk(h1, b1.exists, &seq, &last_uid, &m1, &n1, st) < 0)
            goto folder_error;
        if (n1 == 0)
            break;
    }
    if (rc > 0)
        goto folder_error;
    if (inc && pm)
        res->flag_updates += pm->flag_updates; /* sent by changes_by_map */
    if (rc == 0 && pm) {
        if (inc) {
            pairmap_drop_gone(pm);
            pairmap_from_old(pm);
        } else if (chunked)
            end_map = 1;
        else
            pairmap_from_plan(pm, m1, m2, &plan, cfg->resyncflags);
    }
    if (chunked)
        msg_plan_free(&plan); /* its indices are into a chunk that is gone */
    msg_plan_index_finish(&ix, &plan);
    res->only2 = plan.only_on_2;
    res->dup1 = plan.dup1;
    res->dup2 = plan.dup2;
    if (inc) {
        /* What the state's sync left paired is there still; host2 was
         * not listed, so its counts are the state's alone. */
        add_state_counts(inc, res);
        if (pm)
            subtract_gone(pm, res);
        res->incremental = 1;
    }
    if (rc == 0 && (cfg->delete2 || cfg->delete2duplicates) && exists2) {
        /* One pair's plan does not see the other host1 folders' messages:
         * what is "not on host1" here may be in one of them. */
        if (merged)
            log_out("Folder [%s]: several host1 folders go into it; %s leaves it alone\n",
                    fp->name2[0] ? fp->name2 : "?",
                    cfg->delete2 ? "--delete2" : "--delete2duplicates");
        else if (inc && pm && pm->ngone && cfg->delete2)
            rc = delete2_gone(cfg, h2, fp, pm, inc->counts.msgs2, rep, res, &expunged2, st);
        else
            rc = delete2(cfg, h2, fp, m2, n2, &plan, rep, res, &expunged2, st);
    }
    if (rc == 0 && cfg->delete1)
        rc = delete1(cfg, h1, h2, fp, m1, n1, &plan, all_copied, rep, res, st);
    if (rc == 0 && cfg->expunge1 == 1 && !cfg->delete1)
        rc = plain_expunge(cfg, h1, 1, fp->name1, rep, res, st);
    if (rc == 0 && cfg->expunge2 == 1 && exists2 && !expunged2)
        rc = plain_expunge(cfg, h2, 2, fp->name2, rep, res, st);
    goto out;

folder_error:
    rc = folder_failure(rep, res, st);
out:
    msg_plan_free(&plan);
    msg_plan_index_free(&ix);
    imapc_meta_free(m1, n1);
    imapc_meta_free(m2, n2);
    if (end_map) /* the map unpacked once host2's listing is gone */
        pairmap_end_plan(pm);
    return rc;
}

/* Syncs one folder pair. Returns -1 only when a session is lost (or the run
 * interrupted); the caller may then reconnect and call again: fp records
 * what was done (create, subscribe) and *carried the messages copied by the
 * lost attempt, which the next attempt finds on host2. */
struct carried {
    uint64_t msgs, bytes;
    /* host1 UIDs sent without an answer before a session was lost, sorted
     * (malloc'd) */
    uint32_t *unanswered;
    size_t nunanswered;
};

/* --skipemptyfolders: whether host1's folder has no message (an error
 * counts as not empty: the sync itself will report it). */
static int host1_empty(struct imapc *h1, const char *name1, struct status *st)
{
    struct imapc_box b;
    if (imapc_select(h1, name1, 1, &b, st) < 0)
        return status_lost(st) ? -1 : 0;
    return b.exists == 0;
}

/* The options that decide which host1 messages belong on host2 and how
 * they must look there: a pair's state holds only for the same ones. */
static uint64_t plan_fingerprint(const struct config *cfg)
{
    struct sbuf b = SBUF_INIT;
    sbuf_addf(&b, "size=%d resync=%d idates=%d hdrdate=%d max=%lld min=%lld delete2=%d/%d",
              cfg->use_size, cfg->resyncflags, cfg->syncinternaldates, cfg->idatefromheader,
              cfg->maxsize, cfg->minsize, cfg->delete2, cfg->delete2ceiling);
    for (int i = 0; i < 2; i++)
        sbuf_addf(&b, "\nsearch%d=%s", i + 1, cfg->search[i] ? cfg->search[i] : "");
    sbuf_addf(&b, "\ndelete1=%d", cfg->delete1);
    sbuf_addf(&b, "\nexpunge1=%d", cfg->expunge1);
    sbuf_addf(&b, "\ndelete2duplicates=%d", cfg->delete2duplicates);
    sbuf_addf(&b, "\nexpunge2=%d", cfg->expunge2);
    sbuf_addf(&b, "\nuidexpunge2=%d", cfg->uidexpunge2);
    /* What reaches host2 changes with the transforms, not what is paired
     * (identity), but a rerun under other rules compares in full anyway. */
    for (size_t i = 0; i < cfg->regexmess.n; i++)
        sbuf_addf(&b, "\nregexmess=%s", rx_source(cfg->regexmess.r[i]));
    sbuf_addf(&b, "\ntruncmess=%lld", (long long)cfg->truncmess);
    /* --delete2folders and its rules act on the folder list, not on a
     * pair: they do not belong here. */
    for (size_t i = 0; i < cfg->regexflag.n; i++)
        sbuf_addf(&b, "\nregexflag=%s", rx_source(cfg->regexflag.r[i]));
    /* Only when given, so that state written without them still holds. */
    if (cfg->identity_on) {
        const struct msgid_conf *id = &cfg->identity;
        sbuf_addf(&b, "\nidentity all=%d nodomain=%d whole=%d skipheader=%s", id->all, id->nodomain,
                  id->wholeheader, cfg->skipheader ? rx_source(cfg->skipheader) : "");
        for (size_t i = 0; i < id->nfields; i++)
            sbuf_addf(&b, "\nuseheader=%s", id->fields[i]);
    }
    if (cfg->skipcrossduplicates)
        sbuf_adds(&b, "\nskipcrossduplicates");
    uint64_t h = state_fingerprint(0, b.data, b.len);
    sbuf_free(&b);
    return h;
}

/* Both sides' STATUS for the pair's state: 1, or 0 when a side refuses it
 * (that costs only the shortcut), or -1 for a lost session. */
static int pair_status(struct imapc *h1, struct imapc *h2, const struct folder_plan_pair *fp,
                       struct folder_status now[2], struct status *st)
{
    if (imapc_status(h1, fp->name1, &now[0], st) < 0 ||
        imapc_status(h2, fp->name2, &now[1], st) < 0)
        return status_lost(st) ? -1 : 0;
    return 1;
}

/* Reads the pair's state; 0 when there is none usable (a damaged or
 * foreign file is noted, then ignored). */
static int load_state(const struct config *cfg, const struct folder_plan_pair *fp,
                      struct state_pair *saved)
{
    struct status st;
    int r = state_load(cfg->statepath, fp->name1, fp->name2, saved, &st);
    if (r < 0)
        log_out("imapferry: note: %s; the folder is compared in full\n", st.msg);
    if (r != 0 || saved->rules != plan_fingerprint(cfg))
        return 0;
    const struct state_counts *c = &saved->counts;
    if (c->filtered > c->msgs1 || c->bytes_filtered > c->bytes1)
        return 0;
    /* --delete2 left messages on host2 last time (over the ceiling): the
     * user may have raised it since, so look again. */
    if ((cfg->delete2 || cfg->delete2duplicates) && c->only2)
        return 0;
    /* These act on every folder of every run, changed or not. The run-wide
     * set of --skipcrossduplicates needs every host2 folder listed. */
    if (cfg->delete1 || cfg->expunge1 == 1 || cfg->expunge2 == 1 || cfg->skipcrossduplicates)
        return 0;
    return 1;
}

/* Fills res with the counts of the pair's last clean sync, as a full
 * compare would find them now that neither side changed. */
static void counts_from_state(const struct state_pair *saved, struct folder_result *res)
{
    add_state_counts(saved, res);
    res->seen1.messages = saved->sts[0].messages;
    res->exists2 = saved->sts[1].messages;
}

/* Whether only host1 may have moved: host2 exactly as the state left it
 * (flags too, when they are resynced), host1 with the same UIDVALIDITY. */
static int host2_as_left(const struct config *cfg, const struct state_pair *saved,
                         const struct folder_status now[2])
{
    if (!state_side_unchanged(&saved->sts[1], &now[1], cfg->resyncflags) ||
        (cfg->resyncflags && saved->sts[0].modseq == 0))
        return 0;
    return saved->sts[0].uidvalidity == now[0].uidvalidity &&
           now[0].uidnext >= saved->sts[0].uidnext &&
           /* a gap this wide would cost more commands than a full listing */
           now[0].uidnext - saved->sts[0].uidnext <= 1000000u;
}

/* A folder's state waiting for host2's STATUS, which goes out in front of
 * the worker's next SELECT on host2 (imapc_status_later): a round trip less
 * a folder. One per worker. */
struct later_state {
    int pending;
    const char *name1, *name2; /* the plan's */
    struct state_pair p;       /* all but host2's STATUS */
};

/* Writes the state waiting in later, with host2's STATUS as a SELECT took
 * it along, or as asked now when none did and may_ask (h2: the worker's
 * session now, maybe a new one after a reconnect, which asks it too). */
static void later_finish(const struct config *cfg, struct imapc *h2, int may_ask,
                         struct later_state *later)
{
    if (!later->pending)
        return;
    later->pending = 0;
    struct status st;
    int r = h2 ? imapc_status_taken(h2, &later->p.sts[1]) : IMAPC_LATER_REFUSED;
    if (r == IMAPC_LATER_UNSENT && may_ask &&
        imapc_status(h2, later->name2, &later->p.sts[1], &st) == 0)
        r = IMAPC_LATER_ANSWERED;
    if (r == IMAPC_LATER_ANSWERED &&
        state_save(cfg->statepath, later->name1, later->name2, &later->p, &st) < 0)
        log_err("imapferry: warning: %s; the next run compares this folder in full\n", st.msg);
}

/* After a clean sync of the pair: host1's STATUS from before it, host2's
 * from after it, now or (later not NULL) with the worker's next SELECT.
 * Failing to write costs the next run its shortcut only. */
static void save_state(const struct config *cfg, struct imapc *h2,
                       const struct folder_plan_pair *fp, const struct folder_status now[2],
                       const struct folder_result *res, struct pairmap *pm,
                       struct later_state *later)
{
    struct state_pair p;
    memset(&p, 0, sizeof p);
    struct status st;
    p.rules = plan_fingerprint(cfg);
    if (res->seen1.uidnext == 0)
        return;
    p.sts[0] = res->seen1;
    /* The earlier HIGHESTMODSEQ: a flag changed since shows next time. */
    p.sts[0].modseq = now[0].modseq;
    uint64_t done = res->copied, done_bytes = res->bytes;
    p.counts = (struct state_counts){
        .msgs1 = res->msgs1,
        .bytes1 = res->bytes1,
        .msgs2 = res->msgs2 + done - res->deleted2,
        .bytes2 = res->bytes2 + done_bytes,
        .filtered = res->filtered,
        .bytes_filtered = res->bytes_filtered,
        .only2 = res->only2 - res->deleted2,
        .dup1 = res->dup1,
        .dup2 = res->dup2 - res->deleted_dups, /* each was a later copy of its identity */
    };
    /* The map before the state: a state newer than its map would let the
     * next run trust a map that lacks this run's copies. */
    if (pm && pairmap_save(pm, &st) < 0)
        log_err("imapferry: warning: %s; the next run pairs this folder by identity\n", st.msg);
    if (later) {
        later_finish(cfg, h2, 1, later); /* the folder before, whose STATUS this SELECT took */
        if (imapc_status_later(h2, fp->name2) == 0) {
            *later = (struct later_state){1, fp->name1, fp->name2, p};
            return;
        }
    }
    if (imapc_status(h2, fp->name2, &p.sts[1], &st) < 0)
        return; /* a lost session shows at the next command */
    if (state_save(cfg->statepath, fp->name1, fp->name2, &p, &st) < 0)
        log_err("imapferry: warning: %s; the next run compares this folder in full\n", st.msg);
}

/* imapsync's jux_utf8: "[wire]", or "[wire] = [UTF-8]" when they differ;
 * control bytes shown as '?'. */
static void jux(const char *wire, char *buf, size_t n)
{
    char show[512], raw[512];
    show_name(wire, show, sizeof show);
    snprintf(raw, sizeof raw, "%s", wire);
    for (char *p = raw; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (strcmp(raw, show) == 0)
        snprintf(buf, n, "[%s]", raw);
    else
        snprintf(buf, n, "[%s] = [%s]", raw, show);
}

/* The blanks that make s 35 characters wide (UTF-8), as Perl's %-35s. */
static int pad35(const char *s)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        chars += (*p & 0xc0) != 0x80;
    return chars < 35 ? 35 - chars : 0;
}

/* imapsync's "Folder    3/10 [A] -> [B]" line, numbered by plan order. */
static void folder_number(size_t num, size_t of, const char *wire1, const char *wire2)
{
    char k[48], a[1100], b[1100];
    snprintf(k, sizeof k, "%zu/%zu", num, of);
    jux(wire1, a, sizeof a);
    jux(wire2, b, sizeof b);
    /* Perl pads its character strings by characters, not bytes. */
    log_out("Folder %7s %s%*s -> %s%*s\n", k, a, pad35(a), "", b, pad35(b), "");
}

/* Adds one folder pair's result to the run's and logs it; unchanged: the
 * counts come from the pair's state, nothing was looked at. */
static void account_folder(const struct config *cfg, struct report *rep, struct folder_result *res,
                           const struct carried *carried, const char *show1, const char *show2,
                           const char *created, int unchanged)
{
    /* One folder's lines stay together in the log. */
    pthread_mutex_lock(&rep_mu);
    if (res->of) {
        char a[512], b[512];
        folder_number(res->num, res->of, res->wire1, res->wire2);
        jux(res->wire1, a, sizeof a);
        jux(res->wire2, b, sizeof b);
        /* the messages listed (after --search and the like), as imapsync */
        log_out("Host1: folder %s considering %llu messages\n", a, (unsigned long long)res->msgs1);
        log_out("Host2: folder %s considering %llu messages\n", b, (unsigned long long)res->msgs2);
    }
    /* What lost attempts copied is on host2 now and paired: count it as
     * copied, not skipped, and not as host2's state before the run. */
    uint64_t cm = carried->msgs < res->skipped ? carried->msgs : res->skipped;
    uint64_t cb = carried->bytes < res->bytes_skipped ? carried->bytes : res->bytes_skipped;
    res->skipped -= cm;
    res->bytes_skipped -= cb;
    res->msgs2 -= cm;
    res->bytes2 -= cb;
    rep->transferred += res->copied;
    rep->bytes += res->bytes;
    res->copied += cm;
    res->bytes += cb;
    rep->skipped += res->skipped + res->filtered;
    rep->bytes_skipped += res->bytes_skipped + res->bytes_filtered;
    rep->h1_not_h2 += res->missing;
    rep->h2_not_h1 += res->only2;
    rep->dup1 += res->dup1;
    rep->dup2 += res->dup2;
    if (res->errors == 0)
        rep->folders_synced++;
    if (unchanged)
        log_out("Folder [%s] -> [%s]: unchanged on both hosts since the last run, %llu already "
                "there\n",
                show1, show2, (unsigned long long)res->skipped);
    else
        log_out("Folder [%s] -> [%s]: %s%llu %s, %llu already there, %llu flag update%s%s%s\n",
                show1, show2, created, (unsigned long long)res->copied,
                cfg->dry ? "would be copied" : "copied", (unsigned long long)res->skipped,
                (unsigned long long)res->flag_updates, res->flag_updates == 1 ? "" : "s",
                cfg->dry && res->flag_updates ? " (not done: --dry)" : "",
                res->errors ? ", with errors" : "");
    /* imapsync's per-folder lines, which scripts scrape. */
    log_out("Host1: folder [%s] has %llu messages in total (mentioned by SELECT)\n", show1,
            (unsigned long long)res->seen1.messages);
    log_out("Host2: folder [%s] has %llu messages in total (mentioned by SELECT)\n", show2,
            (unsigned long long)res->exists2);
    if (res->incremental)
        log_out("    only the messages new on host1 were listed: host2 is as the last run left "
                "it\n");
    if (res->filtered)
        log_out("    %llu message%s left out by the message filters\n",
                (unsigned long long)res->filtered, res->filtered == 1 ? "" : "s");
    if (res->labels_stored || res->labels_refused)
        log_out("    %llu message%s given host1's Gmail labels, %llu not (a label that is not "
                "printable ASCII is never sent)\n",
                (unsigned long long)res->labels_stored, res->labels_stored == 1 ? "" : "s",
                (unsigned long long)res->labels_refused);
    if (res->keywords_dropped)
        log_out("    %llu keyword%s not stored: host2 accepts no new keywords in [%s] "
                "(PERMANENTFLAGS); the messages are copied\n",
                (unsigned long long)res->keywords_dropped, res->keywords_dropped == 1 ? "" : "s",
                show2);
    /* host2 after = before + what this run added: no second listing needed. */
    uint64_t done = cfg->dry ? 0 : res->copied, done_bytes = cfg->dry ? 0 : res->bytes;
    rep->h1_msgs += res->msgs1;
    rep->h1_bytes += res->bytes1;
    rep->h2_msgs_start += res->msgs2;
    rep->h2_bytes_start += res->bytes2;
    rep->h2_msgs_end += res->msgs2 + done;
    rep->h2_bytes_end += res->bytes2 + done_bytes;
    if (cfg->foldersizes)
        log_out("    sizes: host1 %llu msgs %llu bytes; host2 before %llu msgs %llu bytes, after "
                "%llu msgs %llu bytes\n",
                (unsigned long long)res->msgs1, (unsigned long long)res->bytes1,
                (unsigned long long)res->msgs2, (unsigned long long)res->bytes2,
                (unsigned long long)(res->msgs2 + done),
                (unsigned long long)(res->bytes2 + done_bytes));
    report_folder(rep, &(struct report_folder){.name1 = show1,
                                               .name2 = show2,
                                               .copied = res->copied,
                                               .skipped = res->skipped,
                                               .bytes = res->bytes,
                                               .flag_updates = res->flag_updates,
                                               .errors = res->errors,
                                               .unchanged = unchanged});
    pthread_mutex_unlock(&rep_mu);
}

/* Both sides' STATUS of one folder pair read ahead for all pairs
 * (imapc_status_many); ok = 0: ask when the pair's turn comes. */
struct prefetched {
    struct folder_status now[2];
    int ok;  /* both sides' STATUS is known */
    int ok1; /* host1's is (all that orders the jobs) */
};

/* Reports a pair its state shows unchanged on both sides. */
static void report_unchanged(const struct config *cfg, struct report *rep,
                             const struct state_pair *saved, const struct carried *carried,
                             const struct folder_plan *plan, size_t idx, const char *show1,
                             const char *show2, const char *created)
{
    struct folder_result res;
    memset(&res, 0, sizeof res);
    res.num = idx + 1;
    res.of = plan->npairs;
    res.wire1 = plan->pairs[idx].name1;
    res.wire2 = plan->pairs[idx].name2;
    counts_from_state(saved, &res);
    pthread_mutex_lock(&rep_mu);
    rep->folders_unchanged++;
    pthread_mutex_unlock(&rep_mu);
    account_folder(cfg, rep, &res, carried, show1, show2, created, 1);
}

/* Before any worker starts: the pairs whose read-ahead STATUS matches their
 * state are reported at once and marked done, so that workers (and their
 * sessions) are started only for pairs with work. Pairs with a SUBSCRIBE
 * still to send, or --skipemptyfolders, take the normal way. */
static size_t skip_unchanged(const struct config *cfg, struct folder_plan *plan,
                             const struct prefetched *pre, unsigned char *done, struct report *rep)
{
    size_t n = 0;
    for (size_t i = 0; pre && cfg->statepath && i < plan->npairs; i++) {
        const struct folder_plan_pair *fp = &plan->pairs[i];
        struct state_pair saved;
        if (!pre[i].ok || fp->subscribe || cfg->skipemptyfolders || !load_state(cfg, fp, &saved) ||
            !state_unchanged(&saved, pre[i].now, saved.rules, cfg->resyncflags))
            continue;
        char show1[512], show2[512];
        show_name(fp->name1, show1, sizeof show1);
        show_name(fp->name2, show2, sizeof show2);
        struct carried none = {0, 0, NULL, 0};
        report_unchanged(cfg, rep, &saved, &none, plan, i, show1, show2, "");
        done[i] = 1;
        n++;
    }
    return n;
}

/* --synclabels / --resynclabels need X-GM-EXT-1 on both hosts; without
 * it they are one notice for the run and nothing else. */
static int want_labels(struct imapc *h1, struct imapc *h2)
{
    static int told;
    if (imapc_has_gmail(h1) && imapc_has_gmail(h2))
        return 1;
    if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
        log_err("imapferry: notice: --synclabels/--resynclabels: host%d does not announce "
                "X-GM-EXT-1; no labels are copied\n",
                imapc_has_gmail(h1) ? 2 : 1);
    return 0;
}

static int sync_folder(const struct config *cfg, struct imapc *h1, struct imapc *h2,
                       const struct prefetched *pre, struct folder_plan *plan, size_t idx,
                       struct carried *carried, struct throttle *th, struct report *rep,
                       struct later_state *later, struct status *st)
{
    struct folder_plan_pair *fp = &plan->pairs[idx];
    /* Several host1 folders merged into one host2 folder: the first of them
     * (the leader) carries the create and subscribe for all. */
    struct folder_plan_pair *lead = &plan->pairs[fp->leader];
    char show1[512], show2[512];
    show_name(fp->name1, show1, sizeof show1);
    show_name(fp->name2, show2, sizeof show2);
    if (!sendable_name(fp->name1) || !sendable_name(fp->name2) || !seven_bit(fp->name2)) {
        status_set(st, STATUS_ERR_SELECT,
                   "folder [%s] -> [%s]: the name holds a control character (CR, LF, NUL...) "
                   "or bytes that are not UTF-8; skipped, nothing sent",
                   show1, show2);
        rep_error(rep, st);
        return 0;
    }
    backoff_wait(); /* a server that asked the run to slow down */
    if (cfg->skipemptyfolders) {
        int empty = host1_empty(h1, fp->name1, st);
        if (empty < 0)
            return -1;
        if (empty) {
            pthread_mutex_lock(&rep_mu);
            folder_number(idx + 1, plan->npairs, fp->name1, fp->name2);
            log_out("Folder [%s] -> [%s]: empty on host1, skipped (--skipemptyfolders)\n", show1,
                    show2);
            rep->folders_synced++;
            pthread_mutex_unlock(&rep_mu);
            return 0;
        }
    }
    /* lead->create: 1 = to create, 2 = created by this run. */
    int exists2 = lead->create != 1;
    const char *created = lead->create == 2 && fp == lead ? "created, " : "";
    if (lead->create == 1) {
        if (cfg->dry) {
            created = "would be created, ";
        } else if (imapc_create(h2, fp->name2, st) < 0) {
            if (status_lost(st))
                return -1;
            char what[1100];
            snprintf(what, sizeof what, "could not create folder [%s] from [%s]", show2, show1);
            status_prefix(st, st->code, what);
            rep_error(rep, st);
            return 0;
        } else {
            exists2 = 1;
            lead->create = 2;
            created = "created, ";
        }
    }
    if (lead->subscribe && !cfg->dry && exists2) {
        if (imapc_subscribe(h2, fp->name2, st) < 0) {
            if (status_lost(st))
                return -1;
            rep_error(rep, st);
        }
        lead->subscribe = 0;
    }
    if (cfg->justfolders) {
        pthread_mutex_lock(&rep_mu);
        rep->folders_synced++;
        folder_number(idx + 1, plan->npairs, fp->name1, fp->name2);
        log_out("Folder [%s] -> [%s]: %s\n", show1, show2, *created ? created : "exists");
        pthread_mutex_unlock(&rep_mu);
        return 0;
    }
    struct folder_result res;
    memset(&res, 0, sizeof res);
    res.num = idx + 1;
    res.of = plan->npairs;
    res.wire1 = fp->name1;
    res.wire2 = fp->name2;
    res.sent_before = carried->unanswered;
    res.nsent_before = carried->nunanswered;
    struct folder_status now[2];
    struct state_pair saved;
    const struct state_pair *inc = NULL;
    int have_now = 0;
    if (cfg->statepath && exists2) {
        if (pre && pre->ok) {
            now[0] = pre->now[0];
            now[1] = pre->now[1];
            have_now = 1;
        } else {
            have_now = pair_status(h1, h2, fp, now, st);
        }
        if (have_now < 0)
            return -1;
        if (have_now && load_state(cfg, fp, &saved)) {
            if (state_unchanged(&saved, now, saved.rules, cfg->resyncflags)) {
                report_unchanged(cfg, rep, &saved, carried, plan, idx, show1, show2, created);
                return 0;
            }
            if (host2_as_left(cfg, &saved, now))
                inc = &saved;
        }
    }
    struct pairmap pm, *pmp = NULL;
    if (have_now > 0 && !cfg->dry) {
        pmp = &pm;
        pairmap_open(&pm, cfg->statepath, fp->name1, fp->name2, now[0].uidvalidity,
                     now[1].uidvalidity);
        if (pm.notice.code)
            log_out("imapferry: note: %s; the folder is paired by identity\n", pm.notice.msg);
        if (pm.unfinished) {
            /* Never a blind copy: whatever of that batch reached host2
             * pairs with its host1 message like any other copy. */
            log_out("imapferry: note: an earlier run ended with an APPEND into [%s] unanswered; "
                    "what host2 holds (from UID %u on) is paired by identity first\n",
                    show2, (unsigned)pm.unfinished_uidnext2);
            inc = NULL;
        }
    }
    int merged = fp->leader != idx;
    for (size_t j = idx + 1; j < plan->npairs && !merged; j++)
        merged = plan->pairs[j].leader == idx;
    /* Labels: host2 UIDs from its UIDNEXT before the copy on are this run's. */
    int labels = (cfg->synclabels || cfg->resynclabels) && !cfg->dry && want_labels(h1, h2);
    uint32_t new_from = 0;
    if (labels && exists2) {
        struct folder_status s2;
        if (have_now) {
            new_from = now[1].uidnext;
        } else if (imapc_status(h2, fp->name2, &s2, st) < 0) {
            if (status_lost(st)) {
                if (pmp)
                    pairmap_close(pmp);
                return -1;
            }
            rep_error(rep, st);
            labels = 0;
        } else {
            new_from = s2.uidnext;
        }
    }
    /* How many messages each side holds, by the STATUS read before: the
     * listing goes out with the SELECT. */
    uint32_t guess[2] = {have_now > 0      ? now[0].messages
                         : pre && pre->ok1 ? pre->now[0].messages
                                           : 0,
                         have_now > 0     ? now[1].messages
                         : pre && pre->ok ? pre->now[1].messages
                                          : 0};
    if (sync_messages(cfg, h1, h2, fp, exists2, merged, inc, have_now ? now[0].uidnext : 0, guess,
                      pmp, th, rep, &res, st) < 0) {
        pthread_mutex_lock(&rep_mu);
        rep->transferred += res.copied;
        rep->bytes += res.bytes;
        pthread_mutex_unlock(&rep_mu);
        carried->msgs += res.copied;
        carried->bytes += res.bytes;
        take_uids(&carried->unanswered, &carried->nunanswered, res.unanswered, res.nunanswered);
        if (carried->nunanswered)
            qsort(carried->unanswered, carried->nunanswered, sizeof *carried->unanswered, cmp_u32);
        if (pmp)
            pairmap_close(pmp);
        return -1;
    }
    free(res.unanswered); /* a lost session only leaves some */
    if (labels) {
        struct labels_job job = {fp->name1,         fp->name2, cfg->synclabels,
                                 cfg->resynclabels, new_from,  cfg->use_size};
        struct labels_result lr;
        if (labels_folder(h1, h2, &job, &lr, st) < 0) {
            if (status_lost(st)) {
                if (pmp)
                    pairmap_close(pmp);
                return -1;
            }
            char what[1100];
            snprintf(what, sizeof what, "folder [%s] -> [%s]: Gmail labels", show1, show2);
            status_prefix(st, st->code, what);
            rep_error(rep, st);
            res.errors++;
        }
        res.labels_stored = lr.stored;
        res.labels_refused = lr.refused;
    }
    account_folder(cfg, rep, &res, carried, show1, show2, created, 0);
    if (have_now && !cfg->dry && res.errors == 0 && res.missing == 0)
        save_state(cfg, h2, fp, now, &res, pmp, merged ? NULL : later);
    if (pmp)
        pairmap_close(pmp);
    return 0;
}
/* The imapc settings of side 0 or 1 (strings borrowed from c). */
static void side_conf(const struct config *c, int side, struct imapc_conf *out)
{
    const struct config_side *s = &c->side[side];
    memset(out, 0, sizeof *out);
    out->label = side == 0 ? "host1" : "host2";
    out->host = s->host;
    out->port = s->port;
    out->user = s->user;
    out->password = s->password;
    out->authmech = s->authmech;
    out->authuser = s->authuser;
    out->proxyauth = s->proxyauth;
    out->oauth_token = s->oauth_token;
    out->tls = s->tls;
    out->cafile = s->cafile;
    out->insecure = s->insecure;
    out->compress = s->compress;
    out->timeout = s->timeout;
    out->err_connect = side == 0 ? STATUS_CONNECT_HOST1 : STATUS_CONNECT_HOST2;
    out->err_auth = side == 0 ? STATUS_AUTH_HOST1 : STATUS_AUTH_HOST2;
    /* Only host1 with state reads VANISHED (new_on_host1); elsewhere it
     * would only change how the server answers. */
    out->qresync = side == 0 && c->statepath != NULL;
}

/* Connects and logs in one side with the run's per-session settings. */
static int connect_side(const struct config *cfg, int i, int namespace_later, int no_qresync,
                        struct imapc **h, struct status *st)
{
    struct imapc_conf ic;
    side_conf(cfg, i, &ic);
    ic.namespace_later = namespace_later;
    if (no_qresync)
        ic.qresync = 0;
    if (oauthrefresh_open(&cfg->side[i], &ic, h, st) < 0)
        return -1;
    if (i == 0) {
        imapc_set_add_header(*h, cfg->addheader);
        imapc_set_flag_rules(*h, (const struct rx_rule *const *)cfg->regexflag.r, cfg->regexflag.n);
        imapc_set_date_from_header(*h, cfg->idatefromheader);
    }
    if (cfg->identity_on)
        imapc_set_identity(*h, &cfg->identity);
    return 0;
}

/* The warning an unverified TLS session gets, before anything is sent. */
static void warn_insecure(const struct config *cfg, int i)
{
    const struct config_side *c = &cfg->side[i];
    if (c->insecure && c->tls != CONN_TLS_NONE)
        log_err("imapferry: WARNING: --insecure%d: the certificate of %s is not checked; "
                "anyone on the path can read the password and the mail\n",
                i + 1, c->host);
}

static void say_logged_in(const struct config *cfg, int i, struct imapc *h)
{
    const struct config_side *c = &cfg->side[i];
    const struct folder_ns *ns = imapc_namespace(h);
    char sec[128];
    log_out("host%d: logged in as %s on %s port %d, %s (prefix \"%s\", separator \"%c\")\n", i + 1,
            c->user, c->host, c->port, imapc_security(h, sec, sizeof sec), ns->prefix,
            ns->sep ? ns->sep : ' ');
}

/* Connects and logs in one side, saying so. */
static int open_side(const struct config *cfg, int i, struct imapc **h, struct status *st)
{
    warn_insecure(cfg, i);
    if (connect_side(cfg, i, 0, 0, h, st) < 0)
        return -1;
    say_logged_in(cfg, i, *h);
    return 0;
}

/* fn(host1's job) here and fn(host2's job) in a thread beside it, so the
 * two sessions' round trips overlap; both here, one after the other, when
 * no thread can start. */
static void both_sides(void *(*fn)(void *), void *side1, void *side2)
{
    pthread_t t;
    int threaded = pthread_create(&t, NULL, fn, side2) == 0;
    fn(side1);
    if (threaded)
        pthread_join(t, NULL);
    else
        fn(side2);
}

/* The run's own logins, for the workers started before them (engine_run):
 * a worker connects once both of the run's sessions are logged in, so a
 * wrong password is tried once, and a server that counts sessions has let
 * the run's own in first. */
struct login_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state[2]; /* 0: not yet, 1: logged in, -1: failed */
};

static void gate_set(struct login_gate *g, int side, int state)
{
    pthread_mutex_lock(&g->mu);
    g->state[side] = state;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* 1 once both of the run's sessions are logged in, -1 when one failed. */
static int gate_wait(struct login_gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->state[0] == 0 || g->state[1] == 0)
        pthread_cond_wait(&g->cv, &g->mu);
    int state = g->state[0] < 0 || g->state[1] < 0 ? -1 : 1;
    pthread_mutex_unlock(&g->mu);
    return state;
}

struct opening {
    const struct config *cfg;
    int side, list;
    int worker; /* a worker's session: its namespace is never looked at */
    /* The run's session: says how its login went. A worker's: waits for
     * that (and needs no QRESYNC: it was started for a run without state). */
    struct login_gate *gate;
    struct imapc *h;
    struct folder *f;
    size_t nf;
    struct status st;
    int rc;
};

static void *open_one(void *arg)
{
    struct opening *o = arg;
    if (o->worker && o->gate && gate_wait(o->gate) < 0) {
        o->rc = status_set(&o->st, STATUS_INTERNAL, "the run's login failed");
        return NULL;
    }
    o->rc = connect_side(o->cfg, o->side,
                         o->list     ? 1
                         : o->worker ? 2
                                     : 0,
                         o->worker && o->gate != NULL, &o->h, &o->st);
    if (!o->worker && o->gate)
        gate_set(o->gate, o->side, o->rc == 0 ? 1 : -1);
    if (o->rc == 0 && o->list)
        o->rc = imapc_list(o->h, &o->f, &o->nf, &o->st);
    return NULL;
}

/* Both sides log in, and list their folders when list is set, at the same
 * time: each login is several round trips (greeting, TLS, LOGIN,
 * CAPABILITY, NAMESPACE). host1's failure is the one reported when both
 * fail, as when they were opened in turn. */
static int open_both(const struct config *cfg, struct imapc **h, int list, struct folder **f,
                     size_t *nf, struct login_gate *gate, struct status *st)
{
    struct opening o[2] = {{.cfg = cfg, .side = 0, .list = list, .gate = gate},
                           {.cfg = cfg, .side = 1, .list = list, .gate = gate}};
    warn_insecure(cfg, 0);
    warn_insecure(cfg, 1);
    both_sides(open_one, &o[0], &o[1]);
    for (int i = 0; i < 2; i++) {
        if (o[i].rc < 0) {
            *st = o[i].st;
            for (int k = 0; k < 2; k++) {
                imapc_folders_free(o[k].f, o[k].nf);
                imapc_close(o[k].h);
            }
            return -1;
        }
    }
    for (int i = 0; i < 2; i++) {
        h[i] = o[i].h;
        f[i] = o[i].f;
        nf[i] = o[i].nf;
        say_logged_in(cfg, i, h[i]);
    }
    return 0;
}

static int lost_side(const struct status *st)
{
    return st->code == STATUS_CONNECT_HOST1 ? 0 : st->code == STATUS_CONNECT_HOST2 ? 1 : -1;
}

/* Sleeps, but wakes up for a stop request. */
static void pause_ms(int ms)
{
    for (; ms > 0 && !stop_requested; ms -= 100) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Syncs one folder, reconnecting a lost side up to its --reconnectretryN
 * times with a growing pause. The plan is by message identity, so trying
 * the folder again copies only what the lost attempt did not. */
/* Replaces a lost session, pausing longer after each try; counts the tries
 * in *tries against the side's --reconnectretryN. */
static int reopen_side(const struct config *cfg, struct imapc **h, int side, int *tries,
                       struct report *rep, struct status *st)
{
    imapc_close(h[side]);
    h[side] = NULL;
    for (;;) {
        (*tries)++;
        pause_ms(1000 << (*tries - 1 < 4 ? *tries - 1 : 4));
        if (open_side(cfg, side, &h[side], st) == 0) {
            pthread_mutex_lock(&rep_mu);
            rep->reconnections[side]++;
            pthread_mutex_unlock(&rep_mu);
            return 0;
        }
        if (lost_side(st) != side || stop_requested || *tries >= cfg->side[side].reconnect)
            return -1;
    }
}

/* --debug: what a folder cost in round trips, the number latency
 * multiplies (issue 16). */
static void say_round_trips(const struct config *cfg, const char *name1, const uint64_t trips[2])
{
    if (!cfg->debug)
        return;
    char show[512];
    show_name(name1, show, sizeof show);
    log_out("Folder [%s]: round trips: host1 %llu, host2 %llu\n", show,
            (unsigned long long)trips[0], (unsigned long long)trips[1]);
}

static int sync_folder_tries(const struct config *cfg, struct imapc **h,
                             const struct prefetched *pre, struct folder_plan *plan, size_t idx,
                             struct carried *carried, struct throttle *th, struct report *rep,
                             struct later_state *later, struct status *st);

/* Syncs one folder pair, reconnecting a lost session and going on, up to
 * the --reconnectretryN limits. */
static int sync_folder_retrying(const struct config *cfg, struct imapc **h,
                                const struct prefetched *pre, struct folder_plan *plan, size_t idx,
                                struct throttle *th, struct report *rep, struct later_state *later,
                                struct status *st)
{
    struct carried carried = {0, 0, NULL, 0};
    int rc = sync_folder_tries(cfg, h, pre, plan, idx, &carried, th, rep, later, st);
    free(carried.unanswered);
    return rc;
}

static int sync_folder_tries(const struct config *cfg, struct imapc **h,
                             const struct prefetched *pre, struct folder_plan *plan, size_t idx,
                             struct carried *carried, struct throttle *th, struct report *rep,
                             struct later_state *later, struct status *st)
{
    int tries[2] = {0, 0};
    uint64_t trips[2] = {0, 0};
    for (;;) {
        uint64_t was[2] = {imapc_round_trips(h[0]), imapc_round_trips(h[1])};
        int r = sync_folder(cfg, h[0], h[1], pre, plan, idx, carried, th, rep, later, st);
        for (int i = 0; i < 2; i++)
            trips[i] += imapc_round_trips(h[i]) - was[i];
        if (r == 0) {
            say_round_trips(cfg, plan->pairs[idx].name1, trips);
            return 0;
        }
        int side = lost_side(st);
        if (side < 0 || stop_requested || cfg->side[side].reconnect == 0)
            return -1;
        if (tries[side] >= cfg->side[side].reconnect) {
            /* The same folder keeps breaking the session (a response libetpan
             * cannot parse, a server that drops it there): give it up and go
             * on with a fresh session, or every rerun would stop here. */
            char show[512], what[700];
            show_name(plan->pairs[idx].name1, show, sizeof show);
            snprintf(what, sizeof what, "folder [%s] skipped after %d reconnection%s", show,
                     tries[side], tries[side] == 1 ? "" : "s");
            /* A folder error now, not a connection failure: the run goes on. */
            status_prefix(st, STATUS_WITH_ERRORS, what);
            rep_error(rep, st);
            int again = 0;
            return reopen_side(cfg, h, side, &again, rep, st);
        }
        log_err("imapferry: %s; reconnecting to host%d (%d of %d)\n", st->msg, side + 1,
                tries[side] + 1, cfg->side[side].reconnect);
        if (reopen_side(cfg, h, side, &tries[side], rep, st) < 0)
            return -1;
    }
}

/* One side's share of prepare_folders. */
struct preparing {
    struct imapc *h;
    const char **names;
    unsigned *todo;
    size_t *pair; /* the plan's pair of each name */
    int *done;
    struct folder_status *got;
    size_t n;
    struct status st;
    int rc;
};

static void *prepare_side(void *arg)
{
    struct preparing *a = arg;
    status_clear(&a->st);
    a->rc = a->n ? imapc_prepare_many(a->h, a->names, a->todo, a->n, a->done, a->got, &a->st) : 0;
    return NULL;
}

static void preparing_add(struct preparing *a, const char *name, unsigned todo, size_t pair)
{
    a->names[a->n] = name;
    a->todo[a->n] = todo;
    a->pair[a->n++] = pair;
}

/* Before the folder loop, all at once: a round trip or two in all instead
 * of a few per folder, host1's and host2's at the same time.
 * - host2's folders the run will create (and subscribe). Not when the run
 *   may stop before a folder's turn (--exitwhenover, --maxbytesafter) or
 *   skip it (--skipemptyfolders): such a folder must stay uncreated. A
 *   refusal leaves the pair to try again in its turn, which reports it.
 * - Both sides' STATUS (*out): with state, every folder pair starts with
 *   it. Pairs merged into one host2 folder are left out (each one's
 *   sync changes what the next one sees), as are folders left to create.
 *   Without state, with several workers: host1's message counts put the
 *   biggest folders first (job_order); both sides' say how many messages
 *   each SELECT asks the listing of along. */
static int prepare_folders(const struct config *cfg, struct imapc **h, struct folder_plan *plan,
                           struct prefetched **out, struct status *st)
{
    *out = NULL;
    size_t n = plan->npairs;
    int create = !cfg->dry && !cfg->exitwhenover && !cfg->maxbytesafter && !cfg->skipemptyfolders;
    int status = (cfg->statepath || (cfg->workers > 1 && !cfg->dry)) && !cfg->justfolders;
    struct preparing a[2];
    for (int side = 0; side < 2; side++) {
        a[side] = (struct preparing){.h = h[side]};
        a[side].names = sbuf_xcalloc(n + 1, sizeof *a[side].names);
        a[side].todo = sbuf_xcalloc(n + 1, sizeof *a[side].todo);
        a[side].pair = sbuf_xcalloc(n + 1, sizeof *a[side].pair);
        a[side].done = sbuf_xcalloc(n + 1, sizeof *a[side].done);
        a[side].got = sbuf_xcalloc(n + 1, sizeof *a[side].got);
    }
    for (size_t i = 0; i < n; i++) {
        const struct folder_plan_pair *p = &plan->pairs[i];
        if (!sendable_name(p->name1) || !sendable_name(p->name2))
            continue;
        unsigned todo2 = 0;
        if (create && p->leader == i && (p->create == 1 || p->subscribe) && seven_bit(p->name2))
            todo2 =
                (p->create == 1 ? IMAPC_DO_CREATE : 0) | (p->subscribe ? IMAPC_DO_SUBSCRIBE : 0);
        int alone = p->leader == i;
        for (size_t j = i + 1; j < n && alone; j++)
            alone = plan->pairs[j].leader != i;
        if (status && alone && (p->create != 1 || (todo2 & IMAPC_DO_CREATE))) {
            preparing_add(&a[0], p->name1, IMAPC_DO_STATUS, i);
            todo2 |= IMAPC_DO_STATUS;
        }
        if (todo2)
            preparing_add(&a[1], p->name2, todo2, i);
    }
    both_sides(prepare_side, &a[0], &a[1]);
    int rc = 0;
    for (int side = 0; side < 2 && rc == 0; side++) {
        if (a[side].rc < 0) {
            *st = a[side].st;
            rc = -1;
        }
    }
    struct prefetched *pre = rc == 0 && status && n ? sbuf_xcalloc(n, sizeof *pre) : NULL;
    for (size_t j = 0; j < a[1].n && rc == 0; j++) {
        struct folder_plan_pair *p = &plan->pairs[a[1].pair[j]];
        if ((a[1].todo[j] & IMAPC_DO_CREATE) && (a[1].done[j] & IMAPC_CREATED))
            p->create = 2;
        if ((a[1].todo[j] & IMAPC_DO_SUBSCRIBE) && (a[1].done[j] & IMAPC_SUBSCRIBED))
            p->subscribe = 0;
        if (pre && (a[1].done[j] & IMAPC_STATUSED)) {
            pre[a[1].pair[j]].now[1] = a[1].got[j];
            pre[a[1].pair[j]].ok = 1; /* and host1's, below */
        }
    }
    for (size_t j = 0; j < a[0].n && pre; j++) {
        struct prefetched *q = &pre[a[0].pair[j]];
        q->now[0] = a[0].got[j];
        q->ok1 = (a[0].done[j] & IMAPC_STATUSED) != 0;
    }
    for (size_t i = 0; i < n && pre; i++)
        pre[i].ok = pre[i].ok && pre[i].ok1;
    for (int side = 0; side < 2; side++) {
        free(a[side].names);
        free(a[side].todo);
        free(a[side].pair);
        free(a[side].done);
        free(a[side].got);
    }
    *out = pre;
    return rc;
}

/* The folder loop, shared by --workers connection pairs. A job is a
 * folder pair together with the pairs merged into the same host2 folder
 * (they share its CREATE, so one worker does them in plan order). Worker 0
 * uses the run's first sessions; the others log in on their own, in
 * parallel, and a server that refuses one more session only means fewer
 * workers. The first failure that ends the run stops every worker after
 * its current folder. */
struct workers {
    const struct config *cfg;       /* read once go is set */
    const struct config *login_cfg; /* what a worker logs in with */
    struct login_gate gate;         /* workers started before the run's login wait here */
    struct folder_plan *plan;
    const struct prefetched *pre; /* per pair, or NULL */
    const unsigned char *done;    /* per pair: nothing left to do (skip_unchanged) */
    struct throttle *th;
    struct report *rep;
    const size_t *order; /* the leaders in the order they are handed out */
    size_t njobs;
    pthread_mutex_t mu; /* guards go, next, failed, st, running */
    pthread_cond_t cv;  /* go was set */
    int go;             /* the jobs are there (or none will come) */
    size_t next;        /* next index into order to hand out */
    int failed;
    struct status st; /* the failure that ended the run */
    unsigned running;
    struct worker *k; /* k[0] runs on the run's own sessions */
    unsigned started; /* workers started, k[0] included */
    int early;        /* started before the run's login */
};

struct worker {
    struct workers *w;
    struct imapc *h[2];
    unsigned id;
    pthread_t thread;
};

/* The next job's leader, or SIZE_MAX when there is none (or the run ends). */
static size_t next_job(struct workers *w)
{
    size_t idx = SIZE_MAX;
    pthread_mutex_lock(&w->mu);
    if (!w->failed && !stop_requested && w->next < w->njobs)
        idx = w->order[w->next++];
    pthread_mutex_unlock(&w->mu);
    return idx;
}

static void work(struct worker *k)
{
    struct workers *w = k->w;
    struct later_state later = {0};
    for (size_t lead; (lead = next_job(w)) != SIZE_MAX;) {
        for (size_t i = lead; i < w->plan->npairs && !stop_requested; i++) {
            if (w->plan->pairs[i].leader != lead)
                continue;
            struct status st;
            status_clear(&st);
            const struct prefetched *pre = w->pre ? &w->pre[i] : NULL;
            if (sync_folder_retrying(w->cfg, k->h, pre, w->plan, i, w->th, w->rep, &later, &st) <
                0) {
                pthread_mutex_lock(&w->mu);
                if (!w->failed) {
                    w->failed = 1;
                    w->st = st;
                }
                pthread_mutex_unlock(&w->mu);
                /* What a SELECT brought is written; nothing more is asked
                 * of a session that may be gone. */
                later_finish(w->cfg, k->h[1], 0, &later);
                return;
            }
        }
    }
    later_finish(w->cfg, k->h[1], 1, &later);
}

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    /* Both sessions log in at the same time: each login is a few round
     * trips that a distant server makes long. */
    struct login_gate *gate = k->w->early ? &k->w->gate : NULL;
    struct opening o[2] = {{.cfg = k->w->login_cfg, .side = 0, .worker = 1, .gate = gate},
                           {.cfg = k->w->login_cfg, .side = 1, .worker = 1, .gate = gate}};
    both_sides(open_one, &o[0], &o[1]);
    k->h[0] = o[0].h;
    k->h[1] = o[1].h;
    /* Logged in before the plan was there, maybe: wait for the jobs. */
    pthread_mutex_lock(&k->w->mu);
    while (!k->w->go)
        pthread_cond_wait(&k->w->cv, &k->w->mu);
    int failed = k->w->failed;
    pthread_mutex_unlock(&k->w->mu);
    if (failed) {
        /* the run ended before the jobs: nothing to say */
    } else if (o[0].rc < 0 || o[1].rc < 0) {
        /* Providers cap sessions per account; fewer workers still finish. */
        log_out("worker %u: no session (%s); the other workers go on\n", k->id + 1,
                o[o[0].rc < 0 ? 0 : 1].st.msg);
    } else {
        work(k);
    }
    for (int i = 0; i < 2; i++) {
        imapc_close(k->h[i]);
        k->h[i] = NULL;
    }
    return NULL;
}

/* How many workers a run may use, before its jobs are known: --dry is read
 * for its plan, so one worker keeps it in plan order; a byte limit that
 * ends the run after the folder crossing it (--exitwhenover,
 * --maxbytesafter) means one folder at a time too: other workers would be
 * crossing it in their folders meanwhile. */
static unsigned workers_wanted(const struct config *cfg)
{
    return cfg->workers > 1 && !cfg->dry && !cfg->exitwhenover && !cfg->maxbytesafter
               ? (unsigned)cfg->workers
               : 1;
}

static void workers_init(struct workers *w, const struct config *cfg)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->login_cfg = cfg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_mutex_init(&w->gate.mu, NULL);
    pthread_cond_init(&w->gate.cv, NULL);
    status_clear(&w->st);
}

/* Starts workers 1 to n-1: each logs in on its own and waits for the jobs
 * (workers_go). early: before the run's own login (see login_gate). */
static void workers_start(struct workers *w, unsigned n, int early)
{
    w->early = early;
    w->k = sbuf_xcalloc(n, sizeof *w->k);
    w->started = 1;
    for (unsigned i = 1; i < n; i++) {
        w->k[i].w = w;
        w->k[i].id = i;
        if (pthread_create(&w->k[i].thread, NULL, worker_main, &w->k[i]) != 0)
            break;
        w->started++;
    }
}

static void workers_go(struct workers *w)
{
    pthread_mutex_lock(&w->mu);
    w->go = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Lets the workers finish (with no jobs, when the run ends before them)
 * and releases them; again is harmless. */
static void workers_end(struct workers *w)
{
    if (w->k == NULL)
        return;
    workers_go(w);
    for (unsigned i = 1; i < w->started; i++)
        pthread_join(w->k[i].thread, NULL);
    free(w->k);
    w->k = NULL;
}

static int run_workers(const struct config *cfg, struct imapc **h, struct folder_plan *plan,
                       const struct prefetched *pre, struct throttle *th, struct report *rep,
                       struct workers *w, struct status *st)
{
    w->plan = plan;
    w->pre = pre;
    w->th = th;
    w->rep = rep;
    unsigned char *done = sbuf_xcalloc(plan->npairs + 1, 1);
    w->done = done;
    skip_unchanged(cfg, plan, pre, done, rep);
    unsigned n = workers_wanted(cfg);
    /* Weighed by host1's message counts as the read-ahead STATUS gave them. */
    uint64_t *weight = sbuf_xcalloc(plan->npairs + 1, sizeof *weight);
    for (size_t i = 0; i < plan->npairs; i++)
        weight[i] = pre && pre[i].ok1 ? pre[i].now[0].messages : JOBORDER_UNKNOWN;
    size_t *order = NULL;
    size_t jobs = joborder_build(plan, weight, done, n > 1, &order);
    free(weight);
    if (n > jobs)
        n = jobs > 0 ? (unsigned)jobs : 1;
    pthread_mutex_lock(&w->mu);
    w->order = order;
    w->njobs = jobs;
    pthread_mutex_unlock(&w->mu);
    if (w->k == NULL) /* not started ahead (engine_run) */
        workers_start(w, n, 0);
    if (w->started > 1)
        log_out("%u workers, each with its own pair of sessions\n", w->started);
    workers_go(w);
    w->k[0].w = w;
    w->k[0].h[0] = h[0];
    w->k[0].h[1] = h[1];
    work(&w->k[0]);
    /* Worker 0 may have reconnected: the caller closes what it holds now. */
    h[0] = w->k[0].h[0];
    h[1] = w->k[0].h[1];
    workers_end(w);
    free(done);
    free(order);
    if (w->failed) {
        *st = w->st;
        return -1;
    }
    return 0;
}

/* --delete2folders, once after the sync: removes the host2 folders no
 * host1 folder maps to (delete_plan), children first; one that still holds
 * messages only under --delete2ceiling 100. Runs after the workers, on the
 * run's own session. Returns -1 only for a lost session. */
static int delete2_folders(const struct config *cfg, struct imapc *h2, struct folder **f,
                           const size_t *nf, const struct folder_ns *ns, struct report *rep,
                           struct status *st)
{
    if (!cfg->delete2folders || stop_requested)
        return 0;
    char **keep = NULL;
    size_t nkeep = 0, *idx = NULL;
    if (delete_plan_keep(f[0], nf[0], f[1], nf[1], &ns[0], &ns[1], &cfg->folders, &keep, &nkeep,
                         st) < 0) {
        status_prefix(st, STATUS_WITH_ERRORS, "--delete2folders: no folder deleted");
        rep_error(rep, st);
        return 0;
    }
    size_t n = delete_plan_folders(f[1], nf[1], ns[1].sep, (const char *const *)keep, nkeep,
                                   cfg->delete2foldersonly, cfg->delete2foldersbutnot, &idx);
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0 && !stop_requested; k++) {
        const struct folder *d = &f[1][idx[k]];
        char show[512];
        show_name(d->name, show, sizeof show);
        if (!sendable_name(d->name))
            continue; /* never sent: see sendable_name */
        struct folder_status fs;
        memset(&fs, 0, sizeof fs);
        if (!d->noselect && imapc_status(h2, d->name, &fs, st) < 0) {
            if (status_lost(st))
                rc = -1;
            else
                rep_error(rep, st);
            continue;
        }
        if (!delete_plan_folder_allowed(fs.messages, cfg->delete2ceiling)) {
            status_set(st, STATUS_WITH_ERRORS,
                       "folder [%s] on host2: --delete2folders would delete it with its %u "
                       "message%s; kept (--delete2ceiling 100 allows it)",
                       show, (unsigned)fs.messages, fs.messages == 1 ? "" : "s");
            rep_error(rep, st);
            continue;
        }
        log_out("Folder [%s] %s on host2 (no host1 folder maps to it, --delete2folders)\n", show,
                cfg->dry ? "would be deleted" : "deleted");
        if (cfg->dry)
            continue;
        if ((d->subscribed && imapc_unsubscribe(h2, d->name, st) < 0) ||
            imapc_delete(h2, d->name, st) < 0) {
            if (status_lost(st)) {
                rc = -1;
            } else {
                char what[700];
                snprintf(what, sizeof what, "could not delete folder [%s]", show);
                status_prefix(st, st->code, what);
                rep_error(rep, st);
            }
            continue;
        }
        rep->folders_deleted2++;
    }
    free(idx);
    for (size_t k = 0; k < nkeep; k++)
        free(keep[k]);
    free(keep);
    return rc;
}

/* --justfolderlists and --justautomap: what the run would work on. */
static void print_folder_lists(const struct config *cfg, struct folder **f, const size_t *nf,
                               const struct folder_plan *plan)
{
    char a[512], b[512];
    if (cfg->justfolderlists) {
        for (int i = 0; i < 2; i++) {
            log_out("host%d folders:\n", i + 1);
            for (size_t k = 0; k < nf[i]; k++) {
                show_name(f[i][k].name, a, sizeof a);
                log_out("  [%s]%s%s\n", a, f[i][k].noselect ? " (\\Noselect)" : "",
                        f[i][k].subscribed ? " (subscribed)" : "");
            }
        }
    }
    log_out("Folder mapping host1 -> host2:\n");
    for (size_t k = 0; k < plan->npairs; k++) {
        const struct folder_plan_pair *p = &plan->pairs[k];
        if (cfg->justautomap && !cfg->justfolderlists && p->automapped != 1)
            continue;
        show_name(p->name1, a, sizeof a);
        show_name(p->name2, b, sizeof b);
        log_out("  [%s] -> [%s]%s%s\n", a, b, p->automapped == 1 ? " (automap)" : "",
                plan->pairs[p->leader].create == 1 ? " (to create)" : "");
    }
}

int engine_run(const struct config *cfg, struct report *rep, struct status *st)
{
    struct imapc *h[2] = {NULL, NULL};
    struct folder *f[2] = {NULL, NULL};
    size_t nf[2] = {0, 0};
    struct folder_plan plan;
    memset(&plan, 0, sizeof plan);
    int rc = -1;
    struct workers pool; /* the folder workers, maybe started before the plan */
    workers_init(&pool, cfg);

    for (int i = 0; i < 2; i++)
        if (cfg->search[i] && !imapc_search_valid(cfg->search[i])) {
            status_set(st, STATUS_USAGE,
                       "the search for host%d \"%.100s\" holds a control character or ends in "
                       "a literal; not sent",
                       i + 1, cfg->search[i]);
            return -1;
        }
    if (cfg->justconnect)
        return justconnect_run(cfg, st);
    /* A job of a --csv batch: the batch's one rate limit (and backoff). */
    if (throttle_share_attach_env(st) < 0)
        return -1;
    /* A first run copies everything: the other workers connect as soon
     * as the run's own sessions are logged in, while those list, create
     * and ask STATUS, not after (over a slow network each login is a few
     * round trips). With state, a rerun may find nothing to do and need no
     * more sessions. */
    if (workers_wanted(cfg) > 1 && !cfg->justlogin && !cfg->justfolders && !cfg->justfolderlists &&
        !cfg->justautomap && !cfg->justverify &&
        (cfg->statepath == NULL || !state_any(cfg->statepath)))
        workers_start(&pool, workers_wanted(cfg), 1);
    if (open_both(cfg, h, !cfg->justlogin, f, nf, &pool.gate, st) < 0)
        goto out;
    if (cfg->justlogin) {
        for (int i = 0; i < 2; i++) {
            char caps[2048];
            log_out("host%d: capabilities: %s\n", i + 1,
                    imapc_capabilities(h[i], caps, sizeof caps));
        }
        rc = 0;
        goto out;
    }
    /* imapsync lowers --maxsize to host2's APPENDLIMIT: a bigger message
     * would only be refused. */
    struct config run = *cfg;
    long long limit = cfg->appendlimit >= 0 ? cfg->appendlimit : imapc_appendlimit(h[1]);
    if (limit >= 0 && (run.maxsize < 0 || limit < run.maxsize)) {
        run.maxsize = limit;
        log_out("host2: maxsize set to %lld bytes (%s)\n", limit,
                cfg->appendlimit >= 0 ? "--appendlimit" : "its APPENDLIMIT");
    }
    cfg = &run;
    pthread_mutex_lock(&pool.mu); /* the workers read it once go is set */
    pool.cfg = cfg;
    pthread_mutex_unlock(&pool.mu);
    struct folder_ns ns[2];
    for (int i = 0; i < 2; i++) {
        /* --sepN and --prefixN win over what the server says (imapsync). */
        ns[i] = *imapc_namespace(h[i]);
        if (cfg->side[i].sep)
            ns[i].sep = cfg->side[i].sep;
        if (cfg->side[i].prefix)
            ns[i].prefix = cfg->side[i].prefix;
    }
    if (folder_plan_build(f[0], nf[0], f[1], nf[1], &ns[0], &ns[1], &cfg->folders, &plan, st) < 0)
        goto out;
    for (size_t i = 0; i < plan.nmissing; i++) {
        char show[512];
        show_name(plan.missing[i], show, sizeof show);
        log_err("imapferry: warning: folder [%s] was asked for but does not exist on host1; "
                "skipped\n",
                show);
    }
    if (cfg->justfolderlists || cfg->justautomap) {
        print_folder_lists(cfg, f, nf, &plan);
        rc = 0;
        goto out;
    }
    if (cfg->justverify) {
        rc = verify_run(cfg, h, &plan, rep, st);
        goto out;
    }
    unsigned emptied = 0;
    /* host1 folders --delete1emptyfolders deleted, across its two passes */
    unsigned char *gone1 = cfg->delete1emptyfolders ? sbuf_xcalloc(nf[0] + 1, 1) : NULL;
    if (cfg->delete1emptyfolders && emptyfolders_run(h[0], f[0], nf[0], gone1, ns[0].sep, cfg->dry,
                                                     &plan, copy_error, rep, &emptied, st) < 0) {
        free(gone1);
        goto out;
    }
    rep->folders_wanted = (unsigned)plan.npairs;
    /* imapsync's clock for the caps starts with the folder loop. */
    struct throttle th;
    throttle_init(&th, cfg->maxmps, cfg->maxbps, cfg->maxbytesafter, cfg->maxsleep);
    th.exit_over = cfg->exitwhenover;
    struct prefetched *pre = NULL;
    if (prepare_folders(cfg, h, &plan, &pre, st) < 0) {
        free(gone1);
        goto out;
    }
    progress_start((unsigned)plan.npairs, !cfg->noprogress);
    if (cfg->skipcrossduplicates)
        run_crossdup = crossdup_new(cfg->use_size == MSG_PLAN_SIZE_STRICT);
    log_out("++++ Looping on each one of %zu folders to sync\n", plan.npairs);
    rc = run_workers(cfg, h, &plan, pre, &th, rep, &pool, st);
    crossdup_free(run_crossdup);
    run_crossdup = NULL;
    free(pre);
    if (rc == 0)
        log_out("++++ End looping on each folder\n");
    /* --delete1 empties folders: imapsync looks for empty ones again. */
    if (rc == 0 && cfg->delete1 == 1 && cfg->delete1emptyfolders &&
        emptyfolders_run(h[0], f[0], nf[0], gone1, ns[0].sep, cfg->dry, &plan, copy_error, rep,
                         &emptied, st) < 0)
        rc = -1;
    free(gone1);
    if (rc == 0 && delete2_folders(cfg, h[1], f, nf, ns, rep, st) < 0)
        rc = -1;
    if (rc == 0 && cfg->verify)
        rc = verify_run(cfg, h, &plan, rep, st);
out:
    /* Workers started ahead of a run that ended before them get no job. */
    pthread_mutex_lock(&pool.mu);
    pool.failed = 1;
    pthread_mutex_unlock(&pool.mu);
    workers_end(&pool);
    pthread_mutex_destroy(&pool.mu);
    pthread_cond_destroy(&pool.cv);
    pthread_mutex_destroy(&pool.gate.mu);
    pthread_cond_destroy(&pool.gate.cv);
    folder_plan_free(&plan);
    for (int i = 0; i < 2; i++) {
        imapc_folders_free(f[i], nf[i]);
        imapc_close(h[i]);
    }
    if (cfg->debug)
        log_out("Round trips of the run (every session): host1 %llu, host2 %llu\n",
                (unsigned long long)imapc_round_trips_closed(0),
                (unsigned long long)imapc_round_trips_closed(1));
    return rc;
}
