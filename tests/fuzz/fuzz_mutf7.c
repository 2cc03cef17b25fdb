/* fuzz_mutf7: libFuzzer target for modified UTF-7 <-> UTF-8 (mutf7).
 *
 * The input (up to its first NUL) is decoded as a wire name and encoded as
 * UTF-8. Round trips are checked: what encode produces decodes back to its
 * input, and a decoded name re-encodes to something that decodes the same. */
#include "mutf7.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes in and checks that decoding gives it back. */
static void encode_roundtrip(const char *in)
{
    struct status st;
    char *enc = NULL, *dec = NULL;
    status_clear(&st);
    if (mutf7_encode(in, &enc, &st) != 0) {
        if (enc != NULL)
            __builtin_trap();
        return;
    }
    status_clear(&st);
    if (mutf7_decode(enc, &dec, &st) != 0 || strcmp(dec, in) != 0)
        __builtin_trap(); /* encode gave a name decode rejects or changes */
    free(dec);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';

    struct status st;
    char *dec = NULL;
    status_clear(&st);
    if (mutf7_decode(s, &dec, &st) == 0) {
        encode_roundtrip(dec);
        free(dec);
    } else if (dec != NULL) {
        __builtin_trap();
    }
    encode_roundtrip(s);
    free(s);
    return 0;
}
