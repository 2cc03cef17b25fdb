/* fuzz_msgid: libFuzzer target for the header/identity parser (msgid).
 *
 * The input is the raw header block as a server would send it (not
 * NUL-terminated: libFuzzer's exact-size buffer catches over-reads). The key
 * is computed with and without the size and must be deterministic. */
#include "msgid.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *hdr = size ? (const char *)data : "";
    struct msgid_key a, b, c;
    int ha = -1, hb = -1, hc = -1;
    msgid_key_from_headers(hdr, size, (uint32_t)size, 1, &a, &ha);
    msgid_key_from_headers(hdr, size, (uint32_t)size, 1, &b, &hb);
    msgid_key_from_headers(hdr, size, 0, 0, &c, &hc);
    if (msgid_key_cmp(&a, &b) != 0 || ha != hb || ha != hc || (ha != 0 && ha != 1))
        __builtin_trap();
    if (msgid_key_cmp(&a, &a) != 0 || msgid_key_cmp(&a, &c) != -msgid_key_cmp(&c, &a))
        __builtin_trap();
    return 0;
}
