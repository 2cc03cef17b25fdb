/* fuzz_rx: libFuzzer target for the Perl-rule engine (rx).
 *
 * The first line of the input is compiled twice, as an operator
 * (rx_compile: s///, tr///, m//) and as a bare pattern (rx_compile_pattern,
 * as --include/--exclude do); the rest of the input, NUL bytes included, is
 * the subject given to rx_apply and rx_match. */
#include "fuzz_rules.h"
#include "rx.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    if ((double)(slen + 1) * fuzz_rule_growth(src) > FUZZ_MAX_OUT) {
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
