/* pairmap: one folder pair's UID map during a sync (pairmap.h). */
#include "pairmap.h"

#include "log.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pairmap_open(struct pairmap *pm, const char *dir, const char *name1, const char *name2,
                  uint32_t uidvalidity1, uint32_t uidvalidity2)
{
    memset(pm, 0, sizeof *pm);
    state_pair_file(dir, name1, name2, "map", pm->map_path, sizeof pm->map_path);
    state_pair_file(dir, name1, name2, "journal", pm->journal_path, sizeof pm->journal_path);
    pm->uidvalidity1 = uidvalidity1;
    pm->uidvalidity2 = uidvalidity2;
    struct status st;
    status_clear(&st);
    int r = uidmap_load(pm->map_path, &pm->old, &st);
    if (r < 0) {
        pm->notice = st;
    } else if (r == 0 &&
               (pm->old.uidvalidity1 != uidvalidity1 || pm->old.uidvalidity2 != uidvalidity2)) {
        status_set(&pm->notice, STATUS_OTHER,
                   "UID map %s is of another UIDVALIDITY (the folder was recreated)", pm->map_path);
        uidmap_free(&pm->old);
    } else if (r == 0) {
        pm->have_old = 1;
    }
    struct journal_found jf;
    status_clear(&st);
    r = journal_read(pm->journal_path, uidvalidity1, uidvalidity2, &jf, &st);
    if (r < 0 && pm->notice.code == 0)
        pm->notice = st;
    pm->unfinished = jf.unfinished;
    pm->unfinished_uidnext2 = jf.uidnext2;
    /* A run that ended before its save: its APPENDUIDs still pair, but
     * the flags they were stored with are not known. */
    for (size_t i = 0; pm->have_old && i < jf.done.n; i++)
        uidmap_add(&pm->old, jf.done.e[i].uid1, jf.done.e[i].uid2, UIDMAP_FLAGS_UNKNOWN);
    uidmap_sort(&pm->old);
    uidmap_free(&jf.done);
    pm->old.uidvalidity1 = uidvalidity1;
    pm->old.uidvalidity2 = uidvalidity2;
}

static void say_journal_failed(struct pairmap *pm, const struct status *st)
{
    if (!pm->journal_failed)
        log_err("imapferry: warning: %s; this folder's copies are not journaled\n", st->msg);
    pm->journal_failed = 1;
    journal_close(pm->j);
    pm->j = NULL;
}

static void before(void *ctx, const struct msg_meta *const *m, size_t n)
{
    struct pairmap *pm = ctx;
    struct status st;
    if (pm->j == NULL && !pm->journal_failed && journal_open(pm->journal_path, &pm->j, &st) < 0) {
        say_journal_failed(pm, &st);
        return;
    }
    if (pm->j == NULL)
        return;
    uint32_t small[64], *uids = n <= 64 ? small : calloc(n, sizeof *uids);
    if (uids == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        uids[i] = m[i]->uid;
    if (journal_begin(pm->j, pm->uidvalidity1, pm->uidvalidity2, pm->uidnext2, uids, n, &st) < 0)
        say_journal_failed(pm, &st);
    if (uids != small)
        free(uids);
}

static void after(void *ctx, const struct msg_meta *const *m, size_t n, int stored,
                  const uint32_t *uid2)
{
    struct pairmap *pm = ctx;
    uint32_t small[64], *uids = n <= 64 ? small : calloc(n, sizeof *uids);
    if (uids == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        uids[i] = m[i]->uid;
        if (uid2) {
            uidmap_add(&pm->fresh, uids[i], uid2[i],
                       uidmap_flags(m[i]->sysflags, msg_keywords(m[i])));
            if (uid2[i] >= pm->uidnext2)
                pm->uidnext2 = uid2[i] + 1;
        }
    }
    /* Stored without a UID (no UIDPLUS): the map cannot be complete. */
    if (stored && uid2 == NULL)
        pm->fresh_missing = 1;
    struct status st;
    if (pm->j && journal_done(pm->j, uids, uid2, n, &st) < 0)
        say_journal_failed(pm, &st);
    if (uids != small)
        free(uids);
}

struct copy_hooks pairmap_hooks(struct pairmap *pm, uint32_t uidvalidity2, uint32_t uidnext2)
{
    pm->uidvalidity2 = uidvalidity2;
    pm->uidnext2 = uidnext2;
    return (struct copy_hooks){.ctx = pm, .before = before, .after = after};
}

static void add_fresh(struct pairmap *pm)
{
    if (pm->next.n == 0) {
        /* A first copy: moved, not copied, as a million APPENDUIDs are
         * 12 MB. */
        uidmap_free(&pm->next);
        pm->next = pm->fresh;
        memset(&pm->fresh, 0, sizeof pm->fresh);
    }
    for (size_t i = 0; i < pm->fresh.n; i++)
        uidmap_add(&pm->next, pm->fresh.e[i].uid1, pm->fresh.e[i].uid2, pm->fresh.e[i].flags);
    uidmap_free(&pm->fresh);
    pm->next.uidvalidity1 = pm->uidvalidity1;
    pm->next.uidvalidity2 = pm->uidvalidity2;
    pm->next_ok = !pm->fresh_missing;
}

/* Drops old's entries for host1 UIDs up to top: no later chunk looks
 * them up (chunks come in ascending UIDs), so old shrinks while next
 * grows and the two together stay about one map. */
static void drop_old_upto(struct pairmap *pm, uint32_t top)
{
    struct uidmap *o = &pm->old;
    size_t k = 0;
    while (k < o->n && o->e[k].uid1 <= top) /* sorted by pairmap_open */
        k++;
    if (k == 0)
        return;
    if (k == o->n) {
        uidmap_free(o);
        return;
    }
    memmove(o->e, o->e + k, (o->n - k) * sizeof *o->e);
    o->n -= k;
    if (o->n <= o->cap / 2) {
        struct uidmap_entry *e = realloc(o->e, o->n * sizeof *o->e);
        if (e != NULL) { /* else it stays as big as it was */
            o->e = e;
            o->cap = o->n;
        }
    }
}

void pairmap_add_plan(struct pairmap *pm, const struct msg_meta *m1, const struct msg_meta *m2,
                      const struct msg_plan *plan, int resync)
{
    /* The chunk's highest UID the plan names: a message it dropped (a
     * size filter) only leaves its entry to the next chunk's call. */
    uint32_t top = 0;
    for (size_t i = 0; i < plan->npairs; i++)
        if (m1[plan->pairs[i].i1].uid > top)
            top = m1[plan->pairs[i].i1].uid;
    for (size_t i = 0; i < plan->ncopy; i++)
        if (m1[plan->copy[i]].uid > top)
            top = m1[plan->copy[i]].uid;
    drop_old_upto(pm, top);
    for (size_t i = 0; i < plan->npairs; i++) {
        const struct msg_meta *a = &m1[plan->pairs[i].i1], *b = &m2[plan->pairs[i].i2];
        const struct msg_meta *f = resync ? a : b;
        uidmap_pack(&pm->built, a->uid, b->uid, uidmap_flags(f->sysflags, msg_keywords(f)));
    }
}

void pairmap_end_plan(struct pairmap *pm)
{
    uidmap_free(&pm->old);
    struct status st;
    int lost = uidmap_unpack(&pm->built, &pm->next, &st) < 0;
    add_fresh(pm);
    if (lost) {
        /* a partial map would hide copies: none is kept, the next run
         * pairs by identity */
        log_err("imapferry: warning: %s; the folder's UID map is not kept\n", st.msg);
        pm->next_ok = 0;
    }
}

void pairmap_from_plan(struct pairmap *pm, const struct msg_meta *m1, const struct msg_meta *m2,
                       const struct msg_plan *plan, int resync)
{
    /* The plan has what old had to say (pairmap_keep_pairs): one map in
     * memory at a time. */
    uidmap_free(&pm->old);
    uidmap_free(&pm->next);
    pairmap_add_plan(pm, m1, m2, plan, resync);
    pairmap_end_plan(pm);
}

size_t pairmap_vanished(struct pairmap *pm, const struct imapc_uid_range *r, size_t n)
{
    const struct uidmap *o = &pm->old;
    unsigned char *hit = o->n ? calloc(o->n, 1) : NULL;
    if (hit == NULL)
        return pm->ngone = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* old is sorted by uid1 (pairmap_open) */
        size_t lo = 0, hi = o->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (o->e[mid].uid1 < r[i].first)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < o->n && o->e[lo].uid1 <= r[i].last; lo++)
            if (!hit[lo]) {
                hit[lo] = 1;
                k++;
            }
    }
    free(pm->gone1);
    free(pm->gone2);
    free(pm->gone_size);
    pm->gone1 = calloc(k + 1, sizeof *pm->gone1);
    pm->gone2 = calloc(k + 1, sizeof *pm->gone2);
    pm->gone_size = calloc(k + 1, sizeof *pm->gone_size);
    pm->ngone = 0;
    if (pm->gone1 == NULL || pm->gone2 == NULL || pm->gone_size == NULL) {
        free(hit);
        return 0;
    }
    for (size_t i = 0; i < o->n; i++)
        if (hit[i]) {
            pm->gone1[pm->ngone] = o->e[i].uid1;
            pm->gone2[pm->ngone++] = o->e[i].uid2;
        }
    free(hit);
    return pm->ngone;
}

static int not_gone(void *ctx, const struct uidmap_entry *e)
{
    const struct pairmap *pm = ctx;
    size_t lo = 0, hi = pm->ngone;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pm->gone1[mid] < e->uid1)
            lo = mid + 1;
        else
            hi = mid;
    }
    return !(lo < pm->ngone && pm->gone1[lo] == e->uid1);
}

void pairmap_drop_gone(struct pairmap *pm)
{
    if (pm->ngone)
        uidmap_filter(&pm->old, not_gone, pm);
}

void pairmap_from_old(struct pairmap *pm)
{
    uidmap_free(&pm->next);
    pm->next = pm->old; /* moved, not copied: one map in memory at a time */
    memset(&pm->old, 0, sizeof pm->old);
    add_fresh(pm);
    pm->next_ok = pm->next_ok && pm->have_old;
}

int pairmap_save(struct pairmap *pm, struct status *st)
{
    journal_close(pm->j);
    pm->j = NULL;
    int rc = 0;
    if (pm->next_ok)
        rc = uidmap_save(pm->map_path, &pm->next, st);
    else if (unlink(pm->map_path) < 0 && access(pm->map_path, F_OK) == 0)
        rc = status_set(st, STATUS_OTHER, "UID map %s cannot be removed", pm->map_path);
    if (rc == 0)
        rc = journal_remove(pm->journal_path, st);
    return rc;
}

void pairmap_close(struct pairmap *pm)
{
    journal_close(pm->j);
    pm->j = NULL;
    uidmap_free(&pm->old);
    uidmap_free(&pm->next);
    uidmap_free(&pm->fresh);
    uidmap_packed_free(&pm->built);
    imapc_flag_changes_free(pm->changes, pm->nchanges);
    pm->changes = NULL;
    pm->nchanges = 0;
    free(pm->gone1);
    free(pm->gone2);
    free(pm->gone_size);
    pm->gone1 = pm->gone2 = NULL;
    pm->gone_size = NULL;
    pm->ngone = 0;
}

static int host1_order(const struct msg_meta *m1, const struct msg_plan_pair *a,
                       const struct msg_plan_pair *b)
{
    return m1[a->i1].uid < m1[b->i1].uid ? -1 : m1[a->i1].uid > m1[b->i1].uid;
}

/* Index of uid in m (ascending UIDs, as listed), or SIZE_MAX. */
static size_t index_of(const struct msg_meta *m, size_t n, uint32_t uid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && m[lo].uid == uid ? lo : SIZE_MAX;
}

int pairmap_can_keep(const struct pairmap *pm, const struct msg_plan *plan)
{
    return pm->have_old && pm->old.n > 0 && plan->ncopy > 0;
}

size_t pairmap_keep_pairs(const struct pairmap *pm, const struct msg_meta *m1,
                          const struct msg_meta *m2, size_t n2, struct msg_plan *plan)
{
    if (!pairmap_can_keep(pm, plan) || plan->only_on_2 == 0)
        return 0;
    for (size_t i = 1; i < n2; i++)
        if (m2[i - 1].uid >= m2[i].uid)
            return 0;                         /* not as listed: leave the plan as it is */
    unsigned char *alone = calloc(n2 + 1, 1); /* host2 messages nobody pairs yet */
    if (alone == NULL)
        return 0;
    for (size_t i = 0; i < plan->only_on_2; i++)
        alone[plan->only2[i]] = 1;
    size_t kept = 0, k = 0;
    struct msg_plan_pair *pairs = NULL;
    for (size_t i = 0; i < plan->ncopy; i++) {
        size_t i1 = plan->copy[i];
        const struct uidmap_entry *e = uidmap_find(&pm->old, m1[i1].uid);
        size_t i2 = e ? index_of(m2, n2, e->uid2) : SIZE_MAX;
        /* Only the same message by identity with other bytes: a map that
         * a lying server filled must never stop a copy of another one. */
        if (i2 == SIZE_MAX || !alone[i2] || msgid_key_cmp(&m1[i1].key, &m2[i2].key) != 0) {
            plan->copy[k++] = i1;
            continue;
        }
        if (pairs == NULL) {
            pairs = calloc(plan->npairs + plan->ncopy, sizeof *pairs);
            if (pairs == NULL) {
                plan->copy[k++] = i1;
                continue;
            }
            if (plan->npairs)
                memcpy(pairs, plan->pairs, plan->npairs * sizeof *pairs);
        }
        alone[i2] = 0;
        pairs[plan->npairs + kept++] = (struct msg_plan_pair){i1, i2};
    }
    if (kept == 0) {
        free(alone);
        free(pairs);
        return 0;
    }
    plan->ncopy = k;
    free(plan->pairs);
    plan->pairs = pairs;
    plan->npairs += kept;
    /* The plan keeps its pairs in host1 UID order: insertion sort, the
     * kept ones are few and already in that order among themselves. */
    for (size_t i = plan->npairs - kept; i < plan->npairs; i++) {
        struct msg_plan_pair p = plan->pairs[i];
        size_t j = i;
        for (; j > 0 && host1_order(m1, &plan->pairs[j - 1], &p) > 0; j--)
            plan->pairs[j] = plan->pairs[j - 1];
        plan->pairs[j] = p;
    }
    size_t o = 0;
    for (size_t i = 0; i < plan->only_on_2; i++)
        if (alone[plan->only2[i]])
            plan->only2[o++] = plan->only2[i];
    plan->only_on_2 = o;
    free(alone);
    return kept;
}
