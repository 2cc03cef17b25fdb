/* flagrule: imapsync's flag rules (--regexflag, --filterbuggyflags) on the
 * textual flag list of a host1 message.
 *
 * imapsync edits the flags as one space-separated string in the server's
 * order (flags_for_host2): \Recent is removed, then each --regexflag rule is
 * applied in command-line order to the whole string, then the result is
 * split into flags again. The same rewritten list serves APPEND and the flag
 * resync of later runs. Pure: no I/O. */
#ifndef IMAPFERRY_FLAGRULE_H
#define IMAPFERRY_FLAGRULE_H

#include "rx.h"

#include <stddef.h>

/* The rule --filterbuggyflags puts in front of the --regexflag list
 * (imapsync's buggyflagsregex): flags some servers report and no server
 * accepts back. */
extern const char flagrule_buggy[];

/* Removes \Recent (any case, with one blank after it) and applies rules[0..n)
 * in order. A rule that fails at run time leaves the flags as they were
 * before the rules, as imapsync does. Returns a malloc'd string. */
char *flagrule_rewrite(const char *flags, const struct rx_rule *const *rules, size_t n);

/* Normalises a keyword list: sorts, drops duplicates; takes and returns
 * malloc'd strings (NULL in = NULL out; "" becomes NULL). */
char *flagrule_keywords_norm(char *kw);

/* Whether w can be sent as a flag keyword: an IMAP atom (RFC 3501), so
 * no blank, control character, backslash, quote, bracket or wildcard. */
int flagrule_is_keyword(const char *w);

/* Splits a flag string into the five system flags (case-insensitive, as
 * enum msg_flag bits) and keywords; keywords come back sorted and
 * deduplicated, malloc'd, or NULL when none. \Recent, unknown \System flags
 * and words that are not IMAP atoms (RFC 3501 flag-keyword) cannot be stored
 * on host2 and are dropped; returns how many were dropped. */
size_t flagrule_parse(const char *flags, unsigned *sysflags, char **keywords);

#endif
