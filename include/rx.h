/* rx: Perl-compatible rules on strings, the only user of PCRE2.
 *
 * imapsync evaluates its rule options as Perl source (`eval "\$x =~ $rule"`),
 * so a rule value is a whole Perl operator, quoted as Perl quotes it:
 *   s<d>PATTERN<d>REPLACEMENT<d>FLAGS   any delimiter, or bracketing pairs
 *                                       (s{..}{..}, s(..)<..>); flags g i m s x
 *   tr<d>SEARCH<d>REPLACE<d>FLAGS       and y///; ranges, flags c d s
 *   m<d>PATTERN<d>FLAGS or /PATTERN/FLAGS   a match (flags g i m s x; g is moot)
 * A bare pattern (rx_compile_pattern) is a regex interpolated into /$re/, as
 * imapsync does with --include and --exclude: no flags, unanchored.
 * Replacements are Perl double-quoted strings: $1..$9, ${N}, $&, \U \L \u
 * \l \E, \n \t \r \\ and escaped delimiters. Flag e, code blocks (?{ }) and
 * other Perl code are refused at compile time, never run.
 * Strings are bytes; no locale, no UTF-8 mode. Pure: no I/O.
 *
 * Quoting, as Perl's lexer does it:
 * - The delimiter is any character but a letter, digit, _ or blank; blanks
 *   may stand before it ("s {a}{b}", not "s #a#b#") and, with brackets,
 *   between the two parts. Blanks and one ';' may follow the flags.
 * - A backslash before a plain delimiter is dropped before the regex engine
 *   sees the pattern: in s|a\|b|X| the pattern is a|b (an alternation), in
 *   s.a\.b.X. the dot matches any byte. Between brackets, \{ in a pattern
 *   keeps its backslash (a literal brace) and brackets nest.
 * - Pattern backslashes reach PCRE2 unchanged: "\\\\" (four characters)
 *   matches two backslashes. $ before ) | a blank or the end is an anchor;
 *   any other $name or @name would interpolate a Perl variable and is
 *   refused, as are \U \L \u \l \F and \N{..} in a pattern, and an empty
 *   pattern (Perl would reuse the last pattern that matched). An unknown
 *   escape such as \i is the letter, as in Perl.
 * - Replacement: $N (any digits), ${N}, \1..\9 (= $N), $&, $`, $', $+{name}
 *   (leftmost group of that name that took part); a group that did not take
 *   part is empty. Case modifiers \U \L \F \Q \u \l \E nest exactly as in
 *   Perl, \L\u is \u\L, a new \U or \L closes an open one, and Perl's
 *   syntax error for "\U\L" is reported. Escapes \n \t \r \f \e \a \b \0,
 *   octal, \xHH, \x{HH}, \o{..}, \cX; any other escaped character is
 *   itself (\\ \$ \@ \/ a delimiter). Values above \xFF are refused. Any
 *   other $ or @ interpolation, subscripts after a match variable ($1[0])
 *   and a final $ are refused.
 * - With ' as delimiter nothing is interpolated: the pattern goes to PCRE2
 *   as written and the replacement is literal except \\.
 * - tr///: ranges a-z (reversed or chained ranges refused, as Perl does),
 *   escapes as above (\- is a plain dash); first occurrence wins; a short
 *   replacement repeats its last byte, or with d the rest is deleted; an
 *   empty one means the search list; c complements (ascending); s squeezes
 *   runs of the same translated byte (deleted bytes do not break a run).
 *   tr///r, case modifiers in lists and unknown flags are refused.
 * Refused flags: e, ee, r, o and any Perl flag other than those listed.
 *
 * Matching: /g follows Perl's empty-match rule (replacing x* globally by
 * "-" in "abc" gives "-a-b-c-"). Case-insensitivity and \w \d \s are
 * ASCII-only, as Perl's on byte strings. Differences from Perl are PCRE2's
 * dialect (e.g. Perl's (?[ ]) classes are refused) and the match limit:
 * PCRE2 counts backtracking steps (10 million, or 32 per byte of a longer
 * subject), and a pattern that exceeds them makes rx_apply and rx_match
 * fail instead of hanging. Perl's optimizer sometimes avoids such blow-ups,
 * so a rule that works in imapsync can fail here, loudly. */
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

/* Compiles a Perl operator (s///, tr///, y///, m//, //). On failure *out is
 * NULL, STATUS_USAGE and one line: `rule "SRC": what is wrong` (SRC cut at
 * 160 bytes, control bytes shown as '?'). */
int rx_compile(const char *src, struct rx_rule **out, struct status *st);
/* Compiles a bare regex, matched as Perl's /$re/ would: its $ and @ are
 * regex characters (nothing is interpolated twice); an empty pattern and
 * code blocks are refused. Messages read `pattern "RE": ...`. */
int rx_compile_pattern(const char *pattern, struct rx_rule **out, struct status *st);
void rx_free(struct rx_rule *r);

enum rx_kind rx_kind(const struct rx_rule *r);
/* The source text as given, for messages. */
const char *rx_source(const struct rx_rule *r);

/* Applies an s/// or tr/// rule to in[0..len) (in may be NULL when len is
 * 0); *out is malloc'd and NUL-terminated (*outlen, if not NULL, excludes the
 * NUL), and is a copy of the input when nothing matched. A match rule leaves
 * the string unchanged. -1 with STATUS_USAGE and *out NULL only when PCRE2
 * fails at run time (match limit). Safe to call from several threads on the
 * same rule. */
int rx_apply(const struct rx_rule *r, const char *in, size_t len, char **out, size_t *outlen,
             struct status *st);
/* 1 when the rule's pattern matches in[0..len) (for tr: when any character
 * of its search list occurs), 0 when not, -1 on a PCRE2 run-time error. */
int rx_match(const struct rx_rule *r, const char *in, size_t len);

#endif
