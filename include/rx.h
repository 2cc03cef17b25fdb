/* rx: Perl-compatible rules on strings, the only user of PCRE2.
 *
 * imapsync evaluates its rule options as Perl source (`eval "\$x =~ $rule"`),
 * so a rule value is a whole Perl operator, quoted as Perl quotes it:
 *   s<d>PATTERN<d>REPLACEMENT<d>FLAGS   any delimiter, or bracketing pairs
 *                                       (s{..}{..}, s(..)<..>); flags g i m s x
 *   tr<d>SEARCH<d>REPLACE<d>FLAGS       and y///; ranges, flags c d s
 *   m<d>PATTERN<d>FLAGS or /PATTERN/FLAGS   a match (flags i m s x)
 * A bare pattern (rx_compile_pattern) is a regex interpolated into /$re/, as
 * imapsync does with --include and --exclude: no flags, unanchored.
 * Replacements are Perl double-quoted strings: $1..$9, ${N}, $&, \U \L \u
 * \l \E, \n \t \r \\ and escaped delimiters. Flag e, code blocks (?{ }) and
 * other Perl code are refused at compile time, never run.
 * Strings are bytes; no locale, no UTF-8 mode. Pure: no I/O. */
#ifndef IMAPFERRY_RX_H
#define IMAPFERRY_RX_H

#include "status.h"

#include <stddef.h>

enum rx_kind {
    RX_SUBST, /* s/// */
    RX_TR,    /* tr/// or y/// */
    RX_MATCH, /* m// or //, or a bare pattern */
};

/* One compiled rule; immutable after compilation, so several threads may
 * apply it at once. Owned by the caller of rx_compile_*; release with rx_free. */
struct rx_rule;

/* Compiles a Perl operator (s///, tr///, y///, m//, //). On failure
 * STATUS_USAGE and one line naming the rule and what is wrong with it. */
int rx_compile(const char *src, struct rx_rule **out, struct status *st);
/* Compiles a bare regex, matched as Perl's /$re/ would. */
int rx_compile_pattern(const char *pattern, struct rx_rule **out, struct status *st);
void rx_free(struct rx_rule *r);

enum rx_kind rx_kind(const struct rx_rule *r);
/* The source text as given, for messages. */
const char *rx_source(const struct rx_rule *r);

/* Applies an s/// or tr/// rule to in[0..len); *out is malloc'd and
 * NUL-terminated (*outlen excludes the NUL), and is a copy of the input when
 * nothing matched. A match rule leaves the string unchanged. -1 with
 * STATUS_USAGE only when PCRE2 fails at run time (match limit). */
int rx_apply(const struct rx_rule *r, const char *in, size_t len, char **out, size_t *outlen,
             struct status *st);
/* 1 when the rule's pattern matches in[0..len) (for tr: when any character
 * of its search list occurs), 0 when not, -1 on a PCRE2 run-time error. */
int rx_match(const struct rx_rule *r, const char *in, size_t len);

#endif
