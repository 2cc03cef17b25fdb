/* appender: the commands written by hand on a libetpan session: APPEND,
 * and the few others libetpan cannot build.
 *
 * Part of the IMAP client: only imapc includes this header, the one place
 * besides imapc.c and transport.c where a libetpan type appears. Both
 * writers send each message's bytes unchanged and read the tagged answer
 * with libetpan's parser. They return a libetpan code (MAILIMAP_NO_ERROR,
 * or an error that ends the session, MAILIMAP_ERROR_FATAL for BYE) and set
 * *refused when the server answered NO or BAD: nothing was stored then. */
#ifndef IMAPFERRY_APPENDER_H
#define IMAPFERRY_APPENDER_H

#include "msg.h"
#include "sbuf.h"

#include <libetpan/libetpan.h>
#include <stddef.h>
#include <stdint.h>

/* Where the writers put host2's APPENDUID (RFC 4315), for the caller's
 * UID map: uids has room for n, one per message sent. ok = 1 when the
 * tagged OK carried exactly n UIDs (in the order sent); else nothing is
 * known (no UIDPLUS, or a refusal). */
struct appender_uids {
    uint32_t validity;
    uint32_t *uids;
    size_t n;
    int ok;
};

/* MULTIAPPEND of n messages with non-synchronising literals (RFC 3502,
 * RFC 7888): one round trip, in two halves, so that the next batch can go
 * out before this one's answer is read: _send writes the command and sets
 * *tag; appender_wait reads the answer of the command of that tag, which
 * must be the oldest one not answered. The caller checks LITERAL+ (and
 * MULTIAPPEND when n > 1). Bodies must not contain NUL. */
int appender_batch_send(mailimap *s, const char *mailbox, const struct msg_meta *const *m,
                        const char *const *data, const size_t *len, size_t n, int keywords_ok,
                        int *tag);
int appender_wait(mailimap *s, int tag, int *refused, struct appender_uids *got);

/* One message with a synchronising literal: for servers without LITERAL+
 * and for messages holding NUL. got may be NULL in both. */
int appender_one(mailimap *s, const char *mailbox, const struct msg_meta *m, int keywords_ok,
                 const char *data, size_t len, int *refused, struct appender_uids *got);

/* A command sent without waiting for its answer (*tag: its tag), and the
 * answer read later by appender_read, oldest command first; the answer's
 * untagged data stay in the session for the caller. A tagged BAD is
 * MAILIMAP_ERROR_PROTOCOL, as for libetpan's commands. Return as above. */
int appender_send(mailimap *s, const char *cmd, int *tag);
int appender_read(mailimap *s, int tag, int *refused);

/* A command libetpan cannot build (imapsync's raw --search criteria), sent
 * as given after the tag; the answer's untagged data stays in the session
 * for the caller, as libetpan's own commands leave it. Returns as above. */
int appender_command(mailimap *s, const char *cmd, int *refused);

/* Sends n commands back to back, one round trip for all, then reads
 * their answers in order; done(ctx, i, refused) runs after the i-th answer
 * while its untagged data are still in the session. The caller keeps n
 * small enough for both sides' socket buffers (a few dozen). Returns as
 * above; a BAD counts as refused for that command only. */
typedef void (*appender_done_fn)(void *ctx, size_t i, int refused);
int appender_pipeline(mailimap *s, const char *const *cmds, size_t n, appender_done_fn done,
                      void *ctx);
/* Parses the answer to a command whose first answer line has just been
 * read (mailimap_read_line). Returns as above. */
int appender_answer(mailimap *s, int *refused);

/* Appends s as an IMAP quoted string. Only for names already checked to
 * hold no control character (the engine refuses those). */
void appender_quote(struct sbuf *b, const char *s);

#endif
