/* labels: --synclabels / --resynclabels, Gmail's X-GM-LABELS carried to
 * the paired host2 messages (see labels.h). */
#include "labels.h"

#include "msg_plan.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* a's labels sorted and without repeats, in a malloc'd array of borrowed
 * pointers; returns the count. */
static size_t uniq(const char *const *a, size_t n, const char ***out)
{
    const char **s = sbuf_xcalloc(n + 1, sizeof *s);
    if (n)
        memcpy(s, a, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(s[k - 1], s[i]) != 0)
            s[k++] = s[i];
    *out = s;
    return k;
}

int labels_same(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    const char **x, **y;
    size_t nx = uniq(a, na, &x), ny = uniq(b, nb, &y);
    int same = nx == ny;
    for (size_t i = 0; same && i < nx; i++)
        same = strcmp(x[i], y[i]) == 0;
    free(x);
    free(y);
    return same;
}

static const struct imapc_labels *find(const struct imapc_labels *l, size_t n, uint32_t uid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l[mid].uid == uid)
            return &l[mid];
        if (l[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* One side: select, identities and labels. */
static int list_side(struct imapc *h, const char *name, int readonly, struct msg_meta **m,
                     size_t *nm, struct imapc_labels **l, size_t *nl, struct status *st)
{
    struct imapc_box box;
    if (imapc_select(h, name, readonly, &box, st) < 0 ||
        imapc_fetch_meta(h, box.exists, m, nm, st) < 0)
        return -1;
    if (box.exists == 0) /* nothing to ask: some servers refuse 1:* there */
        return 0;
    if (imapc_fetch_labels(h, l, nl, st) < 0) {
        imapc_meta_free(*m, *nm);
        *m = NULL;
        return -1;
    }
    return 0;
}

int labels_folder(struct imapc *h1, struct imapc *h2, const struct labels_job *job,
                  struct labels_result *out, struct status *st)
{
    memset(out, 0, sizeof *out);
    struct msg_meta *m1 = NULL, *m2 = NULL;
    size_t n1 = 0, n2 = 0, nl1 = 0, nl2 = 0;
    struct imapc_labels *l1 = NULL, *l2 = NULL;
    struct msg_plan plan;
    memset(&plan, 0, sizeof plan);
    int rc = -1;
    if (list_side(h1, job->name1, 1, &m1, &n1, &l1, &nl1, st) < 0)
        return -1;
    if (list_side(h2, job->name2, 0, &m2, &n2, &l2, &nl2, st) < 0)
        goto out;
    if (msg_plan_build(m1, n1, m2, n2, (enum msg_plan_size)job->use_size, &plan, st) < 0)
        goto out;
    for (size_t i = 0; i < plan.npairs; i++) {
        uint32_t uid2 = m2[plan.pairs[i].i2].uid;
        const struct imapc_labels *a = find(l1, nl1, m1[plan.pairs[i].i1].uid);
        const struct imapc_labels *b = find(l2, nl2, uid2);
        const char *const *la = a ? (const char *const *)a->label : NULL;
        const char *const *lb = b ? (const char *const *)b->label : NULL;
        size_t na = a ? a->n : 0, nb = b ? b->n : 0;
        int fresh = uid2 >= job->new_from;
        if (!(job->resync || (job->sync && fresh && na > 0)) || labels_same(la, na, lb, nb))
            continue;
        int ok = 1;
        for (size_t k = 0; k < na; k++)
            ok = ok && imapc_label_sendable(la[k]);
        if (!ok) {
            out->refused++;
            continue;
        }
        if (imapc_store_labels(h2, uid2, la, na, st) < 0)
            goto out;
        out->stored++;
    }
    rc = 0;
out:
    msg_plan_free(&plan);
    imapc_meta_free(m1, n1);
    imapc_meta_free(m2, n2);
    imapc_labels_free(l1, nl1);
    imapc_labels_free(l2, nl2);
    return rc;
}
