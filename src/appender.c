/* appender: our own APPEND writer, with the bytes of each message sent
 * exactly as host1 served them.
 *
 * libetpan has no MULTIAPPEND and no non-synchronising literals, and its
 * mailimap_append turns a bare CR or LF into CRLF, which would make a copy's
 * size depend on the path taken. So every APPEND is written here, on
 * libetpan's stream, and libetpan's parser reads the tagged answer as for
 * any other command. */
#include "appender.h"

#include "crashpoint.h"
#include "net.h"
#include "hdrdate.h"
#include "sbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The INTERNALDATE for APPEND in its original zone, so host2 shows what
 * host1 showed: fills tm with the wall clock there, returns the zone as
 * +-HHMM (e.g. -500). */
static int wall_clock(const struct msg_meta *m, struct tm *tm)
{
    time_t local = (time_t)(m->date + (int64_t)m->date_tz * 60);
    gmtime_r(&local, tm);
    int tz = m->date_tz < 0 ? -m->date_tz : m->date_tz;
    return (m->date_tz < 0 ? -1 : 1) * ((tz / 60) * 100 + tz % 60);
}

/* " (flags) "date-time" {n+}" for one message of an APPEND; "{n}", a
 * synchronising literal, when sync. */
static void append_item(struct sbuf *b, const struct msg_meta *m, int keywords_ok, size_t len,
                        int sync)
{
    static const struct {
        unsigned bit;
        const char *name;
    } sys[] = {{MSG_SEEN, "\\Seen"},
               {MSG_ANSWERED, "\\Answered"},
               {MSG_FLAGGED, "\\Flagged"},
               {MSG_DELETED, "\\Deleted"},
               {MSG_DRAFT, "\\Draft"}};
    sbuf_adds(b, " (");
    size_t start = b->len;
    for (size_t i = 0; i < sizeof sys / sizeof *sys; i++) {
        if (!(m->sysflags & sys[i].bit))
            continue;
        if (b->len > start)
            sbuf_addc(b, ' ');
        sbuf_adds(b, sys[i].name);
    }
    if (keywords_ok && m->kw) {
        if (b->len > start)
            sbuf_addc(b, ' ');
        sbuf_adds(b, msg_keywords(m));
    }
    sbuf_addc(b, ')');
    if (m->date != MSG_META_NO_DATE) {
        struct tm tm;
        int zone = wall_clock(m, &tm);
        sbuf_addf(b, " \"%02d-%s-%04d %02d:%02d:%02d %c%04d\"", tm.tm_mday,
                  hdrdate_month(tm.tm_mon), tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  zone < 0 ? '-' : '+', zone < 0 ? -zone : zone);
    }
    sbuf_addf(b, sync ? " {%zu}\r\n" : " {%zu+}\r\n", len);
}

static int stream_put(mailimap *s, const void *p, size_t n)
{
    return mailstream_write(s->imap_stream, p, n) == (ssize_t)n ? 0 : -1;
}

void appender_quote(struct sbuf *b, const char *s)
{
    sbuf_addc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sbuf_addc(b, '\\');
        sbuf_addc(b, *p);
    }
    sbuf_addc(b, '"');
}

/* The UIDs of a uid-set in the order given, exactly got->n of them, or
 * none: a set of another length does not say which message got which. */
static void set_uids(struct mailimap_set *set, struct appender_uids *got)
{
    size_t k = 0;
    for (clistiter *it = set ? clist_begin(set->set_list) : NULL; it; it = clist_next(it)) {
        const struct mailimap_set_item *item = clist_content(it);
        uint32_t a = item->set_first, b = item->set_last;
        if (a > b) {
            uint32_t t = a;
            a = b;
            b = t;
        }
        if (a == 0 || (uint64_t)(b - a) + 1 > got->n - k)
            return;
        for (uint64_t u = a; u <= b; u++)
            got->uids[k++] = (uint32_t)u;
    }
    got->ok = k == got->n && k > 0;
}

/* APPENDUID (RFC 4315) from the tagged OK's response code. libetpan's
 * UIDPLUS parser moves it from the response to the session's extension
 * list while parsing; a libetpan without that parser leaves it in the
 * response as an atom and its text. */
static void appenduid(mailimap *s, const struct mailimap_resp_text *text, struct appender_uids *got)
{
    clist *ext = s->imap_response_info ? s->imap_response_info->rsp_extension_list : NULL;
    for (clistiter *it = ext ? clist_begin(ext) : NULL; it; it = clist_next(it)) {
        const struct mailimap_extension_data *d = clist_content(it);
        if (d->ext_extension->ext_id == MAILIMAP_EXTENSION_UIDPLUS &&
            d->ext_type == MAILIMAP_UIDPLUS_RESP_CODE_APND) {
            const struct mailimap_uidplus_resp_code_apnd *a = d->ext_data;
            got->validity = a->uid_uidvalidity;
            set_uids(a->uid_set, got);
            return;
        }
    }
    const struct mailimap_resp_text_code *code = text ? text->rsp_code : NULL;
    if (code == NULL || code->rc_type != MAILIMAP_RESP_TEXT_CODE_OTHER ||
        code->rc_data.rc_atom.atom_name == NULL ||
        strcasecmp(code->rc_data.rc_atom.atom_name, "APPENDUID") != 0 ||
        code->rc_data.rc_atom.atom_value == NULL)
        return;
    /* "validity uid-set", the set as "a", "a:b" and commas */
    const char *v = code->rc_data.rc_atom.atom_value;
    char *end;
    errno = 0;
    unsigned long validity = strtoul(v, &end, 10);
    if (errno || end == v || *end != ' ' || validity > UINT32_MAX)
        return;
    size_t k = 0;
    for (const char *p = end + 1;;) {
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p || errno || a == 0 || a > UINT32_MAX)
            return;
        p = end;
        if (*p == ':') {
            b = strtoul(p + 1, &end, 10);
            if (end == p + 1 || errno || b == 0 || b > UINT32_MAX)
                return;
            p = end;
        }
        if (a > b) {
            unsigned long t = a;
            a = b;
            b = t;
        }
        if (b - a + 1 > got->n - k)
            return;
        for (unsigned long u = a; u <= b; u++)
            got->uids[k++] = (uint32_t)u;
        if (*p != ',')
            break;
        p++;
    }
    got->validity = (uint32_t)validity;
    got->ok = k == got->n && k > 0;
}

static int answer_uids(mailimap *s, int *refused, struct appender_uids *got)
{
    struct mailimap_response *resp = NULL;
    int r = mailimap_parse_response(s, &resp);
    if (r != MAILIMAP_NO_ERROR)
        return r;
    int tagged = resp->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED;
    int ok = tagged && resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type ==
                           MAILIMAP_RESP_COND_STATE_OK;
    if (ok && got)
        appenduid(s, resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_text, got);
    mailimap_response_free(resp);
    if (!tagged) /* BYE: the server is closing the connection */
        return MAILIMAP_ERROR_FATAL;
    *refused = !ok;
    return MAILIMAP_NO_ERROR;
}

int appender_answer(mailimap *s, int *refused)
{
    return answer_uids(s, refused, NULL);
}

int appender_send(mailimap *s, const char *cmd, int *tag)
{
    int r = mailimap_send_current_tag(s);
    if (r == MAILIMAP_NO_ERROR &&
        (stream_put(s, cmd, strlen(cmd)) < 0 || stream_put(s, "\r\n", 2) < 0 ||
         mailstream_flush(s->imap_stream) == -1))
        r = MAILIMAP_ERROR_STREAM;
    *tag = s->imap_tag;
    return r;
}

int appender_command(mailimap *s, const char *cmd, int *refused)
{
    *refused = 0;
    int tag;
    int r = appender_send(s, cmd, &tag);
    if (r == MAILIMAP_NO_ERROR && mailimap_read_line(s) == NULL)
        r = MAILIMAP_ERROR_STREAM;
    return r == MAILIMAP_NO_ERROR ? appender_answer(s, refused) : r;
}

int appender_pipeline(mailimap *s, const char *const *cmds, size_t n, appender_done_fn done,
                      void *ctx)
{
    int base = s->imap_tag, r = MAILIMAP_NO_ERROR;
    for (size_t i = 0; i < n && r == MAILIMAP_NO_ERROR; i++) {
        r = mailimap_send_current_tag(s);
        if (r == MAILIMAP_NO_ERROR &&
            (stream_put(s, cmds[i], strlen(cmds[i])) < 0 || stream_put(s, "\r\n", 2) < 0))
            r = MAILIMAP_ERROR_STREAM;
    }
    if (r == MAILIMAP_NO_ERROR && mailstream_flush(s->imap_stream) == -1)
        r = MAILIMAP_ERROR_STREAM;
    if (r != MAILIMAP_NO_ERROR)
        return r;
    /* libetpan takes an answer for the session's last tag only, so the tag
     * is set back to each command's while its answer is read. */
    int last = s->imap_tag;
    for (size_t i = 0; i < n && r == MAILIMAP_NO_ERROR; i++) {
        s->imap_tag = base + 1 + (int)i;
        int refused = 0;
        if (mailimap_read_line(s) == NULL) {
            r = MAILIMAP_ERROR_STREAM;
            break;
        }
        r = appender_answer(s, &refused);
        if (r == MAILIMAP_ERROR_PROTOCOL) {
            /* A tagged BAD (libetpan's word for it): this command only. If
             * the stream is out of step instead, the next read says so. */
            r = MAILIMAP_NO_ERROR;
            refused = 1;
        }
        if (r == MAILIMAP_NO_ERROR)
            done(ctx, i, refused);
    }
    s->imap_tag = last;
    return r;
}

int appender_read(mailimap *s, int tag, int *refused)
{
    *refused = 0;
    /* libetpan takes an answer for the session's last tag only. */
    int last = s->imap_tag;
    s->imap_tag = tag;
    int r = mailimap_read_line(s) ? appender_answer(s, refused) : MAILIMAP_ERROR_STREAM;
    s->imap_tag = last;
    /* A tagged BAD and an answer of another tag look the same here: either
     * way the session cannot be trusted to be in step (MAILIMAP_ERROR_PROTOCOL
     * stands, as for libetpan's own commands). */
    return r;
}

/* The answer to an APPEND whose bytes are all sent: waited for even when
 * a stop is requested, since the server may store what it got. */
static int sent_answer(mailimap *s, int *refused, struct appender_uids *got)
{
    crashpoint("APPEND sent, not answered");
    net_hold_stop(1);
    const char *line = mailimap_read_line(s);
    int r = line ? answer_uids(s, refused, got) : MAILIMAP_ERROR_STREAM;
    net_hold_stop(0);
    if (line == NULL)
        return r;
    crashpoint("APPEND answered");
    return r;
}

int appender_wait(mailimap *s, int tag, int *refused, struct appender_uids *got)
{
    *refused = 0;
    /* libetpan takes an answer for the session's last tag only. */
    int last = s->imap_tag;
    s->imap_tag = tag;
    int r = sent_answer(s, refused, got);
    s->imap_tag = last;
    return r;
}

int appender_batch_send(mailimap *s, const char *mailbox, const struct msg_meta *const *m,
                        const char *const *data, const size_t *len, size_t n, int keywords_ok,
                        int *tag)
{
    struct sbuf b = SBUF_INIT;
    sbuf_adds(&b, "APPEND ");
    appender_quote(&b, mailbox);
    int r = mailimap_send_current_tag(s);
    for (size_t i = 0; i < n && r == MAILIMAP_NO_ERROR; i++) {
        append_item(&b, m[i], keywords_ok, len[i], 0);
        if (stream_put(s, b.data, b.len) < 0 || stream_put(s, data[i], len[i]) < 0)
            r = MAILIMAP_ERROR_STREAM;
        sbuf_reset(&b);
    }
    sbuf_free(&b);
    if (r == MAILIMAP_NO_ERROR &&
        (stream_put(s, "\r\n", 2) < 0 || mailstream_flush(s->imap_stream) == -1))
        r = MAILIMAP_ERROR_STREAM;
    *tag = s->imap_tag;
    return r;
}

int appender_one(mailimap *s, const char *mailbox, const struct msg_meta *m, int keywords_ok,
                 const char *data, size_t len, int *refused, struct appender_uids *got)
{
    *refused = 0;
    struct sbuf b = SBUF_INIT;
    sbuf_adds(&b, "APPEND ");
    appender_quote(&b, mailbox);
    append_item(&b, m, keywords_ok, len, 1);
    int r = mailimap_send_current_tag(s);
    if (r == MAILIMAP_NO_ERROR &&
        (stream_put(s, b.data, b.len) < 0 || mailstream_flush(s->imap_stream) == -1))
        r = MAILIMAP_ERROR_STREAM;
    sbuf_free(&b);
    if (r != MAILIMAP_NO_ERROR)
        return r;
    /* Untagged data may come before the continuation; a tagged answer
     * instead of it is a refusal of the command as written. */
    for (;;) {
        const char *line = mailimap_read_line(s);
        if (line == NULL)
            return MAILIMAP_ERROR_STREAM;
        if (line[0] == '+')
            break;
        if (line[0] != '*')
            return appender_answer(s, refused);
    }
    if (stream_put(s, data, len) < 0 || stream_put(s, "\r\n", 2) < 0 ||
        mailstream_flush(s->imap_stream) == -1)
        return MAILIMAP_ERROR_STREAM;
    return sent_answer(s, refused, got);
}
