/* delete_plan: pure decisions of what the deletion options may remove.
 *
 * --delete1: a host1 message is deleted only once host2 is known to hold
 * it: it was paired on host2 before the copy, or its APPEND was answered
 * OK in this run, or a listing of host2 taken after the copy pairs it.
 * --delete2: host2 copies of identities host1 lacks; --delete2duplicates:
 * the extra host2 copies of an identity, so that host2 keeps as many as
 * host1 has (at least one). A folder that several host1 folders merge
 * into is the engine's to leave alone: one pair's plan does not see the
 * others.
 * --delete2folders: host2 folders no host1 folder maps to, children
 * first, never INBOX, never one that keeps a child.
 * The ceiling (--delete2ceiling) and the expunge choice are decided here
 * too, so every rule that limits a deletion is unit-tested. No I/O. */
#ifndef IMAPFERRY_DELETE_PLAN_H
#define IMAPFERRY_DELETE_PLAN_H

#include "folder.h"
#include "folder_plan.h"
#include "msg.h"
#include "msg_plan.h"
#include "rx.h"
#include "status.h"

#include <stddef.h>
#include <stdint.h>

/* The host1 UIDs --delete1 may flag, ascending: every pair of p and every
 * p->copy[k] with copied[k] set (copied NULL: every copy was answered
 * OK). *uids is malloc'd (free()); returns the count. */
size_t delete_plan_host1(const struct msg_meta *m1, const struct msg_plan *p,
                         const unsigned char *copied, uint32_t **uids);

/* When some copies failed: sets copied[k] (k < p->ncopy) to 1 when
 * m1[p->copy[k]] is paired in after, a plan built from the same host1
 * array and a listing of host2 taken after the copy; 0 otherwise. */
void delete_plan_verified(const struct msg_plan *p, const struct msg_plan *after,
                          unsigned char *copied);

/* The host2 messages --delete2 and --delete2duplicates remove, each list
 * by ascending UID. An identity (with the size when size_rule is
 * MSG_PLAN_SIZE_STRICT: --noskipsize makes it part of the identity) that
 * host1 lacks: with delete2 every copy goes to gone; with dups alone all
 * copies but the lowest UID go to dups. An identity host1 has: the host2
 * copies left unpaired go to dups when dups is set (host2 then keeps as
 * many copies as host1, so the next run copies nothing back). Paired
 * copies are never named. */
struct delete_plan_host2 {
    uint32_t *gone; /* not on host1 (--delete2) */
    size_t ngone;
    uint32_t *dups; /* extra copies (--delete2duplicates) */
    size_t ndups;
};

/* Fills *out (release with delete_plan_host2_free); returns the total. */
size_t delete_plan_host2(const struct msg_meta *m2, size_t n2, const struct msg_plan *p,
                         enum msg_plan_size size_rule, int delete2, int dups,
                         struct delete_plan_host2 *out);
void delete_plan_host2_free(struct delete_plan_host2 *d);

/* Whether removing ndel of a folder's n messages stays within ceiling
 * percent (0..100). */
int delete_plan_within_ceiling(size_t ndel, size_t n, int ceiling);

/* How flagged messages leave a folder. */
enum delete_plan_expunge {
    DELETE_PLAN_UID,       /* UID EXPUNGE of exactly the flagged ones (UIDPLUS) */
    DELETE_PLAN_PLAIN,     /* EXPUNGE: also what others flagged \Deleted (asked for) */
    DELETE_PLAN_FLAG_ONLY, /* flagged, not expunged: the user said so */
    DELETE_PLAN_REFUSE,    /* no UIDPLUS and no plain EXPUNGE allowed: flag nothing */
};

/* want_uid: expunging what we flag is wanted (--delete1 without
 * --noexpunge1; --delete2 without --nouidexpunge2); want_plain: a plain
 * EXPUNGE was asked for (--expunge1, --expunge2). */
enum delete_plan_expunge delete_plan_expunge_mode(int uidplus, int want_uid, int want_plain);

/* The host2 names --delete2folders must keep, malloc'd (free each and the
 * array): every host1 name as it is, the name each host1 folder maps to
 * with the run's naming rules whether selected or not (rules' selection
 * is ignored), and the plain translation of every host1 name, \Noselect
 * ones included. */
int delete_plan_keep(const struct folder *f1, size_t n1, const struct folder *f2, size_t n2,
                     const struct folder_ns *ns1, const struct folder_ns *ns2,
                     const struct folder_plan_rules *rules, char ***keep, size_t *nkeep,
                     struct status *st);

/* Indices into f2 of the folders --delete2folders removes, children before
 * parents (descending byte order): not in keep, not INBOX in any case,
 * matching only (NULL: any) and not matching butnot (NULL: none; a rule
 * that fails to run keeps the folder), and with no child (a name
 * starting with it and sep2) that is kept, listed or not. *idx is
 * malloc'd (free()); returns the count. */
size_t delete_plan_folders(const struct folder *f2, size_t n2, char sep2, const char *const *keep,
                           size_t nkeep, const struct rx_rule *only, const struct rx_rule *butnot,
                           size_t **idx);

/* Whether a host2 folder holding messages may go: only with a ceiling of
 * 100 (an empty one always may). */
int delete_plan_folder_allowed(uint32_t messages, int ceiling);

#endif
