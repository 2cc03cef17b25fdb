/* msg_plan: pure decision of what to do in one folder pair.
 *
 * Input: the metadata of both sides. Output: which host1 messages to copy
 * and which host1/host2 messages are the same message (pairs), from which the
 * caller derives flag updates. Keys are a multiset: n copies of a key on
 * host1 and m on host2 give min(n, m) pairs and max(0, n - m) copies. Within
 * a key, messages are matched in ascending UID order on both sides, so the
 * result is deterministic. No I/O. */
#ifndef IMAPFERRY_MSG_PLAN_H
#define IMAPFERRY_MSG_PLAN_H

#include "msg.h"
#include "status.h"

#include <stddef.h>
#include <stdint.h>

struct msg_plan_pair {
    size_t i1, i2; /* indices into the host1 and host2 arrays */
};

/* Owns its arrays; release with msg_plan_free. */
struct msg_plan {
    size_t *copy; /* indices into the host1 array, ascending host1 UID order */
    size_t ncopy;
    struct msg_plan_pair *pairs; /* ascending host1 UID order */
    size_t npairs;
    size_t only_on_2;  /* host2 messages with no host1 counterpart */
    size_t *only2;     /* their indices into the host2 array, ascending host2 UID order */
    size_t dup1, dup2; /* messages whose key occurs earlier on the same side */
};

/* The arrays are not modified and need not be sorted. */
/* A paired host2 message whose flags must become host1's. */
struct msg_plan_flagfix {
    uint32_t uid2;
    unsigned sysflags;    /* host1's system flags */
    const char *keywords; /* kwtab's (valid until exit); NULL = none */
};

/* The pairs of p whose host2 flags differ from host1's, as imapsync's
 * --resyncflags sees them, sorted by target flags (then UID) so that equal
 * targets are adjacent: one STORE FLAGS.SILENT per run of equal targets.
 * When host2 cannot store new keywords (keywords_ok = 0), host2's own
 * keywords are kept, or every rerun would try again. *out is malloc'd
 * (free()); returns the count. */
size_t msg_plan_flag_fixes(const struct msg_meta *m1, const struct msg_meta *m2,
                           const struct msg_plan *p, int keywords_ok,
                           struct msg_plan_flagfix **out);
/* Whether two fixes set the same flags. */
int msg_plan_same_target(const struct msg_plan_flagfix *a, const struct msg_plan_flagfix *b);

/* How RFC822.SIZE counts when pairing messages. */
enum msg_plan_size {
    MSG_PLAN_SIZE_IGNORED, /* --skipsize: the key alone */
    MSG_PLAN_SIZE_FIRST,   /* default: key and size, then the key alone for what is left, so
                              a copy the server stored with other bytes is not copied again */
    MSG_PLAN_SIZE_STRICT,  /* --noskipsize: another size is another message */
};

int msg_plan_build(const struct msg_meta *m1, size_t n1, const struct msg_meta *m2, size_t n2,
                   enum msg_plan_size size_rule, struct msg_plan *out, struct status *st);
void msg_plan_free(struct msg_plan *p);

/* The same plan with host1 taken in chunks, so that only host2's listing
 * and one chunk of host1's are in memory at once: host2's side is indexed
 * once (msg_plan_index_init), each chunk of host1 (chunks in ascending UID
 * order, none repeating a UID) is matched against the host2 messages no
 * earlier chunk paired (msg_plan_chunk), and msg_plan_index_finish adds
 * what needs every chunk. With one chunk the result is msg_plan_build's;
 * with several it differs only in which of several copies of one identity
 * with different sizes pair (MSG_PLAN_SIZE_FIRST), never in the counts.
 * Borrows m2 (it must outlive the index, unchanged); owns the rest, about
 * 4 bytes per host2 message and 8 per host1 message whose identity host2
 * lacks: release with msg_plan_index_free. */
struct msg_plan_index {
    const struct msg_meta *m2;
    size_t n2;
    enum msg_plan_size rule;
    uint32_t *order;     /* m2 indices sorted by key, size (as rule says), UID */
    unsigned char *used; /* one bit per m2 entry: paired by a chunk */
    /* dup1: a host1 key host2 has too is marked at the first position of
     * its run in order (one bit per m2 entry); only the others' 64-bit
     * digests are kept, so a compare against a full host2 keeps none. */
    unsigned char *seen1;
    size_t dup1_seen;
    uint64_t *keys1;
    size_t nkeys1, capkeys1;
};

int msg_plan_index_init(struct msg_plan_index *ix, const struct msg_meta *m2, size_t n2,
                        enum msg_plan_size size_rule, struct status *st);
/* out: as msg_plan_build's for m1 (indices into m1 and into the index's m2),
 * without only2, only_on_2, dup1 and dup2 (0 until msg_plan_index_finish). */
int msg_plan_chunk(struct msg_plan_index *ix, const struct msg_meta *m1, size_t n1,
                   struct msg_plan *out, struct status *st);
/* After the last chunk: host2's messages no chunk paired (only2, only_on_2)
 * and both sides' duplicate counts, into p (the last chunk's plan). */
void msg_plan_index_finish(struct msg_plan_index *ix, struct msg_plan *p);
/* Between chunks, for a caller that pairs more itself (the state's UID
 * map): the host2 messages no chunk has paired yet (*out malloc'd, free();
 * returns the count), and marking every pair of p as taken, so that
 * msg_plan_index_finish never counts them as only on host2. */
size_t msg_plan_index_unpaired(const struct msg_plan_index *ix, size_t **out);
void msg_plan_index_claim(struct msg_plan_index *ix, const struct msg_plan *p);
void msg_plan_index_free(struct msg_plan_index *ix);

#endif
