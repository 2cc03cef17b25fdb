/* csv: imapsync's account list, one line at a time, and the shell-like
 * splitting of its extra options.
 *
 * A line is `host1;user1;password1;host2;user2;password2;extra options`, the
 * format of imapsync's own batch recipes. Lines that are blank or whose first
 * non-blank character is `#` are skipped. Host and user fields lose the
 * blanks around them; passwords are kept byte for byte (only the line end,
 * CR included, is dropped). Everything after the sixth `;` is the extra
 * field, `;` included, split into words like a shell command line: blanks
 * separate, '...' and "..." quote, a backslash escapes, nothing is expanded.
 *
 * Pure: no I/O. Error messages never quote a field (it may be a password). */
#ifndef IMAPFERRY_CSV_H
#define IMAPFERRY_CSV_H

#include "status.h"

#include <stddef.h>

enum csv_field {
    CSV_HOST1,
    CSV_USER1,
    CSV_PASSWORD1,
    CSV_HOST2,
    CSV_USER2,
    CSV_PASSWORD2,
    CSV_NFIELDS
};

/* Owns every string; csv_line_free wipes and frees them. */
struct csv_line {
    char *field[CSV_NFIELDS]; /* never NULL; "" when the field is empty */
    char **extra;             /* the words of the extra field */
    size_t nextra;
};

/* Parses one line (without or with its line end) of len bytes. Returns 1 and
 * fills *out for an account, 0 for a line to skip (*out zeroed), -1 with
 * STATUS_USAGE for a malformed one (*out zeroed). */
int csv_parse_line(const char *line, size_t len, struct csv_line *out, struct status *st);
void csv_line_free(struct csv_line *l);

/* Splits s as a shell would, without expansion: *words (owned, free with
 * csv_words_free) gets the n words. -1 with STATUS_USAGE on an unterminated
 * quote or a trailing backslash. */
int csv_split_words(const char *s, char ***words, size_t *n, struct status *st);
void csv_words_free(char **words, size_t n);

#endif
