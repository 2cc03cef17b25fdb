/* pairmap: one folder pair's UID map during a sync: the map and journal
 * the last runs left (uidmap.h, journal.h), the journal of this run's
 * APPENDs (as copy hooks), and the map this run leaves.
 *
 * What the engine learns from it: whether an earlier run was cut with an
 * APPEND in flight (then the pair is compared by identity), and, when
 * host2 is as the last run left it, which host2 UID holds the copy of a
 * host1 message whose flags changed. Messages from another UIDVALIDITY
 * are never in it. Failing to read or write any of it costs only the
 * shortcut: a notice, then the pair is paired by identity. */
#ifndef IMAPFERRY_PAIRMAP_H
#define IMAPFERRY_PAIRMAP_H

#include "copy.h"
#include "imapc.h"
#include "journal.h"
#include "msg.h"
#include "msg_plan.h"
#include "status.h"
#include "uidmap.h"

#include <stddef.h>
#include <stdint.h>

struct pairmap {
    char map_path[4200], journal_path[4200];
    struct uidmap old; /* the last clean run's map plus its journal's APPENDUIDs */
    int have_old;      /* old is complete and of the UIDVALIDITYs now */
    int unfinished;    /* a batch of unknown fate (journal_found) */
    uint32_t unfinished_uidnext2;
    /* this run */
    struct journal *j;
    uint32_t uidvalidity1, uidvalidity2, uidnext2;
    struct uidmap next;         /* the map this run leaves, once built */
    struct uidmap_packed built; /* pairmap_add_plan's pairs, until pairmap_end_plan */
    int next_ok;                /* next is complete: every copy got its APPENDUID */
    struct uidmap fresh;
    int fresh_missing;    /* an APPEND stored without an APPENDUID */
    int journal_failed;   /* said once */
    struct status notice; /* notice.code != 0: say notice.msg once */
    /* host1's flag changes an incremental run sends through the map */
    struct imapc_flag_change *changes;
    size_t nchanges;
    uint64_t flag_updates; /* of them, those the map shows host2 lacks */
    /* host1 messages an incremental run found expunged (QRESYNC's
     * VANISHED) that old pairs: host1 UIDs ascending, the host2 UIDs of
     * their copies, and (once asked of host2) the copies' sizes */
    uint32_t *gone1, *gone2;
    uint64_t *gone_size;
    size_t ngone;
};

/* Reads what dir holds for the pair. uidvalidity1/2: both sides' now;
 * a map of others is dropped (notice set). Never fails. */
void pairmap_open(struct pairmap *pm, const char *dir, const char *name1, const char *name2,
                  uint32_t uidvalidity1, uint32_t uidvalidity2);
/* Before the copy: host2's UIDVALIDITY and UIDNEXT as selected. Returns
 * the hooks for copy_messages (valid while pm is). */
struct copy_hooks pairmap_hooks(struct pairmap *pm, uint32_t uidvalidity2, uint32_t uidnext2);
/* Before the copy of a full compare: a host1 message the plan would copy
 * whose copy the map names among host2's unpaired messages, with the same
 * identity, stays paired with it (a copy the server stored with other
 * bytes, under --noskipsize). m2 as listed (ascending UIDs); m1 may be
 * one chunk of host1's listing. Returns how many. */
size_t pairmap_keep_pairs(const struct pairmap *pm, const struct msg_meta *m1,
                          const struct msg_meta *m2, size_t n2, struct msg_plan *plan);
/* Whether pairmap_keep_pairs can keep anything of plan (an old map, and
 * copies to make): if not, host2's unpaired messages (8 bytes each) need
 * not be listed for it, chunk after chunk of a pairing run. */
int pairmap_can_keep(const struct pairmap *pm, const struct msg_plan *plan);
/* After the copy of a full compare: next = the plan's pairs (host2's
 * flags become host1's when resync) plus this run's APPENDUIDs. */
void pairmap_from_plan(struct pairmap *pm, const struct msg_meta *m1, const struct msg_meta *m2,
                       const struct msg_plan *plan, int resync);
/* The same for host1 listed in chunks, built while each chunk's plan is
 * alive: after each chunk's copy, its pairs are packed (built: a few
 * bytes each; m1: the chunk; m2 and flags as for pairmap_from_plan), and
 * old loses its entries up to the chunk's highest UID, which
 * pairmap_keep_pairs will not ask for again, so the two maps hold about
 * one map's entries between them. After the last chunk, and best after
 * host2's listing is freed, pairmap_end_plan unpacks them into next, adds
 * the APPENDUIDs and frees old: next is then what pairmap_from_plan makes
 * of the whole listing. next must be empty before the first chunk (as
 * pairmap_open leaves it). */
void pairmap_add_plan(struct pairmap *pm, const struct msg_meta *m1, const struct msg_meta *m2,
                      const struct msg_plan *plan, int resync);
void pairmap_end_plan(struct pairmap *pm);
/* An incremental run's VANISHED ranges (imapc_changed_vanished, in any
 * order, overlapping or not): gone1 and gone2 get old's entries within
 * them, each once; UIDs the map does not pair are left out. Returns
 * ngone. */
size_t pairmap_vanished(struct pairmap *pm, const struct imapc_uid_range *r, size_t n);
/* Drops gone1's entries from old: host1 no longer has those messages, so
 * the map this run leaves does not pair their copies. */
void pairmap_drop_gone(struct pairmap *pm);
/* After the copy of an incremental run: next = old plus this run's (old
 * is moved into next). This, pairmap_from_plan and pairmap_end_plan free
 * old and this run's APPENDUIDs. */
void pairmap_from_old(struct pairmap *pm);
/* Writes next when complete (else removes the map: a partial one would
 * hide copies), then removes the journal. After a clean sync only. */
int pairmap_save(struct pairmap *pm, struct status *st);
void pairmap_close(struct pairmap *pm);

#endif
