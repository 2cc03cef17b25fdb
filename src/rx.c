/* rx: Perl's s///, tr///, y/// and m// operators on byte strings, on PCRE2.
 *
 * imapsync runs each rule through Perl's string eval, so this file plays the
 * part of Perl's lexer for quote-like operators (delimiters, escaped
 * delimiters, double-quoted replacements with case modifiers) and hands the
 * pattern to PCRE2, whose syntax is Perl's. Anything that would make Perl run
 * code or read a variable is refused at compile time: we cannot evaluate it,
 * and silently ignoring it would rename folders differently from imapsync. */
#include "rx.h"

#include "sbuf.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backtracking budget: PCRE2's default for ordinary strings, so that a
 * catastrophic pattern fails within a second instead of hanging a sync; for
 * a long subject (a whole message) RX_STEPS_PER_BYTE per byte, so that a
 * linear scan with some backtracking, which Perl would finish, does too. */
#define RX_MATCH_LIMIT 10000000u
#define RX_STEPS_PER_BYTE 32u
/* How much of a rule a message quotes: the status line has 512 bytes. */
#define RX_SHOWN 160
/* The largest $N we accept; Perl has no limit but PCRE2 has 65535 groups. */
#define RX_MAX_GROUP 65535u

#define TR_KEEP (-1) /* byte not in the search list */
#define TR_DEL (-2)  /* byte deleted (flag d) */

/* A compiled replacement is a list of tokens; case modifiers become
 * PUSH/POP pairs so that \U..\E applies to interpolated groups at run time. */
enum rtok_kind {
    TK_LIT,   /* bytes lits[a .. a+b) */
    TK_GROUP, /* $a */
    TK_MATCH, /* $& */
    TK_PRE,   /* $` */
    TK_POST,  /* $' */
    TK_NAMED, /* $+{name}: the first set of groups named[a .. a+b) */
    TK_PUSH,  /* start \U \L \F \Q \u \l (op) */
    TK_POP,   /* apply the innermost open modifier */
};

struct rtok {
    enum rtok_kind kind;
    char op;
    size_t a, b;
};

struct rx_rule {
    enum rx_kind kind;
    char *src;
    pcre2_code *code;          /* s/// and m// */
    pcre2_match_context *mctx; /* read-only after compile, so shareable */
    int global;                /* s///g */
    struct rtok *toks;         /* s/// replacement */
    size_t ntoks;
    char *lits;
    size_t *named;
    size_t maxdepth; /* deepest nesting of case modifiers */
    short tr[256];   /* tr///: output byte, TR_KEEP or TR_DEL */
    int squeeze;     /* tr///s */
};

/* ---- messages ---- */

/* Quotes src on one line: control bytes would break the status line. */
static void shown(const char *src, char *buf, size_t size)
{
    size_t n = 0, i = 0;
    for (; src[i] != '\0' && n + 4 < size && i < RX_SHOWN; i++) {
        unsigned char c = (unsigned char)src[i];
        buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (src[i] != '\0') {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

struct ctx {
    const char *src;
    const char *what; /* "rule" or "pattern" */
    struct status *st;
};

static int fail(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const struct ctx *c, const char *fmt, ...)
{
    char why[320], src[RX_SHOWN + 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    shown(c->src, src, sizeof src);
    return status_set(c->st, STATUS_USAGE, "%s \"%s\": %s", c->what, src, why);
}

/* ---- small byte helpers, ASCII only: Perl's rules for non-UTF-8 strings ---- */

static int is_word(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char up(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

static char low(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static char closing(char open)
{
    switch (open) {
    case '(':
        return ')';
    case '[':
        return ']';
    case '{':
        return '}';
    case '<':
        return '>';
    default:
        return open;
    }
}

/* ---- stage 1: delimited parts, as Perl's scan_str ---- */

/* Copies the part that opens at *p into out and returns the position after
 * its closing delimiter, or NULL when it is not closed. Like Perl, a
 * backslash before a plain delimiter is dropped (so in s|a\|b|| the pattern
 * is a|b, an alternation), while in a pattern between brackets \{ keeps its
 * backslash (keep_bracket) and stays a literal brace. Other backslash pairs
 * are copied whole so that \\ never escapes what follows. */
static const char *scan_part(const char *p, int keep_bracket, struct sbuf *out)
{
    char open = *p, close = closing(open);
    int depth = 1;
    for (p++; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0' && open != '\\') {
            int drop =
                open == close ? p[1] == close : !keep_bracket && (p[1] == open || p[1] == close);
            if (!drop)
                sbuf_addc(out, '\\');
            p++;
            sbuf_addc(out, *p);
            continue;
        }
        if (open != close && *p == open)
            depth++;
        else if (*p == close && --depth == 0)
            return p + 1;
        sbuf_addc(out, *p);
    }
    return NULL;
}

/* ---- stage 2: escapes of double-quoted strings ---- */

/* Decodes the escape whose letter is s[i] (after the backslash), as in a Perl
 * double-quoted string; sets *next past it. Returns 0, or -1 with st set. */
static int dq_escape(const struct ctx *c, const char *s, size_t i, size_t n, unsigned char *val,
                     size_t *next)
{
    unsigned v = 0;
    char e = s[i];
    size_t j = i + 1;
    switch (e) {
    case 'n':
        v = '\n';
        break;
    case 't':
        v = '\t';
        break;
    case 'r':
        v = '\r';
        break;
    case 'f':
        v = '\f';
        break;
    case 'e':
        v = 0x1b;
        break;
    case 'a':
        v = 0x07;
        break;
    case 'b':
        v = 0x08;
        break;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        j = i;
        while (j < n && j < i + 3 && s[j] >= '0' && s[j] <= '7')
            v = v * 8 + (unsigned)(s[j++] - '0');
        break;
    case 'o':
        if (j >= n || s[j] != '{')
            return fail(c, "\\o needs {octal digits}");
        for (j++; j < n && s[j] >= '0' && s[j] <= '7'; j++)
            if ((v = v * 8 + (unsigned)(s[j] - '0')) > 0xff)
                break;
        if (j >= n || s[j] != '}')
            return fail(c, "bad \\o{...} escape (octal digits up to 377)");
        j++;
        break;
    case 'x':
        if (j < n && s[j] == '{') {
            for (j++; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
                ;
            for (; j < n && hex_val(s[j]) >= 0; j++)
                if ((v = v * 16 + (unsigned)hex_val(s[j])) > 0xff)
                    break;
            for (; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
                ;
            if (j >= n || s[j] != '}')
                return fail(c, "bad \\x{...} escape (hex digits up to FF, bytes only)");
            j++;
        } else {
            for (; j < n && j < i + 3 && hex_val(s[j]) >= 0; j++)
                v = v * 16 + (unsigned)hex_val(s[j]);
        }
        break;
    case 'c':
        if (j >= n || s[j] == '{')
            return fail(c, "bad \\c escape");
        v = (unsigned)(unsigned char)up(s[j++]) ^ 0x40u;
        break;
    case 'N':
        return fail(c, "\\N{...} named characters are not supported");
    default:
        /* \\ \$ \@ \" an escaped delimiter, and Perl's "unrecognized escape
         * passed through": the character itself. */
        v = (unsigned char)e;
        break;
    }
    if (v > 0xff)
        return fail(c, "escape \\%c gives a character above \\xFF; strings are bytes", e);
    *val = (unsigned char)v;
    *next = j;
    return 0;
}

/* ---- replacement ---- */

struct repl {
    const pcre2_code *code; /* to resolve $+{name} */
    struct rtok *t;
    size_t n, cap;
    size_t *named; /* group numbers behind each $+{name} */
    size_t nnamed;
    struct sbuf lits;
    struct sbuf stack; /* open case modifiers, innermost last */
    size_t maxdepth;
};

static void tok_add(struct repl *r, enum rtok_kind kind, char op, size_t a, size_t b)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->t = sbuf_xrealloc(r->t, r->cap * sizeof *r->t);
    }
    r->t[r->n++] = (struct rtok){kind, op, a, b};
}

static void lit_add(struct repl *r, char ch)
{
    struct rtok *last = r->n ? &r->t[r->n - 1] : NULL;
    if (last == NULL || last->kind != TK_LIT || last->a + last->b != r->lits.len) {
        tok_add(r, TK_LIT, 0, r->lits.len, 0);
        last = &r->t[r->n - 1];
    }
    sbuf_addc(&r->lits, ch);
    last->b++;
}

static void case_push(struct repl *r, char op)
{
    sbuf_addc(&r->stack, op);
    if (r->stack.len > r->maxdepth)
        r->maxdepth = r->stack.len;
    tok_add(r, TK_PUSH, op, 0, 0);
}

static char case_pop(struct repl *r)
{
    char op = r->stack.data[--r->stack.len];
    tok_add(r, TK_POP, op, 0, 0);
    return op;
}

static int stack_has_luf(const struct repl *r)
{
    for (size_t i = 0; i < r->stack.len; i++)
        if (strchr("LUF", r->stack.data[i]) != NULL)
            return 1;
    return 0;
}

/* After $1, $& ...: Perl would read [..], {..} or ->[ as a subscript. */
static int subscript_follows(const char *s, size_t j, size_t n)
{
    if (j < n && (s[j] == '[' || s[j] == '{'))
        return 1;
    return j + 2 < n && s[j] == '-' && s[j + 1] == '>' && (s[j + 2] == '[' || s[j + 2] == '{');
}

/* Parses a decimal group number at s[*j]; Perl refuses $01 and $0 is the
 * program name, so the number must start with 1-9. */
static int group_number(const struct ctx *c, const char *s, size_t *j, size_t n, size_t *num)
{
    if (*j >= n || !is_digit(s[*j]) || s[*j] == '0')
        return fail(c, "only $1, ${1}, $&, $`, $' and $+{name} may be interpolated in a "
                       "replacement");
    size_t v = 0;
    for (; *j < n && is_digit(s[*j]); (*j)++) {
        v = v * 10 + (size_t)(s[*j] - '0');
        if (v > RX_MAX_GROUP)
            return fail(c, "group number too large in replacement");
    }
    *num = v;
    return 0;
}

/* Compiles $+{name} at s[*j] == '{': Perl's %+ gives the leftmost group of
 * that name that took part in the match; an unknown name is empty. */
static int named_group(const struct ctx *c, const char *s, size_t *j, size_t n, struct repl *r)
{
    size_t k = *j + 1, start = k;
    while (k < n && is_word(s[k]))
        k++;
    if (k == start || k >= n || s[k] != '}' || is_digit(s[start]))
        return fail(c, "only $+{name} with a group name is supported in a replacement");
    char name[64];
    if (k - start >= sizeof name)
        return fail(c, "group name too long in replacement");
    memcpy(name, s + start, k - start);
    name[k - start] = '\0';
    PCRE2_SPTR first, last;
    int size = pcre2_substring_nametable_scan(r->code, (PCRE2_SPTR)name, &first, &last);
    size_t from = r->nnamed;
    for (PCRE2_SPTR e = first; size > 0 && e <= last; e += size) {
        r->named = sbuf_xrealloc(r->named, (r->nnamed + 1) * sizeof *r->named);
        r->named[r->nnamed++] = ((size_t)e[0] << 8) | e[1];
    }
    tok_add(r, TK_NAMED, 0, from, r->nnamed - from);
    *j = k + 1;
    return 0;
}

/* Handles a case modifier at s[i] == '\\' (s is a private copy: Perl swaps
 * \L\u into \u\L in place and so do we). Mirrors toke.c's
 * LEX_INTERPCASEMOD: \X\E is a no-op; a new \L \U or \F first closes
 * modifiers until none of L U F is open. */
static int case_mod(const struct ctx *c, struct repl *r, char *s, size_t *pi, size_t n)
{
    size_t i = *pi;
    if (i + 3 < n && s[i + 2] == '\\' && s[i + 3] == 'E') {
        *pi = i + 4;
        return 0;
    }
    if (i + 3 < n && s[i + 2] == '\\' &&
        ((s[i + 1] == 'L' && s[i + 3] == 'u') || (s[i + 1] == 'U' && s[i + 3] == 'l'))) {
        char t = s[i + 1];
        s[i + 1] = s[i + 3];
        s[i + 3] = t;
    }
    char op = s[i + 1];
    if (strchr("LUF", op) != NULL)
        while (stack_has_luf(r)) {
            /* Perl's parser sees "uc()" right before the next modifier
             * and reports a syntax error; so do we. */
            if (r->t[r->n - 1].kind == TK_PUSH)
                return fail(c, "syntax error in Perl: \\%c with nothing before \\%c",
                            r->t[r->n - 1].op, op);
            case_pop(r);
        }
    case_push(r, op);
    *pi = i + 2;
    return 0;
}

/* \E closes \u and \l silently and then one \L \U \F or \Q; alone, nothing. */
static void case_end(struct repl *r)
{
    while (r->stack.len > 0)
        if (strchr("QFLU", case_pop(r)) != NULL)
            break;
}

/* Compiles a replacement; interpolate is 0 for s'..'..' (single-quoted:
 * only \\ is special). s is modified (see case_mod). */
static int compile_repl(const struct ctx *c, char *s, size_t n, int interpolate, struct repl *r)
{
    size_t i = 0;
    while (i < n) {
        char ch = s[i];
        if (!interpolate) {
            if (ch == '\\' && i + 1 < n && s[i + 1] == '\\')
                i++;
            lit_add(r, s[i++]);
            continue;
        }
        if (ch == '\\' && i + 1 < n) {
            char e = s[i + 1];
            if (strchr("ULQFul", e) != NULL) {
                if (case_mod(c, r, s, &i, n) < 0)
                    return -1;
            } else if (e == 'E') {
                case_end(r);
                i += 2;
            } else if (e >= '1' && e <= '9' && !(i + 2 < n && is_digit(s[i + 2]))) {
                /* Perl reads \1 in a replacement as $1 ("better written as $1") */
                tok_add(r, TK_GROUP, 0, (size_t)(e - '0'), 0);
                i += 2;
            } else {
                unsigned char v;
                if (dq_escape(c, s, i + 1, n, &v, &i) < 0)
                    return -1;
                lit_add(r, (char)v);
            }
        } else if (ch == '$') {
            char nx = i + 1 < n ? s[i + 1] : '\0';
            size_t j = i + 2, num;
            if (nx == '{') {
                for (; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
                    ;
                if (group_number(c, s, &j, n, &num) < 0)
                    return -1;
                for (; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
                    ;
                if (j >= n || s[j] != '}')
                    return fail(c, "only ${N} with a group number is supported in a replacement");
                tok_add(r, TK_GROUP, 0, num, 0);
                i = j + 1; /* "${1}[0]" is not a subscript in Perl */
                continue;
            }
            if (nx == '+' && j < n && s[j] == '{') {
                if (named_group(c, s, &j, n, r) < 0)
                    return -1;
            } else if (nx == '\'' && j < n && (is_word(s[j]) && !is_digit(s[j]))) {
                /* ' is Perl's old package separator: $'x is $main::x */
                return fail(c, "\"$'%c...\" in the replacement is a Perl variable; not supported",
                            s[j]);
            } else if (nx == '&' || nx == '`' || nx == '\'') {
                tok_add(r, nx == '&' ? TK_MATCH : nx == '`' ? TK_PRE : TK_POST, 0, 0, 0);
            } else if (is_digit(nx)) {
                j = i + 1;
                if (group_number(c, s, &j, n, &num) < 0)
                    return -1;
                tok_add(r, TK_GROUP, 0, num, 0);
            } else if (nx == '\0') {
                return fail(c, "final $ in the replacement should be \\$");
            } else {
                return fail(c,
                            "\"$%c...\" in the replacement interpolates a Perl variable; not "
                            "supported (write \\$ for a dollar)",
                            nx);
            }
            if (subscript_follows(s, j, n))
                return fail(c, "subscript after a match variable in the replacement is Perl "
                               "code; not supported");
            i = j;
        } else if (ch == '@' && i + 1 < n &&
                   (is_word(s[i + 1]) || strchr(":'{$+-", s[i + 1]) != NULL)) {
            return fail(c,
                        "\"@%c...\" in the replacement interpolates a Perl array; not "
                        "supported (write \\@ for an at sign)",
                        s[i + 1]);
        } else {
            lit_add(r, ch);
            i++;
        }
    }
    while (r->stack.len > 0)
        case_pop(r);
    return 0;
}

/* ---- patterns ---- */

/* Refuses what PCRE2 would read differently from Perl or what is Perl code:
 * variables ($x, @x; a $ before ) | blank or the end is an anchor, as in
 * Perl), code blocks, and the lexer's case modifiers. */
static int check_pattern(const struct ctx *c, const char *p, size_t n, int interpolate)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i], nx = i + 1 < n ? p[i + 1] : '\0';
        if (ch == '\\') {
            /* Perl's lexer applies these to the pattern text; where it does
             * not lex (/$re/, m'..'), the regex engine takes \U as "U". */
            if (interpolate && nx != '\0' && strchr("ULulF", nx) != NULL)
                return fail(c, "case modifier \\%c in a pattern is not supported", nx);
            if (nx == 'N' && i + 2 < n && p[i + 2] == '{')
                return fail(c, "\\N{...} named characters are not supported");
            i++;
            continue;
        }
        if (ch == '(' && (strncmp(p + i, "(?{", 3) == 0 || strncmp(p + i, "(??{", 4) == 0 ||
                          strncmp(p + i, "(*{", 3) == 0))
            return fail(c, "code block in the pattern is Perl code; not supported");
        if (!interpolate)
            continue;
        if (ch == '$' && nx != '\0' && strchr("()| \r\n\t", nx) == NULL)
            return fail(c,
                        "\"$%c...\" in the pattern interpolates a Perl variable; not supported "
                        "(write \\$ for a dollar)",
                        nx);
        if (ch == '@' && nx != '\0' && (is_word(nx) || strchr(":'{$", nx) != NULL))
            return fail(c,
                        "\"@%c...\" in the pattern interpolates a Perl array; not supported "
                        "(write \\@ for an at sign)",
                        nx);
    }
    return 0;
}

/* PCRE2 before 10.45 takes the first code unit of a leading lookahead as
 * the first unit of the match and then wants the "last" unit after it, so
 * (?=a)x*a fails on "a" (PCRE2Project/pcre2#444). Any positive lookahead
 * (?= (?* or (*pla: ... turns the start-of-match optimizations off; a
 * false alarm (an escaped "\(?=") only costs speed. */
static int may_lookahead(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '(' && (p[i + 1] == '*' ||
                            (i + 2 < n && p[i + 1] == '?' && (p[i + 2] == '=' || p[i + 2] == '*'))))
            return 1;
    return 0;
}

static int compile_regex(const struct ctx *c, const char *pat, size_t n, uint32_t opts,
                         struct rx_rule *r)
{
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (cc == NULL)
        abort(); /* as sbuf: out of memory is not survivable */
    /* Perl: \n is the only newline for $ and ., \R is any newline, and an
     * unknown escape like \i is the letter (Perl warns, passes it through). */
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    pcre2_set_bsr(cc, PCRE2_BSR_UNICODE);
    pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_BAD_ESCAPE_IS_LITERAL);
    int err;
    PCRE2_SIZE off;
    /* Bytes only: (*UTF) and \C would change what a character is. Perl
     * allows duplicate group names. */
    opts |= PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C | PCRE2_DUPNAMES;
    if (may_lookahead(pat, n))
        opts |= PCRE2_NO_START_OPTIMIZE;
    r->code = pcre2_compile((PCRE2_SPTR)pat, n, opts, &err, &off, cc);
    pcre2_compile_context_free(cc);
    if (r->code == NULL) {
        PCRE2_UCHAR msg[200];
        if (pcre2_get_error_message(err, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", err);
        return fail(c, "%s at offset %zu of the pattern", (const char *)msg, (size_t)off);
    }
    r->mctx = pcre2_match_context_create(NULL);
    if (r->mctx == NULL)
        abort();
    pcre2_set_match_limit(r->mctx, RX_MATCH_LIMIT);
    return 0;
}

/* ---- tr/// ---- */

struct tr_item {
    unsigned char c;
    int escaped; /* an escaped - is not a range */
};

/* Expands a tr list (ranges, escapes) into bytes; returns the count. */
static int tr_list(const struct ctx *c, const char *s, size_t n, unsigned char *outv, size_t *outn,
                   size_t max)
{
    struct tr_item *it = sbuf_xcalloc(n + 1, sizeof *it);
    size_t k = 0, i = 0, m = 0;
    int rc = 0;
    while (i < n) {
        if (s[i] == '\\' && i + 1 < n) {
            if (strchr("ULQFulE", s[i + 1]) != NULL) {
                rc = fail(c, "case modifier \\%c in tr/// is not supported", s[i + 1]);
                goto out;
            }
            unsigned char v;
            if (dq_escape(c, s, i + 1, n, &v, &i) < 0) {
                rc = -1;
                goto out;
            }
            it[k++] = (struct tr_item){v, 1};
        } else {
            it[k++] = (struct tr_item){(unsigned char)s[i++], 0};
        }
    }
    for (i = 0; i < k;) {
        if (i + 2 < k && it[i + 1].c == '-' && !it[i + 1].escaped) {
            unsigned lo = it[i].c, hi = it[i + 2].c;
            if (lo > hi) {
                if (lo > ' ' && lo < 0x7f && hi > ' ' && hi < 0x7f)
                    rc = fail(c, "invalid range \"%c-%c\" in tr///", lo, hi);
                else
                    rc = fail(c, "invalid range \"\\x%02X-\\x%02X\" in tr///", lo, hi);
                goto out;
            }
            i += 3;
            if (i + 1 < k && it[i].c == '-' && !it[i].escaped) {
                rc = fail(c, "ambiguous range in tr///");
                goto out;
            }
            for (unsigned v = lo; v <= hi && m < max; v++)
                outv[m++] = (unsigned char)v;
        } else if (m < max) {
            outv[m++] = it[i++].c;
        } else {
            i++;
        }
    }
    *outn = m;
out:
    free(it);
    return rc;
}

/* Builds the byte map with Perl's rules: the first occurrence of a byte in
 * the search list wins; a short replacement list repeats its last byte,
 * or with d the rest is deleted; an empty one means the search list. With
 * c the search list is every other byte, in ascending order. */
static int tr_build(const struct ctx *c, const char *search, size_t sn, const char *rep, size_t rn,
                    const char *flags, struct rx_rule *r)
{
    /* Lists can exceed 256 entries (a-z twice); extra bytes never matter
     * but keep a generous bound. */
    enum { MAXL = 4096 };
    unsigned char *sv = sbuf_xmalloc(MAXL), *rv = sbuf_xmalloc(MAXL);
    size_t sl, rl;
    int rc = -1;
    if (tr_list(c, search, sn, sv, &sl, MAXL) < 0 || tr_list(c, rep, rn, rv, &rl, MAXL) < 0)
        goto out;
    int comp = strchr(flags, 'c') != NULL, del = strchr(flags, 'd') != NULL;
    r->squeeze = strchr(flags, 's') != NULL;
    for (int b = 0; b < 256; b++)
        r->tr[b] = TR_KEEP;
    if (comp) {
        int in[256] = {0};
        for (size_t i = 0; i < sl; i++)
            in[sv[i]] = 1;
        sl = 0;
        for (int b = 0; b < 256; b++)
            if (!in[b])
                sv[sl++] = (unsigned char)b;
    }
    for (size_t i = 0; i < sl; i++) {
        unsigned char b = sv[i];
        if (r->tr[b] != TR_KEEP)
            continue;
        if (i < rl)
            r->tr[b] = rv[i];
        else if (del)
            r->tr[b] = TR_DEL;
        else if (rl == 0)
            r->tr[b] = b;
        else
            r->tr[b] = rv[rl - 1];
    }
    rc = 0;
out:
    free(sv);
    free(rv);
    return rc;
}

/* ---- compile ---- */

static void rule_free_parts(struct rx_rule *r)
{
    pcre2_code_free(r->code);
    pcre2_match_context_free(r->mctx);
    free(r->toks);
    free(r->lits);
    free(r->named);
    free(r->src);
    free(r);
}

static struct rx_rule *rule_new(const char *src, enum rx_kind kind)
{
    struct rx_rule *r = sbuf_xcalloc(1, sizeof *r);
    r->src = sbuf_xstrdup(src);
    r->kind = kind;
    return r;
}

/* Checks a delimiter: not a word character, blank or the end. */
static int bad_delim(char d)
{
    return d == '\0' || is_word(d) || is_space(d);
}

static int parse_flags(const struct ctx *c, const char *flags, const char *allowed, uint32_t *opts)
{
    int xs = 0;
    for (const char *f = flags; *f != '\0'; f++) {
        if (strchr(allowed, *f) == NULL) {
            if (*f == 'e')
                return fail(c, "flag e would run Perl code; not supported");
            if (*f == 'r')
                return fail(c, "flag r returns a copy in Perl and changes nothing; not supported");
            return fail(c, "flag %c is not supported (allowed: %s)", *f, allowed);
        }
        switch (*f) {
        case 'i':
            *opts |= PCRE2_CASELESS;
            break;
        case 'm':
            *opts |= PCRE2_MULTILINE;
            break;
        case 's':
            *opts |= PCRE2_DOTALL;
            break;
        case 'x':
            xs++;
            break;
        default:
            break;
        }
    }
    if (xs == 1)
        *opts |= PCRE2_EXTENDED;
    else if (xs == 2)
        *opts |= PCRE2_EXTENDED_MORE; /* Perl's /xx */
    else if (xs > 2)
        return fail(c, "flag x given more than twice");
    return 0;
}

int rx_compile(const char *src, struct rx_rule **out, struct status *st)
{
    struct ctx c = {src, "rule", st};
    *out = NULL;
    const char *p = src;
    while (is_space(*p))
        p++;
    enum rx_kind kind;
    if (p[0] == 's' && !is_word(p[1]))
        kind = RX_SUBST, p += 1;
    else if (p[0] == 't' && p[1] == 'r' && !is_word(p[2]))
        kind = RX_TR, p += 2;
    else if (p[0] == 'y' && !is_word(p[1]))
        kind = RX_TR, p += 1;
    else if (p[0] == 'm' && !is_word(p[1]))
        kind = RX_MATCH, p += 1;
    else if (p[0] == '/')
        kind = RX_MATCH;
    else
        return fail(&c, "not a Perl s///, tr///, y/// or m// rule");

    const char *d = p;
    while (is_space(*d))
        d++;
    if (d != p && *d == '#')
        return fail(&c, "'#' after a blank starts a Perl comment, not a delimiter");
    if (bad_delim(*d))
        return fail(&c, "missing delimiter (a character that is not a letter, digit or blank)");

    struct sbuf part1 = SBUF_INIT, part2 = SBUF_INIT;
    struct rx_rule *r = NULL;
    struct repl rep = {0};
    char d1 = *d, d2 = 0;
    const char *e = scan_part(d, kind != RX_TR, &part1);
    const char *op = kind == RX_SUBST ? "Substitution"
                     : kind == RX_TR  ? "Transliteration"
                                      : "Search";
    if (e == NULL) {
        fail(&c, "%s pattern not terminated", op);
        goto bad;
    }
    if (kind != RX_MATCH) {
        const char *q = e - 1; /* plain delimiters share the middle one */
        if (closing(d1) != d1) {
            for (q = e; is_space(*q); q++)
                ;
            if (bad_delim(*q) || *q == '#') {
                fail(&c, "%s replacement not terminated", op);
                goto bad;
            }
        }
        d2 = *q;
        e = scan_part(q, 0, &part2);
        if (e == NULL) {
            fail(&c, "%s replacement not terminated", op);
            goto bad;
        }
    }

    char flags[32];
    size_t nf = 0;
    for (; is_word(*e); e++) {
        if (nf + 1 >= sizeof flags) {
            fail(&c, "too many flags");
            goto bad;
        }
        flags[nf++] = *e;
    }
    flags[nf] = '\0';
    /* What eval would accept around the operator: blanks and one ';'. */
    while (is_space(*e))
        e++;
    if (*e == ';')
        for (e++; is_space(*e); e++)
            ;
    if (*e != '\0') {
        fail(&c, "unexpected text after the rule at offset %zu", (size_t)(e - src));
        goto bad;
    }

    r = rule_new(src, kind);
    char *pat = part1.data ? part1.data : "";
    if (kind == RX_TR) {
        if (strchr(flags, 'r') != NULL) {
            fail(&c, "flag r returns a copy in Perl and changes nothing; not supported");
            goto bad;
        }
        for (size_t i = 0; i < nf; i++)
            if (strchr("cds", flags[i]) == NULL) {
                fail(&c, "flag %c is not supported (allowed: cds)", flags[i]);
                goto bad;
            }
        if (tr_build(&c, pat, part1.len, part2.data ? part2.data : "", part2.len, flags, r) < 0)
            goto bad;
    } else {
        uint32_t opts = 0;
        if (parse_flags(&c, flags, "gimsx", &opts) < 0)
            goto bad;
        r->global = kind == RX_SUBST && strchr(flags, 'g') != NULL;
        if (part1.len == 0) {
            /* Perl would reuse the last successful pattern of the program. */
            fail(&c, "empty pattern (Perl reuses the last matched pattern); not supported");
            goto bad;
        }
        if (check_pattern(&c, pat, part1.len, d1 != '\'') < 0 ||
            compile_regex(&c, pat, part1.len, opts, r) < 0)
            goto bad;
        if (kind == RX_SUBST) {
            rep.code = r->code;
            if (compile_repl(&c, part2.data ? part2.data : "", part2.len, d2 != '\'', &rep) < 0)
                goto bad;
            r->toks = rep.t;
            r->ntoks = rep.n;
            r->lits = sbuf_take(&rep.lits);
            r->named = rep.named;
            rep.named = NULL;
            r->maxdepth = rep.maxdepth;
            rep.t = NULL;
        }
    }
    sbuf_free(&rep.stack);
    sbuf_free(&part1);
    sbuf_free(&part2);
    *out = r;
    return 0;
bad:
    free(rep.t);
    free(rep.named);
    sbuf_free(&rep.lits);
    sbuf_free(&rep.stack);
    sbuf_free(&part1);
    sbuf_free(&part2);
    if (r != NULL)
        rule_free_parts(r);
    return -1;
}

int rx_compile_pattern(const char *pattern, struct rx_rule **out, struct status *st)
{
    struct ctx c = {pattern, "pattern", st};
    *out = NULL;
    if (pattern[0] == '\0')
        return fail(&c, "empty pattern (Perl reuses the last matched pattern); not supported");
    /* The text of /$re/ is not lexed again: $ and @ are regex characters,
     * and Perl refuses code blocks at run time ("Eval-group not allowed"). */
    if (check_pattern(&c, pattern, strlen(pattern), 0) < 0)
        return -1;
    struct rx_rule *r = rule_new(pattern, RX_MATCH);
    if (compile_regex(&c, pattern, strlen(pattern), 0, r) < 0) {
        rule_free_parts(r);
        return -1;
    }
    *out = r;
    return 0;
}

void rx_free(struct rx_rule *r)
{
    if (r != NULL)
        rule_free_parts(r);
}

enum rx_kind rx_kind(const struct rx_rule *r)
{
    return r->kind;
}

const char *rx_source(const struct rx_rule *r)
{
    return r->src;
}

/* ---- apply ---- */

static int run_fail(const struct rx_rule *r, int rc, struct status *st)
{
    PCRE2_UCHAR msg[200];
    if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
        snprintf((char *)msg, sizeof msg, "error %d", rc);
    struct ctx c = {r->src, "rule", st};
    return fail(&c, "PCRE2 match failed: %s", (const char *)msg);
}

/* Closes the innermost case modifier: its text goes to the parent level. */
static void case_apply(char op, struct sbuf *text, struct sbuf *parent)
{
    char *s = text->data;
    size_t n = s ? text->len : 0;
    if (op == 'Q') {
        for (size_t i = 0; i < n; i++) {
            if (!is_word((unsigned char)s[i]))
                sbuf_addc(parent, '\\');
            sbuf_addc(parent, s[i]);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (op == 'U' || (op == 'u' && i == 0))
            s[i] = up(s[i]);
        else if (op == 'L' || op == 'F' || (op == 'l' && i == 0))
            s[i] = low(s[i]);
    }
    if (n > 0)
        sbuf_append(parent, s, n);
}

static void expand(const struct rx_rule *r, const char *in, size_t len, const PCRE2_SIZE *ov,
                   int pairs, struct sbuf *res, struct sbuf *lv)
{
    size_t depth = 0;
    for (size_t t = 0; t < r->ntoks; t++) {
        const struct rtok *k = &r->toks[t];
        struct sbuf *cur = depth ? &lv[depth - 1] : res;
        switch (k->kind) {
        case TK_LIT:
            sbuf_append(cur, r->lits + k->a, k->b);
            break;
        case TK_GROUP:
            /* a group that did not take part, or does not exist, is empty */
            if (k->a < (size_t)pairs && ov[2 * k->a] != PCRE2_UNSET)
                sbuf_append(cur, in + ov[2 * k->a], ov[2 * k->a + 1] - ov[2 * k->a]);
            break;
        case TK_MATCH:
            sbuf_append(cur, in + ov[0], ov[1] - ov[0]);
            break;
        case TK_PRE:
            sbuf_append(cur, in, ov[0]);
            break;
        case TK_POST:
            sbuf_append(cur, in + ov[1], len - ov[1]);
            break;
        case TK_NAMED:
            for (size_t i = k->a; i < k->a + k->b; i++) {
                size_t g = r->named[i];
                if (g < (size_t)pairs && ov[2 * g] != PCRE2_UNSET) {
                    sbuf_append(cur, in + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
                    break;
                }
            }
            break;
        case TK_PUSH:
            lv[depth++].len = 0;
            break;
        case TK_POP:
            depth--;
            case_apply(k->op, &lv[depth], depth ? &lv[depth - 1] : res);
            break;
        }
    }
}

/* The match context for a subject of len bytes: the rule's own, or for a
 * long subject a private copy (*own, to free) with a larger budget. */
static pcre2_match_context *budget(const struct rx_rule *r, size_t len, pcre2_match_context **own)
{
    *own = NULL;
    if (len <= RX_MATCH_LIMIT / RX_STEPS_PER_BYTE)
        return r->mctx;
    *own = pcre2_match_context_copy(r->mctx);
    if (*own == NULL)
        abort();
    uint64_t steps = (uint64_t)len * RX_STEPS_PER_BYTE;
    pcre2_set_match_limit(*own, steps > UINT32_MAX ? UINT32_MAX : (uint32_t)steps);
    return *own;
}

static int subst(const struct rx_rule *r, const char *in, size_t len, struct sbuf *res,
                 struct status *st)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->code, NULL);
    if (md == NULL)
        abort();
    struct sbuf *lv = sbuf_xcalloc(r->maxdepth + 1, sizeof *lv);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    pcre2_match_context *own, *mctx = budget(r, len, &own);
    size_t offset = 0, copied = 0;
    uint32_t opts = 0;
    int rc = 0;
    for (;;) {
        int m = pcre2_match(r->code, (PCRE2_SPTR)in, len, offset, opts, md, mctx);
        if (m == PCRE2_ERROR_NOMATCH) {
            if (opts == 0 || offset >= len)
                break;
            /* Perl: after an empty match the next one may not be empty at
             * the same place; it found none there, so move on one byte. */
            offset++;
            opts = 0;
            continue;
        }
        if (m < 0) {
            rc = run_fail(r, m, st);
            break;
        }
        if (ov[0] > ov[1] || ov[0] < copied) {
            /* \K inside a lookaround can do this; Perl would croak too */
            rc = run_fail(r, PCRE2_ERROR_BADOFFSET, st);
            break;
        }
        sbuf_append(res, in + copied, ov[0] - copied);
        expand(r, in, len, ov, m, res, lv);
        copied = ov[1];
        if (!r->global)
            break;
        offset = ov[1];
        opts = ov[0] == ov[1] ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
    }
    if (rc == 0)
        sbuf_append(res, in + copied, len - copied);
    for (size_t i = 0; i <= r->maxdepth; i++)
        sbuf_free(&lv[i]);
    free(lv);
    pcre2_match_context_free(own);
    pcre2_match_data_free(md);
    return rc;
}

int rx_apply(const struct rx_rule *r, const char *in, size_t len, char **out, size_t *outlen,
             struct status *st)
{
    struct sbuf res = SBUF_INIT;
    if (in == NULL)
        in = "", len = 0;
    *out = NULL;
    if (r->kind == RX_SUBST) {
        if (subst(r, in, len, &res, st) < 0) {
            sbuf_free(&res);
            return -1;
        }
    } else if (r->kind == RX_TR) {
        int last = -1; /* last translated byte, for flag s */
        for (size_t i = 0; i < len; i++) {
            unsigned char b = (unsigned char)in[i];
            int m = r->tr[b];
            if (m == TR_KEEP) {
                sbuf_addc(&res, (char)b);
                last = -1;
            } else if (m == TR_DEL) {
                continue; /* Perl: a deleted byte does not end a squeezed run */
            } else if (!(r->squeeze && m == last)) {
                sbuf_addc(&res, (char)m);
                last = m;
            }
        }
    } else {
        sbuf_append(&res, in, len);
    }
    if (outlen != NULL)
        *outlen = res.len;
    *out = sbuf_take(&res);
    return 0;
}

int rx_match(const struct rx_rule *r, const char *in, size_t len)
{
    if (in == NULL)
        in = "", len = 0;
    if (r->kind == RX_TR) {
        for (size_t i = 0; i < len; i++)
            if (r->tr[(unsigned char)in[i]] != TR_KEEP)
                return 1;
        return 0;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->code, NULL);
    if (md == NULL)
        abort();
    pcre2_match_context *own, *mctx = budget(r, len, &own);
    int m = pcre2_match(r->code, (PCRE2_SPTR)in, len, 0, 0, md, mctx);
    pcre2_match_context_free(own);
    pcre2_match_data_free(md);
    if (m == PCRE2_ERROR_NOMATCH)
        return 0;
    return m < 0 ? -1 : 1;
}
