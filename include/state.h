/* state: what a run remembers of each folder pair, so that a rerun can
 * leave alone a pair where nothing changed on either side.
 *
 * One small file per folder pair in the account pair's state directory
 * (statedir), written after a clean sync of that pair only: both sides'
 * STATUS (host1 before the sync, host2 after it), a fingerprint of the
 * options that shape the message plan, and the pair's counts for the
 * report. State is a cache, never the truth: anything unexpected (a
 * missing, unreadable, foreign or outdated file, another fingerprint, any
 * change on either side) means the pair is compared in full, by identity,
 * as if there were no state. A crash can only leave an older file, and
 * the sync it interrupted changed host2, so that file no longer matches. */
#ifndef IMAPFERRY_STATE_H
#define IMAPFERRY_STATE_H

#include "folder.h"
#include "status.h"

#include <stddef.h>
#include <stdint.h>

/* The counts of a pair's last full sync, reported again when it is
 * skipped: host1 as selected, host2 after the sync. */
struct state_counts {
    uint64_t msgs1, bytes1, msgs2, bytes2;
    uint64_t filtered, bytes_filtered; /* left out by --maxsize/--minsize */
    uint64_t only2, dup1, dup2;
};

struct state_pair {
    uint64_t rules;              /* state_fingerprint of the plan's options */
    struct folder_status sts[2]; /* [0] host1 before, [1] host2 after */
    struct state_counts counts;
};

/* FNV-1a over bytes, chained: start with h = 0. */
uint64_t state_fingerprint(uint64_t h, const void *data, size_t n);

/* The path of one of the pair's files in dir: "state", "map" (uidmap.h)
 * or "journal" (journal.h), named after a hash of both names. */
void state_pair_file(const char *dir, const char *name1, const char *name2, const char *suffix,
                     char *buf, size_t n);

/* Reads dir's file for the pair name1 -> name2. Returns 1 when there is
 * none, 0 when read, -1 when it exists but cannot be used (st says why:
 * the caller reports it as a notice and compares in full). */
int state_load(const char *dir, const char *name1, const char *name2, struct state_pair *out,
               struct status *st);
/* Writes the pair's file (write, fsync, rename, fsync of the folder). */
int state_save(const char *dir, const char *name1, const char *name2, const struct state_pair *p,
               struct status *st);
/* Removes the pair's file; a missing file is fine. */
int state_forget(const char *dir, const char *name1, const char *name2, struct status *st);
/* Whether dir holds the state of any folder pair (0 for a first run). */
int state_any(const char *dir);

/* Whether one side is as the state saw it: same UIDVALIDITY, UIDNEXT and
 * MESSAGES, and with need_modseq a HIGHESTMODSEQ that exists and did not
 * move. */
int state_side_unchanged(const struct folder_status *was, const struct folder_status *now,
                         int need_modseq);

/* Whether the pair can be skipped: same fingerprint, same UIDVALIDITY,
 * UIDNEXT and MESSAGES on both sides, and, when flags are resynced
 * (need_modseq), a HIGHESTMODSEQ on both sides that did not move: without
 * CONDSTORE a flag change leaves no trace in STATUS. */
int state_unchanged(const struct state_pair *saved, const struct folder_status now[2],
                    uint64_t rules, int need_modseq);

#endif
