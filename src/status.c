/* status: filling and prefixing the one-line error record. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int status_set(struct status *st, int code, const char *fmt, ...)
{
    if (st == NULL)
        return -1;
    st->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
    return -1;
}

void status_clear(struct status *st)
{
    st->code = STATUS_OK;
    st->msg[0] = '\0';
}

int status_prefix(struct status *st, int code, const char *prefix)
{
    if (st == NULL)
        return -1;
    char old[sizeof st->msg];
    memcpy(old, st->msg, sizeof old);
    return status_set(st, code, "%s: %s", prefix, old);
}

int status_lost(const struct status *st)
{
    return st->code == STATUS_CONNECT_HOST1 || st->code == STATUS_CONNECT_HOST2 ||
           st->code == STATUS_SIGNAL;
}
