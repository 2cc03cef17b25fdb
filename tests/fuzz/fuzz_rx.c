/* fuzz_rx: libFuzzer target for the Perl-rule engine (rx).
 *
 * The first line of the input is compiled twice, as an operator
 * (rx_compile: s///, tr///, m//) and as a bare pattern (rx_compile_pattern,
 * as --include/--exclude do); the rest of the input, NUL bytes included, is
 * the subject given to rx_apply and rx_match. */
#include "rx.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OUT (32.0 * 1024 * 1024)

/* Bytes one rule can make of one input byte, over-estimated: its whole text
 * per match, one more match per byte (empty matches), and nested \Q doubles
 * the backslashes per level, as in Perl ("\Q\Q." is "\\\."). Rules whose
 * output could pass MAX_OUT are not tried: twenty \Q turn a byte into a
 * megabyte and chained s/./LONG/g multiply, which is the rules' doing, not
 * a bug (imapsync's rules are the admin's own). */
static double rule_growth(const char *src)
{
    double g = (double)strlen(src) + 1;
    for (const char *p = src; (p = strstr(p, "\\Q")) != NULL; p += 2)
        g *= 2;
    return g;
}

static void run(struct rx_rule *r, const char *subj, size_t len)
{
    char *out = NULL;
    size_t outlen = 0;
    struct status st;
    status_clear(&st);
    int rc = rx_apply(r, len ? subj : NULL, len, &out, &outlen, &st);
    if (rc == 0) {
        if (out == NULL || out[outlen] != '\0')
            __builtin_trap(); /* promised: malloc'd and NUL-terminated */
        if (rx_kind(r) == RX_MATCH && (outlen != len || memcmp(out, subj, len) != 0))
            __builtin_trap(); /* promised: a match rule leaves the string as is */
    } else if (out != NULL) {
        __builtin_trap(); /* promised: *out NULL on failure */
    }
    free(out);
    (void)rx_match(r, subj, len);
    (void)rx_source(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t rlen = nl ? (size_t)(nl - data) : size;
    char *src = malloc(rlen + 1);
    if (src == NULL)
        return 0;
    if (rlen)
        memcpy(src, data, rlen);
    src[rlen] = '\0';
    /* the subject is an exact-size heap copy, so over-reads are caught */
    size_t slen = nl ? size - rlen - 1 : 0;
    char *subj = malloc(slen ? slen : 1);
    if (subj == NULL) {
        free(src);
        return 0;
    }
    if (slen)
        memcpy(subj, nl + 1, slen);

    struct status st;
    struct rx_rule *r = NULL;
    status_clear(&st);
    if ((double)(slen + 1) * rule_growth(src) > MAX_OUT) {
        /* skipped: see rule_growth */
    } else if (rx_compile(src, &r, &st) == 0) {
        run(r, subj, slen);
        rx_free(r);
    } else if (r != NULL) {
        __builtin_trap(); /* promised: *out NULL on failure */
    }
    r = NULL;
    status_clear(&st);
    if (rx_compile_pattern(src, &r, &st) == 0) {
        run(r, subj, slen);
        rx_free(r);
    } else if (r != NULL) {
        __builtin_trap();
    }
    free(subj);
    free(src);
    return 0;
}
