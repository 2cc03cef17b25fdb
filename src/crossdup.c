/* crossdup: the run-wide key set of --skipcrossduplicates. */
#include "crossdup.h"

#include "sbuf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One key: the first folder that held it, and whether another did too
 * (then it is "in another folder" for every folder). */
struct slot {
    struct msgid_key key;
    uint32_t size;
    uint32_t folder; /* index into names + 1; 0 = empty slot */
    int multi;
};

struct crossdup {
    pthread_mutex_t mu;
    int with_size;
    struct slot *t; /* open addressing, power-of-two capacity */
    size_t cap, used;
    char **names; /* host2 folder names seen, index = folder - 1 */
    size_t nnames;
};

struct crossdup *crossdup_new(int with_size)
{
    struct crossdup *x = sbuf_xcalloc(1, sizeof *x);
    pthread_mutex_init(&x->mu, NULL);
    x->with_size = with_size;
    x->cap = 1024;
    x->t = sbuf_xcalloc(x->cap, sizeof *x->t);
    return x;
}

void crossdup_free(struct crossdup *x)
{
    if (x == NULL)
        return;
    pthread_mutex_destroy(&x->mu);
    for (size_t i = 0; i < x->nnames; i++)
        free(x->names[i]);
    free(x->names);
    free(x->t);
    free(x);
}

static uint32_t folder_id(struct crossdup *x, const char *name)
{
    for (size_t i = 0; i < x->nnames; i++)
        if (strcmp(x->names[i], name) == 0)
            return (uint32_t)i + 1;
    x->names = sbuf_xrealloc(x->names, (x->nnames + 1) * sizeof *x->names);
    x->names[x->nnames++] = sbuf_xstrdup(name);
    return (uint32_t)x->nnames;
}

static struct slot *find(struct crossdup *x, const struct msg_meta *m)
{
    uint32_t size = x->with_size ? m->size : 0;
    /* The key is already a well-mixed digest: its low bits index. */
    size_t i = (size_t)(m->key.lo ^ size) & (x->cap - 1);
    for (;;) {
        struct slot *s = &x->t[i];
        if (s->folder == 0 || (msgid_key_cmp(&s->key, &m->key) == 0 && s->size == size))
            return s;
        i = (i + 1) & (x->cap - 1);
    }
}

static void grow(struct crossdup *x)
{
    struct slot *old = x->t;
    size_t n = x->cap;
    x->cap *= 2;
    x->t = sbuf_xcalloc(x->cap, sizeof *x->t);
    for (size_t i = 0; i < n; i++) {
        if (old[i].folder == 0)
            continue;
        size_t j = (size_t)(old[i].key.lo ^ old[i].size) & (x->cap - 1);
        while (x->t[j].folder != 0)
            j = (j + 1) & (x->cap - 1);
        x->t[j] = old[i];
    }
    free(old);
}

static void record(struct crossdup *x, const struct msg_meta *m, uint32_t folder)
{
    if (2 * (x->used + 1) > x->cap)
        grow(x);
    struct slot *s = find(x, m);
    if (s->folder == 0) {
        s->key = m->key;
        s->size = x->with_size ? m->size : 0;
        s->folder = folder;
        x->used++;
    } else if (s->folder != folder) {
        s->multi = 1;
    }
}

size_t crossdup_filter(struct crossdup *x, const char *folder2, const struct msg_meta *m1,
                       size_t *copy, size_t *ncopy, const struct msg_meta *m2, size_t n2, int claim,
                       size_t *skipped)
{
    size_t nskip = 0, k = 0;
    pthread_mutex_lock(&x->mu);
    uint32_t me = folder_id(x, folder2);
    for (size_t i = 0; i < *ncopy; i++) {
        const struct slot *s = find(x, &m1[copy[i]]);
        if (s->folder != 0 && (s->folder != me || s->multi))
            skipped[nskip++] = copy[i];
        else
            copy[k++] = copy[i];
    }
    *ncopy = k;
    for (size_t i = 0; i < n2; i++)
        record(x, &m2[i], me);
    for (size_t i = 0; claim && i < k; i++)
        record(x, &m1[copy[i]], me);
    pthread_mutex_unlock(&x->mu);
    return nskip;
}
