/* hdrdate: finds a message's Date: header and turns it into seconds since
 * 1970 UTC plus the zone offset as written, for --idatefromheader; and the
 * month names every date imapferry writes uses. */
#include "hdrdate.h"

#include <string.h>
#include <strings.h>

/* Every scan works on a half-open range [p, end) so the header-block entry
 * point can hand over a slice of a buffer that is not NUL-terminated. */
struct cursor {
    const char *p, *end;
};

static int is_wsp(char c)
{
    /* CR and LF only reach the parser as parts of folds (the field's end was
     * found before), so treating them as blanks is what unfolding means. */
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Skips blanks and (possibly nested) comments with quoted-pairs. -1 on a
 * comment that never closes: the value is then malformed as a whole. */
static int skip_cfws(struct cursor *c)
{
    for (;;) {
        while (c->p < c->end && is_wsp(*c->p))
            c->p++;
        if (c->p >= c->end || *c->p != '(')
            return 0;
        int depth = 0;
        do {
            if (c->p >= c->end)
                return -1;
            char ch = *c->p++;
            if (ch == '\\') {
                if (c->p >= c->end)
                    return -1;
                c->p++;
            } else if (ch == '(') {
                depth++;
            } else if (ch == ')') {
                depth--;
            }
        } while (depth > 0);
    }
}

/* Reads a run of digits. The value stops growing past 10^7 so a long run
 * cannot overflow; callers check *ndigits, which counts the whole run. */
static int read_number(struct cursor *c, int *value, int *ndigits)
{
    int v = 0, n = 0;
    while (c->p < c->end && is_digit(*c->p)) {
        if (v < 10000000)
            v = v * 10 + (*c->p - '0');
        n++;
        c->p++;
    }
    *value = v;
    *ndigits = n;
    return n > 0 ? 0 : -1;
}

/* Reads a run of letters into word (lowercased), at most cap-1 kept; *n is
 * the full run length so an overlong word never matches a short name. */
static void read_word(struct cursor *c, char *word, size_t cap, size_t *n)
{
    size_t k = 0;
    while (c->p < c->end && is_alpha(*c->p)) {
        if (k + 1 < cap)
            word[k] = lower(*c->p);
        k++;
        c->p++;
    }
    word[k < cap ? k : cap - 1] = '\0';
    *n = k;
}

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

const char *hdrdate_month(int mon)
{
    return mon >= 0 && mon < 12 ? month_names[mon] : "???";
}

static int lookup(const char *word, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcasecmp(word, names[i]) == 0)
            return i;
    return -1;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): plain arithmetic instead of timegm, which depends on
 * the process TZ and is not in C11. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Zone names of RFC 5322 4.3 with their offsets in minutes east of UTC. */
static const char *const zone_names[] = {"ut",  "gmt", "est", "edt", "cst",
                                         "cdt", "mst", "mdt", "pst", "pdt"};
static const int zone_offsets[] = {0, 0, -300, -240, -360, -300, -420, -360, -480, -420};

static int parse_zone(struct cursor *c, int *tz)
{
    if (c->p >= c->end)
        return -1;
    if (*c->p == '+' || *c->p == '-') {
        int sign = *c->p == '-' ? -1 : 1;
        int v, n;
        c->p++;
        if (read_number(c, &v, &n) < 0 || n != 4)
            return -1;
        if (v / 100 > 23 || v % 100 > 59)
            return -1;
        *tz = sign * ((v / 100) * 60 + v % 100);
        return 0;
    }
    char word[8];
    size_t n;
    read_word(c, word, sizeof word, &n);
    if (n == 0)
        return -1;
    int i = lookup(word, zone_names, (int)(sizeof zone_names / sizeof zone_names[0]));
    if (i >= 0) {
        *tz = zone_offsets[i];
        return 0;
    }
    /* RFC 5322 4.3: military letters were defined with the wrong sign in
     * RFC 822 and unknown names (CEST, MET, ...) carry no reliable meaning,
     * so both are "-0000", i.e. UTC with no zone information. */
    if ((n == 1 && word[0] != 'j') || (n >= 3 && n <= 5)) {
        *tz = 0;
        return 0;
    }
    return -1;
}

static int parse_range(const char *p, const char *end, int64_t *epoch, int *tz_minutes)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    struct cursor c = {p, end};
    char word[8];
    size_t wn;
    int day, month, year, hour, minute, second = 0, tz, n;

    if (skip_cfws(&c) < 0)
        return -1;
    if (c.p < c.end && is_alpha(*c.p)) {
        read_word(&c, word, sizeof word, &wn);
        /* The weekday is not checked against the date: it adds nothing the
         * date does not say, and clients get it wrong more than the date. */
        if (lookup(word, days, 7) < 0)
            return -1;
        if (skip_cfws(&c) < 0)
            return -1;
        /* The comma is required by the grammar but "Tue 1 Jul" is common
         * and unambiguous, so it is optional here. */
        if (c.p < c.end && *c.p == ',')
            c.p++;
        if (skip_cfws(&c) < 0)
            return -1;
    }

    if (read_number(&c, &day, &n) < 0 || n > 2)
        return -1;
    if (skip_cfws(&c) < 0)
        return -1;
    read_word(&c, word, sizeof word, &wn);
    month = lookup(word, month_names, 12) + 1;
    if (month == 0)
        return -1;
    if (skip_cfws(&c) < 0)
        return -1;
    if (read_number(&c, &year, &n) < 0 || n < 2)
        return -1;
    if (n == 2)
        year += year < 50 ? 2000 : 1900;
    else if (n == 3)
        year += 1900;
    if (year < 1900 || year > 9999)
        return -1;
    if (day < 1 || day > days_in_month(year, month))
        return -1;

    /* obs-hour/obs-minute/obs-second allow CFWS around each colon. */
    if (skip_cfws(&c) < 0)
        return -1;
    if (read_number(&c, &hour, &n) < 0 || n > 2 || hour > 23)
        return -1;
    if (skip_cfws(&c) < 0 || c.p >= c.end || *c.p != ':')
        return -1;
    c.p++;
    if (skip_cfws(&c) < 0)
        return -1;
    if (read_number(&c, &minute, &n) < 0 || n > 2 || minute > 59)
        return -1;
    if (skip_cfws(&c) < 0)
        return -1;
    if (c.p < c.end && *c.p == ':') {
        c.p++;
        if (skip_cfws(&c) < 0)
            return -1;
        /* 60 is a leap second; the arithmetic below rolls it into the next
         * minute, as timegm does. */
        if (read_number(&c, &second, &n) < 0 || n > 2 || second > 60)
            return -1;
        if (skip_cfws(&c) < 0)
            return -1;
    }

    if (parse_zone(&c, &tz) < 0)
        return -1;
    if (skip_cfws(&c) < 0 || c.p != c.end)
        return -1;

    *epoch = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
             (int64_t)tz * 60;
    *tz_minutes = tz;
    return 0;
}

int hdrdate_parse(const char *value, int64_t *epoch, int *tz_minutes)
{
    return parse_range(value, value + strlen(value), epoch, tz_minutes);
}

int hdrdate_from_headers(const char *hdr, size_t len, int64_t *epoch, int *tz_minutes)
{
    const char *end = hdr + len;
    const char *line = hdr;

    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *next = eol ? eol + 1 : end;

        /* An empty line closes the header block: a "Date:" in the body is
         * not the message's date. */
        if (*line == '\n' || (*line == '\r' && line + 1 < end && line[1] == '\n'))
            return -1;

        /* Continuation lines start with a blank and are never field names,
         * so " Date:" inside a folded Subject does not match. */
        const char *q = line;
        static const char name[] = "date";
        size_t k = 0;
        while (k < 4 && q < end && lower(*q) == name[k]) {
            q++;
            k++;
        }
        if (k == 4) {
            /* obs-optional allows blanks between the name and the colon;
             * anything else ("Dated:") is another field. */
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < end && *q == ':') {
                const char *v = q + 1;
                const char *vend = v;
                /* The value runs until a line break not followed by a
                 * blank; folds stay inside and parse as whitespace. */
                for (;;) {
                    const char *nl = memchr(vend, '\n', (size_t)(end - vend));
                    if (!nl) {
                        vend = end;
                        break;
                    }
                    if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
                        vend = nl + 1;
                        continue;
                    }
                    vend = nl;
                    break;
                }
                return parse_range(v, vend, epoch, tz_minutes);
            }
        }
        line = next;
    }
    return -1;
}
