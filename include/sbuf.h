/* sbuf: a growable byte buffer, always NUL-terminated.
 *
 * The buffer owns its storage; sbuf_free releases it and sbuf_take hands it
 * to the caller (who then frees it with free()). Allocation failure aborts:
 * a sync tool that cannot allocate a few bytes cannot continue safely. */
#ifndef IMAPFERRY_SBUF_H
#define IMAPFERRY_SBUF_H

#include <stddef.h>

struct sbuf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
};

#define SBUF_INIT                                                                                  \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void sbuf_append(struct sbuf *b, const void *p, size_t n);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string (never NULL, "" when empty) and resets b. */
char *sbuf_take(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);

/* Allocation helpers that abort on failure, for the same reason. */
void *sbuf_xmalloc(size_t n);
void *sbuf_xcalloc(size_t n, size_t size);
void *sbuf_xrealloc(void *p, size_t n);
char *sbuf_xstrdup(const char *s);
char *sbuf_xstrndup(const char *s, size_t n);

#endif
