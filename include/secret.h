/* secret: passwords and tokens, from the command line, a file or the
 * environment. Every string returned is malloc'd and must be released with
 * secret_free, which overwrites it first. No function here prints a secret;
 * error messages name the source (option, file, variable), never the value. */
#ifndef IMAPFERRY_SECRET_H
#define IMAPFERRY_SECRET_H

#include "status.h"

/* The password of side 1 or 2, from the first source that has one:
 * --passwordN (value), --passfileN (first line; unreadable: STATUS_NOINPUT),
 * IMAPFERRY_PASSWORDN, IMAPSYNC_PASSWORDN. *out stays NULL when none. */
int secret_password(int side, const char *value, const char *passfile, char **out,
                    struct status *st);

/* A token given as itself or as the name of a readable file holding it in its
 * first line (imapsync's --oauthaccesstokenN convention). */
int secret_token(const char *value, char **out, struct status *st);

void secret_free(char *s);

#endif
