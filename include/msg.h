/* msg: one message's metadata as the IMAP client returns it and the
 * planners read it; a type of its own so that neither includes the other. */
#ifndef IMAPFERRY_MSG_H
#define IMAPFERRY_MSG_H

#include "kwtab.h"
#include "msgid.h"

#include <stdint.h>

/* Flags are kept as bits for the system flags plus the kwtab id of a sorted,
 * space-separated keyword string, so two messages' flags compare with ==. */
enum msg_flag {
    MSG_SEEN = 1u << 0,
    MSG_ANSWERED = 1u << 1,
    MSG_FLAGGED = 1u << 2,
    MSG_DELETED = 1u << 3,
    MSG_DRAFT = 1u << 4,
};

/* Ordered widest first: 40 bytes a message (a million messages' listing is
 * held at once on host2's side); the keywords are an id, not a string of
 * each message's own. */
struct msg_meta {
    uint32_t uid;
    uint32_t size;
    struct msgid_key key;
    int64_t date;     /* INTERNALDATE as seconds since the epoch (UTC), or
                         MSG_META_NO_DATE: APPEND without one (the server's time) */
    uint32_t kw;      /* kwtab id of the keywords (msg_keywords); 0 = none */
    int16_t date_tz;  /* its zone, minutes east of UTC, for APPEND */
    uint8_t sysflags; /* enum msg_flag bits; \Recent is never stored */
};

#define MSG_META_NO_DATE INT64_MIN

/* m's keywords (the table's string, valid until exit); NULL = none. */
static inline const char *msg_keywords(const struct msg_meta *m)
{
    return kwtab_str(m->kw);
}

#endif
