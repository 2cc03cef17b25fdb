/* uidmap: which host2 UID holds the copy of which host1 UID, per folder
 * pair, so a rerun where only host1 moved can send host1's flag changes
 * straight to host2's UIDs without listing host2.
 *
 * In memory a sorted array of 12-byte packed entries (a million messages
 * take 12 MB), never a table of pointers. On disk one binary file per
 * folder pair next to its state file (state_pair_file, ".map"): a magic
 * and version, both UIDVALIDITYs, the count, the entries little-endian and
 * an FNV-1a checksum of all that, written write-fsync-rename. Like the
 * state it is a cache: a file that is damaged, foreign or of another
 * UIDVALIDITY is never used, and the folder is paired by identity. A map
 * is only saved complete: every host1 message the sync put on host2 (or
 * found there) has its entry. */
#ifndef IMAPFERRY_UIDMAP_H
#define IMAPFERRY_UIDMAP_H

#include "status.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* flags: the system flags (enum msg_flag) in the low 8 bits, a 24-bit
 * hash of the keywords above them (0 = none): equal flags compare equal. */
struct uidmap_entry {
    uint32_t uid1, uid2, flags;
};

/* Owns e; release with uidmap_free. Sorted by uid1 once uidmap_sort ran
 * (load and save leave it so). */
struct uidmap {
    uint32_t uidvalidity1, uidvalidity2;
    struct uidmap_entry *e;
    size_t n, cap;
};

/* A flags word no message has (system flags fit in 5 bits): the flags of
 * that copy are not known, so any flags differ from them. */
#define UIDMAP_FLAGS_UNKNOWN 0xffffffffu

/* The flags word of a message's system flags and sorted keywords. */
uint32_t uidmap_flags(unsigned sysflags, const char *keywords);

/* Adds one entry at the end (any order; uidmap_sort before lookups). */
void uidmap_add(struct uidmap *m, uint32_t uid1, uint32_t uid2, uint32_t flags);
/* Sorts by uid1; of entries with the same uid1 the last added wins. */
void uidmap_sort(struct uidmap *m);
/* The entry for uid1, or NULL (the map must be sorted). */
struct uidmap_entry *uidmap_find(const struct uidmap *m, uint32_t uid1);
/* Keeps only entries with keep(ctx, entry) true. */
void uidmap_filter(struct uidmap *m, int (*keep)(void *ctx, const struct uidmap_entry *e),
                   void *ctx);
void uidmap_free(struct uidmap *m);

/* Entries packed as they come, for a map built while host2's whole
 * listing is held (a pairing run): each entry the differences of its UIDs
 * from the previous entry's and its flags, as variable-length numbers,
 * 3 to 8 bytes instead of 12 when the UIDs ascend; past UIDMAP_SPILL bytes
 * they go on into an unlinked temporary file (tmpfile), kept in memory if
 * that cannot be written. Owns b and spill; release with uidmap_unpack or
 * uidmap_packed_free. */
struct uidmap_packed {
    unsigned char *b;
    size_t len, cap, n;
    uint32_t uid1, uid2; /* the last entry's */
    FILE *spill;
    size_t spilled; /* bytes in spill, all before b's */
    int no_spill;   /* tmpfile failed: memory only */
    int broken;     /* a write to spill failed */
};

#define UIDMAP_SPILL 65536

void uidmap_pack(struct uidmap_packed *p, uint32_t uid1, uint32_t uid2, uint32_t flags);
/* Adds p's entries to m (uidmap_add, in the order packed), then frees p.
 * -1 when the spilled part could not be read back: m then lacks entries
 * (st says so). */
int uidmap_unpack(struct uidmap_packed *p, struct uidmap *m, struct status *st);
void uidmap_packed_free(struct uidmap_packed *p);

/* Reads path into *out (sorted). 1 = no file, 0 = read, -1 = unusable
 * (st says why; *out is empty). */
int uidmap_load(const char *path, struct uidmap *out, struct status *st);
/* Sorts m, then writes path (write, fsync, rename, fsync of the folder). */
int uidmap_save(const char *path, struct uidmap *m, struct status *st);

#endif
