/* imapc: the IMAP client, the only module that uses libetpan's IMAP API.
 *
 * Every libetpan result is converted to our own structs before a function
 * returns; no libetpan type appears here. A session is one logged-in
 * connection. Functions return 0 / -1; on failure the status carries the
 * exit-code class and one line naming the host label ("host1"/"host2"),
 * what was attempted and the server's answer. Passwords never appear in a
 * status or a log. */
#ifndef IMAPFERRY_IMAPC_H
#define IMAPFERRY_IMAPC_H

#include "conn.h"
#include "folder.h"
#include "msg.h"
#include "rx.h"
#include "status.h"

#include <stddef.h>
#include <stdint.h>

struct imapc;

/* Strings are borrowed for the duration of imapc_open only. */
/* A command sent whose answer is still to be read (see
 * imapc_fetch_bodies_send and imapc_append_send). */
struct imapc_ticket {
    int tag;
    size_t n;
    const char *mailbox; /* borrowed, for the messages */
};

struct imapc_conf {
    const char *label; /* "host1" or "host2", used in every message */
    const char *host;
    int port;
    const char *user;
    const char *password;
    const char *authmech;    /* "LOGIN" (also for NULL), "PLAIN", "CRAM-MD5", "XOAUTH2" */
    const char *authuser;    /* admin identity that authenticates for user, or NULL */
    int proxyauth;           /* LOGIN as authuser, then PROXYAUTH user (Cyrus, Sun) */
    const char *oauth_token; /* XOAUTH2 access token */
    enum conn_tls tls;
    const char *cafile; /* extra trusted CA, or NULL */
    int insecure;       /* skip certificate checks */
    int compress;       /* COMPRESS=DEFLATE after login when the server offers it */
    double timeout;     /* seconds, 0 = none */
    int err_connect;    /* status code for connection failures (101/102) */
    int err_auth;       /* status code for a refused login (161/162) */
    int no_login;       /* --justconnect: stop after the greeting, CAPABILITY and TLS */
    /* NAMESPACE goes out with imapc_list's LIST (one round trip less):
     * 1; 2 for a session that never lists, which never asks (its namespace
     * stays "" with '/', as it is until then with 1). */
    int namespace_later;
    int qresync; /* ENABLE QRESYNC after login when the server offers it */
};

/* Connects, reads the greeting and CAPABILITY, sets up TLS as conf says
 * (nothing carrying a credential is sent before the certificate has been
 * verified), logs in, turns on COMPRESS=DEFLATE when conf->compress and the
 * server offers it (a refusal is logged and the session goes on
 * uncompressed), reads NAMESPACE (see namespace_later). With conf->no_login it stops before the
 * login: the session can only be asked for its greeting and capabilities.
 * The session is owned by the caller; release with imapc_close. */
int imapc_open(const struct imapc_conf *conf, struct imapc **out, struct status *st);
/* The greeting's text as the server sent it (control bytes shown as '?'). */
const char *imapc_greeting(const struct imapc *c);

/* --addheader on host1: a message without Message-ID is keyed as if it
 * began with transform's "Message-Id: <UID@imapsync>" line, the line its
 * copy on host2 gets, so later runs pair the two. */
void imapc_set_add_header(struct imapc *c, int on);

/* --useheader and friends (msgid.h): messages are keyed by imapsync's
 * construction over the configured fields, or as without it when none of
 * them is there; the FETCH asks for those fields beside today's. conf is
 * borrowed and must outlive the session; NULL = today's key only. With
 * conf->wholeheader, a message whose fields came back empty has its whole
 * header fetched (BODY.PEEK[HEADER]) and is keyed from that. */
void imapc_set_identity(struct imapc *c, const struct msgid_conf *conf);

/* LOGOUT (errors ignored) and free. NULL is allowed. */
void imapc_close(struct imapc *c);

/* The round trips the session has waited for so far (the greeting, TLS,
 * and one per command or pipelined group of commands; see transport).
 * NULL: 0. */
uint64_t imapc_round_trips(const struct imapc *c);
/* The sum of imapc_round_trips over the sessions of side 0 ("host1") or 1
 * ("host2") closed so far in this process: the run's total once every
 * session is closed. */
uint64_t imapc_round_trips_closed(int side);

/* The personal namespace from NAMESPACE (or "" and the LIST separator when
 * the server has no NAMESPACE). Valid until imapc_close. */
const struct folder_ns *imapc_namespace(const struct imapc *c);
/* The APPENDLIMIT=N the server announces (RFC 7889), or -1. */
long long imapc_appendlimit(const struct imapc *c);
/* The capability list as the server announced it, space-separated. */
const char *imapc_capabilities(const struct imapc *c, char *buf, size_t n);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "plaintext"; followed by
 * ", COMPRESS=DEFLATE" when the session is compressed. */
const char *imapc_security(const struct imapc *c, char *buf, size_t n);

/* Rules that rewrite the flags of every message imapc_fetch_meta returns
 * on this session (--regexflag on host1; see flagrule). Borrowed: they must
 * outlive the session or be reset with NULL. */
void imapc_set_flag_rules(struct imapc *c, const struct rx_rule *const *rules, size_t n);

/* --idatefromheader: imapc_fetch_meta gives each message the date of its
 * Date: header instead of its INTERNALDATE, where that header parses. */
void imapc_set_date_from_header(struct imapc *c, int on);

/* LIST "" "*" merged with LSUB "" "*". The array and its names are
 * malloc'd; release with imapc_folders_free. */
int imapc_list(struct imapc *c, struct folder **out, size_t *n, struct status *st);
void imapc_folders_free(struct folder *f, size_t n);

/* Whether criteria can be sent as they are: no control character and no
 * literal announcement. */
int imapc_search_valid(const char *criteria);
/* UID SEARCH with the user's criteria, sent as given (imapsync's --search),
 * in the selected folder. *uids is malloc'd (free()), in the server's
 * order. */
int imapc_search(struct imapc *c, const char *criteria, uint32_t **uids, size_t *n,
                 struct status *st);

/* --search and --maxage/--minage (imapsync's select_msgs, on both hosts):
 * keeps in m (n entries, from imapc_fetch_meta) only the messages UID
 * SEARCH criteria finds. NULL criteria keeps all. */
int imapc_search_keep(struct imapc *c, const char *criteria, struct msg_meta *m, size_t *n,
                      struct status *st);

/* STATUS of a folder that is not selected (RFC 3501 advises against
 * STATUS on the selected one): UIDVALIDITY, UIDNEXT, MESSAGES, and
 * HIGHESTMODSEQ when the server announces CONDSTORE (else modseq = 0). */
int imapc_status(struct imapc *c, const char *name, struct folder_status *out, struct status *st);

/* STATUS of many folders at once: sent back to back in rounds of a few
 * dozen, so n folders cost a few round trips instead of n. ok[i] says
 * whether out[i] holds a full answer for names[i] (a refusal, an answer
 * about another folder or a name that needs a literal leaves it 0: ask
 * imapc_status for those). Fails only when the session is lost. */
int imapc_status_many(struct imapc *c, const char *const *names, size_t n,
                      struct folder_status *out, int *ok, struct status *st);

int imapc_create(struct imapc *c, const char *name, struct status *st);
/* STATUS of name, to go out in front of the next imapc_select_meta's SELECT
 * on c, in the same round trip (a folder's STATUS for its state then costs
 * nothing: it goes with the next folder's SELECT). Nothing is sent now; one
 * queued before and not sent is replaced. -1: name needs a literal, nothing
 * queued (ask imapc_status). */
int imapc_status_later(struct imapc *c, const char *name);
/* What became of it, and forgets it: ANSWERED (out filled), REFUSED (or the
 * session was lost with it), or UNSENT (no imapc_select_meta took it, or
 * none was queued on c: ask imapc_status). */
#define IMAPC_LATER_ANSWERED 1
#define IMAPC_LATER_REFUSED 0
#define IMAPC_LATER_UNSENT (-1)
int imapc_status_taken(struct imapc *c, struct folder_status *out);

/* What imapc_prepare_many does to folder i: todo[i] holds IMAPC_DO_*
 * bits, and the commands go in this order (a STATUS after the CREATE of
 * a folder finds it there: a server runs a CREATE before it reads on). */
#define IMAPC_DO_CREATE 1u
#define IMAPC_DO_SUBSCRIBE 2u
#define IMAPC_DO_STATUS 4u
/* done[i] gets IMAPC_CREATED (made, or there already), IMAPC_SUBSCRIBED and
 * IMAPC_STATUSED (out[i] holds a full answer about names[i]) as they
 * succeeded. */
#define IMAPC_CREATED 1
#define IMAPC_SUBSCRIBED 2
#define IMAPC_STATUSED 4
/* CREATE, SUBSCRIBE and STATUS of many folders, sent back to back in
 * rounds of a few dozen commands: a few round trips for all. A refusal or
 * a name that needs a literal leaves the bit unset (use imapc_create,
 * imapc_subscribe and imapc_status for those). Fails only when the session
 * is lost. out is written only where todo[i] asks a STATUS. */
int imapc_prepare_many(struct imapc *c, const char *const *names, const unsigned *todo, size_t n,
                       int *done, struct folder_status *out, struct status *st);
int imapc_subscribe(struct imapc *c, const char *name, struct status *st);

struct imapc_box {
    uint32_t uidvalidity;
    uint32_t uidnext;
    uint32_t exists;
    int keywords_ok; /* PERMANENTFLAGS has \* : new keywords can be stored */
};

/* SELECT, or EXAMINE when readonly (host1 is never changed by a sync). */
int imapc_select(struct imapc *c, const char *name, int readonly, struct imapc_box *box,
                 struct status *st);

/* UID, FLAGS, INTERNALDATE, RFC822.SIZE and the identity headers of every
 * message in the selected folder, fetched in chunks of sequence numbers.
 * *out is malloc'd (release with imapc_meta_free). The keys leave the size
 * out: msg_plan weighs it. */
int imapc_fetch_meta(struct imapc *c, uint32_t exists, struct msg_meta **out, size_t *n,
                     struct status *st);
void imapc_meta_free(struct msg_meta *m, size_t n);
/* imapc_select and then imapc_fetch_meta, with the SELECT and the first
 * FETCH chunks sent back to back: one round trip for a folder of up to a
 * few thousand messages. guess: how many messages the folder is expected
 * to hold (its STATUS MESSAGES; 0 when not known); the listing is of what
 * the SELECT announces, whatever the guess. */
int imapc_select_meta(struct imapc *c, const char *name, int readonly, uint32_t guess,
                      struct imapc_box *box, struct msg_meta **out, size_t *n, struct status *st);
/* The same for sequence numbers first..last only: a big folder is listed a
 * part at a time. *ended (NULL: not wanted) is set when the server answered
 * nothing for a whole block of them: it has fewer than it announced. */
int imapc_fetch_meta_seq(struct imapc *c, uint32_t first, uint32_t last, struct msg_meta **out,
                         size_t *n, int *ended, struct status *st);
/* The same for the messages with UIDs first..next-1 only (the ones that
 * arrived since a folder's state was written), by UID FETCH. */
int imapc_fetch_meta_uids(struct imapc *c, uint32_t first, uint32_t next, struct msg_meta **out,
                          size_t *n, struct status *st);
/* How many messages below UID below changed (flags, or expunged and
 * re-added) since modseq: UID FETCH 1:below-1 (UID) (CHANGEDSINCE modseq),
 * RFC 7162. Fails when the server has no CONDSTORE. */
int imapc_changed_since(struct imapc *c, uint32_t below, uint64_t modseq, size_t *n,
                        struct status *st);

/* The same, with each changed message's host1 UID and flags (after the
 * --regexflag rules, as imapc_fetch_meta gives them): *out has *n
 * entries, malloc'd (imapc_flag_changes_free); uid = 0 marks an answer
 * that names no UID below `below` (an unsolicited change: treat the
 * folder as changed in ways unknown). */
struct imapc_flag_change {
    uint32_t uid;
    unsigned sysflags;
    char *keywords; /* owned; NULL = none */
};
int imapc_changed_flags(struct imapc *c, uint32_t below, uint64_t modseq,
                        struct imapc_flag_change **out, size_t *n, struct status *st);
void imapc_flag_changes_free(struct imapc_flag_change *ch, size_t n);

/* Whether the session has QRESYNC (RFC 7162) on: conf->qresync asked for
 * it and the server answered ENABLE with it. ENABLE goes out with
 * NAMESPACE, so it costs no round trip. Once on, the server answers an
 * expunge with VANISHED instead of EXPUNGE and adds MODSEQ to FETCH
 * answers, which is why only host1 with state asks for it. */
int imapc_has_qresync(const struct imapc *c);

/* A range of UIDs, first <= last. */
struct imapc_uid_range {
    uint32_t first, last;
};

/* imapc_changed_flags and, in the same command, the UIDs below `below`
 * the server says were expunged since modseq: UID FETCH 1:below-1 (UID
 * FLAGS) (CHANGEDSINCE modseq VANISHED). *gone (malloc'd, free()) gets
 * *ngone ranges as the server sent them, cut to below-1: RFC 7162 lets a
 * server name UIDs that were never used or went before modseq, so they
 * are a superset, to be checked. Fails unless imapc_has_qresync. */
int imapc_changed_vanished(struct imapc *c, uint32_t below, uint64_t modseq,
                           struct imapc_flag_change **out, size_t *n, struct imapc_uid_range **gone,
                           size_t *ngone, struct status *st);

/* BODY.PEEK[] of one message (never sets \Seen). *data is released with
 * imapc_body_free. */
int imapc_fetch_body(struct imapc *c, uint32_t uid, char **data, size_t *len, struct status *st);
void imapc_body_free(char *data);

/* One message body as fetched; data is released with imapc_body_free. */
struct imapc_body {
    char *data; /* NULL when the server did not return the message */
    size_t len;
};

/* BODY.PEEK[] of several messages in one UID FETCH, in two halves, so
 * that the next batch is asked for before this one's bodies arrive: each
 * ticket of _send goes to _recv once, oldest first, with the same uids and
 * n; out[i] receives the body of uids[i]. The caller bounds n and the
 * total size (a whole answer is held in memory until it is read). A
 * server may run pipelined FETCHes at once and send bodies of the batch
 * asked next (more_uids, more_n: NULL, 0 when none) with this answer:
 * they go into more_out. Only entries still NULL are filled: the caller
 * sets both arrays to NULL before the FETCHes are sent. */
int imapc_fetch_bodies_send(struct imapc *c, const uint32_t *uids, size_t n,
                            struct imapc_ticket *ticket, struct status *st);
int imapc_fetch_bodies_recv(struct imapc *c, const struct imapc_ticket *ticket,
                            const uint32_t *uids, size_t n, struct imapc_body *out,
                            const uint32_t *more_uids, size_t more_n, struct imapc_body *more_out,
                            struct status *st);

/* SHA-256 of BODY.PEEK[] of each message (--verify): out[i] receives the
 * digest of uids[i], all zero when the server sent no body for it. The
 * bytes are hashed as they arrive, never held whole, in UID FETCHes of a
 * bounded number of UIDs; the caller bounds the bytes of one call (all
 * literals of one answer count against CAPS_RESPONSE_BYTES). */
int imapc_fetch_digests(struct imapc *c, const uint32_t *uids, size_t n, unsigned char (*out)[32],
                        struct status *st);

/* Whether imapc_append_send can send several messages in one command
 * (LITERAL+ and MULTIAPPEND), or one message without waiting for the
 * server's continuation (LITERAL+ alone). */
int imapc_can_batch(const struct imapc *c, size_t *max_per_command);

/* APPEND of n messages in as few round trips as the server allows:
 * MULTIAPPEND with non-synchronising literals (RFC 3502, RFC 7888). The
 * bytes go out exactly as fetched. MULTIAPPEND is all-or-nothing, so on a
 * NO nothing was stored and the caller can retry one by one. Only for
 * servers where imapc_can_batch is true; bodies must not contain NUL. In
 * two halves, so that the next batch goes out before this one's answer is
 * back (over a slow network a batch then costs its bytes, not a round
 * trip): _send fills *ticket; each ticket is then given to
 * imapc_append_wait once, oldest first, and after it imapc_appended_uids
 * tells that batch's UIDs. A failed _send has lost the session (as has a
 * failed wait with status_lost). */
int imapc_append_send(struct imapc *c, const char *mailbox, const struct msg_meta *const *m,
                      const struct imapc_body *bodies, size_t n, int keywords_ok,
                      struct imapc_ticket *ticket, struct status *st);
int imapc_append_wait(struct imapc *c, const struct imapc_ticket *ticket, struct status *st);

/* APPEND with m's flags (keywords only when keywords_ok) and INTERNALDATE. */
int imapc_append(struct imapc *c, const char *mailbox, const struct msg_meta *m, int keywords_ok,
                 const char *data, size_t len, struct status *st);

/* host2's UIDs for the messages of the last successful imapc_append or
 * imapc_append_wait, in the order sent (APPENDUID, RFC 4315): their
 * count, or 0 when the server gave none (no UIDPLUS). *uids is valid
 * until the next APPEND on c. */
size_t imapc_appended_uids(const struct imapc *c, uint32_t *validity, const uint32_t **uids);

/* UID STORE FLAGS.SILENT: sets exactly sysflags + keywords on the given
 * UIDs (sorted or not), in commands of bounded length. */
int imapc_store_flags(struct imapc *c, const uint32_t *uids, size_t n, unsigned sysflags,
                      const char *keywords, struct status *st);

/* RFC822.SIZE of each of the given UIDs into out[i], by UID FETCH; fails
 * when the server answers for fewer than all of them. */
int imapc_fetch_sizes(struct imapc *c, const uint32_t *uids, size_t n, uint64_t *out,
                      struct status *st);

/* UID STORE +FLAGS.SILENT (\\Deleted) on the given UIDs (--delete2). */
int imapc_mark_deleted(struct imapc *c, const uint32_t *uids, size_t n, struct status *st);
/* UID EXPUNGE (RFC 4315) of exactly these UIDs; fails when the server lacks
 * UIDPLUS: a plain EXPUNGE would also remove what others marked. */
int imapc_uid_expunge(struct imapc *c, const uint32_t *uids, size_t n, struct status *st);
/* Whether the server announces UIDPLUS (RFC 4315), so UID EXPUNGE works. */
int imapc_has_uidplus(const struct imapc *c);
/* EXPUNGE of the selected folder: removes every message flagged \Deleted,
 * by us or anyone (--expunge1, --expunge2, or no UIDPLUS). */
int imapc_expunge(struct imapc *c, struct status *st);
/* Gmail labels (X-GM-EXT-1), for --synclabels / --resynclabels. */
struct imapc_labels {
    uint32_t uid;
    char **label; /* as the server sent them (mUTF-7 or UTF-8), owned */
    size_t n;
};
/* Whether the server announces X-GM-EXT-1. */
int imapc_has_gmail(const struct imapc *c);
/* UID FETCH 1:* (X-GM-LABELS) of the selected folder: *out is malloc'd,
 * ascending UIDs; release with imapc_labels_free. */
int imapc_fetch_labels(struct imapc *c, struct imapc_labels **out, size_t *n, struct status *st);
void imapc_labels_free(struct imapc_labels *l, size_t n);
/* UID STORE uid X-GM-LABELS.SILENT (labels): an exact replacement. The
 * caller passes only labels imapc_label_sendable accepts. */
int imapc_store_labels(struct imapc *c, uint32_t uid, const char *const *labels, size_t n,
                       struct status *st);
/* A label that may go into a command: 1 to 1000 printable ASCII bytes (a
 * label is server data; anything else is never sent). */
int imapc_label_sendable(const char *label);

/* UNSUBSCRIBE and DELETE of a folder (--delete2folders). */
int imapc_unsubscribe(struct imapc *c, const char *name, struct status *st);
int imapc_delete(struct imapc *c, const char *name, struct status *st);

#endif
