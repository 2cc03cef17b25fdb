#include "options.h"

#include "sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct def {
    const char *name;
    enum options_type type;
    int secret;
    const char *help;
};

static const struct def defs[OPT__COUNT] = {
#define OPTIONS_DEF(id, name, type, secret, help) {name, type, secret, help},
    OPTIONS_TABLE(OPTIONS_DEF)
#undef OPTIONS_DEF
};

/* A match of a typed word against the table: which option, negated or not. */
struct match {
    int id;
    int neg;
};

/* Looks name up like Getopt::Long: exact (case-insensitive) wins, otherwise a
 * unique prefix. Negated forms --noX and --no-X count as names of their own. */
static int lookup(const char *word, size_t len, struct match *m, int *ambiguous)
{
    int found = 0;
    *ambiguous = 0;
    for (int exact = 1; exact >= 0; exact--) {
        found = 0;
        for (int i = 0; i < OPT__COUNT; i++) {
            const char *forms[3] = {defs[i].name, NULL, NULL};
            char no1[64], no2[64];
            if (defs[i].type == OPTIONS_NEGFLAG) {
                snprintf(no1, sizeof no1, "no%s", defs[i].name);
                snprintf(no2, sizeof no2, "no-%s", defs[i].name);
                forms[1] = no1;
                forms[2] = no2;
            }
            for (int f = 0; f < 3 && forms[f]; f++) {
                size_t flen = strlen(forms[f]);
                int ok = exact ? (flen == len && strncasecmp(forms[f], word, len) == 0)
                               : (flen > len && strncasecmp(forms[f], word, len) == 0);
                if (!ok)
                    continue;
                if (found && m->id != i) {
                    *ambiguous = 1;
                    return -1;
                }
                found = 1;
                m->id = i;
                m->neg = f > 0;
            }
        }
        if (found)
            return 0;
    }
    return -1;
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

static void wipe(char *s)
{
    /* Overwriting in place changes /proc/PID/cmdline, which is what ps reads;
     * zeroing the tail hides the length too. */
    static const char mask[] = "MASKED";
    size_t len = strlen(s);
    memset(s, 0, len);
    memcpy(s, mask, len < sizeof mask - 1 ? len : sizeof mask - 1);
}

static void wipe_secrets(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-')
            continue;
        w += (w[1] == '-') ? 2 : 1;
        const char *eq = strchr(w, '=');
        size_t len = eq ? (size_t)(eq - w) : strlen(w);
        struct match m;
        int amb;
        if (len == 0 || lookup(w, len, &m, &amb) < 0 || !defs[m.id].secret)
            continue;
        if (eq)
            wipe((char *)eq + 1);
        else if (i + 1 < argc)
            wipe(argv[++i]);
    }
}

static int set_value(struct options *o, int id, const char *val, struct status *st)
{
    struct options_value *v = &o->v[id];
    const char *name = defs[id].name;
    switch (defs[id].type) {
    case OPTIONS_FLAG:
    case OPTIONS_NEGFLAG:
        break;
    case OPTIONS_STR:
        free(v->str);
        v->str = sbuf_xstrdup(val);
        break;
    case OPTIONS_INT:
        if (parse_int(val, &v->num) < 0)
            return status_set(st, STATUS_USAGE, "option --%s needs a whole number, not \"%.100s\"",
                              name, val);
        break;
    case OPTIONS_FLOAT:
        if (parse_float(val, &v->fnum) < 0)
            return status_set(st, STATUS_USAGE,
                              "option --%s needs a number of seconds, not \"%.100s\"", name, val);
        break;
    case OPTIONS_LIST:
        v->list = sbuf_xrealloc(v->list, (v->nlist + 1) * sizeof *v->list);
        v->list[v->nlist++] = sbuf_xstrdup(val);
        break;
    }
    v->given = 1;
    return 0;
}

static int parse(int argc, char **argv, struct options *o, struct status *st)
{
    int extra = 0;
    const char *first_extra = NULL;
    int only_words = 0;
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
        struct match m;
        int amb = 0;
        if (len == 0 || lookup(w, len, &m, &amb) < 0)
            return status_set(st, STATUS_USAGE, "%s option: %.*s", amb ? "ambiguous" : "unknown",
                              (int)(len + (size_t)(w - arg)), arg);
        struct options_value *v = &o->v[m.id];
        enum options_type t = defs[m.id].type;
        if (t == OPTIONS_FLAG || t == OPTIONS_NEGFLAG) {
            if (eq)
                return status_set(st, STATUS_USAGE, "option --%s takes no value", defs[m.id].name);
            v->given = 1;
            v->on = !m.neg;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (val == NULL) {
            if (i + 1 >= argc)
                return status_set(st, STATUS_USAGE, "option --%s needs a value", defs[m.id].name);
            val = argv[++i];
        }
        if (set_value(o, m.id, val, st) < 0)
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
    memset(o, 0, sizeof *o);
}

void options_print_help(void *file)
{
    FILE *f = file;
    for (int i = 0; i < OPT__COUNT; i++) {
        const char *arg = "";
        switch (defs[i].type) {
        case OPTIONS_STR:
        case OPTIONS_LIST:
            arg = " STR";
            break;
        case OPTIONS_INT:
            arg = " INT";
            break;
        case OPTIONS_FLOAT:
            arg = " SEC";
            break;
        default:
            break;
        }
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", defs[i].type == OPTIONS_NEGFLAG ? "[no]" : "",
                 defs[i].name, arg);
        fprintf(f, "  %-24s %s\n", left, defs[i].help);
    }
}
