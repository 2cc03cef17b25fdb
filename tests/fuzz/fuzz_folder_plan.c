/* fuzz_folder_plan: libFuzzer target for the folder planner (folder_plan).
 *
 * The input is a list of lines "TAG[ATTRS]:VALUE" describing both folder
 * lists and the rules of a run:
 *   1:NAME  a host1 folder   2:NAME  a host2 folder
 *           ATTRS on 1 and 2: n \Noselect, s subscribed, and the roles
 *           A all, r archive, d drafts, g flagged, j junk, e sent, t trash
 *   f: --folder   r: --folderrec   i: --include   x: --exclude
 *   F: --folderfirst   L: --folderlast   m: --f1f2 A=B
 *   s: --subfolder1   S: --subfolder2   R: --regextrans2 (s///, tr///)
 *   P: prefix1   Q: prefix2   p: sep1 and sep2 (two bytes, ' ' = flat)
 *   o: a automap, u subscribed, c checkfoldersexist, b subscribe,
 *      B subscribeall (without an o line: imapsync's defaults)
 * Lines that do not fit are ignored. Every host1 name is also translated
 * on its own (folder_plan_translate). The plan must hold non-empty names
 * and leaders that point at an earlier or the same pair. */
#include "fuzz_rules.h"
#include "folder_plan.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_ITEMS = 48, MAX_RULES = 4 };

struct names {
    const char *v[MAX_ITEMS];
    size_t n;
};

struct rules {
    struct rx_rule *v[MAX_RULES];
    size_t n;
    double out_max; /* longest name the rules can make (regextrans2: chained) */
};

static void add_name(struct names *l, const char *s)
{
    if (l->n < MAX_ITEMS)
        l->v[l->n++] = s;
}

static void add_rule(struct rules *l, const char *src, int bare)
{
    double g = l->out_max * fuzz_rule_growth(src);
    struct rx_rule *r = NULL;
    struct status st;
    status_clear(&st);
    if (l->n >= MAX_RULES || g > FUZZ_MAX_OUT)
        return;
    int rc = bare ? rx_compile_pattern(src, &r, &st) : rx_compile(src, &r, &st);
    if (rc == 0) {
        l->v[l->n++] = r;
        if (!bare)
            l->out_max = g;
    }
}

static unsigned parse_attrs(const char *a, size_t n, int *noselect, int *subscribed)
{
    static const struct {
        char c;
        unsigned bit;
    } roles[] = {
        {'A', FOLDER_ROLE_ALL},     {'r', FOLDER_ROLE_ARCHIVE}, {'d', FOLDER_ROLE_DRAFTS},
        {'g', FOLDER_ROLE_FLAGGED}, {'j', FOLDER_ROLE_JUNK},    {'e', FOLDER_ROLE_SENT},
        {'t', FOLDER_ROLE_TRASH},
    };
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == 'n')
            *noselect = 1;
        else if (a[i] == 's')
            *subscribed = 1;
        for (size_t k = 0; k < sizeof roles / sizeof roles[0]; k++)
            if (a[i] == roles[k].c)
                bits |= roles[k].bit;
    }
    return bits;
}

static void add_folder(struct folder *f, size_t *n, char *name, const char *attrs, size_t nattrs)
{
    if (*n >= MAX_ITEMS)
        return;
    struct folder *x = &f[(*n)++];
    memset(x, 0, sizeof *x);
    x->name = name;
    x->roles = parse_attrs(attrs, nattrs, &x->noselect, &x->subscribed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one writable, NUL-terminated copy, cut into lines in place */
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    if (size)
        memcpy(buf, data, size);
    buf[size] = '\0';

    struct folder f1[MAX_ITEMS], f2[MAX_ITEMS];
    size_t n1 = 0, n2 = 0;
    struct names folder = {0}, folderrec = {0}, first = {0}, last = {0}, f1f2 = {0};
    struct rules include = {0}, exclude = {0}, trans = {0};
    /* a name is at most the input, prefix2 and --subfolder2 (both in it) */
    include.out_max = exclude.out_max = trans.out_max = 2.0 * (double)size + 1;
    struct folder_ns ns1 = {"", '/'}, ns2 = {"", '/'};
    struct folder_plan_rules r;
    memset(&r, 0, sizeof r);
    r.checkfoldersexist = 1;
    r.subscribe = 1;

    char *line = buf;
    for (char *end = buf + size; line < end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl)
            *nl = '\0';
        char *next = nl ? nl + 1 : end;
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line) {
            line = next;
            continue;
        }
        const char *attrs = line + 1;
        size_t nattrs = (size_t)(colon - attrs);
        char *val = colon + 1;
        switch (line[0]) {
        case '1':
            add_folder(f1, &n1, val, attrs, nattrs);
            break;
        case '2':
            add_folder(f2, &n2, val, attrs, nattrs);
            break;
        case 'f':
            add_name(&folder, val);
            break;
        case 'r':
            add_name(&folderrec, val);
            break;
        case 'i':
            add_rule(&include, val, 1);
            break;
        case 'x':
            add_rule(&exclude, val, 1);
            break;
        case 'F':
            add_name(&first, val);
            break;
        case 'L':
            add_name(&last, val);
            break;
        case 'm':
            add_name(&f1f2, val);
            break;
        case 's':
            r.subfolder1 = val;
            break;
        case 'S':
            r.subfolder2 = val;
            break;
        case 'R':
            add_rule(&trans, val, 0);
            break;
        case 'P':
            ns1.prefix = val;
            break;
        case 'Q':
            ns2.prefix = val;
            break;
        case 'p':
            ns1.sep = val[0] == ' ' ? 0 : val[0];
            ns2.sep = val[0] && val[1] != ' ' ? val[1] : 0;
            break;
        case 'o':
            r.automap = strchr(val, 'a') != NULL;
            r.subscribed = strchr(val, 'u') != NULL;
            r.checkfoldersexist = strchr(val, 'c') != NULL;
            r.subscribe = strchr(val, 'b') != NULL;
            r.subscribeall = strchr(val, 'B') != NULL;
            break;
        default:
            break;
        }
        line = next;
    }

    r.folder = folder.v;
    r.nfolder = folder.n;
    r.folderrec = folderrec.v;
    r.nfolderrec = folderrec.n;
    r.include = (const struct rx_rule *const *)include.v;
    r.ninclude = include.n;
    r.exclude = (const struct rx_rule *const *)exclude.v;
    r.nexclude = exclude.n;
    r.folderfirst = first.v;
    r.nfolderfirst = first.n;
    r.folderlast = last.v;
    r.nfolderlast = last.n;
    r.f1f2 = f1f2.v;
    r.nf1f2 = f1f2.n;
    r.regextrans2 = (const struct rx_rule *const *)trans.v;
    r.nregextrans2 = trans.n;

    struct status st;
    for (size_t i = 0; i < n1; i++) {
        char *out = NULL;
        status_clear(&st);
        if (folder_plan_translate(f1[i].name, &ns1, &ns2, &out, &st) == 0 && out == NULL)
            __builtin_trap();
        free(out);
    }

    struct folder_plan plan;
    memset(&plan, 0, sizeof plan);
    status_clear(&st);
    if (folder_plan_build(f1, n1, f2, n2, &ns1, &ns2, &r, &plan, &st) == 0) {
        for (size_t i = 0; i < plan.npairs; i++) {
            const struct folder_plan_pair *q = &plan.pairs[i];
            if (q->name1 == NULL || q->name2 == NULL || q->leader > i)
                __builtin_trap();
            /* An empty name2 fails the build, and --automap never takes
             * an empty host2 name as a target. */
            if (q->name2[0] == '\0')
                __builtin_trap();
        }
        for (size_t i = 0; i < plan.nmissing; i++)
            if (plan.missing[i] == NULL)
                __builtin_trap();
    }
    folder_plan_free(&plan);

    for (size_t i = 0; i < include.n; i++)
        rx_free(include.v[i]);
    for (size_t i = 0; i < exclude.n; i++)
        rx_free(exclude.v[i]);
    for (size_t i = 0; i < trans.n; i++)
        rx_free(trans.v[i]);
    free(buf);
    return 0;
}
