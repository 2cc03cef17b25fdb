/* msgid: a message's identity key from its header fields and size. */
#include "msgid.h"

#include "rx.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const msgid_header_fields[] = {"Message-ID", "Date",    "From",
                                           "To",         "Subject", "Received"};
const size_t msgid_header_count = sizeof msgid_header_fields / sizeof msgid_header_fields[0];

/* Two 64-bit streams: plain FNV-1a, and a multiply-rotate stream whose
 * rotation carries high bits back down, so the two do not share FNV's
 * weakness of low state bits depending only on low input bits. Not
 * cryptographic: a collision only makes two messages look alike. */
struct hasher {
    uint64_t a, b, n;
};

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x00000100000001b3ULL
#define B_OFFSET 0x6a09e667f3bcc909ULL /* sqrt(2) fraction: any odd-looking constant */
#define B_MUL 0x9e3779b97f4a7c15ULL

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

/* splitmix64's finaliser: every output bit depends on every input bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static void hasher_init(struct hasher *h)
{
    h->a = FNV_OFFSET;
    h->b = B_OFFSET;
    h->n = 0;
}

static void hasher_byte(struct hasher *h, unsigned char c)
{
    h->a = (h->a ^ c) * FNV_PRIME;
    h->b = rotl64((h->b ^ c) * B_MUL, 31);
    h->n++;
}

static void hasher_u64(struct hasher *h, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        hasher_byte(h, (unsigned char)(v >> (8 * i)));
}

static void hasher_final(const struct hasher *h, struct msgid_key *out)
{
    out->hi = mix64(h->a ^ rotl64(h->n, 17));
    out->lo = mix64(h->b + mix64(h->a));
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* One header field; the value runs to the end of its last continuation
 * line and still holds the folding CR/LF, which normalisation treats as
 * whitespace, so unfolding needs no copy. */
struct field {
    const char *name;
    size_t name_len;
    const char *val;
    const char *val_end;
};

static const char *line_end(const char *p, const char *end)
{
    while (p < end && *p != '\n')
        p++;
    return p;
}

static int next_field(const char *hdr, size_t len, size_t *pos, struct field *f)
{
    /* Checked before any pointer arithmetic: hdr may be NULL when len is 0. */
    if (*pos >= len)
        return 0;
    const char *end = hdr + len;
    while (hdr + *pos < end) {
        const char *p = hdr + *pos;
        const char *eol = line_end(p, end);
        const char *next = eol < end ? eol + 1 : end;
        const char *content_end = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
        if (content_end == p) {
            /* The blank line closes the header block; what follows is not header. */
            *pos = len;
            return 0;
        }
        *pos = (size_t)(next - hdr);
        /* A continuation without a field to continue (or after a line that
         * was not a field) carries nothing we can attribute. */
        if (is_blank(*p))
            continue;
        const char *colon = p;
        while (colon < content_end && *colon != ':')
            colon++;
        if (colon == content_end)
            continue;
        const char *name_end = colon;
        while (name_end > p && is_blank(name_end[-1]))
            name_end--;
        f->name = p;
        f->name_len = (size_t)(name_end - p);
        f->val = colon + 1;
        f->val_end = eol;
        while (next < end && is_blank(*next)) {
            eol = line_end(next, end);
            f->val_end = eol;
            next = eol < end ? eol + 1 : end;
        }
        *pos = (size_t)(next - hdr);
        return 1;
    }
    return 0;
}

static int field_is(const struct field *f, const char *name)
{
    size_t n = 0;
    while (name[n])
        n++;
    return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

static int value_empty(const struct field *f)
{
    for (const char *p = f->val; p < f->val_end; p++)
        if (!is_ws(*p))
            return 0;
    return 1;
}

/* Feeds the value trimmed and with whitespace runs collapsed, then its
 * length: a length after each value makes the concatenation uniquely
 * decodable, so ("ab","c") and ("a","bc") feed different bytes. */
static void hash_value(struct hasher *h, const struct field *f)
{
    uint64_t n = 0;
    int pending = 0;
    if (f != NULL) {
        for (const char *p = f->val; p < f->val_end; p++) {
            if (is_ws(*p)) {
                pending = n > 0;
                continue;
            }
            if (pending) {
                hasher_byte(h, ' ');
                n++;
                pending = 0;
            }
            hasher_byte(h, (unsigned char)*p);
            n++;
        }
    }
    hasher_u64(h, n);
}

enum { F_DATE, F_FROM, F_TO, F_SUBJECT, F_COUNT };

void msgid_key_from_headers(const char *hdr, size_t len, uint32_t size, int use_size,
                            struct msgid_key *out, int *has_msgid)
{
    static const char *const fallback[F_COUNT] = {"Date", "From", "To", "Subject"};
    struct field found[F_COUNT];
    int have[F_COUNT] = {0};
    struct field msgid;
    int have_msgid = 0;
    struct field f;
    size_t pos = 0;

    if (hdr == NULL)
        len = 0;
    while (next_field(hdr, len, &pos, &f)) {
        if (!have_msgid && field_is(&f, "Message-ID") && !value_empty(&f)) {
            msgid = f;
            have_msgid = 1;
            continue;
        }
        for (int i = 0; i < F_COUNT; i++) {
            if (!have[i] && field_is(&f, fallback[i])) {
                found[i] = f;
                have[i] = 1;
            }
        }
    }

    struct hasher h;
    hasher_init(&h);
    /* Version and domain tag: a Message-ID key and a fallback key are built
     * from different byte streams even when the values happen to agree. */
    hasher_byte(&h, 1);
    if (have_msgid) {
        hasher_byte(&h, 'M');
        hash_value(&h, &msgid);
    } else {
        hasher_byte(&h, 'F');
        for (int i = 0; i < F_COUNT; i++)
            hash_value(&h, have[i] ? &found[i] : NULL);
        uint64_t nreceived = 0;
        pos = 0;
        while (next_field(hdr, len, &pos, &f)) {
            if (field_is(&f, "Received")) {
                hash_value(&h, &f);
                nreceived++;
            }
        }
        hasher_u64(&h, nreceived);
    }
    if (use_size) {
        hasher_byte(&h, 'S');
        hasher_u64(&h, size);
    } else {
        hasher_byte(&h, 'N');
    }
    hasher_final(&h, out);
    if (has_msgid != NULL)
        *has_msgid = have_msgid;
}

int msgid_field_name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if ((unsigned char)name[n] < 33 || (unsigned char)name[n] > 126 || name[n] == ':')
            return 0;
    /* RFC 5322's line limit leaves 76 bytes for a name and its colon. */
    return n > 0 && n <= 76;
}

int msgid_has_field(const char *hdr, size_t len)
{
    struct field f;
    size_t pos = 0;
    return hdr != NULL && next_field(hdr, len, &pos, &f);
}

static int in_set(const struct msgid_conf *conf, const struct field *f)
{
    if (conf->all)
        return 1;
    if (conf->nfields == 0)
        return field_is(f, "Message-Id") || field_is(f, "Received");
    for (size_t i = 0; i < conf->nfields; i++)
        if (field_is(f, conf->fields[i]))
            return 1;
    return 0;
}

/* imapsync's header_line_normalize: the value's blanks and 8-bit bytes
 * made uniform, as servers rewrite them (Gmail's tabs, dbmail's leading
 * blanks, MailEnable's Message-ID domain), then the whole line upper-cased. */
static char *normalized_line(const struct msgid_conf *conf, const struct field *f)
{
    struct sbuf b = SBUF_INIT;
    for (size_t i = 0; i < f->name_len; i++) {
        unsigned char c = (unsigned char)f->name[i];
        sbuf_addc(&b, (char)(c >= 0x80 ? 'X' : c));
    }
    sbuf_adds(&b, ": ");
    size_t start = b.len;
    int pending = 0;
    for (const char *p = f->val; p < f->val_end; p++) {
        if (is_ws(*p)) {
            pending = b.len > start;
            continue;
        }
        if (pending)
            sbuf_addc(&b, ' ');
        pending = 0;
        sbuf_addc(&b, (unsigned char)*p >= 0x80 ? 'X' : *p);
    }
    if (conf->nodomain && field_is(f, "Message-Id")) {
        /* Perl's s/^([^@]+).*$/$1/: from the first '@' on, unless the
         * value starts with one. */
        char *at = memchr(b.data + start, '@', b.len - start);
        if (at != NULL && at > b.data + start) {
            b.len = (size_t)(at - b.data);
            b.data[b.len] = '\0';
        }
    }
    for (char *p = b.data; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return sbuf_take(&b);
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *msgid_identity_text(const struct msgid_conf *conf, const char *hdr, size_t len)
{
    char **lines = NULL;
    size_t n = 0, cap = 0;
    struct field f;
    size_t pos = 0;
    if (hdr == NULL)
        len = 0;
    while (next_field(hdr, len, &pos, &f)) {
        if (!in_set(conf, &f))
            continue;
        char *line = normalized_line(conf, &f);
        /* A match-limit failure counts as no match: the line stays in. */
        if (conf->skipheader && rx_match(conf->skipheader, line, strlen(line)) == 1) {
            free(line);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            lines = sbuf_xrealloc(lines, cap * sizeof *lines);
        }
        lines[n++] = line;
    }
    if (n == 0)
        return NULL;
    qsort(lines, n, sizeof *lines, cmp_line);
    struct sbuf b = SBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        sbuf_adds(&b, lines[i]);
        sbuf_addc(&b, '\n');
        free(lines[i]);
    }
    free(lines);
    return sbuf_take(&b);
}

int msgid_key_from_fields(const struct msgid_conf *conf, const char *hdr, size_t len,
                          struct msgid_key *out)
{
    char *text = msgid_identity_text(conf, hdr, len);
    if (text == NULL)
        return 0;
    struct hasher h;
    hasher_init(&h);
    /* Its own domain tag: never equal to a key of msgid_key_from_headers. */
    hasher_byte(&h, 2);
    hasher_byte(&h, 'U');
    for (const char *p = text; *p; p++)
        hasher_byte(&h, (unsigned char)*p);
    hasher_final(&h, out);
    free(text);
    return 1;
}

int msgid_key_cmp(const struct msgid_key *a, const struct msgid_key *b)
{
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}
