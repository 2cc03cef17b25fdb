/* fuzz_rules: what the fuzz targets that apply Perl rules share. */
#ifndef IMAPFERRY_FUZZ_RULES_H
#define IMAPFERRY_FUZZ_RULES_H

#include <string.h>

/* Rules whose output could pass this many bytes are not tried. */
#define FUZZ_MAX_OUT (32.0 * 1024 * 1024)

/* Bytes one rule can make of one input byte, over-estimated: its whole text
 * per match, one more match per byte (empty matches), and nested \Q doubles
 * the backslashes per level, as in Perl ("\Q\Q." is "\\\."). Twenty \Q turn
 * a byte into a megabyte and chained s/./LONG/g multiply, which is the
 * rules' doing, not a bug (imapsync's rules are the admin's own). */
static inline double fuzz_rule_growth(const char *src)
{
    double g = (double)strlen(src) + 1;
    for (const char *p = src; (p = strstr(p, "\\Q")) != NULL; p += 2)
        g *= 2;
    return g;
}

#endif
