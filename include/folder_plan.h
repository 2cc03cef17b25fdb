/* folder_plan: pure mapping of host1's folder list onto host2.
 *
 * Names are raw wire names (modified UTF-7) throughout, as imapsync does;
 * separators are ASCII and never occur inside a '&...-' shift, so
 * translating the raw form is safe. Translation of a host1 name:
 *   1. INBOX (any case) stays INBOX;
 *   2. remove prefix1 when the name starts with it; a name that is nothing
 *      but the prefix becomes INBOX (imapsync);
 *   3. swap separators as imapsync does: each sep1 becomes sep2 and each
 *      character equal to sep2 becomes sep1 (so a '.' inside a host1 name
 *      cannot split it on a '.' server); then, if sep1 is '/' and sep2 is
 *      not, a '/' that remains becomes '_';
 *   4. add prefix2 unless the result is INBOX or starts with "INBOX" + sep2
 *      while prefix2 is "INBOX" + sep2 (host1 "INBOX/Sub" -> "INBOX.Sub").
 * Folders marked \Noselect on host1 are left out. The result is ordered
 * INBOX first, then by host1 name (byte order). A host2 folder is created
 * when host2 lacks it (or lists it only as \Noselect); parents are not
 * created separately, since CREATE makes the hierarchy above a name (RFC 3501
 * 6.3.3) and a parent that is \Noselect on host1 must not become a real
 * folder on host2. Subscription follows host1. When two host1 folders map
 * to the same host2 name, the first (in plan order) wins and the later one
 * is kept in the plan with conflict = 1, for the caller to report and skip.
 * No I/O. */
#ifndef IMAPFERRY_FOLDER_PLAN_H
#define IMAPFERRY_FOLDER_PLAN_H

#include "status.h"

#include <stddef.h>

struct folder_plan_folder {
    char *name; /* raw wire name; owned by whoever built the array */
    int noselect;
    int subscribed;
};

struct folder_plan_ns {
    const char *prefix; /* personal namespace prefix, e.g. "" or "INBOX." */
    char sep;           /* hierarchy separator, e.g. '/' or '.'; 0 = flat */
};

struct folder_plan_pair {
    char *name1;   /* host1 wire name */
    char *name2;   /* host2 wire name */
    int create;    /* 1: host2 lacks it, CREATE before use (the engine sets 2 once done) */
    int subscribe; /* subscribed on host1, not on host2: SUBSCRIBE */
    int conflict;  /* name2 already taken by an earlier pair: skip it
                      (create and subscribe are then 0) */
};

/* Owns every string it holds; release with folder_plan_free. */
struct folder_plan {
    struct folder_plan_pair *pairs;
    size_t npairs;
};

/* Translates one name; *out is malloc'd. */
int folder_plan_translate(const char *name1, const struct folder_plan_ns *ns1,
                          const struct folder_plan_ns *ns2, char **out, struct status *st);

int folder_plan_build(const struct folder_plan_folder *f1, size_t n1,
                      const struct folder_plan_folder *f2, size_t n2,
                      const struct folder_plan_ns *ns1, const struct folder_plan_ns *ns2,
                      struct folder_plan *out, struct status *st);
void folder_plan_free(struct folder_plan *p);

#endif
