/* emptyfolders: --delete1emptyfolders, imapsync's meaning.
 *
 * Among the host1 folders the run selected (the plan's name1s; never one
 * outside the selection), in reverse name order so children go before
 * their parents: a folder that still has a child on host1 is kept, so is
 * INBOX and any folder with messages; the others are UNSUBSCRIBEd and
 * DELETEd, or only listed under --dry. A parent whose children all went
 * can go in the same pass. imapsync does this before the folder loop, so
 * a deleted folder is dropped from the plan and never created on host2,
 * and again after the loop under --delete1, which empties folders. */
#ifndef IMAPFERRY_EMPTYFOLDERS_H
#define IMAPFERRY_EMPTYFOLDERS_H

#include "folder.h"
#include "folder_plan.h"
#include "imapc.h"
#include "status.h"

#include <stddef.h>

/* Whether name has a child among f[0..n) whose gone[] is 0 (gone may be
 * NULL): a folder under name + sep. sep 0 is a flat hierarchy. */
int emptyfolders_has_child(const struct folder *f, size_t n, const unsigned char *gone, char sep,
                           const char *name);

/* Removes the pairs whose name1 is one of names[0..n) from plan, handing
 * a removed leader's CREATE and SUBSCRIBE to the next pair of its group.
 * Returns how many pairs were removed. */
size_t emptyfolders_drop(struct folder_plan *plan, const char *const *names, size_t n);

/* Called with each error that cost one folder (the run goes on). */
typedef void (*emptyfolders_error_fn)(void *ctx, const struct status *st);

/* The pass itself, on host1's session h1 (it selects INBOX first, so no
 * candidate is selected while it is deleted). f1 is host1's LIST; gone[n1]
 * marks what earlier passes deleted and is updated. Prints imapsync's
 * lines. *deleted counts the folders deleted (or, under dry, that would
 * be). Returns -1 only when the session is lost. */
int emptyfolders_run(struct imapc *h1, const struct folder *f1, size_t n1, unsigned char *gone,
                     char sep, int dry, struct folder_plan *plan, emptyfolders_error_fn on_error,
                     void *ctx, unsigned *deleted, struct status *st);

#endif
