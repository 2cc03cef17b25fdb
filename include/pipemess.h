/* pipemess: runs a message through a command of the user's (--pipemess,
 * --maxlinelengthcmd), as imapsync does: the message on the command's
 * standard input, its standard output the message that goes on. */
#ifndef IMAPFERRY_PIPEMESS_H
#define IMAPFERRY_PIPEMESS_H

#include "status.h"

#include <stddef.h>

/* Runs cmd through /bin/sh -c with in[0..len) on its standard input.
 * 0: *out is its output (malloc'd, free(); NUL-terminated, *outlen without
 * the NUL). -1 when the command cannot run, fails (exit status not 0, a
 * signal) or writes nothing, or writes more than a message may hold: st
 * says which, naming the option (what, e.g. "--pipemess") but not the
 * command, which may hold a secret. Safe from any thread of a process that
 * ignores SIGPIPE (main does): a command may exit before reading it all. */
int pipemess_run(const char *what, const char *cmd, const char *in, size_t len, char **out,
                 size_t *outlen, struct status *st);

#endif
