/* crossdup: --skipcrossduplicates, imapsync's h2_folders_of_md5. A run-wide
 * set of message keys, each with the host2 folder(s) it was seen in this
 * run (host2's own messages, and those the run copied there). A host1
 * message whose key another host2 folder already holds is not copied.
 *
 * Which folder gets such a message depends on the order folders are synced:
 * the first folder to claim a key keeps it. With --workers the folders run
 * at once and each pair's check and claim happen under one lock, so a key
 * still goes to one folder only, but which one is first is not fixed.
 * Thread-safe; owned by the run (crossdup_new / crossdup_free). */
#ifndef IMAPFERRY_CROSSDUP_H
#define IMAPFERRY_CROSSDUP_H

#include "msg.h"

#include <stddef.h>

struct crossdup;

/* with_size: the size is part of the key (--noskipsize); otherwise the
 * identity key alone, so a copy the server stored with other bytes counts. */
struct crossdup *crossdup_new(int with_size);
void crossdup_free(struct crossdup *x);

/* For host2 folder folder2 (its raw name), under the set's lock: removes
 * from copy[0..*ncopy) (indices into m1, order kept) the messages whose key
 * another folder holds and writes their indices to skipped[] (room for
 * *ncopy) in order, returning how many; then records m2's keys and, when
 * claim is set (not --dry), the keys of the messages left to copy, as
 * folder2's. */
size_t crossdup_filter(struct crossdup *x, const char *folder2, const struct msg_meta *m1,
                       size_t *copy, size_t *ncopy, const struct msg_meta *m2, size_t n2, int claim,
                       size_t *skipped);

#endif
