/* journal: the append-only record of a folder pair's APPENDs in flight,
 * so a run cut between sending an APPEND and reading its answer leaves a
 * trace, and the next run knows the fate of that batch is unknown.
 *
 * One text file per folder pair next to its state (state_pair_file,
 * ".journal"). Before each APPEND command: "B uidvalidity1 uidvalidity2
 * uidnext2 uid1..." (host1's UIDs of the batch: with UIDVALIDITY1 they
 * name the messages, and host2's UIDNEXT at that moment, below which
 * nothing of the batch can be), then fdatasync. After the answer: "A"
 * followed by "uid1:uid2" for each message the server gave an APPENDUID
 * for, then fdatasync. The A lines answer the B lines in the order they
 * were written: a batch may go out before the answer to the one before
 * it. A "B" without its "A" is an unfinished batch: the
 * next run pairs what host2 holds by identity (never copies blindly),
 * then copies the rest. The file goes once the pair's map and state are
 * saved. */
#ifndef IMAPFERRY_JOURNAL_H
#define IMAPFERRY_JOURNAL_H

#include "status.h"
#include "uidmap.h"

#include <stddef.h>
#include <stdint.h>

/* An open journal; owned by the caller, closed with journal_close. */
struct journal;

/* Opens (creates) path for appending. */
int journal_open(const char *path, struct journal **out, struct status *st);
/* Records a batch before its APPEND is sent (see above). */
int journal_begin(struct journal *j, uint32_t uidvalidity1, uint32_t uidvalidity2,
                  uint32_t uidnext2, const uint32_t *uid1, size_t n, struct status *st);
/* Records the answer: uid2 = the APPENDUIDs (n of them), or NULL. */
int journal_done(struct journal *j, const uint32_t *uid1, const uint32_t *uid2, size_t n,
                 struct status *st);
/* NULL is allowed. */
void journal_close(struct journal *j);

/* What a journal left by earlier runs says. */
struct journal_found {
    int unfinished;     /* a batch's fate is unknown (or the file is torn) */
    uint32_t uidnext2;  /* the lowest host2 UIDNEXT of such a batch */
    struct uidmap done; /* the APPENDUIDs of batches of these UIDVALIDITYs */
};

/* Reads path: 1 = no journal, 0 = read, -1 = unusable (st says why; then
 * out->unfinished is set: nothing is known). out->done is the caller's to
 * uidmap_free in every case. */
int journal_read(const char *path, uint32_t uidvalidity1, uint32_t uidvalidity2,
                 struct journal_found *out, struct status *st);
/* Removes path; a missing file is fine. */
int journal_remove(const char *path, struct status *st);

#endif
