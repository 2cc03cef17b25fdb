/* kwtab: the process's table of distinct keyword strings (kwtab.h). */
#include "kwtab.h"

#include "sbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

/* Ids live in segments that never move once allocated (segment k holds
 * ids 2^k .. 2^(k+1) - 1), so kwtab_str reads without the lock while
 * another thread adds; the hash (string to id) is only used under it. */
#define SEGMENTS 32

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char **seg[SEGMENTS];
static uint32_t next_id = 1;
static uint32_t *slots; /* open addressing: an id, 0 = empty */
static size_t nslots;

static uint64_t hash_of(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static unsigned seg_of(uint32_t id)
{
    unsigned k = 0;
    while (id >> (k + 1))
        k++;
    return k;
}

const char *kwtab_str(uint32_t id)
{
    if (id == 0)
        return NULL;
    unsigned k = seg_of(id);
    return seg[k][id - ((uint32_t)1 << k)];
}

/* The slot of s in the hash, or the empty one where it would go. */
static size_t find_slot(const char *s, uint64_t h)
{
    size_t i = (size_t)h & (nslots - 1);
    while (slots[i] != 0 && strcmp(kwtab_str(slots[i]), s) != 0)
        i = (i + 1) & (nslots - 1);
    return i;
}

static void grow_hash(void)
{
    uint32_t *old = slots;
    size_t nold = nslots;
    nslots = nslots ? nslots * 2 : 64;
    slots = sbuf_xcalloc(nslots, sizeof *slots);
    for (size_t i = 0; i < nold; i++)
        if (old[i] != 0) {
            const char *s = kwtab_str(old[i]);
            slots[find_slot(s, hash_of(s))] = old[i];
        }
    free(old);
}

uint32_t kwtab_intern(const char *kw)
{
    if (kw == NULL || *kw == '\0')
        return 0;
    uint64_t h = hash_of(kw);
    pthread_mutex_lock(&mu);
    if (2 * ((size_t)next_id + 1) > nslots)
        grow_hash();
    size_t i = find_slot(kw, h);
    uint32_t id = slots[i];
    if (id == 0 && next_id != 0) { /* 0: all 2^32 - 1 ids are taken */
        id = next_id++;
        unsigned k = seg_of(id);
        if (seg[k] == NULL)
            seg[k] = sbuf_xcalloc((size_t)1 << k, sizeof *seg[k]);
        seg[k][id - ((uint32_t)1 << k)] = sbuf_xstrdup(kw);
        slots[i] = id;
    }
    pthread_mutex_unlock(&mu);
    return id;
}
