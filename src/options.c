/* options: the table of every imapsync option and a Getopt::Long-style
 * parser over it. */
#include "options.h"

#include "sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct def {
    const char *names; /* "primary|alias" */
    enum options_type type;
    int secret;
    enum options_status on;
    const char *on_why;
    enum options_status off;
    const char *off_why;
    const char *help;
};

static const struct def defs[OPT__COUNT] = {
#define OPTIONS_DEF(id, names, type, secret, on, off, help) {names, type, secret, on, off, help},
    OPTIONS_TABLE(OPTIONS_DEF)
#undef OPTIONS_DEF
};

/* The spellings of one name: Getopt::Long registers "x", "nox" and "no-x"
 * for a negatable x, and each alias gets the same three. */
static const char *const neg_prefix[3] = {"", "no", "no-"};

/* A typed word resolved against the table: which option, which polarity,
 * and the spelling it resolved to (for messages). */
struct match {
    int id;
    int neg;
    const char *pre;
    const char *name;
    size_t name_len;
};

/* Compares word[0..len) with pre+name[0..nlen), case-insensitively: 2 when
 * equal, 1 when the word is a proper prefix of the spelling, 0 otherwise. */
static int form_cmp(const char *word, size_t len, const char *pre, const char *name, size_t nlen)
{
    size_t plen = strlen(pre);
    size_t flen = plen + nlen;
    if (len > flen)
        return 0;
    size_t k = len < plen ? len : plen;
    if (strncasecmp(word, pre, k) != 0)
        return 0;
    if (len > plen && strncasecmp(word + plen, name, len - plen) != 0)
        return 0;
    return len == flen ? 2 : 1;
}

/* Calls fn for every spelling of option i: each name of "a|b", and with a
 * negatable option its "no" and "no-" forms. Stops when fn returns nonzero. */
typedef int (*form_fn)(void *ctx, int id, int neg, const char *pre, const char *name, size_t nlen);

static int each_form(int i, form_fn fn, void *ctx)
{
    int npre = defs[i].type == OPTIONS_NEGFLAG ? 3 : 1;
    for (const char *n = defs[i].names; *n;) {
        size_t nlen = strcspn(n, "|");
        for (int p = 0; p < npre; p++) {
            int rc = fn(ctx, i, p > 0, neg_prefix[p], n, nlen);
            if (rc)
                return rc;
        }
        n += nlen;
        if (*n == '|')
            n++;
    }
    return 0;
}

#define MAX_HITS 64

struct search {
    const char *word;
    size_t len;
    int exact;
    struct match hits[MAX_HITS]; /* one per option and polarity */
    int nhits;
    int more; /* hits left out of hits[] */
};

static int collect(void *ctx, int id, int neg, const char *pre, const char *name, size_t nlen)
{
    struct search *s = ctx;
    int c = form_cmp(s->word, s->len, pre, name, nlen);
    if (c == 0 || (s->exact && c != 2))
        return 0;
    for (int h = 0; h < s->nhits; h++)
        if (s->hits[h].id == id && s->hits[h].neg == neg)
            return 0;
    if (s->nhits == MAX_HITS) {
        s->more++;
        return 0;
    }
    s->hits[s->nhits++] = (struct match){id, neg, pre, name, nlen};
    return 0;
}

/* Looks a word up as Getopt::Long does with its defaults (ignore_case,
 * auto_abbrev): an exact spelling wins; otherwise the spellings the word
 * begins are gathered, and they must all belong to one option and polarity
 * ("--nosyncac" is --nosyncacls, "--del" is ambiguous). Returns the number of
 * options matched: 1 fills *m, 0 is unknown, more is ambiguous (s->hits). */
static int lookup(const char *word, size_t len, struct search *s, struct match *m)
{
    memset(s, 0, sizeof *s);
    s->word = word;
    s->len = len;
    for (s->exact = 1; s->exact >= 0; s->exact--) {
        for (int i = 0; i < OPT__COUNT; i++)
            each_form(i, collect, s);
        if (s->nhits)
            break;
    }
    if (s->nhits == 1)
        *m = s->hits[0];
    return s->nhits + s->more;
}

/* Getopt::Long accepts underscores inside numbers ("35_651_584"). */
static int strip_underscores(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '_')
            continue;
        if (k + 1 >= n)
            return -1;
        out[k++] = *p;
    }
    out[k] = '\0';
    return k == 0 ? -1 : 0;
}

static int parse_int(const char *s, long *out)
{
    char clean[64];
    if (strip_underscores(s, clean, sizeof clean) < 0)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(clean, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double *out)
{
    char clean[64];
    if (strip_underscores(s, clean, sizeof clean) < 0)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(clean, &end);
    if (errno || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int takes_value(enum options_type t)
{
    return t != OPTIONS_FLAG && t != OPTIONS_NEGFLAG;
}

static void wipe(char *s)
{
    /* Overwriting in place changes /proc/PID/cmdline, which is what ps reads;
     * zeroing the tail hides the length too. */
    static const char mask[] = "MASKED";
    size_t len = strlen(s);
    memset(s, 0, len);
    memcpy(s, mask, len < sizeof mask - 1 ? len : sizeof mask - 1);
}

/* Walks argv as the parser does (a value after an option that takes one is
 * not an option), so a secret is wiped even when parsing stopped before it. */
static void wipe_secrets(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-' || w[1] == '\0')
            continue;
        if (strcmp(w, "--") == 0)
            return;
        w += (w[1] == '-') ? 2 : 1;
        const char *eq = strchr(w, '=');
        size_t len = eq ? (size_t)(eq - w) : strlen(w);
        struct search s;
        struct match m;
        if (len == 0 || lookup(w, len, &s, &m) != 1 || !takes_value(defs[m.id].type))
            continue;
        if (eq) {
            if (defs[m.id].secret)
                wipe((char *)eq + 1);
        } else if (i + 1 < argc) {
            i++;
            if (defs[m.id].secret)
                wipe(argv[i]);
        }
    }
}

static void add_list(struct options_value *v, const char *val)
{
    v->list = sbuf_xrealloc(v->list, (v->nlist + 1) * sizeof *v->list);
    v->list[v->nlist++] = sbuf_xstrdup(val);
}

static int set_value(struct options *o, const struct match *m, const char *val, struct status *st)
{
    struct options_value *v = &o->v[m->id];
    int n = (int)m->name_len;
    switch (defs[m->id].type) {
    case OPTIONS_FLAG:
    case OPTIONS_NEGFLAG:
        break;
    case OPTIONS_STR:
        free(v->str);
        v->str = sbuf_xstrdup(val);
        break;
    case OPTIONS_INT:
        if (parse_int(val, &v->num) < 0)
            return status_set(st, STATUS_USAGE,
                              "option --%.*s needs a whole number, not \"%.100s\"", n, m->name,
                              val);
        break;
    case OPTIONS_FLOAT:
        if (parse_float(val, &v->fnum) < 0)
            return status_set(st, STATUS_USAGE, "option --%.*s needs a number, not \"%.100s\"", n,
                              m->name, val);
        break;
    case OPTIONS_KV:
        /* Getopt::Long: "Option x, key "k", requires a value". */
        if (strchr(val, '=') == NULL)
            return status_set(st, STATUS_USAGE, "option --%.*s needs KEY=VALUE, not \"%.100s\"", n,
                              m->name, val);
        add_list(v, val);
        break;
    case OPTIONS_LIST:
        add_list(v, val);
        break;
    }
    v->given = 1;
    return 0;
}

static int ambiguous(const char *arg, size_t len, const struct search *s, struct status *st)
{
    struct sbuf b = SBUF_INIT;
    for (int h = 0; h < s->nhits; h++)
        sbuf_addf(&b, "%s%s%.*s", h ? ", " : "", s->hits[h].pre, (int)s->hits[h].name_len,
                  s->hits[h].name);
    if (s->more)
        sbuf_addf(&b, ", and %d more", s->more);
    char *list = sbuf_take(&b);
    status_set(st, STATUS_USAGE, "ambiguous option %.*s: %.400s", (int)len, arg, list);
    free(list);
    return -1;
}

/* Adds "--x: why" once per option and polarity. */
static void add_notice(struct options *o, const struct match *m, const char *why,
                       unsigned char *noted)
{
    unsigned char bit = (unsigned char)(1u << m->neg);
    if (noted[m->id] & bit)
        return;
    noted[m->id] |= bit;
    struct sbuf b = SBUF_INIT;
    sbuf_addf(&b, "--%s%.*s: %s", m->pre, (int)m->name_len, m->name, why);
    o->notices = sbuf_xrealloc(o->notices, (o->nnotices + 1) * sizeof *o->notices);
    o->notices[o->nnotices++] = sbuf_take(&b);
}

static int parse(int argc, char **argv, struct options *o, struct status *st)
{
    int extra = 0;
    const char *first_extra = NULL;
    int only_words = 0;
    unsigned char noted[OPT__COUNT] = {0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_words || arg[0] != '-' || arg[1] == '\0') {
            if (!extra)
                first_extra = arg;
            extra++;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_words = 1;
            continue;
        }
        const char *w = arg + ((arg[1] == '-') ? 2 : 1);
        const char *eq = strchr(w, '=');
        size_t len = eq ? (size_t)(eq - w) : strlen(w);
        size_t shown = len + (size_t)(w - arg);
        struct search s;
        struct match m;
        int n = len ? lookup(w, len, &s, &m) : 0;
        if (n == 0)
            return status_set(st, STATUS_USAGE, "unknown option: %.*s", (int)shown, arg);
        if (n > 1)
            return ambiguous(arg, shown, &s, st);
        const struct def *d = &defs[m.id];
        enum options_status stat = m.neg ? d->off : d->on;
        const char *why = m.neg ? d->off_why : d->on_why;
        if (stat == OPTIONS_REFUSED)
            return status_set(st, STATUS_USAGE, "--%s%.*s is not supported: %s", m.pre,
                              (int)m.name_len, m.name, why);
        if (why)
            add_notice(o, &m, why, noted);
        struct options_value *v = &o->v[m.id];
        if (!takes_value(d->type)) {
            if (eq)
                return status_set(st, STATUS_USAGE, "option --%s%.*s takes no value", m.pre,
                                  (int)m.name_len, m.name);
            v->given = 1;
            v->on = !m.neg;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (val == NULL) {
            if (i + 1 >= argc)
                return status_set(st, STATUS_USAGE, "option --%.*s needs a value", (int)m.name_len,
                                  m.name);
            val = argv[++i];
        }
        if (set_value(o, &m, val, st) < 0)
            return -1;
    }
    if (extra)
        return status_set(st, STATUS_USAGE,
                          "found %d extra argument%s, the first is \"%.100s\" (a quoting "
                          "problem? every value needs its option in front)",
                          extra, extra == 1 ? "" : "s", first_extra);
    return 0;
}

int options_parse(int argc, char **argv, struct options *o, struct status *st)
{
    memset(o, 0, sizeof *o);
    int rc = parse(argc, argv, o, st);
    wipe_secrets(argc, argv);
    return rc;
}

void options_free(struct options *o)
{
    for (int i = 0; i < OPT__COUNT; i++) {
        struct options_value *v = &o->v[i];
        if (v->str && defs[i].secret)
            memset(v->str, 0, strlen(v->str));
        free(v->str);
        for (size_t k = 0; k < v->nlist; k++)
            free(v->list[k]);
        free(v->list);
    }
    for (size_t k = 0; k < o->nnotices; k++)
        free(o->notices[k]);
    free(o->notices);
    memset(o, 0, sizeof *o);
}

int options_on(const struct options *o, enum options_id id)
{
    return o->v[id].given && o->v[id].on;
}

static const char *const type_word[] = {
    [OPTIONS_FLAG] = "flag",    [OPTIONS_NEGFLAG] = "flag", [OPTIONS_STR] = "str",
    [OPTIONS_INT] = "int",      [OPTIONS_FLOAT] = "float",  [OPTIONS_LIST] = "list",
    [OPTIONS_KV] = "key=value",
};

static const char *status_word(enum options_status s)
{
    switch (s) {
    case OPTIONS_HONOURED:
        return "honoured";
    case OPTIONS_ACCEPTED:
        return "accepted";
    case OPTIONS_REFUSED:
        return "refused";
    }
    return "?";
}

/* "[--x not supported: why]" or "[--x notice: text]"; the spelling is left
 * out when both polarities say the same. */
static void print_why(FILE *f, const char *pre, const struct def *d, size_t plen,
                      enum options_status s, const char *why, int named)
{
    if (why == NULL)
        return;
    const char *kind = s == OPTIONS_REFUSED ? "not supported" : "notice";
    if (named)
        fprintf(f, " [--%s%.*s %s: %s]", pre, (int)plen, d->names, kind, why);
    else
        fprintf(f, " [%s: %s]", kind, why);
}

/* "--[no]name|alias": how the option is written in --help and the list. */
static void left_column(const struct def *d, char *out, size_t n)
{
    snprintf(out, n, "--%s%s", d->type == OPTIONS_NEGFLAG ? "[no]" : "", d->names);
}

/* Whether --x and --nox say the same (always so for a non-negatable x). */
static int same_status(const struct def *d)
{
    return d->type != OPTIONS_NEGFLAG || d->on == d->off;
}

static int same_why(const struct def *d)
{
    if (d->type != OPTIONS_NEGFLAG)
        return 1;
    if (d->on_why == NULL || d->off_why == NULL)
        return d->on_why == d->off_why;
    return strcmp(d->on_why, d->off_why) == 0;
}

void options_print_help(void *file)
{
    FILE *f = file;
    for (int i = 0; i < OPT__COUNT; i++) {
        const struct def *d = &defs[i];
        if (d->on != OPTIONS_HONOURED &&
            !(d->type == OPTIONS_NEGFLAG && d->off == OPTIONS_HONOURED))
            continue;
        const char *arg = "";
        switch (d->type) {
        case OPTIONS_STR:
        case OPTIONS_LIST:
            arg = " STR";
            break;
        case OPTIONS_KV:
            arg = " K=V";
            break;
        case OPTIONS_INT:
            arg = " INT";
            break;
        case OPTIONS_FLOAT:
            arg = " NUM";
            break;
        default:
            break;
        }
        char left[96], col[128];
        left_column(d, left, sizeof left);
        snprintf(col, sizeof col, "%s%s", left, arg);
        fprintf(f, "  %-28s %s\n", col, d->help);
    }
}

void options_print_list(void *file)
{
    FILE *f = file;
    for (int i = 0; i < OPT__COUNT; i++) {
        const struct def *d = &defs[i];
        char left[96], stat[160];
        left_column(d, left, sizeof left);
        size_t plen = strcspn(d->names, "|");
        if (same_status(d))
            snprintf(stat, sizeof stat, "%s", status_word(d->on));
        else
            snprintf(stat, sizeof stat, "%s, --no%.*s %s", status_word(d->on), (int)plen, d->names,
                     status_word(d->off));
        fprintf(f, "%-30s %-9s %-8s  %s", left, type_word[d->type], stat, d->help);
        int same = same_why(d);
        print_why(f, "", d, plen, d->on, d->on_why, !same);
        if (!same)
            print_why(f, "no", d, plen, d->off, d->off_why, 1);
        fputc('\n', f);
    }
}
