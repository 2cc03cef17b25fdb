/* fuzz_flagrule: libFuzzer target for the flag rules (flagrule).
 *
 * Input: up to four rule lines (--regexflag values, compiled with
 * rx_compile; the word "buggy" stands for --filterbuggyflags' rule), an
 * empty line, then the flag string of a host1 message. The flags are
 * rewritten and the result parsed; the keywords that come back must be
 * IMAP atoms, sorted and without duplicates. Without an empty line the
 * whole input is the flag string. */
#include "fuzz_rules.h"
#include "flagrule.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_RULES = 4 };

static char *copy(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Checks flagrule_parse's promises on its keyword list. */
static void check_keywords(const char *kw)
{
    if (kw == NULL)
        return;
    if (*kw == '\0')
        __builtin_trap(); /* none is NULL, never "" */
    const char *prev = NULL;
    size_t prevlen = 0;
    for (const char *p = kw;;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0)
            __builtin_trap();
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
                __builtin_trap(); /* not an atom: host2 would get it raw */
        }
        if (prev != NULL) {
            size_t m = prevlen < n ? prevlen : n;
            int c = memcmp(prev, p, m);
            if (c == 0 && prevlen == n)
                __builtin_trap(); /* duplicate */
        }
        prev = p;
        prevlen = n;
        if (e == NULL)
            break;
        p = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rx_rule *rules[MAX_RULES];
    size_t nrules = 0;
    const uint8_t *p = data, *end = data + size;
    const uint8_t *sep = NULL;
    double out_max = (double)size + 1;
    for (const uint8_t *q = data; q + 1 < end; q++)
        if (q[0] == '\n' && q[1] == '\n') {
            sep = q;
            break;
        }
    if (sep != NULL) {
        while (p < sep) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(sep - p));
            const uint8_t *le = nl ? nl : sep;
            char *src = copy(p, (size_t)(le - p));
            struct rx_rule *r = NULL;
            struct status st;
            status_clear(&st);
            const char *text = strcmp(src, "buggy") == 0 ? flagrule_buggy : src;
            double g = out_max * fuzz_rule_growth(text);
            if (nrules < MAX_RULES && g <= FUZZ_MAX_OUT && rx_compile(text, &r, &st) == 0) {
                rules[nrules++] = r;
                out_max = g;
            }
            free(src);
            p = le + 1;
        }
        p = sep + 2;
    }
    char *flags = copy(p, (size_t)(end - p));

    char *out = flagrule_rewrite(flags, (const struct rx_rule *const *)rules, nrules);
    if (out == NULL)
        __builtin_trap();
    unsigned sys = 0;
    char *kw = NULL;
    (void)flagrule_parse(out, &sys, &kw);
    check_keywords(kw);
    free(kw);
    kw = NULL;
    (void)flagrule_parse(flags, &sys, &kw);
    check_keywords(kw);
    free(kw);
    free(out);
    free(flags);
    for (size_t i = 0; i < nrules; i++)
        rx_free(rules[i]);
    return 0;
}
