/* fuzz_options: libFuzzer target for the command-line parser (options_parse).
 *
 * The input is split on NUL bytes into argv[1..]; each word is a writable
 * heap copy, as options_parse overwrites secret values in place. Every
 * parse, successful or not, is released with options_free. */
#include "options.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_ARGS = 128 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup("imapferry");
    size_t start = 0;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
        if (i < size && data[i] != '\0')
            continue;
        size_t n = i - start;
        char *w = malloc(n + 1);
        if (w == NULL)
            break;
        if (n)
            memcpy(w, data + start, n);
        w[n] = '\0';
        argv[argc++] = w;
        start = i + 1;
    }
    argv[argc] = NULL;

    struct options o;
    struct status st;
    memset(&st, 0, sizeof st);
    (void)options_parse(argc, argv, &o, &st);
    if (memchr(st.msg, '\0', sizeof st.msg) == NULL)
        __builtin_trap(); /* the message must stay NUL-terminated */
    options_free(&o);

    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
