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
    /* A run that ended before its save: its APPENDUIDs still pair. */
    for (size_t i = 0; pm->have_old && i < jf.done.n; i++)
        uidmap_add(&pm->old, jf.done.e[i].uid1, jf.done.e[i].uid2, 0);
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

static void after(void *ctx, const struct msg_meta *const *m, size_t n, const uint32_t *uid2)
{
    struct pairmap *pm = ctx;
    uint32_t small[64], *uids = n <= 64 ? small : calloc(n, sizeof *uids);
    if (uids == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        uids[i] = m[i]->uid;
        if (uid2) {
            uidmap_add(&pm->fresh, uids[i], uid2[i], uidmap_flags(m[i]->sysflags, m[i]->keywords));
            if (uid2[i] >= pm->uidnext2)
                pm->uidnext2 = uid2[i] + 1;
        }
    }
    /* Stored without a UID (no UIDPLUS): the map cannot be complete. A
     * refusal stored nothing and passes uid2 = NULL too; counting it
     * costs only the next run's shortcut. */
    if (uid2 == NULL)
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
    for (size_t i = 0; i < pm->fresh.n; i++)
        uidmap_add(&pm->next, pm->fresh.e[i].uid1, pm->fresh.e[i].uid2, pm->fresh.e[i].flags);
    pm->next.uidvalidity1 = pm->uidvalidity1;
    pm->next.uidvalidity2 = pm->uidvalidity2;
    pm->next_ok = !pm->fresh_missing;
}

void pairmap_from_plan(struct pairmap *pm, const struct msg_meta *m1, const struct msg_meta *m2,
                       const struct msg_plan *plan, int resync)
{
    uidmap_free(&pm->next);
    for (size_t i = 0; i < plan->npairs; i++) {
        const struct msg_meta *a = &m1[plan->pairs[i].i1], *b = &m2[plan->pairs[i].i2];
        const struct msg_meta *f = resync ? a : b;
        uidmap_add(&pm->next, a->uid, b->uid, uidmap_flags(f->sysflags, f->keywords));
    }
    add_fresh(pm);
}

void pairmap_from_old(struct pairmap *pm)
{
    uidmap_free(&pm->next);
    for (size_t i = 0; i < pm->old.n; i++)
        uidmap_add(&pm->next, pm->old.e[i].uid1, pm->old.e[i].uid2, pm->old.e[i].flags);
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
    imapc_flag_changes_free(pm->changes, pm->nchanges);
    pm->changes = NULL;
    pm->nchanges = 0;
}
