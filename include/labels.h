/* labels: Gmail labels (X-GM-LABELS, X-GM-EXT-1) carried from host1 to
 * host2, imapsync's --synclabels and --resynclabels.
 *
 * After a folder pair is synced, both folders are listed again and paired
 * by identity (msg_plan); the labels of each pair are compared as sets.
 * --synclabels stores host1's labels on the messages this run copied
 * (host2 UIDs from the folder's UIDNEXT before the copy on), as imapsync
 * does after each APPEND, when host1's are not empty; --resynclabels does
 * it for every pair whose labels differ. UID STORE X-GM-LABELS is an exact
 * replacement. Labels are server data: one that is not printable ASCII
 * (Gmail sends modified UTF-7) is never sent; its message is counted as
 * refused and keeps its labels on host2. Nothing is stored under --dry. */
#ifndef IMAPFERRY_LABELS_H
#define IMAPFERRY_LABELS_H

#include "imapc.h"
#include "status.h"

#include <stddef.h>
#include <stdint.h>

/* Whether a and b hold the same labels, order and repeats aside. */
int labels_same(const char *const *a, size_t na, const char *const *b, size_t nb);

struct labels_job {
    const char *name1, *name2; /* wire names of the pair */
    int sync, resync;          /* --synclabels, --resynclabels */
    uint32_t new_from;         /* host2 UIDs from here on were copied by this run */
    int use_size;              /* enum msg_plan_size, as the sync paired them */
};

struct labels_result {
    uint64_t stored;  /* messages whose host2 labels were replaced */
    uint64_t refused; /* not stored: a host1 label unfit to send */
};

/* The pass over one synced folder pair; h1 is left with name1 examined,
 * h2 with name2 selected. Returns -1 with st set (status_lost tells a lost
 * session from a refused command). */
int labels_folder(struct imapc *h1, struct imapc *h2, const struct labels_job *job,
                  struct labels_result *out, struct status *st);

#endif
