/* csv: one line of imapsync's account list into its six fields and the
 * words of its extra options (see csv.h). */
#include "csv.h"

#include "sbuf.h"
#include "secret.h"

#include <stdlib.h>
#include <string.h>

static void wipe_sbuf(struct sbuf *b)
{
    if (b->data)
        memset(b->data, 0, b->cap);
    sbuf_free(b);
}

void csv_words_free(char **words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        secret_free(words[i]);
    free(words);
}

void csv_line_free(struct csv_line *l)
{
    for (int f = 0; f < CSV_NFIELDS; f++)
        secret_free(l->field[f]);
    csv_words_free(l->extra, l->nextra);
    memset(l, 0, sizeof *l);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void add_word(char ***words, size_t *n, struct sbuf *w)
{
    *words = sbuf_xrealloc(*words, (*n + 1) * sizeof **words);
    (*words)[(*n)++] = sbuf_take(w);
}

int csv_split_words(const char *s, char ***words, size_t *n, struct status *st)
{
    *words = NULL;
    *n = 0;
    struct sbuf w = SBUF_INIT;
    int in_word = 0; /* a quote pair makes a word even when empty: '' */
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (is_blank(c) || c == '\n' || c == '\r') {
            if (in_word)
                add_word(words, n, &w);
            in_word = 0;
            continue;
        }
        in_word = 1;
        if (c == '\\') {
            if (p[1] == '\0')
                goto trailing;
            sbuf_addc(&w, *++p);
        } else if (c == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (end == NULL)
                goto unterminated;
            sbuf_append(&w, p + 1, (size_t)(end - p - 1));
            p = end;
        } else if (c == '"') {
            /* In double quotes a backslash only escapes what the shell
             * would give a meaning to there; elsewhere it stays. */
            for (p++; *p != '"'; p++) {
                if (*p == '\0')
                    goto unterminated;
                if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                    p++;
                sbuf_addc(&w, *p);
            }
        } else {
            sbuf_addc(&w, c);
        }
    }
    if (in_word)
        add_word(words, n, &w);
    sbuf_free(&w);
    return 0;
unterminated:
    wipe_sbuf(&w);
    csv_words_free(*words, *n);
    *words = NULL;
    *n = 0;
    return status_set(st, STATUS_USAGE, "unterminated quote in the extra options");
trailing:
    wipe_sbuf(&w);
    csv_words_free(*words, *n);
    *words = NULL;
    *n = 0;
    return status_set(st, STATUS_USAGE, "a backslash ends the extra options");
}

/* A field without the blanks around it (trim) or as it is. */
static char *field_dup(const char *s, size_t len, int trim)
{
    if (trim) {
        while (len && is_blank(*s)) {
            s++;
            len--;
        }
        while (len && is_blank(s[len - 1]))
            len--;
    }
    return sbuf_xstrndup(s, len);
}

int csv_parse_line(const char *line, size_t len, struct csv_line *out, struct status *st)
{
    memset(out, 0, sizeof *out);
    if (memchr(line, '\0', len))
        return status_set(st, STATUS_USAGE, "the line holds a NUL byte");
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    size_t i = 0;
    while (i < len && (is_blank(line[i])))
        i++;
    if (i == len || line[i] == '#')
        return 0;
    const char *p = line, *end = line + len;
    for (int f = 0; f < CSV_NFIELDS; f++) {
        const char *sep = memchr(p, ';', (size_t)(end - p));
        if (sep == NULL && f < CSV_NFIELDS - 1) {
            csv_line_free(out);
            return status_set(st, STATUS_USAGE,
                              "%d field%s where 6 are needed "
                              "(host1;user1;password1;host2;user2;password2[;options])",
                              f + 1, f ? "s" : "");
        }
        const char *fend = sep ? sep : end;
        int secret = f == CSV_PASSWORD1 || f == CSV_PASSWORD2;
        out->field[f] = field_dup(p, (size_t)(fend - p), !secret);
        p = sep ? sep + 1 : end;
    }
    char *rest = sbuf_xstrndup(p, (size_t)(end - p));
    int rc = csv_split_words(rest, &out->extra, &out->nextra, st);
    secret_free(rest);
    if (rc < 0) {
        csv_line_free(out);
        return -1;
    }
    return 1;
}
