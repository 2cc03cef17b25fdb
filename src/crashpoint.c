/* crashpoint: ends the process at its Nth step for the crash tests
 * (crashpoint.h). */
#include "crashpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned long long steps;

void crashpoint(const char *what)
{
    unsigned long long n = __atomic_add_fetch(&steps, 1, __ATOMIC_RELAXED);
    const char *at = getenv("IMAPFERRY_TEST_CRASH_AT");
    if (at == NULL || *at == '\0')
        return;
    char *end;
    unsigned long long want = strtoull(at, &end, 10);
    if (*end != '\0' || want != n)
        return;
    fprintf(stderr, "imapferry: test crash at step %llu (%s)\n", n, what);
    _exit(137);
}
