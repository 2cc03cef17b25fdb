/* secret: passwords and tokens from options, files and the environment,
 * wiped after use. */
#include "secret.h"

#include "sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First line of a file without its line end; -1 with errno when unreadable. */
static int first_line(const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    struct sbuf b = SBUF_INIT;
    int c;
    while ((c = getc(f)) != EOF && c != '\n')
        sbuf_addc(&b, (char)c);
    int err = ferror(f);
    fclose(f);
    if (err) {
        if (b.data)
            memset(b.data, 0, b.len);
        sbuf_free(&b);
        errno = EIO;
        return -1;
    }
    if (b.len && b.data[b.len - 1] == '\r')
        b.data[--b.len] = '\0';
    *out = sbuf_take(&b);
    return 0;
}

int secret_password(int side, const char *value, const char *passfile, char **out,
                    struct status *st)
{
    *out = NULL;
    if (value) {
        *out = sbuf_xstrdup(value);
        return 0;
    }
    if (passfile) {
        if (first_line(passfile, out) < 0)
            return status_set(st, STATUS_NOINPUT, "cannot read --passfile%d %s: %s", side, passfile,
                              strerror(errno));
        return 0;
    }
    const char *vars[2] = {side == 1 ? "IMAPFERRY_PASSWORD1" : "IMAPFERRY_PASSWORD2",
                           side == 1 ? "IMAPSYNC_PASSWORD1" : "IMAPSYNC_PASSWORD2"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(vars[i]);
        if (v) {
            *out = sbuf_xstrdup(v);
            return 0;
        }
    }
    return 0;
}

int secret_token(const char *value, char **out, struct status *st)
{
    *out = NULL;
    FILE *f = fopen(value, "r");
    if (f == NULL) {
        *out = sbuf_xstrdup(value);
        return 0;
    }
    fclose(f);
    if (first_line(value, out) < 0)
        return status_set(st, STATUS_NOINPUT, "cannot read the token file %s: %s", value,
                          strerror(errno));
    return 0;
}

void secret_free(char *s)
{
    if (s == NULL)
        return;
    /* volatile so the compiler cannot drop the wipe of memory about to be freed */
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}
