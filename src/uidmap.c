/* uidmap: the per-folder-pair UID map, in memory and on disk (uidmap.h). */
#include "uidmap.h"

#include "ownfile.h"
#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_MAGIC "IFUMAP01"
#define MAP_HEAD 24 /* magic, two UIDVALIDITYs, count */
#define MAP_ENTRY 12
#define MAP_TAIL 8 /* checksum */
#define FNV_START 14695981039346656037ULL

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint32_t uidmap_flags(unsigned sysflags, const char *keywords)
{
    uint32_t kw = 0;
    if (keywords && *keywords) {
        uint64_t h = fnv(FNV_START, (const unsigned char *)keywords, strlen(keywords));
        kw = (uint32_t)(h ^ (h >> 24) ^ (h >> 48)) & 0xffffffu;
        if (kw == 0)
            kw = 1; /* 0 is kept for "no keywords" */
    }
    return (sysflags & 0xffu) | (kw << 8);
}

void uidmap_add(struct uidmap *m, uint32_t uid1, uint32_t uid2, uint32_t flags)
{
    if (m->n == m->cap) {
        /* realloc, not a new array and a copy: a big map grows in place
         * (mremap), never held twice while a pairing run builds it */
        m->cap = m->cap ? m->cap * 2 : 64;
        m->e = sbuf_xrealloc(m->e, m->cap * sizeof *m->e);
    }
    m->e[m->n++] = (struct uidmap_entry){uid1, uid2, flags};
}

/* qsort is not stable, so the entry's position rides in the key's low
 * half: of equal uid1s the one added last sorts last. */
struct keyed {
    uint64_t key; /* uid1 << 32 | position */
    uint32_t uid2, flags;
};

static int by_key(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

void uidmap_sort(struct uidmap *m)
{
    if (m->n < 2 || m->n > UINT32_MAX)
        return;
    int sorted = 1;
    for (size_t i = 1; i < m->n && sorted; i++)
        sorted = m->e[i - 1].uid1 < m->e[i].uid1;
    if (sorted) /* the usual case: entries are added in host1 UID order */
        return;
    struct keyed *k = sbuf_xcalloc(m->n, sizeof *k);
    for (size_t i = 0; i < m->n; i++)
        k[i] =
            (struct keyed){(uint64_t)m->e[i].uid1 << 32 | (uint64_t)i, m->e[i].uid2, m->e[i].flags};
    qsort(k, m->n, sizeof *k, by_key);
    size_t out = 0;
    for (size_t i = 0; i < m->n; i++) {
        uint32_t uid1 = (uint32_t)(k[i].key >> 32);
        if (i + 1 < m->n && (uint32_t)(k[i + 1].key >> 32) == uid1)
            continue;
        m->e[out++] = (struct uidmap_entry){uid1, k[i].uid2, k[i].flags};
    }
    m->n = out;
    free(k);
}

static void put_varint(struct uidmap_packed *p, uint32_t v)
{
    if (p->cap - p->len < 5) {
        /* realloc: grows in place when big (mremap), never held twice */
        p->cap = p->cap ? p->cap * 2 : 256;
        p->b = sbuf_xrealloc(p->b, p->cap);
    }
    while (v >= 0x80) {
        p->b[p->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p->b[p->len++] = (unsigned char)v;
}

static uint32_t get_varint(const unsigned char *b, size_t *at)
{
    uint32_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        unsigned char c = b[(*at)++];
        v |= (uint32_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
}

/* The difference of two UIDs, small either way (zigzag: -1 is 1, 1 is 2). */
static uint32_t zigzag(uint32_t now, uint32_t before)
{
    uint32_t d = now - before;
    return d >> 31 ? ~d << 1 | 1 : d << 1;
}

static uint32_t unzigzag(uint32_t z, uint32_t before)
{
    uint32_t d = z & 1 ? ~(z >> 1) : z >> 1;
    return before + d;
}

/* b's entries to the file, so memory holds only the last few. A write
 * that fails is noted (broken) and reported by uidmap_unpack: stdio may
 * have kept part of it, so the file is not trusted any more. */
static void spill(struct uidmap_packed *p)
{
    if (p->spill == NULL)
        p->spill = tmpfile();
    if (p->spill == NULL) {
        p->no_spill = 1; /* nothing set aside yet: all of it stays in b */
        return;
    }
    if (fwrite(p->b, 1, p->len, p->spill) != p->len)
        p->broken = 1;
    p->spilled += p->len;
    p->len = 0;
}

void uidmap_pack(struct uidmap_packed *p, uint32_t uid1, uint32_t uid2, uint32_t flags)
{
    put_varint(p, zigzag(uid1, p->uid1));
    put_varint(p, zigzag(uid2, p->uid2));
    put_varint(p, flags);
    p->uid1 = uid1;
    p->uid2 = uid2;
    p->n++;
    if (p->len >= UIDMAP_SPILL && !p->no_spill)
        spill(p);
}

int uidmap_unpack(struct uidmap_packed *p, struct uidmap *m, struct status *st)
{
    unsigned char *all = p->b;
    if (p->spill != NULL) {
        /* read back whole: by now host2's listing is gone */
        all = sbuf_xmalloc(p->spilled + p->len + 1);
        size_t got = 0;
        if (!p->broken && fflush(p->spill) == 0 && fseek(p->spill, 0, SEEK_SET) == 0)
            got = fread(all, 1, p->spilled, p->spill);
        if (got != p->spilled) {
            free(all);
            uidmap_packed_free(p);
            return status_set(st, STATUS_OTHER,
                              "UID map: the pairs set aside cannot be read "
                              "back from a temporary file");
        }
        if (p->len)
            memcpy(all + p->spilled, p->b, p->len);
    }
    if (m->cap < m->n + p->n) {
        m->cap = m->n + p->n;
        m->e = sbuf_xrealloc(m->e, m->cap * sizeof *m->e);
    }
    size_t at = 0;
    uint32_t uid1 = 0, uid2 = 0;
    for (size_t i = 0; i < p->n; i++) {
        uid1 = unzigzag(get_varint(all, &at), uid1);
        uid2 = unzigzag(get_varint(all, &at), uid2);
        uidmap_add(m, uid1, uid2, get_varint(all, &at));
    }
    if (all != p->b)
        free(all);
    uidmap_packed_free(p);
    return 0;
}

void uidmap_packed_free(struct uidmap_packed *p)
{
    free(p->b);
    if (p->spill != NULL)
        fclose(p->spill);
    memset(p, 0, sizeof *p);
}

struct uidmap_entry *uidmap_find(const struct uidmap *m, uint32_t uid1)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->e[mid].uid1 < uid1)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->e[lo].uid1 == uid1 ? &m->e[lo] : NULL;
}

void uidmap_filter(struct uidmap *m, int (*keep)(void *ctx, const struct uidmap_entry *e),
                   void *ctx)
{
    size_t out = 0;
    for (size_t i = 0; i < m->n; i++)
        if (keep(ctx, &m->e[i]))
            m->e[out++] = m->e[i];
    m->n = out;
}

void uidmap_free(struct uidmap *m)
{
    free(m->e);
    memset(m, 0, sizeof *m);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* 1 when n bytes were read into p. */
static int read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    return 1;
}

/* fsync of the folder holding path, so the rename itself is on disk. */
static void sync_dir_of(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int uidmap_save(const char *path, struct uidmap *m, struct status *st)
{
    uidmap_sort(m);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp); /* a leftover of a killed run is ours to replace */
    int fd = -1;
    if (ownfile_open("UID map", tmp, O_WRONLY | O_CREAT | O_EXCL, STATUS_OTHER, "", &fd, st) < 0)
        return -1;
    /* Written in chunks: a million entries need not be held twice. */
    unsigned char buf[MAP_HEAD + 512 * MAP_ENTRY];
    memcpy(buf, MAP_MAGIC, 8);
    put32(buf + 8, m->uidvalidity1);
    put32(buf + 12, m->uidvalidity2);
    put64(buf + 16, (uint64_t)m->n);
    uint64_t h = fnv(FNV_START, buf, MAP_HEAD);
    int bad = ownfile_write_all(fd, buf, MAP_HEAD);
    for (size_t i = 0; i < m->n && !bad;) {
        size_t k = 0;
        for (; i < m->n && k < 512; i++, k++) {
            put32(buf + k * MAP_ENTRY, m->e[i].uid1);
            put32(buf + k * MAP_ENTRY + 4, m->e[i].uid2);
            put32(buf + k * MAP_ENTRY + 8, m->e[i].flags);
        }
        h = fnv(h, buf, k * MAP_ENTRY);
        bad = ownfile_write_all(fd, buf, k * MAP_ENTRY);
    }
    put64(buf, h);
    if (!bad)
        bad = ownfile_write_all(fd, buf, MAP_TAIL);
    /* The data must be on disk before the rename makes it the map. */
    if (bad || fsync(fd) < 0) {
        status_set(st, STATUS_OTHER, "UID map %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        status_set(st, STATUS_OTHER, "UID map %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    sync_dir_of(path);
    return 0;
}

int uidmap_load(const char *path, struct uidmap *out, struct status *st)
{
    memset(out, 0, sizeof *out);
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 1;
    int fd = -1;
    if (ownfile_open("UID map", path, O_RDONLY, STATUS_OTHER, "", &fd, st) < 0)
        return -1;
    struct stat sb;
    size_t len = 0;
    int ok = fstat(fd, &sb) == 0 && sb.st_size >= MAP_HEAD + MAP_TAIL;
    /* Read in blocks straight into the entries: a million of them are not
     * held twice, as the file and as the map. */
    unsigned char buf[MAP_HEAD + 512 * MAP_ENTRY];
    uint64_t count = 0, h = FNV_START;
    if (ok) {
        len = (size_t)sb.st_size;
        ok = read_full(fd, buf, MAP_HEAD) && memcmp(buf, MAP_MAGIC, 8) == 0;
        count = ok ? get64(buf + 16) : 0;
        ok = ok && (len - MAP_HEAD - MAP_TAIL) % MAP_ENTRY == 0 &&
             count == (len - MAP_HEAD - MAP_TAIL) / MAP_ENTRY;
    }
    if (ok) {
        out->uidvalidity1 = get32(buf + 8);
        out->uidvalidity2 = get32(buf + 12);
        h = fnv(h, buf, MAP_HEAD);
        if (count) {
            out->e = sbuf_xcalloc((size_t)count, sizeof *out->e);
            out->cap = (size_t)count;
        }
    }
    for (size_t i = 0; ok && i < count;) {
        size_t k = count - i < 512 ? (size_t)(count - i) : 512;
        ok = read_full(fd, buf, k * MAP_ENTRY);
        h = ok ? fnv(h, buf, k * MAP_ENTRY) : h;
        for (size_t j = 0; ok && j < k; j++, i++) {
            const unsigned char *p = buf + j * MAP_ENTRY;
            uidmap_add(out, get32(p), get32(p + 4), get32(p + 8));
            /* ours are written sorted, without repeats */
            ok = i == 0 || out->e[i - 1].uid1 < out->e[i].uid1;
        }
    }
    ok = ok && read_full(fd, buf, MAP_TAIL) && get64(buf) == h;
    close(fd);
    if (!ok) {
        uidmap_free(out);
        return status_set(st, STATUS_OTHER, "UID map %s is not one imapferry wrote", path);
    }
    return 0;
}
