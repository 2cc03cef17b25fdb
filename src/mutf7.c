/* mutf7: modified UTF-7 (RFC 3501 5.1.3) to UTF-8 and back, for names. */
#include "mutf7.h"

#include "sbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',')
        return 63;
    return -1;
}

static void put_utf8(struct sbuf *b, uint32_t cp)
{
    if (cp < 0x80) {
        sbuf_addc(b, (char)cp);
    } else if (cp < 0x800) {
        sbuf_addc(b, (char)(0xC0 | (cp >> 6)));
        sbuf_addc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sbuf_addc(b, (char)(0xE0 | (cp >> 12)));
        sbuf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sbuf_addc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        sbuf_addc(b, (char)(0xF0 | (cp >> 18)));
        sbuf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        sbuf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sbuf_addc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static int fail(struct sbuf *b, char **out, struct status *st, const char *in, const char *why)
{
    sbuf_free(b);
    *out = NULL;
    return status_set(st, STATUS_OTHER, "invalid folder name \"%.200s\": %s", in, why);
}

/* Decodes one shifted run starting after '&'; *pp ends after the '-'. */
static int decode_run(const char **pp, struct sbuf *b, const char **why)
{
    const char *p = *pp;
    uint32_t bits = 0, high = 0;
    int nbits = 0, units = 0;
    for (;; p++) {
        if (*p == '\0') {
            *why = "unterminated '&' shift (no closing '-')";
            return -1;
        }
        if (*p == '-')
            break;
        int v = b64_value((unsigned char)*p);
        if (v < 0) {
            *why = "character not allowed inside a '&...-' shift";
            return -1;
        }
        bits = (bits << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits < 16)
            continue;
        nbits -= 16;
        uint32_t u = (bits >> nbits) & 0xFFFF;
        bits &= (1u << nbits) - 1;
        units++;
        if (high) {
            if (u < 0xDC00 || u > 0xDFFF) {
                *why = "broken UTF-16 surrogate pair";
                return -1;
            }
            put_utf8(b, 0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00));
            high = 0;
        } else if (u >= 0xD800 && u <= 0xDBFF) {
            high = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            *why = "broken UTF-16 surrogate pair";
            return -1;
        } else {
            put_utf8(b, u);
        }
    }
    /* Leftover bits must be padding: fewer than 6 and all zero. */
    if (high) {
        *why = "broken UTF-16 surrogate pair";
        return -1;
    }
    if (nbits >= 6 || bits != 0 || units == 0) {
        *why = "malformed base64 in a '&...-' shift";
        return -1;
    }
    *pp = p + 1;
    return 0;
}

int mutf7_decode(const char *in, char **out, struct status *st)
{
    struct sbuf b = SBUF_INIT;
    const char *p = in;
    const char *why = NULL;
    while (*p) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7E)
            return fail(&b, out, st, in, "byte outside printable US-ASCII");
        if (c != '&') {
            sbuf_addc(&b, (char)c);
            p++;
            continue;
        }
        p++;
        if (*p == '-') {
            sbuf_addc(&b, '&');
            p++;
            continue;
        }
        if (decode_run(&p, &b, &why) < 0)
            return fail(&b, out, st, in, why);
    }
    *out = sbuf_take(&b);
    return 0;
}

/* Reads one UTF-8 code point; returns its length or 0 when invalid. */
static int get_utf8(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    int n;
    uint32_t v, min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, v = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, v = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, v = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

struct b64_writer {
    uint32_t bits;
    int nbits;
};

static void b64_put16(struct sbuf *b, struct b64_writer *w, uint32_t u)
{
    w->bits = (w->bits << 16) | u;
    w->nbits += 16;
    while (w->nbits >= 6) {
        w->nbits -= 6;
        sbuf_addc(b, b64[(w->bits >> w->nbits) & 0x3F]);
    }
    w->bits &= (1u << w->nbits) - 1;
}

int mutf7_encode(const char *in, char **out, struct status *st)
{
    struct sbuf b = SBUF_INIT;
    const unsigned char *p = (const unsigned char *)in;
    while (*p) {
        if (*p >= 0x20 && *p <= 0x7E) {
            if (*p == '&')
                sbuf_adds(&b, "&-");
            else
                sbuf_addc(&b, (char)*p);
            p++;
            continue;
        }
        struct b64_writer w = {0, 0};
        sbuf_addc(&b, '&');
        while (*p && !(*p >= 0x20 && *p <= 0x7E)) {
            uint32_t cp;
            int n = get_utf8(p, &cp);
            if (n == 0)
                return fail(&b, out, st, in, "not valid UTF-8");
            p += n;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                b64_put16(&b, &w, 0xD800 + (cp >> 10));
                b64_put16(&b, &w, 0xDC00 + (cp & 0x3FF));
            } else {
                b64_put16(&b, &w, cp);
            }
        }
        if (w.nbits > 0)
            sbuf_addc(&b, b64[(w.bits << (6 - w.nbits)) & 0x3F]);
        sbuf_addc(&b, '-');
    }
    *out = sbuf_take(&b);
    return 0;
}

char *mutf7_display(const char *wire, char *buf, size_t n)
{
    char *utf8 = NULL;
    struct status ignored;
    if (mutf7_decode(wire, &utf8, &ignored) == 0) {
        snprintf(buf, n, "%s", utf8);
        free(utf8);
    } else {
        snprintf(buf, n, "%s", wire);
    }
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return buf;
}
